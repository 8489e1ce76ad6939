//! Small helpers for human output (aligned tables, coloured on a terminal, and port summaries)
//! and for the `--json` documents, which all share one envelope and one stability rule.

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

// ---------------------------------------------------------------------------------------------
// The JSON contract: every `--json` document goes through `json` or `json_list` below, so every
// one is an object whose first key is `"version"`.
//
// Stability rule (README, "JSON output"): `JSON_VERSION` changes only when a field is removed or
// renamed, or changes its type or meaning. Fields may be added at any time without a change, and
// consumers must ignore keys they do not know. A field with no value is present with `null`,
// never left out.

/// The version of the JSON documents, the same for every command.
pub const JSON_VERSION: u32 = 1;

/// `{"version": JSON_VERSION, …payload's own keys}`: `payload` must serialise as an object.
#[derive(Serialize)]
struct Versioned<'a, T: ?Sized> {
    version: u32,
    #[serde(flatten)]
    payload: &'a T,
}

/// One key and its value, serialised as a one-entry object (for `json_list`).
struct Keyed<'a, T: ?Sized> {
    key: &'a str,
    value: &'a T,
}

impl<T: Serialize + ?Sized> Serialize for Keyed<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(self.key, self.value)?;
        map.end()
    }
}

/// `payload`'s fields after `"version"`, as JSON and a newline: pretty for the listing commands,
/// one line for the prompt. `payload` must serialise as an object (a struct or a map).
pub fn json(out: &mut dyn Write, payload: &impl Serialize, pretty: bool) -> io::Result<()> {
    let doc = Versioned {
        version: JSON_VERSION,
        payload,
    };
    if pretty {
        serde_json::to_writer_pretty(&mut *out, &doc)?;
    } else {
        serde_json::to_writer(&mut *out, &doc)?;
    }
    writeln!(out)
}

/// `{"version": …, "<key>": items}`, pretty: a listing's items under one named key.
pub fn json_list(out: &mut dyn Write, key: &str, items: &impl Serialize) -> io::Result<()> {
    json(out, &Keyed { key, value: items }, true)
}
