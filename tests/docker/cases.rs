// The cases of tests/docker.rs (Compose v1) and tests/docker_v2.rs (v2): `COMPOSE` says which.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use support::docker::{docker, http_get, label, Cleanup};
use support::{offset, Run, Sandbox};

// ---------------------------------------------------------------------------------------------
// Is Docker here?

/// The image the Docker tests run, or `None` (after saying why on stderr) when Docker, Compose
/// or the image is missing. With `GIT_ATLAS_REQUIRE_SERVICES=1` a missing piece is a failure.
fn docker_ready(test: &str) -> Option<String> {
    support::docker::image_with(COMPOSE, test, "GIT_ATLAS_TEST_IMAGE")
}

// ---------------------------------------------------------------------------------------------
// The sandbox's commands, seeing the same Docker as this test process.

/// The sandbox clears the environment: its commands see this process's Docker and the Compose
/// under test.
fn with_docker(c: &mut Command) -> &mut Command {
    COMPOSE.docker_env(c)
}

/// `git atlas …` in the sandbox, seeing this process's Docker.
fn atlas(s: &Sandbox, cwd: &Path, args: &[&str]) -> Run {
    Run::of(with_docker(&mut s.cmd("git", cwd)).arg("atlas").args(args))
}

/// `git …` in the sandbox (and so the hooks), seeing this process's Docker.
fn git(s: &Sandbox, cwd: &Path, args: &[&str]) -> Run {
    Run::of(with_docker(&mut s.cmd("git", cwd)).args(args))
}

/// An empty commit in `cwd`, which must succeed; the hooks run.
fn commit(s: &Sandbox, cwd: &Path) -> Run {
    git(s, cwd, &["commit", "-q", "--allow-empty", "-m", "x"]).success()
}

// ---------------------------------------------------------------------------------------------
// Docker's own view, by Compose's project label.

/// The lines `docker <args>` prints (it must succeed), sorted.
fn docker_lines(args: &[&str]) -> Vec<String> {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

/// Names of `project`'s containers, running or not.
fn containers(project: &str) -> Vec<String> {
    docker_lines(&[
        "ps",
        "-a",
        "--filter",
        &label(project),
        "--format",
        "{{.Names}}",
    ])
}

/// Names of `project`'s running containers.
fn running(project: &str) -> Vec<String> {
    docker_lines(&[
        "ps",
        "--filter",
        &label(project),
        "--filter",
        "status=running",
        "--format",
        "{{.Names}}",
    ])
}

fn networks(project: &str) -> Vec<String> {
    docker_lines(&[
        "network",
        "ls",
        "--filter",
        &label(project),
        "--format",
        "{{.Name}}",
    ])
}

fn volumes(project: &str) -> Vec<String> {
    docker_lines(&[
        "volume",
        "ls",
        "--filter",
        &label(project),
        "--format",
        "{{.Name}}",
    ])
}

/// Nothing of `project` is left: no container, network or volume.
fn assert_gone(project: &str, how: &str) {
    assert_eq!(
        (containers(project), networks(project), volumes(project)),
        (vec![], vec![], vec![]),
        "{how}: {project} left (containers, networks, volumes) behind"
    );
}

/// The containers Compose names for `services` of `project` (v1 `<project>_<service>_1`, v2
/// `<project>-<service>-1`), sorted.
fn container_names(project: &str, services: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = services
        .iter()
        .map(|s| COMPOSE.container(project, s))
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// The network, from the host.

/// The test image answers on host port `port` (retrying for up to 10 s while it starts).
fn assert_serves(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last;
    loop {
        last = http_get(port);
        if matches!(&last, Ok(body) if body.contains("git-atlas-test ok")) {
            return;
        }
        if Instant::now() > deadline {
            panic!("{what}: nothing serves `git-atlas-test ok` on port {port}: {last:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Nothing listens on `port` any more: this process can bind it (retrying for up to 5 s while
/// Docker's proxy exits).
fn assert_free(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(("0.0.0.0", port)) {
            Ok(_) => return,
            Err(e) if Instant::now() > deadline => {
                panic!("{what}: port {port} is still taken: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Repositories whose only inputs are templates.

/// The seed's compose template, runnable offline: every service is the test image with
/// `stop_signal: SIGKILL` (busybox httpd ignores SIGTERM), db and test serving on their own
/// container ports so they stay up. Its network and volume are named after the worktree.
fn seed_template(image: &str) -> String {
    format!(
        r#"version: '3.8'
services:
  web:
    image: {image}
    stop_signal: SIGKILL
    ports:
      - "${{ALLOCATED_WEB_PORT}}:80"
    environment:
      - NODE_ENV=development
      - WORKTREE=${{WORKTREE_NAME}}
    networks:
      - worktree-network
  db:
    image: {image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "5432", "-h", "/www"]
    stop_signal: SIGKILL
    ports:
      - "${{ALLOCATED_DB_PORT}}:5432"
    environment:
      - POSTGRES_DB=myapp_${{WORKTREE_NAME}}
    volumes:
      - db-data:/var/lib/postgresql/data
    networks:
      - worktree-network
  test:
    image: {image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "3000", "-h", "/www"]
    stop_signal: SIGKILL
    ports:
      - "${{ALLOCATED_TEST_PORT}}:3000"
    depends_on:
      - db
    networks:
      - worktree-network
networks:
  worktree-network:
    name: ${{WORKTREE_NAME}}-network
volumes:
  db-data:
    name: ${{WORKTREE_NAME}}-db-data
"#
    )
}

/// The example's template (examples/sample): one web service, its network and volume named
/// after the Compose project, so two repositories with the same worktree name do not meet.
fn example_template(image: &str) -> String {
    format!(
        r#"services:
  web:
    image: {image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"]
    stop_signal: SIGKILL
    ports:
      - "${{ALLOCATED_WEB_PORT}}:80"
    environment:
      WORKTREE: ${{WORKTREE_NAME}}
    networks: [worktree-network]
    volumes: [data:/data]
networks:
  worktree-network:
    name: ${{COMPOSE_PROJECT_NAME}}-network
volumes:
  data:
    name: ${{COMPOSE_PROJECT_NAME}}-data
"#
    )
}

/// A block of 40 host ports no other test of this binary publishes or allocates. Above
/// `free_base`'s blocks (from 10000), so a parallel run of another test binary does not meet
/// these either, and below the ephemeral range.
fn port_block() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(28000);
    let base = NEXT.fetch_add(40, Ordering::SeqCst);
    assert!(base + 40 < 32768, "port_block: out of room");
    base
}

/// `.atlas.toml` moving web, db and test to `base`, `base+10`, `base+20`, with offsets 1–9, so
/// every worktree's ports stay inside the block, plus `extra`.
fn atlas_toml(base: u16, extra: &str) -> String {
    format!(
        "[offset]\nmin = 1\nmax = 9\n\n[services.web]\nport = {base}\n\n[services.db]\nport = {}\n\n[services.test]\nport = {}\n{extra}",
        base + 10,
        base + 20
    )
}

/// A repository `name` whose only inputs are `template` as its committed
/// docker-compose.worktree.template.yml, and `config` as its `.atlas.toml` if given (its `.env`
/// is empty).
fn compose_repo(s: &Sandbox, name: &str, template: &str, config: Option<&str>) -> PathBuf {
    let repo = s.repo(name, "");
    fs::write(repo.join("docker-compose.worktree.template.yml"), template).unwrap();
    let mut files = vec!["docker-compose.worktree.template.yml"];
    if let Some(config) = config {
        fs::write(repo.join(".atlas.toml"), config).unwrap();
        files.push(".atlas.toml");
    }
    s.git(&repo, &[&["add"][..], &files[..]].concat()).ok();
    s.git(&repo, &["commit", "-qm", "compose template"]).ok();
    repo
}

/// A repository with the seed template and its own port block.
fn seed_repo(s: &Sandbox, name: &str, image: &str, extra: &str) -> PathBuf {
    compose_repo(
        s,
        name,
        &seed_template(image),
        Some(&atlas_toml(port_block(), extra)),
    )
}

fn port(s: &Sandbox, repo: &Path, worktree: &str, service: &str) -> u16 {
    let ports = s.ports_of(repo, worktree);
    let p = ports
        .get(service)
        .unwrap_or_else(|| panic!("{worktree} has no {service} port: {ports:?}"));
    u16::try_from(*p).unwrap()
}

/// `git atlas add --up ../<name>`, which must succeed and say it started the project.
fn add_up(s: &Sandbox, repo: &Path, name: &str, project: &str) -> PathBuf {
    let run = atlas(s, repo, &["add", "--up", &format!("../{name}")]);
    let out = run.ok();
    assert!(
        out.contains(&format!("Started Compose project {project}")),
        "{run}"
    );
    s.at(name)
}

// ---------------------------------------------------------------------------------------------
// Stories.

#[test]
fn two_worktrees_brought_up_at_once_each_serve_on_their_own_ports() {
    let Some(image) =
        docker_ready("two_worktrees_brought_up_at_once_each_serve_on_their_own_ports")
    else {
        return;
    };
    let s = Sandbox::new();
    // The seed's template and nothing else: web, db and test get the seed's base ports.
    let repo = compose_repo(&s, "twins", &seed_template(&image), None);
    let _cleanup = Cleanup::new(&["twins-twin-a", "twins-twin-b"]);

    let (a, b) = std::thread::scope(|t| {
        let a = t.spawn(|| atlas(&s, &repo, &["add", "--up", "../twin-a"]));
        let b = t.spawn(|| atlas(&s, &repo, &["add", "--up", "../twin-b"]));
        (a.join().unwrap(), b.join().unwrap())
    });
    for (run, wt) in [(a, "twin-a"), (b, "twin-b")] {
        // Git's own race: parallel `git worktree add`s can read each other's half-written
        // worktrees/<id>/ files and give up ("failed to read …"), before git-atlas does anything.
        // That add made nothing; run it again, alone, as a user would.
        let run = if !run.out.status.success() && run.stderr.contains("failed to read") {
            s.git(&repo, &["worktree", "prune"]).ok();
            atlas(&s, &repo, &["add", "--up", &format!("../{wt}")])
        } else {
            run
        };
        assert!(
            run.ok()
                .contains(&format!("Started Compose project twins-{wt}")),
            "{run}"
        );
    }

    let mut web = Vec::new();
    for wt in ["twin-a", "twin-b"] {
        let project = format!("twins-{wt}");
        let ports = s.ports_of(&repo, wt);
        let off = u64::from(offset(wt));
        let expected: std::collections::BTreeMap<String, u64> = [
            ("db".to_string(), 5432 + off),
            ("test".into(), 9000 + off),
            ("web".into(), 8080 + off),
        ]
        .into();
        assert_eq!(ports, expected, "{wt}: the seed's bases plus its offset");
        let compose = fs::read_to_string(s.at(wt).join("docker-compose.yml")).unwrap();
        assert!(
            compose.contains(&format!("\"{}:80\"", 8080 + off))
                && compose.contains(&format!("name: {wt}-network")),
            "{compose}"
        );
        assert_eq!(
            running(&project),
            container_names(&project, &["db", "test", "web"]),
            "{wt}"
        );
        assert_eq!(networks(&project), [format!("{wt}-network")]);
        assert_eq!(volumes(&project), [format!("{wt}-db-data")]);
        web.push(port(&s, &repo, wt, "web"));
    }
    assert_ne!(web[0], web[1]);
    assert_serves(web[0], "twin-a's web");
    assert_serves(web[1], "twin-b's web");

    // `git atlas docker ps` from the main worktree: both worktrees' containers, by worktree.
    let table = atlas(&s, &repo, &["docker", "ps"]).ok();
    let header = table.lines().next().unwrap();
    for column in ["WORKTREE", "NAME", "PORT", "STATE"] {
        assert!(header.contains(column), "{table}");
    }
    for (wt, port) in [("twin-a", web[0]), ("twin-b", web[1])] {
        let row = table
            .lines()
            .find(|l| l.contains(&COMPOSE.container(&format!("twins-{wt}"), "web")))
            .unwrap_or_else(|| panic!("no web row of {wt}: {table}"));
        assert!(
            row.starts_with(wt) && row.contains(&format!("{port}->80/tcp")) && row.contains("Up"),
            "{row}"
        );
    }
    assert_eq!(
        table.lines().count(),
        7,
        "a header and 6 containers: {table}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&atlas(&s, &repo, &["docker", "ps", "--json"]).ok()).unwrap();
    assert_eq!(json["version"], 1, "{json:#}");
    let list = json["containers"].as_array().unwrap();
    assert_eq!(list.len(), 6, "{json:#}");
    for c in list {
        let wt = c["worktree"].as_str().unwrap();
        let service = c["service"].as_str().unwrap();
        let project = format!("twins-{wt}");
        assert_eq!(c["project"], project.as_str(), "{c}");
        assert_eq!(c["name"], COMPOSE.container(&project, service).as_str(), "{c}");
        assert_eq!(c["state"], "running", "{c}");
        let host = port(&s, &repo, wt, service);
        assert_eq!(c["ports"], serde_json::json!([host]), "{c}");
        assert!(
            c["published"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{host}->")),
            "{c}"
        );
    }

    // One worktree's view (by name, here from the other worktree) is its containers only.
    let only: serde_json::Value = serde_json::from_str(
        &atlas(&s, &s.at("twin-a"), &["docker", "ps", "twin-b", "--json"]).ok(),
    )
    .unwrap();
    let names: Vec<&str> = only["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        container_names("twins-twin-b", &["db", "test", "web"]),
        "{only:#}"
    );
}

#[test]
fn remove_takes_its_project_down_with_volumes_and_leaves_the_other_running() {
    let Some(image) =
        docker_ready("remove_takes_its_project_down_with_volumes_and_leaves_the_other_running")
    else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "rmapp", &image, "");
    let _cleanup = Cleanup::new(&["rmapp-rm-gone", "rmapp-rm-stay"]);
    add_up(&s, &repo, "rm-gone", "rmapp-rm-gone");
    add_up(&s, &repo, "rm-stay", "rmapp-rm-stay");
    let gone_web = port(&s, &repo, "rm-gone", "web");
    let stay_web = port(&s, &repo, "rm-stay", "web");
    assert_serves(gone_web, "rm-gone before remove");
    assert_eq!(volumes("rmapp-rm-gone"), ["rm-gone-db-data"]);

    let run = atlas(&s, &repo, &["remove", "rm-gone"]);
    let out = run.ok();
    assert!(
        out.contains("Brought Compose project rmapp-rm-gone down with its volumes"),
        "{run}"
    );
    assert!(out.contains("Removed worktree rm-gone"), "{run}");
    assert!(!s.at("rm-gone").exists());
    assert_gone("rmapp-rm-gone", "git atlas remove");
    assert_free(gone_web, "rm-gone's web after remove");

    // The other worktree's project is untouched.
    assert_eq!(
        running("rmapp-rm-stay"),
        container_names("rmapp-rm-stay", &["db", "test", "web"])
    );
    assert_eq!(networks("rmapp-rm-stay"), ["rm-stay-network"]);
    assert_eq!(volumes("rmapp-rm-stay"), ["rm-stay-db-data"]);
    assert_serves(stay_web, "rm-stay after the other's remove");

    // --keep-services removes the worktree and leaves its project as it is, for good: the next
    // reconcile does not tear it down either.
    let run = atlas(&s, &repo, &["remove", "--keep-services", "rm-stay"]);
    let out = run.ok();
    assert!(
        out.contains("Left Compose project rmapp-rm-stay as it is"),
        "{run}"
    );
    assert!(!s.at("rm-stay").exists());
    atlas(&s, &repo, &["list"]).ok();
    assert_eq!(
        running("rmapp-rm-stay"),
        container_names("rmapp-rm-stay", &["db", "test", "web"])
    );
    assert_eq!(volumes("rmapp-rm-stay"), ["rm-stay-db-data"]);
    assert_serves(stay_web, "rm-stay after remove --keep-services");
}

#[test]
fn rm_rf_loses_containers_at_the_next_command_and_volumes_after_prune() {
    let Some(image) =
        docker_ready("rm_rf_loses_containers_at_the_next_command_and_volumes_after_prune")
    else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "rfapp", &image, "");
    let _cleanup = Cleanup::new(&["rfapp-rf-lost", "rfapp-rf-kept"]);
    assert!(atlas(&s, &repo, &["hooks", "install"])
        .ok()
        .contains("git-atlas on PATH: "));
    add_up(&s, &repo, "rf-lost", "rfapp-rf-lost");
    add_up(&s, &repo, "rf-kept", "rfapp-rf-kept");
    let web = port(&s, &repo, "rf-lost", "web");
    assert_serves(web, "rf-lost before rm -rf");

    fs::remove_dir_all(s.at("rf-lost")).unwrap();
    let listed = s.git(&repo, &["worktree", "list", "--porcelain"]).ok();
    assert!(listed.contains("prunable"), "{listed}");
    // An rm -rf changes none of Git's files, and a commit runs no hook of git-atlas's; the
    // next command (or checkout, or prompt) sees it.
    let quiet = commit(&s, &repo);
    assert!(!quiet.stderr.contains("rfapp-rf-lost"), "{quiet}");
    let run = atlas(&s, &repo, &["list"]);
    run.ok();
    assert!(
        run.stderr.contains(
            "removed 3 container(s), 1 network(s) of Compose project rfapp-rf-lost: worktree rf-lost is missing"
        ),
        "{run}"
    );
    assert_eq!(containers("rfapp-rf-lost"), Vec::<String>::new());
    assert_eq!(networks("rfapp-rf-lost"), Vec::<String>::new());
    assert_eq!(
        volumes("rfapp-rf-lost"),
        ["rf-lost-db-data"],
        "Git still lists the worktree: its data stays until a prune"
    );
    assert_free(web, "rf-lost's web after the next command");
    assert_eq!(
        running("rfapp-rf-kept"),
        container_names("rfapp-rf-kept", &["db", "test", "web"]),
        "the other worktree's project is untouched"
    );

    let out = atlas(&s, &repo, &["ports", "cleanup"]).ok();
    let line = out
        .lines()
        .find(|l| l.contains("rf-lost-db-data"))
        .unwrap_or_else(|| panic!("cleanup does not name the waiting volume: {out}"));
    assert!(
        line.contains("rfapp-rf-lost") && line.contains("rf-lost is missing"),
        "{out}"
    );
    assert!(out.contains("git worktree prune"), "{out}");
    assert_eq!(
        volumes("rfapp-rf-lost"),
        ["rf-lost-db-data"],
        "cleanup keeps it"
    );

    s.git(&repo, &["worktree", "prune"]).ok();
    let run = git(&s, &repo, &["checkout", "-q", "--detach"]).success();
    assert!(
        run.stderr
            .contains("1 volume(s) of Compose project rfapp-rf-lost: worktree rf-lost is gone"),
        "{run}"
    );
    assert_gone("rfapp-rf-lost", "prune and a checkout");
    let out = atlas(&s, &repo, &["ports", "cleanup"]).ok();
    assert!(!out.contains("rf-lost-db-data"), "{out}");
    assert_eq!(
        running("rfapp-rf-kept"),
        container_names("rfapp-rf-kept", &["db", "test", "web"])
    );
}

#[test]
fn plain_git_worktree_remove_is_torn_down_with_volumes_at_the_next_reconcile() {
    let Some(image) =
        docker_ready("plain_git_worktree_remove_is_torn_down_with_volumes_at_the_next_reconcile")
    else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "plainapp", &image, "");
    let _cleanup = Cleanup::new(&["plainapp-plain-x"]);
    add_up(&s, &repo, "plain-x", "plainapp-plain-x");
    let web = port(&s, &repo, "plain-x", "web");
    assert_serves(web, "plain-x");

    // No hooks: Git forgets the worktree and nothing else happens yet.
    s.git(&repo, &["worktree", "remove", "--force", "../plain-x"])
        .ok();
    assert_eq!(
        running("plainapp-plain-x"),
        container_names("plainapp-plain-x", &["db", "test", "web"])
    );

    let run = atlas(&s, &repo, &["list"]);
    run.ok();
    assert!(
        run.stderr.contains(
            "removed 3 container(s), 1 network(s), 1 volume(s) of Compose project plainapp-plain-x: worktree plain-x is gone"
        ),
        "{run}"
    );
    assert_gone("plainapp-plain-x", "a reconcile after git worktree remove");
    assert_free(web, "plain-x's web");
}

#[test]
fn ports_check_names_the_container_and_its_worktree() {
    let Some(image) = docker_ready("ports_check_names_the_container_and_its_worktree") else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "chkapp", &image, "");
    let _cleanup = Cleanup::new(&["chkapp-chk-up", "chkapp-chk-idle"]);
    add_up(&s, &repo, "chk-up", "chkapp-chk-up");
    atlas(&s, &repo, &["add", "../chk-idle"]).ok();
    let web = port(&s, &repo, "chk-up", "web");
    assert_serves(web, "chk-up");

    let out = atlas(&s, &repo, &["ports", "check", &web.to_string()]).ok();
    assert!(out.starts_with(&format!("Port {web}: IN USE\n")), "{out}");
    assert!(out.contains("allocated to chk-up (web)"), "{out}");
    assert!(
        out.contains(&format!(
            "listening: container {}, of worktree chk-up",
            COMPOSE.container("chkapp-chk-up", "web")
        )),
        "{out}"
    );

    let json: serde_json::Value = serde_json::from_str(
        &atlas(&s, &repo, &["ports", "check", &web.to_string(), "--json"]).ok(),
    )
    .unwrap();
    assert_eq!(json["version"], 1, "{json:#}");
    let listening = json["listening"].as_array().unwrap();
    assert!(!listening.is_empty(), "{json:#}");
    for l in listening {
        assert_eq!(
            l["container"],
            COMPOSE.container("chkapp-chk-up", "web").as_str(),
            "{json:#}"
        );
        assert_eq!(l["worktree"], "chk-up", "{json:#}");
    }

    // A worktree's own container on its own port is no conflict.
    let run = atlas(&s, &repo, &["ports", "check-conflicts"]);
    let out = run.ok();
    assert!(out.contains("No conflicts"), "{run}");
    assert!(!out.contains(&web.to_string()), "{run}");

    // In use means not unused; the worktree that never came up is.
    let unused = atlas(&s, &repo, &["list", "--unused"]).ok();
    let names: Vec<&str> = unused
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"chk-idle") && !names.contains(&"chk-up"),
        "{unused}"
    );

    // scan-rebuild counts the containers' ports as chk-up's and keeps them.
    let before = s.ports_of(&repo, "chk-up");
    let out = atlas(&s, &repo, &["ports", "scan-rebuild"]).ok();
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("chk-up:"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("3 listening now"), "{out}");
    assert_eq!(s.ports_of(&repo, "chk-up"), before);
    assert_eq!(
        s.registry(&repo)["unavailable_ports"],
        serde_json::json!({})
    );

    // A container of no worktree's project on chk-idle's port is a conflict, not chk-idle's.
    let idle = port(&s, &repo, "chk-idle", "web");
    let stranger = format!("chkapp-stranger-{idle}");
    let _stranger = Cleanup::new(&[]).and_container(&stranger);
    let started = docker(&[
        "run",
        "-d",
        "--name",
        &stranger,
        "-p",
        &format!("{idle}:80"),
        &image,
    ]);
    assert!(started.status.success(), "{started:?}");
    assert_serves(idle, "the stranger");
    let out = atlas(&s, &repo, &["ports", "check-conflicts"]).ok();
    assert!(out.contains(&format!("✗ {idle} (chk-idle web)")), "{out}");
    assert!(!out.contains(&format!("✗ {web} ")), "{out}");
    let out = atlas(&s, &repo, &["ports", "check", &idle.to_string()]).ok();
    assert!(!out.contains("of worktree"), "{out}");
}

#[test]
fn docker_down_up_down_volumes_and_regenerate() {
    let Some(image) = docker_ready("docker_down_up_down_volumes_and_regenerate") else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "cycle", &image, "");
    let project = "cycle-cycle-x";
    let _cleanup = Cleanup::new(&[project]);
    let wt = add_up(&s, &repo, "cycle-x", project);
    let web = port(&s, &repo, "cycle-x", "web");
    assert_serves(web, "after add --up");

    // down (in the worktree): containers and network go, the named volume stays.
    let out = atlas(&s, &wt, &["docker", "down"]).ok();
    assert!(
        out.contains("Brought Compose project cycle-cycle-x of cycle-x down (named volumes kept"),
        "{out}"
    );
    assert_eq!(containers(project), Vec::<String>::new());
    assert_eq!(networks(project), Vec::<String>::new());
    assert_eq!(volumes(project), ["cycle-x-db-data"]);
    assert_free(web, "after docker down");
    assert_eq!(
        atlas(&s, &wt, &["docker", "ps", "cycle-x"]).ok(),
        "No containers in Compose project cycle-cycle-x (cycle-x)\n"
    );

    // up again (from the main worktree, by name): the same project, serving again.
    let out = atlas(&s, &repo, &["docker", "up", "cycle-x"]).ok();
    assert!(
        out.contains("Started Compose project cycle-cycle-x for cycle-x"),
        "{out}"
    );
    assert!(
        out.contains(&COMPOSE.container("cycle-cycle-x", "web")),
        "up shows ps: {out}"
    );
    assert_eq!(running(project), container_names(project, &["db", "test", "web"]));
    assert_eq!(networks(project), ["cycle-x-network"]);
    assert_serves(web, "after docker up");

    // down --volumes: nothing is left.
    let out = atlas(&s, &repo, &["docker", "down", "--volumes", "cycle-x"]).ok();
    assert!(out.contains("down with its volumes"), "{out}");
    assert_gone(project, "docker down --volumes");

    // regenerate writes the deleted compose file again, the same as add wrote it.
    let file = wt.join("docker-compose.yml");
    let before = fs::read_to_string(&file).unwrap();
    fs::remove_file(&file).unwrap();
    let out = atlas(&s, &wt, &["docker", "regenerate"]).ok();
    assert!(
        out.lines()
            .any(|l| l.starts_with("Wrote ") && l.contains("docker-compose.yml")),
        "{out}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), before);
    atlas(&s, &wt, &["docker", "up"]).ok();
    assert_serves(web, "after regenerate and up");
}

#[test]
fn exec_runs_compose_in_the_worktrees_project() {
    let Some(image) = docker_ready("exec_runs_compose_in_the_worktrees_project") else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "execdk", &image, "");
    let project = "execdk-execdk-x";
    let _cleanup = Cleanup::new(&[project]);
    add_up(&s, &repo, "execdk-x", project);

    // Compose without -p would call the project `execdk-x` (the directory) and find nothing;
    // COMPOSE_PROJECT_NAME from exec makes it this worktree's project.
    let exec_compose = |args: &[&str]| {
        let mut argv = vec!["exec", "-w", "execdk-x", "--"];
        argv.extend(COMPOSE.argv());
        argv.extend(args);
        atlas(&s, &repo, &argv)
    };
    let run = exec_compose(&["ps"]);
    let out = run.ok();
    for name in container_names(project, &["db", "test", "web"]) {
        let row = out
            .lines()
            .find(|l| l.starts_with(&name))
            .unwrap_or_else(|| panic!("{name} missing: {run}"));
        assert!(row.contains(" Up "), "{row}");
    }
    let run = exec_compose(&["ps", "-q"]);
    assert_eq!(run.ok().lines().count(), 3, "{run}");
}

#[test]
fn two_repositories_with_the_same_worktree_name_get_apart_projects() {
    let Some(image) =
        docker_ready("two_repositories_with_the_same_worktree_name_get_apart_projects")
    else {
        return;
    };
    let s = Sandbox::new();
    // The same ports for both: only the machine-wide lease file keeps them apart.
    let config = atlas_toml(port_block(), "");
    let shop = compose_repo(&s, "shop", &example_template(&image), Some(&config));
    let blog = compose_repo(&s, "blog", &example_template(&image), Some(&config));
    let _cleanup = Cleanup::new(&["shop-feature-x", "blog-feature-x"]);
    fs::create_dir_all(s.at("shop-wt")).unwrap();
    fs::create_dir_all(s.at("blog-wt")).unwrap();

    let (a, b) = std::thread::scope(|t| {
        let a = t.spawn(|| atlas(&s, &shop, &["add", "--up", "../shop-wt/feature-x"]));
        let b = t.spawn(|| atlas(&s, &blog, &["add", "--up", "../blog-wt/feature-x"]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(
        a.ok().contains("Started Compose project shop-feature-x"),
        "{a}"
    );
    assert!(
        b.ok().contains("Started Compose project blog-feature-x"),
        "{b}"
    );

    let shop_web = port(&s, &shop, "feature-x", "web");
    let blog_web = port(&s, &blog, "feature-x", "web");
    assert_ne!(
        shop_web, blog_web,
        "the lease file keeps the repositories apart"
    );
    for (project, web) in [("shop-feature-x", shop_web), ("blog-feature-x", blog_web)] {
        assert_eq!(running(project), [COMPOSE.container(project, "web")]);
        assert_eq!(networks(project), [format!("{project}-network")]);
        assert_eq!(volumes(project), [format!("{project}-data")]);
        let published = docker_lines(&["port", &COMPOSE.container(project, "web"), "80"]);
        assert!(
            published.iter().any(|p| p.ends_with(&format!(":{web}"))),
            "{project}: {published:?}"
        );
        assert_serves(web, project);
    }
}

#[test]
fn on_remove_down_keeps_the_named_volume() {
    let Some(image) = docker_ready("on_remove_down_keeps_the_named_volume") else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "downapp", &image, "\n[docker]\non_remove = \"down\"\n");
    let project = "downapp-down-x";
    let _cleanup = Cleanup::new(&[project]);
    add_up(&s, &repo, "down-x", project);
    let web = port(&s, &repo, "down-x", "web");
    assert_serves(web, "down-x");

    let run = atlas(&s, &repo, &["remove", "down-x"]);
    let out = run.ok();
    assert!(
        out.contains("Brought Compose project downapp-down-x down (its named volumes stay"),
        "{run}"
    );
    assert!(!s.at("down-x").exists());
    assert_eq!(containers(project), Vec::<String>::new());
    assert_eq!(networks(project), Vec::<String>::new());
    assert_eq!(volumes(project), ["down-x-db-data"]);
    assert_free(web, "down-x's web after remove");
    // Nor does a later reconcile take the volume.
    atlas(&s, &repo, &["list"]).ok();
    assert_eq!(volumes(project), ["down-x-db-data"]);
}

#[test]
fn a_broken_on_remove_never_falls_back_to_removing_volumes() {
    let Some(image) = docker_ready("a_broken_on_remove_never_falls_back_to_removing_volumes")
    else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "typoapp", &image, "");
    let (one, two) = ("typoapp-typo-a", "typoapp-typo-b");
    let _cleanup = Cleanup::new(&[one, two]);
    add_up(&s, &repo, "typo-a", one);
    add_up(&s, &repo, "typo-b", two);
    // The team meant "keep"; the file now says something git-atlas does not know.
    let toml = repo.join(".atlas.toml");
    let mut text = fs::read_to_string(&toml).unwrap();
    text.push_str("\n[docker]\non_remove = \"Keep\"\n");
    fs::write(&toml, text).unwrap();

    let run = atlas(&s, &repo, &["remove", "typo-a"]);
    run.ok();
    assert!(
        run.stderr
            .contains("left Compose project typoapp-typo-a as it is")
            && run.stderr.contains("on_remove"),
        "{run}"
    );
    assert_eq!(running(one), container_names(one, &["db", "test", "web"]), "{run}");
    assert_eq!(volumes(one), ["typo-a-db-data"]);

    // A worktree that goes by rm -rf and prune is not torn down with a guessed default either.
    fs::remove_dir_all(s.at("typo-b")).unwrap();
    git(&s, &repo, &["worktree", "prune"]).ok();
    let run = atlas(&s, &repo, &["list"]);
    run.ok();
    assert!(run.stderr.contains("on_remove is unknown"), "{run}");
    assert_eq!(volumes(two), ["typo-b-db-data"], "{run}");
}

#[test]
fn on_remove_keep_leaves_the_project_running() {
    let Some(image) = docker_ready("on_remove_keep_leaves_the_project_running") else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "keepapp", &image, "\n[docker]\non_remove = \"keep\"\n");
    let project = "keepapp-keep-x";
    let _cleanup = Cleanup::new(&[project]);
    add_up(&s, &repo, "keep-x", project);
    let web = port(&s, &repo, "keep-x", "web");

    let run = atlas(&s, &repo, &["remove", "keep-x"]);
    let out = run.ok();
    assert!(
        out.contains("Left Compose project keepapp-keep-x as it is"),
        "{run}"
    );
    assert!(!s.at("keep-x").exists());
    atlas(&s, &repo, &["list"]).ok();
    assert_eq!(running(project), container_names(project, &["db", "test", "web"]));
    assert_eq!(networks(project), ["keep-x-network"]);
    assert_eq!(volumes(project), ["keep-x-db-data"]);
    assert_serves(web, "keep-x after remove");
}

#[test]
fn docker_up_on_a_taken_port_fails_with_composes_reason_and_remove_still_cleans_up() {
    let Some(image) = docker_ready(
        "docker_up_on_a_taken_port_fails_with_composes_reason_and_remove_still_cleans_up",
    ) else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "busyapp", &image, "");
    let project = "busyapp-busy-x";
    let _cleanup = Cleanup::new(&[project]);
    atlas(&s, &repo, &["add", "../busy-x"]).ok();
    let web = port(&s, &repo, "busy-x", "web");

    // Something else takes the web port after it was allocated.
    let squatter = TcpListener::bind(("0.0.0.0", web)).unwrap();
    let err = atlas(&s, &repo, &["docker", "up", "busy-x"]).fails(1);
    assert!(
        err.contains(&format!("up -d` failed for project {project}")),
        "{err}"
    );
    assert!(
        err.contains(&web.to_string()),
        "Compose's own reason names the port: {err}"
    );
    drop(squatter);

    let out = atlas(&s, &repo, &["docker", "up", "busy-x"]).ok();
    assert!(
        out.contains("Started Compose project busyapp-busy-x"),
        "{out}"
    );
    assert_serves(web, "busy-x once the port is free");
    atlas(&s, &repo, &["remove", "busy-x"]).ok();
    assert_gone(project, "remove after a failed and a good up");
}

#[test]
fn the_command_regenerate_suggests_starts_the_worktrees_project() {
    let Some(image) = docker_ready("the_command_regenerate_suggests_starts_the_worktrees_project")
    else {
        return;
    };
    let s = Sandbox::new();
    let repo = seed_repo(&s, "hintapp", &image, "");
    let project = "hintapp-hint-x";
    // `hint-x`: what Compose v1 calls a project after its directory.
    let _cleanup = Cleanup::new(&[project, "hint-x"]);
    atlas(&s, &repo, &["add", "../hint-x"]).ok();
    let wt = s.at("hint-x");

    let out = atlas(&s, &wt, &["docker", "regenerate"]).ok();
    // `… run `git atlas docker up hint-x` (or `<command>` in <dir>) to apply it`
    let hint = out
        .lines()
        .find(|l| l.starts_with(&format!("Compose project {project}: run `")))
        .unwrap_or_else(|| panic!("{out}"));
    let alternative = hint
        .split_once("(or `")
        .and_then(|(_, rest)| rest.split_once("` in "))
        .unwrap_or_else(|| panic!("{hint}"));
    let (command, dir) = (
        alternative.0,
        alternative.1.trim_end_matches(") to apply it"),
    );
    assert_eq!(Path::new(dir), wt, "{hint}");

    // The user runs just that, in a plain shell in that directory.
    let run = Run::of(with_docker(&mut s.cmd("sh", Path::new(dir))).args(["-c", command]));
    run.ok();
    assert_eq!(
        running(project),
        container_names(project, &["db", "test", "web"]),
        "`{command}` in {dir} started another project: {:?}\n{run}",
        running("hint-x")
    );
    let ps = atlas(&s, &repo, &["docker", "ps", "hint-x"]).ok();
    assert!(
        ps.contains(&COMPOSE.container("hintapp-hint-x", "web")),
        "{ps}"
    );
}

#[test]
fn a_clone_in_a_directory_of_the_same_name_does_not_take_over_the_project() {
    let Some(image) =
        docker_ready("a_clone_in_a_directory_of_the_same_name_does_not_take_over_the_project")
    else {
        return;
    };
    let s = Sandbox::new();
    let config = atlas_toml(port_block(), "");
    let one = compose_repo(&s, "one/dupclone", &seed_template(&image), Some(&config));
    let two = compose_repo(&s, "two/dupclone", &seed_template(&image), Some(&config));
    let _cleanup = Cleanup::new(&["dupclone-dup-x"]);
    let run = atlas(&s, &one, &["add", "--up", "../dup-x"]);
    assert!(
        run.ok().contains("Started Compose project dupclone-dup-x"),
        "{run}"
    );
    let one_web = port(&s, &one, "dup-x", "web");
    assert_serves(one_web, "the first clone's dup-x");

    // The second clone's worktree comes up too (or is refused); either way the first clone's
    // containers keep running from its own worktree.
    let _ = atlas(&s, &two, &["add", "--up", "../dup-x"]);
    let dirs = docker_lines(&[
        "ps",
        "--filter",
        &label("dupclone-dup-x"),
        "--filter",
        "status=running",
        "--format",
        "{{.Label \"com.docker.compose.project.working_dir\"}}",
    ]);
    let first = s.at("one/dup-x").display().to_string();
    assert!(
        dirs.iter().filter(|d| **d == first).count() == 3,
        "the first clone's containers were taken over: running from {dirs:?}"
    );
    assert_serves(
        one_web,
        "the first clone's dup-x after the second clone's up",
    );
    // Nor does the second clone count the first one's containers as its own.
    let ps = atlas(&s, &two, &["docker", "ps"]).ok();
    assert!(ps.starts_with("No containers"), "{ps}");
    let ps = atlas(&s, &one, &["docker", "ps"]).ok();
    assert!(
        ps.contains(&COMPOSE.container("dupclone-dup-x", "web")),
        "{ps}"
    );
}

// ---------------------------------------------------------------------------------------------
// No Docker needed.

#[test]
fn exec_gives_the_worktrees_values_and_passes_the_exit_code_on() {
    let s = Sandbox::new();
    let repo = s.repo("execapp", "GREETING=hello\n");
    fs::write(
        repo.join("docker-compose.worktree.template.yml"),
        seed_template("unused-image"),
    )
    .unwrap();
    s.git(&repo, &["add", "docker-compose.worktree.template.yml"])
        .ok();
    s.git(&repo, &["commit", "-qm", "template"]).ok();
    s.atlas(&repo, &["add", "../exec-x"]).ok();
    let wt = s.at("exec-x");
    let off = offset("exec-x");

    let out = s
        .atlas(
            &repo,
            &[
                "exec",
                "-w",
                "exec-x",
                "--",
                "sh",
                "-c",
                "echo $COMPOSE_PROJECT_NAME $ALLOCATED_WEB_PORT $ALLOCATED_DB_PORT $WORKTREE_NAME $PORT_OFFSET $GREETING; pwd",
            ],
        )
        .ok();
    assert_eq!(
        out,
        format!(
            "execapp-exec-x {} {} exec-x {off} hello\n{}\n",
            8080 + off,
            5432 + off,
            wt.display()
        )
    );
    // Without -w: the current worktree, in the current directory.
    fs::create_dir_all(wt.join("sub")).unwrap();
    let out = s
        .atlas(
            &wt.join("sub"),
            &["exec", "--", "sh", "-c", "echo $COMPOSE_PROJECT_NAME; pwd"],
        )
        .ok();
    assert_eq!(
        out,
        format!("execapp-exec-x\n{}\n", wt.join("sub").display())
    );

    assert_eq!(
        s.atlas(&wt, &["exec", "--", "sh", "-c", "exit 3"]).code(),
        3
    );
    assert_eq!(
        s.atlas(&wt, &["exec", "--", "sh", "-c", "kill -TERM $$"])
            .code(),
        128 + 15,
        "a signal's death is 128 + its number, as in a shell"
    );
    let err = s
        .atlas(&wt, &["exec", "--", "no-such-program-xyz"])
        .fails(127);
    assert!(err.contains("no-such-program-xyz"), "{err}");
}

#[test]
fn add_no_docker_writes_no_compose_file_and_records_no_project() {
    let s = Sandbox::new();
    let repo = compose_repo(&s, "nodockflag", &seed_template("unused-image"), None);
    fs::write(
        repo.join(".env.worktree.template"),
        "WEB=${ALLOCATED_WEB_PORT}\n",
    )
    .unwrap();
    s.git(&repo, &["add", ".env.worktree.template"]).ok();
    s.git(&repo, &["commit", "-qm", "env template"]).ok();
    let out = s.atlas(&repo, &["add", "--no-docker", "../plain-x"]).ok();
    let wt = s.at("plain-x");
    assert!(
        out.contains(".env.worktree in") && !out.contains("docker-compose.yml"),
        "{out}"
    );
    assert!(!wt.join("docker-compose.yml").exists(), "{out}");
    assert!(wt.join(".env.worktree").exists());
    assert!(
        s.registry(&repo).get("compose_projects").is_none(),
        "{}",
        s.registry(&repo)
    );
    // --up and --no-docker contradict each other: a usage error before Git creates anything.
    let err = s
        .atlas(&repo, &["add", "--up", "--no-docker", "../both"])
        .fails(2);
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(!s.at("both").exists());
    // Later, `docker regenerate` writes it.
    let out = s.atlas(&wt, &["docker", "regenerate"]).ok();
    assert!(wt.join("docker-compose.yml").exists(), "{out}");
}

#[test]
fn without_docker_add_up_and_remove_still_work() {
    let s = Sandbox::new();
    let repo = compose_repo(&s, "nodock", &seed_template("unused-image"), None);
    let no_docker = |cwd: &Path, args: &[&str]| {
        Run::of(
            s.cmd("git", cwd)
                .env("DOCKER_HOST", "unix:///nonexistent.sock")
                .arg("atlas")
                .args(args),
        )
    };
    // What git-atlas can say depends on what is installed: with the docker CLI and Compose, the
    // daemon is what is missing.
    let installed = |p: &str| {
        std::env::split_paths(&support::path_without_git_atlas()).any(|d| d.join(p).is_file())
    };
    let why = if installed("docker")
        && (installed("docker-compose") || {
            Command::new("docker")
                .args(["compose", "version"])
                .output()
                .is_ok_and(|o| o.status.success())
        }) {
        "Docker is not running"
    } else {
        "is not installed"
    };

    // add renders the compose file and never asks Docker.
    let run = no_docker(&repo, &["add", "../nodock-x"]);
    run.ok();
    assert!(!run.stderr.contains("Docker"), "{run}");
    let compose = fs::read_to_string(s.at("nodock-x/docker-compose.yml")).unwrap();
    assert!(
        compose.contains(&format!("\"{}:80\"", 8080 + offset("nodock-x"))),
        "{compose}"
    );

    // add --up: the worktree is made, and one line says why nothing started.
    let run = no_docker(&repo, &["add", "--up", "../nodock-y"]);
    run.ok();
    let lines: Vec<&str> = run.stderr.lines().filter(|l| l.contains(why)).collect();
    assert_eq!(lines.len(), 1, "{run}");
    assert!(!run.stderr.contains("Traceback"), "{run}");
    assert!(s.at("nodock-y/docker-compose.yml").is_file());
    assert!(!run.stdout.contains("Started Compose project"), "{run}");

    // The docker verbs need Docker, so they fail, in one clear line.
    for args in [
        &["docker", "up"][..],
        &["docker", "down"],
        &["docker", "ps"],
    ] {
        let err = no_docker(&s.at("nodock-x"), args).fails(1);
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(!err.contains("Traceback"), "{args:?}: {err}");
    }

    // remove still removes.
    for wt in ["nodock-x", "nodock-y"] {
        let run = no_docker(&repo, &["remove", wt]);
        run.ok();
        assert!(!s.at(wt).exists(), "{run}");
        s.assert_released(&repo, wt, "remove without Docker");
    }

    // nodock-y's project (add --up recorded it) waits for Docker, quietly but for cleanup.
    let run = no_docker(&repo, &["list"]);
    run.ok();
    assert!(!run.stderr.contains("Docker"), "{run}");
    let out = no_docker(&repo, &["ports", "cleanup"]).ok();
    assert!(
        out.contains("Compose project nodock-nodock-y of nodock-y waits for Docker"),
        "{out}"
    );

    // Once Docker is back, the next reconcile settles it.
    if docker_ready("without_docker_add_up_and_remove_still_work (Docker back)").is_some() {
        let _cleanup = Cleanup::new(&["nodock-nodock-x", "nodock-nodock-y"]);
        atlas(&s, &repo, &["list"]).ok();
        let out = atlas(&s, &repo, &["ports", "cleanup"]).ok();
        assert!(!out.contains("nodock-nodock-y"), "{out}");
        assert_eq!(
            s.registry(&repo).get("compose_projects"),
            None,
            "{:#}",
            s.registry(&repo)
        );
    }
}

#[test]
fn add_up_waits_only_for_a_database_its_project_serves() {
    let test = "add_up_waits_only_for_a_database_its_project_serves";
    let Some(image) = docker_ready(test) else {
        return;
    };
    let _cleanup = Cleanup::new(&["nowait-w"]);
    let s = Sandbox::new();
    let base = port_block();
    let repo = compose_repo(
        &s,
        "nowait",
        &example_template(&image),
        Some(&atlas_toml(base, "")),
    );
    // The worktree's database port is its own, but nothing in its project publishes it.
    let db_port = base + 30;
    fs::write(
        repo.join(".env"),
        format!("DATABASE_URL=postgresql://u:p@localhost:{db_port}/app\n"),
    )
    .unwrap();
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let envs: Vec<(&str, &str)> = if host.is_empty() {
        Vec::new()
    } else {
        vec![("DOCKER_HOST", host.as_str())]
    };
    let Some(tty) = s.on_tty(&repo, &envs, "atlas add --up ../w") else {
        return;
    };
    assert!(tty.stdout.contains("Started Compose project"), "{tty}");
    // ... and does not send the user to `docker up` for it.
    assert!(
        tty.stdout
            .contains("(start that server, then run `git atlas db create w`)"),
        "{tty}"
    );
    assert!(
        !tty.stdout.contains("waiting up to"),
        "no wait for a server the project does not run: {tty}"
    );
}

#[test]
fn quiet_keeps_composes_own_progress_back_unless_it_fails() {
    let test = "quiet_keeps_composes_own_progress_back_unless_it_fails";
    let Some(image) = docker_ready(test) else {
        return;
    };
    let _cleanup = Cleanup::new(&["hush-w"]);
    let s = Sandbox::new();
    let repo = compose_repo(
        &s,
        "hush",
        &example_template(&image),
        Some(&atlas_toml(port_block(), "")),
    );
    atlas(&s, &repo, &["add", "../w"]).ok();
    let up = atlas(&s, &repo, &["-q", "docker", "up", "w"]).success();
    assert!(up.stdout.contains("Started Compose project hush-w"), "{up}");
    assert!(!up.stderr.contains("Creating"), "-q: {up}");
    let down = atlas(&s, &repo, &["docker", "down", "w"]).success();
    assert!(
        down.stderr.contains("Removing"),
        "Compose speaks without -q: {down}"
    );

    // A failure shows what Compose said, -q or not: a port taken by another process.
    let port = port(&s, &repo, "w", "web");
    let _taken = TcpListener::bind(("0.0.0.0", port)).unwrap();
    let run = atlas(&s, &repo, &["-q", "docker", "up", "w"]);
    let err = run.fails(1);
    assert!(
        err.contains("failed for project hush-w")
            && err.to_lowercase().contains("address already in use"),
        "{run}"
    );
}

#[test]
fn removing_a_worktree_whose_project_never_ran_leaves_compose_out_of_it() {
    let test = "removing_a_worktree_whose_project_never_ran_leaves_compose_out_of_it";
    if docker_ready(test).is_none() {
        return;
    }
    let _cleanup = Cleanup::new(&["never-w"]);
    let s = Sandbox::new();
    let repo = compose_repo(
        &s,
        "never",
        &example_template("unused-image"),
        Some(&atlas_toml(port_block(), "")),
    );
    atlas(&s, &repo, &["add", "../w"]).ok();
    assert!(s.at("w/docker-compose.yml").exists());
    let run = atlas(&s, &repo, &["remove", "w"]).success();
    assert!(run.stdout.contains("Removed worktree w"), "{run}");
    assert!(
        !run.stdout.contains("Compose project"),
        "nothing to bring down: {run}"
    );
    assert!(
        !run.stderr.contains("not found"),
        "Compose was not run: {run}"
    );
}
