//! Issue 20, the project's setup and teardown steps: `[setup] run` in `.atlas.toml` runs in a
//! new worktree once its ports, env files, copies and database are there, with the worktree's
//! values in the environment; `[teardown] run` before `git atlas remove` takes a worktree away.
//! Steps are code from whoever last changed the repository: they run only once this machine
//! trusted their exact text, and a hook never asks. Laid out as an npm-workspaces monorepo
//! (documenso's shape: a root `package.json` with `workspaces`, a committed
//! `package-lock.json`, a migration script): the steps are a real `npm ci` (offline: the only
//! packages are the workspace's own) and a real `npm run`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::hooks::{announce_hook_runs, assert_at_most_one_line_per_hook_run};
use support::{env_var, Sandbox};

const NPM_CI: &str = "npm ci --offline --no-audit --no-fund";
const MIGRATE: &str = "npm run --silent db:migrate";

/// The monorepo, `steps` as its `[setup] run` and `teardown` as its `[teardown] run`
/// (TOML strings, quoted by the caller), hooks installed or not.
fn monorepo(s: &Sandbox, setup: &[&str], teardown: &[&str], hooks: bool) -> PathBuf {
    let repo = s.repo(
        "app",
        "PORT=3000\nDATABASE_URL=postgresql://localhost:5432/app\n",
    );
    fs::create_dir_all(repo.join("packages/db")).unwrap();
    fs::create_dir_all(repo.join("scripts")).unwrap();
    fs::write(
        repo.join("package.json"),
        r#"{
  "name": "app",
  "private": true,
  "workspaces": ["packages/*"],
  "scripts": { "db:migrate": "node scripts/migrate.js" }
}
"#,
    )
    .unwrap();
    fs::write(
        repo.join("packages/db/package.json"),
        "{\"name\":\"@app/db\",\"version\":\"1.0.0\",\"main\":\"index.js\"}\n",
    )
    .unwrap();
    fs::write(
        repo.join("packages/db/index.js"),
        "module.exports = { schema: 3 };\n",
    )
    .unwrap();
    fs::write(
        repo.join("package-lock.json"),
        r#"{
  "name": "app",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": { "name": "app", "workspaces": ["packages/*"] },
    "node_modules/@app/db": { "resolved": "packages/db", "link": true },
    "packages/db": { "name": "@app/db", "version": "1.0.0" }
  }
}
"#,
    )
    .unwrap();
    // What a migration sees: the worktree's own port and database, and the package `npm ci`
    // linked (it fails without node_modules).
    fs::write(
        repo.join("scripts/migrate.js"),
        "const db = require('@app/db');\nrequire('fs').writeFileSync('migrated.json', JSON.stringify({ schema: db.schema, port: process.env.PORT, url: process.env.DATABASE_URL, name: process.env.WORKTREE_NAME }) + '\\n');\n",
    )
    .unwrap();
    fs::write(
        repo.join(".gitignore"),
        ".env\nnode_modules\nmigrated.json\n",
    )
    .unwrap();
    fs::write(repo.join(".atlas.toml"), atlas_toml(setup, teardown, "")).unwrap();
    s.git(&repo, &["add", "-A"]).ok();
    s.git(&repo, &["commit", "-q", "-m", "monorepo"]).ok();
    if hooks {
        // Hooks of the user's that announce each run, so that a run's lines can be told apart.
        announce_hook_runs(&repo.join(".git/hooks"));
        s.atlas(&repo, &["hooks", "install"]).ok();
    }
    repo
}

fn atlas_toml(setup: &[&str], teardown: &[&str], extra: &str) -> String {
    let list = |steps: &[&str]| {
        steps
            .iter()
            .map(|s| toml::Value::String(s.to_string()).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "[database]\ncreate = false\n\n[setup]\nrun = [{}]\n{extra}\n[teardown]\nrun = [{}]\n",
        list(setup),
        list(teardown)
    )
}

/// What `scripts/migrate.js` recorded in `wt`, or `None` when it did not run.
fn migrated(wt: &Path) -> Option<serde_json::Value> {
    let text = fs::read_to_string(wt.join("migrated.json")).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

/// The worktree's env values as `git atlas exec` gives them.
fn port_of(wt: &Path) -> String {
    env_var(&fs::read_to_string(wt.join(".env")).unwrap(), "PORT").unwrap()
}

#[test]
fn untrusted_steps_never_run_from_a_hook_and_trusted_ones_do() {
    let s = Sandbox::new();
    let repo = monorepo(&s, &[NPM_CI, MIGRATE], &[], true);

    // Nobody trusted them: the hook names them in its one line and runs nothing.
    let run = s
        .git(&repo, &["worktree", "add", "-q", "../first"])
        .success();
    assert_eq!(assert_at_most_one_line_per_hook_run(&run), 1, "{run}");
    let first = s.at("first");
    assert!(
        run.stderr.contains("not trusted on this machine")
            && run.stderr.contains(&format!("`{NPM_CI}`"))
            && run.stderr.contains("git atlas setup --trust first"),
        "{run}"
    );
    assert!(!first.join("node_modules").exists(), "npm ci ran: {run}");
    assert!(migrated(&first).is_none());
    // Nor does a hook ask: its stdin is Git's.
    assert!(!run.stderr.contains("[y/N]"), "{run}");
    // A script that waits for the setup learns that it did not run.
    let wait = s.atlas(&first, &["setup", "--wait"]);
    let err = wait.fails(1);
    assert!(
        err.contains("the setup of first did not run: `npm ci")
            && err.contains("git atlas setup --trust first"),
        "{wait}"
    );

    // `setup --trust` trusts them (setup and teardown) and runs them, on the worktree's values.
    let out = s.atlas(&first, &["setup", "--trust"]).ok();
    assert!(out.contains("Trusted on this machine"), "{out}");
    assert!(out.contains("Set up first: 2 steps"), "{out}");
    let m = migrated(&first).expect("the migration ran");
    assert_eq!(m["schema"], 3);
    assert_eq!(m["port"], port_of(&first).as_str());
    assert_eq!(m["name"], "first");
    assert!(
        m["url"].as_str().unwrap().ends_with("/app_first"),
        "{m}: the worktree's own database"
    );

    // Trusted now: the next plain `git worktree add` runs them in the background, and `setup
    // --wait` follows them to their end with their output.
    let run = s
        .git(&repo, &["worktree", "add", "-q", "../second"])
        .success();
    assert_eq!(assert_at_most_one_line_per_hook_run(&run), 1, "{run}");
    assert!(
        run.stderr
            .contains("setup started in the background (2 steps"),
        "{run}"
    );
    let second = s.at("second");
    let wait = s.atlas(&second, &["setup", "--wait"]);
    let out = wait.ok();
    assert!(out.contains("Setup of second is done: 2 steps"), "{wait}");
    let m = migrated(&second).expect("the migration ran in the background");
    assert_eq!(m["port"], port_of(&second).as_str());
    assert_ne!(port_of(&second), port_of(&first));
    // Main was never touched.
    assert!(migrated(&repo).is_none());

    // The run's log and state go with the worktree.
    let log = repo.join(".git/worktree-registry/setup/second.log");
    assert!(log.exists());
    s.atlas(&repo, &["remove", "second"]).ok();
    assert!(!log.exists() && !log.with_extension("json").exists());
}

#[test]
fn add_on_a_terminal_asks_once_then_runs_what_was_trusted() {
    let s = Sandbox::new();
    let repo = monorepo(&s, &[NPM_CI, MIGRATE], &["true"], false);
    let Some(run) = s.on_tty_answering(&repo, "y\n", "atlas add ../feat") else {
        return;
    };
    assert_eq!(run.code(), 0, "{run}");
    // One question naming every step not trusted yet, teardown's too.
    assert_eq!(run.stdout.matches("[y/N]").count(), 1, "{run}");
    for line in [
        format!("setup:    {NPM_CI}"),
        format!("setup:    {MIGRATE}"),
        "teardown: true".to_string(),
    ] {
        assert!(run.stdout.contains(&line), "{line}: {run}");
    }
    assert!(run.stdout.contains("Set up feat: 2 steps"), "{run}");
    assert_eq!(migrated(&s.at("feat")).unwrap()["name"], "feat");
    // Trusted: the next one asks nothing (and reads nothing from the terminal).
    let run = s.on_tty_answering(&repo, "", "atlas add ../next").unwrap();
    assert_eq!(run.code(), 0, "{run}");
    assert!(!run.stdout.contains("[y/N]"), "{run}");
    assert_eq!(migrated(&s.at("next")).unwrap()["name"], "next");
}

#[test]
fn an_edited_step_is_asked_about_again() {
    let s = Sandbox::new();
    let repo = monorepo(&s, &[NPM_CI, MIGRATE], &[], true);
    let first = s.at("first");
    s.atlas(&repo, &["add", "--no-setup", "../first"]).ok();
    s.atlas(&first, &["setup", "--trust"]).ok();

    // A branch edits the migration step: the same words with another command behind them.
    let edited = "npm run --silent db:migrate && touch edited-ran";
    s.git(&repo, &["checkout", "-q", "-b", "edit"]).ok();
    fs::write(
        repo.join(".atlas.toml"),
        atlas_toml(&[NPM_CI, edited], &[], "hook = \"wait\"\n"),
    )
    .unwrap();
    s.git(&repo, &["commit", "-q", "-am", "edit the migration"])
        .ok();
    s.git(&repo, &["checkout", "-q", "main"]).ok();

    // A setup runs whole or not at all (its steps depend on each other): the hook runs none
    // of it, and names the edited step, the only one not trusted.
    let run = s
        .git(&repo, &["worktree", "add", "-q", "../third", "edit"])
        .success();
    let third = s.at("third");
    assert!(
        run.stderr.contains(&format!(
            "setup not run: `{edited}` not trusted on this machine (`git atlas setup --trust third` trusts and runs the setup)"
        )),
        "{run}"
    );
    assert!(!third.join("node_modules").exists(), "{run}");
    assert!(!third.join("edited-ran").exists());
    let err = s.atlas(&third, &["setup", "--wait"]).fails(1);
    assert!(err.contains("the setup of third did not run"), "{err}");

    // Without a terminal, `git atlas setup` runs nothing and says how to trust.
    let err = s.atlas(&third, &["setup"]).fails(1);
    assert!(
        err.contains(&format!(
            "nothing was run: `{edited}` not trusted on this machine"
        )) && err.contains("git atlas setup --trust"),
        "{err}"
    );
    assert!(!third.join("edited-ran").exists());

    // On a terminal it asks, naming the edited step only; "n" runs nothing, "y" trusts and runs.
    let Some(no) = s.on_tty_answering(&third, "n\n", "atlas setup") else {
        return;
    };
    assert!(no.stdout.contains(&format!("setup:    {edited}")), "{no}");
    assert!(!no.stdout.contains(&format!("setup:    {NPM_CI}")), "{no}");
    assert!(no.stdout.contains("[y/N]"), "{no}");
    assert_eq!(no.code(), 1, "{no}");
    assert!(!third.join("edited-ran").exists());
    let yes = s.on_tty_answering(&third, "y\n", "atlas setup").unwrap();
    assert_eq!(yes.code(), 0, "{yes}");
    assert!(yes.stdout.contains("Set up third: 2 steps"), "{yes}");
    assert!(third.join("edited-ran").exists());
}

#[test]
fn a_failing_step_is_named_and_the_worktree_kept() {
    let s = Sandbox::new();
    let failing = "echo 'migration 0002 failed' >&2; exit 3";
    let repo = monorepo(&s, &[NPM_CI, failing, MIGRATE], &[], false);
    // Trusted from main: `setup --trust` in main runs main's steps too, so trust from a worktree.
    s.atlas(&repo, &["add", "--no-setup", "../trusting"]).ok();
    let trusting = s.at("trusting");
    let run = s.atlas(&trusting, &["setup", "--trust"]);
    assert_eq!(run.code(), 1, "{run}");

    let run = s.atlas(&repo, &["add", "../feat"]);
    let err = run.fails(1);
    let feat = s.at("feat");
    assert!(
        err.contains("feat was created and is kept, but its setup step `echo 'migration 0002 failed' >&2; exit 3` failed (exit 3)"),
        "{run}"
    );
    assert!(
        err.contains("migration 0002 failed"),
        "the step's own output: {run}"
    );
    assert!(err.contains("git atlas setup feat"), "{run}");
    // The steps before it ran, the one after it did not, and the worktree has all the rest.
    assert!(feat.join("node_modules/@app/db").exists());
    assert!(migrated(&feat).is_none());
    assert!(run.stdout.contains("Wrote .env"), "{run}");
    let list = s.atlas(&repo, &["list", "--names"]).ok();
    assert!(list.lines().any(|l| l == "feat"), "{list}");
    assert_ne!(port_of(&feat), "3000");
}

#[test]
fn teardown_runs_before_remove_and_a_failing_one_keeps_the_worktree() {
    let s = Sandbox::new();
    // What a teardown sees: its worktree still there, with its env file and values.
    let saving =
        "test -f .env && printf '%s %s\\n' \"$WORKTREE_NAME\" \"$PORT\" >> \"$HOME/teardown.log\"";
    let repo = monorepo(&s, &[], &[saving], false);
    s.atlas(&repo, &["add", "../done"]).ok();
    let done = s.at("done");

    // Not trusted, no terminal: the worktree is kept (its teardown may be what keeps data),
    // and `remove --trust` trusts and runs it.
    let run = s.atlas(&repo, &["remove", "done"]);
    let err = run.fails(1);
    assert!(
        err.contains("done was kept: its teardown `test -f .env")
            && err.contains("not trusted on this machine")
            && err.contains("git atlas remove --trust done"),
        "{run}"
    );
    assert!(done.join(".env").exists());
    assert!(!s.at("home/teardown.log").exists());
    let port = port_of(&done);
    let run = s.atlas(&repo, &["remove", "--trust", "done"]).success();
    assert!(run.stdout.contains("Trusted on this machine"), "{run}");
    assert!(!done.exists());
    assert_eq!(
        fs::read_to_string(s.at("home/teardown.log")).unwrap(),
        format!("done {port}\n")
    );
    fs::remove_file(s.at("home/teardown.log")).unwrap();

    s.atlas(&repo, &["add", "../feat"]).ok();
    let feat = s.at("feat");
    let port = port_of(&feat);
    let run = s.atlas(&repo, &["remove", "feat"]).success();
    assert!(run.stdout.contains("Removed worktree feat"), "{run}");
    assert_eq!(
        fs::read_to_string(s.at("home/teardown.log")).unwrap(),
        format!("feat {port}\n")
    );

    // A failing teardown keeps the worktree; --no-teardown removes it without.
    let failing = "echo 'cannot reach the staging bucket' >&2; exit 4";
    fs::write(repo.join(".atlas.toml"), atlas_toml(&[], &[failing], "")).unwrap();
    s.git(&repo, &["commit", "-q", "-am", "failing teardown"])
        .ok();
    s.atlas(&repo, &["add", "../kept"]).ok();
    let kept = s.at("kept");
    s.atlas(&kept, &["setup", "--trust"]).ok();
    let run = s.atlas(&repo, &["remove", "kept"]);
    let err = run.fails(1);
    assert!(
        err.contains("kept was kept: its teardown step `echo 'cannot reach the staging bucket' >&2; exit 4` failed (exit 4)")
            && err.contains("--no-teardown"),
        "{run}"
    );
    assert!(kept.join(".env").exists(), "{run}");
    assert!(!s.ports_of(&repo, "kept").is_empty());
    s.atlas(&repo, &["remove", "--no-teardown", "kept"]).ok();
    assert!(!kept.exists());
}

#[test]
fn a_background_setup_killed_midway_is_reported_by_wait() {
    let s = Sandbox::new();
    let slow = "echo started; echo $$ > \"$HOME/setup.pid\"; sleep 60; echo finished";
    let repo = monorepo(&s, &[slow], &[], true);
    // Trusted beforehand (as `setup --trust` or a yes at the question leave it).
    trust_file(&repo, &[slow]);
    let pid_file = s.at("home/setup.pid");

    let run = s
        .git(&repo, &["worktree", "add", "-q", "../slow"])
        .success();
    assert!(
        run.stderr.contains("setup started in the background"),
        "{run}"
    );
    wait_for(|| pid_file.exists());
    // A second setup while it runs is refused, pointing at --wait.
    let slow_wt = s.at("slow");
    let err = s.atlas(&slow_wt, &["setup"]).fails(1);
    assert!(
        err.contains("the setup of slow is running already"),
        "{err}"
    );
    assert!(err.contains("git atlas setup --wait slow"), "{err}");

    // `--wait` follows it while it runs (what it said so far, then its end): here, a kill -9
    // of the whole run, which cannot say how it ended.
    let waiter = s
        .cmd("git", &slow_wt)
        .args(["atlas", "setup", "--wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    kill_group_of(&fs::read_to_string(&pid_file).unwrap());
    let out = waiter.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the setup of slow stopped before it finished"),
        "{err}"
    );
    assert!(err.contains("git atlas setup slow"), "{err}");
    let said: Vec<&str> = err.lines().collect();
    assert_eq!(
        said.iter().filter(|l| **l == "started").count(),
        1,
        "the log so far, once: {err}"
    );
    assert!(!said.contains(&"finished"), "{err}");
    // Asked again later, it says the same and shows the end of the log.
    let run = s.atlas(&slow_wt, &["setup", "--wait"]);
    assert!(run.fails(1).contains("stopped before it finished"), "{run}");
    assert!(run.stderr.lines().any(|l| l == "started"), "{run}");
}

/// `steps` as main's committed `[setup] run` with `hook = "<hook>"`, trusted on this machine.
fn trusted_setup(s: &Sandbox, repo: &Path, steps: &[&str], hook: &str) {
    let extra = format!("hook = \"{hook}\"\n");
    fs::write(repo.join(".atlas.toml"), atlas_toml(steps, &[], &extra)).unwrap();
    s.git(repo, &["commit", "-q", "-am", &format!("hook = {hook}")])
        .ok();
    trust_file(repo, steps);
}

/// This machine's trust in `steps`, written as git-atlas writes it.
fn trust_file(repo: &Path, steps: &[&str]) {
    let text = serde_json::json!({ "version": 1, "steps": steps });
    fs::create_dir_all(repo.join(".git/worktree-registry")).unwrap();
    fs::write(
        repo.join(".git/worktree-registry/trusted-steps.json"),
        text.to_string(),
    )
    .unwrap();
}

/// Kill -9 the process group of the process `pid` (a step's shell: the background run's
/// group, which it shares).
fn kill_group_of(pid: &str) {
    let pid = pid.trim();
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let pgid = after.split(' ').nth(2).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_for(what: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !what() {
        assert!(start.elapsed().as_secs() < 30, "waited 30 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn odd_names_reach_the_steps_as_values_never_as_code() {
    let s = Sandbox::new();
    let record = "printf '%s\\n' \"$WORKTREE_NAME\" \"$PWD\" > \"$HOME/seen\"";
    let repo = monorepo(&s, &[record], &[], true);
    let odd = "$(touch pwned) 'q' `touch pwned2` |;";
    let dir = s.root().join(odd);
    s.atlas(
        &repo,
        &["add", "--detach", "--no-setup", dir.to_str().unwrap()],
    )
    .ok();
    s.atlas(&dir, &["setup", "--trust"]).ok();
    let seen = fs::read_to_string(s.at("home/seen")).unwrap();
    let mut lines = seen.lines();
    let name = lines.next().unwrap();
    assert!(name.contains("$(touch") && name.contains('`'), "{seen}");
    assert_eq!(lines.next().unwrap(), dir.to_str().unwrap());
    for d in [&repo, &dir, &s.root().to_path_buf()] {
        assert!(!d.join("pwned").exists() && !d.join("pwned2").exists());
    }
}

#[test]
fn a_broken_trust_file_costs_the_hook_one_line_and_git_nothing() {
    let s = Sandbox::new();
    let repo = monorepo(&s, &[NPM_CI], &[], true);
    let trust = repo.join(".git/worktree-registry/trusted-steps.json");
    fs::write(&trust, "{\"version\": 1, \"steps\": [\"npm ci\"").unwrap();
    let run = s.git(&repo, &["worktree", "add", "-q", "../w"]).success();
    let lines = run.atlas_lines();
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].contains("setup not run:") && lines[0].contains("trusted-steps.json"),
        "{run}"
    );
    assert!(!s.at("w/node_modules").exists());
    // Kept as it was, for the user to look at.
    assert_eq!(
        fs::read_to_string(&trust).unwrap(),
        "{\"version\": 1, \"steps\": [\"npm ci\""
    );
    let err = s.atlas(&s.at("w"), &["setup", "--trust"]).fails(1);
    assert!(err.contains("is not valid"), "{err}");
}

#[test]
fn the_question_shows_control_characters_instead_of_sending_them() {
    let s = Sandbox::new();
    // A carriage return and an erase-line sequence would draw `npm ci` over what runs.
    let hidden = "touch \"$HOME/pwned\" #\r  setup:    npm ci\u{1b}[K";
    let repo = monorepo(&s, &[hidden], &[], false);
    let Some(run) = s.on_tty_answering(&repo, "n\n", "atlas add ../feat") else {
        return;
    };
    assert!(
        run.stdout
            .contains("setup:    touch \"$HOME/pwned\" #\\r  setup:    npm ci\\e[K"),
        "{run}"
    );
    assert!(
        !run.stdout.contains("\u{1b}[K") && !run.stdout.contains("#\r"),
        "an escape reached the terminal: {:?}",
        run.stdout
    );
    assert!(!s.at("home/pwned").exists());
}

#[test]
fn a_step_left_running_by_a_killed_setup_keeps_another_from_starting() {
    let s = Sandbox::new();
    let slow = "echo $$ > \"$HOME/step.pid\"; sleep 3; echo once >> \"$HOME/ran\"";
    let repo = monorepo(&s, &[slow], &[], false);
    trust_file(&repo, &[slow]);
    s.atlas(&repo, &["add", "--no-setup", "../w"]).ok();
    let w = s.at("w");
    // `git atlas setup` killed with -9 midway: its step's shell goes on.
    let mut setup = s
        .cmd(support::bin(), &w)
        .args(["setup"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = s.at("home/step.pid");
    wait_for(|| pid_file.exists());
    setup.kill().unwrap();
    setup.wait().unwrap();
    let step = fs::read_to_string(&pid_file).unwrap().trim().to_string();

    let err = s.atlas(&w, &["setup"]).fails(1);
    assert!(
        err.contains("a setup of w that was stopped midway still runs (pid ")
            && err.contains(&format!("kill {step}")),
        "{err}"
    );
    let err = s.atlas(&repo, &["remove", "w"]).fails(1);
    assert!(err.contains("w is running its setup (pid "), "{err}");
    // --wait waits for the step to end, then says the run did not finish.
    let err = s.atlas(&w, &["setup", "--wait"]).fails(1);
    assert!(err.contains("stopped before it finished"), "{err}");
    assert_eq!(fs::read_to_string(s.at("home/ran")).unwrap(), "once\n");
    // Gone now: a new run starts.
    s.atlas(&w, &["setup"]).ok();
    assert_eq!(
        fs::read_to_string(s.at("home/ran")).unwrap(),
        "once\nonce\n"
    );
}

#[test]
fn remove_refuses_a_worktree_whose_setup_runs_and_force_stops_it() {
    let s = Sandbox::new();
    let slow = "echo $$ > \"$HOME/step.pid\"; sleep 60";
    let repo = monorepo(&s, &[slow], &[], true);
    trust_file(&repo, &[slow]);
    let run = s
        .git(&repo, &["worktree", "add", "-q", "../busy"])
        .success();
    assert!(
        run.stderr.contains("setup started in the background"),
        "{run}"
    );
    let pid_file = s.at("home/step.pid");
    wait_for(|| pid_file.exists());
    let step = fs::read_to_string(&pid_file).unwrap().trim().to_string();

    let err = s.atlas(&repo, &["remove", "busy"]).fails(1);
    assert!(
        err.contains("nothing was removed: busy is running its setup (process group "),
        "{err}"
    );
    assert!(s.at("busy").exists());
    s.atlas(&repo, &["remove", "--force", "busy"]).ok();
    assert!(!s.at("busy").exists());
    wait_for(|| !Path::new(&format!("/proc/{step}")).exists());
}

#[test]
fn hook_wait_runs_the_setup_before_git_returns_and_manual_leaves_it() {
    let s = Sandbox::new();
    let repo = monorepo(&s, &[NPM_CI, MIGRATE], &[], true);
    trusted_setup(&s, &repo, &[NPM_CI, MIGRATE], "wait");

    let run = s.git(&repo, &["worktree", "add", "-q", "../w"]).success();
    assert_eq!(assert_at_most_one_line_per_hook_run(&run), 1, "{run}");
    assert!(run.stderr.contains("setup ran 2 steps"), "{run}");
    // Done when Git returns: no waiting.
    assert_eq!(migrated(&s.at("w")).expect("migrated")["name"], "w");
    // npm's output went to the log, not into Git's.
    assert!(!run.stderr.contains("added 1 package"), "{run}");
    let log = repo.join(".git/worktree-registry/setup/w.log");
    assert!(fs::read_to_string(&log)
        .unwrap()
        .contains("added 1 package"));

    // A failing step: named in the line, Git's exit code stays 0, --wait says it failed.
    let failing = "echo 'no schema' >&2; exit 5";
    trusted_setup(&s, &repo, &[failing], "wait");
    let run = s.git(&repo, &["worktree", "add", "-q", "../f"]).success();
    assert!(
        run.stderr.contains(
            "setup step `echo 'no schema' >&2; exit 5` failed (exit 5): its output is in"
        ),
        "{run}"
    );
    let wait = s.atlas(&s.at("f"), &["setup", "--wait"]);
    assert!(wait.fails(1).contains("no schema"), "the log's end: {wait}");

    // manual: nothing runs; the line and --wait say how to run it.
    trusted_setup(&s, &repo, &[NPM_CI], "manual");
    let run = s.git(&repo, &["worktree", "add", "-q", "../m"]).success();
    assert!(
        run.stderr.contains("setup: run `git atlas setup m`"),
        "{run}"
    );
    assert!(!s.at("m/node_modules").exists());
    let err = s.atlas(&s.at("m"), &["setup", "--wait"]).fails(1);
    assert!(
        err.contains("the setup of m did not run: [setup] hook = \"manual\"")
            && err.contains("git atlas setup m"),
        "{err}"
    );
}
