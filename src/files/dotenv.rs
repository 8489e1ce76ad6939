//! Line-preserving reading and rewriting of `.env` files: comments, order, `export` prefixes,
//! quoting and trailing comments survive a rewrite of any value.

use std::fmt;

use super::quote;

/// A parsed `.env` file. Rendering an unmodified file gives back the input byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotEnv {
    lines: Vec<Line>,
    trailing_newline: bool,
    /// The file starts with a UTF-8 byte order mark (editors on Windows write one), which
    /// dotenv parsers skip as Node's dotenv does.
    bom: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// Blank lines and comments, kept verbatim.
    Raw(String),
    Var(Var),
}

/// One `KEY=VALUE` assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// 1-based line number where the assignment starts.
    pub line: usize,
    /// Leading white space and an optional `export ` prefix.
    prefix: String,
    pub key: String,
    /// The `=` with any white space around it.
    separator: String,
    quote: Option<char>,
    /// The value without its quotes, exactly as written between them.
    pub value: String,
    /// Anything after the value: white space and an optional `# comment`.
    suffix: String,
}

/// A line that is not an assignment, comment or blank line. Never carries the line's text:
/// `.env` files hold secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl DotEnv {
    pub fn parse(text: &str) -> Result<DotEnv, ParseError> {
        let (bom, text) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let trailing_newline = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        let raw_lines: Vec<&str> = if text.is_empty() {
            Vec::new()
        } else {
            body.split('\n').collect()
        };
        let mut lines = Vec::new();
        let mut i = 0;
        while i < raw_lines.len() {
            let line_no = i + 1;
            let line = raw_lines[i];
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                lines.push(Line::Raw(line.to_string()));
                i += 1;
                continue;
            }
            let (var, consumed) = parse_assignment(&raw_lines[i..], line_no)?;
            lines.push(Line::Var(var));
            i += consumed;
        }
        Ok(DotEnv {
            lines,
            trailing_newline,
            bom,
        })
    }

    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.lines.iter().filter_map(|l| match l {
            Line::Var(v) => Some(v),
            Line::Raw(_) => None,
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars()
            .filter(|v| v.key == key)
            .last()
            .map(|v| v.value.as_str())
    }

    /// The value of `key`'s last assignment as dotenv loaders read it: inside double quotes
    /// `\"`, `\\` and `\n` are `"`, `\` and a line break (Node's dotenv, python-dotenv, phpdotenv);
    /// single-quoted and unquoted values are as written. [`DotEnv::get`] gives the text as written.
    pub fn value(&self, key: &str) -> Option<String> {
        let var = self.vars().filter(|v| v.key == key).last()?;
        if var.quote != Some('"') {
            return Some(var.value.clone());
        }
        let mut out = String::with_capacity(var.value.len());
        let mut chars = var.value.chars();
        while let Some(c) = chars.next() {
            match (c, chars.clone().next()) {
                ('\\', Some(n @ ('"' | '\\'))) => {
                    out.push(n);
                    chars.next();
                }
                ('\\', Some('n')) => {
                    out.push('\n');
                    chars.next();
                }
                _ => out.push(c),
            }
        }
        Some(out)
    }

    /// Set every assignment of `key` to `value`; returns whether any existed. An assignment keeps
    /// its quoting when that holds `value` as it is for every reader (`DB_PORT="5432"` stays
    /// double-quoted); otherwise it is written as [`quote::dotenv`] says, with a warning comment
    /// above it when no quoting is exact.
    pub fn set(&mut self, key: &str, value: &str) -> bool {
        let mut found = false;
        let mut i = 0;
        while i < self.lines.len() {
            if let Line::Var(v) = &mut self.lines[i] {
                if v.key == key {
                    found = true;
                    let q = if quote::dotenv_holds(v.quote, value) {
                        quote::Quoted {
                            quote: v.quote,
                            inner: value.to_string(),
                            exact: !quote::python_dotenv_expands(value),
                        }
                    } else {
                        quote::dotenv(value)
                    };
                    v.quote = q.quote;
                    v.value = q.inner;
                    if !q.exact {
                        let warning = Line::Raw(quote::dotenv_warning(key, value));
                        self.lines.insert(i, warning);
                        i += 1;
                    }
                }
            }
            i += 1;
        }
        found
    }

    /// Replace the text of every assignment of `key` as written between its quotes, keeping
    /// them: for edits of the file's own text (a port or a database name inside a URL), whose
    /// quoting its author chose; returns whether any existed.
    pub fn replace_written(&mut self, key: &str, written: &str) -> bool {
        let mut found = false;
        for line in &mut self.lines {
            if let Line::Var(v) = line {
                if v.key == key {
                    v.value = written.to_string();
                    found = true;
                }
            }
        }
        found
    }

    /// Append `KEY=VALUE`, the value written by [`quote::dotenv`] (with a warning comment
    /// above it when no quoting is exact for every reader).
    pub fn push(&mut self, key: &str, value: &str) {
        let q = quote::dotenv(value);
        if !q.exact {
            self.push_comment(&quote::dotenv_warning(key, value));
        }
        self.lines.push(Line::Var(Var {
            line: 0,
            prefix: String::new(),
            key: key.to_string(),
            separator: "=".into(),
            quote: q.quote,
            value: q.inner,
            suffix: String::new(),
        }));
    }

    pub fn push_comment(&mut self, text: &str) {
        self.lines.push(Line::Raw(text.to_string()));
    }

    /// Whether the file's lines end with CRLF (judged by its first line that has an ending).
    pub fn uses_crlf(&self) -> bool {
        self.lines.iter().find_map(|l| match l {
            Line::Raw(s) if !s.is_empty() => Some(s.ends_with('\r')),
            Line::Var(v) => Some(v.suffix.ends_with('\r')),
            Line::Raw(_) => None,
        }) == Some(true)
    }

    /// Whether the file started with a byte order mark.
    pub fn has_bom(&self) -> bool {
        self.bom
    }

    /// Forget the byte order mark: for a file that becomes part of another one.
    pub fn drop_bom(&mut self) {
        self.bom = false;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.bom {
            out.push('\u{feff}');
        }
        for (n, line) in self.lines.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            match line {
                Line::Raw(s) => out.push_str(s),
                Line::Var(v) => {
                    out.push_str(&v.prefix);
                    out.push_str(&v.key);
                    out.push_str(&v.separator);
                    if let Some(q) = v.quote {
                        out.push(q);
                        out.push_str(&v.value);
                        out.push(q);
                    } else {
                        out.push_str(&v.value);
                    }
                    out.push_str(&v.suffix);
                }
            }
        }
        if self.trailing_newline || !self.lines.is_empty() {
            out.push('\n');
        }
        out
    }
}

fn parse_assignment(lines: &[&str], line_no: usize) -> Result<(Var, usize), ParseError> {
    let err = |message| ParseError {
        line: line_no,
        message,
    };
    let line = lines[0];
    let indent_len = line.len() - line.trim_start().len();
    let mut rest = &line[indent_len..];
    let mut prefix = line[..indent_len].to_string();
    if let Some(after) = rest.strip_prefix("export") {
        if after.starts_with([' ', '\t']) {
            let ws = after.len() - after.trim_start().len();
            prefix.push_str(&rest[..6 + ws]);
            rest = &after[ws..];
        }
    }
    let key_len = rest
        .char_indices()
        .find(|&(i, c)| {
            !(c == '_'
                || c.is_ascii_alphabetic()
                || (i > 0 && (c.is_ascii_digit() || c == '.' || c == '-')))
        })
        .map_or(rest.len(), |(i, _)| i);
    if key_len == 0 {
        return Err(err(
            "expected KEY=VALUE (a name of letters, digits and _), a comment or a blank line",
        ));
    }
    let key = rest[..key_len].to_string();
    rest = &rest[key_len..];
    let before_eq = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if !rest[before_eq..].starts_with('=') {
        return Err(err("expected '=' after the variable name"));
    }
    let after_eq = &rest[before_eq + 1..];
    let sep_len = before_eq + 1 + (after_eq.len() - after_eq.trim_start_matches([' ', '\t']).len());
    let separator = rest[..sep_len].to_string();
    let value_part = &rest[sep_len..];

    let mut var = Var {
        line: line_no,
        prefix,
        key,
        separator,
        quote: None,
        value: String::new(),
        suffix: String::new(),
    };
    match value_part.chars().next() {
        Some(q @ ('"' | '\'')) => {
            // A quoted value may span lines until its closing quote.
            let mut text = value_part[1..].to_string();
            let mut consumed = 1;
            loop {
                if let Some(end) = closing_quote(&text, q) {
                    var.quote = Some(q);
                    var.value = text[..end].to_string();
                    var.suffix = text[end + 1..].to_string();
                    let tail = var.suffix.trim();
                    if !(tail.is_empty() || tail.starts_with('#')) {
                        return Err(err("unexpected text after the closing quote"));
                    }
                    return Ok((var, consumed));
                }
                match lines.get(consumed) {
                    Some(next) => {
                        text.push('\n');
                        text.push_str(next);
                        consumed += 1;
                    }
                    None => return Err(err("a quoted value is never closed")),
                }
            }
        }
        _ => {
            // Unquoted: the value ends at a ` #` comment; white space before it belongs to the suffix.
            let comment = value_part
                .char_indices()
                .find(|&(i, c)| c == '#' && i > 0 && value_part[..i].ends_with([' ', '\t']))
                .map_or(value_part.len(), |(i, _)| i);
            let value = value_part[..comment].trim_end();
            var.value = value.to_string();
            var.suffix = value_part[value.len()..].to_string();
            Ok((var, 1))
        }
    }
}

fn closing_quote(text: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if q == '"' && c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        if c == q && !escaped {
            return Some(i);
        }
        escaped = false;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# app\nexport PORT=3000 # dev server\n\nVITE_PORT=\"5173\"\nNAME='a # b'\r\nMULTI=\"one\ntwo\"\nEMPTY=\n  SPACED = 42\n";

    #[test]
    fn round_trips_byte_for_byte() {
        let env = DotEnv::parse(SAMPLE).unwrap();
        assert_eq!(env.render(), SAMPLE);
        let no_newline = "A=1\nB=2";
        assert_eq!(DotEnv::parse(no_newline).unwrap().render(), "A=1\nB=2\n");
        assert_eq!(DotEnv::parse("").unwrap().render(), "");
    }

    #[test]
    fn reads_values() {
        let env = DotEnv::parse(SAMPLE).unwrap();
        assert_eq!(env.get("PORT"), Some("3000"));
        assert_eq!(env.get("VITE_PORT"), Some("5173"));
        assert_eq!(env.get("NAME"), Some("a # b"));
        assert_eq!(env.get("MULTI"), Some("one\ntwo"));
        assert_eq!(env.get("EMPTY"), Some(""));
        assert_eq!(env.get("SPACED"), Some("42"));
        assert_eq!(env.vars().find(|v| v.key == "SPACED").unwrap().line, 9);
    }

    #[test]
    fn rewrites_keep_quotes_comments_and_export() {
        let mut env = DotEnv::parse(SAMPLE).unwrap();
        env.set("PORT", "3828");
        env.set("VITE_PORT", "6001");
        let out = env.render();
        assert!(out.contains("export PORT=3828 # dev server\n"), "{out}");
        assert!(out.contains("VITE_PORT=\"6001\"\n"), "{out}");
    }

    #[test]
    fn knows_crlf_files() {
        assert!(DotEnv::parse("# x\r\nA=1\r\n").unwrap().uses_crlf());
        assert!(DotEnv::parse("\nA=1 # c\r\n").unwrap().uses_crlf());
        assert!(!DotEnv::parse("A=1\n").unwrap().uses_crlf());
    }

    #[test]
    fn push_quotes_when_needed() {
        let mut env = DotEnv::parse("").unwrap();
        env.push("A", "plain");
        env.push("B", "has space");
        env.push("C", "quo'te\"d $(x)");
        env.push("D", "x|id");
        assert_eq!(
            env.render(),
            format!(
                "A=plain\nB='has space'\n{}\nC=\"quo'te\\\"d \\$(x)\"\nD='x|id'\n",
                quote::dotenv_warning("C", "quo'te\"d $(x)")
            )
        );
        // It reads back as one assignment, nothing lost.
        let back = DotEnv::parse(&env.render()).unwrap();
        assert_eq!(back.get("C"), Some("quo'te\\\"d \\$(x)"));
        assert_eq!(back.get("D"), Some("x|id"));
    }

    #[test]
    fn set_requotes_what_the_old_quoting_cannot_hold() {
        let mut env = DotEnv::parse("A=main\nB=\"5432\"\nC='x'\nD=\"x\" # c\n").unwrap();
        env.set("A", "x|id");
        env.set("B", "5779");
        env.set("C", "it's");
        env.set("D", "$(id)");
        assert_eq!(
            env.render(),
            "A='x|id'\nB=\"5779\"\nC=\"it's\"\nD='$(id)' # c\n"
        );
        env.set("A", "quo'te\"d");
        assert!(env.render().starts_with(&format!(
            "{}\nA=\"quo'te\\\"d\"\n",
            quote::dotenv_warning("A", "quo'te\"d")
        )));
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_kept() {
        let text = "\u{feff}PORT=3000\nA=1\n";
        let mut env = DotEnv::parse(text).unwrap();
        assert_eq!(env.get("PORT"), Some("3000"));
        assert!(env.has_bom());
        assert_eq!(env.render(), text);
        env.drop_bom();
        assert_eq!(env.render(), "PORT=3000\nA=1\n");
    }

    #[test]
    fn malformed_lines_are_errors_without_their_text() {
        let e = DotEnv::parse("A=1\nthis is not an assignment\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(!e.to_string().contains("this is not"));
        assert_eq!(DotEnv::parse("A=\"open\nB=2\n").unwrap_err().line, 1);
        assert_eq!(DotEnv::parse("=5\n").unwrap_err().line, 1);
        assert_eq!(DotEnv::parse("A='x' junk\n").unwrap_err().line, 1);
        assert_eq!(DotEnv::parse("A B=1\n").unwrap_err().line, 1);
    }
}
