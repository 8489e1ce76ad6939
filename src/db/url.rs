//! What a variable's value says about a database: a server URL (`postgresql://user:pass@host:port/
//! name`, `mysql://…`, `mariadb://…`, each also behind `jdbc:`) taken apart with its credentials
//! percent-decoded, or a SQLite file (`sqlite:///data/app.db`, `file:./dev.db`,
//! `./data/app.sqlite3`); and the name of a local MongoDB URL's database, which is renamed only.

use std::fmt;
use std::path::PathBuf;

use crate::files::{dburl, names};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mysql,
    Sqlite,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgresql",
            Engine::Mysql => "mysql",
            Engine::Sqlite => "sqlite",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Engine::Postgres => 5432,
            Engine::Mysql => 3306,
            Engine::Sqlite => 0,
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MySQL/MariaDB",
            Engine::Sqlite => "SQLite",
        })
    }
}

/// A database server and how to log in to it. The password never reaches a command line or an
/// error message: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Server {
    pub engine: Engine,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}@{}:{}",
            self.engine,
            self.user.as_deref().unwrap_or(""),
            self.host,
            self.port
        )
    }
}

impl Server {
    /// Whether the host is this machine (the only servers git-atlas touches).
    pub fn is_local(&self) -> bool {
        is_local(&self.host)
    }

    /// `PostgreSQL on 127.0.0.1:5432`.
    pub fn describe(&self) -> String {
        if self.host.contains(':') {
            format!("{} on [{}]:{}", self.engine, self.host, self.port)
        } else {
            format!("{} on {}:{}", self.engine, self.host, self.port)
        }
    }

    /// The same server at the same address and as the same user.
    pub fn same_place(&self, other: &Server) -> bool {
        self.engine == other.engine
            && self.port == other.port
            && self.user == other.user
            && (self.host == other.host || (self.is_local() && other.is_local()))
    }
}

/// One database: in a server, or a SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Server { server: Server, name: String },
    File { path: PathBuf },
}

impl Database {
    pub fn engine(&self) -> Engine {
        match self {
            Database::Server { server, .. } => server.engine,
            Database::File { .. } => Engine::Sqlite,
        }
    }

    /// The database's name, or the file's path.
    pub fn name(&self) -> String {
        match self {
            Database::Server { name, .. } => name.clone(),
            Database::File { path } => path.display().to_string(),
        }
    }

    /// `PostgreSQL on 127.0.0.1:5432`, `SQLite`.
    pub fn place(&self) -> String {
        match self {
            Database::Server { server, .. } => server.describe(),
            Database::File { .. } => "SQLite file".into(),
        }
    }

    /// Whether two values name one database (so a worktree's is really the main's).
    pub fn same_as(&self, other: &Database) -> bool {
        match (self, other) {
            (Database::Server { server: a, name: x }, Database::Server { server: b, name: y }) => {
                x == y
                    && a.engine == b.engine
                    && a.port == b.port
                    && (a.host == b.host || (a.is_local() && b.is_local()))
            }
            (Database::File { path: a }, Database::File { path: b }) => {
                a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
            }
            _ => false,
        }
    }
}

/// What a value names, before it is placed (a SQLite path is relative to the worktree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Server { server: Server, name: String },
    File { path: String },
}

/// The scheme's engine, ignoring a `+driver` suffix (`postgresql+asyncpg`).
fn server_engine(scheme: &str) -> Option<Engine> {
    let scheme = scheme
        .split('+')
        .next()
        .unwrap_or(scheme)
        .to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => Some(Engine::Postgres),
        "mysql" | "mysql2" | "mariadb" => Some(Engine::Mysql),
        _ => None,
    }
}

/// A database this value names, if it names one: a server URL with a database name, or a SQLite
/// file. `None` for anything else (Redis, HTTP, a URL without a database name, several hosts).
pub fn parse(value: &str) -> Option<Parsed> {
    let value = value.trim();
    if let Some(path) = sqlite_path(value) {
        return Some(Parsed::File {
            path: path.to_string(),
        });
    }
    // JDBC's URLs are the server's behind a `jdbc:` prefix: `jdbc:postgresql://localhost/x`.
    let (scheme, rest) = strip_jdbc(value).split_once("://")?;
    let engine = server_engine(scheme)?;
    let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_len];
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    if hostport.contains(',') {
        return None;
    }
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let end = v6.find(']')?;
        let port = v6[end + 1..].strip_prefix(':');
        (&v6[..end], port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        Some(p) if !p.is_empty() => p.parse::<u16>().ok().filter(|p| *p > 0)?,
        _ => engine.default_port(),
    };
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        decode(host)?
    };
    let (user, password) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((u, p)) => (Some(decode(u)?), Some(decode(p)?)),
            None => (Some(decode(info)?), None),
        },
        None => (None, None),
    };
    let path = rest[auth_len..].strip_prefix('/')?;
    let name_len = path.find(['/', '?', '#']).unwrap_or(path.len());
    let name = decode(&path[..name_len])?;
    if name.is_empty() {
        return None;
    }
    let mut server = Server {
        engine,
        host,
        port,
        user: user.filter(|u| !u.is_empty()),
        password,
    };
    // libpq and most drivers also take the connection from the query string.
    let query = path[name_len..]
        .split_once('?')
        .map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value)?;
        match key {
            "host" => server.host = value,
            "port" => server.port = value.parse().ok().filter(|p| *p > 0)?,
            "user" => server.user = Some(value),
            "password" => server.password = Some(value),
            // The name in the path would not be the one the application uses.
            "dbname" | "database" => return None,
            _ => {}
        }
    }
    Some(Parsed::Server { server, name })
}

/// `value` without a leading `jdbc:` (in any case).
fn strip_jdbc(value: &str) -> &str {
    match value.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("jdbc:") => &value[5..],
        _ => value,
    }
}

/// Whether `value` names a database that a worktree gets its own of: one [`parse`] understands
/// (whose server git-atlas creates it on), or a MongoDB URL on this machine with a database
/// name (which MongoDB creates on first use: renaming it is all).
pub fn names_database(value: &str) -> bool {
    parse(value).is_some() || mongo_database(value).is_some()
}

/// Where the database name of a MongoDB URL on this machine (every host of it) is written:
/// `mongodb://localhost:27017,localhost:27018/app?replicaSet=rs0` → `app`. Never a
/// `mongodb+srv://` URL: its hosts come from DNS, so it is another machine's.
fn mongo_database(value: &str) -> Option<std::ops::Range<usize>> {
    let scheme = value.trim_start().get(..10)?;
    if !scheme.eq_ignore_ascii_case("mongodb://") {
        return None;
    }
    dburl::local_database(value).map(|(_, span)| span)
}

/// The file a SQLite value names: `sqlite:///rel.db` and `sqlite:////abs.db` (SQLAlchemy),
/// `sqlite://x.db`, `sqlite:x.db`, `file:./dev.db` (Prisma), or a bare path ending in `.db`,
/// `.sqlite` or `.sqlite3`. The query string, if any, is not part of the path.
fn sqlite_path(value: &str) -> Option<&str> {
    let value = strip_jdbc(value);
    let lower = value.to_ascii_lowercase();
    let (rest, explicit) = if lower.starts_with("sqlite:") {
        (&value["sqlite:".len()..], true)
    } else if lower.starts_with("sqlite3:") {
        (&value["sqlite3:".len()..], true)
    } else if lower.starts_with("file:") {
        (&value["file:".len()..], false)
    } else if value.contains("://") || value.contains(char::is_whitespace) {
        return None;
    } else {
        (value, false)
    };
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let path = if let Some(p) = rest.strip_prefix("///") {
        // SQLAlchemy: three slashes and a relative path, four for an absolute one.
        p
    } else if let Some(p) = rest.strip_prefix("//") {
        p
    } else {
        rest
    };
    let has_ext = [".db", ".sqlite", ".sqlite3"]
        .iter()
        .any(|e| path.to_ascii_lowercase().ends_with(e));
    (!path.is_empty() && path != ":memory:" && (explicit || has_ext)).then_some(path)
}

/// `value` with the SQLite file's name made the worktree's own: `data/app.db` →
/// `data/app_feature_auth.db`. `None` when the value names no SQLite file.
pub fn rewrite_sqlite(value: &str, worktree: &str) -> Option<String> {
    let path = sqlite_path(value.trim())?;
    let start = value.find(path)?;
    let file_start = path.rfind('/').map_or(0, |i| i + 1);
    let file = &path[file_start..];
    let (stem, ext) = match file.rfind('.') {
        Some(dot) if dot > 0 => (&file[..dot], &file[dot..]),
        _ => (file, ""),
    };
    let renamed = format!("{}{ext}", names::database_name(stem, worktree));
    let at = start + file_start;
    Some(format!(
        "{}{renamed}{}",
        &value[..at],
        &value[at + file.len()..]
    ))
}

/// `value` with the database it names made the worktree's own: a local server URL's database
/// name (`…/myapp?x` → `…/myapp_feature_auth?x`, JDBC's and MongoDB's too) or a SQLite file's
/// name. `None` when the value names no database, or one on another machine (never touched).
pub fn rename(value: &str, worktree: &str) -> Option<String> {
    if let Some(name) = mongo_database(value) {
        return Some(format!(
            "{}{}{}",
            &value[..name.start],
            names::database_name(&value[name.clone()], worktree),
            &value[name.end..]
        ));
    }
    match parse(value)? {
        Parsed::File { .. } => rewrite_sqlite(value, worktree),
        Parsed::Server { server, .. } if server.is_local() => {
            let scheme_end = value.find("://")? + 3;
            let rest = &value[scheme_end..];
            let path = scheme_end + rest.find('/')?;
            let name_start = path + 1;
            let len = value[name_start..]
                .find(['/', '?', '#'])
                .unwrap_or(value.len() - name_start);
            let raw = &value[name_start..name_start + len];
            Some(format!(
                "{}{}{}",
                &value[..name_start],
                names::database_name(raw, worktree),
                &value[name_start + len..]
            ))
        }
        Parsed::Server { .. } => None,
    }
}

fn is_local(host: &str) -> bool {
    // A Unix socket (`%2Ftmp` in the URL, `?host=/tmp`) is on this machine by definition.
    if host.starts_with('/') {
        return true;
    }
    let host = host.to_ascii_lowercase();
    host == "localhost" || host == "::1" || host == "0.0.0.0" || host.starts_with("127.")
}

/// Percent-decoding; `None` if the result is not UTF-8.
pub(crate) fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(value: &str) -> (Server, String) {
        match parse(value) {
            Some(Parsed::Server { server, name }) => (server, name),
            other => panic!("{value}: {other:?}"),
        }
    }

    #[test]
    fn server_urls_with_credentials() {
        let (s, name) =
            server("postgresql://atlas:p%40ss%3Aw@127.0.0.1:5433/myapp?sslmode=disable");
        assert_eq!(s.engine, Engine::Postgres);
        assert_eq!(
            (s.host.as_str(), s.port, name.as_str()),
            ("127.0.0.1", 5433, "myapp")
        );
        assert_eq!(s.user.as_deref(), Some("atlas"));
        assert_eq!(s.password.as_deref(), Some("p@ss:w"));
        assert!(
            !format!("{s:?}").contains("p@ss"),
            "Debug shows the password"
        );
        let (s, name) = server("mysql://root@localhost/shop");
        assert_eq!(
            (s.engine, s.port, s.password, name.as_str()),
            (Engine::Mysql, 3306, None, "shop")
        );
        let (s, _) = server("postgres+asyncpg://[::1]:6000/x");
        assert_eq!((s.host.as_str(), s.port), ("::1", 6000));
        let (s, _) = server("postgresql://db.example.com:5432/x");
        assert!(!s.is_local());
        let (s, name) = server("postgresql://postgres@%2Ftmp%2Frv:56123/app");
        assert_eq!(
            (s.host.as_str(), s.port, name.as_str()),
            ("/tmp/rv", 56123, "app")
        );
        assert!(s.is_local());
        let (s, _) = server("postgresql:///app?host=/tmp/rv&port=56123&user=u&sslmode=disable");
        assert_eq!(
            (s.host.as_str(), s.port, s.user.as_deref()),
            ("/tmp/rv", 56123, Some("u"))
        );
        assert_eq!(parse("postgresql://localhost:5432/app?dbname=other"), None);
        assert_eq!(parse("postgresql://localhost:5432/"), None);
        assert_eq!(parse("redis://localhost:6379/0"), None);
        assert_eq!(parse("postgresql://a:1,b:2/x"), None);
        assert_eq!(parse("postgresql://localhost:99999/x"), None);
    }

    #[test]
    fn sqlite_values() {
        let file = |v: &str| match parse(v) {
            Some(Parsed::File { path }) => Some(path),
            _ => None,
        };
        assert_eq!(
            file("sqlite:///data/app.db").as_deref(),
            Some("data/app.db")
        );
        assert_eq!(
            file("sqlite:////var/app.db").as_deref(),
            Some("/var/app.db")
        );
        assert_eq!(
            file("sqlite:dev.sqlite3?mode=rwc").as_deref(),
            Some("dev.sqlite3")
        );
        assert_eq!(file("file:./dev.db").as_deref(), Some("./dev.db"));
        assert_eq!(
            file("./data/app.sqlite3").as_deref(),
            Some("./data/app.sqlite3")
        );
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("hello world.db"), None);
        assert_eq!(file("https://x/app.db"), None);
        assert_eq!(file("app.dbx"), None);
        assert_eq!(
            rewrite_sqlite("sqlite:///data/app.db?x=1", "feature-auth").as_deref(),
            Some("sqlite:///data/app_feature_auth.db?x=1")
        );
        assert_eq!(
            rewrite_sqlite("dev.sqlite3", "f").as_deref(),
            Some("dev_f.sqlite3")
        );
        assert_eq!(rewrite_sqlite("redis://x:1/0", "f"), None);
    }

    #[test]
    fn renames_local_databases_only() {
        assert_eq!(
            rename("postgresql://u:p@localhost:5432/myapp?x=y", "feature-auth").as_deref(),
            Some("postgresql://u:p@localhost:5432/myapp_feature_auth?x=y")
        );
        assert_eq!(
            rename("mysql://127.0.0.1/shop", "b").as_deref(),
            Some("mysql://127.0.0.1/shop_b")
        );
        assert_eq!(rename("postgresql://db.example.com:5432/myapp", "b"), None);
        assert_eq!(rename("redis://localhost:6379/0", "b"), None);
        assert_eq!(rename("data/app.db", "b").as_deref(), Some("data/app_b.db"));
    }

    #[test]
    fn jdbc_urls_are_the_servers_behind_them() {
        let (s, name) = server("jdbc:mysql://127.0.0.1:3306/shop?useSSL=false");
        assert_eq!(
            (s.engine, s.host.as_str(), s.port, name.as_str()),
            (Engine::Mysql, "127.0.0.1", 3306, "shop")
        );
        let (s, name) = server("JDBC:postgresql://localhost/x?user=u&password=p%40ss");
        assert_eq!(
            (s.engine, s.port, s.user.as_deref(), s.password.as_deref()),
            (Engine::Postgres, 5432, Some("u"), Some("p@ss"))
        );
        assert_eq!(name, "x");
        assert_eq!(
            rename("jdbc:postgresql://localhost:5432/x", "feature-auth").as_deref(),
            Some("jdbc:postgresql://localhost:5432/x_feature_auth")
        );
        assert_eq!(
            rename("jdbc:mysql://127.0.0.1:3306/shop?useSSL=false", "b").as_deref(),
            Some("jdbc:mysql://127.0.0.1:3306/shop_b?useSSL=false")
        );
        assert_eq!(rename("jdbc:postgresql://db.example.com:5432/x", "b"), None);
        assert_eq!(
            parse("jdbc:sqlite:data/dev.db"),
            Some(Parsed::File {
                path: "data/dev.db".into()
            })
        );
        assert_eq!(
            rename("jdbc:sqlite:data/dev.db", "b").as_deref(),
            Some("jdbc:sqlite:data/dev_b.db")
        );
    }

    #[test]
    fn mongodb_names_are_renamed_and_never_a_server() {
        for (value, renamed) in [
            (
                "mongodb://localhost:27017/app?replicaSet=rs0",
                "mongodb://localhost:27017/app_feature_auth?replicaSet=rs0",
            ),
            (
                "mongodb://u:p@127.0.0.1/app",
                "mongodb://u:p@127.0.0.1/app_feature_auth",
            ),
            (
                "mongodb://localhost:27017,localhost:27018/app?replicaSet=rs0",
                "mongodb://localhost:27017,localhost:27018/app_feature_auth?replicaSet=rs0",
            ),
        ] {
            assert_eq!(
                rename(value, "feature-auth").as_deref(),
                Some(renamed),
                "{value}"
            );
            assert!(names_database(value), "{value}");
            // No createdb: nothing may try to create it on a PostgreSQL or MySQL server.
            assert_eq!(parse(value), None, "{value}");
        }
        for value in [
            "mongodb+srv://u:p@cluster0.example.net/app",
            "mongodb+srv://localhost/app",
            "mongodb://db.example.com:27017/app",
            "mongodb://localhost:27017,db.example.com:27017/app?replicaSet=rs0",
            "mongodb://localhost:27017/?replicaSet=rs0",
            "mongodb://localhost:27017",
        ] {
            assert_eq!(rename(value, "b"), None, "{value}");
            assert!(!names_database(value), "{value}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a%20b%").as_deref(), Some("a b%"));
        assert_eq!(decode("%zz").as_deref(), Some("%zz"));
        assert_eq!(decode("%C3%BC").as_deref(), Some("ü"));
        assert_eq!(decode("%ff"), None);
    }
}
