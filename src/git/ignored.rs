//! What Git ignores in a checkout, as `git ls-files --others --ignored --exclude-standard
//! --directory` lists it, walked in this process (gitoxide's directory walk, with the
//! repository's index and every ignore file Git reads): starting `git` for it cost more than all
//! of `git atlas add`'s own work. A folder that is ignored as a whole (`node_modules/`, `dist/`)
//! is one entry and is not gone into; nor is an untracked one.

use std::path::Path;

use gix::bstr::ByteSlice;

use crate::error::{Error, Result};

/// One ignored path of the checkout, relative to its top and `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub path: String,
    /// A folder ignored as a whole (everything in it is ignored too).
    pub dir: bool,
}

/// The ignored files and folders of the checkout at `root`, sorted by path. Names that are not
/// UTF-8 are left out (nothing git-atlas copies or carries is named so).
pub fn walk(root: &Path) -> Result<Vec<Ignored>> {
    let repo = gix::open(root).map_err(|e| failed(root, &e))?;
    walk_in(&repo, root)
}

fn failed(root: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::failed(format!(
        "could not list the files Git ignores in {}: {e}",
        root.display()
    ))
}

/// [`walk`] in the repository of the checkout at `root`, opened already.
pub fn walk_in(repo: &gix::Repository, root: &Path) -> Result<Vec<Ignored>> {
    use gix::dir::{entry::Status, walk::EmissionMode};
    let failed = |e: &dyn std::fmt::Display| failed(root, e);
    let index = repo.index_or_empty().map_err(|e| failed(&e))?;
    let options = repo
        .dirwalk_options()
        .map_err(|e| failed(&e))?
        .emit_ignored(Some(EmissionMode::CollapseDirectory))
        .emit_untracked(EmissionMode::CollapseDirectory)
        .emit_empty_directories(false);
    let mut found = gix::dir::walk::delegate::Collect::default();
    let interrupt = std::sync::atomic::AtomicBool::new(false);
    repo.dirwalk(&index, None::<&str>, &interrupt, options, &mut found)
        .map_err(|e| failed(&e))?;
    let mut out: Vec<Ignored> = found
        .unorded_entries
        .into_iter()
        .map(|(entry, _)| entry)
        .filter(|e| matches!(e.status, Status::Ignored(_)))
        .filter_map(|e| {
            let dir = e.disk_kind.is_some_and(|k| k.is_dir());
            let path = e.rela_path.to_str().ok()?.to_string();
            Some(Ignored { path, dir })
        })
        .filter(|e| !e.path.split('/').any(|part| part == ".." || part == ".git"))
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
