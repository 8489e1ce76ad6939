//! `git atlas env [<worktree>]`: regenerate a worktree's files (seed: `worktree regenerate-config`).

use std::io::Write;

use super::{add, cwd, print_notes};
use crate::cli::EnvArgs;
use crate::error::Result;
use crate::workspace::Workspace;

pub fn run(args: EnvArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    let worktrees = ws.repo.worktrees()?;
    let wt = match &args.worktree {
        Some(arg) => ws.resolve(&worktrees, arg, &cwd)?,
        None => ws.current(&worktrees)?,
    };
    let report = ws.ensure(wt)?;
    print_notes(&report);
    let written = ws.generate(wt)?;
    add::describe(&ws, &wt.name, out)?;
    add::write_written(out, &written, &wt.path)
}
