//! install, uninstall and status; hooks that were there keep running (chained, symlinked,
//! switched off by their owner); a shared hooks dir; git-atlas missing from PATH.

use std::fs;
use std::path::PathBuf;

use crate::support::hooks::{
    announce_hook_runs, assert_at_most_one_line_per_hook_run, expected_ports, hook_runs, mode,
    python3, snapshot, write_exec, ENV,
};
use crate::support::{bin, path_without_git_atlas, Run, Sandbox};

#[test]
fn install_twice_is_a_no_op_and_status_says_installed() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let hooks = repo.join(".git/hooks");
    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    assert!(
        status.contains("post-checkout          not installed")
            && status.contains("reference-transaction  not installed"),
        "{status}"
    );

    // The default set is post-checkout alone: Git runs reference-transaction several times
    // per commit.
    let first = s.atlas(&repo, &["hooks", "install"]).ok();
    assert_eq!(
        first.lines().filter(|l| l.ends_with(": installed")).count(),
        1,
        "{first}"
    );
    assert!(first.contains("/post-checkout: installed\n"), "{first}");
    assert_eq!(mode(&hooks.join("post-checkout")) & 0o111, 0o111);
    assert!(!hooks.join("reference-transaction").exists(), "{first}");
    let before = snapshot(&hooks);
    let state_before = fs::read(repo.join(".git/worktree-registry/hook-state")).unwrap();

    let second = s.atlas(&repo, &["hooks", "install"]).ok();
    assert_eq!(second.matches(": already installed").count(), 1, "{second}");
    assert!(!second.contains("reference-transaction"), "{second}");
    assert_eq!(snapshot(&hooks), before, "install twice changed the hooks");
    assert_eq!(
        fs::read(repo.join(".git/worktree-registry/hook-state")).unwrap(),
        state_before
    );

    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    let dir = fs::canonicalize(&hooks).unwrap();
    assert_eq!(
        status,
        format!(
            "Hooks directory: {}\n  post-checkout          installed\n  reference-transaction  not installed (opt-in: `git atlas hooks install --eager` releases a removed worktree at the next ref update, at a cost to every commit)\ngit-atlas on PATH: {}\n",
            dir.display(),
            bin().display()
        )
    );

    // --eager adds the opt-in shim; a plain install again takes it out, and leaves the
    // hooks as the first install did.
    let eager = s.atlas(&repo, &["hooks", "install", "--eager"]).ok();
    assert!(
        eager.contains("/post-checkout: already installed\n")
            && eager.contains("/reference-transaction: installed\n"),
        "{eager}"
    );
    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    assert!(
        status.contains("  reference-transaction  installed\n"),
        "{status}"
    );
    let back = s.atlas(&repo, &["hooks", "install"]).ok();
    assert!(
        back.contains("/reference-transaction: removed (it ran at every ref update: several times per commit; `git atlas hooks install --eager` puts it back)"),
        "{back}"
    );
    assert_eq!(snapshot(&hooks), before);
}

#[test]
fn install_over_an_install_with_reference_transaction_moves_it_to_the_default_set() {
    // An install by an earlier git-atlas (both shims), beside a user's own hooks: the
    // reference-transaction shim goes, the user's hook in it stays and runs as before.
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let hooks = repo.join(".git/hooks");
    let user = "#!/bin/sh\necho user-ref-hook \"$1\" >&2\n";
    write_exec(&hooks.join("reference-transaction"), user, 0o755);
    let before = snapshot(&hooks);
    s.atlas(&repo, &["hooks", "install", "--eager"]).ok();
    let chained = fs::read_to_string(hooks.join("reference-transaction")).unwrap();
    assert!(chained.contains("git-atlas START"), "{chained}");
    let out = s.atlas(&repo, &["hooks", "install"]).ok();
    assert!(
        out.contains("/reference-transaction: removed; the rest of the hook is unchanged (it ran at every ref update"),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(hooks.join("reference-transaction")).unwrap(),
        user
    );
    let run = s
        .git(&repo, &["commit", "-q", "--allow-empty", "-m", "x"])
        .success();
    assert!(run.stderr.contains("user-ref-hook committed"), "{run}");
    // Uninstall puts back exactly what was there before any install.
    s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert_eq!(snapshot(&hooks), before);
}

#[test]
fn without_git_atlas_on_path_status_warns_and_each_hook_run_warns_once() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    // Our own sh hooks announce each run; install keeps them and runs its lines first.
    announce_hook_runs(&repo.join(".git/hooks"));
    s.atlas(&repo, &["hooks", "install"]).ok();
    let bare = path_without_git_atlas();

    let status = Run::of(
        s.cmd(bin(), &repo)
            .env("PATH", &bare)
            .args(["hooks", "status"]),
    )
    .success();
    assert!(
        status.stdout.contains("post-checkout          installed")
            && status
                .stdout
                .contains("warning: git-atlas is not on PATH, so the hooks will skip their work"),
        "{status}"
    );
    assert!(!status.stdout.contains("git-atlas on PATH:"), "{status}");

    let run = s
        .git_path(&repo, &bare, &["worktree", "add", "../np"])
        .success();
    // One line for the whole Git command (both hooks skipped), and none at the next ones.
    let warned = assert_at_most_one_line_per_hook_run(&run);
    assert_eq!(warned, 1, "said once: {run}");
    assert_eq!(
        run.atlas_lines(),
        ["git-atlas: hook skipped: git-atlas is not on PATH (see `git atlas hooks status`); said once until it is back"],
        "{run}"
    );
    for i in 0..2 {
        let again = s
            .git_path(&repo, &bare, &["switch", "-q", "-c", &format!("b{i}")])
            .success();
        assert!(again.atlas_lines().is_empty(), "said again: {again}");
    }
    let (runs, _) = hook_runs(&run);
    let post_checkout: Vec<_> = runs
        .iter()
        .filter(|(h, _)| h.starts_with("post-checkout"))
        .collect();
    assert_eq!(post_checkout.len(), 1, "{run}");
    assert!(s.at("np/README").is_file(), "the checkout happened");
    assert!(!s.at("np/.env").exists());
    assert!(s.ports_of(&repo, "np").is_empty());

    // Back on PATH, the next checkout catches up: allocated and files written.
    s.git(&repo, &["switch", "-q", "main"]).ok();
    assert_eq!(s.ports_of(&repo, "np"), expected_ports("np"));
    assert!(s.at("np/.env").is_file());
    // Off PATH again later: said once again.
    let run = s
        .git_path(&repo, &bare, &["worktree", "add", "../np2"])
        .success();
    assert_eq!(run.atlas_lines().len(), 1, "{run}");
}

#[test]
fn existing_hooks_are_chained_and_uninstall_restores_them() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let hooks = repo.join(".git/hooks");
    let refs_log = s.at("refs.log");
    let sh = "#!/bin/sh\necho user-post-checkout-ran \"$3\"\nexit 0\n";
    let py = format!(
        "#!{}\nimport sys\nwith open({:?}, 'a') as f:\n    f.write(sys.argv[1] + '\\n' + sys.stdin.read())\n",
        python3(),
        refs_log.display().to_string()
    );
    write_exec(&hooks.join("post-checkout"), sh, 0o755);
    write_exec(&hooks.join("reference-transaction"), &py, 0o750);
    let before = snapshot(&hooks);

    // --eager: the python reference-transaction hook is wrapped, and still runs.
    let out = s.atlas(&repo, &["hooks", "install", "--eager"]).ok();
    assert!(
        out.contains("post-checkout: added to the existing hook")
            && out.contains(
                "reference-transaction: installed; the existing hook still runs after it"
            ),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(hooks.join("reference-transaction.pre-git-atlas")).unwrap(),
        py
    );
    let chained = fs::read_to_string(hooks.join("post-checkout")).unwrap();
    assert!(
        chained.starts_with("#!/bin/sh\n# >>> git-atlas START")
            && chained
                .ends_with("# <<< git-atlas END\necho user-post-checkout-ran \"$3\"\nexit 0\n"),
        "{chained}"
    );
    assert_eq!(mode(&hooks.join("post-checkout")), 0o755);
    fs::write(&refs_log, "").unwrap();

    let run = s.git(&repo, &["worktree", "add", "../w"]).success();
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("user-post-checkout-ran 1"), "{run}");
    assert_eq!(s.ports_of(&repo, "w"), expected_ports("w"), "ours ran too");
    assert!(s.at("w/.env").is_file(), "ours ran too");
    let refs = fs::read_to_string(&refs_log).unwrap();
    assert!(
        refs.contains("prepared\n") && refs.contains("committed\n"),
        "{refs}"
    );
    assert!(
        refs.lines()
            .any(|l| l.ends_with(" refs/heads/w") && l.starts_with("0000000")),
        "the python hook got the full ref list on stdin:\n{refs}"
    );

    // A commit: the python hook still sees every update.
    fs::write(&refs_log, "").unwrap();
    s.commit(&repo);
    let refs = fs::read_to_string(&refs_log).unwrap();
    assert!(refs.contains(" refs/heads/main\n"), "{refs}");

    let out = s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert!(
        out.contains("post-checkout: removed; the rest of the hook is unchanged")
            && out.contains("reference-transaction: removed; the previous hook is back"),
        "{out}"
    );
    assert_eq!(snapshot(&hooks), before, "uninstall restores byte for byte");
    assert!(!hooks.join("reference-transaction.pre-git-atlas").exists());
    assert_eq!(
        s.atlas(&repo, &["hooks", "uninstall"])
            .ok()
            .matches(": not installed")
            .count(),
        2
    );
    assert_eq!(snapshot(&hooks), before);
}

#[test]
fn symlinked_hook_survives_the_round_trip() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    fs::create_dir_all(repo.join("scripts")).unwrap();
    write_exec(
        &repo.join("scripts/post-checkout.sh"),
        "#!/bin/sh\necho tracked-hook-ran >&2\n",
        0o755,
    );
    let link = repo.join(".git/hooks/post-checkout");
    std::os::unix::fs::symlink("../../scripts/post-checkout.sh", &link).unwrap();
    s.atlas(&repo, &["hooks", "install"]).ok();
    let run = s.git(&repo, &["worktree", "add", "../w"]).success();
    assert!(run.stderr.contains("tracked-hook-ran"), "{run}");
    assert!(s.at("w/.env").is_file());
    s.atlas(&repo, &["hooks", "uninstall"]).ok();
    assert_eq!(
        fs::read_link(&link).ok(),
        Some(PathBuf::from("../../scripts/post-checkout.sh")),
        "the symlink is gone"
    );
    assert_eq!(
        fs::read_to_string(repo.join("scripts/post-checkout.sh")).unwrap(),
        "#!/bin/sh\necho tracked-hook-ran >&2\n"
    );
}

#[test]
fn non_executable_existing_hook_is_not_reported_as_installed() {
    let s = Sandbox::new();
    let repo = s.repo("app", ENV);
    let hook = repo.join(".git/hooks/post-checkout");
    write_exec(&hook, "#!/bin/sh\necho disabled-by-its-owner\n", 0o644);
    s.atlas(&repo, &["hooks", "install"]).ok();
    let status = s.atlas(&repo, &["hooks", "status"]).ok();
    let works = {
        s.git(&repo, &["worktree", "add", "-q", "../w"]).ok();
        s.at("w/.env").is_file()
    };
    assert!(
        works || !status.contains("post-checkout          installed\n"),
        "status claims a hook Git ignores is installed:\n{status}"
    );
}

#[test]
fn install_into_a_shared_hooks_dir_leaves_other_repositories_alone() {
    let s = Sandbox::new();
    let shared = s.at("global-hooks");
    fs::create_dir_all(&shared).unwrap();
    let mut config = fs::read_to_string(s.at("gitconfig")).unwrap();
    config.push_str(&format!("[core]\n\thooksPath = {}\n", shared.display()));
    fs::write(s.at("gitconfig"), config).unwrap();
    let repo = s.repo("app", ENV);
    let out = s.atlas(&repo, &["hooks", "install"]).success();
    let other = s.repo("other", ENV);
    s.commit(&other);
    s.git(&other, &["worktree", "add", "-q", "../other-wt"])
        .ok();
    assert!(
        out.stderr.contains("warning")
            || out.stdout.contains("warning")
            || (!other.join(".git/worktree-registry").exists() && !s.at("other-wt/.env").exists()),
        "install said:\n{out}\nand repository `other` was enrolled: {:?}",
        fs::read_dir(other.join(".git/worktree-registry"))
            .map(|d| d.map(|e| e.unwrap().file_name()).collect::<Vec<_>>())
    );
}
