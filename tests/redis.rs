//! Redis on a shared server (`[database] shared_server = true`): every worktree keeps the main's
//! Redis port and gets database indexes of its own, allocated in the registry and released with
//! the worktree, against a real `redis-server` on a loopback port.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::Sandbox;

/// A `redis-server` of our own on a free loopback port, stopped when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Redis {
    /// Started with `databases` databases in `dir`, or `None` after saying why `test` skips.
    fn start(test: &str, dir: &Path, databases: u16) -> Option<Redis> {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--databases", &databases.to_string()])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) => return support::unavailable(test, "redis-server", &e.to_string()),
        };
        let redis = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.cli(0, &["PING"]).as_deref() != Some("PONG") {
            if Instant::now() > deadline {
                panic!("{test}: redis-server on port {port} did not answer");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(redis)
    }

    /// `redis-cli -n <db> <args>`'s answer, or `None` if it failed.
    fn cli(&self, db: u16, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-n", &db.to_string()])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

/// The database index a Redis URL in `text`'s `var` names.
fn index(text: &str, var: &str) -> u16 {
    let value = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{var}=")))
        .unwrap_or_else(|| panic!("no {var} in:\n{text}"));
    value.rsplit('/').next().unwrap().parse().unwrap()
}

#[test]
fn each_worktree_gets_its_own_redis_databases_on_a_shared_server() {
    let test = "each_worktree_gets_its_own_redis_databases_on_a_shared_server";
    let s = Sandbox::new();
    // Five databases: main uses 0 and 1, so two worktrees fit and the third must share.
    let Some(redis) = Redis::start(test, s.root(), 5) else {
        return;
    };
    let port = redis.port;
    let app = support::free_base(10);
    let env = format!(
        "PORT={app}\nREDIS_URL=redis://localhost:{port}/0\nCELERY_BROKER_URL=redis://127.0.0.1:{port}/1\nREDIS_PORT={port}\n"
    );
    let repo = s.repo("app", &env);
    fs::write(
        repo.join(".atlas.toml"),
        "[database]\nshared_server = true\n",
    )
    .unwrap();
    s.git(&repo, &["add", ".atlas.toml"]).ok();
    s.git(&repo, &["commit", "-qm", "shared"]).ok();

    s.atlas(&repo, &["add", "-q", "../a"]).success();
    s.git(&repo, &["worktree", "add", "-q", "../b"]).ok();
    s.atlas(&repo, &["env", "b"]).success();
    let a = fs::read_to_string(s.at("a/.env")).unwrap();
    let b = fs::read_to_string(s.at("b/.env")).unwrap();
    // The server's port is every worktree's; only the indexes are their own, two each.
    for text in [&a, &b] {
        assert!(text.contains(&format!("\nREDIS_PORT={port}\n")), "{text}");
        assert!(text.contains(&format!("localhost:{port}/")), "{text}");
    }
    // Main has 0 and 1: a gets 2 and 3, b gets 4 and shares main's 1, with a warning.
    assert_eq!(
        (index(&a, "REDIS_URL"), index(&a, "CELERY_BROKER_URL")),
        (2, 3)
    );
    assert_eq!(index(&b, "REDIS_URL"), 4);
    assert_eq!(index(&b, "CELERY_BROKER_URL"), 1);
    let run = s.atlas(&repo, &["env", "b"]);
    let err = run.success().stderr;
    assert!(
        err.contains("every one of the 5 Redis databases")
            && err.contains("shares database 1 with the main worktree"),
        "{err}"
    );

    // What a's app writes, b's does not see.
    let a_db = index(&a, "REDIS_URL");
    assert_eq!(
        redis.cli(a_db, &["SET", "session", "a"]).as_deref(),
        Some("OK")
    );
    assert_eq!(redis.cli(4, &["GET", "session"]).as_deref(), Some(""));
    assert_eq!(redis.cli(0, &["GET", "session"]).as_deref(), Some(""));

    // Removing a releases its indexes: the next worktree gets them.
    s.atlas(&repo, &["remove", "--force", "a"]).success();
    let registry = s.registry(&repo);
    assert!(registry["redis"].get("a").is_none(), "{registry:#}");
    s.atlas(&repo, &["add", "-q", "../c"]).success();
    let c = fs::read_to_string(s.at("c/.env")).unwrap();
    assert_eq!(
        (index(&c, "REDIS_URL"), index(&c, "CELERY_BROKER_URL")),
        (2, 3),
        "{c}"
    );
}

/// Without a shared server, Redis is a service like any other: each worktree its own port.
#[test]
fn without_a_shared_server_redis_moves_with_the_worktree() {
    let s = Sandbox::new();
    let base = support::free_base(10);
    let repo = s.repo("app", &format!("REDIS_URL=redis://localhost:{base}/0\n"));
    s.atlas(&repo, &["add", "-q", "--no-db", "../a"]).success();
    let a = fs::read_to_string(s.at("a/.env")).unwrap();
    let port = s.ports_of(&repo, "a")["redis"];
    assert!(
        a.contains(&format!("REDIS_URL=redis://localhost:{port}/0\n")),
        "{a}"
    );
    assert!(s.registry(&repo).get("redis").is_none());
}
