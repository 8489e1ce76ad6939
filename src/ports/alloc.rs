//! Port allocation as a pure function: (services, taken ports, strategy, name) -> ports.
//!
//! What "taken" means (other worktrees, other repositories, marked unavailable, bound right now)
//! is the caller's business; this module only walks candidates in a fixed order.

use indexmap::IndexMap;
use md5::{Digest, Md5};

/// What one service needs from the allocator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub key: String,
    pub base: u16,
    /// The range the range strategy searches (inclusive).
    pub range: (u16, u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `base + offset` for every service; one offset per worktree.
    Offset { min: u16, max: u16 },
    /// The lowest free port of each service's range.
    Range,
}

/// The `port_conflict_resolution` switches that change how candidates are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    pub skip_to_next: bool,
    pub expand_range: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub offset: Option<u16>,
    pub ports: IndexMap<String, u16>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocError {
    /// Range strategy: every port of the range is taken.
    RangeExhausted { service: String, range: (u16, u16) },
    /// Offset strategy: the worktree's own offset clashes and `skip_to_next` is off.
    OffsetTaken {
        offset: u16,
        port: u16,
        holder: String,
    },
    /// Offset strategy: no offset in the space gives free ports for every service.
    NoOffset { min: u16, max: u16 },
}

impl std::fmt::Display for AllocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllocError::RangeExhausted { service, range: (lo, hi) } => {
                write!(f, "No available ports in {service} range ({lo}-{hi})")
            }
            AllocError::OffsetTaken { offset, port, holder } => {
                write!(f, "port {port} (offset {offset}) is taken: {holder}")
            }
            AllocError::NoOffset { min, max } => write!(
                f,
                "No available port offset in {min}-{max}: every offset gives at least one port that is taken or above 65535"
            ),
        }
    }
}

/// The seed's deterministic offset: `100 + (first 4 hex digits of md5(name) mod 900)`, generalised
/// to the configured `min..=max` space.
pub fn offset_for(name: &str, min: u16, max: u16) -> u16 {
    let digest = Md5::digest(name.as_bytes());
    let first4 = u32::from(u16::from_be_bytes([digest[0], digest[1]]));
    let span = u32::from(max - min) + 1;
    min + (first4 % span) as u16
}

/// Allocate ports for worktree `name`. `taken(port)` says who holds a port, or `None` if it is
/// free. The main worktree keeps the base ports (offset 0) under the offset strategy.
pub fn allocate(
    name: &str,
    is_main: bool,
    needs: &[Need],
    strategy: Strategy,
    resolution: Resolution,
    taken: &dyn Fn(u16) -> Option<String>,
) -> Result<Allocation, AllocError> {
    let mut alloc = match strategy {
        Strategy::Offset { .. } if is_main => Allocation {
            offset: Some(0),
            ports: needs.iter().map(|n| (n.key.clone(), n.base)).collect(),
            warnings: Vec::new(),
        },
        Strategy::Offset { min, max } => by_offset(name, needs, min, max, resolution, taken)?,
        Strategy::Range => by_range(needs, resolution, taken)?,
    };
    // The main worktree's ports are the ones it already uses: nothing new to warn about.
    for (key, port) in alloc.ports.iter().filter(|_| !is_main) {
        if *port < 1024 {
            alloc.warnings.push(format!(
                "port {port} ({key}) is below 1024 and may need privileges to bind"
            ));
        }
    }
    Ok(alloc)
}

fn by_offset(
    name: &str,
    needs: &[Need],
    min: u16,
    max: u16,
    resolution: Resolution,
    taken: &dyn Fn(u16) -> Option<String>,
) -> Result<Allocation, AllocError> {
    let first = offset_for(name, min, max);
    let span = max - min + 1;
    let tries = if resolution.skip_to_next { span } else { 1 };
    for i in 0..tries {
        let offset = min + (first - min + i) % span;
        match ports_at_offset(needs, offset, taken) {
            Ok(ports) => {
                let mut warnings = Vec::new();
                if offset != first {
                    warnings.push(format!(
                        "offset {first} was taken; using the next free offset, {offset}"
                    ));
                }
                return Ok(Allocation {
                    offset: Some(offset),
                    ports,
                    warnings,
                });
            }
            Err((port, holder)) if !resolution.skip_to_next => {
                return Err(AllocError::OffsetTaken {
                    offset,
                    port,
                    holder,
                });
            }
            Err(_) => {}
        }
    }
    Err(AllocError::NoOffset { min, max })
}

fn ports_at_offset(
    needs: &[Need],
    offset: u16,
    taken: &dyn Fn(u16) -> Option<String>,
) -> Result<IndexMap<String, u16>, (u16, String)> {
    let mut ports = IndexMap::new();
    for need in needs {
        let Some(port) = need.base.checked_add(offset) else {
            return Err((u16::MAX, format!("{} + {offset} is above 65535", need.base)));
        };
        if let Some(holder) = taken(port) {
            return Err((port, holder));
        }
        ports.insert(need.key.clone(), port);
    }
    Ok(ports)
}

fn by_range(
    needs: &[Need],
    resolution: Resolution,
    taken: &dyn Fn(u16) -> Option<String>,
) -> Result<Allocation, AllocError> {
    let mut ports: IndexMap<String, u16> = IndexMap::new();
    let mut warnings = Vec::new();
    for need in needs {
        let (lo, hi) = need.range;
        let free = |p: &u16| !ports.values().any(|q| q == p) && taken(*p).is_none();
        let port = match (lo..=hi).find(free) {
            Some(p) => p,
            None if resolution.expand_range => match hi
                .checked_add(1)
                .and_then(|start| (start..=u16::MAX).find(free))
            {
                Some(p) => {
                    warnings.push(format!(
                        "{} range ({lo}-{hi}) is full; expanded it to {p}",
                        need.key
                    ));
                    p
                }
                None => {
                    return Err(AllocError::RangeExhausted {
                        service: need.key.clone(),
                        range: need.range,
                    })
                }
            },
            None => {
                return Err(AllocError::RangeExhausted {
                    service: need.key.clone(),
                    range: need.range,
                })
            }
        };
        ports.insert(need.key.clone(), port);
    }
    Ok(Allocation {
        offset: None,
        ports,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const OFFSET: Strategy = Strategy::Offset { min: 100, max: 999 };
    const SKIP: Resolution = Resolution {
        skip_to_next: true,
        expand_range: false,
    };

    fn need(key: &str, base: u16) -> Need {
        Need {
            key: key.into(),
            base,
            range: (base, base.saturating_add(99)),
        }
    }

    fn free(_: u16) -> Option<String> {
        None
    }

    #[test]
    fn offsets_follow_the_formula_not_the_seed_table() {
        assert_eq!(offset_for("feature-auth", 100, 999), 828);
        assert_eq!(offset_for("feature-api", 100, 999), 242);
        assert_eq!(offset_for("bugfix-login", 100, 999), 830);
        assert_eq!(offset_for("main-backup", 100, 999), 825);
    }

    #[test]
    fn main_keeps_base_ports() {
        let a = allocate("main", true, &[need("web", 3000)], OFFSET, SKIP, &free).unwrap();
        assert_eq!(a.offset, Some(0));
        assert_eq!(a.ports["web"], 3000);
    }

    #[test]
    fn clash_on_another_service_port_moves_to_next_offset() {
        // bases 3000 and 3001: another worktree's api at 3001+347 = 3348 collides with web at 3000+348.
        let held: HashMap<u16, String> = [(3348, "x/api".to_string())].into();
        let taken = |p: u16| held.get(&p).cloned();
        let name = (0..)
            .map(|i| format!("w{i}"))
            .find(|n| offset_for(n, 100, 999) == 348)
            .unwrap();
        let a = allocate(
            &name,
            false,
            &[need("web", 3000), need("api", 3001)],
            OFFSET,
            SKIP,
            &taken,
        )
        .unwrap();
        assert_eq!(a.offset, Some(349));
        assert_eq!(a.ports["web"], 3349);
        assert_eq!(a.warnings.len(), 1);
        let strict = Resolution {
            skip_to_next: false,
            expand_range: false,
        };
        let e = allocate(&name, false, &[need("web", 3000)], OFFSET, strict, &taken).unwrap_err();
        assert!(
            matches!(e, AllocError::OffsetTaken { port: 3348, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn offsets_that_overflow_are_skipped() {
        let a = allocate(
            "feature-auth",
            false,
            &[need("hi", 65000)],
            OFFSET,
            SKIP,
            &free,
        )
        .unwrap();
        // feature-auth's own offset (828) would give 65828: it must wrap to an offset that fits.
        let offset = a.offset.unwrap();
        assert!((100..=535).contains(&offset), "{offset}");
        assert_eq!(a.ports["hi"], 65000 + offset);
        let e = allocate("x", false, &[need("hi", 65500)], OFFSET, SKIP, &free).unwrap_err();
        assert_eq!(e, AllocError::NoOffset { min: 100, max: 999 });
    }

    #[test]
    fn range_takes_lowest_free_and_reports_exhaustion() {
        let held: HashMap<u16, String> =
            [(8080, "main".to_string()), (8082, "b".to_string())].into();
        let taken = |p: u16| held.get(&p).cloned();
        let web = Need {
            key: "web".into(),
            base: 8080,
            range: (8080, 8082),
        };
        let a = allocate(
            "a",
            false,
            std::slice::from_ref(&web),
            Strategy::Range,
            SKIP,
            &taken,
        )
        .unwrap();
        assert_eq!(a.ports["web"], 8081);
        let all = |_: u16| Some("someone".to_string());
        let e = allocate(
            "a",
            false,
            std::slice::from_ref(&web),
            Strategy::Range,
            SKIP,
            &all,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "No available ports in web range (8080-8082)");
        let expand = Resolution {
            skip_to_next: true,
            expand_range: true,
        };
        let full = |p: u16| (p <= 8082).then(|| "x".to_string());
        let a = allocate("a", false, &[web], Strategy::Range, expand, &full).unwrap();
        assert_eq!(a.ports["web"], 8083);
    }

    /// Allocating many worktrees one after another, each seeing the ports of the ones before,
    /// never hands out a port twice and stays deterministic.
    #[test]
    fn sequential_allocations_never_share_a_port() {
        for strategy in [OFFSET, Strategy::Range] {
            let needs = [
                need("web", 3000),
                need("api", 3001),
                need("db", 5432),
                need("redis", 6379),
            ];
            let run = || {
                let mut held: HashMap<u16, String> = HashMap::new();
                let mut out = Vec::new();
                for i in 0..45 {
                    let name = format!("feature-{i}");
                    let taken = |p: u16| held.get(&p).cloned();
                    let a = allocate(&name, false, &needs, strategy, SKIP, &taken).unwrap();
                    for p in a.ports.values() {
                        assert!(
                            held.insert(*p, name.clone()).is_none(),
                            "{p} handed out twice"
                        );
                    }
                    out.push(a.ports);
                }
                out
            };
            assert_eq!(run(), run());
        }
    }
}
