//! Worktrees that go away (or move) without git-atlas: `git worktree remove`, `rm -rf`,
//! `git worktree prune` and `git worktree move` are caught up with at the next checkout in any
//! worktree (or, with `hooks install --eager`, at the next commit), and at the next prompt.

use std::fs;
use std::time::{Duration, Instant};

use crate::support::hooks::{expected_ports, with_worktrees};
use crate::support::{offset, Sandbox};

#[test]
fn worktree_remove_is_released_at_the_next_checkout_not_at_a_commit() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["x", "keep"]);
    let run = s.git(&repo, &["worktree", "remove", "../x"]).success();
    assert!(run.atlas_lines().is_empty(), "remove runs no hook: {run}");
    let run = s.commit(&repo);
    assert!(run.atlas_lines().is_empty(), "a commit runs no hook: {run}");
    assert_eq!(
        s.ports_of(&repo, "x"),
        expected_ports("x"),
        "nothing ran yet"
    );
    let run = s.checkout(&s.at("keep"));
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
fn with_eager_hooks_a_removed_worktree_is_released_at_the_next_commit() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["x", "keep"]);
    s.atlas(&repo, &["hooks", "install", "--eager"]).ok();
    s.git(&repo, &["worktree", "remove", "../x"]).ok();
    let run = s.commit(&repo);
    assert_eq!(
        run.atlas_lines(),
        ["git-atlas: released 2 port(s) of x: the worktree no longer exists"],
        "{run}"
    );
    s.assert_released(&repo, "x", "git worktree remove");
}

/// An `rm -rf` changes nothing in Git's files, but it changes the directory that held the
/// worktree, which the hooks watch (one check whatever the number of worktrees): the next
/// checkout releases it.
#[test]
fn rm_rf_is_released_at_the_next_checkout() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["y", "other"]);
    fs::remove_dir_all(s.at("y")).unwrap();
    let run = s.commit(&s.at("other"));
    assert!(run.atlas_lines().is_empty(), "{run}");
    let run = s.checkout(&s.at("other"));
    assert!(
        run.atlas_lines()
            .iter()
            .any(|l| l.contains("released 2 port(s) of y: the worktree no longer exists")),
        "{run}"
    );
    s.assert_released(&repo, "y", "rm -rf");
    assert_eq!(s.ports_of(&repo, "other"), expected_ports("other"));
    assert_eq!(s.ports_of(&repo, "main")["app"], 4100);
}

/// The prompt (`git atlas ports`) sees the same change with the same checks, and hands the
/// catching up to git-atlas in the background: it prints at once, and the ports are released
/// moments later, without a checkout or a command.
#[test]
fn rm_rf_is_released_after_the_next_prompt() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["y", "other"]);
    fs::remove_dir_all(s.at("y")).unwrap();
    let prompt = s.atlas(&s.at("other"), &["ports"]).success();
    assert_eq!(
        prompt.stdout,
        format!(
            "app:{} database:{}\n",
            4100 + offset("other"),
            5532 + offset("other")
        ),
        "{prompt}"
    );
    assert_eq!(prompt.stderr, "", "{prompt}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !s.ports_of(&repo, "y").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    s.assert_released(&repo, "y", "rm -rf, then a prompt");
    // Caught up: the next prompts start nothing (a background run would make its lock file).
    let lock = repo.join(".git/worktree-registry/background.lock");
    assert!(lock.is_file(), "the release was the background run's");
    fs::remove_file(&lock).unwrap();
    for _ in 0..3 {
        s.atlas(&s.at("other"), &["ports"]).ok();
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !lock.exists(),
        "a prompt started a background run with nothing to do"
    );
}

#[test]
fn prune_after_rm_rf_is_released_at_the_next_checkout() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["p", "keep"]);
    fs::remove_dir_all(s.at("p")).unwrap();
    s.git(&repo, &["worktree", "prune"]).ok();
    assert!(!repo.join(".git/worktrees/p").exists());
    s.checkout(&repo);
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
    // A move rewrites worktrees/m/gitdir and renames the directory: the moved worktree's
    // next checkout sees it (as does any git-atlas command; the ports never depend on the path).
    let run = s.checkout(&s.at("m-moved"));
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
