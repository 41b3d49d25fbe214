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
    AnyCase(std::sync::Arc<AnyCase>),
    Regex(Regex),
    Pattern(Pattern),
    Ip(IpMatcher),
}

impl LineMatcher {
    fn matches(&self, line: &str) -> bool {
        match self {
            LineMatcher::All => true,
            LineMatcher::Literal(f) => f.find(line.as_bytes()).is_some(),
            LineMatcher::AnyCase(a) => a.is_match(line.as_bytes()),
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

/// An ASCII case-insensitive substring search that looks for the needle's rarest byte (both
/// cases, with `memchr2`) and checks the needle around each hit: most log bytes are never
/// looked at twice, where a search led by the first byte stops at every `e` of `exception`.
#[derive(Debug, Clone)]
pub(crate) struct AnyCase {
    needle: Vec<u8>,
    /// The rarest byte's position in the needle, and its two cases.
    at: usize,
    cases: (u8, u8),
}

/// How common a byte is in log text, lower is rarer (letters by English frequency; digits,
/// punctuation and the rest in between; space and `e` the most common).
fn commonness(b: u8) -> u32 {
    const LETTERS: &[u8] = b"zqxjkvbpygfwmucldrhsnioate";
    match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => 10 + LETTERS.iter().position(|&l| l == c).unwrap_or(0) as u32 * 4,
        b' ' => 200,
        b'0'..=b'9' => 60,
        _ => 30,
    }
}

impl AnyCase {
    pub(crate) fn new(needle: &[u8]) -> AnyCase {
        let at = (0..needle.len()).min_by_key(|&i| commonness(needle[i])).unwrap_or(0);
        let b = needle.get(at).copied().unwrap_or(0);
        AnyCase { needle: needle.to_vec(), at, cases: (b.to_ascii_lowercase(), b.to_ascii_uppercase()) }
    }

    pub(crate) fn is_match(&self, hay: &[u8]) -> bool {
        self.find(hay).is_some()
    }

    /// Where the needle first occurs in `hay`, in any case.
    pub(crate) fn find(&self, hay: &[u8]) -> Option<usize> {
        let n = self.needle.len();
        if n == 0 {
            return Some(0);
        }
        if hay.len() < n {
            return None;
        }
        // Hits of the rare byte where the needle would still fit.
        let last = hay.len() - n + self.at;
        let mut from = self.at;
        while from <= last {
            let i = memchr::memchr2(self.cases.0, self.cases.1, &hay[from..=last])?;
            let start = from + i - self.at;
            if hay[start..start + n].eq_ignore_ascii_case(&self.needle) {
                return Some(start);
            }
            from += i + 1;
        }
        None
    }
}

/// Searched for over a block's whole text by the store, so that only lines it occurs in are
/// tested.
impl model::TextSearch for AnyCase {
    fn find(&self, hay: &[u8]) -> Option<usize> {
        AnyCase::find(self, hay)
    }
    fn len(&self) -> usize {
        self.needle.len()
    }
}

fn is_plain_literal(re: &str) -> bool {
    !re.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

/// Whether text is ASCII whose letters fold only among ASCII letters (Go's and Rust's case
/// folding also match `k` with the Kelvin sign and `s` with the long s).
pub(crate) fn folds_within_ascii(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii() && !b.is_ascii_control() && !matches!(b.to_ascii_lowercase(), b'k' | b's'))
}

/// `(?i)` and a plain literal that [`folds_within_ascii`].
pub(crate) fn any_case_literal(re: &str) -> Option<&str> {
    let lit = re.strip_prefix("(?i)")?;
    (!lit.is_empty() && is_plain_literal(lit) && folds_within_ascii(lit)).then_some(lit)
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
                    LineMatcher::AnyCase(std::sync::Arc::new(AnyCase::new(lit.as_bytes())))
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

    /// A search for what every line this filter keeps holds, when it is one any-case literal
    /// (literals and regexes' literal parts are the store's required substrings already).
    pub(crate) fn search(&self) -> Option<std::sync::Arc<dyn model::TextSearch>> {
        match (self.negate, self.alts.as_slice()) {
            (false, [LineMatcher::AnyCase(a)]) => Some(a.clone()),
            _ => None,
        }
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
        // Against the regex on many lines: hits at the edges, partial hits, every case mix.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let alphabet = b"eExXcCpPtTiIoOnN -:";
        for re in ["(?i)exception", "(?i)x", "(?i)Time Out", "(?i)e-x", "(?i)tion:"] {
            let want_re = model::goregex::compile(re).unwrap();
            for _ in 0..4000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let len = (x % 24) as usize;
                let line: String =
                    (0..len).map(|i| alphabet[((x >> (i % 50)) as usize + i * 7) % alphabet.len()] as char).collect();
                let line = if x.is_multiple_of(5) { format!("{line}ExCePtIoN") } else { line };
                assert_eq!(keep(re, &line), want_re.is_match(&line), "{re} on {line:?}");
            }
        }
        assert!(any_case_literal("(?i)disk").is_none(), "k folds with the Kelvin sign");
        assert!(any_case_literal("(?i)a.b").is_none());
    }
}
