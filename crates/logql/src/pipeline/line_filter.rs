//! Compiled line filters: `|=`, `!=`, `|~`, `!~`, `|>`, `!>` and `ip(...)`, with `or`.

use memchr::memmem;
use regex::Regex;

use super::ip::IpMatcher;
use super::parsers::pattern::Pattern;
use crate::ast::{self, LineFilterOp};
use crate::regexes::regex_err;

#[derive(Debug, Clone)]
enum LineMatcher {
    All,
    Literal(Box<memmem::Finder<'static>>),
    /// `(?i)literal` of ASCII text: a case-insensitive substring search (the regex engine
    /// would try every case combination of every letter).
    AnyCase(Box<aho_corasick::AhoCorasick>),
    Regex(Regex),
    Pattern(Pattern),
    Ip(IpMatcher),
}

impl LineMatcher {
    fn matches(&self, line: &str) -> bool {
        match self {
            LineMatcher::All => true,
            LineMatcher::Literal(f) => f.find(line.as_bytes()).is_some(),
            LineMatcher::AnyCase(a) => a.is_match(line),
            LineMatcher::Regex(r) => r.is_match(line),
            LineMatcher::Pattern(p) => p.test(line),
            LineMatcher::Ip(m) => m.filter(line),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LineFilterC {
    negate: bool,
    alts: Vec<LineMatcher>,
}

fn is_plain_literal(re: &str) -> bool {
    !re.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

/// `(?i)` and a plain ASCII literal whose letters fold only among ASCII letters (Go's and
/// Rust's case folding also match `k` with the Kelvin sign and `s` with the long s).
fn any_case_literal(re: &str) -> Option<&str> {
    let lit = re.strip_prefix("(?i)")?;
    (!lit.is_empty()
        && is_plain_literal(lit)
        && lit.bytes().all(|b| b.is_ascii() && !b.is_ascii_control() && !matches!(b.to_ascii_lowercase(), b'k' | b's')))
    .then_some(lit)
}

pub(crate) fn compile_line_filter(lf: &ast::LineFilter) -> Result<LineFilterC, String> {
    let mut alts = Vec::new();
    for a in &lf.args {
        if a.ip {
            if !matches!(lf.op, LineFilterOp::Contains | LineFilterOp::NotContains) {
                return Err("ip: invalid operation".into());
            }
            alts.push(LineMatcher::Ip(IpMatcher::parse(&a.value)?));
            continue;
        }
        let m = match lf.op {
            LineFilterOp::Contains | LineFilterOp::NotContains => {
                if a.value.is_empty() {
                    LineMatcher::All
                } else {
                    LineMatcher::Literal(Box::new(memmem::Finder::new(a.value.as_bytes()).into_owned()))
                }
            }
            LineFilterOp::Match | LineFilterOp::NotMatch => {
                if a.value.is_empty() {
                    LineMatcher::All
                } else if is_plain_literal(&a.value) {
                    LineMatcher::Literal(Box::new(memmem::Finder::new(a.value.as_bytes()).into_owned()))
                } else if let Some(lit) = any_case_literal(&a.value) {
                    let ac = aho_corasick::AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build([lit])
                        .map_err(|e| format!("error parsing regexp: {e}"))?;
                    LineMatcher::AnyCase(Box::new(ac))
                } else {
                    LineMatcher::Regex(model::goregex::compile(&a.value).map_err(|e| regex_err(&a.value, &e))?)
                }
            }
            LineFilterOp::Pattern | LineFilterOp::NotPattern => {
                LineMatcher::Pattern(Pattern::parse_line_filter(&a.value)?)
            }
        };
        alts.push(m);
    }
    Ok(LineFilterC { negate: lf.op.is_negative(), alts })
}

impl LineFilterC {
    pub(crate) fn keep(&self, line: &str) -> bool {
        let any = self.alts.iter().any(|m| m.matches(line));
        any != self.negate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(re: &str, line: &str) -> bool {
        let lf = ast::LineFilter {
            op: LineFilterOp::Match,
            args: vec![ast::LineFilterArg { value: re.to_string(), ip: false }],
        };
        compile_line_filter(&lf).unwrap().keep(line)
    }

    #[test]
    fn any_case_literals_match_as_the_regex_does() {
        for (re, line) in [
            ("(?i)exception", "java.lang.IllegalStateException: x"),
            ("(?i)exception", "EXCEPTION"),
            ("(?i)exception", "no excepti0n here"),
            ("(?i)time out", "Time Out after 3s"),
            ("(?i)disk", "DISK full"),
            ("(?i)disk", "di\u{212a} full"),
            ("(?i)error", "ünïcödé ERROR"),
        ] {
            let want = model::goregex::compile(re).unwrap().is_match(line);
            assert_eq!(keep(re, line), want, "{re} on {line:?}");
        }
        assert!(any_case_literal("(?i)exception").is_some());
        assert!(any_case_literal("(?i)disk").is_none(), "k folds with the Kelvin sign");
        assert!(any_case_literal("(?i)a.b").is_none());
    }
}
