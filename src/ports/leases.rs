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

    /// See [`files::Cache::leak`].
    pub fn leak_cache(&self) {
        self.cache.leak();
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

    /// The file only mirrors the registries, so one that cannot be read as leases (damaged,
    /// a directory in its place) is set aside, with one warning, and rebuilt.
    fn load(&self, for_update: bool) -> Result<Rc<Leases>> {
        let path = self.path();
        let now = files::version(&path);
        if let Some(cached) = self.cache.get(now.as_ref(), for_update) {
            return Ok(cached);
        }
        let damage = match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(leases) => {
                    let leases = Rc::new(leases);
                    self.cache.put(now, Rc::clone(&leases));
                    return Ok(leases);
                }
                Err(e) => format!("did not parse ({e})"),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Rc::new(self.rebuilt()))
            }
            Err(e) => format!("could not be read ({e})"),
        };
        if let Some(backup) = files::set_aside(&path)? {
            crate::term::warn(format!(
                "the machine-wide lease file {} {damage}; set it aside as {} and rebuilt it from the registries of the repositories listed in {}",
                path.display(),
                backup.display(),
                self.repositories().display()
            ));
        }
        Ok(Rc::new(self.rebuilt()))
    }

    /// Where the repositories that ever leased ports on this machine are listed, one file each
    /// (named by the md5 of its common dir, holding that path): apart from the lease file, so
    /// that deleting or setting that aside loses none of them.
    fn repositories(&self) -> PathBuf {
        self.dir.join("repositories")
    }

    fn repository_entry(&self, project: &Path) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        self.repositories()
            .join(files::names::file_key(project.as_os_str().as_bytes()))
    }

    /// Add `project` to the machine's list of repositories that lease ports (once).
    pub fn remember(&self, project: &Path) -> Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let path = self.repository_entry(project);
        if path.is_file() {
            return Ok(());
        }
        files::in_dir(&path, || fs::write(&path, project.as_os_str().as_bytes()))
            .map_err(|e| Error::io("write", &path, e))
    }

    /// The leases as every listed repository's registry has them: what a missing (deleted, or
    /// set aside) lease file starts from, so that no repository's ports are handed out again.
    /// Repositories that are gone are taken off the list; one whose registry does not parse
    /// keeps its entry and leases nothing until it is repaired.
    fn rebuilt(&self) -> Leases {
        use std::os::unix::ffi::OsStrExt;
        let mut leases = Leases::default();
        let Ok(entries) = fs::read_dir(self.repositories()) else {
            return leases;
        };
        for entry in entries.flatten() {
            let Ok(bytes) = fs::read(entry.path()) else {
                continue;
            };
            let project = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
            if !project.join("HEAD").exists() {
                let _ = fs::remove_file(entry.path());
                continue;
            }
            if let Ok(registry) = super::registry::RegistryFile::new(&project).read() {
                leases.set(&project, &registry.allocated_ports);
            }
        }
        leases
    }

    pub fn write_locked(&self, leases: &Leases) -> Result<()> {
        // Every writer of this directory's temporary files holds the lock: any there is a
        // killed writer's.
        files::clear_leftovers(&self.dir, std::time::Duration::ZERO);
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
