//! `git atlas remove`: refuse dirty worktrees before touching anything, `git worktree remove`,
//! then release the ports.

use std::io::Write;

use super::{cwd, print_notes};
use crate::cli::RemoveArgs;
use crate::error::{Error, Result};
use crate::git;
use crate::repo::{args, Worktree};
use crate::workspace::Workspace;

pub fn run(args_in: RemoveArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    let worktrees = ws.repo.worktrees()?;
    print_notes(&ws.reconcile(&worktrees)?);

    let mut targets: Vec<&Worktree> = Vec::new();
    if args_in.all {
        targets.extend(worktrees.iter().filter(|w| !w.is_main));
        if targets.is_empty() {
            writeln!(out, "No linked worktrees to remove")?;
            return Ok(());
        }
    } else {
        for arg in &args_in.worktrees {
            let wt = ws.resolve(&worktrees, arg, &cwd)?;
            if wt.is_main {
                return Err(Error::failed("the main worktree cannot be removed")
                    .hint("remove linked worktrees only"));
            }
            if !targets.iter().any(|t| t.name == wt.name) {
                targets.push(wt);
            }
        }
    }

    // Check every target before removing any, so a refusal changes nothing.
    if !args_in.force {
        let mut refused = Vec::new();
        for wt in &targets {
            if let Some(reason) = &wt.locked {
                refused.push(format!(
                    "{} is locked{}",
                    wt.name,
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({reason})")
                    }
                ));
            } else if wt.exists() && git::is_dirty(&wt.path)? {
                refused.push(format!(
                    "{} has uncommitted changes or untracked files",
                    wt.name
                ));
            }
        }
        if !refused.is_empty() {
            let mut err = Error::failed(format!("nothing was removed: {}", refused.join("; ")));
            err = err.hint("commit or stash the changes, or pass --force to remove anyway (the changes are lost)");
            return Err(err);
        }
    }

    // Run git from the main worktree (or the common dir): the current directory may be a target.
    let git_cwd = ws
        .repo
        .main_dir()
        .unwrap_or_else(|| ws.repo.common_dir().to_path_buf());
    let mut failures = Vec::new();
    for wt in targets {
        let result = if wt.exists() {
            let mut a = args(["worktree", "remove"]);
            if args_in.force {
                a.push("--force".into());
                if wt.locked.is_some() {
                    a.push("--force".into());
                }
            }
            a.push("--".into());
            a.push(wt.path.clone().into());
            git::run_visible(&git_cwd, a, &[])
        } else {
            git::run_visible(&git_cwd, args(["worktree", "prune"]), &[])
        };
        if let Err(e) = result {
            eprintln!("error: {}: {e}", wt.name);
            failures.push(wt.name.clone());
            continue;
        }
        let released = ws.registry.update(|reg| Ok(reg.release(&wt.name)))?;
        let count = released.map_or(0, |p| p.len());
        writeln!(
            out,
            "Removed worktree {} ({}); released {count} port(s)",
            wt.name,
            wt.path.display()
        )?;
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::failed(format!(
            "could not remove: {}",
            failures.join(", ")
        )))
    }
}
