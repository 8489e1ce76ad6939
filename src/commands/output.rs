//! Small helpers for human output: aligned tables (coloured on a terminal) and port summaries.

use std::io::{self, Write};

use indexmap::IndexMap;
use serde::Serialize;

/// Print rows with each column padded to its widest cell (the last column is not padded). The
/// first row is the header: bold when colour is on (`crate::term`), and then a cell that is a
/// state word is green (fine), yellow (needs a look) or red (failed).
pub fn table(out: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let color = crate::term::color();
    for (r, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            // Padding is counted on the plain text; a cell's own indentation stays unpainted.
            let text = cell.trim_start();
            line.push_str(&cell[..cell.len() - text.len()]);
            match (color, r) {
                (false, _) => line.push_str(text),
                (true, 0) => line.push_str(&crate::term::paint("1", text)),
                (true, _) => match tone(text) {
                    Some(code) => line.push_str(&crate::term::paint(code, text)),
                    None => line.push_str(text),
                },
            }
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The colour of a state cell: SGR 32 green, 33 yellow, 31 red; others stay plain.
fn tone(cell: &str) -> Option<&'static str> {
    let cell = cell.trim();
    match cell {
        "ok" | "yes" | "installed" | "running" | "listening" => Some("32"),
        "missing" | "locked" | "no" | "not installed" | "name clash" | "created" | "paused" => {
            Some("33")
        }
        _ if cell.starts_with("yes (") || cell.starts_with("Up ") => Some("32"),
        _ if cell.starts_with("exited") || cell.starts_with("Exit") => Some("33"),
        _ if cell.starts_with("? ") || cell.starts_with("error") || cell == "dead" => Some("31"),
        _ => None,
    }
}

/// `app:3828 vite:6001`
pub fn ports_line(ports: &IndexMap<String, u16>) -> String {
    ports
        .iter()
        .map(|(k, p)| format!("{k}:{p}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `value` as JSON and a newline: pretty for the listing commands, one line for the prompt.
pub fn json(out: &mut dyn Write, value: &impl Serialize, pretty: bool) -> io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, value)?;
    } else {
        serde_json::to_writer(&mut *out, value)?;
    }
    writeln!(out)
}
