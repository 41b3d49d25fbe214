//! A small validating JSON scanner, enough for Loki's `json` and `unpack` parsers: it keeps
//! number literals as written and visits object members in order (duplicates included).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    Bool,
    Null,
    Object,
    Array,
}

pub(crate) struct Scanner<'a> {
    b: &'a [u8],
    pub pos: usize,
    /// Objects and arrays open around the position.
    depth: usize,
}

/// The deepest nesting of objects and arrays a line may have: scanning (and the `json` stage's
/// flattening) recurses once per level, and a pushed line must not be able to overflow a
/// query's stack. Real log lines nest a few levels; deeper ones are a `JSONParserErr`.
pub const MAX_JSON_DEPTH: usize = 256;

pub(crate) type JResult<T> = Result<T, String>;

/// jsonparser's `MalformedObjectError` text, which Loki shows in `__error_details__`.
pub(crate) const OBJECT_ERR: &str = "Value looks like object, but can't find closing '}' symbol";

impl<'a> Scanner<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Scanner { b: s.as_bytes(), pos: 0, depth: 0 }
    }
    #[inline]
    pub(crate) fn ws(&mut self) {
        while self.pos < self.b.len() && matches!(self.b[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }
    fn err<T>(&self) -> JResult<T> {
        Err(OBJECT_ERR.into())
    }
    /// Scans one value; returns its kind and byte span.
    pub(crate) fn value(&mut self) -> JResult<(Kind, usize, usize)> {
        self.ws();
        let start = self.pos;
        let Some(&c) = self.b.get(self.pos) else { return self.err() };
        if matches!(c, b'{' | b'[') {
            if self.depth >= MAX_JSON_DEPTH {
                return Err(format!("JSON nesting too deep at byte {} (max {MAX_JSON_DEPTH})", self.pos));
            }
            self.depth += 1;
        }
        let kind = match c {
            b'"' => {
                self.string()?;
                Kind::String
            }
            b'{' => {
                self.pos += 1;
                self.ws();
                if self.b.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        if self.b.get(self.pos) != Some(&b'"') {
                            return self.err();
                        }
                        self.string()?;
                        self.ws();
                        if self.b.get(self.pos) != Some(&b':') {
                            return self.err();
                        }
                        self.pos += 1;
                        self.value()?;
                        self.ws();
                        match self.b.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.err(),
                        }
                    }
                }
                self.depth -= 1;
                Kind::Object
            }
            b'[' => {
                self.pos += 1;
                self.ws();
                if self.b.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.value()?;
                        self.ws();
                        match self.b.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.err(),
                        }
                    }
                }
                self.depth -= 1;
                Kind::Array
            }
            b't' => self.word(b"true", Kind::Bool)?,
            b'f' => self.word(b"false", Kind::Bool)?,
            b'n' => self.word(b"null", Kind::Null)?,
            b'-' | b'0'..=b'9' => {
                self.pos += 1;
                while self.pos < self.b.len()
                    && matches!(self.b[self.pos], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    self.pos += 1;
                }
                Kind::Number
            }
            _ => return self.err(),
        };
        Ok((kind, start, self.pos))
    }
    fn word(&mut self, w: &[u8], k: Kind) -> JResult<Kind> {
        if self.b[self.pos..].starts_with(w) {
            self.pos += w.len();
            Ok(k)
        } else {
            self.err()
        }
    }
    #[inline]
    fn string(&mut self) -> JResult<()> {
        self.pos += 1;
        // Most strings of a log line are short: their first bytes are looked at a word at a
        // time (a vector search costs more to set up), longer ones with `memchr2`.
        let b = self.b;
        let end = (self.pos + 64).min(b.len());
        let mut p = self.pos;
        while p < end {
            if p + 8 <= end {
                let mut w = [0u8; 8];
                w.copy_from_slice(&b[p..p + 8]);
                let m = quote_or_backslash(u64::from_le_bytes(w));
                if m == 0 {
                    p += 8;
                    continue;
                }
                p += (m.trailing_zeros() / 8) as usize;
            }
            match b[p] {
                b'"' => {
                    self.pos = p + 1;
                    return Ok(());
                }
                b'\\' => p += 2,
                _ => p += 1,
            }
        }
        self.pos = p;
        while self.pos < self.b.len() {
            match memchr::memchr2(b'"', b'\\', &self.b[self.pos..]) {
                None => break,
                Some(i) if self.b[self.pos + i] == b'"' => {
                    self.pos += i + 1;
                    return Ok(());
                }
                Some(i) => self.pos += i + 2,
            }
        }
        self.err()
    }
}

/// Marks (high bit of each byte) the bytes of `w` that are `"` or `\\`; the lowest mark is
/// exact (a borrow may only add marks above a real one).
fn quote_or_backslash(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let q = w ^ (LO * u64::from(b'"'));
    let s = w ^ (LO * u64::from(b'\\'));
    (q.wrapping_sub(LO) & !q | s.wrapping_sub(LO) & !s) & HI
}

/// Unescapes a JSON string literal (with its quotes). Invalid escapes give `None`.
pub(crate) fn unescape(raw: &str) -> Option<String> {
    unescape_cow(raw).map(|c| c.into_owned())
}

/// Like `unescape`, borrowing when the literal has no escapes.
#[inline]
pub(crate) fn unescape_cow(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    let inner = raw.get(1..raw.len().saturating_sub(1))?;
    if !inner.contains('\\') {
        return Some(std::borrow::Cow::Borrowed(inner));
    }
    unescape_slow(inner).map(std::borrow::Cow::Owned)
}

fn unescape_slow(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let h: String = it.by_ref().take(4).collect();
                let mut v = u32::from_str_radix(&h, 16).ok()?;
                if (0xD800..0xDC00).contains(&v) {
                    let rest = it.as_str();
                    if rest.starts_with("\\u") {
                        let lo = u32::from_str_radix(rest.get(2..6)?, 16).ok()?;
                        if (0xDC00..0xE000).contains(&lo) {
                            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                            it = rest[6..].chars();
                        }
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Visits the members of a top-level object. Errors when the text is not a valid object.
pub(crate) fn object_each<'a>(s: &'a str, mut f: impl FnMut(&'a str, Kind, &'a str)) -> JResult<()> {
    let mut sc = Scanner::new(s);
    sc.ws();
    if sc.b.get(sc.pos) != Some(&b'{') {
        return Err(OBJECT_ERR.into());
    }
    sc.pos += 1;
    sc.depth = 1;
    sc.ws();
    if sc.b.get(sc.pos) == Some(&b'}') {
        return Ok(());
    }
    loop {
        sc.ws();
        if sc.b.get(sc.pos) != Some(&b'"') {
            return sc.err();
        }
        let ks = sc.pos;
        sc.string()?;
        let key = &s[ks..sc.pos];
        sc.ws();
        if sc.b.get(sc.pos) != Some(&b':') {
            return sc.err();
        }
        sc.pos += 1;
        let (k, a, b) = sc.value()?;
        f(key, k, &s[a..b]);
        sc.ws();
        match sc.b.get(sc.pos) {
            Some(b',') => sc.pos += 1,
            Some(b'}') => return Ok(()),
            _ => return sc.err(),
        }
    }
}

/// Visits the elements of an array.
pub(crate) fn array_each<'a>(s: &'a str, mut f: impl FnMut(Kind, &'a str)) -> JResult<()> {
    let mut sc = Scanner::new(s);
    sc.ws();
    if sc.b.get(sc.pos) != Some(&b'[') {
        return Err("Value is not an array".into());
    }
    sc.pos += 1;
    sc.depth = 1;
    sc.ws();
    if sc.b.get(sc.pos) == Some(&b']') {
        return Ok(());
    }
    loop {
        let (k, a, b) = sc.value()?;
        f(k, &s[a..b]);
        sc.ws();
        match sc.b.get(sc.pos) {
            Some(b',') => sc.pos += 1,
            Some(b']') => return Ok(()),
            _ => return sc.err(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PathPart {
    Key(String),
    Index(usize),
}

/// Parses a json expression path: `a.b[0]["c d"]`.
pub(crate) fn parse_path(p: &str) -> Result<Vec<PathPart>, String> {
    let err = || format!("cannot parse expression [{p}]: syntax error");
    let b = p.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let mut expect_field = true;
    while i < b.len() {
        match b[i] {
            b'[' => {
                i += 1;
                if i < b.len() && b[i] == b'"' {
                    let st = i + 1;
                    let mut j = st;
                    while j < b.len() && b[j] != b'"' {
                        j += 1;
                    }
                    if j + 1 >= b.len() || b[j + 1] != b']' {
                        return Err(err());
                    }
                    out.push(PathPart::Key(p[st..j].to_string()));
                    i = j + 2;
                } else {
                    let st = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    if st == i || i >= b.len() || b[i] != b']' {
                        return Err(err());
                    }
                    out.push(PathPart::Index(p[st..i].parse().map_err(|_| err())?));
                    i += 1;
                }
                expect_field = false;
            }
            b'.' if !expect_field => {
                i += 1;
                expect_field = true;
                if i >= b.len() {
                    return Err(err());
                }
            }
            c if expect_field && (c.is_ascii_alphabetic() || c == b'_') => {
                let st = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(PathPart::Key(p[st..i].to_string()));
                expect_field = false;
            }
            _ => return Err(err()),
        }
    }
    if out.is_empty() {
        return Err(err());
    }
    Ok(out)
}

/// Looks a path up; `Ok(None)` when missing.
pub(crate) fn get_path<'a>(s: &'a str, path: &[PathPart]) -> JResult<Option<(Kind, &'a str)>> {
    let mut cur: &'a str = s;
    let mut kind = Kind::Object;
    for part in path {
        let mut found: Option<(Kind, &'a str)> = None;
        match part {
            PathPart::Key(k) => {
                if kind != Kind::Object {
                    return Ok(None);
                }
                object_each(cur, |key, kk, v| {
                    if found.is_none() && unescape(key).as_deref() == Some(k.as_str()) {
                        found = Some((kk, v));
                    }
                })?;
            }
            PathPart::Index(n) => {
                if kind != Kind::Array {
                    return Ok(None);
                }
                let mut i = 0;
                array_each(cur, |kk, v| {
                    if i == *n {
                        found = Some((kk, v));
                    }
                    i += 1;
                })?;
            }
        }
        match found {
            Some((k, v)) => {
                kind = k;
                cur = v;
            }
            None => return Ok(None),
        }
    }
    Ok(Some((kind, cur)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings with escapes at every offset around the word-at-a-time and vector scans' edges.
    #[test]
    fn strings_end_at_their_closing_quote() {
        for n in 0..90 {
            for (i, esc) in (0..n).flat_map(|i| [(i, r#"\""#), (i, r"\\"), (i, r"\u0041")]) {
                let body = format!("{}{esc}{}", "a".repeat(i), "b".repeat(n - i));
                let line = format!(r#"{{"k":"{body}","z":1}}"#);
                let mut got = vec![];
                object_each(&line, |k, kind, v| got.push((k.to_string(), kind, v.to_string()))).unwrap();
                assert_eq!(got[0], ("\"k\"".to_string(), Kind::String, format!("\"{body}\"")), "{line}");
                assert_eq!(got.len(), 2, "{line}");
            }
            let open = format!(r#"{{"k":"{}"#, "a".repeat(n));
            assert!(object_each(&open, |_, _, _| {}).is_err(), "{open}");
            let trailing = format!(r#"{{"k":"{}\"#, "a".repeat(n));
            assert!(object_each(&trailing, |_, _, _| {}).is_err(), "{trailing}");
        }
    }

    #[test]
    fn scan() {
        let mut got = vec![];
        object_each(r#"{"a":1.50,"b":{"c":"x\"y"},"d":[1,2],"e":null}"#, |k, kind, v| got.push((k, kind, v))).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], ("\"a\"", Kind::Number, "1.50"));
        assert!(object_each("broken", |_, _, _| {}).is_err());
        assert!(object_each(r#"{"a":1"#, |_, _, _| {}).is_err());
        let p = parse_path(r#"my.list[0]["field x"]"#).unwrap();
        assert_eq!(p.len(), 4);
        assert!(parse_path("user[").is_err());
        let j = r#"{"user":{"id":"u1"},"tags":["x","y"]}"#;
        assert_eq!(get_path(j, &parse_path("user.id").unwrap()).unwrap(), Some((Kind::String, "\"u1\"")));
        assert_eq!(get_path(j, &parse_path("tags[1]").unwrap()).unwrap(), Some((Kind::String, "\"y\"")));
        assert_eq!(get_path(j, &parse_path("user.age").unwrap()).unwrap(), None);
        assert_eq!(unescape(r#""a\u00e9\n""#).unwrap(), "aé\n");
    }
}
