//! The worktree side of the facade: `git worktree add` and `remove` through Git itself, and
//! the checks that come before them.

use std::ffi::OsString;
use std::path::Path;

use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::files::Lock;
use crate::git;
use crate::git::hooks;
use crate::git::repo::{args, Worktree, MAIN};

use super::{Inputs, Report, Workspace};

/// Whether two readings of a worktree's inputs allocate alike: the same services, and the same
/// configuration.
fn same_inputs(a: &Inputs, b: &Inputs) -> bool {
    a.services == b.services
        && serde_json::to_string(&a.config).ok() == serde_json::to_string(&b.config).ok()
}

impl Workspace {
    /// `git_args` for a `git worktree add` that runs no hook when the only hooks Git would run
    /// are the shims `hooks install` created: with `GIT_ATLAS_IN_ADD` they do nothing, and Git
    /// starting a shell for each is most of what the hooks add to `git atlas add`. A user's
    /// hook anywhere in the hooks directory, or a `core.hooksPath`, and Git runs them as usual.
    fn without_own_shims(&self, git_args: Vec<OsString>) -> Vec<OsString> {
        let dir = self.repo.common_dir().join("hooks");
        if !git::hooks::only_created_shims(&dir) || self.repo.hooks_elsewhere(self.gix_here()) {
            return git_args;
        }
        let mut quiet: Vec<OsString> = vec!["-c".into(), "core.hooksPath=/dev/null".into()];
        quiet.extend(git_args);
        quiet
    }

    /// Run `git worktree add <git_args>` in `cwd` and return the worktree Git made at `target`.
    pub fn add_worktree(
        &self,
        cwd: &Path,
        git_args: Vec<OsString>,
        target: &Path,
    ) -> Result<Worktree> {
        // Every state file is checked before Git creates anything: a registry that does not
        // parse fails here, and so does a file that cannot be written. (The lease file and
        // hook-state, which only mirror it, heal themselves whenever they are read.)
        self.registry.read()?;
        self.check_state_writable()?;
        {
            // Concurrent `git worktree add`s can read each other's half-written worktrees/<id>/
            // files and fail ("failed to read .git/worktrees/x/commondir"), so ours take turns.
            // This lock only orders `git atlas add`s; the registry's own lock is separate and short.
            let _turn = self.worktree_turn()?;
            git::run_visible(
                cwd,
                self.without_own_shims(git_args),
                &[(git::IN_ADD_ENV, "1")],
            )?;
        }
        self.repo.worktree_at(target).ok_or_else(|| {
            Error::failed(format!(
                "git created {} but does not list it as a worktree",
                target.display()
            ))
        })
    }

    /// `git worktree add <git_args>` for a repository with nothing to reconcile, with the new
    /// worktree's ports allocated while Git checks it out (for the name and path Git is about to
    /// give it, and `inputs`, the configuration where `add` runs). Once Git is done, the guess
    /// is checked: another name or path, other inputs in the new checkout, or an allocation a
    /// parallel reconcile took away, and the worktree is allocated afresh as
    /// [`Workspace::allocate`] would; Git failing releases the guess.
    pub fn add_worktree_allocated(
        &self,
        cwd: &Path,
        git_args: Vec<OsString>,
        target: &Path,
        inputs: &Inputs,
    ) -> Result<(Worktree, Report)> {
        self.registry.read()?;
        self.check_state_writable()?;
        let guess = self.guess_new_worktree(target);
        let (git_done, speculated) = {
            let _turn = self.worktree_turn()?;
            let git_args = self.without_own_shims(git_args);
            let running = git::start_visible(cwd, git_args, &[(git::IN_ADD_ENV, "1")])?;
            let speculated = guess
                .as_ref()
                .map(|g| self.update(|reg, leases| self.allocate_with(reg, leases, g, inputs)));
            (running.wait(), speculated)
        };
        let allocated_guess = matches!(speculated, Some(Ok((true, _))));
        // Release what was allocated for the guess: for ours (the name was right, the inputs
        // were not), or for a name no worktree has; not for a worktree that got that name
        // meanwhile (a plain `git worktree add` beside us), whose allocation it now is.
        let forget_guess = |guess: &Worktree, ours: Option<&str>| {
            let taken = self.repo.common_dir().join("worktrees").join(&guess.name);
            if allocated_guess && (ours == Some(guess.name.as_str()) || !taken.exists()) {
                let _ = self.release(&guess.name);
            }
        };
        if let Err(e) = git_done {
            if let Some(g) = &guess {
                forget_guess(g, None);
            }
            return Err(e);
        }
        let wt = self.repo.worktree_at(target).ok_or_else(|| {
            Error::failed(format!(
                "git created {} but does not list it as a worktree",
                target.display()
            ))
        })?;
        if let (Some(g), Some(Ok((allocated, warnings)))) = (&guess, &speculated) {
            let held = || {
                self.registry
                    .read()
                    .is_ok_and(|r| r.allocated_ports.contains_key(&wt.name))
            };
            if g.name == wt.name
                && g.path == wt.path
                && same_inputs(&*self.inputs(&wt.path)?, inputs)
                && held()
            {
                self.registry.refresh_prompt(&wt.name)?;
                hooks::record_add(self.repo.common_dir(), &wt)?;
                let report = Report {
                    allocated: if *allocated {
                        vec![wt.name.clone()]
                    } else {
                        Vec::new()
                    },
                    warnings: warnings.clone(),
                    ..Report::default()
                };
                return Ok((wt, report));
            }
            forget_guess(g, Some(&wt.name));
        }
        let report = self.allocate(&wt)?;
        Ok((wt, report))
    }

    /// The worktree `arg` names (as [`Workspace::resolve`] finds it), or the current one
    /// without it, before anything is reconciled: a command checks what it is asked about
    /// before it writes anything, so that one that cannot run leaves nothing behind. Reads only
    /// that worktree's files when `arg` is absent or its name; every worktree's otherwise.
    pub fn find_worktree(&self, arg: Option<&str>, cwd: &Path) -> Result<Worktree> {
        let Some(arg) = arg else {
            return self.current_worktree();
        };
        let by_name = match arg {
            MAIN => self.repo.main_worktree(),
            _ => self.repo.worktree_by_name(arg),
        };
        if let Some(wt) = by_name {
            return Ok(wt);
        }
        let worktrees = self.repo.worktrees()?;
        self.resolve(&worktrees, arg, cwd).cloned()
    }

    /// Take this repository's turn to have Git add or remove a worktree (`worktree-registry/
    /// add.lock`): Git's `worktree add` and `remove` read every worktree's files, and failed on
    /// one a parallel `add` had half made ("failed to read …/commondir").
    fn worktree_turn(&self) -> Result<Lock> {
        Lock::exclusive(&self.registry.dir().join("add.lock"))
    }

    /// Fail, before Git creates anything, when a state file this add will write (or the
    /// directory it is replaced in) cannot be written: immutable, read-only, on a read-only
    /// mount. Otherwise the worktree would exist and the command fail halfway.
    fn check_state_writable(&self) -> Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let mut paths = vec![
            self.registry.dir().to_path_buf(),
            self.registry.path(),
            hooks::state_path(self.repo.common_dir()),
        ];
        if let Some(leases) = &self.leases {
            let file = leases.path();
            paths.extend(file.parent().map(Path::to_path_buf));
            paths.push(file);
        }
        for path in paths {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
                continue;
            };
            let mode = if meta.is_dir() {
                libc::W_OK | libc::X_OK
            } else {
                libc::W_OK
            };
            // SAFETY: a NUL-terminated path and a mode; access(2) only reads them.
            if unsafe { libc::access(c_path.as_ptr(), mode) } != 0 {
                let e = std::io::Error::last_os_error();
                return Err(Error::failed(format!(
                    "cannot write {}: {e}; git-atlas keeps its state there, so nothing was created",
                    path.display()
                ))
                .hint("make it writable again (`chattr -i`, `chmod u+w`, or mount it read-write), then run the command again"));
            }
        }
        Ok(())
    }

    /// The worktree `git worktree add <target>` will make, when that is certain enough to
    /// allocate for before Git is done: its id is the directory name when that is a plain name
    /// no worktree has (Git would add a number, or change characters, otherwise), and its path
    /// is the target's under its parent's real path.
    fn guess_new_worktree(&self, target: &Path) -> Option<Worktree> {
        let name = target.file_name()?.to_str()?;
        let plain = !name.starts_with('.')
            && !name.ends_with(".lock")
            && name != MAIN
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !plain || self.repo.common_dir().join("worktrees").join(name).exists() {
            return None;
        }
        let path = target.parent()?.canonicalize().ok()?.join(name);
        Some(Worktree {
            name: name.to_string(),
            path,
            is_main: false,
            branch: None,
            locked: None,
            prunable: false,
            present: true,
        })
    }

    /// Uncommitted changes or untracked files in `wt` (ignored ones do not count, as for
    /// `git worktree remove`).
    pub fn is_dirty(&self, wt: &Worktree) -> Result<bool> {
        git::is_dirty(&wt.path)
    }

    /// `git worktree remove` for a worktree that exists, `git worktree prune` for one that is
    /// gone; run from the main worktree (or the common dir): the current directory may be `wt`.
    ///
    /// While Git removes it, the worktree's checkout is held (no git-atlas command writes into
    /// it meanwhile: a file written there made Git fail with "Directory not empty"), and
    /// `git atlas add`s wait their turn (Git's removal reads every worktree's files, and failed
    /// on one half-made by an add: "failed to read …/commondir"). A removal Git completed is a
    /// success even if Git then failed (its worktree files are gone, it lists it no more):
    /// what is left is said in the returned warning.
    pub fn remove_worktree(&self, wt: &Worktree, force: bool) -> Result<Option<String>> {
        let git_cwd = self
            .repo
            .main_dir()
            .unwrap_or_else(|| self.repo.common_dir().to_path_buf());
        let held = self.lock_checkout(wt)?;
        let _turn = self.worktree_turn()?;
        let admin = self.repo.common_dir().join("worktrees").join(&wt.name);
        if !admin.exists() {
            // Removed meanwhile (by a parallel remove or prune).
            return Ok(None);
        }
        let listed_path = self.repo.worktree_by_name(&wt.name).map(|w| w.path);
        if listed_path.as_ref() != Some(&wt.path) {
            return Err(Error::failed(format!(
                "{} changed while git-atlas was looking at it (Git lists it at {} now): nothing was removed",
                wt.name,
                listed_path.map_or_else(|| "no path".into(), |p| p.display().to_string())
            ))
            .hint("run the command again"));
        }
        if !self.repo.is_checkout(wt) {
            // Not there, or something else is at its path: never hand that path to Git.
            return git::run_visible(&git_cwd, args(["worktree", "prune"]), &[]).map(|()| {
                (admin.exists() && wt.path.exists()).then(|| {
                    format!(
                        "{} is not {}'s checkout (it was moved or replaced), so it was left alone; Git still lists the worktree until `git worktree prune` finds it gone",
                        wt.path.display(),
                        wt.name
                    )
                })
            });
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
        let removed = git::run_visible(&git_cwd, a, &[]);
        if !admin.exists() {
            held.remove(&self.checkout_lock_path(&wt.name));
        }
        match removed {
            Ok(()) => Ok(None),
            Err(_) if !admin.exists() => Ok(wt.path.exists().then(|| {
                format!(
                    "Git removed the worktree {} but not all of {}; what is left there is no longer part of the repository",
                    wt.name,
                    wt.path.display()
                )
            })),
            Err(e) => Err(e),
        }
    }

    /// Release a worktree's ports. Returns the ports it held.
    pub fn release(&self, name: &str) -> Result<Option<IndexMap<String, u16>>> {
        let released = self.update(|reg, _| Ok(reg.release(name)))?;
        crate::steps::background::Run::of(self.registry.dir(), name).forget();
        Ok(released)
    }
}
