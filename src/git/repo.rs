//! The repository as git-atlas sees it: where it is, which worktree we are in, and every
//! worktree with its state. The only module that touches gix.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

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

/// The opened repository: worktree listing and configuration.
pub struct Repo {
    pub location: Location,
    repo: gix::Repository,
}

impl Repo {
    pub fn open(location: Location) -> Result<Repo> {
        let options = gix::open::Options::isolated();
        let repo = gix::open_opts(&location.common_dir, options).map_err(|e| {
            Error::failed(format!(
                "could not open the repository at {}: {e}",
                location.common_dir.display()
            ))
        })?;
        Ok(Repo { location, repo })
    }

    pub fn discover(cwd: &Path) -> Result<Repo> {
        Repo::open(Location::discover(cwd)?)
    }

    pub fn common_dir(&self) -> &Path {
        &self.location.common_dir
    }

    /// The main worktree's directory, `None` for a bare repository.
    pub fn main_dir(&self) -> Option<PathBuf> {
        self.repo.workdir().map(Path::to_path_buf)
    }

    /// Every worktree: the main one first (unless the repository is bare), then linked ones by id.
    pub fn worktrees(&self) -> Result<Vec<Worktree>> {
        let mut out = Vec::new();
        if let Some(main) = self.main_dir() {
            out.push(Worktree {
                name: MAIN.into(),
                path: main,
                is_main: true,
                branch: head_branch(self.common_dir()),
                locked: None,
                prunable: false,
            });
        }
        let proxies = self
            .repo
            .worktrees()
            .map_err(|e| Error::failed(format!("could not list worktrees: {e}")))?;
        for proxy in proxies {
            let Ok(id) = proxy.id() else { continue };
            let path = proxy.base().unwrap_or_default();
            out.push(Worktree {
                name: id.to_string(),
                branch: head_branch(proxy.git_dir()),
                locked: proxy.lock_reason().map(|r| r.to_string()),
                prunable: proxy.is_prunable(),
                path,
                is_main: false,
            });
        }
        Ok(out)
    }
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
