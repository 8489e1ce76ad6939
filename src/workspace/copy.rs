//! The copying side of the facade: what `.worktreeinclude` and `[copy] include` name among the
//! main worktree's ignored files, copied into a worktree (`git atlas add`, a new worktree's
//! first checkout through the hooks, `git atlas copy`).

use crate::copying::{self, Entry, Summary};
use crate::error::{Error, Result};
use crate::git::repo::Worktree;

use super::{Inputs, Workspace};

/// What a copy took from main and how it went.
pub struct Copied {
    pub entries: Vec<Entry>,
    pub summary: Summary,
}

impl Copied {
    /// `node_modules/, .venv/, certs/dev.pem`: the entries, folders with their slash, the first
    /// few by name.
    pub fn names(&self) -> String {
        let shown: Vec<String> = self
            .entries
            .iter()
            .take(4)
            .map(|e| format!("{}{}", e.rel, if e.dir { "/" } else { "" }))
            .collect();
        match self.entries.len() {
            n if n > 4 => format!("{} and {} more", shown.join(", "), n - 4),
            _ => shown.join(", "),
        }
    }
}

impl Workspace {
    /// Copy into `wt` what main's `.worktreeinclude` and `[copy] include` name among the files
    /// the main worktree's Git ignores. `None` when they
    /// name nothing, or there is no main worktree to copy from (a bare repository).
    pub fn copy_included(&self, wt: &Worktree, progress: bool) -> Result<Option<Copied>> {
        if wt.is_main {
            return Err(Error::usage(
                "the main worktree is where copies come from: name another worktree",
            ));
        }
        let Some(main) = self.repo.main_dir() else {
            return Ok(None);
        };
        // The patterns are main's (its .worktreeinclude, its .atlas.toml), like what they name.
        let include = self.inputs(&main)?.config.copy.include.clone();
        let patterns = copying::select::patterns(&main, &include)?;
        let inputs = self.inputs(&wt.path)?;
        if patterns.is_empty() {
            return Ok(None);
        }
        let skip = written_by_atlas(&inputs);
        let entries: Vec<Entry> = copying::select(&main, self.main_ignored(&main)?, &patterns)
            .into_iter()
            .filter(|e| e.dir || !skip.contains(&e.rel))
            .collect();
        if entries.is_empty() {
            return Ok(None);
        }
        // One copy into a worktree at a time, and none into a path that stopped being it.
        let Some(_held) = self.hold_checkout(wt)? else {
            return Err(super::not_a_checkout(wt));
        };
        let summary = copying::copy(&main, &wt.path, &entries, &skip, progress);
        Ok(Some(Copied { entries, summary }))
    }
}

/// The paths git-atlas writes into a worktree with `inputs` (its env files, carried ones with
/// the worktree's ports, its Compose files): main's raw copies of them are never copied.
fn written_by_atlas(inputs: &Inputs) -> Vec<String> {
    let mut out: Vec<String> = inputs.carried.iter().map(|f| f.rel.clone()).collect();
    out.extend(super::outputs::paths(inputs).map(|p| p.trim_start_matches("./").to_string()));
    for project in &inputs.compose {
        out.push(project.override_rel());
        out.push(project.env_rel());
    }
    out
}
