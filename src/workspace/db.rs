//! The database side of the facade: which databases a worktree has (one per variable of its
//! `.env` that names one), creating them (empty, or as a copy of the main worktree's), their
//! status, dropping them, and the drops `[database] drop_on_remove` leaves to a reconcile.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::db::url::{self, Parsed};
use crate::db::{self, Database, Failure};
use crate::error::Result;
use crate::files::dotenv::DotEnv;
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
    /// The worktree's value names the main worktree's database (e.g. a URL git-atlas could not
    /// rewrite): it has none of its own, and git-atlas never creates or drops it for it.
    Shared(Database),
}

/// What happened to one database.
#[derive(Debug)]
pub struct DbOutcome {
    pub var: String,
    pub db: Option<Database>,
    pub result: std::result::Result<Done, Failure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Created,
    /// Created as a copy of this database of the main worktree.
    Copied(String),
    Exists,
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
    /// The databases `wt` uses, one per variable of its `.env` that names one.
    pub fn databases(&self, wt: &Worktree) -> Result<Vec<WorktreeDb>> {
        let inputs = self.inputs(&wt.path)?;
        let Some((source, local)) = self.env_pair(wt, &inputs)? else {
            return Ok(Vec::new());
        };
        let main_root = self.repo.main_dir().unwrap_or_else(|| wt.path.clone());
        let mut out = Vec::new();
        for var in generate::database_vars(&source, &inputs.config.database) {
            let parsed = |env: &DotEnv| env.get(&var).and_then(url::parse);
            let main = parsed(&source).and_then(|p| place(p, &main_root).ok());
            let Some(own) = parsed(&local) else { continue };
            let own = match place(own, &wt.path) {
                Err(host) => Own::Remote(host),
                Ok(db) if !wt.is_main && main.as_ref().is_some_and(|m| m.same_as(&db)) => {
                    Own::Shared(db)
                }
                Ok(db) => Own::Db(db),
            };
            out.push(WorktreeDb { var, own, main });
        }
        Ok(out)
    }

    /// Create `wt`'s databases that do not exist yet, as copies of the main worktree's when
    /// `copy` says so. Waits up to `wait` for a server that does not accept connections yet
    /// (a container still starting).
    pub fn create_databases(
        &self,
        wt: &Worktree,
        copy: bool,
        wait: Duration,
    ) -> Result<Vec<DbOutcome>> {
        let mut outcomes = Vec::new();
        for target in self.databases(wt)? {
            let (db, result) = match &target.own {
                Own::Remote(host) => (None, Err(Failure::Remote(host.clone()))),
                Own::Shared(db) => (
                    Some(db.clone()),
                    Ok(Done::Skipped("it is the main worktree's database (the URL has no port or name git-atlas could change)".into())),
                ),
                Own::Db(db) => {
                    let main = target.main.as_ref().filter(|_| copy && !wt.is_main);
                    (Some(db.clone()), create_one(db, main, wait))
                }
            };
            if let (Some(db), Ok(Done::Created | Done::Copied(_) | Done::Exists)) = (&db, &result) {
                if !wt.is_main && matches!(target.own, Own::Db(_)) {
                    self.remember_database(&wt.name, record(&target.var, db))?;
                }
            }
            outcomes.push(DbOutcome {
                var: target.var,
                db,
                result,
            });
        }
        Ok(outcomes)
    }

    /// Drop `wt`'s own databases; never the main worktree's.
    pub fn drop_databases(&self, wt: &Worktree, force: bool) -> Result<Vec<DbOutcome>> {
        let mut outcomes = Vec::new();
        for target in self.databases(wt)? {
            let (db, result) = match &target.own {
                _ if wt.is_main => (
                    None,
                    Ok(Done::Skipped(
                        "git-atlas never drops the main worktree's databases".into(),
                    )),
                ),
                Own::Remote(host) => (None, Err(Failure::Remote(host.clone()))),
                Own::Shared(db) => (
                    Some(db.clone()),
                    Ok(Done::Skipped("it is the main worktree's database".into())),
                ),
                Own::Db(db) => (
                    Some(db.clone()),
                    db::drop(db, force).map(|dropped| {
                        if dropped {
                            Done::Dropped
                        } else {
                            Done::Missing
                        }
                    }),
                ),
            };
            outcomes.push(DbOutcome {
                var: target.var,
                db,
                result,
            });
        }
        if outcomes.iter().all(|o| o.result.is_ok()) {
            self.forget_databases(&wt.name)?;
        }
        Ok(outcomes)
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

    fn forget_databases(&self, worktree: &str) -> Result<()> {
        if !self.registry.read()?.databases.contains_key(worktree) {
            return Ok(());
        }
        self.registry.update(|reg| {
            reg.databases.shift_remove(worktree);
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
        let main = self.repo.main_dir();
        let inputs = main.as_deref().and_then(|m| self.inputs(m).ok());
        let drop_them = inputs
            .as_ref()
            .is_some_and(|i| i.config.database.drop_on_remove);
        for (worktree, records) in gone {
            let mut keep = Vec::new();
            for rec in records {
                if !drop_them {
                    continue;
                }
                let db = match self
                    .recorded_database(&rec, inputs.as_ref().and_then(|i| i.env.as_ref()))
                {
                    Some(db) => db,
                    None => continue,
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
                            "database {} of {worktree} not dropped: {e}; drop it with `git atlas db drop {worktree}`",
                            db.name()
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

    /// A recorded database, with the password the main worktree's `.env` gives that user on that
    /// server (the registry never holds one).
    fn recorded_database(&self, rec: &DbRecord, main_env: Option<&DotEnv>) -> Option<Database> {
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
        let main_server = main_env
            .and_then(|env| env.get(&rec.variable))
            .and_then(url::parse)
            .and_then(|p| match p {
                Parsed::Server { server, .. } => Some(server),
                Parsed::File { .. } => None,
            });
        if let Some(m) = main_server.filter(|m| m.user == server.user && m.engine == server.engine)
        {
            server.password = m.password;
        }
        Some(Database::Server {
            server,
            name: rec.name.clone(),
        })
    }
}

/// Create `db` (waiting up to `wait` for its server), then fill it from `main` if given. A copy
/// that fails leaves no half-filled database behind.
fn create_one(
    db: &Database,
    main: Option<&Database>,
    wait: Duration,
) -> std::result::Result<Done, Failure> {
    let deadline = Instant::now() + wait;
    let created = loop {
        match db::create(db) {
            Err(Failure::NotListening(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(Failure::Server(said))
                if said.contains("starting up") && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(500));
            }
            other => break other?,
        }
    };
    if !created {
        return Ok(Done::Exists);
    }
    let Some(main) = main else {
        return Ok(Done::Created);
    };
    match db::copy(main, db) {
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
