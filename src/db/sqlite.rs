//! SQLite: a database is a file. Creating one makes an empty file (a valid empty database),
//! copying one copies the file beside its target and renames it into place, dropping one removes
//! it with its `-wal`, `-shm` and `-journal` companions.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::client::{Failure, Result};

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
/// program, `VACUUM INTO` makes a consistent copy even while an application writes to `from`
/// (its write-ahead log included); without it, the file and its `-wal` are copied as they are.
pub fn copy(from: &Path, to: &Path) -> Result<()> {
    make_parent(to)?;
    let dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".git-atlas-copy-")
        .tempfile_in(dir)
        .map_err(|e| failed("create a file in", dir, e))?;
    let sqlite3 = which::which("sqlite3").ok();
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

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
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
