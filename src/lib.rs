//! git-atlas: per-worktree ports, env files, Compose projects and databases for Git worktrees.
//!
//! The binary (`src/main.rs`) parses arguments and calls `commands`; everything else is the core,
//! which never prints (see the lints below).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod alloc;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dburl;
pub mod dotenv;
pub mod error;
pub mod files;
pub mod generate;
pub mod git;
pub mod hooks;
pub mod leases;
pub mod names;
pub mod net;
pub mod observe;
pub mod output;
pub mod procs;
pub mod registry;
pub mod repo;
pub mod services;
pub mod sockets;
pub mod template;
pub mod workspace;
