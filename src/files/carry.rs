//! The main worktree's env files that Git ignores (`.env`, `apps/web/.env`, `docker/.env`): a new
//! worktree's checkout has none of them, so git-atlas carries each into it at the same path,
//! with the worktree's ports and database names (`[env] carry` says which).

use std::path::Path;

use gix::bstr::ByteSlice;
use gix_glob::{pattern::Case, wildmatch, Pattern};

use crate::git::ignored::Ignored;

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

/// Gitignore-syntax patterns (`[env] carry`, `.worktreeinclude`, `[copy] include`): the last one
/// that matches a path decides, and a `!` one says no.
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
        self.matches_kind(rel, false)
    }

    /// Whether `rel`, a folder when `dir`, matches by itself (its folders aside).
    pub fn matches_kind(&self, rel: &str, dir: bool) -> bool {
        let basename = rel.rfind('/').map(|i| i + 1);
        self.0
            .iter()
            .rev()
            .find(|p| {
                p.matches_repo_relative_path(
                    rel.as_bytes().as_bstr(),
                    basename,
                    Some(dir),
                    Case::Sensitive,
                    wildmatch::Mode::NO_MATCH_SLASH_LITERAL,
                )
            })
            .is_some_and(|p| !p.is_negative())
    }

    /// Whether `rel` matches, or a folder it is in does: as in a `.gitignore`, a matching
    /// folder takes everything in it, and nothing inside can be taken back out.
    pub fn covers(&self, rel: &str, dir: bool) -> bool {
        let folders = rel.match_indices('/').map(|(i, _)| &rel[..i]);
        folders.into_iter().any(|f| self.matches_kind(f, true)) || self.matches_kind(rel, dir)
    }

    /// Whether a pattern could match something inside the folder `dir`: one without a folder
    /// in it (`*.pem`, `.env.local`) or starting with `**` could match at any depth, except
    /// inside dependency folders (`node_modules/`), which only a pattern naming them reaches;
    /// one with a folder (`config/keys/*.pem`) only under the folders it names.
    pub fn may_match_under(&self, dir: &str) -> bool {
        let inside = format!("{dir}/");
        self.0.iter().filter(|p| !p.is_negative()).any(|p| {
            let text = p.text.to_str().unwrap_or_default();
            let literal = &text[..p.first_wildcard_pos.unwrap_or(text.len())];
            let anywhere =
                p.mode.contains(gix_glob::pattern::Mode::NO_SUB_DIR) || literal.is_empty();
            if anywhere {
                return !in_dependency_dir(dir);
            }
            // Below the folders a pattern names, only a wildcard reaches further.
            let named = &literal[..literal.rfind('/').map_or(0, |i| i + 1)];
            let wild = p.first_wildcard_pos.is_some();
            literal.starts_with(&inside) || (wild && !named.is_empty() && inside.starts_with(named))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The ignored files (not folders) of a checkout that may be env files of the project: those
/// outside dependency folders.
pub fn candidates(ignored: &[Ignored]) -> Vec<String> {
    ignored
        .iter()
        .filter(|e| !e.dir && !in_dependency_dir(&e.path))
        .map(|e| e.path.clone())
        .collect()
}

/// Whether `rel` is inside (or is) one of [`DEPENDENCY_DIRS`].
pub fn in_dependency_dir(rel: &str) -> bool {
    rel.split('/').any(|part| DEPENDENCY_DIRS.contains(&part))
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
