//! Docker Compose per worktree: finding Compose (v2 `docker compose` or v1 `docker-compose`),
//! running it for a worktree's project, and the Engine's view by Compose's project label
//! (containers, their published ports, networks, volumes), which needs no compose file.

pub mod compose;
pub mod engine;
pub mod interpolate;
pub mod isolate;
pub mod model;

use std::fmt;

/// Why Docker could not be used. Not an error for users without Docker: callers skip their
/// Docker steps with one line saying this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Absent {
    /// Neither `docker` nor `docker-compose` is on PATH.
    NotInstalled(&'static str),
    /// The client is there but the daemon does not answer.
    NotRunning(String),
}

impl fmt::Display for Absent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Absent::NotInstalled(what) => write!(f, "{what} is not installed (not on PATH)"),
            Absent::NotRunning(why) => write!(f, "Docker is not running ({why})"),
        }
    }
}

/// Compose's project label, on every container, network and volume it creates.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";

/// The daemon-down messages of the docker CLI and of Compose v1, reduced to one line.
fn not_running(stderr: &str) -> Option<String> {
    let text = stderr.trim();
    let down = text.contains("Cannot connect to the Docker daemon")
        || text.contains("Is the docker daemon running")
        || text.contains("Couldn't connect to Docker daemon")
        || text.contains("error during connect")
        || text.contains("connection refused");
    down.then(|| {
        text.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(text)
            .trim()
            .to_string()
    })
}

/// The environment a hook runs in points Git at a repository; Docker must not inherit it.
fn clean(mut expr: duct::Expression) -> duct::Expression {
    for var in crate::git::repo::GIT_ENV {
        expr = expr.env_remove(var);
    }
    expr
}

/// What went wrong with a Docker step.
#[derive(Debug)]
pub enum Failure {
    /// Docker is not there: skip, saying so.
    Absent(Absent),
    /// Docker is there and the step failed: the message says what and why.
    Failed(String),
}

pub type Result<T> = std::result::Result<T, Failure>;

impl From<Failure> for crate::error::Error {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Absent(a) => crate::error::Error::failed(a.to_string())
                .hint("install Docker Engine with Compose and start it"),
            Failure::Failed(m) => crate::error::Error::failed(m),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Absent(a) => a.fmt(f),
            Failure::Failed(m) => f.write_str(m),
        }
    }
}
