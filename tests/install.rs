//! Installing as the README says: `cargo install --path . && git-atlas man --install`, here in its
//! parts (the built binary copied into a temporary prefix's `bin`, then its `man --install`), and
//! then what a new user types: `git atlas --help` and `git help atlas`, with no MANPATH, read the
//! manual through Git and `man`.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::{bin, unavailable, Run, Sandbox};

/// The sandbox's environment with `prefix/bin` and the system's directories as the whole PATH,
/// no MANPATH, and `man` printing plainly to the pipe.
fn user(s: &Sandbox, prefix: &Path, program: &str, cwd: &Path) -> Command {
    let mut c = s.cmd(program, cwd);
    c.env(
        "PATH",
        format!("{}:/usr/bin:/bin", prefix.join("bin").display()),
    )
    .env_remove("MANPATH")
    .env("MANPAGER", "cat")
    .env("PAGER", "cat")
    .env("MANWIDTH", "80");
    c
}

/// A prefix with the built binary in `bin/`, as `cargo install --root prefix` leaves it.
fn prefix_with_binary(s: &Sandbox) -> std::path::PathBuf {
    let prefix = s.at("prefix");
    fs::create_dir_all(prefix.join("bin")).unwrap();
    // `cp`, not fs::copy: a file this process had open for writing could be inherited by a
    // child another test thread is forking, and exec would then fail with "Text file busy".
    let cp = Command::new("cp")
        .arg(bin())
        .arg(prefix.join("bin/git-atlas"))
        .status()
        .unwrap();
    assert!(cp.success());
    prefix
}

fn man_available(test: &str) -> bool {
    let found = Command::new("man").arg("--version").output();
    match found {
        Ok(o) if o.status.success() => true,
        _ => unavailable::<()>(test, "man (man-db)", "`man --version` does not run").is_some(),
    }
}

#[test]
fn after_install_git_atlas_help_and_git_help_atlas_show_the_manual() {
    if !man_available("after_install_git_atlas_help_and_git_help_atlas_show_the_manual") {
        return;
    }
    let s = Sandbox::new();
    let prefix = prefix_with_binary(&s);
    let home = s.at("home");

    // Before: what a user sees today after `cargo install` alone.
    let before = Run::of(user(&s, &prefix, "git", &home).args(["atlas", "--help"]));
    assert_ne!(before.code(), 0, "no page installed yet: {before}");
    assert!(
        before.stderr.contains("No manual entry for git-atlas"),
        "{before}"
    );

    let install =
        Run::of(user(&s, &prefix, "git-atlas", &home).args(["man", "--install"])).success();
    let page = prefix.join("share/man/man1/git-atlas.1");
    assert!(
        install
            .stdout
            .contains(&format!("Installed the manual page as {}", page.display())),
        "{install}"
    );
    assert!(
        install
            .stdout
            .contains("`git atlas --help` and `git help atlas` show it"),
        "{install}"
    );
    assert_eq!(
        fs::read_to_string(&page).unwrap(),
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/git-atlas.1")).unwrap(),
        "the installed page is the repository's man/git-atlas.1"
    );

    for args in [&["atlas", "--help"][..], &["help", "atlas"][..]] {
        let shown = Run::of(user(&s, &prefix, "git", &home).args(args)).success();
        // man justifies the text: compare words, not spacing.
        let lines: Vec<String> = shown
            .stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect();
        assert!(
            lines[0].starts_with("GIT-ATLAS(1)"),
            "git {args:?}: {shown}"
        );
        assert_eq!(lines[1], "NAME", "git {args:?}: {shown}");
        assert!(
            lines[2].starts_with("git-atlas - Give every Git worktree its own ports"),
            "git {args:?}: {shown}"
        );
        assert!(
            shown.stdout.contains("git atlas add"),
            "git {args:?}: every command is on the page"
        );
    }
}

#[test]
fn install_replaces_an_older_page_and_says_when_man_would_not_find_it() {
    let s = Sandbox::new();
    let prefix = prefix_with_binary(&s);
    let home = s.at("home");
    let page = prefix.join("share/man/man1/git-atlas.1");
    fs::create_dir_all(page.parent().unwrap()).unwrap();
    fs::write(&page, ".TH GIT-ATLAS 1 \"git-atlas 0.0.1\"\n").unwrap();
    Run::of(user(&s, &prefix, "git-atlas", &home).args(["man", "--install"])).success();
    let printed = Run::of(user(&s, &prefix, "git-atlas", &home).arg("man")).success();
    assert_eq!(
        fs::read_to_string(&page).unwrap(),
        printed.stdout,
        "the page is replaced by this binary's"
    );

    // A directory `man` does not search: the page is written, and the user is told what to do.
    let elsewhere = s.at("pages");
    let dir = elsewhere.to_str().unwrap();
    let run =
        Run::of(user(&s, &prefix, "git-atlas", &home).args(["man", "--install", "--dir", dir]))
            .success();
    assert!(elsewhere.join("man1/git-atlas.1").is_file());
    if man_available("install_replaces_an_older_page_and_says_when_man_would_not_find_it") {
        assert!(
            run.stderr.contains(&format!(
                "warning: `man git-atlas` shows {} first",
                page.display()
            )),
            "{run}"
        );
    }
}

#[test]
fn man_without_install_prints_the_page_and_dir_needs_install() {
    let s = Sandbox::new();
    let here = s.at("home");
    let printed = s.atlas(&here, &["man"]).ok();
    assert!(
        printed.starts_with(".ie \\n(.g .ds Aq"),
        "roff: {printed:.80}"
    );
    assert!(printed.contains(".TH GIT-ATLAS 1"));
    let err = s.atlas(&here, &["man", "--dir", "/tmp"]).fails(2);
    assert!(err.contains("--install"), "{err}");
    // Somewhere it cannot write: the error, and where to install instead.
    let blocked = s.at("a-file");
    fs::write(&blocked, "").unwrap();
    let dir = blocked.join("man");
    let run = s.atlas(&here, &["man", "--install", "--dir", dir.to_str().unwrap()]);
    let err = run.fails(1);
    assert!(err.contains("hint: install it where you can write, e.g. `git-atlas man --install --dir ~/.local/share/man`"), "{run}");
}
