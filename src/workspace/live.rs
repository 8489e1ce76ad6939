//! The live side of the facade: who listens on a worktree's ports, stopping what was started in
//! it, the bind test, and the machine-wide leases of other repositories.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Result;
use crate::git::repo::Worktree;
use crate::live::observe::{self, Listening};
use crate::live::{net, procs};
use crate::ports::leases::Leases;

use super::Workspace;

impl Workspace {
    /// Everything listening on `ports`, attributed to `worktrees`: a process by its working
    /// directory, a port a Compose container publishes by the container's project. Docker is
    /// asked only when some listener has no worktree (Docker's proxy runs in `/`).
    pub fn listening(&self, ports: &[u16], worktrees: &[Worktree]) -> Vec<Listening> {
        let mut found = observe::listening_on(ports, worktrees);
        if found.iter().all(|l| l.worktree.is_some()) || which::which("docker").is_err() {
            return found;
        }
        let Ok(containers) = self.containers(worktrees, None) else {
            return found;
        };
        for l in found.iter_mut().filter(|l| l.worktree.is_none()) {
            let running = containers
                .iter()
                .find(|(_, c)| c.state == "running" && c.host_ports().contains(&l.port));
            if let Some((worktree, c)) = running {
                l.worktree = Some(worktree.clone());
                l.container = Some(c.name.clone());
            }
        }
        // Docker's proxy listens once per address family: one container, one line.
        found.dedup_by(|a, b| {
            a.port == b.port && a.container.is_some() && a.container == b.container
        });
        found
    }

    /// Is `port` bound by any process right now?
    pub fn port_in_use(&self, port: u16) -> bool {
        net::in_use(port)
    }

    /// Stop processes (SIGTERM, then SIGKILL after `grace`).
    pub fn stop(
        &self,
        pids: &[(u32, String)],
        grace: Duration,
    ) -> Vec<std::result::Result<procs::Stopped, (u32, String)>> {
        procs::stop(pids, grace)
    }

    /// Every project's leases on this machine (empty when the lease file is missing or unreadable:
    /// it is derived state).
    pub fn machine_leases(&self) -> Leases {
        self.leases
            .as_ref()
            .and_then(|f| f.read().ok())
            .map(|l| Leases::clone(&l))
            .unwrap_or_default()
    }

    /// Drop the leases of repositories that no longer exist. Returns each one and its port count.
    pub fn drop_missing_leases(&self) -> Result<Vec<(PathBuf, usize)>> {
        let Some(file) = &self.leases else {
            return Ok(Vec::new());
        };
        let _lock = file.lock()?;
        let mut leases = Leases::clone(&*file.read_locked()?);
        let gone = leases.drop_missing();
        if !gone.is_empty() {
            file.write_locked(&leases)?;
        }
        Ok(gone)
    }
}
