//! `git atlas db status | create | drop`: a worktree's own databases (seed: `createdb
//! myapp_feature_auth`, `mysql -e "CREATE DATABASE …"`).

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::cwd;
use crate::cli::{DbArgs, DbCommand};
use crate::commands::output;
use crate::db::snapshot::{self, Found};
use crate::db::{self, Database};
use crate::error::{Error, Result};
use crate::git::repo::Worktree;
use crate::workspace::{DbOutcome, Own, SnapshotOutcome, Workspace, WorktreeDb};

#[derive(Serialize)]
struct DbJson {
    worktree: String,
    variable: String,
    /// `postgresql`, `mysql` or `sqlite`; null when the URL names another machine.
    engine: Option<&'static str>,
    /// The database's name, or the SQLite file's path.
    database: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    /// `own`, `main` (this is the main worktree's database, shared), `snapshot` (a snapshot
    /// of the main worktree's database, `git atlas db snapshot`), or `remote`.
    kind: &'static str,
    /// `null` when it could not be checked (see `error`).
    exists: Option<bool>,
    size_bytes: Option<u64>,
    error: Option<String>,
    /// What the table adds to `yes` (a snapshot's source and age).
    #[serde(skip)]
    detail: Option<String>,
}

pub fn run(args: DbArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    // What the command is about is checked before the reconcile writes anything.
    let named = match &args.command {
        DbCommand::Status(a) => a.worktree.as_deref().map(Some),
        DbCommand::Create(a) => Some(a.worktree.as_deref()),
        DbCommand::Drop(a) => Some(Some(a.worktree.as_str())),
        DbCommand::Snapshot(_) => None,
    };
    if let Some(arg) = named {
        ws.inputs(&ws.find_worktree(arg, &cwd)?.path)?;
    }
    let worktrees = super::reconciled(&ws)?;
    let pick = |arg: &Option<String>| ws.resolve_or_current(&worktrees, arg.as_deref(), &cwd);
    match args.command {
        DbCommand::Status(a) => {
            let only: Vec<&Worktree> = match &a.worktree {
                Some(_) => vec![pick(&a.worktree)?],
                None => worktrees
                    .iter()
                    .filter(|w| w.exists() || w.is_main)
                    .collect(),
            };
            status(&ws, &only, a.json, out)
        }
        DbCommand::Create(a) => {
            let wt = pick(&a.worktree)?;
            let copy = if a.clone {
                true
            } else if a.empty {
                false
            } else {
                ws.inputs(&wt.path)?.config.database.clone
            };
            let wait = Duration::from_secs_f64(a.wait.clamp(0.0, 600.0));
            let outcomes = ws.create_databases(wt, copy, wait)?;
            report(&outcomes, wt, "created", out)
        }
        DbCommand::Drop(a) => {
            let wt = ws.resolve(&worktrees, &a.worktree, &cwd)?;
            if wt.is_main {
                return Err(
                    Error::failed("refusing to drop the main worktree's databases")
                        .hint("git-atlas only drops the databases of linked worktrees"),
                );
            }
            let outcomes = ws.drop_databases(wt, a.force)?;
            if outcomes.is_empty() {
                writeln!(
                    out,
                    "git-atlas created no database for {}: nothing to drop",
                    wt.name
                )?;
                return Ok(());
            }
            report(&outcomes, wt, "dropped", out)
        }
        DbCommand::Snapshot(a) => {
            let main = worktrees.iter().find(|w| w.is_main).ok_or_else(|| {
                Error::failed("the main worktree is not there to take a snapshot of")
            })?;
            let outcomes = ws.snapshot_databases(main, a.drop)?;
            snapshots(&outcomes, out)
        }
    }
}

/// One line per main database; an error (exit 1) if any snapshot failed.
fn snapshots(outcomes: &[SnapshotOutcome], out: &mut dyn Write) -> Result<()> {
    if outcomes.is_empty() {
        writeln!(out, "The main worktree uses no database: no variable of its .env names one (a postgresql://, mysql:// or sqlite URL, or a *.db file)")?;
        return Ok(());
    }
    let mut failed: Vec<String> = Vec::new();
    for o in outcomes {
        match &o.result {
            Err(db::Failure::Remote(_)) => eprintln!("git-atlas: note: {}", o.line()),
            Err(_) => failed.push(o.line()),
            Ok(_) => writeln!(out, "{}", o.line())?,
        }
    }
    let in_use = outcomes
        .iter()
        .any(|o| matches!(o.result, Err(db::Failure::InUse(_))));
    failures(
        failed,
        in_use.then(|| "end the sessions connected to the snapshot (nothing but a copy in progress should be), then run it again".to_string()),
    )
}

/// `Ok` when nothing `failed`; else the last failure as the error (with `hint`), the others
/// said before it as `error:` lines.
fn failures(mut failed: Vec<String>, hint: Option<String>) -> Result<()> {
    let Some(last) = failed.pop() else {
        return Ok(());
    };
    for line in failed {
        eprintln!("error: {line}");
    }
    let err = Error::failed(last);
    Err(match hint {
        Some(h) => err.hint(h),
        None => err,
    })
}

/// One line per database; an error (exit 1) if any of them failed.
fn report(outcomes: &[DbOutcome], wt: &Worktree, action: &str, out: &mut dyn Write) -> Result<()> {
    if outcomes.is_empty() {
        writeln!(out, "{} uses no database: no variable of its .env names one (a postgresql://, mysql:// or sqlite URL, or a *.db file)", wt.name)?;
        return Ok(());
    }
    let mut failed = Vec::new();
    for o in outcomes {
        if o.result.is_err() {
            failed.push(o.line(action));
        } else {
            writeln!(out, "{}", o.line(action))?;
            if let Some(note) = &o.note {
                eprintln!("git-atlas: note: {note}");
            }
        }
    }
    let in_use = outcomes
        .iter()
        .any(|o| matches!(o.result, Err(db::Failure::InUse(_))));
    failures(
        failed,
        in_use.then(|| {
            format!(
                "stop those clients, or run `git atlas db drop --force {}` to end their connections",
                crate::term::shell_word(&wt.name)
            )
        }),
    )
}

fn status(ws: &Workspace, worktrees: &[&Worktree], json: bool, out: &mut dyn Write) -> Result<()> {
    let mut rows: Vec<DbJson> = Vec::new();
    for wt in worktrees {
        let targets = match ws.databases(wt) {
            Ok(t) => t,
            // Its files or ports are gone (a deleted directory): what the registry recorded.
            Err(e) => match ws.recorded_databases(&wt.name) {
                Ok(recorded) if !recorded.is_empty() => recorded
                    .into_iter()
                    .map(|(var, db)| WorktreeDb {
                        var,
                        own: Own::Db(db),
                        main: None,
                    })
                    .collect(),
                _ => {
                    eprintln!("git-atlas: warning: {}: {e}", wt.name);
                    continue;
                }
            },
        };
        for t in targets {
            let (db, kind) = match &t.own {
                Own::Db(db) => (Some(db), if wt.is_main { "main" } else { "own" }),
                Own::Shared(db, _) => (Some(db), "main"),
                Own::Remote(_) => (None, "remote"),
            };
            let (exists, size_bytes, error) = match (db, &t.own) {
                (Some(db), _) => match db::status(db) {
                    Ok(size) => (Some(size.is_some()), size, None),
                    Err(e) => (None, None, Some(e.to_string())),
                },
                (None, Own::Remote(host)) => (
                    None,
                    None,
                    Some(db::Failure::Remote(host.clone()).to_string()),
                ),
                _ => (None, None, None),
            };
            let (host, port) = match db {
                Some(Database::Server { server, .. }) => {
                    (Some(server.host.clone()), Some(server.port))
                }
                _ => (None, None),
            };
            rows.push(DbJson {
                worktree: wt.name.clone(),
                variable: t.var.clone(),
                engine: db.map(|d| d.engine().as_str()),
                database: db.map(Database::name),
                host: host.clone(),
                port,
                kind,
                exists,
                size_bytes,
                error,
                detail: None,
            });
            // The main's snapshot, right after it.
            if let (true, Some(true), Some(db)) = (wt.is_main, exists, db) {
                if let Ok(Some(Found::Ours(snap))) = snapshot::find(db) {
                    let age = snap
                        .age
                        .map(|a| format!(", taken {}", snapshot::ago(a)))
                        .unwrap_or_default();
                    rows.push(DbJson {
                        worktree: wt.name.clone(),
                        variable: t.var.clone(),
                        engine: Some(snap.db.engine().as_str()),
                        database: Some(snap.db.name()),
                        host,
                        port,
                        kind: "snapshot",
                        exists: Some(true),
                        size_bytes: Some(snap.size),
                        error: None,
                        detail: Some(format!("snapshot of {}{age}", db.name())),
                    });
                }
            }
        }
    }
    if json {
        output::json_list(out, "databases", &rows)?;
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(out, "No databases: no variable of .env names one (a postgresql://, mysql:// or sqlite URL, or a *.db file)")?;
        return Ok(());
    }
    let mut table = vec![vec![
        "WORKTREE".to_string(),
        "VARIABLE".into(),
        "DATABASE".into(),
        "SERVER".into(),
        "SIZE".into(),
        "EXISTS".into(),
    ]];
    for r in &rows {
        let server = match (&r.host, r.port, r.engine) {
            (Some(h), Some(p), Some(e)) => format!("{e} {h}:{p}"),
            (_, _, Some(e)) => e.to_string(),
            _ => "remote".into(),
        };
        let exists = match (r.exists, &r.error) {
            (Some(true), _) if r.kind == "main" && r.worktree != crate::git::repo::MAIN => {
                "yes (main's)".to_string()
            }
            (Some(true), _) => match &r.detail {
                Some(d) => format!("yes ({d})"),
                None => "yes".into(),
            },
            (Some(false), _) => "no".into(),
            (None, Some(e)) => format!("? {e}"),
            (None, None) => "?".into(),
        };
        table.push(vec![
            r.worktree.clone(),
            r.variable.clone(),
            r.database.clone().unwrap_or_else(|| "-".into()),
            server,
            r.size_bytes.map(human_size).unwrap_or_else(|| "-".into()),
            exists,
        ]);
    }
    output::table(out, &table)?;
    Ok(())
}

/// `7.5 MB`
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
