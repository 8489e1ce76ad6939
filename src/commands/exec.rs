//! `git atlas exec [-w <worktree>] -- <command>…`: run a program with the worktree's values.

use super::cwd;
use crate::cli::ExecArgs;
use crate::error::Result;
use crate::workspace::Workspace;

pub fn run(args: ExecArgs) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    let worktrees = super::reconciled(&ws)?;
    let (wt, dir) = match &args.worktree {
        Some(arg) => {
            let wt = ws.resolve(&worktrees, arg, &cwd)?;
            (wt, wt.path.clone())
        }
        // In the current worktree, stay in the current directory (a subdirectory, say).
        None => (ws.current(&worktrees)?, cwd.clone()),
    };
    let env = ws.exec_env(wt)?;
    ws.exec(&args.command, &dir, &env)
}
