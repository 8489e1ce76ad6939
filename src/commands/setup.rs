//! `git atlas setup [<worktree>] [--trust] [--wait]`, and the project's steps where other
//! commands run them: `add` (setup, in the foreground), `remove` (teardown, before the worktree
//! goes), the hooks (setup in a new worktree: trusted steps only, never a question, one line).

use std::io::Write;
use std::time::Instant;

use super::cwd;
use crate::cli::SetupArgs;
use crate::config::HookRun;
use crate::error::{Error, Result};
use crate::git::repo::Worktree;
use crate::steps::{self, background::Status, Failed, Output, Phase};
use crate::term::shell_word;
use crate::workspace::Workspace;

pub fn run(args: SetupArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    let wt = ws.find_worktree(args.worktree.as_deref(), &cwd)?;
    if args.wait {
        return wait(&ws, &wt, out);
    }
    let all = ws.steps(&wt)?;
    if all.is_empty() {
        writeln!(
            out,
            "No setup steps: {} has no [setup] run (nor [teardown] run)",
            crate::config::TEAM_FILE
        )?;
        return Ok(());
    }
    consent(&ws, &wt, args.trust, out)?;
    let setup = &all.setup.run;
    let untrusted = ws.trust().untrusted(setup)?;
    if !untrusted.is_empty() {
        return Err(Error::failed(format!(
            "nothing was run: this machine has not trusted {}",
            steps::quoted(&untrusted)
        ))
        .hint(format!(
            "read them in {} and run `git atlas setup --trust{}` to trust and run them",
            crate::config::TEAM_FILE,
            named(&args.worktree, &wt)
        )));
    }
    if setup.is_empty() {
        writeln!(out, "No setup steps to run ([setup] run is empty)")?;
        return Ok(());
    }
    run_foreground(&ws, &wt, setup, quiet, out).map_err(|e| {
        e.hint(format!(
            "fix it, then run `git atlas setup{}` again",
            named(&args.worktree, &wt)
        ))
    })
}

/// ` feature-auth` when the user named the worktree, for a command in a hint.
fn named(arg: &Option<String>, wt: &Worktree) -> String {
    match arg {
        Some(_) => format!(" {}", shell_word(&wt.name)),
        None => String::new(),
    }
}

/// Run `steps` (trusted) in `wt` on the terminal, holding its setup run: `Set up feature-auth:
/// 2 steps in 14.2 s`, or an error naming the step that failed.
fn run_foreground(
    ws: &Workspace,
    wt: &Worktree,
    steps: &[String],
    quiet: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let run = ws.setup_run(wt);
    let Some(_held) = run.try_hold()? else {
        return Err(already_running(wt));
    };
    run.begin(steps, &[])?;
    out.flush()?;
    let started = Instant::now();
    let result = ws.run_steps(wt, Phase::Setup, steps, Output::Inherit, quiet)?;
    run.finish(&result)?;
    result.map_err(|f| Error::failed(f.to_string()))?;
    writeln!(
        out,
        "Set up {}: {} in {:.1} s",
        wt.name,
        count(steps.len()),
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

fn count(n: usize) -> String {
    format!("{n} step{}", if n == 1 { "" } else { "s" })
}

fn already_running(wt: &Worktree) -> Error {
    Error::failed(format!("the setup of {} is running already", wt.name)).hint(format!(
        "`git atlas setup --wait {}` follows it to its end",
        shell_word(&wt.name)
    ))
}

/// The steps of `wt` this machine has not trusted, all of them (setup's and teardown's) in one
/// question on a terminal, or trusted at once with `--trust`. Without either nothing changes:
/// the caller runs what is trusted and names the rest.
pub(super) fn consent(
    ws: &Workspace,
    wt: &Worktree,
    trust: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let all = ws.steps(wt)?;
    let untrusted = ws.trust().untrusted(&all.all())?;
    if untrusted.is_empty() {
        return Ok(());
    }
    if trust {
        ws.trust().trust(&untrusted)?;
        writeln!(
            out,
            "Trusted on this machine: {}",
            steps::quoted(&untrusted)
        )?;
        return Ok(());
    }
    if !crate::term::can_ask() {
        return Ok(());
    }
    out.flush()?;
    eprintln!(
        "git-atlas: {} in {} has commands this machine has not run before:",
        crate::config::TEAM_FILE,
        wt.name
    );
    for phase in [Phase::Setup, Phase::Teardown] {
        for step in all.of(phase).iter().filter(|s| untrusted.contains(s)) {
            let mut lines = step.trim().lines();
            eprintln!(
                "  {:<9} {}",
                format!("{}:", phase.name()),
                lines.next().unwrap_or_default()
            );
            for more in lines {
                eprintln!("            {more}");
            }
        }
    }
    if crate::term::ask(
        "git-atlas: trust them (they run now and in new worktrees, until their text changes)?",
    ) == Some(true)
    {
        ws.trust().trust(&untrusted)?;
    }
    Ok(())
}

/// `git atlas add`'s part, once the worktree has its ports, files, copies and databases: ask
/// about steps not trusted yet (on a terminal), run the trusted ones, name the others. A
/// failing step is an error that says the worktree was kept.
pub(super) fn in_add(
    ws: &Workspace,
    wt: &Worktree,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let trusted = trusted_after_asking(ws, wt, Phase::Setup, out)?;
    if trusted.is_empty() {
        return Ok(());
    }
    run_foreground(ws, wt, &trusted, quiet, out).map_err(|e| {
        let name = shell_word(&wt.name);
        Error::failed(format!("{} was created and is kept, but its {e}", wt.name)).hint(format!(
            "fix it, then run `git atlas setup {name}` (or `git atlas remove {name}`)"
        ))
    })
}

/// The steps of `phase` in `wt` that may run now: the trusted ones, once the steps not trusted
/// yet were asked about (on a terminal); a note names those still not trusted.
fn trusted_after_asking(
    ws: &Workspace,
    wt: &Worktree,
    phase: Phase,
    out: &mut dyn Write,
) -> Result<Vec<String>> {
    let all = ws.steps(wt)?;
    if all.of(phase).is_empty() {
        return Ok(Vec::new());
    }
    consent(ws, wt, false, out)?;
    let (trusted, untrusted) = split(ws, all.of(phase))?;
    if !untrusted.is_empty() {
        eprintln!(
            "git-atlas: note: {}: {}",
            wt.name,
            not_trusted(phase, &untrusted, wt)
        );
    }
    Ok(trusted)
}

/// `setup `npm ci` not run: not trusted on this machine (`git atlas setup --trust w` trusts
/// and runs it)`.
fn not_trusted(phase: Phase, untrusted: &[String], wt: &Worktree) -> String {
    let them = if untrusted.len() == 1 { "it" } else { "them" };
    format!(
        "{} {} not run: not trusted on this machine (`git atlas setup --trust {}` trusts {})",
        phase.name(),
        steps::quoted(untrusted),
        shell_word(&wt.name),
        match phase {
            Phase::Setup => format!("and runs {them}"),
            Phase::Teardown => them.to_string(),
        }
    )
}

/// `steps` split into the trusted and the untrusted, each in order.
fn split(ws: &Workspace, steps: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let untrusted = ws.trust().untrusted(steps)?;
    let trusted = steps
        .iter()
        .filter(|s| !untrusted.contains(s))
        .cloned()
        .collect();
    Ok((trusted, untrusted))
}

/// `git atlas remove`'s part, before anything of `wt` goes: its trusted teardown steps, on the
/// terminal. `Err` when one failed (the worktree is then kept).
pub(super) fn teardown(ws: &Workspace, wt: &Worktree, out: &mut dyn Write) -> Result<()> {
    if !wt.path.is_dir() {
        return Ok(());
    }
    let trusted = trusted_after_asking(ws, wt, Phase::Teardown, out)?;
    if trusted.is_empty() {
        return Ok(());
    }
    out.flush()?;
    let quiet = crate::term::quiet();
    match ws.run_steps(wt, Phase::Teardown, &trusted, Output::Inherit, quiet)? {
        Ok(()) => Ok(()),
        Err(f) => Err(Error::failed(format!("{} was kept: its {f}", wt.name))),
    }
}

/// What a hook does about a new worktree's setup, as a part of its one line: never a question;
/// the trusted steps run as `[setup] hook` says (in the background by default), the untrusted
/// are named. Empty when there are no setup steps.
pub(super) fn from_hook(ws: &Workspace, wt: &Worktree) -> String {
    match hook_setup(ws, wt) {
        Ok(part) => part,
        Err(e) => format!("; setup not run: {e}"),
    }
}

fn hook_setup(ws: &Workspace, wt: &Worktree) -> Result<String> {
    let all = ws.steps(wt)?;
    if all.setup.run.is_empty() {
        return Ok(String::new());
    }
    let name = shell_word(&wt.name);
    let (trusted, untrusted) = split(ws, &all.setup.run)?;
    let part = if untrusted.is_empty() {
        String::new()
    } else {
        format!("; {}", not_trusted(Phase::Setup, &untrusted, wt))
    };
    if trusted.is_empty() {
        return Ok(part);
    }
    if all.setup.hook == HookRun::Manual {
        return Ok(format!("; setup: run `git atlas setup {name}`{part}"));
    }
    let run = ws.setup_run(wt);
    let Some(held) = run.try_hold()? else {
        return Ok(format!("; setup running already{part}"));
    };
    let log = run.begin_logged(&trusted, &untrusted)?;
    let ran = if all.setup.hook == HookRun::Background {
        let exe = std::env::current_exe()
            .map_err(|e| Error::failed(format!("could not find git-atlas itself: {e}")))?;
        run.start_background(held, log, &exe, &wt.path)?;
        format!(
            "; setup started in the background ({}; `git atlas setup --wait {name}` follows it)",
            count(trusted.len())
        )
    } else {
        let result = ws.run_steps(wt, Phase::Setup, &trusted, Output::Log(&log), false)?;
        run.finish(&result)?;
        match result {
            Ok(()) => format!("; setup ran {}", count(trusted.len())),
            Err(f) => format!("; {f}: its output is in {}", run.log_path().display()),
        }
    };
    Ok(ran + &part)
}

/// The background run a hook started (`git atlas hook background-setup`, in the worktree, its
/// output into the log, the run's lock handed to it): the trusted setup steps, then how they
/// ended into the run's state.
pub(super) fn background() -> Result<()> {
    steps::background::adopt_lock();
    let ws = Workspace::discover(&cwd()?)?;
    let wt = ws.current_worktree()?;
    let (trusted, _) = split(&ws, &ws.steps(&wt)?.setup.run)?;
    let result = ws.run_steps(&wt, Phase::Setup, &trusted, Output::Inherit, false)?;
    if let Err(f) = &result {
        eprintln!("git-atlas: {f}");
    }
    ws.setup_run(&wt).finish(&result)
}

/// `--wait`: follow a setup that is running (the log of one a hook started) to its end, then
/// say how the last one ended: exit 0 when it succeeded.
fn wait(ws: &Workspace, wt: &Worktree, out: &mut dyn Write) -> Result<()> {
    let run = ws.setup_run(wt);
    let running = run.try_hold()?.is_none();
    if running {
        out.flush()?;
        run.follow(&mut std::io::stderr())?;
    }
    let name = shell_word(&wt.name);
    let state = run.state()?;
    // A run that ended badly before we came: the end of what it said.
    if let Some(log) = state
        .as_ref()
        .filter(|st| !running && st.status != Status::Done)
        .and_then(|st| st.log.as_ref())
    {
        if let Ok(text) = std::fs::read_to_string(log) {
            let lines: Vec<&str> = text.lines().collect();
            for line in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{line}");
            }
        }
    }
    let Some(state) = state else {
        writeln!(
            out,
            "No setup has run in {} (`git atlas setup {name}` runs it)",
            wt.name
        )?;
        return Ok(());
    };
    let log = state
        .log
        .as_ref()
        .map(|l| format!("; its output is in {}", l.display()))
        .unwrap_or_default();
    match state.status {
        Status::Done => {
            let left = match state.not_trusted.as_slice() {
                [] => String::new(),
                rest => format!(
                    " (not run, as this machine has not trusted them: {})",
                    steps::quoted(rest)
                ),
            };
            writeln!(
                out,
                "Setup of {} is done: {}{left}",
                wt.name,
                count(state.steps.len())
            )?;
            Ok(())
        }
        Status::Failed => {
            let (step, how) = state.failed.unwrap_or_default();
            let f = Failed {
                phase: Phase::Setup,
                step,
                how,
            };
            Err(Error::failed(format!("{}: {f}{log}", wt.name))
                .hint(format!("fix it, then run `git atlas setup {name}`")))
        }
        Status::Running => Err(Error::failed(format!(
            "the setup of {} stopped before it finished (killed?){log}",
            wt.name
        ))
        .hint(format!("`git atlas setup {name}` runs it again"))),
    }
}
