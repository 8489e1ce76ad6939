//! A worktree's Compose projects as Compose runs them there, read back from its files:
//! `git atlas docker config`, and what `docker up` and `ports check` go by.

use std::path::PathBuf;

use serde::Serialize;

use crate::docker::isolate::OVERRIDE_FILE;
use crate::docker::model;
use crate::files::generate;
use crate::git::repo::Worktree;

use super::super::Workspace;

/// A worktree's project as Compose will run it there, read back from its files (the `.env`
/// and override git-atlas wrote included): for `git atlas docker config` and its checks.
#[derive(Debug, Clone, Serialize)]
pub struct Running {
    pub name: String,
    pub directory: PathBuf,
    pub files: Vec<PathBuf>,
    /// Run with `-f`: these are the files `git atlas docker up` gives Compose.
    pub with_f: bool,
    pub services: Vec<RunningService>,
    pub volumes: Vec<RunningResource>,
    pub networks: Vec<RunningResource>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunningService {
    pub service: String,
    pub container_name: String,
    pub ports: Vec<RunningPort>,
    /// Compose starts it only with one of these profiles (none: always).
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunningPort {
    pub host_ip: Option<String>,
    pub published: Option<u16>,
    pub target: String,
    pub protocol: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunningResource {
    pub key: String,
    pub name: String,
    pub external: bool,
}

impl Running {
    /// The host ports it publishes.
    pub fn host_ports(&self) -> Vec<u16> {
        self.services
            .iter()
            .flat_map(|s| s.ports.iter().filter_map(|p| p.published))
            .collect()
    }
}

impl Workspace {
    /// `wt`'s Compose projects of the project's own files, as Compose runs them there.
    pub fn running_projects(&self, wt: &Worktree) -> crate::error::Result<Vec<Running>> {
        let inputs = self.inputs(&wt.path)?;
        let mut out = Vec::new();
        if inputs.compose.is_empty() {
            // Without Compose files there is nothing to ask Compose about (nor to look for it).
            return Ok(out);
        }
        let plugin = self.compose_installed().plugin;
        for project in &inputs.compose {
            let dir = if project.dir.is_empty() {
                wt.path.clone()
            } else {
                wt.path.join(&project.dir)
            };
            let env_path = dir.join(".env");
            let env = env_path
                .is_file()
                .then(|| generate::read_dotenv(&env_path).ok())
                .flatten();
            let lookup = |name: &str| env.as_ref().and_then(|e| e.value(name));
            let mut files: Vec<PathBuf> = if project.with_f.is_some() {
                project.files.iter().map(|f| dir.join(f)).collect()
            } else {
                model::discover(&dir, &lookup)
            };
            let own = dir.join(OVERRIDE_FILE);
            if project.with_f.is_some() && own.is_file() && !wt.is_main {
                files.push(own);
            }
            files.retain(|f| f.is_file());
            let model = model::load(&files, &lookup).map_err(crate::error::Error::failed)?;
            let name = if wt.is_main {
                project.main_name(&wt.path)
            } else {
                lookup("COMPOSE_PROJECT_NAME")
                    .or_else(|| model.name.clone())
                    .map(|n| model::normalize_project_name(&n))
                    .unwrap_or_else(|| self.compose_project(wt))
            };
            let resources = |list: &indexmap::IndexMap<String, model::Resource>| {
                list.iter()
                    .map(|(key, r)| RunningResource {
                        key: key.clone(),
                        name: r.name.clone().unwrap_or_else(|| format!("{name}_{key}")),
                        external: r.external,
                    })
                    .collect()
            };
            let sep = if plugin { "-" } else { "_" };
            out.push(Running {
                services: model
                    .services
                    .iter()
                    .map(|(s, def)| RunningService {
                        service: s.clone(),
                        profiles: def.profiles.clone(),
                        container_name: def
                            .container_name
                            .clone()
                            .unwrap_or_else(|| format!("{name}{sep}{s}{sep}1")),
                        ports: def
                            .ports
                            .iter()
                            .flat_map(|p| {
                                let one = |published: Option<u16>| RunningPort {
                                    host_ip: p.host_ip.clone(),
                                    published,
                                    target: published
                                        .map_or_else(|| p.target.clone(), |b| p.target_of(b)),
                                    protocol: p.protocol.clone().unwrap_or_else(|| "tcp".into()),
                                };
                                match &p.published {
                                    Some(r) => (r.lo..=r.hi).map(|b| one(Some(b))).collect(),
                                    None => vec![one(None)],
                                }
                            })
                            .collect(),
                    })
                    .collect(),
                volumes: resources(&model.volumes),
                networks: resources(&model.networks),
                name,
                directory: dir,
                files,
                with_f: project.with_f.is_some(),
            });
        }
        Ok(out)
    }
}
