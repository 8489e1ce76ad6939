//! Shell completion scripts. `clap_complete` writes the bulk of each from the command-line
//! definition; this module adds what it cannot know:
//!
//! - `git atlas <TAB>`: Git's bash completion calls `_git_atlas` for `git atlas …`, and zsh's
//!   `_git` calls `_git-atlas`;
//! - worktree names, from `git atlas list --names` (read-only), wherever a command takes a
//!   worktree (`remove`, `env`, `docker up`, `exec -w`, …);
//! - no hidden subcommand (`hook`), which `clap_complete` would offer.
//!
//! Where clap's text is edited, the edit must find what it edits; [`build`] fails otherwise, and
//! the unit tests below check that every edit applies to the `clap_complete` in use.

use std::fmt::Write as _;

use clap::{Arg, Command};
use clap_complete::Shell;

use crate::cli;

/// The program the scripts complete.
const BIN: &str = "git-atlas";

/// bash: clap's function is generated as if for a program of this name, so that it is called
/// `__git_atlas_clap` and our own functions call it. (Generated for `git-atlas`, its subcommand
/// arms would never match: clap_complete spells a hyphenated program name two ways,
/// clap-rs/clap#6421.)
const BASH_CLAP_BIN: &str = "_git_atlas_clap";

/// zsh: a worktree argument is generated with these as its only values, then the value list is
/// replaced by a function that lists the worktrees.
const ZSH_ALL: &str = "GIT_ATLAS_WORKTREE_NAMES";
const ZSH_LINKED: &str = "GIT_ATLAS_LINKED_WORKTREE_NAMES";

/// Commands whose worktree is never the main one: they refuse it.
const LINKED_ONLY: &[&str] = &["remove", "db drop", "copy"];

/// The completion script for `shell`. (Built in memory: `clap_complete` panics on a write error,
/// and a reader that goes away early must end the command quietly.)
pub fn script(shell: Shell) -> Vec<u8> {
    // `build` only fails if clap_complete's text changed under an edit, which the unit tests
    // rule out for the version built; clap's plain script is the fallback.
    build(shell)
        .unwrap_or_else(|_| generate(shell, command(), BIN))
        .into_bytes()
}

/// The script for `shell`, or the edit of clap's text that did not apply.
fn build(shell: Shell) -> Result<String, String> {
    match shell {
        Shell::Bash => bash(),
        Shell::Zsh => zsh(),
        Shell::Fish => fish(),
        other => Ok(generate(other, command(), BIN)),
    }
}

fn generate(shell: Shell, mut cmd: Command, bin_name: &str) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, bin_name, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The command line as completion offers it: `Cli` without its hidden subcommands. (Clap has no
/// way to remove a subcommand, so the top level is rebuilt; a unit test checks it shows the
/// same help as `Cli`.)
fn command() -> Command {
    let cli = cli::definition();
    let mut cmd = Command::new(BIN)
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(cli.is_propagate_version_set())
        .subcommand_required(cli.is_subcommand_required_set())
        .arg_required_else_help(cli.is_arg_required_else_help_set())
        .args(cli.get_arguments().cloned())
        .groups(cli.get_groups().cloned())
        .subcommands(cli.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = cli.get_about() {
        cmd = cmd.about(about.clone());
    }
    if let Some(about) = cli.get_long_about() {
        cmd = cmd.long_about(about.clone());
    }
    cmd
}

/// Which worktrees a worktree argument takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Names {
    All,
    /// Not the main worktree.
    Linked,
}

impl Names {
    fn word(self) -> &'static str {
        match self {
            Names::All => "all",
            Names::Linked => "linked",
        }
    }
}

/// A place where a worktree name goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Site {
    /// The subcommand, its words joined by spaces: `docker up`.
    path: String,
    /// An option's spellings (`-w`, `--worktree`); empty for an operand.
    flags: Vec<String>,
    /// An operand that takes more than one worktree.
    many: bool,
    names: Names,
}

fn is_worktree_arg(arg: &Arg) -> bool {
    matches!(arg.get_id().as_str(), "worktree" | "worktrees")
}

/// `-x` and `--long` (with visible aliases) of an option.
fn spellings(arg: &Arg) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in arg.get_short_and_visible_aliases().unwrap_or_default() {
        out.push(format!("-{s}"));
    }
    for l in arg.get_long_and_visible_aliases().unwrap_or_default() {
        out.push(format!("--{l}"));
    }
    out
}

/// Every command below `cmd` (`cmd` itself first, as ""), with its path.
fn walk<'c>(cmd: &'c Command, path: &str, out: &mut Vec<(String, &'c Command)>) {
    out.push((path.to_owned(), cmd));
    for sub in cmd.get_subcommands() {
        let p = if path.is_empty() {
            sub.get_name().to_owned()
        } else {
            format!("{path} {}", sub.get_name())
        };
        walk(sub, &p, out);
    }
}

/// `command()` as clap completes it: with `help`, `--help`, `--version` and the global options
/// on every subcommand.
fn built() -> Command {
    let mut cmd = command();
    cmd.build();
    cmd
}

fn sites(cmd: &Command) -> Vec<Site> {
    let mut all = Vec::new();
    walk(cmd, "", &mut all);
    let mut out = Vec::new();
    for (path, c) in all {
        for arg in c.get_arguments().filter(|a| is_worktree_arg(a)) {
            let names = if LINKED_ONLY.contains(&path.as_str()) {
                Names::Linked
            } else {
                Names::All
            };
            out.push(Site {
                path: path.clone(),
                flags: if arg.is_positional() {
                    Vec::new()
                } else {
                    spellings(arg)
                },
                many: arg.get_num_args().is_some_and(|n| n.max_values() > 1)
                    || matches!(arg.get_action(), clap::ArgAction::Append),
                names,
            });
        }
    }
    out
}

/// Single-quoted for the shell (the words here are command and option names).
fn sq(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `'a'|'b'|…` for a bash `case`, or a pattern that never matches when there is none.
fn alternatives(words: impl IntoIterator<Item = String>) -> String {
    let all: Vec<String> = words.into_iter().map(|w| sq(&w)).collect();
    if all.is_empty() {
        "'|'".to_owned() // no command or option is spelled `|`
    } else {
        all.join("|")
    }
}

/// `text` with the one occurrence of `old` replaced by `new`.
fn replace_once(text: &str, old: &str, new: &str, what: &str) -> Result<String, String> {
    match text.matches(old).count() {
        1 => Ok(text.replacen(old, new, 1)),
        n => Err(format!(
            "{what}: expected {old:?} once in clap's script, found it {n} times"
        )),
    }
}

// ------------------------------------------------------------------------------------- bash

const BASH_GLUE: &str = r#"
# --- git-atlas: worktree names, and `git atlas <TAB>` through Git's own completion ---------

# Is "$1" (e.g. `docker up`) a git-atlas command?
__git_atlas_is_command() {
    case "$1" in
        @COMMANDS@) return 0 ;;
    esac
    return 1
}

# Does option "$2" of command "$1" take its value from the next word?
__git_atlas_takes_value() {
    case "$1|$2" in
        @VALUE_OPTIONS@) return 0 ;;
    esac
    return 1
}

# Does the word being completed name a worktree? $1: the command, $2: the word before (for
# `--opt = value`, the option), $3: the word, $4: how many operands the command has already.
# Sets the caller's `which` (all; linked: not the main worktree) and `pfx` (`--worktree=`).
__git_atlas_worktree_site() {
    case "$1|$2" in
        @OPTION_SITES@
    esac
    case "$1|$3" in
        @EQUALS_SITES@
    esac
    [[ $3 == -* ]] && return 1
    __git_atlas_takes_value "$1" "$2" && return 1
    case "$1" in
        @OPERAND_SITES@
    esac
    return 1
}

# Removes backslashes and quotes from word $1 as the shell would, into the caller's `dequoted`
# (a word is never evaluated).
__git_atlas_dequote() {
    local in=$1 c q=
    dequoted=
    while [[ -n $in ]]; do
        c=${in:0:1}
        in=${in:1}
        if [[ $q == "'" ]]; then
            if [[ $c == "'" ]]; then q=; else dequoted+=$c; fi
        elif [[ $c == '\' ]]; then
            dequoted+=${in:0:1}
            in=${in:1}
        elif [[ -n $q ]]; then
            if [[ $c == '"' ]]; then q=; else dequoted+=$c; fi
        elif [[ $c == "'" || $c == '"' ]]; then
            q=$c
        else
            dequoted+=$c
        fi
    done
}

# Whether worktree $1 is already one of the caller's `given` operands (`remove a b <TAB>`).
__git_atlas_given() {
    local w dequoted
    for w in "${given[@]}"; do
        __git_atlas_dequote "$w"
        [[ $dequoted == "$1" ]] && return 0
    done
    return 1
}

# The worktrees whose names start with word $3 (as typed), into COMPREPLY, quoted for the
# command line (`bugfix\ login`) unless the word opens a quote. $1: `git` when Git's
# completion asks (Git's `__git` follows `git -C <dir>`), $2: all or linked.
__git_atlas_worktrees() {
    local name dequoted quoted=
    COMPREPLY=()
    __git_atlas_dequote "$3"
    case $3 in \"* | \'*) quoted=1 ;; esac
    while IFS= read -r name; do
        [[ $2 == linked && $name == main ]] && continue
        [[ $name == "$dequoted"* ]] || continue
        __git_atlas_given "$name" && continue
        [[ -n $quoted ]] || printf -v name '%q' "$name"
        COMPREPLY+=("$name")
    done < <(
        if [[ $1 == git ]] && declare -F __git >/dev/null; then
            __git atlas list --names </dev/null
        else
            command git-atlas list --names 2>/dev/null </dev/null
        fi
    )
}

# Completes word $2 of the git-atlas command line "${@:3}" (the program first) into COMPREPLY.
# $1: `git` when Git's completion asks.
__git_atlas_complete() {
    local via=$1 cword=$2
    shift 2
    local -a words=("$@")
    local cur=${words[cword]} prev= before= path= w i skip= operands=0 which= pfx=
    local -a given=() # the operands typed so far, which __git_atlas_worktrees does not offer again
    ((cword > 0)) && prev=${words[cword - 1]}
    before=$prev
    [[ $prev == = ]] && ((cword > 1)) && before=${words[cword - 2]}
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ $w == = ]]; then # bash splits `--opt=value` into three words
            skip=1
            continue
        fi
        if [[ -n $skip ]]; then
            skip=
            continue
        fi
        case $w in
        --)
            # The rest is a program and its arguments (`exec -- …`): files.
            COMPREPLY=()
            return 0
            ;;
        -*)
            __git_atlas_takes_value "$path" "$w" && skip=1
            continue
            ;;
        esac
        if __git_atlas_is_command "${path:+$path }$w"; then
            path=${path:+$path }$w
            operands=0
        else
            operands=$((operands + 1))
            given+=("$w")
        fi
    done
    if __git_atlas_worktree_site "$path" "$before" "$cur" "$operands"; then
        __git_atlas_worktrees "$via" "$which" "${cur#"$pfx"}"
        return 0
    fi
    local -a COMP_WORDS=("${words[@]}")
    local COMP_CWORD=$cword
    __git_atlas_clap "${words[0]}" "$cur" "$prev"
    # As Git's own completion does: options only once a `-` is typed, when there is anything
    # else to offer (`git atlas <TAB>` lists the verbs, not `-h --help --quiet`).
    if [[ $cur != -* ]]; then
        local -a plain=()
        for w in "${COMPREPLY[@]}"; do
            [[ $w == -* ]] || plain+=("$w")
        done
        ((${#plain[@]})) && COMPREPLY=("${plain[@]}")
    fi
    return 0
}

# `git-atlas <TAB>`.
__git_atlas_bash() {
    __git_atlas_complete "" "$COMP_CWORD" "${COMP_WORDS[@]}"
}

# `git atlas <TAB>`: Git's bash completion (`__git_main`, through `__git_complete_command`)
# calls `_git_<command>` with `words`, `cword` and `cur` set and `__git_cmd_idx` the index of
# `atlas` in `words`.
_git_atlas() {
    local idx=${__git_cmd_idx-} i
    if [[ -z $idx ]]; then # a Git without __git_cmd_idx: the first `atlas`
        for ((i = 1; i < cword; i++)); do
            if [[ ${words[i]} == atlas ]]; then
                idx=$i
                break
            fi
        done
        [[ -n $idx ]] || return 0
    fi
    __git_atlas_complete git $((cword - idx)) git-atlas "${words[@]:idx+1}"
    # Git registers its completion with -o nospace: a complete word brings its own space, as
    # Git's __gitcomp adds it; not inside a quote, which readline closes after it.
    case ${words[cword]} in \"* | \'*) return 0 ;; esac
    for i in "${!COMPREPLY[@]}"; do
        case ${COMPREPLY[i]} in
        *= | */) ;;
        *) COMPREPLY[i]+=' ' ;;
        esac
    done
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F __git_atlas_bash -o nosort -o bashdefault -o default git-atlas
else
    complete -F __git_atlas_bash -o bashdefault -o default git-atlas
fi
"#;

fn bash() -> Result<String, String> {
    let clap = generate(Shell::Bash, command(), BASH_CLAP_BIN);
    // clap registers its function for a program called `_git_atlas_clap`: that goes, and the
    // glue registers for `git-atlas`.
    let start = clap
        .rfind("\nif [[ \"${BASH_VERSINFO[0]}\" -eq 4 &&")
        .ok_or("bash: clap's `complete` block not found")?;
    let tail = &clap[start..];
    let registration = format!("complete -F _{BASH_CLAP_BIN} ");
    if !tail.lines().all(|l| {
        let l = l.trim();
        l.is_empty()
            || l.starts_with("if [[ ")
            || l == "else"
            || l == "fi"
            || l.starts_with(&registration)
    }) || !tail.contains(&registration)
    {
        return Err(format!(
            "bash: the end of clap's script is not just its registration:{tail}"
        ));
    }
    let cmd = built();
    let mut commands = Vec::new();
    let mut value_options = Vec::new();
    let mut all = Vec::new();
    walk(&cmd, "", &mut all);
    for (path, c) in &all {
        if !path.is_empty() {
            commands.push(path.clone());
        }
        for arg in c.get_arguments() {
            if !arg.is_positional() && arg.get_action().takes_values() {
                for s in spellings(arg) {
                    value_options.push(format!("{path}|{s}"));
                }
            }
        }
    }
    let sites = sites(&cmd);
    let mut option_sites = String::new();
    let mut equals_sites = String::new();
    let mut operand_sites = String::new();
    for site in &sites {
        let which = site.names.word();
        if site.flags.is_empty() {
            let _ = write!(
                operand_sites,
                "{}){} which={which}; return 0 ;;\n        ",
                sq(&site.path),
                if site.many {
                    ""
                } else {
                    " [[ $4 == 0 ]] || return 1;"
                }
            );
        } else {
            let _ = write!(
                option_sites,
                "{}) which={which}; return 0 ;;\n        ",
                alternatives(site.flags.iter().map(|f| format!("{}|{f}", site.path)))
            );
            for long in site.flags.iter().filter(|f| f.starts_with("--")) {
                let _ = write!(
                    equals_sites,
                    "{}*) which={which}; pfx={long}=; return 0 ;;\n        ",
                    sq(&format!("{}|{long}=", site.path))
                );
            }
        }
    }
    let glue = BASH_GLUE
        .replace("@COMMANDS@", &alternatives(commands))
        .replace("@VALUE_OPTIONS@", &alternatives(value_options))
        .replace("@OPTION_SITES@", option_sites.trim_end())
        .replace("@EQUALS_SITES@", equals_sites.trim_end())
        .replace("@OPERAND_SITES@", operand_sites.trim_end());
    Ok(format!("{}\n{glue}", &clap[..start]))
}

// -------------------------------------------------------------------------------------- zsh

fn zsh() -> Result<String, String> {
    let mut cmd = command();
    let sites = sites(&built());
    for site in &sites {
        let sentinel = match site.names {
            Names::All => ZSH_ALL,
            Names::Linked => ZSH_LINKED,
        };
        cmd = with_arg_values(cmd, &site.path, sentinel);
    }
    let clap = generate(Shell::Zsh, cmd, BIN);
    let about = cli::definition()
        .get_about()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let description = about.trim().trim_end_matches('.');
    let mut chars = description.chars();
    let description: String = chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default();
    // `#description` on the second line: zsh's `_git` lists `atlas` with it for `git <TAB>`.
    let text = replace_once(
        &clap,
        "#compdef git-atlas\n",
        &format!("#compdef git-atlas\n#description {description}\n"),
        "zsh #compdef",
    )?;
    if !text.starts_with("#compdef git-atlas\n") {
        return Err("zsh: #compdef git-atlas is not the first line".into());
    }
    let expected: usize = sites
        .iter()
        .map(|s| s.flags.iter().filter(|f| f.starts_with('-')).count().max(1))
        .sum();
    let mut found = 0;
    let mut text = text;
    for (sentinel, function) in [
        (ZSH_ALL, "_git-atlas_worktrees"),
        (ZSH_LINKED, "_git-atlas_linked_worktrees"),
    ] {
        let old = format!(":({sentinel})'");
        found += text.matches(&old).count();
        text = text.replace(&old, &format!(":{function}'"));
    }
    if found != expected || text.contains("GIT_ATLAS_") {
        return Err(format!(
            "zsh: {found} worktree arguments replaced, {expected} expected"
        ));
    }
    // Defined before the end, where the autoloaded file runs `_git-atlas` at once.
    replace_once(
        &text,
        "\nif [ \"$funcstack[1]\" = \"_git-atlas\" ]; then\n",
        &format!("\n{ZSH_GLUE}\nif [ \"$funcstack[1]\" = \"_git-atlas\" ]; then\n"),
        "zsh autoload block",
    )
}

const ZSH_GLUE: &str = r#"# git-atlas: worktree names (`git atlas list --names` reads, never writes).
(( $+functions[_git-atlas_worktrees] )) ||
_git-atlas_worktrees() {
    local -a names expl
    names=(${(f)"$(_call_program worktrees git-atlas list --names 2>/dev/null)"})
    _wanted worktrees expl worktree compadd "$@" -a names
}

(( $+functions[_git-atlas_linked_worktrees] )) ||
_git-atlas_linked_worktrees() {
    local -a names expl
    names=(${(f)"$(_call_program worktrees git-atlas list --names 2>/dev/null)"})
    names=(${names:#main})
    _wanted worktrees expl 'linked worktree' compadd "$@" -a names
}
"#;

/// `cmd` with the worktree argument(s) of subcommand `path` taking only `value` (zsh's marker).
fn with_arg_values(cmd: Command, path: &str, value: &'static str) -> Command {
    fn go(cmd: Command, path: &[&str], value: &'static str) -> Command {
        match path.split_first() {
            None => cmd.mut_args(|a| {
                if is_worktree_arg(&a) {
                    a.value_parser([value])
                } else {
                    a
                }
            }),
            Some((first, rest)) => cmd.mut_subcommand(*first, |sub| go(sub, rest, value)),
        }
    }
    let words: Vec<&str> = path.split(' ').filter(|w| !w.is_empty()).collect();
    go(cmd, &words, value)
}

// ------------------------------------------------------------------------------------- fish

fn fish() -> Result<String, String> {
    let clap = generate(Shell::Fish, command(), BIN);
    if !clap.contains("function __fish_git_atlas_using_subcommand\n") {
        return Err("fish: clap's __fish_git_atlas_using_subcommand not found".into());
    }
    let mut text = clap;
    text.push_str(
        "\n# git-atlas: worktree names (`git-atlas list --names` reads, never writes).\n\
         function __fish_git_atlas_worktrees\n    \
             git-atlas list --names 2>/dev/null\n\
         end\n\
         function __fish_git_atlas_linked_worktrees\n    \
             __fish_git_atlas_worktrees | string match -v -- main\n\
         end\n",
    );
    text.push_str(FISH_GIT);
    for site in sites(&built()) {
        let words: Vec<&str> = site.path.split(' ').collect();
        let condition = match words.as_slice() {
            [one] => format!("__fish_git_atlas_using_subcommand {one}"),
            [one, two] => format!(
                "__fish_git_atlas_using_subcommand {one}; and __fish_seen_subcommand_from {two}"
            ),
            _ => return Err(format!("fish: no condition for `{}`", site.path)),
        };
        let function = match site.names {
            Names::All => "__fish_git_atlas_worktrees",
            Names::Linked => "__fish_git_atlas_linked_worktrees",
        };
        let mut line = format!("complete -c git-atlas -n \"{condition}\"");
        for flag in &site.flags {
            if let Some(long) = flag.strip_prefix("--") {
                let _ = write!(line, " -l {long}");
            } else if let Some(short) = flag.strip_prefix('-') {
                let _ = write!(line, " -s {short}");
            }
        }
        if !site.flags.is_empty() {
            line.push_str(" -r");
        }
        let _ = writeln!(line, " -f -a \"({function})\"");
        text.push_str(&line);
    }
    Ok(text)
}

/// `git atlas <TAB>` in fish: completed as `git-atlas <TAB>`. (fish's git completion does this
/// itself for `git-*` programs in some versions, not in 3.6; this works in any, once loaded.)
const FISH_GIT: &str = r#"
# git-atlas: `git atlas …` completes as `git-atlas …` (the words after `atlas`, quoted again).
function __fish_git_atlas_for_git
    set -l words (commandline -opc)
    set -l i (contains -i -- atlas $words)
    or return
    set -e words[1..$i]
    complete -C (string join ' ' -- git-atlas (string escape -- $words) '')(commandline -ct)
end
complete -c git -n "__fish_git_using_command atlas" -f -a "(__fish_git_atlas_for_git)"

"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_edit_of_clap_s_text_applies() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            if let Err(e) = build(shell) {
                panic!("{shell}: {e}");
            }
        }
        let bash = build(Shell::Bash).unwrap();
        assert!(
            bash.starts_with("__git_atlas_clap() {\n"),
            "clap's function"
        );
        assert!(bash.contains("\n_git_atlas() {\n"), "Git's hook");
        assert!(
            !bash.contains(" _git_atlas_clap\n"),
            "clap's registration is gone"
        );
        for placeholder in [
            "@COMMANDS@",
            "@VALUE_OPTIONS@",
            "@OPTION_SITES@",
            "@EQUALS_SITES@",
            "@OPERAND_SITES@",
        ] {
            assert!(BASH_GLUE.contains(placeholder), "{placeholder}");
            assert!(!bash.contains(placeholder), "{placeholder} is left");
        }
        let zsh = build(Shell::Zsh).unwrap();
        assert!(zsh.starts_with("#compdef git-atlas\n#description give every Git worktree"));
        assert!(zsh.contains(":_git-atlas_linked_worktrees'"));
    }

    /// The rebuilt top level is `Cli` with nothing missing but the hidden subcommands.
    #[test]
    fn the_completed_command_is_cli_without_hidden_subcommands() {
        let mut cli = cli::definition().bin_name(BIN);
        let mut ours = command().bin_name(BIN).max_term_width(100);
        assert_eq!(
            ours.render_long_help().to_string(),
            cli.render_long_help().to_string()
        );
        assert_eq!(ours.render_version(), cli.render_version());
        cli.build();
        ours.build();
        let visible: Vec<&str> = cli
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name())
            .collect();
        let names: Vec<&str> = ours.get_subcommands().map(|s| s.get_name()).collect();
        assert_eq!(names, visible);
        assert!(!names.contains(&"hook"));
        for name in ["remove", "docker"] {
            let a = cli.find_subcommand_mut(name).unwrap().render_long_help();
            let b = ours.find_subcommand_mut(name).unwrap().render_long_help();
            assert_eq!(a.to_string(), b.to_string(), "{name}");
        }
        // Hidden subcommands only at the top: deeper ones would need the same rebuild.
        let mut all = Vec::new();
        walk(&cli, "", &mut all);
        for (path, c) in all {
            if path.contains(' ') {
                assert!(!c.is_hide_set(), "{path} is hidden");
            }
        }
    }

    #[test]
    fn worktree_arguments_are_found_where_the_commands_take_them() {
        let got: Vec<(String, Vec<String>, bool, Names)> = sites(&built())
            .into_iter()
            .map(|s| (s.path, s.flags, s.many, s.names))
            .collect();
        let want = [
            ("remove", &[][..], true, Names::Linked),
            ("ports show", &[], false, Names::All),
            ("ports release", &[], false, Names::All),
            ("env", &[], false, Names::All),
            ("docker up", &[], false, Names::All),
            ("docker down", &[], false, Names::All),
            ("docker ps", &[], false, Names::All),
            ("docker regenerate", &[], false, Names::All),
            ("docker config", &[], false, Names::All),
            ("db status", &[], false, Names::All),
            ("db create", &[], false, Names::All),
            ("db drop", &[], false, Names::Linked),
            ("exec", &["-w", "--worktree"], false, Names::All),
            ("copy", &[], false, Names::Linked),
            ("setup", &[], false, Names::All),
        ];
        let want: Vec<(String, Vec<String>, bool, Names)> = want
            .iter()
            .map(|(p, f, m, n)| {
                (
                    p.to_string(),
                    f.iter().map(|s| s.to_string()).collect(),
                    *m,
                    *n,
                )
            })
            .collect();
        assert_eq!(got, want);
        for linked in LINKED_ONLY {
            assert!(got.iter().any(|s| s.0 == *linked), "{linked}");
        }
    }
}
