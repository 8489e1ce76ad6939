//! Snapshots of a main database, on its own server (PostgreSQL): a copy git-atlas keeps beside
//! it (`myapp__atlas_snapshot`, marked as git-atlas's by the comment on it) that new worktrees
//! are copied from by the server while the main database has sessions of its own (the server
//! copies only a database nobody is connected to). No worktree records it, so nothing that
//! drops a worktree's databases ever drops it; `git atlas db snapshot --drop` does.

use std::time::Duration;

use super::client::{Failure, Result};
use super::{postgres, Database, Engine, Refusal, ServerCopy};
use crate::files::names::snapshot_name;

/// A snapshot as the server has it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub db: Database,
    pub size: u64,
    /// Since it was taken (by the server's clock), if its comment says when.
    pub age: Option<Duration>,
}

/// What is at the name of a main database's snapshot.
#[derive(Debug, Clone)]
pub enum Found {
    Ours(Snapshot),
    /// A database git-atlas did not make (it lacks the comment): never used, replaced or dropped.
    Foreign(Database),
}

/// How a snapshot was taken: by the server, or by a dump for this reason.
pub type Taken = Option<Refusal>;

/// The snapshot database of `main` (with the suffix of one being made), on `main`'s server
/// and login; `None` for an engine whose server cannot copy a database by itself.
pub fn of(main: &Database, suffix: &str) -> Option<Database> {
    match main {
        Database::Server { server, name } if server.engine == Engine::Postgres => {
            Some(Database::Server {
                server: server.clone(),
                name: snapshot_name(name, suffix),
            })
        }
        _ => None,
    }
}

/// The snapshot of `main`, if there is a database of its name.
pub fn find(main: &Database) -> Result<Option<Found>> {
    let (
        Some(db),
        Database::Server {
            name: main_name, ..
        },
    ) = (of(main, ""), main)
    else {
        return Ok(None);
    };
    let Database::Server { server, name } = &db else {
        return Ok(None);
    };
    super::reachable(server)?;
    Ok(
        postgres::snapshot(server, name, main_name)?.map(|(size, ours, age)| {
            if ours {
                Found::Ours(Snapshot {
                    db: db.clone(),
                    size,
                    age: age.map(Duration::from_secs),
                })
            } else {
                Found::Foreign(db.clone())
            }
        }),
    )
}

/// Take (or take again) the snapshot of `main`: by the server when nothing else is connected to
/// `main`, else by a dump, once. Made under a name of its own and renamed into place, so that
/// the snapshot before it stays usable until then, and a failure leaves it as it was.
pub fn take(main: &Database) -> Result<(Snapshot, bool, Taken)> {
    let (Some(snap), Some(made)) = (of(main, ""), of(main, "_new")) else {
        return Err(Failure::Other(format!(
            "{} copies no database by itself, so a snapshot would not make copies faster",
            main.place()
        )));
    };
    let (
        Database::Server {
            server,
            name: main_name,
        },
        Database::Server {
            name: made_name, ..
        },
    ) = (main, &made)
    else {
        unreachable!("of() gives server databases for server databases");
    };
    let replaced = match find(main)? {
        Some(Found::Foreign(db)) => {
            return Err(Failure::Other(format!(
                "a database named {} exists that git-atlas did not make (it has no git-atlas snapshot comment); it is left alone",
                db.name()
            )))
        }
        Some(Found::Ours(_)) => true,
        None => false,
    };
    // What a run cut short left behind, if it is that (marked as being made), else refused.
    match postgres::snapshot(server, made_name, main_name)? {
        Some((_, true, _)) => {
            postgres::drop(server, made_name, false)?;
        }
        Some((_, false, _)) => {
            return Err(Failure::Other(format!(
                "a database named {made_name} exists that git-atlas did not make; it is left alone (drop or rename it to take a snapshot)"
            )))
        }
        None => {}
    }
    let taken = match super::create_copy(main, &made, None)? {
        ServerCopy::Copied => {
            mark(server, made_name, main_name)?;
            None
        }
        ServerCopy::Missing => {
            return Err(Failure::Other(format!(
                "the database to snapshot, {main_name} ({}), does not exist",
                server.describe()
            )))
        }
        ServerCopy::Exists | ServerCopy::FromSnapshot(..) => {
            return Err(Failure::Other(format!(
                "{made_name} was made meanwhile: is another `git atlas db snapshot` running?"
            )))
        }
        ServerCopy::Empty(why) | ServerCopy::Refused(why) => {
            // Made empty already by the server's script (`Empty`), or not yet (`Refused`).
            super::create(&made)?;
            mark(server, made_name, main_name)?;
            if let Err(e) = super::fill(main, &made) {
                let _ = postgres::drop(server, made_name, true);
                return Err(e);
            }
            Some(why)
        }
    };
    if let Err(e) = postgres::install_snapshot(server, made_name, &snap.name(), main_name) {
        let _ = postgres::drop(server, made_name, true);
        return Err(e);
    }
    match find(main)? {
        Some(Found::Ours(s)) => Ok((s, replaced, taken)),
        _ => Err(Failure::Other(format!(
            "the snapshot {} is not there after it was taken",
            snap.name()
        ))),
    }
}

/// [`postgres::mark_snapshot`], or no half-made database left behind.
fn mark(server: &super::Server, made: &str, main: &str) -> Result<()> {
    postgres::mark_snapshot(server, made, main).inspect_err(|_| {
        let _ = postgres::drop(server, made, true);
    })
}

/// Drop the snapshot of `main`; `false` if it has none. A database of that name that git-atlas
/// did not make is refused.
pub fn drop(main: &Database) -> Result<bool> {
    match find(main)? {
        None => Ok(false),
        Some(Found::Foreign(db)) => Err(Failure::Other(format!(
            "{} is no git-atlas snapshot (it has no git-atlas comment): not dropped",
            db.name()
        ))),
        Some(Found::Ours(s)) => super::drop(&s.db, false),
    }
}

/// `2 h ago`: how long ago, roughly.
pub fn ago(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..5 => "just now".into(),
        5..90 => format!("{s} s ago"),
        90..5400 => format!("{} min ago", (s + 30) / 60),
        5400..129_600 => format!("{} h ago", (s + 1800) / 3600),
        _ => format!("{} days ago", (s + 43_200) / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_roughly() {
        let ago = |s| ago(Duration::from_secs(s));
        assert_eq!(ago(5), "5 s ago");
        assert_eq!(ago(600), "10 min ago");
        assert_eq!(ago(7200), "2 h ago");
        assert_eq!(ago(3 * 86_400), "3 days ago");
    }
}
