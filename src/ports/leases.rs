//! The machine-wide lease file: every project's allocated ports, so two repositories on one
//! machine never hand out the same port (seed 004's "central registry").
//!
//! Each project's entry is a copy of its registry's allocations, rewritten whenever the registry
//! changes; a crash between the two writes heals at the next update.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::{self, Lock};

/// Overrides the lease file's directory (tests use it; so can users with unusual setups).
pub const DIR_ENV: &str = "GIT_ATLAS_STATE_DIR";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leases {
    #[serde(default = "version")]
    pub version: u32,
    /// Git common dir → worktree → ports.
    #[serde(default)]
    pub projects: BTreeMap<PathBuf, IndexMap<String, Vec<u16>>>,
}

fn version() -> u32 {
    1
}

impl Default for Leases {
    fn default() -> Self {
        Leases {
            version: version(),
            projects: BTreeMap::new(),
        }
    }
}

/// Where the lease file lives: `$GIT_ATLAS_STATE_DIR`, else `$XDG_STATE_HOME/git-atlas`, else
/// `~/.local/state/git-atlas`.
pub fn dir() -> Option<PathBuf> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    nonempty(DIR_ENV)
        .or_else(|| nonempty("XDG_STATE_HOME").map(|d| d.join("git-atlas")))
        .or_else(|| nonempty("HOME").map(|h| h.join(".local/state/git-atlas")))
}

pub struct LeaseFile {
    dir: PathBuf,
    /// The version last read or written by this process: a command that changes its registry
    /// twice decodes this file once.
    cache: files::Cache<Leases>,
}

impl LeaseFile {
    pub fn open() -> Option<LeaseFile> {
        dir().map(|dir| LeaseFile {
            dir,
            cache: files::Cache::default(),
        })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("leases.json")
    }

    pub fn lock(&self) -> Result<Lock> {
        Lock::exclusive(&self.dir.join("leases.lock"))
    }

    /// Read (a missing file is empty). The file only mirrors each repository's registry, so a
    /// damaged one is set aside as `leases.json.backup`, with one warning, and starts empty:
    /// every repository leases its ports again at its next git atlas command or hook.
    pub fn read(&self) -> Result<Rc<Leases>> {
        self.load(false)
    }

    /// [`Self::read`] under the lock, for a caller that writes what it derives from it: a
    /// cached copy counts only if it is sure to be the file's current version (see
    /// [`files::Cache::get`]).
    pub fn read_locked(&self) -> Result<Rc<Leases>> {
        self.load(true)
    }

    // The warning goes straight to stderr: the file is read by every command and hook, through
    // paths that have no report to carry it, and it must be said exactly once, when set aside.
    #[allow(clippy::print_stderr)]
    fn load(&self, for_update: bool) -> Result<Rc<Leases>> {
        let path = self.path();
        let now = files::version(&path);
        if let Some(cached) = self.cache.get(now.as_ref(), for_update) {
            return Ok(cached);
        }
        match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(leases) => {
                    let leases = Rc::new(leases);
                    self.cache.put(now, Rc::clone(&leases));
                    Ok(leases)
                }
                Err(e) => {
                    let backup = self.dir.join("leases.json.backup");
                    match fs::rename(&path, &backup) {
                        Ok(()) => eprintln!(
                            "git-atlas: warning: the machine-wide lease file {} did not parse ({e}); set it aside as {} and started a new one (each repository leases its ports again at its next git atlas command)",
                            path.display(),
                            backup.display()
                        ),
                        // Set aside meanwhile by a parallel run.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(Error::io("set aside", &path, e)),
                    }
                    Ok(Rc::default())
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Rc::default()),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    pub fn write_locked(&self, leases: &Leases) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(leases).expect("leases always serialise");
        json.push(b'\n');
        files::write_derived_atomic(&self.path(), &json)?;
        self.cache
            .put(files::version(&self.path()), Rc::new(leases.clone()));
        Ok(())
    }
}

impl Leases {
    /// Who, outside `project`, holds `port`: `"/other/repo/.git (feature-x)"`.
    pub fn holder(&self, port: u16, project: &Path) -> Option<String> {
        self.projects
            .iter()
            .filter(|(p, _)| p.as_path() != project)
            .find_map(|(p, worktrees)| {
                worktrees
                    .iter()
                    .find(|(_, ports)| ports.contains(&port))
                    .map(|(wt, _)| format!("leased by another repository: {} ({wt})", p.display()))
            })
    }

    /// Mirror `project`'s allocations.
    pub fn set(&mut self, project: &Path, allocated: &IndexMap<String, IndexMap<String, u16>>) {
        let entry: IndexMap<String, Vec<u16>> = allocated
            .iter()
            .map(|(wt, ports)| (wt.clone(), ports.values().copied().collect()))
            .collect();
        if entry.is_empty() {
            self.projects.remove(project);
        } else {
            self.projects.insert(project.to_path_buf(), entry);
        }
    }

    /// Drop projects whose repository no longer exists (the `force_release` strategy). Returns them.
    pub fn drop_missing(&mut self) -> Vec<(PathBuf, usize)> {
        let gone: Vec<PathBuf> = self
            .projects
            .keys()
            .filter(|p| !p.join("HEAD").exists())
            .cloned()
            .collect();
        gone.into_iter()
            .map(|p| {
                let n = self
                    .projects
                    .remove(&p)
                    .map_or(0, |w| w.values().map(Vec::len).sum());
                (p, n)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_are_other_projects_only() {
        let mut l = Leases::default();
        assert_eq!(l.version, 1);
        let ports: IndexMap<String, IndexMap<String, u16>> = [(
            "main".to_string(),
            [("web".to_string(), 8080u16)].into_iter().collect(),
        )]
        .into_iter()
        .collect();
        l.set(Path::new("/a/.git"), &ports);
        assert_eq!(l.holder(8080, Path::new("/a/.git")), None);
        assert_eq!(
            l.holder(8080, Path::new("/b/.git")).as_deref(),
            Some("leased by another repository: /a/.git (main)")
        );
        assert_eq!(l.drop_missing(), vec![(PathBuf::from("/a/.git"), 1)]);
        assert!(l.projects.is_empty());
    }
}
