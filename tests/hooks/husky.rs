//! `core.hooksPath` set by the project (husky): the hooks go where Git runs them, in each
//! worktree's checkout, and come out byte for byte.

use std::fs;

use crate::support::hooks::{expected_ports, snapshot, write_exec, ENV};
use crate::support::{bin, Sandbox};

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
            "{d}/post-checkout: added to the existing hook\ngit-atlas on PATH: {}\n",
            bin().display(),
            d = dir.display()
        )
    );
    assert!(!repo.join(".git/hooks/post-checkout").exists());
    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    assert!(
        status.starts_with(&format!(
            "Hooks directory: {}\n  post-checkout          installed\n  reference-transaction  not installed (opt-in",
            dir.display()
        )),
        "{status}"
    );

    let run = s.git(&repo, &["worktree", "add", "../w"]).success();
    assert!(run.stderr.contains("husky-ran post-checkout 1"), "{run}");
    assert_eq!(s.ports_of(&repo, "w"), expected_ports("w"));
    assert!(s.at("w/.env").is_file(), "{run}");
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
    assert!(s.at("late/.env").is_file());
    s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert_eq!((snapshot(&husky), snapshot(&early)), before);
}
