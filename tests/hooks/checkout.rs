//! A checkout in a linked worktree that changes what its generated files are made from (the
//! project's compose file, here BookStack's) has the post-checkout hook write them again, with
//! one line; a checkout that changes nothing of the kind spawns no git-atlas.

use std::fs;

use crate::support::Sandbox;

#[test]
fn a_checkout_that_changes_the_compose_file_rewrites_the_worktrees_files() {
    let s = Sandbox::new();
    let repo = s.fixture("bookstack-dev");
    s.atlas(&repo, &["hooks", "install"]).ok();
    let wt = s.at("feat");
    s.git(&repo, &["worktree", "add", "-q", wt.to_str().unwrap()])
        .ok();
    let own = wt.join("compose.atlas.yaml");
    // Ports through variables only: no override on the worktree's branch.
    assert!(!own.exists());
    let compose = fs::read_to_string(wt.join("docker-compose.yml")).unwrap();
    // A branch that pins mailhog's name and a literal port, and one that only edits a README.
    s.git(&wt, &["switch", "-q", "-c", "pinned"]).ok();
    let pinned = compose
        .replace("  mailhog:\n", "  mailhog:\n    container_name: mailhog\n")
        .replace("${DEV_MAIL_PORT:-8025}:8025", "8025:8025");
    assert_ne!(pinned, compose, "the fixture changed: nothing to pin");
    fs::write(wt.join("docker-compose.yml"), &pinned).unwrap();
    s.git(&wt, &["commit", "-qam", "pin mailhog"]).ok();
    s.git(&wt, &["switch", "-q", "-c", "docs", "feat"]).ok();
    fs::write(wt.join("README.md"), "docs\n").unwrap();
    s.git(&wt, &["add", "README.md"]).ok();
    s.git(&wt, &["commit", "-qm", "docs"]).ok();
    s.git(&wt, &["switch", "-q", "feat"]).ok();

    let (spy, log) = s.spying_path();
    let spawns = || fs::read_to_string(&log).unwrap_or_default().lines().count();
    let to_pinned = s.git_path(&wt, &spy, &["switch", "pinned"]).success();
    assert_eq!(spawns(), 1, "{to_pinned}");
    let lines = to_pinned.atlas_lines();
    assert_eq!(lines.len(), 1, "{to_pinned}");
    assert!(
        lines[0].starts_with("git-atlas: feat: docker-compose.yml changed: wrote ")
            && lines[0].contains("compose.atlas.yaml"),
        "{to_pinned}"
    );
    let text = fs::read_to_string(&own).unwrap();
    assert!(
        text.contains("\"mailhog\":\n    container_name: "),
        "{text}"
    );
    assert!(!text.contains("container_name: mailhog"), "{text}");

    // Nothing the files are made from changes: no git-atlas at all, both ways.
    let before = spawns();
    s.git_path(&wt, &spy, &["switch", "-q", "feat"]).ok();
    assert_eq!(
        spawns(),
        before + 1,
        "back to feat changes the compose file"
    );
    assert!(!own.exists(), "the override went with the pin");
    // (A hook that read the compose file within 10 ms of the checkout writing it cannot tell
    // that it read the new one: the next checkout runs git-atlas once more, which finds nothing
    // to do. See git::hooks::write_followed.)
    s.git_path(&wt, &spy, &["switch", "-q", "docs"]).ok();
    let before = spawns();
    for branch in ["feat", "docs", "feat", "docs", "feat"] {
        let run = s.git_path(&wt, &spy, &["switch", "-q", branch]).success();
        assert_eq!(run.stderr, "", "{run}");
    }
    assert_eq!(spawns(), before, "{}", fs::read_to_string(&log).unwrap());

    // A compose file the branch adds (an override beside the project's file) is news too.
    s.git(&wt, &["switch", "-q", "-c", "override"]).ok();
    fs::write(
        wt.join("docker-compose.override.yml"),
        "services:\n  mailhog:\n    container_name: mail\n",
    )
    .unwrap();
    s.git(&wt, &["add", "docker-compose.override.yml"]).ok();
    s.git(&wt, &["commit", "-qm", "override"]).ok();
    s.git(&wt, &["switch", "-q", "feat"]).ok();
    let before = spawns();
    let run = s.git_path(&wt, &spy, &["switch", "override"]).success();
    assert_eq!(spawns(), before + 1, "{run}");
    assert!(
        run.atlas_lines()
            .first()
            .is_some_and(|l| l.contains("docker-compose.override.yml changed")),
        "{run}"
    );
    let text = fs::read_to_string(&own).unwrap();
    assert!(
        text.contains("\"mailhog\":\n    container_name: "),
        "{text}"
    );
}
