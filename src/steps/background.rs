//! A worktree's setup run, as others see it: `worktree-registry/setup/<worktree>.lock` (held
//! while steps run, by the foreground `git atlas setup` or by the background run a hook
//! started, which gets it from the hook), `.json` (what ran and how it ended) and `.log` (the
//! output of a run without a terminal). `git atlas setup --wait` follows the log until the lock
//! is free, then reads how it ended; a run killed midway leaves its state `running` with the
//! lock free, and says so.

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
}

/// `<worktree>.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct State {
    pub version: u32,
    pub status: Status,
    /// The steps this run runs (the trusted ones).
    pub steps: Vec<String>,
    /// Where its output went (a log), or `None` for a terminal.
    pub log: Option<PathBuf>,
    /// The setup steps it left out, as this machine has not trusted them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_trusted: Vec<String>,
    /// The step that failed and how (`exit 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<(String, String)>,
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
        let mut p = self.base.clone().into_os_string();
        p.push(".");
        p.push(ext);
        PathBuf::from(p)
    }

    pub fn log_path(&self) -> PathBuf {
        self.with("log")
    }

    /// The run's lock: `None` while another run (or a waiter's check) has it.
    pub fn try_hold(&self) -> Result<Option<Lock>> {
        Lock::try_exclusive(&self.with("lock"))
    }

    /// A run on a terminal begins (its lock held): `steps` are what it runs, `not_trusted`
    /// what it leaves out.
    pub fn begin(&self, steps: &[String], not_trusted: &[String]) -> Result<()> {
        self.started(steps, not_trusted, None)
    }

    /// [`Run::begin`] for a run whose output goes to the log, which it opens, emptied.
    pub fn begin_logged(&self, steps: &[String], not_trusted: &[String]) -> Result<File> {
        let path = self.log_path();
        let file = crate::files::in_dir(&path, || File::create(&path)).at("write", &path)?;
        self.started(steps, not_trusted, Some(path))?;
        Ok(file)
    }

    fn started(
        &self,
        steps: &[String],
        not_trusted: &[String],
        log: Option<PathBuf>,
    ) -> Result<()> {
        self.save(&State {
            version: 1,
            status: Status::Running,
            steps: steps.to_vec(),
            log,
            not_trusted: not_trusted.to_vec(),
            failed: None,
        })
    }

    /// The run ended (its lock still held).
    pub fn finish(&self, result: &std::result::Result<(), Failed>) -> Result<()> {
        let Some(mut state) = self.state()? else {
            return Ok(());
        };
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

    /// How the last run went (`None`: none was recorded). A run still `running` whose lock is
    /// free was stopped before it could say how it ended.
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
        cmd.spawn()
            .map_err(|e| Error::failed(format!("could not start the background setup: {e}")))?;
        Ok(())
    }

    /// Copy the log to `out` as it grows, until the run's lock is free; then the run's lock,
    /// held (so that no other run starts before the caller read how this one ended).
    pub fn follow(&self, out: &mut dyn Write) -> Result<Lock> {
        let path = self.log_path();
        let mut log: Option<File> = None;
        let mut buf = Vec::new();
        loop {
            // Taken before the last read: what the run wrote before it let go is all there.
            let held = self.try_hold()?;
            if log.is_none() {
                log = File::open(&path).ok();
            }
            if let Some(file) = log.as_mut() {
                buf.clear();
                file.read_to_end(&mut buf).at("read", &path)?;
                out.write_all(&buf)?;
                out.flush()?;
            }
            if let Some(lock) = held {
                return Ok(lock);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// In the background run: the lock the hook handed over stays out of the steps' programs.
pub fn adopt_lock() {
    Lock::keep_passed_to_self(LOCK_FD);
}
