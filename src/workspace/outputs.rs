//! The files git-atlas writes into a worktree, each named by a setting: the check, before `git
//! worktree add` creates anything, that the commit it checks out tracks none of them; the
//! hooks' writing of a new worktree's files, which leaves a tracked one to Git; the check that
//! they may be written, before a command reconciles; and their lines in `info/exclude`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files::{exclude, generate};
use crate::git::repo::Worktree;
use crate::git::tree::{self, Checkout, Tracked};
use crate::ports::registry::Registry;

use super::checkout::{Which, Written};
use super::{Inputs, Workspace};

/// One file git-atlas writes into a worktree when its source is there.
struct Output<'a> {
    /// Its path in the worktree, as its setting gives it.
    path: &'a str,
    /// What it is made from (`.env`, a template), and whether the worktree's inputs have it.
    source: &'a str,
    found: bool,
    /// The setting that names it, and another name to suggest.
    setting: &'static str,
    example: &'static str,
    /// The Compose file (`--no-docker` leaves it unwritten); else an env file.
    compose: bool,
}

/// The files a worktree with `inputs` gets.
fn outputs(inputs: &Inputs) -> [Output<'_>; 3] {
    let cfg = &inputs.config;
    // An env source the main worktree's Git ignores is carried at its own path instead: no
    // `[env] output` is derived from it (unless the commit tracks the source after all).
    let carried = inputs
        .carried
        .iter()
        .any(|f| f.rel == cfg.env.source.trim_start_matches("./"));
    [
        Output {
            path: &cfg.env.output,
            source: &cfg.env.source,
            found: inputs.env.is_some() && !carried,
            setting: "[env] output",
            example: ".env.worktree-local",
            compose: false,
        },
        Output {
            path: &cfg.templates.env_output,
            source: &cfg.templates.env,
            found: inputs.env_template.is_some(),
            setting: "[templates] env_output",
            example: ".env.worktree-atlas",
            compose: false,
        },
        Output {
            path: &cfg.templates.compose_output,
            source: &cfg.templates.compose,
            found: inputs.compose_template.is_some(),
            setting: "[templates] compose_output",
            example: "docker-compose.worktree.yml",
            compose: true,
        },
    ]
}

/// The paths of the files a worktree with `inputs` may get, as their settings give them.
pub(super) fn paths(inputs: &Inputs) -> impl Iterator<Item = &str> {
    outputs(inputs).into_iter().map(|o| o.path)
}

/// Of `outputs`, those git-atlas would write (their source is found, or `tree` brings it)
/// that `tree` tracks.
fn tracked_outputs<'a>(outputs: &'a [Output<'a>], tree: &Tracked) -> Vec<&'a Output<'a>> {
    let has = |p: &str| tree.paths.iter().any(|t| t == p);
    outputs
        .iter()
        .filter(|o| has(o.path) && (o.found || has(o.source)))
        .collect()
}

/// `.env.local`, or `.env.local and docker-compose.yml`, and the verb that goes with it.
fn names(tracked: &[&Output]) -> (String, &'static str) {
    let names: Vec<&str> = tracked.iter().map(|o| o.path).collect();
    let verb = if names.len() == 1 { "is" } else { "are" };
    let text = match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    (text, verb)
}

/// `[env] output = ".env.worktree-local"`: another name for each of `tracked`, for hints.
fn renames(tracked: &[&Output]) -> String {
    let settings: Vec<String> = tracked
        .iter()
        .map(|o| format!("{} = \"{}\"", o.setting, o.example))
        .collect();
    settings.join(", ")
}

impl Workspace {
    /// Fail, before `git worktree add` creates anything, when the commit it will check out
    /// (`checkout`) tracks a file git-atlas would write into the new worktree at `target`
    /// (with `inputs`, those of the worktree `add` runs in): git-atlas never replaces a
    /// tracked file, so the worktree would exist without its files and the command fail
    /// halfway. `compose: false` (`--no-docker`) leaves the Compose file out. One look at the
    /// commit's tree, through gix; when the commit cannot be read here, Git and the writer
    /// have the last word.
    pub fn check_untracked_outputs(
        &self,
        inputs: &Inputs,
        checkout: &Checkout,
        compose: bool,
        target: &Path,
    ) -> Result<()> {
        let outputs: Vec<Output> = outputs(inputs)
            .into_iter()
            .filter(|o| compose || !o.compose)
            .collect();
        let paths: Vec<&str> = outputs.iter().flat_map(|o| [o.path, o.source]).collect();
        let Some(tree) = self
            .gix_here()
            .and_then(|repo| tree::tracked_in(repo, checkout, &paths))
        else {
            return Ok(());
        };
        let tracked = tracked_outputs(&outputs, &tree);
        if tracked.is_empty() {
            return Ok(());
        }
        let (names, verb) = names(&tracked);
        let named = if tree.named == tree.commit {
            String::new()
        } else {
            format!(" ({})", tree.named)
        };
        let skip = if !tracked.iter().any(|o| o.compose) {
            "pass --no-env to write no env files"
        } else if tracked.iter().all(|o| o.compose) {
            "pass --no-docker to write no Compose file"
        } else {
            "pass --no-env to write none of them"
        };
        Err(Error::failed(format!(
            "{names} {verb} tracked in commit {}{named}, which `git worktree add` would check out into {}; git-atlas writes its own {names} there and never replaces a tracked file, so nothing was created",
            tree.commit,
            target.display()
        ))
        .hint(format!(
            "name another file in .atlas.toml ({}), or {skip}",
            renames(&tracked)
        )))
    }

    /// [`Workspace::regenerate`] for a worktree Git has just checked out (the hooks' work): a
    /// file its commit tracks is Git's, so it is left as Git wrote it, and the returned note
    /// says so; the others are written. `None` when `wt` is not its checkout any more. The
    /// commit is read only when a file git-atlas would write is there already (Git checked out
    /// a tracked one), so a new worktree's files usually cost no look at it.
    pub fn generate_new(&self, wt: &Worktree) -> Result<Option<(Vec<PathBuf>, Option<String>)>> {
        let inputs = self.inputs(&wt.path)?;
        let outputs = outputs(&inputs);
        let there =
            |o: &&Output| o.found && std::fs::symlink_metadata(wt.path.join(o.path)).is_ok();
        let wanted: Vec<&str> = outputs.iter().filter(there).map(|o| o.path).collect();
        let tree = match wanted.is_empty() {
            true => None,
            false => tree::tracked(&wt.path, &Checkout::head(), &wanted),
        };
        let tracked = tree.as_ref().map(|t| tracked_outputs(&outputs, t));
        let (Some(tree), Some(tracked)) = (&tree, tracked.filter(|t| !t.is_empty())) else {
            return Ok(self.regenerate(wt)?.map(|w| (w, None)));
        };
        let skip = tracked.iter().map(|o| wt.path.join(o.path)).collect();
        let written: Written = self.write_files(wt, Which::AllBut(skip))?;
        let (names, verb) = names(&tracked);
        let note = format!(
            "{names} {verb} tracked in {}, so git-atlas left {} to Git (name another file in .atlas.toml: {})",
            tree.commit,
            if tracked.len() == 1 { "it" } else { "them" },
            renames(&tracked)
        );
        Ok(written.map(|w| (w, Some(note))))
    }

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
