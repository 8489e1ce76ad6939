//! Which worktrees' generated files may be behind the registry: `worktree-registry/stale/`,
//! one marker per worktree, made (under the registry's lock) before a registry change that
//! moves a worktree's ports is written, and taken away once its files were rewritten from a
//! registry that still holds those ports. A command killed between the two writes leaves the
//! marker, and the next command (or hook) rewrites that worktree's files.
//!
//! A marker's file name is the md5 of the worktree's name (any id Git allows fits); its text
//! says whether the worktree is new to the registry (its files are all still to be written) or
//! its ports moved (its files that exist are behind), then the name itself.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

const DIR: &str = "stale";

fn marker(registry_dir: &Path, name: &str) -> PathBuf {
    registry_dir
        .join(DIR)
        .join(crate::files::names::file_key(name.as_bytes()))
}

/// Why a worktree's files are behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// New to the registry: none of its files were written for it yet.
    New,
    /// Its ports or offset moved: the files it has are behind.
    Moved,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Moved => "moved",
        }
    }
}

/// Mark `names`' files as behind the registry (`new` wins over `moved`).
pub fn mark<'a>(
    registry_dir: &Path,
    names: impl IntoIterator<Item = (&'a str, Kind)>,
) -> Result<()> {
    for (name, kind) in names {
        let path = marker(registry_dir, name);
        match read(registry_dir, &path) {
            Some((_, Kind::New)) => continue,
            Some((_, was)) if was == kind => continue,
            _ => {}
        }
        let text = format!("{}\n{name}", kind.word());
        crate::files::in_dir(&path, || fs::write(&path, text.as_bytes())).at("write", &path)?;
    }
    Ok(())
}

/// A marker's name and kind; `None` if it is missing or damaged.
fn read(registry_dir: &Path, path: &Path) -> Option<(String, Kind)> {
    let text = fs::read_to_string(path).ok()?;
    let (word, name) = text.split_once('\n')?;
    let kind = match word {
        "new" => Kind::New,
        "moved" => Kind::Moved,
        _ => return None,
    };
    (marker(registry_dir, name) == path).then(|| (name.to_string(), kind))
}

pub fn is_marked(registry_dir: &Path, name: &str) -> bool {
    marker(registry_dir, name).is_file()
}

/// Take `name`'s marker away.
pub fn clear(registry_dir: &Path, name: &str) -> Result<()> {
    let path = marker(registry_dir, name);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", &path, e)),
        _ => Ok(()),
    }
}

/// The worktrees marked, by name (one `readdir` when there are none).
pub fn marked(registry_dir: &Path) -> Vec<(String, Kind)> {
    let Ok(entries) = fs::read_dir(registry_dir.join(DIR)) else {
        return Vec::new();
    };
    let mut names: Vec<(String, Kind)> = entries
        .flatten()
        .filter_map(|e| {
            let found = read(registry_dir, &e.path());
            // A damaged marker is of no use: rewrite nothing for it, and take it away.
            if found.is_none() {
                let _ = fs::remove_file(e.path());
            }
            found
        })
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_any_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(marked(d).is_empty());
        mark(
            d,
            [
                ("feat", Kind::Moved),
                ("x|id", Kind::New),
                ("a\nb", Kind::New),
            ],
        )
        .unwrap();
        assert!(is_marked(d, "x|id"));
        // New wins over moved, whichever comes first.
        mark(d, [("feat", Kind::New), ("x|id", Kind::Moved)]).unwrap();
        let all = marked(d);
        assert_eq!(
            all,
            vec![
                ("a\nb".to_string(), Kind::New),
                ("feat".to_string(), Kind::New),
                ("x|id".to_string(), Kind::New)
            ]
        );
        clear(d, "feat").unwrap();
        clear(d, "feat").unwrap();
        fs::write(marker(d, "a\nb"), "new\nother").unwrap();
        assert_eq!(marked(d), vec![("x|id".to_string(), Kind::New)]);
    }
}
