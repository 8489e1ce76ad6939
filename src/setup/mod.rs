//! What git-atlas puts outside any repository, for the shell and `man`: its manual page and the
//! shell completion scripts.

pub mod completions;
pub mod man;
