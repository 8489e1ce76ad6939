//! What is really happening on this machine: which process listens on which port, whether a port
//! binds right now, which worktree a listener belongs to, and stopping it.

pub mod net;
pub mod observe;
pub mod procs;
pub mod sockets;
