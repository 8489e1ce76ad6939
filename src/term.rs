//! What the terminal gets besides the results: progress lines on stderr during long steps, and
//! whether tables are coloured. Both are decided once, in `commands::run`, from the global
//! `--quiet` and `--color` flags, `NO_COLOR` and whether the stream is a terminal; a pipe gets
//! neither. Also how a worktree name is written in a command the user is told to run.
#![allow(clippy::print_stderr)]

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::cli::ColorWhen;

static QUIET: AtomicBool = AtomicBool::new(false);
static PROGRESS: AtomicBool = AtomicBool::new(false);
/// `--color`, until the first table asks (only tables do: a command that prints none, such as
/// a hook, never spends anything on the question).
static COLOR_WHEN: Mutex<ColorWhen> = Mutex::new(ColorWhen::Never);
static COLOR: OnceLock<bool> = OnceLock::new();

/// Decide, for this process, whether progress lines and colour are shown.
pub fn init(quiet: bool, color: ColorWhen) {
    QUIET.store(quiet, Ordering::Relaxed);
    PROGRESS.store(!quiet && std::io::stderr().is_terminal(), Ordering::Relaxed);
    *COLOR_WHEN.lock().unwrap_or_else(|e| e.into_inner()) = color;
}

/// `--color=auto` colours a terminal unless `NO_COLOR` is set (to anything non-empty, as
/// no-color.org says), `TERM` is `dumb`, or Git's configuration says no: `color.atlas`, else
/// `color.ui` (`git -c color.ui=never atlas list` too), read the way Git's own commands read
/// theirs. `always` and `never` are what they say.
fn wants_color(when: ColorWhen, terminal: bool) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                && git_says_color()
        }
    }
}

/// `git config --get-colorbool color.atlas true`: Git's answer for a terminal, with its
/// defaults (colour, unless configured otherwise). Only asked on a terminal. If Git cannot be
/// asked, colour stays on, as Git's default is.
fn git_says_color() -> bool {
    duct::cmd!(
        crate::git::command::program(),
        "config",
        "--get-colorbool",
        "color.atlas",
        "true"
    )
    .stdin_null()
    .stderr_null()
    .stdout_capture()
    .unchecked()
    .run()
    .map_or(true, |o| {
        String::from_utf8_lossy(&o.stdout).trim() != "false"
    })
}

/// `--quiet`: the programs git-atlas runs for long steps (Compose) keep their progress to
/// themselves too, and show what they said only when they fail.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether tables on stdout are coloured.
pub fn color() -> bool {
    *COLOR.get_or_init(|| {
        let when = *COLOR_WHEN.lock().unwrap_or_else(|e| e.into_inner());
        wants_color(when, std::io::stdout().is_terminal())
    })
}

/// Whether progress is shown (stderr is a terminal, no `--quiet`).
pub fn progress_shown() -> bool {
    PROGRESS.load(Ordering::Relaxed)
}

/// One progress line on stderr (`git-atlas: <what>...`), on a terminal and without `--quiet`.
/// Never on stdout: what a script parses stays clean.
pub fn progress(what: std::fmt::Arguments<'_>) {
    if PROGRESS.load(Ordering::Relaxed) {
        eprintln!("git-atlas: {what}...");
    }
}

/// Warnings the core says where it has no report to carry them (state set aside while being
/// read): `None` prints each at once, `Some` (a hook, which says at most one line) collects them.
static WARNINGS: Mutex<Option<Vec<String>>> = Mutex::new(None);

/// Say `warning` on stderr (`git-atlas: warning: …`), or keep it for the hook's one line.
pub fn warn(warning: String) {
    let mut kept = WARNINGS.lock().unwrap_or_else(|e| e.into_inner());
    match kept.as_mut() {
        Some(list) => list.push(warning),
        None => eprintln!("git-atlas: warning: {warning}"),
    }
}

/// From now on keep [`warn`]'s warnings instead of printing them.
pub fn collect_warnings() {
    let mut kept = WARNINGS.lock().unwrap_or_else(|e| e.into_inner());
    kept.get_or_insert_with(Vec::new);
}

/// The warnings kept since [`collect_warnings`].
pub fn take_warnings() -> Vec<String> {
    let mut kept = WARNINGS.lock().unwrap_or_else(|e| e.into_inner());
    kept.as_mut().map(std::mem::take).unwrap_or_default()
}

/// Whether there is someone to ask: stdin and stderr are a terminal.
pub fn can_ask() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask a yes-or-no question on the terminal (`question`, then ` [y/N] ` on stderr; one line
/// read from stdin, yes only for `y`/`yes`). `None` when there is nobody to ask: stdin or
/// stderr is not a terminal (a script, a hook).
pub fn ask(question: &str) -> Option<bool> {
    if !can_ask() {
        return None;
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    if !matches!(std::io::stdin().read_line(&mut answer), Ok(n) if n > 0) {
        // Nothing typed (end of input): what follows starts on a line of its own.
        eprintln!();
        return Some(false);
    }
    Some(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// `progress!("Starting {project}")`.
#[macro_export]
macro_rules! progress {
    ($($arg:tt)*) => { $crate::term::progress(format_args!($($arg)*)) };
}

/// `word` as one shell word, for a command line in a hint the user may paste: as it is when it
/// is plain, else single-quoted (`'it'\''s'`).
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+:@%,=".contains(c))
        && !word.starts_with('-');
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
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
    fn shell_words_paste_back_as_one_argument() {
        assert_eq!(shell_word("feature-auth"), "feature-auth");
        assert_eq!(shell_word("it's \"q\""), "'it'\\''s \"q\"'");
        assert_eq!(shell_word("$(touch x)"), "'$(touch x)'");
        assert_eq!(shell_word("-rf"), "'-rf'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn always_and_never_ignore_the_terminal() {
        assert!(wants_color(ColorWhen::Always, false));
        assert!(!wants_color(ColorWhen::Never, true));
        assert!(!wants_color(ColorWhen::Auto, false));
    }
}
