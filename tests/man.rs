//! `git atlas --help` is turned by Git into `man git-atlas`, so man/git-atlas.1 must exist and
//! match the command-line definition in src/cli.rs. One page: the top-level command, then a
//! COMMANDS section with every (visible) subcommand, nested ones included.
//!
//! Regenerate after changing src/cli.rs: `GIT_ATLAS_BLESS=1 cargo test --test man`.

use std::io::Write;
use std::path::Path;

use clap_mangen::Man;

type Section = fn(&Man, &mut dyn Write) -> std::io::Result<()>;

/// One section of `man`, without its `.SH` heading and without the `Aq` string definition that
/// clap_mangen repeats at the start of every section (the page defines it once, at the top).
fn body(man: &Man, section: Section) -> String {
    let mut out = Vec::new();
    section(man, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| {
            !l.starts_with(".SH ")
                && !l.starts_with(".ie \\n(.g .ds Aq")
                && !l.starts_with(".el .ds Aq")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn visible(cmd: &clap::Command) -> Vec<clap::Command> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .cloned()
        .collect()
}

/// `.SS "git atlas ports check"`: synopsis, description, options; then its own subcommands.
fn render_command(out: &mut String, name: &str, cmd: clap::Command) {
    let cmd = cmd.bin_name(name);
    let man = Man::new(cmd.clone());
    out.push_str(&format!(".SS \"{name}\"\n"));
    out.push_str(&body(&man, Man::render_synopsis_section));
    out.push_str(".PP\n");
    out.push_str(&body(&man, Man::render_description_section));
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        out.push_str(&body(&man, Man::render_options_section));
    }
    for sub in visible(&cmd) {
        let sub_name = format!("{name} {}", sub.get_name());
        render_command(out, &sub_name, sub);
    }
}

/// Facts about the whole tool that have no place in the clap definition.
const EXTRA: &str = r#".SH "EXIT STATUS"
0 on success, 1 when the operation failed, 2 for a usage error (a bad command line, or an unknown placeholder in a template). The hidden \fBhook\fR command that the hook shims run always exits 0.
.SH ENVIRONMENT
.TP
\fBGIT_ATLAS_STATE_DIR\fR
Directory of the machine\-wide lease file (default: \fB$XDG_STATE_HOME/git\-atlas\fR, else \fB~/.local/state/git\-atlas\fR).
.TP
\fBGIT_ATLAS_SKIP_HOOKS\fR
Any non\-empty value (e.g. 1) makes the installed hooks do nothing.
.TP
\fBNO_COLOR\fR
Any non\-empty value turns colour off (as \fB\-\-color=never\fR), unless \fB\-\-color=always\fR is given.
.SH FILES
.TP
\fB.atlas.toml\fR
Services, strategy, templates and conflict resolution; repository root, committed.
.TP
\fB$GIT_COMMON_DIR/worktree\-registry/ports.json\fR
The registry: every worktree's ports.
.TP
\fB$GIT_COMMON_DIR/worktree\-registry/config.toml\fR
This machine's overrides of .atlas.toml, written by \fBgit atlas ports config\fR.
.TP
\fB.env\fR, \fBapps/*/.env\fR, ...
The main worktree\*(Aqs ignored env files, carried into each worktree with its ports and database names.
.TP
\fB.env.local\fR, \fB.env.worktree\fR, \fBdocker\-compose.yml\fR
Generated in each worktree from a committed \fB.env\fR and the templates.
.SH "SEE ALSO"
\fBgit\-worktree\fR(1), \fBgithooks\fR(5). The README in the source distribution documents .atlas.toml, the templates and the registry.
"#;

fn render() -> Vec<u8> {
    let cmd = git_atlas::cli::definition();
    let man = Man::new(cmd.clone())
        .title("GIT-ATLAS")
        .manual("git-atlas Manual");
    let mut page = Vec::new();
    man.render_title(&mut page).unwrap();
    man.render_name_section(&mut page).unwrap();
    man.render_synopsis_section(&mut page).unwrap();
    man.render_description_section(&mut page).unwrap();
    man.render_options_section(&mut page).unwrap();
    let mut commands = String::from(".SH COMMANDS\n");
    for sub in visible(&cmd) {
        let name = format!("git atlas {}", sub.get_name());
        render_command(&mut commands, &name, sub);
    }
    page.extend_from_slice(commands.as_bytes());
    page.extend_from_slice(EXTRA.as_bytes());
    man.render_version_section(&mut page).unwrap();
    page
}

#[test]
fn man_page_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/git-atlas.1");
    let fresh = render();
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed == fresh {
        return;
    }
    if std::env::var_os("GIT_ATLAS_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    panic!(
        "{} does not match the command-line definition in src/cli.rs.\n\
         Regenerate it with: GIT_ATLAS_BLESS=1 cargo test --test man",
        path.display()
    );
}

/// `MANPATH=$PWD/man man git-atlas` (and so `git atlas --help`) finds the page through this link.
#[test]
fn man1_link_points_at_the_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let linked = std::fs::read(root.join("man/man1/git-atlas.1"))
        .expect("man/man1/git-atlas.1 should be a symlink to ../git-atlas.1");
    assert_eq!(linked, std::fs::read(root.join("man/git-atlas.1")).unwrap());
}
