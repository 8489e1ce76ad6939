//! Writing into a worktree's checkout: one writer at a time per worktree (and none while
//! `git atlas remove` takes it away), never through a path that no longer is that worktree,
//! and generated files that follow the registry: a registry change that moves a worktree's
//! ports marks its files stale (see [`stale`]) until they are rewritten, and every reconcile
//! rewrites what a killed or failed command left stale.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::files::Lock;
use crate::git::repo::Worktree;
use crate::ports::registry::Registry;
use crate::ports::stale;

use super::{Report, Workspace};

impl Workspace {
    /// The lock file of `wt`'s checkout: `worktree-registry/checkouts/<md5 of its name>`, never
    /// in Git's own directory for the worktree (a file made there while `git worktree remove`
    /// empties it keeps Git from removing it).
    pub(super) fn checkout_lock_path(&self, name: &str) -> PathBuf {
        self.registry
            .dir()
            .join("checkouts")
            .join(crate::files::names::file_key(name.as_bytes()))
    }

    /// Hold `wt`'s checkout for writing (or removing): one holder at a time.
    pub(super) fn lock_checkout(&self, wt: &Worktree) -> Result<Lock> {
        Lock::exclusive_removable(&self.checkout_lock_path(&wt.name))
    }

    /// [`Workspace::lock_checkout`], and the check that `wt.path` still is `wt`'s checkout:
    /// `None` when it is not (removed, or moved and something else put in its place).
    pub(super) fn hold_checkout(&self, wt: &Worktree) -> Result<Option<Lock>> {
        let lock = self.lock_checkout(wt)?;
        Ok(self.repo.is_checkout(wt).then_some(lock))
    }

    /// After `wt`'s files were written from `reg`: its stale marker goes if the registry still
    /// gives it what `reg` did (a change since marked it again, and its files wait for that).
    pub(super) fn files_follow(&self, wt: &Worktree, reg: &Registry) -> Result<()> {
        let dir = self.registry.dir();
        if !stale::is_marked(dir, &wt.name) {
            return Ok(());
        }
        let entry = |r: &Registry| {
            (
                r.allocated_ports.get(&wt.name).cloned(),
                r.worktrees.get(&wt.name).and_then(|w| w.offset),
            )
        };
        // Under the registry's lock, so that a change that marks the worktree again comes
        // before or after, never between. (The copy read is the cached one when its stamp
        // matches the file's, as for any reader: this only decides whether a marker goes.)
        let _lock = self.registry.lock()?;
        if entry(&*self.registry.read()?) == entry(reg) {
            stale::clear(dir, &wt.name)?;
        }
        Ok(())
    }

    /// `wt`'s files are not to be written (`add --no-env`): forget that they are stale.
    pub fn files_not_wanted(&self, wt: &Worktree) -> Result<()> {
        stale::clear(self.registry.dir(), &wt.name)
    }

    /// Rewrite the files of the worktrees marked stale, as the registry has them now: what a
    /// command killed between writing the registry and the files left behind. A worktree Git
    /// no longer lists, or that has no ports, loses its marker; one still being created,
    /// waiting for its first checkout, or `own` (whose caller writes its files) keeps it. A
    /// worktree new to the registry gets all its files: one that a killed `add`, or a plain
    /// `git worktree add` without the hooks, left without them. Failures are warnings.
    pub(super) fn rewrite_stale(
        &self,
        worktrees: &[Worktree],
        own: Option<&str>,
        report: &mut Report,
    ) {
        let dir = self.registry.dir();
        let marked = stale::marked(dir);
        if marked.is_empty() {
            return;
        }
        let Ok(reg) = self.registry.read() else {
            return;
        };
        for (name, kind) in marked {
            let listed = worktrees.iter().find(|w| w.name == name);
            let Some(wt) =
                listed.filter(|w| !w.prunable && reg.allocated_ports.contains_key(&name))
            else {
                let _ = stale::clear(dir, &name);
                continue;
            };
            // `own`'s files are its caller's work (`add` with its flags); if the caller dies,
            // the marker stays for the next command.
            let waiting = reg.worktrees.get(&name).is_some_and(|r| r.pending_files);
            if own == Some(name.as_str()) || waiting || wt.is_initializing() {
                continue;
            }
            // A new linked worktree gets all its files (its add was killed before writing
            // them); otherwise only the files it has are rewritten (the main worktree's are
            // written when asked for, `add --no-env` or `--no-docker` left some unwritten).
            // (Those its commit tracks are Git's: see `generate_new`.)
            let written = if kind == stale::Kind::New && !wt.is_main {
                self.generate_new(wt).map(|done| {
                    done.map(|(written, tracked)| {
                        report
                            .warnings
                            .extend(tracked.map(|t| format!("{name}: {t}")));
                        written
                    })
                })
            } else {
                self.write_files(wt, Which::Existing)
            };
            match written {
                Ok(Some(written)) => report.rewritten.push((name, written)),
                Ok(None) => {}
                Err(e) => report.warnings.push(format!(
                    "{name}: its files do not match its ports and could not be rewritten: {e}"
                )),
            }
        }
    }
}

/// Why nothing was written into `wt`.
pub fn not_a_checkout(wt: &Worktree) -> Error {
    Error::failed(format!(
        "{} is not {}'s checkout any more (the worktree was removed, or moved and something else put in its place): nothing was written",
        wt.path.display(),
        wt.name
    ))
    .hint(format!(
        "if you moved it, `git worktree repair <new path>`; if it is gone, `git atlas remove {}`",
        crate::term::shell_word(&wt.name)
    ))
}

/// Which of a worktree's generated files [`Workspace::write_files`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Which {
    All,
    /// `add --no-docker`.
    AllButCompose,
    /// Only those that exist already, as git-atlas generated them (a file of the same name
    /// that it did not generate is not its to rewrite).
    Existing,
    /// All but these (the files the worktree's commit tracks, which are Git's).
    AllBut(Vec<PathBuf>),
}

impl Which {
    pub(super) fn wants(&self, output: &std::path::Path) -> bool {
        match self {
            Which::Existing => crate::files::generate::is_generated(output),
            Which::AllBut(skip) => !skip.iter().any(|s| s == output),
            Which::All | Which::AllButCompose => true,
        }
    }
}

/// What [`Workspace::write_files`] wrote: the files, or nothing because `wt` is not its
/// checkout any more.
pub(super) type Written = Option<Vec<PathBuf>>;
