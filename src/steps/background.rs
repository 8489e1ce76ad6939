//! A worktree's setup run, as others see it: `worktree-registry/setup/<worktree>.lock` (held
//! while steps run, by the foreground `git atlas setup` or by the background run a hook
//! started, which gets it from the hook), `.json` (what ran, how it ended, or why it did not
//! run) and `.log` (the output of a run without a terminal). `git atlas setup --wait` follows
//! the log until the lock is free, then reads how it ended. A run killed midway leaves its
//! state `running` with the lock free; the process it recorded (the background run's process
//! group, or the step's shell on a terminal) may still be running a step, and no new run
//! starts beside it.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Failed;
use crate::error::{Error, IoContext, Result};
use crate::files::{write_atomic, Lock};

/// The hidden `git atlas hook` name of the run a hook starts in the background.
pub const HOOK: &str = "background-setup";

/// How the background run finds the lock the hook handed it.
const LOCK_FD: &str = "GIT_ATLAS_SETUP_LOCK_FD";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Done,
    Failed,
    /// The hook did not run it (not trusted, `hook = "manual"`, an error): see `reason`.
    NotRun,
}

/// `<worktree>.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct State {
    pub version: u32,
    pub status: Status,
    /// The steps of this run.
    pub steps: Vec<String>,
    /// Where its output went (a log), or `None` for a terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
    /// The step that failed and how (`exit 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<(String, String)>,
    /// Why it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// While it runs: what may outlive it if it is killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Proc>,
}

/// A process of a run: the background run's process group (its steps are in it), or the
/// shell of the step running on a terminal, with its start time (so that a later process of
/// the same number is not taken for it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Proc {
    pub pid: i32,
    pub group: bool,
    #[serde(default)]
    pub start: Option<u64>,
}

impl Proc {
    pub fn alive(&self) -> bool {
        if self.group {
            // SAFETY: kill with signal 0 only checks that the group exists.
            return unsafe { libc::kill(-self.pid, 0) } == 0;
        }
        self.start.is_some() && start_time(self.pid) == self.start
    }

    /// SIGKILL to it (the whole group for a group).
    pub fn stop(&self) {
        if self.alive() {
            let target = if self.group { -self.pid } else { self.pid };
            // SAFETY: kill of a process we recorded and just saw alive.
            unsafe {
                libc::kill(target, libc::SIGKILL);
            }
        }
    }

    /// `process group 4242` / `pid 4242`.
    pub fn describe(&self) -> String {
        if self.group {
            format!("process group {}", self.pid)
        } else {
            format!("pid {}", self.pid)
        }
    }

    /// `kill -- -4242` / `kill 4242`.
    pub fn kill_command(&self) -> String {
        if self.group {
            format!("kill -- -{}", self.pid)
        } else {
            format!("kill {}", self.pid)
        }
    }
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(19)?.parse().ok()
}

/// Why a run cannot start now.
pub enum Busy {
    /// Another run holds the lock.
    Running,
    /// A run that was killed midway left this process running its step.
    Leftover(Proc),
}

/// One worktree's setup run files.
pub struct Run {
    base: PathBuf,
}

impl Run {
    pub fn of(registry_dir: &Path, worktree: &str) -> Run {
        Run {
            base: registry_dir.join("setup").join(worktree),
        }
    }

    fn with(&self, ext: &str) -> PathBuf {
        crate::files::with_suffix(&self.base, &format!(".{ext}"))
    }

    pub fn log_path(&self) -> PathBuf {
        self.with("log")
    }

    /// The run's lock: `None` while another run (or a waiter's check) has it.
    pub fn try_hold(&self) -> Result<Option<Lock>> {
        Lock::try_exclusive(&self.with("lock"))
    }

    /// The lock for a new run, unless a run is going on or a killed one left a step running.
    pub fn claim(&self) -> Result<std::result::Result<Lock, Busy>> {
        let Some(lock) = self.try_hold()? else {
            return Ok(Err(Busy::Running));
        };
        if let Some((_, proc)) = self.leftover()? {
            return Ok(Err(Busy::Leftover(proc)));
        }
        Ok(Ok(lock))
    }

    /// The state of a run that was killed midway and the process it left running, if any (to
    /// be asked holding the lock, or after `try_hold` failed: then the run is alive anyway).
    pub fn leftover(&self) -> Result<Option<(State, Proc)>> {
        let Some(state) = self.state()? else {
            return Ok(None);
        };
        match (&state.status, &state.process) {
            (Status::Running, Some(p)) if p.alive() => {
                let p = p.clone();
                Ok(Some((state, p)))
            }
            _ => Ok(None),
        }
    }

    /// A run on a terminal begins (its lock held).
    pub fn begin(&self, steps: &[String]) -> Result<()> {
        self.save(&State::new(Status::Running, steps, None))
    }

    /// [`Run::begin`] for a run whose output goes to the log, which it opens, emptied.
    pub fn begin_logged(&self, steps: &[String]) -> Result<File> {
        let path = self.log_path();
        let file = crate::files::in_dir(&path, || File::create(&path)).at("write", &path)?;
        self.save(&State::new(Status::Running, steps, Some(path)))?;
        Ok(file)
    }

    /// A hook did not run the steps, for `reason`.
    pub fn not_run(&self, steps: &[String], reason: String) -> Result<()> {
        let mut state = State::new(Status::NotRun, steps, None);
        state.reason = Some(reason);
        self.save(&state)
    }

    /// The run's process to look for should it be killed: a step's shell, or (`group`) the
    /// background run's process group.
    pub fn running(&self, pid: u32, group: bool) -> Result<()> {
        let Some(mut state) = self.state()? else {
            return Ok(());
        };
        let pid = i32::try_from(pid).unwrap_or(i32::MAX);
        state.process = Some(Proc {
            pid,
            group,
            start: start_time(pid),
        });
        self.save(&state)
    }

    /// The run ended (its lock still held).
    pub fn finish(&self, result: &std::result::Result<(), Failed>) -> Result<()> {
        let Some(mut state) = self.state()? else {
            return Ok(());
        };
        state.process = None;
        match result {
            Ok(()) => state.status = Status::Done,
            Err(f) => {
                state.status = Status::Failed;
                state.failed = Some((f.step.clone(), f.how.clone()));
            }
        }
        self.save(&state)
    }

    /// The worktree went: its state and log go too (its lock file, empty, stays: a run still
    /// holding it may be ending).
    pub fn forget(&self) {
        for ext in ["json", "log"] {
            let _ = std::fs::remove_file(self.with(ext));
        }
    }

    /// How the last run went (`None`: none was recorded).
    pub fn state(&self) -> Result<Option<State>> {
        let path = self.with("json");
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                Error::failed(format!("{} is not valid: {e}", path.display()))
                    .hint("delete it: `git atlas setup` runs the steps again")
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    fn save(&self, state: &State) -> Result<()> {
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| Error::failed(format!("could not record the setup run: {e}")))?;
        write_atomic(&self.with("json"), text.as_bytes())
    }

    /// Start `exe hook background-setup` in `dir`, detached (its own process group, no
    /// terminal, its output into `log`), handing it `lock`: the run is its from now on.
    pub fn start_background(&self, lock: Lock, log: File, exe: &Path, dir: &Path) -> Result<()> {
        use std::os::unix::process::CommandExt;
        use std::process::{Command, Stdio};
        let err = log.try_clone().at("write", &self.log_path())?;
        let mut cmd = Command::new(exe);
        cmd.args(["hook", HOOK])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .process_group(0);
        for var in crate::git::repo::GIT_ENV {
            cmd.env_remove(var);
        }
        lock.pass_to(&mut cmd, LOCK_FD);
        let child = cmd
            .spawn()
            .map_err(|e| Error::failed(format!("could not start the background setup: {e}")))?;
        // Its process group is its number: recorded before the hook returns, so that a kill
        // of the run at any moment leaves something to look for.
        self.running(child.id(), true)
    }

    /// Copy the log to `out` as it grows, until the run's lock is free and no process of a
    /// killed run is left; then the run's lock, held (so that no other run starts before the
    /// caller read how this one ended).
    pub fn follow(&self, out: &mut dyn Write) -> Result<Lock> {
        let path = self.log_path();
        let mut log: Option<File> = None;
        let mut buf = Vec::new();
        loop {
            // Taken before the last read: what the run wrote before it let go is all there.
            let held = self.try_hold()?;
            let done = match &held {
                Some(_) => self.leftover()?.is_none(),
                None => false,
            };
            if log.is_none() {
                log = File::open(&path).ok();
            }
            if let Some(file) = log.as_mut() {
                buf.clear();
                file.read_to_end(&mut buf).at("read", &path)?;
                out.write_all(&buf)?;
                out.flush()?;
            }
            if let (Some(lock), true) = (held, done) {
                return Ok(lock);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl State {
    fn new(status: Status, steps: &[String], log: Option<PathBuf>) -> State {
        State {
            version: 1,
            status,
            steps: steps.to_vec(),
            log,
            failed: None,
            reason: None,
            process: None,
        }
    }
}

/// In the background run: the lock the hook handed over stays out of the steps' programs.
pub fn adopt_lock() {
    Lock::keep_passed_to_self(LOCK_FD);
}
