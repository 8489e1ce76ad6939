//! `examples/demo.sh`, the README's first command, run as a user runs it: on a machine without
//! Docker or a database server (the core story, then `skipped:` lines and a summary saying what
//! was skipped and why), and with both (each worktree's Compose project answering on its own
//! port, its own database a copy of the main worktree's, and nothing left behind).
//!
//! The second needs what tests/docker.rs and tests/db.rs need (`$GIT_ATLAS_TEST_IMAGE` with a
//! Docker Engine and Compose, `$GIT_ATLAS_TEST_POSTGRES`); without them it prints `SKIPPED …`
//! and passes, unless `GIT_ATLAS_REQUIRE_SERVICES=1` (as in CI). The demo's names are fixed
//! (Compose projects `myapp-feature-auth`, `myapp-bugfix-login`, databases `myapp_demo*`), so
//! it takes a machine-wide lock: two `cargo test` runs on one machine take turns.

mod support;

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;

use support::{Run, Sandbox};

/// `examples/demo.sh <sandbox>/demo` with the sandbox's environment plus `envs`. The command
/// line shown on failure leaves the values out (a database URL may carry a password).
fn demo(s: &Sandbox, envs: &[(&str, String)]) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.sh");
    let mut c = s.cmd(&script, s.root());
    c.arg(s.at("demo"));
    let mut what = format!("{} {}", script.display(), s.at("demo").display());
    for (k, v) in envs {
        c.env(k, v);
        what = format!("{k}=… {what}");
    }
    if let Some(host) =
        std::env::var_os("DOCKER_HOST").filter(|_| !envs.iter().any(|(k, _)| *k == "DOCKER_HOST"))
    {
        c.env("DOCKER_HOST", host);
    }
    let mut run = Run::of(&mut c);
    run.what = what;
    run
}

/// `text` in the demo's stdout or stderr (git-atlas's notes, and the hooks' lines, go there).
fn assert_has(run: &Run, text: &str) {
    assert!(
        run.stdout.contains(text) || run.stderr.contains(text),
        "no {text:?} in the demo's output:\n{run}"
    );
}

#[test]
fn without_docker_or_a_database_the_demo_runs_the_core_and_says_what_it_skipped() {
    let s = Sandbox::new();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let no_docker = format!("unix://{}", s.at("no-docker.sock").display());
    let run = demo(
        &s,
        &[
            ("DOCKER_HOST", no_docker),
            (
                "DEMO_DATABASE_URL",
                format!("postgresql://demo@127.0.0.1:{closed}/demo"),
            ),
        ],
    );
    run.ok();
    // Docker missing altogether, or its daemon not reachable: either way, skipped with a reason.
    assert_has(
        &run,
        "\nskipped: Docker steps (add --up, docker up, docker ps, ",
    );
    assert_has(
        &run,
        &format!("\nskipped: database steps (each worktree's own database, a copy of main's, in db status and psql; remove --drop-db): no PostgreSQL accepts connections on 127.0.0.1:{closed}\n"),
    );
    for step in [
        "\n$ git atlas add ../feature-auth\n",
        "\n$ git atlas add ../bugfix-login\n",
        "\n$ cd ../feature-auth && git atlas ports\napp:",
        "\n$ git atlas hooks install\n",
        "\n$ git worktree add -q ../plain-git\n",
        "\n$ git atlas remove bugfix-login\n",
        "Removed worktree bugfix-login (",
    ] {
        assert_has(&run, step);
    }
    assert!(!run.stdout.contains("\n$ git atlas docker"), "{run}");
    assert!(!run.stdout.contains("\n$ git atlas add --up"), "{run}");
    let summary = run.stdout.lines().last().unwrap_or("");
    assert!(
        summary.starts_with("Summary: shown: worktrees, ports, env files, hooks, remove. Skipped: Docker steps, because ")
            && summary.ends_with(&format!("; database steps, because no PostgreSQL accepts connections on 127.0.0.1:{closed}.")),
        "{run}"
    );
}

#[test]
fn with_docker_and_postgres_the_demo_shows_the_whole_story_and_leaves_nothing_behind() {
    let test = "with_docker_and_postgres_the_demo_shows_the_whole_story_and_leaves_nothing_behind";
    let Some(image) = support::docker::image(test, "GIT_ATLAS_TEST_IMAGE") else {
        return;
    };
    let Some(pg) = support::db::postgres(test) else {
        return;
    };
    let lock = File::create(std::env::temp_dir().join("git-atlas-demo-test.lock")).unwrap();
    lock.lock().unwrap();
    let s = Sandbox::new();
    let run = demo(
        &s,
        &[
            ("GIT_ATLAS_DEMO_IMAGE", image),
            ("DEMO_DATABASE_URL", pg.url.clone()),
        ],
    );
    run.ok();
    for step in [
        "\n$ git atlas add --up ../feature-auth\n",
        "Started Compose project myapp-feature-auth\n",
        "Created database myapp_demo_feature_auth as a copy of myapp_demo (PostgreSQL on ",
        "\n$ git atlas docker up bugfix-login\n",
        "hello from feature-auth\n",
        "hello from bugfix-login\n",
        "  2 | myapp_demo_feature_auth\n",
        "created database myapp_demo_plain_git from myapp_demo",
        "Dropped database myapp_demo_bugfix_login (PostgreSQL on ",
        "Brought Compose project myapp-bugfix-login down with its volumes\n",
        "Brought Compose project myapp-feature-auth down with its volumes\n",
        "(no container, network or volume of myapp-feature-auth or myapp-bugfix-login is left)\n",
        "(no database named myapp_demo or myapp_demo_* is left on ",
    ] {
        assert_has(&run, step);
    }
    assert!(!run.stdout.contains("\nskipped: "), "{run}");
    assert!(
        !run.stdout.contains(&pg.password),
        "the demo printed the password"
    );
    assert_eq!(
        run.stdout.lines().last(),
        Some("Summary: shown: worktrees, ports, env files, hooks, remove, Docker, databases. Skipped: nothing."),
        "{run}"
    );
    drop(lock);
}
