//! Loki's label-regex simplifier: common regexes (`.*`, `.+`, literals, `.*foo.*`, `a|b`)
//! become plain string tests; the printer also uses it to decide how a regex prints.

/// What Loki's regex simplifier makes of common label-filter regexes. Note the quirk it keeps:
/// `foo.*`, `.*foo` and `.*foo.*` all become an unanchored "contains foo".
#[derive(Debug, Clone)]
pub(crate) enum SimpleFilter {
    True,
    Exists,
    Equal(String, bool),
    Contains(String, bool),
    Or(Vec<SimpleFilter>),
}

impl SimpleFilter {
    pub(crate) fn matches(&self, v: &str) -> bool {
        match self {
            SimpleFilter::True => true,
            SimpleFilter::Exists => !v.is_empty(),
            SimpleFilter::Equal(l, false) => v == l,
            SimpleFilter::Equal(l, true) => v.to_lowercase() == l.to_lowercase(),
            SimpleFilter::Contains(l, false) => v.contains(l.as_str()),
            SimpleFilter::Contains(l, true) => v.to_lowercase().contains(&l.to_lowercase()),
            SimpleFilter::Or(fs) => fs.iter().any(|f| f.matches(v)),
        }
    }
}

/// A regex literal: plain characters and escaped punctuation, unescaped.
fn regex_literal(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                let n = it.next()?;
                if n.is_ascii_alphanumeric() || !n.is_ascii() {
                    return None;
                }
                out.push(n);
            }
            c if "\\.+*?()|[]{}^$".contains(c) => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn simplify_branch(b: &str, ci: bool) -> Option<SimpleFilter> {
    match b {
        "" | ".*" => return Some(SimpleFilter::True),
        ".+" => return Some(SimpleFilter::Exists),
        _ => {}
    }
    let (lead, b) = match b.strip_prefix(".*") {
        Some(r) => (true, r),
        None => (false, b),
    };
    let (trail, b) = match b.strip_suffix(".*") {
        Some(r) if !r.ends_with('\\') => (true, r),
        _ => (false, b),
    };
    let lit = regex_literal(b)?;
    if lit.is_empty() {
        return None;
    }
    Some(if lead || trail { SimpleFilter::Contains(lit, ci) } else { SimpleFilter::Equal(lit, ci) })
}

pub(crate) fn simplify_label_regex(re: &str) -> Option<SimpleFilter> {
    let (ci, body) = match re.strip_prefix("(?i)") {
        Some(r) => (true, r),
        None => (false, re),
    };
    if body.contains("(?") {
        return None;
    }
    let mut branches = Vec::new();
    let (mut depth, mut start, mut esc) = (0i32, 0usize, false);
    for (i, c) in body.char_indices() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' => esc = true,
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '|' if depth == 0 => {
                branches.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    branches.push(&body[start..]);
    if branches.len() == 1 {
        return simplify_branch(branches[0], ci);
    }
    // Go factors common prefixes out of alternations of literals, which changes how they
    // simplify; only keep the unambiguous case of literals without a shared first character.
    let mut out = Vec::new();
    let mut firsts = Vec::new();
    for b in branches {
        let f = simplify_branch(b, ci)?;
        if !matches!(f, SimpleFilter::Equal(..)) {
            return None;
        }
        let first = b.chars().next()?;
        if firsts.contains(&first) {
            return None;
        }
        firsts.push(first);
        out.push(f);
    }
    Some(SimpleFilter::Or(out))
}

#[cfg(test)]
mod simplify_tests {
    use super::simplify_label_regex as s;

    #[test]
    fn label_regex_simplification() {
        assert!(s(".*").unwrap().matches("a\nb"));
        assert!(!s(".+").unwrap().matches(""));
        assert!(s("err.*").unwrap().matches("xerror"), "Loki's contains quirk");
        assert!(s(".*Exception.*").unwrap().matches("line1\njava.lang.Exception: x"));
        assert!(s("(?i)error").unwrap().matches("ERROR"));
        assert!(!s("error").unwrap().matches("errors"));
        assert!(s("foo|bar").unwrap().matches("bar"));
        assert!(s("bar|baz").is_none());
        assert!(s("a.*b").is_none());
        assert!(s("[a-z]+").is_none());
        assert!(s("foo\\.bar").unwrap().matches("foo.bar"));
    }
}
