//! The Docker Engine through the `docker` CLI, by Compose's project label: a project's
//! containers and the host ports they publish, and removing what a project left behind when its
//! compose file is gone (`docker compose down` needs the file; labels do not).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{clean, not_running, Absent, Failure, Result, PROJECT_LABEL};

/// A container that Compose created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub project: String,
    pub service: String,
    /// `running`, `exited`, …
    pub state: String,
    /// `Up 3 minutes`, `Exited (0) 2 seconds ago`, …
    pub status: String,
    /// As Docker prints them: `0.0.0.0:8082->80/tcp, :::8082->80/tcp`.
    pub ports: String,
    /// The project directory Compose ran in (`com.docker.compose.project.working_dir`).
    pub working_dir: String,
}

impl Container {
    /// The host ports this container publishes.
    pub fn host_ports(&self) -> Vec<u16> {
        host_ports(&self.ports)
    }

    /// `8082->80/tcp`, once per host port and container port (the IPv4 and IPv6 bindings of
    /// one mapping are the same to a user).
    pub fn short_ports(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        for part in self.ports.split(", ") {
            let short = match part.split_once("->") {
                Some((host, inner)) => {
                    format!("{}->{inner}", host.rsplit(':').next().unwrap_or(host))
                }
                None => part.to_string(),
            };
            if !short.is_empty() && !out.contains(&short) {
                out.push(short);
            }
        }
        out.join(", ")
    }
}

/// Host ports in Docker's port column: `0.0.0.0:8082->80/tcp, :::8082->80/tcp` → `[8082]`;
/// a published range `0.0.0.0:8000-8001->80-81/tcp` → `[8000, 8001]`.
pub fn host_ports(column: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for part in column.split(',') {
        let Some((host, _)) = part.trim().split_once("->") else {
            continue;
        };
        let port = host.rsplit(':').next().unwrap_or(host);
        let (lo, hi) = port.split_once('-').unwrap_or((port, port));
        if let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) {
            for p in lo..=hi.max(lo) {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    out
}

fn docker() -> Result<PathBuf> {
    which::which("docker").map_err(|_| Failure::Absent(Absent::NotInstalled("docker")))
}

/// How long one `docker` call may take. The hooks call Docker when a worktree went: a hung
/// daemon must not hang the user's `git commit`.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Run `docker <args>` and return its stdout; a failure is one line.
fn run(args: &[&str]) -> Result<String> {
    let handle = clean(duct::cmd(docker()?, args))
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .start()
        .map_err(|e| Failure::Failed(format!("could not run docker: {e}")))?;
    let deadline = Instant::now() + TIMEOUT;
    let out = loop {
        match handle.try_wait() {
            Ok(Some(out)) => break out,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = handle.kill();
                return Err(Failure::Absent(Absent::NotRunning(format!(
                    "`docker {}` gave no answer in {}s",
                    args.first().unwrap_or(&""),
                    TIMEOUT.as_secs()
                ))));
            }
            Err(e) => return Err(Failure::Failed(format!("could not run docker: {e}"))),
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    if let Some(why) = not_running(&stderr) {
        return Err(Failure::Absent(Absent::NotRunning(why)));
    }
    let words: Vec<&str> = args.iter().take(2).copied().collect();
    let why = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .trim();
    Err(Failure::Failed(format!(
        "`docker {}` failed: {why}",
        words.join(" ")
    )))
}

/// Is the daemon there? (One short round trip: `docker version`.)
pub fn ping() -> Result<()> {
    run(&["version", "--format", "{{.Server.Version}}"]).map(|_| ())
}

const FORMAT: &str = concat!(
    "{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Status}}\t{{.Ports}}\t",
    "{{.Label \"com.docker.compose.project\"}}\t{{.Label \"com.docker.compose.service\"}}\t",
    "{{.Label \"com.docker.compose.project.working_dir\"}}"
);

/// Every container Compose created (running or not), or those of `project`.
pub fn containers(project: Option<&str>) -> Result<Vec<Container>> {
    let filter = match project {
        Some(p) => format!("label={PROJECT_LABEL}={p}"),
        None => format!("label={PROJECT_LABEL}"),
    };
    let text = run(&[
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        &filter,
        "--format",
        FORMAT,
    ])?;
    Ok(text.lines().filter_map(parse_line).collect())
}

fn parse_line(line: &str) -> Option<Container> {
    let mut f = line.split('\t');
    let mut next = || f.next().map(str::to_string);
    let c = Container {
        id: next()?,
        name: next()?,
        state: next()?,
        status: next()?,
        ports: next()?,
        project: next()?,
        service: next().unwrap_or_default(),
        working_dir: next().unwrap_or_default(),
    };
    Some(c)
}

/// What a project's teardown removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removed {
    pub containers: usize,
    pub networks: usize,
    pub volumes: usize,
}

impl Removed {
    pub fn is_empty(&self) -> bool {
        self == &Removed::default()
    }
}

impl std::fmt::Display for Removed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (self.containers, "container"),
            (self.networks, "network"),
            (self.volumes, "volume"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}(s)"))
        .collect();
        if parts.is_empty() {
            f.write_str("nothing")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Remove a project's containers and networks, and with `volumes` its named volumes, by label:
/// what `down` (`down -v`) does, without needing the compose file. Anonymous volumes go with
/// their containers (they hold nothing a new container would reuse). Every step is tried; the
/// first failure is returned after the others.
pub fn remove_project(project: &str, volumes: bool) -> Result<Removed> {
    let filter = format!("label={PROJECT_LABEL}={project}");
    let mut removed = Removed::default();
    let mut first_failure = None;
    let mut step = |result: Result<usize>, count: &mut usize| match result {
        Ok(n) => *count = n,
        Err(f) => {
            first_failure.get_or_insert(f);
        }
    };
    step(
        remove_each(
            &["ps", "-aq", "--no-trunc", "--filter", &filter],
            &["rm", "-f", "-v"],
        ),
        &mut removed.containers,
    );
    step(
        remove_each(
            &["network", "ls", "-q", "--no-trunc", "--filter", &filter],
            &["network", "rm"],
        ),
        &mut removed.networks,
    );
    if volumes {
        step(remove_volumes(project), &mut removed.volumes);
    }
    match first_failure {
        // Daemon down: nothing was removed, and nothing of it runs.
        Some(f) if removed.is_empty() => Err(f),
        Some(Failure::Failed(m)) => Err(Failure::Failed(format!("{m} (removed {removed})"))),
        Some(f) => Err(f),
        None => Ok(removed),
    }
}

/// List ids with `list`, then run `rm <ids>`. Returns how many there were.
fn remove_each(list: &[&str], rm: &[&str]) -> Result<usize> {
    let found = ids(list)?;
    if !found.is_empty() {
        let mut args = rm.to_vec();
        args.extend(found.iter().map(String::as_str));
        run(&args)?;
    }
    Ok(found.len())
}

/// Whether anything of a project is there: a container (running or not), a network or a
/// volume with its label. (Nothing, when it was never started or is already down.)
pub fn project_exists(project: &str) -> Result<bool> {
    let filter = format!("label={PROJECT_LABEL}={project}");
    for list in [
        &["ps", "-aq", "--filter", &filter][..],
        &["network", "ls", "-q", "--filter", &filter],
        &["volume", "ls", "-q", "--filter", &filter],
    ] {
        if !ids(list)?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Remove a project's named volumes (its containers must be gone). Returns how many.
pub fn remove_volumes(project: &str) -> Result<usize> {
    let filter = format!("label={PROJECT_LABEL}={project}");
    remove_each(
        &["volume", "ls", "-q", "--filter", &filter],
        &["volume", "rm"],
    )
}

/// The names of a project's volumes.
pub fn volumes(project: &str) -> Result<Vec<String>> {
    ids(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label={PROJECT_LABEL}={project}"),
    ])
}

fn ids(args: &[&str]) -> Result<Vec<String>> {
    Ok(run(args)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports_read_docker_port_column() {
        assert_eq!(host_ports("0.0.0.0:8082->80/tcp, :::8082->80/tcp"), [8082]);
        assert_eq!(host_ports("80/tcp"), Vec::<u16>::new());
        assert_eq!(
            host_ports("127.0.0.1:8000-8001->80-81/tcp, 0.0.0.0:5434->5432/tcp"),
            [8000, 8001, 5434]
        );
        assert_eq!(host_ports(""), Vec::<u16>::new());
    }

    #[test]
    fn short_ports_fold_ipv4_and_ipv6() {
        let c = Container {
            id: "x".into(),
            name: "n".into(),
            project: "p".into(),
            service: "web".into(),
            state: "running".into(),
            status: "Up".into(),
            ports: "0.0.0.0:8082->80/tcp, :::8082->80/tcp".into(),
            working_dir: "/src/x".into(),
        };
        assert_eq!(c.short_ports(), "8082->80/tcp");
    }

    #[test]
    fn parse_line_reads_the_format() {
        let c = parse_line(
            "abc\tmyapp-x_web_1\trunning\tUp 2 seconds\t0.0.0.0:8082->80/tcp\tmyapp-x\tweb\t/src/x",
        )
        .unwrap();
        assert_eq!(c.working_dir, "/src/x");
        assert_eq!(c.name, "myapp-x_web_1");
        assert_eq!(c.project, "myapp-x");
        assert_eq!(c.service, "web");
        assert_eq!(c.host_ports(), [8082]);
    }
}
