//! SQLite: a database is a file. Creating one makes an empty file (a valid empty database),
//! copying one copies the file beside its target and renames it into place, dropping one removes
//! it with its `-wal`, `-shm` and `-journal` companions.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use super::client::{Failure, Result};
use crate::files::with_suffix;

fn failed(what: &str, path: &Path, e: std::io::Error) -> Failure {
    Failure::Other(format!("could not {what} {}: {e}", path.display()))
}

/// The file's size, or `None` if it does not exist.
pub fn status(path: &Path) -> Result<Option<u64>> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some(m.len())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(failed("read", path, e)),
    }
}

fn make_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            fs::create_dir_all(dir).map_err(|e| failed("create", dir, e))
        }
        _ => Ok(()),
    }
}

/// Create an empty database file; `false` if it was already there.
pub fn create(path: &Path) -> Result<bool> {
    make_parent(path)?;
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(failed("create", path, e)),
    }
}

/// Copy `from` to `to` (replacing `to`, which the caller has just created). With the `sqlite3`
/// program: on a filesystem with copy-on-write clones (btrfs, XFS, APFS), a clone of the file
/// and its write-ahead log taken while a `sqlite3` session holds the database's write lock (no
/// writer can change either meanwhile; readers go on; the lock is held for the milliseconds a
/// clone takes); elsewhere `VACUUM INTO`, which makes a consistent copy even while an
/// application writes to `from` and blocks no writer. Without `sqlite3`, the file and its
/// `-wal` are copied as they are.
pub fn copy(from: &Path, to: &Path) -> Result<()> {
    make_parent(to)?;
    let dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = || {
        tempfile::Builder::new()
            .prefix(".git-atlas-copy-")
            .tempfile_in(dir)
            .map_err(|e| failed("create a file in", dir, e))
    };
    let tmp = temp()?;
    let sqlite3 = which::which("sqlite3").ok();
    if let Some(sqlite3) = &sqlite3 {
        let wal = temp()?;
        if clone_locked(sqlite3, from, tmp.as_file(), wal.as_file())? {
            // The log first: the database is in place, and the copy done, once `to` is.
            if wal.as_file().metadata().is_ok_and(|m| m.len() > 0) {
                let to_wal = with_suffix(to, "-wal");
                wal.persist(&to_wal)
                    .map_err(|e| failed("write", &to_wal, e.error))?;
            }
            tmp.persist(to).map_err(|e| failed("write", to, e.error))?;
            return Ok(());
        }
    }
    match (&sqlite3, tmp.path().to_str()) {
        (Some(sqlite3), Some(target)) => {
            let sql = format!("VACUUM INTO '{}'", target.replace('\'', "''"));
            let out = duct::cmd(sqlite3, [from.as_os_str(), std::ffi::OsStr::new(&sql)])
                .stdin_null()
                .stdout_null()
                .stderr_capture()
                .unchecked()
                .run()
                .map_err(|e| Failure::Other(format!("could not run sqlite3: {e}")))?;
            let said = String::from_utf8_lossy(&out.stderr);
            if said.contains("file is not a database") {
                // Not SQLite after all (or encrypted): the bytes are all there is to copy.
                fs::copy(from, tmp.path()).map_err(|e| failed("copy", from, e))?;
            } else if !out.status.success() {
                return Err(Failure::Other(format!(
                    "sqlite3 could not copy {}: {}",
                    from.display(),
                    said.trim()
                )));
            }
        }
        _ => {
            fs::copy(from, tmp.path()).map_err(|e| failed("copy", from, e))?;
        }
    }
    tmp.persist(to).map_err(|e| failed("write", to, e.error))?;
    let (from_wal, to_wal) = (with_suffix(from, "-wal"), with_suffix(to, "-wal"));
    if sqlite3.is_none() && from_wal.is_file() {
        fs::copy(&from_wal, to_wal).map_err(|e| failed("copy", &from_wal, e))?;
    }
    Ok(())
}

/// Clone `from` into `db` and its `-wal` (if any) into `wal`, holding the database's write lock
/// through a `sqlite3` session (`BEGIN IMMEDIATE`, waiting up to 5 s for a writer to finish,
/// as applications' busy timeouts do). `false`, with nothing written, when the filesystem has
/// no clones or `sqlite3` cannot lock it (not a database, say): the caller copies another way.
fn clone_locked(sqlite3: &Path, from: &Path, db: &fs::File, wal: &fs::File) -> Result<bool> {
    use std::io::{BufRead, Write};
    use std::process::{Command, Stdio};
    const LOCKED: &str = "git-atlas: locked";
    // Where the filesystem cannot clone, neither a session nor its wait for a writer: a clone
    // of the file as it is tells (milliseconds where it can; it is made again under the lock).
    let probe = fs::File::open(from).and_then(|f| reflink_copy::reflink_file(&f, db));
    let _ = db.set_len(0);
    if probe.is_err() {
        return Ok(false);
    }
    let mut session = Command::new(sqlite3)
        .arg("-bail")
        .arg(from)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure::Other(format!("could not run sqlite3: {e}")))?;
    let (Some(mut stdin), Some(stdout)) = (session.stdin.take(), session.stdout.take()) else {
        let _ = session.kill();
        let _ = session.wait();
        return Ok(false);
    };
    let asked = writeln!(stdin, ".timeout 5000\nBEGIN IMMEDIATE;\nSELECT '{LOCKED}';")
        .and_then(|()| stdin.flush());
    let mut lines = std::io::BufReader::new(stdout).lines();
    let locked = asked.is_ok() && lines.any(|l| l.is_ok_and(|l| l == LOCKED));
    let cloned = locked && {
        let clone = |from: &Path, into: &fs::File| -> std::io::Result<bool> {
            let source = match fs::File::open(from) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(true),
                Err(e) => return Err(e),
            };
            match reflink_copy::reflink_file(&source, into) {
                Ok(()) => Ok(true),
                Err(e) if crate::copying::clone::cannot_clone(&e) => Ok(false),
                Err(e) => Err(e),
            }
        };
        match clone(from, db) {
            Ok(true) => clone(&with_suffix(from, "-wal"), wal).unwrap_or(false),
            _ => false,
        }
    };
    // The lock goes with the session (its end rolls the empty transaction back).
    let _ = writeln!(stdin, "ROLLBACK;");
    std::mem::drop(stdin);
    let _ = session.wait();
    if !cloned {
        for file in [db, wal] {
            let _ = file.set_len(0);
        }
    }
    Ok(cloned)
}

/// Remove the file and its companions; `false` if it did not exist.
pub fn drop(path: &Path) -> Result<bool> {
    let existed = status(path)?.is_some();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = with_suffix(path, suffix);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(failed("remove", &p, e)),
        }
    }
    Ok(existed)
}
