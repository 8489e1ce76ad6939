//! A sandbox per test: its own HOME, XDG dirs, Git config and lease directory, the built
//! git-atlas first on PATH (so `git atlas` and the hooks find it), and helpers that read as a story.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use md5::{Digest, Md5};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    path: String,
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_git-atlas"))
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "config", "state", "leases"] {
            fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        fs::write(
            dir.path().join("gitconfig"),
            "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        let bin_dir = bin().parent().unwrap().to_path_buf();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Sandbox { dir, path }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn leases(&self) -> PathBuf {
        self.root().join("leases")
    }

    /// A command in the sandbox's environment.
    pub fn cmd(&self, program: impl AsRef<OsStr>, cwd: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(cwd)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", self.root().join("home"))
            .env("XDG_CONFIG_HOME", self.root().join("config"))
            .env("XDG_STATE_HOME", self.root().join("state"))
            .env("GIT_ATLAS_STATE_DIR", self.leases())
            .env("GIT_CONFIG_GLOBAL", self.root().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z");
        c
    }

    pub fn git(&self, cwd: &Path, args: &[&str]) -> Run {
        Run::of(self.cmd("git", cwd).args(args))
    }

    /// `git atlas …`, through git, as a user types it.
    pub fn atlas(&self, cwd: &Path, args: &[&str]) -> Run {
        Run::of(self.cmd("git", cwd).arg("atlas").args(args))
    }

    /// A repository `name` with `env` as its untracked `.env` and one commit.
    pub fn repo(&self, name: &str, env: &str) -> PathBuf {
        let dir = self.root().join(name);
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

    pub fn ports_of(&self, repo: &Path, worktree: &str) -> HashMap<String, u64> {
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
    pub out: Output,
    pub what: String,
}

impl Run {
    pub fn of(cmd: &mut Command) -> Run {
        let what = format!("{:?}", cmd);
        Run {
            out: cmd.output().unwrap(),
            what,
        }
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }

    /// Assert success and return stdout.
    pub fn ok(&self) -> String {
        assert!(
            self.out.status.success(),
            "{} failed ({})\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.out.status,
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Assert the exit code and return stderr.
    pub fn fails(&self, code: i32) -> String {
        assert_eq!(
            self.code(),
            code,
            "{}\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.stdout(),
            self.stderr()
        );
        self.stderr()
    }
}
