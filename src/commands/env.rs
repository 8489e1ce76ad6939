//! `git atlas env [<worktree>]`: regenerate a worktree's files (seed: `worktree regenerate-config`).

use std::io::Write;

use super::{add, cwd, print_notes};
use crate::cli::EnvArgs;
use crate::error::Result;
use crate::workspace::Workspace;

pub fn run(args: EnvArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    // What the command is about is checked before the reconcile writes anything.
    let wt = &ws.find_worktree(args.worktree.as_deref(), &cwd)?;
    ws.check_replaceable_outputs(wt)?;
    let report = ws.ensure(wt)?;
    print_notes(&report);
    let written = ws.generate(wt)?;
    add::describe(&ws, &wt.name, out)?;
    if wt.is_main && written.is_empty() {
        writeln!(out, "Nothing to write: the main worktree runs on its own env files (every other worktree gets them with its own ports)")?;
        return Ok(());
    }
    add::write_written(out, &written, &wt.path)
}
