//! Stopping the processes that listen on a worktree's ports: SIGTERM, a grace period, SIGKILL.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    pub pid: u32,
    pub command: String,
    /// It outlived the grace period and needed SIGKILL.
    pub killed: bool,
}

/// Send SIGTERM to each pid, wait up to `grace` for them to exit, then SIGKILL the rest. Never
/// signals pid 0 or 1, this process or its parent.
pub fn stop(pids: &[(u32, String)], grace: Duration) -> Vec<Result<Stopped, (u32, String)>> {
    let me = std::process::id();
    let parent = std::os::unix::process::parent_id();
    let mut results = Vec::new();
    let mut waiting = Vec::new();
    for (pid, command) in pids {
        if *pid <= 1 || *pid == me || *pid == parent {
            results.push(Err((*pid, "refusing to signal this process".to_string())));
            continue;
        }
        match signal(*pid, libc::SIGTERM) {
            Ok(()) => waiting.push((*pid, command.clone())),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => results.push(Ok(Stopped {
                pid: *pid,
                command: command.clone(),
                killed: false,
            })),
            Err(e) => results.push(Err((*pid, e.to_string()))),
        }
    }
    let deadline = Instant::now() + grace;
    while !waiting.is_empty() && Instant::now() < deadline {
        waiting.retain(|(pid, command)| {
            let alive = is_alive(*pid);
            if !alive {
                results.push(Ok(Stopped {
                    pid: *pid,
                    command: command.clone(),
                    killed: false,
                }));
            }
            alive
        });
        std::thread::sleep(Duration::from_millis(20));
    }
    for (pid, command) in waiting {
        match signal(pid, libc::SIGKILL) {
            Ok(()) => {
                let until = Instant::now() + Duration::from_secs(2);
                while is_alive(pid) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(10));
                }
                results.push(Ok(Stopped {
                    pid,
                    command,
                    killed: true,
                }));
            }
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => results.push(Ok(Stopped {
                pid,
                command,
                killed: false,
            })),
            Err(e) => results.push(Err((pid, e.to_string()))),
        }
    }
    results
}

fn signal(pid: u32, sig: i32) -> std::io::Result<()> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| std::io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Alive and not a zombie (a zombie has exited; only its parent's wait is missing).
fn is_alive(pid: u32) -> bool {
    if signal(pid, 0).is_err_and(|e| e.raw_os_error() == Some(libc::ESRCH)) {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => cfg!(not(target_os = "linux")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    fn python(code: &str) -> std::process::Child {
        let mut child = Command::new("python3")
            .args(["-c", code])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        child
    }

    #[test]
    fn term_then_kill() {
        let polite = python("import time; print('ready', flush=True); time.sleep(30)");
        let stubborn = python("import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(30)");
        let pids = [
            (polite.id(), "polite".to_string()),
            (stubborn.id(), "stubborn".to_string()),
        ];
        let results = stop(&pids, Duration::from_millis(300));
        let by_pid = |pid| {
            results
                .iter()
                .find_map(|r| r.as_ref().ok().filter(|s| s.pid == pid))
                .unwrap()
        };
        assert!(!by_pid(polite.id()).killed);
        assert!(by_pid(stubborn.id()).killed);
        for mut c in [polite, stubborn] {
            assert!(c.wait().is_ok());
        }
    }

    #[test]
    fn never_signals_itself() {
        let r = stop(
            &[(std::process::id(), "me".into()), (1, "init".into())],
            Duration::from_millis(10),
        );
        assert!(r.iter().all(|r| r.is_err()));
    }
}
