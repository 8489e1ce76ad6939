//! Is a port free right now? A bind test on every address family, as a server would bind.

use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};

/// True if something is bound to `port` (on any address), so a server could not listen there.
pub fn in_use(port: u16) -> bool {
    if TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_err() {
        return true;
    }
    match TcpListener::bind((Ipv6Addr::UNSPECIFIED, port)) {
        Ok(_) => false,
        // No IPv6 on this machine: the IPv4 test is all there is.
        Err(e) => e.kind() == std::io::ErrorKind::AddrInUse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_a_real_listener() {
        for addr in ["127.0.0.1:0", "[::1]:0", "0.0.0.0:0"] {
            let Ok(listener) = TcpListener::bind(addr) else {
                continue;
            };
            let port = listener.local_addr().unwrap().port();
            assert!(in_use(port), "{addr} -> {port}");
        }
    }

    /// A closed port reads as free. Another test may grab the same ephemeral port between the
    /// close and the check, so a few fresh ports are tried; one must read as free.
    #[test]
    fn sees_a_closed_port_as_free() {
        let free_once = (0..5).any(|_| {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            !in_use(port)
        });
        assert!(free_once);
    }
}
