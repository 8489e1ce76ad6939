//! Which of the main worktree's ignored files and folders a new worktree gets a copy of: those
//! that `.worktreeinclude` (the file Claude Code, Conductor, worktrunk and gtr share) or
//! `[copy] include` names, in `.gitignore` syntax. A file must both match and be ignored by Git:
//! a tracked file comes with the checkout and is never copied.

use std::path::Path;

use crate::error::{Error, Result};
use crate::files::carry::Patterns;
use crate::git::ignored::Ignored;

/// The patterns file at the repository's top, read from the main worktree.
pub const INCLUDE_FILE: &str = ".worktreeinclude";

/// One thing to copy, relative to the worktree's top: a file (or symlink), or a whole folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub rel: String,
    pub dir: bool,
}

/// The patterns of `main`'s `.worktreeinclude` (none without one), then `extra` (`[copy]
/// include`): later lines win, as in one file.
pub fn patterns(main: &Path, extra: &[String]) -> Result<Patterns> {
    let path = main.join(INCLUDE_FILE);
    let mut lines: Vec<String> = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| {
                Error::failed(format!("{} is not UTF-8 text", path.display()))
                    .hint("write its patterns as UTF-8, one per line, as in a .gitignore")
            })?
            .lines()
            .map(str::to_string)
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    lines.extend(extra.iter().cloned());
    Ok(Patterns::new(&lines))
}

/// What `include` names among `ignored` (what Git ignores in `main`): an ignored file or
/// folder that matches (or is in a folder that matches) whole; inside an ignored folder that
/// does not, what matches there, looked for only where a pattern could match (see
/// [`Patterns::may_match_under`]). In path order.
pub fn select(main: &Path, ignored: &[Ignored], include: &Patterns) -> Vec<Entry> {
    let mut out = Vec::new();
    if include.is_empty() {
        return out;
    }
    for e in ignored {
        if include.covers(&e.path, e.dir) {
            out.push(Entry {
                rel: e.path.clone(),
                dir: e.dir,
            });
        } else if e.dir && include.may_match_under(&e.path) {
            look_inside(main, &e.path, include, &mut out);
        }
    }
    out
}

/// The matches inside the ignored folder `rel` of `main` (symlinks are not followed).
fn look_inside(main: &Path, rel: &str, include: &Patterns, out: &mut Vec<Entry>) {
    let Ok(read) = std::fs::read_dir(main.join(rel)) else {
        return;
    };
    let mut children: Vec<(String, bool)> = read
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let dir = e.file_type().ok()?.is_dir();
            Some((format!("{rel}/{name}"), dir))
        })
        .collect();
    children.sort();
    for (child, dir) in children {
        if include.matches_kind(&child, dir) {
            out.push(Entry { rel: child, dir });
        } else if dir && include.may_match_under(&child) {
            look_inside(main, &child, include, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(lines: &[&str]) -> Patterns {
        Patterns::new(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_folder_pattern_takes_the_folder_whole_and_a_negation_inside_it_cannot_take_back() {
        let p = pats(&["node_modules/", "!node_modules/.cache/"]);
        assert!(p.covers("node_modules", true));
        assert!(p.covers("node_modules/.cache/x", false));
        assert!(
            !p.covers("node_modules", false),
            "a file named node_modules"
        );
        let p = pats(&["config/"]);
        assert!(p.covers("config/master.key", false));
    }

    #[test]
    fn patterns_are_looked_for_only_where_they_could_match() {
        let p = pats(&["*.pem"]);
        assert!(p.may_match_under("certs") && p.may_match_under("a/b"));
        assert!(!p.may_match_under("node_modules") && !p.may_match_under("web/node_modules"));
        let p = pats(&["config/keys/*.pem", "!secret"]);
        assert!(p.may_match_under("config") && p.may_match_under("config/keys"));
        assert!(!p.may_match_under("node_modules") && !p.may_match_under("other"));
        let p = pats(&["node_modules/.bin/"]);
        assert!(p.may_match_under("node_modules"));
        assert!(!p.may_match_under("node_modules/react"));
        let p = pats(&["**/local.yml"]);
        assert!(p.may_match_under("deep/down") && !p.may_match_under("vendor"));
    }
}
