//! Worktrees that go away (or move) without git-atlas: `git worktree remove`, `rm -rf`,
//! `git worktree prune` and `git worktree move` are caught up with at the next commit.

use std::fs;

use crate::support::hooks::{expected_ports, with_worktrees};
use crate::support::{offset, Sandbox};

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

/// An `rm -rf` changes nothing in Git's files, and the hooks' fast path does not look at every
/// worktree's directory (its cost must not grow with their number): the next worktree change
/// (here a plain `git worktree add`) or git-atlas command releases it.
#[test]
fn rm_rf_is_released_at_the_next_worktree_change() {
    let s = Sandbox::new();
    let repo = with_worktrees(&s, &["y", "other"]);
    fs::remove_dir_all(s.at("y")).unwrap();
    let run = s.commit(&s.at("other"));
    assert!(run.atlas_lines().is_empty(), "{run}");
    let run = s.git(&repo, &["worktree", "add", "-q", "../z"]).success();
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
    // A move rewrites only worktrees/m/gitdir: the moved worktree's own next Git operation
    // sees it (and any git-atlas command; the ports never depend on the path).
    let run = s.commit(&s.at("m-moved"));
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
