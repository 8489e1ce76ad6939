//! `ports release`, `ports release-all --force` and `ports cleanup`.

use std::io::Write;

use indexmap::IndexMap;

use crate::cli::{ReleaseAllArgs, ReleaseArgs};
use crate::commands::cwd;
use crate::config::ResolutionStrategy;
use crate::error::{Error, Result};
use crate::workspace::Workspace;

pub(super) fn release(args: ReleaseArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    let worktrees = ws.repo.worktrees()?;
    let reg = ws.registry.read()?;
    let name = if reg.allocated_ports.contains_key(&args.worktree) {
        args.worktree.clone()
    } else {
        ws.resolve(&worktrees, &args.worktree, &cwd)?.name.clone()
    };
    let released = ws.update(|reg, _| Ok(reg.release(&name)))?;
    match released {
        Some(ports) => writeln!(out, "Released {} port(s) of {name}", ports.len())?,
        None => writeln!(out, "{name} had no ports allocated")?,
    }
    if worktrees.iter().any(|w| w.name == name && !w.prunable) {
        eprintln!("git-atlas: note: worktree {name} still exists, so it gets ports again at the next git-atlas command; `git atlas remove {}` removes it", crate::term::shell_word(&name));
    }
    Ok(())
}

pub(super) fn release_all(args: ReleaseAllArgs, out: &mut dyn Write) -> Result<()> {
    if !args.force {
        return Err(Error::usage("release-all releases every port of this repository; pass --force to do it")
            .hint("existing worktrees get ports again at the next git-atlas command; to start fresh, `git atlas ports reset` is usually what you want"));
    }
    let ws = Workspace::discover(&cwd()?)?;
    let (worktrees, ports) = ws.update(|reg, _| {
        let counts = (
            reg.allocated_ports.len(),
            reg.allocated_ports
                .values()
                .map(IndexMap::len)
                .sum::<usize>(),
        );
        reg.allocated_ports.clear();
        reg.worktrees.clear();
        Ok(counts)
    })?;
    writeln!(out, "Released {ports} port(s) of {worktrees} worktree(s)")?;
    Ok(())
}

/// The seed's report: check every allocation, release those whose worktree is gone.
pub(super) fn cleanup(out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let worktrees = ws.repo.worktrees()?;
    let before = ws.registry.read()?;
    writeln!(out, "Cleaning up port allocations...")?;
    writeln!(out, "{}", "═".repeat(57))?;
    for name in before.allocated_ports.keys() {
        let exists = worktrees.iter().any(|w| &w.name == name && !w.prunable);
        let mark = if exists {
            "✓ exists"
        } else {
            "✗ NOT FOUND"
        };
        writeln!(out, "Checking: {:<24}{mark}", name)?;
    }
    let report = ws.reconcile()?;
    let mut total = 0;
    if !report.released.is_empty() {
        writeln!(out, "\nReleasing ports for deleted worktrees:")?;
        for (name, ports) in &report.released {
            writeln!(out, "  {name}: {} ports released", ports.len())?;
            total += ports.len();
        }
    }
    let current = ws.here();
    let force_release = ws.inputs(&current).map_or(true, |i| {
        i.config
            .port_conflict_resolution
            .enabled(ResolutionStrategy::ForceRelease)
    });
    if force_release {
        let gone = ws.drop_missing_leases()?;
        if !gone.is_empty() {
            writeln!(
                out,
                "\nReleasing leases of repositories that no longer exist:"
            )?;
            for (project, n) in gone {
                writeln!(out, "  {}: {n} ports released", project.display())?;
                total += n;
            }
        }
    }
    for (name, err) in &report.failed {
        eprintln!("git-atlas: warning: {name}: {err}");
    }
    if !report.docker.is_empty() || !report.docker_deferred.is_empty() {
        writeln!(out, "\nDocker:")?;
        for line in report.docker.iter().chain(&report.docker_deferred) {
            writeln!(out, "  {line}")?;
        }
    }
    let waiting = ws.volumes_waiting();
    if !waiting.is_empty() {
        writeln!(out, "\nVolumes kept while Git still lists their worktree (`git worktree prune` lets the next cleanup remove them):")?;
        for (project, worktree, volumes) in &waiting {
            let names = if volumes.is_empty() {
                "none left".to_string()
            } else {
                volumes.join(", ")
            };
            writeln!(out, "  {project} ({worktree} is missing): {names}")?;
        }
    }
    writeln!(out, "\nCleanup complete: {total} ports released")?;
    Ok(())
}
