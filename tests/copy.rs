//! Issue 20, the files Git does not carry: what `.worktreeinclude` (and `[copy] include`) names
//! among the main worktree's ignored files is copied into every new worktree, by `git atlas add`
//! and by a plain `git worktree add` through the hooks, and again by `git atlas copy`. Laid out
//! after documenso (tests/fixtures/projects/documenso: npm workspaces, `node_modules` at the
//! root and in an app, `*.pem` ignored, Prisma's generated types ignored). Clones are checked
//! on a real XFS filesystem (shared extents, `filefrag`), plain copies on a real tmpfs.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use support::Sandbox;

/// What a tree holds, path by path: a file's bytes, mode and mtime, or a symlink's target.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let to = fs::read_link(&path).unwrap();
                out.insert(rel, format!("-> {}", to.display()));
            } else if meta.is_dir() {
                out.insert(rel.clone(), format!("dir {:o}", meta.mode() & 0o7777));
                walk(root, &path, out);
            } else {
                let bytes = fs::read(&path).unwrap();
                out.insert(
                    rel,
                    format!(
                        "file {:o} {} {}:{} {:?}",
                        meta.mode() & 0o7777,
                        bytes.len(),
                        meta.mtime(),
                        meta.mtime_nsec(),
                        md5_hex(&bytes)
                    ),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A dependency folder shaped like npm's: packages with code, a `.bin` of relative symlinks,
/// an executable, a read-only file, a nested package, a file of some size.
fn node_modules(at: &Path, packages: usize) {
    for i in 0..packages {
        let pkg = at.join(format!("pkg-{i}"));
        fs::create_dir_all(pkg.join("lib")).unwrap();
        fs::write(
            pkg.join("package.json"),
            format!("{{\"name\":\"pkg-{i}\"}}\n"),
        )
        .unwrap();
        fs::write(pkg.join("lib/index.js"), format!("module.exports = {i};\n")).unwrap();
    }
    fs::create_dir_all(at.join(".bin")).unwrap();
    std::os::unix::fs::symlink("../pkg-0/lib/index.js", at.join(".bin/pkg-0")).unwrap();
    let cli = at.join("pkg-1/cli.js");
    fs::write(&cli, "#!/usr/bin/env node\n").unwrap();
    fs::set_permissions(&cli, fs::Permissions::from_mode(0o755)).unwrap();
    let ro = at.join("pkg-2/LICENSE");
    fs::write(&ro, "MIT\n").unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o444)).unwrap();
    fs::create_dir_all(at.join("pkg-3/node_modules/inner")).unwrap();
    fs::write(at.join("pkg-3/node_modules/inner/index.js"), "inner\n").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(at.join("pkg-0/lib/bundle.js"), big).unwrap();
}

/// documenso's layout with what a developer's main worktree has after `npm ci` and `prisma
/// generate`, and a committed `.worktreeinclude`.
fn documenso(s: &Sandbox, include: &str) -> PathBuf {
    let repo = s.fixture("documenso");
    fs::write(
        repo.join(".gitignore"),
        "packages/prisma/generated/types.ts\nnode_modules\n.env\n.env.local\n*.pem\n.turbo\n",
    )
    .unwrap();
    fs::create_dir_all(repo.join("apps/remix")).unwrap();
    fs::write(
        repo.join("apps/remix/package.json"),
        "{\"name\":\"@documenso/remix\"}\n",
    )
    .unwrap();
    fs::create_dir_all(repo.join("packages/prisma/generated")).unwrap();
    fs::write(repo.join("packages/prisma/schema.prisma"), "// schema\n").unwrap();
    fs::write(repo.join(".worktreeinclude"), include).unwrap();
    s.git(&repo, &["add", "-A"]).ok();
    s.git(&repo, &["commit", "-q", "-m", "layout"]).ok();
    node_modules(&repo.join("node_modules"), 6);
    node_modules(&repo.join("apps/remix/node_modules"), 3);
    fs::write(
        repo.join("packages/prisma/generated/types.ts"),
        "export type X = 1;\n",
    )
    .unwrap();
    fs::create_dir_all(repo.join("certs")).unwrap();
    fs::write(repo.join("certs/local.pem"), "-----BEGIN KEY-----\n").unwrap();
    fs::create_dir_all(repo.join(".turbo")).unwrap();
    fs::write(repo.join(".turbo/cache.log"), "turbo\n").unwrap();
    repo
}

const INCLUDE: &str =
    "# what a new worktree needs to run\nnode_modules\n*.pem\n.env\npackages/prisma/generated/\n";

/// The copied parts of `wt` are main's, file for file (bytes, mode, mtime, symlinks).
fn assert_copied(repo: &Path, wt: &Path) {
    for part in [
        "node_modules",
        "apps/remix/node_modules",
        "packages/prisma/generated",
        "certs",
    ] {
        assert_eq!(
            tree(&repo.join(part)),
            tree(&wt.join(part)),
            "{part} in {}",
            wt.display()
        );
    }
    let link = fs::symlink_metadata(wt.join("node_modules/.bin/pkg-0")).unwrap();
    assert!(link.file_type().is_symlink());
    // Not named: stays in main.
    assert!(!wt.join(".turbo").exists());
    // Named, but git-atlas writes it: the worktree's own ports, never main's raw file.
    let env = fs::read_to_string(wt.join(".env")).unwrap();
    assert!(env.starts_with("# generated by git-atlas"), "{env}");
}

#[test]
fn what_worktreeinclude_names_is_copied_by_add_and_by_a_plain_worktree_add() {
    let s = Sandbox::new();
    let repo = documenso(&s, INCLUDE);
    let run = s.atlas(&repo, &["add", "--no-db", "../feat"]).success();
    assert_copied(&repo, &s.at("feat"));
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Copied "))
        .unwrap_or_else(|| panic!("{run}"));
    // 6 + 3 packages × 2 files, and in each node_modules a `.bin` link, a cli, a licence, an
    // inner package and a bundle; Prisma's types (the folder is ignored as a whole); the key.
    assert!(
        line.starts_with("Copied apps/remix/node_modules/, certs/local.pem, node_modules/, packages/prisma/generated/ from main: 30 files, "),
        "{line}"
    );
    assert!(!line.contains(".env"), "{line}");

    s.atlas(&repo, &["hooks", "install"]).ok();
    let plain = s
        .git(&repo, &["worktree", "add", "-q", "../plain"])
        .success();
    let lines: Vec<&str> = plain
        .stderr
        .lines()
        .filter(|l| l.contains("git-atlas"))
        .collect();
    assert_eq!(lines.len(), 1, "{plain}");
    assert!(lines[0].contains("; copied 30 files ("), "{plain}");
    assert_copied(&repo, &s.at("plain"));
    // Nothing of it shows in Git: all of it is ignored in the worktrees too.
    for wt in ["feat", "plain"] {
        assert_eq!(
            s.git(&s.at(wt), &["status", "--porcelain"]).ok(),
            "",
            "{wt}"
        );
    }
    // --no-copy copies nothing; --no-env writes no .env, and main's is not copied raw either.
    s.atlas(&repo, &["add", "-q", "--no-db", "--no-copy", "../bare"])
        .ok();
    assert!(!s.at("bare/node_modules").exists());
    s.atlas(&repo, &["add", "-q", "--no-db", "--no-env", "../noenv"])
        .ok();
    assert!(s.at("noenv/node_modules/pkg-0/package.json").is_file());
    assert!(!s.at("noenv/.env").exists());
}

#[test]
fn a_file_the_worktree_has_is_kept_and_copy_again_brings_only_what_is_new() {
    let s = Sandbox::new();
    let repo = documenso(&s, "");
    // The patterns from .atlas.toml this time.
    fs::write(
        repo.join(".atlas.toml"),
        "[copy]\ninclude = [\"node_modules\", \"*.pem\"]\n",
    )
    .unwrap();
    // A branch that tracks the key (another one): its checkout has it.
    s.git(&repo, &["switch", "-q", "-c", "with-key"]).ok();
    fs::write(repo.join("certs/local.pem"), "the branch's key\n").unwrap();
    s.git(&repo, &["add", "-f", "certs/local.pem", ".atlas.toml"])
        .ok();
    s.git(&repo, &["commit", "-q", "-m", "key"]).ok();
    s.git(&repo, &["switch", "-q", "main"]).ok();
    fs::write(
        repo.join(".atlas.toml"),
        "[copy]\ninclude = [\"node_modules\", \"*.pem\"]\n",
    )
    .unwrap();
    s.git(&repo, &["add", ".atlas.toml"]).ok();
    s.git(&repo, &["commit", "-q", "-m", "copy"]).ok();
    fs::create_dir_all(repo.join("certs")).unwrap();
    fs::write(repo.join("certs/local.pem"), "main's key\n").unwrap();

    let run = s
        .atlas(
            &repo,
            &["add", "--no-db", "-b", "k", "../keyed", "with-key"],
        )
        .success();
    let wt = s.at("keyed");
    assert_eq!(
        fs::read_to_string(wt.join("certs/local.pem")).unwrap(),
        "the branch's key\n"
    );
    assert_eq!(
        tree(&repo.join("node_modules")),
        tree(&wt.join("node_modules"))
    );
    assert!(
        run.stdout.contains("kept 1 file the worktree already has"),
        "{run}"
    );

    // Main gets a new package; `git atlas copy` brings it and keeps the rest.
    fs::create_dir_all(repo.join("node_modules/@new/pkg")).unwrap();
    fs::write(repo.join("node_modules/@new/pkg/index.js"), "new\n").unwrap();
    fs::write(repo.join("node_modules/@new/pkg/package.json"), "{}\n").unwrap();
    let again = s.atlas(&wt, &["copy"]).success();
    assert_eq!(
        tree(&repo.join("node_modules")),
        tree(&wt.join("node_modules"))
    );
    assert!(
        again.stdout.starts_with(
            "Copied apps/remix/node_modules/, certs/local.pem, node_modules/ from main: 2 files,"
        ),
        "{again}"
    );
    let third = s.atlas(&wt, &["copy", "keyed"]).success();
    assert!(
        third
            .stdout
            .starts_with("Nothing new to copy from main: the worktree has all"),
        "{third}"
    );
    let main_copy = s.atlas(&repo, &["copy"]);
    assert!(
        main_copy
            .fails(2)
            .contains("the main worktree is where copies come from"),
        "{main_copy}"
    );
}

#[test]
fn odd_names_are_copied_as_they_are_and_never_through_a_symlink_out_of_the_worktree() {
    let s = Sandbox::new();
    let repo = documenso(&s, INCLUDE);
    let names = [
        "a b.js",
        "new\nline.js",
        "$(touch pwned).js",
        "-rf",
        "\u{fc}n\u{ef}.js",
        "q'\"`|;.js",
    ];
    for n in names {
        fs::write(repo.join("node_modules/pkg-0").join(n), n).unwrap();
    }
    // A branch that commits apps/remix/node_modules as a symlink to a folder outside.
    let outside = s.at("outside");
    fs::create_dir_all(&outside).unwrap();
    s.git(
        &repo,
        &["worktree", "add", "-q", "-b", "linked", "../make-link"],
    )
    .ok();
    let make = s.at("make-link");
    std::os::unix::fs::symlink(&outside, make.join("apps/remix/node_modules")).unwrap();
    s.git(&make, &["add", "-f", "apps/remix/node_modules"]).ok();
    s.git(&make, &["commit", "-q", "-m", "symlink"]).ok();
    s.git(&repo, &["worktree", "remove", "../make-link"]).ok();

    s.atlas(&repo, &["add", "-q", "--no-db", "../odd"]).ok();
    for n in names {
        assert_eq!(
            fs::read_to_string(s.at("odd/node_modules/pkg-0").join(n)).unwrap(),
            n
        );
    }
    let run = s.atlas(
        &repo,
        &["add", "--no-db", "-b", "l", "../through", "linked"],
    );
    let out = run.ok();
    assert!(run.stderr.contains("could not copy apps/remix/node_modules: the worktree has a symlink at apps/remix/node_modules, not a folder"), "{run}");
    assert!(out.contains("Copied "), "{run}");
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        0,
        "wrote through the symlink"
    );
    assert!(s.at("through/node_modules/pkg-0/lib/index.js").is_file());
    for dir in [
        s.root().to_path_buf(),
        repo.clone(),
        s.at("odd"),
        s.at("through"),
    ] {
        assert!(
            !dir.join("pwned").exists(),
            "a name ran as a command in {}",
            dir.display()
        );
    }
}

/// The repository and its worktrees under `dir` (a real XFS or tmpfs), not the sandbox's.
fn documenso_in(s: &Sandbox, dir: &Path) -> PathBuf {
    let repo = documenso(s, INCLUDE);
    let moved = dir.join("documenso");
    let out = std::process::Command::new("cp")
        .arg("-a")
        .arg(&repo)
        .arg(&moved)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    moved
}

#[test]
fn clones_share_their_blocks_on_xfs_and_tmpfs_gets_a_plain_copy() {
    let test = "clones_share_their_blocks_on_xfs_and_tmpfs_gets_a_plain_copy";
    let (Some(xfs), Some(tmpfs)) = (
        support::mounted(
            test,
            "GIT_ATLAS_TEST_COW_DIR",
            "an XFS filesystem with reflink",
        ),
        support::mounted(test, "GIT_ATLAS_TEST_TMPFS_DIR", "a tmpfs"),
    ) else {
        return;
    };
    for (dir, cloned) in [(&xfs, true), (&tmpfs, false)] {
        let s = Sandbox::new();
        let repo = documenso_in(&s, dir);
        let run = s.atlas(&repo, &["add", "--no-db", "../wt"]).success();
        let wt = dir.join("wt");
        assert_copied(&repo, &wt);
        let bundle = wt.join("node_modules/pkg-0/lib/bundle.js");
        if cloned {
            assert!(run.stdout.contains("cloned (copy-on-write)"), "{run}");
            assert!(
                support::shares_blocks(&bundle),
                "{} shares no blocks",
                bundle.display()
            );
            // Writing to the copy leaves main's file as it was.
            fs::write(&bundle, "changed").unwrap();
            assert_eq!(
                fs::metadata(repo.join("node_modules/pkg-0/lib/bundle.js"))
                    .unwrap()
                    .len(),
                300_000
            );
        } else {
            assert!(
                run.stdout
                    .contains("copied (this filesystem has no copy-on-write clones)"),
                "{run}"
            );
            assert!(!support::shares_blocks(&bundle));
        }
        fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn a_copy_killed_midway_is_finished_by_the_next_one() {
    let test = "a_copy_killed_midway_is_finished_by_the_next_one";
    let Ok(strace) = which::which("strace") else {
        support::unavailable::<()>(test, "strace", "not on PATH");
        return;
    };
    let s = Sandbox::new();
    let repo = documenso(&s, INCLUDE);
    s.atlas(&repo, &["add", "-q", "--no-db", "--no-copy", "../cut"])
        .ok();
    let wt = s.at("cut");
    // Killed when a copying thread puts its third file in place (strace counts per thread).
    let killed = s
        .cmd(&strace, &wt)
        .args([
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "inject=renameat2:signal=KILL:when=3",
            "git",
            "atlas",
            "copy",
        ])
        .output()
        .unwrap();
    assert!(!killed.status.success(), "{killed:?}");
    let partial = tree(&wt.join("node_modules")).len();
    assert!(
        partial < tree(&repo.join("node_modules")).len(),
        "the copy was not cut short"
    );
    let run = s.atlas(&wt, &["copy"]).success();
    assert!(run.stdout.contains("kept "), "{run}");
    assert_copied(&repo, &wt);
    let mut leftovers = Vec::new();
    for (path, _) in tree(&wt) {
        if path.contains(".git-atlas-copy") {
            leftovers.push(path);
        }
    }
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
