//! Running steps: each by `sh -c` (a step is a command line the team wrote, with its pipes and
//! `&&`), in the worktree, with the worktree's values added to the environment and Git's
//! hook-time variables taken out; nothing git-atlas knows (a name, a path) is ever put into
//! the text: steps read `$WORKTREE_NAME`, `$PORT` and the rest from their environment.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::Phase;

/// Where the steps' output goes.
pub enum Output<'a> {
    /// The terminal (or whatever git-atlas's own stdout and stderr are), stdin included.
    Inherit,
    /// A log file, with no stdin (a hook, the background run).
    Log(&'a File),
}

/// The step that did not succeed, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub phase: Phase,
    pub step: String,
    /// `exit 1`, `killed by signal 9`, `could not start /bin/sh: …`.
    pub how: String,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} step `{}` failed ({})",
            self.phase.name(),
            super::one_line(&self.step),
            self.how
        )
    }
}

/// Run `steps` in order in `dir`, stopping at the first that fails. Before each, a line naming
/// it (`git-atlas: setup 1/2: npm ci`) on stderr, unless `quiet`, or in the log.
pub fn run_all(
    phase: Phase,
    steps: &[String],
    dir: &Path,
    env: &[(String, String)],
    output: Output,
    quiet: bool,
) -> Result<(), Failed> {
    for (i, step) in steps.iter().enumerate() {
        let header = format!(
            "git-atlas: {} {}/{}: {}",
            phase.name(),
            i + 1,
            steps.len(),
            super::one_line(step)
        );
        let failed = |how: String| Failed {
            phase,
            step: step.clone(),
            how,
        };
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(step)
            .current_dir(dir)
            .env("PWD", dir)
            .envs(env.iter().map(|(k, v)| (k, v)));
        for var in crate::git::repo::GIT_ENV {
            cmd.env_remove(var);
        }
        match output {
            Output::Inherit => {
                if !quiet {
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!("{header}");
                    }
                }
            }
            Output::Log(mut log) => {
                let _ = writeln!(log, "{header}");
                let (out, err) = match (log.try_clone(), log.try_clone()) {
                    (Ok(o), Ok(e)) => (o, e),
                    (Err(e), _) | (_, Err(e)) => return Err(failed(format!("no log: {e}"))),
                };
                cmd.stdin(Stdio::null()).stdout(out).stderr(err);
            }
        }
        let status = cmd
            .status()
            .map_err(|e| failed(format!("could not start /bin/sh: {e}")))?;
        if !status.success() {
            use std::os::unix::process::ExitStatusExt;
            let how = match (status.code(), status.signal()) {
                (Some(code), _) => format!("exit {code}"),
                (None, Some(signal)) => format!("killed by signal {signal}"),
                (None, None) => "ended without an exit code".to_string(),
            };
            if let Output::Log(mut log) = output {
                let _ = writeln!(log, "git-atlas: {} step failed ({how})", phase.name());
            }
            return Err(failed(how));
        }
    }
    Ok(())
}
