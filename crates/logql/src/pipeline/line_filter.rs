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
    Regex(Regex),
    Pattern(Pattern),
    Ip(IpMatcher),
}

impl LineMatcher {
    fn matches(&self, line: &str) -> bool {
        match self {
            LineMatcher::All => true,
            LineMatcher::Literal(f) => f.find(line.as_bytes()).is_some(),
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
