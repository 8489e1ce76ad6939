//! Versions of the files git-atlas only ever replaces by a rename (the registry, the lease file),
//! and a process's cache of one: a command reads such a file several times and decodes it once.

use std::cell::RefCell;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

/// What identifies one written version of such a file: its inode changes with every write, and
/// its size and time with an edit in place.
fn stamp_of(m: &fs::Metadata) -> String {
    format!(
        "{} {} {} {}.{}\n",
        m.dev(),
        m.ino(),
        m.len(),
        m.mtime(),
        m.mtime_nsec()
    )
}

/// A version as a cache saw it: its stamp (device, inode, size and modification time), and whether it had settled then, that is, had
/// last changed longer ago than its file system's times can tell apart. Only a settled version's
/// stamp proves that the file is still that version: a replacement made within the same clock
/// tick can carry the same time, and often the same size and inode number (one an earlier
/// replacement freed), the problem Git's index calls "racily clean".
#[derive(Debug, Clone)]
pub struct Version {
    stamp: String,
    settled: bool,
}

impl Version {
    /// What identifies this version (see [`Version`]), as text.
    pub fn stamp(&self) -> &str {
        &self.stamp
    }
}

/// The version `path` is now, `None` if it cannot be read.
pub fn version(path: &Path) -> Option<Version> {
    let m = fs::metadata(path).ok()?;
    // Times in whole seconds need seconds to tell apart; finer ones tick every 10 ms at most.
    let tick = if m.mtime_nsec() == 0 {
        Duration::from_secs(2)
    } else {
        Duration::from_millis(20)
    };
    let settled = m
        .modified()
        .ok()
        .and_then(|changed| SystemTime::now().duration_since(changed).ok())
        .is_some_and(|age| age > tick);
    Some(Version {
        stamp: stamp_of(&m),
        settled,
    })
}

/// The version of a file this process last read or wrote, decoded.
#[derive(Debug, Clone)]
pub struct Cache<T>(RefCell<Option<(Version, Rc<T>)>>);

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Cache(RefCell::new(None))
    }
}

impl<T> Cache<T> {
    /// The cached copy, if the file is still the version it was decoded from (`now`, taken just
    /// before). `for_update`: the caller holds the file's lock and will write what it derives
    /// from the copy, so only a version that had settled when it was cached counts.
    pub fn get(&self, now: Option<&Version>, for_update: bool) -> Option<Rc<T>> {
        let now = now?;
        let cache = self.0.borrow();
        let (seen, value) = cache.as_ref()?;
        (seen.stamp == now.stamp && (seen.settled || !for_update)).then(|| Rc::clone(value))
    }

    /// Remember `value` as the decoded `version` (taken before it was read, or after it was
    /// written); nothing without a version.
    pub fn put(&self, version: Option<Version>, value: Rc<T>) {
        if let Some(version) = version {
            *self.0.borrow_mut() = Some((version, value));
        }
    }

    /// Forget the cached copy without freeing it, for an owner that lives until the process
    /// ends (see the `Drop` of [`crate::workspace::Workspace`]).
    pub fn leak(&self) {
        std::mem::forget(self.0.borrow_mut().take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_just_written_serves_readers_but_not_writers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        fs::write(&path, "1").unwrap();
        let cache = Cache::default();
        cache.put(version(&path), Rc::new(1));
        let now = version(&path);
        assert_eq!(cache.get(now.as_ref(), false).as_deref(), Some(&1));
        assert_eq!(cache.get(now.as_ref(), true), None, "not settled yet");
        // Replaced by a rename: another version, whatever its time.
        let tmp = dir.path().join("tmp");
        fs::write(&tmp, "2").unwrap();
        fs::rename(&tmp, &path).unwrap();
        assert_eq!(cache.get(version(&path).as_ref(), false), None);
        // A version that had settled when it was cached serves writers too.
        let old = SystemTime::now() - Duration::from_secs(60);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        cache.put(version(&path), Rc::new(2));
        assert_eq!(
            cache.get(version(&path).as_ref(), true).as_deref(),
            Some(&2)
        );
        assert_eq!(cache.get(None, false), None);
    }
}
