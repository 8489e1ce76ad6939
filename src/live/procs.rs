//! Stopping the processes that listen on a worktree's ports.
//!
//! SIGTERM first, so a server can shut down cleanly; SIGKILL for whatever is still running after
//! the grace period.

use std::time::Duration;

/// A process that is no longer running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    pub pid: u32,
    pub command: String,
    /// It outlived SIGTERM and the grace period, and needed SIGKILL.
    pub killed: bool,
}

/// Send SIGTERM to each pid, wait up to `grace` for them to exit (poll), then SIGKILL the rest.
/// Never signal pid 0/1, our own pid, or our parent.
///
/// `pids` pairs each pid with its command, for the report. One result per distinct pid, in the
/// order given: `Ok` once the process is gone (also when it was gone before we signalled it),
/// `Err((pid, why))` when we refused, were not allowed, or it survived SIGKILL.
pub fn stop(pids: &[(u32, String)], grace: Duration) -> Vec<Result<Stopped, (u32, String)>> {
    let mut distinct: Vec<&(u32, String)> = Vec::new();
    for entry in pids {
        if !distinct.iter().any(|(pid, _)| *pid == entry.0) {
            distinct.push(entry);
        }
    }
    imp::stop(&distinct, grace)
}

/// Why `pid` must not be signalled, if it must not.
fn refusal(pid: u32) -> Option<&'static str> {
    if pid == 0 {
        Some("pid 0 means our whole process group; not signalling it")
    } else if pid == 1 {
        Some("it is the init process; not signalling it")
    } else if pid == std::process::id() {
        Some("it is git-atlas itself")
    } else if i32::try_from(pid).is_err() {
        Some("not a valid pid")
    } else if is_parent(pid) {
        Some("it is the process that started git-atlas")
    } else {
        None
    }
}

#[cfg(unix)]
fn is_parent(pid: u32) -> bool {
    pid == std::os::unix::process::parent_id()
}

#[cfg(not(unix))]
fn is_parent(_pid: u32) -> bool {
    false
}

/// `why`, naming the process when we know its command.
fn reason(why: impl std::fmt::Display, command: &str) -> String {
    if command.is_empty() {
        why.to_string()
    } else {
        format!("{why} ({command})")
    }
}

#[cfg(unix)]
mod imp {
    use std::io;
    use std::thread::sleep;
    use std::time::{Duration, Instant};

    use super::{reason, refusal, Stopped};

    /// How often we look whether the signalled processes are gone.
    const POLL: Duration = Duration::from_millis(20);
    /// SIGKILL cannot be ignored, but a process in uninterruptible sleep (a hung NFS read) only
    /// dies when it wakes: we wait this long before saying it survived.
    const AFTER_KILL: Duration = Duration::from_secs(2);

    enum State {
        Running,
        Done(Result<Stopped, (u32, String)>),
    }

    pub(super) fn stop(
        pids: &[&(u32, String)],
        grace: Duration,
    ) -> Vec<Result<Stopped, (u32, String)>> {
        let stopped = |i: usize, killed| {
            let (pid, command) = pids[i];
            State::Done(Ok(Stopped {
                pid: *pid,
                command: command.clone(),
                killed,
            }))
        };
        let failed = |i: usize, why: &dyn std::fmt::Display| {
            let (pid, command) = pids[i];
            State::Done(Err((*pid, reason(why, command))))
        };

        let mut states: Vec<State> = (0..pids.len())
            .map(|i| {
                let (pid, _) = pids[i];
                let Some(target) = valid(*pid) else {
                    return failed(i, &refusal(*pid).unwrap_or("not a valid pid"));
                };
                match kill(target, libc::SIGTERM) {
                    Ok(()) => State::Running,
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => stopped(i, false),
                    Err(e) => failed(i, &denied(e)),
                }
            })
            .collect();

        wait(pids, &mut states, grace, |i| stopped(i, false));

        for (i, state) in states.iter_mut().enumerate() {
            if let State::Running = state {
                let target = valid(pids[i].0).expect("checked before SIGTERM");
                *state = match kill(target, libc::SIGKILL) {
                    Ok(()) => State::Running,
                    // It exited between our last look and the SIGKILL.
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => stopped(i, false),
                    Err(e) => failed(i, &denied(e)),
                };
            }
        }

        wait(pids, &mut states, AFTER_KILL, |i| stopped(i, true));

        states
            .into_iter()
            .enumerate()
            .map(|(i, state)| match state {
                State::Done(result) => result,
                State::Running => Err((
                    pids[i].0,
                    reason(
                        format!("still running {AFTER_KILL:?} after SIGKILL"),
                        &pids[i].1,
                    ),
                )),
            })
            .collect()
    }

    /// A pid we may signal: one process (kill(2) reads 0 and negative pids as process groups),
    /// not ours, not init, not our parent.
    fn valid(pid: u32) -> Option<libc::pid_t> {
        if refusal(pid).is_some() {
            return None;
        }
        libc::pid_t::try_from(pid).ok().filter(|&p| p > 1)
    }

    /// kill(2) on a pid that `valid` accepted; signal 0 only asks whether it exists.
    fn kill(pid: libc::pid_t, signal: libc::c_int) -> io::Result<()> {
        debug_assert!(pid > 1);
        // SAFETY: kill takes two integers and touches none of our memory.
        if unsafe { libc::kill(pid, signal) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    fn denied(e: io::Error) -> String {
        if e.raw_os_error() == Some(libc::EPERM) {
            "not permitted: it belongs to another user".into()
        } else {
            format!("cannot signal it: {e}")
        }
    }

    /// Poll until every `Running` state is gone (then `gone(i)` is its new state) or `limit` passes.
    fn wait(
        pids: &[&(u32, String)],
        states: &mut [State],
        limit: Duration,
        gone: impl Fn(usize) -> State,
    ) {
        let deadline = Instant::now() + limit;
        loop {
            let mut running = false;
            for (i, state) in states.iter_mut().enumerate() {
                if let State::Running = state {
                    if is_running(pids[i].0) {
                        running = true;
                    } else {
                        *state = gone(i);
                    }
                }
            }
            let now = Instant::now();
            if !running || now >= deadline {
                return;
            }
            sleep(POLL.min(deadline - now));
        }
    }

    /// kill(pid, 0) succeeds for a zombie too: a process that has exited but whose parent has not
    /// collected its status yet. For us that process is gone, so on Linux we ask /proc as well.
    pub(super) fn is_running(pid: u32) -> bool {
        let Some(target) = valid(pid) else {
            return false;
        };
        match kill(target, 0) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => false,
            // EPERM: it exists, it is just not ours.
            _ => !is_zombie(pid),
        }
    }

    #[cfg(target_os = "linux")]
    fn is_zombie(pid: u32) -> bool {
        // `PID (COMM) STATE …`; COMM may hold spaces and parentheses, so look after the last ')'.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        matches!(state, Some('Z' | 'X'))
    }

    #[cfg(not(target_os = "linux"))]
    fn is_zombie(_pid: u32) -> bool {
        false
    }
}

#[cfg(not(unix))]
mod imp {
    use std::time::Duration;

    use super::{reason, refusal, Stopped};

    /// No signals here: every pid is reported as not stopped, with the reason.
    pub(super) fn stop(
        pids: &[&(u32, String)],
        _grace: Duration,
    ) -> Vec<Result<Stopped, (u32, String)>> {
        pids.iter()
            .map(|(pid, command)| {
                let why =
                    refusal(*pid).unwrap_or("stopping processes is not supported on this system");
                Err((*pid, reason(why, command)))
            })
            .collect()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::thread::{self, JoinHandle};
    use std::time::Instant;

    use super::*;

    const GRACE: Duration = Duration::from_millis(300);
    const IGNORE_TERM: &str = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)";

    /// A python3 child that has run `setup` and said so (signals sent now meet its handlers),
    /// reaped in the background the moment it exits, as a server's parent would. Outside Linux
    /// that is the only way its exit can be seen; after 5 s it is killed whatever happens.
    fn ready_child(setup: &str) -> (u32, JoinHandle<ExitStatus>) {
        let mut child = Command::new("python3")
            .args([
                "-c",
                &format!("{setup}\nimport time\nprint('ready', flush=True)\ntime.sleep(60)"),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        (child.id(), thread::spawn(move || reap(child)))
    }

    fn reap(mut child: Child) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().unwrap();
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop_one(setup: &str) -> (Stopped, Duration) {
        let (pid, reaper) = ready_child(setup);
        let started = Instant::now();
        let results = stop(&[(pid, "python3".into())], GRACE);
        let elapsed = started.elapsed();
        let signal = reaper.join().unwrap().signal();
        assert_eq!(results.len(), 1);
        let stopped = results.into_iter().next().unwrap().unwrap();
        assert_eq!(stopped.pid, pid);
        assert_eq!(stopped.command, "python3");
        let expected = if stopped.killed { 9 } else { 15 };
        assert_eq!(signal, Some(expected), "{stopped:?}");
        (stopped, elapsed)
    }

    #[test]
    fn a_process_that_exits_on_sigterm_is_not_killed() {
        let (stopped, elapsed) = stop_one("");
        assert!(!stopped.killed);
        // It went on the first polls, not at the end of the grace period.
        assert!(elapsed < GRACE, "{elapsed:?}");
    }

    #[test]
    fn a_process_that_ignores_sigterm_is_killed() {
        let (stopped, elapsed) = stop_one(IGNORE_TERM);
        assert!(stopped.killed);
        assert!(elapsed >= GRACE, "{elapsed:?}");
        assert!(elapsed < GRACE + Duration::from_secs(1), "{elapsed:?}");
    }

    #[test]
    fn several_at_once_and_each_pid_once() {
        let (polite, polite_reaper) = ready_child("");
        let (stubborn, stubborn_reaper) = ready_child(IGNORE_TERM);
        let started = Instant::now();
        let results = stop(
            &[
                (polite, "polite".into()),
                (stubborn, "stubborn".into()),
                (polite, "again".into()),
            ],
            GRACE,
        );
        // Both wait out one grace period together, not one each.
        assert!(started.elapsed() < GRACE * 2, "{:?}", started.elapsed());
        polite_reaper.join().unwrap();
        stubborn_reaper.join().unwrap();
        let results: Vec<Stopped> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            results,
            vec![
                Stopped {
                    pid: polite,
                    command: "polite".into(),
                    killed: false
                },
                Stopped {
                    pid: stubborn,
                    command: "stubborn".into(),
                    killed: true
                },
            ]
        );
    }

    /// A child of ours that has exited but is not reaped yet still answers kill(pid, 0).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_zombie_counts_as_gone() {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        let pid = child.id();
        assert!(imp::is_running(pid));
        child.kill().unwrap(); // SIGKILL, no wait: a zombie until the wait below.
        let deadline = Instant::now() + Duration::from_secs(2);
        while imp::is_running(pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        let still_running = imp::is_running(pid);
        child.wait().unwrap();
        assert!(!still_running);
    }

    #[test]
    fn refuses_init_itself_and_its_parent() {
        let me = std::process::id();
        let parent = std::os::unix::process::parent_id();
        for pid in [0, 1, me, parent, u32::MAX] {
            assert!(refusal(pid).is_some(), "{pid}");
        }
        assert!(refusal(me + 1).is_none() || me + 1 == parent);
        // Only the harmless refusals go through stop() itself: were the check broken, signalling
        // ourselves would end this test run loudly, where signalling init or cargo might not.
        let results = stop(&[(0, String::new()), (me, "git-atlas".into())], GRACE);
        assert_eq!(
            results,
            vec![
                Err((
                    0,
                    "pid 0 means our whole process group; not signalling it".into()
                )),
                Err((me, "it is git-atlas itself (git-atlas)".into())),
            ]
        );
    }
}
