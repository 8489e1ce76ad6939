//! `git atlas copy [<worktree>]`: copy into a worktree what `.worktreeinclude` and `[copy]
//! include` name among the main worktree's ignored files (again, after `add` did it: what is
//! there already is kept).

use std::io::Write;

use super::cwd;
use crate::cli::CopyArgs;
use crate::error::{Error, Result};
use crate::workspace::{Copied, Workspace};

pub fn run(args: CopyArgs, out: &mut dyn Write) -> Result<()> {
    let cwd = cwd()?;
    let ws = Workspace::discover(&cwd)?;
    let wt = ws.find_worktree(args.worktree.as_deref(), &cwd)?;
    out.flush()?;
    match ws.copy_included(&wt, crate::term::progress_shown())? {
        None => writeln!(
            out,
            "Nothing to copy: neither {} nor [copy] include names a file or folder the main worktree's Git ignores",
            crate::copying::INCLUDE_FILE
        )?,
        Some(copied) => {
            report(&copied, out)?;
            if let Some(first) = copied.summary.failed.first() {
                return Err(Error::failed(format!(
                    "could not copy {} of them: {first}",
                    copied.summary.failed.len()
                ))
                .hint("fix that, then run `git atlas copy` again (what was copied is kept)"));
            }
        }
    }
    Ok(())
}

/// `Copied node_modules/, .venv/ from main: 40,123 files, 212 MB, cloned (copy-on-write) in
/// 0.84 s`, and a warning line for each thing that could not be copied (the first few).
pub(super) fn report(copied: &Copied, out: &mut dyn Write) -> Result<()> {
    let s = &copied.summary;
    if s.files == 0 && s.kept > 0 && s.failed.is_empty() {
        use crate::copying::clone::{plural, thousands};
        writeln!(
            out,
            "Nothing new to copy from main: the worktree has all {} {} of {}",
            thousands(s.kept),
            plural(s.kept, "file"),
            copied.names()
        )?;
    } else {
        writeln!(out, "Copied {} from main: {}", copied.names(), s.describe())?;
    }
    let failed = &s.failed;
    for line in failed.iter().take(3) {
        eprintln!("git-atlas: warning: could not copy {line}");
    }
    if failed.len() > 3 {
        eprintln!(
            "git-atlas: warning: and {} more that could not be copied",
            failed.len() - 3
        );
    }
    Ok(())
}
