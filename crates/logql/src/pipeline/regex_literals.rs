//! The literal text every match of a line-filter regex contains (`|~ "req=Kq7vX2m[A-Za-z0-9]+"`
//! always contains `req=Kq7vX2m`), so the store can prune and pre-filter a regex search as it
//! does a `|=` search. Case-insensitive parts, classes and alternations contribute nothing;
//! a pattern the parser does not take contributes nothing (the filter itself still runs).

use regex_syntax::hir::{Hir, HirKind};

/// The longest literal every match of `pattern` (Go syntax) contains, if any of at least
/// `min_len` bytes.
pub(crate) fn required_literal(pattern: &str, min_len: usize) -> Option<String> {
    let hir = regex_syntax::ParserBuilder::new().utf8(true).build().parse(&model::goregex::translate(pattern)).ok()?;
    let mut runs = Vec::new();
    collect(&hir, &mut runs);
    runs.into_iter().filter(|r| r.len() >= min_len).max_by_key(Vec::len).and_then(|r| String::from_utf8(r).ok())
}

/// For a pattern that is case-insensitive as a whole (`(?i)` first, as Grafana writes a search
/// with "match case" off, its special characters escaped): the longest literal every match
/// contains in some case of its letters, if it
/// [`folds_within_ascii`](super::line_filter::folds_within_ascii).
pub(crate) fn required_any_case_literal(pattern: &str, min_len: usize) -> Option<String> {
    // The rest read case-sensitively: every match of the whole holds each of its literals in
    // some case (a part turned case-sensitive again holds it as written, which is one case).
    let lit = required_literal(pattern.strip_prefix("(?i)")?, min_len)?;
    super::line_filter::folds_within_ascii(&lit).then_some(lit)
}

/// Pushes the literal runs that any match of `h` contains.
fn collect(h: &Hir, out: &mut Vec<Vec<u8>>) {
    match h.kind() {
        HirKind::Literal(l) => out.push(l.0.to_vec()),
        HirKind::Capture(c) => collect(&c.sub, out),
        HirKind::Repetition(r) if r.min >= 1 => collect(&r.sub, out),
        HirKind::Concat(parts) => {
            // Adjacent literals are one run.
            let mut run: Vec<u8> = Vec::new();
            for p in parts {
                match p.kind() {
                    HirKind::Literal(l) => run.extend_from_slice(&l.0),
                    _ => {
                        if !run.is_empty() {
                            out.push(std::mem::take(&mut run));
                        }
                        collect(p, out);
                    }
                }
            }
            if !run.is_empty() {
                out.push(run);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_every_match_contains() {
        let r = |p| required_literal(p, 3);
        assert_eq!(r("req=Kq7vX2m[A-Za-z0-9]+").as_deref(), Some("req=Kq7vX2m"));
        assert_eq!(r("^GET (/api/v[0-9]+)/orders$").as_deref(), Some("/orders"));
        assert_eq!(r("status=(500|503) took").as_deref(), Some("status="));
        assert_eq!(r("(timeout)+ after").as_deref(), Some("timeout"));
        assert_eq!(r("(?i)exception"), None);
        assert_eq!(r("error|warn"), None);
        assert_eq!(r("a.b"), None, "too short");
        assert_eq!(r("(unclosed"), None);
        let any = |p| required_any_case_literal(p, 3);
        assert_eq!(any(r"(?i)foo\.bar\(\)").as_deref(), Some("foo.bar()"));
        assert_eq!(any(r"(?i)timeout after [0-9]+ms").as_deref(), Some("timeout after "));
        assert_eq!(any("(?i)disk full"), None, "k folds with the Kelvin sign");
        assert_eq!(any("(?i)ünïcode"), None);
        assert_eq!(any("exception"), None, "case-sensitive");
        assert_eq!(any("(?i)a|b"), None);
    }
}
