//! `git atlas hook <name> [args…]`, run by the shims. Whatever happens it exits 0 and prints at
//! most one line: a hook must never break Git.

use crate::cli::HookArgs;
use crate::error::Result;
use crate::git::repo::Worktree;
use crate::git::speaker;
use crate::workspace::Workspace;

pub fn run(args: HookArgs) {
    // Even a bug must not print a backtrace into the user's `git commit`: one line, exit 0.
    let name = args.name.clone();
    std::panic::set_hook(Box::new(|_| {}));
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_hook(args))).is_err() {
        eprintln!("git-atlas: warning: {name} hook stopped on an internal error (a bug in git-atlas); run `git atlas list` to see it");
    }
}

fn run_hook(args: HookArgs) {
    if std::env::var_os("GIT_ATLAS_SKIP_HOOKS").is_some_and(|v| !v.is_empty()) {
        return;
    }
    // Everything this run has to say goes into one line (see git::speaker).
    crate::term::collect_warnings();
    let result = match args.name.as_str() {
        "post-checkout" => post_checkout(&args.args),
        "reference-transaction" => reference_transaction(&args.args),
        // Started by the prompt, in the background: nobody reads what it would say, so it says
        // nothing (a warning is left for the next command or hook to say).
        crate::git::hooks::BACKGROUND => {
            let _ = background();
            crate::term::take_warnings();
            return;
        }
        // Started by a hook for a new worktree's setup steps: its output goes to their log.
        crate::steps::background::HOOK => {
            if let Err(e) = super::setup::background() {
                eprintln!("git-atlas: {e}");
            }
            return;
        }
        _ => Ok(None),
    };
    let warnings = crate::term::take_warnings();
    let line = match result {
        Ok(line) => {
            let mut parts: Vec<String> = line.into_iter().collect();
            parts.extend(warnings.iter().map(|w| format!("warning: {w}")));
            (!parts.is_empty()).then(|| speaker::Line::Done(parts.join("; ")))
        }
        Err(e) => {
            let mut key = e.to_string();
            for w in &warnings {
                key.push_str("; ");
                key.push_str(w);
            }
            Some(speaker::Line::Warning {
                line: format!(
                    "warning: {} hook did nothing: {key} (run `git atlas list` for details)",
                    args.name
                ),
                key,
            })
        }
    };
    let Ok(cwd) = super::cwd() else {
        return;
    };
    match crate::git::repo::Location::discover(&cwd) {
        Ok(at) => speaker::say(&at.common_dir.join(crate::ports::registry::DIR), line),
        Err(_) => {
            if let Some(speaker::Line::Done(text) | speaker::Line::Warning { line: text, .. }) =
                line
            {
                eprintln!("git-atlas: {text}");
            }
        }
    }
}

/// A new worktree (previous HEAD all zeros), or one whose files were left pending, gets its
/// ports and files; any other checkout only reconciles.
fn post_checkout(args: &[String]) -> Result<Option<String>> {
    // All zeros, whatever the hash length (40 for SHA-1, 64 for SHA-256).
    let is_new = args
        .first()
        .is_some_and(|prev| !prev.is_empty() && prev.bytes().all(|b| b == b'0'));
    let ws = Workspace::discover(&super::cwd()?)?;
    let current = ws.current_worktree()?;
    let pending = ws
        .registry
        .read()?
        .worktrees
        .get(&current.name)
        .is_some_and(|r| r.pending_files);
    if !(is_new || pending) || current.is_main {
        let (mut notes, failed) = catch_up(&ws)?;
        if !current.is_main {
            notes.extend(follow_checkout(&ws, &current)?);
        }
        return Ok(summary(&notes, &failed));
    }
    let report = ws.ensure(&current)?;
    let (written, tracked) = ws
        .generate_new(&current)?
        .ok_or_else(|| crate::workspace::not_a_checkout(&current))?;
    let mut line = generated(&ws, &current, &written)?;
    line.extend(tracked.map(|t| format!("; {t}")));
    line.push_str(&prepared(&ws, &current));
    if let Some(extra) = summary(&report.notes(), &report.failed) {
        line.push_str(&format!(" ({extra})"));
    }
    Ok(Some(line))
}

/// The checkout changed files `wt`'s generated files are made from (its compose files,
/// `.atlas.toml`, …: see `git::hooks::followed_changes`): they are written again, and what
/// changed is said (nothing when they come out the same).
fn follow_checkout(ws: &Workspace, wt: &Worktree) -> Result<Option<String>> {
    let list = crate::git::hooks::followed_path(ws.repo.common_dir(), &wt.name);
    let changes = crate::git::hooks::followed_changes(&list, &wt.path);
    if changes.is_empty() {
        return Ok(None);
    }
    let report = ws.ensure(wt)?;
    ws.generate(wt)?;
    // This worktree's: the catch-up before this may have written other worktrees' files.
    let names: Vec<String> = ws
        .changed_files()
        .iter()
        .filter_map(|p| p.strip_prefix(&wt.path).ok())
        .map(|p| p.display().to_string())
        .collect();
    let mut parts = report.notes();
    if !names.is_empty() {
        parts.push(format!(
            "{}: {} changed: wrote {}",
            wt.name,
            changes.join(", "),
            names.join(", ")
        ));
    }
    Ok((!parts.is_empty()).then(|| parts.join("; ")))
}

/// Worktrees changed (the shim saw a different fingerprint): catch up.
fn reference_transaction(args: &[String]) -> Result<Option<String>> {
    if args.first().map(String::as_str) != Some("committed") {
        return Ok(None);
    }
    let ws = Workspace::discover(&super::cwd()?)?;
    let (notes, failed) = catch_up(&ws)?;
    Ok(summary(&notes, &failed))
}

/// The prompt's background run: catch up, one run at a time (another prompt's run that
/// holds the lock does the same work).
fn background() -> Result<()> {
    let ws = Workspace::discover(&super::cwd()?)?;
    let Some(_turn) = ws.background_turn()? else {
        return Ok(());
    };
    if !ws.worktrees_unchanged() {
        catch_up(&ws)?;
    }
    Ok(())
}

/// Worktrees and why their hook work failed.
type Failed = Vec<(String, crate::error::Error)>;

/// The worktrees changed: reconcile, and write the files of worktrees that appeared with a
/// checkout but without our post-checkout (a relative `core.hooksPath` that the new worktree
/// does not have yet, a hook set without reference-transaction when the checkout came
/// later) and of `--no-checkout` ones checked out since. What to say, and what failed.
fn catch_up(ws: &Workspace) -> Result<(Vec<String>, Failed)> {
    let report = ws.reconcile()?;
    let mut notes = report.notes();
    let worktrees = report.worktrees;
    let mut failed: Vec<(String, crate::error::Error)> = report.failed;
    // Also worktrees allocated while Git was still creating them (--no-checkout) whose files
    // have been checked out since, by a checkout or by `reset --hard` (which runs no
    // post-checkout).
    let reg = ws.registry.read()?;
    let waiting = |w: &Worktree| reg.worktrees.get(&w.name).is_some_and(|r| r.pending_files);
    let new: Vec<&Worktree> = worktrees
        .iter()
        .filter(|w| {
            (report.allocated.contains(&w.name) || waiting(w))
                && (!waiting(w) || ws.repo.has_index(w))
                && !w.is_main
                && !w.is_initializing()
                && w.exists()
        })
        .collect();
    for wt in new {
        // The reconcile wrote the files of those new to the registry already.
        if let Some((_, written)) = report.rewritten.iter().find(|(n, _)| *n == wt.name) {
            notes.push(generated(ws, wt, written)? + &prepared(ws, wt));
            continue;
        }
        match ws.generate_new(wt) {
            Ok(Some((written, tracked))) => {
                let mut line = generated(ws, wt, &written)?;
                line.extend(tracked.map(|t| format!("; {t}")));
                notes.push(line + &prepared(ws, wt))
            }
            // Removed meanwhile, or not its checkout any more.
            Ok(None) => {}
            Err(e) => failed.push((wt.name.clone(), e)),
        }
    }
    Ok((notes, failed))
}

/// What a new worktree got after its files: copies, databases, setup.
fn prepared(ws: &Workspace, wt: &Worktree) -> String {
    copied(ws, wt) + &databases(ws, wt) + &super::setup::from_hook(ws, wt)
}

/// `w: ports app:3828 db:6260; wrote .env.local`, what a worktree got.
fn generated(ws: &Workspace, wt: &Worktree, written: &[std::path::PathBuf]) -> Result<String> {
    let ports = ws
        .registry
        .read()?
        .allocated_ports
        .get(&wt.name)
        .cloned()
        .unwrap_or_default();
    let mut line = if ports.is_empty() {
        format!(
            "{}: no services found (no *PORT* variables in .env and no [services] in .atlas.toml)",
            wt.name
        )
    } else {
        format!(
            "{}: ports {}",
            wt.name,
            crate::commands::output::ports_line(&ports)
        )
    };
    let files: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    if !files.is_empty() {
        line.push_str(&format!("; wrote {}", files.join(", ")));
    }
    Ok(line)
}

/// `; copied 40,123 files (212 MB, cloned)`: what a new worktree got of what
/// `.worktreeinclude` names, for its one line (nothing when it names nothing).
fn copied(ws: &Workspace, wt: &Worktree) -> String {
    match ws.copy_included(wt, false) {
        Ok(None) => String::new(),
        Ok(Some(c)) => {
            let mut part = format!("; copied {}", c.summary.short());
            if let Some(first) = c.summary.failed.first() {
                let n = c.summary.failed.len();
                part.push_str(&format!(" but not {n} (`git atlas copy` retries): {first}"));
            }
            part
        }
        Err(e) => format!("; nothing copied: {e}"),
    }
}

/// `; created database myapp_x`: what became of a new worktree's databases, for its one line.
fn databases(ws: &Workspace, wt: &Worktree) -> String {
    let config = match ws.inputs(&wt.path) {
        Ok(i) => i.config.database.clone(),
        Err(_) => return String::new(),
    };
    if !config.create {
        return String::new();
    }
    let outcomes = match ws.create_databases(wt, config.clone, std::time::Duration::ZERO) {
        Ok(o) => o,
        Err(e) => return format!("; databases not created: {e}"),
    };
    let parts: Vec<String> = outcomes
        .iter()
        .map(|o| {
            let name = o.db.as_ref().map_or_else(|| o.var.clone(), |d| d.name());
            match &o.result {
                Ok(crate::workspace::Done::Created) => format!("; created database {name}"),
                Ok(crate::workspace::Done::Copied(from)) => {
                    let why = o.note.as_ref().map(|n| format!(" ({n})"));
                    format!(
                        "; created database {name} from {from}{}",
                        why.unwrap_or_default()
                    )
                }
                Ok(crate::workspace::Done::Exists | crate::workspace::Done::Foreign) => {
                    format!("; database {name} exists")
                }
                Ok(_) | Err(crate::db::Failure::Remote(_)) => String::new(),
                Err(crate::db::Failure::NotListening(at)) => {
                    format!("; database {name} waits for a server on {at}")
                }
                Err(e) => format!("; database {name} not created: {e}"),
            }
        })
        .collect();
    parts.concat()
}

/// Everything worth saying, on one line.
fn summary(notes: &[String], failed: &[(String, crate::error::Error)]) -> Option<String> {
    let mut parts: Vec<String> = notes.to_vec();
    parts.extend(
        failed
            .iter()
            .map(|(name, e)| format!("warning: {name}: {e}")),
    );
    (!parts.is_empty()).then(|| parts.join("; "))
}
