//! What the hook tests add to the sandbox: a repository with the hooks installed, a spy that
//! counts git-atlas spawns, existing hooks that announce each run, and the files' bytes and modes.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{bin, offset, path_with, Run, Sandbox};

/// The `.env` of the hook tests' repositories: two services.
pub const ENV: &str = "PORT=4100\nDATABASE_URL=postgresql://localhost:5532/app\n";

impl Sandbox {
    /// A repository with `ENV` and the hooks installed.
    pub fn installed(&self, name: &str) -> PathBuf {
        let repo = self.repo(name, ENV);
        let out = self.atlas(&repo, &["hooks", "install"]).ok();
        assert!(out.contains("git-atlas on PATH: "), "{out}");
        repo
    }

    /// A script named `git-atlas`, first on the returned PATH, that logs its arguments to the
    /// returned file and then runs the real binary: counts spawns without timing anything.
    /// (Both in the sandbox's `cache`, not beside the worktrees: the directory that holds them
    /// is watched for an `rm -rf`, and a new file there is a change to look at.)
    pub fn spying_path(&self) -> (OsString, PathBuf) {
        let dir = self.at("cache/spy");
        fs::create_dir_all(&dir).unwrap();
        let log = self.at("cache/spawns.log");
        write_exec(
            &dir.join("git-atlas"),
            &format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                bin().display()
            ),
            0o755,
        );
        (path_with(&[&dir, bin().parent().unwrap()]), log)
    }
}

impl Run {
    /// The lines our hooks print.
    pub fn atlas_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("git-atlas:"))
            .collect()
    }
}

/// An installed repository with linked worktrees `names`, added with plain Git.
pub fn with_worktrees(s: &Sandbox, names: &[&str]) -> PathBuf {
    let repo = s.installed("app");
    for w in names {
        s.git(&repo, &["worktree", "add", "-q", &format!("../{w}")])
            .ok();
        assert_eq!(s.ports_of(&repo, w), expected_ports(w));
    }
    repo
}

/// The ports `ENV` gives a worktree named `name` under the offset strategy.
pub fn expected_ports(name: &str) -> BTreeMap<String, u64> {
    BTreeMap::from([
        ("app".to_string(), 4100 + u64::from(offset(name))),
        ("database".to_string(), 5532 + u64::from(offset(name))),
    ])
}

pub fn write_exec(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every file of a directory: name → (bytes, mode).
pub fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, (fs::read(&p).unwrap(), mode(&p)))
        })
        .collect()
}

/// An absolute python3 for a hook's `#!` line.
pub fn python3() -> String {
    ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map_or_else(|| "/usr/bin/env python3".to_string(), str::to_string)
}

/// Existing `sh` hooks that announce every run on stderr (`@@ <hook> <args>`), so a run's
/// stderr can be cut into one piece per hook run. Install keeps them and puts its lines first.
pub fn announce_hook_runs(hooks_dir: &Path) {
    for name in ["post-checkout", "reference-transaction"] {
        write_exec(
            &hooks_dir.join(name),
            &format!("#!/bin/sh\necho \"@@ {name} $*\" >&2\n"),
            0o755,
        );
    }
}

/// `(hook run, git-atlas lines it printed)` for every hook run of `run`, and the `git-atlas:`
/// lines printed outside any hook run (by git-atlas itself).
pub type HookRuns = (Vec<(String, Vec<String>)>, Vec<String>);

pub fn hook_runs(run: &Run) -> HookRuns {
    let mut runs = Vec::new();
    let mut pending = Vec::new();
    for line in run.stderr.lines() {
        if let Some(hook) = line.strip_prefix("@@ ") {
            runs.push((hook.to_string(), std::mem::take(&mut pending)));
        } else if line.starts_with("git-atlas:") {
            pending.push(line.to_string());
        }
    }
    (runs, pending)
}

/// Each hook run printed at most one `git-atlas:` line; returns how many printed one.
pub fn assert_at_most_one_line_per_hook_run(run: &Run) -> usize {
    let (runs, outside) = hook_runs(run);
    assert!(!runs.is_empty(), "no hook ran: {run}");
    assert!(outside.is_empty(), "lines outside a hook run: {run}");
    for (hook, lines) in &runs {
        assert!(lines.len() <= 1, "{hook} printed {lines:#?}\n{run}");
        if !hook.starts_with("reference-transaction committed")
            && !hook.starts_with("post-checkout")
        {
            assert!(lines.is_empty(), "{hook} printed {lines:#?}\n{run}");
        }
    }
    runs.iter().filter(|(_, l)| !l.is_empty()).count()
}
