//! `git atlas hooks install | uninstall | status`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{cwd, print_notes};
use crate::cli::{HooksArgs, HooksCommand};
use crate::commands::output;
use crate::error::Result;
use crate::git::hooks::State;
use crate::workspace::shims::{DEFAULT, EAGER, NAMES};
use crate::workspace::Workspace;

pub fn run(args_in: HooksArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let dirs = ws.hook_dirs()?;
    match args_in.command {
        HooksCommand::Install(install) => {
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
                for name in NAMES {
                    let path = dir.join(name).display().to_string();
                    if DEFAULT.contains(&name) || install.eager {
                        let what = ws.install_hook(dir, name)?;
                        writeln!(out, "{path}: {what}")?;
                    } else if matches!(ws.hook_state(dir, name), State::Installed | State::Outdated)
                    {
                        // An earlier install's, or an --eager one's: the default set is
                        // without it.
                        let what = ws.uninstall_hook(dir, name)?;
                        writeln!(out, "{path}: {what} (it ran at every ref update: several times per commit; `git atlas hooks install --eager` puts it back)")?;
                    }
                }
            }
            // Record the current worktrees so the shims stay quiet until something changes.
            print_notes(&ws.reconcile()?);
            reachability(out)?;
        }
        HooksCommand::Uninstall => {
            for dir in &dirs {
                for name in NAMES {
                    let what = ws.uninstall_hook(dir, name)?;
                    writeln!(out, "{}: {what}", dir.join(name).display())?;
                }
            }
        }
        HooksCommand::Status(args) if args.json => {
            let hooks: Vec<HookJson> = dirs
                .iter()
                .flat_map(|dir| NAMES.iter().map(move |name| (dir, *name)))
                .map(|(dir, name)| HookJson {
                    directory: dir,
                    name,
                    path: dir.join(name),
                    state: match ws.hook_state(dir, name) {
                        State::Installed => "installed",
                        State::Outdated => "outdated",
                        State::Foreign => "foreign",
                        State::Missing => "missing",
                    },
                })
                .collect();
            output::json(
                out,
                &HooksStatusJson {
                    hooks,
                    git_atlas_on_path: which::which("git-atlas").ok(),
                    skip_hooks: skip_hooks(),
                },
                true,
            )?;
        }
        HooksCommand::Status(_) => {
            for dir in &dirs {
                writeln!(out, "Hooks directory: {}", dir.display())?;
                for name in NAMES {
                    let state = match ws.hook_state(dir, name) {
                        State::Installed => "installed",
                        State::Outdated => {
                            "installed by another git-atlas version: run `git atlas hooks install`"
                        }
                        State::Foreign => {
                            "not installed (a hook of yours is there; install keeps it)"
                        }
                        State::Missing if name == EAGER => {
                            "not installed (opt-in: `git atlas hooks install --eager` releases a removed worktree at the next ref update, at a cost to every commit)"
                        }
                        State::Missing => "not installed",
                    };
                    writeln!(out, "  {name:<22} {state}")?;
                }
            }
            reachability(out)?;
            if skip_hooks() {
                writeln!(
                    out,
                    "GIT_ATLAS_SKIP_HOOKS is set: the hooks do nothing in this environment"
                )?;
            }
        }
    }
    Ok(())
}

/// `hooks status --json`, after `"version"`.
#[derive(Serialize)]
struct HooksStatusJson<'a> {
    /// Each shim of each hooks directory, in the order the human output lists them.
    hooks: Vec<HookJson<'a>>,
    /// Where Git's PATH finds `git-atlas` (what the hooks run), or null.
    git_atlas_on_path: Option<PathBuf>,
    /// GIT_ATLAS_SKIP_HOOKS is set: the hooks do nothing in this environment.
    skip_hooks: bool,
}

#[derive(Serialize)]
struct HookJson<'a> {
    directory: &'a Path,
    name: &'a str,
    path: PathBuf,
    /// installed, outdated (by another git-atlas version), foreign (a hook of yours, without
    /// the shim) or missing.
    state: &'static str,
}

/// GIT_ATLAS_SKIP_HOOKS set to anything but the empty string.
fn skip_hooks() -> bool {
    std::env::var_os("GIT_ATLAS_SKIP_HOOKS").is_some_and(|v| !v.is_empty())
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
