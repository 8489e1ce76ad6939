//! Hostile worktree names (issue 16, items 2 and 3) through the real CLI and real Git: what
//! git-atlas writes into `.env`, `.env.local`, `.env.worktree` and `docker-compose.yml` is data for
//! every program that reads those files (`sh`, python-dotenv, Node's dotenv, PyYAML as
//! Compose v1 does), never code, syntax or another type. And the paths of generated files that
//! hold something git-atlas must not replace (item 10).

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{unavailable, Sandbox};

/// The names of the probe. Git takes each as the worktree's id (its directory's name), but for
/// white space, which it turns into `-`; `${IFS}` gets a space to `sh` all the same.
const NAMES: &[&str] = &[
    "x|id",
    "a&&id",
    "q>FILE",
    "p(1)",
    "!tag",
    "&anch",
    "yes",
    "0x10",
    "{a}",
    "'q",
    "|x",
    "${HOME}",
    "$(touch pwned)",
    "$(touch${IFS}pwned)",
    "`touch${IFS}tick`",
    "quo'te\"d",
    "feat-ü-x",
    "-dash",
];

/// The one name that no dotenv quoting writes the same for every reader (`'` with `"`).
const INEXACT: &str = "quo'te\"d";

/// A compose template shaped like a real project's.
const COMPOSE: &str = "\
services:
  web:
    image: myapp-web
    container_name: myapp-${WORKTREE_NAME}-web
    ports:
      - \"${ALLOCATED_WEB_PORT}:80\"
    environment:
      WORKTREE: ${WORKTREE_NAME}
      LABEL: \"worktree ${WORKTREE_NAME}\"
      - ignored
    networks: [${WORKTREE_NAME}-net]
    volumes:
      - data:/data
    labels:
      - 'atlas.worktree=${WORKTREE_NAME}'
  db:
    image: postgres:15
    environment:
      - POSTGRES_DB=myapp_${WORKTREE_NAME}
networks:
  ${WORKTREE_NAME}-net:
    name: myapp-${WORKTREE_NAME}-network
volumes:
  data:
    name: ${WORKTREE_NAME}
";

const ENV_TEMPLATE: &str = "\
# Rendered per worktree into .env.worktree (${WORKTREE_NAME})
WORKTREE=${WORKTREE_NAME}
APP_URL=http://localhost:${ALLOCATED_WEB_PORT}/${WORKTREE_NAME} # the app
QUOTED=\"${WORKTREE_NAME}\"
SINGLE='${WORKTREE_NAME}'
";

/// A repository with the templates committed, and a worktree `../sub/<name>` for each name;
/// returns the repository and each worktree's directory by its id (`git atlas list --json`).
fn hostile_worktrees(s: &Sandbox) -> (PathBuf, BTreeMap<String, PathBuf>) {
    let repo = s.repo("app", "PORT=3000\nWEB_PORT=8080\n");
    // The mistake in the compose template above (a list item in a mapping) is fixed here; it
    // is kept there to show that a line's neighbours do not matter to its quoting.
    fs::write(
        repo.join("docker-compose.worktree.template.yml"),
        COMPOSE.replace("      - ignored\n", ""),
    )
    .unwrap();
    fs::write(repo.join(".env.worktree.template"), ENV_TEMPLATE).unwrap();
    s.git(
        &repo,
        &[
            "add",
            "docker-compose.worktree.template.yml",
            ".env.worktree.template",
        ],
    )
    .ok();
    s.git(&repo, &["commit", "-q", "-m", "templates"]).ok();
    for name in NAMES {
        // --detach: Git refuses most of these as branch names.
        let path = format!("../sub/{name}");
        s.atlas(&repo, &["add", "-q", "--detach", "--no-db", "--", &path])
            .success();
    }
    let listed: serde_json::Value =
        serde_json::from_str(&s.atlas(&repo, &["list", "--json"]).ok()).unwrap();
    let ids = listed["worktrees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["name"] != "main")
        .map(|w| {
            (
                w["name"].as_str().unwrap().to_string(),
                PathBuf::from(w["path"].as_str().unwrap()),
            )
        })
        .collect::<BTreeMap<_, _>>();
    assert_eq!(ids.len(), NAMES.len(), "{ids:?}");
    assert!(ids.contains_key("$(touch-pwned)"), "{ids:?}");
    (repo, ids)
}

/// Files a name would create if it ran as code.
fn assert_nothing_ran(s: &Sandbox) {
    let found = Command::new("find")
        .arg(s.root())
        .args(["(", "-name", "FILE", "-o", "-name", "pwned", "-o"])
        .args(["-name", "tick", ")", "-print"])
        .output()
        .unwrap();
    assert!(
        found.stdout.is_empty(),
        "a name ran as code: {}",
        String::from_utf8_lossy(&found.stdout)
    );
}

fn python(s: &Sandbox, cwd: &Path, script: &str) -> Option<String> {
    let out = s.cmd("python3", cwd).args(["-c", script]).output().unwrap();
    assert!(
        out.status.success(),
        "python3 failed in {}: {}",
        cwd.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Whether python3 has what a test needs, else `None` after saying so.
fn python_with(s: &Sandbox, test: &str, modules: &str) -> Option<()> {
    let ok = s
        .cmd("python3", s.root())
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(())
    } else {
        unavailable(test, &format!("python3 with {modules}"), "import failed")
    }
}

#[test]
fn env_files_source_in_sh_without_running_a_name() {
    let s = Sandbox::new();
    let (_repo, ids) = hostile_worktrees(&s);
    for (id, dir) in &ids {
        for (file, var) in [(".env", "WORKTREE_NAME"), (".env.worktree", "QUOTED")] {
            let script = format!("set -a; . ./{file}; printf %s \"${var}\"");
            let out = s.cmd("sh", dir).args(["-c", &script]).output().unwrap();
            assert_eq!(
                (
                    String::from_utf8_lossy(&out.stdout).as_ref(),
                    out.stderr.as_slice()
                ),
                (id.as_str(), &b""[..]),
                "{file} of {id}"
            );
        }
        let all =
            "set -a; . ./.env.worktree; printf '%s\\n' \"$WORKTREE\" \"$APP_URL\" \"$SINGLE\"";
        let out = s.cmd("sh", dir).args(["-c", all]).output().unwrap();
        let port = s.ports_of(&ids_repo(dir), id)["web"];
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{id}\nhttp://localhost:{port}/{id}\n{id}\n"),
            ".env.worktree of {id}"
        );
    }
    assert_nothing_ran(&s);
}

/// The main worktree of the worktree at `dir` (`sub/<name>` beside `app`).
fn ids_repo(dir: &Path) -> PathBuf {
    dir.parent().unwrap().parent().unwrap().join("app")
}

#[test]
fn python_dotenv_reads_every_name_back() {
    let s = Sandbox::new();
    if python_with(&s, "python_dotenv_reads_every_name_back", "dotenv").is_none() {
        return;
    }
    let (_repo, ids) = hostile_worktrees(&s);
    for (id, dir) in &ids {
        // python-dotenv expands `${…}` in every quoting, with no escape: a name with one is
        // read as written only without interpolation, and the files say so.
        let expands = id.contains("${");
        let script = format!(
            "import dotenv, json\n\
             l = dotenv.dotenv_values('.env', interpolate={i}); w = dotenv.dotenv_values('.env.worktree', interpolate={i})\n\
             print(json.dumps([l['WORKTREE_NAME'], w['WORKTREE'], w['QUOTED'], w['SINGLE'], w['APP_URL']]))",
            i = if expands { "False" } else { "True" }
        );
        if expands {
            for file in [".env", ".env.worktree"] {
                let text = fs::read_to_string(dir.join(file)).unwrap();
                assert!(
                    text.contains("which python-dotenv expands"),
                    "{file} of {id}: {text}"
                );
            }
        }
        let got: Vec<String> = serde_json::from_str(&python(&s, dir, &script).unwrap()).unwrap();
        let port = s.ports_of(&ids_repo(dir), id)["web"];
        assert_eq!(
            got,
            [
                id.clone(),
                id.clone(),
                id.clone(),
                id.clone(),
                format!("http://localhost:{port}/{id}")
            ],
            "{id}"
        );
    }
    assert_nothing_ran(&s);
}

#[test]
fn node_dotenv_reads_every_name_back() {
    let test = "node_dotenv_reads_every_name_back";
    let s = Sandbox::new();
    // Node's dotenv is found through NODE_PATH (.ci/run installs it and exports it).
    let node_path = std::env::var_os("NODE_PATH").unwrap_or_default();
    let node = |dir: &Path, script: &str| {
        s.cmd("node", dir)
            .env("NODE_PATH", &node_path)
            .args(["-e", script])
            .output()
    };
    match node(s.root(), "require('dotenv')") {
        Ok(o) if o.status.success() => {}
        _ => {
            return unavailable(
                test,
                "node with the dotenv package",
                "require('dotenv') failed; set NODE_PATH",
            )
            .unwrap_or(())
        }
    }
    let (_repo, ids) = hostile_worktrees(&s);
    let script = "const d = require('dotenv'), fs = require('fs');\
        const l = d.parse(fs.readFileSync('.env')), w = d.parse(fs.readFileSync('.env.worktree'));\
        console.log(JSON.stringify([l.WORKTREE_NAME, w.WORKTREE, w.QUOTED, w.SINGLE]))";
    for (id, dir) in &ids {
        let out = node(dir, script).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        if id == INEXACT {
            // Node's dotenv keeps the backslash of `\"`; the file says so above the line.
            let local = fs::read_to_string(dir.join(".env")).unwrap();
            assert!(
                local.contains("# git-atlas warning: WORKTREE_NAME has '"),
                "{local}"
            );
            continue;
        }
        assert_eq!(got, [id.as_str(); 4], "{id}");
    }
}

#[test]
fn compose_file_is_yaml_with_each_name_a_string() {
    let test = "compose_file_is_yaml_with_each_name_a_string";
    let s = Sandbox::new();
    if python_with(&s, test, "yaml").is_none() {
        return;
    }
    let (_repo, ids) = hostile_worktrees(&s);
    let script = "import yaml, json\n\
        d = yaml.safe_load(open('docker-compose.yml'))\n\
        web = d['services']['web']\n\
        print(json.dumps([web['container_name'], web['environment']['WORKTREE'],\n\
          web['environment']['LABEL'], web['networks'], list(d['networks']),\n\
          d['networks'][list(d['networks'])[0]]['name'], d['volumes']['data']['name'],\n\
          web['labels'], d['services']['db']['environment'], web['ports'], web['volumes']]))";
    for (id, dir) in &ids {
        let got: serde_json::Value = serde_json::from_str(&python(&s, dir, script).unwrap())
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let port = s.ports_of(&ids_repo(dir), id)["web"];
        // Compose reads `$$` as `$`: in values every `$` of the name is doubled; mapping keys
        // are not interpolated, so the network's key has the name as it is.
        let v = id.replace('$', "$$");
        let want = serde_json::json!([
            format!("myapp-{v}-web"),
            v,
            format!("worktree {v}"),
            [format!("{v}-net")],
            [format!("{id}-net")],
            format!("myapp-{v}-network"),
            v,
            [format!("atlas.worktree={v}")],
            [format!("POSTGRES_DB=myapp_{v}")],
            [format!("{port}:80")],
            ["data:/data"],
        ]);
        assert_eq!(
            got,
            want,
            "{id}:\n{}",
            fs::read_to_string(dir.join("docker-compose.yml")).unwrap()
        );
    }
}

#[test]
fn an_ordinary_name_renders_as_before() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\nWEB_PORT=8080\n");
    fs::write(repo.join("docker-compose.worktree.template.yml"), COMPOSE).unwrap();
    fs::write(repo.join(".env.worktree.template"), ENV_TEMPLATE).unwrap();
    s.atlas(&repo, &["add", "-q", "--no-db", "../feature-auth"])
        .success();
    let wt = s.at("feature-auth");
    let ports = s.ports_of(&repo, "feature-auth");
    let plain = |t: &str| {
        t.replace("${WORKTREE_NAME}", "feature-auth")
            .replace("${ALLOCATED_WEB_PORT}", &ports["web"].to_string())
    };
    let compose = fs::read_to_string(wt.join("docker-compose.yml")).unwrap();
    assert_eq!(compose.split_once('\n').unwrap().1, plain(COMPOSE));
    let env = fs::read_to_string(wt.join(".env.worktree")).unwrap();
    assert_eq!(env.split_once('\n').unwrap().1, plain(ENV_TEMPLATE));
    let local = fs::read_to_string(wt.join(".env")).unwrap();
    assert!(local.contains("\nWORKTREE_NAME=feature-auth\n"), "{local}");
}

/// A repository whose commit has `file` as a symbolic link to `target` (and `target` with
/// `content` when given).
fn repo_with_link(s: &Sandbox, file: &str, target: &str, content: Option<&str>) -> PathBuf {
    let repo = s.repo("app", "PORT=3000\n");
    fs::write(
        repo.join("docker-compose.worktree.template.yml"),
        "services:\n  web:\n    container_name: app-${WORKTREE_NAME}\n",
    )
    .unwrap();
    fs::write(
        repo.join(".env.worktree.template"),
        "NAME=${WORKTREE_NAME}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(target, repo.join(file)).unwrap();
    // `.env.local` is derived from a committed `.env` (an ignored one is carried instead).
    let mut add = vec![
        "add",
        "-f",
        ".env",
        file,
        "docker-compose.worktree.template.yml",
        ".env.worktree.template",
    ];
    if let Some(content) = content {
        fs::write(repo.join(target), content).unwrap();
        add.push(target);
    }
    s.git(&repo, &add).ok();
    s.git(&repo, &["commit", "-q", "-m", "link"]).ok();
    repo
}

#[test]
fn committed_symlinks_are_never_replaced_or_written_through() {
    let header = "# generated by git-atlas for worktree main from .env: edit .env\nPORT=3000\n";
    for (file, target, content) in [
        (".env.local", "nowhere", None),
        (".env.worktree", "nowhere", None),
        ("docker-compose.yml", "shared.yml", Some(header)),
        (".env.local", "shared.env", Some(header)),
    ] {
        let s = Sandbox::new();
        let repo = repo_with_link(&s, file, target, content);
        // `git atlas add` knows it from the commit, before Git creates anything.
        let err = s.atlas(&repo, &["add", "-q", "--no-db", "../w"]).fails(1);
        assert!(
            err.contains(&format!("error: {file} is tracked in commit ")),
            "{file}: {err}"
        );
        let wt = s.at("w");
        assert!(!wt.exists(), "{file}");
        // A worktree Git made without git-atlas: the writer refuses too.
        s.git(&repo, &["worktree", "add", "-q", "../w"]).ok();
        let err = s.atlas(&wt, &["env"]).fails(1);
        assert!(
            err.contains(&format!("{}/{file} is a symbolic link", wt.display()))
                && err.contains("git rm"),
            "{file}: {err}"
        );
        assert!(
            fs::symlink_metadata(wt.join(file))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{file}"
        );
        if let Some(content) = content {
            assert_eq!(
                fs::read_to_string(wt.join(target)).unwrap(),
                content,
                "{file}"
            );
        }
        assert_eq!(s.git(&wt, &["status", "--porcelain"]).ok(), "", "{file}");
        // The same on every later run.
        let again = s.atlas(&wt, &["env"]).fails(1);
        assert!(again.contains("is a symbolic link"), "{again}");
    }
}

#[test]
fn a_committed_generated_file_is_never_replaced() {
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    fs::write(
        repo.join("docker-compose.worktree.template.yml"),
        "services:\n  web:\n    container_name: app-${WORKTREE_NAME}\n",
    )
    .unwrap();
    let committed = "# generated by git-atlas for worktree main from docker-compose.worktree.template.yml\nservices: {}\n";
    fs::write(repo.join("docker-compose.yml"), committed).unwrap();
    s.git(
        &repo,
        &[
            "add",
            "-f",
            "docker-compose.yml",
            "docker-compose.worktree.template.yml",
        ],
    )
    .ok();
    s.git(&repo, &["commit", "-q", "-m", "generated"]).ok();
    let err = s.atlas(&repo, &["add", "-q", "--no-db", "../w"]).fails(1);
    assert!(
        err.contains("error: docker-compose.yml is tracked in commit ")
            && err.contains("[templates] compose_output = ")
            && err.contains("--no-docker"),
        "{err}"
    );
    let wt = s.at("w");
    assert!(!wt.exists());
    // A worktree Git made without git-atlas: the writer refuses too.
    s.git(&repo, &["worktree", "add", "-q", "../w"]).ok();
    let err = s.atlas(&wt, &["env"]).fails(1);
    assert!(
        err.contains("docker-compose.yml is committed to the repository"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(wt.join("docker-compose.yml")).unwrap(),
        committed
    );
    assert_eq!(s.git(&wt, &["status", "--porcelain"]).ok(), "");
}

#[test]
fn a_byte_order_mark_in_env_is_accepted_and_left_out_of_the_carried_env() {
    let s = Sandbox::new();
    let repo = s.repo("app", "\u{feff}PORT=3000\nAPI_PORT=3001\n");
    s.atlas(&repo, &["add", "-q", "--no-db", "../w"]).success();
    let local = fs::read(s.at("w/.env")).unwrap();
    assert!(local.starts_with(b"# generated by git-atlas"), "{local:?}");
    assert!(!String::from_utf8_lossy(&local).contains('\u{feff}'));
    let ports = s.ports_of(&repo, "w");
    let text = String::from_utf8(local).unwrap();
    assert!(
        text.contains(&format!("\nPORT={}\n", ports["app"])),
        "{text}"
    );
    if python_with(&s, "a_byte_order_mark_in_env", "dotenv").is_some() {
        let script = "import dotenv; print(dotenv.dotenv_values('.env')['PORT'])";
        let got = python(&s, &s.at("w"), script).unwrap();
        assert_eq!(got.trim(), ports["app"].to_string());
    }
}
