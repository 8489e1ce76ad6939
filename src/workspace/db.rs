//! The database side of the facade: which databases a worktree has (one per variable of its
//! `.env` that names one), creating them (empty, or as a copy of the main worktree's), their
//! status, dropping them, and the drops `[database] drop_on_remove` leaves to a reconcile.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::db::snapshot::{self, Found, Snapshot};
use crate::db::url::{self, Parsed};
use crate::db::{self, Database, Failure, Refusal, ServerCopy};
use crate::error::Result;
use crate::files::dbvars;
use crate::files::generate;
use crate::git::repo::Worktree;
use crate::ports::registry::DbRecord;

use super::{Report, Workspace};

/// One database a worktree uses: the variable that names it, the worktree's own database, and
/// the main worktree's that it derives from.
#[derive(Debug, Clone)]
pub struct WorktreeDb {
    pub var: String,
    pub own: Own,
    pub main: Option<Database>,
}

#[derive(Debug, Clone)]
pub enum Own {
    Db(Database),
    /// On another machine: never touched.
    Remote(String),
    /// The worktree's value names one of the main worktree's databases (this variable's, when
    /// git-atlas could not rewrite the URL, or another variable's that the rewritten name hits):
    /// it has none of its own, and git-atlas never creates or drops it for it.
    Shared(Database, String),
}

/// What happened to one database.
#[derive(Debug)]
pub struct DbOutcome {
    pub var: String,
    pub db: Option<Database>,
    pub result: std::result::Result<Done, Failure>,
    /// One more line worth saying: why a copy took the slow way, or came from a snapshot.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Created,
    /// Created as a copy of this database of the main worktree.
    Copied(String),
    Exists,
    /// Already there, and not created by git-atlas for this worktree: never dropped by it.
    Foreign,
    Dropped,
    Missing,
    /// Left alone, with the reason.
    Skipped(String),
}

impl DbOutcome {
    /// The one line that says what happened (no password: none is ever in a `Database`'s text).
    pub fn line(&self, action: &str) -> String {
        let (name, place) = match &self.db {
            Some(db) => (db.name(), db.place()),
            None => (self.var.clone(), String::new()),
        };
        let at = if place.is_empty() {
            String::new()
        } else {
            format!(" ({place})")
        };
        match &self.result {
            Ok(Done::Created) => format!("Created database {name}{at}"),
            Ok(Done::Copied(from)) => format!("Created database {name} as a copy of {from}{at}"),
            Ok(Done::Exists) => format!("Database {name} already exists{at}"),
            Ok(Done::Foreign) => format!(
                "Database {name} already exists{at}; git-atlas did not create it, so it never drops it"
            ),
            Ok(Done::Dropped) => format!("Dropped database {name}{at}"),
            Ok(Done::Missing) => format!("Database {name} does not exist{at}; nothing to drop"),
            Ok(Done::Skipped(why)) => format!("Left database {name} alone ({}): {why}", self.var),
            Err(e @ Failure::Remote(_)) => format!("Left {} alone: {e}", self.var),
            Err(e) => format!("Database {name}{at} not {action}: {e}"),
        }
    }

    /// A failure worth a non-zero exit when it was asked for as a side effect (`add`, `remove`):
    /// the server said no. Nothing listening, a remote host or a missing client are reported,
    /// but are the usual state of a machine without that database server.
    pub fn is_hard_failure(&self) -> bool {
        matches!(
            self.result,
            Err(Failure::Server(_) | Failure::InUse(_) | Failure::Other(_))
        )
    }
}

/// What happened to the snapshot of one of the main worktree's databases.
#[derive(Debug)]
pub struct SnapshotOutcome {
    pub var: String,
    /// The main worktree's database (`None`: on another machine).
    pub main: Option<Database>,
    pub result: std::result::Result<Snapped, Failure>,
}

#[derive(Debug)]
pub enum Snapped {
    /// Taken (`replaced`: in the place of an older one), by the server or by a dump (why).
    Taken {
        snapshot: Snapshot,
        replaced: bool,
        dumped: Option<Refusal>,
    },
    Dropped(Database),
    /// There was none to drop.
    Missing,
    /// Left alone, with the reason.
    Skipped(String),
}

impl SnapshotOutcome {
    /// The one line that says what happened.
    pub fn line(&self) -> String {
        let Some(main) = &self.main else {
            return match &self.result {
                Err(e) => format!("Left {} alone: {e}", self.var),
                Ok(_) => format!("Left {} alone", self.var),
            };
        };
        let (name, place) = (main.name(), main.place());
        match &self.result {
            Ok(Snapped::Taken {
                snapshot,
                replaced,
                dumped,
            }) => {
                let again = if *replaced { " again" } else { "" };
                let how = match dumped {
                    None => "copied by the server".to_string(),
                    Some(why) => format!("copied by pg_dump ({})", refusal(main, why)),
                };
                format!(
                    "Took snapshot {} of {name}{again} ({place}), {how}; new worktrees are copied from it while {name} is in use",
                    snapshot.db.name()
                )
            }
            Ok(Snapped::Dropped(db)) => {
                format!("Dropped snapshot {} of {name} ({place})", db.name())
            }
            Ok(Snapped::Missing) => format!("{name} has no snapshot ({place}); nothing to drop"),
            Ok(Snapped::Skipped(why)) => format!("Left {name} alone ({}): {why}", self.var),
            Err(e) => format!("Snapshot of {name} ({place}) not made: {e}"),
        }
    }
}

/// The place a value names, with relative SQLite paths resolved against `root`.
fn place(parsed: Parsed, root: &Path) -> std::result::Result<Database, String> {
    match parsed {
        Parsed::Server { server, name } => {
            if server.is_local() {
                Ok(Database::Server { server, name })
            } else {
                Err(server.host)
            }
        }
        Parsed::File { path } => Ok(Database::File {
            path: root.join(PathBuf::from(path)),
        }),
    }
}

/// Whether `rec` names a database none of `seen` does; it joins them.
fn first_time(seen: &mut Vec<DbRecord>, rec: DbRecord) -> bool {
    if seen.iter().any(|r| r.same_database(&rec)) {
        return false;
    }
    seen.push(rec);
    true
}

fn record(var: &str, db: &Database) -> DbRecord {
    match db {
        Database::Server { server, name } => DbRecord {
            variable: var.to_string(),
            engine: server.engine.as_str().to_string(),
            host: Some(server.host.clone()),
            port: Some(server.port),
            user: server.user.clone(),
            name: name.clone(),
        },
        Database::File { path } => DbRecord {
            variable: var.to_string(),
            engine: "sqlite".into(),
            host: None,
            port: None,
            user: None,
            name: path.display().to_string(),
        },
    }
}

impl Workspace {
    /// How long creating `wt`'s databases may wait for their server: a minute when `wt`'s own
    /// Compose project publishes the port of one of them (a container that was just started
    /// takes a moment to accept clients), no wait for any other server.
    pub fn database_wait(&self, wt: &Worktree) -> Result<Duration> {
        let published: Vec<u16> = self
            .containers(std::slice::from_ref(wt), Some(wt))
            .map(|cs| cs.iter().flat_map(|(_, c)| c.host_ports()).collect())
            .unwrap_or_default();
        let serves = self.databases(wt)?.iter().any(|d| match &d.own {
            Own::Db(Database::Server { server, .. }) => published.contains(&server.port),
            _ => false,
        });
        Ok(Duration::from_secs(if serves { 60 } else { 0 }))
    }

    /// The databases `wt` uses, one per variable of its env files that names one.
    pub fn databases(&self, wt: &Worktree) -> Result<Vec<WorktreeDb>> {
        let inputs = self.inputs(&wt.path)?;
        let main_root = self.repo.main_dir().unwrap_or_else(|| wt.path.clone());
        let mut out = Vec::new();
        for pair in self.env_pairs(wt, &inputs)? {
            let (source, local) = (&pair.source, &pair.derived);
            // By variable, with a database set by variables of its own as its URL.
            let (main_values, own_values) = (dbvars::values(source), dbvars::values(local));
            // Every database the main worktree names, whatever `url_var` says: none of them may
            // become a worktree's own.
            let mains: Vec<(String, Database)> = main_values
                .iter()
                .filter_map(|(key, value)| {
                    Some((
                        key.clone(),
                        place(url::parse(value)?, &main_root.join(&pair.dir)).ok()?,
                    ))
                })
                .collect();
            for var in generate::database_vars(source, &inputs.config.database) {
                let main = mains
                    .iter()
                    .find(|(v, _)| *v == var)
                    .map(|(_, d)| d.clone());
                let own = own_values.iter().find(|(k, _)| *k == var);
                let Some(own) = own.and_then(|(_, value)| url::parse(value)) else {
                    continue;
                };
                let own = match place(own, &wt.path.join(&pair.dir)) {
                    Err(host) => Own::Remote(host),
                    Ok(db) if !wt.is_main => match mains.iter().find(|(_, m)| m.same_as(&db)) {
                        Some((main_var, _)) => {
                            Own::Shared(db, format!("{}{main_var}", pair.prefix))
                        }
                        None => Own::Db(db),
                    },
                    Ok(db) => Own::Db(db),
                };
                out.push(WorktreeDb {
                    var: format!("{}{var}", pair.prefix),
                    own,
                    main,
                });
            }
        }
        Ok(out)
    }

    /// Create `wt`'s databases that do not exist yet, as copies of the main worktree's when
    /// `copy` says so. Waits up to `wait` for a server that does not accept connections yet
    /// (a container still starting). Only what it creates is recorded as the worktree's, and so
    /// only that is ever dropped.
    pub fn create_databases(
        &self,
        wt: &Worktree,
        copy: bool,
        wait: Duration,
    ) -> Result<Vec<DbOutcome>> {
        // A SQLite file goes into the checkout: never through a path that is no longer it.
        if !self.repo.is_checkout(wt) {
            return Err(super::checkout::not_a_checkout(wt));
        }
        let recorded = self.recorded(&wt.name)?;
        let mut outcomes = Vec::new();
        // One line per database, however many variables name it.
        let mut seen: Vec<DbRecord> = Vec::new();
        for target in self.databases(wt)? {
            if let Own::Db(db) = &target.own {
                if !first_time(&mut seen, record(&target.var, db)) {
                    continue;
                }
            }
            let mut note = None;
            let (db, result) = match &target.own {
                Own::Remote(host) => (None, Err(Failure::Remote(host.clone()))),
                Own::Shared(db, main_var) => (Some(db.clone()), Ok(shared(&target.var, main_var))),
                Own::Db(db) => {
                    let main = target.main.as_ref().filter(|_| copy && !wt.is_main);
                    let (result, said) = create_one(db, main, wait);
                    note = said;
                    let result = match result {
                        Ok(Done::Exists)
                            if !wt.is_main
                                && !recorded
                                    .iter()
                                    .any(|r| r.same_database(&record(&target.var, db))) =>
                        {
                            Ok(Done::Foreign)
                        }
                        other => other,
                    };
                    (Some(db.clone()), result)
                }
            };
            if let (Some(db), Ok(Done::Created | Done::Copied(_))) = (&db, &result) {
                if !wt.is_main {
                    self.remember_database(&wt.name, record(&target.var, db))?;
                }
            }
            outcomes.push(DbOutcome {
                var: target.var,
                db,
                result,
                note,
            });
        }
        Ok(outcomes)
    }

    /// Take a snapshot of each of `main`'s (the main worktree's) PostgreSQL databases, or with
    /// `drop` drop them; one outcome per database.
    pub fn snapshot_databases(&self, main: &Worktree, drop: bool) -> Result<Vec<SnapshotOutcome>> {
        let mut outcomes = Vec::new();
        let mut seen: Vec<DbRecord> = Vec::new();
        for target in self.databases(main)? {
            let db = match target.own {
                Own::Db(db) => db,
                Own::Remote(host) => {
                    outcomes.push(SnapshotOutcome {
                        main: None,
                        var: target.var,
                        result: Err(Failure::Remote(host)),
                    });
                    continue;
                }
                Own::Shared(..) => continue,
            };
            if !first_time(&mut seen, record(&target.var, &db)) {
                continue;
            }
            let result = if snapshot::of(&db, "").is_none() {
                Ok(Snapped::Skipped(format!(
                    "only a PostgreSQL server copies a database by itself; new worktrees get a copy of {} as before",
                    db.name()
                )))
            } else if drop {
                snapshot::drop(&db).map(|dropped| match (dropped, snapshot::of(&db, "")) {
                    (true, Some(snap)) => Snapped::Dropped(snap),
                    _ => Snapped::Missing,
                })
            } else {
                crate::progress!("taking a snapshot of {}", db.name());
                snapshot::take(&db).map(|(snapshot, replaced, dumped)| Snapped::Taken {
                    snapshot,
                    replaced,
                    dumped,
                })
            };
            outcomes.push(SnapshotOutcome {
                var: target.var,
                main: Some(db),
                result,
            });
        }
        Ok(outcomes)
    }

    /// Drop the databases git-atlas created for `wt` (its registry records, so this works after
    /// the worktree's directory went too); the others it names are left alone, with a line.
    pub fn drop_databases(&self, wt: &Worktree, force: bool) -> Result<Vec<DbOutcome>> {
        if wt.is_main {
            return Ok(Vec::new());
        }
        let records = self.recorded(&wt.name)?;
        // Where the passwords are: the worktree's values, then the main's.
        let targets = self.databases(wt).unwrap_or_default();
        let mut logins: Vec<db::Server> = Vec::new();
        for t in &targets {
            if let Own::Db(Database::Server { server, .. }) = &t.own {
                logins.push(server.clone());
            }
            if let Some(Database::Server { server, .. }) = &t.main {
                logins.push(server.clone());
            }
        }
        logins.extend(self.main_logins());
        let mut outcomes = Vec::new();
        let mut left = Vec::new();
        for rec in &records {
            let Some(db) = recorded_database(rec, &logins) else {
                continue;
            };
            let result = db::drop(&db, force).map(|dropped| {
                if dropped {
                    Done::Dropped
                } else {
                    Done::Missing
                }
            });
            if result.is_err() {
                left.push(rec.clone());
            }
            outcomes.push(DbOutcome {
                var: rec.variable.clone(),
                db: Some(db),
                result,
                note: None,
            });
        }
        let mut seen: Vec<DbRecord> = records.clone();
        for t in targets {
            let db = match t.own {
                Own::Db(db) if first_time(&mut seen, record(&t.var, &db)) => db,
                _ => continue,
            };
            outcomes.push(DbOutcome {
                var: t.var,
                db: Some(db),
                result: Ok(Done::Skipped(
                    "git-atlas did not create it for this worktree, so it does not drop it".into(),
                )),
                note: None,
            });
        }
        if left.len() != records.len() {
            self.registry.update(|reg| {
                if left.is_empty() {
                    reg.databases.shift_remove(&wt.name);
                } else {
                    reg.databases.insert(wt.name.clone(), left.clone());
                }
                Ok(())
            })?;
        }
        Ok(outcomes)
    }

    /// The databases git-atlas created for the worktree `name`, by variable, as its registry
    /// records them (for a worktree whose files are gone).
    pub fn recorded_databases(&self, name: &str) -> Result<Vec<(String, Database)>> {
        let logins = self.main_logins();
        Ok(self
            .recorded(name)?
            .iter()
            .filter_map(|r| Some((r.variable.clone(), recorded_database(r, &logins)?)))
            .collect())
    }

    /// The databases git-atlas created for the worktree `name`.
    fn recorded(&self, name: &str) -> Result<Vec<DbRecord>> {
        Ok(self
            .registry
            .read()?
            .databases
            .get(name)
            .cloned()
            .unwrap_or_default())
    }

    /// The logins the main worktree's `.env` holds.
    fn main_logins(&self) -> Vec<db::Server> {
        let Some(main) = self.repo.main_dir() else {
            return Vec::new();
        };
        let Some(env) = self.inputs(&main).ok().and_then(|i| i.env.clone()) else {
            return Vec::new();
        };
        env.vars()
            .filter_map(|v| match url::parse(env.get(&v.key)?)? {
                Parsed::Server { server, .. } => Some(server),
                Parsed::File { .. } => None,
            })
            .collect()
    }

    /// `[database]` as the main worktree's `.atlas.toml` says: what a removal does is the
    /// repository's policy, not a branch's.
    pub fn database_policy(&self) -> crate::config::DatabaseConfig {
        let root = self.repo.main_dir().unwrap_or_else(|| self.here());
        self.inputs(&root)
            .map(|i| i.config.database.clone())
            .unwrap_or_default()
    }

    fn remember_database(&self, worktree: &str, rec: DbRecord) -> Result<()> {
        self.registry.update(|reg| {
            let list = reg.databases.entry(worktree.to_string()).or_default();
            if !list.contains(&rec) {
                list.retain(|r| r.variable != rec.variable);
                list.push(rec);
            }
            Ok(())
        })
    }

    /// After a reconcile: the recorded databases of worktrees Git no longer lists (a missing,
    /// prunable directory does not count) are dropped if `[database] drop_on_remove` says so,
    /// and forgotten either way.
    pub(super) fn drop_gone_databases(
        &self,
        gone: Vec<(String, Vec<DbRecord>)>,
        report: &mut Report,
    ) {
        if gone.is_empty() {
            return;
        }
        let drop_them = self.database_policy().drop_on_remove;
        let logins = if drop_them {
            self.main_logins()
        } else {
            Vec::new()
        };
        for (worktree, records) in gone {
            let mut keep = Vec::new();
            for rec in records {
                if !drop_them {
                    continue;
                }
                let Some(db) = recorded_database(&rec, &logins) else {
                    continue;
                };
                match db::drop(&db, false) {
                    Ok(true) => report.databases.push(format!(
                        "dropped database {} ({}) of {worktree}: the worktree no longer exists",
                        db.name(),
                        db.place()
                    )),
                    Ok(false) => {}
                    Err(
                        e @ (Failure::NotListening(_)
                        | Failure::Tool { .. }
                        | Failure::InUse(_)
                        | Failure::Server(_)),
                    ) => {
                        report.warnings.push(format!(
                            "database {} of {worktree} not dropped: {e}; drop it with `git atlas db drop {}`",
                            db.name(),
                            crate::term::shell_word(&worktree)
                        ));
                        keep.push(rec);
                    }
                    Err(e) => report.warnings.push(format!(
                        "database {} of {worktree} not dropped: {e}",
                        db.name()
                    )),
                }
            }
            if keep.is_empty() {
                continue;
            }
            // Taken out of the registry by the reconcile; put back what is still to drop.
            let result = self.registry.update(|reg| {
                reg.databases
                    .entry(worktree.clone())
                    .or_default()
                    .extend(keep.clone());
                Ok(())
            });
            if let Err(e) = result {
                report
                    .warnings
                    .push(format!("could not update the registry: {e}"));
            }
        }
    }
}

/// The line for a worktree whose value names the main's database of `main_var`.
fn shared(var: &str, main_var: &str) -> Done {
    Done::Skipped(if var == main_var {
        "it is the main worktree's database (git-atlas could not give the URL a name of its own)"
            .into()
    } else {
        format!("its name is the main worktree's {main_var} database")
    })
}

/// A recorded database, with the password that one of `logins` (the worktree's and the main's
/// values) gives that user on that server: the registry never holds one.
fn recorded_database(rec: &DbRecord, logins: &[db::Server]) -> Option<Database> {
    if rec.engine == "sqlite" {
        return Some(Database::File {
            path: PathBuf::from(&rec.name),
        });
    }
    let engine = match rec.engine.as_str() {
        "postgresql" => db::Engine::Postgres,
        "mysql" => db::Engine::Mysql,
        _ => return None,
    };
    let mut server = db::Server {
        engine,
        host: rec.host.clone()?,
        port: rec.port?,
        user: rec.user.clone(),
        password: None,
    };
    server.password = logins
        .iter()
        .find(|l| l.same_place(&server))
        .and_then(|l| l.password.clone());
    Some(Database::Server {
        server,
        name: rec.name.clone(),
    })
}

/// `attempt` against `db`'s server, again every half second while the server does not accept
/// connections yet (or is starting up), for up to `wait`.
fn waiting<T>(
    db: &Database,
    wait: Duration,
    mut attempt: impl FnMut() -> std::result::Result<T, Failure>,
) -> std::result::Result<T, Failure> {
    let deadline = Instant::now() + wait;
    let mut told = false;
    loop {
        match attempt() {
            Err(Failure::NotListening(_)) if Instant::now() < deadline => {
                if !std::mem::replace(&mut told, true) {
                    crate::progress!(
                        "waiting up to {} s for {} to accept connections",
                        wait.as_secs(),
                        db.place()
                    );
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(Failure::Server(said))
                if said.contains("starting up") && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(500));
            }
            other => return other,
        }
    }
}

type Created = (std::result::Result<Done, Failure>, Option<String>);

/// Create `db` (waiting up to `wait` for its server), as a copy of `main` if given, and say
/// what is worth a line. On one PostgreSQL server the server makes the copy in one statement
/// when nothing else is connected to `main`; when something is, from `main`'s snapshot if it
/// has one; else (and across servers, and for the other engines) a dump fills the new, empty
/// database. A copy that fails leaves no half-filled database behind.
fn create_one(db: &Database, main: Option<&Database>, wait: Duration) -> Created {
    let Some(main) = main else {
        let created = waiting(db, wait, || db::create(db));
        return (
            created.map(|c| if c { Done::Created } else { Done::Exists }),
            None,
        );
    };
    if !db::copies_on_server(main, db) {
        return (dumped(db, main, wait), None);
    }
    // On a terminal the progress line must be true: not for a database that is there.
    if crate::term::progress_shown() {
        match waiting(db, wait, || db::status(db)) {
            Ok(Some(_)) => return (Ok(Done::Exists), None),
            Ok(None) => {}
            Err(e) => return (Err(e), None),
        }
    }
    crate::progress!("copying database {} into {}", main.name(), db.name());
    let snap = snapshot::of(main, "");
    let why = match waiting(db, wait, || db::create_copy(main, db, snap.as_ref())) {
        Ok(ServerCopy::Copied) => return (Ok(Done::Copied(main.name())), None),
        Ok(ServerCopy::Exists) => return (Ok(Done::Exists), None),
        Ok(ServerCopy::Missing) => return (Err(missing(main)), None),
        Ok(ServerCopy::FromSnapshot(who, age)) => {
            let snap = snap.map(|s| s.name()).unwrap_or_default();
            let note = from_snapshot(main, db, &Refusal::InUse(who), &snap, age);
            return (Ok(Done::Copied(snap)), Some(note));
        }
        Ok(ServerCopy::Empty(why)) => {
            // Created empty by the server's script, in the same round trip: fill it.
            let result = filled(db, main, db::fill(main, db));
            let note = result.is_ok().then(|| slow(main, db, &why));
            return (result, note);
        }
        Ok(ServerCopy::Refused(why)) => why,
        Err(e) => return (Err(e), None),
    };
    // Refused by the statement itself (not the owner, or a session came meanwhile): the
    // snapshot may be this login's to copy.
    if let Ok(Some(Found::Ours(found))) = snapshot::find(main) {
        match db::create_copy(&found.db, db, None) {
            Ok(ServerCopy::Copied) => {
                let note = from_snapshot(main, db, &why, &found.db.name(), found.age);
                return (Ok(Done::Copied(found.db.name())), Some(note));
            }
            Ok(ServerCopy::Exists) => return (Ok(Done::Exists), None),
            // Refused too (an empty database made meanwhile is dropped): the dump.
            Ok(ServerCopy::Empty(_)) => {
                let _ = db::drop(db, true);
            }
            _ => {}
        }
    }
    let result = dumped(db, main, Duration::ZERO);
    let note = matches!(result, Ok(Done::Copied(_))).then(|| slow(main, db, &why));
    (result, note)
}

/// The note for a copy `pg_dump` made because the server would not (`why`).
fn slow(main: &Database, db: &Database, why: &Refusal) -> String {
    format!(
        "{}, so {} was copied by pg_dump, the slow way; `git atlas db snapshot` keeps a copy that new worktrees are made from in seconds while {} is in use",
        refusal(main, why),
        db.name(),
        main.name()
    )
}

/// The note for a copy of `main`'s snapshot `snap`, taken `age` ago, made because the server
/// would not copy `main` itself (`why`).
fn from_snapshot(
    main: &Database,
    db: &Database,
    why: &Refusal,
    snap: &str,
    age: Option<Duration>,
) -> String {
    let age = age
        .map(|a| format!(", taken {}", snapshot::ago(a)))
        .unwrap_or_default();
    format!(
        "{}, so {} is a copy of its snapshot {snap}{age} (`git atlas db snapshot` takes it again)",
        refusal(main, why),
        db.name()
    )
}

/// `myapp has 1 other session: pid 4242 (atlas@local, next-dev)`: why the server did not copy
/// `main`.
fn refusal(main: &Database, why: &Refusal) -> String {
    let name = main.name();
    match why {
        Refusal::InUse(who) if who.is_empty() => {
            format!("{name} had another session when the server was to copy it")
        }
        Refusal::InUse(who) => format!(
            "{name} has {} other session{}: {}",
            who.len(),
            if who.len() == 1 { "" } else { "s" },
            who.join(", ")
        ),
        Refusal::NotOwner(user) => format!(
            "the server copies {name} only for its owner or a superuser, and {user} is neither"
        ),
    }
}

fn missing(main: &Database) -> Failure {
    Failure::Other(format!(
        "copying {} failed: the database to copy, {} ({}), does not exist",
        main.name(),
        main.name(),
        main.place()
    ))
}

/// Create `db` empty, then fill it from `main` with a dump (today's way, and the only one
/// across servers).
fn dumped(db: &Database, main: &Database, wait: Duration) -> std::result::Result<Done, Failure> {
    if !waiting(db, wait, || db::create(db))? {
        return Ok(Done::Exists);
    }
    if !db::copies_on_server(main, db) {
        crate::progress!("copying database {} into {}", main.name(), db.name());
    }
    filled(db, main, db::copy(main, db))
}

/// How filling the new `db` from `main` went: copied, or failed, and then `db` is dropped again
/// (a copy that fails leaves no half-filled database behind).
fn filled(
    db: &Database,
    main: &Database,
    fill: std::result::Result<(), Failure>,
) -> std::result::Result<Done, Failure> {
    match fill {
        Ok(()) => Ok(Done::Copied(main.name())),
        Err(e) => {
            let _ = db::drop(db, true);
            Err(Failure::Other(format!(
                "copying {} failed: {e}",
                main.name()
            )))
        }
    }
}
