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
