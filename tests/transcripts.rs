//! The CLI transcripts in tests/cmd/*.trycmd: documentation that runs. Each transcript runs in a
//! sandbox copied from its `.in/` folder, with its own HOME and lease directory (so no transcript
//! sees another's repositories), `git` and `git-atlas` registered (trycmd silently skips a command
//! whose program it cannot resolve), and git-atlas on PATH so that `git atlas` works.
//!
//! tests/cmd-docker/ holds the transcripts that need a Docker Engine with Compose and the local
//! test image (`$GIT_ATLAS_TEST_IMAGE`, built by .ci/docker.sh): they skip with a line saying so
//! where those are missing, and fail instead under `GIT_ATLAS_REQUIRE_SERVICES=1`.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn transcripts() {
    let files = transcripts_in("tests/cmd");
    assert!(files.len() >= 8, "transcripts missing: {files:?}");
    run(files);
}

#[test]
fn docker_transcripts() {
    if let Err(why) = docker_ready() {
        if std::env::var_os("GIT_ATLAS_REQUIRE_SERVICES").is_some_and(|v| v == "1") {
            panic!("docker_transcripts: {why} (GIT_ATLAS_REQUIRE_SERVICES=1)");
        }
        eprintln!("SKIPPED docker_transcripts: {why}");
        return;
    }
    let files = transcripts_in("tests/cmd-docker");
    assert!(!files.is_empty(), "docker transcripts missing");
    let result = std::panic::catch_unwind(|| run(files));
    // Whatever happened, leave no container, network or volume of these transcripts behind.
    remove_projects_ending_with("-feature-ps");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// A fixture file that the fixture's own `.gitignore` hides (its `.env`) is missing from every
/// fresh clone, so the transcripts would pass here and fail in CI: every file must be tracked.
#[test]
fn fixtures_are_committed() {
    let out = Command::new("git")
        .args(["ls-files", "--others", "--ignored", "--exclude-standard"])
        .args(["tests/cmd", "tests/cmd-docker"])
        .output()
        .expect("git ls-files");
    let untracked = String::from_utf8_lossy(&out.stdout);
    assert!(
        untracked.trim().is_empty(),
        "fixture files not in Git (add them with `git add -f`):\n{untracked}"
    );
}

fn transcripts_in(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "trycmd"))
        .collect();
    files.sort();
    files
}

fn run(files: Vec<PathBuf>) {
    let bin = trycmd::cargo::cargo_bin("git-atlas");
    let git = which::which("git").expect("git on PATH");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for file in files {
        let home = tempfile::tempdir().unwrap();
        let gitconfig = home.path().join("gitconfig");
        std::fs::write(
            &gitconfig,
            "[user]\n\tname = Docs\n\temail = docs@example.com\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        trycmd::TestCases::new()
            .register_bin("git-atlas", bin.clone())
            .register_bin("git", git.clone())
            .env("PATH", path.clone())
            .env("HOME", home.path().display().to_string())
            .env("GIT_CONFIG_GLOBAL", gitconfig.display().to_string())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env(
                "GIT_ATLAS_STATE_DIR",
                home.path().join("state").display().to_string(),
            )
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("LC_ALL", "C")
            .case(file)
            .run();
    }
}

/// Why the Docker transcripts cannot run here, if they cannot.
fn docker_ready() -> Result<(), String> {
    let image = "git-atlas-test/busybox:latest";
    let ok = |args: &[&str]| {
        Command::new("docker")
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ok(&["info"]) {
        return Err("no Docker Engine answers `docker info`".into());
    }
    if which::which("docker-compose").is_err() && !ok(&["compose", "version"]) {
        return Err("neither `docker compose` nor `docker-compose` is installed".into());
    }
    if !ok(&["image", "inspect", image]) {
        return Err(format!(
            "the test image {image} is missing (.ci/docker.sh builds it with `docker import`)"
        ));
    }
    Ok(())
}

/// Remove the containers, networks and volumes of Compose projects named `*<suffix>`.
fn remove_projects_ending_with(suffix: &str) {
    let label = "com.docker.compose.project";
    let list = |args: &[&str]| -> Vec<String> {
        Command::new("docker")
            .args(args)
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter_map(|l| l.split_once('\t'))
                    .filter(|(_, project)| project.ends_with(suffix))
                    .map(|(id, _)| id.to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let fmt = format!("{{{{.ID}}}}\t{{{{.Label \"{label}\"}}}}");
    let filter = format!("label={label}");
    for (kind, rm) in [
        (vec!["ps", "-a"], vec!["rm", "-f", "-v"]),
        (vec!["network", "ls"], vec!["network", "rm"]),
        (vec!["volume", "ls"], vec!["volume", "rm"]),
    ] {
        let mut args = kind.clone();
        let fmt = if kind[0] == "volume" {
            format!("{{{{.Name}}}}\t{{{{.Label \"{label}\"}}}}")
        } else {
            fmt.clone()
        };
        args.extend(["--filter", &filter, "--format", &fmt]);
        let ids = list(&args);
        if !ids.is_empty() {
            let _ = Command::new("docker").args(&rm).args(&ids).output();
        }
    }
}
