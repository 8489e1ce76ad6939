//! Each worktree's own database, end to end through `git atlas …` against real servers: the
//! shared-server layout (only the name changes) and the port-and-name layout (the port moves
//! with the worktree, here onto a private cluster), empty and cloned databases (PostgreSQL and
//! MariaDB, with the main database in use), `db create | drop | status`, `remove --drop-db`,
//! `[database] drop_on_remove` after Git removes a worktree on its own, the hooks, and the
//! failures: wrong password, no CREATEDB, no client tool, a remote host. SQLite needs no server.
//!
//! The servers come from `tests/support/db.rs` (`$GIT_ATLAS_TEST_POSTGRES*`,
//! `$GIT_ATLAS_TEST_MARIADB`, `$GIT_ATLAS_TEST_PG_BIN`); without them a test prints
//! `SKIPPED <test>: …` and passes, unless `GIT_ATLAS_REQUIRE_SERVICES=1` (as in CI). Tests run
//! in parallel against one server each: every test names its databases after its own
//! `unique_name` base, and a [`Cleanup`] drops them all, on success and on failure alike.

mod support;

use std::ffi::OsString;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::db::{self, unique_name, My, Pg};
use support::{bin, offset, path_with, Run, Sandbox};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A repository `root/name` with `env` as its `.env`, `toml` as its committed `.atlas.toml`
/// (none when empty), and `.env`, `.env.local` and `ignored` in its committed `.gitignore`.
fn repo(s: &Sandbox, name: &str, env: &str, toml: &str, ignored: &[&str]) -> PathBuf {
    let dir = s.repo(name, env);
    let mut gitignore = String::from(".env\n.env.local\n");
    for i in ignored {
        gitignore.push_str(i);
        gitignore.push('\n');
    }
    fs::write(dir.join(".gitignore"), gitignore).unwrap();
    let mut add = vec!["add", ".gitignore"];
    if !toml.is_empty() {
        fs::write(dir.join(".atlas.toml"), toml).unwrap();
        add.push(".atlas.toml");
    }
    s.git(&dir, &add).ok();
    s.git(&dir, &["commit", "-q", "-m", "config"]).ok();
    dir
}

const SHARED: &str = "[database]\nshared_server = true\n";
const SHARED_CLONE: &str = "[database]\nshared_server = true\nclone = true\n";

/// `run` succeeded and printed `line` as one of its lines.
fn assert_line(run: &Run, line: &str) {
    assert!(
        run.ok().lines().any(|l| l == line),
        "no line {line:?}: {run}"
    );
}

/// `git atlas …` with PATH replaced.
fn atlas_path(s: &Sandbox, cwd: &Path, path: &OsString, args: &[&str]) -> Run {
    Run::of(s.cmd("git", cwd).env("PATH", path).arg("atlas").args(args))
}

/// `PostgreSQL on 127.0.0.1:5432`, as git-atlas describes a server.
fn pg_place(pg: &Pg) -> String {
    format!("PostgreSQL on {}:{}", pg.host, pg.port)
}

fn my_place(my: &My) -> String {
    format!("MySQL/MariaDB on {}:{}", my.host, my.port)
}

/// The value of `var` in the `.env` git-atlas carried into `worktree` (the main worktree's, which
/// Git ignores, with the worktree's ports and databases).
fn env_local_var(s: &Sandbox, worktree: &str, var: &str) -> String {
    let text = fs::read_to_string(s.at(worktree).join(".env")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{var}=")))
        .unwrap_or_else(|| panic!("no {var} in {worktree}/.env:\n{text}"))
        .to_string()
}

/// Is `port` free on 127.0.0.1 right now?
fn port_free(port: u32) -> bool {
    u16::try_from(port).is_ok_and(|p| TcpListener::bind(("127.0.0.1", p)).is_ok())
}

/// Drops every database named `base` or `base_…` when dropped (on failure too), without
/// panicking: a failed test keeps its own message.
struct Cleanup {
    pg: Option<Pg>,
    my: Option<My>,
    base: String,
}

impl Cleanup {
    fn pg(pg: &Pg, base: &str) -> Cleanup {
        Cleanup {
            pg: Some(pg.clone()),
            my: None,
            base: base.to_string(),
        }
    }

    fn my(my: &My, base: &str) -> Cleanup {
        Cleanup {
            pg: None,
            my: Some(my.clone()),
            base: base.to_string(),
        }
    }

    fn ours(&self, name: &str) -> bool {
        name == self.base || name.starts_with(&format!("{}_", self.base))
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(pg) = &self.pg {
            let names = pg
                .try_sql("postgres", "SELECT datname FROM pg_database")
                .unwrap_or_default();
            for name in names.lines().filter(|n| self.ours(n)) {
                let _ = pg.try_sql(
                    "postgres",
                    &format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        db::pg_ident(name)
                    ),
                );
            }
        }
        if let Some(my) = &self.my {
            let names = my
                .try_sql("", "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
                .unwrap_or_default();
            for name in names.lines().filter(|n| self.ours(n)) {
                let _ = my.try_sql(
                    "",
                    &format!("DROP DATABASE IF EXISTS {}", db::my_ident(name)),
                );
            }
        }
    }
}

/// The main database `base` on `pg`, with a table `items` of three rows.
fn pg_main(pg: &Pg, base: &str) {
    pg.sql(
        "postgres",
        &format!("CREATE DATABASE {}", db::pg_ident(base)),
    );
    pg_main_tables(pg, base);
}

fn my_main(my: &My, base: &str) {
    my.sql("", &format!("CREATE DATABASE {}", db::my_ident(base)));
    my.sql(
        base,
        "CREATE TABLE items (id int PRIMARY KEY, name text);\
         INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');",
    );
}

const PG_ROWS: &str = "1|one\n2|two\n3|three";
const MY_ROWS: &str = "1\tone\n2\ttwo\n3\tthree";

/// A sandbox and a repository `app` whose `.env` has `DATABASE_URL` on `pg`'s database `base`.
fn pg_repo(pg: &Pg, base: &str, toml: &str) -> (Sandbox, PathBuf) {
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={}\n", pg.url_for(base)),
        toml,
        &[],
    );
    (s, repo)
}

/// A directory of spies, one per client program of `programs`: each appends its arguments to
/// `log` and runs the real program (found on PATH now). Returns the PATH with the spies first.
fn spies(s: &Sandbox, programs: &[&str], log: &Path) -> OsString {
    let dir = s.at("spies");
    fs::create_dir_all(&dir).unwrap();
    for p in programs {
        let real = which::which(p).unwrap_or_else(|e| panic!("{p} is not on PATH: {e}"));
        let spy = dir.join(p);
        fs::write(
            &spy,
            format!(
                "#!/bin/sh\nprintf '%s %s\\n' '{p}' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&spy, fs::Permissions::from_mode(0o755)).unwrap();
    }
    path_with(&[&dir, bin().parent().unwrap()])
}

/// `text` contains neither `secret` nor its percent-encoded form.
fn assert_no_secret(text: &str, secret: &str, what: &str) {
    assert!(
        !text.contains(secret) && !text.contains(&db::percent_encode(secret)),
        "{what} shows the password {secret:?}:\n{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Shared server: only the name changes

#[test]
fn shared_server_add_creates_the_worktrees_database() {
    let test = "shared_server_add_creates_the_worktrees_database";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("shared_add");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);

    let run = s.atlas(&repo, &["add", "../feature-auth"]);
    let out = run.ok();
    let own = format!("{base}_feature_auth");
    assert!(
        out.lines()
            .any(|l| l == format!("Created database {own} ({})", pg_place(&pg))),
        "{run}"
    );
    assert!(pg.exists(&own), "{own} not created: {run}");
    let url = env_local_var(&s, "feature-auth", "DATABASE_URL");
    assert!(
        url.contains(&format!("@{}:{}/", pg.host, pg.port)) && url.ends_with(&format!("/{own}")),
        "{url}"
    );
    // The main database is untouched and still the main's.
    assert_eq!(pg.sql(&base, "SELECT count(*) FROM items"), "3");
    assert_eq!(
        pg.sql(
            &own,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'items'"
        ),
        "0"
    );
}

#[test]
fn db_create_again_says_it_already_exists() {
    let test = "db_create_again_says_it_already_exists";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("create_again");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);
    s.atlas(&repo, &["add", "../feature-auth"]).ok();

    let run = s.atlas(&repo, &["db", "create", "feature-auth"]);
    assert_eq!(
        run.ok(),
        format!(
            "Database {base}_feature_auth already exists ({})\n",
            pg_place(&pg)
        ),
        "{run}"
    );
}

#[test]
fn add_with_no_db_creates_no_database() {
    let test = "add_with_no_db_creates_no_database";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("no_db");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);

    let run = s.atlas(&repo, &["add", "--no-db", "../n"]);
    let out = run.ok();
    assert!(!out.contains("database"), "{run}");
    assert!(!pg.exists(&format!("{base}_n")), "{run}");
    // The URL still names the worktree's own database, for a later `git atlas db create`.
    assert!(env_local_var(&s, "n", "DATABASE_URL").ends_with(&format!("/{base}_n")));
}

#[test]
fn worktrees_named_alike_get_distinct_databases() {
    let test = "worktrees_named_alike_get_distinct_databases";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("alike");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);

    s.atlas(&repo, &["add", "../feat-x"]).ok();
    s.atlas(&repo, &["add", "../feat_x"]).ok();
    let name = |w: &str| {
        let url = env_local_var(&s, w, "DATABASE_URL");
        url.rsplit('/').next().unwrap().to_string()
    };
    let (dash, under) = (name("feat-x"), name("feat_x"));
    assert_eq!(dash, format!("{base}_feat_x"));
    assert_ne!(dash, under);
    assert!(under.starts_with(&format!("{base}_feat_x_")), "{under}");
    assert!(pg.exists(&dash), "{dash}: {:?}", pg.databases());
    assert!(pg.exists(&under), "{under}: {:?}", pg.databases());
}

// ---------------------------------------------------------------------------------------------
// Clones

#[test]
fn postgres_clone_copies_the_main_database_while_it_is_in_use() {
    let test = "postgres_clone_copies_the_main_database_while_it_is_in_use";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pg_clone");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED_CLONE);

    let held = pg.hold(&base);
    let run = s.atlas(&repo, &["add", "../c"]);
    let own = format!("{base}_c");
    assert_line(
        &run,
        &format!(
            "Created database {own} as a copy of {base} ({})",
            pg_place(&pg)
        ),
    );
    assert_eq!(
        pg.sql(&own, "SELECT id, name FROM items ORDER BY id"),
        PG_ROWS
    );
    assert_eq!(pg.sessions(&base), 1, "the held session is still there");
    // The slow way, said once: why (the session, by its pid) and what makes it fast.
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("git-atlas: note:"))
        .collect();
    assert_eq!(notes.len(), 1, "{run}");
    assert!(
        notes[0].starts_with(&format!(
            "git-atlas: note: {base} has 1 other session: pid {} (",
            held.id
        )) && notes[0].contains(&format!("so {own} was copied by pg_dump, the slow way"))
            && notes[0].contains("`git atlas db snapshot`"),
        "{run}"
    );
    // A dump makes new tables; the server's copy would have kept the source's catalog.
    assert_ne!(items_oid(&pg, &own), items_oid(&pg, &base), "{run}");
    drop(held);
}

/// The OID of table `items` in `db`: the same in a copy the server made (`CREATE DATABASE …
/// TEMPLATE` copies the catalog as it is), a new one in a copy `pg_dump | psql` made.
fn items_oid(pg: &Pg, db: &str) -> String {
    pg.sql(db, "SELECT 'items'::regclass::oid")
}

/// A main database name with a space, quotes and a non-ASCII letter, starting with `base_`
/// (so that [`Cleanup`] finds it and everything named after it), and its URL.
fn awkward_main(pg: &Pg, base: &str) -> (String, String) {
    let main = format!("{base}_mäin \"q\" 'x'");
    pg_main(pg, &main);
    let url = pg.url_for(&db::percent_encode(&main));
    (main, url)
}

#[test]
fn postgres_clone_of_an_idle_main_is_the_servers_own_copy() {
    let test = "postgres_clone_of_an_idle_main_is_the_servers_own_copy";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pg_tpl");
    let _cleanup = Cleanup::pg(&pg, &base);
    let (main, url) = awkward_main(&pg, &base);
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={url}\n"),
        SHARED_CLONE,
        &[],
    );
    let log = s.at("clients.log");
    let path = spies(&s, &["psql", "pg_dump"], &log);

    let run = atlas_path(&s, &repo, &path, &["add", "../t"]);
    let own = format!("{main}_t");
    assert_line(
        &run,
        &format!(
            "Created database {own} as a copy of {main} ({})",
            pg_place(&pg)
        ),
    );
    assert!(!run.stderr.contains("note:"), "nothing to say: {run}");
    assert_eq!(
        pg.sql(&own, "SELECT id, name FROM items ORDER BY id"),
        PG_ROWS
    );
    // Made by the server: no pg_dump ran, and the copy has main's catalog, OIDs and all.
    let calls = fs::read_to_string(&log).unwrap();
    assert!(!calls.contains("pg_dump"), "a dump ran: {calls}");
    assert_eq!(items_oid(&pg, &own), items_oid(&pg, &main), "{run}");
    assert_no_secret(&calls, &pg.password, "a client's command line");

    // Once there, it stays as it is: main is not copied again.
    pg.sql(&main, "INSERT INTO items VALUES (4, 'four')");
    let again = s.atlas(&repo, &["db", "create", "t"]);
    assert_eq!(
        again.ok(),
        format!("Database {own} already exists ({})\n", pg_place(&pg)),
        "{again}"
    );
    assert_eq!(pg.sql(&own, "SELECT count(*) FROM items"), "3");
}

#[test]
fn parallel_clones_of_one_worktree_make_one_copy_and_no_error() {
    let test = "parallel_clones_of_one_worktree_make_one_copy_and_no_error";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pg_par");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED_CLONE);
    s.atlas(&repo, &["add", "--no-db", "../w"]).ok();
    let own = format!("{base}_w");

    // The hook and `git atlas add` of one worktree, say: four at once.
    let children: Vec<_> = (0..4)
        .map(|_| {
            s.cmd(bin(), &repo)
                .args(["db", "create", "w"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let said: Vec<String> = outs
        .iter()
        .map(|o| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .collect();
    assert!(outs.iter().all(|o| o.status.success()), "{said:#?}");
    let copies = said
        .iter()
        .filter(|t| t.contains(&format!("Created database {own} as a copy of {base} (")))
        .count();
    assert_eq!(copies, 1, "{said:#?}");
    assert_eq!(
        pg.sql(&own, "SELECT id, name FROM items ORDER BY id"),
        PG_ROWS
    );
}

#[test]
fn db_snapshot_is_what_worktrees_copy_while_main_is_in_use() {
    let test = "db_snapshot_is_what_worktrees_copy_while_main_is_in_use";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pg_snap");
    let _cleanup = Cleanup::pg(&pg, &base);
    let (main, url) = awkward_main(&pg, &base);
    let snap = format!("{main}__atlas_snapshot");
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={url}\n"),
        SHARED_CLONE,
        &[],
    );

    let run = s.atlas(&repo, &["db", "snapshot"]);
    assert_eq!(
        run.ok(),
        format!(
            "Took snapshot {snap} of {main} ({}), copied by the server; new worktrees are copied from it while {main} is in use\n",
            pg_place(&pg)
        ),
        "{run}"
    );
    assert_eq!(items_oid(&pg, &snap), items_oid(&pg, &main));
    let status = s.atlas(&repo, &["db", "status", "main"]);
    assert!(
        status
            .ok()
            .lines()
            .any(|l| l.contains(&snap) && l.contains(&format!("yes (snapshot of {main}, taken "))),
        "{status}"
    );
    let json = s.atlas(&repo, &["db", "status", "--json", "main"]);
    let doc: serde_json::Value = serde_json::from_str(&json.ok()).unwrap();
    let kinds: Vec<(&str, &str)> = doc["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["database"].as_str().unwrap(), r["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [(main.as_str(), "main"), (snap.as_str(), "snapshot")],
        "{doc:#}"
    );

    // Main moves on and is in use: a new worktree is the server's copy of the snapshot.
    pg.sql(&main, "INSERT INTO items VALUES (4, 'four')");
    let held = pg.hold(&main);
    let run = s.atlas(&repo, &["add", "../w"]);
    let own = format!("{main}_w");
    assert_line(
        &run,
        &format!(
            "Created database {own} as a copy of {snap} ({})",
            pg_place(&pg)
        ),
    );
    assert!(
        run.stderr.lines().any(|l| l.starts_with(&format!(
            "git-atlas: note: {main} has 1 other session: pid {} (",
            held.id
        )) && l.contains(&format!(
            "so {own} is a copy of its snapshot {snap}, taken "
        ))),
        "{run}"
    );
    assert_eq!(
        pg.sql(&own, "SELECT id, name FROM items ORDER BY id"),
        PG_ROWS
    );
    assert_eq!(items_oid(&pg, &own), items_oid(&pg, &main), "{run}");

    // Taken again while main is in use: by a dump, which says why; it has main's new row.
    let run = s.atlas(&repo, &["db", "snapshot"]);
    let out = run.ok();
    assert!(
        out.starts_with(&format!(
            "Took snapshot {snap} of {main} again ({}), copied by pg_dump ({main} has 1 other session: pid {} (",
            pg_place(&pg),
            held.id
        )),
        "{run}"
    );
    assert_eq!(pg.sql(&snap, "SELECT count(*) FROM items"), "4");
    drop(held);

    // Dropping worktrees' databases never drops it; `db snapshot --drop` does.
    let run = s.atlas(&repo, &["remove", "--drop-db", "w"]);
    run.ok();
    assert!(!pg.exists(&own), "{run}");
    assert!(
        pg.exists(&snap),
        "remove --drop-db dropped the snapshot: {run}"
    );
    let run = s.atlas(&repo, &["db", "drop", "--force", "main"]);
    run.fails(1);
    assert!(pg.exists(&snap), "{run}");
    let run = s.atlas(&repo, &["db", "snapshot", "--drop"]);
    assert_eq!(
        run.ok(),
        format!("Dropped snapshot {snap} of {main} ({})\n", pg_place(&pg)),
        "{run}"
    );
    assert!(!pg.exists(&snap) && pg.exists(&main), "{run}");
}

#[test]
fn a_main_database_of_another_owner_is_dumped_and_its_snapshot_copied_by_the_server() {
    let test = "a_main_database_of_another_owner_is_dumped_and_its_snapshot_copied_by_the_server";
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(cluster) = db::start_cluster(test, port) else {
        return;
    };
    // As the cluster's superuser (trust on its socket): main belongs to another role, and the
    // login may read it.
    let superuser = |db: &str, sql: &str| {
        let mut psql = std::process::Command::new(db::pg_bin().unwrap().join("psql"));
        psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(cluster.dir())
            .args(["-p", &port.to_string(), "-U", "postgres", "-d", db])
            .args(["-c", sql]);
        let out = psql.output().unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let main = "owned_app";
    superuser("postgres", "CREATE ROLE someone_else NOLOGIN");
    superuser(
        "postgres",
        &format!("CREATE DATABASE {main} OWNER someone_else"),
    );
    superuser(
        main,
        &format!(
            "GRANT CREATE ON SCHEMA public TO {}",
            db::pg_ident(&cluster.user)
        ),
    );
    pg_main_tables(&cluster, main);
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={}\n", cluster.url_for(main)),
        SHARED_CLONE,
        &[],
    );

    let run = s.atlas(&repo, &["add", "../w"]);
    assert!(
        run.ok()
            .contains(&format!("Created database {main}_w as a copy of {main} (")),
        "{run}"
    );
    assert!(
        run.stderr.contains(&format!(
            "git-atlas: note: the server copies {main} only for its owner or a superuser, and {} is neither, so {main}_w was copied by pg_dump, the slow way; `git atlas db snapshot`",
            cluster.user
        )),
        "{run}"
    );
    assert_eq!(
        cluster.sql(&format!("{main}_w"), "SELECT count(*) FROM items"),
        "3"
    );

    // The login's own snapshot is the server's to copy for it.
    s.atlas(&repo, &["db", "snapshot"]).ok();
    let run = s.atlas(&repo, &["add", "../v"]);
    let snap = format!("{main}__atlas_snapshot");
    assert!(
        run.ok()
            .contains(&format!("Created database {main}_v as a copy of {snap} (")),
        "{run}"
    );
    assert!(
        run.stderr.contains(&format!(
            "so {main}_v is a copy of its snapshot {snap}, taken "
        )),
        "{run}"
    );
    assert_eq!(
        items_oid(&cluster, &format!("{main}_v")),
        items_oid(&cluster, &snap),
        "{run}"
    );
}

/// `items` with three rows in `db`, made by the login and readable by it.
fn pg_main_tables(pg: &Pg, db: &str) {
    pg.sql(
        db,
        "CREATE TABLE items (id int PRIMARY KEY, name text);\
         INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');",
    );
}

#[test]
fn db_snapshot_leaves_a_database_it_did_not_make_alone() {
    let test = "db_snapshot_leaves_a_database_it_did_not_make_alone";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pg_snap_foreign");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let snap = format!("{base}__atlas_snapshot");
    pg.sql(
        "postgres",
        &format!("CREATE DATABASE {}", db::pg_ident(&snap)),
    );
    pg.sql(&snap, "CREATE TABLE mine (id int)");
    let (s, repo) = pg_repo(&pg, &base, SHARED_CLONE);

    for args in [&["db", "snapshot"][..], &["db", "snapshot", "--drop"]] {
        let run = s.atlas(&repo, args);
        let err = run.fails(1);
        assert!(
            err.contains(&snap)
                && (err.contains("git-atlas did not make")
                    || err.contains("is no git-atlas snapshot")),
            "{run}"
        );
        assert_eq!(pg.sql(&snap, "SELECT count(*) FROM mine"), "0", "{run}");
    }
    // Nor is it what a worktree is copied from while main is in use.
    let held = pg.hold(&base);
    let run = s.atlas(&repo, &["add", "../w"]);
    assert!(
        run.ok().contains(&format!("as a copy of {base} (")),
        "{run}"
    );
    drop(held);

    // Nor one of the name a snapshot is made under; one marked as being made (a run cut short)
    // is taken over.
    pg.drop(&snap);
    let made = format!("{base}__atlas_snapshot_new");
    pg.sql(
        "postgres",
        &format!("CREATE DATABASE {}", db::pg_ident(&made)),
    );
    let run = s.atlas(&repo, &["db", "snapshot"]);
    assert!(
        run.fails(1).contains(&format!(
            "a database named {made} exists that git-atlas did not make"
        )),
        "{run}"
    );
    assert!(pg.exists(&made) && !pg.exists(&snap), "{run}");
    pg.sql(
        "postgres",
        &format!(
            "COMMENT ON DATABASE {} IS {}",
            db::pg_ident(&made),
            db::pg_literal(&format!("git-atlas snapshot of {base}, taken (being made)"))
        ),
    );
    let run = s.atlas(&repo, &["db", "snapshot"]);
    assert!(
        run.ok()
            .starts_with(&format!("Took snapshot {snap} of {base} (")),
        "{run}"
    );
    assert!(!pg.exists(&made) && pg.exists(&snap), "{run}");
}

#[test]
fn a_clone_says_what_it_copies_on_a_terminal_only() {
    let test = "a_clone_says_what_it_copies_on_a_terminal_only";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pg_progress");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED_CLONE);
    let line = format!("git-atlas: copying database {base} into {base}_t...");

    let Some(tty) = s.on_tty(&repo, &[], "atlas add ../t") else {
        return;
    };
    assert!(tty.stdout.contains(&format!("{line}\r\n")), "{tty}");
    assert!(pg.exists(&format!("{base}_t")));
    let piped = s.atlas(&repo, &["add", "../p"]).success();
    assert!(!piped.stderr.contains("copying database"), "{piped}");
}

#[test]
fn mariadb_clone_copies_the_main_database_while_it_is_in_use() {
    let test = "mariadb_clone_copies_the_main_database_while_it_is_in_use";
    let Some(my) = db::mariadb(test) else { return };
    let base = unique_name("my_clone");
    let _cleanup = Cleanup::my(&my, &base);
    my_main(&my, &base);
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={}\n", my.url_for(&base)),
        SHARED_CLONE,
        &[],
    );

    let held = my.hold(&base);
    let run = s.atlas(&repo, &["add", "../c"]);
    let own = format!("{base}_c");
    assert_line(
        &run,
        &format!(
            "Created database {own} as a copy of {base} ({})",
            my_place(&my)
        ),
    );
    assert_eq!(
        my.sql(&own, "SELECT id, name FROM items ORDER BY id"),
        MY_ROWS
    );
    let url = env_local_var(&s, "c", "DATABASE_URL");
    assert!(
        url.starts_with("mysql://") && url.ends_with(&format!("/{own}")),
        "{url}"
    );
    drop(held);
}

// ---------------------------------------------------------------------------------------------
// Dropping

#[test]
fn remove_with_drop_db_drops_the_database() {
    let test = "remove_with_drop_db_drops_the_database";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("rm_drop");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);
    s.atlas(&repo, &["add", "../feature-auth"]).ok();
    let own = format!("{base}_feature_auth");
    assert!(pg.exists(&own));

    let run = s.atlas(&repo, &["remove", "--drop-db", "feature-auth"]);
    let out = run.ok();
    assert!(
        out.lines()
            .any(|l| l == format!("Dropped database {own} ({})", pg_place(&pg))),
        "{run}"
    );
    assert!(!pg.exists(&own), "{run}");
    assert!(!s.at("feature-auth").exists(), "{run}");
    assert!(pg.exists(&base), "the main database went too: {run}");
}

#[test]
fn two_variables_naming_one_database_create_and_drop_it_once() {
    // Prisma's layout (documenso, cal.com): DATABASE_URL and DIRECT_URL name the same database.
    let test = "two_variables_naming_one_database_create_and_drop_it_once";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("two_vars");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let s = Sandbox::new();
    let url = pg.url_for(&base);
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={url}\nDIRECT_URL={url}\n"),
        SHARED,
        &[],
    );
    let own = format!("{base}_feature_auth");
    let said = |run: &Run| -> Vec<String> {
        run.stdout
            .lines()
            .chain(run.stderr.lines())
            .filter(|l| l.contains(&own))
            .map(String::from)
            .collect()
    };

    let added = s.atlas(&repo, &["add", "../feature-auth"]);
    added.ok();
    assert_eq!(
        said(&added),
        [format!("Created database {own} ({})", pg_place(&pg))],
        "{added}"
    );
    assert!(pg.exists(&own));
    let again = s.atlas(&repo, &["db", "create", "feature-auth"]);
    again.ok();
    assert_eq!(
        said(&again),
        [format!("Database {own} already exists ({})", pg_place(&pg))],
        "{again}"
    );

    let removed = s.atlas(&repo, &["remove", "--drop-db", "feature-auth"]);
    removed.ok();
    assert_eq!(
        said(&removed),
        [format!("Dropped database {own} ({})", pg_place(&pg))],
        "{removed}"
    );
    assert!(!pg.exists(&own), "{removed}");
}

#[test]
fn remove_with_drop_db_keeps_the_worktree_while_its_database_is_in_use() {
    let test = "remove_with_drop_db_keeps_the_worktree_while_its_database_is_in_use";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("rm_inuse");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);
    s.atlas(&repo, &["add", "../w"]).ok();
    let own = format!("{base}_w");

    let held = pg.hold(&own);
    let run = s.atlas(&repo, &["remove", "--drop-db", "w"]);
    let err = run.fails(1);
    assert!(
        err.contains(&format!("in use by 1 connection(s): pid {}", held.id))
            && err.contains("w was not removed"),
        "{run}"
    );
    assert!(s.at("w").exists(), "the worktree went: {run}");
    assert!(pg.exists(&own), "{run}");

    let run = s.atlas(&repo, &["remove", "--drop-db", "--force", "w"]);
    let out = run.ok();
    assert!(
        out.lines()
            .any(|l| l == format!("Dropped database {own} ({})", pg_place(&pg))),
        "{run}"
    );
    assert!(!pg.exists(&own) && !s.at("w").exists(), "{run}");
    drop(held);
}

#[test]
fn remove_without_drop_db_keeps_the_database() {
    let test = "remove_without_drop_db_keeps_the_database";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("rm_keep");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);
    s.atlas(&repo, &["add", "../feature-auth"]).ok();

    let run = s.atlas(&repo, &["remove", "feature-auth"]);
    let out = run.ok();
    assert!(!out.contains("Dropped"), "{run}");
    assert!(!s.at("feature-auth").exists(), "{run}");
    assert!(pg.exists(&format!("{base}_feature_auth")), "{run}");
}

#[test]
fn postgres_db_drop_refuses_a_database_in_use_until_forced() {
    let test = "postgres_db_drop_refuses_a_database_in_use_until_forced";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pg_inuse");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);
    s.atlas(&repo, &["add", "../w"]).ok();
    let own = format!("{base}_w");

    let held = pg.hold(&own);
    let run = s.atlas(&repo, &["db", "drop", "w"]);
    let err = run.fails(1);
    assert!(
        err.contains(&format!("in use by 1 connection(s): pid {}", held.id)),
        "{run}"
    );
    assert!(err.contains("git atlas db drop --force w"), "{run}");
    assert!(pg.exists(&own), "{run}");

    let run = s.atlas(&repo, &["db", "drop", "--force", "w"]);
    assert_eq!(
        run.ok(),
        format!("Dropped database {own} ({})\n", pg_place(&pg)),
        "{run}"
    );
    assert!(!pg.exists(&own), "{run}");
    drop(held);
}

#[test]
fn mariadb_db_drop_refuses_a_database_in_use_until_forced() {
    let test = "mariadb_db_drop_refuses_a_database_in_use_until_forced";
    let Some(my) = db::mariadb(test) else { return };
    let base = unique_name("my_inuse");
    let _cleanup = Cleanup::my(&my, &base);
    my_main(&my, &base);
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={}\n", my.url_for(&base)),
        SHARED,
        &[],
    );
    s.atlas(&repo, &["add", "../w"]).ok();
    let own = format!("{base}_w");
    assert!(my.exists(&own));

    let held = my.hold(&own);
    let run = s.atlas(&repo, &["db", "drop", "w"]);
    let err = run.fails(1);
    assert!(
        err.contains(&format!("in use by 1 connection(s): id {}", held.id)),
        "{run}"
    );
    assert!(err.contains("git atlas db drop --force w"), "{run}");
    assert!(my.exists(&own), "{run}");

    let run = s.atlas(&repo, &["db", "drop", "--force", "w"]);
    assert_eq!(
        run.ok(),
        format!("Dropped database {own} ({})\n", my_place(&my)),
        "{run}"
    );
    assert!(!my.exists(&own), "{run}");
    drop(held);
}

#[test]
fn db_drop_refuses_the_main_worktree() {
    let test = "db_drop_refuses_the_main_worktree";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("drop_main");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);

    let run = s.atlas(&repo, &["db", "drop", "main"]);
    let err = run.fails(1);
    assert!(
        err.contains("refusing to drop the main worktree's databases"),
        "{run}"
    );
    assert!(pg.exists(&base), "{run}");
}

// ---------------------------------------------------------------------------------------------
// drop_on_remove after Git removes a worktree on its own

const DROP_ON_REMOVE: &str = "[database]\nshared_server = true\ndrop_on_remove = true\n";

#[test]
fn drop_on_remove_drops_after_git_worktree_remove_at_the_next_reconcile() {
    let test = "drop_on_remove_drops_after_git_worktree_remove_at_the_next_reconcile";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("dor_remove");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, DROP_ON_REMOVE);
    s.atlas(&repo, &["add", "../d"]).ok();
    let own = format!("{base}_d");
    assert!(pg.exists(&own));

    s.git(&repo, &["worktree", "remove", "../d"]).ok();
    assert!(pg.exists(&own), "no git-atlas ran yet");
    let run = s.atlas(&repo, &["list"]);
    run.ok();
    assert!(
        run.stderr.contains(&format!(
            "git-atlas: dropped database {own} ({}) of d: the worktree no longer exists",
            pg_place(&pg)
        )),
        "{run}"
    );
    assert!(!pg.exists(&own), "{run}");
    assert!(pg.exists(&base), "{run}");
}

#[test]
fn drop_on_remove_waits_for_prune_after_rm_rf() {
    let test = "drop_on_remove_waits_for_prune_after_rm_rf";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("dor_prune");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, DROP_ON_REMOVE);
    s.atlas(&repo, &["add", "../d"]).ok();
    let own = format!("{base}_d");

    fs::remove_dir_all(s.at("d")).unwrap();
    let listed = s.git(&repo, &["worktree", "list", "--porcelain"]).ok();
    assert!(listed.contains("prunable"), "{listed}");
    let run = s.atlas(&repo, &["list"]);
    run.ok();
    assert!(!run.stderr.contains("dropped database"), "{run}");
    assert!(pg.exists(&own), "dropped while Git still lists d: {run}");

    s.git(&repo, &["worktree", "prune"]).ok();
    let run = s.atlas(&repo, &["list"]);
    run.ok();
    assert!(
        run.stderr
            .contains(&format!("git-atlas: dropped database {own} (")),
        "{run}"
    );
    assert!(!pg.exists(&own), "{run}");
}

#[test]
fn drop_on_remove_retries_a_database_that_was_in_use() {
    let test = "drop_on_remove_retries_a_database_that_was_in_use";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("dor_retry");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, DROP_ON_REMOVE);
    s.atlas(&repo, &["add", "../d"]).ok();
    let own = format!("{base}_d");

    let held = pg.hold(&own);
    s.git(&repo, &["worktree", "remove", "../d"]).ok();
    let run = s.atlas(&repo, &["list"]);
    run.ok();
    assert!(
        run.stderr
            .contains(&format!("database {own} of d not dropped: "))
            && run.stderr.contains("git atlas db drop d"),
        "{run}"
    );
    assert!(pg.exists(&own), "{run}");

    drop(held);
    let run = s.atlas(&repo, &["list"]);
    run.ok();
    assert!(
        run.stderr
            .contains(&format!("git-atlas: dropped database {own} (")),
        "{run}"
    );
    assert!(!pg.exists(&own), "{run}");
}

// ---------------------------------------------------------------------------------------------
// Hooks

#[test]
fn plain_git_worktree_add_creates_the_database_through_the_hook() {
    let test = "plain_git_worktree_add_creates_the_database_through_the_hook";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("hook_add");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);
    let out = s.atlas(&repo, &["hooks", "install"]).ok();
    assert!(out.contains("git-atlas on PATH: "), "{out}");

    let run = s.git(&repo, &["worktree", "add", "../h"]).success();
    let lines = run.atlas_lines();
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].contains(&format!("created database {base}_h")),
        "{run}"
    );
    assert!(pg.exists(&format!("{base}_h")), "{run}");
}

#[test]
fn a_hooks_one_line_says_why_a_copy_took_the_slow_way() {
    let test = "a_hooks_one_line_says_why_a_copy_took_the_slow_way";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("hook_slow");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED_CLONE);
    s.atlas(&repo, &["hooks", "install"]).ok();

    let held = pg.hold(&base);
    let run = s.git(&repo, &["worktree", "add", "../h"]).success();
    let lines = run.atlas_lines();
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].contains(&format!(
            "created database {base}_h from {base} ({base} has 1 other session: pid {} (",
            held.id
        )) && lines[0].contains("`git atlas db snapshot`"),
        "{run}"
    );
    assert_eq!(
        pg.sql(&format!("{base}_h"), "SELECT count(*) FROM items"),
        "3"
    );
    drop(held);
}

// ---------------------------------------------------------------------------------------------
// Failures

#[test]
fn wrong_password_fails_add_without_showing_the_password() {
    let test = "wrong_password_fails_add_without_showing_the_password";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("wrong_pw");
    let _cleanup = Cleanup::pg(&pg, &base);
    let secret = "Zebra-Wrong-Pass-4471";
    let url = format!(
        "postgresql://{}:{secret}@{}:{}/{base}",
        db::percent_encode(&pg.user),
        pg.host,
        pg.port
    );
    let s = Sandbox::new();
    let repo = repo(&s, "app", &format!("DATABASE_URL={url}\n"), SHARED, &[]);
    let log = s.at("clients.log");
    let path = spies(&s, &["psql", "pg_dump"], &log);

    let run = atlas_path(&s, &repo, &path, &["add", "../bad"]);
    let err = run.fails(1);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{run}");
    assert!(
        errors[0].contains("password authentication failed"),
        "{run}"
    );
    assert_no_secret(&run.stdout, secret, "stdout");
    assert_no_secret(&run.stderr, secret, "stderr");
    let calls = fs::read_to_string(&log).unwrap_or_default();
    assert!(calls.starts_with("psql "), "the spy saw no psql: {calls:?}");
    assert_no_secret(&calls, secret, "a client's command line");
    assert!(!pg.exists(&format!("{base}_bad")));
}

#[test]
fn postgres_clone_never_puts_the_password_on_a_command_line() {
    let test = "postgres_clone_never_puts_the_password_on_a_command_line";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pg_argv");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED_CLONE);
    let log = s.at("clients.log");
    let path = spies(&s, &["psql", "pg_dump"], &log);

    // The server's copy (main idle), then a dump (main in use).
    let idle = atlas_path(&s, &repo, &path, &["add", "../i"]);
    idle.ok();
    let held = pg.hold(&base);
    let run = atlas_path(&s, &repo, &path, &["add", "../c"]);
    run.ok();
    drop(held);
    assert_eq!(
        pg.sql(
            &format!("{base}_c"),
            "SELECT id, name FROM items ORDER BY id"
        ),
        PG_ROWS,
        "{run}"
    );
    assert_no_secret(&idle.stdout, &pg.password, "stdout");
    assert_no_secret(&idle.stderr, &pg.password, "stderr");
    let calls = fs::read_to_string(&log).unwrap();
    assert!(
        calls.lines().any(|l| l.starts_with("pg_dump "))
            && calls.lines().any(|l| l.starts_with("psql ")),
        "the spies saw no pg_dump | psql: {calls}"
    );
    assert_no_secret(&calls, &pg.password, "a client's command line");
    assert_no_secret(&run.stdout, &pg.password, "stdout");
    assert_no_secret(&run.stderr, &pg.password, "stderr");
    let registry = fs::read_to_string(support::registry_path(&repo)).unwrap();
    assert!(registry.contains(&format!("{base}_c")), "{registry}");
    assert_no_secret(&registry, &pg.password, "the registry");
}

#[test]
fn mariadb_clone_never_puts_the_password_on_a_command_line() {
    let test = "mariadb_clone_never_puts_the_password_on_a_command_line";
    let Some(my) = db::mariadb(test) else { return };
    let base = unique_name("my_argv");
    let _cleanup = Cleanup::my(&my, &base);
    my_main(&my, &base);
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={}\n", my.url_for(&base)),
        SHARED_CLONE,
        &[],
    );
    let log = s.at("clients.log");
    let path = spies(&s, &["mariadb", "mariadb-dump"], &log);

    let run = atlas_path(&s, &repo, &path, &["add", "../c"]);
    run.ok();
    assert_eq!(
        my.sql(
            &format!("{base}_c"),
            "SELECT id, name FROM items ORDER BY id"
        ),
        MY_ROWS,
        "{run}"
    );
    let calls = fs::read_to_string(&log).unwrap();
    assert!(
        calls.lines().any(|l| l.starts_with("mariadb-dump "))
            && calls.lines().any(|l| l.starts_with("mariadb ")),
        "the spies saw no mariadb-dump | mariadb: {calls}"
    );
    assert_no_secret(&calls, &my.password, "a client's command line");
    assert_no_secret(&run.stdout, &my.password, "stdout");
    assert_no_secret(&run.stderr, &my.password, "stderr");
}

#[test]
fn mariadb_wrong_password_fails_add_without_showing_the_password() {
    let test = "mariadb_wrong_password_fails_add_without_showing_the_password";
    let Some(my) = db::mariadb(test) else { return };
    let base = unique_name("my_wrong_pw");
    let _cleanup = Cleanup::my(&my, &base);
    let secret = "Okapi-Wrong-Pass-9203";
    let url = format!(
        "mysql://{}:{secret}@{}:{}/{base}",
        db::percent_encode(&my.user),
        my.host,
        my.port
    );
    let s = Sandbox::new();
    let repo = repo(&s, "app", &format!("DATABASE_URL={url}\n"), SHARED, &[]);
    let log = s.at("clients.log");
    let path = spies(&s, &["mariadb", "mariadb-dump"], &log);

    let run = atlas_path(&s, &repo, &path, &["add", "../bad"]);
    let err = run.fails(1);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{run}");
    assert!(errors[0].contains("Access denied"), "{run}");
    assert_no_secret(&run.stdout, secret, "stdout");
    assert_no_secret(&run.stderr, secret, "stderr");
    let calls = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        calls.starts_with("mariadb "),
        "the spy saw no mariadb: {calls:?}"
    );
    assert_no_secret(&calls, secret, "a client's command line");
    assert!(!my.exists(&format!("{base}_bad")));
}

/// Every file under `dir` whose name starts `git-atlas-my-` or whose bytes hold `secret`.
fn secrets_left_in(dir: &Path, secret: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let named = e.file_name().to_string_lossy().starts_with("git-atlas-my-");
        let holds = fs::read(e.path())
            .map(|b| String::from_utf8_lossy(&b).contains(secret))
            .unwrap_or(false);
        if named || holds {
            found.push(e.path());
        }
    }
    found
}

#[test]
fn mariadb_kill_9_during_a_client_leaves_no_option_file_with_the_password() {
    let test = "mariadb_kill_9_during_a_client_leaves_no_option_file_with_the_password";
    let Some(my) = db::mariadb(test) else { return };
    let base = unique_name("my_kill");
    let _cleanup = Cleanup::my(&my, &base);
    my_main(&my, &base);
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={}\n", my.url_for(&base)),
        SHARED,
        &[],
    );
    // git-atlas's own temp dir, so that nothing else's files (the harness's option files
    // included) count.
    let tmp = s.at("tmp");
    fs::create_dir_all(&tmp).unwrap();

    // The real client reads the password from the descriptor it inherits (`/dev/fd/N`).
    let log = s.at("clients.log");
    let path = spies(&s, &["mariadb", "mariadb-dump"], &log);
    let run = Run::of(
        s.cmd("git", &repo)
            .env("PATH", &path)
            .env("TMPDIR", &tmp)
            .args(["atlas", "add", "../ok"]),
    );
    run.ok();
    assert!(my.exists(&format!("{base}_ok")), "{run}");
    let calls = fs::read_to_string(&log).unwrap();
    assert!(
        calls.lines().all(|l| !l.starts_with("mariadb ")
            || l.starts_with("mariadb --defaults-extra-file=/dev/fd/")),
        "the option file is not a descriptor: {calls}"
    );
    assert_eq!(secrets_left_in(&tmp, &my.password), Vec::<PathBuf>::new());

    // A client that hangs, and `kill -9` of git-atlas while it does.
    let hang = s.at("hang");
    fs::create_dir_all(&hang).unwrap();
    let ready = s.at("ready");
    fs::write(
        hang.join("mariadb"),
        format!(
            "#!/bin/sh\ncase \"$1\" in --defaults-extra-file=*) grep -q '^password=' \"${{1#--defaults-extra-file=}}\" && r=readable ;; esac\necho \"${{r:-unreadable}} $1\" > '{}'\nexec sleep 60\n",
            ready.display()
        ),
    )
    .unwrap();
    fs::set_permissions(hang.join("mariadb"), fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = s
        .cmd(bin(), &repo)
        .env("PATH", path_with(&[&hang, bin().parent().unwrap()]))
        .env("TMPDIR", &tmp)
        .args(["add", "../killed"])
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let during = secrets_left_in(&tmp, &my.password);
    child.kill().unwrap();
    child.wait().unwrap();
    // The hanging client is ours too: end it, by its group (git-atlas's id).
    // SAFETY: a plain kill(2) of a process group this test created.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
    let said = fs::read_to_string(&ready).unwrap_or_default();
    assert!(
        said.starts_with("readable --defaults-extra-file=/dev/fd/"),
        "the client did not get the option file: {said:?}"
    );
    assert_eq!(during, Vec::<PathBuf>::new(), "while the client ran");
    assert_eq!(
        secrets_left_in(&tmp, &my.password),
        Vec::<PathBuf>::new(),
        "after kill -9"
    );
}

#[test]
fn a_login_without_createdb_fails_add_with_permission_denied() {
    let test = "a_login_without_createdb_fails_add_with_permission_denied";
    let Some(nocreate) = db::postgres_nocreate(test) else {
        return;
    };
    let base = unique_name("nocreate");
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        &format!("DATABASE_URL={}\n", nocreate.url_for(&base)),
        SHARED,
        &[],
    );

    let run = s.atlas(&repo, &["add", "../x"]);
    let err = run.fails(1);
    assert!(
        err.lines().any(|l| l.starts_with("error:")
            && l.contains(&format!("{base}_x"))
            && l.contains("permission denied to create database")),
        "{run}"
    );
    assert!(!nocreate.exists(&format!("{base}_x")), "{run}");
    // The worktree itself was created and keeps its files.
    assert!(s.at("x/.env").exists(), "{run}");
}

#[test]
fn a_missing_client_tool_is_a_note_not_an_error() {
    let test = "a_missing_client_tool_is_a_note_not_an_error";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("no_psql");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);
    let only = s.at("only-git");
    fs::create_dir_all(&only).unwrap();
    std::os::unix::fs::symlink(which::which("git").unwrap(), only.join("git")).unwrap();
    std::os::unix::fs::symlink(bin(), only.join("git-atlas")).unwrap();

    let run = atlas_path(&s, &repo, &OsString::from(&only), &["add", "../x"]);
    run.ok();
    assert!(
        run.stderr.lines().any(|l| l
            == format!(
                "git-atlas: note: Database {base}_x ({}) not created: psql is not installed (install postgresql-client)",
                pg_place(&pg)
            )),
        "{run}"
    );
    assert!(!pg.exists(&format!("{base}_x")), "{run}");
}

#[test]
fn a_remote_database_url_is_left_alone() {
    // No server needed: nothing may ever connect to it.
    let url = "postgresql://u:p@db.example.com:5432/x";
    let s = Sandbox::new();
    let repo = repo(&s, "app", &format!("DATABASE_URL={url}\n"), "", &[]);

    let run = s.atlas(&repo, &["add", "../r"]);
    run.ok();
    assert_eq!(env_local_var(&s, "r", "DATABASE_URL"), url);
    assert!(
        run.stderr.lines().any(|l| l
            == "git-atlas: note: Left DATABASE_URL alone: the URL points at db.example.com, not this machine; git-atlas only touches local servers"),
        "{run}"
    );
    assert!(!run.stdout.contains("Created database"), "{run}");

    let run = s.atlas(&repo, &["db", "status", "--json", "r"]);
    let doc: serde_json::Value =
        serde_json::from_str(&run.ok()).unwrap_or_else(|e| panic!("{e}: {run}"));
    let row = &doc["databases"][0];
    assert_eq!(row["kind"], "remote", "{doc:#}");
    assert!(
        row["engine"].is_null() && row["exists"].is_null(),
        "{doc:#}"
    );
    assert!(
        row["error"]
            .as_str()
            .is_some_and(|e| e.contains("db.example.com")),
        "{doc:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Port-and-name layout: the worktree's database is on a server at the worktree's own port

/// The first of `names` whose worktree port (`base` shifted by its offset) is free now, and
/// that port.
fn free_shifted(base: u16, names: &[&'static str]) -> (&'static str, u16) {
    names
        .iter()
        .map(|n| (*n, u32::from(base) + u32::from(offset(n))))
        .find(|(_, p)| port_free(*p))
        .map(|(n, p)| (n, p as u16))
        .unwrap_or_else(|| panic!("no free worktree port above {base} for {names:?}"))
}

#[test]
fn port_and_name_layout_creates_the_database_once_its_server_runs() {
    let test = "port_and_name_layout_creates_the_database_once_its_server_runs";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pn");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (name, port) = free_shifted(pg.port, &["pn", "pn-2", "pn-3", "pn-4"]);
    let (s, repo) = pg_repo(&pg, &base, "");
    let own = format!("{base}_{}", name.replace('-', "_"));

    let run = s.atlas(&repo, &["add", &format!("../{name}")]);
    run.ok();
    assert!(
        run.stderr.contains(&format!(
            "git-atlas: note: database {own} not created yet: no server on {}:{port}",
            pg.host
        )),
        "{run}"
    );
    let url = env_local_var(&s, name, "DATABASE_URL");
    assert!(url.ends_with(&format!(":{port}/{own}")), "{url}");
    assert!(!pg.exists(&own), "created on the main's server: {run}");

    let Some(cluster) = db::start_cluster(test, port) else {
        return;
    };
    let run = s.atlas(&repo, &["db", "create", name]);
    assert_eq!(
        run.ok(),
        format!(
            "Created database {own} (PostgreSQL on {}:{port})\n",
            pg.host
        ),
        "{run}"
    );
    assert!(cluster.exists(&own), "{run}\n{:?}", cluster.databases());
    assert!(!pg.exists(&own), "{run}");
}

#[test]
fn port_and_name_layout_clones_across_servers() {
    let test = "port_and_name_layout_clones_across_servers";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("pc");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (name, port) = free_shifted(pg.port, &["pc", "pc-2", "pc-3", "pc-4"]);
    let (s, repo) = pg_repo(&pg, &base, "");
    let own = format!("{base}_{}", name.replace('-', "_"));
    s.atlas(&repo, &["add", &format!("../{name}")]).ok();

    let Some(cluster) = db::start_cluster(test, port) else {
        return;
    };
    let run = s.atlas(&repo, &["db", "create", "--clone", name]);
    assert_eq!(
        run.ok(),
        format!(
            "Created database {own} as a copy of {base} (PostgreSQL on {}:{port})\n",
            pg.host
        ),
        "{run}"
    );
    assert_eq!(
        cluster.sql(&own, "SELECT id, name FROM items ORDER BY id"),
        PG_ROWS
    );
    assert!(!pg.exists(&own), "{run}");
}

// ---------------------------------------------------------------------------------------------
// SQLite

#[test]
fn sqlite_clone_copies_the_file_and_drop_db_deletes_it() {
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        "DATABASE_PATH=data/app.db\n",
        "[database]\nclone = true\n",
        &["data/"],
    );
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    fs::create_dir_all(repo.join("data")).unwrap();
    fs::write(repo.join("data/app.db"), &bytes).unwrap();

    let run = s.atlas(&repo, &["add", "../sq"]);
    let out = run.ok();
    let own = s.at("sq/data/app_sq.db");
    assert!(
        out.lines().any(|l| l
            == format!(
                "Created database {} as a copy of {} (SQLite file)",
                own.display(),
                repo.join("data/app.db").display()
            )),
        "{run}"
    );
    assert_eq!(fs::read(&own).unwrap(), bytes, "{run}");
    assert_eq!(env_local_var(&s, "sq", "DATABASE_PATH"), "data/app_sq.db");

    let run = s.atlas(&repo, &["remove", "--drop-db", "sq"]);
    let out = run.ok();
    assert!(
        out.lines()
            .any(|l| l == format!("Dropped database {} (SQLite file)", own.display())),
        "{run}"
    );
    assert!(!own.exists(), "{run}");
    assert_eq!(
        fs::read(repo.join("data/app.db")).unwrap(),
        bytes,
        "the main's file changed"
    );
}

#[test]
fn sqlite_db_drop_deletes_the_file_and_keeps_the_worktree() {
    let s = Sandbox::new();
    let repo = repo(&s, "app", "DATABASE_PATH=data/app.db\n", "", &["data/"]);
    fs::create_dir_all(repo.join("data")).unwrap();
    fs::write(repo.join("data/app.db"), b"main").unwrap();
    s.atlas(&repo, &["add", "../sq"]).ok();
    let own = s.at("sq/data/app_sq.db");
    assert_eq!(fs::read(&own).unwrap(), b"", "created empty without clone");

    let run = s.atlas(&repo, &["db", "drop", "sq"]);
    assert_eq!(
        run.ok(),
        format!("Dropped database {} (SQLite file)\n", own.display()),
        "{run}"
    );
    assert!(!own.exists(), "{run}");
    assert!(s.at("sq/README").exists(), "{run}");
}

// ---------------------------------------------------------------------------------------------
// Status

#[test]
fn db_status_json_describes_every_database() {
    let test = "db_status_json_describes_every_database";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("status");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let (s, repo) = pg_repo(&pg, &base, SHARED);
    s.atlas(&repo, &["add", "../st"]).ok();
    s.atlas(&repo, &["add", "--no-db", "../none"]).ok();

    let run = s.atlas(&repo, &["db", "status", "--json"]);
    let doc: serde_json::Value =
        serde_json::from_str(&run.ok()).unwrap_or_else(|e| panic!("{e}: {run}"));
    assert_eq!(doc["version"], 1, "{doc:#}");
    let rows = doc["databases"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc:#}"));
    let keys = [
        "worktree",
        "variable",
        "engine",
        "database",
        "host",
        "port",
        "kind",
        "exists",
        "size_bytes",
        "error",
    ];
    for row in rows {
        for key in ["worktree", "variable", "kind"] {
            assert!(row[key].is_string(), "{key}: {row:#}");
        }
        for key in ["engine", "database", "host", "error"] {
            assert!(row[key].is_string() || row[key].is_null(), "{key}: {row:#}");
        }
        for key in ["port", "size_bytes"] {
            assert!(row[key].is_u64() || row[key].is_null(), "{key}: {row:#}");
        }
        assert!(
            row["exists"].is_boolean() || row["exists"].is_null(),
            "{row:#}"
        );
        let mut got: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        got.sort();
        let mut want = keys.to_vec();
        want.sort();
        assert_eq!(got, want, "{row:#}");
    }
    let row = |w: &str| {
        rows.iter()
            .find(|r| r["worktree"] == w)
            .unwrap_or_else(|| panic!("no row for {w}: {doc:#}"))
    };
    let st = row("st");
    assert_eq!(st["variable"], "DATABASE_URL", "{st:#}");
    assert_eq!(st["engine"], "postgresql", "{st:#}");
    assert_eq!(st["database"], format!("{base}_st"), "{st:#}");
    assert_eq!(st["host"], pg.host.as_str(), "{st:#}");
    assert_eq!(st["port"], pg.port, "{st:#}");
    assert_eq!(st["kind"], "own", "{st:#}");
    assert_eq!(st["exists"], true, "{st:#}");
    assert!(st["size_bytes"].as_u64().is_some_and(|n| n > 0), "{st:#}");
    assert!(st["error"].is_null(), "{st:#}");

    let main = row("main");
    assert_eq!(main["database"], base.as_str(), "{main:#}");
    assert_eq!(main["kind"], "main", "{main:#}");
    assert_eq!(main["exists"], true, "{main:#}");

    let none = row("none");
    assert_eq!(none["database"], format!("{base}_none"), "{none:#}");
    assert_eq!(none["exists"], false, "{none:#}");
    assert!(
        none["size_bytes"].is_null() && none["error"].is_null(),
        "{none:#}"
    );
}

/// A SQLite database in WAL mode whose writer is still connected keeps its newest rows in the
/// `-wal` file: the clone must have them (sqlite3's `VACUUM INTO`, not a copy of the main file).
#[test]
fn sqlite_clone_of_a_database_in_use_has_its_newest_rows() {
    let Ok(sqlite3) = which::which("sqlite3") else {
        eprintln!("SKIPPED sqlite_clone_of_a_database_in_use_has_its_newest_rows: sqlite3 is not installed");
        return;
    };
    let s = Sandbox::new();
    let repo = repo(
        &s,
        "app",
        "DATABASE_PATH=data/app.db\n",
        "[database]\nclone = true\n",
        &["data/"],
    );
    fs::create_dir_all(repo.join("data")).unwrap();
    let main_db = repo.join("data/app.db");
    // The application: connected, WAL on, rows committed, never checkpointed while it runs.
    let mut app = std::process::Command::new(&sqlite3)
        .arg(&main_db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::{BufRead, Write};
        let stdin = app.stdin.as_mut().unwrap();
        writeln!(
            stdin,
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t(x); INSERT INTO t VALUES (41), (42); SELECT 'ready';"
        )
        .unwrap();
        stdin.flush().unwrap();
        let mut lines = std::io::BufReader::new(app.stdout.as_mut().unwrap()).lines();
        while let Some(Ok(line)) = lines.next() {
            if line == "ready" {
                break;
            }
        }
    }
    assert!(
        fs::metadata(repo.join("data/app.db-wal")).is_ok_and(|m| m.len() > 0),
        "the rows should still be in the write-ahead log"
    );
    let run = s.atlas(&repo, &["add", "../wal"]);
    run.ok();
    let own = s.at("wal/data/app_wal.db");
    let out = std::process::Command::new(&sqlite3)
        .arg(&own)
        .arg("SELECT group_concat(x) FROM t;")
        .output()
        .unwrap();
    let _ = app.kill();
    let _ = app.wait();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "41,42",
        "{run}"
    );
}

/// On a copy-on-write filesystem a SQLite database is cloned, file and write-ahead log, under
/// its write lock: the copy shares main's blocks, has the rows still in main's `-wal`, and
/// main's application writes on afterwards (the lock was let go).
#[test]
fn sqlite_clone_on_xfs_shares_main_blocks_and_keeps_the_rows_in_its_log() {
    let test = "sqlite_clone_on_xfs_shares_main_blocks_and_keeps_the_rows_in_its_log";
    let Ok(sqlite3) = which::which("sqlite3") else {
        eprintln!("SKIPPED {test}: sqlite3 is not installed");
        return;
    };
    let Some(xfs) = support::mounted(test, "GIT_ATLAS_TEST_COW_DIR", "an XFS with reflink") else {
        return;
    };
    let s = Sandbox::new();
    let made = repo(
        &s,
        "app",
        "DATABASE_PATH=data/app.db\n",
        "[database]\nclone = true\n",
        &["data/"],
    );
    let repo = xfs.join("app");
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(&made)
        .arg(&repo)
        .status()
        .unwrap();
    assert!(cp.success());
    fs::create_dir_all(repo.join("data")).unwrap();
    let main_db = repo.join("data/app.db");
    let mut app = std::process::Command::new(&sqlite3)
        .arg(&main_db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::{BufRead, Write};
    let mut lines = std::io::BufReader::new(app.stdout.take().unwrap()).lines();
    let mut say = |sql: &str| {
        let stdin = app.stdin.as_mut().unwrap();
        writeln!(stdin, "{sql} SELECT 'done';").unwrap();
        stdin.flush().unwrap();
        for line in lines.by_ref() {
            if line.unwrap() == "done" {
                break;
            }
        }
    };
    // 4 MB of rows in the file (checkpointed), two more only in the log.
    say("PRAGMA journal_mode=WAL; CREATE TABLE t(x, pad); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) INSERT INTO t SELECT i, randomblob(1000) FROM n; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint=0; INSERT INTO t VALUES (-41, ''), (-42, '');");
    assert!(fs::metadata(repo.join("data/app.db-wal")).is_ok_and(|m| m.len() > 0));

    let run = s.atlas(&repo, &["add", "../wal"]);
    run.ok();
    let own = xfs.join("wal/data/app_wal.db");
    let query = |sql: &str| {
        let out = std::process::Command::new(&sqlite3)
            .arg(&own)
            .arg(sql)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // A clone, not a copy: VACUUM INTO would have written new blocks. (Looked at before the
    // queries below: closing the copy checkpoints its log into it, which unshares pages.)
    assert!(support::shares_blocks(&own), "{run}");
    assert!(fs::metadata(xfs.join("wal/data/app_wal.db-wal")).is_ok_and(|m| m.len() > 0));
    assert_eq!(query("PRAGMA integrity_check;"), "ok", "{run}");
    assert_eq!(
        query("SELECT count(*), min(x) FROM t;"),
        "4002|-42",
        "{run}"
    );
    // Main's application writes on: the lock was let go.
    say("INSERT INTO t VALUES (-43, '');");
    let main_rows = std::process::Command::new(&sqlite3)
        .arg(&main_db)
        .arg("SELECT count(*) FROM t;")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&main_rows.stdout).trim(), "4003");
    assert_eq!(
        query("SELECT count(*) FROM t;"),
        "4002",
        "the copy is its own"
    );
    let _ = app.kill();
    let _ = app.wait();
    let _ = fs::remove_dir_all(&xfs);
}

/// git-atlas drops only what it created for the worktree: not a database that was there before
/// (made by hand, or another clone's), and never one of the main worktree's, even when the
/// worktree's rewritten name is the name of another of the main's variables.
#[test]
fn only_databases_git_atlas_created_are_ever_dropped() {
    let test = "only_databases_git_atlas_created_are_ever_dropped";
    let Some(pg) = db::postgres(test) else { return };
    let base = unique_name("foreign");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    // The main's test database is `<base>_test`: exactly what worktree `test` would get.
    let main_test = format!("{base}_test");
    pg.sql("postgres", &format!("CREATE DATABASE {main_test}"));
    pg.sql(
        &main_test,
        "CREATE TABLE precious(x int); INSERT INTO precious VALUES (1)",
    );
    // And `<base>_byhand` exists before its worktree does.
    let by_hand = format!("{base}_byhand");
    pg.sql("postgres", &format!("CREATE DATABASE {by_hand}"));
    let s = Sandbox::new();
    let env = format!(
        "DATABASE_URL={}\nTEST_DATABASE_URL={}\n",
        pg.url_for(&base),
        pg.url_for(&main_test)
    );
    let repo = repo(
        &s,
        "app",
        &env,
        "[database]\nshared_server = true\ndrop_on_remove = true\nurl_var = \"DATABASE_URL\"\n",
        &[],
    );

    let run = s.atlas(&repo, &["add", "../test"]);
    let out = run.ok();
    assert!(
        out.contains("its name is the main worktree's TEST_DATABASE_URL database"),
        "{run}"
    );
    let run = s.atlas(&repo, &["add", "../byhand"]);
    let out = run.ok();
    assert!(
        out.contains("git-atlas did not create it, so it never drops it"),
        "{run}"
    );

    let run = s.atlas(&repo, &["db", "drop", "test"]);
    run.ok();
    let run = s.atlas(&repo, &["remove", "--drop-db", "byhand"]);
    run.ok();
    s.git(&repo, &["worktree", "remove", "../test"]).success();
    s.atlas(&repo, &["list"]).ok();
    assert!(
        pg.exists(&main_test),
        "the main's test database was dropped"
    );
    assert_eq!(pg.sql(&main_test, "SELECT count(*) FROM precious"), "1");
    assert!(
        pg.exists(&by_hand),
        "a database git-atlas did not create was dropped"
    );
    pg.drop(&main_test);
    pg.drop(&by_hand);
}

/// Seed option 3 the way it is meant: the worktree's PostgreSQL is its own Compose service on
/// its shifted port. `add --up` starts it, waits until it accepts clients and creates the
/// worktree's database there as a copy of the main's (on the main's server); `remove` takes
/// the container and its volume away.
#[test]
fn add_up_creates_the_database_in_the_worktrees_own_compose_postgres() {
    let test = "add_up_creates_the_database_in_the_worktrees_own_compose_postgres";
    let Some(pg) = db::postgres(test) else { return };
    let Some(image) = db::pg_image(test) else {
        return;
    };
    let base = unique_name("compose_pg");
    let _cleanup = Cleanup::pg(&pg, &base);
    pg_main(&pg, &base);
    let name = ["pgc", "pgc-2", "pgc-3", "pgc-4"]
        .into_iter()
        .find(|n| {
            let port = u32::from(pg.port) + u32::from(offset(n));
            port <= 65535 && TcpListener::bind(("127.0.0.1", port as u16)).is_ok()
        })
        .expect("a free shifted port");
    let port = pg.port + offset(name);
    // The container's superuser is the URL's user with its password: YAML single quotes.
    let template = format!(
        "version: '3.8'\nservices:\n  db:\n    image: {image}\n    stop_signal: SIGKILL\n    environment:\n      POSTGRES_USER: '{}'\n      POSTGRES_PASSWORD: '{}'\n    ports:\n      - \"127.0.0.1:${{ALLOCATED_DB_PORT}}:5432\"\n    volumes:\n      - data:/tmp\nvolumes:\n  data: {{}}\n",
        pg.user.replace('\'', "''"),
        pg.password.replace('\'', "''"),
    );
    let s = Sandbox::new();
    let dir = s.repo("app", &format!("DATABASE_URL={}\n", pg.url_for(&base)));
    fs::write(
        dir.join(".gitignore"),
        ".env\n.env.local\ndocker-compose.yml\n",
    )
    .unwrap();
    fs::write(
        dir.join(".atlas.toml"),
        format!(
            "[services.db]\nport = {}\n\n[database]\nclone = true\n",
            pg.port
        ),
    )
    .unwrap();
    fs::write(dir.join("docker-compose.worktree.template.yml"), template).unwrap();
    s.git(&dir, &["add", "."]).success();
    s.git(&dir, &["commit", "-q", "-m", "compose"]).success();
    let project = format!("app-{name}");
    let _containers = support::docker::Cleanup::new(&[&project]);

    let run = s.atlas(&dir, &["add", "--up", &format!("../{name}")]);
    let own = format!("{base}_{}", name.replace('-', "_"));
    assert_line(
        &run,
        &format!(
            "Created database {own} as a copy of {base} (PostgreSQL on {}:{port})",
            pg.host
        ),
    );
    let container = Pg { port, ..pg.clone() };
    assert_eq!(container.sql(&own, "SELECT count(*) FROM items"), "3");
    assert!(
        !pg.exists(&own),
        "created in the main's server instead: {run}"
    );

    let run = s.atlas(&dir, &["remove", name]);
    let out = run.ok();
    assert!(
        out.contains(&format!("Brought Compose project {project} down")),
        "{run}"
    );
    assert!(
        container.try_sql("postgres", "SELECT 1").is_err(),
        "the worktree's server still runs"
    );
}

/// Laravel's layout (BookStack's `.env`): the database set by variables of its own, not a URL
/// (`DB_CONNECTION=mysql`, `DB_HOST`, `DB_PORT`, `DB_DATABASE`, `DB_USERNAME`, `DB_PASSWORD`),
/// `.env` ignored. On a shared server the worktree keeps `DB_PORT`, gets `DB_DATABASE` of its own,
/// and that database is created in the real server; `remove --drop-db` drops it.
#[test]
fn mariadb_a_laravel_database_set_by_variables_is_the_worktrees_own() {
    let test = "mariadb_a_laravel_database_set_by_variables_is_the_worktrees_own";
    let Some(my) = db::mariadb(test) else { return };
    let base = unique_name("bookstack");
    let _cleanup = Cleanup::my(&my, &base);
    my_main(&my, &base);
    let s = Sandbox::new();
    let password = my.password.replace('\\', "\\\\").replace('"', "\\\"");
    let env = format!(
        "APP_URL=http://localhost:8080\nDB_CONNECTION=mysql\nDB_HOST={}\nDB_PORT={}\nDB_DATABASE={base}\nDB_USERNAME={}\nDB_PASSWORD=\"{password}\"\n",
        my.host, my.port, my.user
    );
    let repo = repo(&s, "app", &env, SHARED, &[]);
    let run = s.atlas(&repo, &["add", "../feat"]);
    let out = run.ok();
    let own = format!("{base}_feat");
    assert!(
        out.lines()
            .any(|l| l == format!("Created database {own} ({})", my_place(&my))),
        "{run}"
    );
    assert!(my.exists(&own), "{run}");
    assert_eq!(env_local_var(&s, "feat", "DB_DATABASE"), own);
    assert_eq!(env_local_var(&s, "feat", "DB_PORT"), my.port.to_string());
    assert_eq!(
        env_local_var(&s, "feat", "DB_PASSWORD"),
        format!("\"{password}\"")
    );
    // The main worktree's database is untouched, and still its own.
    assert_eq!(my.sql(&base, "SELECT COUNT(*) FROM items"), "3");
    let status = s.atlas(&repo, &["db", "status", "feat"]).ok();
    assert!(
        status.contains("DB_DATABASE") && status.contains(&own),
        "{status}"
    );
    s.atlas(&repo, &["remove", "--force", "--drop-db", "feat"])
        .ok();
    assert!(!my.exists(&own));
    assert!(my.exists(&base));
}
