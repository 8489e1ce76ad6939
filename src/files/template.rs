//! `${PLACEHOLDER}` rendering shared by the env and compose templates.
//!
//! `$${` writes a literal `${`, so a template can hand `${VAR}` on to Docker Compose's own
//! interpolation. Any other `${NAME}` must be known, or rendering fails naming it and its line.

use std::fmt;

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

pub fn render(
    template: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let mut line = 1;
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
}
