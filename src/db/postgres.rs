//! PostgreSQL through `psql` and `pg_dump`: SQL on stdin with quoted identifiers, the password in
//! `PGPASSWORD`, the maintenance database `postgres` for everything but the copy itself.

use super::client::{self, Client, Failure, Result};
use super::url::Server;
use super::{Refusal, Templated};

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

/// The query that lists the sessions connected to `name` (other than ours), for [`sessions`].
fn sessions_sql(name: &str) -> String {
    format!(
        "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), coalesce(host(client_addr), 'local') FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid();",
        literal(name)
    )
}

/// [`sessions_sql`]'s rows as `pid 123 (user@host, application)`.
fn session_lines(out: &str) -> Vec<String> {
    out.lines()
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
        .collect()
}

/// The sessions connected to `name` (other than ours), as `pid 123 (user@host, application)`.
fn sessions(server: &Server, name: &str) -> Result<Vec<String>> {
    Ok(session_lines(&sql(server, &sessions_sql(name))?))
}

/// `55006: source database …` (what psql says with `VERBOSITY verbose`) as its SQLSTATE and
/// message.
fn sqlstate(said: &str) -> Option<(&str, &str)> {
    let (code, message) = said.split_once(": ")?;
    (code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
    .then_some((code, message))
}

/// Create `to` as the server's own copy of `from` (`CREATE DATABASE … TEMPLATE`), in one
/// script and one statement. It does nothing when `to` is there already, or when `from` has
/// sessions other than ours (the server would wait 5 s for them to leave, then refuse). A
/// session that connects between the check and the statement makes the server refuse all the
/// same (SQLSTATE 55006): the statement is the check that counts, the query only saves time.
///
/// From PostgreSQL 15 on, `STRATEGY FILE_COPY` (the server's way before 15): it copies the
/// files and checkpoints twice, where 15's default `WAL_LOG` writes every page to the WAL.
/// Measured on PostgreSQL 15.18 (2 cores, ext4, default settings): 500 MB in 0.90 s against
/// 2.65 s, 10 MB in 158 ms against 127 ms.
pub fn template(server: &Server, from: &str, to: &str) -> Result<Templated> {
    let (from_l, to_l) = (literal(from), literal(to));
    let (from_i, to_i) = (ident(from), ident(to));
    let script = format!(
        r"\set VERBOSITY verbose
SELECT EXISTS (SELECT FROM pg_database WHERE datname = {to_l}) AS atlas_exists,
  NOT EXISTS (SELECT FROM pg_database WHERE datname = {from_l}) AS atlas_missing,
  EXISTS (SELECT FROM pg_stat_activity WHERE datname = {from_l} AND pid <> pg_backend_pid()) AS atlas_busy,
  current_setting('server_version_num')::int >= 150000 AS atlas_file_copy
\gset
\if :atlas_exists
\echo exists
\elif :atlas_missing
\echo missing
\elif :atlas_busy
\echo busy
{sessions}
\elif :atlas_file_copy
CREATE DATABASE {to_i} TEMPLATE {from_i} STRATEGY FILE_COPY;
\echo copied
\else
CREATE DATABASE {to_i} TEMPLATE {from_i};
\echo copied
\endif
",
        sessions = sessions_sql(from)
    );
    match sql(server, &script) {
        Ok(out) => {
            let (first, rest) = out.split_once('\n').unwrap_or((&out, ""));
            Ok(match first.trim() {
                "exists" => Templated::Exists,
                "missing" => Templated::Missing,
                "busy" => Templated::Refused(Refusal::InUse(session_lines(rest))),
                "copied" => Templated::Copied,
                other => {
                    return Err(Failure::Other(format!(
                        "psql answered {other:?} to the copy of {from}"
                    )))
                }
            })
        }
        Err(Failure::Server(said)) => match sqlstate(&said) {
            // Another session came meanwhile (object_in_use).
            Some(("55006", _)) => Ok(Templated::Refused(Refusal::InUse(sessions(server, from)?))),
            // A parallel run created it meanwhile (duplicate_database).
            Some(("42P04", _)) => Ok(Templated::Exists),
            // Only the owner of a database that is no template, or a superuser, may copy it.
            Some(("42501", _)) => Ok(Templated::Refused(Refusal::NotOwner(
                server.user.clone().unwrap_or_else(|| "this login".into()),
            ))),
            Some(("3D000", _)) => Ok(Templated::Missing),
            Some((_, message)) => Err(Failure::Server(message.to_string())),
            None => Err(Failure::Server(said)),
        },
        Err(e) => Err(e),
    }
}

/// The size of `name`, whether it is the git-atlas snapshot of `main` (the comment
/// [`install_snapshot`] puts on it), and how many seconds ago that snapshot was taken; `None`
/// if there is no database `name`.
pub fn snapshot(
    server: &Server,
    name: &str,
    main: &str,
) -> Result<Option<(u64, bool, Option<u64>)>> {
    let prefix = literal(&snapshot_comment(main));
    let out = sql(
        server,
        &format!(
            r"SELECT pg_database_size(d.oid), coalesce(left(c.t, length({prefix})) = {prefix}, false),
  coalesce(extract(epoch FROM now() - (substring(c.t FROM ', taken (\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$')::timestamp AT TIME ZONE 'UTC'))::bigint, -1)
FROM pg_database d, LATERAL (SELECT shobj_description(d.oid, 'pg_database') AS t) c
WHERE d.datname = {};",
            literal(name)
        ),
    )?;
    let Some(row) = out.lines().find(|l| !l.trim().is_empty()) else {
        return Ok(None);
    };
    let f: Vec<&str> = row.split('|').collect();
    let size = f.first().and_then(|v| v.parse().ok()).unwrap_or(0);
    let ours = f.get(1) == Some(&"t");
    let age = f.get(2).and_then(|v| v.parse::<i64>().ok());
    Ok(Some((size, ours, age.and_then(|a| u64::try_from(a).ok()))))
}

/// `git-atlas snapshot of myapp, taken ` (the time follows): the comment that marks a snapshot.
fn snapshot_comment(main: &str) -> String {
    format!("git-atlas snapshot of {main}, taken ")
}

/// Make the copy `made` of `main` its snapshot `name`: mark it with the comment that says so
/// and when, put it in the place of the snapshot before it (dropped), under its name.
pub fn install_snapshot(server: &Server, made: &str, name: &str, main: &str) -> Result<()> {
    let script = format!(
        r"SELECT {} || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS atlas_comment
\gset
COMMENT ON DATABASE {made_i} IS :'atlas_comment';
DROP DATABASE IF EXISTS {name_i};
ALTER DATABASE {made_i} RENAME TO {name_i};
",
        literal(&snapshot_comment(main)),
        made_i = ident(made),
        name_i = ident(name)
    );
    match sql(server, &script) {
        Ok(_) => Ok(()),
        Err(Failure::Server(said)) if said.contains("being accessed by other users") => {
            Err(Failure::InUse(sessions(server, name)?))
        }
        Err(e) => Err(e),
    }
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
    fn sqlstates() {
        assert_eq!(
            sqlstate("55006: source database \"a: b\" is being accessed by other users"),
            Some((
                "55006",
                "source database \"a: b\" is being accessed by other users"
            ))
        );
        assert_eq!(
            sqlstate("42P04: database \"x\" already exists"),
            Some(("42P04", "database \"x\" already exists"))
        );
        assert_eq!(sqlstate("permission denied: to create"), None);
        assert_eq!(sqlstate("password authentication failed"), None);
    }

    #[test]
    fn quoting() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
