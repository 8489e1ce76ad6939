//! `git atlas ports` (the prompt's hot path: it finds the repository without opening it, reads the
//! registry and prints, spawning nothing), `ports show` and `ports list`.

use std::io::Write;

use indexmap::IndexMap;
use serde::Serialize;

use crate::cli::{PortsListArgs, PortsShowArgs};
use crate::commands::output;
use crate::commands::{cwd, print_notes};
use crate::error::{Error, Result};
use crate::ports::registry::Registry;
use crate::workspace::Workspace;

/// `ports --json` and `ports show --json`, after `"version"`; `ports` is null when the registry
/// has no entry for the worktree.
#[derive(Serialize)]
struct WorktreePorts<'a> {
    worktree: &'a str,
    offset: Option<u16>,
    ports: Option<&'a IndexMap<String, u16>>,
}

pub(super) fn current(json: bool, format: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let (name, found) = crate::workspace::current_ports(&cwd()?)?;
    let name = name.as_str();
    let Some((ports, offset)) = found else {
        if json {
            let none = WorktreePorts {
                worktree: name,
                offset: None,
                ports: None,
            };
            output::json(out, &none, false)?;
        }
        return Ok(());
    };
    let ports = &ports;
    if json {
        output::json(
            out,
            &WorktreePorts {
                worktree: name,
                offset,
                ports: Some(ports),
            },
            false,
        )?;
    } else if let Some(format) = format {
        writeln!(out, "{}", render_format(format, name, offset, ports)?)?;
    } else if !ports.is_empty() {
        writeln!(out, "{}", output::ports_line(ports))?;
    }
    Ok(())
}

/// `{name}`, `{offset}`, `{ports}` and `{<service>}`; `{{` and `}}` for literal braces.
fn render_format(
    format: &str,
    name: &str,
    offset: Option<u16>,
    ports: &IndexMap<String, u16>,
) -> Result<String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("{{").or_else(|| tail.strip_prefix("}}")) {
            out.push_str(&tail[..1]);
            rest = t;
            continue;
        }
        let end = tail
            .find('}')
            .filter(|_| tail.starts_with('{'))
            .ok_or_else(|| {
                Error::usage(format!("--format: unbalanced brace in '{format}'"))
                    .hint("write {{ or }} for a literal brace")
            })?;
        let key = &tail[1..end];
        let value = match key {
            "name" => name.to_string(),
            "offset" => offset.map(|o| o.to_string()).unwrap_or_default(),
            "ports" => output::ports_line(ports),
            service => match ports.get(service) {
                Some(p) => p.to_string(),
                None => {
                    let known: Vec<String> = ["name", "offset", "ports"]
                        .iter()
                        .map(|s| s.to_string())
                        .chain(ports.keys().cloned())
                        .collect();
                    return Err(
                        Error::usage(format!("--format: unknown field {{{service}}}"))
                            .hint(format!("fields: {}", known.join(", "))),
                    );
                }
            },
        };
        out.push_str(&value);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub(super) fn show(args: PortsShowArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    // An unknown name fails before the reconcile writes anything.
    if !ws
        .registry
        .read()?
        .allocated_ports
        .contains_key(&args.worktree)
    {
        ws.find_worktree(Some(&args.worktree), &cwd)?;
    }
    let worktrees = crate::commands::reconciled(&ws)?;
    let reg = ws.registry.read()?;
    // A name the registry knows is enough (its worktree may be gone); else resolve path or branch.
    let name = if reg.allocated_ports.contains_key(&args.worktree) {
        args.worktree.clone()
    } else {
        ws.resolve(&worktrees, &args.worktree, &cwd)?.name.clone()
    };
    if args.json {
        output::json(
            out,
            &WorktreePorts {
                worktree: &name,
                offset: reg.worktrees.get(&name).and_then(|r| r.offset),
                ports: reg.allocated_ports.get(&name),
            },
            true,
        )?;
        return Ok(());
    }
    crate::commands::add::describe(&ws, &name, out)
}

#[derive(Serialize)]
pub(super) struct Row<'a> {
    worktree: &'a str,
    service: &'a str,
    label: &'a str,
    port: u16,
}

pub(super) fn rows<'a>(reg: &'a Registry, service: Option<&str>) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    for (worktree, ports) in &reg.allocated_ports {
        for (s, port) in ports {
            if service.is_some_and(|want| want != s) {
                continue;
            }
            let label = reg
                .worktrees
                .get(worktree)
                .and_then(|r| r.labels.get(s))
                .map_or("", String::as_str);
            rows.push(Row {
                worktree,
                service: s,
                label,
                port: *port,
            });
        }
    }
    rows
}

pub(super) fn list(args: PortsListArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    print_notes(&ws.reconcile()?);
    let reg = ws.registry.read()?;
    let rows = rows(&reg, args.service.as_deref());
    if let Some(service) = &args.service {
        let known = reg
            .allocated_ports
            .values()
            .any(|p| p.contains_key(service));
        if !known && !args.json {
            let mut all: Vec<&String> = reg
                .allocated_ports
                .values()
                .flat_map(|p| p.keys())
                .collect();
            all.sort();
            all.dedup();
            let all: Vec<&str> = all.into_iter().map(String::as_str).collect();
            return Err(
                Error::failed(format!("no worktree has a port for service '{service}'"))
                    .hint(format!("services: {}", all.join(", "))),
            );
        }
    }
    if args.json {
        output::json_list(out, "ports", &rows)?;
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(out, "No ports allocated")?;
        return Ok(());
    }
    let mut table = vec![vec![
        "WORKTREE".to_string(),
        "SERVICE".into(),
        "LABEL".into(),
        "PORT".into(),
    ]];
    table.extend(rows.iter().map(|r| {
        vec![
            r.worktree.to_string(),
            r.service.to_string(),
            r.label.to_string(),
            r.port.to_string(),
        ]
    }));
    output::table(out, &table)?;
    Ok(())
}
