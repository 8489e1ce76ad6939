//! Projects' own compose files with Docker Compose v1 (`docker-compose` 1.29, Debian 12's):
//! the cases are in tests/compose/cases.rs.

mod support;

const COMPOSE: support::docker::Compose = support::docker::Compose::V1;

include!("compose/cases.rs");

#[test]
fn compose_v1_gets_no_v2_syntax_and_one_line_on_the_ports_it_cannot_move() {
    let test = "compose_v1_gets_no_v2_syntax_and_one_line_on_the_ports_it_cannot_move";
    if !docker_ready(test) {
        return;
    }
    let s = Sandbox::new();
    let repo = s.fixture("documenso");
    let wt = s.at("documenso-feat");
    let added = atlas(&s, &repo, &["add", wt.to_str().unwrap()]).success();
    let v1: Vec<&str> = added
        .stderr
        .lines()
        .filter(|l| l.contains("Compose v1"))
        .collect();
    assert_eq!(v1.len(), 1, "{added}");
    assert!(
        v1[0].contains("host port(s) 1100, 2500, 9000, 9001, 9002, 54320, 63790 as numbers")
            && v1[0].contains("Compose v2.24.4 or later"),
        "{added}"
    );
    // What v1 can do: its own container, volume and network names, its own project name.
    let own = fs::read_to_string(wt.join("docker/development/compose.atlas.yaml")).unwrap();
    assert!(!own.contains('!'), "{own}");
    assert!(
        own.contains("container_name: \"documenso-documenso-feat_database_1\""),
        "{own}"
    );
    let env = fs::read_to_string(wt.join("docker/development/.env")).unwrap();
    assert!(
        env.contains("\nCOMPOSE_PROJECT_NAME=documenso-documenso-feat\n"),
        "{env}"
    );
    // v1 reads the override (it would reject a tag), merged over the project's file.
    let config = compose(
        &s,
        &wt.join("docker/development"),
        &["-f", "compose.yml", "-f", "compose.atlas.yaml", "config"],
    );
    // The project's own file has a top-level `name:`, which v1 rejects, as in main: nothing
    // of git-atlas's is what it complains about.
    assert!(
        config.stderr.contains("'name' does not match")
            && !config.stderr.contains("compose.atlas.yaml"),
        "{config}"
    );
}
