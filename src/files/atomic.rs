//! File primitives every writer shares: an advisory lock on a sidecar file and atomic replacement.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};

/// An exclusive OS advisory lock, released when dropped or when the process dies (even by `kill -9`).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Block until the lock on `path` (created if missing) is ours.
    pub fn exclusive(path: &Path) -> Result<Lock> {
        let file = open_lock_file(path)?;
        file.lock().at("lock", path)?;
        Ok(Lock { _file: file })
    }

    /// [`Lock::exclusive`] without waiting: `None` while another process holds it.
    pub fn try_exclusive(path: &Path) -> Result<Option<Lock>> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e).at("lock", path),
        }
    }

    /// [`Lock::exclusive`] for a lock file its holder may delete ([`Lock::remove`]): once
    /// locked, the file must still be the one at `path`, or it is opened again (a waiter that
    /// opened it before the delete would otherwise hold a lock nobody else sees).
    pub fn exclusive_removable(path: &Path) -> Result<Lock> {
        use std::os::unix::fs::MetadataExt;
        loop {
            let lock = Lock::exclusive(path)?;
            let held = lock._file.metadata().at("read", path)?;
            match fs::metadata(path) {
                Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => return Ok(lock),
                _ => continue,
            }
        }
    }

    /// Delete the lock file of a lock taken with [`Lock::exclusive_removable`], still holding it.
    pub fn remove(self, path: &Path) {
        let _ = fs::remove_file(path);
    }

    /// Hand the lock to the child `cmd` spawns: it holds it (its descriptor shares the lock)
    /// until it exits, also after this process drops its own. The child learns the
    /// descriptor's number from `var` in its environment.
    pub fn pass_to(&self, cmd: &mut std::process::Command, var: &str) {
        use std::os::fd::AsRawFd;
        let fd = self._file.as_raw_fd();
        cmd.env(var, fd.to_string());
        inherit(cmd, fd);
    }

    /// In the child of [`Lock::pass_to`]: keep the lock passed in `var` from the programs this
    /// process runs (a step that leaves a server running would otherwise hold it for ever).
    pub fn keep_passed_to_self(var: &str) {
        if let Some(fd) = std::env::var(var).ok().and_then(|v| v.parse::<i32>().ok()) {
            // SAFETY: fcntl on a descriptor number only changes its close-on-exec flag; a
            // number that is not open fails harmlessly.
            unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags >= 0 {
                    libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                }
            }
        }
    }
}

/// Let the child about to be spawned by `cmd` inherit descriptor `fd`, which, as every file std
/// opens, is close-on-exec: cleared in the child only, so no other program git-atlas runs (the
/// other side of a dump's pipe, say) gets it.
pub fn inherit(cmd: &mut std::process::Command, fd: std::os::fd::RawFd) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec and calls only fcntl, which is
    // async-signal-safe; it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The lock file at `path`, created if missing (its directory too).
fn open_lock_file(path: &Path) -> Result<File> {
    in_dir(path, || {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
    })
    .at("open lock file", path)
}

/// Replace `path` with `contents` so that readers see either the old or the new file, never a part:
/// write a temporary file in the same directory, fsync it, rename it over `path`, fsync the directory.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    replace(path, contents, true)
}

/// Like [`write_atomic`] for files derived from others and rebuilt when missing or stale (the
/// prompt files, their stamp, hook-state, the lease file): replaced atomically, but not forced
/// to disk, which costs milliseconds per file on some disks.
pub fn write_derived_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    replace(path, contents, false)
}

fn replace(path: &Path, contents: &[u8], durable: bool) -> Result<()> {
    let dir = parent_dir(path);
    let mut tmp = in_dir(path, || {
        tempfile::Builder::new()
            .prefix(".git-atlas-")
            .suffix(".tmp")
            .tempfile_in(&dir)
    })
    .at("create a temporary file in", &dir)?;
    // Keep the mode of the file being replaced (a user may have made .env.local private); a new
    // file gets the usual rw-r--r-- rather than the temporary file's rw-------.
    let mode = fs::metadata(path)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| {
            use std::os::unix::fs::PermissionsExt;
            fs::Permissions::from_mode(0o644)
        });
    tmp.as_file()
        .set_permissions(mode)
        .at("set the mode of", tmp.path())?;
    tmp.write_all(contents).at("write", tmp.path())?;
    if durable {
        tmp.as_file().sync_all().at("sync", tmp.path())?;
    }
    tmp.persist(path).map_err(|e| e.error).at("replace", path)?;
    if durable {
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// `create` a file beside `path`, making `path`'s directory first if it is missing (tried after
/// the fact: the directory nearly always exists, and making sure first cost two system calls per
/// file written).
pub fn in_dir<T>(path: &Path, create: impl Fn() -> std::io::Result<T>) -> std::io::Result<T> {
    match create() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(parent_dir(path))?;
            create()
        }
        other => other,
    }
}

/// Remove the temporary files of atomic writes into `dir` that a killed writer left behind
/// (`.git-atlas-*.tmp`), those last changed at least `age` ago: a caller that holds the lock
/// every writer of `dir` takes passes zero.
pub fn clear_leftovers(dir: &Path, age: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".git-atlas-") && name.ends_with(".tmp")) {
            continue;
        }
        let old_enough = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= age);
        if old_enough {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Move `path` (a file, or a directory where a file should be) out of the way as
/// `<path>.backup`, replacing an older backup. Returns the backup's path; `None` when `path`
/// was gone already (set aside by a parallel run).
pub fn set_aside(path: &Path) -> Result<Option<PathBuf>> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".backup");
    let backup = path.with_file_name(name);
    match fs::symlink_metadata(&backup) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(&backup).at("remove", &backup)?,
        Ok(_) => fs::remove_file(&backup).at("remove", &backup)?,
        Err(_) => {}
    }
    match fs::rename(path, &backup) {
        Ok(()) => Ok(Some(backup)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).at("set aside", path),
    }
}

/// `path` with `suffix` added to its last part: `app.db` + `-wal`, `main` + `.log`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
