//! `git atlas hooks install | uninstall | status`.

use std::io::Write;
use std::path::PathBuf;

use super::{cwd, print_notes};
use crate::cli::{HooksArgs, HooksCommand};
use crate::error::{Error, Result};
use crate::git;
use crate::git::hooks::{self, State};
use crate::git::repo::args;
use crate::workspace::Workspace;

pub fn run(args_in: HooksArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let dirs = hook_dirs(&ws)?;
    match args_in.command {
        HooksCommand::Install => {
            let roots: Vec<PathBuf> = ws
                .repo
                .worktrees()?
                .into_iter()
                .map(|w| w.path)
                .chain([ws.repo.common_dir().to_path_buf()])
                .collect();
            for dir in &dirs {
                if !roots.iter().any(|r| dir.starts_with(r)) {
                    eprintln!(
                        "git-atlas: warning: {} is outside this repository (a core.hooksPath shared with other repositories?); the shims run there too, but act only in repositories where git-atlas keeps a registry",
                        dir.display()
                    );
                }
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
                for name in hooks::NAMES {
                    let what = hooks::install(dir, name)?;
                    writeln!(out, "{}: {what}", dir.join(name).display())?;
                }
            }
            // Record the current worktrees so the shims stay quiet until something changes.
            print_notes(&ws.reconcile()?);
            reachability(out)?;
        }
        HooksCommand::Uninstall => {
            for dir in &dirs {
                for name in hooks::NAMES {
                    let what = hooks::uninstall(dir, name)?;
                    writeln!(out, "{}: {what}", dir.join(name).display())?;
                }
            }
        }
        HooksCommand::Status => {
            for dir in &dirs {
                writeln!(out, "Hooks directory: {}", dir.display())?;
                for name in hooks::NAMES {
                    let state = match hooks::state(dir, name) {
                        State::Installed => "installed",
                        State::Outdated => {
                            "installed by another git-atlas version: run `git atlas hooks install`"
                        }
                        State::Foreign => {
                            "not installed (a hook of yours is there; install keeps it)"
                        }
                        State::Missing => "not installed",
                    };
                    writeln!(out, "  {name:<22} {state}")?;
                }
            }
            reachability(out)?;
            if std::env::var_os("GIT_ATLAS_SKIP_HOOKS").is_some_and(|v| !v.is_empty()) {
                writeln!(
                    out,
                    "GIT_ATLAS_SKIP_HOOKS is set: the hooks do nothing in this environment"
                )?;
            }
        }
    }
    Ok(())
}

/// The hooks directory of every worktree, as Git resolves it (`core.hooksPath` may be relative,
/// and is then resolved per worktree); usually one shared directory.
fn hook_dirs(ws: &Workspace) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for wt in ws
        .repo
        .worktrees()?
        .iter()
        .filter(|w| w.exists() && !w.is_initializing())
    {
        let path = git::read(
            &wt.path,
            args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"]),
        )?;
        let dir = PathBuf::from(path.trim_end_matches('\n'));
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    if dirs.is_empty() {
        let git_dir = ws.location().git_dir.clone();
        let path = git::read(
            &git_dir,
            args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"]),
        )?;
        dirs.push(PathBuf::from(path.trim_end_matches('\n')));
    }
    Ok(dirs)
}

/// Hooks run `git-atlas` by name from Git's PATH: say whether it will be found.
fn reachability(out: &mut dyn Write) -> Result<()> {
    match which::which("git-atlas") {
        Ok(path) => writeln!(out, "git-atlas on PATH: {}", path.display())?,
        Err(_) => writeln!(
            out,
            "warning: git-atlas is not on PATH, so the hooks will skip their work with a one-line warning; install it (e.g. `cargo install --path .`) or add its directory to PATH"
        )?,
    }
    Ok(())
}
