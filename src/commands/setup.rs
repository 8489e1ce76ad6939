//! `git atlas setup [<worktree>] [--trust | --untrust | --wait]`, and the project's steps where
//! other commands run them: `add` (setup, on the terminal), `remove` (teardown, before the
//! worktree goes), the hooks (setup in a new worktree: never a question, one line). A setup
//! runs whole or not at all: its steps depend on each other (`npm ci` before the migrations),
//! so one that is not trusted keeps all of them from running.

use std::io::Write;
use std::time::Instant;

use super::cwd;
use crate::cli::SetupArgs;
use crate::config::HookRun;
use crate::error::{Error, Result};
use crate::git::repo::Worktree;
use crate::steps::background::{Busy, Status};
use crate::steps::{self, Failed, Output, Phase};
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
    if args.untrust {
        let every = all.all();
        let n = ws.trust().forget(&every)?;
        if n == 0 {
            writeln!(out, "None of the steps of {} was trusted", wt.name)?;
        } else {
            writeln!(
                out,
                "No longer trusted on this machine: {}",
                steps::quoted(&every)
            )?;
        }
        return Ok(());
    }
    if all.is_empty() {
        writeln!(
            out,
            "No setup steps: {} has no [setup] run (nor [teardown] run)",
            crate::config::TEAM_FILE
        )?;
        return Ok(());
    }
    consent(&ws, &wt, &[Phase::Setup, Phase::Teardown], args.trust, out)?;
    let setup = &all.setup.run;
    let untrusted = ws.trust().untrusted(setup)?;
    if !untrusted.is_empty() {
        return Err(Error::failed(format!(
            "nothing was run: {} not trusted on this machine",
            steps::quoted(&untrusted)
        ))
        .hint(format!(
            "read {} and run `git atlas setup --trust{}` to trust and run the setup",
            crate::config::TEAM_FILE,
            named(&args.worktree, &wt)
        )));
    }
    if setup.is_empty() {
        writeln!(out, "No setup steps to run ([setup] run is empty)")?;
        return Ok(());
    }
    match run_foreground(&ws, &wt, setup, quiet, out)? {
        Ok(()) => Ok(()),
        Err(f) => Err(Error::failed(f.to_string()).hint(format!(
            "fix it, then run `git atlas setup{}` again",
            named(&args.worktree, &wt)
        ))),
    }
}

/// `wt`'s name as the last argument of a command in a hint: quoted for the shell, after `--`
/// when it starts with `-` (which the command line would take for an option).
pub(super) fn arg(wt: &Worktree) -> String {
    if wt.name.starts_with('-') {
        format!("-- {}", shell_word(&wt.name))
    } else {
        shell_word(&wt.name)
    }
}

/// ` feature-auth` when the user named the worktree, for a command in a hint.
fn named(given: &Option<String>, wt: &Worktree) -> String {
    match given {
        Some(_) => format!(" {}", arg(wt)),
        None => String::new(),
    }
}

/// Run `steps` (trusted) in `wt` on the terminal, holding its setup run: `Set up feature-auth:
/// 2 steps in 14.2 s`, or the step that failed.
fn run_foreground(
    ws: &Workspace,
    wt: &Worktree,
    steps: &[String],
    quiet: bool,
    out: &mut dyn Write,
) -> Result<std::result::Result<(), Failed>> {
    let run = ws.setup_run(wt);
    let _held = run.claim()?.map_err(|b| busy(wt, b))?;
    run.begin(steps)?;
    out.flush()?;
    let started = Instant::now();
    let result = ws.run_steps(wt, Phase::Setup, steps, Output::Inherit, quiet, |pid| {
        let _ = run.running(pid, false);
    })?;
    run.finish(&result)?;
    if result.is_ok() {
        writeln!(
            out,
            "Set up {}: {} in {:.1} s",
            wt.name,
            count(steps.len()),
            started.elapsed().as_secs_f64()
        )?;
    }
    Ok(result)
}

fn count(n: usize) -> String {
    format!("{n} step{}", if n == 1 { "" } else { "s" })
}

/// Why no setup can start in `wt` now.
fn busy(wt: &Worktree, why: Busy) -> Error {
    match why {
        Busy::Running => Error::failed(format!("the setup of {} is running already", wt.name))
            .hint(format!(
                "`git atlas setup --wait {}` follows it to its end",
                arg(wt)
            )),
        Busy::Leftover(p) => Error::failed(format!(
            "a setup of {} that was stopped midway still runs ({})",
            wt.name,
            p.describe()
        ))
        .hint(format!(
            "wait for it to end, or stop it (`{}`), then run the setup again",
            p.kill_command()
        )),
    }
}

/// The steps of `phases` in `wt` this machine has not trusted, all in one question on a
/// terminal, or trusted at once with `trust`. Without either nothing changes.
fn consent(
    ws: &Workspace,
    wt: &Worktree,
    phases: &[Phase],
    trust: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let all = ws.steps(wt)?;
    let wanted: Vec<String> = phases.iter().flat_map(|p| all.of(*p).to_vec()).collect();
    let untrusted = ws.trust().untrusted(&wanted)?;
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
    for phase in phases {
        for step in all.of(*phase).iter().filter(|s| untrusted.contains(s)) {
            let mut lines = step.trim().lines();
            let first = steps::shown(lines.next().unwrap_or_default());
            eprintln!("  {:<9} {first}", format!("{}:", phase.name()));
            for more in lines {
                eprintln!("            {}", steps::shown(more));
            }
        }
    }
    if crate::term::ask(
        "git-atlas: trust these commands on this machine (until their text changes)?",
    ) == Some(true)
    {
        ws.trust().trust(&untrusted)?;
    }
    Ok(())
}

/// `` `npm ci` not trusted on this machine ``, for a setup that did not run.
fn untrusted_reason(untrusted: &[String]) -> String {
    format!("{} not trusted on this machine", steps::quoted(untrusted))
}

/// A setup that does not run, as some of its `steps` are `untrusted`: recorded so (for
/// `--wait`), and said: `setup not run: `npm ci` not trusted on this machine (`git atlas setup
/// --trust w` trusts and runs the setup)`.
fn not_run_untrusted(
    ws: &Workspace,
    wt: &Worktree,
    steps: &[String],
    untrusted: &[String],
) -> Result<String> {
    let reason = untrusted_reason(untrusted);
    ws.setup_run(wt).not_run(steps, reason.clone())?;
    Ok(format!(
        "setup not run: {reason} (`git atlas setup --trust {}` trusts and runs the setup)",
        arg(wt)
    ))
}

/// `git atlas add`'s part, once the worktree has its ports, files, copies and databases: ask
/// about steps not trusted yet (on a terminal), then run the setup if all of it is trusted,
/// else say why not. Any failure says the worktree was kept.
pub(super) fn in_add(
    ws: &Workspace,
    wt: &Worktree,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let kept = |what: String| {
        Error::failed(format!("{} was created and is kept, but {what}", wt.name)).hint(format!(
            "fix it, then run `git atlas setup {}` (or `git atlas remove {}`)",
            arg(wt),
            arg(wt)
        ))
    };
    let setup = ws.steps(wt)?.setup.run;
    if setup.is_empty() {
        return Ok(());
    }
    let asked = consent(ws, wt, &[Phase::Setup, Phase::Teardown], false, out)
        .and_then(|()| ws.trust().untrusted(&setup));
    let untrusted = asked.map_err(|e| kept(format!("its setup did not run: {e}")))?;
    if !untrusted.is_empty() {
        eprintln!(
            "git-atlas: note: {}",
            not_run_untrusted(ws, wt, &setup, &untrusted)?
        );
        return Ok(());
    }
    match run_foreground(ws, wt, &setup, quiet, out) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(f)) => Err(kept(format!("its {f}"))),
        Err(e) => Err(kept(format!("its setup did not run: {e}"))),
    }
}

/// `git atlas remove`'s part, before anything of `wt` goes: its teardown steps, on the
/// terminal (asked about first, or trusted with `trust`). `Err` when they are not all trusted
/// or one failed: the worktree is then kept.
pub(super) fn teardown(
    ws: &Workspace,
    wt: &Worktree,
    trust: bool,
    out: &mut dyn Write,
) -> Result<()> {
    if !wt.path.is_dir() {
        return Ok(());
    }
    let steps = ws.steps(wt)?.teardown.run;
    if steps.is_empty() {
        return Ok(());
    }
    consent(ws, wt, &[Phase::Teardown], trust, out)?;
    let untrusted = ws.trust().untrusted(&steps)?;
    if !untrusted.is_empty() {
        return Err(Error::failed(format!(
            "{} was kept: its teardown {}",
            wt.name,
            untrusted_reason(&untrusted)
        ))
        .hint(format!(
            "`git atlas remove --trust {}` trusts and runs the teardown; --no-teardown removes the worktree without it",
            arg(wt)
        )));
    }
    out.flush()?;
    let quiet = crate::term::quiet();
    match ws.run_steps(wt, Phase::Teardown, &steps, Output::Inherit, quiet, |_| {})? {
        Ok(()) => Ok(()),
        Err(f) => Err(
            Error::failed(format!("{} was kept: its {f}", wt.name)).hint(format!(
                "fix it, or pass --no-teardown to remove {} without its teardown steps",
                wt.name
            )),
        ),
    }
}

/// What a hook does about a new worktree's setup, as a part of its one line: never a question;
/// a wholly trusted setup runs as `[setup] hook` says (in the background by default), else the
/// untrusted steps are named and nothing runs. Empty when there are no setup steps.
pub(super) fn from_hook(ws: &Workspace, wt: &Worktree) -> String {
    let setup = match ws.steps(wt) {
        Ok(s) => s.setup,
        Err(e) => return format!("; setup not run: {e}"),
    };
    if setup.run.is_empty() {
        return String::new();
    }
    let run = ws.setup_run(wt);
    match hook_setup(ws, wt, &setup) {
        Ok(part) => part,
        Err(e) => {
            let _ = run.not_run(&setup.run, e.to_string());
            format!("; setup not run: {e}")
        }
    }
}

fn hook_setup(ws: &Workspace, wt: &Worktree, setup: &crate::config::SetupConfig) -> Result<String> {
    let steps = &setup.run;
    let run = ws.setup_run(wt);
    let untrusted = ws.trust().untrusted(steps)?;
    if !untrusted.is_empty() {
        return Ok(format!(
            "; {}",
            not_run_untrusted(ws, wt, steps, &untrusted)?
        ));
    }
    if setup.hook == HookRun::Manual {
        run.not_run(steps, "[setup] hook = \"manual\"".into())?;
        return Ok(format!("; setup: run `git atlas setup {}`", arg(wt)));
    }
    let held = match run.claim()? {
        Ok(lock) => lock,
        Err(Busy::Running) => return Ok("; setup running already".into()),
        Err(Busy::Leftover(p)) => {
            return Ok(format!(
                "; setup not run: a stopped setup still runs ({})",
                p.describe()
            ))
        }
    };
    let log = run.begin_logged(steps)?;
    if setup.hook == HookRun::Background {
        let exe = std::env::current_exe()
            .map_err(|e| Error::failed(format!("could not find git-atlas itself: {e}")))?;
        run.start_background(held, log, &exe, &wt.path)?;
        return Ok(format!(
            "; setup started in the background ({}; `git atlas setup --wait {}` follows it)",
            count(steps.len()),
            arg(wt)
        ));
    }
    let result = ws.run_steps(wt, Phase::Setup, steps, Output::Log(&log), false, |pid| {
        let _ = run.running(pid, false);
    })?;
    run.finish(&result)?;
    Ok(match result {
        Ok(()) => format!("; setup ran {}", count(steps.len())),
        Err(f) => format!(
            "; {f}: its output is in {} (`git atlas setup --wait {}` says so too)",
            run.log_path().display(),
            arg(wt)
        ),
    })
}

/// The background run a hook started (`git atlas hook background-setup`, in the worktree, its
/// output into the log, the run's lock handed to it): the setup steps, then how they ended
/// into the run's state. Trust is checked again: the steps are read again.
pub(super) fn background() -> Result<()> {
    steps::background::adopt_lock();
    let ws = Workspace::discover(&cwd()?)?;
    let wt = ws.current_worktree()?;
    let run = ws.setup_run(&wt);
    let steps = ws.steps(&wt)?.setup.run;
    let untrusted = ws.trust().untrusted(&steps)?;
    if !untrusted.is_empty() {
        let reason = untrusted_reason(&untrusted);
        eprintln!("git-atlas: setup not run: {reason}");
        return run.not_run(&steps, reason);
    }
    let result = ws.run_steps(&wt, Phase::Setup, &steps, Output::Inherit, false, |_| {})?;
    if let Err(f) = &result {
        eprintln!("git-atlas: {f}");
    }
    run.finish(&result)
}

/// `--wait`: follow a setup that is running (the log of one a hook started) to its end, then
/// say how the last one ended: exit 0 only when it ran and succeeded.
fn wait(ws: &Workspace, wt: &Worktree, out: &mut dyn Write) -> Result<()> {
    let run = ws.setup_run(wt);
    let running = run.try_hold()?.is_none() || run.leftover()?.is_some();
    if running {
        out.flush()?;
        if run.state()?.is_some_and(|s| s.log.is_none()) {
            eprintln!(
                "git-atlas: waiting for the setup of {} running on another terminal (its output is there)",
                wt.name
            );
        }
        run.follow(&mut std::io::stderr())?;
    }
    let state = run.state()?;
    // A run that ended badly before we came: the end of what it said.
    if let Some(log) = state
        .as_ref()
        .filter(|st| !running && matches!(st.status, Status::Failed | Status::Running))
        .and_then(|st| st.log.as_ref())
    {
        if let Ok(text) = std::fs::read_to_string(log) {
            let lines: Vec<&str> = text.lines().collect();
            for line in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{line}");
            }
        }
    }
    let name = arg(wt);
    let Some(state) = state else {
        if ws.steps(wt)?.setup.run.is_empty() {
            writeln!(
                out,
                "No setup steps: {} has no [setup] run",
                crate::config::TEAM_FILE
            )?;
            return Ok(());
        }
        return Err(Error::failed(format!("no setup has run in {}", wt.name))
            .hint(format!("`git atlas setup {name}` runs it")));
    };
    let log = state
        .log
        .as_ref()
        .map(|l| format!("; its output is in {}", l.display()))
        .unwrap_or_default();
    match state.status {
        Status::Done => {
            writeln!(
                out,
                "Setup of {} is done: {}",
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
        Status::NotRun => {
            let reason = state.reason.unwrap_or_default();
            let hint = if reason.contains("not trusted") {
                format!("`git atlas setup --trust {name}` trusts and runs the setup")
            } else {
                format!("`git atlas setup {name}` runs it")
            };
            Err(Error::failed(format!("the setup of {} did not run: {reason}", wt.name)).hint(hint))
        }
    }
}

/// Before `git atlas remove` takes `wt` away: `None` when no setup runs in it; else what runs,
/// stopped first when `force`.
pub(super) fn running_setup(ws: &Workspace, wt: &Worktree, force: bool) -> Result<Option<String>> {
    let run = ws.setup_run(wt);
    let held = run.try_hold()?;
    let process = match (&held, run.leftover()?) {
        (_, Some((_, p))) => Some(p),
        (None, None) => run.state()?.and_then(|s| s.process),
        (Some(_), None) => return Ok(None),
    };
    let what = process
        .as_ref()
        .map_or_else(String::new, |p| format!(" ({})", p.describe()));
    if force {
        if let Some(p) = &process {
            p.stop();
        }
        return Ok(None);
    }
    Ok(Some(format!("{} is running its setup{what}", wt.name)))
}
