//! Alertmanager's matcher syntax: `name="value"`, `name=~"regex"`, `name!="value"`,
//! `name!~"regex"`, values quoted (Go escapes) or bare, alone or as a `{a="b", c=~"d"}` list.
//! Used by the configuration (`matchers`, `source_matchers`, `target_matchers`), by silences
//! and by the API's `filter=` parameters.

use model::{MatchOp, Matcher};

/// Parses one matcher or a comma-separated list (optionally in braces).
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>, String> {
    let mut t = s.trim();
    if let Some(inner) = t.strip_prefix('{') {
        t = inner.strip_suffix('}').ok_or_else(|| format!("matchers {s:?}: missing closing '}}'"))?.trim();
    }
    let mut out = Vec::new();
    let mut rest = t;
    while !rest.trim().is_empty() {
        let (m, after) = parse_one(rest).map_err(|e| format!("bad matcher {s:?}: {e}"))?;
        out.push(m);
        rest = after.trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.is_empty() {
            return Err(format!("bad matcher {s:?}: expected ',' before {rest:?}"));
        }
    }
    if out.is_empty() {
        return Err(format!("bad matcher {s:?}: empty"));
    }
    Ok(out)
}

/// Parses exactly one matcher.
pub fn parse_matcher(s: &str) -> Result<Matcher, String> {
    let mut v = parse_matchers(s)?;
    if v.len() != 1 {
        return Err(format!("bad matcher {s:?}: expected a single matcher, found {}", v.len()));
    }
    Ok(v.remove(0))
}

fn parse_one(s: &str) -> Result<(Matcher, &str), String> {
    let s = s.trim_start();
    let op_at = s.find(['=', '!', '~']).ok_or("no operator (one of = != =~ !~)")?;
    let name = s[..op_at].trim();
    let name = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(name);
    if name.is_empty() {
        return Err("missing label name".into());
    }
    if name.chars().any(|c| c.is_whitespace() || c == ',' || c == '{' || c == '}' || c == '"') {
        return Err(format!("invalid label name {name:?}"));
    }
    let rest = &s[op_at..];
    let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchOp::Re, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchOp::Neq, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchOp::Nre, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchOp::Eq, r)
    } else {
        return Err(format!("unknown operator at {rest:?}"));
    };
    let rest = rest.trim_start();
    let (value, after) = if let Some(q) = rest.strip_prefix('"') {
        unquote(q)?
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        let v = rest[..end].trim();
        if v.contains('"') {
            return Err(format!("unbalanced quotes in value {v:?}"));
        }
        (v.to_string(), &rest[end..])
    };
    let m = Matcher::new(name, op, value).map_err(|e| format!("invalid regular expression: {e}"))?;
    Ok((m, after))
}

/// Reads a Go-quoted string body (after the opening quote); returns it and what follows.
fn unquote(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                // Regular expressions keep their escapes (`\d`, `\.`).
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("missing closing quote".into())
}

/// Whether every matcher accepts the label set (a missing label counts as "").
pub fn matches_all<'a>(ms: &[Matcher], get: impl Fn(&str) -> Option<&'a str>) -> bool {
    ms.iter().all(|m| m.matches(get(&m.name).unwrap_or("")))
}

/// Serde helper: a list of matcher strings, parsed while the configuration is read (so an
/// error carries the file's line).
pub fn de_matcher_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Matcher>, D::Error> {
    use serde::Deserialize;
    let raw = Vec::<String>::deserialize(d)?;
    let mut out = Vec::new();
    for s in raw {
        out.extend(parse_matchers(&s).map_err(serde::de::Error::custom)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax() {
        let m = parse_matchers(r#"{alertname="Down", sev=~"crit|warn", app!=web,x!~"a\.b"}"#).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].op, MatchOp::Eq);
        assert_eq!(m[1].op, MatchOp::Re);
        assert!(m[1].matches("warn") && !m[1].matches("warning"));
        assert_eq!((m[2].op, m[2].value.as_str()), (MatchOp::Neq, "web"));
        assert!(!m[3].matches("a.b") && m[3].matches("axb"));
        assert_eq!(parse_matcher("foo = \"a \\\"q\\\"\"").unwrap().value, "a \"q\"");
        assert!(parse_matcher("foo").unwrap_err().contains("no operator"));
        assert!(parse_matcher("foo=~\"(\"").unwrap_err().contains("regular expression"));
        assert!(parse_matcher("a=\"b").unwrap_err().contains("closing quote"));
        assert!(parse_matcher("a=b,c=d").is_err());
    }
}
