//! The files git-atlas writes into a worktree, each named by a setting: the check that they may
//! be written, before a command reconciles; and their lines in `info/exclude`.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::files::{exclude, generate};
use crate::git::repo::Worktree;
use crate::ports::registry::Registry;

use super::{Inputs, Workspace};

/// One file git-atlas writes into a worktree when its source is there.
struct Output<'a> {
    /// Its path in the worktree, as its setting gives it.
    path: &'a str,
    /// Whether the worktree's inputs have what it is made from (`.env`, a template).
    found: bool,
}

/// The files a worktree with `inputs` gets.
fn outputs(inputs: &Inputs) -> [Output<'_>; 3] {
    let cfg = &inputs.config;
    [
        Output {
            path: &cfg.env.output,
            found: inputs.env.is_some(),
        },
        Output {
            path: &cfg.templates.env_output,
            found: inputs.env_template.is_some(),
        },
        Output {
            path: &cfg.templates.compose_output,
            found: inputs.compose_template.is_some(),
        },
    ]
}

impl Workspace {
    /// Fail unless every file git-atlas would write into `wt` may be written there (see
    /// [`generate::check_replaceable`]): for commands that reconcile before they write, so that
    /// one that will fail fails before it writes anything.
    pub fn check_replaceable_outputs(&self, wt: &Worktree) -> Result<()> {
        let inputs = self.inputs(&wt.path)?;
        for o in outputs(&inputs).iter().filter(|o| o.found) {
            generate::check_replaceable(&wt.path.join(o.path))?;
        }
        Ok(())
    }

    /// After each of `wt`'s files was written from `reg` (`written`, so far): their lines in
    /// `info/exclude` (see [`exclude::update`]), against the worktrees `reg` has. Each file gets
    /// its line as soon as it is there, so that a later one that cannot be written leaves
    /// nothing showing in `git status`.
    pub(super) fn exclude_written(
        &self,
        wt: &Worktree,
        reg: &Registry,
        written: &[PathBuf],
    ) -> Result<()> {
        let dirs: Vec<&Path> = reg.worktrees.values().map(|r| r.path.as_path()).collect();
        exclude::update(self.repo.common_dir(), &wt.path, written, &dirs)
    }
}
