//! Projects' own compose files with Docker Compose v2 (`docker compose`, the plugin in
//! `$GIT_ATLAS_TEST_COMPOSE_V2`): the cases are in tests/compose/cases.rs.

mod support;

const COMPOSE: support::docker::Compose = support::docker::Compose::V2;

include!("compose/cases.rs");

/// Removes a volume when dropped.
struct Volume(&'static str);

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = docker(&["volume", "rm", "-f", self.0]);
    }
}

#[test]
fn every_compose_feature_real_files_use_gives_the_worktree_its_own_project() {
    let test = "every_compose_feature_real_files_use_gives_the_worktree_its_own_project";
    if !docker_ready(test) {
        return;
    }
    // The external volume the project expects, shared by main and the worktree on purpose.
    let _volume = Volume("features-shared");
    assert!(docker(&["volume", "create", "features-shared"])
        .status
        .success());
    let added = side_by_side(
        "compose-features",
        "",
        &["up", "-d"],
        None,
        &[],
        &|_, _, _| {},
    );
    assert!(
        added.stdout.contains("Wrote .env, compose.atlas.yaml in "),
        "{added}"
    );
    let listed = docker(&["volume", "ls", "-q", "--filter", "name=features-shared"]);
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).trim(),
        "features-shared"
    );
}

#[test]
fn a_project_run_with_f_from_a_package_script_is_told_how_its_worktree_runs_its_own() {
    let test = "a_project_run_with_f_from_a_package_script_is_told_how_its_worktree_runs_its_own";
    // Its database is a real PostgreSQL, in which `docker up` creates the worktree's own.
    if !docker_ready(test)
        || support::docker::image_with(COMPOSE, test, "GIT_ATLAS_TEST_PG_IMAGE").is_none()
    {
        return;
    }
    let Some(bin) = support::db::pg_bin() else {
        support::unavailable::<()>(test, "PostgreSQL client (psql)", "not installed");
        return;
    };
    let databases =
        |port: u16| -> String {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let out = Command::new(bin.join("psql"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "documenso"])
                .args(["-d", "postgres", "-Atc"])
                .arg("select datname from pg_database where datname like 'documenso%' order by 1")
                .env("PGPASSWORD", "password")
                .env("PGCONNECT_TIMEOUT", "2")
                .output()
                .unwrap();
                if out.status.success() || Instant::now() > deadline {
                    return String::from_utf8_lossy(&out.stdout).trim().to_string();
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        };
    let db_port = |project: &Value| -> u16 {
        project["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "database")
            .map(|s| s["ports"][0]["published"].as_u64().unwrap() as u16)
            .unwrap()
    };
    let added = side_by_side(
        "documenso",
        "",
        &["-f", "docker/development/compose.yml", "up", "-d"],
        Some(&["docker", "up"]),
        &["database"],
        &|main, wt, up| {
            // Main's server has main's database; the worktree's its own, which git-atlas made.
            assert_eq!(databases(db_port(main)), "documenso");
            assert_eq!(
                databases(db_port(wt)),
                "documenso\ndocumenso_documenso_feat"
            );
            // Said once, though two variables (the URL and the direct URL) name it.
            let said: Vec<&str> = up
                .stdout
                .lines()
                .chain(up.stderr.lines())
                .filter(|l| l.contains("documenso_documenso_feat"))
                .collect();
            assert_eq!(said.len(), 1, "{up}");
            assert!(
                said[0].starts_with("Created database documenso_documenso_feat "),
                "{up}"
            );
        },
    );
    let lines: Vec<&str> = added
        .stderr
        .lines()
        .filter(|l| l.contains("is run with -f"))
        .collect();
    assert_eq!(lines.len(), 1, "{added}");
    assert!(
        lines[0].contains("docker/development/compose.yml is run with -f (package.json)")
            && lines[0].contains("run `git atlas docker up`"),
        "{added}"
    );
}

#[test]
fn compose_is_asked_its_version_once_per_install_not_at_every_worktree() {
    let test = "compose_is_asked_its_version_once_per_install_not_at_every_worktree";
    if !docker_ready(test) {
        return;
    }
    let s = Sandbox::new();
    let repo = s.fixture("compose-features");
    // The real docker CLI, with each call logged.
    let spy = s.at("spy");
    fs::create_dir_all(&spy).unwrap();
    let log = s.at("docker.log");
    let real = which::which("docker").unwrap();
    let script = spy.join("docker");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let path = support::path_with(&[&spy, support::bin().parent().unwrap()]);
    let asked = || {
        fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("compose version"))
            .count()
    };
    for name in ["one", "two"] {
        let wt = s.at(name);
        let mut c = s.cmd("git", &repo);
        with_docker(&mut c)
            .env("PATH", &path)
            .args(["atlas", "add", wt.to_str().unwrap()]);
        Run::of(&mut c).success();
        assert!(
            fs::read_to_string(wt.join("compose.atlas.yaml"))
                .unwrap()
                .contains("ports: !override"),
            "{name}"
        );
    }
    assert_eq!(
        asked(),
        1,
        "{}",
        fs::read_to_string(&log).unwrap_or_default()
    );
}
