//! Finding the port and database name inside connection URLs such as
//! `postgresql://user:pass@localhost:5432/myapp?sslmode=disable`, by byte span, so that a rewrite
//! changes those two parts and nothing else. (The `url` crate re-serialises its input, which would
//! not keep the user's spelling; we only need two spans.)

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnUrl {
    /// The scheme up to any `+driver` suffix, lower-cased: `postgresql+asyncpg` → `postgresql`.
    pub scheme: String,
    pub host: String,
    pub port: u16,
    port_span: Range<usize>,
    db_span: Option<Range<usize>>,
}

/// A URL's authority taken apart: where its port is written, whatever it says.
struct Authority<'a> {
    scheme: &'a str,
    host: &'a str,
    port_text: &'a str,
    /// Byte offset of the end of the authority (and of the port) in the whole text.
    port_end: usize,
    /// What follows the authority: path, query, fragment.
    path: &'a str,
}

/// `scheme://[userinfo@]host:port…` with exactly one host and an explicit `:port`.
fn authority(text: &str) -> Option<Authority<'_>> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let start = scheme.len() + 3;
    let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_len];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let hostport = &authority[host_start..];
    if hostport.contains(',') {
        return None;
    }
    let (host, port_text) = if let Some(v6) = hostport.strip_prefix('[') {
        let end = v6.find(']')?;
        (&v6[..end], v6[end + 1..].strip_prefix(':')?)
    } else {
        hostport.rsplit_once(':')?
    };
    Some(Authority {
        scheme,
        host,
        port_text,
        port_end: start + auth_len,
        path: &rest[auth_len..],
    })
}

/// A URL on this machine whose port is written as a number that is no port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPort {
    pub host: String,
    pub port: String,
}

/// `Some` for a URL on this machine whose port is written as a number but is no port
/// (`localhost:99999`, `127.0.0.1:0`, `localhost:-1`): git-atlas would shift it, and cannot, so
/// it must not be copied into every worktree unchanged without a word. Anything else, a valid
/// port, an interpolated one (`localhost:${DB_PORT}`), a remote host, is `None`.
pub fn invalid_local_port(text: &str) -> Option<BadPort> {
    let a = authority(text)?;
    let digits = a.port_text.strip_prefix('-').unwrap_or(a.port_text);
    let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let valid = a.port_text.parse::<u16>().is_ok_and(|p| p > 0);
    (numeric && !valid && is_local(a.host)).then(|| BadPort {
        host: a.host.to_string(),
        port: a.port_text.to_string(),
    })
}

impl ConnUrl {
    /// A URL with an explicit port on this machine; `None` for anything else (remote hosts, no
    /// port, several hosts, not a URL; a port that is no port is [`invalid_local_port`]'s).
    pub fn parse_local(text: &str) -> Option<ConnUrl> {
        let a = authority(text)?;
        let port: u16 = a.port_text.parse().ok().filter(|p| *p > 0)?;
        if !is_local(a.host) {
            return None;
        }
        let port_end = a.port_end;
        let port_span = port_end - a.port_text.len()..port_end;
        let db_span = a.path.strip_prefix('/').and_then(|p| {
            let len = p.find(['/', '?', '#']).unwrap_or(p.len());
            (len > 0).then(|| port_end + 1..port_end + 1 + len)
        });
        let scheme = a
            .scheme
            .split('+')
            .next()
            .unwrap_or(a.scheme)
            .to_ascii_lowercase();
        Some(ConnUrl {
            scheme,
            host: a.host.to_string(),
            port,
            port_span,
            db_span,
        })
    }

    pub fn database<'a>(&self, text: &'a str) -> Option<&'a str> {
        self.db_span.clone().map(|r| &text[r])
    }

    /// Whether the first path segment names a database that a worktree should get its own copy of.
    pub fn has_database_name(&self) -> bool {
        matches!(
            self.scheme.as_str(),
            "postgres" | "postgresql" | "mysql" | "mysql2" | "mariadb" | "mongodb"
        ) && self.db_span.is_some()
    }

    /// `text` with the port replaced and, if given, the database name replaced.
    pub fn rewrite(&self, text: &str, port: u16, database: Option<&str>) -> String {
        let mut out = String::with_capacity(text.len() + 16);
        out.push_str(&text[..self.port_span.start]);
        out.push_str(&port.to_string());
        match (&self.db_span, database) {
            (Some(db), Some(name)) => {
                out.push_str(&text[self.port_span.end..db.start]);
                out.push_str(name);
                out.push_str(&text[db.end..]);
            }
            _ => out.push_str(&text[self.port_span.end..]),
        }
        out
    }
}

/// Whether `host` is this machine (its names and loopback addresses, and Docker's name for it).
pub fn is_local(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host == "::1"
        || host == "0.0.0.0"
        || host == "host.docker.internal"
        || host.starts_with("127.")
}

/// What the label of a service reached through this scheme should say.
pub fn scheme_label(scheme: &str) -> Option<&'static str> {
    Some(match scheme {
        "postgres" | "postgresql" => "PostgreSQL",
        "mysql" | "mysql2" => "MySQL",
        "mariadb" => "MariaDB",
        "redis" | "rediss" => "Redis",
        "mongodb" => "MongoDB",
        "amqp" | "amqps" => "RabbitMQ",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_port_and_database_only() {
        let text = "postgresql://u:p@localhost:5432/myapp?x=y";
        let url = ConnUrl::parse_local(text).unwrap();
        assert_eq!(url.port, 5432);
        assert_eq!(url.database(text), Some("myapp"));
        assert_eq!(
            url.rewrite(text, 5779, Some("myapp_feature_auth")),
            "postgresql://u:p@localhost:5779/myapp_feature_auth?x=y"
        );
        assert_eq!(
            url.rewrite(text, 5779, None),
            "postgresql://u:p@localhost:5779/myapp?x=y"
        );
    }

    #[test]
    fn understands_drivers_ipv6_and_passwords_with_at_signs() {
        let t = "postgresql+asyncpg://u:p%40ss@[::1]:5432/app";
        let url = ConnUrl::parse_local(t).unwrap();
        assert_eq!((url.scheme.as_str(), url.port), ("postgresql", 5432));
        assert_eq!(
            url.rewrite(t, 6000, Some("app_x")),
            "postgresql+asyncpg://u:p%40ss@[::1]:6000/app_x"
        );
        let r = "redis://127.0.0.1:6379/0";
        assert!(!ConnUrl::parse_local(r).unwrap().has_database_name());
    }

    #[test]
    fn leaves_remote_and_portless_urls_alone() {
        assert_eq!(
            ConnUrl::parse_local("postgresql://db.example.com:5432/x"),
            None
        );
        assert_eq!(ConnUrl::parse_local("postgresql://localhost/x"), None);
        assert_eq!(
            ConnUrl::parse_local("postgresql://localhost:1,localhost:2/x"),
            None
        );
        assert_eq!(ConnUrl::parse_local("not a url"), None);
        assert_eq!(ConnUrl::parse_local("http://localhost:99999/"), None);
    }

    #[test]
    fn a_local_port_that_is_no_port_is_told_apart() {
        let bad = |t: &str| invalid_local_port(t).map(|b| (b.host, b.port));
        for (text, port) in [
            ("postgresql://u@localhost:99999/db", "99999"),
            ("postgresql://u:p@127.0.0.1:0/db", "0"),
            ("mysql://u@[::1]:70000/db", "70000"),
            ("redis://localhost:-1/0", "-1"),
        ] {
            assert_eq!(bad(text).map(|b| b.1), Some(port.to_string()), "{text}");
            assert_eq!(ConnUrl::parse_local(text), None, "{text}");
        }
        for fine in [
            "postgresql://u@localhost:5432/db",
            "postgresql://u@localhost:${DB_PORT}/db",
            "postgresql://u@localhost/db",
            "postgresql://db.example.com:99999/x",
            "not a url",
        ] {
            assert_eq!(bad(fine), None, "{fine}");
        }
    }
}
