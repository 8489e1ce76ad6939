//! The steps side of the facade: a worktree's `[setup]` and `[teardown]` steps (from its own
//! `.atlas.toml`: a branch may change them, and a changed step is asked about again), this
//! repository's trust in them, and running them with the worktree's values.

use crate::config::{SetupConfig, TeardownConfig};
use crate::error::{Error, Result};
use crate::git::repo::Worktree;
use crate::steps::{background::Run, run, Failed, Output, Phase, Trust};

use super::Workspace;

/// A worktree's steps.
pub struct Steps {
    pub setup: SetupConfig,
    pub teardown: TeardownConfig,
}

impl Steps {
    pub fn of(&self, phase: Phase) -> &[String] {
        match phase {
            Phase::Setup => &self.setup.run,
            Phase::Teardown => &self.teardown.run,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.setup.run.is_empty() && self.teardown.run.is_empty()
    }

    /// Every step, setup's first.
    pub fn all(&self) -> Vec<String> {
        let mut all = self.setup.run.clone();
        all.extend(self.teardown.run.iter().cloned());
        all
    }
}

impl Workspace {
    pub fn steps(&self, wt: &Worktree) -> Result<Steps> {
        let config = &self.inputs(&wt.path)?.config;
        Ok(Steps {
            setup: config.setup.clone(),
            teardown: config.teardown.clone(),
        })
    }

    pub fn trust(&self) -> Trust {
        Trust::in_registry(self.registry.dir())
    }

    /// `wt`'s setup run files (lock, state, log).
    pub fn setup_run(&self, wt: &Worktree) -> Run {
        Run::of(self.registry.dir(), &wt.name)
    }

    /// Run `steps` of `phase` in `wt` with what `git atlas exec` gives a program.
    pub fn run_steps(
        &self,
        wt: &Worktree,
        phase: Phase,
        steps: &[String],
        output: Output,
        quiet: bool,
        started: impl FnMut(u32),
    ) -> Result<std::result::Result<(), Failed>> {
        if !wt.path.is_dir() {
            return Err(Error::failed(format!(
                "cannot run the {} steps of {}: {} is gone",
                phase.name(),
                wt.name,
                wt.path.display()
            )));
        }
        let env = self.exec_env(wt)?;
        Ok(run::run_all(
            phase, steps, &wt.path, &env, output, quiet, started,
        ))
    }
}
