//! Databases in the servers (or SQLite files) that connection URLs name: what a value names
//! (`url`), and creating, copying, sizing and dropping them with each engine's own tools.

pub mod client;
mod mysql;
mod postgres;
pub mod redis;
pub mod snapshot;
mod sqlite;
pub mod url;

use std::time::Duration;

pub use client::{Failure, Result};
pub use url::{Database, Engine, Server};

/// How long to wait for a server to accept a connection before saying nothing listens.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);

/// Whether `server` is one git-atlas may touch and something accepts connections there.
pub fn reachable(server: &Server) -> Result<()> {
    if !server.is_local() {
        return Err(Failure::Remote(server.host.clone()));
    }
    if server.host.starts_with('/') {
        // A Unix socket: PostgreSQL's is a file in that directory, MariaDB's is the path itself.
        let socket = match server.engine {
            Engine::Postgres => {
                std::path::Path::new(&server.host).join(format!(".s.PGSQL.{}", server.port))
            }
            _ => std::path::PathBuf::from(&server.host),
        };
        return if socket.exists() {
            Ok(())
        } else {
            Err(Failure::NotListening(socket.display().to_string()))
        };
    }
    if local_addrs(&server.host, server.port).is_none() {
        return Err(Failure::Remote(server.host.clone()));
    }
    if connect_local(&server.host, server.port, CONNECT_TIMEOUT).is_some() {
        Ok(())
    } else {
        Err(Failure::NotListening(format!(
            "{}:{}",
            server.host, server.port
        )))
    }
}

/// Where a server on this machine named `host` listens: `localhost` and `0.0.0.0` are
/// 127.0.0.1 (and `localhost` ::1 as well); `None` for a host that is no address.
pub(crate) fn local_addrs(host: &str, port: u16) -> Option<Vec<std::net::SocketAddr>> {
    let ip = match host {
        "localhost" | "0.0.0.0" => "127.0.0.1",
        h => h,
    };
    let ip: std::net::IpAddr = ip.parse().ok()?;
    let mut addrs = vec![std::net::SocketAddr::new(ip, port)];
    if host == "localhost" {
        addrs.push(std::net::SocketAddr::new(
            std::net::Ipv6Addr::LOCALHOST.into(),
            port,
        ));
    }
    Some(addrs)
}

/// A connection to the first of `host`'s [`local_addrs`] that takes one within `timeout`.
pub(crate) fn connect_local(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Option<std::net::TcpStream> {
    local_addrs(host, port)?
        .iter()
        .find_map(|a| std::net::TcpStream::connect_timeout(a, timeout).ok())
}

/// The database's size in bytes, or `None` if it does not exist.
pub fn status(db: &Database) -> Result<Option<u64>> {
    match db {
        Database::Server { server, name } => {
            reachable(server)?;
            match server.engine {
                Engine::Postgres => postgres::status(server, name),
                _ => mysql::status(server, name),
            }
        }
        Database::File { path } => sqlite::status(path),
    }
}

/// Create the database; `false` if it was already there.
pub fn create(db: &Database) -> Result<bool> {
    match db {
        Database::Server { server, name } => {
            if status(db)?.is_some() {
                return Ok(false);
            }
            let created = match server.engine {
                Engine::Postgres => postgres::create(server, name),
                _ => mysql::create(server, name),
            };
            match created {
                Ok(()) => Ok(true),
                // Created meanwhile by a parallel run (PostgreSQL's words, then MariaDB's).
                Err(Failure::Server(said))
                    if said.contains("already exists") || said.contains("database exists") =>
                {
                    Ok(false)
                }
                Err(e) => Err(e),
            }
        }
        Database::File { path } => sqlite::create(path),
    }
}

/// Fill `to`, which was just created and is empty, with the schema and data of `from`.
pub fn copy(from: &Database, to: &Database) -> Result<()> {
    match (from, to) {
        (
            Database::Server {
                server: fs,
                name: fname,
            },
            Database::Server { server: ts, .. },
        ) if fs.engine == ts.engine => {
            reachable(fs)?;
            if status(from)?.is_none() {
                return Err(Failure::Other(format!(
                    "the database to copy, {fname} ({}), does not exist",
                    fs.describe()
                )));
            }
            fill(from, to)
        }
        (Database::File { path: from }, Database::File { path: to }) => {
            if !from.is_file() {
                return Err(Failure::Other(format!(
                    "the database file to copy, {}, does not exist",
                    from.display()
                )));
            }
            sqlite::copy(from, to)
        }
        _ => Err(Failure::Other(format!(
            "cannot copy a {} database into a {} one",
            from.engine(),
            to.engine()
        ))),
    }
}

/// What the server did towards a copy ([`create_copy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCopy {
    /// The target is the server's copy of the source, made in one statement.
    Copied,
    /// The source has these sessions; the target is the server's copy of the source's
    /// snapshot, taken this long ago (when its comment says).
    FromSnapshot(Vec<String>, Option<std::time::Duration>),
    /// The server did not copy the source, for this reason; the target was created empty, for
    /// [`fill`] to fill.
    Empty(Refusal),
    /// The server did not copy the source, for this reason; nothing was created.
    Refused(Refusal),
    /// The target was there already (from before, or from a parallel run); nothing copied.
    Exists,
    /// The source does not exist.
    Missing,
}

/// Why the server did not copy a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Other sessions are connected to it (`pid 4242 (atlas@local, next-dev)` each; none
    /// listed when they were gone by the time they were asked for).
    InUse(Vec<String>),
    /// Only its owner or a superuser may copy it, and this login (the user) is neither.
    NotOwner(String),
}

/// Whether the server itself can make `to` a copy of `from`: two databases of one PostgreSQL
/// server (any login). A Unix socket counts only as itself: a cluster may listen on a socket
/// of the same port number as another's TCP one.
pub fn copies_on_server(from: &Database, to: &Database) -> bool {
    match (from, to) {
        (Database::Server { server: a, .. }, Database::Server { server: b, .. }) => {
            let socket = |s: &Server| s.host.starts_with('/');
            a.engine == Engine::Postgres
                && b.engine == Engine::Postgres
                && a.port == b.port
                && (a.host == b.host || (a.is_local() && b.is_local() && !socket(a) && !socket(b)))
        }
        _ => false,
    }
}

/// Create `to` as the server's own copy of `from` (see [`copies_on_server`]), with `to`'s
/// login, in one round trip: PostgreSQL's `CREATE DATABASE … TEMPLATE`, when no other session
/// is connected to `from`; else of `snapshot` (a git-atlas snapshot of `from`, see
/// [`snapshot::of`]) if there is one that can be copied, else `to` is created empty.
pub fn create_copy(
    from: &Database,
    to: &Database,
    snapshot: Option<&Database>,
) -> Result<ServerCopy> {
    match (from, to) {
        (Database::Server { name: fname, .. }, Database::Server { server, name })
            if copies_on_server(from, to) =>
        {
            reachable(server)?;
            let snapshot = snapshot
                .filter(|s| copies_on_server(from, s))
                .map(|s| (s.name(), fname.as_str()));
            postgres::create_copy(
                server,
                fname,
                name,
                snapshot.as_ref().map(|(s, f)| (s.as_str(), *f)),
            )
        }
        _ => Err(Failure::Other(format!(
            "{} cannot copy {} into {} by itself",
            to.place(),
            from.name(),
            to.name()
        ))),
    }
}

/// [`copy`] without its checks, for a caller that has just seen `from` there and made `to`.
pub fn fill(from: &Database, to: &Database) -> Result<()> {
    match (from, to) {
        (
            Database::Server {
                server: fs,
                name: fname,
            },
            Database::Server {
                server: ts,
                name: tname,
            },
        ) if fs.engine == ts.engine => match ts.engine {
            Engine::Postgres => postgres::copy(fs, fname, ts, tname),
            _ => mysql::copy(fs, fname, ts, tname),
        },
        _ => copy(from, to),
    }
}

/// Drop the database; `false` if it did not exist.
pub fn drop(db: &Database, force: bool) -> Result<bool> {
    match db {
        Database::Server { server, name } => {
            reachable(server)?;
            match server.engine {
                Engine::Postgres => postgres::drop(server, name, force),
                _ => mysql::drop(server, name, force),
            }
        }
        Database::File { path } => sqlite::drop(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(host: &str, port: u16, user: &str, name: &str) -> Database {
        Database::Server {
            server: Server {
                engine: Engine::Postgres,
                host: host.into(),
                port,
                user: Some(user.into()),
                password: None,
            },
            name: name.into(),
        }
    }

    #[test]
    fn the_server_copies_within_one_postgresql_server_only() {
        let main = pg("127.0.0.1", 5432, "atlas", "myapp");
        assert!(copies_on_server(
            &main,
            &pg("localhost", 5432, "other", "myapp_w")
        ));
        assert!(!copies_on_server(
            &main,
            &pg("127.0.0.1", 6260, "atlas", "myapp_w")
        ));
        // A socket directory is its own server, but for itself.
        let socket = pg("/var/run/postgresql", 5432, "atlas", "myapp");
        assert!(!copies_on_server(
            &socket,
            &pg("127.0.0.1", 5432, "atlas", "x")
        ));
        assert!(copies_on_server(
            &socket,
            &pg("/var/run/postgresql", 5432, "atlas", "x")
        ));
        let Database::Server { server, .. } = &main else {
            unreachable!()
        };
        let mysql = Database::Server {
            server: Server {
                engine: Engine::Mysql,
                ..server.clone()
            },
            name: "x".into(),
        };
        assert!(!copies_on_server(&mysql, &mysql));
        assert!(!copies_on_server(
            &main,
            &Database::File {
                path: "x.db".into()
            }
        ));
    }
}
