//! What a hook may say: at most one line per Git command (a `git worktree add` runs several
//! hooks, in several Git processes), and a warning said once is not said again until it
//! changes. `worktree-registry/said/<pid>-<start time>` is made (exclusively: parallel Git
//! commands each get their own) by the first hook of a Git command that says a line, and taken
//! away once that process is gone; `worktree-registry/hook-said` keeps the last warning.

use std::fs;
use std::path::{Path, PathBuf};

use crate::files;

/// Where the shims note that they found no git-atlas on PATH (said once, until it is back).
pub const SKIPPED: &str = "hook-skipped";
const SAID: &str = "hook-said";

/// A line a hook wants to say.
pub enum Line {
    /// What it did (`feat: ports app:3828; wrote .env.local`).
    Done(String),
    /// What went wrong; `key` is what stays the same while the situation does.
    Warning { line: String, key: String },
}

/// Say `line` on stderr unless this Git command has heard a line already, or it is the warning
/// said last. `None` (nothing to say) means the situation that warned is over.
#[allow(clippy::print_stderr)]
pub fn say(registry_dir: &Path, line: Option<Line>) {
    let path = registry_dir.join(SAID);
    // A hook that runs at all means git-atlas is on PATH again.
    let _ = fs::remove_file(registry_dir.join(SKIPPED));
    let last_warning = fs::read_to_string(&path).unwrap_or_default();
    let (text, warning) = match line {
        None => {
            if !last_warning.is_empty() {
                let _ = files::write_derived_atomic(&path, b"");
            }
            return;
        }
        Some(Line::Done(text)) => (text, None),
        Some(Line::Warning { line, key }) => {
            let key = key.replace('\n', " ");
            if key == last_warning {
                return;
            }
            (line, Some(key))
        }
    };
    if !first_line_of_this_git_command(registry_dir) {
        return;
    }
    eprintln!("git-atlas: {}", text.replace('\n', " "));
    if let Some(key) = warning {
        let _ = files::write_derived_atomic(&path, key.as_bytes());
    }
}

/// Whether no hook of this Git command said a line yet (so this one may): made its marker.
/// Where `/proc` cannot tell the command, every hook may.
fn first_line_of_this_git_command(registry_dir: &Path) -> bool {
    let Some((pid, start)) = git_command() else {
        return true;
    };
    let dir = registry_dir.join("said");
    let marker = dir.join(format!("{pid}-{start}"));
    let made = files::in_dir(&marker, || {
        fs::File::options()
            .write(true)
            .create_new(true)
            .open(&marker)
    });
    let made = match made {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return false,
        other => other.is_ok(),
    };
    if made {
        forget_finished_commands(&dir);
    }
    true
}

/// Take away the markers of Git commands that have finished.
fn forget_finished_commands(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((pid, start)) = name.to_str().and_then(|n| n.split_once('-')) else {
            continue;
        };
        let alive = pid
            .parse()
            .ok()
            .and_then(proc_stat)
            .is_some_and(|(_, _, s)| s.to_string() == start);
        if !alive {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The Git command this hook runs under, as the pid and start time of the outermost `git`
/// process among our ancestors (the hook's shell's parent may be a `git` that the command ran,
/// such as `git worktree add`'s `git reset --hard`). `None` where `/proc` cannot tell.
fn git_command() -> Option<(u32, u64)> {
    let mut pid = std::os::unix::process::parent_id();
    let mut found = None;
    for _ in 0..16 {
        let (comm, ppid, start) = proc_stat(pid)?;
        if comm == "git" {
            found = Some((pid, start));
        } else if found.is_some() {
            break;
        }
        if ppid <= 1 {
            break;
        }
        pid = ppid;
    }
    found
}

/// A process's command name, parent and start time, from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(String, u32, u64)> {
    let text = fs::read_to_string(PathBuf::from(format!("/proc/{pid}/stat"))).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 2..].split(' ').collect();
    // After the name: state(0) ppid(1) … starttime(19).
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((comm, ppid, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_stat() {
        let (comm, ppid, _) = proc_stat(std::process::id()).unwrap();
        assert!(!comm.is_empty());
        assert_eq!(ppid, std::os::unix::process::parent_id());
    }

    #[test]
    fn a_warning_is_said_once_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let warn = |k: &str| Line::Warning {
            line: format!("warning: {k}"),
            key: k.to_string(),
        };
        say(d, Some(warn("a")));
        let said = || fs::read_to_string(d.join(SAID)).unwrap();
        assert_eq!(said(), "a");
        say(d, Some(warn("a")));
        say(d, None);
        assert_eq!(said(), "");
    }
}
