//! Label sets: sorted name/value pairs, printed the way Loki and Prometheus print them.

use std::fmt;
use std::sync::{Arc, LazyLock};

/// A stream's label set, sorted by name, without duplicates and without empty values.
///
/// Shared: a clone is a reference count, not a copy. A range query's series carries its
/// labels into every step's vector; copied, 300 series over 11,000 steps took 3.2 GB.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<Vec<(String, String)>>);

static EMPTY: LazyLock<Arc<Vec<(String, String)>>> = LazyLock::new(|| Arc::new(Vec::new()));

impl Default for Labels {
    fn default() -> Self {
        Labels::empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    #[error("duplicate label name: '{0}'")]
    Duplicate(String),
    #[error("{0}")]
    Syntax(String),
}

impl Labels {
    /// Builds a label set from pairs in any order. Empty values are dropped (Loki does the same);
    /// a name given twice is an error.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, LabelsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut v: Vec<(String, String)> =
            pairs.into_iter().map(|(k, v)| (k.into(), v.into())).filter(|(_, v)| !v.is_empty()).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        for w in v.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(LabelsError::Duplicate(w[0].0.clone()));
            }
        }
        Ok(Labels(Arc::new(v)))
    }

    /// Builds from pairs that are already sorted and unique (checked in debug builds).
    pub fn from_sorted(v: Vec<(String, String)>) -> Self {
        debug_assert!(v.windows(2).all(|w| w[0].0 < w[1].0));
        Labels(Arc::new(v))
    }

    pub fn empty() -> Self {
        Labels(EMPTY.clone())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name)).ok().map(|i| self.0[i].1.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The address of the shared set: equal for clones of one set (and only while one lives).
    pub fn shared_id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    pub fn as_slice(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<(String, String)> {
        Arc::unwrap_or_clone(self.0)
    }

    /// Sets (or, with an empty value, removes) one label, keeping the set sorted.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                Arc::make_mut(&mut self.0).remove(i);
            }
            Ok(i) => Arc::make_mut(&mut self.0)[i].1 = value.to_string(),
            Err(_) if value.is_empty() => {}
            Err(i) => Arc::make_mut(&mut self.0).insert(i, (name.to_string(), value.to_string())),
        }
    }
}

impl fmt::Display for Labels {
    /// `{a="1", b="2"}`, the form Loki uses in messages and as the stream key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={}", quote_go(v))?;
        }
        f.write_str("}")
    }
}

/// Quotes a string as Go's `strconv.Quote` does for printable text.
pub fn quote_go(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Parses a label set in Prometheus notation, `{name="value", ...}`, as the `labels` field of a
/// Loki protobuf push carries it. Values take Go escapes. Empty values are dropped.
pub fn parse_prom_labels(s: &str) -> Result<Labels, LabelsError> {
    let b = s.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let err = |msg: &str, at: usize| LabelsError::Syntax(format!("{msg} at position {at} in {s:?}"));
    skip_ws(&mut i);
    // An optional metric name is tolerated, as Prometheus' parser does.
    while i < b.len() && is_name_char(b[i]) {
        i += 1;
    }
    skip_ws(&mut i);
    if i >= b.len() || b[i] != b'{' {
        return Err(err("expected '{'", i));
    }
    i += 1;
    let mut pairs: Vec<(String, String)> = Vec::new();
    loop {
        skip_ws(&mut i);
        if i < b.len() && b[i] == b'}' {
            i += 1;
            break;
        }
        if i >= b.len() || !is_name_start(b[i]) {
            return Err(err("expected label name", i));
        }
        let start = i;
        while i < b.len() && is_name_char(b[i]) {
            i += 1;
        }
        let name = &s[start..i];
        skip_ws(&mut i);
        if i >= b.len() || b[i] != b'=' {
            return Err(err("expected '='", i));
        }
        i += 1;
        skip_ws(&mut i);
        if i >= b.len() || b[i] != b'"' {
            return Err(err("expected '\"'", i));
        }
        i += 1;
        let mut value = String::new();
        loop {
            let Some(c) = s[i..].chars().next() else {
                return Err(err("unterminated quoted string", i));
            };
            i += c.len_utf8();
            match c {
                '"' => break,
                '\\' => {
                    let Some(e) = s[i..].chars().next() else {
                        return Err(err("unterminated escape", i));
                    };
                    i += e.len_utf8();
                    match e {
                        'n' => value.push('\n'),
                        't' => value.push('\t'),
                        'r' => value.push('\r'),
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        '\'' => value.push('\''),
                        'a' => value.push('\u{7}'),
                        'b' => value.push('\u{8}'),
                        'f' => value.push('\u{c}'),
                        'v' => value.push('\u{b}'),
                        'x' | 'u' | 'U' => {
                            let n = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let hex = s.get(i..i + n).ok_or_else(|| err("bad escape", i))?;
                            let code = u32::from_str_radix(hex, 16).map_err(|_| err("bad escape", i))?;
                            value.push(char::from_u32(code).ok_or_else(|| err("bad escape", i))?);
                            i += n;
                        }
                        _ => return Err(err("unknown escape sequence", i)),
                    }
                }
                c => value.push(c),
            }
        }
        pairs.push((name.to_string(), value));
        skip_ws(&mut i);
        if i < b.len() && b[i] == b',' {
            i += 1;
            continue;
        }
        skip_ws(&mut i);
        if i < b.len() && b[i] == b'}' {
            i += 1;
            break;
        }
        return Err(err("expected ',' or '}'", i));
    }
    skip_ws(&mut i);
    if i != b.len() {
        return Err(err("unexpected text after '}'", i));
    }
    Labels::from_pairs(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let l = parse_prom_labels(r#"{b="2", a="x\"y\n", empty=""}"#).unwrap();
        assert_eq!(l.to_string(), r#"{a="x\"y\n", b="2"}"#);
        assert_eq!(l.get("b"), Some("2"));
        assert_eq!(l.get("empty"), None);
        assert!(parse_prom_labels(r#"{a="1",a="2"}"#).is_err());
        assert!(parse_prom_labels(r#"{a="1""#).is_err());
        assert!(parse_prom_labels(r#"{1a="1"}"#).is_err());
        assert!(parse_prom_labels(r#"{}"#).unwrap().is_empty());
    }
}
