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

/// Copy `from` to `to` (replacing `to`, which the caller has just created).
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
    fs::copy(from, tmp.path()).map_err(|e| failed("copy", from, e))?;
    tmp.persist(to).map_err(|e| failed("write", to, e.error))?;
    Ok(())
}

/// Remove the file and its companions; `false` if it did not exist.
pub fn drop(path: &Path) -> Result<bool> {
    let existed = status(path)?.is_some();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(failed("remove", &p, e)),
        }
    }
    Ok(existed)
}
