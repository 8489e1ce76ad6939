//! Docker Compose itself: v2 (`docker compose`) when the docker CLI has the plugin, else v1
//! (`docker-compose`, Debian 12's). The project name is always passed with `-p`, so it does not
//! matter how the compose file spells it (v1 rejects a top-level `name:`).

use std::path::{Path, PathBuf};

use super::isolate::Syntax;
use super::{clean, engine, Absent, Failure, Result};

#[derive(Debug, Clone)]
pub struct Compose {
    program: PathBuf,
    /// `docker compose` (v2) rather than `docker-compose` (v1).
    plugin: bool,
    /// The plugin's version (`2.40.3`), when it said one.
    version: Option<(u32, u32, u32)>,
}

/// A worktree's Compose project: its name, directory and compose files.
#[derive(Debug, Clone)]
pub struct Project<'a> {
    pub name: &'a str,
    pub dir: &'a Path,
    pub files: &'a [PathBuf],
}

impl Compose {
    /// Find Compose: `docker compose` if the plugin answers, else `docker-compose`.
    pub fn find() -> Result<Compose> {
        if let Ok(docker) = which::which("docker") {
            let v2 = clean(duct::cmd(&docker, ["compose", "version", "--short"]))
                .stdin_null()
                .stdout_capture()
                .stderr_null()
                .unchecked()
                .run()
                .ok()
                .filter(|o| o.status.success());
            if let Some(said) = v2 {
                return Ok(Compose {
                    program: docker,
                    plugin: true,
                    version: parse_version(&String::from_utf8_lossy(&said.stdout)),
                });
            }
        }
        match which::which("docker-compose") {
            Ok(program) => Ok(Compose {
                program,
                plugin: false,
                version: None,
            }),
            Err(_) => Err(Failure::Absent(Absent::NotInstalled(
                "Docker Compose (`docker compose` or `docker-compose`)",
            ))),
        }
    }

    /// `docker compose` or `docker-compose`, for messages.
    pub fn name(&self) -> &'static str {
        if self.plugin {
            "docker compose"
        } else {
            "docker-compose"
        }
    }

    /// The override syntax this Compose reads: `!override` and `!reset` from v2.24.4 on.
    pub fn syntax(&self) -> Syntax {
        match self.version {
            Some(v) if self.plugin && v >= (2, 24, 4) => Syntax::Tags,
            // A plugin that gave no version it could be compared by is a current one.
            None if self.plugin => Syntax::Tags,
            _ => Syntax::Plain,
        }
    }

    /// Run `<compose> -p NAME --project-directory DIR -f FILE… <args>` with Compose's output on
    /// our stderr, so the user sees its progress and its own error text (with `--quiet`, kept
    /// back and put in the error if Compose fails). The daemon is asked
    /// first, so that "Docker is not running" is one clear line rather than Compose's trace.
    pub fn run(&self, project: &Project, args: &[&str]) -> Result<()> {
        engine::ping().or_else(|f| match f {
            // The docker CLI is optional for v1; Compose will say what it finds.
            Failure::Absent(Absent::NotInstalled(_)) if !self.plugin => Ok(()),
            f => Err(f),
        })?;
        let mut argv: Vec<std::ffi::OsString> = Vec::new();
        if self.plugin {
            argv.push("compose".into());
        }
        argv.extend(["-p".into(), project.name.into()]);
        argv.extend(["--project-directory".into(), project.dir.into()]);
        for file in project.files {
            argv.extend(["-f".into(), file.into()]);
        }
        argv.extend(args.iter().map(Into::into));
        // Compose's progress and its own error text go straight to the user's stderr; with
        // --quiet they are kept, and shown only if Compose fails.
        let quiet = crate::term::quiet();
        let mut expr = clean(duct::cmd(&self.program, argv))
            .dir(project.dir)
            .stdin_null()
            .stdout_to_stderr()
            .unchecked();
        if quiet {
            expr = expr.stderr_capture();
        }
        let output = expr
            .run()
            .map_err(|e| Failure::Failed(format!("could not run {}: {e}", self.name())))?;
        if output.status.success() {
            return Ok(());
        }
        let said = if quiet {
            let text = String::from_utf8_lossy(&output.stderr);
            format!(": {}", text.trim())
        } else {
            "; its messages are above".to_string()
        };
        Err(Failure::Failed(format!(
            "`{} {}` failed for project {} ({}){said}",
            self.name(),
            args.join(" "),
            project.name,
            output.status,
        )))
    }
}

/// What `Compose::find` finds, as far as files written for it depend on it: whether it is
/// the v2 plugin (whose containers are `<project>-<service>-1`) and the override syntax it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installed {
    pub plugin: bool,
    pub syntax: Syntax,
}

/// [`Installed`] (v2 with tags where there is no Compose yet), remembered in the file `cache`
/// by what decides it (the docker CLI, each place its Compose plugin may be, `docker-compose`:
/// path, size, time), so that asking Compose its version (a spawn of 30-50 ms) happens once
/// per install, not at every `git worktree add`.
pub fn installed_cached(cache: &Path) -> Installed {
    let key = install_key();
    if let Ok(text) = std::fs::read_to_string(cache) {
        if let Some((k, v)) = text.trim_end().rsplit_once('\n') {
            let known = match v {
                "plugin tags" => Some((true, Syntax::Tags)),
                "plugin plain" => Some((true, Syntax::Plain)),
                "v1 plain" => Some((false, Syntax::Plain)),
                _ => None,
            };
            if let Some((plugin, syntax)) = known.filter(|_| k == key) {
                return Installed { plugin, syntax };
            }
        }
    }
    let found = Compose::find().map_or(
        Installed {
            plugin: true,
            syntax: Syntax::Tags,
        },
        |c| Installed {
            plugin: c.plugin,
            syntax: c.syntax(),
        },
    );
    let word = match (found.plugin, found.syntax) {
        (true, Syntax::Tags) => "plugin tags",
        (true, Syntax::Plain) => "plugin plain",
        (false, _) => "v1 plain",
    };
    // Only a cache: a failure to keep it costs the next command the question again.
    let _ = crate::files::write_atomic(cache, format!("{key}\n{word}\n").as_bytes());
    found
}

/// What Compose's version depends on, as one line.
fn install_key() -> String {
    let stat = |path: &Path| match std::fs::metadata(path) {
        Ok(m) => {
            use std::os::unix::fs::MetadataExt;
            format!(
                "{}:{}:{}.{}:{}",
                path.display(),
                m.size(),
                m.mtime(),
                m.mtime_nsec(),
                m.ino()
            )
        }
        Err(_) => format!("{}:-", path.display()),
    };
    let mut parts = Vec::new();
    for program in ["docker", "docker-compose"] {
        parts.push(match which::which(program) {
            Ok(p) => stat(&p),
            Err(_) => format!("{program}:-"),
        });
    }
    let config = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
    let dirs = config.map(|c| c.join("cli-plugins")).into_iter().chain(
        [
            "/usr/local/lib/docker/cli-plugins",
            "/usr/local/libexec/docker/cli-plugins",
            "/usr/lib/docker/cli-plugins",
            "/usr/libexec/docker/cli-plugins",
        ]
        .map(PathBuf::from),
    );
    for dir in dirs {
        parts.push(stat(&dir.join("docker-compose")));
    }
    // One line: a path with a newline in it must not end the key.
    parts.join(";").replace('\n', "\\n")
}

/// `2.40.3` (or `v2.40.3`, `2.24.0-desktop.1`) as numbers.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let text = text.trim().trim_start_matches('v');
    let mut parts = text
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(parse_version("2.40.3\n"), Some((2, 40, 3)));
        assert_eq!(parse_version("v2.24.0-desktop.1"), Some((2, 24, 0)));
        assert_eq!(parse_version("nonsense"), None);
        let v2 = |v| Compose {
            program: "docker".into(),
            plugin: true,
            version: parse_version(v),
        };
        assert_eq!(v2("2.24.4").syntax(), Syntax::Tags);
        assert_eq!(v2("2.20.2").syntax(), Syntax::Plain);
    }
}
