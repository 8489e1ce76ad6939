//! `git atlas ports` and its verbs (the seed's `atlas port …` commands).

use std::io::Write;

use crate::cli::{PortsArgs, PortsCommand};
use crate::error::Result;

mod check;
mod compact;
mod config;
mod conflicts;
mod mark;
mod rebuild;
mod release;
mod status;
mod view;

pub fn prompt(json: bool, format: Option<&str>, out: &mut dyn Write) -> Result<()> {
    view::current(json, format, out)
}

pub fn run(args: PortsArgs, out: &mut dyn Write) -> Result<()> {
    match args.command {
        None => view::current(args.json, args.format.as_deref(), out),
        Some(PortsCommand::Show(a)) => view::show(a, out),
        Some(PortsCommand::List(a)) => view::list(a, out),
        Some(PortsCommand::Check(a)) => check::run(a, out),
        Some(PortsCommand::Status(a)) => status::run(a, out),
        Some(PortsCommand::CheckConflicts(a)) => conflicts::run(a, out),
        Some(PortsCommand::MarkUnavailable(a)) => mark::unavailable(a, out),
        Some(PortsCommand::MarkAvailable(a)) => mark::available(a, out),
        Some(PortsCommand::Config(a)) => config::run(a, out),
        Some(PortsCommand::Compact) => compact::run(out),
        Some(PortsCommand::Release(a)) => release::release(a, out),
        Some(PortsCommand::ReleaseAll(a)) => release::release_all(a, out),
        Some(PortsCommand::Cleanup) => release::cleanup(out),
        Some(PortsCommand::Reset) => rebuild::reset(out),
        Some(PortsCommand::ScanRebuild) => rebuild::scan_rebuild(out),
    }
}
