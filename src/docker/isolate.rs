//! What makes a worktree's Compose project its own beside main's, from the project's model
//! ([`super::model`]): its published host ports moved to the worktree's, its fixed container
//! names and volume and network names given back to Compose (which then names them after the
//! worktree's project). Ports that come from a variable (`${DEV_PORT:-8080}`) move through the
//! project directory's `.env`, which every Compose reads; the rest goes into an override file
//! that `COMPOSE_FILE` adds after the project's own files.

use indexmap::IndexMap;

use super::model::{Model, Port};

/// The override file git-atlas writes beside a worktree's compose files.
pub const OVERRIDE_FILE: &str = "compose.atlas.yaml";

/// Which YAML the Compose that will read the override understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Compose v2.24.4 and later: `ports: !override`, `container_name: !reset null`.
    Tags,
    /// Compose v1 (and older v2): plain values only, merged over the project's; a later file's
    /// ports are added to the earlier ones', never instead of them.
    Plain,
}

/// What a worktree's project needs beside the project's own files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Isolation {
    /// The override's body (after git-atlas's header), when anything needs one.
    pub body: Option<String>,
    /// Variables for the project directory's `.env`: the ports published through them.
    pub vars: IndexMap<String, u16>,
    /// Host ports the project publishes as literal numbers that this Compose cannot move (v1).
    pub unmoved: Vec<u16>,
}

/// The isolation of `model`'s project as worktree project `project`, with `moved` giving the
/// worktree's port for each of main's (`None`: it stays).
pub fn isolate(
    model: &Model,
    project: &str,
    moved: &dyn Fn(u16) -> Option<u16>,
    syntax: Syntax,
) -> Isolation {
    let mut out = Isolation::default();
    let mut services = String::new();
    for (name, service) in &model.services {
        let mut lines = String::new();
        if service.container_name.is_some() {
            let value = match syntax {
                Syntax::Tags => "!reset null".to_string(),
                Syntax::Plain => quoted(&format!("{project}_{name}_1")),
            };
            lines.push_str(&format!("    container_name: {value}\n"));
        }
        // A port through a variable moves with it; a literal one needs the list replaced.
        let mut literal = false;
        for port in &service.ports {
            let Some(p) = &port.published else { continue };
            match &p.var {
                Some(var) if p.lo == p.hi => {
                    if let Some(to) = moved(p.lo) {
                        out.vars.insert(var.clone(), to);
                    }
                }
                _ => literal |= (p.lo..=p.hi).any(|b| moved(b).is_some_and(|to| to != b)),
            }
        }
        if literal {
            match syntax {
                Syntax::Tags => {
                    lines.push_str("    ports: !override\n");
                    for port in &service.ports {
                        for entry in entries(port, moved) {
                            lines.push_str(&format!("      - {}\n", quoted(&entry)));
                        }
                    }
                }
                Syntax::Plain => {
                    for port in &service.ports {
                        let Some(p) = port.published.as_ref().filter(|p| p.var.is_none()) else {
                            continue;
                        };
                        out.unmoved.extend(p.lo..=p.hi);
                    }
                }
            }
        }
        if !lines.is_empty() {
            services.push_str(&format!("  {}:\n{lines}", quoted(name)));
        }
    }
    let mut body = String::new();
    if !services.is_empty() {
        body.push_str("services:\n");
        body.push_str(&services);
    }
    for (section, list) in [("volumes", &model.volumes), ("networks", &model.networks)] {
        let named: Vec<&String> = list
            .iter()
            .filter(|(_, r)| r.name.is_some() && !r.external)
            .map(|(k, _)| k)
            .collect();
        if named.is_empty() {
            continue;
        }
        body.push_str(&format!("{section}:\n"));
        for key in named {
            let value = match syntax {
                Syntax::Tags => "!reset null".to_string(),
                Syntax::Plain => quoted(&format!("{project}_{key}")),
            };
            body.push_str(&format!("  {}:\n    name: {value}\n", quoted(key)));
        }
    }
    out.unmoved.sort_unstable();
    out.unmoved.dedup();
    out.body = (!body.is_empty()).then_some(body);
    out
}

/// `port` as short-syntax entries with the worktree's host ports: one per host port of a
/// range whose ports do not stay side by side.
fn entries(port: &Port, moved: &dyn Fn(u16) -> Option<u16>) -> Vec<String> {
    let proto = port
        .protocol
        .as_deref()
        .map(|p| format!("/{p}"))
        .unwrap_or_default();
    let ip = match port.host_ip.as_deref() {
        Some(ip) if ip.contains(':') => format!("[{ip}]:"),
        Some(ip) => format!("{ip}:"),
        None => String::new(),
    };
    let Some(p) = &port.published else {
        return vec![format!("{ip}{}{proto}", port.target)];
    };
    let to = |b: u16| moved(b).unwrap_or(b);
    let (lo, hi) = (to(p.lo), to(p.hi));
    if p.lo == p.hi {
        return vec![format!("{ip}{lo}:{}{proto}", port.target)];
    }
    let contiguous = (p.lo..=p.hi).all(|b| u32::from(to(b)) == u32::from(lo) + u32::from(b - p.lo));
    if contiguous {
        return vec![format!("{ip}{lo}-{hi}:{}{proto}", port.target)];
    }
    // One entry per port, with the container port that goes with it.
    (p.lo..=p.hi)
        .map(|b| format!("{ip}{}:{}{proto}", to(b), port.target_of(b)))
        .collect()
}

/// A YAML double-quoted scalar (JSON's string syntax is one).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::model::{Published, Resource, Service};

    fn model() -> Model {
        let port = |ip: Option<&str>, lo: u16, hi: u16, var: Option<&str>, target: &str| Port {
            host_ip: ip.map(str::to_string),
            published: Some(Published {
                lo,
                hi,
                var: var.map(str::to_string),
            }),
            target: target.into(),
            protocol: None,
        };
        let mut m = Model::default();
        m.services.insert(
            "database".into(),
            Service {
                container_name: Some("database".into()),
                ports: vec![
                    port(Some("127.0.0.1"), 54320, 54320, None, "5432"),
                    port(None, 7000, 7001, None, "7000-7001"),
                ],
                profiles: vec![],
            },
        );
        m.services.insert(
            "app".into(),
            Service {
                container_name: None,
                ports: vec![port(None, 8080, 8080, Some("DEV_PORT"), "80")],
                profiles: vec![],
            },
        );
        m.volumes.insert(
            "data".into(),
            Resource {
                name: Some("documenso-data".into()),
                external: false,
            },
        );
        m.volumes.insert(
            "shared".into(),
            Resource {
                name: Some("team-cache".into()),
                external: true,
            },
        );
        m
    }

    fn moved(base: u16) -> Option<u16> {
        Some(match base {
            7001 => 7900,
            b => b + 828,
        })
    }

    #[test]
    fn tags_replace_literal_ports_and_reset_names() {
        let iso = isolate(&model(), "proj-wt", &moved, Syntax::Tags);
        assert_eq!(
            iso.body.as_deref(),
            Some(concat!(
                "services:\n",
                "  \"database\":\n",
                "    container_name: !reset null\n",
                "    ports: !override\n",
                "      - \"127.0.0.1:55148:5432\"\n",
                "      - \"7828:7000\"\n",
                "      - \"7900:7001\"\n",
                "volumes:\n",
                "  \"data\":\n",
                "    name: !reset null\n",
            ))
        );
        assert_eq!(iso.vars.get("DEV_PORT"), Some(&8908));
        assert!(iso.unmoved.is_empty());
    }

    #[test]
    fn plain_syntax_names_everything_and_says_what_it_cannot_move() {
        let iso = isolate(&model(), "proj-wt", &moved, Syntax::Plain);
        let body = iso.body.unwrap();
        assert!(
            body.contains("container_name: \"proj-wt_database_1\""),
            "{body}"
        );
        assert!(body.contains("name: \"proj-wt_data\""), "{body}");
        assert!(!body.contains('!'), "{body}");
        assert_eq!(iso.unmoved, [7000, 7001, 54320]);
        assert_eq!(iso.vars.get("DEV_PORT"), Some(&8908));
    }
}
