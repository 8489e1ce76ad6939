//! `git atlas exec [-w <worktree>] -- <command>…`: run a program with the worktree's values.

use super::cwd;
use crate::cli::ExecArgs;
use crate::error::Result;
use crate::workspace::Workspace;

pub fn run(args: ExecArgs) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    // What the command is about is checked before the reconcile writes anything.
    let wt = &ws.find_worktree(args.worktree.as_deref(), &cwd)?;
    ws.inputs(&wt.path)?;
    super::reconciled(&ws)?;
    // In the current worktree, stay in the current directory (a subdirectory, say).
    let dir = match &args.worktree {
        Some(_) => wt.path.clone(),
        None => cwd.clone(),
    };
    let env = ws.exec_env(wt)?;
    ws.exec(&args.command, &dir, &env)
}
