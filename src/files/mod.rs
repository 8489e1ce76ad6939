//! What git-atlas reads and writes in a worktree: `.env` parsing, templates, quoting for the
//! formats they are in, connection URLs, names derived from worktrees, the generated files, and
//! the atomic write, lock and version cache under all of them.

mod atomic;
pub mod carry;
pub mod dburl;
pub mod dbvars;
pub mod dotenv;
pub mod exclude;
pub mod generate;
pub mod names;
pub mod quote;
mod spans;
pub mod template;
mod versions;

pub use atomic::{
    clear_leftovers, in_dir, inherit, set_aside, with_suffix, write_atomic, write_derived_atomic,
    Lock,
};
pub use versions::{version, Cache};
