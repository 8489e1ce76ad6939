//! Quoting of the values git-atlas writes into files other programs parse: one function per
//! format, so no worktree name reaches a dotenv file or Compose YAML as code or as another type.
//!
//! Worktree names are Git's worktree ids: no white space, control character or backslash, but
//! any of `' " $ \` | & ; ( ) < > ! { } #` and any Unicode letter.

/// A value as written in a dotenv file: its quote (none for a bare value) and the text between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    pub quote: Option<char>,
    /// The value as written between the quotes (escaped for them).
    pub inner: String,
    /// Whether every reader (`sh`, Node's dotenv, python-dotenv, Compose) reads back the value
    /// itself. Two kinds of value are not (see [`dotenv_warning`]): one with `'` together with
    /// `"`, `$`, a backtick or a backslash (`sh` reads its escaped double-quoted form exactly,
    /// the others may keep a backslash), and one with `${…}` in it, which python-dotenv expands
    /// in every quoting.
    pub exact: bool,
}

impl Quoted {
    /// The value with its quotes, as it goes after `KEY=`.
    pub fn text(&self) -> String {
        match self.quote {
            Some(q) => format!("{q}{}{q}", self.inner),
            None => self.inner.clone(),
        }
    }
}

/// Write `value` for a dotenv file so that sourcing it with `sh` runs nothing, and dotenv
/// parsers read it back exactly.
///
/// Checked against `sh -c 'set -a; . ./f'`, Node's dotenv 16, python-dotenv 1.x and
/// docker-compose 1.29 (see `tests/quoting.rs`):
/// - only [`dotenv_bare_ok`] characters: bare, as today (`feature-auth`, `8080`);
/// - else single quotes when there is no `'` and no backslash: every one of them reads single
///   quotes literally (python-dotenv would decode `\\` and `\'` inside);
/// - else double quotes when there is no `"`, `$`, backtick or backslash: nothing inside is
///   special to any of them then;
/// - else (`'` with one of those) double quotes with `\` escapes, which `sh` reads exactly and
///   the others may not: no quoting is the same for all of them, so `exact` is false.
///
/// python-dotenv (1.2, `interpolate=True` by default) expands `${NAME}` in single quotes too,
/// and has no escape for it: a value with `${…}` is single-quoted, exact for the others and
/// not for it.
pub fn dotenv(value: &str) -> Quoted {
    let (quote, inner, exact) = if dotenv_holds(None, value) {
        (None, value.to_string(), true)
    } else if dotenv_holds(Some('\''), value) {
        (Some('\''), value.to_string(), true)
    } else if dotenv_holds(Some('"'), value) {
        (Some('"'), value.to_string(), true)
    } else {
        let mut inner = String::with_capacity(value.len() + 4);
        for c in value.chars() {
            if matches!(c, '\\' | '"' | '$' | '`') {
                inner.push('\\');
            }
            inner.push(c);
        }
        (Some('"'), inner, false)
    };
    Quoted {
        quote,
        inner,
        exact: exact && !python_dotenv_expands(value),
    }
}

/// Whether python-dotenv's interpolation would find a `${NAME}` or `${NAME:-default}` in
/// `value` (in any quoting).
pub fn python_dotenv_expands(value: &str) -> bool {
    value
        .find("${")
        .is_some_and(|start| value[start..].contains('}'))
}

/// How a warning comment in a generated dotenv file starts ([`dotenv_warning`]).
pub const DOTENV_WARNING: &str = "# git-atlas warning: ";

/// The comment git-atlas writes above `key` when [`dotenv`] could not write its `value` exactly
/// for every reader: the file itself says so, where its reader looks.
pub fn dotenv_warning(key: &str, value: &str) -> String {
    if python_dotenv_expands(value) {
        format!("{DOTENV_WARNING}{key} has ${{…}}, which python-dotenv expands in any quoting (read it with interpolate=False)")
    } else {
        format!("{DOTENV_WARNING}{key} has ' with \", $, ` or \\: sh reads it exactly, other dotenv readers may keep a backslash")
    }
}

/// Whether `value`, written as it is in the quote style `quote` (`None`: bare), reads back as
/// itself in every dotenv reader and runs nothing in `sh`.
pub fn dotenv_holds(quote: Option<char>, value: &str) -> bool {
    match quote {
        None => !value.is_empty() && value.chars().all(dotenv_bare_ok),
        Some('\'') => !value.contains(['\'', '\\', '\n', '\r']),
        Some('"') => !value.contains(['"', '$', '`', '\\', '\n', '\r']),
        Some(_) => false,
    }
}

/// Characters that are nothing but themselves in a bare value for `sh` (in an assignment: no
/// tilde, glob, brace, history or comment character either) and for every dotenv parser.
pub fn dotenv_bare_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-.,/:@%+=".contains(c) || (!c.is_ascii() && c.is_alphanumeric())
}

/// A YAML double-quoted scalar holding `value` (`\` and `"` escaped, control characters as
/// `\x..`), which YAML 1.1 and 1.2 parsers both read as that string.
pub fn yaml_double(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `value` may stay a plain (unquoted) YAML scalar and still be read as this string by
/// YAML 1.1 (PyYAML: Compose v1) and 1.2 (Compose v2) alike; `flow` inside `[…]` or `{…}`.
/// Conservative: anything that could be an indicator, a comment, a key, a null, a boolean, a
/// number or a date says no, and quoting it is never wrong.
pub fn yaml_plain_ok(value: &str, flow: bool) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if first.is_whitespace()
        || value.ends_with(char::is_whitespace)
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || value.ends_with(':')
        || value.contains(": ")
        || value.contains(" #")
        || value.contains(['\t', '\n', '\r'])
        || value.chars().any(char::is_control)
        || (flow && value.contains([',', '[', ']', '{', '}', ':']))
    {
        return false;
    }
    !yaml_resolves_to_other_type(value)
}

/// Nulls, booleans (YAML 1.1 has `yes`, `on`, `y`…), `<<`, `=`, and anything that looks like a
/// number or date in either version (`0x10`, `1_0`, `1:20`, `0o7`, `1e3`, `.inf`, `2024-01-02`).
fn yaml_resolves_to_other_type(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "null", "y", "n", "yes", "no", "true", "false", "on", "off", "<<", "=",
    ];
    let lower = value.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if matches!(unsigned, ".inf" | ".nan") {
        return true;
    }
    let numeric_start = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    numeric_start
        && unsigned
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "xob_.:+-tz ".contains(c))
}

/// `$` doubled, Compose's literal dollar, so that Compose does not interpolate a value.
pub fn compose_dollars(value: &str) -> String {
    value.replace('$', "$$")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hostile names of issue 16 and what a dotenv file gets for each.
    const DOTENV: &[(&str, &str, bool)] = &[
        ("feature-auth", "feature-auth", true),
        ("x|id", "'x|id'", true),
        ("a&&id", "'a&&id'", true),
        ("q>FILE", "'q>FILE'", true),
        ("p(1)", "'p(1)'", true),
        ("!tag", "'!tag'", true),
        ("&anch", "'&anch'", true),
        ("yes", "yes", true),
        ("0x10", "0x10", true),
        ("{a}", "'{a}'", true),
        ("'q", "\"'q\"", true),
        ("|x", "'|x'", true),
        ("${HOME}", "'${HOME}'", false),
        ("$(touch${IFS}pwned)", "'$(touch${IFS}pwned)'", false),
        ("$HOME", "'$HOME'", true),
        ("$(touch pwned)", "'$(touch pwned)'", true),
        ("`id`", "'`id`'", true),
        ("quo'te\"d", "\"quo'te\\\"d\"", false),
        ("it's$HOME", "\"it's\\$HOME\"", false),
        ("it's`id`", "\"it's\\`id\\`\"", false),
        ("feat-ü-x", "feat-ü-x", true),
        ("-dash", "-dash", true),
        ("~root", "'~root'", true),
        ("a#b", "'a#b'", true),
        ("a;b", "'a;b'", true),
        ("", "''", true),
        ("has space", "'has space'", true),
    ];

    #[test]
    fn dotenv_quotes_each_hostile_name() {
        for &(value, written, exact) in DOTENV {
            let q = dotenv(value);
            assert_eq!((q.text().as_str(), q.exact), (written, exact), "{value}");
        }
    }

    #[test]
    fn dotenv_styles_hold_only_what_they_can() {
        assert!(dotenv_holds(None, "5432"));
        assert!(!dotenv_holds(None, "a|b"));
        assert!(dotenv_holds(Some('\''), "a|b"));
        assert!(!dotenv_holds(Some('\''), "a\\b"));
        assert!(dotenv_holds(Some('"'), "it's"));
        assert!(!dotenv_holds(Some('"'), "$HOME"));
    }

    /// The same names in Compose YAML: stays plain (`None`), or the double-quoted scalar.
    const YAML: &[(&str, Option<&str>)] = &[
        ("feature-auth", None),
        ("myapp-feature-auth-web", None),
        ("myapp-x|id-web", None),
        ("x|id", None),
        ("a&&id", None),
        ("p(1)", None),
        ("!tag", Some("\"!tag\"")),
        ("&anch", Some("\"&anch\"")),
        ("yes", Some("\"yes\"")),
        ("On", Some("\"On\"")),
        ("0x10", Some("\"0x10\"")),
        ("1_0", Some("\"1_0\"")),
        ("1:20", Some("\"1:20\"")),
        ("2024-01-02", Some("\"2024-01-02\"")),
        (".inf", Some("\".inf\"")),
        ("{a}", Some("\"{a}\"")),
        ("'q", Some("\"'q\"")),
        ("|x", Some("\"|x\"")),
        ("$${HOME}", None),
        ("quo'te\"d", None),
        ("\"q", Some("\"\\\"q\"")),
        ("-dash", Some("\"-dash\"")),
        ("feat-ü-x", None),
        ("2fa-login", None),
        ("a #b", Some("\"a #b\"")),
        ("a: b", Some("\"a: b\"")),
        ("a:", Some("\"a:\"")),
        ("", Some("\"\"")),
    ];

    #[test]
    fn yaml_quotes_what_is_not_a_plain_string() {
        for &(value, quoted) in YAML {
            let got = (!yaml_plain_ok(value, false)).then(|| yaml_double(value));
            assert_eq!(got.as_deref(), quoted, "{value}");
        }
    }

    #[test]
    fn yaml_flow_context_quotes_its_indicators() {
        assert!(yaml_plain_ok("feature-auth-net", true));
        assert!(!yaml_plain_ok("a,b", true));
        assert!(!yaml_plain_ok("a}b", true));
        assert!(!yaml_plain_ok("a:b", true));
        assert!(yaml_plain_ok("a:b", false));
        assert!(!yaml_plain_ok("$${HOME}", true));
    }

    #[test]
    fn compose_dollars_are_doubled() {
        assert_eq!(compose_dollars("${HOME}-$x"), "$${HOME}-$$x");
    }
}
