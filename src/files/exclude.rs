//! git-atlas's block in `<common dir>/info/exclude`: one anchored pattern for each generated file
//! git-atlas writes, between a start and an end line, so that `git status` stays clean and `git
//! worktree remove` is not blocked by them. Lines outside the block are the user's and are never
//! changed.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files::{self, Lock};

use super::generate::is_generated;

/// The block's first line (also the whole of what git-atlas wrote before the block had an end).
const START: &str = "# git-atlas: per-worktree generated files";
const END: &str = "# git-atlas: end of generated files";
/// The files git-atlas always listed, all three at once, before the block had an end line.
const LEGACY: [&str; 3] = ["/.env.local", "/.env.worktree", "/docker-compose.yml"];

/// Bring the block in line with the files just written into the worktree `root` (`written`, as
/// [`Workspace::write_files`](crate::workspace::Workspace) writes them): each gets its pattern
/// when it has none, and a pattern of the block that names none of them goes unless `root` or
/// one of `worktrees` (the directories of every worktree with ports) still has a file at that
/// path that git-atlas generated (its first line says so). So a line goes at the first write of a
/// worktree's files after the last generated file it names went away or stopped being written
/// (`[env] output` renamed, a template removed, the worktree removed): a file git-atlas stopped
/// writing is no longer hidden from `git status` once it is gone, and a file it never wrote (the
/// user's own `docker-compose.yml`) never is.
///
/// Cost: one read of `info/exclude` (written only when the block changes), and for a pattern
/// that `written` does not account for, a look at `root` (which usually has it: a file of this
/// write still to come), then at each worktree until one has the file; nothing on the prompt's
/// or the hooks' fast paths, which write no files.
pub fn update(
    common_dir: &Path,
    root: &Path,
    written: &[PathBuf],
    worktrees: &[&Path],
) -> Result<()> {
    let path = common_dir.join("info").join("exclude");
    let wanted: Vec<String> = written
        .iter()
        .filter_map(|f| f.strip_prefix(root).ok())
        .filter_map(pattern)
        .collect();
    let worktrees: Vec<&Path> = std::iter::once(root)
        .chain(worktrees.iter().copied().filter(|w| *w != root))
        .collect();
    let worktrees = &worktrees[..];
    if updated(&read(&path)?, &wanted, worktrees).is_none() {
        return Ok(());
    }
    // Writers of different worktrees take turns, each deciding on what the last one wrote.
    let registry = common_dir.join(crate::ports::registry::DIR);
    let _lock = Lock::exclusive(&registry.join("exclude.lock"))?;
    let Some(text) = updated(&read(&path)?, &wanted, worktrees) else {
        return Ok(());
    };
    files::write_atomic(&path, text.as_bytes())
}

fn read(path: &Path) -> Result<String> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// `existing` with its block holding `wanted` and the patterns still in use, or `None` when it
/// already does.
fn updated(existing: &str, wanted: &[String], worktrees: &[&Path]) -> Option<String> {
    let block = Block::find(existing);
    let mut lines: Vec<String> = Vec::new();
    for line in &block.lines {
        let keep = wanted.contains(line)
            || unescape(line)
                .is_some_and(|name| worktrees.iter().any(|w| is_generated(&w.join(&name))));
        if keep && !lines.contains(line) {
            lines.push(line.clone());
        }
    }
    for w in wanted {
        if !lines.contains(w) {
            lines.push(w.clone());
        }
    }
    if lines == block.lines && (lines.is_empty() || block.ended) {
        return None;
    }
    Some(block.with(&lines))
}

/// `info/exclude` around git-atlas's block.
#[derive(Debug, PartialEq)]
struct Block<'a> {
    /// Everything before the block (all of the file when there is none).
    before: &'a str,
    /// Its patterns.
    lines: Vec<String>,
    /// Everything after it.
    after: &'a str,
    /// Whether it has its end line (an older git-atlas wrote none).
    ended: bool,
}

impl<'a> Block<'a> {
    fn find(text: &'a str) -> Block<'a> {
        let mut offset = 0;
        let mut start = None;
        for line in text.split_inclusive('\n') {
            if line.trim_end() == START {
                start = Some((offset, offset + line.len()));
                break;
            }
            offset += line.len();
        }
        let Some((begin, body)) = start else {
            return Block {
                before: text,
                lines: Vec::new(),
                after: "",
                ended: false,
            };
        };
        let mut lines = Vec::new();
        let mut at = body;
        for line in text[body..].split_inclusive('\n') {
            let trimmed = line.trim_end_matches(['\n', '\r']);
            if trimmed == END {
                return Block {
                    before: &text[..begin],
                    lines,
                    after: &text[at + line.len()..],
                    ended: true,
                };
            }
            lines.push(trimmed.to_string());
            at += line.len();
        }
        // No end line: what an older git-atlas wrote, the header and its three files (a
        // user's line after them stays the user's).
        let mut lines = Vec::new();
        let mut at = body;
        for line in text[body..].split_inclusive('\n') {
            let trimmed = line.trim_end_matches(['\n', '\r']);
            if !LEGACY.contains(&trimmed) || lines.iter().any(|l| l == trimmed) {
                break;
            }
            lines.push(trimmed.to_string());
            at += line.len();
        }
        Block {
            before: &text[..begin],
            lines,
            after: &text[at..],
            ended: false,
        }
    }

    /// The file with the block holding `lines` (no block at all when there are none).
    fn with(&self, lines: &[String]) -> String {
        let mut out = self.before.to_string();
        if !lines.is_empty() {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(START);
            out.push('\n');
            for l in lines {
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(END);
            out.push('\n');
        }
        out.push_str(self.after);
        out
    }
}

/// The anchored gitignore pattern that matches exactly `relative` (a path inside the worktree):
/// `/apps/api/.env.local`, with `\`, `*`, `?`, `[` and white space escaped. `None` for a path
/// no pattern can name (a line break in it, a component that leaves the worktree).
fn pattern(relative: &Path) -> Option<String> {
    let mut out = String::new();
    for c in relative.components() {
        let part = match c {
            std::path::Component::Normal(part) => part.to_str()?,
            std::path::Component::CurDir => continue,
            _ => return None,
        };
        if part.contains(['\n', '\r']) {
            return None;
        }
        out.push('/');
        for ch in part.chars() {
            if matches!(ch, '\\' | '*' | '?' | '[' | ' ' | '\t') {
                out.push('\\');
            }
            out.push(ch);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The path inside the worktree a pattern of ours names (see [`pattern`]).
fn unescape(pattern: &str) -> Option<PathBuf> {
    let rest = pattern.strip_prefix('/')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next()?);
        } else {
            out.push(c);
        }
    }
    (!out.is_empty()).then(|| PathBuf::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::generate::MARKER;

    fn lines(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn patterns_are_anchored_and_escaped() {
        assert_eq!(pattern(Path::new(".env.local")).unwrap(), "/.env.local");
        assert_eq!(
            pattern(Path::new("apps/api/.env.local")).unwrap(),
            "/apps/api/.env.local"
        );
        assert_eq!(
            pattern(Path::new("my env [dev]*?.txt")).unwrap(),
            "/my\\ env\\ \\[dev]\\*\\?.txt"
        );
        assert_eq!(pattern(Path::new("a\\b ")).unwrap(), "/a\\\\b\\ ");
        assert_eq!(pattern(Path::new("a\nb")), None);
        assert_eq!(pattern(Path::new("../x")), None);
        for name in ["my env [dev]*?.txt", "a\\b ", "apps/api/.env.local"] {
            let p = pattern(Path::new(name)).unwrap();
            assert_eq!(unescape(&p).unwrap(), PathBuf::from(name), "{p}");
        }
    }

    #[test]
    fn the_users_lines_are_never_touched() {
        let user = "# git ls-files --others --exclude-from=.git/info/exclude\n*.swp\n";
        let added = updated(user, &lines(&["/.env.local"]), &[]).unwrap();
        assert_eq!(added, format!("{user}{START}\n/.env.local\n{END}\n"));
        // Nothing to change: nothing written.
        assert_eq!(updated(&added, &lines(&["/.env.local"]), &[]), None);
        assert_eq!(updated(user, &[], &[]), None);
        // The user's lines after the block stay where they are; the block goes when empty.
        let later = format!("{added}/mine\n");
        let more = updated(&later, &lines(&["/.env.local", "/docker-compose.yml"]), &[]).unwrap();
        assert_eq!(
            more,
            format!("{user}{START}\n/.env.local\n/docker-compose.yml\n{END}\n/mine\n")
        );
        assert_eq!(updated(&more, &[], &[]).unwrap(), format!("{user}/mine\n"));
        // A file without a final newline gets one before the block.
        assert_eq!(
            updated("*.swp", &lines(&["/.env.local"]), &[]).unwrap(),
            format!("*.swp\n{START}\n/.env.local\n{END}\n")
        );
    }

    #[test]
    fn an_older_block_keeps_only_what_git_atlas_wrote() {
        let old =
            format!("*.swp\n{START}\n/.env.local\n/.env.worktree\n/docker-compose.yml\n/mine\n");
        assert_eq!(
            updated(&old, &lines(&["/.env.local"]), &[]).unwrap(),
            format!("*.swp\n{START}\n/.env.local\n{END}\n/mine\n")
        );
    }

    #[test]
    fn a_line_stays_while_a_worktree_has_its_generated_file() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        let text = format!("{START}\n/.env.local\n/docker-compose.yml\n{END}\n");
        fs::write(b.join("docker-compose.yml"), "services: {}\n").unwrap();
        let worktrees = [a.as_path(), b.as_path()];
        // b's own docker-compose.yml is not git-atlas's: the line goes.
        assert_eq!(
            updated(&text, &lines(&["/.env.local"]), &worktrees).unwrap(),
            format!("{START}\n/.env.local\n{END}\n")
        );
        fs::write(
            b.join("docker-compose.yml"),
            format!("# {MARKER} for worktree b from t\nservices: {{}}\n"),
        )
        .unwrap();
        assert_eq!(updated(&text, &lines(&["/.env.local"]), &worktrees), None);
    }
}
