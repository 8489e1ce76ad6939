//! The project's own steps: the command lines `[setup] run` and `[teardown] run` in
//! `.atlas.toml` name, run in a worktree with its values in the environment, and only once this
//! machine trusted their exact text (they are code from whoever last changed the repository).

pub mod background;
pub mod run;
pub mod trust;

pub use run::{Failed, Output};
pub use trust::Trust;

/// When a step runs: in a new worktree, or before `git atlas remove` takes one away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Setup,
    Teardown,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Teardown => "teardown",
        }
    }
}

/// `` `npm ci`, `npm run db:migrate` ``: steps as a message names them.
pub fn quoted(steps: &[String]) -> String {
    steps
        .iter()
        .map(|s| format!("`{}`", one_line(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A step as one line of a message: a multi-line script shows its first line and how many
/// more it has; control characters are shown, never sent (see [`shown`]).
pub fn one_line(step: &str) -> String {
    let step = step.trim();
    let mut lines = step.lines();
    let first = shown(lines.next().unwrap_or_default());
    match lines.count() {
        0 => first,
        1 => format!("{first} … (+1 line)"),
        n => format!("{first} … (+{n} lines)"),
    }
}

/// `line` as a terminal must show it when someone is to judge what it runs: a carriage return,
/// an escape sequence or any other control character would let the text on the screen differ
/// from the text that runs, so each is written out (`\r`, `\e`, `\x07`, `\t`).
pub fn shown(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            // Unicode's own ways to reorder or hide text.
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_would_redraw_the_screen_is_shown_not_sent() {
        assert_eq!(
            shown("touch /tmp/x #\r  setup:    npm ci\u{1b}[K"),
            "touch /tmp/x #\\r  setup:    npm ci\\e[K"
        );
        assert_eq!(shown("a\tb\u{7}"), "a\\tb\\x07");
        assert_eq!(shown("rm -rf ~ \u{202e}ic mpn"), "rm -rf ~ \\u{202e}ic mpn");
        assert_eq!(shown("npm ci && ü"), "npm ci && ü");
    }

    #[test]
    fn a_script_is_named_by_its_first_line() {
        assert_eq!(one_line("npm ci"), "npm ci");
        assert_eq!(
            one_line("set -e\nnpm ci\nnpm test\n"),
            "set -e … (+2 lines)"
        );
        assert_eq!(
            quoted(&["npm ci".into(), "make db".into()]),
            "`npm ci`, `make db`"
        );
    }
}
