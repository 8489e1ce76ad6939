//! Who is listening on which TCP port: the kernel's socket tables mapped to processes.
//!
//! Linux: `/proc/net/tcp{,6}` (LISTEN sockets and their inodes), then `/proc/*/fd` to find the
//! processes holding those inodes. Elsewhere: `lsof`'s field output.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub port: u16,
    pub addr: IpAddr,
    pub pid: Option<u32>,
    pub command: Option<String>,
}

/// Every listening TCP socket (IPv4 and IPv6), with its owning process when we may see it.
pub fn listeners() -> std::io::Result<Vec<Listener>> {
    imp::listeners(None)
}

/// Listeners on any of `ports`.
pub fn listening_on(ports: &[u16]) -> std::io::Result<Vec<Listener>> {
    if ports.is_empty() {
        return Ok(Vec::new());
    }
    imp::listeners(Some(ports))
}

#[cfg(target_os = "linux")]
mod imp {
    use std::collections::HashMap;
    use std::fs;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::Listener;

    const LISTEN: &str = "0A";

    pub fn listeners(only: Option<&[u16]>) -> std::io::Result<Vec<Listener>> {
        let mut sockets: Vec<(u16, IpAddr, u64)> = Vec::new();
        for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
            let Ok(table) = fs::read_to_string(file) else {
                continue;
            };
            sockets.extend(table.lines().skip(1).filter_map(|l| parse_line(l, v6)));
        }
        if let Some(ports) = only {
            sockets.retain(|(port, _, _)| ports.contains(port));
        }
        let owners = if sockets.is_empty() {
            HashMap::new()
        } else {
            inode_owners(sockets.iter().map(|s| s.2).collect())
        };
        let mut out: Vec<Listener> = Vec::new();
        for (port, addr, inode) in sockets {
            let procs = owners.get(&inode).cloned().unwrap_or_default();
            if procs.is_empty() {
                out.push(Listener {
                    port,
                    addr,
                    pid: None,
                    command: None,
                });
            }
            for pid in procs {
                let l = Listener {
                    port,
                    addr,
                    pid: Some(pid),
                    command: command(pid),
                };
                if !out.contains(&l) {
                    out.push(l);
                }
            }
        }
        Ok(out)
    }

    /// `  0: 0100007F:1F90 00000000:0000 0A ... uid timeout inode`
    fn parse_line(line: &str, v6: bool) -> Option<(u16, IpAddr, u64)> {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != LISTEN {
            return None;
        }
        let (addr, port) = f[1].split_once(':')?;
        let port = u16::from_str_radix(port, 16).ok()?;
        let inode = f[9].parse().ok()?;
        Some((port, parse_addr(addr, v6)?, inode))
    }

    /// The kernel prints each 32-bit word of the address in host (little-endian) order.
    fn parse_addr(hex: &str, v6: bool) -> Option<IpAddr> {
        let words: Vec<u32> = (0..hex.len() / 8)
            .map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16))
            .collect::<Result<_, _>>()
            .ok()?;
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        if v6 {
            let b: [u8; 16] = bytes.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        } else {
            let b: [u8; 4] = bytes.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
    }

    /// Which processes hold each socket inode (a forked server shares one). Processes we may not
    /// read are skipped.
    fn inode_owners(wanted: Vec<u64>) -> HashMap<u64, Vec<u32>> {
        let mut owners: HashMap<u64, Vec<u32>> = HashMap::new();
        let Ok(procs) = fs::read_dir("/proc") else {
            return owners;
        };
        for entry in procs.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
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
                let Some(inode) = target
                    .to_str()
                    .and_then(|t| t.strip_prefix("socket:["))
                    .and_then(|t| t.strip_suffix(']'))
                    .and_then(|t| t.parse::<u64>().ok())
                else {
                    continue;
                };
                if wanted.contains(&inode) {
                    let pids = owners.entry(inode).or_default();
                    if !pids.contains(&pid) {
                        pids.push(pid);
                    }
                }
            }
        }
        owners
    }

    /// The command line, space-joined and shortened; the process name if it has none.
    fn command(pid: u32) -> Option<String> {
        let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let text = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(String::from_utf8_lossy)
            .collect::<Vec<_>>()
            .join(" ");
        // One line whatever the arguments hold.
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let text = if text.is_empty() {
            fs::read_to_string(format!("/proc/{pid}/comm"))
                .ok()?
                .trim()
                .to_string()
        } else {
            text
        };
        Some(if text.chars().count() > 80 {
            text.chars().take(77).collect::<String>() + "..."
        } else {
            text
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::net::{IpAddr, Ipv4Addr};

    use super::Listener;

    /// `lsof -nP -iTCP -sTCP:LISTEN -F pcn`: `p<pid>`, `c<command>`, `n<addr>:<port>` lines.
    pub fn listeners(only: Option<&[u16]>) -> std::io::Result<Vec<Listener>> {
        let Ok(out) = duct::cmd("lsof", ["-nP", "-iTCP", "-sTCP:LISTEN", "-F", "pcn"])
            .stderr_null()
            .stdout_capture()
            .unchecked()
            .run()
        else {
            return Ok(Vec::new());
        };
        let mut result = Vec::new();
        let (mut pid, mut cmd) = (None, None);
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (tag, rest) = line.split_at(1.min(line.len()));
            match tag {
                "p" => pid = rest.parse().ok(),
                "c" => cmd = Some(rest.to_string()),
                "n" => {
                    let Some((addr, port)) = rest.rsplit_once(':') else {
                        continue;
                    };
                    let Ok(port) = port.parse::<u16>() else {
                        continue;
                    };
                    if only.is_some_and(|p| !p.contains(&port)) {
                        continue;
                    }
                    let addr = addr
                        .trim_matches(['[', ']'])
                        .parse()
                        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                    result.push(Listener {
                        port,
                        addr,
                        pid,
                        command: cmd.clone(),
                    });
                }
                _ => {}
            }
        }
        Ok(result)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    #[test]
    fn finds_our_own_listeners() {
        for bind in ["127.0.0.1:0", "[::1]:0"] {
            let Ok(l) = std::net::TcpListener::bind(bind) else {
                continue;
            };
            let port = l.local_addr().unwrap().port();
            let found = listening_on(&[port]).unwrap();
            assert!(
                found
                    .iter()
                    .any(|f| f.port == port && f.pid == Some(std::process::id())),
                "{bind}: {found:?}"
            );
            assert_eq!(found[0].addr, l.local_addr().unwrap().ip());
        }
    }

    #[test]
    fn finds_a_child_process_and_its_command() {
        let mut child = Command::new("python3")
            .args(["-c", "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap();
        let found = listening_on(&[port]).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let l = found
            .iter()
            .find(|l| l.pid == Some(child.id()))
            .unwrap_or_else(|| panic!("{found:?}"));
        assert!(l.command.as_deref().unwrap().contains("python3"), "{l:?}");
        assert!(listening_on(&[port]).unwrap().is_empty());
    }
}
