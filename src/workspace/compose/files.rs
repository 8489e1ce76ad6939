//! What a worktree gets for one of the project's Compose projects: the variables of its
//! project directory's `.env` (`COMPOSE_PROJECT_NAME`, `COMPOSE_FILE`, the published ports'
//! variables) and the override file, and the lines a user must read about them.

use std::path::{Path, PathBuf};

use crate::docker::compose::Installed;
use crate::docker::isolate::{self, Isolation, Syntax, OVERRIDE_FILE};
use crate::files::dotenv::DotEnv;
use crate::files::generate::{self, WorktreeVars, MARKER};
use crate::git::repo::Worktree;

use super::super::checkout::Which;
use super::super::env_files::{self, Derived};
use super::super::{Inputs, Workspace};
use super::{join, ComposeProject};

/// What a worktree gets for one Compose project.
pub(in crate::workspace) struct ProjectFiles {
    /// The project directory's `.env` variables: name, files, ports through variables.
    pub env: Vec<(String, String)>,
    /// The override file and its text, when the project needs one.
    pub override_file: Option<(PathBuf, String)>,
}

impl Workspace {
    /// The Compose here, as the files git-atlas writes for it depend on it (asked once per
    /// install: see [`crate::docker::compose::installed_cached`]).
    pub(in crate::workspace) fn compose_installed(&self) -> Installed {
        *self.compose_installed.get_or_init(|| {
            crate::docker::compose::installed_cached(&self.registry.dir().join("compose-installed"))
        })
    }

    /// What `wt` gets for `project`, with its ports in `vars`; the lines a user must read (what
    /// this Compose cannot move, what a `-f` run does not read) are said.
    pub(in crate::workspace) fn project_files(
        &self,
        wt: &Worktree,
        inputs: &Inputs,
        vars: &WorktreeVars,
        project: &ComposeProject,
    ) -> ProjectFiles {
        let map = generate::PortMap::new(&inputs.services, vars.ports, &inputs.config);
        let moved = |base: u16| map.moved(base);
        let needs_tags = |iso: &Isolation| iso.body.as_deref().is_some_and(|b| b.contains('!'));
        // Tags only where they are needed, so that what v1 can read stays readable by it.
        let mut iso = isolate::isolate(&project.model, &vars.compose_project, &moved, Syntax::Tags);
        if needs_tags(&iso) && self.compose_installed().syntax == Syntax::Plain {
            iso = isolate::isolate(&project.model, &vars.compose_project, &moved, Syntax::Plain);
        }
        let mut env = vec![(
            "COMPOSE_PROJECT_NAME".to_string(),
            vars.compose_project.clone(),
        )];
        let project_dir = wt.path.join(&project.dir);
        let files_shown = project
            .files
            .iter()
            .map(|f| join(&project.dir, f))
            .collect::<Vec<_>>()
            .join(", ");
        let override_file = iso.body.as_ref().map(|body| {
            let header = format!(
                "# {MARKER} for worktree {} from {files_shown}: this worktree's own host ports, container names and volume and network names over the project's files; `git atlas env` writes it again (delete this line to keep your own edits).\n",
                vars.name
            );
            (project_dir.join(OVERRIDE_FILE), format!("{header}{body}"))
        });
        if override_file.is_some() && project.with_f.is_none() {
            let mut list = project.files.clone();
            list.push(OVERRIDE_FILE.to_string());
            env.push(("COMPOSE_FILE".into(), list.join(&project.separator)));
        }
        for (var, port) in &iso.vars {
            env.push((var.clone(), port.to_string()));
        }
        if !iso.unmoved.is_empty() {
            let ports: Vec<String> = iso.unmoved.iter().map(u16::to_string).collect();
            crate::term::warn(format!(
                "{files_shown} publishes host port(s) {} as numbers, which Compose v1 (docker-compose) cannot move in an override: {}'s project takes main's there; Compose v2.24.4 or later (`docker compose`) moves them",
                ports.join(", "),
                wt.name
            ));
        }
        if let Some(from) = project.with_f.filter(|_| override_file.is_some()) {
            crate::term::warn(format!(
                "{files_shown} is run with -f ({from}), so Compose reads {} there but not {}: for {}'s own host ports and names run `git atlas docker up`, or add `-f {}` after the project's files",
                project.env_rel(),
                project.override_rel(),
                wt.name,
                project.override_rel(),
            ));
        }
        ProjectFiles { env, override_file }
    }
}

impl Workspace {
    /// What `wt` gets for one of the project's Compose projects: its variables in the project
    /// directory's `.env` (the one carried there, else one of its own), and the override file
    /// unless `--no-docker`.
    pub(in crate::workspace) fn compose_files(
        &self,
        wt: &Worktree,
        inputs: &Inputs,
        vars: &WorktreeVars,
        project: &ComposeProject,
        which: &Which,
        out: &mut Vec<Derived>,
    ) {
        let dir = wt.path.join(&project.dir);
        // Nothing for a branch without the project's files there.
        let Some(first) = project.files.first().map(|f| dir.join(f)) else {
            return;
        };
        if !first.is_file() {
            return;
        }
        let mut files = self.project_files(wt, inputs, vars, project);
        let target = wt.path.join(project.env_rel());
        let ours = |path: &Path| {
            std::fs::symlink_metadata(path).is_err() || generate::is_unchanged_generated(path)
        };
        let own = dir.join(OVERRIDE_FILE);
        match files.override_file.take() {
            Some((path, text))
                if *which != Which::AllButCompose && which.wants(&path) && ours(&path) =>
            {
                out.push(Derived {
                    out: path,
                    text,
                    source: first.clone(),
                    yaml: true,
                });
            }
            // `--no-docker`, or the user's own edits there: `COMPOSE_FILE` names the override
            // only if it is there.
            Some(_) if own.exists() => {}
            Some(_) => files.env.retain(|(k, _)| k != "COMPOSE_FILE"),
            // Nothing to override any more: what git-atlas wrote before goes.
            None => env_files::remove_own(
                &own,
                &wt.name,
                "(the project's compose files publish nothing it must move or rename now)",
            ),
        }
        if let Some(derived) = out.iter_mut().find(|d| d.out == target) {
            let mut env = DotEnv::parse(&derived.text).expect("derived env parses");
            with_vars(&mut env, &files.env);
            derived.text = env.render();
        } else if which.wants(&target) && ours(&target) {
            let header = format!(
                "# {} for worktree {} from {}: Compose reads it in this directory, for the worktree's own project; `git atlas env` writes it again (delete this line to keep your own edits).\n",
                generate::MARKER,
                wt.name,
                join(&project.dir, &project.files[0]),
            );
            let mut env = DotEnv::parse(&header).expect("header parses");
            for (key, value) in &files.env {
                env.push(key, value);
            }
            out.push(Derived {
                out: target,
                text: env.render(),
                source: first.clone(),
                yaml: false,
            });
        } else if which.wants(&target) {
            crate::term::warn(format!(
                "{}: Compose reads this worktree's own file there, which git-atlas does not write: {}'s project has main's name and ports there unless it sets COMPOSE_PROJECT_NAME{} (or run `git atlas docker up`)",
                target.display(),
                wt.name,
                if files.env.iter().any(|(k, _)| k == "COMPOSE_FILE") { " and COMPOSE_FILE" } else { "" }
            ));
        }
    }
}

/// `env` with `pairs` set: replaced where it has them, else added under one comment.
pub(in crate::workspace) fn with_vars(env: &mut DotEnv, pairs: &[(String, String)]) {
    let mut appended = false;
    for (key, value) in pairs {
        if !env.set(key, value) {
            if !appended {
                env.push_comment("");
                env.push_comment("# Added by git-atlas for Docker Compose");
                appended = true;
            }
            env.push(key, value);
        }
    }
}
