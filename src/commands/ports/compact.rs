//! `ports compact` (range strategy): reassign ports to the lowest free ones of each range, keeping
//! ports that are listening right now, then rewrite the affected worktrees' env files.

use std::collections::HashSet;
use std::io::Write;

use indexmap::IndexMap;

use crate::commands::cwd;
use crate::error::Result;
use crate::ports::alloc::Strategy;
use crate::workspace::Workspace;

pub(super) fn run(out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let worktrees = crate::commands::reconciled(&ws)?;
    let current = ws.here();
    if matches!(
        ws.inputs(&current)?.config.strategy(),
        Strategy::Offset { .. }
    ) {
        writeln!(
            out,
            "Nothing to compact: the offset strategy derives each worktree's ports from its name"
        )?;
        writeln!(
            out,
            "(switch with `git atlas ports config --strategy range`)"
        )?;
        return Ok(());
    }
    // Each worktree's service ranges, from its own configuration.
    let mut ranges: IndexMap<String, IndexMap<String, (u16, u16)>> = IndexMap::new();
    for wt in worktrees.iter().filter(|w| !w.prunable) {
        if let Ok(inputs) = ws.inputs(&wt.path) {
            ranges.insert(
                wt.name.clone(),
                inputs
                    .services
                    .iter()
                    .map(|s| (s.key.clone(), s.range))
                    .collect(),
            );
        }
    }
    let all: Vec<u16> = ws
        .registry
        .read()?
        .allocated_ports
        .values()
        .flat_map(|p| p.values().copied())
        .collect();
    let listening: HashSet<u16> = ws
        .listening(&all, &worktrees)
        .iter()
        .map(|l| l.port)
        .collect();

    let moves = ws.update(|reg, leases| {
        // Every port held now counts as taken; a port that moves frees its old number for the
        // worktrees after it. So nothing ever moves onto a port someone still holds.
        let mut held: HashSet<u16> = reg
            .allocated_ports
            .values()
            .flat_map(|p| p.values().copied())
            .collect();
        let mut moves = Vec::new();
        let names: Vec<String> = reg.allocated_ports.keys().cloned().collect();
        for name in names {
            let Some(ports) = reg.allocated_ports.get(&name).cloned() else {
                continue;
            };
            let mut fresh = IndexMap::new();
            for (service, old) in ports {
                let range = ranges.get(&name).and_then(|r| r.get(&service)).copied();
                let lower = |p: &u16| {
                    !held.contains(p)
                        && (*p < old || !range.is_some_and(|(lo, hi)| (lo..=hi).contains(&old)))
                        && !reg.unavailable_ports.contains_key(p)
                        && leases.holder(*p, &ws.project).is_none()
                        && !ws.port_in_use(*p)
                };
                let new = if listening.contains(&old) {
                    None
                } else {
                    range.and_then(|(lo, hi)| (lo..=hi).find(lower))
                };
                let port = new.unwrap_or(old);
                if port != old {
                    held.remove(&old);
                    held.insert(port);
                    moves.push((name.clone(), service.clone(), old, port));
                }
                fresh.insert(service, port);
            }
            reg.allocated_ports.insert(name, fresh);
        }
        Ok(moves)
    })?;
    if moves.is_empty() {
        writeln!(out, "Already compact: no port moved")?;
        return Ok(());
    }
    for (wt, service, old, new) in &moves {
        writeln!(out, "{wt}: {service} {old} -> {new}")?;
    }
    let mut touched: Vec<&String> = moves.iter().map(|(w, ..)| w).collect();
    touched.dedup();
    for name in touched {
        if let Some(wt) = worktrees
            .iter()
            .find(|w| &w.name == name && w.exists() && !w.is_main)
        {
            match ws.regenerate(wt) {
                Ok(Some(files)) if !files.is_empty() => writeln!(out, "{name}: rewrote its env files (restart its services to use the new ports)")?,
                Ok(_) => {}
                Err(e) => eprintln!("git-atlas: warning: {name}: ports moved but its env files could not be rewritten: {e}"),
            }
        }
    }
    writeln!(out, "Compacted: {} port(s) moved", moves.len())?;
    Ok(())
}
