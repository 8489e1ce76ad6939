//! A Compose project's model as Compose resolves it from its files, for what a second project
//! beside main's would clash on: the host ports its services publish, their container names,
//! and the names of its volumes and networks. Read with a YAML parser (no Compose, no Docker):
//! the default files of the project directory or `COMPOSE_FILE`, each later file merged over
//! the earlier ones (`!override`, `!reset`), `include`, `extends`, merge keys (`<<: *anchor`)
//! and variables (`${DEV_PORT:-8080}`), keeping which variable a published port comes from.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_yaml_ng::Value;

use super::interpolate::{interpolate, sole_variable};

/// The files plain `docker compose` looks for in a directory (the first found is used), and
/// the override file it adds to it: Compose v2's order.
pub const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
pub const DEFAULT_OVERRIDES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// How deep `include` and `extends` may nest before the files are taken to include each other.
const MAX_DEPTH: usize = 16;

/// What a project's files resolve to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    /// The top-level `name:`.
    pub name: Option<String>,
    pub services: IndexMap<String, Service>,
    pub volumes: IndexMap<String, Resource>,
    pub networks: IndexMap<String, Resource>,
    /// Every file the model was read from (those `include` and `extends` name too), in the
    /// order they were read.
    pub sources: Vec<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    pub container_name: Option<String>,
    pub ports: Vec<Port>,
    pub profiles: Vec<String>,
}

/// One entry of a service's `ports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub host_ip: Option<String>,
    /// The host port(s); `None` when Docker picks one (`"5432"`, `target:` alone).
    pub published: Option<Published>,
    /// The container port or range, as written (`80`, `7000-7001`).
    pub target: String,
    pub protocol: Option<String>,
}

impl Port {
    /// The container port host port `host` (one of `published`) reaches: the matching one
    /// when the target is a range of the same length as the published one, else the target
    /// as written (any host port of a range serves a single container port).
    pub fn target_of(&self, host: u16) -> String {
        let Some(p) = &self.published else {
            return self.target.clone();
        };
        let range = self
            .target
            .split_once('-')
            .and_then(|(a, b)| Some((a.parse::<u16>().ok()?, b.parse::<u16>().ok()?)));
        match range {
            Some((a, b))
                if b.checked_sub(a) == Some(p.hi - p.lo) && (p.lo..=p.hi).contains(&host) =>
            {
                (a + (host - p.lo)).to_string()
            }
            _ => self.target.clone(),
        }
    }
}

/// Host ports `lo..=hi`, and the variable they come from when the published part is one
/// (`${DEV_PORT:-8080}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub lo: u16,
    pub hi: u16,
    pub var: Option<String>,
}

/// A top-level volume or network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    /// Its `name:`, when it sets one (else Compose names it `<project>_<key>`).
    pub name: Option<String>,
    /// `external: true`: made outside Compose, shared on purpose.
    pub external: bool,
}

/// How a later file's value of a field applies over an earlier file's.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field<T> {
    Unset,
    Set(T),
    /// `!reset`: back to Compose's default.
    Reset,
}

/// How a later file's `ports` apply: appended (Compose's merge), instead (`!override`), or none
/// (`!reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Append,
    Override,
}

/// One file's service, before it is merged over the earlier files'.
#[derive(Debug, Clone)]
struct Layer {
    container_name: Field<String>,
    ports: Option<(Mode, Vec<Port>)>,
    profiles: Field<Vec<String>>,
    extends: Option<(Option<String>, String)>,
}

/// One file's resources, before the merge.
#[derive(Debug, Clone, Default)]
struct FileLayers {
    name: Option<String>,
    services: IndexMap<String, Layer>,
    volumes: IndexMap<String, (Field<String>, Option<bool>)>,
    networks: IndexMap<String, (Field<String>, Option<bool>)>,
    sources: Vec<PathBuf>,
}

/// Variables as Compose reads them for a project: the project directory's `.env`.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The files plain `docker compose` uses in `dir`: `COMPOSE_FILE` (split on
/// `COMPOSE_PATH_SEPARATOR`, `:` by default), else the first default file with the first
/// override beside it. Empty when there is none.
pub fn discover(dir: &Path, lookup: Lookup) -> Vec<PathBuf> {
    if let Some(list) = lookup("COMPOSE_FILE").filter(|l| !l.trim().is_empty()) {
        let sep = lookup("COMPOSE_PATH_SEPARATOR").unwrap_or_else(|| ":".into());
        return list
            .split(sep.as_str())
            .filter(|f| !f.is_empty())
            .map(|f| dir.join(f))
            .collect();
    }
    let first = |names: &[&str]| names.iter().map(|n| dir.join(n)).find(|p| p.is_file());
    match first(&DEFAULT_FILES) {
        Some(file) => std::iter::once(file)
            .chain(first(&DEFAULT_OVERRIDES))
            .collect(),
        None => Vec::new(),
    }
}

/// The model of `files`, in order, with variables from `lookup`. An error names the file and
/// what is wrong with it.
pub fn load(files: &[PathBuf], lookup: Lookup) -> Result<Model, String> {
    let mut all = FileLayers::default();
    for file in files {
        merge_layers(&mut all, read_file(file, lookup, 0)?);
    }
    Ok(into_model(all))
}

/// One file, with what it includes merged under it and its `extends` resolved.
fn read_file(path: &Path, lookup: Lookup, depth: usize) -> Result<FileLayers, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}: include or extends nested deeper than {MAX_DEPTH} files (do they include each other?)",
            path.display()
        ));
    }
    let doc = parse(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut layers = FileLayers {
        sources: vec![path.to_path_buf()],
        ..FileLayers::default()
    };
    // What a file includes comes first: its own definitions apply over it.
    if let Some(Value::Sequence(list)) = get(&doc, "include") {
        for entry in list {
            for included in include_paths(entry, lookup) {
                let included = dir.join(included);
                let env = included.parent().map(|d| d.join(".env"));
                let own = env
                    .filter(|p| p.is_file())
                    .and_then(|p| crate::files::generate::read_dotenv(&p).ok());
                let chained =
                    |name: &str| lookup(name).or_else(|| own.as_ref().and_then(|e| e.value(name)));
                let inner = read_file(&included, &chained, depth + 1)?;
                merge_layers(&mut layers, inner);
            }
        }
    }
    let own = file_layers(path, &doc, lookup)?;
    let own = resolve_extends(path, own, lookup, depth)?;
    merge_layers(&mut layers, own);
    Ok(layers)
}

/// The YAML of `path`, merge keys applied.
fn parse(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut doc: Value = if text.trim().is_empty() {
        Value::Mapping(Default::default())
    } else {
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
    };
    doc.apply_merge()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(doc)
}

/// The paths an `include` entry names: `- other.yaml`, `- path: a.yaml` or `- path: [a, b]`.
fn include_paths(entry: &Value, lookup: Lookup) -> Vec<String> {
    let paths = match entry {
        Value::String(s) => vec![s.clone()],
        Value::Mapping(_) => match get(entry, "path") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Sequence(list)) => list.iter().filter_map(scalar).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    paths
        .into_iter()
        .filter_map(|p| interpolate(&p, lookup))
        .collect()
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Mapping(m) => m.get(key),
        Value::Tagged(t) => get(&t.value, key),
        _ => None,
    }
}

/// A value and the tag it carries (`!reset`, `!override`), if any.
fn untag(v: &Value) -> (Option<String>, &Value) {
    match v {
        Value::Tagged(t) => (
            Some(t.tag.to_string().trim_start_matches('!').to_string()),
            &t.value,
        ),
        v => (None, v),
    }
}

/// A scalar as text (`8080`, `"8080"`, `true`).
fn scalar(v: &Value) -> Option<String> {
    match untag(v).1 {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A scalar field of a file: set, reset, or not there.
fn text_field(v: Option<&Value>, lookup: Lookup, what: &str) -> Result<Field<String>, String> {
    let Some(v) = v else {
        return Ok(Field::Unset);
    };
    let (tag, inner) = untag(v);
    if tag.as_deref() == Some("reset") {
        return Ok(Field::Reset);
    }
    match scalar(inner) {
        Some(s) => interpolate(&s, lookup)
            .map(Field::Set)
            .ok_or_else(|| format!("{what}: a variable in {s:?} is required and not set")),
        None if inner.is_null() => Ok(Field::Unset),
        None => Err(format!("{what} is not a text")),
    }
}

fn file_layers(path: &Path, doc: &Value, lookup: Lookup) -> Result<FileLayers, String> {
    let at = |what: String| format!("{}: {what}", path.display());
    let mut out = FileLayers {
        name: match text_field(get(doc, "name"), lookup, "name").map_err(at)? {
            Field::Set(n) => Some(n),
            _ => None,
        },
        ..FileLayers::default()
    };
    if let Some(Value::Mapping(services)) = get(doc, "services").map(|v| untag(v).1) {
        for (key, def) in services {
            let Some(name) = scalar(key) else { continue };
            let what = |field: &str| format!("services.{name}.{field}");
            let container_name =
                text_field(get(def, "container_name"), lookup, &what("container_name"))
                    .map_err(at)?;
            let ports = match get(def, "ports") {
                None => None,
                Some(v) => {
                    let (tag, inner) = untag(v);
                    match tag.as_deref() {
                        Some("reset") => Some((Mode::Override, Vec::new())),
                        _ if inner.is_null() => None,
                        tag => {
                            let Value::Sequence(list) = inner else {
                                return Err(at(format!("{} is not a list", what("ports"))));
                            };
                            let mut ports = Vec::new();
                            for entry in list {
                                ports.extend(
                                    parse_port(entry, lookup)
                                        .map_err(|e| at(format!("{}: {e}", what("ports"))))?,
                                );
                            }
                            let mode = if tag == Some("override") {
                                Mode::Override
                            } else {
                                Mode::Append
                            };
                            Some((mode, ports))
                        }
                    }
                }
            };
            let profiles = match get(def, "profiles").map(untag) {
                Some((Some(t), _)) if t == "reset" => Field::Reset,
                Some((_, Value::Sequence(list))) => {
                    Field::Set(list.iter().filter_map(scalar).collect())
                }
                _ => Field::Unset,
            };
            let extends = match get(def, "extends").map(|v| untag(v).1) {
                Some(Value::String(s)) => Some((None, s.clone())),
                Some(m @ Value::Mapping(_)) => get(m, "service")
                    .and_then(scalar)
                    .map(|s| (get(m, "file").and_then(scalar), s)),
                _ => None,
            };
            out.services.insert(
                name,
                Layer {
                    container_name,
                    ports,
                    profiles,
                    extends,
                },
            );
        }
    }
    for (section, into) in [
        ("volumes", &mut out.volumes),
        ("networks", &mut out.networks),
    ] {
        if let Some(Value::Mapping(list)) = get(doc, section).map(|v| untag(v).1) {
            for (key, def) in list {
                let Some(key) = scalar(key) else { continue };
                let name = text_field(get(def, "name"), lookup, &format!("{section}.{key}.name"))
                    .map_err(at)?;
                let external = get(def, "external").map(|e| match untag(e).1 {
                    Value::Bool(b) => *b,
                    // The old `external: {name: …}` form.
                    Value::Mapping(_) => true,
                    other => scalar(other).is_some_and(|s| s == "true"),
                });
                into.insert(key, (name, external));
            }
        }
    }
    Ok(out)
}

/// Each service that `extends` another gets that one's definition under its own.
fn resolve_extends(
    path: &Path,
    mut layers: FileLayers,
    lookup: Lookup,
    depth: usize,
) -> Result<FileLayers, String> {
    let names: Vec<String> = layers.services.keys().cloned().collect();
    let mut sources = Vec::new();
    for name in names {
        let mut chain = Vec::new();
        let resolved = extended(
            path,
            &layers,
            &name,
            lookup,
            depth,
            &mut chain,
            &mut sources,
        )?;
        layers.services.insert(name, resolved);
    }
    add_sources(&mut layers.sources, sources);
    Ok(layers)
}

/// `name`'s layer with what it extends under it (`chain` holds the services on the way; the
/// other files read go into `sources`).
fn extended(
    path: &Path,
    layers: &FileLayers,
    name: &str,
    lookup: Lookup,
    depth: usize,
    chain: &mut Vec<String>,
    sources: &mut Vec<PathBuf>,
) -> Result<Layer, String> {
    let Some(layer) = layers.services.get(name).cloned() else {
        return Err(format!(
            "{}: extends names service {name}, which it does not define",
            path.display()
        ));
    };
    let Some((file, base)) = layer.extends.clone() else {
        return Ok(layer);
    };
    if chain.contains(&name.to_string()) || chain.len() > MAX_DEPTH {
        return Err(format!(
            "{}: services.{name} extends itself through {}",
            path.display(),
            chain.join(" → ")
        ));
    }
    chain.push(name.to_string());
    let under = match file {
        None => extended(path, layers, &base, lookup, depth, chain, sources)?,
        Some(file) => {
            let other = path.parent().unwrap_or(Path::new(".")).join(file);
            let other_layers = read_file(&other, lookup, depth + 1)?;
            add_sources(sources, other_layers.sources.clone());
            extended(
                &other,
                &other_layers,
                &base,
                lookup,
                depth + 1,
                &mut Vec::new(),
                sources,
            )?
        }
    };
    Ok(stack(under, layer))
}

/// `over` applied over `under`, as a later file's service applies over an earlier one's.
fn stack(under: Layer, over: Layer) -> Layer {
    let field = |u: Field<String>, o: Field<String>| match o {
        Field::Unset => u,
        o => o,
    };
    let ports = match (under.ports, over.ports) {
        (u, None) => u,
        (Some((mode, mut list)), Some((Mode::Append, more))) => {
            list.extend(
                more.into_iter()
                    .filter(|p| !list.contains(p))
                    .collect::<Vec<_>>(),
            );
            Some((mode, list))
        }
        (_, o) => o,
    };
    Layer {
        container_name: field(under.container_name, over.container_name),
        ports,
        profiles: match over.profiles {
            Field::Unset => under.profiles,
            o => o,
        },
        extends: None,
    }
}

/// `over` (a later file, or a file over what it includes) merged into `into`.
/// `more` after `list`, without repeats.
fn add_sources(list: &mut Vec<PathBuf>, more: Vec<PathBuf>) {
    for p in more {
        if !list.contains(&p) {
            list.push(p);
        }
    }
}

fn merge_layers(into: &mut FileLayers, over: FileLayers) {
    add_sources(&mut into.sources, over.sources);
    if over.name.is_some() {
        into.name = over.name;
    }
    for (name, layer) in over.services {
        // A service keeps its place: the first file that defines it gives it.
        match into.services.get_mut(&name) {
            Some(under) => *under = stack(under.clone(), layer),
            None => {
                into.services.insert(name, layer);
            }
        }
    }
    for (into, over) in [
        (&mut into.volumes, over.volumes),
        (&mut into.networks, over.networks),
    ] {
        for (key, (name, external)) in over {
            let entry = into.entry(key).or_insert((Field::Unset, None));
            if name != Field::Unset {
                entry.0 = name;
            }
            if external.is_some() {
                entry.1 = external;
            }
        }
    }
}

/// The merged layers of every file as the model they make.
fn into_model(layers: FileLayers) -> Model {
    let text = |f: Field<String>| match f {
        Field::Set(t) => Some(t),
        Field::Unset | Field::Reset => None,
    };
    let resources = |list: IndexMap<String, (Field<String>, Option<bool>)>| {
        list.into_iter()
            .map(|(key, (name, external))| {
                let r = Resource {
                    name: text(name),
                    external: external.unwrap_or(false),
                };
                (key, r)
            })
            .collect()
    };
    Model {
        name: layers.name,
        services: layers
            .services
            .into_iter()
            .map(|(name, layer)| {
                let service = Service {
                    container_name: text(layer.container_name),
                    ports: layer.ports.map(|(_, list)| list).unwrap_or_default(),
                    profiles: match layer.profiles {
                        Field::Set(p) => p,
                        Field::Unset | Field::Reset => Vec::new(),
                    },
                };
                (name, service)
            })
            .collect(),
        volumes: resources(layers.volumes),
        networks: resources(layers.networks),
        sources: layers.sources,
    }
}

/// One `ports` entry: the short syntax (`"127.0.0.1:8000:80"`, `"${DEV_PORT:-8080}:80"`,
/// `"7000-7001:7000-7001/udp"`, `5432`) or the long one (`target:`, `published:`, `host_ip:`).
fn parse_port(entry: &Value, lookup: Lookup) -> Result<Option<Port>, String> {
    let entry = untag(entry).1;
    if let Value::Mapping(_) = entry {
        let target = get(entry, "target")
            .and_then(scalar)
            .ok_or("an entry has no target")?;
        let text = |key: &str| {
            get(entry, key)
                .and_then(scalar)
                .and_then(|s| interpolate(&s, lookup))
                .filter(|s| !s.is_empty())
        };
        let published = match get(entry, "published").and_then(scalar) {
            Some(raw) => published(&raw, lookup)?,
            None => None,
        };
        return Ok(Some(Port {
            host_ip: text("host_ip"),
            published,
            target: interpolate(&target, lookup).unwrap_or(target),
            protocol: text("protocol"),
        }));
    }
    let Some(raw) = scalar(entry) else {
        return Err("an entry is neither a text nor a mapping".into());
    };
    let parts = split_colons(&raw);
    let (host_ip, raw_published, raw_target) = match parts.as_slice() {
        [target] => (None, None, *target),
        [published, target] => (None, Some(*published), *target),
        [ip @ .., published, target] => (Some(ip.join(":")), Some(*published), *target),
        [] => return Err(format!("{raw:?} is empty")),
    };
    let target = interpolate(raw_target, lookup).ok_or_else(|| unset(&raw))?;
    let (target, protocol) = match target.split_once('/') {
        Some((t, p)) => (t.to_string(), Some(p.to_string())),
        None => (target, None),
    };
    let host_ip = match host_ip {
        Some(ip) => interpolate(&ip, lookup)
            .ok_or_else(|| unset(&raw))
            .map(|ip| ip.trim_start_matches('[').trim_end_matches(']').to_string())
            .map(|ip| Some(ip).filter(|i| !i.is_empty()))?,
        None => None,
    };
    let published = match raw_published {
        Some(p) => published(p, lookup)?,
        None => None,
    };
    Ok(Some(Port {
        host_ip,
        published,
        target,
        protocol,
    }))
}

fn unset(raw: &str) -> String {
    format!("a variable in {raw:?} is required and not set")
}

/// A published part: `8080`, `8000-8001`, `${DEV_PORT:-8080}`; empty is Docker's choice.
fn published(raw: &str, lookup: Lookup) -> Result<Option<Published>, String> {
    let value = interpolate(raw, lookup).ok_or_else(|| unset(raw))?;
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let (lo, hi) = value.split_once('-').unwrap_or((value, value));
    let port = |s: &str| {
        s.trim()
            .parse::<u16>()
            .map_err(|_| format!("{raw:?} is not a port ({value:?})"))
    };
    let (lo, hi) = (port(lo)?, port(hi)?);
    Ok(Some(Published {
        lo,
        hi: hi.max(lo),
        var: sole_variable(raw).map(str::to_string),
    }))
}

/// `raw` split at its colons, except those inside `${…}` or an IPv6 address's `[…]`.
fn split_colons(raw: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut bracket, mut start) = (0usize, false, 0);
    let bytes = raw.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b'[' if depth == 0 => bracket = true,
            b']' if depth == 0 => bracket = false,
            b':' if depth == 0 && !bracket => {
                parts.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&raw[start..]);
    parts
}

/// Compose's rule for a project name: lower case, letters, digits, `-` and `_`, starting with
/// a letter or digit (a directory `My App` is project `myapp`).
pub fn normalize_project_name(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    kept.trim_start_matches(['-', '_']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn port(raw: &str) -> Port {
        parse_port(&Value::String(raw.into()), &no_env)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn short_syntax_forms() {
        let p = port("127.0.0.1:5432:5432");
        assert_eq!(p.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(p.published.unwrap().lo, 5432);
        let p = port("${DEV_PORT:-8080}:80");
        let published = p.published.unwrap();
        assert_eq!(
            (published.lo, published.var.as_deref()),
            (8080, Some("DEV_PORT"))
        );
        assert_eq!(p.target, "80");
        let p = port("7000-7001:7000-7001/udp");
        let published = p.published.unwrap();
        assert_eq!((published.lo, published.hi), (7000, 7001));
        assert_eq!(p.protocol.as_deref(), Some("udp"));
        assert_eq!(port("5432").published, None);
        let p = port("[::1]:6000:6000");
        assert_eq!(p.host_ip.as_deref(), Some("::1"));
        assert!(parse_port(&Value::String("x:80".into()), &no_env).is_err());
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn later_files_merge_as_compose_merges_them() {
        let dir = tempfile::tempdir().unwrap();
        let base = write(
            dir.path(),
            "compose.yaml",
            "x-db: &db\n  container_name: database\nservices:\n  db:\n    <<: *db\n    ports: [\"54320:5432\"]\n  web:\n    ports:\n      - target: 80\n        published: 8000\nvolumes:\n  data:\n    name: documenso-data\n  shared:\n    external: true\n",
        );
        let over = write(
            dir.path(),
            "compose.override.yaml",
            "services:\n  db:\n    container_name: !reset null\n    ports: !override\n      - \"54828:5432\"\n  web:\n    ports: [\"8001:81\"]\nvolumes:\n  data:\n    name: !reset null\n",
        );
        assert_eq!(
            discover(dir.path(), &no_env),
            vec![base.clone(), over.clone()]
        );
        let model = load(std::slice::from_ref(&base), &no_env).unwrap();
        assert_eq!(
            model.services["db"].container_name.as_deref(),
            Some("database")
        );
        assert_eq!(
            model.volumes["data"].name.as_deref(),
            Some("documenso-data")
        );
        assert!(model.volumes["shared"].external);
        let model = load(&[base, over], &no_env).unwrap();
        let db = &model.services["db"];
        assert_eq!(db.container_name, None);
        assert_eq!(db.ports.len(), 1);
        assert_eq!(db.ports[0].published.as_ref().unwrap().lo, 54828);
        assert_eq!(model.services["web"].ports.len(), 2);
        assert_eq!(model.volumes["data"].name, None);
    }

    #[test]
    fn include_and_extends_bring_their_services() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "sub/compose.yaml",
            "services:\n  cache:\n    container_name: cache\n    ports: [\"${CACHE_PORT:-6379}:6379\"]\n",
        );
        write(dir.path(), "sub/.env", "CACHE_PORT=1111\n");
        write(
            dir.path(),
            "common.yaml",
            "services:\n  base:\n    ports: [\"9000:9000\"]\n",
        );
        let main = write(
            dir.path(),
            "compose.yaml",
            "include:\n  - sub/compose.yaml\nservices:\n  minio:\n    extends:\n      file: common.yaml\n      service: base\n    ports: [\"9001:9001\"]\n  again:\n    extends: minio\n",
        );
        let model = load(&[main], &no_env).unwrap();
        let cache = &model.services["cache"].ports[0];
        assert_eq!(cache.published.as_ref().unwrap().lo, 1111);
        let minio: Vec<u16> = model.services["minio"]
            .ports
            .iter()
            .map(|p| p.published.as_ref().unwrap().lo)
            .collect();
        assert_eq!(minio, [9000, 9001]);
        assert_eq!(model.services["again"].ports.len(), 2);
    }

    #[test]
    fn a_broken_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(dir.path(), "compose.yaml", "services: [\n");
        let err = load(&[f], &no_env).unwrap_err();
        assert!(err.contains("compose.yaml"), "{err}");
        let f = write(dir.path(), "loop.yaml", "include:\n  - loop.yaml\n");
        assert!(load(&[f], &no_env).unwrap_err().contains("nested"));
    }

    #[test]
    fn project_names_as_compose_normalizes_them() {
        assert_eq!(normalize_project_name("My App"), "myapp");
        assert_eq!(normalize_project_name("_x-Y.z"), "x-yz");
    }
}
