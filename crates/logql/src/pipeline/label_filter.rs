//! Compiled label filters: matchers (simplified regexes), numbers, durations, byte sizes,
//! `ip(...)`, `and`/`or`; a value that does not convert sets `__error__`.

use model::{MatchOp, Matcher};

use super::ip::IpMatcher;
use super::labels::{ERR_LABEL_FILTER, LabelsBuilder};
use crate::ast::{CmpOp, LabelFilter};
use crate::go;
use crate::regexes::{SimpleFilter, simplify_label_regex};

#[derive(Debug, Clone)]
pub(crate) enum LabelFilterC {
    Matcher(Matcher),
    /// A regex matcher Loki's simplifier turned into literal tests.
    Simple {
        name: String,
        filter: SimpleFilter,
        negate: bool,
    },
    Number {
        name: String,
        op: CmpOp,
        value: f64,
    },
    Duration {
        name: String,
        op: CmpOp,
        value: i64,
    },
    Bytes {
        name: String,
        op: CmpOp,
        value: u64,
    },
    Ip {
        name: String,
        negate: bool,
        m: IpMatcher,
    },
    And(Box<LabelFilterC>, Box<LabelFilterC>),
    Or(Box<LabelFilterC>, Box<LabelFilterC>),
}

pub(crate) fn compile_label_filter(f: &LabelFilter) -> Result<LabelFilterC, String> {
    Ok(match f {
        LabelFilter::Matcher(m) if matches!(m.op, MatchOp::Re | MatchOp::Nre) => match simplify_label_regex(&m.value) {
            Some(filter) => LabelFilterC::Simple { name: m.name.clone(), filter, negate: m.op == MatchOp::Nre },
            None => LabelFilterC::Matcher(m.clone()),
        },
        LabelFilter::Matcher(m) => LabelFilterC::Matcher(m.clone()),
        LabelFilter::Number { name, op, value } => LabelFilterC::Number { name: name.clone(), op: *op, value: *value },
        LabelFilter::Duration { name, op, value } => {
            LabelFilterC::Duration { name: name.clone(), op: *op, value: *value }
        }
        LabelFilter::Bytes { name, op, value } => LabelFilterC::Bytes { name: name.clone(), op: *op, value: *value },
        LabelFilter::Ip { name, negate, pattern } => {
            LabelFilterC::Ip { name: name.clone(), negate: *negate, m: IpMatcher::parse(pattern)? }
        }
        LabelFilter::And(a, b) => {
            LabelFilterC::And(Box::new(compile_label_filter(a)?), Box::new(compile_label_filter(b)?))
        }
        LabelFilter::Or(a, b) => {
            LabelFilterC::Or(Box::new(compile_label_filter(a)?), Box::new(compile_label_filter(b)?))
        }
    })
}

/// Go's `ParseFloat` for the common case of a short run of digits (exact in an `f64`), else
/// the full parser.
fn parse_number(v: &str) -> Result<f64, String> {
    let b = v.as_bytes();
    if !b.is_empty() && b.len() <= 15 && b.iter().all(u8::is_ascii_digit) {
        return Ok(b.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) as f64);
    }
    go::parse_go_float(v)
}

fn conv_err(lbs: &mut LabelsBuilder, e: String) -> bool {
    if lbs.err.is_empty() {
        lbs.err = ERR_LABEL_FILTER.into();
        lbs.err_details = e;
    }
    true
}

impl LabelFilterC {
    pub(crate) fn keep(&self, lbs: &mut LabelsBuilder) -> bool {
        match self {
            LabelFilterC::Matcher(m) => m.matches(lbs.value_of(&m.name)),
            LabelFilterC::Simple { name, filter, negate } => filter.matches(lbs.value_of(name)) != *negate,
            LabelFilterC::Number { name, op, value } => {
                let Some(v) = lbs.get(name) else { return false };
                match parse_number(v) {
                    Ok(x) => op.cmp_f64(x, *value),
                    Err(e) => conv_err(lbs, e),
                }
            }
            LabelFilterC::Duration { name, op, value } => {
                let Some(v) = lbs.get(name) else { return false };
                match go::parse_go_duration(v) {
                    Ok(x) => op.cmp_f64(x as f64, *value as f64),
                    Err(e) => conv_err(lbs, e),
                }
            }
            LabelFilterC::Bytes { name, op, value } => {
                let Some(v) = lbs.get(name) else { return false };
                match go::parse_bytes(v) {
                    Ok(x) => op.cmp_f64(x as f64, *value as f64),
                    Err(e) => conv_err(lbs, e),
                }
            }
            LabelFilterC::Ip { name, negate, m } => {
                if !lbs.err.is_empty() {
                    return true;
                }
                let Some(v) = lbs.get(name) else { return false };
                m.filter(v) != *negate
            }
            LabelFilterC::And(a, b) => {
                let l = a.keep(lbs);
                let r = b.keep(lbs);
                l && r
            }
            LabelFilterC::Or(a, b) => {
                if a.keep(lbs) {
                    return true;
                }
                b.keep(lbs)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn digit_runs_parse_as_go_does() {
        for v in ["0", "007", "500", "123456789012345", "1234567890123456", "1e3", "+5", "-5", "0x1F", "1_000", ""] {
            assert_eq!(super::parse_number(v), crate::go::parse_go_float(v), "{v}");
        }
    }
}
