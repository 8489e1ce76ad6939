//! Ports: which services a project has, the allocation of their ports per worktree, the
//! repository's registry (`ports.json`) and the machine-wide leases that keep repositories apart.

pub mod alloc;
pub mod leases;
pub mod registry;
pub mod services;
pub mod stale;
