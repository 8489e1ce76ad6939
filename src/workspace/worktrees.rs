//! The worktree side of the facade: `git worktree add` and `remove` through Git itself, and
//! the checks that come before them.

use std::ffi::OsString;
use std::path::Path;

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::files::Lock;
use crate::git;
use crate::git::repo::{args, Worktree};

use super::Workspace;

impl Workspace {
    /// Run `git worktree add <git_args>` in `cwd` and return the worktree Git made at `target`.
    pub fn add_worktree(
        &self,
        cwd: &Path,
        git_args: Vec<OsString>,
        target: &Path,
    ) -> Result<Worktree> {
        // Every state file is checked before Git creates anything: a registry that does not
        // parse fails here. (The lease file and hook-state, which only mirror it, heal
        // themselves whenever they are read, so they cannot fail later.)
        self.registry.read()?;
        {
            // Concurrent `git worktree add`s can read each other's half-written worktrees/<id>/
            // files and fail ("failed to read .git/worktrees/x/commondir"), so ours take turns.
            // This lock only orders `git atlas add`s; the registry's own lock is separate and short.
            let _turn = Lock::exclusive(&self.registry.dir().join("add.lock"))?;
            git::run_visible(cwd, git_args, &[(git::IN_ADD_ENV, "1")])?;
        }
        self.repo.worktree_at(target).ok_or_else(|| {
            Error::failed(format!(
                "git created {} but does not list it as a worktree",
                target.display()
            ))
        })
    }

    /// Uncommitted changes or untracked files in `wt` (ignored ones do not count, as for
    /// `git worktree remove`).
    pub fn is_dirty(&self, wt: &Worktree) -> Result<bool> {
        git::is_dirty(&wt.path)
    }

    /// `git worktree remove` for a worktree that exists, `git worktree prune` for one that is
    /// gone; run from the main worktree (or the common dir): the current directory may be `wt`.
    pub fn remove_worktree(&self, wt: &Worktree, force: bool) -> Result<()> {
        let git_cwd = self
            .repo
            .main_dir()
            .unwrap_or_else(|| self.repo.common_dir().to_path_buf());
        if !wt.exists() {
            return git::run_visible(&git_cwd, args(["worktree", "prune"]), &[]);
        }
        let mut a = args(["worktree", "remove"]);
        if force {
            a.push("--force".into());
            if wt.locked.is_some() {
                a.push("--force".into());
            }
        }
        a.push("--".into());
        a.push(wt.path.clone().into());
        git::run_visible(&git_cwd, a, &[])
    }

    /// Release a worktree's ports. Returns the ports it held.
    pub fn release(&self, name: &str) -> Result<Option<IndexMap<String, u16>>> {
        self.update(|reg, _| Ok(reg.release(name)))
    }
}
