//! Issue 3, proved with the real `git`: once `git atlas hooks install` has run, plain
//! `git worktree add / remove / prune / move` and `rm -rf` get the same treatment as `git atlas`,
//! a commit spawns nothing while the worktrees stay the same, and no hook ever breaks Git.
//!
//! Each test gets its own sandbox (HOME, XDG dirs, Git config, lease dir) and a PATH whose only
//! `git-atlas` is the one just built, so the hooks call the binary under test.
//!
//! One test binary, a module per story: installing the hooks, plain adds, removals, husky's
//! `core.hooksPath`, and the fast path that keeps commits cheap and Git unbroken.

#[path = "../support/mod.rs"]
mod support;

mod checkout;
mod fast_path;
mod husky;
mod install;
mod plain_add;
mod removal;
