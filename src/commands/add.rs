//! `git atlas add`: check what can be checked, `git worktree add`, then allocate and write the
//! env files.

use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use super::{cwd, print_notes, short};
use crate::cli::AddArgs;
use crate::commands::output;
use crate::error::{Error, Result};
use crate::git::repo::{Worktree, MAIN};
use crate::git::tree::Checkout;
use crate::workspace::Workspace;

pub fn run(args: AddArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    let target = cwd.join(&args.path);
    if target.file_name().is_some_and(|n| n == MAIN) {
        return Err(Error::usage(format!(
            "a worktree directory named '{MAIN}' would share its name with the main worktree"
        ))
        .hint("choose another directory name"));
    }

    // Configuration and .env mistakes fail here, before Git creates anything, and so does a
    // file git-atlas would write that the commit to check out tracks.
    let here = ws.here();
    let inputs = ws.inputs(&here)?;
    ws.check_templates(&inputs)?;
    if !args.no_env {
        let checkout = Checkout {
            commit_ish: args.commit_ish.as_deref(),
            start_point: args.branch.is_some() || args.force_branch.is_some() || args.detach,
            orphan: args.orphan,
            dir_name: target.file_name().unwrap_or_default(),
        };
        ws.check_untracked_outputs(&inputs, &checkout, !args.no_docker, &args.path)?;
    }

    let mut git_args: Vec<OsString> = vec!["worktree".into(), "add".into()];
    for (flag, value) in [("-b", &args.branch), ("-B", &args.force_branch)] {
        if let Some(v) = value {
            git_args.push(flag.into());
            git_args.push(v.clone());
        }
    }
    for (flag, on) in [
        ("--detach", args.detach),
        ("--no-checkout", args.no_checkout),
        ("--lock", args.lock),
        ("--track", args.track),
        ("--no-track", args.no_track),
        ("--orphan", args.orphan),
        ("--quiet", quiet),
    ] {
        if on {
            git_args.push(flag.into());
        }
    }
    if let Some(reason) = &args.reason {
        git_args.push("--reason".into());
        git_args.push(reason.clone());
    }
    git_args.push("--".into());
    git_args.push(target.clone().into());
    git_args.extend(args.commit_ish.clone());
    // With nothing to reconcile before the add, there is nothing after it but the new worktree:
    // its allocation alone does not grow with the number of worktrees, and is made while Git
    // checks it out. (A --no-checkout worktree waits for its files: the reconcile lists it for
    // the hooks.)
    let unchanged = !args.no_checkout && ws.worktrees_unchanged();
    let (wt, report) = if unchanged {
        ws.add_worktree_allocated(&cwd, git_args, &target, &inputs)?
    } else {
        let wt = ws.add_worktree(&cwd, git_args, &target)?;
        let report = ws.ensure(&wt)?;
        (wt, report)
    };
    let wt = &wt;
    print_notes(&report);
    describe(&ws, &wt.name, out)?;
    if args.no_env {
        ws.files_not_wanted(wt)?;
        writeln!(
            out,
            "Skipped env files (--no-env); write them later with `git atlas env {}`",
            crate::term::shell_word(&wt.name)
        )?;
    } else if args.no_docker {
        let written = ws.generate_without_compose(wt)?;
        write_written(out, &written, &wt.path)?;
    } else {
        let written = ws.generate(wt)?;
        write_written(out, &written, &wt.path)?;
    }
    if !args.no_copy {
        // After the env files (what git-atlas writes is never copied over), before the
        // database and Compose: a copy that fails in part leaves the worktree as it is.
        out.flush()?;
        if let Some(copied) = ws.copy_included(wt, crate::term::progress_shown())? {
            super::copy::report(&copied, out)?;
        }
    }
    let mut started = false;
    if args.up {
        // The worktree exists and has its files: a Docker problem is reported, not fatal.
        out.flush()?;
        match ws.docker_up(wt) {
            Ok(project) => {
                writeln!(out, "Started Compose project {project}")?;
                started = true;
            }
            Err(crate::docker::Failure::Absent(a)) => {
                eprintln!("git-atlas: did not start the Compose project: {a}")
            }
            Err(e) => {
                return Err(Error::failed(format!(
                    "{} was created, but its Compose project did not start: {e}",
                    wt.name
                ))
                .hint(format!(
                    "fix it, then run `git atlas docker up {}`",
                    crate::term::shell_word(&wt.name)
                )))
            }
        }
    }
    let database = ws.inputs(&wt.path)?.config.database.clone();
    if !args.no_db && !args.no_env && database.create {
        // A database container that was just started needs a moment before it accepts clients.
        let wait = if started {
            ws.database_wait(wt)?
        } else {
            Duration::ZERO
        };
        create_databases(&ws, wt, database.clone, wait, started, out)?;
    }
    if !args.no_setup {
        super::setup::in_add(&ws, wt, quiet, out)?;
    }
    Ok(())
}

/// Create `wt`'s databases as part of a bigger step (`add`, `docker up`): one line each. The
/// server refusing is an error; a server that is not running, on another machine, or without
/// its client tool installed is a note, since the worktree can live without it for now.
pub(super) fn create_databases(
    ws: &Workspace,
    wt: &Worktree,
    copy: bool,
    wait: Duration,
    started: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let mut hard = Vec::new();
    let mut said: Vec<String> = Vec::new();
    let name = crate::term::shell_word(&wt.name);
    for o in ws.create_databases(wt, copy, wait)? {
        let line = o.line("created");
        match &o.result {
            Ok(_) => {
                writeln!(out, "{line}")?;
                if let Some(note) = &o.note {
                    eprintln!("git-atlas: note: {note}");
                }
            }
            Err(crate::db::Failure::NotListening(at)) => {
                // `docker up` helps only if the worktree's project runs that server and is not
                // running yet.
                let port = match &o.db {
                    Some(crate::db::Database::Server { server, .. }) => Some(server.port),
                    _ => None,
                };
                let how = match port {
                    Some(p) if !started && ws.compose_publishes(wt, p) => {
                        format!("`git atlas docker up {name}` starts it and creates the database")
                    }
                    _ => format!("start that server, then run `git atlas db create {name}`"),
                };
                let note = format!(
                    "git-atlas: note: database {} not created yet: no server on {at} ({how})",
                    o.db.as_ref().map_or_else(|| o.var.clone(), |d| d.name()),
                );
                // Two variables naming one database get one note.
                if !said.contains(&note) {
                    eprintln!("{note}");
                    said.push(note);
                }
            }
            Err(_) if o.is_hard_failure() => hard.push(line),
            Err(_) => eprintln!("git-atlas: note: {line}"),
        }
    }
    match hard.pop() {
        None => Ok(()),
        Some(last) => {
            for line in hard {
                eprintln!("error: {line}");
            }
            Err(
                Error::failed(format!("{} was created, but: {last}", wt.name))
                    .hint(format!("fix it, then run `git atlas db create {name}`")),
            )
        }
    }
}

/// `Worktree feature-auth (offset 828)` and a table of its ports.
pub(super) fn describe(ws: &Workspace, name: &str, out: &mut dyn Write) -> Result<()> {
    let reg = ws.registry.read()?;
    let ports = reg.allocated_ports.get(name).cloned().unwrap_or_default();
    let record = reg.worktrees.get(name);
    let offset = record
        .and_then(|r| r.offset)
        .map(|o| format!(" (offset {o})"))
        .unwrap_or_default();
    if ports.is_empty() {
        writeln!(out, "Worktree {name}{offset}: no services found (no *PORT* variables in .env and no [services] in .atlas.toml)")?;
        return Ok(());
    }
    writeln!(out, "Worktree {name}{offset}:")?;
    let mut rows = vec![vec!["  SERVICE".to_string(), "LABEL".into(), "PORT".into()]];
    for (service, port) in &ports {
        let label = record
            .and_then(|r| r.labels.get(service))
            .cloned()
            .unwrap_or_default();
        rows.push(vec![format!("  {service}"), label, port.to_string()]);
    }
    output::table(out, &rows)?;
    Ok(())
}

pub(super) fn write_written(
    out: &mut dyn Write,
    written: &[std::path::PathBuf],
    root: &std::path::Path,
) -> Result<()> {
    if written.is_empty() {
        writeln!(out, "No env files to write (no .env and no templates)")?;
    } else {
        let names: Vec<String> = written.iter().map(|p| short(p, root)).collect();
        writeln!(out, "Wrote {} in {}", names.join(", "), root.display())?;
    }
    Ok(())
}
