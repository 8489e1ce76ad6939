//! `git atlas man [--install [--dir DIR]]`: print the manual page, or install it for `man`.

use std::io::Write;

use crate::cli::ManArgs;
use crate::error::Result;
use crate::setup::man::{self, Found};

pub fn run(args: ManArgs, out: &mut dyn Write) -> Result<()> {
    if !args.install {
        out.write_all(man::PAGE.as_bytes())?;
        return Ok(());
    }
    let dir = match args.dir {
        Some(dir) => dir,
        None => man::default_dir()?,
    };
    let (page, found) = man::install(&dir).map_err(|e| {
        e.hint("install it where you can write, e.g. `git-atlas man --install --dir ~/.local/share/man`")
    })?;
    writeln!(out, "Installed the manual page as {}", page.display())?;
    match found {
        Found::This => writeln!(out, "`git atlas --help` and `git help atlas` show it.")?,
        Found::Other(other) => eprintln!(
            "warning: `man git-atlas` shows {} first; remove that page, or put {} before it in MANPATH",
            other.display(),
            dir.display()
        ),
        Found::Nowhere => eprintln!(
            "warning: `man` does not look in {}: add it to MANPATH (`export MANPATH={}:`), or install with --dir ~/.local/share/man",
            dir.display(),
            dir.display()
        ),
        Found::NoMan => eprintln!(
            "note: there is no `man` on this machine, so `git atlas --help` cannot show the page; `git atlas <command> --help` always works"
        ),
    }
    Ok(())
}
