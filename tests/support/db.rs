//! Real database servers for the integration tests: PostgreSQL and MariaDB, driven through their
//! own command-line clients (`psql`, `mariadb`), never a library of ours.
//!
//! The servers come from the environment (`.ci/postgres.sh` and `.ci/mariadb.sh` start them
//! and export these; on a developer's machine any server with such a login will do):
//! - `GIT_ATLAS_TEST_POSTGRES`: `postgresql://<user>:<password>@<host>:<port>`, a role with
//!   CREATEDB; user and password percent-encoded, no database.
//! - `GIT_ATLAS_TEST_POSTGRES_NOCREATE`: the same for a role without CREATEDB.
//! - `GIT_ATLAS_TEST_PG_BIN`: the directory of `initdb`, `pg_ctl`, `psql`, for tests that start a
//!   throwaway cluster of their own ([`start_cluster`]).
//! - `GIT_ATLAS_TEST_MARIADB`: `mysql://<user>:<password>@<host>:<port>`, a user with ALL
//!   PRIVILEGES, no database.
//!
//! A test whose server is missing (variable unset, or no answer to `SELECT 1`) prints
//! `SKIPPED <test>: …` to stderr and passes, unless `GIT_ATLAS_REQUIRE_SERVICES=1` (as in CI),
//! where it fails instead. Passwords reach the clients through `PGPASSWORD` or a private
//! defaults file, never their command line. Tests run in parallel against one server each, so
//! every test names its databases with [`unique_name`].

use std::io::{BufRead, BufReader, Write};

use super::unavailable;
use std::ops::Deref;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The password of the `atlas` role in a [`start_cluster`] cluster when
/// `GIT_ATLAS_TEST_POSTGRES` does not say (the same awkward characters as the CI server's).
pub const DEFAULT_PASSWORD: &str = "pw with 'q' \"dq\" :@/%?#";

// ---------------------------------------------------------------------------------------------
// Skip or fail

/// The PostgreSQL server image `.ci/docker.sh` builds from this machine's binaries
/// (`$GIT_ATLAS_TEST_PG_IMAGE`), with a Docker Engine and Compose to run it.
pub fn pg_image(test: &str) -> Option<String> {
    super::docker::image(test, "GIT_ATLAS_TEST_PG_IMAGE")
}

// ---------------------------------------------------------------------------------------------
// Names and URLs

/// A fresh database base name, `<prefix>_<pid>_<n>` in `[a-z0-9_]` (the prefix lowercased, other
/// characters turned into `_`, and a leading `t` if it would not start with a letter): unique
/// per call within the process, and across the processes running at once.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut p: String = prefix
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => c,
            _ => '_',
        })
        .collect();
    if !p.starts_with(|c: char| c.is_ascii_lowercase()) {
        p.insert(0, 't');
    }
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("{p}_{}_{n}", std::process::id())
}

/// `s` with every byte but RFC 3986's unreserved characters percent-encoded.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `s` with `%XX` decoded.
pub fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} does not decode to UTF-8"))
}

/// The parts of `<scheme>://<user>:<password>@<host>[:<port>][/…]` (any path ignored), and the
/// URL without its path.
struct Url {
    host: String,
    port: u16,
    user: String,
    password: String,
    base: String,
}

fn parse_url(url: &str, schemes: &[&str], default_port: u16) -> Result<Url, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?} is not a URL"))?;
    if !schemes.contains(&scheme) {
        return Err(format!("{url:?}: scheme is not one of {schemes:?}"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (userinfo, hostport) = authority
        .rsplit_once('@')
        .ok_or_else(|| format!("{url:?} names no user"))?;
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse().map_err(|_| format!("{url:?}: bad port {p:?}"))?,
        ),
        None => (hostport, default_port),
    };
    if host.is_empty() || user.is_empty() {
        return Err(format!("{url:?} needs a user and a host"));
    }
    Ok(Url {
        host: host.to_string(),
        port,
        user: percent_decode(user)?,
        password: percent_decode(password)?,
        base: format!("{scheme}://{authority}"),
    })
}

/// `program` with `stdin` written to it; stdout without its final newline, or why it failed.
fn run(mut cmd: Command, stdin: &str) -> Result<String, String> {
    let what = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    // A client that exits early closes the pipe; its exit status and stderr tell why.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        Ok(s)
    } else {
        Err(format!(
            "{what} {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// A PostgreSQL server and a login on it.
#[derive(Clone, Debug)]
pub struct Pg {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// `postgresql://<user>:<password>@<host>:<port>`, percent-encoded, no database.
    pub url: String,
}

/// The server of `GIT_ATLAS_TEST_POSTGRES` (a role with CREATEDB), or `None` after saying why
/// `test` is skipped.
pub fn postgres(test: &str) -> Option<Pg> {
    static PROBE: OnceLock<Result<Pg, String>> = OnceLock::new();
    pg_from_env(test, "GIT_ATLAS_TEST_POSTGRES", &PROBE)
}

/// The server of `GIT_ATLAS_TEST_POSTGRES_NOCREATE` (a role without CREATEDB), or `None` after
/// saying why `test` is skipped.
pub fn postgres_nocreate(test: &str) -> Option<Pg> {
    static PROBE: OnceLock<Result<Pg, String>> = OnceLock::new();
    pg_from_env(test, "GIT_ATLAS_TEST_POSTGRES_NOCREATE", &PROBE)
}

fn pg_from_env(test: &str, var: &str, probe: &OnceLock<Result<Pg, String>>) -> Option<Pg> {
    let probed = probe.get_or_init(|| {
        let url = std::env::var(var)
            .ok()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| format!("${var} is not set"))?;
        let pg = Pg::from_url(&url)?;
        match pg.try_sql("postgres", "SELECT 1") {
            Ok(one) if one == "1" => Ok(pg),
            Ok(other) => Err(format!("SELECT 1 answered {other:?}")),
            Err(e) => Err(e),
        }
    });
    match probed {
        Ok(pg) => Some(pg.clone()),
        Err(why) => unavailable(test, &format!("PostgreSQL server ${var}"), why),
    }
}

/// The directory of the PostgreSQL server programs: `$GIT_ATLAS_TEST_PG_BIN`, else
/// /usr/lib/postgresql/15/bin, else the newest /usr/lib/postgresql/<n>/bin, else where `initdb`
/// is on PATH.
pub fn pg_bin() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("GIT_ATLAS_TEST_PG_BIN").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let debian = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(debian)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.iter().find(|(v, _)| *v == 15).or(versions.last()) {
        return Some(bin.clone());
    }
    which::which("initdb")
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
}

/// `psql` from [`pg_bin`], else from PATH.
fn psql_program() -> PathBuf {
    pg_bin()
        .map(|b| b.join("psql"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

impl Pg {
    fn from_url(url: &str) -> Result<Pg, String> {
        let u = parse_url(url, &["postgresql", "postgres"], 5432)?;
        Ok(Pg {
            host: u.host,
            port: u.port,
            user: u.user,
            password: u.password,
            url: u.base,
        })
    }

    /// The URL of database `db` on this server with this login: `<url>/<db>`.
    pub fn url_for(&self, db: &str) -> String {
        format!("{}/{db}", self.url)
    }

    /// `psql` connected to `db` as this login (the password in `PGPASSWORD`), unaligned and
    /// tuples only, stopping at the first error; nothing of the caller's `PG*` settings.
    pub fn psql(&self, db: &str) -> Command {
        let mut c = Command::new(psql_program());
        c.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &self.host,
            "-p",
        ])
        .arg(self.port.to_string())
        .args(["-U", &self.user, "-d", db]);
        for (k, _) in std::env::vars_os() {
            if k.to_str().is_some_and(|k| k.starts_with("PG")) {
                c.env_remove(k);
            }
        }
        c.env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "10")
            .env("PGAPPNAME", "git-atlas-tests");
        c
    }

    /// `sql` (any number of statements, each in its own transaction) run in `db`; the rows, one a
    /// line, columns separated by `|`; panics with psql's stderr on failure.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        self.try_sql(db, sql)
            .unwrap_or_else(|e| panic!("psql on {db} failed: {e}\n--- sql\n{sql}"))
    }

    /// Like [`Pg::sql`], with the failure (psql's stderr) as the error.
    pub fn try_sql(&self, db: &str, sql: &str) -> Result<String, String> {
        run(self.psql(db), sql)
    }

    /// Every database of the server (with `postgres`, `template0` and `template1`), sorted.
    pub fn databases(&self) -> Vec<String> {
        lines(&self.sql("postgres", "SELECT datname FROM pg_database ORDER BY 1"))
    }

    /// Does database `db` exist?
    pub fn exists(&self, db: &str) -> bool {
        self.databases().iter().any(|d| d == db)
    }

    /// `DROP DATABASE IF EXISTS db WITH (FORCE)`: gone even with sessions open on it.
    pub fn drop(&self, db: &str) {
        self.sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg_ident(db)),
        );
    }

    /// The number of sessions connected to `db`.
    pub fn sessions(&self, db: &str) -> usize {
        self.sql(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = {}",
                pg_literal(db)
            ),
        )
        .parse()
        .unwrap()
    }

    /// A session on `db` held open until the [`Held`] is dropped; already in pg_stat_activity
    /// when this returns (its `id` is its `pg_backend_pid()`).
    pub fn hold(&self, db: &str) -> Held {
        let pg = self.clone();
        Held::start(
            self.psql(db),
            "SELECT pg_backend_pid();\n",
            &format!("psql on {db}"),
            Box::new(move |id| {
                pg.try_sql(
                    "postgres",
                    &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {id}"),
                )
                .map(|n| n == "0")
            }),
        )
    }
}

/// `name` as a PostgreSQL identifier, double-quoted.
pub fn pg_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `s` as a PostgreSQL string literal.
pub fn pg_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// A throwaway PostgreSQL cluster

/// A PostgreSQL cluster of one test's own, stopped (immediately) and deleted when dropped.
/// Derefs to the [`Pg`] of its `atlas` login (so `cluster.drop(db)` is [`Pg::drop`]).
pub struct Cluster {
    pg: Pg,
    server: Server,
}

/// The server process and directory of a [`Cluster`]; stops and deletes them when dropped (a
/// part of its own so that `Cluster` has no `Drop::drop` to shadow [`Pg::drop`]).
struct Server {
    bin: PathBuf,
    dir: Option<tempfile::TempDir>,
    as_postgres: bool,
    running: bool,
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Starts a private PostgreSQL cluster on 127.0.0.1:`port` (a port the test knows to be free)
/// with the same login as `GIT_ATLAS_TEST_POSTGRES` (or `atlas` / [`DEFAULT_PASSWORD`] when
/// that is unset): CREATEDB, scram-sha-256 over TCP. Its data dir, socket and log live in a
/// temporary directory; it runs as the postgres OS user when the tests run as root, with
/// `fsync=off` and small buffers. `None` (after saying why `test` is skipped) when the server
/// programs are missing; a panic when they fail.
pub fn start_cluster(test: &str, port: u16) -> Option<Cluster> {
    const WHAT: &str = "PostgreSQL server programs ($GIT_ATLAS_TEST_PG_BIN)";
    let Some(bin) = pg_bin() else {
        return unavailable(test, WHAT, "no initdb found");
    };
    for p in ["initdb", "pg_ctl", "postgres"] {
        if !bin.join(p).exists() {
            return unavailable(test, WHAT, &format!("no {}", bin.join(p).display()));
        }
    }
    let (user, password) = match std::env::var("GIT_ATLAS_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| Pg::from_url(&u))
    {
        Some(Ok(pg)) => (pg.user, pg.password),
        Some(Err(e)) => panic!("{test}: $GIT_ATLAS_TEST_POSTGRES: {e}"),
        None => ("atlas".to_string(), DEFAULT_PASSWORD.to_string()),
    };

    let as_postgres = is_root();
    let dir = tempfile::Builder::new()
        .prefix("git-atlas-cluster-")
        .tempdir()
        .unwrap();
    let root = dir.path().to_path_buf();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    if as_postgres {
        // The postgres user must reach the directory: search permission on every parent.
        for p in root.ancestors().skip(1) {
            let mode = std::fs::metadata(p).unwrap().permissions().mode();
            if mode & 0o001 == 0 {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode | 0o111)).unwrap();
            }
        }
        let chown = Command::new("chown")
            .arg("postgres:")
            .arg(&root)
            .output()
            .unwrap();
        if !chown.status.success() {
            return unavailable(
                test,
                WHAT,
                &format!(
                    "running as root, and chown postgres: failed: {}",
                    String::from_utf8_lossy(&chown.stderr).trim_end()
                ),
            );
        }
    }
    let mut cluster = Cluster {
        pg: Pg {
            host: "127.0.0.1".to_string(),
            port,
            url: format!(
                "postgresql://{}:{}@127.0.0.1:{port}",
                percent_encode(&user),
                percent_encode(&password)
            ),
            user,
            password,
        },
        server: Server {
            bin,
            dir: Some(dir),
            as_postgres,
            running: false,
        },
    };
    let data = cluster.server.data();
    let out = cluster
        .server
        .pg_cmd("initdb")
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{test}: initdb failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='{}' -c fsync=off \
         -c full_page_writes=off -c synchronous_commit=off -c shared_buffers=16MB \
         -c max_connections=30",
        root.display()
    );
    let out = cluster
        .server
        .pg_cmd("pg_ctl")
        .arg("-D")
        .arg(&data)
        .args(["-w", "-t", "60", "-l"])
        .arg(cluster.server.log_path())
        .args(["-o", &options, "start"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    cluster.server.running = true; // whatever pg_ctl says: stop it on drop in any case
    assert!(
        out.status.success(),
        "{test}: pg_ctl start on port {port} failed: {}\n--- server log\n{}",
        String::from_utf8_lossy(&out.stderr),
        cluster.log()
    );
    // The login, as the superuser over the socket (trust); the password goes on stdin.
    let verb = if cluster.pg.user == "postgres" {
        "ALTER"
    } else {
        "CREATE"
    };
    let mut psql = Command::new(cluster.server.bin.join("psql"));
    psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(&root)
        .args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres"]);
    run(
        psql,
        &format!(
            "{verb} ROLE {} LOGIN CREATEDB PASSWORD {};\n",
            pg_ident(&cluster.pg.user),
            pg_literal(&cluster.pg.password)
        ),
    )
    .unwrap_or_else(|e| panic!("{test}: creating the login failed: {e}"));
    Some(cluster)
}

impl Cluster {
    /// The login on this cluster.
    pub fn pg(&self) -> &Pg {
        &self.pg
    }

    /// The temporary directory: `data/`, the socket, `postgres.log`.
    pub fn dir(&self) -> &Path {
        self.server.dir()
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.server.log_path()).unwrap_or_default()
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`), as a crash would; the directory
    /// stays until the drop.
    pub fn stop(&mut self) {
        self.server.stop();
    }
}

impl Server {
    fn dir(&self) -> &Path {
        self.dir.as_ref().unwrap().path()
    }

    fn data(&self) -> PathBuf {
        self.dir().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir().join("postgres.log")
    }

    /// A server program, as the postgres OS user when root, run in the cluster's directory.
    fn pg_cmd(&self, program: &str) -> Command {
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            c
        } else {
            Command::new(self.bin.join(program))
        };
        c.current_dir(self.dir());
        c
    }

    fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let _ = self
            .pg_cmd("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "-t", "30", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Deref for Cluster {
    type Target = Pg;
    fn deref(&self) -> &Pg {
        &self.pg
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// MariaDB

/// A MariaDB server and a login on it.
#[derive(Clone, Debug)]
pub struct My {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// `mysql://<user>:<password>@<host>:<port>`, percent-encoded, no database.
    pub url: String,
}

/// The server of `GIT_ATLAS_TEST_MARIADB`, or `None` after saying why `test` is skipped.
pub fn mariadb(test: &str) -> Option<My> {
    static PROBE: OnceLock<Result<My, String>> = OnceLock::new();
    const VAR: &str = "GIT_ATLAS_TEST_MARIADB";
    let probed = PROBE.get_or_init(|| {
        let url = std::env::var(VAR)
            .ok()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| format!("${VAR} is not set"))?;
        let my = My::from_url(&url)?;
        match my.try_sql("", "SELECT 1") {
            Ok(one) if one == "1" => Ok(my),
            Ok(other) => Err(format!("SELECT 1 answered {other:?}")),
            Err(e) => Err(e),
        }
    });
    match probed {
        Ok(my) => Some(my.clone()),
        Err(why) => unavailable(test, &format!("MariaDB server ${VAR}"), why),
    }
}

/// `mariadb`, else `mysql`, from PATH.
fn mariadb_program() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        which::which("mariadb")
            .or_else(|_| which::which("mysql"))
            .unwrap_or_else(|_| PathBuf::from("mariadb"))
    })
}

impl My {
    fn from_url(url: &str) -> Result<My, String> {
        let u = parse_url(url, &["mysql", "mariadb"], 3306)?;
        Ok(My {
            host: u.host,
            port: u.port,
            user: u.user,
            password: u.password,
            url: u.base,
        })
    }

    /// The URL of database `db` on this server with this login: `<url>/<db>`.
    pub fn url_for(&self, db: &str) -> String {
        format!("{}/{db}", self.url)
    }

    /// A private option file (mode 0600, removed when dropped) with this login's password, for
    /// `--defaults-extra-file=`: `[client]` and `password="…"`.
    pub fn defaults_file(&self) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new()
            .prefix("git-atlas-my-")
            .suffix(".cnf")
            .tempfile()
            .unwrap();
        // Option files take a double-quoted value with \\ and \" escaped.
        let quoted = self.password.replace('\\', "\\\\").replace('"', "\\\"");
        writeln!(f, "[client]\npassword=\"{quoted}\"").unwrap();
        f
    }

    /// `mariadb` over TCP as this login, the password in `defaults` (from
    /// [`My::defaults_file`], which must outlive the connecting), in batch mode without column
    /// names, with `db` as the default database (none when empty).
    pub fn client(&self, db: &str, defaults: &tempfile::NamedTempFile) -> Command {
        let mut c = Command::new(mariadb_program());
        // --defaults-extra-file is only honoured as the first argument.
        c.arg(format!(
            "--defaults-extra-file={}",
            defaults.path().display()
        ))
        .args(["--protocol=TCP", "-h", &self.host, "-P"])
        .arg(self.port.to_string())
        .args(["-u", &self.user, "--connect-timeout=10", "-N", "-B"]);
        if !db.is_empty() {
            c.args(["-D", db]);
        }
        c.env_remove("MYSQL_PWD").env_remove("MYSQL_HOST");
        c
    }

    /// `sql` (any number of statements) run with `db` as the default database (none when
    /// empty); the rows, one a line, columns separated by tabs; panics with the client's stderr
    /// on failure.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        self.try_sql(db, sql)
            .unwrap_or_else(|e| panic!("mariadb on {db:?} failed: {e}\n--- sql\n{sql}"))
    }

    /// Like [`My::sql`], with the failure (the client's stderr) as the error.
    pub fn try_sql(&self, db: &str, sql: &str) -> Result<String, String> {
        let defaults = self.defaults_file();
        run(self.client(db, &defaults), sql)
    }

    /// Every database of the server (with `information_schema`, `mysql`, … ), sorted.
    pub fn databases(&self) -> Vec<String> {
        lines(&self.sql(
            "",
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1",
        ))
    }

    /// Does database `db` exist?
    pub fn exists(&self, db: &str) -> bool {
        self.databases().iter().any(|d| d == db)
    }

    /// `DROP DATABASE IF EXISTS db`.
    pub fn drop(&self, db: &str) {
        self.sql("", &format!("DROP DATABASE IF EXISTS {}", my_ident(db)));
    }

    /// The number of connections whose default database is `db`.
    pub fn sessions(&self, db: &str) -> usize {
        self.sql(
            "",
            &format!(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = {}",
                my_literal(db)
            ),
        )
        .parse()
        .unwrap()
    }

    /// A connection with `db` as its default database held open until the [`Held`] is dropped;
    /// already in information_schema.PROCESSLIST when this returns (its `id` is its
    /// `CONNECTION_ID()`).
    pub fn hold(&self, db: &str) -> Held {
        let my = self.clone();
        let defaults = self.defaults_file();
        let mut client = self.client(db, &defaults);
        client.arg("--unbuffered"); // else the answer below sits in the client's buffer
        Held::start(
            client,
            "SELECT CONNECTION_ID();\n",
            &format!("mariadb on {db}"),
            Box::new(move |id| {
                my.try_sql(
                    "",
                    &format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id}"),
                )
                .map(|n| n == "0")
            }),
        )
    }
}

/// `name` as a MariaDB identifier, backquoted.
pub fn my_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `s` as a MariaDB string literal.
pub fn my_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

// ---------------------------------------------------------------------------------------------
// A held connection

/// Is the server session with this id gone?
type Gone = Box<dyn Fn(u64) -> Result<bool, String> + Send>;

/// A client process keeping one connection open; on drop the client quits (killed if it does
/// not within 5 s) and the drop waits (up to 10 s) until the server has seen the session end.
pub struct Held {
    child: Child,
    stdin: Option<ChildStdin>,
    _stdout: BufReader<ChildStdout>, // kept open: a client writing to a closed pipe would die
    /// The server's id of the session: `pg_backend_pid()` or `CONNECTION_ID()`.
    pub id: u64,
    gone: Gone,
}

impl Held {
    /// Spawns `client`, sends it `query` (which answers the session id) and reads the answer.
    fn start(mut client: Command, query: &str, what: &str, gone: Gone) -> Held {
        let mut child = client
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(query.as_bytes());
        let _ = stdin.flush();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let Ok(id) = line.trim().parse() else {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what}: could not hold a connection (answered {line:?}): {}",
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
        };
        Held {
            child,
            stdin: Some(stdin),
            _stdout: stdout,
            id,
            gone,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.stdin.take()); // end of input: the client quits and closes its session
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while (self.gone)(self.id) == Ok(false) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
