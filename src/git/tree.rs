//! Which paths a commit's tree tracks, read through gix (no `git` spawned): `git atlas add` asks
//! it of the commit `git worktree add` is about to check out, before Git creates anything, and
//! the hooks of a new worktree's `HEAD`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The commit a worktree gets: its `HEAD` ([`Checkout::head`]), or what `git worktree add`
/// checks out for its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Checkout<'a> {
    /// `<commit-ish>`, if given.
    pub commit_ish: Option<&'a OsStr>,
    /// `-b`, `-B` or `--detach`: `commit_ish` (default `HEAD`) is only a start point; no
    /// branch named after it or after the directory is checked out, no remote one guessed.
    pub start_point: bool,
    /// `--orphan`: nothing is tracked.
    pub orphan: bool,
    /// The new worktree's directory name: `git worktree add <path>` alone checks out the
    /// branch of that name when there is one (and makes it from `HEAD` otherwise).
    pub dir_name: &'a OsStr,
}

impl Checkout<'_> {
    /// The `HEAD` of the repository or worktree that is opened.
    pub fn head() -> Checkout<'static> {
        Checkout {
            commit_ish: None,
            start_point: true,
            orphan: false,
            dir_name: OsStr::new(""),
        }
    }
}

/// What [`tracked`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// The commit, abbreviated (`1a2b3c4`).
    pub commit: String,
    /// What named it: `HEAD`, `branch wt`, or the commit-ish as given.
    pub named: String,
    /// The paths asked about that its tree has (as given), in the order given.
    pub paths: Vec<String>,
}

/// Which of `paths` (relative to the worktree's top) the tree of `checkout`'s commit has, as a
/// file, link, directory or submodule, in the repository of `dir` (a worktree, or a Git
/// directory). `None` when that cannot be told cheaply and for sure: the commit does not
/// resolve here (Git will say why, or guess it from `worktree.guessRemote`), `--orphan`, or
/// the repository cannot be read; the check it serves is then left to the writer.
///
/// Opened with only the repository's own configuration ([`gix::open::Options::isolated`]):
/// enough to find objects and references.
pub fn tracked(dir: &Path, checkout: &Checkout, paths: &[&str]) -> Option<Tracked> {
    if checkout.orphan {
        return None;
    }
    let repo = gix::open_opts(dir, gix::open::Options::isolated()).ok()?;
    tracked_in(&repo, checkout, paths)
}

/// [`tracked`] in a repository opened already.
pub fn tracked_in(repo: &gix::Repository, checkout: &Checkout, paths: &[&str]) -> Option<Tracked> {
    if checkout.orphan {
        return None;
    }
    let (commit, named) = resolve(repo, checkout)?;
    let tree = commit.tree().ok()?;
    let mut found = Vec::new();
    for path in paths {
        let Some(relative) = in_tree(path) else {
            continue;
        };
        if tree.lookup_entry_by_path(&relative).ok()?.is_some() {
            found.push(path.to_string());
        }
    }
    Some(Tracked {
        commit: commit.id().to_hex_with_len(7).to_string(),
        named,
        paths: found,
    })
}

/// The commit `git worktree add` checks out, as its `add()` decides: a branch named after the
/// commit-ish (or, without one, after the directory) when there is one and no `-b`, `-B` or
/// `--detach` asks for a start point; else the commit-ish as `git rev-parse` reads it, else
/// the one remote branch of that name Git would track; without a commit-ish, `HEAD`.
fn resolve<'r>(
    repo: &'r gix::Repository,
    checkout: &Checkout,
) -> Option<(gix::Commit<'r>, String)> {
    let branch = |name: &OsStr| -> Option<(gix::Commit<'r>, String)> {
        let name = std::str::from_utf8(name.as_bytes()).ok()?;
        let mut found = repo
            .try_find_reference(format!("refs/heads/{name}").as_str())
            .ok()??;
        Some((found.peel_to_commit().ok()?, format!("branch {name}")))
    };
    let spec = match checkout.commit_ish {
        // Git reads `-` as the branch checked out before.
        Some(s) if s == "-" => OsStr::new("@{-1}"),
        Some(s) => s,
        None => {
            if !checkout.start_point {
                if let Some(found) = branch(checkout.dir_name) {
                    return Some(found);
                }
            }
            return Some((repo.head_commit().ok()?, "HEAD".into()));
        }
    };
    if !checkout.start_point {
        if let Some(found) = branch(spec) {
            return Some(found);
        }
    }
    let text = std::str::from_utf8(spec.as_bytes()).ok()?;
    if let Ok(id) = repo.rev_parse_single(text) {
        return Some((id.object().ok()?.peel_to_commit().ok()?, text.to_string()));
    }
    if checkout.start_point {
        return None;
    }
    // `git worktree add <path> <branch>` for a branch only one remote has tracks that one.
    let suffix = format!("/{text}");
    let refs = repo.references().ok()?;
    let mut remote = refs.prefixed("refs/remotes/").ok()?.flatten().filter(|r| {
        let name: &[u8] = r.name().as_bstr();
        name.strip_prefix(b"refs/remotes/".as_slice())
            .and_then(|rest| rest.strip_suffix(suffix.as_bytes()))
            .is_some_and(|remote| !remote.is_empty() && !remote.contains(&b'/'))
    });
    let (mut one, None) = (remote.next()?, remote.next()) else {
        return None;
    };
    let named = one.name().shorten().to_string();
    Some((one.peel_to_commit().ok()?, named))
}

/// `path` as a path inside the tree (`./a/b` and `/a/b` are `a/b`); `None` when it leaves the
/// worktree.
fn in_tree(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_inside_the_tree() {
        assert_eq!(in_tree(".env.local"), Some(PathBuf::from(".env.local")));
        assert_eq!(
            in_tree("./apps/api/.env"),
            Some(PathBuf::from("apps/api/.env"))
        );
        assert_eq!(
            in_tree("/docker-compose.yml"),
            Some(PathBuf::from("docker-compose.yml"))
        );
        assert_eq!(in_tree("../x"), None);
        assert_eq!(in_tree("."), None);
    }
}
