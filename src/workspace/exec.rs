//! Running a user's program in a worktree with the worktree's generated values in its
//! environment (`git atlas exec`).

use std::ffi::OsString;
use std::path::Path;

use crate::error::{Error, Result};
use crate::files::dotenv::DotEnv;
use crate::git::repo::Worktree;

use super::Workspace;

impl Workspace {
    /// What `git atlas exec` adds to the environment: every variable of the worktree's
    /// `.env.local`, then of its `.env.worktree` (rendered from its template), then
    /// `WORKTREE_NAME`, `COMPOSE_PROJECT_NAME`, `PORT_OFFSET` (offset strategy) and
    /// `ALLOCATED_<SERVICE>_PORT` for each port.
    pub fn exec_env(&self, wt: &Worktree) -> Result<Vec<(String, String)>> {
        let inputs = self.inputs(&wt.path)?;
        let mut env: Vec<(String, String)> = Vec::new();
        let mut add_all = |parsed: &DotEnv| {
            for var in parsed.vars() {
                env.retain(|(k, _)| *k != var.key);
                env.push((
                    var.key.clone(),
                    parsed.get(&var.key).unwrap_or_default().to_string(),
                ));
            }
        };
        // The main worktree runs on `.env` itself; a linked one on its `.env.local`.
        match self.read_generated_env(wt, inputs.env_output())? {
            Some(parsed) => add_all(&parsed),
            None if wt.is_main => {
                if let Some(env) = &inputs.env {
                    add_all(env);
                }
            }
            None => {}
        }
        if let Some(parsed) = self.read_generated_env(wt, &inputs.config.templates.env_output)? {
            add_all(&parsed);
        }
        let reg = self.registry.read()?;
        let mut set = |k: String, v: String| {
            env.retain(|(key, _)| *key != k);
            env.push((k, v));
        };
        set("WORKTREE_NAME".into(), wt.name.clone());
        set("COMPOSE_PROJECT_NAME".into(), self.compose_project(wt));
        if let Some(offset) = reg.worktrees.get(&wt.name).and_then(|r| r.offset) {
            set("PORT_OFFSET".into(), offset.to_string());
        }
        for (service, port) in reg.allocated_ports.get(&wt.name).into_iter().flatten() {
            set(
                format!("ALLOCATED_{}_PORT", service.to_ascii_uppercase()),
                port.to_string(),
            );
        }
        Ok(env)
    }

    /// The env file `name` of `wt`, parsed; `None` when it does not exist.
    fn read_generated_env(&self, wt: &Worktree, name: &str) -> Result<Option<DotEnv>> {
        let path = wt.path.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        DotEnv::parse(&text).map(Some).map_err(|e| {
            Error::failed(format!("{}: {e}", path.display())).hint(format!(
                "run `git atlas env {}` to write it again",
                crate::term::shell_word(&wt.name)
            ))
        })
    }

    /// Run `command` in `dir` with `env` added, no shell involved; its exit code becomes ours.
    pub fn exec(&self, command: &[OsString], dir: &Path, env: &[(String, String)]) -> Result<()> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| Error::usage("no command given: git atlas exec -- <command>…"))?;
        if !dir.is_dir() {
            return Err(Error::failed(format!(
                "cannot run in {}: the directory is gone",
                dir.display()
            ))
            .hint("`git atlas list` shows it as missing; `git worktree prune` forgets it"));
        }
        let status = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("PWD", dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .status()
            .map_err(|e| {
                let code = if e.kind() == std::io::ErrorKind::NotFound {
                    127
                } else {
                    126
                };
                let mut err =
                    Error::failed(format!("could not run {}: {e}", program.to_string_lossy()));
                err.kind = crate::error::Kind::Exit(code);
                err
            })?;
        match status.code() {
            Some(0) => Ok(()),
            Some(code) => Err(Error::exit(u8::try_from(code).unwrap_or(1))),
            None => {
                use std::os::unix::process::ExitStatusExt;
                let signal = status.signal().unwrap_or(0);
                Err(Error::exit(128u8.saturating_add(signal as u8)))
            }
        }
    }
}
