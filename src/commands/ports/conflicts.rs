//! `ports check-conflicts`: the registry against itself, against what is listening, against
//! the other repositories on this machine, and against what each worktree's generated env file
//! says.

use std::io::Write;

use serde::Serialize;

use super::status::allocations;
use crate::cli::JsonArgs;
use crate::commands::cwd;
use crate::commands::output;
use crate::error::Result;
use crate::workspace::Workspace;

#[derive(Serialize)]
struct Conflict {
    port: u16,
    worktree: String,
    service: String,
    kind: &'static str,
    detail: String,
}

pub(super) fn run(args: JsonArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let worktrees = ws.repo.worktrees()?;
    let reg = ws.registry.read()?;
    let leases = ws.machine_leases();
    let all = allocations(&reg);
    let ports: Vec<u16> = all.iter().map(|(_, _, p)| *p).collect();
    let listening = ws.listening(&ports, &worktrees);

    // What each worktree's generated env file says, read once per worktree.
    let shown: std::collections::HashMap<&str, crate::ports::registry::Ports> = worktrees
        .iter()
        .filter(|w| !w.prunable && reg.allocated_ports.contains_key(&w.name))
        .filter_map(|w| Some((w.name.as_str(), ws.generated_ports(w)?.0)))
        .collect();
    let mut found = Vec::new();
    for (wt, service, port) in &all {
        let mut add = |kind, detail: String| {
            found.push(Conflict {
                port: *port,
                worktree: wt.clone(),
                service: service.clone(),
                kind,
                detail,
            })
        };
        if let Some((other_wt, other_s, _)) = all
            .iter()
            .find(|(w, s, p)| p == port && (w != wt || s != service) && (w, s) < (wt, service))
        {
            add(
                "duplicate",
                format!("also allocated to {other_wt} ({other_s})"),
            );
        }
        if let Some(reason) = reg.unavailable_ports.get(port) {
            add("unavailable", format!("marked unavailable: {reason}"));
        }
        if let Some(holder) = leases.holder(*port, &ws.project) {
            add("leased", holder);
        }
        if let Some(says) = shown.get(wt.as_str()).and_then(|p| p.get(service)) {
            if says != port {
                add(
                    "env file",
                    format!(
                        "its generated env file says {says} (`git atlas env {}` rewrites it)",
                        crate::term::shell_word(wt)
                    ),
                );
            }
        }
        if !worktrees.iter().any(|w| &w.name == wt && !w.prunable) {
            add(
                "stale",
                "its worktree no longer exists (`git atlas ports cleanup` releases it)".into(),
            );
        }
        for l in listening.iter().filter(|l| l.port == *port) {
            match &l.worktree {
                Some(owner) if owner == wt => {}
                Some(owner) => add(
                    "in use",
                    format!(
                        "{} {} worktree {owner}",
                        l.describe(),
                        if l.container.is_some() {
                            "of"
                        } else {
                            "started in"
                        }
                    ),
                ),
                None => add("in use", format!("{}, not started in {wt}", l.describe())),
            }
        }
    }
    if args.json {
        output::json_list(out, "conflicts", &found)?;
        return Ok(());
    }
    writeln!(
        out,
        "Checked {} allocated port(s) of {} worktree(s)",
        all.len(),
        reg.allocated_ports.len()
    )?;
    if found.is_empty() {
        writeln!(out, "✓ No conflicts")?;
        return Ok(());
    }
    for c in &found {
        writeln!(
            out,
            "✗ {} ({} {}): {}",
            c.port, c.worktree, c.service, c.detail
        )?;
    }
    writeln!(out, "{} conflict(s). Fixes: stop the process, `git atlas ports mark-unavailable <port>`, `git atlas ports scan-rebuild`, or `git atlas ports cleanup`", found.len())?;
    Ok(())
}
