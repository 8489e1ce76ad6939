//! Issue 3, proved with the real `git`: once `git atlas hooks install` has run, plain
//! `git worktree add / remove / prune / move` and `rm -rf` get the same treatment as `git atlas`,
//! a commit spawns nothing while the worktrees stay the same, and no hook ever breaks Git.
//!
//! Each test gets its own sandbox (HOME, XDG dirs, Git config, lease dir) and a PATH whose only
//! `git-atlas` is the one just built, so the hooks call the binary under test.

#[path = "../support/mod.rs"]
mod support;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::hooks::{
    announce_hook_runs, assert_at_most_one_line_per_hook_run, expected_ports, hook_runs, mode,
    python3, snapshot, with_worktrees, write_exec, ENV,
};
use support::{
    bin, offset, path_with_git_atlas, path_without_git_atlas, registry_path, Run, Sandbox,
};

// ---------------------------------------------------------------------------------------------
// A plain `git worktree add` is as good as `git atlas add`

#[test]
fn plain_worktree_add_writes_what_git_atlas_add_writes() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    let run = s.git(&repo, &["worktree", "add", "../x"]).success();
    assert_eq!(
        run.atlas_lines(),
        [format!(
            "git-atlas: x: ports app:{} database:{}; wrote .env.local",
            4100 + offset("x"),
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
    let by_hook = fs::read_to_string(s.at("x/.env.local")).unwrap();
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
    assert_eq!(
        by_hook,
        fs::read_to_string(twin.at("x/.env.local")).unwrap()
    );
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
    assert!(run.atlas_lines().is_empty(), "{run}");
    assert!(!run.stderr.contains("w: ports"), "{run}");
    assert!(
        run.stdout.contains("Wrote .env.local") || run.stderr.contains("Wrote .env.local"),
        "{run}"
    );
    assert_eq!(s.ports_of(&repo, "w"), expected_ports("w"));
    assert!(s.registry(&repo)["worktrees"]["w"]
        .get("pending_files")
        .is_none());
    assert!(s.at("w/.env.local").is_file());
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

// ---------------------------------------------------------------------------------------------
// install, uninstall, status

#[test]
fn install_twice_is_a_no_op_and_status_says_installed() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let hooks = repo.join(".git/hooks");
    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    assert!(
        status.contains("post-checkout          not installed")
            && status.contains("reference-transaction  not installed"),
        "{status}"
    );

    let first = s.atlas(&repo, &["hooks", "install"]).ok();
    assert_eq!(
        first.lines().filter(|l| l.ends_with(": installed")).count(),
        2,
        "{first}"
    );
    for name in ["post-checkout", "reference-transaction"] {
        assert_eq!(
            mode(&hooks.join(name)) & 0o111,
            0o111,
            "{name} is executable"
        );
    }
    let before = snapshot(&hooks);
    let state_before = fs::read(repo.join(".git/worktree-registry/hook-state")).unwrap();

    let second = s.atlas(&repo, &["hooks", "install"]).ok();
    assert_eq!(second.matches(": already installed").count(), 2, "{second}");
    assert_eq!(snapshot(&hooks), before, "install twice changed the hooks");
    assert_eq!(
        fs::read(repo.join(".git/worktree-registry/hook-state")).unwrap(),
        state_before
    );

    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    let dir = fs::canonicalize(&hooks).unwrap();
    assert_eq!(
        status,
        format!(
            "Hooks directory: {}\n  post-checkout          installed\n  reference-transaction  installed\ngit-atlas on PATH: {}\n",
            dir.display(),
            bin().display()
        )
    );
}

#[test]
fn without_git_atlas_on_path_status_warns_and_each_hook_run_warns_once() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    // Our own sh hooks announce each run; install keeps them and runs its lines first.
    announce_hook_runs(&repo.join(".git/hooks"));
    s.atlas(&repo, &["hooks", "install"]).ok();
    let bare = path_without_git_atlas();

    let status = Run::of(
        s.cmd(bin(), &repo)
            .env("PATH", &bare)
            .args(["hooks", "status"]),
    )
    .success();
    assert!(
        status.stdout.contains("post-checkout          installed")
            && status
                .stdout
                .contains("warning: git-atlas is not on PATH, so the hooks will skip their work"),
        "{status}"
    );
    assert!(!status.stdout.contains("git-atlas on PATH:"), "{status}");

    let run = s
        .git_path(&repo, &bare, &["worktree", "add", "../np"])
        .success();
    let warned = assert_at_most_one_line_per_hook_run(&run);
    assert!(
        warned >= 2,
        "post-checkout and reference-transaction: {run}"
    );
    for line in run.atlas_lines() {
        assert_eq!(
            line,
            "git-atlas: hook skipped: git-atlas is not on PATH (see `git atlas hooks status`)"
        );
    }
    let (runs, _) = hook_runs(&run);
    let post_checkout: Vec<_> = runs
        .iter()
        .filter(|(h, _)| h.starts_with("post-checkout"))
        .collect();
    assert_eq!(post_checkout.len(), 1, "{run}");
    assert_eq!(post_checkout[0].1.len(), 1, "{run}");
    assert!(s.at("np/README").is_file(), "the checkout happened");
    assert!(!s.at("np/.env.local").exists());
    assert!(s.ports_of(&repo, "np").is_empty());

    // Back on PATH, the next ref update catches up: allocated and files written.
    s.commit(&repo);
    assert_eq!(s.ports_of(&repo, "np"), expected_ports("np"));
    assert!(s.at("np/.env.local").is_file());
}

// ---------------------------------------------------------------------------------------------
// Hooks that were there keep running

#[test]
fn existing_hooks_are_chained_and_uninstall_restores_them() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let hooks = repo.join(".git/hooks");
    let refs_log = s.at("refs.log");
    let sh = "#!/bin/sh\necho user-post-checkout-ran \"$3\"\nexit 0\n";
    let py = format!(
        "#!{}\nimport sys\nwith open({:?}, 'a') as f:\n    f.write(sys.argv[1] + '\\n' + sys.stdin.read())\n",
        python3(),
        refs_log.display().to_string()
    );
    write_exec(&hooks.join("post-checkout"), sh, 0o755);
    write_exec(&hooks.join("reference-transaction"), &py, 0o750);
    let before = snapshot(&hooks);

    let out = s.atlas(&repo, &["hooks", "install"]).ok();
    assert!(
        out.contains("post-checkout: added to the existing hook")
            && out.contains(
                "reference-transaction: installed; the existing hook still runs after it"
            ),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(hooks.join("reference-transaction.pre-git-atlas")).unwrap(),
        py
    );
    let chained = fs::read_to_string(hooks.join("post-checkout")).unwrap();
    assert!(
        chained.starts_with("#!/bin/sh\n# >>> git-atlas START")
            && chained
                .ends_with("# <<< git-atlas END\necho user-post-checkout-ran \"$3\"\nexit 0\n"),
        "{chained}"
    );
    assert_eq!(mode(&hooks.join("post-checkout")), 0o755);
    fs::write(&refs_log, "").unwrap();

    let run = s.git(&repo, &["worktree", "add", "../w"]).success();
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("user-post-checkout-ran 1"), "{run}");
    assert_eq!(s.ports_of(&repo, "w"), expected_ports("w"), "ours ran too");
    assert!(s.at("w/.env.local").is_file(), "ours ran too");
    let refs = fs::read_to_string(&refs_log).unwrap();
    assert!(
        refs.contains("prepared\n") && refs.contains("committed\n"),
        "{refs}"
    );
    assert!(
        refs.lines()
            .any(|l| l.ends_with(" refs/heads/w") && l.starts_with("0000000")),
        "the python hook got the full ref list on stdin:\n{refs}"
    );

    // A commit: the python hook still sees every update.
    fs::write(&refs_log, "").unwrap();
    s.commit(&repo);
    let refs = fs::read_to_string(&refs_log).unwrap();
    assert!(refs.contains(" refs/heads/main\n"), "{refs}");

    let out = s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert!(
        out.contains("post-checkout: removed; the rest of the hook is unchanged")
            && out.contains("reference-transaction: removed; the previous hook is back"),
        "{out}"
    );
    assert_eq!(snapshot(&hooks), before, "uninstall restores byte for byte");
    assert!(!hooks.join("reference-transaction.pre-git-atlas").exists());
    assert_eq!(
        s.atlas(&repo, &["hooks", "uninstall"])
            .ok()
            .matches(": not installed")
            .count(),
        2
    );
    assert_eq!(snapshot(&hooks), before);
}

#[test]
fn husky_relative_hooks_path_round_trips_byte_for_byte() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let husky = repo.join(".husky/_");
    fs::create_dir_all(&husky).unwrap();
    let original = "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/h\"\n";
    write_exec(&husky.join("post-checkout"), original, 0o755);
    write_exec(
        &husky.join("h"),
        "#!/usr/bin/env sh\necho \"husky-ran ${0##*/} $3\" >&2\n",
        0o755,
    );
    s.git(&repo, &["add", ".husky"]).ok();
    s.git(&repo, &["commit", "-qm", "husky"]).ok();
    s.git(&repo, &["config", "core.hooksPath", ".husky/_"]).ok();
    let before = snapshot(&husky);

    let out = s.atlas(&repo, &["hooks", "install"]).ok();
    let dir = fs::canonicalize(&husky).unwrap();
    assert_eq!(
        out,
        format!(
            "{d}/post-checkout: added to the existing hook\n{d}/reference-transaction: installed\ngit-atlas on PATH: {}\n",
            bin().display(),
            d = dir.display()
        )
    );
    assert!(!repo.join(".git/hooks/post-checkout").exists());
    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    assert!(
        status.starts_with(&format!(
            "Hooks directory: {}\n  post-checkout          installed\n  reference-transaction  installed\n",
            dir.display()
        )),
        "{status}"
    );

    let run = s.git(&repo, &["worktree", "add", "../w"]).success();
    assert!(run.stderr.contains("husky-ran post-checkout 1"), "{run}");
    assert_eq!(s.ports_of(&repo, "w"), expected_ports("w"));
    assert!(s.at("w/.env.local").is_file(), "{run}");
    assert_eq!(s.git(&s.at("w"), &["status", "--porcelain"]).ok(), "");

    let out = s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert!(out.contains("post-checkout: removed; the rest"), "{out}");
    assert_eq!(snapshot(&husky), before, "uninstall restores byte for byte");
    assert_eq!(s.git(&repo, &["status", "--porcelain"]).ok(), "");
    assert_eq!(s.git(&s.at("w"), &["status", "--porcelain"]).ok(), "");
}

#[test]
fn husky_hooks_path_with_a_worktree_already_there_is_installed_in_each() {
    // A relative core.hooksPath is resolved per worktree: each checkout has its own .husky/_.
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let husky = repo.join(".husky/_");
    fs::create_dir_all(&husky).unwrap();
    write_exec(
        &husky.join("post-checkout"),
        "#!/bin/sh\necho husky-ran >&2\n",
        0o755,
    );
    s.git(&repo, &["add", ".husky"]).ok();
    s.git(&repo, &["commit", "-qm", "husky"]).ok();
    s.git(&repo, &["config", "core.hooksPath", ".husky/_"]).ok();
    s.git(&repo, &["worktree", "add", "-q", "../early"]).ok();
    let early = s.at("early/.husky/_");
    let before = (snapshot(&husky), snapshot(&early));

    let out = s.atlas(&repo, &["hooks", "install"]).ok();
    assert_eq!(
        out.matches(": added to the existing hook").count(),
        2,
        "{out}"
    );
    assert_eq!(s.ports_of(&repo, "early"), expected_ports("early"));
    // A worktree added from the early one, through its own hooks.
    s.git(&s.at("early"), &["worktree", "add", "../late"]).ok();
    assert!(s.at("late/.env.local").is_file());
    s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert_eq!((snapshot(&husky), snapshot(&early)), before);
}

// ---------------------------------------------------------------------------------------------
// --no-checkout

#[test]
fn no_checkout_worktree_is_allocated_then_filled_by_its_first_checkout() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    s.git(&repo, &["worktree", "add", "--no-checkout", "../nc"])
        .ok();
    assert_eq!(
        s.ports_of(&repo, "nc"),
        expected_ports("nc"),
        "allocated at once"
    );
    assert_eq!(s.registry(&repo)["worktrees"]["nc"]["pending_files"], true);
    let nc = s.at("nc");
    assert!(!nc.join(".env.local").exists());

    let run = s.git(&nc, &["checkout", "-f", "nc"]).success();
    assert_eq!(
        run.atlas_lines(),
        [format!(
            "git-atlas: nc: ports app:{} database:{}; wrote .env.local",
            4100 + offset("nc"),
            5532 + offset("nc")
        )],
        "{run}"
    );
    assert!(nc.join(".env.local").is_file());
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
        nc.join(".env.local").is_file(),
        "{:#}",
        s.registry(&repo)["worktrees"]["nc"]
    );
}

// ---------------------------------------------------------------------------------------------
// Worktrees that go away without git-atlas

#[test]
fn worktree_remove_is_released_at_the_next_commit() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["x", "keep"]);
    let run = s.git(&repo, &["worktree", "remove", "../x"]).success();
    assert!(run.atlas_lines().is_empty(), "remove runs no hook: {run}");
    assert_eq!(
        s.ports_of(&repo, "x"),
        expected_ports("x"),
        "nothing ran yet"
    );
    let run = s.commit(&repo);
    assert_eq!(
        run.atlas_lines(),
        ["git-atlas: released 2 port(s) of x: the worktree no longer exists"],
        "{run}"
    );
    s.assert_released(&repo, "x", "git worktree remove");
    assert_eq!(s.ports_of(&repo, "keep"), expected_ports("keep"));
    let leases = fs::read_to_string(s.at("leases/leases.json")).unwrap();
    assert!(
        !leases.contains("\"x\"") && leases.contains("\"keep\""),
        "{leases}"
    );
}

#[test]
fn rm_rf_is_released_by_a_commit_in_another_linked_worktree() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["y", "other"]);
    fs::remove_dir_all(s.at("y")).unwrap();
    let run = s.commit(&s.at("other"));
    assert_eq!(
        run.atlas_lines(),
        ["git-atlas: released 2 port(s) of y: the worktree no longer exists"],
        "{run}"
    );
    s.assert_released(&repo, "y", "rm -rf");
    assert_eq!(s.ports_of(&repo, "other"), expected_ports("other"));
    assert_eq!(s.ports_of(&repo, "main")["app"], 4100);
}

#[test]
fn prune_after_rm_rf_is_released_at_the_next_commit() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["p", "keep"]);
    fs::remove_dir_all(s.at("p")).unwrap();
    s.git(&repo, &["worktree", "prune"]).ok();
    assert!(!repo.join(".git/worktrees/p").exists());
    s.commit(&repo);
    s.assert_released(&repo, "p", "git worktree prune");
    assert_eq!(s.ports_of(&repo, "keep"), expected_ports("keep"));
}

#[test]
fn worktree_move_updates_the_path_and_keeps_the_ports() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["m"]);
    let before = s.registry(&repo);
    s.git(&repo, &["worktree", "move", "../m", "../m-moved"])
        .ok();
    let run = s.commit(&repo);
    assert_eq!(
        run.atlas_lines(),
        ["git-atlas: m moved; its ports follow it"],
        "{run}"
    );
    let after = s.registry(&repo);
    assert_eq!(after["allocated_ports"], before["allocated_ports"]);
    assert_eq!(
        after["worktrees"]["m"]["path"],
        s.at("m-moved").display().to_string()
    );
    assert_eq!(after["worktrees"]["m"]["offset"], offset("m"));
}

// ---------------------------------------------------------------------------------------------
// The fast path

#[test]
fn commits_do_not_spawn_git_atlas_while_worktrees_are_unchanged() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["a", "b"]);
    s.atlas(&repo, &["list"]).ok(); // one reconcile
    let (spy, log) = s.spying_path();
    let quiet = |dir: &Path, what: &str| {
        let run = s
            .git_path(dir, &spy, &["commit", "-q", "--allow-empty", "-m", what])
            .success();
        assert_eq!(run.stderr, "", "{run}");
    };
    for i in 0..5 {
        quiet(&repo, &format!("main {i}"));
    }
    for i in 0..5 {
        quiet(&s.at("a"), &format!("a {i}"));
    }
    s.git_path(&repo, &spy, &["branch", "topic"]).ok();
    s.git_path(&repo, &spy, &["tag", "v1"]).ok();
    assert!(
        !log.exists(),
        "spawned while nothing changed: {}",
        fs::read_to_string(&log).unwrap_or_default()
    );

    // A change no hook sees (move), then a commit: exactly one reconcile.
    s.git(&repo, &["worktree", "move", "../b", "../b2"]).ok();
    s.git_path(
        &repo,
        &spy,
        &["commit", "-q", "--allow-empty", "-m", "after move"],
    )
    .ok();
    let spawned = fs::read_to_string(&log).unwrap();
    assert_eq!(
        spawned, "hook reference-transaction committed\n",
        "one spawn, at the first committed transaction"
    );
    for i in 0..5 {
        quiet(&s.at("b2"), &format!("b2 {i}"));
    }
    assert_eq!(fs::read_to_string(&log).unwrap(), spawned, "quiet again");

    // rm -rf is a change too, seen from a commit in the moved worktree.
    fs::remove_dir_all(s.at("a")).unwrap();
    s.git_path(
        &s.at("b2"),
        &spy,
        &["commit", "-q", "--allow-empty", "-m", "after rm"],
    )
    .ok();
    s.assert_released(&repo, "a", "rm -rf");
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        format!("{spawned}{spawned}")
    );
}

#[test]
fn fast_path_does_not_read_the_registry() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["a"]);
    let garbage = b"\x00\xffnot json {";
    fs::write(registry_path(&repo), garbage).unwrap();
    for dir in [repo.clone(), s.at("a")] {
        let run = s.commit(&dir);
        assert_eq!(run.stderr, "", "{run}");
    }
    assert_eq!(fs::read(registry_path(&repo)).unwrap(), garbage);
}

#[test]
fn fast_path_stays_quiet_with_unusual_worktree_paths() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    for w in ["with space", "it's", "star*[x]", "dollar$HOME"] {
        s.git(
            &repo,
            &["worktree", "add", "-q", "--detach", &format!("../{w}")],
        )
        .ok();
    }
    s.atlas(&repo, &["list"]).ok();
    let (spy, log) = s.spying_path();
    for i in 0..3 {
        s.git_path(
            &repo,
            &spy,
            &["commit", "-q", "--allow-empty", "-m", &i.to_string()],
        )
        .ok();
    }
    assert!(
        !log.exists(),
        "spawned: {}\nhook-state: {}",
        fs::read_to_string(&log).unwrap_or_default(),
        fs::read_to_string(repo.join(".git/worktree-registry/hook-state")).unwrap()
    );
}

#[test]
fn non_utf8_worktree_path_never_breaks_hooks_or_commands() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    announce_hook_runs(&repo.join(".git/hooks"));
    s.atlas(&repo, &["hooks", "install"]).ok();
    let add = Run::of(
        s.cmd("git", &repo)
            .args(["worktree", "add", "--detach"])
            .arg(Path::new("..").join(OsStr::from_bytes(b"caf\xe9"))),
    )
    .success();
    assert!(!add.stderr.contains("panicked"), "{add}");
    assert_at_most_one_line_per_hook_run(&add);
    let list = s.atlas(&repo, &["list"]);
    assert!(
        list.out.status.code() != Some(101) && !list.stderr.contains("panicked"),
        "{list}"
    );
    // And once reconciled (or refused), commits are quiet again.
    let (spy, log) = s.spying_path();
    for i in 0..3 {
        s.git_path(
            &repo,
            &spy,
            &["commit", "-q", "--allow-empty", "-m", &i.to_string()],
        )
        .ok();
    }
    assert!(
        !log.exists(),
        "spawned: {}",
        fs::read_to_string(&log).unwrap_or_default()
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
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut all: Vec<u64> = Vec::new();
    for n in names {
        let p = s.ports_of(&repo, n);
        assert_eq!(p.len(), 2, "{n}: {:#}", s.registry(&repo));
        let local = fs::read_to_string(s.at(n).join(".env.local")).unwrap();
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

// ---------------------------------------------------------------------------------------------
// Never breaks Git

#[test]
fn corrupt_registry_never_breaks_worktree_add_or_commit() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    announce_hook_runs(&repo.join(".git/hooks"));
    s.atlas(&repo, &["hooks", "install"]).ok();
    let garbage = b"\x00\xff\xfegarbage {{{ \n";
    fs::write(registry_path(&repo), garbage).unwrap();

    let add = s.git(&repo, &["worktree", "add", "../z"]).success();
    assert!(assert_at_most_one_line_per_hook_run(&add) >= 1, "{add}");
    assert!(s.at("z/README").is_file(), "the worktree is there");
    let commit = s.commit(&repo);
    assert_at_most_one_line_per_hook_run(&commit);
    let commit_z = s.commit(&s.at("z"));
    assert_at_most_one_line_per_hook_run(&commit_z);
    for line in [&add, &commit, &commit_z]
        .iter()
        .flat_map(|r| r.atlas_lines())
    {
        assert!(
            line.starts_with("git-atlas: warning: ")
                && line.contains("ports.json")
                && line.contains("git atlas list"),
            "{line}"
        );
    }
    assert_eq!(fs::read(registry_path(&repo)).unwrap(), garbage);
    assert!(!s.at("z/.env.local").exists());
}

#[test]
fn missing_binary_never_breaks_git() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    let bare = path_without_git_atlas();
    let add = s
        .git_path(&repo, &bare, &["worktree", "add", "../nobin"])
        .success();
    assert!(!add.atlas_lines().is_empty(), "{add}");
    s.git_path(&repo, &bare, &["commit", "-q", "--allow-empty", "-m", "x"])
        .ok();
    s.git_path(
        &s.at("nobin"),
        &bare,
        &["commit", "-q", "--allow-empty", "-m", "x"],
    )
    .ok();
    s.git_path(&s.at("nobin"), &bare, &["checkout", "-q", "-b", "other"])
        .ok();
    s.git_path(&repo, &bare, &["worktree", "remove", "--force", "../nobin"])
        .ok();
}

#[test]
fn skip_switch_turns_the_hooks_off() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    let (spy, log) = s.spying_path();
    let run = Run::of(
        s.cmd("git", &repo)
            .env("PATH", &spy)
            .env("GIT_ATLAS_SKIP_HOOKS", "1")
            .args(["worktree", "add", "../skipped"]),
    )
    .success();
    assert!(run.atlas_lines().is_empty(), "{run}");
    assert!(!run.stderr.contains("git-atlas"), "{run}");
    assert!(s.ports_of(&repo, "skipped").is_empty());
    assert!(s.registry(&repo)["worktrees"].get("skipped").is_none());
    assert!(!s.at("skipped/.env.local").exists());
    Run::of(
        s.cmd("git", &repo)
            .env("PATH", &spy)
            .env("GIT_ATLAS_SKIP_HOOKS", "1")
            .args(["commit", "-q", "--allow-empty", "-m", "x"]),
    )
    .ok();
    assert!(!log.exists(), "{}", fs::read_to_string(&log).unwrap());
    assert!(s.ports_of(&repo, "skipped").is_empty());

    // Without the switch, the next ref update is the backstop.
    s.commit(&repo);
    assert_eq!(s.ports_of(&repo, "skipped"), expected_ports("skipped"));
    assert!(s.at("skipped/.env.local").is_file());
}

#[test]
fn unreadable_env_never_breaks_git() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    announce_hook_runs(&repo.join(".git/hooks"));
    s.atlas(&repo, &["hooks", "install"]).ok();
    // A directory where .env should be: reading it fails even as root.
    fs::remove_file(repo.join(".env")).unwrap();
    fs::create_dir(repo.join(".env")).unwrap();
    let add = s.git(&repo, &["worktree", "add", "../u"]).success();
    assert_at_most_one_line_per_hook_run(&add);
    let commit = s.commit(&repo);
    assert_at_most_one_line_per_hook_run(&commit);
    assert!(s.at("u/README").is_file());
}

#[test]
fn installed_hook_files_exit_0_whatever_the_environment() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    let hooks = repo.join(".git/hooks");
    let garbage_env = |c: &mut Command| {
        c.env("GIT_DIR", "/nonexistent/\u{1}garbage")
            .env("GIT_COMMON_DIR", "\u{7f}")
            .env("GIT_WORK_TREE", "/dev/null/x")
            .env("GIT_INDEX_FILE", "/nonexistent")
            .env("GIT_ATLAS_STATE_DIR", "/dev/null/nope")
            .env("HOME", "/nonexistent")
            .stdin(Stdio::piped());
    };
    let run_hook = |name: &str, args: &[&str], cwd: &Path, path: &OsStr| {
        let mut c = s.cmd(hooks.join(name), cwd);
        garbage_env(&mut c);
        c.env("PATH", path).args(args);
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(b"\xff\xfe not a ref line\n0 0 refs/heads/x\n");
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "{name} {args:?} in {}: {}\n{stderr}",
            cwd.display(),
            out.status
        );
        assert!(
            stderr.lines().count() <= 1,
            "{name} {args:?}: more than one line:\n{stderr}"
        );
        stderr
    };
    let with = path_with_git_atlas();
    let without = path_without_git_atlas();
    let elsewhere = s.at("home");
    for path in [&with, &without] {
        for cwd in [&repo, &elsewhere] {
            // `prepared` is the state whose failure would abort the user's transaction.
            for state in ["prepared", "aborted", "committed", "garbage", ""] {
                let stderr = run_hook("reference-transaction", &[state], cwd, path);
                if state != "committed" {
                    assert_eq!(stderr, "", "{state}: {stderr}");
                }
            }
            run_hook("reference-transaction", &[], cwd, path);
            run_hook(
                "post-checkout",
                &["0000000000000000000000000000000000000000", "zz", "1"],
                cwd,
                path,
            );
            run_hook("post-checkout", &["x", "y", "0"], cwd, path);
            run_hook("post-checkout", &[], cwd, path);
        }
    }
    // The registry of the real repository is untouched by all that.
    assert_eq!(s.ports_of(&repo, "main")["app"], 4100);
}

// ---------------------------------------------------------------------------------------------
// Rough edges found while testing (each ignored test is a bug to fix in src/)

#[test]
fn symlinked_hook_survives_the_round_trip() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    fs::create_dir_all(repo.join("scripts")).unwrap();
    write_exec(
        &repo.join("scripts/post-checkout.sh"),
        "#!/bin/sh\necho tracked-hook-ran >&2\n",
        0o755,
    );
    let link = repo.join(".git/hooks/post-checkout");
    std::os::unix::fs::symlink("../../scripts/post-checkout.sh", &link).unwrap();
    s.atlas(&repo, &["hooks", "install"]).ok();
    let run = s.git(&repo, &["worktree", "add", "../w"]).success();
    assert!(run.stderr.contains("tracked-hook-ran"), "{run}");
    assert!(s.at("w/.env.local").is_file());
    s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert_eq!(
        fs::read_link(&link).ok(),
        Some(PathBuf::from("../../scripts/post-checkout.sh")),
        "the symlink is gone"
    );
    assert_eq!(
        fs::read_to_string(repo.join("scripts/post-checkout.sh")).unwrap(),
        "#!/bin/sh\necho tracked-hook-ran >&2\n"
    );
}

#[test]
fn non_executable_existing_hook_is_not_reported_as_installed() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let hook = repo.join(".git/hooks/post-checkout");
    write_exec(&hook, "#!/bin/sh\necho disabled-by-its-owner\n", 0o644);
    s.atlas(&repo, &["hooks", "install"]).ok();
    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    let works = {
        s.git(&repo, &["worktree", "add", "-q", "../w"]).ok();
        s.at("w/.env.local").is_file()
    };
    assert!(
        works || !status.contains("post-checkout          installed\n"),
        "status claims a hook Git ignores is installed:\n{status}"
    );
}

#[test]
fn install_into_a_shared_hooks_dir_leaves_other_repositories_alone() {
    let s = Sandbox::new();
    let shared = s.at("global-hooks");
    fs::create_dir_all(&shared).unwrap();
    let mut config = fs::read_to_string(s.at("gitconfig")).unwrap();
    config.push_str(&format!("[core]\n\thooksPath = {}\n", shared.display()));
    fs::write(s.at("gitconfig"), config).unwrap();
    let repo = s.repo("app", ENV);
    let out = s.atlas(&repo, &["hooks", "install"]).success();
    let other = s.repo("other", ENV);
    s.commit(&other);
    s.git(&other, &["worktree", "add", "-q", "../other-wt"])
        .ok();
    assert!(
        out.stderr.contains("warning")
            || out.stdout.contains("warning")
            || (!other.join(".git/worktree-registry").exists()
                && !s.at("other-wt/.env.local").exists()),
        "install said:\n{out}\nand repository `other` was enrolled: {:?}",
        fs::read_dir(other.join(".git/worktree-registry"))
            .map(|d| d.map(|e| e.unwrap().file_name()).collect::<Vec<_>>())
    );
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
