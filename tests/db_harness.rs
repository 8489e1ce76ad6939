//! The database harness of the integration tests (`tests/support/db.rs`) against real servers:
//! it connects with the awkward passwords of `$GIT_ATLAS_TEST_POSTGRES*` and
//! `$GIT_ATLAS_TEST_MARIADB`, creates, lists and drops databases, holds a session open where
//! the server shows it, and starts (and stops) a private PostgreSQL cluster on a free port.
//! Without the servers the tests print `SKIPPED <test>: …` and pass, unless
//! `GIT_ATLAS_REQUIRE_SERVICES=1` (as in CI), where they fail instead.

mod support;

use std::net::TcpListener;

use support::db::{self, unique_name};

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn unique_names_are_plain_lowercase_and_never_repeat() {
    let names: Vec<String> = (0..50)
        .map(|_| unique_name("Harness-Name"))
        .chain([unique_name(""), unique_name("9lives")])
        .collect();
    for n in &names {
        assert!(
            n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{n}"
        );
        assert!(n.starts_with(|c: char| c.is_ascii_lowercase()), "{n}");
        assert!(n.len() <= 40, "{n}");
    }
    assert!(names[0].starts_with("harness_name_"), "{}", names[0]);
    let mut distinct = names.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), names.len(), "{names:?}");
}

#[test]
fn percent_encoding_round_trips_the_awkward_password() {
    let enc = db::percent_encode(db::DEFAULT_PASSWORD);
    assert!(
        !enc.contains([' ', '\'', '"', ':', '@', '/', '?', '#']),
        "{enc}"
    );
    assert_eq!(db::percent_decode(&enc).unwrap(), db::DEFAULT_PASSWORD);
}

#[test]
fn postgres_creates_lists_and_drops_a_database() {
    let test = "postgres_creates_lists_and_drops_a_database";
    let Some(pg) = db::postgres(test) else { return };
    let name = unique_name("harness_pg");
    assert!(!pg.exists(&name));
    pg.sql("postgres", &format!("CREATE DATABASE {name}"));
    assert!(pg.databases().contains(&name), "{:?}", pg.databases());
    assert_eq!(
        pg.sql(&name, "SELECT current_database(), current_user"),
        format!("{name}|{}", pg.user)
    );
    // libpq itself takes the URL, percent-encoded password and all (on stdin, not argv).
    let via_url = pg.sql(
        "postgres",
        &format!(
            "\\connect {}\nSELECT current_database();",
            pg.url_for(&name)
        ),
    );
    assert_eq!(via_url, name);
    let err = pg
        .try_sql(&name, "SELECT * FROM no_such_table")
        .unwrap_err();
    assert!(err.contains("no_such_table"), "{err}");
    pg.drop(&name);
    assert!(!pg.exists(&name));
    pg.drop(&name); // IF EXISTS
}

#[test]
fn postgres_hold_keeps_a_session_in_pg_stat_activity_until_dropped() {
    let test = "postgres_hold_keeps_a_session_in_pg_stat_activity_until_dropped";
    let Some(pg) = db::postgres(test) else { return };
    let name = unique_name("harness_pg_hold");
    pg.sql("postgres", &format!("CREATE DATABASE {name}"));
    let held = pg.hold(&name);
    assert_eq!(
        pg.sql(
            "postgres",
            &format!(
                "SELECT datname FROM pg_stat_activity WHERE pid = {}",
                held.id
            )
        ),
        name
    );
    assert_eq!(pg.sessions(&name), 1);
    drop(held);
    assert_eq!(pg.sessions(&name), 0, "the held session outlived its Held");
    // drop() ends the sessions it finds (WITH (FORCE)).
    let held = pg.hold(&name);
    pg.drop(&name);
    assert!(!pg.exists(&name));
    drop(held);
}

#[test]
fn postgres_nocreate_login_may_not_create_a_database() {
    let test = "postgres_nocreate_login_may_not_create_a_database";
    let Some(pg) = db::postgres_nocreate(test) else {
        return;
    };
    assert_eq!(pg.sql("postgres", "SELECT current_user"), pg.user);
    let name = unique_name("harness_nocreate");
    let err = pg
        .try_sql("postgres", &format!("CREATE DATABASE {name}"))
        .unwrap_err();
    assert!(
        err.contains("permission denied to create database"),
        "{err}"
    );
}

#[test]
fn a_private_cluster_serves_on_its_port_and_is_gone_after_the_drop() {
    let test = "a_private_cluster_serves_on_its_port_and_is_gone_after_the_drop";
    let port = free_port();
    let Some(mut cluster) = db::start_cluster(test, port) else {
        return;
    };
    assert_eq!(cluster.port, port);
    assert!(
        cluster.url.ends_with(&format!("@127.0.0.1:{port}")),
        "{}",
        cluster.url
    );
    // The same login as the CI server's (user and password are percent-encoded alike).
    let login = |url: &str| {
        url.split_once("://")
            .unwrap()
            .1
            .rsplit_once('@')
            .unwrap()
            .0
            .to_string()
    };
    match std::env::var("GIT_ATLAS_TEST_POSTGRES") {
        Ok(ci) if !ci.is_empty() => assert_eq!(login(&cluster.url), login(&ci)),
        _ => assert_eq!(
            (cluster.user.as_str(), cluster.password.as_str()),
            ("atlas", db::DEFAULT_PASSWORD)
        ),
    }
    let name = unique_name("harness_cluster");
    cluster.sql("postgres", &format!("CREATE DATABASE {name}"));
    assert!(cluster.exists(&name));
    let held = cluster.hold(&name);
    assert_eq!(cluster.sessions(&name), 1);
    drop(held);
    cluster.drop(&name);
    assert!(!cluster.exists(&name));

    cluster.stop();
    let err = cluster.try_sql("postgres", "SELECT 1").unwrap_err();
    assert!(err.contains("Connection refused"), "{err}");
    let dir = cluster.dir().to_path_buf();
    assert!(dir.join("postgres.log").exists());
    drop(cluster);
    assert!(!dir.exists(), "{} left behind", dir.display());
    TcpListener::bind(("127.0.0.1", port)).expect("the cluster's port is free again");
}

#[test]
fn mariadb_creates_lists_and_drops_a_database() {
    let test = "mariadb_creates_lists_and_drops_a_database";
    let Some(my) = db::mariadb(test) else { return };
    let name = unique_name("harness_my");
    assert!(!my.exists(&name));
    my.sql("", &format!("CREATE DATABASE {name}"));
    assert!(my.databases().contains(&name), "{:?}", my.databases());
    let who = my.sql(&name, "SELECT DATABASE(), CURRENT_USER()");
    assert!(who.starts_with(&format!("{name}\t{}@", my.user)), "{who}");
    assert!(my.url_for(&name).ends_with(&format!(":{}/{name}", my.port)));
    let err = my
        .try_sql(&name, "SELECT * FROM no_such_table")
        .unwrap_err();
    assert!(err.contains("no_such_table"), "{err}");
    my.drop(&name);
    assert!(!my.exists(&name));
    my.drop(&name); // IF EXISTS
}

#[test]
fn mariadb_hold_keeps_a_connection_in_the_processlist_until_dropped() {
    let test = "mariadb_hold_keeps_a_connection_in_the_processlist_until_dropped";
    let Some(my) = db::mariadb(test) else { return };
    let name = unique_name("harness_my_hold");
    my.sql("", &format!("CREATE DATABASE {name}"));
    let held = my.hold(&name);
    assert_eq!(
        my.sql(
            "",
            &format!(
                "SELECT DB FROM information_schema.PROCESSLIST WHERE ID = {}",
                held.id
            )
        ),
        name
    );
    assert_eq!(my.sessions(&name), 1);
    drop(held);
    assert_eq!(
        my.sessions(&name),
        0,
        "the held connection outlived its Held"
    );
    my.drop(&name);
}
