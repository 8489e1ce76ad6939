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
/// it (`git-atlas: setup 1/2: npm ci`) on stderr, unless `quiet`, or in the log; `started`
/// learns each step's process id. On a terminal, Ctrl-C stops the step and not git-atlas,
/// which then says which step was interrupted (as `system()` does, git-atlas ignores SIGINT
/// and SIGQUIT while a step runs; the step gets them as usual).
pub fn run_all(
    phase: Phase,
    steps: &[String],
    dir: &Path,
    env: &[(String, String)],
    output: Output,
    quiet: bool,
    mut started: impl FnMut(u32),
) -> Result<(), Failed> {
    let _ignoring = matches!(output, Output::Inherit).then(Interrupts::ignored);
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
                Interrupts::as_usual_in(&mut cmd);
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
        let mut child = cmd
            .spawn()
            .map_err(|e| failed(format!("could not start /bin/sh: {e}")))?;
        started(child.id());
        let status = child
            .wait()
            .map_err(|e| failed(format!("could not wait for it: {e}")))?;
        if !status.success() {
            use std::os::unix::process::ExitStatusExt;
            let how = match (status.code(), status.signal()) {
                (Some(code), _) => format!("exit {code}"),
                (None, Some(libc::SIGINT)) => "interrupted".to_string(),
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

/// SIGINT and SIGQUIT ignored by this process while it lives (their handlers before, restored
/// when dropped).
struct Interrupts {
    before: [(libc::c_int, libc::sigaction); 2],
}

impl Interrupts {
    fn ignored() -> Interrupts {
        let mut before = [(libc::SIGINT, zeroed()), (libc::SIGQUIT, zeroed())];
        for (signal, old) in &mut before {
            let mut ignore = zeroed();
            ignore.sa_sigaction = libc::SIG_IGN;
            // SAFETY: sigaction with valid pointers to initialised structs.
            unsafe {
                libc::sigaction(*signal, &ignore, old);
            }
        }
        Interrupts { before }
    }

    /// The child `cmd` spawns gets SIGINT and SIGQUIT as any program does (an ignored signal
    /// stays ignored across exec).
    fn as_usual_in(cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        // SAFETY: runs in the forked child before exec and only calls sigaction, which is
        // async-signal-safe; the struct is built on the stack, nothing is allocated.
        unsafe {
            cmd.pre_exec(|| {
                for signal in [libc::SIGINT, libc::SIGQUIT] {
                    let mut default: libc::sigaction = std::mem::zeroed();
                    default.sa_sigaction = libc::SIG_DFL;
                    libc::sigaction(signal, &default, std::ptr::null_mut());
                }
                Ok(())
            });
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        for (signal, old) in &self.before {
            // SAFETY: restores what sigaction gave us.
            unsafe {
                libc::sigaction(*signal, old, std::ptr::null_mut());
            }
        }
    }
}

fn zeroed() -> libc::sigaction {
    // SAFETY: sigaction is a plain C struct for which all zeroes is a valid value.
    unsafe { std::mem::zeroed() }
}
