// The cases of tests/compose_v1.rs and tests/compose_v2.rs: projects that run Compose from
// their own compose files (tests/fixtures/projects/, each after a public project: see its
// FIXTURE.md), with no template. Main's stack and a worktree's are both started the way the
// project's developers start them (a plain `docker compose up -d` in the project directory,
// or the package script's `-f`), and must not share a port, a container, a volume or a network.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::docker::{docker, http_get, label, Cleanup};
use support::env_var as var;
use support::{Run, Sandbox};

/// Main's stack of a fixture publishes the fixture's own fixed host ports (8080, 54320, …), so
/// the tests that start one take turns.
static MAIN_STACK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn main_stack() -> std::sync::MutexGuard<'static, ()> {
    MAIN_STACK.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn docker_ready(test: &str) -> bool {
    support::docker::image_with(COMPOSE, test, "GIT_ATLAS_TEST_IMAGE").is_some()
}

/// The sandbox clears the environment: its commands see this process's Docker and the Compose
/// under test.
fn with_docker(c: &mut Command) -> &mut Command {
    COMPOSE.docker_env(c)
}

fn atlas(s: &Sandbox, cwd: &Path, args: &[&str]) -> Run {
    Run::of(with_docker(&mut s.cmd("git", cwd)).arg("atlas").args(args))
}

/// Compose as a user types it in `cwd` (`docker compose …` or `docker-compose …`).
fn compose(s: &Sandbox, cwd: &Path, args: &[&str]) -> Run {
    let argv = COMPOSE.argv();
    Run::of(
        with_docker(&mut s.cmd(argv[0], cwd))
            .args(&argv[1..])
            .args(args),
    )
}

/// `git atlas docker config --json` of the worktree at `dir`: its projects.
fn atlas_config(s: &Sandbox, dir: &Path) -> Vec<Value> {
    let out = atlas(s, dir, &["docker", "config", "--json"]).ok();
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    json["projects"].as_array().cloned().unwrap_or_default()
}

/// The host ports a project of `docker config --json` publishes.
fn published(project: &Value) -> BTreeSet<u16> {
    published_by(project, |_| true)
}

/// Those of the services a plain `up` starts that serve HTTP (all but `not_http`).
fn published_http(project: &Value, not_http: &[&str]) -> BTreeSet<u16> {
    published_by(project, |s| {
        s["profiles"].as_array().unwrap().is_empty()
            && !not_http.contains(&s["service"].as_str().unwrap())
    })
}

fn published_by(project: &Value, which: impl Fn(&Value) -> bool) -> BTreeSet<u16> {
    project["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| which(s))
        .flat_map(|s| s["ports"].as_array().unwrap().iter())
        .filter_map(|p| p["published"].as_u64())
        .map(|p| p as u16)
        .collect()
}

/// The host ports the services a plain `up` starts publish, with the container port each
/// reaches.
fn published_targets(project: &Value) -> BTreeSet<(u16, String)> {
    project["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["profiles"].as_array().unwrap().is_empty())
        .flat_map(|s| s["ports"].as_array().unwrap().iter())
        .filter_map(|p| Some((p["published"].as_u64()? as u16, p["target"].as_str()?.to_string())))
        .collect()
}

/// The container names of a project of `docker config --json`.
fn container_names(project: &Value) -> BTreeSet<String> {
    project["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["container_name"].as_str().unwrap().to_string())
        .collect()
}

/// The names of its (not external) volumes and networks.
fn resource_names(project: &Value) -> BTreeSet<String> {
    ["volumes", "networks"]
        .iter()
        .flat_map(|k| project[k].as_array().unwrap().iter())
        .filter(|r| !r["external"].as_bool().unwrap())
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// `GET /` on 127.0.0.1:`port`, retried for up to 15 s while the container starts.
fn serves(port: u16) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = http_get(port).and_then(|response| {
            if response.starts_with("HTTP/1.") && response.contains(" 200 ") {
                Ok(response)
            } else {
                Err(format!("not a 200: {response:?}"))
            }
        });
        match got {
            Ok(body) => return Ok(body),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn assert_all_serve(ports: &BTreeSet<u16>, what: &str) {
    for &port in ports {
        if let Err(e) = serves(port) {
            panic!("{what}: nothing answers HTTP on {port}: {e}");
        }
    }
}

/// Names of what Docker has of `project`: containers, volumes, networks.
fn docker_objects(project: &str) -> Vec<String> {
    let l = label(project);
    let mut out = Vec::new();
    for list in [
        &["ps", "-a", "--filter", &l, "--format", "{{.Names}}"][..],
        &["volume", "ls", "--filter", &l, "--format", "{{.Name}}"],
        &["network", "ls", "--filter", &l, "--format", "{{.Name}}"],
    ] {
        let o = docker(list);
        out.extend(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(String::from),
        );
    }
    out.sort();
    out
}

/// A project's containers, volumes and networks by name, whatever their label (fixed names).
fn remove_named(names: &BTreeSet<String>) {
    for n in names {
        let _ = docker(&["rm", "-f", "-v", n]);
        let _ = docker(&["volume", "rm", "-f", n]);
        let _ = docker(&["network", "rm", n]);
    }
}

/// Main's project and a worktree's, both up at once: main's with Compose's `up` arguments in
/// `dir` (from the repository root; `-f` files first when the project runs with them), the
/// worktree's the same way, or with `wt_up` (`git atlas docker up`) where git-atlas says a
/// plain run cannot be the worktree's own. Checks they share nothing and `remove` takes only
/// the worktree's.
/// `not_http` names the services that serve something else (a database), which `during`
/// may check while both projects run.
fn side_by_side(
    fixture: &str,
    dir: &str,
    up: &[&str],
    wt_up: Option<&[&str]>,
    not_http: &[&str],
    during: &dyn Fn(&Value, &Value, &Run),
) -> Run {
    let _turn = main_stack();
    let s = Sandbox::new();
    let repo = s.fixture(fixture);
    let fixture = fixture.rsplit('/').next().unwrap();
    let wt = s.at(&format!("{fixture}-feat"));
    let added = atlas(&s, &repo, &["add", wt.to_str().unwrap()]).success();
    let main_cfg = atlas_config(&s, &repo);
    let wt_cfg = atlas_config(&s, &wt);
    assert_eq!(main_cfg.len(), 1, "{main_cfg:?}");
    assert_eq!(wt_cfg.len(), 1, "{wt_cfg:?}");
    let (m, w) = (&main_cfg[0], &wt_cfg[0]);
    let (main_project, wt_project) = (
        m["name"].as_str().unwrap().to_string(),
        w["name"].as_str().unwrap().to_string(),
    );
    let mut fixed = container_names(m);
    fixed.extend(resource_names(m));
    fixed.extend(container_names(w));
    fixed.extend(resource_names(w));
    remove_named(&fixed);
    let _cleanup = Cleanup::new(&[&main_project, &wt_project]);
    struct Named(BTreeSet<String>);
    impl Drop for Named {
        fn drop(&mut self) {
            remove_named(&self.0);
        }
    }
    let _named = Named(fixed);

    // Nothing the two would share.
    assert_ne!(main_project, wt_project);
    let (mp, wp) = (published(m), published(w));
    assert!(!mp.is_empty(), "{m}");
    assert_eq!(mp.len(), wp.len(), "main {mp:?}, worktree {wp:?}");
    assert!(mp.is_disjoint(&wp), "main {mp:?}, worktree {wp:?}");
    assert!(container_names(m).is_disjoint(&container_names(w)), "{m}\n{w}");
    assert!(resource_names(m).is_disjoint(&resource_names(w)), "{m}\n{w}");
    // Nothing git-atlas wrote shows in `git status`; nothing was written into main.
    assert_eq!(s.git(&wt, &["status", "--porcelain"]).ok(), "", "{added}");
    assert_eq!(s.git(&repo, &["status", "--porcelain"]).ok(), "");
    let main_own = Path::new(m["directory"].as_str().unwrap()).join("compose.atlas.yaml");
    assert!(!main_own.exists(), "{}", main_own.display());

    // Compose v2 itself resolves the worktree's project as git-atlas says it does.
    let main_dir = repo.join(dir);
    let wt_dir = wt.join(dir);
    if COMPOSE == support::docker::Compose::V2 {
        // What the worktree runs: its own files as a plain run finds them, or (where git-atlas
        // said a `-f` run does not read the override) those `git atlas docker up` gives Compose.
        let mut args: Vec<&str> = up.iter().take_while(|a| **a != "up").copied().collect();
        let own = match up.iter().position(|a| *a == "-f") {
            Some(at) => Path::new(up[at + 1])
                .with_file_name("compose.atlas.yaml")
                .to_string_lossy()
                .into_owned(),
            None => "compose.atlas.yaml".to_string(),
        };
        if wt_up.is_some() {
            args.extend(["-f", own.as_str()]);
        }
        args.extend(["config", "--format", "json"]);
        let json: Value = serde_json::from_str(&compose(&s, &wt_dir, &args).ok()).unwrap();
        assert_eq!(json["name"].as_str(), Some(wt_project.as_str()), "{json}");
        let services = json["services"].as_object().unwrap();
        let ports: BTreeSet<(u16, String)> = services
            .values()
            .flat_map(|v| v["ports"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| Some((p["published"].as_str()?.parse().ok()?, p["target"].to_string())))
            .collect();
        assert_eq!(ports, published_targets(w), "Compose's own view: {json}");
        for (name, def) in services {
            let theirs = def["container_name"].as_str();
            let ours = w["services"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["service"] == name.as_str())
                .and_then(|x| x["container_name"].as_str());
            assert!(
                theirs.is_none() || theirs == ours,
                "{name}: Compose names it {theirs:?}, git-atlas {ours:?}"
            );
        }
        let volumes: BTreeSet<String> = json["volumes"]
            .as_object()
            .map(|v| {
                v.values()
                    .filter(|v| v["external"].as_bool() != Some(true))
                    .filter_map(|v| v["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let ours: BTreeSet<String> = w["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !r["external"].as_bool().unwrap())
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(volumes, ours, "volumes: {json}");
    }

    // Both up at once, as the developers start them.
    compose(&s, &main_dir, up).success();
    let wt_started = match wt_up {
        None => compose(&s, &wt_dir, up).success(),
        Some(args) => atlas(&s, &wt, args).success(),
    };
    let (mp_up, wp_up) = (published_http(m, not_http), published_http(w, not_http));
    assert_all_serve(&mp_up, "main's project");
    assert_all_serve(&wp_up, "the worktree's project");
    during(m, w, &wt_started);
    let ps = atlas(&s, &repo, &["docker", "ps", "--json"]).ok();
    let ps: Value = serde_json::from_str(&ps).unwrap();
    let by_worktree = |name: &str| {
        ps["containers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["worktree"] == name)
            .count()
    };
    assert!(by_worktree("main") > 0 && by_worktree(&format!("{fixture}-feat")) > 0, "{ps}");

    // `remove` takes the worktree's project away, volumes too, and leaves main's running.
    let main_before = docker_objects(&main_project);
    atlas(&s, &repo, &["remove", wt.to_str().unwrap()]).success();
    assert_eq!(docker_objects(&wt_project), Vec::<String>::new());
    assert_eq!(docker_objects(&main_project), main_before);
    assert_all_serve(&mp_up, "main's project after the worktree's removal");
    let mut down: Vec<&str> = up.iter().take_while(|a| **a != "up").copied().collect();
    down.extend(["down", "-v"]);
    compose(&s, &main_dir, &down).success();
    added
}

#[test]
fn bookstack_ports_from_variables_with_defaults_only_are_the_worktrees_with_plain_compose() {
    let test = "bookstack_ports_from_variables_with_defaults_only_are_the_worktrees_with_plain_compose";
    if !docker_ready(test) {
        return;
    }
    let added = side_by_side("bookstack-dev", "", &["up", "-d"], None, &[], &|_, _, _| {});
    // Ports through variables move through `.env`, which every Compose reads: no override,
    // nothing v2-only, no line for v1.
    assert!(!added.stderr.contains("Compose v1"), "{added}");
    assert!(added.stdout.contains("Wrote .env in "), "{added}");
}

#[test]
fn a_plain_git_worktree_add_through_the_hooks_gets_the_compose_files_too() {
    if !docker_ready("a_plain_git_worktree_add_through_the_hooks_gets_the_compose_files_too") {
        return;
    }
    let s = Sandbox::new();
    let repo = s.fixture("compose-features");
    atlas(&s, &repo, &["hooks", "install"]).success();
    let wt = s.at("hooked");
    Run::of(with_docker(&mut s.cmd("git", &repo)).args(["worktree", "add", "-q", wt.to_str().unwrap()])).success();
    let env = fs::read_to_string(wt.join(".env")).unwrap();
    assert_eq!(
        var(&env, "COMPOSE_FILE").as_deref(),
        Some("compose.yaml:compose.override.yaml:compose.atlas.yaml"),
        "{env}"
    );
    assert_eq!(
        var(&env, "COMPOSE_PROJECT_NAME").as_deref(),
        Some("compose-features-hooked")
    );
    // The cache's port, published through a variable no `.env` sets (in an included file).
    let cache: u64 = var(&env, "CACHE_PORT").unwrap().parse().unwrap();
    assert_ne!(cache, 6380);
    // The app's own URLs follow the ports Compose publishes.
    let (main, theirs) = (&atlas_config(&s, &repo)[0], &atlas_config(&s, &wt)[0]);
    assert_eq!(main["name"], "compose-features");
    assert_eq!(theirs["name"], "compose-features-hooked");
    let (mp, wp) = (published(main), published(theirs));
    let literal: BTreeSet<u16> = [5433, 7000, 7001, 8000, 8081, 8443].into_iter().collect();
    let mut all = literal.clone();
    all.insert(6380);
    assert_eq!(mp, all);
    assert!(wp.contains(&(cache as u16)), "{wp:?}");
    match COMPOSE {
        // v1 cannot replace the literal ones: they stay main's (and `git worktree add` is no
        // place for the line that says so: the hook's one line is its summary).
        support::docker::Compose::V1 => assert!(literal.is_subset(&wp), "{wp:?}"),
        support::docker::Compose::V2 => assert!(mp.is_disjoint(&wp), "{mp:?} {wp:?}"),
    }
    // (The service that has 8000 in main: the `.env` URL's, which the web service publishes.)
    let main_ports = s.ports_of(&repo, "main");
    let key = main_ports.iter().find(|(_, p)| **p == 8000).unwrap().0;
    let web = s.ports_of(&repo, "hooked")[key];
    assert_eq!(
        var(&env, "APP_URL"),
        Some(format!("http://localhost:{web}"))
    );
    if COMPOSE == support::docker::Compose::V2 {
        assert!(wp.contains(&(web as u16)), "{wp:?}");
    }
    assert_eq!(s.git(&wt, &["status", "--porcelain"]).ok(), "");
}

#[test]
fn the_override_follows_the_compose_file_and_goes_when_nothing_needs_it() {
    if !docker_ready("the_override_follows_the_compose_file_and_goes_when_nothing_needs_it") {
        return;
    }
    let s = Sandbox::new();
    let repo = s.fixture("bookstack-dev");
    let wt = s.at("feat");
    atlas(&s, &repo, &["add", wt.to_str().unwrap()]).success();
    // Ports through variables only: no override.
    assert!(!wt.join("compose.atlas.yaml").exists());
    let env = fs::read_to_string(wt.join(".env")).unwrap();
    assert!(var(&env, "DEV_PORT").is_some() && var(&env, "DEV_MAIL_PORT").is_some());
    // The branch pins a literal port and a container name: `env` writes the override.
    let compose = fs::read_to_string(wt.join("docker-compose.yml")).unwrap();
    let pinned = compose.replace(
        "  mailhog:\n",
        "  mailhog:\n    container_name: mailhog\n",
    );
    let pinned = pinned.replace("${DEV_MAIL_PORT:-8025}:8025", "8025:8025");
    fs::write(wt.join("docker-compose.yml"), &pinned).unwrap();
    s.git(&wt, &["commit", "-qam", "pin"]).ok();
    let run = atlas(&s, &wt, &["env"]).success();
    let own = fs::read_to_string(wt.join("compose.atlas.yaml")).unwrap();
    assert!(own.contains("\"mailhog\":\n    container_name: "), "{own}");
    let theirs = &atlas_config(&s, &wt)[0];
    match COMPOSE {
        support::docker::Compose::V1 => {
            assert!(published(theirs).contains(&8025), "{theirs}");
            assert!(run.stderr.contains("publishes host port(s) 8025 as numbers"), "{run}");
        }
        support::docker::Compose::V2 => {
            assert!(!published(theirs).contains(&8025), "{theirs}");
            assert!(own.contains("ports: !override"), "{own}");
        }
    }
    // Back to variables: the override goes, with a line.
    fs::write(wt.join("docker-compose.yml"), &compose).unwrap();
    let run = atlas(&s, &wt, &["env"]).success();
    assert!(!wt.join("compose.atlas.yaml").exists());
    assert!(run.stderr.contains("compose.atlas.yaml, which git-atlas wrote before"), "{run}");
    let env = fs::read_to_string(wt.join(".env")).unwrap();
    assert_eq!(var(&env, "COMPOSE_FILE"), None, "{env}");
}


#[test]
fn a_worktree_removed_without_git_atlas_has_its_own_project_torn_down_and_mains_left() {
    let test = "a_worktree_removed_without_git_atlas_has_its_own_project_torn_down_and_mains_left";
    if !docker_ready(test) {
        return;
    }
    let _turn = main_stack();
    let s = Sandbox::new();
    let repo = s.fixture("bookstack-dev");
    let wt = s.at("gone");
    atlas(&s, &repo, &["add", wt.to_str().unwrap()]).success();
    let (main_project, wt_project) = ("bookstack-dev", "bookstack-dev-gone");
    let _cleanup = Cleanup::new(&[main_project, wt_project]);
    compose(&s, &repo, &["up", "-d"]).success();
    compose(&s, &wt, &["up", "-d"]).success();
    let main_before = docker_objects(main_project);
    assert!(!docker_objects(wt_project).is_empty());
    // `rm -rf`: the next command tears down its containers and networks, not its volumes
    // (Git still lists the worktree, as prunable)...
    fs::remove_dir_all(&wt).unwrap();
    atlas(&s, &repo, &["list"]).success();
    let left = docker_objects(wt_project);
    assert_eq!(left, vec![format!("{wt_project}_db")], "{left:?}");
    // ... and its volume once Git forgets it.
    s.git(&repo, &["worktree", "prune"]).ok();
    atlas(&s, &repo, &["list"]).success();
    assert_eq!(docker_objects(wt_project), Vec::<String>::new());
    assert_eq!(docker_objects(main_project), main_before);
    compose(&s, &repo, &["down", "-v"]).success();
}
