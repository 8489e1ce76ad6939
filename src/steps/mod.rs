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
/// more it has.
pub fn one_line(step: &str) -> String {
    let step = step.trim();
    let mut lines = step.lines();
    let first = lines.next().unwrap_or_default();
    match lines.count() {
        0 => first.to_string(),
        n => format!("{first} … (+{n} lines)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
