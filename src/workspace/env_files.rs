//! A worktree's env files: the main worktree's that Git ignores, which every other worktree gets
//! a copy of at the same path ([`EnvFile`], `[env] carry`), and what git-atlas makes of them and
//! of the env source for a worktree, with its ports and database names.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::files;
use crate::files::dotenv::DotEnv;
use crate::files::generate::{self, Extras, WorktreeVars};
use crate::git::repo::Worktree;

use super::checkout::Which;
use super::{Inputs, Workspace};

/// An env file of the main worktree and what a worktree gets of it ([`Workspace::env_pairs`]).
pub struct EnvPair {
    /// What its variables' names start with where they are shown: empty for the env source,
    /// `apps/api/.env:` for a carried file.
    pub prefix: String,
    pub source: DotEnv,
    pub derived: DotEnv,
    /// Its folder, relative to the worktree's root.
    pub dir: PathBuf,
}

/// One of the main worktree's ignored env files, as a worktree gets it.
pub struct EnvFile {
    /// Its path relative to the worktree's root (`apps/web/.env`), `/`-separated.
    pub rel: String,
    /// The main worktree's file.
    pub path: PathBuf,
    pub env: DotEnv,
}

/// Of `carried`, those other than the env source's own file (`source`, which the inputs hold
/// already when `has_source`), in order: each env file once.
pub(super) fn besides_source<'a>(
    carried: &'a [EnvFile],
    has_source: bool,
    source: &'a str,
) -> impl Iterator<Item = &'a EnvFile> {
    let source = source.trim_start_matches("./");
    carried
        .iter()
        .filter(move |f| !has_source || f.rel != source)
}

impl Inputs {
    /// The carried env files other than the env source's own ([`besides_source`]).
    pub fn other_env_files(&self) -> impl Iterator<Item = &EnvFile> {
        besides_source(&self.carried, self.env.is_some(), &self.config.env.source)
    }

    /// The env file git-atlas writes from the env source in a worktree: the source's own path
    /// when it is carried, else `[env] output` (`.env.local`, beside a committed `.env`).
    pub fn env_output(&self) -> &str {
        if self.env_carried {
            &self.config.env.source
        } else {
            &self.config.env.output
        }
    }
}

/// An env file for a worktree: where it goes, what it holds, and the main worktree's file it is
/// made from (whose mode it takes).
pub(super) struct Derived {
    pub out: PathBuf,
    pub text: String,
    pub source: PathBuf,
    /// A Compose override (YAML, its own mode) rather than an env file.
    pub yaml: bool,
}

impl Workspace {
    /// The main worktree's env files that `config` carries into other worktrees: ignored by
    /// Git, not written by git-atlas, not one of git-atlas's outputs. Main's ignored
    /// files are walked once per command.
    pub(super) fn carried_files(&self, main: &Path, config: &Config) -> Result<Vec<EnvFile>> {
        let patterns = files::carry::Patterns::new(&config.env.carry);
        if patterns.is_empty() {
            return Ok(Vec::new());
        }
        let ignored = files::carry::candidates(self.main_ignored(main)?);
        let listed = files::carry::select(main, &ignored, &patterns);
        let outputs = [
            &config.templates.env_output,
            &config.templates.compose_output,
        ];
        let mut out = Vec::new();
        for rel in listed {
            if outputs.iter().any(|o| o.trim_start_matches("./") == rel) {
                continue;
            }
            let path = main.join(rel);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
            if generate::is_generated_text(&text) {
                continue;
            }
            let env = generate::parse_dotenv(&path, &text)?;
            out.push(EnvFile {
                rel: rel.clone(),
                path,
                env,
            });
        }
        Ok(out)
    }

    /// Each env file of `wt` with a database in it: the main worktree's (its env source, then
    /// its carried files, each once) beside what git-atlas makes of it for `wt`, computed (not
    /// read from disk, which `--no-env` may have left unwritten), with how its variables are
    /// called (`DATABASE_URL`, `apps/api/.env:DATABASE_URL`) and the folder its relative SQLite
    /// paths start from.
    pub fn env_pairs(&self, wt: &Worktree, inputs: &Inputs) -> Result<Vec<EnvPair>> {
        let reg = self.registry.read()?;
        let vars = self.worktree_vars(wt, &reg)?;
        let cfg = &inputs.config;
        let mut out = Vec::new();
        if let Some(source) = &inputs.env {
            let local = generate::env_local(source, "", &inputs.services, &vars, cfg);
            out.push(EnvPair {
                prefix: String::new(),
                source: source.clone(),
                derived: local,
                dir: PathBuf::new(),
            });
        }
        for file in inputs.other_env_files() {
            let derived = generate::carried(
                &file.env,
                &file.rel,
                &inputs.services,
                &vars,
                cfg,
                generate::Extras::None,
            );
            out.push(EnvPair {
                prefix: format!("{}:", file.rel),
                source: file.env.clone(),
                derived,
                dir: Path::new(&file.rel)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The env files git-atlas writes into `wt`, as `which` asks: the env source's (carried at
    /// its own path, or `[env] output` derived from a committed one) and every other carried
    /// file. None in the main worktree, which runs on its own; none in a folder `wt`'s branch
    /// does not have; none over a file `wt` has that git-atlas did not write (said once).
    pub(super) fn env_files(
        &self,
        wt: &Worktree,
        inputs: &Inputs,
        vars: &WorktreeVars,
        which: &Which,
    ) -> Vec<Derived> {
        let mut out = Vec::new();
        if wt.is_main {
            return out;
        }
        let cfg = &inputs.config;
        let carried = |file: &EnvFile, extras: Extras| {
            generate::carried(&file.env, &file.rel, &inputs.services, vars, cfg, extras).render()
        };
        let wanted = |path: &Path| which.wants(path) && path.parent().is_some_and(Path::is_dir);
        if let (Some(source), Some(path)) = (&inputs.env, &inputs.env_path) {
            let target = wt.path.join(inputs.env_output());
            if wanted(&target) {
                // The header names the source as `[env] source` does (`apps/api/.env`), so that
                // it says which file to edit.
                let env = if inputs.env_carried {
                    generate::carried(
                        source,
                        &cfg.env.source,
                        &inputs.services,
                        vars,
                        cfg,
                        Extras::All,
                    )
                } else {
                    generate::env_local(source, &cfg.env.source, &inputs.services, vars, cfg)
                };
                let mut text = env.render();
                // Main's own ignored file by the output's name (`.env.local` beside a committed
                // `.env`) holds what main runs with over the source: it follows, moved too.
                if let Some(over) = inputs.carried.iter().find(|f| f.rel == cfg.env.output) {
                    let over = carried(over, Extras::None);
                    let body = over.split_once('\n').map_or("", |(_, b)| b);
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                    text.push_str(&format!(
                        "\n# From the main worktree's {}, with this worktree's ports:\n{body}",
                        cfg.env.output
                    ));
                }
                out.push(Derived {
                    out: target,
                    text,
                    source: path.clone(),
                    yaml: false,
                });
            }
            if inputs.env_carried {
                // What git-atlas derived from the env source before it carried it would
                // override the worktree's own copy for readers of `.env.local`.
                remove_own(
                    &wt.path.join(&cfg.env.output),
                    &wt.name,
                    "it carried the env source into the worktree",
                );
            }
        }
        // The env source's file, or the output derived from it (which holds that one).
        let taken = match (&inputs.env, inputs.env_carried) {
            (None, _) => None,
            (Some(_), true) => Some(cfg.env.source.trim_start_matches("./")),
            (Some(_), false) => Some(cfg.env.output.as_str()),
        };
        for file in inputs
            .carried
            .iter()
            .filter(|f| taken != Some(f.rel.as_str()))
        {
            let target = wt.path.join(&file.rel);
            if !wanted(&target) {
                continue;
            }
            // The worktree's own file there (its branch's, one its user made or edited) stays.
            if std::fs::symlink_metadata(&target).is_ok()
                && !generate::is_unchanged_generated(&target)
            {
                let why = if generate::is_generated(&target) {
                    "it was edited since git-atlas wrote it"
                } else {
                    "this worktree has its own"
                };
                crate::term::warn(format!(
                    "{}: not carried from the main worktree, {why} (delete it to get main's, with this worktree's ports)",
                    target.display()
                ));
                continue;
            }
            let extras = if compose_reads(&target) {
                Extras::Compose
            } else {
                Extras::None
            };
            out.push(Derived {
                text: carried(file, extras),
                out: target,
                source: file.path.clone(),
                yaml: false,
            });
        }
        for project in &inputs.compose {
            self.compose_files(wt, inputs, vars, project, which, &mut out);
        }
        out
    }
}

/// Whether Docker Compose reads the env file at `path` by itself: a `.env` beside a compose file
/// (the project directory's).
fn compose_reads(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == ".env")
        && path.parent().is_some_and(|dir| {
            [
                "compose.yaml",
                "compose.yml",
                "docker-compose.yaml",
                "docker-compose.yml",
            ]
            .iter()
            .any(|f| dir.join(f).is_file())
        })
}

/// Remove the file at `path` if git-atlas generated it for worktree `name` (and say so).
pub(super) fn remove_own(path: &Path, name: &str, why: &str) {
    let ours = std::fs::read_to_string(path)
        .is_ok_and(|t| generate::generated_for(&t, name) && !generate::edited(&t));
    if ours && std::fs::remove_file(path).is_ok() {
        crate::term::warn(format!(
            "removed {}, which git-atlas wrote before {why}",
            path.display()
        ));
    }
}
