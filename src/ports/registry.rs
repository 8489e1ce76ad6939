//! `worktree-registry/ports.json` in the Git common dir: its schema, its lock, atomic updates,
//! validation, and the recovery message when it does not parse.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

use crate::error::{Error, IoContext, Result};
use crate::files::{self, Lock};

pub const VERSION: u32 = 1;

/// One worktree's ports: service → port.
pub type Ports = IndexMap<String, u16>;
pub const DIR: &str = "worktree-registry";

/// The registry. `allocated_ports` keeps the seed's shape: worktree → service → port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    pub version: u32,
    #[serde(default)]
    pub allocated_ports: IndexMap<String, IndexMap<String, u16>>,
    /// What we know of each allocated worktree beyond its ports.
    #[serde(default)]
    pub worktrees: IndexMap<String, WorktreeRecord>,
    /// Ports never to hand out, with the reason given.
    #[serde(default)]
    pub unavailable_ports: BTreeMap<u16, String>,
    /// Compose projects of this repository's worktrees, by project name: what to tear down
    /// when a worktree goes without `git atlas remove`. An entry outlives its worktree's ports
    /// until its containers, networks and volumes are gone.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub compose_projects: IndexMap<String, ComposeRecord>,
    /// The databases git-atlas created or found for each linked worktree, by worktree name: what
    /// `[database] drop_on_remove` drops once Git no longer lists the worktree.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub databases: IndexMap<String, Vec<DbRecord>>,
    /// Each linked worktree's Redis database indexes on a shared server (`[database]
    /// shared_server`), by what the main worktree's URL names (`"6379/0"`, server port and
    /// index): allocated like its ports, released with them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub redis: IndexMap<String, IndexMap<String, u16>>,
}

/// One worktree database, without its password (which stays in `.env`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbRecord {
    /// The variable that names it.
    pub variable: String,
    /// `postgresql`, `mysql` or `sqlite`.
    pub engine: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The database's name, or the SQLite file's path.
    pub name: String,
}

impl DbRecord {
    /// Whether both name the same database, whichever variables name it (a project's
    /// `DATABASE_URL` and `DIRECT_DATABASE_URL` often do).
    pub fn same_database(&self, other: &DbRecord) -> bool {
        (&self.engine, &self.host, self.port, &self.name)
            == (&other.engine, &other.host, other.port, &other.name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeRecord {
    pub worktree: String,
    /// The worktree's directory, which Compose labels the project's containers with: a
    /// project of the same name run from elsewhere (another clone) is not ours to remove.
    #[serde(default)]
    pub path: PathBuf,
    /// Its containers and networks were removed while the worktree was missing; its volumes
    /// wait until Git no longer lists the worktree.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub down: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorktreeRecord {
    pub path: PathBuf,
    /// The offset under the offset strategy; absent under the range strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u16>,
    /// Labels of the services, for display.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    /// Allocated by a hook while Git was still creating the worktree: its files are written at
    /// its first checkout.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending_files: bool,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            version: VERSION,
            allocated_ports: IndexMap::new(),
            worktrees: IndexMap::new(),
            unavailable_ports: BTreeMap::new(),
            compose_projects: IndexMap::new(),
            databases: IndexMap::new(),
            redis: IndexMap::new(),
        }
    }
}

impl Registry {
    /// Who holds `port`, other than worktree `except`: `"feature-auth (web)"`.
    pub fn holder(&self, port: u16, except: &str) -> Option<String> {
        self.allocated_ports
            .iter()
            .filter(|(name, _)| name.as_str() != except)
            .find_map(|(name, ports)| {
                ports
                    .iter()
                    .find(|(_, p)| **p == port)
                    .map(|(service, _)| format!("allocated to {name} ({service})"))
            })
    }

    pub fn release(&mut self, name: &str) -> Option<IndexMap<String, u16>> {
        self.worktrees.shift_remove(name);
        self.redis.shift_remove(name);
        self.allocated_ports.shift_remove(name)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.version != VERSION {
            return Err(format!(
                "version {} is not supported (this git-atlas reads version {VERSION}; a newer git-atlas may have written it)",
                self.version
            ));
        }
        for (name, ports) in &self.allocated_ports {
            if let Some((service, _)) = ports.iter().find(|(_, p)| **p == 0) {
                return Err(format!("port 0 for {name} ({service}) is not a valid port"));
            }
        }
        if let Some(&port) = self.unavailable_ports.keys().find(|p| **p == 0) {
            return Err(format!("unavailable port {port} is not a valid port"));
        }
        Ok(())
    }
}

/// The registry's files on disk.
#[derive(Debug, Clone)]
pub struct RegistryFile {
    dir: PathBuf,
    /// The version last read or written by this process: a command reads the registry several
    /// times, and decodes it once.
    cache: files::Cache<Registry>,
}

impl RegistryFile {
    pub fn new(common_dir: &Path) -> Self {
        RegistryFile {
            dir: common_dir.join(DIR),
            cache: files::Cache::default(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// See [`files::Cache::leak`].
    pub fn leak_cache(&self) {
        self.cache.leak();
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("ports.json")
    }

    pub fn backup_path(&self) -> PathBuf {
        self.dir.join("ports.json.backup")
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join("ports.lock")
    }

    /// Read without locking: writers replace the file atomically, so a reader sees a whole version.
    /// A missing file is an empty registry.
    pub fn read(&self) -> Result<Rc<Registry>> {
        self.load(false)
    }

    /// [`Self::read`] for [`Self::update`], under the lock: a cached copy counts only if it is
    /// sure to be the file's current version (see [`files::Cache::get`]).
    fn load(&self, for_update: bool) -> Result<Rc<Registry>> {
        let path = self.path();
        let now = files::version(&path);
        if let Some(cached) = self.cache.get(now.as_ref(), for_update) {
            return Ok(cached);
        }
        let registry = match fs::read(&path) {
            Ok(bytes) => Rc::new(parse(&bytes, &path)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Rc::new(Registry::default()))
            }
            Err(e) => return Err(unreadable(&path, e)),
        };
        self.cache.put(now, Rc::clone(&registry));
        Ok(registry)
    }

    /// One worktree's ports and offset, for the shell prompt: the file is still checked as a
    /// whole, but only this worktree's entry is decoded. `None` if it has no entry.
    pub fn read_worktree(&self, name: &str) -> Result<Option<(Ports, Option<u16>)>> {
        use serde_json::value::RawValue;
        #[derive(Deserialize)]
        struct Lean<'a> {
            version: u32,
            // Keys are owned: a name with a quote or a backslash is escaped in JSON, and an
            // escaped string cannot be borrowed from the file.
            #[serde(borrow, default)]
            allocated_ports: std::collections::HashMap<String, &'a RawValue>,
            #[serde(borrow, default)]
            worktrees: std::collections::HashMap<String, &'a RawValue>,
        }
        #[derive(Deserialize)]
        struct Offset {
            offset: Option<u16>,
        }
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unreadable(&path, e)),
        };
        let invalid = |e: &dyn std::fmt::Display| {
            parse(&bytes, &path)
                .err()
                .unwrap_or_else(|| invalid_format(&path, e.to_string()))
        };
        let lean: Lean = serde_json::from_slice(&bytes).map_err(|e| invalid(&e))?;
        if lean.version != VERSION {
            return Err(invalid(&"unsupported version"));
        }
        let Some(raw) = lean.allocated_ports.get(name) else {
            return Ok(None);
        };
        let ports: IndexMap<String, u16> =
            serde_json::from_str(raw.get()).map_err(|e| invalid(&e))?;
        if ports.values().any(|p| *p == 0) {
            return Err(invalid(&"port 0"));
        }
        let offset = match lean.worktrees.get(name) {
            Some(raw) => {
                serde_json::from_str::<Offset>(raw.get())
                    .map_err(|e| invalid(&e))?
                    .offset
            }
            None => None,
        };
        Ok(Some((ports, offset)))
    }

    /// Read, change and write the registry while holding its exclusive lock. The file is only
    /// rewritten if `change` changed something.
    pub fn update<T>(&self, change: impl FnOnce(&mut Registry) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        let synced = self.prompts_in_sync();
        let before = self.load(true)?;
        let mut registry = Registry::clone(&before);
        let out = change(&mut registry)?;
        if registry != *before {
            self.write_with(registry, &before, synced)?;
        }
        Ok(out)
    }

    /// Remove what killed writers left in the registry's directories, while the caller holds
    /// [`Self::lock`]: every prompt file is written under it, so any temporary file there is a
    /// leftover; hook-state and the like are not, so theirs count only when 10 s old.
    pub fn clear_leftovers_locked(&self) {
        files::clear_leftovers(&self.dir, std::time::Duration::from_secs(10));
        files::clear_leftovers(&self.dir.join(PROMPTS), std::time::Duration::ZERO);
    }

    /// Take the registry lock. Hold it only for milliseconds.
    pub fn lock(&self) -> Result<Lock> {
        Lock::exclusive(&self.lock_path())
    }

    /// Write while the caller holds [`Self::lock`] (a registry that does not parse counts as
    /// empty: `ports reset` replaces it).
    pub fn write_locked(&self, registry: &Registry) -> Result<()> {
        let before = self
            .load(true)
            .map(|r| Registry::clone(&r))
            .unwrap_or_default();
        self.write_with(registry.clone(), &before, false)
    }

    /// Write `registry`, having first marked the worktrees whose ports or offset differ from
    /// `before`'s as having stale files (see [`stale`](super::stale)); then the prompt files of
    /// those worktrees (of all of them unless `prompts_synced`), then the stamp that says they
    /// match this version.
    fn write_with(
        &self,
        registry: Registry,
        before: &Registry,
        prompts_synced: bool,
    ) -> Result<()> {
        fn prompt_of<'a>(r: &'a Registry, name: &str) -> (Option<&'a Ports>, Option<u16>) {
            (
                r.allocated_ports.get(name),
                r.worktrees.get(name).and_then(|w| w.offset),
            )
        }
        use super::stale::Kind;
        let behind = registry.allocated_ports.keys().filter_map(|name| {
            if !before.allocated_ports.contains_key(name) {
                Some((name.as_str(), Kind::New))
            } else {
                (prompt_of(before, name) != prompt_of(&registry, name))
                    .then_some((name.as_str(), Kind::Moved))
            }
        });
        super::stale::mark(&self.dir, behind)?;
        let mut json =
            serde_json::to_vec_pretty(&registry).expect("the registry always serialises");
        json.push(b'\n');
        files::write_atomic(&self.path(), &json)?;
        let common = self.dir.parent().unwrap_or(&self.dir);
        let names = registry
            .allocated_ports
            .keys()
            .chain(before.allocated_ports.keys());
        for name in names {
            if prompts_synced && prompt_of(before, name) == prompt_of(&registry, name) {
                continue;
            }
            let path = prompt_path(common, name);
            match prompt_text(&registry, name) {
                Some(text) => write_prompt(&path, &text)?,
                None => remove_prompt(&path)?,
            }
        }
        if !prompts_synced {
            // Out of step: a prompt file may remain for a worktree the registry no longer has.
            remove_stale_prompts(common, &registry)?;
        }
        let version = files::version(&self.path());
        if let Some(version) = &version {
            files::write_derived_atomic(&self.stamp_path(), version.stamp().as_bytes())?;
        }
        self.cache.put(version, Rc::new(registry));
        Ok(())
    }

    /// Write worktree `name`'s prompt file from the registry as it is, if its directory exists
    /// now: for a worktree whose allocation was written before Git had created its directory.
    pub fn refresh_prompt(&self, name: &str) -> Result<()> {
        let _lock = self.lock()?;
        let registry = self.read()?;
        let common = self.dir.parent().unwrap_or(&self.dir);
        if let Some(text) = prompt_text(&registry, name) {
            let path = prompt_path(common, name);
            // Often already written: the allocation came after Git had made the directory.
            if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                write_prompt(&path, &text)?;
            }
        }
        Ok(())
    }

    fn stamp_path(&self) -> PathBuf {
        self.dir.join("prompt-stamp")
    }

    /// Whether the prompt files were written for the registry as it is now (not, say, by an
    /// older git-atlas, or before a `ports.json` edited by hand).
    fn prompts_in_sync(&self) -> bool {
        match (
            files::version(&self.path()),
            fs::read_to_string(self.stamp_path()),
        ) {
            (Some(now), Ok(written)) => now.stamp() == written,
            _ => false,
        }
    }

    /// The current worktree's ports and offset for the shell prompt, from its prompt file: a
    /// few bytes in `worktree-registry/prompts/`, whatever the registry's size. When
    /// the stamp says the prompt files do not match `ports.json` (being written, written by an
    /// older git-atlas, edited by hand), the registry itself is read.
    pub fn read_prompt(&self, name: &str) -> Result<Option<(Ports, Option<u16>)>> {
        if !self.prompts_in_sync() {
            return self.read_worktree(name);
        }
        let path = prompt_path(self.dir.parent().unwrap_or(&self.dir), name);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            // Every allocated worktree has one: without it (or with one that is not text, or a
            // directory in its place: the next registry write replaces it), the registry says.
            Err(_) => return self.read_worktree(name),
        };
        match parse_prompt(&text) {
            Some(found) => Ok(Some(found)),
            None => self.read_worktree(name),
        }
    }

    /// Copy the current file, whatever its state, to the backup path (move it there when it
    /// is not a file at all). Returns the backup's path.
    pub fn backup(&self) -> Result<Option<PathBuf>> {
        let (from, to) = (self.path(), self.backup_path());
        if fs::symlink_metadata(&from).is_ok_and(|m| !m.is_file() && !m.is_symlink()) {
            return files::set_aside(&from);
        }
        match fs::read(&from) {
            Ok(bytes) => {
                if fs::symlink_metadata(&to).is_ok_and(|m| m.is_dir()) {
                    fs::remove_dir_all(&to).at("remove", &to)?;
                }
                files::write_atomic(&to, &bytes)?;
                Ok(Some(to))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).at("read", &from),
        }
    }
}

const PROMPT_HEADER: &str = "git-atlas ports 1";
/// The prompt files' directory in the registry's.
const PROMPTS: &str = "prompts";

/// Where the prompt file of the worktree `name` goes: `worktree-registry/prompts/<name>` (Git's
/// ids are file names). Not in Git's own directory for the worktree, as it once was: a file
/// written there while `git worktree remove` empties it kept Git from removing the directory.
fn prompt_path(common: &Path, name: &str) -> PathBuf {
    common.join(DIR).join(PROMPTS).join(name)
}

/// Remove the prompt files of the worktrees (main included) that `registry` has no ports for.
fn remove_stale_prompts(common: &Path, registry: &Registry) -> Result<()> {
    let mut files = Vec::new();
    if let Ok(entries) = fs::read_dir(common.join(DIR).join(PROMPTS)) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            files.push((name, entry.path()));
        }
    }
    for (name, path) in files {
        if registry.allocated_ports.contains_key(&name) {
            continue;
        }
        remove_prompt(&path)?;
    }
    Ok(())
}

/// Write a prompt file. It is derived state: whatever is in its place and cannot be replaced
/// (a directory) is set aside, with one warning.
fn write_prompt(path: &Path, text: &str) -> Result<()> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        set_aside_prompt(path)?;
    }
    files::write_derived_atomic(path, text.as_bytes())
}

fn remove_prompt(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) => set_aside_prompt(path),
        Err(e) => Err(Error::io("remove", path, e)),
        Ok(()) => Ok(()),
    }
}

fn set_aside_prompt(path: &Path) -> Result<()> {
    if let Some(backup) = files::set_aside(path)? {
        crate::term::warn(format!(
            "{} is not a file; set it aside as {} (the prompt reads the registry meanwhile)",
            path.display(),
            backup.display()
        ));
    }
    Ok(())
}

/// `git-atlas ports 1`, `offset <n>` or `offset -`, then `<service> <port>` lines.
fn prompt_text(registry: &Registry, name: &str) -> Option<String> {
    let ports = registry.allocated_ports.get(name)?;
    let offset = registry.worktrees.get(name).and_then(|r| r.offset);
    let mut text = format!(
        "{PROMPT_HEADER}\noffset {}\n",
        offset.map_or("-".to_string(), |o| o.to_string())
    );
    for (service, port) in ports {
        text.push_str(&format!("{service} {port}\n"));
    }
    Some(text)
}

fn parse_prompt(text: &str) -> Option<(Ports, Option<u16>)> {
    let mut lines = text.lines();
    (lines.next()? == PROMPT_HEADER).then_some(())?;
    let offset = match lines.next()?.strip_prefix("offset ")? {
        "-" => None,
        n => Some(n.parse().ok()?),
    };
    let mut ports = Ports::new();
    for line in lines {
        let (service, port) = line.rsplit_once(' ')?;
        ports.insert(service.to_string(), port.parse().ok().filter(|p| *p > 0)?);
    }
    Some((ports, offset))
}

fn parse(bytes: &[u8], path: &Path) -> Result<Registry> {
    let invalid = |why: String| invalid_format(path, why);
    let registry: Registry = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    registry.validate().map_err(invalid)?;
    Ok(registry)
}

/// The registry is there but cannot be read (a directory in its place, no permission): it is
/// the source of truth, so every command stops, with the way out.
fn unreadable(path: &Path, e: std::io::Error) -> Error {
    Error::failed(format!("could not read the registry {}: {e}", path.display()))
        .hint("git-atlas will not replace it")
        .hint(format!(
            "to recover, fix it (or move it away and restore {}.backup if you have one), or run `git atlas ports reset`, which sets it aside and rebuilds it from the existing worktrees",
            path.display()
        ))
}

fn invalid_format(path: &Path, why: String) -> Error {
    {
        Error::failed(format!("Invalid registry format in {}: {why}", path.display()))
            .hint("the file was left as it is; git-atlas will not overwrite it")
            .hint(format!(
                "to recover, restore a good copy (e.g. {}.backup if you have one) or run `git atlas ports reset`, which backs the file up and rebuilds it from the existing worktrees",
                path.display()
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_file_is_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = RegistryFile::new(dir.path());
        fs::create_dir_all(file.dir()).unwrap();
        fs::write(file.path(), b"{\"version\": 1, \"allocated_ports\": {").unwrap();
        let e = file.update(|_| Ok(())).unwrap_err();
        assert!(
            e.message.starts_with("Invalid registry format in "),
            "{}",
            e.message
        );
        assert_eq!(
            fs::read(file.path()).unwrap(),
            b"{\"version\": 1, \"allocated_ports\": {"
        );
    }

    #[test]
    fn seed_shaped_registry_reads() {
        let dir = tempfile::tempdir().unwrap();
        let file = RegistryFile::new(dir.path());
        fs::create_dir_all(file.dir()).unwrap();
        fs::write(
            file.path(),
            r#"{"version":1,"allocated_ports":{"feature-payment":{"web":8082,"db":5434}}}"#,
        )
        .unwrap();
        let r = file.read().unwrap();
        assert_eq!(r.allocated_ports["feature-payment"]["db"], 5434);
        assert_eq!(
            r.holder(8082, "x").as_deref(),
            Some("allocated to feature-payment (web)")
        );
        assert_eq!(r.holder(8082, "feature-payment"), None);
    }

    #[test]
    fn prompt_reader_agrees_with_the_full_reader() {
        let dir = tempfile::tempdir().unwrap();
        let file = RegistryFile::new(dir.path());
        fs::create_dir_all(file.dir()).unwrap();
        let text = r#"{"version":1,"allocated_ports":{"a":{"web":8082,"db":5434},"b":{"web":8083}},
            "worktrees":{"a":{"path":"/x/a","offset":2,"labels":{"web":"Web"}}},
            "databases":{"a":[{"variable":"DATABASE_URL","engine":"postgresql","host":"127.0.0.1","port":5434,"name":"app_a"}]}}"#;
        fs::write(file.path(), text).unwrap();
        let full = file.read().unwrap();
        let (ports, offset) = file.read_worktree("a").unwrap().unwrap();
        assert_eq!((&ports, offset), (&full.allocated_ports["a"], Some(2)));
        assert_eq!(file.read_worktree("b").unwrap().unwrap().1, None);
        assert_eq!(file.read_worktree("c").unwrap(), None);
        let quoted = r#"{"version":1,"allocated_ports":{"q'uo\"te\\x":{"web":8084}}}"#;
        fs::write(file.path(), quoted).unwrap();
        assert_eq!(
            file.read_worktree("q'uo\"te\\x").unwrap().unwrap().0["web"],
            8084
        );
        for bad in [
            "{\"version\":1,",
            "{\"version\":2}",
            r#"{"version":1,"allocated_ports":{"a":{"web":0}}}"#,
        ] {
            fs::write(file.path(), bad).unwrap();
            let e = file.read_worktree("a").unwrap_err();
            assert!(
                e.message.starts_with("Invalid registry format in "),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn unknown_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = RegistryFile::new(dir.path());
        fs::create_dir_all(file.dir()).unwrap();
        fs::write(file.path(), r#"{"version":2}"#).unwrap();
        assert!(file
            .read()
            .unwrap_err()
            .message
            .contains("version 2 is not supported"));
    }
}
