//! Issue 16's torture rounds: seeded, bounded loops of parallel commands, `kill -9` at random
//! moments and `strace`'s fault injection, against real Git and real processes, in a sandbox with
//! two or more repositories sharing one lease directory. After every round and one healing
//! command (`git atlas list` in each repository, whose reconcile should heal), these must hold:
//!
//! 1. every worktree Git lists (`git worktree list --porcelain -z`, read exactly) has its ports in
//!    the registry, at its path, and its env files' `*PORT*` variables say those ports; the
//!    registry holds no worktree that Git does not list;
//! 2. no port twice, within a repository or across two (registries and env files alike);
//! 3. the machine-wide lease file equals the registries;
//! 4. no directory left that Git does not list (in a worktree parent or in `.git/worktrees`),
//!    except the ones the test made itself;
//! 5. nothing written outside a worktree (the sandbox's other files, listed before and after).
//!
//! A round that breaks one is reported with everything it broke, and the next round starts from
//! fresh repositories, so each count is its own round's. The seed is printed;
//! `GIT_ATLAS_TORTURE_SEED=<n>` replays its choices (which commands, which worktrees, when to
//! kill), though not the scheduler's.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{free_base, Sandbox};

/// Parallel rounds per strategy, and kill rounds: a few seconds each on 2 cores.
const PARALLEL_ROUNDS: usize = 10;
const KILL_ROUNDS: usize = 24;
/// `ports reset` renames 11 files with two worktrees (backup, registry, stamp, leases, registry,
/// three prompt caches, stamp, two carried `.env`): a kill at each, and one past the last.
const STRACE_RENAMES: u32 = 12;

/// SplitMix64: deterministic and enough to choose commands and delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Straight to stderr, past the test harness's capture, so the seed shows in every run.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The run's seed (`GIT_ATLAS_TORTURE_SEED`, else the clock), said on stderr, and this test's
/// own stream of choices from it.
fn seeded(test: &str) -> (u64, Rng) {
    let seed = match std::env::var("GIT_ATLAS_TORTURE_SEED") {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            panic!("GIT_ATLAS_TORTURE_SEED={v:?} is not a number: give it the seed a run printed")
        }),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    say(&format!(
        "{test}: seed {seed} (GIT_ATLAS_TORTURE_SEED={seed} replays its choices)"
    ));
    let salt = test.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (seed, Rng(seed ^ salt))
}

/// One repository of the sandbox: its main worktree at `<root>/<label>/main`, its linked
/// worktrees beside it (`../<name>`), so `<root>/<label>` is the worktree parent.
struct Project {
    label: String,
    parent: PathBuf,
    main: PathBuf,
    /// `(variable, service)`: each `.env` port variable and the registry key it feeds.
    vars: Vec<(String, String)>,
    /// The worktree names the rounds add and remove.
    names: Vec<String>,
}

impl Project {
    fn common(&self) -> PathBuf {
        self.main.join(".git")
    }

    fn registry_path(&self) -> PathBuf {
        self.common().join("worktree-registry/ports.json")
    }

    /// `label/name`, as failure messages name a worktree.
    fn wt(&self, name: &str) -> String {
        format!("{}/{name}", self.label)
    }
}

/// What the rounds run: a sandbox, its repositories, and the listing of everything outside their
/// worktrees taken when it was set up.
struct World {
    s: Sandbox,
    /// The sandbox's root, canonical (Git lists canonical paths).
    root: PathBuf,
    projects: Vec<Project>,
    outside: BTreeMap<PathBuf, String>,
}

/// How a project allocates.
#[derive(Clone, Copy)]
enum Strategy {
    /// `web` only, on `size` ports from `base`.
    Range { base: u16, size: u16 },
    /// `WEB_PORT=base`, `API_PORT=base+1`, the default offset strategy.
    Offset { base: u16 },
}

impl World {
    fn new() -> World {
        let s = Sandbox::new();
        let root = fs::canonicalize(s.root()).unwrap();
        World {
            s,
            root,
            projects: Vec::new(),
            outside: BTreeMap::new(),
        }
    }

    /// A repository `label` with `names` for its worktrees, `initial` of them added at once.
    fn project(&mut self, label: &str, strategy: Strategy, names: Vec<String>, initial: usize) {
        let (env, vars) = match strategy {
            Strategy::Range { base, .. } => {
                (format!("WEB_PORT={base}\n"), vec![("WEB_PORT", "web")])
            }
            Strategy::Offset { base } => (
                format!("WEB_PORT={base}\nAPI_PORT={}\n", base + 1),
                vec![("WEB_PORT", "web"), ("API_PORT", "api")],
            ),
        };
        self.s.repo(&format!("{label}/main"), &env);
        let p = Project {
            label: label.to_string(),
            parent: self.root.join(label),
            main: self.root.join(label).join("main"),
            vars: vars
                .into_iter()
                .map(|(v, k)| (v.to_string(), k.to_string()))
                .collect(),
            names,
        };
        if let Strategy::Range { base, size } = strategy {
            fs::write(p.main.join(".atlas.toml"), support::web_range(base, size)).unwrap();
            self.s.git(&p.main, &["add", ".atlas.toml"]).ok();
            self.s
                .git(&p.main, &["commit", "-q", "-m", "range strategy"])
                .ok();
        }
        // The main worktree takes its ports before anyone else's worktrees do.
        self.s.atlas(&p.main, &["list"]).ok();
        self.projects.push(p);
        let p = self.projects.last().unwrap();
        for name in &p.names[..initial] {
            self.s
                .atlas(&p.main, &["add", "-q", &format!("../{name}")])
                .ok();
        }
    }

    /// Take the listing of what lies outside the worktrees: the baseline of invariant 5.
    fn settle(&mut self) {
        self.outside = self.outside_listing();
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// `git atlas list` in each repository, the one healing command every round gets.
    fn heal(&self) -> Vec<String> {
        self.projects
            .iter()
            .filter_map(|p| {
                let run = self.s.atlas(&p.main, &["list"]);
                (!run.out.status.success()).then(|| {
                    format!(
                        "[heal] {}: `git atlas list` failed ({}): {}",
                        p.label,
                        run.out.status,
                        run.stderr.trim()
                    )
                })
            })
            .collect()
    }

    /// The names of `p`'s pool whose directory exists now.
    fn present(&self, p: &Project) -> (Vec<String>, Vec<String>) {
        p.names
            .iter()
            .cloned()
            .partition(|n| p.parent.join(n).exists())
    }
}

/// One worktree as Git lists it.
struct Listed {
    path: PathBuf,
    /// Git's worktree id (`main` for the main worktree): the registry's key.
    name: Option<String>,
    prunable: bool,
}

/// `git worktree list --porcelain -z`, read exactly: every path byte for byte, each linked
/// worktree named by the admin directory whose `gitdir` points at it.
fn git_worktrees(w: &World, p: &Project) -> Result<Vec<Listed>, String> {
    let run = w.s.git(&p.main, &["worktree", "list", "--porcelain", "-z"]);
    if !run.out.status.success() {
        return Err(format!("`git worktree list` failed: {}", run.stderr.trim()));
    }
    let admin = admin_dirs(p);
    let mut listed: Vec<Listed> = Vec::new();
    for field in run.out.stdout.split(|b| *b == 0) {
        if let Some(path) = field.strip_prefix(b"worktree ") {
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(path));
            let name = if listed.is_empty() {
                Some("main".to_string())
            } else {
                admin
                    .iter()
                    .find(|(_, gitdir)| gitdir.as_deref() == Some(path.join(".git").as_path()))
                    .map(|(id, _)| id.clone())
            };
            listed.push(Listed {
                path,
                name,
                prunable: false,
            });
        } else if field == b"prunable" || field.starts_with(b"prunable ") {
            if let Some(last) = listed.last_mut() {
                last.prunable = true;
            }
        }
    }
    Ok(listed)
}

/// `.git/worktrees/<id>` → the path its `gitdir` file names (None when it has none).
fn admin_dirs(p: &Project) -> Vec<(String, Option<PathBuf>)> {
    let Ok(entries) = fs::read_dir(p.common().join("worktrees")) else {
        return Vec::new();
    };
    let mut dirs: Vec<_> = entries
        .flatten()
        .map(|e| {
            let gitdir = fs::read(e.path().join("gitdir")).ok().map(|mut b| {
                while b.last() == Some(&b'\n') {
                    b.pop();
                }
                PathBuf::from(std::ffi::OsStr::from_bytes(&b))
            });
            (e.file_name().to_string_lossy().into_owned(), gitdir)
        })
        .collect();
    dirs.sort();
    dirs
}

/// An env file's assignments, the last one winning, quotes taken off, as dotenv loaders read it.
fn env_vars(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = ["\"", "'"]
                .iter()
                .find_map(|q| v.strip_prefix(q)?.strip_suffix(q))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

type Allocated = BTreeMap<String, BTreeMap<String, u64>>;

fn allocated(registry: &serde_json::Value) -> Allocated {
    registry["allocated_ports"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(wt, ports)| {
                    let ports = ports
                        .as_object()
                        .map(|p| {
                            p.iter()
                                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                                .collect()
                        })
                        .unwrap_or_default();
                    (wt.clone(), ports)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every invariant, each broken one a line that says which worktree, which file, what the
/// registry says and what the file says.
fn check(w: &World) -> Vec<String> {
    let mut bad = Vec::new();
    // port → who holds it: from the registries, and from the env files.
    let mut registry_holders: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut file_holders: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut registries: BTreeMap<PathBuf, Allocated> = BTreeMap::new();
    let mut worktree_dirs: BTreeSet<PathBuf> = BTreeSet::new();

    for p in &w.projects {
        let listed = match git_worktrees(w, p) {
            Ok(l) => l,
            Err(e) => {
                bad.push(format!("[git] {}: {e}", p.label));
                continue;
            }
        };
        worktree_dirs.extend(
            listed
                .iter()
                .filter(|l| !l.prunable)
                .map(|l| l.path.clone()),
        );
        let registry: serde_json::Value = match fs::read(p.registry_path()) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => {
                    bad.push(format!(
                        "[1 registry] {}: {} does not parse: {e}",
                        p.label,
                        w.rel(&p.registry_path())
                    ));
                    continue;
                }
            },
            Err(e) => {
                bad.push(format!(
                    "[1 registry] {}: cannot read {}: {e}",
                    p.label,
                    w.rel(&p.registry_path())
                ));
                continue;
            }
        };
        let alloc = allocated(&registry);
        let services: BTreeSet<&str> = p.vars.iter().map(|(_, k)| k.as_str()).collect();

        // 1. Every worktree Git lists: its ports, at its path, said by its env files.
        let mut live_names = BTreeSet::new();
        for l in &listed {
            let Some(name) = &l.name else {
                bad.push(format!(
                    "[4 stray] {}: Git lists {} but no .git/worktrees/*/gitdir names it",
                    p.label,
                    w.rel(&l.path)
                ));
                continue;
            };
            if l.prunable {
                continue;
            }
            live_names.insert(name.clone());
            let who = p.wt(name);
            let Some(ports) = alloc.get(name) else {
                bad.push(format!(
                    "[1 ports] {who}: Git lists it at {}, the registry has no ports for it",
                    w.rel(&l.path)
                ));
                continue;
            };
            let keys: BTreeSet<&str> = ports.keys().map(String::as_str).collect();
            if keys != services {
                bad.push(format!(
                    "[1 ports] {who}: the registry has services {keys:?}, the project has {services:?}"
                ));
            }
            let at = registry["worktrees"][name.as_str()]["path"].as_str();
            if at.map(Path::new) != Some(l.path.as_path()) {
                bad.push(format!(
                    "[1 ports] {who}: the registry has it at {at:?}, Git at {:?}",
                    l.path
                ));
            }
            for (service, port) in ports {
                registry_holders
                    .entry(*port)
                    .or_default()
                    .push(format!("{who} {service} (registry)"));
            }
            // What the worktree runs with: its `.env` (the main worktree's own; for a linked
            // one, main's carried over with its ports) and any `.env.local` over it.
            let files: &[(&str, bool)] = &[(".env", true), (".env.local", false)];
            for (file, required) in files {
                let path = l.path.join(file);
                let text = match fs::read(&path) {
                    Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                    Err(e) => {
                        if *required {
                            bad.push(format!(
                                "[1 env] {who}/{file}: cannot read it ({e}); the registry gives {who} {ports:?}"
                            ));
                        }
                        continue;
                    }
                };
                let vars = env_vars(&text);
                for (var, service) in &p.vars {
                    let want = ports.get(service);
                    match (vars.get(var), want) {
                        (Some(v), Some(want)) if v.parse::<u64>().ok() == Some(*want) => {}
                        (Some(v), want) => bad.push(format!(
                            "[1 env] {who}/{file}: {var}={v}, but the registry gives {who} {service} = {}",
                            want.map_or("nothing".to_string(), u64::to_string)
                        )),
                        (None, _) if !*required => {}
                        (None, want) => bad.push(format!(
                            "[1 env] {who}/{file}: no {var}, but the registry gives {who} {service} = {}",
                            want.map_or("nothing".to_string(), u64::to_string)
                        )),
                    }
                    if let Some(port) = vars.get(var).and_then(|v| v.parse::<u64>().ok()) {
                        file_holders
                            .entry(port)
                            .or_default()
                            .push(format!("{who}/{file} {var}"));
                    }
                }
                if name != "main" && *file == ".env" {
                    match vars.get("WORKTREE_NAME") {
                        Some(n) if n == name => {}
                        other => bad.push(format!(
                            "[1 env] {who}/{file}: WORKTREE_NAME={other:?}, but it is Git's worktree {name:?}"
                        )),
                    }
                }
            }
        }
        for name in alloc.keys() {
            if !live_names.contains(name) {
                bad.push(format!(
                    "[1 registry] {}: the registry holds ports {:?} for {name}, which Git does not list (or lists as prunable)",
                    p.label, alloc[name]
                ));
            }
        }
        if let Some(records) = registry["worktrees"].as_object() {
            for name in records.keys().filter(|n| !live_names.contains(*n)) {
                bad.push(format!(
                    "[1 registry] {}: the registry has a record of {name}, which Git does not list (or lists as prunable)",
                    p.label
                ));
            }
        }

        // 4. No directory left that Git does not list.
        let listed_paths: BTreeSet<&Path> = listed.iter().map(|l| l.path.as_path()).collect();
        if let Ok(entries) = fs::read_dir(&p.parent) {
            for e in entries.flatten() {
                let path = e.path();
                if path == p.main || listed_paths.contains(path.as_path()) {
                    continue;
                }
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    bad.push(format!(
                        "[4 stray] {}: a directory Git does not list, holding {:?}",
                        w.rel(&path),
                        dir_names(&path)
                    ));
                }
            }
        }
        let listed_ids: BTreeSet<&str> = listed.iter().filter_map(|l| l.name.as_deref()).collect();
        for (id, gitdir) in admin_dirs(p) {
            if !listed_ids.contains(id.as_str()) {
                bad.push(format!(
                    "[4 stray] {}/main/.git/worktrees/{id}: an admin directory Git does not list (gitdir: {gitdir:?}, holding {:?})",
                    p.label,
                    dir_names(&p.common().join("worktrees").join(&id))
                ));
            }
        }
        registries.insert(fs::canonicalize(p.common()).unwrap_or(p.common()), alloc);
    }

    // 2. No port twice, within a repository or across two.
    for (what, holders) in [
        ("registries", &registry_holders),
        ("env files", &file_holders),
    ] {
        for (port, who) in holders.iter().filter(|(_, who)| who.len() > 1) {
            bad.push(format!(
                "[2 unique] port {port} twice in the {what}: {}",
                who.join(", ")
            ));
        }
    }

    // 3. The lease file equals the registries.
    let lease_path = w.s.leases().join("leases.json");
    let leases: serde_json::Value = match fs::read(&lease_path) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
            bad.push(format!("[3 leases] leases/leases.json does not parse: {e}"));
            serde_json::Value::Null
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => {
            bad.push(format!("[3 leases] cannot read leases/leases.json: {e}"));
            serde_json::Value::Null
        }
    };
    let leased: BTreeMap<PathBuf, BTreeMap<String, Vec<u64>>> = leases["projects"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(project, wts)| {
                    let wts = wts
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .map(|(wt, ports)| {
                                    let mut ports: Vec<u64> = ports
                                        .as_array()
                                        .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
                                        .unwrap_or_default();
                                    ports.sort();
                                    (wt.clone(), ports)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (PathBuf::from(project), wts)
                })
                .collect()
        })
        .unwrap_or_default();
    for (common, alloc) in &registries {
        let want: BTreeMap<String, Vec<u64>> = alloc
            .iter()
            .map(|(wt, ports)| {
                let mut ports: Vec<u64> = ports.values().copied().collect();
                ports.sort();
                (wt.clone(), ports)
            })
            .collect();
        let have = leased.get(common).cloned().unwrap_or_default();
        if have != want {
            let names: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
            let diff: Vec<String> = names
                .into_iter()
                .filter(|n| have.get(*n) != want.get(*n))
                .map(|n| format!("{n}: leased {:?}, registry {:?}", have.get(n), want.get(n)))
                .collect();
            bad.push(format!(
                "[3 leases] leases.json for {} differs from its registry: {}",
                w.rel(common),
                diff.join("; ")
            ));
        }
    }
    for project in leased.keys().filter(|k| !registries.contains_key(*k)) {
        bad.push(format!(
            "[3 leases] leases.json leases ports to {}, which is no repository of this sandbox",
            project.display()
        ));
    }

    // 5. Nothing written outside a worktree.
    let now = w.outside_listing_except(&worktree_dirs);
    for (path, was) in &w.outside {
        match now.get(path) {
            None => bad.push(format!(
                "[5 outside] {}: removed (it was {was})",
                w.rel(path)
            )),
            Some(is) if is != was => bad.push(format!(
                "[5 outside] {}: changed from {was} to {is}",
                w.rel(path)
            )),
            Some(_) => {}
        }
    }
    for (path, is) in &now {
        if !w.outside.contains_key(path) {
            bad.push(format!("[5 outside] {}: new ({is})", w.rel(path)));
        }
    }
    bad
}

/// The names in a directory, for a message.
fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|es| {
            es.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

impl World {
    fn outside_listing(&self) -> BTreeMap<PathBuf, String> {
        let mut dirs = BTreeSet::new();
        for p in &self.projects {
            if let Ok(listed) = git_worktrees(self, p) {
                dirs.extend(listed.into_iter().filter(|l| !l.prunable).map(|l| l.path));
            }
        }
        self.outside_listing_except(&dirs)
    }

    /// Every path under the sandbox outside `worktrees`, with what it is: a file's size and
    /// modification time, a link's target. Not in it: directories in a worktree parent
    /// (invariant 4 speaks of those) and the lease file and its lock, which every command
    /// rewrites.
    fn outside_listing_except(&self, worktrees: &BTreeSet<PathBuf>) -> BTreeMap<PathBuf, String> {
        let parents: BTreeSet<&Path> = self.projects.iter().map(|p| p.parent.as_path()).collect();
        let own = [
            self.root.join("leases/leases.json"),
            self.root.join("leases/leases.lock"),
        ];
        let mut out = BTreeMap::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if worktrees.contains(&path) || own.contains(&path) {
                    continue;
                }
                let Ok(meta) = fs::symlink_metadata(&path) else {
                    continue;
                };
                if meta.is_dir() {
                    if !parents.contains(dir.as_path()) {
                        out.insert(path.clone(), "a directory".to_string());
                        stack.push(path);
                    }
                } else if meta.file_type().is_symlink() {
                    let to = fs::read_link(&path).unwrap_or_default();
                    out.insert(path, format!("a link to {}", to.display()));
                } else {
                    out.insert(
                        path,
                        format!(
                            "a file of {} bytes modified at {}.{:09}",
                            meta.len(),
                            meta.mtime(),
                            meta.mtime_nsec()
                        ),
                    );
                }
            }
        }
        out
    }
}

/// One command a round runs in a repository.
fn choose(w: &World, p: &Project, rng: &mut Rng) -> Vec<String> {
    let (present, absent) = w.present(p);
    loop {
        match rng.below(100) {
            0..=39 if !absent.is_empty() => {
                return vec![
                    "add".into(),
                    "-q".into(),
                    format!("../{}", rng.pick(&absent)),
                ]
            }
            40..=69 if !present.is_empty() => {
                return vec![
                    "remove".into(),
                    "--force".into(),
                    rng.pick(&present).clone(),
                ]
            }
            70..=84 => return vec!["ports".into(), "compact".into()],
            85..=99 => return vec!["ports".into(), "reset".into()],
            _ => {}
        }
    }
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(9)) => "killed".to_string(),
        (None, Some(s)) => format!("signal {s}"),
        (None, None) => status.to_string(),
    }
}

/// A parallel mix: 4-9 commands in every repository at once, spawned a few milliseconds apart,
/// through `git atlas` as a user types them. Returns what ran and how each ended.
fn parallel_round(w: &World, rng: &mut Rng) -> Vec<String> {
    let mut runs = Vec::new();
    for p in &w.projects {
        for _ in 0..4 + rng.below(6) {
            runs.push((p, choose(w, p, rng)));
        }
    }
    // Interleave the repositories' commands.
    for i in (1..runs.len()).rev() {
        runs.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let children: Vec<_> = runs
        .into_iter()
        .map(|(p, args)| {
            std::thread::sleep(Duration::from_millis(rng.below(15)));
            let child =
                w.s.cmd("git", &p.main)
                    .arg("atlas")
                    .args(&args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
            (p, args, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(p, args, child)| {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let said: Vec<&str> = err
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            format!(
                "{}: git atlas {} -> {}{}",
                p.label,
                args.join(" "),
                describe(out.status),
                if said.is_empty() {
                    String::new()
                } else {
                    format!(" (stderr: {})", said.join(" | "))
                }
            )
        })
        .collect()
}

/// Processes of process group `pgid` that are still running (not zombies).
fn group_alive(pgid: u32) -> bool {
    let Ok(procs) = fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|e| {
        let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // `pid (comm) state ppid pgrp …`: comm may hold anything but a `)` ends it.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
    })
}

/// A kill round: one command, the binary itself (what a crash kills), in its own process group;
/// SIGKILL to it after 0-80 ms; then whatever it had started (`git worktree …`) runs to its end,
/// as it would after a real crash, before the round goes on.
fn kill_round(w: &World, rng: &mut Rng) -> Vec<String> {
    let p = rng.pick(&w.projects);
    let args = choose(w, p, rng);
    let delay = rng.below(81);
    let mut child =
        w.s.cmd(support::bin(), &p.main)
            .args(&args)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
    std::thread::sleep(Duration::from_millis(delay));
    let _ = child.kill();
    let status = child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while group_alive(child.id()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    vec![format!(
        "{}: git-atlas {} killed after {delay} ms -> {}",
        p.label,
        args.join(" "),
        describe(status)
    )]
}

/// The findings of a test: per round, what ran and what it broke.
struct Report {
    test: &'static str,
    seed: u64,
    rounds: usize,
    broken: Vec<(String, Vec<String>, Vec<String>)>,
}

impl Report {
    fn new(test: &'static str, seed: u64) -> Report {
        Report {
            test,
            seed,
            rounds: 0,
            broken: Vec::new(),
        }
    }

    /// Record a round; true when it broke something (the caller then starts afresh).
    fn round(&mut self, what: String, ran: Vec<String>, bad: Vec<String>) -> bool {
        self.rounds += 1;
        if bad.is_empty() {
            return false;
        }
        self.broken.push((what, ran, bad));
        true
    }

    /// Say the summary, and fail with every broken round in full.
    fn finish(self) {
        let mut by_invariant: BTreeMap<String, usize> = BTreeMap::new();
        for (_, _, bad) in &self.broken {
            let tags: BTreeSet<&str> = bad
                .iter()
                .filter_map(|b| b.strip_prefix('[')?.split_once(']').map(|(t, _)| t))
                .collect();
            for t in tags {
                *by_invariant.entry(t.to_string()).or_default() += 1;
            }
        }
        let summary = format!(
            "{}: {} of {} rounds broke an invariant (seed {}; GIT_ATLAS_TORTURE_SEED={} replays the choices); rounds per invariant: {by_invariant:?}",
            self.test,
            self.broken.len(),
            self.rounds,
            self.seed,
            self.seed
        );
        say(&summary);
        if self.broken.is_empty() {
            return;
        }
        let mut msg = summary;
        for (what, ran, bad) in &self.broken {
            msg.push_str(&format!("\n\n{what}\n  ran:"));
            for r in ran {
                msg.push_str(&format!("\n    {r}"));
            }
            msg.push_str("\n  broke:");
            for b in bad.iter().take(20) {
                msg.push_str(&format!("\n    {b}"));
            }
            if bad.len() > 20 {
                msg.push_str(&format!("\n    … and {} more", bad.len() - 20));
            }
        }
        panic!("{msg}");
    }
}

/// Two range-strategy repositories whose ranges overlap (`a` on base..base+31 from base, `b` on
/// base+4..base+35 from base+4), so that only the lease file keeps them apart.
fn range_world(base: u16) -> World {
    let names: Vec<String> = (0..8).map(|i| format!("wt{i}")).collect();
    let mut w = World::new();
    w.project("a", Strategy::Range { base, size: 32 }, names.clone(), 3);
    w.project(
        "b",
        Strategy::Range {
            base: base + 4,
            size: 32,
        },
        names,
        3,
    );
    w.settle();
    w
}

/// Two offset-strategy repositories, `b`'s base 2 above `a`'s, and `b`'s worktree names chosen
/// so that each one's offset is 2 below one of `a`'s: by the formula, `b`'s ports would be `a`'s,
/// so that only the lease file keeps them apart.
fn offset_world(base: u16) -> World {
    let a_names: Vec<String> = (0..8).map(|i| format!("wt{i}")).collect();
    let b_names: Vec<String> = a_names
        .iter()
        .map(|n| {
            let want = support::offset(n).saturating_sub(2).max(100);
            (0..)
                .map(|i| format!("b{i}"))
                .find(|c| support::offset(c) == want)
                .unwrap()
        })
        .collect();
    let mut w = World::new();
    w.project("a", Strategy::Offset { base }, a_names, 3);
    w.project("b", Strategy::Offset { base: base + 2 }, b_names, 3);
    w.settle();
    w
}

/// Parallel rounds in `world(base)`, `base` taken once with `span` ports above it: a fresh world
/// after a broken round takes the same ports, its predecessor's sandbox (and lease file) gone.
fn parallel(test: &'static str, world: fn(u16) -> World, span: u16) {
    let base = free_base(span);
    let (seed, mut rng) = seeded(test);
    let mut report = Report::new(test, seed);
    let mut w = world(base);
    let bad = check(&w);
    if report.round(
        "setup (3 worktrees in each repository, one at a time)".into(),
        vec![],
        bad,
    ) {
        w = world(base);
    }
    for round in 1..=PARALLEL_ROUNDS {
        let ran = parallel_round(&w, &mut rng);
        let mut bad = w.heal();
        bad.extend(check(&w));
        if report.round(format!("round {round} (parallel)"), ran, bad) {
            w = world(base);
        }
    }
    report.finish();
}

#[test]
fn parallel_rounds_under_the_range_strategy_keep_the_invariants() {
    parallel(
        "parallel_rounds_under_the_range_strategy_keep_the_invariants",
        range_world,
        40,
    );
}

#[test]
fn parallel_rounds_under_the_offset_strategy_keep_the_invariants() {
    parallel(
        "parallel_rounds_under_the_offset_strategy_keep_the_invariants",
        offset_world,
        1100,
    );
}

/// The range and the offset worlds in one sandbox: four repositories, one lease file.
fn kill_world(base: u16, offset_base: u16) -> World {
    let names: Vec<String> = (0..6).map(|i| format!("wt{i}")).collect();
    let mut w = World::new();
    w.project("ra", Strategy::Range { base, size: 32 }, names.clone(), 2);
    w.project(
        "rb",
        Strategy::Range {
            base: base + 4,
            size: 32,
        },
        names.clone(),
        2,
    );
    w.project(
        "oa",
        Strategy::Offset { base: offset_base },
        names.clone(),
        2,
    );
    w.project(
        "ob",
        Strategy::Offset {
            base: offset_base + 2,
        },
        names,
        2,
    );
    w.settle();
    w
}

#[test]
fn kill_9_rounds_keep_the_invariants() {
    let test = "kill_9_rounds_keep_the_invariants";
    let (seed, mut rng) = seeded(test);
    let mut report = Report::new(test, seed);
    let (base, offset_base) = (free_base(40), free_base(1100));
    let mut w = kill_world(base, offset_base);
    for round in 1..=KILL_ROUNDS {
        let ran = kill_round(&w, &mut rng);
        let mut bad = w.heal();
        bad.extend(check(&w));
        if report.round(format!("round {round} (kill -9)"), ran, bad) {
            w = kill_world(base, offset_base);
        }
    }
    report.finish();
}

#[test]
fn strace_kill_at_each_rename_of_ports_reset_keeps_the_invariants() {
    let test = "strace_kill_at_each_rename_of_ports_reset_keeps_the_invariants";
    let Ok(strace) = which::which("strace") else {
        support::unavailable::<()>(test, "strace", "not on PATH");
        return;
    };
    let (seed, _) = seeded(test);
    let mut report = Report::new(test, seed);
    let base = free_base(10);
    let mut killed_any = false;
    for n in 1..=STRACE_RENAMES {
        // zz before aa: `reset` rebuilds in name order, so it swaps their ports.
        let mut w = World::new();
        w.project(
            "r",
            Strategy::Range { base, size: 10 },
            vec!["zz".into(), "aa".into()],
            2,
        );
        w.settle();
        let out =
            w.s.cmd(&strace, &w.projects[0].main)
                .args(["-f", "-o", "/dev/null", "-e"])
                .arg(format!("inject=renameat:signal=KILL:when={n}"))
                .arg(support::bin())
                .args(["ports", "reset"])
                .output()
                .unwrap();
        killed_any |= !out.status.success();
        let ran = vec![format!(
            "r: strace -e inject=renameat:signal=KILL:when={n} git-atlas ports reset -> {}",
            describe(out.status)
        )];
        let mut bad = w.heal();
        bad.extend(check(&w));
        report.round(
            format!("round {n} (SIGKILL at renameat number {n} of `ports reset`)"),
            ran,
            bad,
        );
    }
    assert!(
        killed_any,
        "strace never killed `git-atlas ports reset` at a renameat: does this libc rename with another system call?"
    );
    report.finish();
}
