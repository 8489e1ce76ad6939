//! A plain `git worktree add` is as good as `git atlas add`, and `git atlas add` with the hooks
//! installed does the work once; `--no-checkout` worktrees; adds in parallel.

use std::fs;
use std::process::Stdio;

use crate::support::hooks::{expected_ports, write_exec, ENV};
use crate::support::{offset, Run, Sandbox};

#[test]
fn plain_worktree_add_writes_what_git_atlas_add_writes() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    let run = s.git(&repo, &["worktree", "add", "../x"]).success();
    assert_eq!(
        run.atlas_lines(),
        [format!(
            "git-atlas: x: ports app:{} database:{}; wrote .env; database app_x waits for a server on localhost:{}",
            4100 + offset("x"),
            5532 + offset("x"),
            5532 + offset("x")
        )],
        "{run}"
    );
    assert_eq!(s.ports_of(&repo, "x"), expected_ports("x"));
    assert_eq!(s.registry(&repo)["worktrees"]["x"]["offset"], offset("x"));
    assert!(
        s.registry(&repo)["worktrees"]["x"]
            .get("pending_files")
            .is_none(),
        "{:#}",
        s.registry(&repo)
    );
    let by_hook = fs::read_to_string(s.at("x/.env")).unwrap();
    assert!(
        by_hook.contains(&format!(
            "PORT={}\nDATABASE_URL=postgresql://localhost:{}/app_x\n",
            4100 + offset("x"),
            5532 + offset("x")
        )),
        "{by_hook}"
    );
    // The generated file is ignored, so the new worktree is clean.
    assert_eq!(s.git(&s.at("x"), &["status", "--porcelain"]).ok(), "");

    // The same name through `git atlas add`, in a twin sandbox (its own leases): same bytes.
    let twin = Sandbox::new();
    let twin_repo = twin.repo("app", ENV);
    twin.atlas(&twin_repo, &["add", "../x"]).ok();
    assert_eq!(by_hook, fs::read_to_string(twin.at("x/.env")).unwrap());
    assert_eq!(twin.ports_of(&twin_repo, "x"), s.ports_of(&repo, "x"));
}

#[test]
fn git_atlas_add_with_hooks_installed_does_the_work_once() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    let (spy, log) = s.spying_path();
    let run = Run::of(
        s.cmd("git", &repo)
            .env("PATH", &spy)
            .args(["atlas", "add", "../w"]),
    )
    .success();
    // The only git-atlas process was the one the user started: the hooks spawned nothing.
    assert_eq!(fs::read_to_string(&log).unwrap(), "add ../w\n");
    // Only add's own note that the database waits for its server (nothing listens in this test).
    assert!(
        run.atlas_lines()
            .iter()
            .all(|l| l.starts_with("git-atlas: note: database app_w not created yet")),
        "{run}"
    );
    assert!(!run.stderr.contains("w: ports"), "{run}");
    assert!(
        run.stdout.contains("Wrote .env") || run.stderr.contains("Wrote .env"),
        "{run}"
    );
    assert_eq!(s.ports_of(&repo, "w"), expected_ports("w"));
    assert!(s.registry(&repo)["worktrees"]["w"]
        .get("pending_files")
        .is_none());
    assert!(s.at("w/.env").is_file());
    // And `add` left the fingerprint current: the next commits spawn nothing either.
    s.git_path(
        &repo,
        &spy,
        &["commit", "-q", "--allow-empty", "-m", "after add"],
    )
    .ok();
    s.git_path(
        &s.at("w"),
        &spy,
        &["commit", "-q", "--allow-empty", "-m", "in w"],
    )
    .ok();
    assert_eq!(fs::read_to_string(&log).unwrap(), "add ../w\n");
}

/// `git atlas add` has Git skip the hooks only when nothing but git-atlas's own shims would
/// run: a user's lines chained into post-checkout, a user's hook of another name beside ours,
/// and a `core.hooksPath` all still run, once, with the new worktree made as usual.
#[test]
fn git_atlas_add_still_runs_every_hook_of_the_users() {
    let s = Sandbox::new();
    let marker = |name: &str| s.at(&format!("cache/ran-{name}"));
    fs::create_dir_all(s.at("cache")).unwrap();
    let user_hook =
        |name: &str| format!("#!/bin/sh\necho \"$PWD\" >> '{}'\n", marker(name).display());
    let ran = |name: &str| fs::read_to_string(marker(name)).unwrap_or_default();

    // The user's post-checkout, with git-atlas's lines added to it.
    let chained = s.repo("chained", ENV);
    let hooks = chained.join(".git/hooks");
    write_exec(&hooks.join("post-checkout"), &user_hook("chained"), 0o755);
    s.atlas(&chained, &["hooks", "install"]).ok();
    s.atlas(&chained, &["add", "-q", "--no-db", "../chained-w"])
        .ok();
    assert_eq!(ran("chained"), format!("{}\n", s.at("chained-w").display()));

    // A hook of another name beside git-atlas's created post-checkout.
    let beside = s.installed("beside");
    let hooks = beside.join(".git/hooks");
    write_exec(
        &hooks.join("post-index-change"),
        &user_hook("beside"),
        0o755,
    );
    s.atlas(&beside, &["add", "-q", "--no-db", "../beside-w"])
        .ok();
    assert!(!ran("beside").is_empty(), "post-index-change did not run");

    // Hooks somewhere else (a shared core.hooksPath), git-atlas's shim installed there too.
    let elsewhere = s.repo("elsewhere", ENV);
    let shared = s.at("shared-hooks");
    fs::create_dir_all(&shared).unwrap();
    s.git(
        &elsewhere,
        &["config", "core.hooksPath", shared.to_str().unwrap()],
    )
    .ok();
    write_exec(
        &shared.join("post-checkout"),
        &user_hook("elsewhere"),
        0o755,
    );
    s.atlas(&elsewhere, &["hooks", "install"]).ok();
    s.atlas(&elsewhere, &["add", "-q", "--no-db", "../elsewhere-w"])
        .ok();
    assert!(!ran("elsewhere").is_empty(), "the shared hook did not run");

    for wt in ["chained-w", "beside-w", "elsewhere-w"] {
        assert!(s.at(wt).join(".env").is_file(), "{wt}");
    }
}

#[test]
fn no_checkout_worktree_is_allocated_then_filled_by_its_first_checkout() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    s.git(&repo, &["worktree", "add", "--no-checkout", "../nc"])
        .ok();
    // Git ran no checkout, so no hook: the next checkout anywhere allocates it, and its
    // files wait for its own first checkout.
    assert!(s.ports_of(&repo, "nc").is_empty());
    let run = s.checkout(&repo);
    assert_eq!(s.ports_of(&repo, "nc"), expected_ports("nc"), "{run}");
    assert_eq!(s.registry(&repo)["worktrees"]["nc"]["pending_files"], true);
    let nc = s.at("nc");
    assert!(!nc.join(".env").exists());

    let run = s.git(&nc, &["checkout", "-f", "nc"]).success();
    assert_eq!(
        run.atlas_lines(),
        [format!(
            "git-atlas: nc: ports app:{} database:{}; wrote .env; database app_nc waits for a server on localhost:{}",
            4100 + offset("nc"),
            5532 + offset("nc"),
            5532 + offset("nc")
        )],
        "{run}"
    );
    assert!(nc.join(".env").is_file());
    assert!(
        s.registry(&repo)["worktrees"]["nc"]
            .get("pending_files")
            .is_none(),
        "{:#}",
        s.registry(&repo)
    );
    assert_eq!(s.ports_of(&repo, "nc"), expected_ports("nc"), "same ports");
    assert_eq!(s.git(&nc, &["status", "--porcelain"]).ok(), "");
}

#[test]
fn no_checkout_worktree_filled_after_reset_hard() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    s.git(&repo, &["worktree", "add", "--no-checkout", "../nc"])
        .ok();
    let nc = s.at("nc");
    s.git(&nc, &["reset", "-q", "--hard"]).ok();
    assert!(nc.join("README").is_file(), "the checkout happened");
    // Any later ref update, or any git-atlas command, should write what is pending.
    s.commit(&nc);
    s.atlas(&repo, &["list"]).ok();
    assert!(
        nc.join(".env").is_file(),
        "{:#}",
        s.registry(&repo)["worktrees"]["nc"]
    );
}

#[test]
fn parallel_plain_adds_get_distinct_ports_and_a_switch_is_quiet() {
    // Four names with the same md5 offset, added at once with plain Git: the hooks take turns
    // on the registry lock and hand out distinct ports.
    let s = Sandbox::new();
    let repo = s.installed("app");
    let names = ["r5", "r904", "r967", "r1321"];
    assert!(names.iter().all(|n| offset(n) == offset("r5")));
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            s.cmd("git", &repo)
                .args(["worktree", "add", "-q", &format!("../{n}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (child, n) in children.into_iter().zip(names) {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Git's own race: parallel `git worktree add`s can read each other's half-written
        // worktrees/<id>/ files and give up ("failed to read .git/worktrees/x/commondir"). That
        // add made nothing of its own; run it again, alone, as a user would.
        if !out.status.success() && stderr.contains("failed to read") {
            let _ = s.git(&repo, &["worktree", "prune"]);
            s.git(&repo, &["worktree", "add", "-q", &format!("../{n}")])
                .ok();
            continue;
        }
        assert!(out.status.success(), "{stderr}");
    }
    let mut all: Vec<u64> = Vec::new();
    for n in names {
        let p = s.ports_of(&repo, n);
        assert_eq!(p.len(), 2, "{n}: {:#}", s.registry(&repo));
        let local = fs::read_to_string(s.at(n).join(".env")).unwrap();
        assert!(
            local.contains(&format!("PORT={}\n", p["app"])),
            "{n}: {local}"
        );
        all.extend(p.values());
    }
    all.extend(s.ports_of(&repo, "main").values());
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        all.len(),
        n,
        "a port was handed out twice: {:#}",
        s.registry(&repo)
    );

    // A branch switch with the worktrees unchanged prints nothing.
    let run = s.git(&repo, &["switch", "-q", "-c", "topic"]).success();
    assert_eq!(run.stderr, "", "{run}");
}

#[test]
fn hook_line_for_a_project_without_services_says_so() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    fs::remove_file(repo.join(".env")).unwrap();
    let run = s.git(&repo, &["worktree", "add", "../w"]).success();
    for line in run.atlas_lines() {
        assert!(
            !line.trim_end().ends_with("ports") && !line.contains("ports ;"),
            "{line:?}"
        );
    }
}

/// Issue 17: a commit that tracks `.env.local` (a team's `cp .env.local.example .env.local`,
/// committed) beside a committed `.env`, from which git-atlas would derive it. Git has made the worktree already: the hook leaves Git's file as it is, writes
/// the others, and says so in its one line.
#[test]
fn plain_worktree_add_leaves_a_tracked_env_local_to_git() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    fs::write(repo.join(".env.local"), "PORT=4100\n").unwrap();
    fs::write(
        repo.join(".env.worktree.template"),
        "NAME=${WORKTREE_NAME}\n",
    )
    .unwrap();
    s.git(
        &repo,
        &["add", "-f", ".env", ".env.local", ".env.worktree.template"],
    )
    .ok();
    s.git(&repo, &["commit", "-q", "-m", "env"]).ok();
    let run = s.git(&repo, &["worktree", "add", "../wt2"]).success();
    let lines = run.atlas_lines();
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].starts_with(&format!(
            "git-atlas: wt2: ports app:{} database:{}; wrote .env.worktree; .env.local is tracked in ",
            4100 + offset("wt2"),
            5532 + offset("wt2")
        )) && lines[0].contains("[env] output = \".env.worktree-local\""),
        "{run}"
    );
    assert_eq!(
        fs::read_to_string(s.at("wt2/.env.local")).unwrap(),
        "PORT=4100\n"
    );
    let env = fs::read_to_string(s.at("wt2/.env.worktree")).unwrap();
    assert!(env.ends_with("NAME=wt2\n"), "{env}");
    assert_eq!(s.ports_of(&repo, "wt2"), expected_ports("wt2"));
    assert_eq!(s.git(&s.at("wt2"), &["status", "--porcelain"]).ok(), "");
    // Later commands have nothing left to say about it.
    let run = s.atlas(&repo, &["list"]).success();
    assert_eq!(run.atlas_lines(), Vec::<&str>::new(), "{run}");
}
