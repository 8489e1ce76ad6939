//! Who is listening on which TCP port: the kernel's socket tables mapped to processes.
//!
//! Linux reads `/proc/net/tcp{,6}` and `/proc/*/fd` directly (no child process, no crate: both
//! formats are small and stable). Elsewhere `lsof` answers, and if it is missing we see nothing.

use std::io;
use std::net::IpAddr;

/// One listening socket, as seen by one process that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub port: u16,
    /// The address bound: `0.0.0.0` or `::` for every interface.
    pub addr: IpAddr,
    /// `None` when the socket's owner is not visible to us (another user's, and we are not root).
    pub pid: Option<u32>,
    /// The command line, space-joined and shortened to [`COMMAND_MAX_CHARS`].
    pub command: Option<String>,
}

/// Longest command we report; a `python3 -c '…'` or a `node` with a page of flags is cut here.
pub const COMMAND_MAX_CHARS: usize = 120;

/// Every listening TCP socket (IPv4 and IPv6), with its owning process when we may see it.
///
/// One entry per (port, address, process), sorted in that order: a forked server that shares one
/// socket shows once per process, a socket whose owner we cannot see shows once with no pid.
/// Only the caller's network namespace is visible (a container's ports are its proxy's).
pub fn listeners() -> io::Result<Vec<Listener>> {
    find(&|_| true)
}

/// Listeners on any of `ports`, as [`listeners`] reports them; the /proc/*/fd scan is skipped
/// when none of them is listened on.
pub fn listening_on(ports: &[u16]) -> io::Result<Vec<Listener>> {
    if ports.is_empty() {
        return Ok(Vec::new());
    }
    find(&|port| ports.contains(&port))
}

fn find(wanted: &dyn Fn(u16) -> bool) -> io::Result<Vec<Listener>> {
    #[cfg(target_os = "linux")]
    let mut found = linux::find(wanted)?;
    #[cfg(not(target_os = "linux"))]
    let mut found = lsof::find(wanted)?;
    found.sort_by_key(|l| (l.port, l.addr, l.pid));
    found.dedup_by(|a, b| (a.port, a.addr, a.pid) == (b.port, b.addr, b.pid));
    Ok(found)
}

/// `argv` joined with spaces on one line (a `python3 -c` script has newlines), shortened to
/// [`COMMAND_MAX_CHARS`] with a trailing `…`.
fn display_command<'a>(argv: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let joined: String = argv
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let joined = joined.trim();
    if joined.is_empty() {
        return None;
    }
    Some(match joined.char_indices().nth(COMMAND_MAX_CHARS - 1) {
        Some((cut, _)) if joined[cut..].chars().nth(1).is_some() => format!("{}…", &joined[..cut]),
        _ => joined.to_string(),
    })
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::{HashMap, HashSet};
    use std::fs;
    use std::io;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::{display_command, Listener};

    const TCP_LISTEN: &str = "0A";

    /// A row of `/proc/net/tcp{,6}` in state LISTEN.
    #[derive(Debug, PartialEq, Eq)]
    pub(super) struct Socket {
        pub addr: IpAddr,
        pub port: u16,
        pub inode: u64,
    }

    pub(super) fn find(wanted: &dyn Fn(u16) -> bool) -> io::Result<Vec<Listener>> {
        let mut sockets = read_table("/proc/net/tcp")?;
        match read_table("/proc/net/tcp6") {
            Ok(v6) => sockets.extend(v6),
            // The kernel was booted with IPv6 off: there is no table.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        sockets.retain(|s| wanted(s.port));
        if sockets.is_empty() {
            return Ok(Vec::new());
        }
        let owners = owners(&sockets.iter().map(|s| s.inode).collect());
        let mut found = Vec::new();
        for s in sockets {
            let pids = owners.get(&s.inode).map(Vec::as_slice).unwrap_or(&[]);
            if pids.is_empty() {
                found.push(Listener {
                    port: s.port,
                    addr: s.addr,
                    pid: None,
                    command: None,
                });
            }
            for &pid in pids {
                found.push(Listener {
                    port: s.port,
                    addr: s.addr,
                    pid: Some(pid),
                    command: command(pid),
                });
            }
        }
        Ok(found)
    }

    fn read_table(path: &str) -> io::Result<Vec<Socket>> {
        let text = fs::read_to_string(path)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot read {path}: {e}")))?;
        parse_table(&text).map_err(|line| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{path}: unexpected line {line:?}"),
            )
        })
    }

    /// The LISTEN rows of a `/proc/net/tcp` or `/proc/net/tcp6` table; `Err` holds the first line
    /// we could not read.
    pub(super) fn parse_table(text: &str) -> Result<Vec<Socket>, String> {
        let mut out = Vec::new();
        // The first line is the column header.
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
            let fields: Vec<&str> = line.split_whitespace().collect();
            let parsed = (|| {
                if *fields.get(3)? != TCP_LISTEN {
                    return Some(None);
                }
                let (addr, port) = fields.get(1)?.split_once(':')?;
                Some(Some(Socket {
                    addr: parse_addr(addr)?,
                    port: u16::from_str_radix(port, 16).ok()?,
                    inode: fields.get(9)?.parse().ok()?,
                }))
            })();
            match parsed {
                Some(Some(socket)) => out.push(socket),
                Some(None) => {}
                None => return Err(line.to_string()),
            }
        }
        Ok(out)
    }

    /// The kernel prints each 32-bit word of the address (network byte order in memory) as a
    /// native-endian hex number: 127.0.0.1 is `0100007F` on x86.
    fn parse_addr(hex: &str) -> Option<IpAddr> {
        let words: Option<Vec<[u8; 4]>> = (0..hex.len() / 8)
            .map(|i| {
                let word = hex.get(i * 8..i * 8 + 8)?;
                Some(u32::from_str_radix(word, 16).ok()?.to_ne_bytes())
            })
            .collect();
        let bytes = words?.concat();
        match (hex.len(), bytes.len()) {
            (8, 4) => Some(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).into()),
            (32, 16) => Some(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).into()),
            _ => None,
        }
    }

    /// The pids holding each of `inodes` open, found through the `socket:[INODE]` links in
    /// `/proc/*/fd`. Processes we may not look into (another user's, unless we are root) and
    /// processes that exit while we look are skipped.
    fn owners(inodes: &HashSet<u64>) -> HashMap<u64, Vec<u32>> {
        let mut owners: HashMap<u64, Vec<u32>> = HashMap::new();
        let Ok(procs) = fs::read_dir("/proc") else {
            return owners;
        };
        for entry in procs.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
                continue;
            };
            for fd in fds.flatten() {
                let Ok(target) = fs::read_link(fd.path()) else {
                    continue;
                };
                let inode = target
                    .to_str()
                    .and_then(|t| t.strip_prefix("socket:["))
                    .and_then(|t| t.strip_suffix(']'))
                    .and_then(|t| t.parse::<u64>().ok());
                if let Some(inode) = inode.filter(|i| inodes.contains(i)) {
                    let pids = owners.entry(inode).or_default();
                    if !pids.contains(&pid) {
                        pids.push(pid);
                    }
                }
            }
        }
        owners
    }

    /// `/proc/PID/cmdline` (NUL-separated argv), or `/proc/PID/comm` when argv is empty (a kernel
    /// thread, or a process that wiped it).
    fn command(pid: u32) -> Option<String> {
        let argv = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv = String::from_utf8_lossy(&argv);
        display_command(argv.split('\0')).or_else(|| {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            display_command([comm.trim_end_matches('\n')])
        })
    }
}

/// `lsof -F` field output: compiled everywhere for its tests, used where there is no `/proc`.
#[cfg(any(test, not(target_os = "linux")))]
mod lsof {
    use std::io;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::{display_command, Listener};

    pub(super) fn find(wanted: &dyn Fn(u16) -> bool) -> io::Result<Vec<Listener>> {
        // -n/-P: numeric hosts and ports; +c 0: the whole command name, not 9 characters;
        // fields p(id), c(ommand), t(ype: IPv4/IPv6, to tell the two `*:PORT`), n(ame).
        let run = duct::cmd(
            "lsof",
            ["-nP", "-iTCP", "-sTCP:LISTEN", "+c", "0", "-F", "pctn"],
        )
        .stdout_capture()
        .stderr_null()
        // lsof exits 1 when nothing matched.
        .unchecked()
        .run();
        let output = match run {
            Ok(output) => output,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io::Error::new(e.kind(), format!("cannot run lsof: {e}"))),
        };
        let mut found = parse(&String::from_utf8_lossy(&output.stdout));
        found.retain(|l| wanted(l.port));
        Ok(found)
    }

    /// Listeners from `lsof -F pctn` output: a `p` line starts a process, `c` names it, then each
    /// of its files is a `t` line and an `n` line (after an `f` line, if lsof prints one). Other
    /// fields are ignored.
    pub(super) fn parse(text: &str) -> Vec<Listener> {
        let mut out = Vec::new();
        let mut pid: Option<u32> = None;
        let mut command: Option<String> = None;
        let mut ipv6 = false;
        for line in text.lines() {
            let Some(tag) = line.chars().next() else {
                continue;
            };
            let value = &line[tag.len_utf8()..];
            match tag {
                'p' => {
                    pid = value.parse().ok();
                    command = None;
                }
                'c' => command = display_command([value]),
                't' => ipv6 = value == "IPv6",
                'n' => {
                    if let Some((addr, port)) = parse_name(value, ipv6) {
                        out.push(Listener {
                            port,
                            addr,
                            pid,
                            command: command.clone(),
                        });
                    }
                    ipv6 = false;
                }
                _ => {}
            }
        }
        out
    }

    /// `127.0.0.1:8080`, `[::1]:8080`, `*:8080` (the wildcard of the file's address family).
    fn parse_name(name: &str, ipv6: bool) -> Option<(IpAddr, u16)> {
        // A connected socket would read `local->remote`; listeners have no remote.
        let local = name.split("->").next()?;
        let (host, port) = local.rsplit_once(':')?;
        let port = port.parse().ok()?;
        let addr = match host {
            "*" if ipv6 => Ipv6Addr::UNSPECIFIED.into(),
            "*" => Ipv4Addr::UNSPECIFIED.into(),
            _ => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split('%') // a link-local scope, `fe80::1%en0`
                .next()?
                .parse()
                .ok()?,
        };
        Some((addr, port))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
    use std::process::{Child, Command, Stdio};

    use super::*;

    /// A child process that is killed and reaped however the test ends.
    struct Reaped(Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// `python3 -c script`, killed when dropped, and the first line it prints.
    fn python(script: &str) -> (Reaped, String) {
        let mut child = Reaped(
            Command::new("python3")
                .args(["-c", script])
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3"),
        );
        let mut line = String::new();
        BufReader::new(child.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        (child, line)
    }

    fn listener_of(listeners: &[Listener], port: u16, pid: u32) -> Option<&Listener> {
        listeners
            .iter()
            .find(|l| l.port == port && l.pid == Some(pid))
    }

    #[test]
    fn finds_our_own_listeners_on_ipv4_and_ipv6() {
        let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let v4_port = v4.local_addr().unwrap().port();
        // A machine without IPv6 cannot bind ::1; the IPv4 half still runs.
        let v6 = TcpListener::bind("[::1]:0").ok();
        let v6_port = v6.as_ref().map(|l| l.local_addr().unwrap().port());
        let ports: Vec<u16> = [Some(v4_port), v6_port].into_iter().flatten().collect();

        let found = listening_on(&ports).unwrap();
        let me = std::process::id();
        let ours = listener_of(&found, v4_port, me).expect("our IPv4 listener");
        assert_eq!(ours.addr, IpAddr::from(Ipv4Addr::LOCALHOST));
        assert!(ours.command.is_some(), "{ours:?}");
        if let Some(v6_port) = v6_port {
            let ours = listener_of(&found, v6_port, me).expect("our IPv6 listener");
            assert_eq!(ours.addr, IpAddr::from(Ipv6Addr::LOCALHOST));
        }
        assert!(found.iter().all(|l| ports.contains(&l.port)), "{found:?}");

        let all = listeners().unwrap();
        assert!(listener_of(&all, v4_port, me).is_some());
    }

    #[test]
    fn finds_a_child_process_and_its_command() {
        let (child, line) = python(
            "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); \
             print(s.getsockname()[1], flush=True); time.sleep(60)",
        );
        let port: u16 = line.trim().parse().unwrap();

        let found = listening_on(&[port]).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].pid, Some(child.0.id()));
        assert_eq!(found[0].addr, IpAddr::from(Ipv4Addr::LOCALHOST));
        let command = found[0].command.as_deref().unwrap();
        // A version manager's shim may have exec'd `/full/path/to/python3`; lsof shows the name
        // only.
        assert!(command.contains("python3"), "{command}");
        if cfg!(target_os = "linux") {
            assert!(command.contains("python3 -c import socket"), "{command}");
        }
        assert!(command.chars().count() <= COMMAND_MAX_CHARS, "{command}");
    }

    #[test]
    fn a_forked_server_shows_once_per_process() {
        // The parent listens, forks, and prints its port and the fork's pid. The fork waits on a
        // pipe from the parent, so it ends when the parent is killed.
        let script = "import os,socket,time
s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()
r,w=os.pipe()
pid=os.fork()
if pid==0:
    os.close(w); os.read(r,1); os._exit(0)
os.close(r)
print(s.getsockname()[1], pid, flush=True)
time.sleep(60)";
        let (child, line) = python(script);
        let (port, fork) = line.trim().split_once(' ').unwrap();
        let (port, fork): (u16, u32) = (port.parse().unwrap(), fork.parse().unwrap());
        // Our own second descriptor for one socket is still one listener.
        let ours = TcpListener::bind("127.0.0.1:0").unwrap();
        let our_port = ours.local_addr().unwrap().port();
        let _dup = ours.try_clone().unwrap();

        let found = listening_on(&[port, our_port]).unwrap();
        let pids: Vec<(u16, Option<u32>)> = found.iter().map(|l| (l.port, l.pid)).collect();
        let mut expected = vec![
            (port, Some(child.0.id())),
            (port, Some(fork)),
            (our_port, Some(std::process::id())),
        ];
        expected.sort();
        assert_eq!(pids, expected);
    }

    #[test]
    fn nothing_asked_nothing_found() {
        assert_eq!(listening_on(&[]).unwrap(), Vec::new());
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        // The port was just freed; only a racing test could have taken it, and not as ours.
        let me = std::process::id();
        assert!(listener_of(&listening_on(&[port]).unwrap(), port, me).is_none());
    }

    #[test]
    fn commands_are_joined_and_shortened() {
        assert_eq!(display_command(["a", "b", ""]), Some("a b".into()));
        assert_eq!(display_command(["", ""]), None);
        assert_eq!(
            display_command(["python3", "-c", "import os\nos.fork()\n"]),
            Some("python3 -c import os os.fork()".into())
        );
        let exact = "x".repeat(COMMAND_MAX_CHARS);
        assert_eq!(display_command([exact.as_str()]), Some(exact.clone()));
        let long = "é".repeat(COMMAND_MAX_CHARS + 5);
        let shown = display_command([long.as_str()]).unwrap();
        assert_eq!(shown.chars().count(), COMMAND_MAX_CHARS);
        assert!(shown.ends_with("é…"), "{shown}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn parses_proc_net_tables() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1
";
        let sockets = linux::parse_table(v4).unwrap();
        let expected = linux::Socket {
            addr: if cfg!(target_endian = "little") {
                Ipv4Addr::LOCALHOST.into()
            } else {
                Ipv4Addr::new(1, 0, 0, 127).into()
            },
            port: 8080,
            inode: 4242,
        };
        assert_eq!(sockets, vec![expected]);

        let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0
";
        let sockets = linux::parse_table(v6).unwrap();
        assert_eq!(sockets.len(), 1);
        assert_eq!(sockets[0].port, 80);
        if cfg!(target_endian = "little") {
            assert_eq!(sockets[0].addr, IpAddr::from(Ipv6Addr::LOCALHOST));
        }

        let broken = "header\n   0: 0100007F 00000000:0000 0A\n";
        assert!(linux::parse_table(broken).is_err());
    }

    #[test]
    fn parses_lsof_fields() {
        // lsof 4.95 on Linux prints no `f` lines for `-F pctn`; others may.
        let text = "p501\ncnginx\ntIPv4\nn*:80\ntIPv6\nn*:80\n\
                    p777\ncnode\nf20\ntIPv6\nn[::1]:5173\nf21\ntIPv4\nn127.0.0.1:3000\n";
        let found = lsof::parse(text);
        let summary: Vec<(u16, String, Option<u32>, Option<&str>)> = found
            .iter()
            .map(|l| (l.port, l.addr.to_string(), l.pid, l.command.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (80, "0.0.0.0".into(), Some(501), Some("nginx")),
                (80, "::".into(), Some(501), Some("nginx")),
                (5173, "::1".into(), Some(777), Some("node")),
                (3000, "127.0.0.1".into(), Some(777), Some("node")),
            ]
        );
    }

    /// The lsof path agrees with /proc where both exist (lsof is optional: skip without it).
    #[cfg(target_os = "linux")]
    #[test]
    fn lsof_agrees_with_proc() {
        if which::which("lsof").is_err() {
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let found = lsof::find(&|p| p == port).unwrap();
        let me = std::process::id();
        let ours = listener_of(&found, port, me).expect("lsof sees our listener");
        assert_eq!(ours.addr, IpAddr::from(Ipv4Addr::LOCALHOST));
        assert!(ours.command.is_some());
    }
}
