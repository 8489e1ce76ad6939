//! Shell completion scripts, generated from the command-line definition by `clap_complete`.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The completion script for `shell`. (Built in memory: `clap_complete` panics on a write error,
/// and a reader that goes away early must end the command quietly.)
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "git-atlas", &mut out);
    out
}
