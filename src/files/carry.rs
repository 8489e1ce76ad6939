//! The main worktree's env files that Git ignores (`.env`, `apps/web/.env`, `docker/.env`): a new
//! worktree's checkout has none of them, so git-atlas carries each into it at the same path,
//! with the worktree's ports and database names (`[env] carry` says which).

use std::path::Path;

use gix::bstr::ByteSlice;
use gix_glob::{pattern::Case, wildmatch, Pattern};

use crate::error::Result;

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
/// folders. Git lists them (`ls-files --others --ignored`) without going into ignored folders
/// (`node_modules/`, `dist/`).
pub fn ignored_files(root: &Path) -> Result<Vec<String>> {
    let args = [
        "ls-files",
        "-z",
        "--others",
        "--ignored",
        "--exclude-standard",
        "--directory",
        "--no-empty-directory",
    ];
    let out = crate::git::command::read(root, args.iter().map(Into::into).collect())?;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty() && !p.ends_with('/'))
        .filter(|p| {
            !p.split('/')
                .any(|part| DEPENDENCY_DIRS.contains(&part) || part == "..")
        })
        .map(str::to_string)
        .collect())
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
