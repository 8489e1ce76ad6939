//! `git atlas list`: every worktree with its branch, ports and state.

use std::io::Write;

use serde::Serialize;

use super::{cwd, print_notes};
use crate::cli::ListArgs;
use crate::commands::output;
use crate::error::Result;
use crate::git::repo::MAIN;
use crate::workspace::Workspace;

#[derive(Serialize)]
struct Entry<'a> {
    name: &'a str,
    path: &'a std::path::Path,
    branch: Option<&'a str>,
    main: bool,
    exists: bool,
    locked: Option<&'a str>,
    prunable: bool,
    offset: Option<u16>,
    ports: indexmap::IndexMap<String, u16>,
}

pub fn run(args: ListArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    if args.names {
        // Read-only, for completion: a TAB must never reconcile (or tear anything down).
        for w in ws.repo.worktrees()? {
            writeln!(out, "{}", w.name)?;
        }
        return Ok(());
    }
    let report = ws.reconcile()?;
    print_notes(&report);
    let worktrees = report.worktrees;
    let reg = ws.registry.read()?;
    let entries: Vec<Entry> = worktrees
        .iter()
        .map(|w| Entry {
            name: &w.name,
            path: &w.path,
            branch: w.branch.as_deref(),
            main: w.is_main,
            exists: w.present,
            locked: w.locked.as_deref(),
            prunable: w.prunable,
            offset: reg.worktrees.get(&w.name).and_then(|r| r.offset),
            ports: reg
                .allocated_ports
                .get(&w.name)
                .cloned()
                .unwrap_or_default(),
        })
        // A linked worktree with Git's id "main" has no entry of its own (reconcile warns).
        .map(|e| {
            if e.name == MAIN && !e.main {
                Entry {
                    offset: None,
                    ports: Default::default(),
                    ..e
                }
            } else {
                e
            }
        })
        .collect();
    let entries = if args.unused {
        let all: Vec<u16> = entries
            .iter()
            .flat_map(|e| e.ports.values().copied())
            .collect();
        let listening = ws.listening(&all, &worktrees);
        entries
            .into_iter()
            .filter(|e| {
                !e.ports
                    .values()
                    .any(|p| listening.iter().any(|l| l.port == *p))
            })
            .collect()
    } else {
        entries
    };
    if args.json {
        output::json_list(out, "worktrees", &entries)?;
        return Ok(());
    }
    let mut rows = vec![vec![
        "NAME".to_string(),
        "BRANCH".into(),
        "STATE".into(),
        "PORTS".into(),
        "PATH".into(),
    ]];
    for e in &entries {
        let state = if e.name == MAIN && !e.main {
            "name clash"
        } else if e.prunable {
            "missing"
        } else if e.locked.is_some() {
            "locked"
        } else if e.exists {
            "ok"
        } else {
            "missing"
        };
        let ports = match (e.offset, e.ports.is_empty()) {
            (_, true) => "-".to_string(),
            (Some(o), false) => format!("+{o} {}", output::ports_line(&e.ports)),
            (None, false) => output::ports_line(&e.ports),
        };
        rows.push(vec![
            e.name.to_string(),
            e.branch.unwrap_or("(detached)").to_string(),
            state.into(),
            ports,
            e.path.display().to_string(),
        ]);
    }
    output::table(out, &rows)?;
    Ok(())
}
