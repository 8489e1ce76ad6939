//! Values in `.env` that git-atlas would shift but cannot (issue 16, item 10): a port variable
//! written as a number that is no port, and a local URL whose port is no port, are one clear
//! error each (file, line, variable, value, fix), before Git creates anything.

mod support;

use support::Sandbox;

/// `git atlas add ../w` in a repository whose `.env` is `env` fails with exit 1, creates no
/// worktree, and says `error: …` and the fix; returns stderr.
fn add_fails(env: &str) -> String {
    let s = Sandbox::new();
    let repo = s.repo("app", env);
    let run = s.atlas(&repo, &["add", "../w"]);
    let err = run.fails(1);
    assert!(
        !s.at("w").exists(),
        "add created the worktree anyway:\n{run}"
    );
    assert!(
        s.git(&repo, &["worktree", "list", "--porcelain"])
            .ok()
            .matches("worktree ")
            .count()
            == 1,
        "Git lists a new worktree:\n{run}"
    );
    let env_path = std::fs::canonicalize(&repo).unwrap().join(".env");
    assert!(
        err.starts_with(&format!("error: {}:", env_path.display())),
        "the error does not name the file:\n{run}"
    );
    err
}

#[test]
fn a_negative_port_is_the_same_error_as_one_too_high() {
    for value in ["70000", "-1", "0", "3000.5"] {
        let err = add_fails(&format!("PORT=3000\nAPI_PORT={value}\n"));
        let first = err.lines().next().unwrap();
        assert!(
            first.ends_with(&format!(
                ":2: API_PORT: {value} is not a valid port (1-65535)"
            )),
            "API_PORT={value}: {err}"
        );
        assert!(
            err.contains("hint: set API_PORT in ")
                && err.contains("to a port from 1 to 65535")
                && err.contains("ignore = [\"API_PORT\"]"),
            "API_PORT={value}: no fix in {err}"
        );
    }
}

#[test]
fn a_port_variable_that_is_no_number_is_left_alone() {
    let s = Sandbox::new();
    let base = support::free_base(1100);
    let repo = s.repo("app", &format!("PORT={base}\nEXPOSE_PORTS=true\n"));
    s.atlas(&repo, &["add", "-q", "../w"]).ok();
    let local = std::fs::read_to_string(s.at("w/.env")).unwrap();
    assert!(
        local.contains("EXPOSE_PORTS=true\n")
            && local.contains(&format!("PORT={}\n", base + support::offset("w"))),
        "{local}"
    );
}

#[test]
fn a_local_url_with_port_99999_is_an_error_that_does_not_show_the_password() {
    let err = add_fails("DATABASE_URL=postgresql://u:Hidden-Pass-7@localhost:99999/app\n");
    let first = err.lines().next().unwrap();
    assert!(
        first.ends_with(
            ":1: DATABASE_URL: the URL's port 99999 (on localhost) is not a valid port (1-65535)"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint: change the port of the URL in DATABASE_URL in ")
            && err.contains("ignore = [\"DATABASE_URL\"]"),
        "no fix in {err}"
    );
    assert!(!err.contains("Hidden-Pass-7"), "the password shows: {err}");
}

#[test]
fn an_ignored_variable_is_left_as_it_is() {
    let s = Sandbox::new();
    let base = support::free_base(1100);
    let repo = s.repo(
        "app",
        &format!("PORT={base}\nLEGACY_PORT=-1\nDATABASE_URL=postgresql://u@localhost:99999/app\n"),
    );
    std::fs::write(
        repo.join(".atlas.toml"),
        "[env]\nignore = [\"LEGACY_PORT\", \"DATABASE_URL\"]\n",
    )
    .unwrap();
    s.atlas(&repo, &["add", "-q", "../w"]).ok();
    let local = std::fs::read_to_string(s.at("w/.env")).unwrap();
    assert!(
        local.contains("LEGACY_PORT=-1\n")
            && local.contains("DATABASE_URL=postgresql://u@localhost:99999/app\n"),
        "{local}"
    );
}
