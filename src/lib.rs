//! git-atlas: per-worktree ports, env files, Compose projects and databases for Git worktrees.
//!
//! The binary (`src/main.rs`) parses arguments and calls `commands`; everything else is the core,
//! which never prints (see the lints below).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod copying;
pub mod db;
pub mod docker;
pub mod error;
pub mod files;
pub mod git;
pub mod live;
pub mod ports;
pub mod setup;
pub mod steps;
pub mod term;
pub mod workspace;
