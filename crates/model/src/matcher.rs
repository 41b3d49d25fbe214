//! Label matchers: `=`, `!=`, `=~`, `!~` against one label, a missing label counting as "".

use regex::Regex;

use crate::goregex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Eq,
    Neq,
    Re,
    Nre,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Neq => "!=",
            MatchOp::Re => "=~",
            MatchOp::Nre => "!~",
        }
    }
}

/// One label matcher; regular expressions are fully anchored and `.` matches a newline, as in
/// Loki and Prometheus.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    re: Option<Regex>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct MatcherError(pub String);

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.op == o.op && self.value == o.value
    }
}

impl Matcher {
    pub fn new(name: impl Into<String>, op: MatchOp, value: impl Into<String>) -> Result<Self, MatcherError> {
        let value = value.into();
        let re = match op {
            MatchOp::Re | MatchOp::Nre => {
                Some(goregex::compile(&format!("^(?s:{value})$")).map_err(|e| MatcherError(e.to_string()))?)
            }
            _ => None,
        };
        Ok(Matcher { name: name.into(), op, value, re })
    }

    /// Whether a label value (`""` for a missing label) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Neq => v != self.value,
            MatchOp::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::Nre => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// True when the matcher accepts the empty string, so it cannot select streams by itself.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.name, self.op.as_str(), crate::quote_go(&self.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_regex_and_missing_labels() {
        let m = Matcher::new("app", MatchOp::Re, "api|web").unwrap();
        assert!(m.matches("api"));
        assert!(!m.matches("apix"));
        assert!(!m.matches(""));
        let n = Matcher::new("app", MatchOp::Nre, "a.*").unwrap();
        assert!(n.matches(""));
        assert!(!n.matches("abc"));
        assert!(Matcher::new("x", MatchOp::Re, "(").is_err());
        assert!(Matcher::new("x", MatchOp::Re, "a.b").unwrap().matches("a\nb"));
    }
}
