//! The hook shims: installing them between START/END marker lines (keeping any hook that was
//! there), removing them byte for byte, and the worktree fingerprint their fast path compares.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, IoContext, Result};
use crate::files;
use crate::git::repo::Worktree;

/// The hook name the prompt starts git-atlas with, detached, when it sees the worktrees
/// changed (see `workspace::shims::notice_changes`).
pub const BACKGROUND: &str = "background-reconcile";

/// Every shim git-atlas has: `uninstall` and `status` look at all of them.
pub const NAMES: [&str; 2] = ["post-checkout", EAGER];

/// The shims `hooks install` puts in by default: Git runs `post-checkout` once per checkout,
/// and never for a commit or a ref update.
pub const DEFAULT: [&str; 1] = ["post-checkout"];

/// The opt-in shim (`hooks install --eager`): Git runs `reference-transaction` for every state
/// of every ref update (5 runs per commit, about 15 per rebased commit), so with it a commit
/// costs about twice a commit without hooks and a rebase six to eight times; what it adds is
/// that a worktree Git removed or pruned is released at the next ref update rather than at the
/// next checkout, prompt or `git atlas` command.
pub const EAGER: &str = "reference-transaction";

const START: &str = "# >>> git-atlas START: managed by `git atlas hooks install`, removed by `git atlas hooks uninstall`";
const END: &str = "# <<< git-atlas END";
const CREATED: &str = " (created)";
const WRAPS: &str = " (wraps ";
pub const SAVED_SUFFIX: &str = ".pre-git-atlas";

fn body(name: &str) -> &'static str {
    match name {
        "post-checkout" => include_str!("../../hooks/post-checkout.sh"),
        "reference-transaction" => include_str!("../../hooks/reference-transaction.sh"),
        _ => unreachable!("only NAMES are installed"),
    }
}

fn block(name: &str, flag: &str) -> String {
    // Both shims find the common dir the same way: one function, defined here, removed after.
    format!(
        "{START}{flag}\n{SOURCE}\n{}{}unset -f _atlas_common_dir _atlas_changed\n{END}\n",
        code(include_str!("../../hooks/common-dir.sh")),
        code(body(name))
    )
}

/// Where an installed shim's code is explained: the files in hooks/ with their comments.
const SOURCE: &str = "# (its code, commented: hooks/ in git-atlas's source)";

/// A shim's `text` without its comment lines and indentation: the shell reads and parses every
/// byte of a hook on every checkout (dash: about 135 instructions a byte), and they were half
/// of the shims' bytes. (No line of theirs is in a quoted string or a here-document, where
/// the indentation would be part of the text.)
fn code(text: &str) -> String {
    text.lines()
        .map(str::trim_start)
        .filter(|line| !line.starts_with('#'))
        .flat_map(|line| [line, "\n"])
        .collect()
}

/// Whether every hook in `dir` that Git could run is a shim `hooks install` created, with
/// nothing of a user's in or beside it (no chained lines, no wrapped hook, no hook of another
/// name; `*.sample` files aside). Then `git atlas add` can have Git run no hook at all: the
/// shims would only start a shell that sees `GIT_ATLAS_IN_ADD` and exits, which costs `git
/// worktree add` about a millisecond. Anything unreadable answers `false`.
pub fn only_created_shims(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut ours = 0;
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return false;
        };
        if name.ends_with(".sample") {
            continue;
        }
        let created = NAMES.contains(&name)
            && fs::read_to_string(entry.path())
                .is_ok_and(|text| text == format!("#!/bin/sh\n{}", block(name, CREATED)));
        if !created {
            return false;
        }
        ours += 1;
    }
    ours > 0
}

/// The state of one hook file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Missing,
    /// A hook exists, without git-atlas.
    Foreign,
    Installed,
    /// Our block is there but from another version of git-atlas.
    Outdated,
}

pub fn state(dir: &Path, name: &str) -> State {
    let Ok(text) = fs::read_to_string(dir.join(name)) else {
        return if dir.join(name).exists() {
            State::Foreign
        } else {
            State::Missing
        };
    };
    match find_block(&text) {
        None => State::Foreign,
        Some((_, flag, start, end)) => {
            if text[start..end] == block(name, flag) {
                State::Installed
            } else {
                State::Outdated
            }
        }
    }
}

/// Install the shim for `name` in `dir`. Returns what was done, for the user.
pub fn install(dir: &Path, name: &str) -> Result<&'static str> {
    let path = dir.join(name);
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_hook(&path, &format!("#!/bin/sh\n{}", block(name, CREATED)))?;
            return Ok("installed");
        }
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    // A symlink (to a tracked script, say) or a hook its owner switched off (not executable) is
    // not edited: it is kept whole under another name, which restores it exactly.
    if meta.file_type().is_symlink() || meta.permissions().mode() & 0o111 == 0 {
        return wrap(dir, name);
    }
    let text = String::from_utf8(fs::read(&path).at("read", &path)?).ok();
    if let Some((_, flag, start, end)) = text.as_deref().and_then(find_block) {
        let text = text.as_deref().expect("found a block in text");
        let fresh = block(name, flag);
        if text[start..end] == fresh {
            return Ok("already installed");
        }
        write_hook(&path, &format!("{}{fresh}{}", &text[..start], &text[end..]))?;
        return Ok("updated");
    }
    match text.as_deref().filter(|t| is_shell_script(t)) {
        Some(text) => {
            // Our lines go right after the shebang, before any `exit` of the user's script.
            let split = text.find('\n').expect("a shell script with a newline") + 1;
            write_hook(
                &path,
                &format!("{}{}{}", &text[..split], block(name, ""), &text[split..]),
            )?;
            Ok("added to the existing hook")
        }
        // Another language, or no shebang.
        None => wrap(dir, name),
    }
}

/// Keep the hook as it is under another name, and run it after our lines with the same
/// arguments and stdin; only if it is executable, as Git would.
fn wrap(dir: &Path, name: &str) -> Result<&'static str> {
    let path = dir.join(name);
    let saved = dir.join(format!("{name}{SAVED_SUFFIX}"));
    if saved.symlink_metadata().is_ok() {
        return Err(Error::failed(format!(
            "{} already exists; not overwriting it",
            saved.display()
        ))
        .hint("move it away, then run `git atlas hooks install` again"));
    }
    fs::rename(&path, &saved).at("rename", &path)?;
    let wrapper = format!(
        "#!/bin/sh\n{}if [ -x \"${{0%/*}}/{name}{SAVED_SUFFIX}\" ]; then exec \"${{0%/*}}/{name}{SAVED_SUFFIX}\" \"$@\"; fi\n",
        block(name, &format!("{WRAPS}{name}{SAVED_SUFFIX})"))
    );
    write_hook(&path, &wrapper)?;
    if saved.is_file() && fs::metadata(&saved).is_ok_and(|m| m.permissions().mode() & 0o111 == 0) {
        Ok("installed; the existing hook is not executable, so it still does not run")
    } else {
        Ok("installed; the existing hook still runs after it")
    }
}

/// Remove the shim for `name` from `dir`, restoring exactly what was there before.
pub fn uninstall(dir: &Path, name: &str) -> Result<&'static str> {
    let path = dir.join(name);
    let Ok(text) = fs::read_to_string(&path) else {
        return Ok("not installed");
    };
    let Some((_, flag, start, end)) = find_block(&text) else {
        return Ok("not installed");
    };
    if flag == CREATED {
        fs::remove_file(&path).at("remove", &path)?;
        Ok("removed")
    } else if flag.starts_with(WRAPS) {
        let saved = dir.join(format!("{name}{SAVED_SUFFIX}"));
        fs::rename(&saved, &path).at("restore", &saved)?;
        Ok("removed; the previous hook is back")
    } else {
        files::write_atomic(
            &path,
            format!("{}{}", &text[..start], &text[end..]).as_bytes(),
        )?;
        Ok("removed; the rest of the hook is unchanged")
    }
}

/// `(line, flag, start, end)` of our block: byte offsets from the START line to after the END line.
fn find_block(text: &str) -> Option<(usize, &str, usize, usize)> {
    let start = text.find(START)?;
    let line_end = start + text[start..].find('\n')?;
    let flag = &text[start + START.len()..line_end];
    let end_at = start + text[start..].find(END)?;
    let end = end_at
        + text[end_at..]
            .find('\n')
            .map_or(text.len() - end_at, |n| n + 1);
    Some((text[..start].matches('\n').count() + 1, flag, start, end))
}

fn is_shell_script(text: &str) -> bool {
    let Some(first) = text.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return false;
    };
    if !text.contains('\n') {
        return false;
    }
    let mut words = first.split_whitespace();
    let mut interpreter = words.next().unwrap_or("");
    if interpreter.ends_with("/env") {
        interpreter = words.find(|w| !w.starts_with('-')).unwrap_or("");
    }
    let base = interpreter.rsplit('/').next().unwrap_or("");
    matches!(base, "sh" | "bash" | "dash" | "ash" | "ksh" | "zsh")
}

fn write_hook(path: &Path, text: &str) -> Result<()> {
    let existed = path.exists();
    files::write_atomic(path, text.as_bytes())?;
    if !existed {
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).at("make executable", path)?;
    }
    Ok(())
}

/// Where the state of the last reconcile is kept, for the shims' fast path.
pub fn state_path(common_dir: &Path) -> PathBuf {
    common_dir
        .join(crate::ports::registry::DIR)
        .join("hook-state")
}

/// hook-state's first line (the shims compare it whole).
fn state_header(worktrees_exist: bool) -> String {
    format!(
        "git-atlas hook-state 3 worktrees={}",
        u8::from(worktrees_exist)
    )
}

/// At most this many directories are watched for a worktree deleted with `rm -rf`.
const MAX_WATCHED_DIRS: usize = 16;

/// The directories that hold the linked worktrees (usually one or two, whatever their number):
/// deleting a worktree's directory changes its parent's time, which the shims and the prompt
/// compare with hook-state's. None when there are more than [`MAX_WATCHED_DIRS`] (then an
/// `rm -rf` waits for the next `git atlas` command, or Git's next change to the worktrees).
pub fn watched_dirs(worktrees: &[Worktree]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for wt in worktrees.iter().filter(|w| !w.is_main) {
        if let Some(parent) = wt.path.parent() {
            if !dirs.iter().any(|d| d == parent) {
                dirs.push(parent.to_path_buf());
            }
        }
    }
    if dirs.len() > MAX_WATCHED_DIRS {
        dirs.clear();
    }
    dirs.retain(|d| dir_line(d).is_some());
    dirs
}

/// hook-state's line for a watched directory, `d<path>`: none for a path that is not text
/// without a newline, which the shims could not read as a line.
fn dir_line(dir: &Path) -> Option<String> {
    dir.to_str()
        .filter(|t| !t.contains('\n'))
        .map(|t| format!("d{t}\n"))
}

/// The newest time of `dirs`.
pub fn newest_of(dirs: &[PathBuf]) -> Option<SystemTime> {
    dirs.iter()
        .filter_map(|d| fs::metadata(d).and_then(|m| m.modified()).ok())
        .max()
}

/// Give `path` the modification time `time`: hook-state's time is what the shims compare.
fn set_time(path: &Path, time: SystemTime) -> Result<()> {
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
        .at("set the time of", path)
}

/// Whether the worktrees are as the last reconcile saw them, by the shims' check (see
/// `_atlas_changed` in hooks/common-dir.sh), a constant amount of work: none added, removed or
/// pruned (`worktrees/` is not newer than hook-state), the one whose Git directory is `git_dir`
/// not moved (its `gitdir` file is not newer), no worktree waiting for its first checkout has an
/// index, and no directory holding worktrees changed (an `rm -rf`).
pub fn worktrees_unchanged(common_dir: &Path, git_dir: &Path) -> bool {
    let state = state_path(common_dir);
    let (Ok(state_meta), Ok(text)) = (fs::metadata(&state), fs::read_to_string(&state)) else {
        return false;
    };
    let Ok(recorded) = state_meta.modified() else {
        return false;
    };
    let not_newer = |p: &Path| {
        fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t <= recorded)
    };
    let worktrees = common_dir.join("worktrees");
    let exists = worktrees.is_dir();
    let mut lines = text.lines();
    if lines.next() != Some(state_header(exists).as_str()) || (exists && !not_newer(&worktrees)) {
        return false;
    }
    let gitdir = git_dir.join("gitdir");
    if gitdir.is_file() && !not_newer(&gitdir) {
        return false;
    }
    lines.all(|line| match line.split_at_checked(1) {
        Some(("p", name)) => !worktrees.join(name).join("index").exists(),
        Some(("d", dir)) => fs::metadata(dir)
            .and_then(|m| m.modified())
            .map_or(true, |t| t <= recorded),
        _ => true,
    })
}

/// After an `add` that found the worktrees unchanged (see [`worktrees_unchanged`]) and added
/// one without a reconcile: move hook-state's time up to that worktree's, so that the shims do
/// not take the add for a change still to reconcile.
pub fn record_add(common_dir: &Path, wt: &Worktree) -> Result<()> {
    let path = state_path(common_dir);
    let parent = wt.path.parent().map(Path::to_path_buf);
    let newest = [
        Some(common_dir.join("worktrees")),
        Some(common_dir.join("worktrees").join(&wt.name).join("gitdir")),
        parent.clone(),
    ]
    .iter()
    .flatten()
    .filter_map(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
    .max();
    let (Some(newest), Ok(text)) = (newest, fs::read_to_string(&path)) else {
        return Ok(());
    };
    // The first worktree also creates worktrees/, which hook-state says exists or not; a
    // worktree in a directory of its own adds that directory.
    let (_, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let mut rest = rest.to_string();
    if let Some(line) = parent.as_deref().and_then(dir_line) {
        let watched = rest.lines().filter(|l| l.starts_with('d')).count();
        if !rest.split_inclusive('\n').any(|l| l == line) && watched < MAX_WATCHED_DIRS {
            rest.push_str(&line);
        }
    }
    let updated = format!("{}\n{rest}", state_header(true));
    if updated != text {
        files::write_derived_atomic(&path, updated.as_bytes())?;
    }
    set_time(&path, newest)
}

/// Record a reconcile for the shims (see hooks/common-dir.sh): whether `worktrees/` exists, the
/// worktrees whose files wait for their first checkout (`p<name>`), the directories that hold
/// worktrees (`d<path>`, see [`watched_dirs`]), and, as the file's mtime, `newest`.
pub fn write_state(
    common_dir: &Path,
    pending: &[String],
    dirs: &[PathBuf],
    newest: Option<SystemTime>,
) -> Result<()> {
    let path = state_path(common_dir);
    let mut text = state_header(common_dir.join("worktrees").is_dir());
    text.push('\n');
    for name in pending.iter().filter(|n| !n.contains('\n')) {
        text.push('p');
        text.push_str(name);
        text.push('\n');
    }
    text.extend(dirs.iter().filter_map(|d| dir_line(d)));
    set_aside_if_damaged(&path)?;
    let current = fs::metadata(&path).and_then(|m| m.modified()).ok();
    if fs::read(&path).ok().as_deref() == Some(text.as_bytes())
        && (newest.is_none() || current == newest)
    {
        return Ok(());
    }
    files::write_derived_atomic(&path, text.as_bytes())?;
    if let Some(t) = newest {
        set_time(&path, t)?;
    }
    Ok(())
}

/// hook-state only mirrors what a reconcile saw, and the shims treat anything they do not
/// recognise as "changed", so a damaged file costs one extra reconcile and is rewritten. It is
/// still set aside as `hook-state.backup`, with one warning, rather than silently replaced; so
/// is a directory in its place, which could not be replaced at all. (The first line of an older
/// git-atlas's state, `N:<…>`, is not damage.)
fn set_aside_if_damaged(path: &Path) -> Result<()> {
    let damage = match fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(m) if !m.is_file() => "is not a file",
        Ok(_) => {
            let Ok(bytes) = fs::read(path) else {
                return Ok(());
            };
            let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
            let ours = first.starts_with(b"git-atlas hook-state ")
                || first.iter().position(|b| *b == b':').is_some_and(|colon| {
                    colon > 0 && first[..colon].iter().all(u8::is_ascii_digit)
                });
            if ours {
                return Ok(());
            }
            "did not parse"
        }
    };
    if let Some(backup) = files::set_aside(path)? {
        crate::term::warn(format!(
            "{} {damage}; set it aside as {} and wrote a new one",
            path.display(),
            backup.display()
        ));
    }
    Ok(())
}

/// Take `name` off hook-state's list of worktrees waiting for their first checkout (its files
/// are written now), keeping the file's time.
pub fn forget_pending(common_dir: &Path, name: &str) -> Result<()> {
    let path = state_path(common_dir);
    let (Ok(text), Ok(mtime)) = (
        fs::read_to_string(&path),
        fs::metadata(&path).and_then(|m| m.modified()),
    ) else {
        return Ok(());
    };
    let kept: String = text
        .split_inclusive('\n')
        .enumerate()
        .filter(|(i, line)| *i == 0 || line.trim_end_matches('\n').strip_prefix('p') != Some(name))
        .map(|(_, line)| line)
        .collect();
    if kept == text {
        return Ok(());
    }
    files::write_derived_atomic(&path, kept.as_bytes())?;
    set_time(&path, mtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_and_uninstall_round_trip_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let user = "#!/usr/bin/env bash\nset -e\necho user hook\nexit 0\n";
        fs::write(d.join("post-checkout"), user).unwrap();
        let python = "#!/usr/bin/env python3\nprint('hi')\n";
        fs::write(d.join("reference-transaction"), python).unwrap();
        for name in NAMES {
            fs::set_permissions(d.join(name), fs::Permissions::from_mode(0o755)).unwrap();
        }
        for name in NAMES {
            install(d, name).unwrap();
            assert_eq!(state(d, name), State::Installed);
            assert_eq!(install(d, name).unwrap(), "already installed");
        }
        let installed = fs::read_to_string(d.join("post-checkout")).unwrap();
        assert!(
            installed.starts_with("#!/usr/bin/env bash\n# >>> git-atlas START"),
            "{installed}"
        );
        assert!(installed.ends_with("echo user hook\nexit 0\n"));
        assert_eq!(
            fs::read_to_string(d.join("reference-transaction.pre-git-atlas")).unwrap(),
            python
        );
        for name in NAMES {
            uninstall(d, name).unwrap();
        }
        assert_eq!(fs::read_to_string(d.join("post-checkout")).unwrap(), user);
        assert_eq!(
            fs::read_to_string(d.join("reference-transaction")).unwrap(),
            python
        );
        assert!(!d.join("reference-transaction.pre-git-atlas").exists());
    }

    #[test]
    fn fresh_install_is_removed_entirely() {
        let dir = tempfile::tempdir().unwrap();
        install(dir.path(), "post-checkout").unwrap();
        let mode = fs::metadata(dir.path().join("post-checkout"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        uninstall(dir.path(), "post-checkout").unwrap();
        assert!(!dir.path().join("post-checkout").exists());
    }

    #[test]
    fn outdated_block_is_replaced_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("post-checkout");
        fs::write(
            &path,
            format!("#!/bin/sh\n{START}\nold body\n{END}\necho mine\n"),
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(state(dir.path(), "post-checkout"), State::Outdated);
        assert_eq!(install(dir.path(), "post-checkout").unwrap(), "updated");
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with(&format!("{END}\necho mine\n")), "{text}");
        assert_eq!(state(dir.path(), "post-checkout"), State::Installed);
    }
}

/// A tracked file a linked worktree's generated files are made from, from the worktree's top,
/// and whether it was there when they were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    pub rel: String,
    pub present: bool,
}

const FOLLOWED_HEADER: &str = "git-atlas follows 1";

/// Where the files a linked worktree follows are listed: in Git's own directory for it, which
/// Git takes away with the worktree (and keeps through `git worktree move`).
pub fn followed_path(common_dir: &Path, name: &str) -> PathBuf {
    common_dir
        .join("worktrees")
        .join(name)
        .join("git-atlas-follows")
}

/// List `followed` for the post-checkout shim (see hooks/post-checkout.sh): `+path` for a file
/// that was there, `?path` for one that was not, and, as the file's time, `read_at`, when they
/// were read, less the 10 ms a file system's clock may lag the system's (Linux stamps files
/// with the time of the last tick): a file is unchanged while the list is newer than it, so a
/// checkout that writes one later counts, and so does one that wrote it just before the read
/// (one more run, which finds nothing to do). (A path with a newline in it cannot be a line:
/// it is not followed.)
pub fn write_followed(path: &Path, followed: &[Followed], read_at: SystemTime) -> Result<()> {
    let mut text = format!("{FOLLOWED_HEADER}\n");
    for f in followed.iter().filter(|f| !f.rel.contains('\n')) {
        text.push(if f.present { '+' } else { '?' });
        text.push_str(&f.rel);
        text.push('\n');
    }
    if path.parent().is_some_and(|d| !d.is_dir()) {
        return Ok(());
    }
    files::write_derived_atomic(path, text.as_bytes())?;
    let margin = std::time::Duration::from_millis(10);
    set_time(path, read_at.checked_sub(margin).unwrap_or(read_at))
}

/// The followed files of the worktree at `top` that changed since they were listed at `path`
/// (as the shim decides): one listed there that is gone or not older than the list, or one listed
/// as missing that is there now. Nothing when there is no list, or one this git-atlas did not
/// write.
pub fn followed_changes(path: &Path, top: &Path) -> Vec<String> {
    let (Ok(text), Ok(listed)) = (
        fs::read_to_string(path),
        fs::metadata(path).and_then(|m| m.modified()),
    ) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    if lines.next() != Some(FOLLOWED_HEADER) {
        return Vec::new();
    }
    lines
        .filter_map(|line| {
            let (mark, rel) = line.split_at_checked(1)?;
            let now = fs::metadata(top.join(rel)).ok();
            let changed = match mark {
                "+" => now
                    .and_then(|m| m.modified().ok())
                    .is_none_or(|t| t >= listed),
                "?" => now.is_some(),
                _ => false,
            };
            changed.then(|| rel.to_string())
        })
        .collect()
}
