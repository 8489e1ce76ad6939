//! Where the values are in a dotenv or YAML template: the scalar each `${…}` placeholder sits in,
//! so that [`super::template::render_as`] can quote a value for the place it lands in.
//!
//! Both scanners read the template's own text (placeholders not yet replaced) and are lenient:
//! what they do not recognise is left out of every span and rendered as it is.

use std::ops::Range;

/// One value of a template and what kind of place it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Byte range in the template, quotes included.
    pub range: Range<usize>,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A dotenv value after `KEY=`: `None` bare, else its quote; `key` names the variable.
    Dotenv { quote: Option<char>, key: String },
    /// A plain YAML scalar; `key` when it is a mapping key, `flow` inside `[…]` / `{…}`.
    YamlPlain { key: bool, flow: bool },
    /// A quoted YAML scalar (`'` or `"`), quotes included in the range.
    YamlQuoted { quote: char, key: bool },
    /// One line of a `|` or `>` block scalar.
    YamlBlock,
}

/// The values of a dotenv file: one span per assignment, from after `=` to the end of the value.
pub fn dotenv(text: &str) -> Vec<Span> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let end_of_line = line_end(b, i);
        let next_line = (end_of_line + 1).min(b.len());
        let mut j = skip_blanks(b, i, end_of_line);
        if j == end_of_line || b[j] == b'#' {
            i = next_line;
            continue;
        }
        if text[j..end_of_line].starts_with("export") && matches!(b.get(j + 6), Some(b' ' | b'\t'))
        {
            j = skip_blanks(b, j + 6, end_of_line);
        }
        let key_start = j;
        while j < end_of_line && (b[j].is_ascii_alphanumeric() || b"_.-".contains(&b[j])) {
            j += 1;
        }
        let key = text[key_start..j].to_string();
        j = skip_blanks(b, j, end_of_line);
        if key.is_empty() || j == end_of_line || b[j] != b'=' {
            i = next_line;
            continue;
        }
        j = skip_blanks(b, j + 1, end_of_line);
        if j < b.len() && (b[j] == b'\'' || b[j] == b'"') {
            let Some(close) = closing_quote(b, j, false) else {
                break;
            };
            spans.push(Span {
                range: j..close + 1,
                kind: Kind::Dotenv {
                    quote: Some(b[j] as char),
                    key,
                },
            });
            i = (line_end(b, close) + 1).min(b.len());
            continue;
        }
        // Unquoted: the value ends at a ` #` comment or the line's end, trailing blanks excluded.
        let mut end = j;
        let mut k = j;
        while k < end_of_line {
            if b[k] == b'#' && k > j && matches!(b[k - 1], b' ' | b'\t') {
                break;
            }
            if !matches!(b[k], b' ' | b'\t' | b'\r') {
                end = k + 1;
            }
            k += 1;
        }
        if end > j {
            spans.push(Span {
                range: j..end,
                kind: Kind::Dotenv { quote: None, key },
            });
        }
        i = next_line;
    }
    spans
}

/// The scalars of a YAML document. Understands what Compose files are made of: block mappings
/// and sequences, flow collections, plain, quoted and block scalars, comments, anchors, aliases
/// and tags. A multi-line plain scalar is taken line by line.
pub fn yaml(text: &str) -> Vec<Span> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut flow = 0usize;
    let mut i = 0;
    // While in a block scalar: the column its content must be indented beyond.
    let mut block: Option<usize> = None;
    let mut line_start = 0;
    // The column of the node the next `|` / `>` would belong to (a key, or a `-` entry).
    let mut node_col = 0;
    let mut at_line_start = true;
    while i < b.len() {
        if at_line_start {
            line_start = i;
            let end = line_end(b, i);
            let mut j = i;
            while j < end && b[j] == b' ' {
                j += 1;
            }
            let blank = text[j..end].trim().is_empty();
            if let Some(parent) = block {
                if blank || j - i > parent {
                    if !blank {
                        spans.push(Span {
                            range: j..trim_cr(b, j, end),
                            kind: Kind::YamlBlock,
                        });
                    }
                    i = (end + 1).min(b.len());
                    continue;
                }
                block = None;
            }
            at_line_start = false;
            node_col = j - i;
            i = j;
            if flow == 0 && j == line_start {
                let rest = &text[j..end];
                if rest.starts_with('%') {
                    i = end;
                } else if (rest.starts_with("---") || rest.starts_with("..."))
                    && matches!(b.get(j + 3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
                {
                    i = j + 3;
                }
            }
            continue;
        }
        let c = b[i];
        let next_is_blank = matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n'));
        match c {
            b'\n' => {
                at_line_start = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => i = line_end(b, i),
            b'[' | b'{' => {
                flow += 1;
                i += 1;
            }
            b']' | b'}' => {
                flow = flow.saturating_sub(1);
                i += 1;
            }
            b',' if flow > 0 => i += 1,
            b'-' | b'?' | b':'
                if next_is_blank || (flow > 0 && c != b'-' && is_flow_indicator(b.get(i + 1))) =>
            {
                if c == b'-' {
                    node_col = i - line_start;
                }
                i += 1;
            }
            b'|' | b'>' if flow == 0 => {
                block = Some(node_col);
                i = line_end(b, i);
            }
            b'&' | b'*' | b'!' => {
                while i < b.len()
                    && !b" \t\r\n".contains(&b[i])
                    && !(flow > 0 && is_flow_indicator(Some(&b[i])))
                {
                    i += 1;
                }
            }
            b'\'' | b'"' => {
                let Some(close) = closing_quote(b, i, true) else {
                    break;
                };
                let key = is_key_after(b, close + 1, flow > 0);
                if key {
                    node_col = i - line_start;
                }
                spans.push(Span {
                    range: i..close + 1,
                    kind: Kind::YamlQuoted {
                        quote: c as char,
                        key,
                    },
                });
                i = close + 1;
            }
            _ => {
                let (end, key) = plain_end(b, i, flow > 0);
                if key {
                    node_col = i - line_start;
                }
                spans.push(Span {
                    range: i..end,
                    kind: Kind::YamlPlain {
                        key,
                        flow: flow > 0,
                    },
                });
                i = end.max(i + 1);
            }
        }
    }
    spans
}

/// Where a plain scalar starting at `start` ends (trailing blanks excluded), and whether it is a
/// mapping key (it ends at `: `). A `${…}` or `$${…}` placeholder is one unit: its braces are
/// not flow indicators.
fn plain_end(b: &[u8], start: usize, flow: bool) -> (usize, bool) {
    let mut end = start;
    let mut k = start;
    while k < b.len() && b[k] != b'\n' {
        let c = b[k];
        if c == b'$' {
            let open = if b[k..].starts_with(b"$${") {
                Some(k + 2)
            } else if b[k..].starts_with(b"${") {
                Some(k + 1)
            } else {
                None
            };
            if let Some(close) = open.and_then(|o| {
                b[o..]
                    .iter()
                    .position(|&x| x == b'}' || x == b'\n')
                    .map(|p| o + p)
            }) {
                if b[close] == b'}' {
                    k = close + 1;
                    end = k;
                    continue;
                }
            }
        }
        let next = b.get(k + 1);
        if c == b':'
            && (matches!(next, None | Some(b' ' | b'\t' | b'\r' | b'\n'))
                || (flow && is_flow_indicator(next)))
        {
            return (end, true);
        }
        if c == b'#' && k > start && matches!(b[k - 1], b' ' | b'\t') {
            break;
        }
        if flow && is_flow_indicator(Some(&c)) {
            break;
        }
        if !matches!(c, b' ' | b'\t' | b'\r') {
            end = k + 1;
        }
        k += 1;
    }
    (end, false)
}

/// Whether a `:` that makes the scalar before it a key follows at `i` (after blanks).
fn is_key_after(b: &[u8], mut i: usize, flow: bool) -> bool {
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    b.get(i) == Some(&b':')
        && (matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
            || (flow && is_flow_indicator(b.get(i + 1))))
}

fn is_flow_indicator(c: Option<&u8>) -> bool {
    matches!(c, Some(b',' | b'[' | b']' | b'{' | b'}'))
}

/// The closing quote of the value opening at `open`: for `"`, one not escaped by a backslash;
/// for `'`, the next one, or in YAML (`doubled`) the next one that is not `''`.
fn closing_quote(b: &[u8], open: usize, doubled: bool) -> Option<usize> {
    let q = b[open];
    let mut k = open + 1;
    while k < b.len() {
        if q == b'"' && b[k] == b'\\' {
            k += 2;
            continue;
        }
        if b[k] == q {
            if doubled && q == b'\'' && b.get(k + 1) == Some(&b'\'') {
                k += 2;
                continue;
            }
            return Some(k);
        }
        k += 1;
    }
    None
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| from + p)
}

fn skip_blanks(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

fn trim_cr(b: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && matches!(b[end - 1], b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, spans: &[Span]) -> Vec<(String, Kind)> {
        spans
            .iter()
            .map(|s| (text[s.range.clone()].to_string(), s.kind.clone()))
            .collect()
    }

    #[test]
    fn dotenv_values() {
        let t =
            "# c\nA=${X}\nexport B = 'q ${X}' # c\nC=\"a\\\"${X}\"\nD=x ${X} # c\r\nbad line\nE=\n";
        let got = texts(t, &dotenv(t));
        let d = |q: Option<char>, k: &str| Kind::Dotenv {
            quote: q,
            key: k.into(),
        };
        assert_eq!(
            got,
            vec![
                ("${X}".into(), d(None, "A")),
                ("'q ${X}'".into(), d(Some('\''), "B")),
                ("\"a\\\"${X}\"".into(), d(Some('"'), "C")),
                ("x ${X}".into(), d(None, "D")),
            ]
        );
    }

    #[test]
    fn yaml_scalars() {
        let t = "services:\n  web: # c ${X}\n    container_name: app-${X}-web\n    ports:\n      - \"${P}:80\"\n    networks: [${X}-net, 'b']\n    labels: {a: ${X}}\n    command: |\n      echo ${X}\n\n      x: y\n    user: ${X}\nnetworks:\n  ${X}-net:\n    name: $${X}-n\n";
        let got: Vec<(String, Kind)> = texts(t, &yaml(t))
            .into_iter()
            .filter(|(s, _)| s.contains('$'))
            .collect();
        let plain = |key, flow| Kind::YamlPlain { key, flow };
        assert_eq!(
            got,
            vec![
                ("app-${X}-web".into(), plain(false, false)),
                (
                    "\"${P}:80\"".into(),
                    Kind::YamlQuoted {
                        quote: '"',
                        key: false
                    }
                ),
                ("${X}-net".into(), plain(false, true)),
                ("${X}".into(), plain(false, true)),
                ("echo ${X}".into(), Kind::YamlBlock),
                ("${X}".into(), plain(false, false)),
                ("${X}-net".into(), plain(true, false)),
                ("$${X}-n".into(), plain(false, false)),
            ]
        );
    }

    #[test]
    fn yaml_block_scalar_of_a_sequence_entry_ends_at_its_sibling() {
        let t = "x:\n  - key: |\n      a ${X}\n    other: ${X}\n";
        let got = texts(t, &yaml(t));
        assert!(got.contains(&("a ${X}".into(), Kind::YamlBlock)), "{got:?}");
        assert!(
            got.contains(&(
                "${X}".into(),
                Kind::YamlPlain {
                    key: false,
                    flow: false
                }
            )),
            "{got:?}"
        );
    }
}
