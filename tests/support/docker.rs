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

/// Which Docker Compose a test binary runs: tests/docker.rs v1, tests/docker_v2.rs v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compose {
    /// `docker-compose` 1.29 (Debian 12's), with no v2 plugin in reach.
    V1,
    /// `docker compose`, the plugin in the Docker config directory `$GIT_ATLAS_TEST_COMPOSE_V2`.
    V2,
}

/// Where the v2 plugin is: a Docker config directory whose `cli-plugins/` holds it.
pub const V2_CONFIG_ENV: &str = "GIT_ATLAS_TEST_COMPOSE_V2";

impl Compose {
    /// Make `c` (a sandbox command, which sees none of this process's environment) run this
    /// Compose: v2 finds its plugin through `DOCKER_CONFIG`; v1 is what is left without it.
    pub fn select(self, c: &mut Command) -> &mut Command {
        if self == Compose::V2 {
            if let Some(dir) = std::env::var_os(V2_CONFIG_ENV) {
                c.env("DOCKER_CONFIG", dir);
            }
        }
        c
    }

    /// Make `c` (a sandbox command) see this process's Docker, found by `DOCKER_HOST` when it
    /// is set, else at its default socket, and run this Compose.
    pub fn docker_env(self, c: &mut Command) -> &mut Command {
        if let Some(host) = std::env::var_os("DOCKER_HOST") {
            c.env("DOCKER_HOST", host);
        }
        self.select(c)
    }

    /// The name this Compose gives the first container of `service` in `project`.
    pub fn container(self, project: &str, service: &str) -> String {
        match self {
            Compose::V1 => format!("{project}_{service}_1"),
            Compose::V2 => format!("{project}-{service}-1"),
        }
    }

    /// The program and first arguments a user types for this Compose.
    pub fn argv(self) -> &'static [&'static str] {
        match self {
            Compose::V1 => &["docker-compose"],
            Compose::V2 => &["docker", "compose"],
        }
    }

    /// Whether this Compose, and only it, is what a sandbox's commands will run.
    fn probe(self) -> Result<(), String> {
        let empty = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut plugin = Command::new("docker");
        plugin
            .args(["compose", "version", "--short"])
            .env("HOME", empty.path())
            .env_remove("DOCKER_CONFIG");
        self.select(&mut plugin);
        let answers = plugin.output().is_ok_and(|o| o.status.success());
        match self {
            Compose::V1 if answers => Err(
                "a Compose v2 plugin installed for every user answers `docker compose`, so git-atlas would run it instead of v1".into(),
            ),
            Compose::V1 => {
                let v1 = Command::new("docker-compose").args(["version", "--short"]).output();
                match v1 {
                    Ok(o) if o.status.success() && o.stdout.starts_with(b"1.") => Ok(()),
                    Ok(o) => Err(format!(
                        "`docker-compose version --short` says {:?}, not 1.x",
                        String::from_utf8_lossy(&o.stdout).trim()
                    )),
                    Err(e) => Err(format!("`docker-compose`: {e}")),
                }
            }
            Compose::V2 if std::env::var_os(V2_CONFIG_ENV).is_none() => Err(format!(
                "{V2_CONFIG_ENV} is not set; .ci/docker.sh links the v2 plugin into such a directory"
            )),
            Compose::V2 if !answers => Err(format!(
                "`DOCKER_CONFIG=${V2_CONFIG_ENV} docker compose version` failed"
            )),
            Compose::V2 => Ok(()),
        }
    }
}

/// [`image`], for tests that run `compose` (and no other): skipped (or failed under
/// `GIT_ATLAS_REQUIRE_SERVICES=1`) when that Compose is not here.
pub fn image_with(compose: Compose, test: &str, var: &str) -> Option<String> {
    static PROBES: Mutex<Vec<(Compose, Result<(), String>)>> = Mutex::new(Vec::new());
    let found = {
        let mut probes = PROBES.lock().unwrap_or_else(|e| e.into_inner());
        match probes.iter().find(|(c, _)| *c == compose) {
            Some((_, found)) => found.clone(),
            None => {
                let found = compose.probe();
                probes.push((compose, found.clone()));
                found
            }
        }
    };
    match found {
        Ok(()) => image(test, var),
        Err(why) => unavailable(test, &format!("Docker Compose {compose:?}"), &why),
    }
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

/// `GET /` on 127.0.0.1:`port`: the whole response, or why not.
pub fn http_get(port: u16) -> Result<String, String> {
    use std::io::{Read, Write};
    use std::time::Duration;
    let mut stream = std::net::TcpStream::connect_timeout(
        &([127, 0, 0, 1], port).into(),
        Duration::from_secs(2),
    )
    .map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    Ok(response)
}
