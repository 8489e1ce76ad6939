//! What a project's services are: from `.atlas.toml`, and from every `*PORT*` variable and local
//! connection URL of `.env`, with the labels people know them by.

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::files::dburl;
use crate::files::dotenv::DotEnv;
use crate::files::template;
use crate::ports::alloc::Need;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Registry key and template name: `vite` → `${ALLOCATED_VITE_PORT}`.
    pub key: String,
    pub label: String,
    pub base: u16,
    pub range: (u16, u16),
    /// `.env` variables holding this port.
    pub vars: Vec<String>,
    /// `.env` variables holding a local endpoint on this port: a connection URL, a `host:port`,
    /// a list of them (a variable with several ports is in each port's service).
    pub urls: Vec<String>,
    /// Variables a compose file publishes this port through (`${DEV_PORT:-8080}:80`): they
    /// hold its port whatever they held, as the ones `.atlas.toml` binds do.
    pub published: Vec<String>,
}

impl Service {
    pub fn need(&self) -> Need {
        Need {
            key: self.key.clone(),
            base: self.base,
            range: self.range,
        }
    }

    /// The template placeholder for this service's port.
    pub fn placeholder(&self) -> String {
        format!("ALLOCATED_{}_PORT", self.key.to_ascii_uppercase())
    }
}

/// The seed's default ranges for the range strategy, by service name.
const DEFAULT_RANGES: &[(&str, u16, u16)] = &[
    ("web", 8080, 8099),
    ("db", 5432, 5439),
    ("test", 9000, 9099),
    ("debug", 5555, 5564),
    ("api", 3000, 3099),
];

/// English words that contain PORT without being about ports.
const PORT_WORDS: &[&str] = &[
    "SUPPORT",
    "REPORT",
    "TRANSPORT",
    "IMPORT",
    "EXPORT",
    "PASSPORT",
    "AIRPORT",
    "SPORT",
    "VIEWPORT",
    "DEPORT",
    "PORTAL",
    "PORTFOLIO",
    "PORTRAIT",
    "PORTION",
    "PORTABLE",
    "OPPORTUN",
    "PROPORTION",
];

/// Does this variable name speak of a port (`VITE_PORT`, `PGPORT`, `PORT`), rather than merely
/// contain the letters (`SUPPORT_EMAIL`, `TRANSPORT`)?
pub fn names_a_port(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.match_indices("PORT").any(|(at, _)| {
        !PORT_WORDS.iter().any(|word| {
            let offset = word.find("PORT").expect("every word contains PORT");
            at >= offset && upper[at - offset..].starts_with(word)
        })
    })
}

/// Determine the services of a project from its configuration and its `.env` (if any).
pub fn detect(config: &Config, env: Option<&DotEnv>, env_name: &str) -> Result<Vec<Service>> {
    detect_all(config, env.map(|e| (e, env_name)), &[])
}

/// Determine the services of a project from its configuration and its env files (each parsed,
/// with the name errors give it): the env source (`[env] source`), if there is one, and the
/// others. One port is one service whichever files mention it: `http://localhost:8000` in
/// `apps/web/.env` and `PORT=8000` in `apps/api/.env` are the API's. A service's `vars` and
/// `urls` are the env source's; the other files' variables are rewritten by their values
/// (`generate::PortMap`), and a service one of them names first is named after its folder.
pub fn detect_all(
    config: &Config,
    primary: Option<(&DotEnv, &str)>,
    others: &[(&DotEnv, &str, &str)],
) -> Result<Vec<Service>> {
    let mut services = Vec::new();
    for (name, sc) in &config.services {
        let key = service_key(name);
        let range = match &sc.range {
            Some(r) => config::parse_range(r).map_err(Error::failed)?,
            None => default_range(&key, sc.port.map(|p| p as u16).unwrap_or(1)),
        };
        let base = sc.port.map_or(range.0, |p| p as u16);
        let mut vars = sc.env.clone();
        if vars.is_empty() {
            vars.push(format!(
                "{}_PORT",
                name.to_ascii_uppercase().replace('-', "_")
            ));
        }
        let label = sc
            .label
            .clone()
            .unwrap_or_else(|| label_for_stem(&name.to_ascii_uppercase()));
        services.push(Service {
            key,
            label,
            base,
            range,
            vars,
            urls: Vec::new(),
            published: Vec::new(),
        });
    }
    let declared = declared_vars(config);
    if let Some((env, env_name)) = primary {
        detect_in(config, &mut services, &declared, env, env_name, true, None)?;
    }
    for (env, env_name, rel) in others {
        // A file in a folder of its own (`apps/api/.env`) names what it first mentions.
        let folder = std::path::Path::new(rel)
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        detect_in(
            config,
            &mut services,
            &declared,
            env,
            env_name,
            false,
            folder,
        )?;
    }
    // Configured services that no variable mentions keep their defaults; drop the default
    // `<NAME>_PORT` binding when that variable does not exist so it is not reported as written.
    let primary = primary.map(|(env, _)| env);
    for s in &mut services {
        s.vars
            .retain(|v| primary.is_some_and(|env| env.get(v).is_some()));
    }
    Ok(services)
}

/// The variables `.atlas.toml` binds to its services (`[services.x] env`, by default
/// `X_PORT`): they hold that service's port whatever they hold in the env files.
pub fn declared_vars(config: &Config) -> Vec<String> {
    declared_bindings(config)
        .into_iter()
        .map(|(var, _)| var)
        .collect()
}

/// [`declared_vars`], each with the key of its service.
pub fn declared_bindings(config: &Config) -> Vec<(String, String)> {
    config
        .services
        .iter()
        .flat_map(|(name, sc)| {
            let vars = if sc.env.is_empty() {
                vec![format!(
                    "{}_PORT",
                    name.to_ascii_uppercase().replace('-', "_")
                )]
            } else {
                sc.env.clone()
            };
            vars.into_iter().map(|v| (v, service_key(name)))
        })
        .collect()
}

/// The services one env file adds, or adds variables to: the `[env] source` (`primary`), or
/// another file, in `folder` when it is in one of its own.
#[allow(clippy::too_many_arguments)]
fn detect_in(
    config: &Config,
    services: &mut Vec<Service>,
    declared: &[String],
    env: &DotEnv,
    env_name: &str,
    primary: bool,
    folder: Option<String>,
) -> Result<()> {
    let shared = shared_server_ports(config, env);
    // A service that a file other than the primary one is first to name takes the name of that
    // file's folder when its variable says none (`PORT` in `apps/api/.env` is the API's).
    let folder = folder.map(|n| n.to_ascii_uppercase().replace(['-', '.', ' '], "_"));
    // A value's second and later new services are `<key>_2`, `<key>_3` (`nth`).
    let naming = |stem: String, var: &str, services: &[Service], nth: usize| -> (String, String) {
        let stem = match &folder {
            Some(f) if stem.is_empty() => f.clone(),
            _ => stem,
        };
        let fallback = folder
            .as_ref()
            .map_or_else(|| var.to_string(), |f| format!("{f}_{var}"));
        let key = nth_key(&key_for_stem(&stem), nth);
        (unique_key(services, &key, &fallback), stem)
    };
    for var in env.vars() {
        // A key assigned twice takes its last value, as dotenv loaders do.
        let last = env
            .vars()
            .filter(|v| v.key == var.key)
            .last()
            .map(|v| v.line);
        if config.env.ignore.iter().any(|i| i == &var.key) || last != Some(var.line) {
            continue;
        }
        if shared.iter().any(|(key, _)| key == &var.key) {
            continue;
        }
        let claimed = if primary {
            services.iter().any(|s| s.vars.contains(&var.key))
        } else {
            declared.contains(&var.key)
        };
        if names_a_port(&var.key) {
            let Some(base) = port_value(&var.value).map_err(|m| {
                Error::failed(format!("{env_name}:{}: {}: {m}", var.line, var.key)).hint(fix_hint(
                    &format!("set {} in {env_name}", var.key),
                    &var.key,
                ))
            })?
            else {
                continue;
            };
            if claimed || !own_port(env, &var.key, base, declared, &shared) {
                continue;
            }
            if let Some(s) = services.iter_mut().find(|s| s.base == base) {
                if primary {
                    s.vars.push(var.key.clone());
                }
            } else if config.env.auto_detect {
                let (key, stem) = naming(port_stem(&var.key), &var.key, services, 0);
                services.push(Service {
                    range: default_range(&key, base),
                    key,
                    label: label_for_stem(&stem),
                    base,
                    vars: if primary {
                        vec![var.key.clone()]
                    } else {
                        Vec::new()
                    },
                    urls: Vec::new(),
                    published: Vec::new(),
                });
            }
        } else if let endpoints @ [_, ..] = dburl::local_endpoints(&var.value).as_slice() {
            // Each port of the value is a service of its own, as separate variables' ports are;
            // a privileged one is a container's or a proxy's (see PRIVILEGED_BELOW).
            let mut made = 0;
            for endpoint in endpoints.iter().filter(|e| e.port >= PRIVILEGED_BELOW) {
                if let Some(s) = services.iter_mut().find(|s| s.base == endpoint.port) {
                    if primary && !s.urls.contains(&var.key) {
                        s.urls.push(var.key.clone());
                    }
                } else if config.env.auto_detect {
                    let (key, stem) = naming(url_stem(&var.key), &var.key, services, made);
                    made += 1;
                    let label = endpoint
                        .scheme
                        .as_deref()
                        .and_then(dburl::scheme_label)
                        .map_or_else(|| label_for_stem(&stem), str::to_string);
                    services.push(Service {
                        range: default_range(&key, endpoint.port),
                        key,
                        label,
                        base: endpoint.port,
                        vars: Vec::new(),
                        urls: if primary {
                            vec![var.key.clone()]
                        } else {
                            Vec::new()
                        },
                        published: Vec::new(),
                    });
                }
            }
        } else if let Some(bad) = dburl::invalid_local_port(&var.value) {
            // The URL is not shown: it may hold a password.
            return Err(Error::failed(format!(
                "{env_name}:{}: {}: the URL's port {} (on {}) is not a valid port (1-65535)",
                var.line, var.key, bad.port, bad.host
            ))
            .hint(fix_hint(
                &format!("change the port of the URL in {} in {env_name}", var.key),
                &var.key,
            )));
        }
    }
    Ok(())
}

/// A shared database server (`[database] shared_server`) keeps the main's port in every
/// worktree: its URLs (PostgreSQL's, MySQL's, Redis's), and port variables with its port, are no
/// service of the worktree's.
/// The variables of `env` that name such a server, with its port.
pub fn shared_server_ports(config: &Config, env: &DotEnv) -> Vec<(String, u16)> {
    if !config.database.shared_server {
        return Vec::new();
    }
    let databases = env
        .vars()
        .filter(|v| config.database.allows(&v.key))
        .filter_map(|v| match crate::db::url::parse(&v.value)? {
            crate::db::url::Parsed::Server { server, .. } => Some((v.key.clone(), server.port)),
            crate::db::url::Parsed::File { .. } => None,
        });
    // A database set by variables of its own keeps its port variable's value (`DB_PORT`).
    let splits = crate::files::dbvars::split_databases(env)
        .into_iter()
        .filter(|s| config.database.allows(&s.name_var))
        .filter_map(|s| {
            let var = s.port_var?;
            let port = env.get(&var)?.trim().parse().ok()?;
            Some((var, port))
        });
    // Redis too: every worktree gets database indexes of its own there instead.
    let redis = env.vars().filter_map(|v| {
        let url = crate::db::redis::RedisUrl::parse_local(&v.value)?;
        Some((v.key.clone(), url.port))
    });
    databases.chain(splits).chain(redis).collect()
}

/// Ports below this one need privileges to bind: a variable that holds one (`LISTEN_HTTP_PORT=80`,
/// a container's port, a proxy's) is no service of the worktree's unless `.atlas.toml` declares
/// it, and keeps its value.
pub const PRIVILEGED_BELOW: u16 = 1024;

/// Whether `key` (a `*PORT*` variable of `env` holding `port`) is a port of this machine that a
/// worktree gets its own of: not a shared server's (`shared`, [`shared_server_ports`]), not a
/// privileged one nobody declared, and not one whose paired host variable (`DB_HOST` for
/// `DB_PORT`, `PGHOST` for `PGPORT`, `SMTP_SERVER` for `SMTP_PORT`) names another machine or a
/// Compose service (`DB_HOST=db`, `REDIS_HOST="plane-redis"`, `MAIL_HOST=smtp.mailgun.org`):
/// that port is on another host and stays as it is. Detection and the rewrite ask the same.
pub fn own_port(
    env: &DotEnv,
    key: &str,
    port: u16,
    declared: &[String],
    shared: &[(String, u16)],
) -> bool {
    if shared.iter().any(|(_, p)| *p == port) {
        return false;
    }
    if declared.iter().any(|d| d == key) {
        return true;
    }
    port >= PRIVILEGED_BELOW && paired_host(env, key).is_none_or(dburl::is_local)
}

/// The value of the host variable paired with port variable `key`, if `env` has one that says
/// something (not empty, not an interpolation).
fn paired_host<'a>(env: &'a DotEnv, key: &str) -> Option<&'a str> {
    let upper = key.to_ascii_uppercase();
    let at = upper.rfind("PORT")?;
    let (prefix, suffix) = (&key[..at], &key[at + 4..]);
    ["HOST", "HOSTNAME", "SERVER", "ADDR", "ADDRESS"]
        .iter()
        .flat_map(|h| {
            // Keep the variable's own case: `db_port` pairs with `db_host`.
            let h = if key[at..at + 4] == *"PORT" {
                h.to_string()
            } else {
                h.to_ascii_lowercase()
            };
            [format!("{prefix}{h}{suffix}")]
        })
        .find_map(|name| env.get(&name))
        .map(str::trim)
        .filter(|h| !h.is_empty() && !h.contains('$'))
}

/// A `*PORT*` variable's value as a port. `Ok(None)` for a value that is no number at all (a
/// word such as `EXPOSE_PORTS=true`, an interpolation such as `${PORT}`, an empty value): there
/// is nothing to shift, and it is left as it is. A value written as a number that is no port
/// (`-1`, `0`, `70000`, `3000.5`, `0x1F90`) is an error: shifting it is impossible, and copying
/// it unchanged would give every worktree the same, broken, value.
pub fn port_value(value: &str) -> std::result::Result<Option<u16>, String> {
    let text = value.trim();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(port) if digits.len() == text.len() => config::check_port(port).map(Some),
        _ => Err(format!("{text} is not a valid port (1-65535)")),
    }
}

/// What to do about a variable whose port git-atlas cannot shift: `fix` says how to correct it.
fn fix_hint(fix: &str, var: &str) -> String {
    format!(
        "{fix} to a port from 1 to 65535, or, if git-atlas should leave {var} alone, list it in .atlas.toml:\n  [env]\n  ignore = [\"{var}\"]"
    )
}

/// Add the services that template placeholders `${ALLOCATED_<NAME>_PORT}` name and nothing else
/// declares: the seed's web, db, test, debug and api, with their default ranges (the base port is
/// the range's start). `templates` holds each template's file name and text. Any other name is
/// an error naming the file and line, and saying how to declare it.
/// A host port a Compose project publishes: its Compose service, the port, and the variable it
/// is published through, if one.
pub struct Published<'a> {
    pub service: &'a str,
    pub port: u16,
    pub var: Option<&'a str>,
}

/// Each host port the project's Compose files publish is a service's: the one whose base port
/// it is (a URL or a `*_PORT` pointing at it) or whose variable it is published through, else
/// a new one named after the Compose service (`database`; `minio_9001` for its second port).
pub fn declare_from_compose(services: &mut Vec<Service>, published: &[Published]) {
    for p in published {
        let owner = services
            .iter()
            .position(|s| s.base == p.port || p.var.is_some_and(|v| s.vars.iter().any(|x| x == v)));
        let at = match owner {
            Some(at) => at,
            None => {
                let mut key = service_key(p.service);
                if services.iter().any(|s| s.key == key) {
                    key = format!("{key}_{}", p.port);
                }
                services.push(Service {
                    label: label_for_stem(&p.service.to_ascii_uppercase().replace('-', "_")),
                    range: default_range(&key, p.port),
                    key,
                    base: p.port,
                    vars: Vec::new(),
                    urls: Vec::new(),
                    published: Vec::new(),
                });
                services.len() - 1
            }
        };
        if let Some(var) = p.var {
            let s = &mut services[at];
            if !s.published.iter().any(|v| v == var) {
                s.published.push(var.to_string());
            }
        }
    }
}

pub fn declare_from_templates(
    services: &mut Vec<Service>,
    templates: &[(String, String)],
) -> Result<()> {
    for (file, text) in templates {
        for name in template::placeholders(text) {
            let Some(stem) = name
                .strip_prefix("ALLOCATED_")
                .and_then(|n| n.strip_suffix("_PORT"))
                .filter(|n| !n.is_empty())
            else {
                continue;
            };
            if services.iter().any(|s| s.placeholder() == name) {
                continue;
            }
            let key = service_key(stem);
            let Some(&(_, lo, hi)) = DEFAULT_RANGES.iter().find(|(n, _, _)| *n == key) else {
                let line = template::line_of(text, &name).unwrap_or(1);
                let defaults: Vec<&str> = DEFAULT_RANGES.iter().map(|(n, _, _)| *n).collect();
                let known: Vec<String> = services
                    .iter()
                    .map(|s| format!("${{{}}}", s.placeholder()))
                    .collect();
                let mut err = Error::usage(format!(
                    "{file}:{line}: unknown placeholder ${{{name}}}: no service '{key}' in .atlas.toml or .env, and only {} have defaults",
                    defaults.join(", ")
                ))
                .hint(format!(
                    "declare it in .atlas.toml:\n  [services.{key}]\n  port = 4000\n  range = \"4000-4099\""
                ));
                if !known.is_empty() {
                    err = err.hint(format!("known port placeholders: {}", known.join(", ")));
                }
                return Err(err);
            };
            services.push(Service {
                label: label_for_stem(&stem.to_ascii_uppercase()),
                key,
                base: lo,
                range: (lo, hi),
                vars: Vec::new(),
                urls: Vec::new(),
                published: Vec::new(),
            });
        }
    }
    Ok(())
}

fn default_range(key: &str, base: u16) -> (u16, u16) {
    DEFAULT_RANGES
        .iter()
        .find(|(name, lo, hi)| *name == key && (*lo..=*hi).contains(&base))
        .map_or((base, base.saturating_add(99)), |&(_, lo, hi)| (lo, hi))
}

/// `VITE_PORT` → `VITE`, `PORT_API` → `API`, `PGPORT` → `PG`, `PORT` → ``.
fn port_stem(var: &str) -> String {
    let upper = var.to_ascii_uppercase();
    let stem = if let Some(s) = upper.strip_suffix("_PORT") {
        s.to_string()
    } else if let Some(s) = upper.strip_prefix("PORT_") {
        s.to_string()
    } else if let Some(s) = upper.strip_suffix("PORT") {
        s.to_string()
    } else {
        upper.replacen("PORT", "", 1)
    };
    stem.trim_matches('_').to_string()
}

/// `DATABASE_URL` → `DATABASE`, `REDIS_URI` → `REDIS`; a bundler's prefix for variables it
/// exposes to the browser and a `_BASE` say nothing of the service: `VITE_API_BASE_URL` and
/// `NEXT_PUBLIC_API_URL` → `API`.
fn url_stem(var: &str) -> String {
    let upper = var.to_ascii_uppercase();
    let stem = ["_URL", "_URI", "_DSN", "URL"]
        .iter()
        .find_map(|s| upper.strip_suffix(s))
        .unwrap_or(&upper)
        .trim_matches('_');
    let stem = [
        "VITE_",
        "NEXT_PUBLIC_",
        "REACT_APP_",
        "NUXT_PUBLIC_",
        "PUBLIC_",
    ]
    .iter()
    .find_map(|p| stem.strip_prefix(p))
    .unwrap_or(stem);
    let stem = ["_BASE", "_ENDPOINT"]
        .iter()
        .find_map(|s| stem.strip_suffix(s))
        .unwrap_or(stem);
    stem.trim_matches('_').to_string()
}

fn key_for_stem(stem: &str) -> String {
    if stem.is_empty() {
        "app".into()
    } else {
        service_key(stem)
    }
}

fn service_key(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() {
        "service".into()
    } else {
        key
    }
}

/// `key`, else the variable's own key, else that with the first free `_2`, `_3`…
fn unique_key(services: &[Service], key: &str, var: &str) -> String {
    let taken = |k: &str| services.iter().any(|s| s.key == k);
    if !taken(key) {
        return key.to_string();
    }
    let own = service_key(var);
    if !taken(&own) {
        return own;
    }
    (2..)
        .map(|n| format!("{own}_{n}"))
        .find(|k| !taken(k))
        .expect("a number is free")
}

/// The key of the `nth` (from 0) service one variable makes: `kafka`, `kafka_2`, `kafka_3`…
fn nth_key(key: &str, nth: usize) -> String {
    if nth == 0 {
        key.to_string()
    } else {
        format!("{key}_{}", nth + 1)
    }
}

/// Known names get the labels people use; others are derived: `MY_CUSTOM_SERVICE` → "My Custom Service".
pub fn label_for_stem(stem: &str) -> String {
    let known = match stem {
        "" | "APP" => "App",
        "VITE" => "Vite",
        "WEBPACK" | "WEBPACK_DEV" => "Webpack",
        "NEXT" | "NEXTJS" => "Next.js",
        "EXPRESS" => "Express",
        "API" => "API",
        "WEB" => "Web",
        "DB" | "DATABASE" => "Database",
        "PG" | "POSTGRES" | "POSTGRESQL" => "PostgreSQL",
        "REDIS" => "Redis",
        "MYSQL" => "MySQL",
        "MARIADB" => "MariaDB",
        "MONGO" | "MONGODB" => "MongoDB",
        "RABBITMQ" | "AMQP" => "RabbitMQ",
        "ELASTICSEARCH" | "ES" => "Elasticsearch",
        "STORYBOOK" => "Storybook",
        "HMR" => "HMR",
        "WS" | "WEBSOCKET" => "WebSocket",
        "FASTAPI" => "FastAPI",
        "DJANGO" => "Django",
        "RAILS" => "Rails",
        "FLASK" => "Flask",
        "SMTP" | "MAIL" | "MAILHOG" | "MAILPIT" => "Mail",
        "S3" | "AWS_S3" | "MINIO" => "S3",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    stem.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {

    #[test]
    fn seed_placeholders_declare_web_db_test_with_default_ranges() {
        let mut services = Vec::new();
        let text = "p: ${ALLOCATED_WEB_PORT}\nq: ${ALLOCATED_DB_PORT} $${ALLOCATED_X_PORT}\nr: ${ALLOCATED_TEST_PORT} ${WORKTREE_NAME}\n";
        declare_from_templates(&mut services, &[("t".into(), text.into())]).unwrap();
        let got: Vec<(&str, u16, (u16, u16))> = services
            .iter()
            .map(|s| (s.key.as_str(), s.base, s.range))
            .collect();
        assert_eq!(
            got,
            [
                ("web", 8080, (8080, 8099)),
                ("db", 5432, (5432, 5439)),
                ("test", 9000, (9000, 9099))
            ]
        );
    }

    #[test]
    fn a_declared_service_wins_and_an_unknown_name_is_an_error_with_its_line() {
        let mut services = vec![Service {
            key: "web".into(),
            label: "Web".into(),
            base: 3000,
            range: (3000, 3099),
            vars: vec![],
            urls: vec![],
            published: vec![],
        }];
        declare_from_templates(
            &mut services,
            &[("t".into(), "${ALLOCATED_WEB_PORT}".into())],
        )
        .unwrap();
        assert_eq!(services.len(), 1);
        let err = declare_from_templates(
            &mut services,
            &[("f.yml".into(), "a\nb: ${ALLOCATED_MY_THING_PORT}\n".into())],
        )
        .unwrap_err();
        assert!(
            err.message.starts_with(
                "f.yml:2: unknown placeholder ${ALLOCATED_MY_THING_PORT}: no service 'my_thing'"
            ),
            "{}",
            err.message
        );
        assert!(
            err.hints[0].contains("[services.my_thing]"),
            "{:?}",
            err.hints
        );
    }

    use super::*;

    /// Each service's key, label and base port.
    fn summary(services: &[Service]) -> Vec<(&str, &str, u16)> {
        services
            .iter()
            .map(|s| (s.key.as_str(), s.label.as_str(), s.base))
            .collect()
    }

    fn detect_env(text: &str) -> Vec<Service> {
        detect(
            &Config::default(),
            Some(&DotEnv::parse(text).unwrap()),
            ".env",
        )
        .unwrap()
    }

    #[test]
    fn port_words() {
        for yes in [
            "PORT",
            "VITE_PORT",
            "PGPORT",
            "port_api",
            "MY_CUSTOM_SERVICE_PORT",
            "SUPPORT_PORT",
        ] {
            assert!(names_a_port(yes), "{yes}");
        }
        for no in [
            "SUPPORT_EMAIL",
            "TRANSPORT",
            "REPORT_COUNT",
            "EXPORT_DIR",
            "VIEWPORT_WIDTH",
        ] {
            assert!(!names_a_port(no), "{no}");
        }
    }

    #[test]
    fn detects_ports_labels_and_urls() {
        let s = detect_env(
            "PORT=3000\nVITE_PORT=5173\nMY_CUSTOM_SERVICE_PORT=9000\nTRANSPORT=udp\nSUPPORT_EMAIL=a@b\n\
             DB_PORT=5432\nDATABASE_URL=postgresql://u:p@localhost:5432/myapp\nREDIS_URL=redis://localhost:6379/0\n\
             REMOTE_URL=postgresql://db.example.com:5432/x\n",
        );
        let summary = summary(&s);
        assert_eq!(
            summary,
            [
                ("app", "App", 3000),
                ("vite", "Vite", 5173),
                ("my_custom_service", "My Custom Service", 9000),
                ("db", "Database", 5432),
                ("redis", "Redis", 6379)
            ]
        );
        assert_eq!(s[3].urls, ["DATABASE_URL"]);
    }

    #[test]
    fn out_of_range_port_is_an_error_naming_the_line() {
        let e = detect(
            &Config::default(),
            Some(&DotEnv::parse("A=1\nAPI_PORT=70000\n").unwrap()),
            ".env",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains(".env:2: API_PORT: 70000 is not a valid port"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_number_that_is_no_port_is_the_same_error_whatever_it_is() {
        for (value, said) in [
            ("-1", "-1 is not a valid port (1-65535)"),
            ("0", "0 is not a valid port (1-65535)"),
            ("70000", "70000 is not a valid port (1-65535)"),
            ("99999999999", "99999999999 is not a valid port (1-65535)"),
            ("+3000", "+3000 is not a valid port (1-65535)"),
            ("3000.5", "3000.5 is not a valid port (1-65535)"),
            ("0x1F90", "0x1F90 is not a valid port (1-65535)"),
            ("\"-1\"", "-1 is not a valid port (1-65535)"),
        ] {
            let e = detect(
                &Config::default(),
                Some(&DotEnv::parse(&format!("A=1\nAPI_PORT={value}\n")).unwrap()),
                ".env",
            )
            .unwrap_err();
            assert_eq!(e.message, format!(".env:2: API_PORT: {said}"), "{value}");
            assert!(
                e.hints[0].starts_with("set API_PORT in .env to a port from 1 to 65535")
                    && e.hints[0].contains("ignore = [\"API_PORT\"]"),
                "{:?}",
                e.hints
            );
        }
        // Ignored, it is left alone.
        let mut config = Config::default();
        config.env.ignore.push("API_PORT".into());
        let env = DotEnv::parse("API_PORT=-1\n").unwrap();
        assert_eq!(detect(&config, Some(&env), ".env").unwrap(), []);
    }

    #[test]
    fn a_value_that_is_no_number_is_no_port() {
        let s = detect_env("PORT=3000\nEXPOSE_PORTS=true\nVITE_PORT=${PORT}\nDB_PORT=\n");
        let keys: Vec<_> = s.iter().map(|s| (s.key.as_str(), s.base)).collect();
        assert_eq!(keys, [("app", 3000)]);
    }

    #[test]
    fn a_local_url_whose_port_is_no_port_is_an_error_that_hides_the_url() {
        let e = detect(
            &Config::default(),
            Some(
                &DotEnv::parse("DATABASE_URL=postgresql://u:hunter2@localhost:99999/db\n").unwrap(),
            ),
            "/r/.env",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "/r/.env:1: DATABASE_URL: the URL's port 99999 (on localhost) is not a valid port (1-65535)"
        );
        assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
        assert!(
            e.hints[0].contains("ignore = [\"DATABASE_URL\"]"),
            "{:?}",
            e.hints
        );
        // Not ours to shift: left alone.
        let s = detect_env("DATABASE_URL=postgresql://u@db.example.com:99999/db\n");
        assert_eq!(s, []);
    }

    #[test]
    fn every_port_of_every_format_is_a_service() {
        let s = detect_env(
            "PORT=3000\n\
             MONGO_URL=mongodb://localhost:27017,localhost:27018/app?replicaSet=rs0\n\
             JDBC_URL=jdbc:postgresql://localhost:5432/x\n\
             ES_HOST=localhost:9200\n\
             KAFKA_BROKERS=localhost:9092,localhost:9093\n\
             CACHE=[::1]:6379\n\
             CORS_ALLOWED_ORIGINS=http://localhost:3000,http://127.0.0.1:3000\n\
             ALLOWED_ORIGINS=\"http://localhost:3000 http://localhost:5173 https://example.com\"\n\
             TIME=12:30\nCOMPOSE_DB=db:5432\nREMOTE=mongodb://localhost:27017,db.example.com:27017/app\n",
        );
        let summary = summary(&s);
        assert_eq!(
            summary,
            [
                ("app", "App", 3000),
                ("mongo", "MongoDB", 27017),
                ("mongo_2", "MongoDB", 27018),
                ("jdbc", "PostgreSQL", 5432),
                ("es_host", "Es Host", 9200),
                ("kafka_brokers", "Kafka Brokers", 9092),
                ("kafka_brokers_2", "Kafka Brokers", 9093),
                ("cache", "Cache", 6379),
                ("allowed_origins", "Allowed Origins", 5173),
            ]
        );
        let urls = |key: &str| s.iter().find(|s| s.key == key).unwrap().urls.clone();
        assert_eq!(urls("app"), ["CORS_ALLOWED_ORIGINS", "ALLOWED_ORIGINS"]);
        assert_eq!(urls("mongo"), ["MONGO_URL"]);
        assert_eq!(urls("mongo_2"), ["MONGO_URL"]);
        assert_eq!(urls("allowed_origins"), ["ALLOWED_ORIGINS"]);
    }

    #[test]
    fn ports_of_other_hosts_and_privileged_ports_are_no_services() {
        let s = detect_env(
            "DB_HOST=db\nDB_PORT=5432\nREDIS_HOST=\"plane-redis\"\nREDIS_PORT=6379\n\
             SMTP_SERVER=smtp.example.com\nSMTP_PORT=2525\nmail_host=localhost\nmail_port=1025\n\
             PGHOST=127.0.0.1\nPGPORT=5433\nES_HOST=${ES}\nES_PORT=9200\n\
             LISTEN_HTTP_PORT=80\nSITE=http://localhost:443/\n",
        );
        assert_eq!(
            summary(&s),
            [
                ("mail", "Mail", 1025),
                ("pg", "PostgreSQL", 5433),
                ("es", "Elasticsearch", 9200)
            ]
        );
        // Declared, a privileged port is a service all the same.
        let mut config = Config::default();
        config.services.insert(
            "proxy".into(),
            crate::config::ServiceConfig {
                port: Some(80),
                env: vec!["LISTEN_HTTP_PORT".into()],
                ..Default::default()
            },
        );
        let env = DotEnv::parse("LISTEN_HTTP_PORT=80\n").unwrap();
        let s = detect(&config, Some(&env), ".env").unwrap();
        assert_eq!(s[0].vars, ["LISTEN_HTTP_PORT"]);
    }

    #[test]
    fn one_port_in_several_files_is_one_service_named_after_its_folder() {
        let root = DotEnv::parse("COMPOSE_PROFILES=dev\n").unwrap();
        let web =
            DotEnv::parse("VITE_API_BASE_URL=\"http://localhost:8000\"\nPORT=3000\n").unwrap();
        let api = DotEnv::parse("PORT=8000\nWEB_URL=http://localhost:8000\n").unwrap();
        let s = detect_all(
            &Config::default(),
            Some((&root, "/m/.env")),
            &[
                (&web, "/m/apps/web/.env", "apps/web/.env"),
                (&api, "/m/apps/api/.env", "apps/api/.env"),
            ],
        )
        .unwrap();
        assert_eq!(summary(&s), [("api", "API", 8000), ("web", "Web", 3000)]);
        // Only the primary file's variables are the services' own (read back by name).
        assert!(
            s.iter().all(|s| s.vars.is_empty() && s.urls.is_empty()),
            "{s:?}"
        );
    }

    #[test]
    fn a_taken_key_gets_a_number() {
        let s = detect_env("MONGO_URL=mongodb://localhost:4001,localhost:4002,localhost:4003/x\nMONGO=localhost:4004\nMONGO_2=localhost:4005\n");
        let keys: Vec<_> = s.iter().map(|s| (s.key.as_str(), s.base)).collect();
        assert_eq!(
            keys,
            [
                ("mongo", 4001),
                ("mongo_2", 4002),
                ("mongo_3", 4003),
                ("mongo_4", 4004),
                ("mongo_2_2", 4005)
            ]
        );
    }

    #[test]
    fn a_repeated_key_takes_its_last_value() {
        let s = detect_env("PORT=3000\nPORT=3001\n");
        assert_eq!((s.len(), s[0].base), (1, 3001));
    }

    #[test]
    fn same_base_port_is_one_service() {
        let s = detect_env("PORT=3000\nVITE_PORT=3000\n");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].vars, ["PORT", "VITE_PORT"]);
    }
}
