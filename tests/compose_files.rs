//! What a worktree gets for the project's own compose files whatever Compose is installed (no
//! Docker needed): with `--no-docker`, with a compose file that does not parse, and the main
//! worktree's Compose project name in `exec`. (What depends on the Compose version is in
//! tests/compose/cases.rs.)

mod support;

use std::fs;
use std::path::Path;

use support::env_var as var;
use support::Sandbox;

#[test]
fn no_docker_writes_no_override_and_no_compose_file_naming_it() {
    let s = Sandbox::new();
    let repo = s.fixture("compose-features");
    let wt = s.at("nodocker");
    s.atlas(&repo, &["add", "--no-docker", wt.to_str().unwrap()])
        .ok();
    assert!(!wt.join("compose.atlas.yaml").exists());
    let env = fs::read_to_string(wt.join(".env")).unwrap();
    assert_eq!(var(&env, "COMPOSE_FILE"), None, "{env}");
    assert!(var(&env, "COMPOSE_PROJECT_NAME").is_some(), "{env}");
    // `git atlas env` writes them.
    s.atlas(&wt, &["env"]).ok();
    assert!(wt.join("compose.atlas.yaml").is_file());
    let env = fs::read_to_string(wt.join(".env")).unwrap();
    assert!(var(&env, "COMPOSE_FILE").is_some(), "{env}");
}

#[test]
fn a_compose_file_that_does_not_parse_is_named_in_one_line_and_the_rest_goes_on() {
    let s = Sandbox::new();
    let repo = s.fixture("bookstack-dev");
    fs::write(repo.join("docker-compose.yml"), "services: [\n  app:\n").unwrap();
    s.git(&repo, &["commit", "-qam", "broken"]).ok();
    let wt = s.at("feat");
    let run = s.atlas(&repo, &["add", wt.to_str().unwrap()]);
    run.ok();
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("docker-compose.yml"))
        .collect();
    assert!(!lines.is_empty(), "{run}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("leaves this Compose project's ports and names to it")),
        "{run}"
    );
    // The env file is carried all the same.
    let env = fs::read_to_string(wt.join(".env")).unwrap();
    assert!(var(&env, "APP_KEY").is_some(), "{env}");
}

#[test]
fn exec_gives_the_main_worktree_composes_own_project_name() {
    let s = Sandbox::new();
    let repo = s.fixture("compose-features");
    let wt = s.at("feat");
    s.atlas(&repo, &["add", wt.to_str().unwrap()]).ok();
    let name = |dir: &Path| {
        let out = s
            .atlas(
                dir,
                &["exec", "--", "sh", "-c", "echo $COMPOSE_PROJECT_NAME"],
            )
            .ok();
        out.trim().to_string()
    };
    assert_eq!(name(&repo), "compose-features");
    assert_eq!(name(&wt), "compose-features-feat");
    // documenso's top-level `name:` is main's project name.
    let docu = s.fixture("documenso");
    assert_eq!(name(&docu), "documenso-development");
}
