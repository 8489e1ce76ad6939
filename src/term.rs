//! What the terminal gets besides the results: progress lines on stderr during long steps, and
//! whether tables are coloured. Both are decided once, in `commands::run`, from the global
//! `--quiet` and `--color` flags, `NO_COLOR` and whether the stream is a terminal; a pipe gets
//! neither.
#![allow(clippy::print_stderr)]

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::ColorWhen;

static QUIET: AtomicBool = AtomicBool::new(false);
static PROGRESS: AtomicBool = AtomicBool::new(false);
static COLOR: AtomicBool = AtomicBool::new(false);

/// Decide, for this process, whether progress lines and colour are shown.
pub fn init(quiet: bool, color: ColorWhen) {
    QUIET.store(quiet, Ordering::Relaxed);
    PROGRESS.store(!quiet && std::io::stderr().is_terminal(), Ordering::Relaxed);
    COLOR.store(
        wants_color(color, std::io::stdout().is_terminal()),
        Ordering::Relaxed,
    );
}

/// `--color=auto` colours a terminal unless `NO_COLOR` is set (to anything non-empty, as
/// no-color.org says) or `TERM` is `dumb`; `always` and `never` are what they say.
fn wants_color(when: ColorWhen, terminal: bool) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// `--quiet`: the programs git-atlas runs for long steps (Compose) keep their progress to
/// themselves too, and show what they said only when they fail.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether tables on stdout are coloured.
pub fn color() -> bool {
    COLOR.load(Ordering::Relaxed)
}

/// One progress line on stderr (`git-atlas: <what>...`), on a terminal and without `--quiet`.
/// Never on stdout: what a script parses stays clean.
pub fn progress(what: std::fmt::Arguments<'_>) {
    if PROGRESS.load(Ordering::Relaxed) {
        eprintln!("git-atlas: {what}...");
    }
}

/// `progress!("Starting {project}")`.
#[macro_export]
macro_rules! progress {
    ($($arg:tt)*) => { $crate::term::progress(format_args!($($arg)*)) };
}

/// Paint `text` with an SGR code when colour is on: `paint("1", "SERVICE")` is bold.
pub fn paint(code: &str, text: &str) -> String {
    if color() && !text.is_empty() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_and_never_ignore_the_terminal() {
        assert!(wants_color(ColorWhen::Always, false));
        assert!(!wants_color(ColorWhen::Never, true));
        assert!(!wants_color(ColorWhen::Auto, false));
    }
}
