//! The CLI transcripts in tests/cmd/*.trycmd: documentation that runs. Each transcript runs in a
//! sandbox copied from its `.in/` folder, with its own HOME and lease directory (so no transcript
//! sees another's repositories), `git` and `git-atlas` registered (trycmd silently skips a command
//! whose program it cannot resolve), and git-atlas on PATH so that `git atlas` works.

#[test]
fn transcripts() {
    let bin = trycmd::cargo::cargo_bin("git-atlas");
    let git = which::which("git").expect("git on PATH");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut files: Vec<_> = std::fs::read_dir("tests/cmd")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "trycmd"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "transcripts missing: {files:?}");
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
