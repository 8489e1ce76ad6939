//! Running a server's own client tools (`psql`, `pg_dump`, `mariadb`, `mariadb-dump`): found on
//! `PATH`, run through `duct` with an argument vector, SQL on stdin, the password in the
//! environment or a private file that has no name (never on a command line, where `ps` shows it,
//! nor in a file a `kill -9` would leave behind), and the server's complaint turned into one line.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::url::Server;

/// Why a database operation did not happen.
#[derive(Debug)]
pub enum Failure {
    /// The URL names another machine: git-atlas only touches this machine's servers.
    Remote(String),
    /// Nothing accepts connections at the URL's address.
    NotListening(String),
    /// The client program is not installed.
    Tool {
        program: String,
        install: String,
    },
    /// The server said no: wrong password, permission denied, …
    Server(String),
    /// Connections hold the database (drop without `--force`).
    InUse(Vec<String>),
    Other(String),
}

pub type Result<T> = std::result::Result<T, Failure>;

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Remote(host) => write!(
                f,
                "the URL points at {host}, not this machine; git-atlas only touches local servers"
            ),
            Failure::NotListening(at) => write!(f, "nothing accepts connections on {at}"),
            Failure::Tool { program, install } => {
                write!(f, "{program} is not installed (install {install})")
            }
            Failure::Server(said) | Failure::Other(said) => f.write_str(said),
            Failure::InUse(who) => write!(
                f,
                "it is in use by {} connection(s): {}",
                who.len(),
                who.join(", ")
            ),
        }
    }
}

/// A client program ready to run against one server.
pub struct Client {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(&'static str, String)>,
    /// A private file holding the password, which the client inherits.
    secret: Option<Secret>,
}

/// Text for a client to read (an option file with the password) that never has a name: an
/// unlinked temporary file (`O_TMPFILE` where the file system has it), handed to the client as
/// `/dev/fd/N` on a descriptor only its child inherits. A named file, even mode 0600 and deleted
/// on drop, outlives a `kill -9` of git-atlas in the temp dir, password and all; a descriptor
/// closes with the last process that holds it.
pub struct Secret {
    file: File,
}

impl Secret {
    pub fn new(text: &[u8]) -> std::io::Result<Secret> {
        let mut file = tempfile::tempfile()?;
        // 0-2 would be replaced by the child's stdin, stdout and stderr; a clone is 3 or above.
        if file.as_raw_fd() < 3 {
            file = file.try_clone()?;
        }
        file.write_all(text)?;
        // Where `/dev/fd/N` shares the offset instead of opening the file anew (the BSDs).
        file.seek(SeekFrom::Start(0))?;
        Ok(Secret { file })
    }

    /// Where the client reads it: `/dev/fd/N`.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/dev/fd/{}", self.file.as_raw_fd()))
    }
}

/// The first program of `names` on `PATH`. Debian's and Ubuntu's `psql`, `pg_dump` and the
/// rest are one Perl script, `pg_wrapper`, that picks a version and execs it: 20 ms a call
/// (25 ms against 5 for `psql --version` here), three times in a copy. For a server it does not
/// run itself, the wrapper picks the newest version installed, which is also what reads and
/// dumps every older server: that program is run directly.
pub fn find(names: &[&str], install: &str) -> Result<PathBuf> {
    names
        .iter()
        .find_map(|n| which::which(n).ok().map(|p| past_pg_wrapper(p, n)))
        .ok_or_else(|| Failure::Tool {
            program: names.join(" or "),
            install: install.to_string(),
        })
}

/// `found`, or when it is Debian's `pg_wrapper`, the newest `/usr/lib/postgresql/<n>/bin/<name>`.
fn past_pg_wrapper(found: PathBuf, name: &str) -> PathBuf {
    let wrapper =
        std::fs::canonicalize(&found).is_ok_and(|p| p.ends_with("postgresql-common/pg_wrapper"));
    if !wrapper {
        return found;
    }
    newest_installed(Path::new("/usr/lib/postgresql"), name).unwrap_or(found)
}

/// The program `name` of the newest numbered version under `root` (`15/bin/psql` over
/// `9.6/bin/psql`).
fn newest_installed(root: &Path, name: &str) -> Option<PathBuf> {
    let version = |s: &str| -> Option<Vec<u32>> { s.split('.').map(|p| p.parse().ok()).collect() };
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v = version(e.file_name().to_str()?)?;
            let program = e.path().join("bin").join(name);
            program.is_file().then_some((v, program))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, p)| p)
}

impl Client {
    pub fn new(program: PathBuf) -> Client {
        Client {
            program,
            args: Vec::new(),
            env: Vec::new(),
            secret: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Client {
        self.args.push(arg.into());
        self
    }

    /// `arg` at position `at`, for a test that needs an option where only the first few count.
    #[cfg(test)]
    pub fn insert_arg(mut self, at: usize, arg: impl Into<OsString>) -> Client {
        self.args.insert(at, arg.into());
        self
    }

    pub fn env(mut self, key: &'static str, value: impl Into<String>) -> Client {
        self.env.push((key, value.into()));
        self
    }

    /// Hand `secret` (a private option file the arguments name by [`Secret::path`]) to the
    /// client, and keep it open as long as the client.
    pub fn secret(mut self, secret: Secret) -> Client {
        self.secret = Some(secret);
        self
    }

    fn expression(&self) -> duct::Expression {
        let mut e = duct::cmd(&self.program, &self.args);
        if let Some(secret) = &self.secret {
            // The number only: the expression runs while `self`, and so the file, is alive.
            let fd = secret.file.as_raw_fd();
            e = e.before_spawn(move |cmd| {
                crate::files::inherit(cmd, fd);
                Ok(())
            });
        }
        // Hooks run with Git's variables set; the clients have no business with them.
        for var in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
            e = e.env_remove(var);
        }
        for (k, v) in &self.env {
            e = e.env(k, v);
        }
        e
    }

    /// Run with `sql` on stdin; its output, or what the server said.
    pub fn run(&self, sql: &str, server: &Server) -> Result<String> {
        let out = self
            .expression()
            .stdin_bytes(sql.as_bytes().to_vec())
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| Failure::Other(format!("could not run {}: {e}", self.name())))?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        Err(complaint(&String::from_utf8_lossy(&out.stderr), server))
    }

    /// Run `self | into` (a dump piped into a restore), capturing both sides' errors.
    pub fn pipe(&self, into: &Client, server: &Server) -> Result<()> {
        let out = self
            .expression()
            .pipe(into.expression())
            .stdout_null()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| Failure::Other(format!("could not run {}: {e}", self.name())))?;
        if out.status.success() {
            return Ok(());
        }
        Err(complaint(&String::from_utf8_lossy(&out.stderr), server))
    }

    fn name(&self) -> String {
        self.program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The number a one-value query printed (`None` for no row: the database does not exist).
pub fn first_number(out: &str) -> Option<u64> {
    out.lines().find_map(|l| l.trim().parse().ok())
}

/// The line worth showing from a client's stderr, as a [`Failure`].
fn complaint(stderr: &str, server: &Server) -> Failure {
    let lower = stderr.to_ascii_lowercase();
    // Also a proxy that accepts and hangs up because nothing answers behind it (Docker's, for
    // a container that is still starting).
    if lower.contains("connection refused")
        || lower.contains("can't connect to server")
        || lower.contains("can't connect to mysql server")
        || lower.contains("server closed the connection unexpectedly")
        || lower.contains("connection reset by peer")
        || lower.contains("lost connection to server at 'reading initial communication packet'")
        || lower.contains("lost connection to server at 'handshake")
    {
        return Failure::NotListening(format!("{}:{}", server.host, server.port));
    }
    // psql: `psql: error: connection to server at "…", port 5432 failed: FATAL:  password …`
    // mariadb: `ERROR 1045 (28000) at line 1: Access denied for user 'x'@'localhost' (…)`
    let line = stderr
        .lines()
        .map(str::trim)
        .find(|l| {
            !l.is_empty()
                && !l.starts_with("WARNING")
                && !l.starts_with("DETAIL")
                && !l.starts_with("HINT")
        })
        .unwrap_or("the client failed without saying why");
    let said = ["FATAL:", "ERROR:"]
        .iter()
        .find_map(|m| line.rfind(m).map(|i| line[i + m.len()..].trim()))
        .unwrap_or(line);
    let said = match said.find("): ") {
        Some(i) if said.starts_with("ERROR ") => said[i + 3..].trim(),
        _ => said,
    };
    let said = said
        .strip_prefix("psql: error: ")
        .or_else(|| said.strip_prefix("pg_dump: error: "))
        .unwrap_or(said);
    Failure::Server(said.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_installed_postgresql_client_is_found_by_its_version() {
        let root = tempfile::tempdir().unwrap();
        for v in ["9.6", "15", "13", "notes"] {
            let bin = root.path().join(v).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::fs::write(bin.join("pg_dump"), "").unwrap();
        }
        std::fs::create_dir_all(root.path().join("16/bin")).unwrap();
        assert_eq!(
            newest_installed(root.path(), "pg_dump"),
            Some(root.path().join("15/bin/pg_dump"))
        );
        assert_eq!(newest_installed(root.path(), "psql"), None);
    }
    use crate::db::url::Engine;
    use std::path::Path;

    fn server() -> Server {
        Server {
            engine: Engine::Postgres,
            host: "127.0.0.1".into(),
            port: 5432,
            user: Some("atlas".into()),
            password: Some("hunter2".into()),
        }
    }

    /// The descriptors this process holds that name a file, as `/proc/self/fd` shows them.
    fn open_paths() -> Vec<String> {
        std::fs::read_dir("/proc/self/fd")
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .map(|p| p.display().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_secret_reaches_its_client_only_and_has_no_name() {
        let secret = Secret::new(b"[client]\npassword=\"hunter2\"\n").unwrap();
        let path = secret.path();
        let fd: i32 = path
            .to_str()
            .and_then(|p| p.strip_prefix("/dev/fd/"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}", path.display()));
        assert!(fd >= 3, "{fd}");
        if let Ok(target) = std::fs::read_link(format!("/proc/self/fd/{fd}")) {
            let target = target.display().to_string();
            assert!(
                target.ends_with(" (deleted)") || !Path::new(&target).exists(),
                "the secret has a name: {target}"
            );
        }
        let cat = which::which("cat").unwrap();
        let with = Client::new(cat.clone()).arg(&path).secret(secret);
        assert_eq!(
            with.run("", &server()).unwrap(),
            "[client]\npassword=\"hunter2\"\n"
        );
        // Another program git-atlas runs meanwhile does not inherit it.
        let without = Client::new(cat).arg(&path);
        assert!(without.run("", &server()).is_err());
        drop(with);
        assert!(
            !open_paths().iter().any(|p| p.contains("git-atlas-my-")),
            "{:?}",
            open_paths()
        );
    }

    #[test]
    fn complaints_become_one_line() {
        let pg = "psql: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"atlas\"\n";
        assert_eq!(
            complaint(pg, &server()).to_string(),
            "password authentication failed for user \"atlas\""
        );
        let my = "ERROR 1045 (28000): Access denied for user 'atlas'@'localhost' (using password: YES)\n";
        assert_eq!(
            complaint(my, &server()).to_string(),
            "Access denied for user 'atlas'@'localhost' (using password: YES)"
        );
        let refused = "psql: error: connection to server at \"127.0.0.1\", port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?";
        assert!(matches!(
            complaint(refused, &server()),
            Failure::NotListening(_)
        ));
        let denied = "ERROR:  permission denied to create database\n";
        assert_eq!(
            complaint(denied, &server()).to_string(),
            "permission denied to create database"
        );
    }
}
