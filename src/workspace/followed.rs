//! The tracked files a linked worktree's generated files are made from (`.atlas.toml`, the
//! templates, the compose files with what they include or extend, the package script that runs
//! Compose with `-f`), listed for the post-checkout shim: a checkout that changes, adds or
//! deletes one of them has git-atlas write the worktree's files again (see
//! [`crate::git::hooks::write_followed`]). A file Git ignores (main's `.env`) is not listed: a
//! checkout does not change it.

use std::path::{Path, PathBuf};

use crate::config::TEAM_FILE;
use crate::docker::model;
use crate::git::hooks::Followed;
use crate::git::repo::Worktree;

use super::{Inputs, Workspace};

impl Workspace {
    /// What `wt`'s files, just written from `inputs` (`written`), follow.
    pub(super) fn followed(
        &self,
        wt: &Worktree,
        inputs: &Inputs,
        written: &[PathBuf],
    ) -> Vec<Followed> {
        let mut rel: Vec<String> = vec![TEAM_FILE.to_string()];
        let cfg = &inputs.config;
        rel.extend([cfg.templates.env.clone(), cfg.templates.compose.clone()]);
        // An env source of the worktree's own (a tracked one), not main's carried copy.
        if let Some(own) = inputs.env_path.as_deref().filter(|_| !inputs.env_carried) {
            rel.extend(relative(own, &wt.path));
        }
        let main = self.repo.main_dir();
        for project in &inputs.compose {
            let join = |name: &str| {
                Path::new(&project.dir)
                    .join(name)
                    .to_string_lossy()
                    .into_owned()
            };
            rel.extend(project.files.iter().map(|f| join(f)));
            // What include and extends named, wherever the model was read (the worktree's
            // checkout, or main's when the worktree has none).
            for source in &project.model.sources {
                rel.extend(
                    [Some(wt.path.as_path()), main.as_deref()]
                        .into_iter()
                        .flatten()
                        .find_map(|root| relative(source, root)),
                );
            }
            match project.with_f {
                // The files plain Compose looks for there, present or not.
                None => rel.extend(
                    model::DEFAULT_FILES
                        .iter()
                        .chain(model::DEFAULT_OVERRIDES.iter())
                        .map(|f| join(f)),
                ),
                Some("package.json") => rel.push("package.json".into()),
                Some(_) => {}
            }
        }
        let mut out: Vec<Followed> = Vec::new();
        for r in rel {
            let r = r.trim_start_matches("./").to_string();
            let path = wt.path.join(&r);
            if r.is_empty() || written.contains(&path) || out.iter().any(|f| f.rel == r) {
                continue;
            }
            out.push(Followed {
                present: path.is_file(),
                rel: r,
            });
        }
        out
    }
}

/// `path` from `root`, when it is inside it.
fn relative(path: &Path, root: &Path) -> Option<String> {
    path.strip_prefix(root)
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}
