//! Hostile paths, damaged state and crashes (issue 16): nothing outside a worktree is touched,
//! derived state heals with one warning, the source of truth fails closed with its way out,
//! and generated files follow the registry after a crash.

mod support;

use std::fs;
use std::path::Path;

use support::{web_range, Run, Sandbox};

fn env_port(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .find_map(|l| l.strip_prefix("PORT=").map(str::to_string))
        .unwrap_or_else(|| panic!("no PORT in {}", path.display()))
}

/// A newline in a worktree's path: git-atlas took `…/wtX/a<newline>b` for `…/wtX`, wrote the
/// new worktree's .env into wtX and `remove --force a-b` deleted wtX with its work.
#[test]
fn a_newline_in_a_path_never_touches_another_worktree() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    s.atlas(&repo, &["add", "-q", "../wtX"]).ok();
    fs::write(s.at("wtX/precious.txt"), "work\n").unwrap();
    s.atlas(&repo, &["add", "-q", "--detach", "../wtX/a\nb"])
        .ok();
    let wtx = fs::read_to_string(s.at("wtX/.env")).unwrap();
    assert!(wtx.contains("WORKTREE_NAME=wtX\n"), "{wtx}");
    let new = fs::read_to_string(s.at("wtX/a\nb/.env")).unwrap();
    assert!(new.contains("WORKTREE_NAME=a-b\n"), "{new}");
    let list = s.atlas(&repo, &["list", "--json"]).ok();
    let json: serde_json::Value = serde_json::from_str(&list).unwrap();
    let paths: Vec<&str> = json
        .as_array()
        .or_else(|| json["worktrees"].as_array())
        .unwrap()
        .iter()
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert!(paths.iter().any(|p| p.ends_with("wtX/a\nb")), "{paths:?}");
    s.atlas(&repo, &["remove", "--force", "a-b"]).ok();
    assert_eq!(
        fs::read_to_string(s.at("wtX/precious.txt")).unwrap(),
        "work\n"
    );
    assert!(s.at("wtX/.git").is_file());
    assert!(!s.at("wtX/a\nb").exists());
}

/// A worktree moved away and a symlink put at its path: nothing is written through it.
#[test]
fn a_symlink_in_place_of_a_worktree_is_never_written_through() {
    let s = Sandbox::new();
    let repo = s.repo(
        "app",
        "PORT=3000\nDATABASE_URL=postgresql://u:secret@localhost:5432/app\n",
    );
    s.atlas(&repo, &["add", "-q", "../wt1"]).ok();
    let elsewhere = s.at("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::rename(s.at("wt1"), s.at("away")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, s.at("wt1")).unwrap();
    let err = s.atlas(&repo, &["env", "wt1"]).fails(1);
    assert!(err.contains("is not wt1's checkout"), "{err}");
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "wrote through the symlink"
    );
    // Nor does `hooks install` ask Git there (which failed, or would answer for another
    // repository).
    s.atlas(&repo, &["hooks", "install"]).ok();
    // `remove` leaves the symlink's target alone too.
    s.atlas(&repo, &["remove", "wt1"]).ok();
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
}

/// `kill -9` of `ports reset` right after it replaced ports.json (strace kills it at the Nth
/// renameat) used to leave aa's .env with zz's port and the other way round, forever.
#[test]
fn files_follow_the_registry_after_a_killed_reset() {
    let s = Sandbox::new();
    if which::which("strace").is_err() {
        support::unavailable::<()>("killed reset", "strace", "not on PATH");
        return;
    }
    let repo = s.repo("app", "PORT=8080\n");
    fs::write(repo.join(".atlas.toml"), web_range(8080, 20)).unwrap();
    s.atlas(&repo, &["add", "-q", "../zz"]).ok();
    s.atlas(&repo, &["add", "-q", "../aa"]).ok();
    for n in 1..=8 {
        let _ = Run::of(
            s.cmd("strace", &repo)
                .args(["-f", "-o", "/dev/null", "-e"])
                .arg(format!("inject=renameat,rename:signal=KILL:when={n}"))
                .arg(support::bin())
                .args(["ports", "reset"]),
        );
        s.atlas(&repo, &["list"]).ok();
        for w in ["aa", "zz"] {
            let registry = s.ports_of(&repo, w)["web"].to_string();
            assert_eq!(
                env_port(&s.at(&format!("{w}/.env"))),
                registry,
                "kill at renameat {n}: {w}'s .env disagrees with the registry"
            );
        }
        s.assert_distinct_ports(&repo);
    }
}

/// A directory where derived state should be is set aside with one warning; commands work.
#[test]
fn directories_in_place_of_derived_state_are_set_aside() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    s.atlas(&repo, &["add", "-q", "../a"]).ok();
    let state = repo.join(".git/worktree-registry");
    fs::remove_file(state.join("hook-state")).unwrap();
    fs::create_dir(state.join("hook-state")).unwrap();
    let leases = s.leases().join("leases.json");
    fs::remove_file(&leases).unwrap();
    fs::create_dir(&leases).unwrap();
    let prompt = repo.join(".git/worktree-registry/prompts/a");
    fs::write(&prompt, b"\xff\xfe not text").unwrap();
    // (Without the prompt's background catch-up, which would set them aside first.)
    let prompt = support::Run::of(
        s.cmd("git", &s.at("a"))
            .env("GIT_ATLAS_SKIP_HOOKS", "1")
            .args(["atlas", "ports"]),
    );
    assert_eq!(
        prompt.ok().trim(),
        format!("app:{}", 3000 + support::offset("a"))
    );
    let run = s.atlas(&repo, &["add", "-q", "../b"]);
    run.ok();
    assert_eq!(run.stderr.matches("set it aside").count(), 2, "{run}");
    assert!(
        state.join("hook-state").is_file() && leases.is_file(),
        "{run}"
    );
    assert!(fs::read_to_string(&leases).unwrap().contains("\"a\""));
    s.atlas(&repo, &["ports", "reset"]).ok();
}

/// ports.json is the source of truth: a directory in its place stops every command with the
/// way out, and `ports reset` takes it.
#[test]
fn a_directory_in_place_of_the_registry_fails_closed_and_reset_recovers() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    s.atlas(&repo, &["add", "-q", "../a"]).ok();
    let registry = repo.join(".git/worktree-registry/ports.json");
    fs::remove_file(&registry).unwrap();
    fs::create_dir(&registry).unwrap();
    let err = s.atlas(&repo, &["list"]).fails(1);
    assert!(
        err.contains("could not read the registry") && err.contains("ports reset"),
        "{err}"
    );
    s.atlas(&repo, &["ports", "reset"]).ok();
    assert!(registry.is_file());
    assert_eq!(
        s.ports_of(&repo, "a")["app"],
        3000 + u64::from(support::offset("a"))
    );
}

/// A state file that cannot be written fails `add` before Git creates anything.
#[test]
fn an_unwritable_state_file_stops_add_before_git_runs() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    s.atlas(&repo, &["add", "-q", "../a"]).ok();
    let registry = repo.join(".git/worktree-registry/ports.json");
    let immutable = Run::of(s.cmd("chattr", &repo).arg("+i").arg(&registry));
    if !immutable.out.status.success() {
        support::unavailable::<()>("immutable registry", "chattr +i", &immutable.stderr);
        return;
    }
    let run = s.atlas(&repo, &["add", "-q", "../b"]);
    let _ = Run::of(s.cmd("chattr", &repo).arg("-i").arg(&registry));
    let err = run.fails(1);
    assert!(
        err.contains("cannot write") && err.contains("nothing was created"),
        "{err}"
    );
    assert!(!s.at("b").exists(), "Git created the worktree: {run}");
}

/// Deleting the lease file (as the README once said) must not let another repository take
/// ports this one holds: it is rebuilt from every repository that leased ports.
#[test]
fn a_deleted_lease_file_is_rebuilt_from_every_repository() {
    let s = Sandbox::new();
    let toml = web_range(8300, 6);
    let a = s.repo("a", "PORT=8300\n");
    let b = s.repo("b", "PORT=8300\n");
    for r in [&a, &b] {
        fs::write(r.join(".atlas.toml"), &toml).unwrap();
    }
    s.atlas(&a, &["add", "-q", "../a-feat"]).ok();
    fs::remove_file(s.leases().join("leases.json")).unwrap();
    s.atlas(&b, &["add", "-q", "../b-feat"]).ok();
    let held: Vec<u64> = s.all_ports(&a);
    for p in s.all_ports(&b) {
        assert!(!held.contains(&p), "b took {p}, which a holds: {held:?}");
    }
}

/// A deleted ports.json under the range strategy: each worktree keeps the ports its own
/// generated .env shows, rather than swapping them by allocation order.
#[test]
fn a_rebuilt_registry_keeps_the_ports_env_files_show() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=8400\n");
    fs::write(repo.join(".atlas.toml"), web_range(8400, 10)).unwrap();
    s.atlas(&repo, &["add", "-q", "../zz"]).ok();
    s.atlas(&repo, &["add", "-q", "../aa"]).ok();
    let before = (s.ports_of(&repo, "aa"), s.ports_of(&repo, "zz"));
    fs::remove_file(repo.join(".git/worktree-registry/ports.json")).unwrap();
    s.atlas(&repo, &["list"]).ok();
    assert_eq!((s.ports_of(&repo, "aa"), s.ports_of(&repo, "zz")), before);
    for w in ["aa", "zz"] {
        assert_eq!(
            env_port(&s.at(&format!("{w}/.env"))),
            s.ports_of(&repo, w)["web"].to_string()
        );
    }
    let clean = s.atlas(&repo, &["ports", "check-conflicts"]).ok();
    assert!(clean.contains("No conflicts"), "{clean}");
    // A generated file edited to disagree is a conflict check-conflicts names.
    let aa = s.at("aa/.env");
    let text = fs::read_to_string(&aa).unwrap();
    let port = env_port(&aa);
    fs::write(&aa, text.replace(&format!("PORT={port}"), "PORT=8409")).unwrap();
    let found = s.atlas(&repo, &["ports", "check-conflicts"]).ok();
    assert!(
        found.contains("its generated env file says 8409 (`git atlas env aa` rewrites it)"),
        "{found}"
    );
}

/// With a corrupt registry, the hooks warn once, not at every commit.
#[test]
fn hooks_say_a_warning_once() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    s.atlas(&repo, &["hooks", "install"]).ok();
    s.git(&repo, &["worktree", "add", "-q", "../w1"]).ok();
    fs::write(repo.join(".git/worktree-registry/ports.json"), "{bad").unwrap();
    let add = s.git(&repo, &["worktree", "add", "-q", "../w2"]).success();
    let lines = |r: &Run| {
        r.stderr
            .lines()
            .filter(|l| l.starts_with("git-atlas:"))
            .count()
    };
    assert_eq!(lines(&add), 1, "{add}");
    for _ in 0..3 {
        let commit = s.commit(&repo);
        assert_eq!(lines(&commit), 0, "{commit}");
    }
    let checkout = s.git(&repo, &["checkout", "-q", "-b", "other"]).success();
    assert_eq!(lines(&checkout), 0, "{checkout}");
}

/// Parallel plain `git worktree add`s through the hooks: each Git command says one line at
/// most (up to 5 each before), and every worktree gets its ports and files.
#[test]
fn parallel_plain_adds_say_one_line_each() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    s.atlas(&repo, &["hooks", "install"]).ok();
    let children: Vec<_> = (0..6)
        .map(|i| {
            s.cmd("git", &repo)
                .args(["worktree", "add", "-q", &format!("../p{i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("git-atlas:"))
            .collect();
        assert!(lines.len() <= 1, "p{i} said {lines:#?}");
        // Parallel `git worktree add`s can fail in Git itself; the ones that worked are whole.
        if out.status.success() {
            s.atlas(&repo, &["list"]).ok();
            assert!(s.at(&format!("p{i}/.env")).is_file(), "p{i}: {stderr}");
        }
    }
    s.assert_distinct_ports(&repo);
}
