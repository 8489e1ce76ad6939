//! The CLI transcripts in tests/cmd/*.trycmd: documentation that runs. Each runs in a sandbox
//! copied from its `.in/` folder, with `git` and `git-atlas` registered (trycmd silently skips a
//! command whose program it cannot resolve) and git-atlas on PATH so `git atlas` works.

#[test]
fn transcripts() {
    let home = tempfile::tempdir().unwrap();
    let gitconfig = home.path().join("gitconfig");
    std::fs::write(&gitconfig, "[user]\n\tname = Docs\n\temail = docs@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n").unwrap();
    let bin = trycmd::cargo::cargo_bin("git-atlas");
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    trycmd::TestCases::new()
        .register_bin("git-atlas", bin)
        .register_bin("git", which::which("git").expect("git on PATH"))
        .env("PATH", path)
        .env("HOME", home.path().display().to_string())
        .env("GIT_CONFIG_GLOBAL", gitconfig.display().to_string())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_ATLAS_STATE_DIR", home.path().join("state").display().to_string())
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("LC_ALL", "C")
        .case("tests/cmd/*.trycmd");
}
