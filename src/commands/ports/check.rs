//! `ports check <port>`: who holds a port, from the registry, the lease file and the kernel.

use std::io::Write;

use serde::Serialize;

use crate::cli::PortsCheckArgs;
use crate::commands::cwd;
use crate::commands::output;
use crate::error::Result;
use crate::workspace::Workspace;

#[derive(Serialize)]
struct Check {
    port: u16,
    status: &'static str,
    available: bool,
    allocated: Option<Allocated>,
    unavailable: Option<String>,
    leased: Option<String>,
    listening: Vec<Listener>,
}

#[derive(Serialize)]
struct Allocated {
    worktree: String,
    service: String,
}

#[derive(Serialize)]
struct Listener {
    pid: Option<u32>,
    command: Option<String>,
    worktree: Option<String>,
    /// The Compose container publishing the port, when Docker's proxy is the listener.
    container: Option<String>,
}

pub(super) fn run(args: PortsCheckArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let worktrees = ws.repo.worktrees()?;
    let reg = ws.registry.read()?;
    let port = args.port;
    let allocated = reg.allocated_ports.iter().find_map(|(wt, ports)| {
        ports
            .iter()
            .find(|(_, p)| **p == port)
            .map(|(s, _)| Allocated {
                worktree: wt.clone(),
                service: s.clone(),
            })
    });
    let unavailable = reg.unavailable_ports.get(&port).cloned();
    let leased = ws.machine_leases().holder(port, &ws.project);
    let listening = ws.listening(&[port], &worktrees);
    let status = if !listening.is_empty() {
        "IN USE"
    } else if unavailable.is_some() {
        "UNAVAILABLE"
    } else if allocated.is_some() {
        "ALLOCATED"
    } else if leased.is_some() {
        "LEASED"
    } else {
        "AVAILABLE"
    };
    if args.json {
        let check = Check {
            port,
            status,
            available: status == "AVAILABLE",
            allocated,
            unavailable,
            leased,
            listening: listening
                .iter()
                .map(|l| Listener {
                    pid: l.pid,
                    command: l.command.clone(),
                    worktree: l.worktree.clone(),
                    container: l.container.clone(),
                })
                .collect(),
        };
        output::json(out, &check, true)?;
        return Ok(());
    }
    writeln!(out, "Port {port}: {status}")?;
    if let Some(a) = &allocated {
        writeln!(out, "  allocated to {} ({})", a.worktree, a.service)?;
    }
    if let Some(reason) = &unavailable {
        writeln!(out, "  marked unavailable: {reason}")?;
    }
    if let Some(l) = &leased {
        writeln!(out, "  {l}")?;
    }
    for l in &listening {
        let from = l
            .worktree
            .as_ref()
            .map(|w| match l.container {
                Some(_) => format!(", of worktree {w}"),
                None => format!(", started in worktree {w}"),
            })
            .unwrap_or_default();
        writeln!(out, "  listening: {}{from}", l.describe())?;
    }
    Ok(())
}
