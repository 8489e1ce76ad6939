//! A database named by variables of its own rather than a URL, as Laravel (`DB_CONNECTION`,
//! `DB_HOST`, `DB_PORT`, `DB_DATABASE`, `DB_USERNAME`, `DB_PASSWORD`), Django apps (`DB_HOST`,
//! `DB_NAME`, `DB_USER`) and libpq (`PGHOST`, `PGDATABASE`, `PGUSER`) write it: the variables
//! that share a prefix with the name's, read as the URL they stand for, so that a worktree's
//! database gets its own name and is created like a URL's.

use crate::files::dburl;
use crate::files::dotenv::DotEnv;

/// One database set by several variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The variable that holds its name (`DB_DATABASE`), and the name as loaders read it.
    pub name_var: String,
    pub name: String,
    /// The variable that holds its server's port, when there is one (`DB_PORT`).
    pub port_var: Option<String>,
    /// The URL the variables stand for: `mysql://user:password@127.0.0.1:3306/bookstack`.
    pub url: String,
}

/// What a variable's name says it holds a database name for: the prefix its siblings share.
fn prefix_of(key: &str) -> Option<&str> {
    if key == "PGDATABASE" {
        return Some("PG");
    }
    if key == "DB_NAME" {
        return Some("DB_");
    }
    ["_DATABASE", "_DB_NAME"]
        .iter()
        .find_map(|s| key.strip_suffix(s).map(|p| &key[..p.len() + 1]))
        .filter(|p| p.len() > 1)
}

/// The engine the variables of `prefix` name: `DB_CONNECTION=mysql` (Laravel), `DB_ENGINE=
/// django.db.backends.postgresql`, a `DB=postgres` (healthchecks), the prefix (`PG`,
/// `POSTGRES_`, `MYSQL_`), else the usual port.
fn scheme(env: &DotEnv, prefix: &str, port: Option<u16>) -> Option<&'static str> {
    let said = ["CONNECTION", "ENGINE", "DRIVER", "TYPE"]
        .iter()
        .find_map(|k| env.get(&format!("{prefix}{k}")))
        .or_else(|| (prefix == "DB_").then(|| env.get("DB")).flatten())
        .map(str::to_ascii_lowercase);
    if let Some(said) = said {
        return if said.contains("postgres") || said.contains("pgsql") {
            Some("postgresql")
        } else if said.contains("mysql") || said.contains("maria") {
            Some("mysql")
        } else {
            None
        };
    }
    let upper = prefix.to_ascii_uppercase();
    if upper.starts_with("PG") || upper.contains("POSTGRES") {
        return Some("postgresql");
    }
    if upper.contains("MYSQL") || upper.contains("MARIA") {
        return Some("mysql");
    }
    match port {
        Some(5432) => Some("postgresql"),
        Some(3306) => Some("mysql"),
        _ => None,
    }
}

/// Every database of `env` set by variables of its own on this machine: its name variable has
/// a host sibling naming this machine (`DB_HOST=127.0.0.1`; `DB_HOST=db`, a Compose service, is
/// another host's), and an engine git-atlas creates databases in.
pub fn split_databases(env: &DotEnv) -> Vec<Split> {
    let mut out: Vec<Split> = Vec::new();
    for var in env.vars() {
        let Some(prefix) = prefix_of(&var.key) else {
            continue;
        };
        if out.iter().any(|s| s.name_var == var.key) {
            continue;
        }
        let get = |k: &str| {
            env.value(&format!("{prefix}{k}"))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let Some(host) = get("HOST").filter(|h| dburl::is_local(h)) else {
            continue;
        };
        let name = env.value(&var.key).unwrap_or_default();
        let name = name.trim().to_string();
        if name.is_empty() || name.contains('$') {
            continue;
        }
        let port_var = format!("{prefix}PORT");
        let port = get("PORT").and_then(|p| p.parse::<u16>().ok());
        let Some(scheme) = scheme(env, prefix, port) else {
            continue;
        };
        let user = get("USERNAME").or_else(|| get("USER"));
        let password = get("PASSWORD");
        let userinfo = match (user.as_deref(), password.as_deref()) {
            (Some(u), Some(p)) => format!("{}:{}@", encode(u), encode(p)),
            (Some(u), None) => format!("{}@", encode(u)),
            (None, Some(p)) => format!(":{}@", encode(p)),
            (None, None) => String::new(),
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let at = port.map(|p| format!(":{p}")).unwrap_or_default();
        out.push(Split {
            name_var: var.key.clone(),
            port_var: port.map(|_| port_var),
            url: format!("{scheme}://{userinfo}{host}{at}/{}", encode(&name)),
            name,
        });
    }
    out
}

/// Every variable of `env` with its value, except that a split database's name variable holds
/// the URL its variables stand for ([`split_databases`]): what names databases, by variable.
pub fn values(env: &DotEnv) -> Vec<(String, String)> {
    let splits = split_databases(env);
    let mut out: Vec<(String, String)> = env
        .vars()
        .filter(|v| !splits.iter().any(|s| s.name_var == v.key))
        .filter_map(|v| Some((v.key.clone(), env.get(&v.key)?.to_string())))
        .collect();
    out.extend(splits.into_iter().map(|s| (s.name_var, s.url)));
    out
}

/// Percent-encoding for a URL's user, password or path segment.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splits(text: &str) -> Vec<(String, Option<String>, String)> {
        split_databases(&DotEnv::parse(text).unwrap())
            .into_iter()
            .map(|s| (s.name_var, s.port_var, s.url))
            .collect()
    }

    #[test]
    fn laravel_django_and_libpq_shapes() {
        let laravel = "DB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_PORT=3306\nDB_DATABASE=bookstack\nDB_USERNAME=bookstack\nDB_PASSWORD=\"b00k #stack pw\"\n";
        assert_eq!(
            splits(laravel),
            [(
                "DB_DATABASE".into(),
                Some("DB_PORT".into()),
                "mysql://bookstack:b00k%20%23stack%20pw@127.0.0.1:3306/bookstack".into()
            )]
        );
        let django = "DB=postgres\nDB_HOST=localhost\nDB_NAME=hc\nDB_USER=postgres\n";
        assert_eq!(
            splits(django),
            [(
                "DB_NAME".into(),
                None,
                "postgresql://postgres@localhost/hc".into()
            )]
        );
        // Inside double quotes, `\"` and `\\` are what loaders read.
        let escaped = "DB_CONNECTION=pgsql\nDB_HOST=localhost\nDB_DATABASE=x\nDB_PASSWORD=\"a \\\"b\\\" \\\\c\"\n";
        assert_eq!(
            splits(escaped)[0].2,
            "postgresql://:a%20%22b%22%20%5Cc@localhost/x"
        );
        let libpq = "PGHOST=::1\nPGPORT=5433\nPGDATABASE=app\n";
        assert_eq!(
            splits(libpq),
            [(
                "PGDATABASE".into(),
                Some("PGPORT".into()),
                "postgresql://[::1]:5433/app".into()
            )]
        );
    }

    #[test]
    fn other_hosts_unknown_engines_and_interpolations_are_not_ours() {
        for text in [
            "DB_HOST=db\nDB_PORT=5432\nDB_NAME=hc\n",
            "DB_CONNECTION=sqlite\nDB_HOST=127.0.0.1\nDB_DATABASE=x\n",
            "DB_HOST=127.0.0.1\nDB_PORT=1234\nDB_DATABASE=x\n",
            "DB_HOST=127.0.0.1\nDB_PORT=3306\nDB_DATABASE=${APP}_db\n",
            "DB_DATABASE=x\n",
            "APP_NAME=Laravel\nDATABASE=x\n",
        ] {
            assert_eq!(splits(text), [], "{text}");
        }
    }
}
