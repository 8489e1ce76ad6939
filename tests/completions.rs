//! Shell completion, run in the real shells: bash with Git's own completion loaded (a simulated
//! TAB: COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT set, then the function registered for `git`
//! or `git-atlas` called, as bash would), zsh through zpty, fish with `complete -C`.
//!
//! bash or Git's completion script missing, or zsh missing: the test says SKIPPED and passes,
//! unless GIT_ATLAS_REQUIRE_SERVICES=1 (CI installs bash-completion and zsh). fish is optional
//! everywhere (CI does not install it).

mod support;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{unavailable, Sandbox};

const GIT_COMPLETION: &str = "/usr/share/bash-completion/completions/git";
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

/// Every verb `git atlas <TAB>` offers (the hidden `hook` never).
const VERBS: &[&str] = &[
    "add",
    "remove",
    "list",
    "ports",
    "env",
    "docker",
    "db",
    "exec",
    "hooks",
    "completions",
    "man",
];

/// A simulated TAB in bash. $MODE says how the completions are installed: `source` (Git's
/// script and `source <(git-atlas completions bash)`), `lazy` (bash-completion loads both on
/// demand, ours from the user's completions directory), `bashrc` (Git's script, then the
/// user's ~/.bashrc). The arguments are the words, the last one the word being completed.
const BASH_DRIVER: &str = r#"
if [[ $MODE == lazy || -f $BASH_COMPLETION ]]; then
    source "$BASH_COMPLETION" || exit 3
fi
case $MODE in
source)
    source "$GIT_COMPLETION" || exit 3
    source <(git-atlas completions bash) || exit 3
    ;;
bashrc)
    source "$GIT_COMPLETION" || exit 3
    source "$HOME/.bashrc" || exit 3
    ;;
esac
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
spec=$(complete -p -- "$1" 2>/dev/null)
if [[ -z $spec ]] && declare -F _completion_loader >/dev/null; then
    # What bash runs for a command without a completion (`complete -D`): load one.
    _completion_loader "$1"
    spec=$(complete -p -- "$1" 2>/dev/null)
fi
if [[ -z $spec ]]; then
    echo "no completion registered for $1" >&2
    exit 4
fi
fn=${spec##* -F }
fn=${fn%% *}
"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '<%s>\n' "${COMPREPLY[@]}"
"#;

fn runs(program: &str) -> bool {
    Command::new(program)
        .args(["-c", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// bash and Git's completion script, or why the test is skipped.
fn bash_ready(test: &str) -> Option<()> {
    if !runs("bash") {
        return unavailable(test, "bash", "not on PATH");
    }
    if !Path::new(GIT_COMPLETION).exists() {
        return unavailable(test, "Git's bash completion", GIT_COMPLETION);
    }
    Some(())
}

fn zsh_ready(test: &str) -> Option<()> {
    if !runs("zsh") {
        return unavailable(test, "zsh", "not on PATH");
    }
    Some(())
}

/// Older Git kept a worktree directory's name as the worktree's (Git now makes `bugfix login`
/// `bugfix-login`): give the worktree in `dir` its directory's name, as such a Git did.
fn name_as_older_git(dir: &Path) {
    let name = dir.file_name().unwrap().to_str().unwrap();
    let gitfile = fs::read_to_string(dir.join(".git")).unwrap();
    let admin = PathBuf::from(gitfile.trim().strip_prefix("gitdir: ").unwrap());
    let renamed = admin.parent().unwrap().join(name);
    fs::rename(&admin, &renamed).unwrap();
    fs::write(dir.join(".git"), format!("gitdir: {}\n", renamed.display())).unwrap();
}

/// A repository with the linked worktrees `feature-auth` and `bugfix login`.
fn repo_with_worktrees(s: &Sandbox) -> PathBuf {
    let repo = s.repo("app", "PORT=3000\n");
    s.git(&repo, &["worktree", "add", "-q", "../feature-auth"])
        .ok();
    s.git(
        &repo,
        &["worktree", "add", "-q", "-b", "bugfix", "../bugfix login"],
    )
    .ok();
    name_as_older_git(&s.at("bugfix login"));
    assert_eq!(
        s.atlas(&repo, &["list", "--names"]).ok(),
        "main\nbugfix login\nfeature-auth\n"
    );
    repo
}

/// COMPREPLY after a TAB on `words` (the last one being completed), in `cwd`.
fn bash_tab(s: &Sandbox, cwd: &Path, mode: &str, words: &[&str]) -> Vec<String> {
    let run = support::Run::of(
        s.cmd("bash", cwd)
            .args(["-c", BASH_DRIVER, "bash"])
            .args(words)
            .env("MODE", mode)
            .env("GIT_COMPLETION", GIT_COMPLETION)
            .env("BASH_COMPLETION", BASH_COMPLETION),
    );
    let out = run.ok();
    assert!(run.stderr.is_empty(), "{run}");
    out.lines()
        .filter_map(|l| l.strip_prefix('<')?.strip_suffix('>'))
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    sorted(v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn bash_git_atlas_re_completes_remove() {
    let Some(()) = bash_ready("bash_git_atlas_re_completes_remove") else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    // Git's completion runs with -o nospace: the finished word carries its space.
    assert_eq!(
        bash_tab(&s, &repo, "source", &["git", "atlas", "re"]),
        ["remove "]
    );
    assert_eq!(
        bash_tab(&s, &repo, "source", &["git-atlas", "re"]),
        ["remove"]
    );
}

#[test]
fn bash_git_atlas_tab_offers_every_verb_but_the_hidden_one() {
    let Some(()) = bash_ready("bash_git_atlas_tab_offers_every_verb_but_the_hidden_one") else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    let got = bash_tab(&s, &repo, "source", &["git", "atlas", ""]);
    for verb in VERBS {
        assert!(got.contains(&format!("{verb} ")), "{verb} missing: {got:?}");
    }
    assert!(!got.iter().any(|w| w.trim() == "hook"), "{got:?}");
    // Not Git's own commands either, and no options until a `-` is typed (as Git's own).
    assert!(!got.iter().any(|w| w.trim() == "commit"), "{got:?}");
    assert!(!got.iter().any(|w| w.starts_with('-')), "{got:?}");
    let dashed = bash_tab(&s, &repo, "source", &["git", "atlas", "--"]);
    assert!(dashed.contains(&"--quiet ".to_string()), "{dashed:?}");
}

#[test]
fn bash_git_atlas_remove_tab_offers_the_linked_worktrees() {
    let Some(()) = bash_ready("bash_git_atlas_remove_tab_offers_the_linked_worktrees") else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    // `main` cannot be removed, so it is not offered; the space is escaped for the command line.
    assert_eq!(
        sorted(bash_tab(
            &s,
            &repo,
            "source",
            &["git", "atlas", "remove", ""]
        )),
        strings(&["bugfix\\ login ", "feature-auth "])
    );
    // A second one, from inside a linked worktree: not the one already given.
    assert_eq!(
        sorted(bash_tab(
            &s,
            &s.at("feature-auth"),
            "source",
            &["git", "atlas", "remove", "feature-auth", ""]
        )),
        strings(&["bugfix\\ login "])
    );
    assert_eq!(
        sorted(bash_tab(
            &s,
            &repo,
            "source",
            &["git", "atlas", "remove", "bugfix\\ login", ""]
        )),
        strings(&["feature-auth "])
    );
    // A prefix typed with its escape, or inside quotes (readline closes the quote; no space).
    assert_eq!(
        bash_tab(
            &s,
            &repo,
            "source",
            &["git", "atlas", "remove", "bugfix\\ l"]
        ),
        ["bugfix\\ login "]
    );
    assert_eq!(
        bash_tab(&s, &repo, "source", &["git", "atlas", "remove", "\"bug"]),
        ["bugfix login"]
    );
    assert_eq!(
        bash_tab(&s, &repo, "source", &["git", "atlas", "remove", "f"]),
        ["feature-auth "]
    );
    // Git's -C: the worktrees of that repository, wherever the shell is.
    let elsewhere = s.at("home");
    let dir = repo.to_str().unwrap();
    assert_eq!(
        sorted(bash_tab(
            &s,
            &elsewhere,
            "source",
            &["git", "-C", dir, "atlas", "remove", ""]
        )),
        strings(&["bugfix\\ login ", "feature-auth "])
    );
}

#[test]
fn bash_remove_dash_dash_offers_its_flags() {
    let Some(()) = bash_ready("bash_remove_dash_dash_offers_its_flags") else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    let got = bash_tab(&s, &repo, "source", &["git", "atlas", "remove", "--"]);
    for flag in [
        "--all",
        "--force",
        "--keep-services",
        "--grace",
        "--drop-db",
        "--quiet",
        "--color",
        "--help",
    ] {
        assert!(got.contains(&format!("{flag} ")), "{flag} missing: {got:?}");
    }
    assert!(got.iter().all(|w| w.starts_with("--")), "{got:?}");
    assert!(!got.iter().any(|w| w.starts_with("--json")), "{got:?}");
    // After an option that takes a value, its value, not a worktree.
    let got = bash_tab(
        &s,
        &repo,
        "source",
        &["git", "atlas", "remove", "--color", ""],
    );
    assert_eq!(sorted(got), strings(&["always ", "auto ", "never "]));
}

#[test]
fn bash_worktree_arguments_complete_to_worktree_names() {
    let Some(()) = bash_ready("bash_worktree_arguments_complete_to_worktree_names") else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    let all = strings(&["main", "bugfix\\ login", "feature-auth"]);
    // `git-atlas` typed as one word: bash adds the space itself.
    for words in [
        &["git-atlas", "docker", "up", ""][..],
        &["git-atlas", "docker", "ps", ""],
        &["git-atlas", "env", ""],
        &["git-atlas", "db", "status", ""],
        &["git-atlas", "ports", "show", ""],
        &["git-atlas", "ports", "release", ""],
        &["git-atlas", "exec", "-w", ""],
        &["git-atlas", "--color", "never", "exec", "--worktree", ""],
        // bash splits `--worktree=` into three words.
        &["git-atlas", "exec", "--worktree", "=", ""],
    ] {
        assert_eq!(
            sorted(bash_tab(&s, &repo, "source", words)),
            all,
            "{words:?}"
        );
    }
    assert_eq!(
        sorted(bash_tab(
            &s,
            &repo,
            "source",
            &["git-atlas", "db", "drop", ""]
        )),
        strings(&["bugfix\\ login", "feature-auth"]),
        "db drop never takes the main worktree"
    );
    // Through Git, whose words keep `--worktree=…` whole: the value only, as readline
    // replaces what follows the `=`.
    assert_eq!(
        bash_tab(
            &s,
            &repo,
            "source",
            &["git", "atlas", "exec", "--worktree=fe"]
        ),
        ["feature-auth "]
    );
    assert_eq!(
        sorted(bash_tab(
            &s,
            &repo,
            "source",
            &["git", "atlas", "docker", "down", ""]
        )),
        strings(&["main ", "bugfix\\ login ", "feature-auth "])
    );
    // One worktree only: after it, not another.
    let got = bash_tab(&s, &repo, "source", &["git", "atlas", "env", "main", ""]);
    assert!(!got.iter().any(|w| w.contains("feature-auth")), "{got:?}");
    // The program after `exec --` is no worktree.
    let got = bash_tab(&s, &repo, "source", &["git", "atlas", "exec", "--", "ma"]);
    assert!(!got.iter().any(|w| w.contains("main")), "{got:?}");
}

#[test]
fn bash_ports_tab_offers_its_verbs() {
    let Some(()) = bash_ready("bash_ports_tab_offers_its_verbs") else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    let got = bash_tab(&s, &repo, "source", &["git", "atlas", "ports", ""]);
    for verb in [
        "show",
        "list",
        "check",
        "status",
        "check-conflicts",
        "mark-unavailable",
        "mark-available",
        "config",
        "compact",
        "release",
        "release-all",
        "cleanup",
        "reset",
        "scan-rebuild",
    ] {
        assert!(got.contains(&format!("{verb} ")), "{verb} missing: {got:?}");
    }
    assert!(!got.iter().any(|w| w.trim() == "remove"), "{got:?}");
    assert_eq!(
        bash_tab(&s, &repo, "source", &["git", "atlas", "ports", "scan"]),
        ["scan-rebuild "]
    );
}

/// Worktree names are data: quoted on the way out, never run.
#[test]
fn bash_hostile_worktree_names_are_quoted_and_never_run() {
    let Some(()) = bash_ready("bash_hostile_worktree_names_are_quoted_and_never_run") else {
        return;
    };
    let s = Sandbox::new();
    let repo = s.repo("app", "PORT=3000\n");
    for (i, dir) in ["it's", "$(touch pwned)", "`touch pwned2`"]
        .iter()
        .enumerate()
    {
        s.git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                &format!("b{i}"),
                &format!("../{dir}"),
            ],
        )
        .ok();
        name_as_older_git(&s.at(dir));
    }
    let got = sorted(bash_tab(
        &s,
        &repo,
        "source",
        &["git", "atlas", "remove", ""],
    ));
    assert_eq!(
        got,
        strings(&[
            "it\\'s ",
            "\\$\\(touch\\ pwned\\) ",
            "\\`touch\\ pwned2\\` "
        ])
    );
    let got = bash_tab(&s, &repo, "source", &["git-atlas", "remove", "\\$"]);
    assert_eq!(got, ["\\$\\(touch\\ pwned\\)"]);
    for name in ["pwned", "pwned2"] {
        assert!(!repo.join(name).exists() && !s.root().join(name).exists());
    }
}

/// The README's bash instructions: a file in the user's completions directory, which
/// bash-completion loads for `git-atlas <TAB>` and, through Git's completion, for
/// `git atlas <TAB>`; or a line in ~/.bashrc.
#[test]
fn bash_installs_as_the_readme_says() {
    let test = "bash_installs_as_the_readme_says";
    let Some(()) = bash_ready(test) else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    // ~/.bashrc: `source <(git atlas completions bash)` (through git, as a user types it).
    fs::write(
        s.at("home").join(".bashrc"),
        "source <(git atlas completions bash)\n",
    )
    .unwrap();
    assert_eq!(
        bash_tab(&s, &repo, "bashrc", &["git", "atlas", "re"]),
        ["remove "]
    );
    assert_eq!(
        sorted(bash_tab(&s, &repo, "bashrc", &["git-atlas", "remove", ""])),
        strings(&["bugfix\\ login", "feature-auth"])
    );
    if !Path::new(BASH_COMPLETION).exists() {
        unavailable::<()>(test, "bash-completion", BASH_COMPLETION);
        return;
    }
    // ~/.local/share/bash-completion/completions/git-atlas ($XDG_DATA_HOME here), loaded on
    // demand: nothing sourced beforehand, for either spelling.
    let dir = s.at("data").join("bash-completion/completions");
    fs::create_dir_all(&dir).unwrap();
    let script = s.atlas(&repo, &["completions", "bash"]).ok();
    fs::write(dir.join("git-atlas"), script).unwrap();
    assert_eq!(
        bash_tab(&s, &repo, "lazy", &["git", "atlas", "re"]),
        ["remove "]
    );
    assert_eq!(
        sorted(bash_tab(&s, &repo, "lazy", &["git", "atlas", "remove", ""])),
        strings(&["bugfix\\ login ", "feature-auth "])
    );
    assert_eq!(
        bash_tab(&s, &repo, "lazy", &["git-atlas", "docker", "re"]),
        ["regenerate"]
    );
}

// ---------------------------------------------------------------------------------------- zsh

/// Runs `program args` in `cwd`, killed after `secs` seconds; (success, stdout, stderr).
fn run_with_deadline(cmd: &mut Command, secs: u64) -> (bool, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.is_some(), "timed out: {cmd:?}\n{out}\n{err}");
    (status.unwrap().success(), out, err)
}

/// A TAB in an interactive zsh (in a zpty) after `setup`, typing `line`: the candidates zsh
/// offered (what `compadd` was given), each once.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT='' RPROMPT=''"
zpty -w z "$1"
zpty -w z 'compadd () { if (( ${@[(I)-[OAD]*]} )); then builtin compadd "$@"; return; fi; local -a __h; builtin compadd -A __h "$@"; local x; for x in $__h; do print -rn -- "<<$x>>"; done; builtin compadd "$@"; }'
zpty -w z "zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' menu no; LISTMAX=100000"
zpty -w z 'print -- BEGIN${}MARK'
zpty -r -m z out '*BEGINMARK*'
zpty -w -n z "$2"$'\t'
zpty -w z $'\C-u''print -- END${}MARK'
zpty -r -m z out '*ENDMARK*'
print -r -- "$out"
zpty -d z
"#;

fn zsh_tab(s: &Sandbox, cwd: &Path, setup: &str, line: &str) -> Vec<String> {
    let (ok, out, err) = run_with_deadline(
        s.cmd("zsh", cwd)
            .args(["-f", "-c", ZSH_DRIVER, "zsh", setup, line])
            .env("TERM", "dumb"),
        60,
    );
    assert!(ok, "zsh driver failed:\n{out}\n{err}");
    let mut got: Vec<String> = Vec::new();
    let mut rest = out.as_str();
    while let Some(start) = rest.find("<<") {
        let Some(len) = rest[start + 2..].find(">>") else {
            break;
        };
        // compadd -A gives the words quoted for the line.
        let word = rest[start + 2..start + 2 + len].replace("\\ ", " ");
        if !got.contains(&word) {
            got.push(word);
        }
        rest = &rest[start + 2 + len + 2..];
    }
    sorted(got)
}

#[test]
fn zsh_script_parses_and_defines_git_s_hook() {
    let test = "zsh_script_parses_and_defines_git_s_hook";
    let Some(()) = zsh_ready(test) else {
        return;
    };
    let s = Sandbox::new();
    let file = s.at("_git-atlas");
    fs::write(&file, s.atlas(s.root(), &["completions", "zsh"]).ok()).unwrap();
    let run = support::Run::of(s.cmd("zsh", s.root()).args(["-n"]).arg(&file));
    run.ok();
    let run = support::Run::of(s.cmd("zsh", s.root()).args([
        "-f",
        "-c",
        "autoload -Uz compinit && compinit -u -d \"$HOME/.zcompdump\" && \
         source <(git-atlas completions zsh) && whence -w _git-atlas",
    ]));
    assert_eq!(run.ok(), "_git-atlas: function\n", "{run}");
    assert!(run.stderr.is_empty(), "{run}");
}

#[test]
fn zsh_completes_git_atlas_through_git_s_completion() {
    let Some(()) = zsh_ready("zsh_completes_git_atlas_through_git_s_completion") else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    let setup = "autoload -Uz compinit; compinit -u -d $HOME/.zcompdump; \
                 source <(git-atlas completions zsh)";
    assert_eq!(zsh_tab(&s, &repo, setup, "git atlas re"), ["remove"]);
    let verbs = zsh_tab(&s, &repo, setup, "git atlas ");
    for verb in VERBS {
        assert!(verbs.contains(&verb.to_string()), "{verb}: {verbs:?}");
    }
    assert!(!verbs.contains(&"hook".to_string()), "{verbs:?}");
    assert_eq!(
        zsh_tab(&s, &repo, setup, "git atlas remove "),
        strings(&["bugfix login", "feature-auth"])
    );
    assert_eq!(
        zsh_tab(&s, &repo, setup, "git-atlas docker up "),
        strings(&["main", "bugfix login", "feature-auth"])
    );
    assert_eq!(
        zsh_tab(&s, &repo, setup, "git atlas exec -w "),
        strings(&["main", "bugfix login", "feature-auth"])
    );
    let flags = zsh_tab(&s, &repo, setup, "git atlas remove --");
    assert!(flags.contains(&"--keep-services".to_string()), "{flags:?}");
}

/// The README's zsh instructions: `_git-atlas` in a directory on fpath, then compinit; `git
/// <TAB>` then knows `atlas` too.
#[test]
fn zsh_installs_as_the_readme_says() {
    let Some(()) = zsh_ready("zsh_installs_as_the_readme_says") else {
        return;
    };
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    let dir = s.at("home").join(".zsh/completions");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("_git-atlas"),
        s.atlas(&repo, &["completions", "zsh"]).ok(),
    )
    .unwrap();
    let setup = "fpath=(~/.zsh/completions $fpath); autoload -Uz compinit; \
                 compinit -u -d $HOME/.zcompdump";
    assert_eq!(zsh_tab(&s, &repo, setup, "git atl"), ["atlas"]);
    assert_eq!(
        zsh_tab(&s, &repo, setup, "git atlas remove "),
        strings(&["bugfix login", "feature-auth"])
    );
    assert_eq!(zsh_tab(&s, &repo, setup, "git-atlas po"), ["ports"]);
}

// --------------------------------------------------------------------------------------- fish

/// fish is optional everywhere: CI does not install it.
#[test]
fn fish_completes_both_spellings_from_conf_d() {
    if !runs("fish") {
        eprintln!("SKIPPED fish_completes_both_spellings_from_conf_d: fish not available");
        return;
    }
    let s = Sandbox::new();
    let repo = repo_with_worktrees(&s);
    let conf = s.at("config").join("fish/conf.d");
    fs::create_dir_all(&conf).unwrap();
    fs::write(
        conf.join("git-atlas.fish"),
        s.atlas(&repo, &["completions", "fish"]).ok(),
    )
    .unwrap();
    let tab = |line: &str| -> Vec<String> {
        let out = s
            .cmd("fish", &repo)
            .args(["-c", &format!("complete -C {}", fish_quote(line))])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        sorted(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| l.split('\t').next().unwrap().to_owned())
                .collect(),
        )
    };
    assert_eq!(
        tab("git-atlas remove "),
        strings(&["bugfix login", "feature-auth"])
    );
    assert_eq!(tab("git atlas re"), ["remove"]);
    assert_eq!(
        tab("git atlas remove "),
        strings(&["bugfix login", "feature-auth"])
    );
    assert_eq!(
        tab("git atlas exec -w "),
        strings(&["main", "bugfix login", "feature-auth"])
    );
    assert!(tab("git che").contains(&"checkout".to_string()));
}

fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}
