//! Identifiers derived from worktree names: database names and Compose project names. Every
//! result is made of `[a-z0-9_-]`, so it is safe in SQL (still quoted there), URLs and file names.

use md5::{Digest, Md5};

/// PostgreSQL's identifier limit in bytes (MariaDB and MySQL allow 64).
pub const MAX_DB_NAME: usize = 63;

/// `myapp` + `feature-auth` → `myapp_feature_auth`. A name that sanitising could confuse with
/// another (`feat-ü-x`, `Feat-x`, and `feat_x`, whose `_` is what `-` becomes) gets a short hash,
/// so two worktrees never share a database.
pub fn database_name(base: &str, worktree: &str) -> String {
    let suffix = sanitize(worktree, '_');
    let lossless = worktree
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !worktree.starts_with('-')
        && !worktree.ends_with('-')
        && !worktree.contains("--");
    let mut name = format!("{base}_{suffix}");
    if !lossless || name.len() > MAX_DB_NAME {
        let hash = short_hash(worktree);
        let keep = MAX_DB_NAME.saturating_sub(hash.len() + 1);
        let mut cut = name.len().min(keep);
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
        name = format!("{}_{hash}", name.trim_end_matches('_'));
    }
    name
}

/// What a snapshot of the main database `main` is called (`myapp` → `myapp__atlas_snapshot`),
/// and `suffix` after it for the one being made (`myapp__atlas_snapshot_new`). The `__` is
/// never in a worktree's database name (sanitising collapses separators), and a long `main` is
/// cut at a character boundary, with a short hash of it, to fit [`MAX_DB_NAME`].
pub fn snapshot_name(main: &str, suffix: &str) -> String {
    let tail = format!("__atlas_snapshot{suffix}");
    if main.len() + tail.len() <= MAX_DB_NAME {
        return format!("{main}{tail}");
    }
    let hash = short_hash(main);
    let mut cut = MAX_DB_NAME.saturating_sub(tail.len() + hash.len() + 1);
    while !main.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}{tail}", &main[..cut])
}

/// `myapp` + `feature-auth` → `myapp-feature-auth`: lower case, `[a-z0-9_-]`, starting with a
/// letter or digit, as Docker Compose requires of project names. A worktree name that loses
/// characters on the way (`Feat`, `feat ü`, `-x`) gets a short hash, so that two worktrees of
/// one repository never share a project (`feat_x` and `feat-x` stay apart as they are).
pub fn compose_project(repo: &str, worktree: &str) -> String {
    let lossless = worktree
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && worktree.starts_with(|c: char| c.is_ascii_alphanumeric());
    let part = if lossless {
        worktree.to_string()
    } else {
        match sanitize(worktree, '-') {
            s if s.is_empty() => short_hash(worktree),
            s => format!("{s}-{}", short_hash(worktree)),
        }
    };
    let repo = sanitize(repo, '-');
    if repo.is_empty() {
        format!("atlas-{part}")
    } else {
        format!("{repo}-{part}")
    }
}

fn sanitize(text: &str, sep: char) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(sep) {
            out.push(sep);
        }
    }
    out.trim_matches(sep).to_string()
}

/// A file name for anything (a worktree's name, a path): the md5 of its bytes in hex. For
/// state files keyed by names that may not fit a file name, or be one.
pub fn file_key(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn short_hash(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    digest[..3].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names() {
        assert_eq!(database_name("myapp", "feature-auth"), "myapp_feature_auth");
        let odd = database_name("myapp", "feat-ü-x");
        assert!(
            odd.starts_with("myapp_feat_x_") && odd.len() == "myapp_feat_x_".len() + 6,
            "{odd}"
        );
        assert_ne!(odd, database_name("myapp", "feat-x"));
        let hostile = database_name("myapp", "x\"; DROP TABLE users; --$(rm -rf ~)");
        assert!(
            hostile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{hostile}"
        );
        let long = database_name("myapp", &"a".repeat(100));
        assert!(long.len() <= 63, "{long}");
        // Names that sanitise alike stay apart.
        let names = [
            "feat-x", "feat_x", "Feat-x", "-feat-x", "feat--x", "feat x", "feat-x-",
        ];
        let dbs: std::collections::HashSet<String> =
            names.iter().map(|n| database_name("app", n)).collect();
        assert_eq!(dbs.len(), names.len(), "{dbs:?}");
        assert_eq!(database_name("app", "feat-x"), "app_feat_x");
    }

    #[test]
    fn snapshot_names_fit_and_never_are_a_worktrees() {
        assert_eq!(snapshot_name("myapp", ""), "myapp__atlas_snapshot");
        assert_eq!(snapshot_name("myapp", "_new"), "myapp__atlas_snapshot_new");
        assert_ne!(
            snapshot_name("myapp", ""),
            database_name("myapp", "-atlas-snapshot")
        );
        assert_ne!(
            snapshot_name("myapp", ""),
            database_name("myapp", "_atlas_snapshot")
        );
        let long = "ü".repeat(40);
        for suffix in ["", "_new"] {
            let name = snapshot_name(&long, suffix);
            assert!(name.len() <= MAX_DB_NAME, "{name}");
            assert!(
                name.ends_with(&format!("__atlas_snapshot{suffix}")),
                "{name}"
            );
        }
        // Two long names alike in their first bytes get two snapshots.
        let (a, b) = ("a".repeat(60) + "1", "a".repeat(60) + "2");
        assert_ne!(snapshot_name(&a, ""), snapshot_name(&b, ""));
    }

    #[test]
    fn compose_projects() {
        assert_eq!(
            compose_project("MyApp", "feature-auth"),
            "myapp-feature-auth"
        );
        let odd = compose_project("my app", "feat ü x");
        assert_eq!(odd, format!("my-app-feat-x-{}", short_hash("feat ü x")));
        assert_eq!(
            compose_project("_", "-"),
            format!("atlas-{}", short_hash("-"))
        );
        // Names that sanitise alike stay apart.
        let names = ["feat-x", "feat_x", "Feat-x", "-feat-x", "feat.x", "feat x"];
        let projects: std::collections::HashSet<String> =
            names.iter().map(|n| compose_project("app", n)).collect();
        assert_eq!(projects.len(), names.len(), "{projects:?}");
        for p in &projects {
            assert!(p.starts_with(|c: char| c.is_ascii_alphanumeric()), "{p}");
            assert!(
                p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
                "{p}"
            );
        }
    }
}
