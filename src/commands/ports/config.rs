//! `ports config`: show the effective settings, or change this machine's overrides in
//! worktree-registry/config.toml (strategy, service ranges, conflict resolution).

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::cli::PortsConfigArgs;
use crate::commands::cwd;
use crate::commands::output;
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::workspace::Workspace;

pub(super) fn run(args: PortsConfigArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let root = ws.here();
    let inputs = ws.inputs(&root)?;
    let ranges = parse_range_flags(&args.ranges)?;
    if args.json {
        return show_json(&inputs.config, &inputs.services, &ws, out);
    }
    if args.strategy.is_none() && args.resolution.is_none() && ranges.is_empty() {
        return show(&inputs.config, &inputs.services, &ws, out);
    }

    let reg = ws.registry.read()?;
    let strategy_after = args
        .strategy
        .as_deref()
        .unwrap_or(match inputs.config.strategy {
            Some(config::StrategyName::Range) => "range",
            _ => "offset",
        });
    for (service, (lo, hi)) in &ranges {
        if !inputs.services.iter().any(|s| &s.key == service)
            && !reg
                .allocated_ports
                .values()
                .any(|p| p.contains_key(service))
        {
            let known: Vec<&str> = inputs.services.iter().map(|s| s.key.as_str()).collect();
            return Err(Error::usage(format!("no service named '{service}'"))
                .hint(format!("services: {}", known.join(", "))));
        }
        let mut clashes = Vec::new();
        for (wt, ports) in &reg.allocated_ports {
            for (s, p) in ports {
                let inside = (*lo..=*hi).contains(p);
                if s != service && inside {
                    clashes.push(format!("{wt} ({s}) holds {p}"));
                } else if s == service && !inside && strategy_after == "range" {
                    clashes.push(format!("{wt} ({s}) holds {p}, outside the new range"));
                }
            }
        }
        if !clashes.is_empty() {
            return Err(Error::failed(format!("Range conflicts with existing allocations: {service} {lo}-{hi}: {}", clashes.join("; ")))
                .hint("run `git atlas ports compact` first, release those worktrees, or choose a range that fits them"));
        }
    }

    let path = ws.local_config_path();
    let mut table = ws.local_config()?;
    if let Some(strategy) = &args.strategy {
        table.insert("strategy".into(), toml::Value::String(strategy.clone()));
    }
    if let Some(list) = &args.resolution {
        let names: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "none")
            .collect();
        for n in &names {
            if !matches!(*n, "skip_to_next" | "expand_range" | "force_release") {
                return Err(Error::usage(format!("unknown resolution strategy '{n}'"))
                    .hint("use skip_to_next, expand_range, force_release, or none"));
            }
        }
        let mut res = toml::Table::new();
        res.insert(
            "auto_resolve".into(),
            toml::Value::Boolean(!names.is_empty()),
        );
        res.insert(
            "strategies".into(),
            toml::Value::Array(
                names
                    .iter()
                    .map(|n| toml::Value::String(n.to_string()))
                    .collect(),
            ),
        );
        table.insert("port_conflict_resolution".into(), toml::Value::Table(res));
    }
    for (service, (lo, hi)) in &ranges {
        let services = table
            .entry("services")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let services = services.as_table_mut().ok_or_else(|| {
            Error::failed(format!("{}: `services` is not a table", path.display()))
        })?;
        let entry = services
            .entry(service.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let entry = entry.as_table_mut().ok_or_else(|| {
            Error::failed(format!(
                "{}: `services.{service}` is not a table",
                path.display()
            ))
        })?;
        entry.insert("range".into(), toml::Value::String(format!("{lo}-{hi}")));
        if !entry.contains_key("port") {
            if let Some(s) = inputs.services.iter().find(|s| &s.key == service) {
                entry.insert("port".into(), toml::Value::Integer(i64::from(s.base)));
            }
        }
    }
    ws.save_local_config(&root, &table)?;
    if let Some(s) = &args.strategy {
        writeln!(
            out,
            "Strategy: {s} (for worktrees allocated from now on; existing ones keep their ports)"
        )?;
    }
    if let Some(r) = &args.resolution {
        writeln!(out, "Conflict resolution: {r}")?;
    }
    for (service, (lo, hi)) in &ranges {
        writeln!(out, "Range of {service}: {lo}-{hi}")?;
    }
    writeln!(out, "Saved in {}", path.display())?;
    Ok(())
}

/// `--web-range 8100-8199` and `--web-range=8100-8199`.
fn parse_range_flags(args: &[String]) -> Result<Vec<(String, (u16, u16))>> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let Some(service) = flag
            .strip_prefix("--")
            .and_then(|f| f.strip_suffix("-range"))
            .filter(|s| !s.is_empty())
        else {
            return Err(Error::usage(format!("unexpected argument '{arg}'"))
                .hint("ranges are given as --<service>-range LO-HI, e.g. --web-range 8100-8199"));
        };
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| Error::usage(format!("{flag} needs a range LO-HI")))?,
        };
        let range =
            config::parse_range(&value).map_err(|m| Error::usage(format!("{flag}: {m}")))?;
        out.push((service.replace('-', "_"), range));
    }
    Ok(out)
}

fn show(
    config: &Config,
    services: &[crate::ports::services::Service],
    ws: &Workspace,
    out: &mut dyn Write,
) -> Result<()> {
    match config.strategy() {
        crate::ports::alloc::Strategy::Offset { min, max } => writeln!(
            out,
            "Strategy: offset (offsets {min}-{max}; the main worktree keeps its base ports)"
        )?,
        crate::ports::alloc::Strategy::Range => writeln!(out, "Strategy: range")?,
    }
    let res = &config.port_conflict_resolution;
    let names: Vec<String> = res
        .strategies
        .iter()
        .map(|s| format!("{s:?}"))
        .map(|s| snake(&s))
        .collect();
    writeln!(
        out,
        "Conflict resolution: {}",
        if res.auto_resolve {
            names.join(", ")
        } else {
            "off".into()
        }
    )?;
    let mut rows = vec![vec![
        "SERVICE".to_string(),
        "LABEL".into(),
        "BASE".into(),
        "RANGE".into(),
        "VARIABLES".into(),
    ]];
    for s in services {
        let vars: Vec<&str> = s.vars.iter().chain(&s.urls).map(String::as_str).collect();
        rows.push(vec![
            s.key.clone(),
            s.label.clone(),
            s.base.to_string(),
            format!("{}-{}", s.range.0, s.range.1),
            vars.join(", "),
        ]);
    }
    output::table(out, &rows)?;
    let path = ws.local_config_path();
    let state = if path.exists() { "" } else { " (none yet)" };
    writeln!(out, "Machine-local settings: {}{state}", path.display())?;
    Ok(())
}

/// `ports config --json`, after `"version"`: what `show` prints.
#[derive(Serialize)]
struct ConfigJson<'a> {
    /// `offset` or `range`.
    strategy: &'static str,
    /// The offset space (offset strategy), or null.
    offsets: Option<OffsetsJson>,
    conflict_resolution: ResolutionJson<'a>,
    services: Vec<ServiceJson<'a>>,
    /// This machine's overrides (worktree-registry/config.toml).
    local_config: LocalConfigJson,
}

#[derive(Serialize)]
struct ResolutionJson<'a> {
    auto_resolve: bool,
    /// `skip_to_next`, `expand_range`, `force_release`, in the order they are tried.
    strategies: &'a [config::ResolutionStrategy],
}

#[derive(Serialize)]
struct OffsetsJson {
    min: u16,
    max: u16,
}

#[derive(Serialize)]
struct ServiceJson<'a> {
    service: &'a str,
    label: &'a str,
    base: u16,
    range: (u16, u16),
    /// `.env` variables holding the port.
    variables: &'a [String],
    /// `.env` variables holding a local connection URL on the port.
    url_variables: &'a [String],
}

#[derive(Serialize)]
struct LocalConfigJson {
    path: PathBuf,
    exists: bool,
}

fn show_json(
    config: &Config,
    services: &[crate::ports::services::Service],
    ws: &Workspace,
    out: &mut dyn Write,
) -> Result<()> {
    let (strategy, offsets) = match config.strategy() {
        crate::ports::alloc::Strategy::Offset { min, max } => {
            ("offset", Some(OffsetsJson { min, max }))
        }
        crate::ports::alloc::Strategy::Range => ("range", None),
    };
    let path = ws.local_config_path();
    let doc = ConfigJson {
        strategy,
        offsets,
        conflict_resolution: ResolutionJson {
            auto_resolve: config.port_conflict_resolution.auto_resolve,
            strategies: &config.port_conflict_resolution.strategies,
        },
        services: services
            .iter()
            .map(|s| ServiceJson {
                service: &s.key,
                label: &s.label,
                base: s.base,
                range: s.range,
                variables: &s.vars,
                url_variables: &s.urls,
            })
            .collect(),
        local_config: LocalConfigJson {
            exists: path.exists(),
            path,
        },
    };
    output::json(out, &doc, true)?;
    Ok(())
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}
