//! The fast path: a commit runs no hook of git-atlas's at all, and a checkout spawns no
//! git-atlas while the worktrees stay the same, whatever their paths; and no hook ever breaks
//! Git (corrupt registry, unreadable `.env`, no binary, the skip switch, any environment).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::hooks::{
    announce_hook_runs, assert_at_most_one_line_per_hook_run, expected_ports, with_worktrees, ENV,
};
use crate::support::{path_with_git_atlas, path_without_git_atlas, registry_path, Run, Sandbox};

/// Three commits and three checkouts in `repo` run no git-atlas at all (the shims' fast path).
fn assert_commits_spawn_nothing(s: &Sandbox, repo: &Path) {
    let (spy, log) = s.spying_path();
    for i in 0..3 {
        s.git_path(
            repo,
            &spy,
            &["commit", "-q", "--allow-empty", "-m", &i.to_string()],
        )
        .ok();
        s.git_path(repo, &spy, &["checkout", "-q", "--detach"]).ok();
    }
    assert!(
        !log.exists(),
        "spawned: {}\nhook-state: {}",
        fs::read_to_string(&log).unwrap_or_default(),
        fs::read_to_string(repo.join(".git/worktree-registry/hook-state")).unwrap_or_default()
    );
}

#[test]
fn commits_and_checkouts_spawn_nothing_while_worktrees_are_unchanged() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["a", "b"]);
    s.atlas(&repo, &["list"]).ok(); // one reconcile
    let (spy, log) = s.spying_path();
    let quiet = |dir: &Path, args: &[&str]| {
        let run = s.git_path(dir, &spy, args).success();
        assert_eq!(run.stderr, "", "{run}");
    };
    let commit =
        |dir: &Path, what: &str| quiet(dir, &["commit", "-q", "--allow-empty", "-m", what]);
    for i in 0..5 {
        commit(&repo, &format!("main {i}"));
        commit(&s.at("a"), &format!("a {i}"));
    }
    quiet(&repo, &["branch", "topic"]);
    quiet(&repo, &["tag", "v1"]);
    for (dir, side) in [(repo.clone(), "side-main"), (s.at("a"), "side-a")] {
        quiet(&dir, &["switch", "-q", "-c", side]);
        quiet(&dir, &["switch", "-q", "-"]);
        quiet(&dir, &["checkout", "-q", "--detach"]);
    }
    assert!(
        !log.exists(),
        "spawned while nothing changed: {}",
        fs::read_to_string(&log).unwrap_or_default()
    );

    // A move, then a commit: nothing. The next checkout anywhere sees the directory that
    // holds the worktrees changed, and reconciles, exactly once.
    s.git(&repo, &["worktree", "move", "../b", "../b2"]).ok();
    commit(&s.at("b2"), "in b2");
    assert!(!log.exists(), "spawned at a commit");
    let run = s
        .git_path(&repo, &spy, &["checkout", "-q", "--detach"])
        .success();
    assert_eq!(
        run.atlas_lines(),
        ["git-atlas: b moved; its ports follow it"],
        "{run}"
    );
    let spawned = fs::read_to_string(&log).unwrap();
    assert!(
        spawned.starts_with("hook post-checkout ") && spawned.lines().count() == 1,
        "one spawn, at the first checkout: {spawned}"
    );
    for dir in [repo.clone(), s.at("b2")] {
        quiet(&dir, &["checkout", "-q", "--detach"]);
    }
    assert_eq!(fs::read_to_string(&log).unwrap(), spawned, "quiet again");

    // A worktree removed by Git changes worktrees/: the next checkout anywhere reconciles
    // once; a commit does not.
    s.git(&repo, &["worktree", "remove", "../a"]).ok();
    commit(&s.at("b2"), "after remove");
    assert_eq!(fs::read_to_string(&log).unwrap(), spawned);
    s.git_path(&s.at("b2"), &spy, &["checkout", "-q", "--detach"])
        .ok();
    s.assert_released(&repo, "a", "git worktree remove");
    assert_eq!(fs::read_to_string(&log).unwrap().lines().count(), 2);
}

#[test]
fn fast_path_does_not_read_the_registry() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["a"]);
    let garbage = b"\x00\xffnot json {";
    fs::write(registry_path(&repo), garbage).unwrap();
    for dir in [repo.clone(), s.at("a")] {
        let run = s.checkout(&dir);
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
    assert_commits_spawn_nothing(&s, &repo);
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
    assert_commits_spawn_nothing(&s, &repo);
}

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
    let commit = s.checkout(&repo);
    assert_at_most_one_line_per_hook_run(&commit);
    let commit_z = s.checkout(&s.at("z"));
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
    assert!(!s.at("z/.env").exists());
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
    assert!(!s.at("skipped/.env").exists());
    Run::of(
        s.cmd("git", &repo)
            .env("PATH", &spy)
            .env("GIT_ATLAS_SKIP_HOOKS", "1")
            .args(["checkout", "-q", "--detach"]),
    )
    .ok();
    assert!(!log.exists(), "{}", fs::read_to_string(&log).unwrap());
    assert!(s.ports_of(&repo, "skipped").is_empty());

    // Without the switch, the next checkout is the backstop.
    s.checkout(&repo);
    assert_eq!(s.ports_of(&repo, "skipped"), expected_ports("skipped"));
    assert!(s.at("skipped/.env").is_file());
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
    let checkout = s.checkout(&repo);
    assert_at_most_one_line_per_hook_run(&checkout);
    assert!(s.at("u/README").is_file());
}

#[test]
fn installed_hook_files_exit_0_whatever_the_environment() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    // Both shims, the opt-in one too.
    s.atlas(&repo, &["hooks", "install", "--eager"]).ok();
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
