//! The manual page, built into the binary (so it always matches it), and its installation where
//! `man` finds it: Git turns `git atlas --help` into `man git-atlas`, and `cargo install` installs
//! no pages.

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::files::write_atomic;

/// `man/git-atlas.1`, which `tests/man.rs` keeps equal to what the command-line definition renders.
pub const PAGE: &str = include_str!("../../man/git-atlas.1");

/// Where `--install` puts the page by default: `<prefix>/share/man` for a binary in
/// `<prefix>/bin` (`~/.cargo/share/man` for `~/.cargo/bin`). man-db searches `../share/man` of
/// every directory on `PATH`, so no `MANPATH` is needed.
pub fn default_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::failed(format!("cannot tell where git-atlas is installed: {e}")))?;
    let bin = exe.parent().unwrap_or(Path::new("/"));
    Ok(bin.parent().unwrap_or(bin).join("share").join("man"))
}

/// What `man -w git-atlas` says after an install.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// `man` finds the page just installed.
    This,
    /// `man` finds another page first (an older install).
    Other(PathBuf),
    /// `man` does not find any page of that name.
    Nowhere,
    /// There is no `man` on this machine.
    NoMan,
}

/// Write the page as `<dir>/man1/git-atlas.1` (atomically, replacing an older one) and ask `man`
/// which page it would show.
pub fn install(dir: &Path) -> Result<(PathBuf, Found)> {
    let page = dir.join("man1").join("git-atlas.1");
    let man1 = dir.join("man1");
    std::fs::create_dir_all(&man1).at("create", &man1)?;
    write_atomic(&page, PAGE.as_bytes())?;
    Ok((page.clone(), which_page(&page)))
}

fn which_page(installed: &Path) -> Found {
    let Ok(man) = which::which("man") else {
        return Found::NoMan;
    };
    let output = duct::cmd!(man, "-w", "git-atlas")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run();
    let Ok(output) = output else {
        return Found::NoMan;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(first) = text
        .lines()
        .next()
        .filter(|l| output.status.success() && !l.is_empty())
    else {
        return Found::Nowhere;
    };
    let shown = PathBuf::from(first);
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if same(&shown, installed) {
        Found::This
    } else {
        Found::Other(shown)
    }
}
