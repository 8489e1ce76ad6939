//! The Docker side of the harness: whether a Docker Engine with Compose and a local test image
//! is here (else skip, or fail under `GIT_ATLAS_REQUIRE_SERVICES=1`), and a guard that removes
//! a Compose project's containers, networks and volumes, by its label, when a test ends (on
//! success and failure alike).

use std::process::{Command, Output};
use std::sync::Mutex;

use super::unavailable;

/// The image `$var` names (built by `.ci/docker.sh`; nothing is pulled) when the Docker Engine
/// answers, Compose (`docker compose` or `docker-compose`) works and the image is local;
/// otherwise `None` after saying why `test` is skipped.
/// (Probed once per image variable and test binary.)
pub fn image(test: &str, var: &str) -> Option<String> {
    static PROBES: Mutex<Vec<(String, Result<String, String>)>> = Mutex::new(Vec::new());
    let found = {
        let mut probes = PROBES.lock().unwrap_or_else(|e| e.into_inner());
        match probes.iter().find(|(v, _)| v == var) {
            Some((_, found)) => found.clone(),
            None => {
                let found = probe(var);
                probes.push((var.to_string(), found.clone()));
                found
            }
        }
    };
    let what = format!("Docker Engine with Compose and image ${var}");
    found.map_or_else(|why| unavailable(test, &what, &why), Some)
}

fn probe(var: &str) -> Result<String, String> {
    let image = std::env::var(var)
        .ok()
        .filter(|i| !i.is_empty())
        .ok_or(format!("{var} is not set; .ci/docker.sh builds the image"))?;
    let run = |program: &str, args: &[&str]| -> Result<(), String> {
        let what = format!("`{program} {}`", args.join(" "));
        let out = Command::new(program)
            .args(args)
            .output()
            .map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        Err(format!("{what} failed: {}", first.trim()))
    };
    run("docker", &["info", "--format", "{{.ServerVersion}}"])?;
    run("docker", &["compose", "version"])
        .or_else(|_| run("docker-compose", &["version", "--short"]))
        .map_err(|e| format!("no Docker Compose: {e}"))?;
    run(
        "docker",
        &["image", "inspect", "--format", "{{.Id}}", &image],
    )?;
    Ok(image)
}

/// `docker <args>`, whatever it exits with.
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().unwrap()
}

/// The filter for a Compose project's objects.
pub fn label(project: &str) -> String {
    format!("label=com.docker.compose.project={project}")
}

/// Removes every container, network and volume of its Compose projects, and the named
/// containers of no project, when dropped.
pub struct Cleanup {
    projects: Vec<String>,
    containers: Vec<String>,
}

impl Cleanup {
    pub fn new(projects: &[&str]) -> Cleanup {
        Cleanup {
            projects: projects.iter().map(|p| p.to_string()).collect(),
            containers: Vec::new(),
        }
    }

    /// Also a container of no Compose project, by name.
    pub fn and_container(mut self, name: &str) -> Cleanup {
        self.containers.push(name.to_string());
        self
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in &self.containers {
            let _ = docker(&["rm", "-f", "-v", name]);
        }
        for p in &self.projects {
            let l = label(p);
            for (list, remove) in [
                (&["ps", "-aq", "--filter", &l][..], &["rm", "-f", "-v"][..]),
                (&["network", "ls", "-q", "--filter", &l], &["network", "rm"]),
                (
                    &["volume", "ls", "-q", "--filter", &l],
                    &["volume", "rm", "-f"],
                ),
            ] {
                let out = docker(list);
                let ids: Vec<&str> = std::str::from_utf8(&out.stdout)
                    .unwrap_or("")
                    .split_whitespace()
                    .collect();
                if !ids.is_empty() {
                    let _ = docker(&[remove, &ids[..]].concat());
                }
            }
        }
    }
}
