//! One module per verb: gather context, call the core, render human or JSON output.
#![allow(clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, Lazy};
use crate::error::{IoContext, Result};
use crate::workspace::Report;

mod add;
mod completions;
mod copy;
mod db;
mod docker;
mod env;
mod exec;
mod hook;
mod hooks;
mod list;
mod man;
pub(crate) mod output;
mod ports;
mod remove;
mod setup;

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    crate::term::init(cli.quiet, cli.color);
    match cli.command {
        Command::Add(Lazy(args)) => add::run(args, cli.quiet, out),
        Command::Remove(Lazy(args)) => remove::run(args, out),
        Command::List(Lazy(args)) => list::run(args, out),
        Command::Ports(Lazy(args)) => ports::run(args, out),
        Command::Env(Lazy(args)) => env::run(args, out),
        Command::Docker(Lazy(args)) => docker::run(args, out),
        Command::Db(Lazy(args)) => db::run(args, out),
        Command::Exec(Lazy(args)) => {
            out.flush()?;
            exec::run(args)
        }
        Command::Copy(Lazy(args)) => copy::run(args, out),
        Command::Setup(Lazy(args)) => setup::run(args, cli.quiet, out),
        Command::Hooks(Lazy(args)) => hooks::run(args, out),
        Command::Completions(Lazy(args)) => completions::run(args, out),
        Command::Man(Lazy(args)) => man::run(args, out),
        Command::Hook(Lazy(args)) => {
            hook::run(args);
            Ok(())
        }
    }
}

/// `git atlas ports` as a shell prompt calls it (see `cli::prompt_fast_path`).
pub fn ports_prompt(json: bool, format: Option<&str>, out: &mut dyn Write) -> Result<()> {
    ports::prompt(json, format, out)
}

fn cwd() -> Result<PathBuf> {
    std::env::current_dir().at("read", Path::new("the current directory"))
}

/// Reconcile, tell the user what it did, and return the worktrees as it listed them (under the
/// registry's lock): commands use that list rather than reading every worktree's files again.
fn reconciled(ws: &crate::workspace::Workspace) -> Result<Vec<crate::git::repo::Worktree>> {
    let report = ws.reconcile()?;
    print_notes(&report);
    Ok(report.worktrees)
}

/// Tell the user, on stderr, what a reconcile did on the side.
fn print_notes(report: &Report) {
    for note in report.notes() {
        eprintln!("git-atlas: {note}");
    }
    for (name, err) in &report.failed {
        let message = err.to_string();
        if message.contains(name.as_str()) {
            eprintln!("git-atlas: warning: {message}");
        } else {
            eprintln!("git-atlas: warning: {name}: {message}");
        }
    }
}

/// `path` relative to `base` when it is inside it, for short messages.
fn short(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}
