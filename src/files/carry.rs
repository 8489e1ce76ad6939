//! The main worktree's env files that Git ignores (`.env`, `apps/web/.env`, `docker/.env`): a new
//! worktree's checkout has none of them, so git-atlas carries each into it at the same path,
//! with the worktree's ports and database names (`[env] carry` says which).

use std::path::Path;

use gix::bstr::ByteSlice;
use gix_glob::{pattern::Case, wildmatch, Pattern};

use crate::error::{Error, Result};

/// Folders of dependencies and tools: an env file inside one belongs to a package, not to the
/// project (`node_modules/some-pkg/.env`).
const DEPENDENCY_DIRS: &[&str] = &[
    "node_modules",
    "bower_components",
    "vendor",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".git",
];

/// `[env] carry`: gitignore-syntax patterns, the last one that matches a path decides.
#[derive(Debug, Clone)]
pub struct Patterns(Vec<Pattern>);

impl Patterns {
    pub fn new(lines: &[String]) -> Patterns {
        Patterns(
            lines
                .iter()
                .filter_map(|l| Pattern::from_bytes(l.trim_end().as_bytes()))
                .collect(),
        )
    }

    /// Whether the file at `rel` (relative to the worktree's root, `/`-separated) is carried.
    pub fn matches(&self, rel: &str) -> bool {
        let basename = rel.rfind('/').map(|i| i + 1);
        self.0
            .iter()
            .rev()
            .find(|p| {
                p.matches_repo_relative_path(
                    rel.as_bytes().as_bstr(),
                    basename,
                    Some(false),
                    Case::Sensitive,
                    wildmatch::Mode::NO_MATCH_SLASH_LITERAL,
                )
            })
            .is_some_and(|p| !p.is_negative())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The files of the checkout at `root` that Git ignores, relative to it, outside dependency
/// folders, as `git ls-files --others --ignored --exclude-standard --directory` lists them:
/// ignored folders (`node_modules/`, `dist/`) are not gone into. Walked in this process
/// (gitoxide's directory walk, with the repository's index and every ignore file Git reads):
/// starting `git` for it cost more than all of `git atlas add`'s own work.
pub fn ignored_files(root: &Path) -> Result<Vec<String>> {
    use gix::dir::{entry::Status, walk::EmissionMode};
    let failed = |e: &dyn std::fmt::Display| {
        Error::failed(format!(
            "could not list the files Git ignores in {}: {e}",
            root.display()
        ))
    };
    let repo = gix::open(root).map_err(|e| failed(&e))?;
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
    let mut out: Vec<String> = found
        .unorded_entries
        .into_iter()
        .map(|(entry, _)| entry)
        .filter(|e| matches!(e.status, Status::Ignored(_)))
        .filter(|e| !e.disk_kind.is_some_and(|k| k.is_dir()))
        .filter_map(|e| e.rela_path.to_str().ok().map(str::to_string))
        .filter(|p| {
            !p.split('/')
                .any(|part| DEPENDENCY_DIRS.contains(&part) || part == "..")
        })
        .collect();
    out.sort();
    Ok(out)
}

/// `files` that `patterns` carry and that are regular files under `root`, the root's first,
/// then by depth and name.
pub fn select<'a>(root: &Path, files: &'a [String], patterns: &Patterns) -> Vec<&'a String> {
    let mut found: Vec<&String> = files
        .iter()
        .filter(|p| patterns.matches(p))
        .filter(|p| std::fs::metadata(root.join(p)).is_ok_and(|m| m.is_file()))
        .collect();
    found.sort_by_key(|p| (p.matches('/').count(), p.as_str()));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_carries_env_files_at_any_depth_but_not_examples() {
        let p = Patterns::new(&crate::config::default_carry());
        for yes in [
            ".env",
            ".env.local",
            ".env.development.local",
            "apps/web/.env",
            "docker/.env",
            "apps/api/.env.test",
        ] {
            assert!(p.matches(yes), "{yes}");
        }
        for no in [
            ".env.example",
            "apps/web/.env.example",
            ".env.sample",
            ".env.template",
            "env",
            "my.env",
            ".envrc",
            "config/.environment",
        ] {
            assert!(!p.matches(no), "{no}");
        }
    }

    #[test]
    fn the_last_matching_pattern_decides() {
        let p = Patterns::new(&[
            ".env".into(),
            "/apps/*/.env".into(),
            "!apps/legacy/.env".into(),
            "# a comment".into(),
        ]);
        assert!(p.matches(".env") && p.matches("apps/web/.env"));
        assert!(!p.matches("apps/legacy/.env"));
        assert!(Patterns::new(&[]).is_empty());
    }
}
