//! `${PLACEHOLDER}` rendering shared by the env and compose templates.
//!
//! `$${` writes a literal `${`, so a template can hand `${VAR}` on to Docker Compose's own
//! interpolation. Any other `${NAME}` must be known, or rendering fails naming it and its line.
//! A value is written for the format of the file it lands in ([`render_as`]): a worktree name
//! is data in a dotenv file or in YAML, never code, syntax or another type.

use std::fmt;

use super::quote;
use super::spans::{self, Kind};

/// The syntax of a rendered file, which decides how a value is written into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Values as they are.
    Text,
    /// A `.env` file: sourced by `sh`, read by Node's dotenv, python-dotenv and Compose.
    Dotenv,
    /// Compose YAML, whose strings Compose interpolates after parsing.
    Yaml,
}

impl Format {
    /// The format of the file `name`: YAML for `*.yml` / `*.yaml`, dotenv for `.env*` and
    /// `*.env`, text otherwise. A template's own name says it too: a `.template`, `.tmpl` or
    /// `.tpl` suffix is not counted (`docker-compose.worktree.template.yml`,
    /// `.env.worktree.template`).
    pub fn of(name: &str) -> Format {
        let name = name.rsplit('/').next().unwrap_or(name);
        let name = [".template", ".tmpl", ".tpl"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            Format::Yaml
        } else if name.starts_with(".env") || name.ends_with(".env") {
            Format::Dotenv
        } else {
            Format::Text
        }
    }
}

/// What a placeholder stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A port or an offset: digits, written as they are in every format (a YAML number where
    /// the template has it bare, as ever).
    Number(u32),
    /// A name: quoted or escaped for the place it lands in.
    Text(String),
}

impl Value {
    fn into_text(self) -> String {
        match self {
            Value::Number(n) => n.to_string(),
            Value::Text(t) => t,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The names of the `${NAME}` placeholders in `template`, in order of first use (`$${…}` is not one).
pub fn placeholders(template: &str) -> Vec<String> {
    let names = std::cell::RefCell::new(Vec::<String>::new());
    let _ = render(template, |name| {
        let mut names = names.borrow_mut();
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        Some(String::new())
    });
    names.into_inner()
}

/// The line (1-based) where the placeholder `${name}` is first used.
pub fn line_of(template: &str, name: &str) -> Option<usize> {
    match render(template, |n| (n != name).then(String::new)) {
        Err(e) if e.message.contains(&format!("${{{name}}}")) => Some(e.line),
        _ => None,
    }
}

/// Render `template` with every `${NAME}` replaced by `lookup(NAME)` as it is: for text that
/// no other program parses (and for finding placeholders). Files in a format go through
/// [`render_as`].
pub fn render(
    template: &str,
    mut lookup: impl FnMut(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    expand(template, 1, &mut lookup)
}

/// Render `template`, a file in `format`, writing each value for where it lands:
/// - dotenv: a name that its value's quoting does not hold as it is (see [`quote::dotenv_holds`])
///   makes the whole value written by [`quote::dotenv`]; one that no quoting holds for every
///   reader gets a warning comment above its line (see [`quote::dotenv_warning`]);
/// - YAML: a plain scalar with a name in it stays plain if it is still a plain string
///   ([`quote::yaml_plain_ok`]), else becomes one double-quoted scalar; inside a quoted scalar a
///   name is escaped for its quote; in a block scalar it is as it is; in a value (not a key) its
///   `$` is doubled, Compose's literal dollar; in a comment it is left alone.
///
/// For names that need none of this (`feature-auth`) and for numbers, the result is what
/// [`render`] gives.
pub fn render_as(
    format: Format,
    template: &str,
    lookup: impl Fn(&str) -> Option<Value>,
) -> Result<String, TemplateError> {
    let spans = match format {
        Format::Text => Vec::new(),
        Format::Dotenv => spans::dotenv(template),
        Format::Yaml => spans::yaml(template),
    };
    let mut out = String::with_capacity(template.len());
    let mut pos = 0;
    let mut line = 1;
    for span in spans {
        let between = &template[pos..span.range.start];
        out.push_str(&expand(between, line, &mut |n| {
            lookup(n).map(Value::into_text)
        })?);
        line += between.matches('\n').count();
        let text = &template[span.range.clone()];
        let (written, exact) = render_span(text, line, &span.kind, &lookup)?;
        if let (false, Kind::Dotenv { key, .. }) = (exact, &span.kind) {
            let line_start = out.rfind('\n').map_or(0, |p| p + 1);
            let warning =
                quote::dotenv_warning(key, &render(text, |n| lookup(n).map(Value::into_text))?);
            out.insert_str(line_start, &format!("{warning}\n"));
        }
        out.push_str(&written);
        line += text.matches('\n').count();
        pos = span.range.end;
    }
    out.push_str(&expand(&template[pos..], line, &mut |n| {
        lookup(n).map(Value::into_text)
    })?);
    Ok(out)
}

/// One value of a template, written for its place; and whether every reader reads it exactly.
fn render_span(
    text: &str,
    line: usize,
    kind: &Kind,
    lookup: &impl Fn(&str) -> Option<Value>,
) -> Result<(String, bool), TemplateError> {
    let inner = |quoted: bool| {
        if quoted {
            &text[1..text.len() - 1]
        } else {
            text
        }
    };
    match kind {
        Kind::Dotenv { quote, .. } => {
            let (mut fits, mut expands) = (true, false);
            let value = expand(inner(quote.is_some()), line, &mut |n| {
                let v = lookup(n)?;
                if let Value::Text(t) = &v {
                    fits &= quote::dotenv_holds(*quote, t);
                    expands |= quote::python_dotenv_expands(t);
                }
                Some(v.into_text())
            })?;
            if fits {
                let q = quote.map(String::from).unwrap_or_default();
                return Ok((format!("{q}{value}{q}"), !expands));
            }
            let q = quote::dotenv(&value);
            Ok((q.text(), q.exact))
        }
        Kind::YamlPlain { key, flow } => {
            let mut has_text = false;
            let value = expand(text, line, &mut |n| {
                Some(match lookup(n)? {
                    Value::Text(t) => {
                        has_text = true;
                        yaml_value(&t, *key)
                    }
                    v => v.into_text(),
                })
            })?;
            if !has_text || quote::yaml_plain_ok(&value, *flow) {
                Ok((value, true))
            } else {
                Ok((quote::yaml_double(&value), true))
            }
        }
        Kind::YamlQuoted { quote, key } => {
            let value = expand(inner(true), line, &mut |n| {
                Some(match lookup(n)? {
                    Value::Text(t) if *quote == '"' => {
                        yaml_value(&t.replace('\\', "\\\\").replace('"', "\\\""), *key)
                    }
                    Value::Text(t) => yaml_value(&t.replace('\'', "''"), *key),
                    v => v.into_text(),
                })
            })?;
            Ok((format!("{quote}{value}{quote}"), true))
        }
        Kind::YamlBlock => {
            let value = expand(text, line, &mut |n| {
                Some(match lookup(n)? {
                    Value::Text(t) => yaml_value(&t, false),
                    v => v.into_text(),
                })
            })?;
            Ok((value, true))
        }
    }
}

/// A name in YAML: in a value, `$` doubled so Compose does not interpolate it; a mapping key
/// is not interpolated, so it stays as it is (and matches references to it in values).
fn yaml_value(text: &str, key: bool) -> String {
    if key {
        text.to_string()
    } else {
        quote::compose_dollars(text)
    }
}

/// `${NAME}` expansion of `text`, whose first line is line `line` of its template.
fn expand(
    text: &str,
    mut line: usize,
    lookup: &mut dyn FnMut(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        let (before, from_dollar) = rest.split_at(pos);
        out.push_str(before);
        line += before.matches('\n').count();
        if let Some(after) = from_dollar.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = from_dollar.strip_prefix("${") {
            let Some(end) = after.find('}').filter(|&e| !after[..e].contains('\n')) else {
                return Err(TemplateError {
                    line,
                    message: "'${' is never closed with '}'".into(),
                });
            };
            let name = &after[..end];
            match lookup(name) {
                Some(value) => out.push_str(&value),
                None => {
                    return Err(TemplateError {
                        line,
                        message: format!("unknown placeholder ${{{name}}} (write $${{{name}}} to pass it through unchanged)"),
                    });
                }
            }
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &from_dollar[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "WORKTREE_NAME" => Some("feature-auth".into()),
            "ALLOCATED_WEB_PORT" => Some("8908".into()),
            _ => None,
        }
    }

    #[test]
    fn replaces_known_placeholders() {
        let out = render(
            "web: ${ALLOCATED_WEB_PORT}:80\nname: ${WORKTREE_NAME}-network\ncost: $5\n",
            vars,
        )
        .unwrap();
        assert_eq!(out, "web: 8908:80\nname: feature-auth-network\ncost: $5\n");
    }

    #[test]
    fn double_dollar_passes_through() {
        assert_eq!(
            render("x: $${HOME} $$y\n", vars).unwrap(),
            "x: ${HOME} $$y\n"
        );
    }

    #[test]
    fn unknown_placeholder_names_it_and_its_line() {
        let e = render("a\nb\nport: ${ALLOCATED_API_PORT}\n", vars).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("${ALLOCATED_API_PORT}"), "{}", e.message);
        let e = render("a: ${WORKTREE_NAME\nb: }\n", vars).unwrap_err();
        assert_eq!(e.line, 1);
    }

    fn name_and_port(name: &str) -> impl Fn(&str) -> Option<Value> + '_ {
        move |k| match k {
            "WORKTREE_NAME" => Some(Value::Text(name.into())),
            "ALLOCATED_WEB_PORT" => Some(Value::Number(8908)),
            _ => None,
        }
    }

    const COMPOSE: &str = "# ${WORKTREE_NAME}\nservices:\n  web:\n    container_name: myapp-${WORKTREE_NAME}-web\n    ports:\n      - \"${ALLOCATED_WEB_PORT}:80\"\n    environment:\n      NAME: ${WORKTREE_NAME}\n      Q: \"n=${WORKTREE_NAME}\"\n      S: 'n=${WORKTREE_NAME}'\n      - POSTGRES_DB=myapp_${WORKTREE_NAME}\n    networks: [${WORKTREE_NAME}-net]\n    command: |\n      echo ${WORKTREE_NAME}\nnetworks:\n  ${WORKTREE_NAME}-net:\n    name: ${WORKTREE_NAME}\n";
    const ENV: &str = "# ${WORKTREE_NAME}\nN=${WORKTREE_NAME}\nU=http://localhost:${ALLOCATED_WEB_PORT}/${WORKTREE_NAME} # c\nS='${WORKTREE_NAME}'\nD=\"${WORKTREE_NAME}\"\nP=${ALLOCATED_WEB_PORT}\n";

    #[test]
    fn ordinary_names_render_as_before() {
        for name in ["feature-auth", "bugfix-login", "feat-ü-x", "main"] {
            for (format, template) in [(Format::Yaml, COMPOSE), (Format::Dotenv, ENV)] {
                let raw = render(template, |k| name_and_port(name)(k).map(Value::into_text));
                assert_eq!(
                    render_as(format, template, name_and_port(name)),
                    raw,
                    "{name}"
                );
            }
        }
    }

    /// One row per hostile name: the lines of the compose template above, as rendered.
    #[test]
    fn names_in_yaml_are_strings_with_dollars_doubled() {
        #[rustfmt::skip]
        let rows: &[(&str, &[&str])] = &[
            ("x|id", &["    container_name: myapp-x|id-web", "      NAME: x|id", "    networks: [x|id-net]"]),
            ("!tag", &["    container_name: myapp-!tag-web", "      NAME: \"!tag\"", "    networks: [\"!tag-net\"]", "  \"!tag-net\":", "# !tag"]),
            ("&anch", &["      NAME: \"&anch\"", "  \"&anch-net\":"]),
            ("yes", &["      NAME: \"yes\"", "    name: \"yes\"", "    container_name: myapp-yes-web"]),
            ("0x10", &["      NAME: \"0x10\"", "  0x10-net:"]),
            ("{a}", &["      NAME: \"{a}\"", "    networks: [\"{a}-net\"]", "  \"{a}-net\":"]),
            ("'q", &["      NAME: \"'q\"", "      S: 'n=''q'", "      Q: \"n='q\""]),
            ("|x", &["      NAME: \"|x\"", "      echo |x"]),
            ("${HOME}", &["      NAME: $${HOME}", "    networks: [\"$${HOME}-net\"]", "  ${HOME}-net:", "      echo $${HOME}", "      Q: \"n=$${HOME}\""]),
            ("$(touch pwned)", &["      NAME: $$(touch pwned)"]),
            ("`id`", &["      NAME: \"`id`\"", "      - POSTGRES_DB=myapp_`id`"]),
            ("quo'te\"d", &["      NAME: quo'te\"d", "      Q: \"n=quo'te\\\"d\"", "      S: 'n=quo''te\"d'"]),
            ("-dash", &["      NAME: \"-dash\"", "    container_name: myapp--dash-web"]),
        ];
        for (name, lines) in rows {
            let out = render_as(Format::Yaml, COMPOSE, name_and_port(name)).unwrap();
            for line in *lines {
                assert!(
                    out.lines().any(|l| l == *line),
                    "{name}: no {line:?} in\n{out}"
                );
            }
            assert!(out.contains("      - \"8908:80\"\n"), "{out}");
        }
    }

    #[test]
    fn names_in_dotenv_are_quoted_whole() {
        #[rustfmt::skip]
        let rows: &[(&str, &[&str])] = &[
            ("x|id", &["N='x|id'", "U='http://localhost:8908/x|id' # c", "S='x|id'", "D=\"x|id\"", "# x|id"]),
            ("a&&id", &["N='a&&id'"]),
            ("q>FILE", &["N='q>FILE'"]),
            ("p(1)", &["N='p(1)'"]),
            ("'q", &["N=\"'q\"", "S=\"'q\"", "D=\"'q\""]),
            ("${HOME}", &["N='${HOME}'", "D='${HOME}'"]),
            ("`id`", &["D='`id`'"]),
            ("yes", &["N=yes"]),
            ("-dash", &["N=-dash"]),
        ];
        for (name, lines) in rows {
            let out = render_as(Format::Dotenv, ENV, name_and_port(name)).unwrap();
            for line in *lines {
                assert!(
                    out.lines().any(|l| l == *line),
                    "{name}: no {line:?} in\n{out}"
                );
            }
            assert!(out.ends_with("P=8908\n"), "{out}");
        }
        let out = render_as(Format::Dotenv, ENV, name_and_port("quo'te\"d")).unwrap();
        let warning = quote::dotenv_warning("N", "quo'te\"d");
        assert!(
            out.contains(&format!("\n{warning}\nN=\"quo'te\\\"d\"\n")),
            "{out}"
        );
    }

    #[test]
    fn formats_by_file_name() {
        assert_eq!(
            Format::of("docker-compose.worktree.template.yml"),
            Format::Yaml
        );
        assert_eq!(Format::of("docker-compose.yml"), Format::Yaml);
        assert_eq!(Format::of("compose.yaml.tmpl"), Format::Yaml);
        assert_eq!(Format::of(".env.worktree.template"), Format::Dotenv);
        assert_eq!(Format::of(".env.worktree"), Format::Dotenv);
        assert_eq!(Format::of("docker/app.env"), Format::Dotenv);
        assert_eq!(Format::of("nginx.conf.template"), Format::Text);
    }
}
