//! Compose's variable interpolation (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?error}`, `${VAR:+alternative}`, `$$`), as the Compose specification writes it, for
//! the values git-atlas reads from compose files: a published port, a name.

/// `text` with its variables replaced by `lookup`'s values. An unset variable without a
/// default is empty, as Compose makes it (after a warning); `${VAR:?err}` unset is `None`,
/// which Compose refuses.
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let end = closing_brace(inner)?;
            out.push_str(&expand(&inner[..end], lookup)?);
            rest = &inner[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                out.push('$');
                rest = after;
            } else {
                out.push_str(&lookup(&after[..len]).unwrap_or_default());
                rest = &after[len..];
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The variable `text` is as a whole (`${DEV_PORT:-8080}`, `$PORT`), if it is one.
pub fn sole_variable(text: &str) -> Option<&str> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix("${") {
        let end = closing_brace(inner)?;
        if end + 1 != inner.len() {
            return None;
        }
        let len = name_len(inner);
        return (len > 0).then(|| &inner[..len]);
    }
    let name = text.strip_prefix('$')?;
    (name_len(name) == name.len() && !name.is_empty()).then_some(name)
}

/// Whether `text` has a variable in it at all.
pub fn has_variable(text: &str) -> bool {
    text.replace("$$", "").contains('$')
}

/// The length of the variable name `text` starts with.
fn name_len(text: &str) -> usize {
    let mut len = 0;
    for (i, c) in text.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

/// Where the `}` that closes a `${` is in `inner` (the text after it), nested `${…}` counted.
fn closing_brace(inner: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// One `${…}`'s value.
fn expand(inner: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let len = name_len(inner);
    let (name, op) = inner.split_at(len);
    let value = lookup(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let word = |w: &str| interpolate(w, lookup);
    if op.is_empty() {
        return Some(value.unwrap_or_default());
    }
    for (prefix, when_colon) in [(":-", true), ("-", false)] {
        if let Some(default) = op.strip_prefix(prefix) {
            let use_value = if when_colon { non_empty } else { set };
            return if use_value { value } else { word(default) };
        }
    }
    for (prefix, when_colon) in [(":?", true), ("?", false)] {
        if op.starts_with(prefix) {
            let ok = if when_colon { non_empty } else { set };
            return if ok { value } else { None };
        }
    }
    for (prefix, when_colon) in [(":+", true), ("+", false)] {
        if let Some(alt) = op.strip_prefix(prefix) {
            let use_alt = if when_colon { non_empty } else { set };
            return if use_alt {
                word(alt)
            } else {
                Some(String::new())
            };
        }
    }
    // Not a form Compose knows; Compose refuses the file.
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("3000".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn forms_of_the_compose_specification() {
        let i = |t: &str| interpolate(t, &env);
        assert_eq!(i("${PORT}:80").as_deref(), Some("3000:80"));
        assert_eq!(i("$PORT:80").as_deref(), Some("3000:80"));
        assert_eq!(i("${DEV_PORT:-8080}:80").as_deref(), Some("8080:80"));
        assert_eq!(i("${EMPTY:-8080}").as_deref(), Some("8080"));
        assert_eq!(i("${EMPTY-8080}").as_deref(), Some(""));
        assert_eq!(i("${NONE-8080}").as_deref(), Some("8080"));
        assert_eq!(i("${NONE:-${PORT}}").as_deref(), Some("3000"));
        assert_eq!(i("${PORT:+x}-${NONE:+y}").as_deref(), Some("x-"));
        assert_eq!(i("$$PORT").as_deref(), Some("$PORT"));
        assert_eq!(i("${NONE:?must be set}"), None);
        assert_eq!(i("${PORT:?must be set}").as_deref(), Some("3000"));
        assert_eq!(i("${NONE}x").as_deref(), Some("x"));
        assert_eq!(i("${unclosed"), None);
    }

    #[test]
    fn sole_variable_names_a_whole_value() {
        assert_eq!(sole_variable("${DEV_PORT:-8080}"), Some("DEV_PORT"));
        assert_eq!(sole_variable("$PORT"), Some("PORT"));
        assert_eq!(sole_variable("${A}${B}"), None);
        assert_eq!(sole_variable("80${A}"), None);
        assert_eq!(sole_variable("8080"), None);
        assert!(has_variable("${A}"));
        assert!(!has_variable("a$$b"));
    }
}
