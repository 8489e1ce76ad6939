//! What is really listening on a set of ports, attributed to worktrees by the working directory
//! of the listening process.

use std::path::{Path, PathBuf};

use crate::git::repo::Worktree;
use crate::live::net;
use crate::live::sockets;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    pub port: u16,
    pub pid: Option<u32>,
    pub command: Option<String>,
    /// The worktree the process was started in (its working directory is inside it), or whose
    /// Compose project owns the container publishing the port.
    pub worktree: Option<String>,
    /// The Compose container publishing this port (the listener is Docker's proxy).
    pub container: Option<String>,
}

impl Listening {
    /// `pid 4242 (python3 -m http.server 3828)`, or what we can say without a pid.
    pub fn describe(&self) -> String {
        if let Some(name) = &self.container {
            return format!("container {name}");
        }
        match (self.pid, &self.command) {
            (Some(pid), Some(cmd)) => format!("pid {pid} ({cmd})"),
            (Some(pid), None) => format!("pid {pid}"),
            _ => "a process git-atlas cannot see (another user's, or in another network namespace)"
                .into(),
        }
    }
}

/// Everything listening on `ports`, one entry per (port, process). A port that fails the bind test
/// but shows in no socket table we can read is reported without a pid.
pub fn listening_on(ports: &[u16], worktrees: &[Worktree]) -> Vec<Listening> {
    let mut out: Vec<Listening> = Vec::new();
    for l in sockets::listening_on(ports).unwrap_or_default() {
        if out.iter().any(|o| o.port == l.port && o.pid == l.pid) {
            continue;
        }
        let worktree = l
            .pid
            .and_then(process_cwd)
            .and_then(|cwd| owner(&cwd, worktrees));
        out.push(Listening {
            port: l.port,
            pid: l.pid,
            command: l.command,
            worktree,
            container: None,
        });
    }
    for &port in ports {
        if !out.iter().any(|o| o.port == port) && net::in_use(port) {
            out.push(Listening {
                port,
                pid: None,
                command: None,
                worktree: None,
                container: None,
            });
        }
    }
    out.sort_by_key(|l| (l.port, l.pid));
    out
}

pub fn process_cwd(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

/// The worktree whose directory holds `dir` (the deepest, as worktrees may nest).
pub fn owner(dir: &Path, worktrees: &[Worktree]) -> Option<String> {
    worktrees
        .iter()
        .filter_map(|w| {
            let root = w.path.canonicalize().unwrap_or_else(|_| w.path.clone());
            dir.starts_with(&root)
                .then(|| (root.components().count(), w.name.clone()))
        })
        .max()
        .map(|(_, name)| name)
}
