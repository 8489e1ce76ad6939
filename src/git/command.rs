//! Running `git` for what changes worktrees: argument vectors through duct, never a shell, with
//! the hook environment (`GIT_DIR`, …) cleared so the child finds the repository itself.

use std::ffi::OsString;
use std::path::Path;

use crate::error::{Error, Result};
use crate::git::repo::GIT_ENV;

/// An environment variable set while `git atlas add` runs `git worktree add`, so the hooks
/// it triggers leave the work to us instead of doing it twice.
pub const IN_ADD_ENV: &str = "GIT_ATLAS_IN_ADD";

/// `git`, looked up on `PATH` once per process. Spawning it by its path lets the standard
/// library start it with `posix_spawn` (a vfork): duct hands every child an explicit
/// environment, and for a bare name with one, std forks and searches `PATH` in the child, which
/// cost `git atlas add` a few tenths of a millisecond before Git could start. Not found, it
/// stays `git`, and spawning it reports that.
pub fn program() -> &'static Path {
    static GIT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    GIT.get_or_init(|| which::which("git").unwrap_or_else(|_| "git".into()))
}

fn git(cwd: &Path, args: Vec<OsString>) -> duct::Expression {
    let mut expr = duct::cmd(program(), args).dir(cwd);
    for var in GIT_ENV {
        expr = expr.env_remove(var);
    }
    expr
}

/// Run `git <args>` with inherited output, so the user sees Git's own messages.
pub fn run_visible(cwd: &Path, args: Vec<OsString>, extra_env: &[(&str, &str)]) -> Result<()> {
    start_visible(cwd, args, extra_env)?.wait()
}

/// A `git` started by [`start_visible`], running while we do something else.
pub struct Running {
    what: String,
    handle: duct::Handle,
}

impl Running {
    /// Wait for it; its failure is an error naming the command.
    pub fn wait(self) -> Result<()> {
        let status = self.handle.wait().map_err(spawn_error)?.status;
        if status.success() {
            Ok(())
        } else {
            Err(Error::failed(format!("`{}` failed ({status})", self.what)))
        }
    }
}

/// Start `git <args>` with inherited output (Git's own messages reach the user) and return
/// while it runs.
pub fn start_visible(
    cwd: &Path,
    args: Vec<OsString>,
    extra_env: &[(&str, &str)],
) -> Result<Running> {
    let what = describe(&args);
    let mut expr = git(cwd, args).stdout_to_stderr().unchecked();
    for (k, v) in extra_env {
        expr = expr.env(k, v);
    }
    let handle = expr.start().map_err(spawn_error)?;
    Ok(Running { what, handle })
}

/// Run `git <args>` and return its stdout.
pub fn read(cwd: &Path, args: Vec<OsString>) -> Result<String> {
    let what = describe(&args);
    let out = git(cwd, args)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(spawn_error)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::failed(format!(
            "`{what}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Uncommitted changes or untracked files (ignored ones do not count, as for `git worktree remove`).
pub fn is_dirty(worktree: &Path) -> Result<bool> {
    let out = read(
        worktree,
        crate::git::repo::args([
            "status",
            "--porcelain",
            "--untracked-files=normal",
            "--ignore-submodules=none",
        ]),
    )?;
    Ok(!out.trim().is_empty())
}

fn describe(args: &[OsString]) -> String {
    // Settings given before the subcommand (`-c core.hooksPath=…`) are not what the user asked.
    let mut args = args;
    while args.first().is_some_and(|a| a == "-c") && args.len() > 2 {
        args = &args[2..];
    }
    let words: Vec<_> = args
        .iter()
        .take_while(|a| !a.to_string_lossy().starts_with('-'))
        .map(|a| a.to_string_lossy())
        .collect();
    format!("git {}", words.join(" "))
}

fn spawn_error(e: std::io::Error) -> Error {
    Error::failed(format!("could not run git: {e}")).hint("is git installed and on PATH?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_named_by_its_subcommand_not_the_settings_before_it() {
        let args = |words: &[&str]| words.iter().map(OsString::from).collect::<Vec<_>>();
        let hooks_off = [
            "-c",
            "core.hooksPath=/dev/null",
            "worktree",
            "add",
            "--",
            "x",
        ];
        assert_eq!(describe(&args(&hooks_off)), "git worktree add");
        assert_eq!(describe(&args(&["ls-files", "-z"])), "git ls-files");
    }
}
