//! Properties that keep git-atlas as fast with 1,000 worktrees as with 3, checked by counting
//! what the processes do (strace), never by timing: the hook shims' fast path spawns nothing and
//! opens the same files however many worktrees exist.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::Sandbox;

/// Make `n` more worktrees in Git's files (their directories do not exist: Git shows them as
/// prunable), the cheap way: what the fast path must not look at one by one.
fn add_fake_worktrees(repo: &Path, n: usize) {
    for i in 0..n {
        let dir = repo.join(format!(".git/worktrees/fake{i}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("gitdir"), format!("/nonexistent/fake{i}/.git\n")).unwrap();
        fs::write(dir.join("commondir"), "../..\n").unwrap();
        fs::write(dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    }
}

/// `strace` on PATH, or why the test is skipped (a failure under GIT_ATLAS_REQUIRE_SERVICES=1).
fn strace(test: &str) -> Option<PathBuf> {
    match which::which("strace") {
        Ok(p) => Some(p),
        Err(_) if std::env::var("GIT_ATLAS_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{test}: strace is not installed, and GIT_ATLAS_REQUIRE_SERVICES=1 forbids skipping")
        }
        Err(_) => {
            eprintln!("SKIPPED {test}: strace is not installed");
            None
        }
    }
}

/// What running `args` in `cwd` under strace did: the programs it executed and the files it
/// opened (by path, in order), its children's included.
fn trace(s: &Sandbox, strace: &Path, cwd: &Path, args: &[&str]) -> (Vec<String>, Vec<String>) {
    trace_with(s, strace, cwd, args, true)
}

fn trace_with(
    s: &Sandbox,
    strace: &Path,
    cwd: &Path,
    args: &[&str],
    children: bool,
) -> (Vec<String>, Vec<String>) {
    // Not beside the worktrees: the directory that holds them is watched for an `rm -rf`.
    let log = s.at("cache/strace.log");
    let follow: &[&str] = if children { &["-f"] } else { &[] };
    let out = s
        .cmd(strace, cwd)
        .args(follow)
        .args(["-qq", "-e", "trace=execve,open,openat", "-o"])
        .arg(&log)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    let text = fs::read_to_string(&log).unwrap();
    let quoted = |line: &str| line.split('"').nth(1).unwrap_or_default().to_string();
    let execs = text
        .lines()
        .filter(|l| l.contains("execve(") && !l.contains("ENOENT"))
        .map(quoted)
        .collect();
    let opens = text
        .lines()
        .filter(|l| l.contains("open"))
        .map(quoted)
        .collect();
    (execs, opens)
}

#[test]
fn hook_fast_path_work_does_not_grow_with_the_number_of_worktrees() {
    let test = "hook_fast_path_work_does_not_grow_with_the_number_of_worktrees";
    let Some(strace) = strace(test) else { return };
    let s = Sandbox::new();
    let repo = s.repo("app", support::hooks::ENV);
    // Both shims: the opt-in reference-transaction runs at every ref update.
    s.atlas(&repo, &["hooks", "install", "--eager"]).ok();
    s.git(&repo, &["worktree", "add", "-q", "../a"]).ok();
    let hooks = repo.join(".git/hooks");
    let transaction = hooks.join("reference-transaction");
    let checkout = hooks.join("post-checkout");
    let head = s.git(&repo, &["rev-parse", "HEAD"]).ok().trim().to_string();
    // A ref update, and a branch switch (not a new worktree's first checkout).
    let runs: [Vec<&str>; 2] = [
        vec!["sh", transaction.to_str().unwrap(), "committed"],
        vec!["sh", checkout.to_str().unwrap(), &head, &head, "1"],
    ];

    s.atlas(&repo, &["list"]).ok();
    let few: Vec<_> = runs.iter().map(|r| trace(&s, &strace, &repo, r)).collect();
    add_fake_worktrees(&repo, 1000);
    s.atlas(&repo, &["list"]).ok();
    let many: Vec<_> = runs.iter().map(|r| trace(&s, &strace, &repo, r)).collect();

    for ((run, (execs_few, opens_few)), (execs_many, opens_many)) in
        runs.iter().zip(&few).zip(&many)
    {
        assert_eq!(execs_many.len(), 1, "{run:?} spawned: {execs_many:?}");
        assert_eq!(execs_few, execs_many, "{run:?}");
        assert!(
            !opens_many.iter().any(|p| p.contains("fake")),
            "{run:?} opened a worktree's files: {opens_many:?}"
        );
        assert_eq!(
            opens_few, opens_many,
            "{run:?} opens more files with 1,000 worktrees than with 1"
        );
    }
}

/// With the hooks installed (the default set), a commit runs no hook at all and a rebase one
/// post-checkout shim (the checkout it starts with) however many commits it replays, and
/// neither starts git-atlas: what keeps them as fast as without hooks.
#[test]
fn commits_and_rebases_run_no_git_atlas_and_at_most_one_shim() {
    let test = "commits_and_rebases_run_no_git_atlas_and_at_most_one_shim";
    let Some(strace) = strace(test) else { return };
    let s = Sandbox::new();
    let repo = s.installed("app");
    s.git(&repo, &["worktree", "add", "-q", "../a"]).ok();
    s.atlas(&repo, &["list"]).ok();
    let base = s.git(&repo, &["rev-parse", "HEAD"]).ok().trim().to_string();
    s.git(&repo, &["switch", "-q", "-c", "stack"]).ok();
    for i in 0..20 {
        fs::write(repo.join(format!("f{i}")), i.to_string()).unwrap();
        s.git(&repo, &["add", &format!("f{i}")]).ok();
        s.git(&repo, &["commit", "-q", "-m", &format!("c{i}")]).ok();
    }
    s.git(&repo, &["switch", "-q", "main"]).ok();
    fs::write(repo.join("moved"), "x").unwrap();
    s.git(&repo, &["add", "moved"]).ok();
    s.git(&repo, &["commit", "-q", "-m", "moved"]).ok();
    assert_ne!(s.git(&repo, &["rev-parse", "HEAD"]).ok().trim(), base);
    let hooks = repo.join(".git/hooks").canonicalize().unwrap();
    let runs = |execs: &[String]| -> (usize, usize) {
        let shims = execs
            .iter()
            // Git runs a hook by its path from the worktree's top (`.git/hooks/…`).
            .filter(|e| Path::new(e).starts_with(&hooks) || e.starts_with(".git/hooks/"))
            .count();
        let atlas = execs.iter().filter(|e| e.ends_with("/git-atlas")).count();
        (shims, atlas)
    };
    for _ in 0..3 {
        let (execs, _) = trace(
            &s,
            &strace,
            &repo,
            &["git", "commit", "-q", "--allow-empty", "-m", "x"],
        );
        assert_eq!(runs(&execs), (0, 0), "a commit ran: {execs:#?}");
    }
    let (execs, _) = trace(
        &s,
        &strace,
        &repo,
        &["git", "rebase", "-q", "main", "stack"],
    );
    assert_eq!(
        runs(&execs),
        (1, 0),
        "the rebase of 20 commits ran: {execs:#?}"
    );
    assert_eq!(
        s.git(&repo, &["rev-list", "--count", "main..stack"])
            .ok()
            .trim(),
        "20"
    );
}

/// `git atlas add` with only git-atlas's own shims installed (the default set, or `--eager`'s
/// two) has Git run no hook: the shims would see `GIT_ATLAS_IN_ADD` and exit, and starting a
/// shell for each cost about a millisecond of `git worktree add`. (That the user's hooks still
/// run is tests/hooks/plain_add.rs.)
#[test]
fn git_atlas_add_has_git_start_no_shim_of_its_own() {
    let test = "git_atlas_add_has_git_start_no_shim_of_its_own";
    let Some(strace) = strace(test) else { return };
    let s = Sandbox::new();
    let repo = s.installed("app");
    for (flags, wt) in [(&[][..], "w"), (&["--eager"][..], "v")] {
        let mut install = vec!["hooks", "install"];
        install.extend(flags);
        s.atlas(&repo, &install).ok();
        let target = format!("../{wt}");
        let (execs, _) = trace(&s, &strace, &repo, &["git", "atlas", "add", "-q", &target]);
        let shells: Vec<&String> = execs
            .iter()
            .filter(|e| e.ends_with("/sh") || e.contains("hooks/"))
            .collect();
        assert!(
            shells.is_empty(),
            "{flags:?}: git ran {shells:?} in {execs:#?}"
        );
        // Git itself ran (the add and its checkout), and the worktree has its files.
        assert!(
            execs.iter().filter(|e| e.ends_with("/git")).count() >= 2,
            "{execs:#?}"
        );
        assert!(s.at(wt).join(".env").is_file(), "{flags:?}");
    }
}

/// Make `n` more worktrees the cheap way, whose directories exist (Git lists them as live, and
/// git-atlas allocates them ports).
fn add_live_fake_worktrees(s: &Sandbox, repo: &Path, n: usize) {
    let common = repo.join(".git").canonicalize().unwrap();
    for i in 0..n {
        let id = format!("live{i}");
        let work = s.at(&id);
        fs::create_dir_all(&work).unwrap();
        let dir = common.join("worktrees").join(&id);
        fs::create_dir_all(&dir).unwrap();
        fs::write(work.join(".git"), format!("gitdir: {}\n", dir.display())).unwrap();
        fs::write(
            dir.join("gitdir"),
            format!("{}\n", work.join(".git").display()),
        )
        .unwrap();
        fs::write(dir.join("commondir"), "../..\n").unwrap();
        fs::write(dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    }
}

/// Let the state files settle: git-atlas trusts its copy of a file it read once the file's last
/// change is older than a file-system clock tick (as between two commands a person types);
/// before that, a command that writes the file reads it again under its lock.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(50));
}

/// The registry and the lease file were opened once each (they are written through temporary
/// files, so every open of their own names is a read).
fn assert_state_read_once(opened: &[String], command: &str) {
    for state in ["worktree-registry/ports.json", "leases.json"] {
        let reads = opened.iter().filter(|p| p.ends_with(state)).count();
        assert_eq!(
            reads, 1,
            "{command}: {state} opened {reads} times: {opened:#?}"
        );
    }
}

/// A repository whose offsets (up to 4,999) hold 1,000 worktrees.
fn roomy_repo(s: &Sandbox) -> PathBuf {
    let repo = s.repo("app", "PORT=4100\n");
    fs::write(repo.join(".atlas.toml"), "[offset]\nmax = 4999\n").unwrap();
    s.git(&repo, &["add", ".atlas.toml"]).ok();
    s.git(&repo, &["commit", "-q", "-m", "offsets"]).ok();
    repo
}

#[test]
fn prompt_reads_the_same_files_with_1000_worktrees_as_with_1() {
    let test = "prompt_reads_the_same_files_with_1000_worktrees_as_with_1";
    let Some(strace) = strace(test) else { return };
    let s = Sandbox::new();
    let repo = roomy_repo(&s);
    s.atlas(&repo, &["add", "-q", "../a"]).ok();
    let prompt = [support::bin().to_str().unwrap().to_string(), "ports".into()];
    let prompt: Vec<&str> = prompt.iter().map(String::as_str).collect();

    let (_, few) = trace(&s, &strace, &s.at("a"), &prompt);
    add_live_fake_worktrees(&s, &repo, 1000);
    s.atlas(&repo, &["list"]).ok();
    let registry = fs::read_to_string(repo.join(".git/worktree-registry/ports.json")).unwrap();
    assert!(
        registry.contains("\"live999\""),
        "the fakes were not allocated"
    );
    let (_, many) = trace(&s, &strace, &s.at("a"), &prompt);

    assert!(
        !many.iter().any(|p| p.ends_with("ports.json")),
        "the prompt read the whole registry: {many:?}"
    );
    assert_eq!(
        few, many,
        "the prompt opens other files with 1,000 worktrees"
    );
    let out = s.atlas(&s.at("a"), &["ports"]).ok();
    assert!(out.starts_with("app:"), "{out}");
}

/// `git atlas add` with nothing to reconcile (no worktree added, removed or pruned since the last
/// reconcile) reads no other worktree's files: only Git's own `git worktree add` does.
#[test]
fn add_reads_no_other_worktree_when_nothing_changed() {
    let test = "add_reads_no_other_worktree_when_nothing_changed";
    let Some(strace) = strace(test) else { return };
    let s = Sandbox::new();
    let repo = roomy_repo(&s);
    add_live_fake_worktrees(&s, &repo, 300);
    s.atlas(&repo, &["list"]).ok();
    let bin = support::bin();
    let args = [bin.to_str().unwrap(), "add", "-q", "--detach", "../n"];
    settle();
    let (_, opened) = trace_with(&s, &strace, &repo, &args, false);
    let others: Vec<&String> = opened.iter().filter(|p| p.contains("live")).collect();
    assert!(
        others.is_empty(),
        "add read other worktrees' files: {others:?}"
    );
    assert_state_read_once(&opened, "add");
    let registry = fs::read_to_string(repo.join(".git/worktree-registry/ports.json")).unwrap();
    assert!(registry.contains("\"n\""), "n was not allocated");
    assert!(s.at("n/.env").is_file());
}

/// `list` and `remove` with 300 worktrees: each worktree's files are read once, and the registry
/// and the lease file once each, though `remove` changes the registry twice (the reconcile
/// before Git removes the worktree, the release after).
#[test]
fn list_and_remove_read_each_file_once() {
    let test = "list_and_remove_read_each_file_once";
    let Some(strace) = strace(test) else { return };
    let s = Sandbox::new();
    let repo = roomy_repo(&s);
    s.atlas(&repo, &["add", "-q", "../gone"]).ok();
    add_live_fake_worktrees(&s, &repo, 300);
    s.atlas(&repo, &["list"]).ok();
    let bin = support::bin();
    let bin = bin.to_str().unwrap();
    for args in [[bin, "list", ""], [bin, "remove", "gone"]] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        settle();
        let (_, opened) = trace_with(&s, &strace, &repo, &args, false);
        assert_state_read_once(&opened, args[1]);
        let mut seen = std::collections::HashMap::new();
        for p in opened.iter().filter(|p| p.contains("/worktrees/live")) {
            *seen.entry(p.as_str()).or_insert(0) += 1;
        }
        assert!(seen.len() >= 300, "{args:?} did not list the worktrees");
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{args:?} read more than once: {twice:?}");
    }
    assert!(!s.at("gone").exists());
    assert!(s.ports_of(&repo, "gone").is_empty());
}

/// On Linux with glibc the binary is position-dependent (build.rs links it with `-no-pie`): the
/// dynamic loader then has no relocations of its own to apply on every start, which were a
/// third of the prompt's instructions (`git-atlas ports` 489,938 vs 324,100 with callgrind)
/// and cost every command and every hook run that starts git-atlas the same.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_binary_needs_no_relocating_at_start() {
    let elf = fs::read(support::bin()).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    // e_type, little-endian on the platforms this runs on: 2 is ET_EXEC, 3 (a PIE) ET_DYN.
    let e_type = u16::from_le_bytes([elf[16], elf[17]]);
    assert_eq!(
        e_type, 2,
        "git-atlas is not a position-dependent executable"
    );
}

/// The shell parses every byte of a hook on every checkout (dash: about 135 instructions a
/// byte), so the shims are installed without the comments and indentation of hooks/*.sh: the
/// only comment lines are the block's markers and the line naming where its code is explained.
/// (That they still work is tests/hooks/.)
#[test]
fn installed_shims_carry_no_comments_or_indentation() {
    let s = Sandbox::new();
    let repo = s.installed("app");
    s.atlas(&repo, &["hooks", "install", "--eager"]).ok();
    for name in ["post-checkout", "reference-transaction"] {
        let text = fs::read_to_string(repo.join(".git/hooks").join(name)).unwrap();
        let comments: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(comments.len(), 4, "{name}: {comments:#?}");
        assert_eq!(comments[0], "#!/bin/sh");
        assert!(comments[1].starts_with("# >>> git-atlas START"), "{name}");
        assert!(
            comments[2].contains("hooks/ in git-atlas's source"),
            "{name}"
        );
        assert_eq!(comments[3], "# <<< git-atlas END", "{name}");
        let indented: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with([' ', '\t']))
            .collect();
        assert!(indented.is_empty(), "{name}: {indented:#?}");
        assert!(text.len() < 2600, "{name} is {} bytes", text.len());
    }
}
