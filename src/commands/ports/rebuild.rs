//! `ports reset` and `ports scan-rebuild`: back the registry up and rebuild it. Both work on a
//! registry that does not parse, which is when they are needed.

use std::io::Write;

use indexmap::IndexMap;

use crate::commands::{cwd, print_notes};
use crate::error::Result;
use crate::git::repo::{Worktree, MAIN};
use crate::ports::registry::{Registry, WorktreeRecord};
use crate::workspace::Workspace;

pub(super) fn reset(out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let worktrees = ws.repo.worktrees()?;
    let old = replace_registry(&ws, out, |old| {
        let mut fresh = Registry::default();
        if let Some(old) = old {
            fresh.unavailable_ports = old.unavailable_ports.clone();
            fresh.compose_projects = old.compose_projects.clone();
            fresh.databases = old.databases.clone();
            // The main worktree keeps its ports (its own `.env` holds them): released until
            // the rebuild below, they could be leased meanwhile by another repository.
            if let Some(ports) = old.allocated_ports.get(MAIN) {
                fresh.allocated_ports.insert(MAIN.into(), ports.clone());
                if let Some(record) = old.worktrees.get(MAIN) {
                    fresh.worktrees.insert(MAIN.into(), record.clone());
                }
            }
        }
        Ok(fresh)
    })?;
    let report = ws.reconcile()?;
    print_notes(&report);
    crate::progress!("regenerating the env files whose ports changed");
    regenerate_changed(&ws, &worktrees, old.as_ref(), out)?;
    summary(&ws, out)
}

/// Rebuild from what exists: each worktree keeps the ports its generated env file holds, or that a
/// process started in it is listening on, or that the old registry gave it, unless another
/// worktree already kept that port; everything else is allocated afresh.
pub(super) fn scan_rebuild(out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let worktrees = ws.repo.worktrees()?;
    let live: Vec<&Worktree> = worktrees.iter().filter(|w| !w.prunable).collect();
    let old_registry = ws.registry.read().ok();
    let leases = ws.machine_leases();

    crate::progress!("reading the env files of {} worktree(s)", live.len());
    let mut shown: Vec<Shown> = Vec::new();
    for wt in &live {
        let from_env = ws.generated_ports(wt);
        let from_registry = old_registry.as_ref().and_then(|r| {
            Some((
                r.allocated_ports.get(&wt.name)?.clone(),
                r.worktrees.get(&wt.name).and_then(|w| w.offset),
            ))
        });
        match (from_env, from_registry) {
            (Some((ports, offset)), _) if !ports.is_empty() => {
                shown.push((wt, ports, offset, "its env file"))
            }
            (_, Some((ports, offset))) if !ports.is_empty() => {
                shown.push((wt, ports, offset, "the old registry"))
            }
            _ => shown.push((wt, IndexMap::new(), None, "")),
        }
    }
    let all_ports: Vec<u16> = shown
        .iter()
        .flat_map(|(_, p, _, _)| p.values().copied())
        .collect();
    crate::progress!("looking for listeners on {} port(s)", all_ports.len());
    let listening = ws.listening(&all_ports, &worktrees);
    writeln!(
        out,
        "Scanning {} worktree(s) and {} listening port(s)...",
        live.len(),
        listening.len()
    )?;

    let mut lines = Vec::new();
    replace_registry(&ws, out, |old| {
        let mut fresh = Registry::default();
        if let Some(old) = old {
            fresh.unavailable_ports = old.unavailable_ports.clone();
            fresh.compose_projects = old.compose_projects.clone();
            fresh.databases = old.databases.clone();
        }
        for (wt, ports, offset, source) in &shown {
            let mut kept = IndexMap::new();
            for (service, &port) in ports {
                let stranger = listening
                    .iter()
                    .find(|l| l.port == port && l.worktree.as_deref() != Some(wt.name.as_str()));
                let refusal = if let Some(holder) = fresh.holder(port, &wt.name) {
                    Some(holder)
                } else if let Some(l) = stranger.filter(|l| l.worktree.is_some() || l.pid.is_some())
                {
                    Some(format!("in use by {}", l.describe()))
                } else {
                    leases.holder(port, &ws.project)
                };
                match refusal {
                    None => {
                        kept.insert(service.clone(), port);
                    }
                    Some(why) => {
                        lines.push(format!("  {}: {service} {port} not kept: {why}", wt.name))
                    }
                }
            }
            let running = kept
                .values()
                .filter(|p| listening.iter().any(|l| l.port == **p))
                .count();
            if !kept.is_empty() {
                let also = if running > 0 {
                    format!(", {running} listening now")
                } else {
                    String::new()
                };
                lines.push(format!(
                    "  {}: kept {} port(s) from {source}{also}",
                    wt.name,
                    kept.len()
                ));
                let offset = if kept.len() == ports.len() {
                    *offset
                } else {
                    None
                };
                fresh.worktrees.insert(
                    wt.name.clone(),
                    WorktreeRecord {
                        path: wt.path.clone(),
                        offset,
                        labels: labels(&ws, wt),
                        ..Default::default()
                    },
                );
                fresh.allocated_ports.insert(wt.name.clone(), kept);
            }
        }
        if let Some(old) = old {
            for name in old
                .allocated_ports
                .keys()
                .filter(|n| !live.iter().any(|w| &w.name == *n))
            {
                lines.push(format!(
                    "  {name}: released (the worktree no longer exists)"
                ));
            }
        }
        Ok(fresh)
    })?;
    for line in lines {
        writeln!(out, "{line}")?;
    }
    // Allocate what nothing showed, and fill in services missing from kept worktrees.
    let report = ws.reconcile()?;
    for wt in &live {
        match ws.ensure(wt) {
            Ok(_) => {}
            Err(e) => eprintln!("git-atlas: warning: {}: {e}", wt.name),
        }
    }
    for name in &report.allocated {
        writeln!(out, "  {name}: allocated afresh")?;
    }
    print_notes(&report);
    crate::progress!("regenerating the env files whose ports changed");
    regenerate_changed(&ws, &worktrees, old_registry.as_deref(), out)?;
    summary(&ws, out)
}

/// What a worktree shows of its ports: service → port, its offset, and where that came from.
type Shown<'a> = (
    &'a Worktree,
    IndexMap<String, u16>,
    Option<u16>,
    &'static str,
);

/// Under the registry lock: back the file up (whatever it holds) and replace it with `build(old)`.
/// Returns the old registry if it parsed.
fn replace_registry(
    ws: &Workspace,
    out: &mut dyn Write,
    build: impl FnOnce(Option<&Registry>) -> Result<Registry>,
) -> Result<Option<Registry>> {
    let _lock = ws.registry.lock()?;
    let backup = ws.registry.backup()?;
    let old = ws.registry.read().ok().map(|r| Registry::clone(&r));
    let fresh = build(old.as_ref())?;
    ws.registry.write_locked(&fresh)?;
    if let Some(path) = backup {
        writeln!(out, "Backed up the registry to {}", path.display())?;
    }
    Ok(old)
}

/// The labels of a worktree's services, for `ports show` and `ports list`.
fn labels(ws: &Workspace, wt: &Worktree) -> IndexMap<String, String> {
    ws.inputs(&wt.path)
        .map(|i| {
            i.services
                .iter()
                .map(|s| (s.key.clone(), s.label.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Rewrite the files of existing worktrees whose ports changed.
fn regenerate_changed(
    ws: &Workspace,
    worktrees: &[Worktree],
    old: Option<&Registry>,
    out: &mut dyn Write,
) -> Result<()> {
    let reg = ws.registry.read()?;
    for wt in worktrees
        .iter()
        .filter(|w| w.exists() && !w.prunable && !w.is_main)
    {
        let now = reg.allocated_ports.get(&wt.name);
        let before = old.and_then(|o| o.allocated_ports.get(&wt.name));
        if now.is_some() && before.is_some() && now != before {
            match ws.regenerate(wt) {
                Ok(Some(_)) => writeln!(out, "{}: ports changed; regenerated its env files", wt.name)?,
                // Removed meanwhile.
                Ok(None) => {}
                Err(e) => eprintln!("git-atlas: warning: {}: ports changed but its env files could not be regenerated: {e}", wt.name),
            }
        }
    }
    Ok(())
}

fn summary(ws: &Workspace, out: &mut dyn Write) -> Result<()> {
    let reg = ws.registry.read()?;
    let ports: usize = reg.allocated_ports.values().map(IndexMap::len).sum();
    writeln!(
        out,
        "Rebuilt the registry: {} worktree(s), {ports} port(s)",
        reg.allocated_ports.len()
    )?;
    Ok(())
}
