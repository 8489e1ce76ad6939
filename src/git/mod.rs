//! Git itself: finding the repository (through gix) and its worktrees (from Git's own files),
//! running `git worktree` through duct, and the hook shims that bring plain Git commands to
//! git-atlas.

pub mod command;
pub mod hooks;
pub mod ignored;
pub mod repo;
pub mod speaker;
pub mod tree;

pub use command::{is_dirty, read, run_visible, start_visible, IN_ADD_ENV};
