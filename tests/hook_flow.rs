//! Issue 3 end to end: plain `git worktree add/remove/prune/move` and `rm -rf` get the same
//! treatment as `git atlas`, through the installed hooks, and the hooks never break Git.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::{offset, registry_path, Sandbox};

fn installed(s: &Sandbox, env: &str) -> PathBuf {
    let repo = s.repo("app", env);
    let out = s.atlas(&repo, &["hooks", "install"]).ok();
    assert!(out.contains("git-atlas on PATH:"), "{out}");
    repo
}

fn hook_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("git-atlas:"))
        .collect()
}

#[test]
fn plain_worktree_add_gets_ports_and_files() {
    let s = Sandbox::new();
    let repo = installed(
        &s,
        "PORT=3000\nDATABASE_URL=postgresql://localhost:5432/app\n",
    );
    let run = s.git(&repo, &["worktree", "add", "../feature-auth"]);
    run.ok();
    let lines = hook_lines(&run.stderr()).join("\n");
    assert!(lines.contains("feature-auth: ports app:3828"), "{lines}");
    let wt = s.root().join("feature-auth");
    let local = fs::read_to_string(wt.join(".env.local")).unwrap();
    assert!(
        local.contains("PORT=3828\nDATABASE_URL=postgresql://localhost:6260/app_feature_auth\n"),
        "{local}"
    );
    // Exactly what `git atlas env` writes: regenerating changes nothing.
    s.atlas(&wt, &["env"]).ok();
    assert_eq!(fs::read_to_string(wt.join(".env.local")).unwrap(), local);
    assert_eq!(s.git(&wt, &["status", "--porcelain"]).ok(), "");
}

#[test]
fn git_atlas_add_with_hooks_does_the_work_once() {
    let s = Sandbox::new();
    let repo = installed(&s, "PORT=3000\n");
    let run = s.atlas(&repo, &["add", "../w"]);
    run.ok();
    assert!(
        hook_lines(&run.stderr()).is_empty(),
        "the hooks worked too: {}",
        run.stderr()
    );
    assert_eq!(s.ports_of(&repo, "w")["app"], 3000 + u64::from(offset("w")));
}

#[test]
fn install_is_idempotent_and_status_reports() {
    let s = Sandbox::new();
    let repo = installed(&s, "PORT=3000\n");
    let hooks = repo.join(".git/hooks");
    let before = (
        fs::read(hooks.join("post-checkout")).unwrap(),
        fs::read(hooks.join("reference-transaction")).unwrap(),
    );
    let out = s.atlas(&repo, &["hooks", "install"]).ok();
    assert!(out.matches("already installed").count() == 2, "{out}");
    assert_eq!(
        before,
        (
            fs::read(hooks.join("post-checkout")).unwrap(),
            fs::read(hooks.join("reference-transaction")).unwrap()
        )
    );
    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    assert!(
        status.contains("post-checkout          installed")
            && status.contains("reference-transaction  installed"),
        "{status}"
    );
    assert!(status.contains("git-atlas on PATH: "), "{status}");
}

#[test]
fn existing_hooks_keep_running_and_come_back_byte_for_byte() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    let hooks = repo.join(".git/hooks");
    let log = s.root().join("refs.log");
    let sh = "#!/bin/sh\necho user-post-checkout-ran\nexit 0\n";
    let py = format!(
        "#!/usr/bin/env python3\nimport sys\nopen({:?}, 'a').write(sys.stdin.read())\n",
        log.display().to_string()
    );
    fs::write(hooks.join("post-checkout"), sh).unwrap();
    fs::write(hooks.join("reference-transaction"), &py).unwrap();
    fs::set_permissions(
        hooks.join("post-checkout"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::set_permissions(
        hooks.join("reference-transaction"),
        fs::Permissions::from_mode(0o750),
    )
    .unwrap();

    s.atlas(&repo, &["hooks", "install"]).ok();
    let run = s.git(&repo, &["worktree", "add", "../w"]);
    run.ok();
    assert!(
        run.stdout().contains("user-post-checkout-ran")
            || run.stderr().contains("user-post-checkout-ran"),
        "{}",
        run.stderr()
    );
    assert!(s.root().join("w/.env.local").exists(), "ours ran too");
    assert!(
        fs::read_to_string(&log).unwrap().contains("refs/heads/w"),
        "the python hook got the ref list on stdin"
    );

    s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert_eq!(fs::read_to_string(hooks.join("post-checkout")).unwrap(), sh);
    assert_eq!(
        fs::read_to_string(hooks.join("reference-transaction")).unwrap(),
        py
    );
    assert_eq!(
        fs::metadata(hooks.join("post-checkout"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    assert_eq!(
        fs::metadata(hooks.join("reference-transaction"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o750
    );
    assert!(!hooks.join("reference-transaction.pre-git-atlas").exists());
}

#[test]
fn husky_style_relative_hooks_path() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    let husky = repo.join(".husky/_");
    fs::create_dir_all(&husky).unwrap();
    let original = "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/h\"\n";
    fs::write(husky.join("post-checkout"), original).unwrap();
    fs::write(husky.join("h"), "#!/usr/bin/env sh\necho husky-ran\n").unwrap();
    for f in ["post-checkout", "h"] {
        fs::set_permissions(husky.join(f), fs::Permissions::from_mode(0o755)).unwrap();
    }
    s.git(&repo, &["add", ".husky"]).ok();
    s.git(&repo, &["commit", "-qm", "husky"]).ok();
    s.git(&repo, &["config", "core.hooksPath", ".husky/_"]).ok();

    let out = s.atlas(&repo, &["hooks", "install"]).ok();
    assert!(
        out.contains(".husky/_/post-checkout: added to the existing hook"),
        "{out}"
    );
    s.git(&repo, &["worktree", "add", "../w"]).ok();
    assert!(s.root().join("w/.env.local").exists());
    s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert_eq!(
        fs::read_to_string(husky.join("post-checkout")).unwrap(),
        original
    );
    assert!(!husky.join("reference-transaction").exists());
}

#[test]
fn no_checkout_is_allocated_then_filled_at_its_first_checkout() {
    let s = Sandbox::new();
    let repo = installed(&s, "PORT=3000\n");
    s.git(&repo, &["worktree", "add", "--no-checkout", "../nc"])
        .ok();
    assert_eq!(
        s.ports_of(&repo, "nc")["app"],
        3000 + u64::from(offset("nc"))
    );
    assert_eq!(s.registry(&repo)["worktrees"]["nc"]["pending_files"], true);
    let nc = s.root().join("nc");
    assert!(!nc.join(".env.local").exists());
    s.git(&nc, &["checkout", "-f", "nc"]).ok();
    assert!(nc.join(".env.local").exists());
    assert!(s.registry(&repo)["worktrees"]["nc"]
        .get("pending_files")
        .is_none());
}

#[test]
fn removal_without_git_atlas_is_noticed_at_the_next_ref_update() {
    let s = Sandbox::new();
    let repo = installed(&s, "PORT=3000\n");
    for w in ["a", "b", "c", "d", "other"] {
        s.git(&repo, &["worktree", "add", "-q", &format!("../{w}")])
            .ok();
    }
    let commit = |dir: &Path| {
        s.git(dir, &["commit", "-q", "--allow-empty", "-m", "x"])
            .ok()
    };

    s.git(&repo, &["worktree", "remove", "../a"]).ok();
    commit(&repo);
    assert!(s.ports_of(&repo, "a").is_empty(), "git worktree remove");

    fs::remove_dir_all(s.root().join("b")).unwrap();
    commit(&s.root().join("other"));
    assert!(
        s.ports_of(&repo, "b").is_empty(),
        "rm -rf, noticed from another worktree"
    );

    fs::remove_dir_all(s.root().join("c")).unwrap();
    s.git(&repo, &["worktree", "prune"]).ok();
    commit(&repo);
    assert!(s.ports_of(&repo, "c").is_empty(), "prune");

    let ports = s.ports_of(&repo, "d");
    s.git(&repo, &["worktree", "move", "../d", "../d-moved"])
        .ok();
    commit(&repo);
    assert_eq!(s.ports_of(&repo, "d"), ports);
    let path = s.registry(&repo)["worktrees"]["d"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(path.ends_with("d-moved"), "{path}");
}

#[test]
fn commits_spawn_nothing_while_worktrees_do_not_change() {
    let s = Sandbox::new();
    let repo = installed(&s, "PORT=3000\n");
    s.git(&repo, &["worktree", "add", "-q", "../w"]).ok();
    // A git-atlas first on PATH that logs each run, then runs the real one.
    let wrap = s.root().join("wrap");
    fs::create_dir_all(&wrap).unwrap();
    let log = s.root().join("spawns.log");
    fs::write(
        wrap.join("git-atlas"),
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            support::bin().display()
        ),
    )
    .unwrap();
    fs::set_permissions(wrap.join("git-atlas"), fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", wrap.display(), std::env::var("PATH").unwrap());
    let commit = |dir: &Path| {
        support::Run::of(s.cmd("git", dir).env("PATH", &path).args([
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ]))
        .ok()
    };
    for _ in 0..5 {
        commit(&repo);
        commit(&s.root().join("w"));
    }
    assert!(
        !log.exists(),
        "spawned: {}",
        fs::read_to_string(&log).unwrap_or_default()
    );
    fs::remove_dir_all(s.root().join("w")).unwrap();
    commit(&repo);
    let spawned = fs::read_to_string(&log).unwrap();
    assert!(
        spawned.starts_with("hook reference-transaction committed"),
        "{spawned}"
    );
    let before = spawned.lines().count();
    commit(&repo);
    assert_eq!(
        fs::read_to_string(&log).unwrap().lines().count(),
        before,
        "quiet again after the reconcile"
    );
}

#[test]
fn hooks_never_break_git() {
    let s = Sandbox::new();
    let repo = installed(&s, "PORT=3000\n");
    let garbage = b"not json at all";
    fs::write(registry_path(&repo), garbage).unwrap();
    for run in [
        s.git(&repo, &["worktree", "add", "../z"]),
        s.git(&repo, &["commit", "-q", "--allow-empty", "-m", "x"]),
    ] {
        run.ok();
        for line in hook_lines(&run.stderr()) {
            assert!(line.contains("Invalid registry format"), "{line}");
        }
    }
    assert_eq!(fs::read(registry_path(&repo)).unwrap(), garbage);

    // The hook file itself, in the state that could abort a transaction, with a broken environment.
    let hook = repo.join(".git/hooks/reference-transaction");
    let run = support::Run::of(
        s.cmd(&hook, &repo)
            .arg("prepared")
            .env("GIT_DIR", "/nonexistent"),
    );
    run.ok();
    let run = support::Run::of(
        s.cmd(&hook, &repo)
            .arg("committed")
            .env("GIT_DIR", "/nonexistent"),
    );
    run.ok();
    assert!(run.stderr().lines().count() <= 1, "{}", run.stderr());
}

#[test]
fn missing_binary_and_skip_switch() {
    let s = Sandbox::new();
    let repo = installed(&s, "PORT=3000\n");
    let run = support::Run::of(
        s.cmd("git", &repo)
            .env("PATH", "/usr/bin:/bin")
            .args(["worktree", "add", "../nobin"]),
    );
    run.ok();
    let stderr = run.stderr();
    let lines = hook_lines(&stderr);
    assert!(
        !lines.is_empty() && lines.iter().all(|l| l.contains("not on PATH")),
        "{lines:?}"
    );
    let run = support::Run::of(s.cmd("git", &repo).env("GIT_ATLAS_SKIP_HOOKS", "1").args([
        "worktree",
        "add",
        "../skipped",
    ]));
    run.ok();
    assert!(hook_lines(&run.stderr()).is_empty(), "{}", run.stderr());
    assert!(!s.root().join("skipped/.env.local").exists());
    assert!(s.ports_of(&repo, "skipped").is_empty());
}
