//! `.atlas.toml` (the team's, committed) merged with `worktree-registry/config.toml` (this
//! machine's overrides, written by `git atlas ports config`).

use std::fs;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ports::alloc;

pub const TEAM_FILE: &str = ".atlas.toml";

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Config {
    /// `offset` (default) or `range`.
    pub strategy: Option<StrategyName>,
    #[serde(default)]
    pub offset: OffsetConfig,
    /// Services by name; with none, services are detected from `.env`.
    #[serde(default)]
    pub services: IndexMap<String, ServiceConfig>,
    #[serde(default)]
    pub env: EnvConfig,
    #[serde(default)]
    pub templates: TemplatesConfig,
    #[serde(default)]
    pub port_conflict_resolution: ResolutionConfig,
    #[serde(default)]
    pub docker: DockerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub copy: CopyConfig,
    #[serde(default)]
    pub setup: SetupConfig,
    #[serde(default)]
    pub teardown: TeardownConfig,
}

/// `[database]`: each worktree's own database, in the server its rewritten URL names.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Create the worktree's databases when it is created (on by default; `add --no-db` skips).
    #[serde(default = "yes")]
    pub create: bool,
    /// Seed option 2: every worktree uses the main's server (its port is kept), only the database
    /// name changes. Off: option 3, the port moves with the worktree and the name changes too.
    #[serde(default)]
    pub shared_server: bool,
    /// Start a new worktree's database as a copy of the main worktree's.
    #[serde(default)]
    pub clone: bool,
    /// Drop a worktree's databases when it is removed (by `git atlas remove`, or, once Git no
    /// longer lists it, by the next reconcile).
    #[serde(default)]
    pub drop_on_remove: bool,
    /// The variables that hold database URLs or SQLite paths; by default every variable whose
    /// value names one.
    #[serde(default)]
    pub url_var: Option<OneOrMany>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            create: true,
            shared_server: false,
            clone: false,
            drop_on_remove: false,
            url_var: None,
        }
    }
}

impl DatabaseConfig {
    /// Whether `var` is one the configuration lets hold a database (all, unless `url_var` says).
    pub fn allows(&self, var: &str) -> bool {
        match &self.url_var {
            None => true,
            Some(OneOrMany::One(v)) => v == var,
            Some(OneOrMany::Many(vs)) => vs.iter().any(|v| v == var),
        }
    }
}

/// A string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `[docker]`: the compose files a project runs with `-f`, and what happens to a worktree's
/// Compose project when the worktree goes.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DockerConfig {
    #[serde(default)]
    pub on_remove: OnRemove,
    /// The compose files the project runs with `-f` (`docker compose -f
    /// docker/development/compose.yml up`), from the repository root, in order: read instead of
    /// the files plain `docker compose` finds.
    #[serde(default)]
    pub files: Vec<String>,
}

/// `down-volumes` (default, as the seed's `down -v`), `down` (keep named volumes), `keep`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnRemove {
    #[default]
    DownVolumes,
    Down,
    Keep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyName {
    Offset,
    Range,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OffsetConfig {
    #[serde(default = "default_offset_min")]
    pub min: u16,
    #[serde(default = "default_offset_max")]
    pub max: u16,
}

fn default_offset_min() -> u16 {
    100
}
fn default_offset_max() -> u16 {
    999
}

impl Default for OffsetConfig {
    fn default() -> Self {
        OffsetConfig {
            min: default_offset_min(),
            max: default_offset_max(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// The base port: what the main worktree uses.
    /// Signed, so that `port = -1` gets the same message as `port = 70000`, not a type error.
    pub port: Option<i64>,
    /// `LO-HI`, searched by the range strategy.
    pub range: Option<String>,
    pub label: Option<String>,
    /// `.env` variables that carry this service's port (default: `<NAME>_PORT`).
    #[serde(default)]
    pub env: Vec<String>,
}

/// `[copy]`: the main worktree's ignored files and folders every new worktree gets a copy of.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CopyConfig {
    /// Gitignore-syntax patterns, after those of `.worktreeinclude` (`["node_modules/",
    /// ".venv/", "*.pem"]`): what they name and Git ignores is copied.
    #[serde(default)]
    pub include: Vec<String>,
}

/// `[setup]`: the project's command lines a new worktree runs once its ports, env files,
/// copies and database are there (`npm ci`, migrations), each by `sh -c` in the worktree with
/// its values in the environment; only once this machine trusted their text.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetupConfig {
    #[serde(default)]
    pub run: Vec<String>,
    /// How a worktree made by a plain `git worktree add` (through the hooks) runs them:
    /// `background` (default: Git returns at once, `git atlas setup --wait` follows them),
    /// `wait` (Git returns when they are done) or `manual` (`git atlas setup` runs them).
    #[serde(default)]
    pub hook: HookRun,
}

/// `[setup] hook`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookRun {
    #[default]
    Background,
    Wait,
    Manual,
}

/// `[teardown]`: command lines `git atlas remove` runs in a worktree before it takes it away.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TeardownConfig {
    #[serde(default)]
    pub run: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    #[serde(default = "default_env_source")]
    pub source: String,
    #[serde(default = "default_env_output")]
    pub output: String,
    /// Detect services from `*PORT*` variables of `source` (on by default).
    #[serde(default = "yes")]
    pub auto_detect: bool,
    /// Variables never treated as ports.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Which of the main worktree's env files that Git ignores are carried into every new
    /// worktree, at the same path (gitignore syntax, the last matching pattern wins; `[]`
    /// carries none).
    #[serde(default = "default_carry")]
    pub carry: Vec<String>,
}

/// `.env` and `.env.*` at any depth, not the committed examples.
pub fn default_carry() -> Vec<String> {
    [".env", ".env.*", "!*.example", "!*.sample", "!*.template"]
        .map(String::from)
        .to_vec()
}

fn default_env_source() -> String {
    ".env".into()
}
fn default_env_output() -> String {
    ".env.local".into()
}
fn yes() -> bool {
    true
}

impl Default for EnvConfig {
    fn default() -> Self {
        EnvConfig {
            source: default_env_source(),
            output: default_env_output(),
            auto_detect: true,
            ignore: Vec::new(),
            carry: default_carry(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatesConfig {
    #[serde(default = "default_env_template")]
    pub env: String,
    #[serde(default = "default_env_worktree")]
    pub env_output: String,
    #[serde(default = "default_compose_template")]
    pub compose: String,
    #[serde(default = "default_compose_output")]
    pub compose_output: String,
}

fn default_env_template() -> String {
    ".env.worktree.template".into()
}
fn default_env_worktree() -> String {
    ".env.worktree".into()
}
fn default_compose_template() -> String {
    "docker-compose.worktree.template.yml".into()
}
fn default_compose_output() -> String {
    "docker-compose.yml".into()
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        TemplatesConfig {
            env: default_env_template(),
            env_output: default_env_worktree(),
            compose: default_compose_template(),
            compose_output: default_compose_output(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionStrategy {
    SkipToNext,
    ExpandRange,
    ForceRelease,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionConfig {
    #[serde(default = "yes")]
    pub auto_resolve: bool,
    #[serde(default = "default_strategies")]
    pub strategies: Vec<ResolutionStrategy>,
}

fn default_strategies() -> Vec<ResolutionStrategy> {
    vec![
        ResolutionStrategy::SkipToNext,
        ResolutionStrategy::ForceRelease,
    ]
}

impl Default for ResolutionConfig {
    fn default() -> Self {
        ResolutionConfig {
            auto_resolve: true,
            strategies: default_strategies(),
        }
    }
}

impl ResolutionConfig {
    pub fn enabled(&self, s: ResolutionStrategy) -> bool {
        self.auto_resolve && self.strategies.contains(&s)
    }

    pub fn for_allocator(&self) -> alloc::Resolution {
        alloc::Resolution {
            skip_to_next: self.enabled(ResolutionStrategy::SkipToNext),
            expand_range: self.enabled(ResolutionStrategy::ExpandRange),
        }
    }
}

impl Config {
    /// Read the team file in `root` (if any) and overlay the machine-local file (if any).
    pub fn load(root: &Path, local: &Path) -> Result<Config> {
        let team_path = root.join(TEAM_FILE);
        let mut table = read_table(&team_path)?.unwrap_or_default();
        // Each file alone first, so an unknown key or a wrong type names the file it is in.
        check_alone(&table, &team_path)?;
        if let Some(overrides) = read_table(local)? {
            check_alone(&overrides, local)?;
            merge(&mut table, overrides);
        }
        let config: Config = table.try_into().map_err(|e: toml::de::Error| {
            Error::failed(format!(
                "invalid configuration from {} and {} together: {}",
                team_path.display(),
                local.display(),
                e.message()
            ))
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn strategy(&self) -> alloc::Strategy {
        match self.strategy.unwrap_or(StrategyName::Offset) {
            StrategyName::Offset => alloc::Strategy::Offset {
                min: self.offset.min,
                max: self.offset.max,
            },
            StrategyName::Range => alloc::Strategy::Range,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.offset.min == 0 || self.offset.min > self.offset.max {
            return Err(Error::failed(format!(
                "invalid [offset] in {TEAM_FILE}: min ({}) must be at least 1 and at most max ({})",
                self.offset.min, self.offset.max
            )));
        }
        for (name, service) in &self.services {
            if let Some(port) = service.port {
                check_port(port).map_err(|m| {
                    Error::failed(format!(
                        "invalid port for service '{name}' in {TEAM_FILE}: {m}"
                    ))
                })?;
            }
            if let Some(range) = &service.range {
                parse_range(range).map_err(|m| {
                    Error::failed(format!("invalid range for service '{name}': {m}"))
                })?;
            }
            if service.port.is_none() && service.range.is_none() {
                return Err(Error::failed(format!(
                    "service '{name}' in {TEAM_FILE} needs a `port` or a `range`"
                )));
            }
        }
        for (section, steps) in [("setup", &self.setup.run), ("teardown", &self.teardown.run)] {
            if let Some(i) = steps
                .iter()
                .position(|s| s.trim().is_empty() || s.contains('\0'))
            {
                return Err(Error::failed(format!(
                    "invalid [{section}] run in {TEAM_FILE}: step {} is {}",
                    i + 1,
                    if steps[i].contains('\0') {
                        "a command line with a NUL character"
                    } else {
                        "empty"
                    }
                )));
            }
        }
        Ok(())
    }
}

/// A port number as the user wrote it: 1..=65535.
pub fn check_port(port: impl Into<i64>) -> std::result::Result<u16, String> {
    let port = port.into();
    match u16::try_from(port) {
        Ok(p) if p >= 1 => Ok(p),
        _ => Err(format!("{port} is not a valid port (1-65535)")),
    }
}

/// `LO-HI`, both valid ports, `LO <= HI`.
pub fn parse_range(text: &str) -> std::result::Result<(u16, u16), String> {
    let (lo, hi) = text
        .split_once('-')
        .ok_or_else(|| format!("'{text}' is not a range; write LO-HI, e.g. 8080-8099"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("'{}' in '{text}' is not a port number", s.trim()))
            .and_then(check_port)
    };
    let (lo, hi) = (parse(lo)?, parse(hi)?);
    if lo > hi {
        return Err(format!("'{text}' starts above where it ends"));
    }
    Ok((lo, hi))
}

fn check_alone(table: &toml::Table, path: &Path) -> Result<()> {
    Config::deserialize(table.clone()).map(|_| ()).map_err(|e| {
        Error::failed(format!(
            "invalid configuration in {}: {}",
            path.display(),
            e.message()
        ))
    })
}

fn read_table(path: &Path) -> Result<Option<toml::Table>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    text.parse::<toml::Table>().map(Some).map_err(|e| {
        Error::failed(format!(
            "invalid TOML in {}: {}",
            path.display(),
            e.message().trim()
        ))
    })
}

fn merge(base: &mut toml::Table, overrides: toml::Table) {
    for (key, value) in overrides {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The machine-local overrides file, as a table that `ports config` edits.
pub fn read_local(path: &Path) -> Result<toml::Table> {
    Ok(read_table(path)?.unwrap_or_default())
}

pub fn local_path(registry_dir: &Path) -> PathBuf {
    registry_dir.join("config.toml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        assert_eq!(parse_range("8080-8099"), Ok((8080, 8099)));
        assert!(parse_range("8099-8080")
            .unwrap_err()
            .contains("starts above"));
        assert!(parse_range("8080-70000")
            .unwrap_err()
            .contains("70000 is not a valid port"));
        assert!(parse_range("8080").is_err());
        assert!(parse_range("a-b").is_err());
        assert!(parse_range("0-10").is_err());
    }

    #[test]
    fn a_negative_service_port_is_the_same_error_as_one_too_high() {
        for port in ["-1", "70000"] {
            let dir = tempfile::tempdir().unwrap();
            fs::write(
                dir.path().join(TEAM_FILE),
                format!("[services.web]\nport = {port}\n"),
            )
            .unwrap();
            let e = Config::load(dir.path(), &dir.path().join("none.toml")).unwrap_err();
            assert_eq!(
                e.message,
                format!("invalid port for service 'web' in .atlas.toml: {port} is not a valid port (1-65535)")
            );
        }
    }

    #[test]
    fn local_overrides_win() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(TEAM_FILE),
            "strategy = \"offset\"\n[services.web]\nport = 8080\nrange = \"8080-8099\"\n",
        )
        .unwrap();
        let local = dir.path().join("local.toml");
        fs::write(
            &local,
            "strategy = \"range\"\n[services.web]\nrange = \"8100-8199\"\n",
        )
        .unwrap();
        let c = Config::load(dir.path(), &local).unwrap();
        assert_eq!(c.strategy, Some(StrategyName::Range));
        assert_eq!(c.services["web"].range.as_deref(), Some("8100-8199"));
        assert_eq!(c.services["web"].port, Some(8080));
    }

    #[test]
    fn typos_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(TEAM_FILE), "stratgy = \"range\"\n").unwrap();
        let e = Config::load(dir.path(), &dir.path().join("none")).unwrap_err();
        assert!(e.message.contains("stratgy"), "{}", e.message);
        assert!(
            e.message.contains(".atlas.toml:") || e.message.contains(".atlas.toml: "),
            "{}",
            e.message
        );
        fs::write(dir.path().join(TEAM_FILE), "strategy = \"range\"\n").unwrap();
        let local = dir.path().join("local.toml");
        fs::write(&local, "[offset]\nmni = 5\n").unwrap();
        let e = Config::load(dir.path(), &local).unwrap_err();
        assert!(
            e.message
                .starts_with(&format!("invalid configuration in {}:", local.display())),
            "{}",
            e.message
        );
    }
}
