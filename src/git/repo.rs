//! The repository as git-atlas sees it: where it is, which worktree we are in, and every
//! worktree with its state. With `tree` (what a commit tracks), the only module that touches
//! gix.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// The name git-atlas gives the main worktree.
pub const MAIN: &str = "main";

/// Where we are: found without opening the repository (no config is read, nothing is spawned),
/// so that `git atlas ports` and the hook fast path stay as cheap as `git rev-parse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub git_dir: PathBuf,
    pub common_dir: PathBuf,
    pub work_dir: Option<PathBuf>,
    /// Git's worktree id, or [`MAIN`].
    pub worktree: String,
}

impl Location {
    /// Find the repository containing `cwd`, honouring `GIT_DIR` / `GIT_WORK_TREE` as Git does
    /// (hooks run with them set).
    pub fn discover(cwd: &Path) -> Result<Location> {
        if let Some(git_dir) = std::env::var_os("GIT_DIR").filter(|v| !v.is_empty()) {
            let git_dir = absolute(cwd, &git_dir);
            let work_dir = std::env::var_os("GIT_WORK_TREE")
                .filter(|v| !v.is_empty())
                .map(|w| absolute(cwd, &w));
            return Self::from_git_dir(git_dir, work_dir.or_else(|| Some(cwd.to_path_buf())));
        }
        let (path, _trust) = gix::discover::upwards(cwd).map_err(|e| {
            Error::failed(format!("not in a Git repository ({}): {e}", cwd.display()))
                .hint("run git-atlas inside a repository or one of its worktrees")
        })?;
        use gix::discover::repository::Path as P;
        match path {
            P::LinkedWorkTree { work_dir, git_dir } => Self::from_git_dir(
                absolute(cwd, git_dir.as_os_str()),
                Some(absolute(cwd, work_dir.as_os_str())),
            ),
            P::WorkTree(work_dir) => {
                let work_dir = absolute(cwd, work_dir.as_os_str());
                Self::from_git_dir(work_dir.join(".git"), Some(work_dir))
            }
            P::Repository(git_dir) => Self::from_git_dir(absolute(cwd, git_dir.as_os_str()), None),
        }
    }

    fn from_git_dir(git_dir: PathBuf, work_dir: Option<PathBuf>) -> Result<Location> {
        // A linked worktree's private git dir names the shared one in its `commondir` file.
        match fs::read_to_string(git_dir.join("commondir")) {
            Ok(common) => {
                let common_dir = clean(&git_dir.join(common.trim_end_matches(['\n', '\r'])));
                let worktree = git_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        Error::failed(format!("unexpected worktree git dir {}", git_dir.display()))
                    })?;
                Ok(Location {
                    git_dir,
                    common_dir,
                    work_dir,
                    worktree,
                })
            }
            Err(_) => Ok(Location {
                common_dir: git_dir.clone(),
                git_dir,
                work_dir,
                worktree: MAIN.into(),
            }),
        }
    }
}

fn absolute(cwd: &Path, p: &std::ffi::OsStr) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        clean(&cwd.join(p))
    }
}

/// Resolve `.` and `..` lexically (the common dir is `worktrees/<id>/../..`).
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// One worktree of the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    pub name: String,
    pub path: PathBuf,
    pub is_main: bool,
    /// The checked-out branch, without `refs/heads/`; `None` when detached.
    pub branch: Option<String>,
    pub locked: Option<String>,
    /// Its checkout is gone and it is not locked: `git worktree prune` would remove it.
    pub prunable: bool,
    /// Its checkout was there (its `.git`) when the worktrees were listed.
    pub present: bool,
}

impl Worktree {
    /// `git worktree add` locks a worktree with this reason until its checkout is done.
    pub fn is_initializing(&self) -> bool {
        self.locked
            .as_deref()
            .is_some_and(|r| r.starts_with("initializing"))
    }

    pub fn exists(&self) -> bool {
        self.path.is_dir()
    }
}

/// The opened repository: where its main worktree is, and its linked worktrees.
pub struct Repo {
    pub location: Location,
    main_dir: Option<PathBuf>,
}

impl Repo {
    /// Open the repository at `location`, reading no more than its main worktree's whereabouts
    /// from the shared `config` (`core.bare`, `core.worktree`): opening it with gix, which reads
    /// every configuration file and prepares the object store, cost as much as the rest of a
    /// `git atlas add` before Git starts.
    pub fn open(location: Location) -> Result<Repo> {
        let main_dir = main_dir(&location)?;
        Ok(Repo { location, main_dir })
    }

    pub fn discover(cwd: &Path) -> Result<Repo> {
        Repo::open(Location::discover(cwd)?)
    }

    /// Whether Git would look for hooks somewhere else than `<common dir>/hooks`: any
    /// configuration (every file Git reads, and `git -c` settings handed down to us) setting
    /// `core.hooksPath`. A configuration that cannot be read answers yes.
    /// `opened`: this repository as gix opened it here already, if it did.
    pub fn hooks_elsewhere(&self, opened: Option<&gix::Repository>) -> bool {
        let handed_down = ["GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        let set =
            |repo: &gix::Repository| repo.config_snapshot().string("core.hooksPath").is_some();
        handed_down
            || match opened {
                Some(repo) => set(repo),
                None => gix::open(&self.location.git_dir).map_or(true, |repo| set(&repo)),
            }
    }

    pub fn common_dir(&self) -> &Path {
        &self.location.common_dir
    }

    /// The main worktree's directory, `None` for a bare repository.
    pub fn main_dir(&self) -> Option<PathBuf> {
        self.main_dir.clone()
    }

    /// Every worktree: the main one first (unless the repository is bare), then linked ones by id.
    pub fn worktrees(&self) -> Result<Vec<Worktree>> {
        Ok(self.list_worktrees()?.0)
    }

    /// [`Repo::worktrees`], and the newest change to them that Git's files show: the mtime of
    /// `worktrees/` (an add, remove or prune changes its entries) or of a `worktrees/<id>/gitdir`
    /// (a move rewrites it), each taken as it is read, so a later change carries a later time
    /// (see `git::hooks::write_state`). Each worktree's files are read once: `gitdir`, `locked`,
    /// `HEAD`, and a look at its `.git`.
    ///
    /// File times advance in clock ticks of a few milliseconds, so a change within the same
    /// tick as the newest one, after this listing, would carry the same time and wait for the
    /// next change or git-atlas command to be noticed. Waiting out the tick here would cost
    /// every `git atlas add` up to a tick; two worktree changes a few milliseconds apart with a
    /// reconcile between them are left to that next occasion.
    pub fn worktrees_and_newest_change(&self) -> Result<(Vec<Worktree>, Option<SystemTime>)> {
        self.list_worktrees()
    }

    /// The main worktree, unless the repository is bare.
    pub fn main_worktree(&self) -> Option<Worktree> {
        Some(Worktree {
            name: MAIN.into(),
            path: self.main_dir()?,
            is_main: true,
            branch: head_branch(self.common_dir()),
            locked: None,
            prunable: false,
            present: true,
        })
    }

    fn list_worktrees(&self) -> Result<(Vec<Worktree>, Option<SystemTime>)> {
        let mut out: Vec<Worktree> = self.main_worktree().into_iter().collect();
        let dir = self.common_dir().join("worktrees");
        let mut newest = fs::metadata(&dir).and_then(|m| m.modified()).ok();
        let mut ids: Vec<std::ffi::OsString> = match fs::read_dir(&dir) {
            Ok(entries) => entries.flatten().map(|e| e.file_name()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        ids.sort();
        for id in ids {
            if let Some((wt, changed)) = linked(&dir, &id) {
                newest = newest.max(Some(changed));
                out.push(wt);
            }
        }
        // The directories that hold them, for an `rm -rf` (see hooks::watched_dirs).
        newest = newest.max(crate::git::hooks::newest_of(
            &crate::git::hooks::watched_dirs(&out),
        ));
        Ok((out, newest))
    }

    /// The linked worktree whose directory is `path`, reading only its own files (its `.git`
    /// names its id).
    pub fn worktree_at(&self, path: &Path) -> Option<Worktree> {
        let git_dir = dot_git_target(path)?;
        let id = git_dir.file_name()?;
        let dir = self.common_dir().join("worktrees");
        linked(&dir, id).map(|(wt, _)| wt)
    }

    /// The linked worktree with Git's id `name`, as its files say now.
    pub fn worktree_by_name(&self, name: &str) -> Option<Worktree> {
        let dir = self.common_dir().join("worktrees");
        linked(&dir, std::ffi::OsStr::new(name)).map(|(wt, _)| wt)
    }

    /// Whether `wt.path` still is `wt`'s checkout: for a linked worktree, a directory (not a
    /// symlink put in its place) whose `.git` names `wt`'s own Git directory. Asked before
    /// git-atlas writes into a worktree: a directory moved away and replaced (by a symlink to
    /// somewhere else, another worktree, anything) is not that worktree any more, and nothing
    /// may be written through its old path.
    pub fn is_checkout(&self, wt: &Worktree) -> bool {
        if wt.is_main {
            return wt.path.is_dir();
        }
        use std::os::unix::fs::MetadataExt;
        let is_dir = fs::symlink_metadata(&wt.path).is_ok_and(|m| m.is_dir());
        let own = self.common_dir().join("worktrees").join(&wt.name);
        // The same directory, by device and inode (resolving both paths costs a system call
        // per component).
        let same = |a: &Path, b: &Path| match (fs::metadata(a), fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        is_dir && dot_git_target(&wt.path).is_some_and(|named| same(&named, &own))
    }

    /// Whether linked worktree `wt` has had its first checkout (Git wrote its index): one
    /// made with `--no-checkout` has none until then.
    pub fn has_index(&self, wt: &Worktree) -> bool {
        self.common_dir()
            .join("worktrees")
            .join(&wt.name)
            .join("index")
            .exists()
    }
}

/// The Git directory a linked worktree's `.git` file names (`gitdir: <path>`, relative to the
/// worktree or absolute), read whole: a path may hold a newline.
fn dot_git_target(worktree: &Path) -> Option<PathBuf> {
    let bytes = fs::read(worktree.join(".git")).ok()?;
    let rest = trim_end_space(bytes.strip_prefix(b"gitdir: ")?);
    let named = Path::new(std::ffi::OsStr::from_bytes(rest));
    (!named.as_os_str().is_empty()).then(|| worktree.join(named))
}

/// The main worktree's directory, as Git finds it: none when `core.bare` is true, else
/// `core.worktree` when set (relative to the common dir), else the directory holding the common
/// dir when that is a `.git`. With `extensions.worktreeConfig`, the main worktree's own
/// `config.worktree` (where `git sparse-checkout` moves them) overrides both settings. (A
/// repository made with `--separate-git-dir` records nowhere where its main worktree is, so it
/// has none here, wherever git-atlas runs: its linked worktrees must list the same worktrees as
/// the main one, or each would release what the other allocated.)
fn main_dir(location: &Location) -> Result<Option<PathBuf>> {
    let common = &location.common_dir;
    let config = read_config(&common.join("config"))?;
    let mut bare = config.bare;
    let mut worktree = config.worktree;
    if config.worktree_config {
        let own = read_config(&common.join("config.worktree"))?;
        bare = own.bare.or(bare);
        worktree = own.worktree.or(worktree);
    }
    if bare == Some(true) {
        return Ok(None);
    }
    if let Some(dir) = worktree {
        return Ok(Some(absolute(common, &dir)));
    }
    Ok(match common.file_name() {
        Some(name) if name == ".git" => common.parent().map(Path::to_path_buf),
        _ => None,
    })
}

/// What a configuration file says about where the main worktree is.
struct CoreConfig {
    bare: Option<bool>,
    worktree: Option<OsString>,
    worktree_config: bool,
}

/// Read `core.bare`, `core.worktree` and `extensions.worktreeConfig` from `path` (a missing file
/// says nothing; includes are not followed, as Git's own discovery does not follow them for
/// these). A file Git cannot read either is an error naming it.
fn read_config(path: &Path) -> Result<CoreConfig> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::failed(format!("could not read {}: {e}", path.display()))
            .hint("fix it in an editor (`git status` names what Git cannot read in it)")
    };
    let meta = gix::config::file::Metadata::from(gix::config::Source::Local);
    let config = gix::config::File::from_bytes_no_includes(&bytes, meta, Default::default())
        .map_err(|e| unreadable(&e))?;
    let worktree = match config.string("core.worktree") {
        Some(dir) if dir.is_empty() => return Err(unreadable(&"core.worktree is empty")),
        Some(dir) => Some(std::ffi::OsStr::from_bytes(&dir).to_os_string()),
        None => None,
    };
    Ok(CoreConfig {
        bare: config.boolean("core.bare").map_err(|e| unreadable(&e))?,
        worktree,
        worktree_config: config
            .boolean("extensions.worktreeConfig")
            .map_err(|e| unreadable(&e))?
            .unwrap_or(false),
    })
}

/// The linked worktree `id` of `dir` (the common dir's `worktrees/`) from its files, each read
/// once, and when its `gitdir` last changed.
fn linked(dir: &Path, id: &std::ffi::OsStr) -> Option<(Worktree, SystemTime)> {
    let git_dir = dir.join(id);
    let (path, changed) = read_gitdir(&git_dir)?;
    let locked = fs::read_to_string(git_dir.join("locked"))
        .ok()
        .map(|r| r.trim_end().to_string());
    let present = path.join(".git").exists();
    let wt = Worktree {
        name: id.to_string_lossy().into_owned(),
        branch: head_branch(&git_dir),
        // As `git worktree prune` sees it: its checkout is gone, and it is not locked.
        prunable: locked.is_none() && !present,
        locked,
        present,
        path,
        is_main: false,
    };
    Some((wt, changed))
}

/// A linked worktree's directory, from `worktrees/<id>/gitdir` (the path of its `.git` file,
/// absolute or relative to `git_dir`), and that file's mtime. `None` if it cannot be read: not
/// a worktree (Git ignores such entries too).
///
/// Read as Git reads it (`get_linked_worktree`): the whole file, trailing white space trimmed,
/// `/.git` stripped. A path may hold any byte but a trailing blank, a newline included: taking
/// the first line made `…/wtX/a<newline>b` the worktree at `…/wtX`.
fn read_gitdir(git_dir: &Path) -> Option<(PathBuf, SystemTime)> {
    use std::io::Read;
    let mut file = fs::File::open(git_dir.join("gitdir")).ok()?;
    let changed = file.metadata().and_then(|m| m.modified()).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let path = gitdir_path(git_dir, &bytes)?;
    Some((path, changed))
}

/// The worktree directory a `gitdir` file's contents name (see [`read_gitdir`]).
fn gitdir_path(git_dir: &Path, bytes: &[u8]) -> Option<PathBuf> {
    let line = trim_end_space(bytes);
    let line = line.strip_suffix(b"/.git").unwrap_or(line);
    if line.is_empty() {
        return None;
    }
    Some(clean(&git_dir.join(std::ffi::OsStr::from_bytes(line))))
}

/// `bytes` without the trailing white space C's `isspace` knows (Git's `strbuf_rtrim`), `\v`
/// included.
fn trim_end_space(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace() && *b != 0x0b)
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// The branch named by the `HEAD` file in `git_dir`, if HEAD is symbolic.
fn head_branch(git_dir: &Path) -> Option<String> {
    let head = fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let target = head.trim().strip_prefix("ref: ")?;
    Some(
        target
            .strip_prefix("refs/heads/")
            .unwrap_or(target)
            .to_string(),
    )
}

/// Environment variables that would point a spawned `git`, `docker` or database tool at the
/// wrong repository when we run inside a hook.
pub const GIT_ENV: [&str; 5] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
];

/// Arguments as `OsString`s, for building argument vectors.
pub fn args<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    items.into_iter().map(Into::into).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `main_dir` for a common dir named `name` whose `config` holds `config`, and whose
    /// `config.worktree` holds `own`.
    fn main_dir_with(
        name: &str,
        config: Option<&str>,
        own: Option<&str>,
    ) -> (tempfile::TempDir, Result<Option<PathBuf>>) {
        let tmp = tempfile::tempdir().unwrap();
        let common_dir = tmp.path().join("repo").join(name);
        fs::create_dir_all(&common_dir).unwrap();
        for (file, text) in [("config", config), ("config.worktree", own)] {
            if let Some(text) = text {
                fs::write(common_dir.join(file), text).unwrap();
            }
        }
        let location = Location {
            git_dir: common_dir.clone(),
            common_dir,
            work_dir: None,
            worktree: MAIN.into(),
        };
        let found = main_dir(&location);
        (tmp, found)
    }

    #[test]
    fn main_worktree_is_where_git_finds_it() {
        let (tmp, found) = main_dir_with(".git", Some("[core]\n\tbare = false\n"), None);
        assert_eq!(found.unwrap(), Some(tmp.path().join("repo")));
        // No config at all: the directory holding `.git`.
        let (tmp, found) = main_dir_with(".git", None, None);
        assert_eq!(found.unwrap(), Some(tmp.path().join("repo")));
        let (_tmp, found) = main_dir_with("app.git", Some("[core]\n\tbare = true\n"), None);
        assert_eq!(found.unwrap(), None);
        // `git init --separate-git-dir`: nothing says where the main worktree is.
        let (_tmp, found) = main_dir_with("sep.git", Some("[core]\n\tbare = false\n"), None);
        assert_eq!(found.unwrap(), None);
        // core.worktree, relative to the git dir.
        let worktree = "[core]\n\tbare = false\n\tworktree = ../checkout\n";
        let (tmp, found) = main_dir_with("app.git", Some(worktree), None);
        assert_eq!(found.unwrap(), Some(tmp.path().join("repo/checkout")));
        // core.bare wins over core.worktree, as for `git worktree list`.
        let both = "[core]\n\tbare = true\n\tworktree = ../checkout\n";
        let (_tmp, found) = main_dir_with("app.git", Some(both), None);
        assert_eq!(found.unwrap(), None);
    }

    /// With extensions.worktreeConfig (`git sparse-checkout` turns it on), the main worktree's
    /// own settings are in the common dir's `config.worktree`, and win; without it, that file
    /// means nothing.
    #[test]
    fn config_worktree_counts_when_the_extension_is_on() {
        let shared = "[core]\n\tbare = false\n[extensions]\n\tworktreeConfig = true\n";
        let own = "[core]\n\tworktree = ../checkout\n";
        let (tmp, found) = main_dir_with("app.git", Some(shared), Some(own));
        assert_eq!(found.unwrap(), Some(tmp.path().join("repo/checkout")));
        let (_tmp, found) = main_dir_with("app.git", Some("[core]\n\tbare = false\n"), Some(own));
        assert_eq!(found.unwrap(), None);
        // A bare clone in `.git` whose core.bare moved there is bare.
        let (_tmp, found) = main_dir_with(".git", Some(shared), Some("[core]\n\tbare = true\n"));
        assert_eq!(found.unwrap(), None);
    }

    /// Git reads `gitdir` whole, trims trailing white space and strips `/.git`: a newline inside
    /// a path is part of it.
    #[test]
    fn gitdir_is_read_whole() {
        let g = Path::new("/r/.git/worktrees/x");
        assert_eq!(
            gitdir_path(g, b"/p/wtX/a\nb/.git\n"),
            Some(PathBuf::from("/p/wtX/a\nb"))
        );
        assert_eq!(
            gitdir_path(g, b"/p/w/.git\r\n"),
            Some(PathBuf::from("/p/w"))
        );
        assert_eq!(
            gitdir_path(g, b"../../../w/.git\n"),
            Some(PathBuf::from("/r/w"))
        );
        assert_eq!(gitdir_path(g, b"\n"), None);
    }

    #[test]
    fn a_config_git_cannot_read_either_is_an_error_naming_it() {
        for config in [
            "[core\n\tbare = maybe\n",
            "[core]\n\tbare = maybe\n",
            "[core]\n\tworktree =\n",
        ] {
            let (_tmp, found) = main_dir_with(".git", Some(config), None);
            let e = found.unwrap_err().to_string();
            assert!(
                e.contains("could not read") && e.contains("config"),
                "{config:?}: {e}"
            );
        }
    }
}
