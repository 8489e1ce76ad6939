//! What a terminal gets and a pipe does not: coloured tables (NO_COLOR and --color respected)
//! and progress lines on stderr during long steps (none with -q). The terminal is a real pty,
//! made by util-linux's `script`.

mod support;

use support::Sandbox;

const ENV: &str = "PORT=3000\n";
const BOLD_HEADER: &str = "\x1b[1mNAME\x1b[0m";

#[test]
fn tables_are_coloured_on_a_terminal_only() {
    let s = Sandbox::new();
    let repo = s.repo("myapp", ENV);
    s.atlas(&repo, &["add", "../feature-auth"]).ok();

    let Some(tty) = s.on_tty(&repo, &[], "atlas list") else {
        return;
    };
    assert!(tty.stdout.contains(BOLD_HEADER), "{tty}");
    assert!(
        tty.stdout.contains("\x1b[32mok\x1b[0m"),
        "a state word is green: {tty}"
    );
    // The columns line up as in a pipe: padding is counted without the escapes.
    let plain = s.atlas(&repo, &["list"]).ok();
    let stripped = tty
        .stdout
        .replace("\r\n", "\n")
        .replace("\x1b[1m", "")
        .replace("\x1b[32m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, plain);

    assert!(!plain.contains('\x1b'), "never in a pipe: {plain}");
    let no_color = s.on_tty(&repo, &[("NO_COLOR", "1")], "atlas list").unwrap();
    assert!(!no_color.stdout.contains('\x1b'), "NO_COLOR: {no_color}");
    let never = s.on_tty(&repo, &[], "atlas --color=never list").unwrap();
    assert!(!never.stdout.contains('\x1b'), "--color=never: {never}");
    // Git's colour settings, as Git's own commands read them: color.atlas, else color.ui.
    let git_says = s
        .on_tty(&repo, &[], "-c color.ui=never atlas list")
        .unwrap();
    assert!(
        !git_says.stdout.contains('\x1b'),
        "color.ui=never: {git_says}"
    );
    s.git(&repo, &["config", "color.atlas", "false"]).ok();
    let configured = s.on_tty(&repo, &[], "atlas list").unwrap();
    assert!(
        !configured.stdout.contains('\x1b'),
        "color.atlas=false: {configured}"
    );
    s.git(&repo, &["config", "--unset", "color.atlas"]).ok();
    let always = s.atlas(&repo, &["list", "--color", "always"]).ok();
    assert!(
        always.contains(BOLD_HEADER),
        "--color=always in a pipe: {always}"
    );
    let json = s.on_tty(&repo, &[], "atlas list --json").unwrap();
    assert!(
        !json.stdout.contains('\x1b'),
        "JSON is never coloured: {json}"
    );
}

#[test]
fn long_steps_show_progress_on_a_terminal_and_not_with_quiet_or_in_a_pipe() {
    let s = Sandbox::new();
    let repo = s.repo("myapp", ENV);
    for name in ["a", "b"] {
        s.atlas(&repo, &["add", &format!("../{name}")]).ok();
    }
    let Some(tty) = s.on_tty(&repo, &[], "atlas remove --all") else {
        return;
    };
    assert!(
        tty.stdout.contains("git-atlas: removing a (1/2)...\r\n"),
        "{tty}"
    );
    assert!(
        tty.stdout.contains("git-atlas: removing b (2/2)..."),
        "{tty}"
    );
    assert!(tty.stdout.contains("Removed worktree b"), "{tty}");

    for name in ["a", "b"] {
        s.atlas(&repo, &["add", &format!("../{name}")]).ok();
    }
    let quiet = s.on_tty(&repo, &[], "atlas remove -q --all").unwrap();
    assert!(!quiet.stdout.contains("removing"), "-q: {quiet}");
    assert!(
        quiet.stdout.contains("Removed worktree b"),
        "-q keeps the results: {quiet}"
    );

    for name in ["a", "b"] {
        s.atlas(&repo, &["add", &format!("../{name}")]).ok();
    }
    let piped = s.atlas(&repo, &["remove", "--all"]).success();
    assert!(!piped.stderr.contains("removing"), "pipe: {piped}");

    let rebuild = s.on_tty(&repo, &[], "atlas ports scan-rebuild").unwrap();
    assert!(
        rebuild
            .stdout
            .contains("git-atlas: reading the env files of 1 worktree(s)..."),
        "{rebuild}"
    );
    let piped = s.atlas(&repo, &["ports", "scan-rebuild"]).success();
    assert!(!piped.stderr.contains("reading the env files"), "{piped}");
    assert!(
        !piped.stdout.contains("reading the env files"),
        "never on stdout: {piped}"
    );
}
