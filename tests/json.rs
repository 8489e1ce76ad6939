//! The JSON contract (README, "JSON output"): every `--json` prints one JSON object and nothing
//! else, its first key `"version": 1`, then every documented key, present (null rather than
//! missing) and of its documented type. One test per command, against the real binary.
//!
//! `docker ps --json` needs a Docker Engine with Compose and `$GIT_ATLAS_TEST_IMAGE`: without
//! them it prints `SKIPPED …` and passes, unless `GIT_ATLAS_REQUIRE_SERVICES=1`. `db status
//! --json` needs no server: a database whose server is not there is reported with an error.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{bin, free_base, path_without_git_atlas, Run, Sandbox};

// ---------------------------------------------------------------------------------------------
// The checks.

/// A JSON type, as a schema names it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum T {
    Str,
    /// A non-negative integer (ports, counts, offsets, pids, sizes).
    Num,
    Bool,
    Null,
    Arr,
    Obj,
}
use T::*;

fn type_of(v: &Value) -> T {
    match v {
        Value::String(_) => Str,
        Value::Number(_) => Num,
        Value::Bool(_) => Bool,
        Value::Null => Null,
        Value::Array(_) => Arr,
        Value::Object(_) => Obj,
    }
}

/// Every key of `schema` is in `v` with one of its types (a number must be a u64); the
/// contract allows more keys, so others are not an error.
fn check(v: &Value, schema: &[(&str, &[T])], what: &str) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {v:#}"));
    for (key, types) in schema {
        let value = obj
            .get(*key)
            .unwrap_or_else(|| panic!("{what}: key {key:?} missing: {v:#}"));
        let t = type_of(value);
        assert!(
            types.contains(&t),
            "{what}: {key:?} is {t:?}, not one of {types:?}: {v:#}"
        );
        if t == Num {
            assert!(value.is_u64(), "{what}: {key:?} is not a u64: {v:#}");
        }
    }
}

/// The array under `key` in `v`, each element checked against `schema`.
fn each<'a>(v: &'a Value, key: &str, schema: &[(&str, &[T])], what: &str) -> &'a [Value] {
    let items = v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: {key:?} is not an array: {v:#}"));
    for (i, item) in items.iter().enumerate() {
        check(item, schema, &format!("{what}: {key}[{i}]"));
    }
    items
}

/// `service → port`: an object of numbers.
fn check_ports_map(v: &Value, what: &str) {
    let map = v
        .as_object()
        .unwrap_or_else(|| panic!("{what}: ports is not an object: {v:#}"));
    for (service, port) in map {
        assert!(
            port.as_u64().is_some_and(|p| (1..=65535).contains(&p)),
            "{what}: port of {service} is {port}"
        );
    }
}

/// The document a successful `--json` run printed: its stdout is one JSON object and a newline,
/// nothing before or after, with `"version": 1` first. Pretty unless `one_line`.
fn doc(run: &Run, one_line: bool) -> Value {
    let out = run.ok();
    let what = &run.what;
    assert!(
        out.ends_with("}\n") && !out.ends_with("\n\n"),
        "{what}: stdout must be the object and one newline: {out:?}"
    );
    if one_line {
        assert!(
            out.starts_with("{\"version\":1,") && out.matches('\n').count() == 1,
            "{what}: not one line starting with the version: {out:?}"
        );
    } else {
        assert!(
            out.starts_with("{\n  \"version\": 1,\n") || out == "{\n  \"version\": 1\n}\n",
            "{what}: does not start with the version: {out}"
        );
    }
    // `from_str` refuses anything after the value but whitespace.
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{what}: {e}: {out}"));
    let first = v.as_object().and_then(|o| o.iter().next());
    assert_eq!(
        first,
        Some((&"version".to_string(), &Value::from(1))),
        "{what}: the first key must be \"version\": 1: {v:#}"
    );
    v
}

/// `git atlas <args>` in `cwd`, parsed by `doc`.
fn json(s: &Sandbox, cwd: &Path, args: &[&str]) -> Value {
    doc(&s.atlas(cwd, args), false)
}

// ---------------------------------------------------------------------------------------------
// Schemas, as the README documents them.

const WORKTREE_PORTS: &[(&str, &[T])] = &[
    ("worktree", &[Str]),
    ("offset", &[Num, Null]),
    ("ports", &[Obj, Null]),
];

/// A repository with two services at a base of its own, and worktrees `feature` (a branch, locked)
/// and `review` (detached).
fn two_worktrees(s: &Sandbox) -> (PathBuf, u16) {
    let base = free_base(1100);
    let repo = s.repo("app", &format!("PORT={base}\nDB_PORT={}\n", base + 1));
    s.atlas(
        &repo,
        &["add", "--lock", "--reason", "on a stick", "../feature"],
    )
    .ok();
    s.atlas(&repo, &["add", "--detach", "../review", "HEAD"])
        .ok();
    (repo, base)
}

// ---------------------------------------------------------------------------------------------
// One test per command.

#[test]
fn list_json() {
    let s = Sandbox::new();
    let (repo, _) = two_worktrees(&s);
    let v = json(&s, &repo, &["list", "--json"]);
    let worktrees = each(
        &v,
        "worktrees",
        &[
            ("name", &[Str]),
            ("path", &[Str]),
            ("branch", &[Str, Null]),
            ("main", &[Bool]),
            ("exists", &[Bool]),
            ("locked", &[Str, Null]),
            ("prunable", &[Bool]),
            ("offset", &[Num, Null]),
            ("ports", &[Obj]),
        ],
        "list",
    );
    let names: Vec<&str> = worktrees
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["main", "feature", "review"], "{v:#}");
    for w in worktrees {
        check_ports_map(&w["ports"], "list");
        assert_eq!(w["ports"].as_object().unwrap().len(), 2, "{w:#}");
    }
    assert_eq!(worktrees[0]["main"], true);
    assert_eq!(worktrees[1]["locked"], "on a stick");
    assert!(worktrees[2]["branch"].is_null() && worktrees[2]["locked"].is_null());

    // --unused keeps the shape.
    let v = json(&s, &repo, &["list", "--json", "--unused"]);
    assert_eq!(v["worktrees"].as_array().map(Vec::len), Some(3), "{v:#}");
}

#[test]
fn ports_prompt_json() {
    let s = Sandbox::new();
    let (repo, base) = two_worktrees(&s);
    let v = doc(&s.atlas(&s.at("feature"), &["ports", "--json"]), true);
    check(&v, WORKTREE_PORTS, "ports");
    check_ports_map(&v["ports"], "ports");
    assert_eq!(v["worktree"], "feature");
    assert_eq!(
        v["ports"]["app"].as_u64(),
        Some(u64::from(base) + v["offset"].as_u64().unwrap())
    );

    // The main worktree: offset 0, its base ports.
    let v = doc(&s.atlas(&repo, &["ports", "--json"]), true);
    check(&v, WORKTREE_PORTS, "ports in main");
    assert_eq!(
        (v["worktree"].as_str(), v["offset"].as_u64()),
        (Some("main"), Some(0))
    );

    // A worktree with nothing allocated: the keys are there, with null.
    s.git(&repo, &["worktree", "add", "-q", "../plain"]).ok();
    fs::remove_file(support::registry_path(&repo)).unwrap();
    let v = doc(&s.atlas(&s.at("plain"), &["ports", "--json"]), true);
    check(&v, WORKTREE_PORTS, "ports without an allocation");
    assert_eq!(
        v,
        serde_json::json!({"version": 1, "worktree": "plain", "offset": null, "ports": null})
    );
}

#[test]
fn ports_show_json() {
    let s = Sandbox::new();
    let (repo, _) = two_worktrees(&s);
    for wt in ["feature", "main", "review"] {
        let v = json(&s, &repo, &["ports", "show", wt, "--json"]);
        check(&v, WORKTREE_PORTS, wt);
        check_ports_map(&v["ports"], wt);
        assert_eq!(v["worktree"], wt);
        assert!(v["offset"].is_u64(), "{v:#}");
    }
}

#[test]
fn ports_list_json() {
    let s = Sandbox::new();
    let (repo, _) = two_worktrees(&s);
    let schema: &[(&str, &[T])] = &[
        ("worktree", &[Str]),
        ("service", &[Str]),
        ("label", &[Str]),
        ("port", &[Num]),
    ];
    let v = json(&s, &repo, &["ports", "list", "--json"]);
    assert_eq!(each(&v, "ports", schema, "ports list").len(), 6, "{v:#}");
    let v = json(&s, &repo, &["ports", "list", "--json", "--service", "db"]);
    let rows = each(&v, "ports", schema, "ports list --service");
    assert_eq!(rows.len(), 3, "{v:#}");
    assert!(rows.iter().all(|r| r["service"] == "db"), "{v:#}");
    // An unknown service is an empty listing, not an error, for a script.
    let v = json(&s, &repo, &["ports", "list", "--json", "--service", "nope"]);
    assert_eq!(v["ports"], serde_json::json!([]));
}

#[test]
fn ports_check_json() {
    let s = Sandbox::new();
    let (repo, base) = two_worktrees(&s);
    let schema: &[(&str, &[T])] = &[
        ("port", &[Num]),
        ("status", &[Str]),
        ("available", &[Bool]),
        ("allocated", &[Obj, Null]),
        ("unavailable", &[Str, Null]),
        ("leased", &[Str, Null]),
        ("listening", &[Arr]),
    ];
    let free = (base + 1050).to_string();
    let v = json(&s, &repo, &["ports", "check", &free, "--json"]);
    check(&v, schema, "check of a free port");
    assert_eq!(
        (v["status"].as_str(), v["available"].as_bool()),
        (Some("AVAILABLE"), Some(true))
    );
    assert!(v["allocated"].is_null() && v["unavailable"].is_null() && v["leased"].is_null());

    let port = s.ports_of(&repo, "feature")["app"] as u16;
    s.atlas(&repo, &["ports", "mark-unavailable", &free, "in", "use"])
        .ok();
    let v = json(&s, &repo, &["ports", "check", &free, "--json"]);
    check(&v, schema, "check of a port marked unavailable");
    assert_eq!(v["unavailable"], "in use");

    let _l = s.listener(&s.at("feature"), port, false);
    let v = json(&s, &repo, &["ports", "check", &port.to_string(), "--json"]);
    check(&v, schema, "check of a port in use");
    assert_eq!(v["status"], "IN USE");
    check(
        &v["allocated"],
        &[("worktree", &[Str]), ("service", &[Str])],
        "check: allocated",
    );
    let listening = each(
        &v,
        "listening",
        &[
            ("pid", &[Num, Null]),
            ("command", &[Str, Null]),
            ("worktree", &[Str, Null]),
            ("container", &[Str, Null]),
        ],
        "check",
    );
    assert!(!listening.is_empty(), "{v:#}");
    assert_eq!(listening[0]["worktree"], "feature", "{v:#}");
}

#[test]
fn ports_status_json() {
    let status: &[(&str, &[T])] = &[
        ("strategy", &[Str]),
        ("worktrees", &[Num]),
        ("ports", &[Num]),
        ("unavailable", &[Num]),
        ("leased_elsewhere", &[Num]),
        ("offsets", &[Obj, Null]),
        ("ranges", &[Arr]),
    ];
    let counts: &[(&str, &[T])] = &[
        ("size", &[Num]),
        ("used", &[Num]),
        ("blocked", &[Num]),
        ("free", &[Num]),
    ];

    // Offset strategy: `offsets` is an object, `ranges` empty.
    let s = Sandbox::new();
    let (repo, _) = two_worktrees(&s);
    let v = json(&s, &repo, &["ports", "status", "--json"]);
    check(&v, status, "status (offset)");
    assert_eq!(
        (v["strategy"].as_str(), v["ports"].as_u64()),
        (Some("offset"), Some(6))
    );
    check(
        &v["offsets"],
        &[("min", &[Num]), ("max", &[Num])],
        "status: offsets",
    );
    check(&v["offsets"], counts, "status: offsets");
    assert_eq!(v["ranges"], serde_json::json!([]));

    // Range strategy: `offsets` is null, one range per service.
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("app", "");
    fs::write(repo.join(".atlas.toml"), support::web_range(base, 10)).unwrap();
    s.atlas(&repo, &["add", "../r1"]).ok();
    let v = json(&s, &repo, &["ports", "status", "--json"]);
    check(&v, status, "status (range)");
    assert_eq!(v["strategy"], "range");
    assert!(v["offsets"].is_null(), "{v:#}");
    let ranges = each(
        &v,
        "ranges",
        &[&[("service", &[Str][..]), ("range", &[Arr])][..], counts].concat(),
        "status",
    );
    assert_eq!(ranges.len(), 1, "{v:#}");
    assert_eq!(ranges[0]["range"], serde_json::json!([base, base + 9]));
}

#[test]
fn ports_check_conflicts_json() {
    let s = Sandbox::new();
    let (repo, _) = two_worktrees(&s);
    let v = json(&s, &repo, &["ports", "check-conflicts", "--json"]);
    assert_eq!(v["conflicts"], serde_json::json!([]), "{v:#}");

    let db = s.ports_of(&repo, "review")["db"].to_string();
    s.atlas(&repo, &["ports", "mark-unavailable", &db, "reserved"])
        .ok();
    let v = json(&s, &repo, &["ports", "check-conflicts", "--json"]);
    let found = each(
        &v,
        "conflicts",
        &[
            ("port", &[Num]),
            ("worktree", &[Str]),
            ("service", &[Str]),
            ("kind", &[Str]),
            ("detail", &[Str]),
        ],
        "check-conflicts",
    );
    assert_eq!(found.len(), 1, "{v:#}");
    assert_eq!(
        (found[0]["worktree"].as_str(), found[0]["kind"].as_str()),
        (Some("review"), Some("unavailable"))
    );
}

#[test]
fn ports_config_json() {
    let s = Sandbox::new();
    let (repo, base) = two_worktrees(&s);
    let v = json(&s, &repo, &["ports", "config", "--json"]);
    check(
        &v,
        &[
            ("strategy", &[Str]),
            ("offsets", &[Obj, Null]),
            ("conflict_resolution", &[Obj]),
            ("services", &[Arr]),
            ("local_config", &[Obj]),
        ],
        "config",
    );
    assert_eq!(v["strategy"], "offset");
    check(
        &v["offsets"],
        &[("min", &[Num]), ("max", &[Num])],
        "config: offsets",
    );
    check(
        &v["conflict_resolution"],
        &[("auto_resolve", &[Bool]), ("strategies", &[Arr])],
        "config: conflict_resolution",
    );
    assert!(v["conflict_resolution"]["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_string));
    let services = each(
        &v,
        "services",
        &[
            ("service", &[Str]),
            ("label", &[Str]),
            ("base", &[Num]),
            ("range", &[Arr]),
            ("variables", &[Arr]),
            ("url_variables", &[Arr]),
        ],
        "config",
    );
    assert_eq!(services.len(), 2, "{v:#}");
    assert_eq!(services[0]["base"], base);
    assert_eq!(services[0]["variables"], serde_json::json!(["PORT"]));
    check(
        &v["local_config"],
        &[("path", &[Str]), ("exists", &[Bool])],
        "config: local_config",
    );
    assert_eq!(v["local_config"]["exists"], false);

    // After a change: the range strategy, its file there.
    s.atlas(&repo, &["ports", "config", "--strategy", "range"])
        .ok();
    let v = json(&s, &repo, &["ports", "config", "--json"]);
    assert_eq!(v["strategy"], "range");
    assert!(v["offsets"].is_null(), "{v:#}");
    assert_eq!(v["local_config"]["exists"], true);
    // --json only shows: it does not combine with a change.
    s.atlas(
        &repo,
        &["ports", "config", "--json", "--strategy", "offset"],
    )
    .fails(2);
}

#[test]
fn hooks_status_json() {
    let s = Sandbox::new();
    let (repo, _) = two_worktrees(&s);
    let schema: &[(&str, &[T])] = &[
        ("hooks", &[Arr]),
        ("git_atlas_on_path", &[Str, Null]),
        ("skip_hooks", &[Bool]),
    ];
    let hook: &[(&str, &[T])] = &[
        ("directory", &[Str]),
        ("name", &[Str]),
        ("path", &[Str]),
        ("state", &[Str]),
    ];
    let states = |v: &Value| -> Vec<(String, String)> {
        each(v, "hooks", hook, "hooks status")
            .iter()
            .map(|h| {
                (
                    h["name"].as_str().unwrap().to_string(),
                    h["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pair = |a: &str, b: &str| {
        vec![
            ("post-checkout".to_string(), a.to_string()),
            ("reference-transaction".to_string(), b.to_string()),
        ]
    };

    let v = json(&s, &repo, &["hooks", "status", "--json"]);
    check(&v, schema, "hooks status");
    assert_eq!(states(&v), pair("missing", "missing"));
    let on_path = v["git_atlas_on_path"].as_str().unwrap();
    assert!(on_path.ends_with("/git-atlas"), "{v:#}");
    assert_eq!(v["skip_hooks"], false);
    let dir = fs::canonicalize(repo.join(".git/hooks")).unwrap();
    let first = &v["hooks"][0];
    assert_eq!(
        fs::canonicalize(first["directory"].as_str().unwrap()).unwrap(),
        dir
    );
    assert_eq!(
        Path::new(first["path"].as_str().unwrap()),
        Path::new(first["directory"].as_str().unwrap()).join("post-checkout")
    );

    // A hook of the user's own is foreign until install wraps it.
    fs::write(dir.join("post-checkout"), "#!/bin/sh\ntrue\n").unwrap();
    let v = json(&s, &repo, &["hooks", "status", "--json"]);
    assert_eq!(states(&v), pair("foreign", "missing"));

    s.atlas(&repo, &["hooks", "install"]).ok();
    let v = json(&s, &repo, &["hooks", "status", "--json"]);
    assert_eq!(states(&v), pair("installed", "missing"));
    s.atlas(&repo, &["hooks", "install", "--eager"]).ok();
    let v = json(&s, &repo, &["hooks", "status", "--json"]);
    assert_eq!(states(&v), pair("installed", "installed"));

    // Without git-atlas on PATH, and with the hooks switched off.
    let run = Run::of(
        s.cmd(bin(), &repo)
            .env("PATH", path_without_git_atlas())
            .env("GIT_ATLAS_SKIP_HOOKS", "1")
            .args(["hooks", "status", "--json"]),
    );
    let v = doc(&run, false);
    check(&v, schema, "hooks status off PATH");
    assert!(v["git_atlas_on_path"].is_null(), "{v:#}");
    assert_eq!(v["skip_hooks"], true);
}

#[test]
fn db_status_json() {
    let s = Sandbox::new();
    // Nothing listens on the PostgreSQL port: each server database is reported with an error.
    let base = free_base(1100);
    let repo = s.repo(
        "app",
        &format!(
            "PORT={base}\nDATABASE_URL=postgresql://u:p@127.0.0.1:{}/app\nCACHE_DB=data/cache.db\n",
            base + 1
        ),
    );
    fs::create_dir_all(repo.join("data")).unwrap();
    fs::write(repo.join("data/cache.db"), "").unwrap();
    s.atlas(&repo, &["add", "../dbw"]).ok();
    let v = json(&s, &repo, &["db", "status", "--json"]);
    let rows = each(
        &v,
        "databases",
        &[
            ("worktree", &[Str]),
            ("variable", &[Str]),
            ("engine", &[Str, Null]),
            ("database", &[Str, Null]),
            ("host", &[Str, Null]),
            ("port", &[Num, Null]),
            ("kind", &[Str]),
            ("exists", &[Bool, Null]),
            ("size_bytes", &[Num, Null]),
            ("error", &[Str, Null]),
        ],
        "db status",
    );
    assert_eq!(rows.len(), 4, "{v:#}");
    let row = |wt: &str, var: &str| {
        rows.iter()
            .find(|r| r["worktree"] == wt && r["variable"] == var)
            .unwrap_or_else(|| panic!("no {wt} {var}: {v:#}"))
    };
    let pg = row("dbw", "DATABASE_URL");
    assert_eq!(
        (pg["engine"].as_str(), pg["kind"].as_str()),
        (Some("postgresql"), Some("own"))
    );
    assert!(pg["exists"].is_null() && pg["error"].is_string(), "{pg:#}");
    let lite = row("dbw", "CACHE_DB");
    assert_eq!(lite["engine"], "sqlite");
    assert_eq!(lite["exists"], true, "{lite:#}");
    assert!(lite["host"].is_null() && lite["port"].is_null() && lite["error"].is_null());

    // One worktree's, and a repository with no database at all: the same envelope.
    let v = json(&s, &repo, &["db", "status", "--json", "dbw"]);
    assert_eq!(v["databases"].as_array().map(Vec::len), Some(2), "{v:#}");
    let s = Sandbox::new();
    let repo = s.repo("plain", "PORT=3000\n");
    let v = json(&s, &repo, &["db", "status", "--json"]);
    assert_eq!(v["databases"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------------
// docker ps, against a real Docker Engine.

#[test]
fn docker_ps_json() {
    let Some(image) = support::docker::image("docker_ps_json", "GIT_ATLAS_TEST_IMAGE") else {
        return;
    };
    let _cleanup = support::docker::Cleanup::new(&["jsonps-jsonps-a"]);
    let s = Sandbox::new();
    let base = free_base(1100);
    let repo = s.repo("jsonps", "");
    fs::write(
        repo.join("docker-compose.worktree.template.yml"),
        format!(
            "services:\n  web:\n    image: {image}\n    command: [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n    stop_signal: SIGKILL\n    ports:\n      - \"${{ALLOCATED_WEB_PORT}}:80\"\n"
        ),
    )
    .unwrap();
    fs::write(
        repo.join(".atlas.toml"),
        format!("[offset]\nmin = 1\nmax = 9\n\n[services.web]\nport = {base}\n"),
    )
    .unwrap();
    s.git(
        &repo,
        &["add", "docker-compose.worktree.template.yml", ".atlas.toml"],
    )
    .ok();
    s.git(&repo, &["commit", "-qm", "compose"]).ok();
    let docker = |cwd: &Path, args: &[&str]| {
        let mut c = s.cmd("git", cwd);
        if let Some(host) = std::env::var_os("DOCKER_HOST") {
            c.env("DOCKER_HOST", host);
        }
        Run::of(c.arg("atlas").args(args))
    };
    docker(&repo, &["add", "--up", "../jsonps-a"]).ok();

    let schema: &[(&str, &[T])] = &[
        ("worktree", &[Str]),
        ("project", &[Str]),
        ("service", &[Str]),
        ("name", &[Str]),
        ("state", &[Str]),
        ("status", &[Str]),
        ("ports", &[Arr]),
        ("published", &[Str]),
    ];
    let v = doc(&docker(&repo, &["docker", "ps", "--json"]), false);
    let containers = each(&v, "containers", schema, "docker ps");
    assert_eq!(containers.len(), 1, "{v:#}");
    let c = &containers[0];
    let web = s.ports_of(&repo, "jsonps-a")["web"];
    assert_eq!(
        (
            c["worktree"].as_str(),
            c["project"].as_str(),
            c["service"].as_str()
        ),
        (Some("jsonps-a"), Some("jsonps-jsonps-a"), Some("web")),
        "{v:#}"
    );
    assert_eq!(c["state"], "running", "{v:#}");
    assert_eq!(c["ports"], serde_json::json!([web]), "{v:#}");

    // One worktree's, and one with no containers: the same envelope.
    let v = doc(
        &docker(&repo, &["docker", "ps", "jsonps-a", "--json"]),
        false,
    );
    assert_eq!(v["containers"].as_array().map(Vec::len), Some(1), "{v:#}");
    let v = doc(&docker(&repo, &["docker", "ps", "main", "--json"]), false);
    assert_eq!(v["containers"], serde_json::json!([]), "{v:#}");

    docker(&repo, &["docker", "down", "--volumes", "jsonps-a"]).ok();
}
