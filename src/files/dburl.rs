//! Finding the local endpoints in a variable's value (the ports, and the database name, of
//! connection URLs such as `postgresql://user:pass@localhost:5432/myapp?sslmode=disable`,
//! `jdbc:mysql://…`, several hosts as in `mongodb://localhost:27017,localhost:27018/app`, bare
//! `localhost:9200`, and lists of any of them) by byte span, so that a rewrite changes those
//! parts and nothing else. (The `url` crate re-serialises its input, which would not keep the
//! user's spelling; we only need spans.)

use std::ops::Range;

/// One port on this machine that a value names: in a URL, or as a bare `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL's scheme up to any `+driver` suffix, after any `jdbc:` prefix, lower-cased
    /// (`postgresql+asyncpg` → `postgresql`, `jdbc:mysql` → `mysql`); `None` for `host:port`.
    pub scheme: Option<String>,
    pub host: String,
    pub port: u16,
    /// Where the port's digits are in the value.
    pub port_span: Range<usize>,
}

/// Every local endpoint of `text`, in order: each local host of each URL or `host:port` of the
/// value, which may be a list (separated by commas and/or white space). A URL with several
/// hosts (`mongodb://h1:1,h2:2/db`) counts only when every host is on this machine with an
/// explicit port: git-atlas cannot move part of a replica set. Remote hosts, ports written as
/// anything but a number from 1 to 65535, and `host:port` on other hosts (`db:5432`, a Compose
/// service; `12:30`, a time) give none.
pub fn local_endpoints(text: &str) -> Vec<Endpoint> {
    let mut out = Vec::new();
    for item in items(text) {
        let piece = &text[item.clone()];
        if let Some(url) = parse_url(piece) {
            let hosts: Option<Vec<Endpoint>> = url
                .hosts
                .iter()
                .map(|h| {
                    let port = h.port()?;
                    is_local(h.name).then(|| Endpoint {
                        scheme: Some(url.scheme()),
                        host: h.name.to_string(),
                        port,
                        port_span: item.start + h.port_start..item.start + h.port_end(),
                    })
                })
                .collect();
            out.extend(hosts.unwrap_or_default());
        } else if let Some((host, span)) = host_port(piece) {
            out.push(Endpoint {
                scheme: None,
                host: host.to_string(),
                port: piece[span.clone()]
                    .parse()
                    .expect("host_port checked the digits"),
                port_span: item.start + span.start..item.start + span.end,
            });
        }
    }
    out
}

/// `text` with the port of each of its [`local_endpoints`] replaced by what `new_port` says of
/// it (the port it has, `None` to keep it), and not one other byte changed; `None` when that
/// changes nothing.
pub fn rewrite_ports(text: &str, new_port: impl Fn(u16) -> Option<u16>) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut at = 0;
    let mut changed = false;
    for e in local_endpoints(text) {
        let Some(port) = new_port(e.port).filter(|p| *p != e.port) else {
            continue;
        };
        out.push_str(&text[at..e.port_span.start]);
        out.push_str(&port.to_string());
        at = e.port_span.end;
        changed = true;
    }
    changed.then(|| {
        out.push_str(&text[at..]);
        out
    })
}

/// The database a value names when it is one URL on this machine (every host local, ports
/// optional: a database needs none): its scheme as [`Endpoint::scheme`] says it, and the byte
/// span of the name (the first path segment, not empty). For `mongodb://localhost/app?x` that
/// is `mongodb` and the span of `app`.
pub fn local_database(text: &str) -> Option<(String, Range<usize>)> {
    let [item] = <[_; 1]>::try_from(items(text)).ok()?;
    let url = parse_url(&text[item.clone()])?;
    let db = url.database.clone()?;
    url.hosts
        .iter()
        .all(|h| is_local(h.name) || is_socket(h.name))
        .then(|| (url.scheme(), item.start + db.start..item.start + db.end))
}

/// The pieces of a value that may each be an endpoint, by byte range: what white space and
/// commas separate, except that a piece after a single comma that does not start a URL of its
/// own belongs to the URL before it (its next host, `mongodb://h1:1,h2:2/db`, or the rest of its
/// path or query, `…?options=a,b`).
fn items(text: &str) -> Vec<Range<usize>> {
    let mut pieces: Vec<Range<usize>> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c == ',' || c.is_whitespace() {
            if let Some(s) = start.take() {
                pieces.push(s..i);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        pieces.push(s..text.len());
    }
    let mut items: Vec<Range<usize>> = Vec::new();
    let mut last_is_url = false;
    for piece in pieces {
        let is_url = scheme_end(&text[piece.clone()]).is_some();
        match items.last_mut() {
            Some(last) if last_is_url && !is_url && &text[last.end..piece.start] == "," => {
                last.end = piece.end;
            }
            _ => {
                items.push(piece);
                last_is_url = is_url;
            }
        }
    }
    items
}

/// Where the authority of `text` starts, if it starts with `scheme://` (optionally behind
/// `jdbc:`), and the scheme's text.
fn scheme_end(text: &str) -> Option<(&str, usize)> {
    let (head, _) = text.split_once("://")?;
    let scheme = match head.get(..5) {
        Some(jdbc) if jdbc.eq_ignore_ascii_case("jdbc:") => &head[5..],
        _ => head,
    };
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then_some((scheme, head.len() + 3))
}

/// A URL taken apart by byte offsets into the text it was parsed from.
struct Url<'a> {
    /// As written: `postgresql+asyncpg`, `mysql` of `jdbc:mysql`.
    scheme: &'a str,
    /// What comes before the last `@` of the authority (`user:password`), as written.
    userinfo: Option<&'a str>,
    hosts: Vec<Host<'a>>,
    /// Where the path (or query, or fragment) starts: the authority's end.
    path_start: usize,
    /// The first path segment, when there is one and it is not empty.
    database: Option<Range<usize>>,
}

impl Url<'_> {
    fn scheme(&self) -> String {
        self.scheme
            .split('+')
            .next()
            .unwrap_or(self.scheme)
            .to_ascii_lowercase()
    }
}

/// One host of a URL's authority and where its port is written, whatever it says.
struct Host<'a> {
    name: &'a str,
    /// `None` without a `:port`.
    port_text: Option<&'a str>,
    port_start: usize,
}

impl Host<'_> {
    fn port(&self) -> Option<u16> {
        self.port_text?.parse().ok().filter(|p| *p > 0)
    }

    fn port_end(&self) -> usize {
        self.port_start + self.port_text.map_or(0, str::len)
    }
}

/// `[jdbc:]scheme://[userinfo@]host[:port][,host[:port]…][/database…]`; `None` for anything else
/// (not a URL, an IPv6 host without its `]`).
fn parse_url(text: &str) -> Option<Url<'_>> {
    let (scheme, start) = scheme_end(text)?;
    let rest = &text[start..];
    let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_len];
    let hosts_start = authority.rfind('@').map_or(0, |i| i + 1);
    let mut hosts = Vec::new();
    let mut at = start + hosts_start;
    for hostport in authority[hosts_start..].split(',') {
        let (name, port_text, port_offset) = if let Some(v6) = hostport.strip_prefix('[') {
            let end = v6.find(']')?;
            match &v6[end + 1..] {
                "" => (&v6[..end], None, 0),
                after => (&v6[..end], Some(after.strip_prefix(':')?), end + 3),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((name, port)) => (name, Some(port), name.len() + 1),
                None => (hostport, None, 0),
            }
        };
        hosts.push(Host {
            name,
            port_text,
            port_start: at + port_offset,
        });
        at += hostport.len() + 1;
    }
    let path_start = start + auth_len;
    let database = text[path_start..].strip_prefix('/').and_then(|p| {
        let len = p.find(['/', '?', '#']).unwrap_or(p.len());
        (len > 0).then(|| path_start + 1..path_start + 1 + len)
    });
    Some(Url {
        scheme,
        userinfo: authority.rfind('@').map(|i| &authority[..i]),
        hosts,
        path_start,
        database,
    })
}

/// A URL with exactly one host, as its text writes it, for readers of one server's URL (Redis's).
pub struct OneHost<'a> {
    /// As written, behind any `jdbc:`: `redis`, `rediss`.
    pub scheme: &'a str,
    /// `user:password` before the `@`, percent-encoded.
    pub userinfo: Option<&'a str>,
    pub host: &'a str,
    /// The port as written, if the URL has one.
    pub port_text: Option<&'a str>,
    /// Where the path (or query, or fragment) starts in the text.
    pub path_start: usize,
}

/// `text` as a URL with one host ([`OneHost`]); `None` for anything else.
pub fn one_host(text: &str) -> Option<OneHost<'_>> {
    let url = parse_url(text)?;
    let [host] = &url.hosts[..] else {
        return None;
    };
    Some(OneHost {
        scheme: url.scheme,
        userinfo: url.userinfo,
        host: host.name,
        port_text: host.port_text,
        path_start: url.path_start,
    })
}

/// A bare `host:port` on this machine (`localhost:9200`, `127.0.0.1:11211`, `[::1]:6379`),
/// optionally followed by a path: the host and the span of the port's digits. An IPv6 address
/// needs its brackets (`::1:6379` is an address, not a port).
fn host_port(text: &str) -> Option<(&str, Range<usize>)> {
    let hostport = &text[..text.find('/').unwrap_or(text.len())];
    let (host, port_start) = if let Some(v6) = hostport.strip_prefix('[') {
        let end = v6.find(']')?;
        v6[end + 1..].strip_prefix(':')?;
        (&v6[..end], end + 3)
    } else {
        let (host, _) = hostport.split_once(':')?;
        (host, host.len() + 1)
    };
    let port = &hostport[port_start..];
    let numeric = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    let valid = numeric && port.parse::<u16>().is_ok_and(|p| p > 0);
    (valid && is_local(host)).then_some((host, port_start..hostport.len()))
}

/// A URL on this machine whose port is written as a number that is no port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPort {
    pub host: String,
    pub port: String,
}

/// `Some` for a value with a URL on this machine whose port is written as a number but is no
/// port (`localhost:99999`, `127.0.0.1:0`, `localhost:-1`): git-atlas would shift it, and cannot,
/// so it must not be copied into every worktree unchanged without a word. Anything else, a valid
/// port, an interpolated one (`localhost:${DB_PORT}`), a remote host (or a list of hosts with
/// one remote among them), is `None`.
pub fn invalid_local_port(text: &str) -> Option<BadPort> {
    items(text).into_iter().find_map(|item| {
        let url = parse_url(&text[item])?;
        if !url.hosts.iter().all(|h| is_local(h.name)) {
            return None;
        }
        url.hosts.iter().find_map(|h| {
            let port = h.port_text?;
            let digits = port.strip_prefix('-').unwrap_or(port);
            let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            (numeric && h.port().is_none()).then(|| BadPort {
                host: h.name.to_string(),
                port: port.to_string(),
            })
        })
    })
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

/// A Unix socket's path in a URL's host (`%2Ftmp%2Fmongodb-27017.sock`): this machine.
fn is_socket(host: &str) -> bool {
    host.starts_with('/') || host.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("%2f"))
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
    fn rewrites_the_port_and_finds_the_database_only() {
        let text = "postgresql://u:p@localhost:5432/myapp?x=y";
        assert_eq!(
            rewrite_ports(text, |_| Some(5779)).as_deref(),
            Some("postgresql://u:p@localhost:5779/myapp?x=y")
        );
        let (scheme, span) = local_database(text).unwrap();
        assert_eq!((scheme.as_str(), &text[span]), ("postgresql", "myapp"));
    }

    #[test]
    fn understands_drivers_ipv6_and_passwords_with_at_signs() {
        let t = "postgresql+asyncpg://u:p%40ss@[::1]:5432/app";
        let e = &local_endpoints(t)[0];
        assert_eq!((e.scheme.as_deref(), e.port), (Some("postgresql"), 5432));
        assert_eq!(
            rewrite_ports(t, |_| Some(6000)).as_deref(),
            Some("postgresql+asyncpg://u:p%40ss@[::1]:6000/app")
        );
    }

    #[test]
    fn leaves_remote_and_portless_urls_alone() {
        for text in [
            "postgresql://db.example.com:5432/x",
            "postgresql://localhost/x",
            "not a url",
            "http://localhost:99999/",
        ] {
            assert_eq!(local_endpoints(text), [], "{text}");
            assert_eq!(rewrite_ports(text, |p| Some(p + 1)), None, "{text}");
        }
    }

    /// The ports of a value's local endpoints, and the value with each port moved up by 1000.
    fn moved(text: &str) -> (Vec<u16>, Option<String>) {
        let ports = local_endpoints(text).iter().map(|e| e.port).collect();
        (ports, rewrite_ports(text, |p| Some(p + 1000)))
    }

    #[test]
    fn every_format_of_local_endpoint_is_found_and_moved() {
        for (text, ports, rewritten) in [
            (
                "postgresql://u:p%40ss@localhost:5432/app",
                &[5432][..],
                "postgresql://u:p%40ss@localhost:6432/app",
            ),
            (
                "postgresql+asyncpg://u@[::1]:5432/app",
                &[5432],
                "postgresql+asyncpg://u@[::1]:6432/app",
            ),
            (
                "rediss://:pw@127.0.0.1:6380/0",
                &[6380],
                "rediss://:pw@127.0.0.1:7380/0",
            ),
            (
                "amqp://guest:guest@localhost:5672/",
                &[5672],
                "amqp://guest:guest@localhost:6672/",
            ),
            (
                "mongodb://localhost:27017/app?replicaSet=rs0",
                &[27017],
                "mongodb://localhost:28017/app?replicaSet=rs0",
            ),
            (
                "mongodb://u:p@localhost:27017,127.0.0.1:27018/app?replicaSet=rs0",
                &[27017, 27018],
                "mongodb://u:p@localhost:28017,127.0.0.1:28018/app?replicaSet=rs0",
            ),
            (
                "jdbc:postgresql://localhost:5432/x",
                &[5432],
                "jdbc:postgresql://localhost:6432/x",
            ),
            (
                "JDBC:mysql://127.0.0.1:3306/shop?useSSL=false",
                &[3306],
                "JDBC:mysql://127.0.0.1:4306/shop?useSSL=false",
            ),
            ("localhost:9200", &[9200], "localhost:10200"),
            ("127.0.0.1:11211", &[11211], "127.0.0.1:12211"),
            ("[::1]:6379", &[6379], "[::1]:7379"),
            ("0.0.0.0:8000", &[8000], "0.0.0.0:9000"),
            (
                "host.docker.internal:4317",
                &[4317],
                "host.docker.internal:5317",
            ),
            ("localhost:8000/api", &[8000], "localhost:9000/api"),
            (
                "localhost:9092,localhost:9093",
                &[9092, 9093],
                "localhost:10092,localhost:10093",
            ),
            (
                "http://localhost:3000,http://127.0.0.1:3000",
                &[3000, 3000],
                "http://localhost:4000,http://127.0.0.1:4000",
            ),
            (
                "http://localhost:3000, https://app.example.com, http://localhost:5173/",
                &[3000, 5173],
                "http://localhost:4000, https://app.example.com, http://localhost:6173/",
            ),
            (
                "http://localhost:3000 http://localhost:5173",
                &[3000, 5173],
                "http://localhost:4000 http://localhost:6173",
            ),
            (
                " http://localhost:3000\thttp://example.com:3000 ",
                &[3000],
                " http://localhost:4000\thttp://example.com:3000 ",
            ),
            (
                "postgresql://localhost:5432/app?options=a,b",
                &[5432],
                "postgresql://localhost:6432/app?options=a,b",
            ),
        ] {
            assert_eq!(
                moved(text),
                (ports.to_vec(), Some(rewritten.to_string())),
                "{text}"
            );
        }
    }

    #[test]
    fn remote_hosts_times_and_service_names_are_no_endpoints() {
        for text in [
            "postgresql://db.example.com:5432/x",
            "mongodb+srv://u:p@cluster0.example.net/app",
            "mongodb://localhost:27017,db.example.com:27017/app?replicaSet=rs0",
            "mongodb://localhost:27017,localhost/app",
            "12:30",
            "a:b",
            "db:5432",
            "redis:6379",
            "::1:6379",
            "localhost",
            "localhost:0",
            "localhost:99999",
            "localhost:${PORT}",
            "http://localhost:${PORT}/x",
            "${HOST:-localhost}:5432",
            "${API_URL:-http://localhost:3000}",
            "https://example.com:443 http://api.example.com:8080",
            "git@localhost:org/repo.git",
            "not a url",
            "",
        ] {
            assert_eq!(moved(text), (vec![], None), "{text}");
        }
    }

    #[test]
    fn rewrite_ports_keeps_what_the_map_keeps() {
        let text = "localhost:9092,localhost:9093";
        let only_first = rewrite_ports(text, |p| (p == 9092).then_some(9500));
        assert_eq!(only_first.as_deref(), Some("localhost:9500,localhost:9093"));
        assert_eq!(rewrite_ports(text, Some), None);
        assert_eq!(rewrite_ports(text, |_| None), None);
        let e = &local_endpoints("x jdbc:postgresql+x://[::1]:5432/db")[0];
        assert_eq!(
            (
                e.scheme.as_deref(),
                e.host.as_str(),
                e.port,
                e.port_span.clone()
            ),
            (Some("postgresql"), "::1", 5432, 28..32)
        );
        assert_eq!(local_endpoints("localhost:6379")[0].scheme, None);
    }

    #[test]
    fn the_database_of_one_local_url() {
        let db = |t: &str| local_database(t).map(|(scheme, span)| (scheme, t[span].to_string()));
        let some = |s: &str, n: &str| Some((s.to_string(), n.to_string()));
        assert_eq!(
            db("mongodb://localhost:27017/app?replicaSet=rs0"),
            some("mongodb", "app")
        );
        assert_eq!(db("mongodb://localhost/app"), some("mongodb", "app"));
        assert_eq!(
            db("mongodb://localhost:27017,localhost:27018/app?replicaSet=rs0"),
            some("mongodb", "app")
        );
        assert_eq!(
            db("mongodb://%2Ftmp%2Fmongodb-27017.sock/app"),
            some("mongodb", "app")
        );
        assert_eq!(
            db("jdbc:mysql://127.0.0.1:3306/shop?x=1"),
            some("mysql", "shop")
        );
        assert_eq!(db("mongodb://localhost:27017/?replicaSet=rs0"), None);
        assert_eq!(db("mongodb://localhost,db.example.com/app"), None);
        assert_eq!(db("mongodb+srv://cluster0.example.net/app"), None);
        assert_eq!(db("http://localhost:1/a http://localhost:2/b"), None);
    }

    #[test]
    fn a_local_port_that_is_no_port_is_told_apart() {
        let bad = |t: &str| invalid_local_port(t).map(|b| (b.host, b.port));
        for (text, port) in [
            ("postgresql://u@localhost:99999/db", "99999"),
            ("postgresql://u:p@127.0.0.1:0/db", "0"),
            ("mysql://u@[::1]:70000/db", "70000"),
            ("redis://localhost:-1/0", "-1"),
            ("mongodb://localhost:27017,localhost:70000/db", "70000"),
            ("http://localhost:3000 http://localhost:0", "0"),
        ] {
            assert_eq!(bad(text).map(|b| b.1), Some(port.to_string()), "{text}");
        }
        for fine in [
            "postgresql://u@localhost:5432/db",
            "postgresql://u@localhost:${DB_PORT}/db",
            "postgresql://u@localhost/db",
            "postgresql://db.example.com:99999/x",
            "mongodb://localhost:99999,db.example.com:27017/db",
            "localhost:99999",
            "not a url",
        ] {
            assert_eq!(bad(fine), None, "{fine}");
        }
    }
}
