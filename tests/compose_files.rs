//! What a worktree gets for the project's own compose files whatever Compose is installed (no
//! Docker needed): with `--no-docker`, with a compose file that does not parse, and the main
//! worktree's Compose project name in `exec`. (What depends on the Compose version is in
//! tests/compose/cases.rs.)

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::Sandbox;

fn project(s: &Sandbox, name: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(name);
    let dir = s.at(name);
    copy_tree(&from, &dir);
    s.git(&dir, &["init", "-q", "-b", "main"]).ok();
    s.git(&dir, &["add", "-A"]).ok();
    s.git(&dir, &["commit", "-q", "-m", "init"]).ok();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn var(text: &str, key: &str) -> Option<String> {
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

#[test]
fn no_docker_writes_no_override_and_no_compose_file_naming_it() {
    let s = Sandbox::new();
    let repo = project(&s, "compose-features");
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
    let repo = project(&s, "bookstack-dev");
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
    let repo = project(&s, "compose-features");
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
    let docu = project(&s, "documenso");
    assert_eq!(name(&docu), "documenso-development");
}
