//! Redis on a shared server (`[database] shared_server`): every worktree keeps the main's port and
//! gets database indexes of its own (`redis://localhost:6379/0` → `…/2`), so that one server holds
//! every worktree's keys apart. What a value says of a Redis database, and how many databases
//! the server has (`CONFIG GET databases`).

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use crate::files::dburl;

/// Redis's default number of databases (`databases 16` in redis.conf).
pub const DEFAULT_DATABASES: u16 = 16;

/// A Redis URL on this machine: `redis[s]://[[user]:password@]host[:port][/index]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub host: String,
    pub port: u16,
    /// The database index it names (0 when it names none).
    pub index: u16,
    /// Where the index is written (or, when it is not, where `/<index>` goes).
    index_span: std::ops::Range<usize>,
    password: Option<String>,
}

impl RedisUrl {
    /// `Some` for a `redis://` or `rediss://` URL whose host is this machine.
    pub fn parse_local(text: &str) -> Option<RedisUrl> {
        let url = dburl::one_host(text)?;
        if !matches!(url.scheme.to_ascii_lowercase().as_str(), "redis" | "rediss") {
            return None;
        }
        let port = match url.port_text {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0)?,
            None => 6379,
        };
        if !dburl::is_local(url.host) {
            return None;
        }
        let end = url.path_start;
        let (index, index_span) = match text[end..].strip_prefix('/') {
            Some(p) => {
                let len = p.find(['/', '?', '#']).unwrap_or(p.len());
                let index = if len == 0 { 0 } else { p[..len].parse().ok()? };
                (index, end + 1..end + 1 + len)
            }
            None => (0, end..end),
        };
        let password = url
            .userinfo
            .and_then(|u| u.split_once(':'))
            .and_then(|(_, p)| crate::db::url::decode(p))
            .filter(|p| !p.is_empty());
        Some(RedisUrl {
            host: url.host.to_string(),
            port,
            index,
            index_span,
            password,
        })
    }

    /// What names this URL's server and database among the worktree's ([`crate::ports::registry`]
    /// keeps each worktree's index by it): `6379/0`. Every local host is this machine.
    pub fn key(&self) -> String {
        format!("{}/{}", self.port, self.index)
    }

    /// `text` (the URL this was parsed from) naming database `index` instead.
    pub fn with_index(&self, text: &str, index: u16) -> String {
        let span = &self.index_span;
        let written = if span.is_empty() && !text[..span.start].ends_with('/') {
            format!("/{index}")
        } else {
            index.to_string()
        };
        format!("{}{written}{}", &text[..span.start], &text[span.end..])
    }

    /// How many databases the server has (`CONFIG GET databases`), asked with a short timeout;
    /// `None` when it does not answer (not running, a password it refuses, `CONFIG` renamed).
    pub fn server_databases(&self) -> Option<u16> {
        let timeout = Duration::from_millis(300);
        let stream = crate::db::connect_local(&self.host, self.port, timeout)?;
        stream.set_read_timeout(Some(timeout)).ok()?;
        stream.set_write_timeout(Some(timeout)).ok()?;
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        let mut stream = stream;
        if let Some(password) = &self.password {
            stream.write_all(&command(&["AUTH", password])).ok()?;
            if !line(&mut reader)?.starts_with('+') {
                return None;
            }
        }
        stream
            .write_all(&command(&["CONFIG", "GET", "databases"]))
            .ok()?;
        // `*2`, `$9`, `databases`, `$2`, `16`.
        if line(&mut reader)? != "*2" {
            return None;
        }
        let mut values = Vec::new();
        for _ in 0..2 {
            line(&mut reader)?.strip_prefix('$')?;
            values.push(line(&mut reader)?);
        }
        values[1].parse().ok().filter(|n| *n > 0)
    }
}

/// A command in Redis's protocol (RESP): an array of bulk strings.
fn command(parts: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn line(reader: &mut impl BufRead) -> Option<String> {
    let mut text = String::new();
    reader.read_line(&mut text).ok()?;
    text.strip_suffix("\r\n").map(str::to_string)
}

/// The lowest index below `databases` that `used` does not hold.
pub fn lowest_free(databases: u16, used: &[u16]) -> Option<u16> {
    (0..databases).find(|i| !used.contains(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_index_and_where_it_goes() {
        let u = RedisUrl::parse_local("redis://localhost:6379/0").unwrap();
        assert_eq!((u.port, u.index, u.key()), (6379, 0, "6379/0".into()));
        assert_eq!(
            u.with_index("redis://localhost:6379/0", 3),
            "redis://localhost:6379/3"
        );
        let t = "rediss://:p%40ss@127.0.0.1:6380/2?ssl_cert_reqs=none";
        let u = RedisUrl::parse_local(t).unwrap();
        assert_eq!((u.port, u.index), (6380, 2));
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        assert_eq!(
            u.with_index(t, 5),
            "rediss://:p%40ss@127.0.0.1:6380/5?ssl_cert_reqs=none"
        );
        for (text, want) in [
            ("redis://localhost", "redis://localhost/4"),
            ("redis://localhost:6379/", "redis://localhost:6379/4"),
            ("redis://localhost:6379?x=1", "redis://localhost:6379/4?x=1"),
        ] {
            let u = RedisUrl::parse_local(text).unwrap();
            assert_eq!((u.port, u.index), (6379, 0), "{text}");
            assert_eq!(u.with_index(text, 4), want);
        }
    }

    #[test]
    fn other_hosts_and_schemes_are_not_ours() {
        for text in [
            "redis://plane-redis:6379/0",
            "redis://cache.example.com:6379",
            "postgresql://localhost:5432/x",
            "redis://localhost:6379/zero",
            "redis://${REDIS_HOST}:6379/",
        ] {
            assert_eq!(RedisUrl::parse_local(text), None, "{text}");
        }
    }

    #[test]
    fn the_lowest_free_index() {
        assert_eq!(lowest_free(16, &[0, 1, 3]), Some(2));
        assert_eq!(lowest_free(2, &[0, 1]), None);
    }
}
