//! The copy itself: each file cloned (`FICLONE` on Linux's btrfs and XFS, `clonefile` on APFS,
//! through the reflink-copy crate) or, where the filesystem cannot, copied (`copy_file_range`),
//! by several threads at once; symlinks made again as symlinks; modes and times kept; never over
//! anything already there. Each file is written under a temporary name beside its place and
//! renamed into it without replacing (`renameat2(RENAME_NOREPLACE)`), so a copy cut short leaves
//! no half file under a real name, and a file that appears meanwhile wins.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Entry;

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files and symlinks made.
    pub files: u64,
    pub bytes: u64,
    /// Of `files`, those cloned (sharing the main worktree's blocks until either changes), and
    /// those copied byte for byte (the rest are symlinks).
    pub cloned: u64,
    pub copied: u64,
    /// Files left alone because the worktree has something at their path.
    pub kept: u64,
    /// What could not be copied, one line each (path: reason).
    pub failed: Vec<String>,
    pub elapsed: Duration,
}

impl Summary {
    /// `40,123 files, 212 MB, cloned (copy-on-write) in 0.84 s`, and what was kept.
    pub fn describe(&self) -> String {
        let how = match (self.cloned, self.copied) {
            (0, 0) => String::new(),
            (_, 0) => ", cloned (copy-on-write)".into(),
            (0, _) => ", copied (this filesystem has no copy-on-write clones)".into(),
            (c, p) => format!(" ({} cloned, {} copied)", thousands(c), thousands(p)),
        };
        let mut line = format!(
            "{} {}, {}{how} in {:.2} s",
            thousands(self.files),
            plural(self.files, "file"),
            bytes(self.bytes),
            self.elapsed.as_secs_f64()
        );
        if self.kept > 0 {
            line.push_str(&format!(
                "; kept {} {} the worktree already has",
                thousands(self.kept),
                plural(self.kept, "file")
            ));
        }
        line
    }

    /// `40,123 files, 212 MB, cloned`: the hook's few words.
    pub fn short(&self) -> String {
        let how = match (self.cloned, self.copied) {
            (0, _) => "",
            (_, 0) => ", cloned",
            _ => ", partly cloned",
        };
        format!(
            "{} {} ({}{how})",
            thousands(self.files),
            plural(self.files, "file"),
            bytes(self.bytes)
        )
    }
}

pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 10_000_000_000 => format!("{} GB", n / 1_000_000_000),
        n if n >= 1_000_000_000 => format!("{:.1} GB", n as f64 / 1e9),
        n if n >= 10_000_000 => format!("{} MB", n / 1_000_000),
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{} kB", n / 1_000),
        n => format!("{n} B"),
    }
}

/// A file or symlink to make, with what its source is (not followed if a symlink).
struct Item {
    from: PathBuf,
    to: PathBuf,
    meta: fs::Metadata,
}

/// A folder the copy made, to get its source's mode and times once its files are in.
struct MadeDir {
    to: PathBuf,
    meta: fs::Metadata,
}

/// Copy `entries` from `from` (the main worktree) to the same paths under `to` (a worktree),
/// leaving out the files whose path is in `skip` (what git-atlas writes itself there). With
/// `progress`, a counter on stderr while it runs.
pub fn copy(from: &Path, to: &Path, entries: &[Entry], skip: &[String], progress: bool) -> Summary {
    let started = Instant::now();
    let mut plan = Plan {
        items: Vec::new(),
        dirs: Vec::new(),
        kept: 0,
        failed: Vec::new(),
        skip,
    };
    for e in entries {
        plan.entry(from, to, &e.rel);
    }
    let Plan {
        items,
        dirs,
        kept,
        mut failed,
        ..
    } = plan;
    let done = run(&items, progress);
    failed.extend(done.failed);
    // Deepest first: a folder made read-only is no longer written into.
    for d in dirs.iter().rev() {
        let _ = fs::set_permissions(&d.to, d.meta.permissions());
        if let (Ok(dir), Ok(times)) = (fs::File::open(&d.to), times_of(&d.meta)) {
            let _ = dir.set_times(times);
        }
    }
    Summary {
        files: done.files,
        bytes: done.bytes,
        cloned: done.cloned,
        copied: done.copied,
        kept: kept + done.kept,
        failed,
        elapsed: started.elapsed(),
    }
}

struct Plan<'a> {
    items: Vec<Item>,
    dirs: Vec<MadeDir>,
    kept: u64,
    failed: Vec<String>,
    skip: &'a [String],
}

impl Plan<'_> {
    /// Plan `rel` (a file, symlink or folder of `from`) into `to`, folders made on the way.
    fn entry(&mut self, from: &Path, to: &Path, rel: &str) {
        let rel_path = Path::new(rel);
        if rel_path
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            self.failed
                .push(format!("{rel}: not a plain relative path"));
            return;
        }
        let parent = rel_path.parent().unwrap_or(Path::new(""));
        if let Err(why) = self.folders(from, to, parent) {
            self.failed.push(format!("{rel}: {why}"));
            return;
        }
        self.walk(from, to, rel_path);
    }

    /// Make sure each folder of `rel` exists in `to` as a real folder (never through a symlink
    /// the worktree has, which could lead out of it).
    fn folders(&mut self, from: &Path, to: &Path, rel: &Path) -> std::result::Result<(), String> {
        let mut at = PathBuf::new();
        for part in rel.components() {
            at.push(part);
            self.folder(from, to, &at)?;
        }
        Ok(())
    }

    fn folder(&mut self, from: &Path, to: &Path, rel: &Path) -> std::result::Result<(), String> {
        let target = to.join(rel);
        match fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(m) if m.file_type().is_symlink() => Err(format!(
                "the worktree has a symlink at {}, not a folder",
                rel.display()
            )),
            Ok(_) => Err(format!(
                "the worktree has a file at {}, not a folder",
                rel.display()
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let meta = fs::symlink_metadata(from.join(rel)).map_err(|e| e.to_string())?;
                match fs::create_dir(&target) {
                    Ok(()) => {
                        // Its source's mode at once (a copy cut short leaves it right), but
                        // one we can write into and go through until its files are in.
                        let mode = meta.permissions().mode() & 0o7777;
                        let _ =
                            fs::set_permissions(&target, fs::Permissions::from_mode(mode | 0o700));
                        self.dirs.push(MadeDir { to: target, meta });
                        Ok(())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        self.folder(from, to, rel)
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Plan the file, symlink or whole folder `rel` (its folder exists in `to`).
    fn walk(&mut self, from: &Path, to: &Path, rel: &Path) {
        let source = from.join(rel);
        let meta = match fs::symlink_metadata(&source) {
            Ok(m) => m,
            Err(e) => {
                self.failed.push(format!("{}: {e}", rel.display()));
                return;
            }
        };
        let as_str = rel.to_str().unwrap_or_default();
        if !meta.is_dir() && self.skip.iter().any(|s| s == as_str) {
            return;
        }
        let target = to.join(rel);
        if meta.is_dir() {
            if let Err(why) = self.folder(from, to, rel) {
                self.failed.push(format!("{}: {why}", rel.display()));
                return;
            }
            let Ok(read) = fs::read_dir(&source) else {
                self.failed
                    .push(format!("{}: cannot read the folder", rel.display()));
                return;
            };
            for child in read.flatten() {
                self.walk(from, to, &rel.join(child.file_name()));
            }
        } else if meta.is_file() || meta.file_type().is_symlink() {
            if fs::symlink_metadata(&target).is_ok() {
                self.kept += 1;
                return;
            }
            self.items.push(Item {
                from: source,
                to: target,
                meta,
            });
        }
        // Sockets, FIFOs and devices are not copied.
    }
}

struct Done {
    files: u64,
    bytes: u64,
    cloned: u64,
    copied: u64,
    kept: u64,
    failed: Vec<String>,
}

/// Make `items` with a few threads (file copies wait on the disk more than on the CPU).
fn run(items: &[Item], progress: bool) -> Done {
    let next = AtomicUsize::new(0);
    let files = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let cloned = AtomicU64::new(0);
    let copied = AtomicU64::new(0);
    let kept = AtomicU64::new(0);
    let failed = Mutex::new(Vec::new());
    // Cleared once the filesystem says it cannot clone: the rest are copied without asking.
    let can_clone = AtomicBool::new(true);
    let finished = AtomicBool::new(false);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get() * 2)
        .clamp(2, 16)
        .min(items.len().max(1));
    let total: u64 = items.iter().map(|i| i.meta.len()).sum();
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i) else { break };
        let tmp = temporary(&item.to);
        let made = make(item, &tmp, &can_clone).and_then(|made| {
            let in_place = place(&tmp, &item.to)?;
            Ok((made, in_place))
        });
        match made {
            Ok((made, true)) => {
                files.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(item.meta.len(), Ordering::Relaxed);
                match made {
                    Made::Cloned => cloned.fetch_add(1, Ordering::Relaxed),
                    Made::Copied => copied.fetch_add(1, Ordering::Relaxed),
                    Made::Linked => 0,
                };
            }
            Ok((_, false)) => {
                kept.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                let mut failed = failed.lock().unwrap_or_else(|p| p.into_inner());
                failed.push(format!("{}: {e}", item.to.display()));
            }
        }
    };
    std::thread::scope(|scope| {
        let shown = progress && items.len() > 1;
        let counter = shown.then(|| {
            let (files, bytes, finished) = (&files, &bytes, &finished);
            scope.spawn(move || show_progress(files, bytes, finished, items.len(), total))
        });
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
        for w in workers {
            let _ = w.join();
        }
        finished.store(true, Ordering::Relaxed);
        if let Some(c) = counter {
            let _ = c.join();
        }
    });
    Done {
        files: files.into_inner(),
        bytes: bytes.into_inner(),
        cloned: cloned.into_inner(),
        copied: copied.into_inner(),
        kept: kept.into_inner(),
        failed: failed.into_inner().unwrap_or_else(|p| p.into_inner()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    Cloned,
    Copied,
    Linked,
}

/// Where `to` is made before it is renamed into place: `.<name>.git-atlas-copy` beside it (a
/// hash of the name when that would be too long). The same name every time, so that a copy cut
/// short (`kill -9`) leaves at most one per file, which the next copy of that file replaces;
/// copies into one worktree take turns, so one found there is such a leftover.
fn temporary(to: &Path) -> PathBuf {
    let name = to.file_name().unwrap_or_default().as_bytes();
    let tmp = if name.len() <= 200 {
        let mut n = b".".to_vec();
        n.extend_from_slice(name);
        n.extend_from_slice(b".git-atlas-copy");
        std::ffi::OsString::from(std::ffi::OsStr::from_bytes(&n))
    } else {
        format!(".{}.git-atlas-copy", crate::files::names::file_key(name)).into()
    };
    to.with_file_name(tmp)
}

/// Make `item` at `tmp`, with its source's mode and times: through open files, so that each
/// file costs about the system calls `cp -a` spends on it, and one rename.
fn make(item: &Item, tmp: &Path, can_clone: &AtomicBool) -> std::io::Result<Made> {
    if item.meta.file_type().is_symlink() {
        let target = fs::read_link(&item.from)?;
        again_if_left_over(tmp, || std::os::unix::fs::symlink(&target, tmp))?;
        return Ok(Made::Linked);
    }
    let mut source = fs::File::open(&item.from)?;
    let mut dest = again_if_left_over(tmp, || {
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(tmp)
    })?;
    let mut made = Made::Copied;
    if can_clone.load(Ordering::Relaxed) {
        match reflink_copy::reflink_file(&source, &dest) {
            Ok(()) => made = Made::Cloned,
            Err(e) if cannot_clone(&e) => can_clone.store(false, Ordering::Relaxed),
            Err(e) => return Err(e),
        }
    }
    if made == Made::Copied {
        // copy_file_range where the kernel has it, else read and write.
        std::io::copy(&mut source, &mut dest)?;
    }
    dest.set_permissions(item.meta.permissions())?;
    dest.set_times(times_of(&item.meta)?)?;
    Ok(made)
}

/// The access and modification times of `meta`, to give a copy.
fn times_of(meta: &fs::Metadata) -> std::io::Result<fs::FileTimes> {
    Ok(fs::FileTimes::new()
        .set_accessed(meta.accessed()?)
        .set_modified(meta.modified()?))
}

/// `make()`, and if `tmp` is there already (left by a copy cut short: copies into a worktree
/// take turns), without it and once more.
fn again_if_left_over<T>(
    tmp: &Path,
    mut make: impl FnMut() -> std::io::Result<T>,
) -> std::io::Result<T> {
    match make() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            fs::remove_file(tmp)?;
            make()
        }
        other => other,
    }
}

/// The errors that say this filesystem (or this pair of them) does not clone.
pub(crate) fn cannot_clone(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::Unsupported | std::io::ErrorKind::CrossesDevices
    ) || matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EXDEV | libc::EINVAL | libc::ENOTTY | libc::ENOSYS)
    )
}

/// Rename `tmp` to `to` unless something is there: `false` (and `tmp` gone) if it is.
fn place(tmp: &Path, to: &Path) -> std::io::Result<bool> {
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (from_c, to_c) = (c(tmp)?, c(to)?);
    // SAFETY: two NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from_c.as_ptr(),
            libc::AT_FDCWD,
            to_c.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EEXIST) => {
            fs::remove_file(tmp)?;
            Ok(false)
        }
        // A filesystem without RENAME_NOREPLACE: look, then rename (a race here is a file
        // that appeared in the same instant, replaced by main's copy of it).
        Some(libc::EINVAL | libc::ENOSYS) => {
            if fs::symlink_metadata(to).is_ok() {
                fs::remove_file(tmp)?;
                return Ok(false);
            }
            fs::rename(tmp, to)?;
            Ok(true)
        }
        _ => Err(e),
    }
}

/// `git-atlas: copying 12,345/40,123 files (120 MB)` on one line of stderr, redrawn every
/// tenth of a second once the copy has run for a quarter of one, erased at the end.
fn show_progress(
    files: &AtomicU64,
    bytes_done: &AtomicU64,
    finished: &AtomicBool,
    total: usize,
    total_bytes: u64,
) {
    use std::io::Write;
    let started = Instant::now();
    let mut drawn = false;
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() < Duration::from_millis(250) {
            continue;
        }
        let line = format!(
            "\rgit-atlas: copying {}/{} files ({} of {})",
            thousands(files.load(Ordering::Relaxed)),
            thousands(total as u64),
            bytes(bytes_done.load(Ordering::Relaxed)),
            bytes(total_bytes)
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{line}\x1b[K");
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts_read_as_people_write_them() {
        assert_eq!(thousands(40123), "40,123");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(bytes(212_400_000), "212 MB");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(bytes(512), "512 B");
        let s = Summary {
            files: 3,
            bytes: 2_000,
            cloned: 3,
            copied: 0,
            kept: 1,
            failed: Vec::new(),
            elapsed: Duration::from_millis(40),
        };
        assert_eq!(
            s.describe(),
            "3 files, 2 kB, cloned (copy-on-write) in 0.04 s; kept 1 file the worktree already has"
        );
        assert_eq!(s.short(), "3 files (2 kB, cloned)");
    }
}
