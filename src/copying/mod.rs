//! Copying what Git does not carry: the ignored files and folders of the main worktree that the
//! team names (`.worktreeinclude`, `[copy] include`), into a new worktree at the same paths, by
//! copy-on-write clones where the filesystem has them.
//!
//! `select` decides what (patterns against what Git ignores), `clone` does it (in parallel,
//! never over a file that is there, symlinks as symlinks, modes and times kept).

pub mod clone;
pub mod select;

pub use clone::{copy, Summary};
pub use select::{select, Entry, INCLUDE_FILE};
