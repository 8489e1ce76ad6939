//! `git atlas docker up | down | ps | regenerate`: a worktree's Compose project (seed:
//! `docker-compose up -d`, `docker-compose ps`, `atlas docker regenerate`).

use std::io::Write;

use serde::Serialize;

use super::{add, cwd, print_notes};
use crate::cli::{DockerArgs, DockerCommand};
use crate::commands::output;
use crate::error::{Error, Result};
use crate::git::repo::Worktree;
use crate::workspace::Workspace;

#[derive(Serialize)]
struct ContainerJson<'a> {
    worktree: &'a str,
    project: &'a str,
    service: &'a str,
    name: &'a str,
    state: &'a str,
    status: &'a str,
    /// Host ports the container publishes.
    ports: Vec<u16>,
    /// As Docker shows them: `8082->80/tcp`.
    published: String,
}

pub fn run(args: DockerArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    // What the command is about is checked before the reconcile writes anything.
    let find = |arg: &Option<String>| ws.find_worktree(arg.as_deref(), &cwd);
    match args.command {
        DockerCommand::Up(a) => {
            let wt = &find(&a.worktree)?;
            ws.inputs(&wt.path)?;
            let worktrees = super::reconciled(&ws)?;
            let project = ws.docker_up(wt)?;
            writeln!(out, "Started Compose project {project} for {}", wt.name)?;
            ps(&ws, &worktrees, Some(wt), false, out)?;
            let database = ws.inputs(&wt.path)?.config.database.clone();
            if database.create {
                let wait = ws.database_wait(wt)?;
                add::create_databases(&ws, wt, database.clone, wait, true, out)?;
            }
            Ok(())
        }
        DockerCommand::Down(a) => {
            let wt = &find(&a.worktree)?;
            super::reconciled(&ws)?;
            ws.docker_down(wt, a.volumes)?;
            writeln!(
                out,
                "Brought Compose project {} of {} down{}",
                ws.compose_project(wt),
                wt.name,
                if a.volumes {
                    " with its volumes"
                } else {
                    " (named volumes kept; --volumes removes them)"
                }
            )?;
            Ok(())
        }
        DockerCommand::Ps(a) => {
            let only = a
                .worktree
                .as_ref()
                .map(|w| find(&Some(w.clone())))
                .transpose()?;
            let worktrees = super::reconciled(&ws)?;
            ps(&ws, &worktrees, only.as_ref(), a.json, out)
        }
        DockerCommand::Config(a) => {
            let wt = &find(&a.worktree)?;
            super::reconciled(&ws)?;
            config(&ws, wt, a.json, out)
        }
        DockerCommand::Regenerate(a) => {
            let wt = &find(&a.worktree)?;
            let no_template = || {
                Error::failed(format!(
                    "no compose template for {}: add docker-compose.worktree.template.yml (or set [templates] compose in .atlas.toml)",
                    wt.name
                ))
            };
            if ws.inputs(&wt.path)?.compose_template.is_none() {
                return Err(no_template());
            }
            ws.check_replaceable_outputs(wt)?;
            print_notes(&ws.ensure(wt)?);
            let written = ws.generate(wt)?;
            let Some(file) = ws.compose_file(wt).filter(|f| written.contains(f)) else {
                return Err(no_template());
            };
            add::write_written(out, &written, &wt.path)?;
            // Compose alone would name the project after the directory: `exec` gives it ours.
            writeln!(
                out,
                "Compose project {}: run `git atlas docker up {}` (or `git atlas exec -- {} up -d` in {}) to apply it",
                ws.compose_project(wt),
                crate::term::shell_word(&wt.name),
                ws.compose_name(),
                file.parent().unwrap_or(&wt.path).display()
            )?;
            Ok(())
        }
    }
}

/// `docker config`: the project's own Compose projects as they resolve in `wt`.
fn config(ws: &Workspace, wt: &Worktree, json: bool, out: &mut dyn Write) -> Result<()> {
    let projects = ws.running_projects(wt)?;
    if json {
        output::json_list(out, "projects", &projects)?;
        return Ok(());
    }
    if projects.is_empty() {
        let why = if ws.compose_file(wt).is_some() {
            "it runs the docker-compose.yml rendered from the template"
        } else {
            "Compose finds no compose file at its root or beside a .env the main worktree keeps ([docker] files names those run with -f)"
        };
        writeln!(
            out,
            "No Compose project of the project's own files in {}: {why}",
            wt.name
        )?;
        return Ok(());
    }
    for (i, p) in projects.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let files: Vec<String> = p
            .files
            .iter()
            .map(|f| {
                f.strip_prefix(&p.directory)
                    .unwrap_or(f)
                    .display()
                    .to_string()
            })
            .collect();
        writeln!(
            out,
            "Compose project {} in {} ({}{}):",
            p.name,
            p.directory.display(),
            files.join(", "),
            if p.with_f { ", run with -f" } else { "" }
        )?;
        let mut rows = vec![vec![
            "SERVICE".to_string(),
            "CONTAINER".into(),
            "PORTS".into(),
        ]];
        for s in &p.services {
            let ports: Vec<String> = s
                .ports
                .iter()
                .filter_map(|port| {
                    let published = port.published?;
                    let ip = port
                        .host_ip
                        .as_deref()
                        .map(|i| format!("{i}:"))
                        .unwrap_or_default();
                    Some(format!(
                        "{ip}{published}->{}/{}",
                        port.target, port.protocol
                    ))
                })
                .collect();
            rows.push(vec![
                s.service.clone(),
                s.container_name.clone(),
                ports.join(", "),
            ]);
        }
        output::table(out, &rows)?;
        for (what, list) in [("volumes", &p.volumes), ("networks", &p.networks)] {
            if list.is_empty() {
                continue;
            }
            let names: Vec<String> = list
                .iter()
                .map(|r| {
                    let external = if r.external { " (external)" } else { "" };
                    format!("{} = {}{external}", r.key, r.name)
                })
                .collect();
            writeln!(out, "  {what}: {}", names.join(", "))?;
        }
    }
    Ok(())
}

fn ps(
    ws: &Workspace,
    worktrees: &[Worktree],
    only: Option<&Worktree>,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let containers = ws.containers(worktrees, only)?;
    if json {
        let list: Vec<ContainerJson> = containers
            .iter()
            .map(|(w, c)| ContainerJson {
                worktree: w,
                project: &c.project,
                service: &c.service,
                name: &c.name,
                state: &c.state,
                status: &c.status,
                ports: c.host_ports(),
                published: c.short_ports(),
            })
            .collect();
        output::json_list(out, "containers", &list)?;
        return Ok(());
    }
    if containers.is_empty() {
        match only {
            Some(wt) => writeln!(
                out,
                "No containers in Compose project {} ({})",
                ws.compose_project(wt),
                wt.name
            )?,
            None => writeln!(out, "No containers in any worktree's Compose project")?,
        }
        return Ok(());
    }
    let mut rows = vec![vec![
        "WORKTREE".to_string(),
        "NAME".into(),
        "PORT".into(),
        "STATE".into(),
    ]];
    for (w, c) in &containers {
        rows.push(vec![
            w.clone(),
            c.name.clone(),
            c.short_ports(),
            c.status.clone(),
        ]);
    }
    output::table(out, &rows)?;
    Ok(())
}
