//! `ports status`: capacity and use of every range (range strategy) or of the offset space.

use std::io::Write;

use serde::Serialize;

use crate::cli::JsonArgs;
use crate::commands::cwd;
use crate::commands::output;
use crate::error::Result;
use crate::ports::alloc::Strategy;
use crate::ports::leases::Leases;
use crate::ports::registry::Registry;
use crate::workspace::Workspace;

#[derive(Serialize)]
struct RangeUse {
    service: String,
    range: (u16, u16),
    size: usize,
    used: usize,
    blocked: usize,
    free: usize,
}

#[derive(Serialize)]
struct OffsetUse {
    min: u16,
    max: u16,
    size: usize,
    used: usize,
    blocked: usize,
    free: usize,
}

#[derive(Serialize)]
struct Status {
    strategy: &'static str,
    worktrees: usize,
    ports: usize,
    unavailable: usize,
    leased_elsewhere: usize,
    offsets: Option<OffsetUse>,
    ranges: Vec<RangeUse>,
}

pub(super) fn run(args: JsonArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let current = ws.here();
    let inputs = ws.inputs(&current)?;
    let reg = ws.registry.read()?;
    let leases = ws.machine_leases();
    let held = |port: u16| reg.holder(port, "").is_some();
    let blocked = |port: u16| {
        reg.unavailable_ports.contains_key(&port) || leases.holder(port, &ws.project).is_some()
    };

    let mut status = Status {
        strategy: "range",
        worktrees: reg.allocated_ports.len(),
        ports: reg.allocated_ports.values().map(|p| p.len()).sum(),
        unavailable: reg.unavailable_ports.len(),
        leased_elsewhere: leased_elsewhere(&leases, &ws.project),
        offsets: None,
        ranges: Vec::new(),
    };
    match inputs.config.strategy() {
        Strategy::Offset { min, max } => {
            status.strategy = "offset";
            let bases: Vec<u16> = inputs.services.iter().map(|s| s.base).collect();
            let used: Vec<u16> = reg
                .worktrees
                .values()
                .filter_map(|w| w.offset)
                .filter(|o| (min..=max).contains(o))
                .collect();
            let mut free = 0;
            let mut blocked_n = 0;
            for off in min..=max {
                if used.contains(&off) {
                    continue;
                }
                let ports: Vec<Option<u16>> = bases.iter().map(|b| b.checked_add(off)).collect();
                if ports
                    .iter()
                    .all(|p| p.is_some_and(|p| !held(p) && !blocked(p)))
                {
                    free += 1;
                } else {
                    blocked_n += 1;
                }
            }
            status.offsets = Some(OffsetUse {
                min,
                max,
                size: usize::from(max - min) + 1,
                used: used.len(),
                blocked: blocked_n,
                free,
            });
        }
        Strategy::Range => {
            for s in &inputs.services {
                let (lo, hi) = s.range;
                let used = (lo..=hi).filter(|p| held(*p)).count();
                let blocked_n = (lo..=hi).filter(|p| !held(*p) && blocked(*p)).count();
                let size = usize::from(hi - lo) + 1;
                status.ranges.push(RangeUse {
                    service: s.key.clone(),
                    range: s.range,
                    size,
                    used,
                    blocked: blocked_n,
                    free: size - used - blocked_n,
                });
            }
        }
    }
    if args.json {
        output::json(out, &status, true)?;
        return Ok(());
    }
    writeln!(out, "Strategy: {}", status.strategy)?;
    writeln!(
        out,
        "Allocated: {} port(s) for {} worktree(s)",
        status.ports, status.worktrees
    )?;
    if let Some(o) = &status.offsets {
        writeln!(
            out,
            "Offsets {}-{}: {} in all, {} used, {} free, {} blocked (a port taken, unavailable or leased elsewhere)",
            o.min, o.max, o.size, o.used, o.free, o.blocked
        )?;
    }
    if !status.ranges.is_empty() {
        let mut rows = vec![vec![
            "SERVICE".to_string(),
            "RANGE".into(),
            "SIZE".into(),
            "USED".into(),
            "BLOCKED".into(),
            "FREE".into(),
            "STATE".into(),
        ]];
        for r in &status.ranges {
            let state = if r.free == 0 {
                "FULL"
            } else if r.free * 5 <= r.size {
                "near capacity"
            } else {
                "ok"
            };
            rows.push(vec![
                r.service.clone(),
                format!("{}-{}", r.range.0, r.range.1),
                r.size.to_string(),
                r.used.to_string(),
                r.blocked.to_string(),
                r.free.to_string(),
                state.into(),
            ]);
        }
        output::table(out, &rows)?;
    }
    writeln!(
        out,
        "Marked unavailable: {}; leased by other repositories on this machine: {}",
        status.unavailable, status.leased_elsewhere
    )?;
    Ok(())
}

fn leased_elsewhere(leases: &Leases, project: &std::path::Path) -> usize {
    leases
        .projects
        .iter()
        .filter(|(p, _)| p.as_path() != project)
        .map(|(_, w)| w.values().map(Vec::len).sum::<usize>())
        .sum()
}

/// Shared with `check-conflicts`: every allocated port with its worktree and service.
pub(super) fn allocations(reg: &Registry) -> Vec<(String, String, u16)> {
    reg.allocated_ports
        .iter()
        .flat_map(|(wt, ports)| ports.iter().map(move |(s, p)| (wt.clone(), s.clone(), *p)))
        .collect()
}
