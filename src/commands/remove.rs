//! `git atlas remove`: refuse dirty worktrees before touching anything, `git worktree remove`,
//! then release the ports.

use std::io::Write;

use super::cwd;
use crate::cli::RemoveArgs;
use crate::error::{Error, Result};
use crate::git::repo::Worktree;
use crate::workspace::Workspace;

pub fn run(args_in: RemoveArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    // The worktrees named are found before the reconcile writes anything.
    for arg in &args_in.worktrees {
        ws.find_worktree(Some(arg), &cwd)?;
    }
    let worktrees = super::reconciled(&ws)?;

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
        let mut setups = Vec::new();
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
            } else if ws.repo.is_checkout(wt) && ws.is_dirty(wt)? {
                refused.push(format!(
                    "{} has uncommitted changes or untracked files",
                    wt.name
                ));
            } else if let Some(running) = super::setup::running_setup(&ws, wt, false)? {
                refused.push(running);
                setups.push(super::setup::arg(wt));
            }
        }
        if !refused.is_empty() {
            let mut err = Error::failed(format!("nothing was removed: {}", refused.join("; ")));
            if refused.len() > setups.len() {
                err = err.hint("commit or stash the changes, or pass --force to remove anyway (the changes are lost)");
            }
            if let Some(first) = setups.first() {
                err = err.hint(format!("wait for the setup to end (`git atlas setup --wait {first}`), or pass --force to stop it"));
            }
            return Err(err);
        }
    }

    let mut failures = Vec::new();
    let grace = std::time::Duration::from_secs_f64(args_in.grace.clamp(0.0, 600.0));
    let count = targets.len();
    for (i, wt) in targets.into_iter().enumerate() {
        if count > 1 {
            crate::progress!("removing {} ({}/{count})", wt.name, i + 1);
        }
        if args_in.force {
            // A setup still running in it is stopped (kill -9 of its process group).
            super::setup::running_setup(&ws, wt, true)?;
        }
        // The project's teardown first, while everything it may need is there.
        if !args_in.no_teardown {
            if let Err(e) = super::setup::teardown(&ws, wt, args_in.trust, out) {
                let _ = e.write_to(&mut std::io::stderr());
                failures.push(wt.name.clone());
                continue;
            }
        }
        // Databases first, while their server (perhaps the worktree's own container) still runs.
        let drop_db = args_in.drop_db || ws.database_policy().drop_on_remove;
        if drop_db && !drop_databases(&ws, wt, args_in.force, out)? {
            failures.push(wt.name.clone());
            continue;
        }
        // Compose first: its containers' ports are then free, and the compose file is still there.
        match ws.docker_teardown(wt, args_in.keep_services) {
            Ok(Some(line)) => writeln!(out, "{line}")?,
            Ok(None) => {}
            Err(crate::docker::Failure::Absent(a)) => {
                eprintln!("git-atlas: skipped Docker for {}: {a}", wt.name)
            }
            Err(e) => eprintln!("git-atlas: warning: {}: {e}", wt.name),
        }
        if !args_in.keep_services && wt.exists() {
            stop_services(&ws, &worktrees, wt, grace, out)?;
        }
        match ws.remove_worktree(wt, args_in.force) {
            Ok(Some(left)) => eprintln!("git-atlas: warning: {left}"),
            Ok(None) => {}
            Err(e) => {
                eprintln!("error: {}: {e}", wt.name);
                failures.push(wt.name.clone());
                continue;
            }
        }
        let released = ws.release(&wt.name)?;
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

/// Drop `wt`'s databases; `false` (the worktree is then kept) if one could not be dropped for
/// a reason the user can act on. A server that does not run is only noted: with Compose, the
/// worktree's own database server goes with its project.
fn drop_databases(ws: &Workspace, wt: &Worktree, force: bool, out: &mut dyn Write) -> Result<bool> {
    let mut ok = true;
    for o in ws.drop_databases(wt, force)? {
        let line = o.line("dropped");
        match &o.result {
            Ok(_) => writeln!(out, "{line}")?,
            Err(crate::db::Failure::NotListening(_) | crate::db::Failure::Remote(_)) => {
                eprintln!("git-atlas: warning: {line}")
            }
            Err(e) => {
                let hint = if matches!(e, crate::db::Failure::InUse(_)) {
                    " (stop those clients, or add --force to end their connections)"
                } else {
                    ""
                };
                eprintln!("error: {line}{hint}; {} was not removed", wt.name);
                ok = false;
            }
        }
    }
    Ok(ok)
}

/// Stop the processes started in `wt` that listen on its ports (SIGTERM, then SIGKILL after
/// `grace`). Listeners started elsewhere (a system service, a Docker proxy) are left alone.
fn stop_services(
    ws: &Workspace,
    worktrees: &[Worktree],
    wt: &Worktree,
    grace: std::time::Duration,
    out: &mut dyn Write,
) -> Result<()> {
    let ports: Vec<u16> = ws
        .registry
        .read()?
        .allocated_ports
        .get(&wt.name)
        .map(|p| p.values().copied().collect())
        .unwrap_or_default();
    if ports.is_empty() {
        return Ok(());
    }
    let mut ours: Vec<(u32, String)> = Vec::new();
    for l in ws.listening(&ports, worktrees) {
        match (l.pid, l.worktree.as_deref() == Some(wt.name.as_str())) {
            // A container's port belongs to its Compose project, which `[docker] on_remove` governs.
            _ if l.container.is_some() => eprintln!(
                "git-atlas: note: left {} running on port {}: Compose manages it",
                l.describe(),
                l.port
            ),
            (Some(pid), true) => {
                if !ours.iter().any(|(p, _)| *p == pid) {
                    ours.push((pid, l.command.clone().unwrap_or_default()));
                }
            }
            _ => eprintln!(
                "git-atlas: note: left {} running on port {}: it was not started in {}",
                l.describe(),
                l.port,
                wt.name
            ),
        }
    }
    if !ours.is_empty() {
        crate::progress!(
            "stopping {} process(es) listening on {}'s ports (SIGTERM, then SIGKILL after {:.1} s)",
            ours.len(),
            wt.name,
            grace.as_secs_f64()
        );
    }
    for result in ws.stop(&ours, grace) {
        match result {
            Ok(s) if s.killed => writeln!(
                out,
                "Stopped pid {} ({}) with SIGKILL: it ignored SIGTERM for {:.1}s",
                s.pid,
                s.command,
                grace.as_secs_f64()
            )?,
            Ok(s) => writeln!(out, "Stopped pid {} ({})", s.pid, s.command)?,
            Err((pid, why)) => eprintln!("git-atlas: warning: could not stop pid {pid}: {why}"),
        }
    }
    Ok(())
}
