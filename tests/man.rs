//! `git atlas --help` is turned by Git into `man git-atlas`: man/git-atlas.1 must exist and match
//! the command-line definition. Regenerate with `GIT_ATLAS_BLESS=1 cargo test --test man`.

use clap::CommandFactory;

fn render() -> Vec<u8> {
    let cmd = git_atlas::cli::Cli::command().name("git-atlas");
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out).unwrap();
    let mut stack: Vec<(String, clap::Command)> = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| (format!("git atlas {}", c.get_name()), c.clone()))
        .collect();
    stack.reverse();
    while let Some((name, sub)) = stack.pop() {
        let sub = sub.bin_name(name.clone());
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let man = clap_mangen::Man::new(sub.clone());
        man.render_synopsis_section(&mut out).unwrap();
        man.render_description_section(&mut out).unwrap();
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut out).unwrap();
        }
        let mut children: Vec<(String, clap::Command)> = sub
            .get_subcommands()
            .filter(|c| !c.is_hide_set() && c.get_name() != "help")
            .map(|c| (format!("{name} {}", c.get_name()), c.clone()))
            .collect();
        children.reverse();
        stack.extend(children);
    }
    out
}

#[test]
fn man_page_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/git-atlas.1");
    let fresh = render();
    if std::env::var_os("GIT_ATLAS_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "man/git-atlas.1 is out of date: run `GIT_ATLAS_BLESS=1 cargo test --test man`"
    );
}
