//! PostgreSQL through `psql` and `pg_dump`: SQL on stdin with quoted identifiers, the password in
//! `PGPASSWORD`, the maintenance database `postgres` for everything but the copy itself.

use super::client::{self, Client, Failure, Result};
use super::url::Server;

const INSTALL: &str = "postgresql-client";

/// `"name"`, doubling any `"`.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, doubling any `'` (with `standard_conforming_strings`, which every script sets).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn client(program: &str, server: &Server, database: &str) -> Result<Client> {
    let mut c = Client::new(client::find(&[program], INSTALL)?)
        .env("PGCONNECT_TIMEOUT", "5")
        .env("PGAPPNAME", "git-atlas");
    if let Some(password) = &server.password {
        c = c.env("PGPASSWORD", password.clone());
    }
    // Never ask for a password on the terminal (a hook would hang Git): fail instead.
    c = c.arg("-w");
    if program == "psql" {
        c = c
            .arg("-X")
            .arg("-q")
            .arg("-A")
            .arg("-t")
            .arg("-v")
            .arg("ON_ERROR_STOP=1");
    }
    c = c
        .arg("-h")
        .arg(&server.host)
        .arg("-p")
        .arg(server.port.to_string());
    if let Some(user) = &server.user {
        c = c.arg("-U").arg(user);
    }
    // As a connection string, so that a name with `=` in it is only ever a name.
    let conninfo = format!(
        "dbname='{}'",
        database.replace('\\', "\\\\").replace('\'', "\\'")
    );
    Ok(c.arg("-d").arg(conninfo))
}

fn sql(server: &Server, script: &str) -> Result<String> {
    let script = format!("SET standard_conforming_strings = on;\n{script}");
    client("psql", server, "postgres")?.run(&script, server)
}

/// The database's size in bytes, or `None` if it does not exist.
pub fn status(server: &Server, name: &str) -> Result<Option<u64>> {
    let out = sql(
        server,
        &format!(
            "SELECT pg_database_size(datname) FROM pg_database WHERE datname = {};",
            literal(name)
        ),
    )?;
    Ok(client::first_number(&out))
}

/// `CREATE DATABASE` (see `db::create` for "already there").
pub fn create(server: &Server, name: &str) -> Result<()> {
    sql(server, &format!("CREATE DATABASE {};", ident(name))).map(|_| ())
}

/// Copy schema and data of `from` into the existing, empty `to`, with `pg_dump` (which reads a
/// snapshot, so the source may be in use) piped into `psql`.
pub fn copy(from: &Server, from_name: &str, to: &Server, to_name: &str) -> Result<()> {
    let dump = client("pg_dump", from, from_name)?
        .arg("--no-owner")
        .arg("--no-privileges");
    let restore = client("psql", to, to_name)?;
    dump.pipe(&restore, to)
}

/// The sessions connected to `name` (other than ours), as `pid 123 (user, application)`.
fn sessions(server: &Server, name: &str) -> Result<Vec<String>> {
    let out = sql(
        server,
        &format!(
            "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), coalesce(host(client_addr), 'local') FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid();",
            literal(name)
        ),
    )?;
    Ok(out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            let app = f
                .get(2)
                .filter(|a| !a.is_empty())
                .map(|a| format!(", {a}"))
                .unwrap_or_default();
            format!(
                "pid {} ({}@{}{app})",
                f[0],
                f.get(1).unwrap_or(&""),
                f.get(3).unwrap_or(&"")
            )
        })
        .collect())
}

/// Drop the database; `false` if it did not exist. Without `force`, connections to it make
/// this fail naming them; with it, `DROP … WITH (FORCE)` ends them.
pub fn drop(server: &Server, name: &str, force: bool) -> Result<bool> {
    if status(server, name)?.is_none() {
        return Ok(false);
    }
    if !force {
        let who = sessions(server, name)?;
        if !who.is_empty() {
            return Err(Failure::InUse(who));
        }
    }
    let with = if force { " WITH (FORCE)" } else { "" };
    match sql(
        server,
        &format!("DROP DATABASE IF EXISTS {}{with};", ident(name)),
    ) {
        Ok(_) => Ok(true),
        Err(Failure::Server(said)) if said.contains("being accessed by other users") => {
            Err(Failure::InUse(sessions(server, name)?))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
