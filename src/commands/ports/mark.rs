//! `ports mark-unavailable` and `ports mark-available`.

use std::io::Write;

use crate::cli::{MarkUnavailableArgs, PortArg};
use crate::commands::cwd;
use crate::error::Result;
use crate::workspace::Workspace;

pub(super) fn unavailable(args: MarkUnavailableArgs, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let reason = if args.reason.is_empty() {
        "marked unavailable".to_string()
    } else {
        args.reason.join(" ")
    };
    let holder = ws.update(|reg, _| {
        reg.unavailable_ports.insert(args.port, reason.clone());
        Ok(reg.holder(args.port, ""))
    })?;
    writeln!(out, "Port {} marked unavailable: {reason}", args.port)?;
    if let Some(holder) = holder {
        eprintln!(
            "git-atlas: note: port {} is {holder}; it keeps it until reassigned (`git atlas ports compact` or `ports reset`)",
            args.port
        );
    }
    Ok(())
}

pub(super) fn available(args: PortArg, out: &mut dyn Write) -> Result<()> {
    let ws = Workspace::discover(&cwd()?)?;
    let was = ws.update(|reg, _| Ok(reg.unavailable_ports.remove(&args.port)))?;
    match was {
        Some(reason) => writeln!(out, "Port {} is available again (was: {reason})", args.port)?,
        None => writeln!(out, "Port {} was not marked unavailable", args.port)?,
    }
    Ok(())
}
