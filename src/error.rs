//! The one error type: a message for the user, optional hints, and the exit code it maps to.

use std::fmt;
use std::path::Path;

/// How an error ends the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The operation could not be done (exit 1).
    Failed,
    /// The command line or a template was wrong (exit 2).
    Usage,
    /// Whoever read our output went away (`git atlas list | head -1`): end quietly.
    BrokenPipe,
    /// A program we ran for the user (`git atlas exec`) ended with this code: pass it on quietly.
    Exit(u8),
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hints: Vec<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn failed(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Failed,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Usage,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// Add a line telling the user what to do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// An I/O error on `path`, phrased as `could not <what> <path>: <error>`.
    pub fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        Error::failed(format!("could not {what} {}: {err}", path.display()))
    }

    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Failed => 1,
            Kind::Usage => 2,
            Kind::BrokenPipe => 0,
            Kind::Exit(code) => i32::from(code),
        }
    }

    /// The error as the user reads it: `error: …`, then a `hint: …` line for each hint.
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        writeln!(w, "error: {self}")?;
        for hint in &self.hints {
            writeln!(w, "hint: {hint}")?;
        }
        Ok(())
    }

    /// End with `code` and say nothing more: the program we ran has spoken.
    pub fn exit(code: u8) -> Self {
        Error {
            kind: Kind::Exit(code),
            message: String::new(),
            hints: Vec::new(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            return Error {
                kind: Kind::BrokenPipe,
                message: err.to_string(),
                hints: Vec::new(),
            };
        }
        Error::failed(err.to_string())
    }
}

/// Attach a path and a verb to I/O results: `fs::read(p).at("read", p)?`.
pub trait IoContext<T> {
    fn at(self, what: &str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, what: &str, path: &Path) -> Result<T> {
        self.map_err(|err| Error::io(what, path, err))
    }
}
