//! The Docker side of the facade: each worktree's Compose project (its name, its file, up, down,
//! its containers), and the teardown of projects whose worktree went without `git atlas remove`.

use std::path::PathBuf;

use crate::config::OnRemove;
use crate::docker::compose::{Compose, Project};
use crate::docker::engine::{self, Container, Removed};
use crate::docker::{self, Failure};
use crate::error::Result;
use crate::files::names;
use crate::files::Lock;
use crate::git::repo::Worktree;
use crate::ports::registry::ComposeRecord;

use super::{Report, Workspace};

/// A Compose project whose worktree is gone or missing (prunable).
#[derive(Debug, Clone)]
pub struct Orphan {
    pub project: String,
    pub worktree: String,
    /// Where the worktree was.
    pub path: PathBuf,
}

/// The directory another user of `project` runs it from, if its containers were not started
/// from `dir` (the worktree's).
fn foreign_user(project: &str, dir: &std::path::Path) -> docker::Result<Option<String>> {
    if dir.as_os_str().is_empty() {
        return Ok(None);
    }
    Ok(engine::containers(Some(project))?
        .into_iter()
        .map(|c| c.working_dir)
        .find(|d| !same_dir(d, dir)))
}

/// Is Compose's working-directory label `label` the directory `dir`, or one in it (a project
/// directory in the worktree, `docker/`)? (An empty label, from an older Compose, gives no
/// evidence otherwise.)
fn same_dir(label: &str, dir: &std::path::Path) -> bool {
    label.is_empty()
        || dir.as_os_str().is_empty()
        || std::path::Path::new(label).starts_with(dir)
        || matches!(
            (std::path::Path::new(label).canonicalize(), dir.canonicalize()),
            (Ok(a), Ok(b)) if a.starts_with(&b)
        )
}

/// Whether compose text publishes host port `port`: `6262:5432`, `127.0.0.1:6262:5432` or
/// `published: 6262`, and not as a container port or part of a longer number.
fn publishes(text: &str, port: u16) -> bool {
    let port = port.to_string();
    text.match_indices(&port).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + port.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit())
            && !after.is_some_and(|c| c.is_ascii_digit())
            && (after == Some(':') || text[..at].trim_end().ends_with("published:"))
    })
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
}

impl Workspace {
    /// `wt`'s Compose project name: `<repository>-<worktree>`, sanitised; for the main
    /// worktree running the project's own compose files, the name Compose gives it there.
    pub fn compose_project(&self, wt: &Worktree) -> String {
        if wt.is_main {
            let own = self
                .inputs(&wt.path)
                .ok()
                .and_then(|i| i.compose.first().map(|p| p.main_name(&wt.path)));
            if let Some(name) = own {
                return name;
            }
        }
        names::compose_project(&self.project_name(), &wt.name)
    }

    /// The directory and files Compose runs `wt`'s project from: the generated compose file,
    /// else the project's own files as they resolve in the worktree (the override included).
    fn compose_run(&self, wt: &Worktree) -> Option<(PathBuf, Vec<PathBuf>)> {
        if let Some(file) = self.compose_file(wt) {
            return Some((wt.path.clone(), vec![file]));
        }
        let running = self.running_projects(wt).ok()?.into_iter().next()?;
        (!running.files.is_empty()).then_some((running.directory, running.files))
    }

    /// `wt`'s generated compose file, if it has one.
    pub fn compose_file(&self, wt: &Worktree) -> Option<PathBuf> {
        let output = self
            .inputs(&wt.path)
            .map(|i| i.config.templates.compose_output.clone())
            .unwrap_or_else(|_| crate::config::TemplatesConfig::default().compose_output);
        Some(wt.path.join(output)).filter(|p| p.is_file())
    }

    /// How the user runs Compose here, for hints: `docker compose` or `docker-compose`.
    pub fn compose_name(&self) -> &'static str {
        if self.compose_installed().plugin {
            "docker compose"
        } else {
            "docker-compose"
        }
    }

    /// What `.atlas.toml` says happens to a project when its worktree goes.
    pub fn on_remove(&self) -> Result<OnRemove> {
        Ok(self.inputs(&self.here())?.config.docker.on_remove)
    }

    /// Remember `wt`'s project, so that it is torn down when the worktree goes.
    pub fn record_compose(&self, wt: &Worktree) -> Result<()> {
        let project = self.compose_project(wt);
        let known = |reg: &crate::ports::registry::Registry| {
            reg.compose_projects
                .get(&project)
                .is_some_and(|r| r.worktree == wt.name && r.path == wt.path && !r.down)
        };
        if known(&*self.registry.read()?) {
            return Ok(());
        }
        self.registry.update(|reg| {
            reg.compose_projects.insert(
                project.clone(),
                ComposeRecord {
                    worktree: wt.name.clone(),
                    path: wt.path.clone(),
                    down: false,
                },
            );
            Ok(())
        })
    }

    /// Forget a project: its resources are gone, or the user keeps them.
    fn forget_compose(&self, project: &str) -> Result<()> {
        if !self.registry.read()?.compose_projects.contains_key(project) {
            return Ok(());
        }
        self.registry.update(|reg| {
            reg.compose_projects.shift_remove(project);
            Ok(())
        })
    }

    /// Compose steps of this repository take turns: a teardown decided on a stale view must
    /// not remove what an `up` just started (both re-check under this lock).
    fn docker_turn(&self) -> docker::Result<Lock> {
        Lock::exclusive(&self.registry.dir().join("docker.lock"))
            .map_err(|e| Failure::Failed(e.to_string()))
    }

    /// Whether `wt`'s generated compose file publishes host port `port` (as `"6262:5432"`,
    /// `- 6262:5432` or `published: 6262`): its project would run what listens there.
    pub fn compose_publishes(&self, wt: &Worktree, port: u16) -> bool {
        if self.compose_file(wt).is_none() {
            return self
                .running_projects(wt)
                .is_ok_and(|r| r.iter().any(|p| p.host_ports().contains(&port)));
        }
        let Some(text) = self
            .compose_file(wt)
            .and_then(|f| std::fs::read_to_string(f).ok())
        else {
            return false;
        };
        publishes(&text, port)
    }

    /// `docker compose up -d` for `wt`'s generated compose file. Returns the project name.
    pub fn docker_up(&self, wt: &Worktree) -> docker::Result<String> {
        if !self.repo.is_checkout(wt) {
            return Err(Failure::Failed(
                super::checkout::not_a_checkout(wt).to_string(),
            ));
        }
        let project = self.compose_project(wt);
        let (dir, files) = self.compose_run(wt).ok_or_else(|| {
            let has_template = self
                .inputs(&wt.path)
                .is_ok_and(|i| i.compose_template.is_some());
            Failure::Failed(if has_template {
                format!(
                    "{} has no docker-compose.yml yet: run `git atlas docker regenerate {}` to render it from the template",
                    wt.name, crate::term::shell_word(&wt.name)
                )
            } else {
                format!(
                    "{} has no compose file to start: Compose finds none (compose.yaml, docker-compose.yml, COMPOSE_FILE) at its root or beside a .env the main worktree keeps; name the files the project runs with -f in .atlas.toml ([docker] files), or add docker-compose.worktree.template.yml",
                    wt.name
                )
            })
        })?;
        let compose = Compose::find()?;
        let _turn = self.docker_turn()?;
        if let Some(other) = foreign_user(&project, &dir)? {
            return Err(Failure::Failed(format!(
                "Compose project {project} is taken: its containers run from {other}, not from {} (another clone of the repository in a directory of the same name?); starting it here would replace them. Bring that one down first, or rename one of the repository directories",
                dir.display()
            )));
        }
        self.record_compose(wt)
            .map_err(|e| Failure::Failed(e.to_string()))?;
        crate::progress!("starting Compose project {project} (up -d)");
        compose.run(
            &Project {
                name: &project,
                dir: &dir,
                files: &files,
            },
            &["up", "-d"],
        )?;
        Ok(project)
    }

    /// Bring `wt`'s project down: its containers and networks, and with `volumes` its named
    /// volumes. Compose's `down` when the compose file is there, else by label; volumes always
    /// by label, so that a volume the file names but another project created is left alone.
    pub fn docker_down(&self, wt: &Worktree, volumes: bool) -> docker::Result<()> {
        let _turn = self.docker_turn()?;
        self.down_locked(wt, self.compose_file(wt), volumes)
    }

    /// `docker_down` for a caller that holds the Docker turn and has looked for the file.
    fn down_locked(
        &self,
        wt: &Worktree,
        file: Option<PathBuf>,
        volumes: bool,
    ) -> docker::Result<()> {
        let project = self.compose_project(wt);
        let with = if volumes { " with its volumes" } else { "" };
        crate::progress!("bringing Compose project {project} down{with}");
        match file {
            Some(file) => {
                Compose::find()?.run(
                    &Project {
                        name: &project,
                        dir: &wt.path,
                        files: std::slice::from_ref(&file),
                    },
                    &["down", "--remove-orphans"],
                )?;
                if volumes {
                    engine::remove_volumes(&project)?;
                }
            }
            None => {
                engine::remove_project(&project, volumes)?;
            }
        }
        Ok(())
    }

    /// Before `git atlas remove` takes `wt` away: what `[docker] on_remove` says (`down -v` by
    /// default), or nothing with `keep` (the project is forgotten, so no reconcile removes it
    /// later). Returns a line for the user, or `None` when there was nothing to do.
    pub fn docker_teardown(&self, wt: &Worktree, keep: bool) -> docker::Result<Option<String>> {
        let project = self.compose_project(wt);
        let recorded = self
            .registry
            .read()
            .is_ok_and(|r| r.compose_projects.contains_key(&project));
        let file = self.compose_file(wt);
        if !recorded && file.is_none() {
            return Ok(None);
        }
        let on_remove = if keep {
            OnRemove::Keep
        } else {
            // A configuration that does not load never falls back to removing data.
            self.on_remove().map_err(|e| {
                Failure::Failed(format!(
                    "left Compose project {project} as it is: [docker] on_remove is unknown ({e})"
                ))
            })?
        };
        if on_remove == OnRemove::Keep {
            let _ = self.forget_compose(&project);
            return Ok(Some(format!(
                "Left Compose project {project} as it is (its containers, networks and volumes stay)"
            )));
        }
        let volumes = on_remove == OnRemove::DownVolumes;
        let _turn = self.docker_turn()?;
        if let Some(dir) = foreign_user(&project, &wt.path)? {
            let _ = self.forget_compose(&project);
            return Ok(Some(format!(
                "Left Compose project {project} alone: its containers run from {dir}, not from {} (another clone of the repository?)",
                wt.path.display()
            )));
        }
        // A project that never ran (or is down already) has nothing to take down: Compose
        // would only complain that its network is not there.
        if !engine::project_exists(&project)? {
            let _ = self.forget_compose(&project);
            return Ok(None);
        }
        self.down_locked(wt, file, volumes)?;
        let _ = self.forget_compose(&project);
        Ok(Some(format!(
            "Brought Compose project {project} down{}",
            if volumes {
                " with its volumes"
            } else {
                " (its named volumes stay: [docker] on_remove = \"down\")"
            }
        )))
    }

    /// Every Compose container of this repository's worktrees (or of `only`), with the name of
    /// its worktree.
    pub fn containers(
        &self,
        worktrees: &[Worktree],
        only: Option<&Worktree>,
    ) -> docker::Result<Vec<(String, Container)>> {
        let reg = self
            .registry
            .read()
            .map_err(|e| Failure::Failed(e.to_string()))?;
        // Project, worktree, and the directory its containers must have been started from (a
        // project of the same name run from elsewhere is another clone's).
        let mut projects: Vec<(String, String, PathBuf)> = worktrees
            .iter()
            .map(|w| (self.compose_project(w), w.name.clone(), w.path.clone()))
            .collect();
        for (project, rec) in &reg.compose_projects {
            if !projects.iter().any(|(p, _, _)| p == project) {
                projects.push((project.clone(), rec.worktree.clone(), rec.path.clone()));
            }
        }
        if let Some(wt) = only {
            projects.retain(|(_, w, _)| *w == wt.name);
        }
        let project = match (only, projects.as_slice()) {
            (Some(_), [(p, _, _)]) => Some(p.as_str()),
            _ => None,
        };
        let mut out: Vec<(String, Container)> = engine::containers(project)?
            .into_iter()
            .filter_map(|c| {
                let (_, w, dir) = projects.iter().find(|(p, _, _)| *p == c.project)?;
                same_dir(&c.working_dir, dir).then(|| (w.clone(), c))
            })
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
        Ok(out)
    }

    /// Tear down the projects of worktrees that went without `git atlas remove`: containers and
    /// networks at once (they hold ports), volumes only once Git no longer lists the worktree.
    /// Each orphan is checked again under the Docker turn: a worktree of that name may have come
    /// back, or another process may have done the work.
    pub(super) fn teardown_orphans(&self, orphans: Vec<Orphan>, report: &mut Report) {
        if orphans.is_empty() {
            return;
        }
        let on_remove = match self.on_remove() {
            Ok(o) => o,
            Err(e) => {
                // Never fall back to the default (which removes volumes) on a broken file.
                report.docker.push(format!(
                    "Compose projects of removed worktrees wait: [docker] on_remove is unknown ({})",
                    first_line(&e.to_string())
                ));
                return;
            }
        };
        let turn = match self.docker_turn() {
            Ok(t) => t,
            Err(e) => {
                report.docker.push(e.to_string());
                return;
            }
        };
        for o in orphans {
            let Some(listed) = self.still_orphaned(&o) else {
                continue;
            };
            let volumes = on_remove == OnRemove::DownVolumes && !listed;
            let result = match on_remove {
                OnRemove::Keep => Ok(Removed::default()),
                _ => match foreign_user(&o.project, &o.path) {
                    Ok(Some(dir)) => {
                        report.docker.push(format!(
                            "left Compose project {} alone: containers of that name run from {dir}, not from {}'s directory {} (another clone of the repository?)",
                            o.project,
                            o.worktree,
                            o.path.display()
                        ));
                        let _ = self.forget_compose(&o.project);
                        continue;
                    }
                    Ok(None) => engine::remove_project(&o.project, volumes),
                    Err(e) => Err(e),
                },
            };
            match result {
                Ok(removed) => {
                    if !removed.is_empty() {
                        report.docker.push(format!(
                            "removed {removed} of Compose project {}: worktree {} {}",
                            o.project,
                            o.worktree,
                            if listed { "is missing" } else { "is gone" }
                        ));
                    }
                    let keep_record = listed && on_remove == OnRemove::DownVolumes;
                    let _ = self.registry.update(|reg| {
                        let worktrees = self.repo.worktrees()?;
                        if worktrees
                            .iter()
                            .any(|w| w.name == o.worktree && !w.prunable)
                        {
                            return Ok(()); // it came back meanwhile: the record is its own
                        }
                        match reg.compose_projects.get_mut(&o.project) {
                            Some(r) if r.path == o.path && keep_record => r.down = true,
                            Some(r) if r.path == o.path => {
                                reg.compose_projects.shift_remove(&o.project);
                            }
                            _ => {}
                        }
                        Ok(())
                    });
                }
                // Without Docker installed nothing of it can exist.
                Err(Failure::Absent(docker::Absent::NotInstalled(_))) => {
                    let _ = self.forget_compose(&o.project);
                }
                // Nothing of it runs while the daemon is down: try again at the next reconcile,
                // without a line on every command meanwhile (`ports cleanup` says it).
                Err(Failure::Absent(a)) => report.docker_deferred.push(format!(
                    "Compose project {} of {} waits for Docker: {a}",
                    o.project, o.worktree
                )),
                Err(Failure::Failed(m)) => report.docker.push(format!(
                    "could not tear down Compose project {} of {}: {}",
                    o.project,
                    o.worktree,
                    first_line(&m)
                )),
            }
        }
        drop(turn);
    }

    /// Whether `o` is still an orphan, with whether Git still lists its worktree; `None` when
    /// its record changed or its worktree is back.
    fn still_orphaned(&self, o: &Orphan) -> Option<bool> {
        let reg = self.registry.read().ok()?;
        let rec = reg.compose_projects.get(&o.project)?;
        if rec.worktree != o.worktree || rec.path != o.path {
            return None;
        }
        let worktrees = self.repo.worktrees().ok()?;
        match worktrees.iter().find(|w| w.name == o.worktree) {
            Some(w) if !w.prunable => None,
            Some(_) if rec.down => None,
            Some(_) => Some(true),
            None => Some(false),
        }
    }

    /// Projects whose volumes wait for `git worktree prune`, with their volume names.
    pub fn volumes_waiting(&self) -> Vec<(String, String, Vec<String>)> {
        let Ok(reg) = self.registry.read() else {
            return Vec::new();
        };
        reg.compose_projects
            .iter()
            .filter(|(_, r)| r.down)
            .map(|(p, r)| {
                (
                    p.clone(),
                    r.worktree.clone(),
                    engine::volumes(p).unwrap_or_default(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_reads_host_ports_only() {
        let text = "ports:\n  - \"6262:5432\"\n  - 127.0.0.1:7000:80\n  - target: 80\n    published: 8080\n";
        for port in [6262, 7000, 8080] {
            assert!(publishes(text, port), "{port}");
        }
        for port in [5432, 80, 262, 626, 700] {
            assert!(!publishes(text, port), "{port}");
        }
    }
}
