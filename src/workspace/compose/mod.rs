//! The project's own Compose files in every worktree: where the project runs Compose (the
//! repository root, a folder whose `.env` the main worktree keeps beside a compose file, or
//! the files `[docker] files` runs with `-f`), what those files publish and name (read as main
//! runs them), and what a worktree gets so that a plain `docker compose up` there runs its own
//! project: `COMPOSE_PROJECT_NAME`, `COMPOSE_FILE` and the published ports' variables in the
//! project directory's `.env`, and the override file ([`crate::docker::isolate`]).

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::docker::isolate::OVERRIDE_FILE;
use crate::docker::model::{self, Model};
use crate::files::dotenv::DotEnv;
use crate::files::generate;
use crate::ports::services::{self, Service};

use super::env_files::EnvFile;

mod files;
mod running;

pub use running::{Running, RunningPort, RunningResource, RunningService};

/// A directory the project runs Compose in, and its model as the main worktree runs it.
#[derive(Debug, Clone)]
pub struct ComposeProject {
    /// The project directory, from the repository root (`""`, `docker`, `docker/development`).
    pub dir: String,
    /// Its compose files, from the project directory, in Compose's order.
    pub files: Vec<String>,
    /// Run with `-f`, and what says so (`[docker] files`, `package.json`): Compose reads
    /// neither `COMPOSE_FILE` nor an override there by itself, only the directory's `.env`.
    pub with_f: Option<&'static str>,
    pub model: Model,
    /// `COMPOSE_PROJECT_NAME` and `COMPOSE_PATH_SEPARATOR` of main's `.env` there.
    pub env_name: Option<String>,
    pub separator: String,
}

impl ComposeProject {
    /// The `.env` Compose reads in the project directory, from the repository root.
    pub fn env_rel(&self) -> String {
        join(&self.dir, ".env")
    }

    /// git-atlas's override file in the project directory, from the repository root.
    pub fn override_rel(&self) -> String {
        join(&self.dir, OVERRIDE_FILE)
    }

    /// The project's name in the main worktree, as Compose gives it: `COMPOSE_PROJECT_NAME`,
    /// else the top-level `name:`, else the directory's name.
    pub fn main_name(&self, main: &Path) -> String {
        let dir_name = || {
            let dir = main.join(&self.dir);
            let dir = dir.canonicalize().unwrap_or(dir);
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let name = self
            .env_name
            .clone()
            .or_else(|| self.model.name.clone())
            .unwrap_or_else(dir_name);
        model::normalize_project_name(&name)
    }

    /// Every host port the project publishes, by Compose service.
    pub fn published(&self) -> Vec<services::Published<'_>> {
        let mut out = Vec::new();
        for (name, service) in &self.model.services {
            for port in &service.ports {
                let Some(p) = &port.published else { continue };
                for base in p.lo..=p.hi {
                    out.push(services::Published {
                        service: name,
                        port: base,
                        var: p.var.as_deref().filter(|_| p.lo == p.hi),
                    });
                }
            }
        }
        out
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// `file` (from the repository root) from directory `dir`.
fn relative_to(dir: &str, file: &str) -> String {
    let dir: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    let file: Vec<&str> = file.split('/').filter(|p| !p.is_empty()).collect();
    let common = dir.iter().zip(&file).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; dir.len() - common];
    parts.extend(&file[common..]);
    parts.join("/")
}

/// The Compose projects of a worktree whose inputs are `config` and `carried` (main's env
/// files), each read from the worktree's checkout where it has the files, else main's. A file
/// that does not parse is said in one line and its project left out (Compose would refuse it).
pub(super) fn projects(
    worktree: &Path,
    main: Option<&Path>,
    config: &Config,
    carried: &[EnvFile],
) -> Vec<ComposeProject> {
    // Each project directory, with the files it is run with by `-f` and what says so.
    type Listed = Option<(Vec<String>, &'static str)>;
    let mut wanted: Vec<(String, Listed)> = Vec::new();
    let scripts = || {
        [Some(worktree), main]
            .into_iter()
            .flatten()
            .find_map(|root| script_files(&root.join("package.json")))
    };
    let listed = match &config.docker.files {
        files if !files.is_empty() => Some((files.clone(), "[docker] files")),
        // No compose file where plain Compose looks: the package scripts' `-f` files.
        _ if !has_default_files(worktree, main) => scripts().map(|f| (f, "package.json")),
        _ => None,
    };
    if let Some((listed, from)) = listed {
        let first = listed[0].trim_start_matches("./");
        let dir = Path::new(first)
            .parent()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        let files = listed
            .iter()
            .map(|f| relative_to(&dir, f.trim_start_matches("./")))
            .collect();
        wanted.push((dir, Some((files, from))));
    } else {
        wanted.push((String::new(), None));
        for file in carried {
            let path = Path::new(&file.rel);
            if path.file_name().is_some_and(|n| n == ".env") {
                let dir = path
                    .parent()
                    .map(|d| d.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if !dir.is_empty() && !wanted.iter().any(|(d, _)| *d == dir) {
                    wanted.push((dir, None));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (dir, listed) in wanted {
        let env = project_env(worktree, main, &dir, carried);
        let lookup = |name: &str| env.as_ref().and_then(|e| e.value(name));
        // The worktree's own files where it has them (its branch's), else main's.
        let base = [Some(worktree), main]
            .into_iter()
            .flatten()
            .find(|root| match &listed {
                Some((files, _)) => root.join(&dir).join(&files[0]).is_file(),
                None => !model::discover(&root.join(&dir), &lookup).is_empty(),
            });
        let Some(base) = base else { continue };
        let project_dir = base.join(&dir);
        let with_f = listed.as_ref().map(|(_, from)| *from);
        let files: Vec<String> = match listed {
            Some((files, _)) => files,
            None => model::discover(&project_dir, &lookup)
                .iter()
                .filter_map(|f| f.strip_prefix(&project_dir).ok())
                .map(|f| f.to_string_lossy().into_owned())
                .filter(|f| f != OVERRIDE_FILE)
                .collect(),
        };
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|f| project_dir.join(f))
            .filter(|p| p.is_file())
            .collect();
        match model::load(&paths, &lookup) {
            Ok(model) => out.push(ComposeProject {
                dir,
                files,
                with_f,
                model,
                env_name: lookup("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty()),
                separator: lookup("COMPOSE_PATH_SEPARATOR").unwrap_or_else(|| ":".into()),
            }),
            Err(e) => crate::term::warn(format!(
                "{e} (git-atlas leaves this Compose project's ports and names to it)"
            )),
        }
    }
    out
}

/// Whether plain `docker compose` finds a file at the root of the worktree (or of main).
fn has_default_files(worktree: &Path, main: Option<&Path>) -> bool {
    [Some(worktree), main]
        .into_iter()
        .flatten()
        .any(|root| model::DEFAULT_FILES.iter().any(|f| root.join(f).is_file()))
}

/// The compose files a package script runs Compose with (`docker compose -f
/// docker/development/compose.yml up -d`, `docker-compose --file=a.yml -f b.yml up`): the first
/// script that names any, preferring one that runs `up`.
fn script_files(package_json: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(package_json).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let scripts = json.get("scripts")?.as_object()?;
    let mut found: Option<Vec<String>> = None;
    for script in scripts.values().filter_map(|v| v.as_str()) {
        for command in script.split(['&', ';', '|']) {
            let Some((files, sub)) = compose_files_of(command) else {
                continue;
            };
            if sub.as_deref() == Some("up") {
                return Some(files);
            }
            found.get_or_insert(files);
        }
    }
    found
}

/// One shell command's `-f` files, if it runs Compose with any, and its subcommand.
fn compose_files_of(command: &str) -> Option<(Vec<String>, Option<String>)> {
    let words: Vec<&str> = command
        .split_whitespace()
        .map(|w| w.trim_matches(['"', '\'']))
        .collect();
    let start = words.iter().enumerate().find_map(|(i, w)| {
        let v1 = w.ends_with("docker-compose");
        let v2 = *w == "compose" && i > 0 && words[i - 1].ends_with("docker");
        (v1 || v2).then_some(i + 1)
    })?;
    let mut files = Vec::new();
    let mut rest = words[start..].iter();
    let mut sub = None;
    while let Some(w) = rest.next() {
        if *w == "-f" || *w == "--file" {
            files.extend(rest.next().map(|f| f.to_string()));
        } else if let Some(f) = w.strip_prefix("--file=") {
            files.push(f.to_string());
        } else if [
            "-p",
            "--project-name",
            "--env-file",
            "--profile",
            "--project-directory",
        ]
        .contains(w)
        {
            rest.next();
        } else if !w.starts_with('-') {
            sub = Some(w.to_string());
            break;
        }
    }
    (!files.is_empty()).then_some((files, sub))
}

/// The variables Compose interpolates main's project with: main's `.env` in the project
/// directory (carried, or the worktree's own when its branch has one).
fn project_env(
    worktree: &Path,
    main: Option<&Path>,
    dir: &str,
    carried: &[EnvFile],
) -> Option<DotEnv> {
    let rel = join(dir, ".env");
    if let Some(file) = carried.iter().find(|f| f.rel == rel) {
        return Some(file.env.clone());
    }
    [Some(worktree), main]
        .into_iter()
        .flatten()
        .map(|root| root.join(&rel))
        .find(|p| p.is_file() && !generate::is_generated(p))
        .and_then(|p| generate::read_dotenv(&p).ok())
}

/// The services of `inputs` with the published ports of its Compose projects declared.
pub(super) fn declare(services: &mut Vec<Service>, projects: &[ComposeProject]) {
    for project in projects {
        services::declare_from_compose(services, &project.published());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_scripts_name_the_files_they_run_compose_with() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("package.json");
        std::fs::write(
            &json,
            r#"{"scripts": {"dx:down": "docker compose -f docker/development/compose.yml down", "dx": "npm ci && docker compose -f docker/development/compose.yml up -d", "db": "docker-compose --file=a.yml -p x -f b.yml up"}}"#,
        )
        .unwrap();
        assert_eq!(
            script_files(&json),
            Some(vec!["docker/development/compose.yml".to_string()])
        );
        assert_eq!(
            compose_files_of("docker-compose --file=a.yml -p x -f b.yml up"),
            Some((vec!["a.yml".into(), "b.yml".into()], Some("up".into())))
        );
        assert_eq!(compose_files_of("docker compose up -d"), None);
        assert_eq!(compose_files_of("echo compose -f x"), None);
    }

    #[test]
    fn files_from_the_project_directory() {
        assert_eq!(
            relative_to("docker/development", "docker/development/compose.yml"),
            "compose.yml"
        );
        assert_eq!(
            relative_to("docker", "compose.base.yml"),
            "../compose.base.yml"
        );
        assert_eq!(relative_to("", "compose.yml"), "compose.yml");
    }
}
