//! The hooks side of the facade: where Git looks for hooks, and installing the shims there.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::git;
use crate::git::hooks::{self, State};
use crate::git::repo::args;

use super::Workspace;

pub use hooks::{DEFAULT, EAGER, NAMES};

impl Workspace {
    /// The hooks directory of every worktree, as Git resolves it (`core.hooksPath` may be
    /// relative, and is then resolved per worktree); usually one shared directory.
    pub fn hook_dirs(&self) -> Result<Vec<PathBuf>> {
        let hooks_of = |dir: &std::path::Path| -> Result<PathBuf> {
            let path = git::read(
                dir,
                args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"]),
            )?;
            Ok(PathBuf::from(path.trim_end_matches('\n')))
        };
        let mut dirs: Vec<PathBuf> = Vec::new();
        for wt in self
            .repo
            .worktrees()?
            .iter()
            // Not through a path that is no longer the worktree's checkout: Git there would
            // answer for whatever repository (if any) now holds it.
            .filter(|w| !w.is_initializing() && self.repo.is_checkout(w))
        {
            let dir = hooks_of(&wt.path)?;
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        if dirs.is_empty() {
            dirs.push(hooks_of(&self.location().git_dir)?);
        }
        Ok(dirs)
    }

    /// Install the shim `name` into `dir` (created if missing). Returns what was done.
    pub fn install_hook(&self, dir: &std::path::Path, name: &str) -> Result<&'static str> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        hooks::install(dir, name)
    }

    /// Remove the shim `name` from `dir`, restoring what was there. Returns what was done.
    pub fn uninstall_hook(&self, dir: &std::path::Path, name: &str) -> Result<&'static str> {
        hooks::uninstall(dir, name)
    }

    pub fn hook_state(&self, dir: &std::path::Path, name: &str) -> State {
        hooks::state(dir, name)
    }

    /// The turn of the prompt's background run (`worktree-registry/background.lock`): `None`
    /// while another one has it.
    pub fn background_turn(&self) -> Result<Option<crate::files::Lock>> {
        crate::files::Lock::try_exclusive(&self.registry.dir().join("background.lock"))
    }
}

/// The prompt's part of the hooks: when the worktrees changed since the last reconcile (the
/// shims' constant-cost check: see `hooks::worktrees_unchanged`), start git-atlas detached in
/// the background to catch up, and go on at once (the prompt shows the registry as it is; the
/// next one shows the caught-up ports). Nothing where git-atlas keeps no registry, or with
/// `GIT_ATLAS_SKIP_HOOKS` set.
pub fn notice_changes(location: &git::repo::Location, cwd: &std::path::Path) {
    let registry = location.common_dir.join(crate::ports::registry::DIR);
    if hooks::worktrees_unchanged(&location.common_dir, &location.git_dir)
        || std::env::var_os("GIT_ATLAS_SKIP_HOOKS").is_some_and(|v| !v.is_empty())
        || !registry.is_dir()
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    // Its own process group: a Ctrl-C at the prompt does not stop it halfway.
    let _ = Command::new(exe)
        .args(["hook", hooks::BACKGROUND])
        .current_dir(location.work_dir.as_deref().unwrap_or(cwd))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}
