//! The one harness of the integration tests: a sandbox per test with its own HOME, XDG dirs,
//! Git config and lease directory, a PATH whose only `git-atlas` is the one just built (so
//! `git atlas` and the hooks call the binary under test), and helpers that read as a story.
//! `hooks` adds what the hook tests need.
#![allow(dead_code)]

pub mod db;
pub mod docker;
pub mod hooks;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use md5::{Digest, Md5};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    path: OsString,
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_git-atlas"))
}

/// The caller's PATH without any directory that holds a `git-atlas` (an installed copy must not
/// stand in for the one under test).
pub fn path_without_git_atlas() -> OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::env::split_paths(&path).filter(|d| !d.join("git-atlas").exists()))
        .unwrap()
}

/// `dirs` first, then the PATH without git-atlas.
pub fn path_with(dirs: &[&Path]) -> OsString {
    let rest = path_without_git_atlas();
    let all: Vec<PathBuf> = dirs
        .iter()
        .map(|d| d.to_path_buf())
        .chain(std::env::split_paths(&rest))
        .collect();
    std::env::join_paths(all).unwrap()
}

/// The PATH a sandbox's commands (and so the hooks) normally see: the built binary's directory
/// first, and no other git-atlas.
pub fn path_with_git_atlas() -> OsString {
    path_with(&[bin().parent().unwrap()])
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "config", "data", "cache", "state", "leases"] {
            fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        fs::write(
            dir.path().join("gitconfig"),
            "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        Sandbox {
            dir,
            path: path_with_git_atlas(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `root/name`.
    pub fn at(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// The fixture `tests/fixtures/projects/<name>` (after a public project: see its
    /// FIXTURE.md) as a repository at `root/<name>`: every file committed except those its own
    /// `.gitignore` files ignore, which stay in the main worktree only, as in the real project.
    pub fn fixture(&self, name: &str) -> PathBuf {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/projects")
            .join(name);
        let dir = self.at(name);
        copy_tree(&from, &dir);
        self.git(&dir, &["init", "-q", "-b", "main"]).ok();
        self.git(&dir, &["add", "-A"]).ok();
        self.git(&dir, &["commit", "-q", "-m", "init"]).ok();
        dir
    }

    pub fn leases(&self) -> PathBuf {
        self.at("leases")
    }

    /// `program` in `cwd` with nothing of the caller's environment but a PATH that finds the
    /// built git-atlas first (no GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, no user config), and
    /// no stdin.
    pub fn cmd(&self, program: impl AsRef<OsStr>, cwd: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(cwd)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", self.at("home"))
            .env("XDG_CONFIG_HOME", self.at("config"))
            .env("XDG_DATA_HOME", self.at("data"))
            .env("XDG_CACHE_HOME", self.at("cache"))
            .env("XDG_STATE_HOME", self.at("state"))
            .env("GIT_ATLAS_STATE_DIR", self.leases())
            .env("GIT_CONFIG_GLOBAL", self.at("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .stdin(Stdio::null());
        c
    }

    pub fn git(&self, cwd: &Path, args: &[&str]) -> Run {
        Run::of(self.cmd("git", cwd).args(args))
    }

    /// `git <args>` with PATH replaced.
    pub fn git_path(&self, cwd: &Path, path: &OsStr, args: &[&str]) -> Run {
        Run::of(self.cmd("git", cwd).env("PATH", path).args(args))
    }

    /// `git atlas …`, through git, as a user types it.
    pub fn atlas(&self, cwd: &Path, args: &[&str]) -> Run {
        Run::of(self.cmd("git", cwd).arg("atlas").args(args))
    }

    /// `git <args>` on a pseudo-terminal (util-linux's `script`), as a user at a terminal runs
    /// it; its stdout and stderr both arrive in `stdout`, lines ending in `\r\n`. `None` (after
    /// saying why) where `script` is missing.
    pub fn on_tty(&self, cwd: &Path, envs: &[(&str, &str)], args: &str) -> Option<Run> {
        let found = std::env::split_paths(&self.path).any(|d| d.join("script").is_file());
        if !found {
            return unavailable("terminal test", "script (util-linux)", "not on PATH");
        }
        let mut c = self.cmd("script", cwd);
        c.args(["-q", "-e", "-c", &format!("git {args}"), "/dev/null"])
            .env("TERM", "xterm")
            .env("SHELL", "/bin/sh");
        for (k, v) in envs {
            c.env(k, v);
        }
        Some(Run::of(&mut c))
    }

    /// [`Sandbox::on_tty`] with `input` typed at the terminal (what the program reads from it).
    pub fn on_tty_answering(&self, cwd: &Path, input: &str, args: &str) -> Option<Run> {
        let found = std::env::split_paths(&self.path).any(|d| d.join("script").is_file());
        if !found {
            return unavailable("terminal test", "script (util-linux)", "not on PATH");
        }
        let answers = self.at("cache/tty-input");
        fs::write(&answers, input).unwrap();
        let mut c = self.cmd("script", cwd);
        c.args(["-q", "-e", "-c", &format!("git {args}"), "/dev/null"])
            .env("TERM", "xterm")
            .env("SHELL", "/bin/sh")
            .stdin(fs::File::open(&answers).unwrap());
        Some(Run::of(&mut c))
    }

    /// An empty commit in `cwd`, which must succeed.
    pub fn commit(&self, cwd: &Path) -> Run {
        self.git(cwd, &["commit", "-q", "--allow-empty", "-m", "x"])
            .success()
    }

    /// `git checkout -q --detach` in `cwd`: a checkout that changes no file, which runs the
    /// post-checkout hook as any checkout does (HEAD stays the same commit).
    pub fn checkout(&self, cwd: &Path) -> Run {
        self.git(cwd, &["checkout", "-q", "--detach"]).success()
    }

    /// A repository `root/name` with `env` as its untracked `.env` and one commit.
    pub fn repo(&self, name: &str, env: &str) -> PathBuf {
        let dir = self.at(name);
        fs::create_dir_all(&dir).unwrap();
        self.git(&dir, &["init", "-q", "-b", "main"]).ok();
        fs::write(dir.join(".env"), env).unwrap();
        fs::write(dir.join(".gitignore"), ".env\n").unwrap();
        fs::write(dir.join("README"), "sample\n").unwrap();
        self.git(&dir, &["add", ".gitignore", "README"]).ok();
        self.git(&dir, &["commit", "-q", "-m", "init"]).ok();
        dir
    }

    pub fn registry(&self, repo: &Path) -> serde_json::Value {
        serde_json::from_slice(&fs::read(registry_path(repo)).unwrap()).unwrap()
    }

    /// Every port of every worktree in the registry.
    pub fn all_ports(&self, repo: &Path) -> Vec<u64> {
        let r = self.registry(repo);
        r["allocated_ports"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|p| p.as_object().unwrap().values().map(|v| v.as_u64().unwrap()))
            .collect()
    }

    /// No port appears twice in the registry; returns them sorted.
    pub fn assert_distinct_ports(&self, repo: &Path) -> Vec<u64> {
        let mut all = self.all_ports(repo);
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(
            all.len(),
            n,
            "a port was handed out twice: {}",
            self.registry(repo)["allocated_ports"]
        );
        all
    }

    /// `service → port` of one worktree; empty when it has no entry.
    pub fn ports_of(&self, repo: &Path, worktree: &str) -> BTreeMap<String, u64> {
        let r = self.registry(repo);
        r["allocated_ports"][worktree]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Released means gone from both halves of the registry.
    pub fn assert_released(&self, repo: &Path, worktree: &str, how: &str) {
        let r = self.registry(repo);
        assert!(
            r["allocated_ports"].get(worktree).is_none() && r["worktrees"].get(worktree).is_none(),
            "{how}: {worktree} still in the registry: {r:#}"
        );
    }

    /// A process listening on `port` on 127.0.0.1, started in `cwd`; killed when dropped.
    pub fn listener(&self, cwd: &Path, port: u16, ignore_term: bool) -> Listener {
        let code = format!(
            "import signal,socket,sys,time\n{}s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',{port})); s.listen(); print('ready', flush=True); time.sleep(120)",
            if ignore_term { "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" } else { "" }
        );
        let mut child = self
            .cmd("python3", cwd)
            .args(["-c", &code])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ready", "listener on {port} did not start");
        Listener { child }
    }
}

/// `.atlas.toml` for the range strategy with one service, `web`, on `size` ports from `base`.
pub fn web_range(base: u16, size: u16) -> String {
    format!(
        "strategy = \"range\"\n[services.web]\nport = {base}\nrange = \"{base}-{}\"\n",
        base + size - 1
    )
}

pub fn registry_path(repo: &Path) -> PathBuf {
    repo.join(".git/worktree-registry/ports.json")
}

/// The seed's offset: 100 + first 4 hex digits of md5(name) mod 900.
pub fn offset(name: &str) -> u16 {
    let d = Md5::digest(name.as_bytes());
    100 + (u16::from_be_bytes([d[0], d[1]]) % 900)
}

/// A base port whose `span` ports above it no other test of this binary uses (test binaries run
/// one at a time; tests inside one run in parallel).
pub fn free_base(span: u16) -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let base = 10000 + u32::from(n) * u32::from(span);
    assert!(
        base + u32::from(span) < 32768,
        "free_base: out of room below the ephemeral range"
    );
    base as u16
}

pub struct Listener {
    pub child: Child,
}

impl Listener {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Has the process exited (reaping it if so)?
    pub fn exited(&mut self) -> bool {
        for _ in 0..100 {
            if self.child.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Run {
    pub what: String,
    pub out: Output,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(cmd: &mut Command) -> Run {
        let what = format!("{cmd:?}");
        let out = cmd.output().unwrap();
        Run {
            what,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            out,
        }
    }

    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }

    /// Assert exit 0 and return the run, for a look at both streams.
    pub fn success(self) -> Run {
        assert!(self.out.status.success(), "{self}");
        self
    }

    /// Assert exit 0 and return stdout.
    pub fn ok(&self) -> String {
        assert!(self.out.status.success(), "{self}");
        self.stdout.clone()
    }

    /// Assert the exit code and return stderr.
    pub fn fails(&self, code: i32) -> String {
        assert_eq!(self.code(), code, "{self}");
        self.stderr.clone()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} -> {}\n--- stdout\n{}--- stderr\n{}",
            self.what, self.out.status, self.stdout, self.stderr
        )
    }
}

/// `None` after saying on stderr why `test` is skipped; a panic instead when
/// `GIT_ATLAS_REQUIRE_SERVICES=1`.
pub fn unavailable<T>(test: &str, what: &str, why: &str) -> Option<T> {
    if std::env::var("GIT_ATLAS_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{test}: {what} not available ({why}), and GIT_ATLAS_REQUIRE_SERVICES=1 forbids skipping");
    }
    // Straight to stderr, past the test harness's capture, so a skip shows in every run.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {what} not available ({why})"
    );
    None
}

/// `from` copied to `to`, symbolic links as links.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The value the last `key=` line of env file text gives `key`, as written.
pub fn env_var(text: &str, key: &str) -> Option<String> {
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
}

/// A directory on the filesystem `var` names (CI mounts them: .ci/cow.sh), or why the test is
/// skipped (a failure under GIT_ATLAS_REQUIRE_SERVICES=1).
pub fn mounted(test: &str, var: &str, what: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(d) if Path::new(&d).is_dir() => {
            let dir = tempfile::Builder::new()
                .prefix(test)
                .tempdir_in(&d)
                .unwrap()
                .keep();
            Some(dir)
        }
        _ => unavailable(
            test,
            what,
            &format!("{var} names no directory (.ci/cow.sh mounts one)"),
        ),
    }
}

/// Whether every extent of `file` is shared with another file (`filefrag -v` flags).
pub fn shares_blocks(file: &Path) -> bool {
    let out = std::process::Command::new("filefrag")
        .arg("-v")
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let extents: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
                && l.contains(':')
        })
        .collect();
    !extents.is_empty() && extents.iter().all(|l| l.contains("shared"))
}
