//! Lines to tokens and tokens back to a pattern, as Loki's pattern ingester does it: the
//! format of a stream is guessed from its first line; logfmt lines become key/value tokens (time
//! and trace fields always `<_>`), JSON lines the punctuation tokens of their message field,
//! and other lines punctuation tokens (words, and each punctuation mark but `_ - . : /` alone,
//! `=` included) with the spaces that followed them remembered for printing.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// The placeholder of a variable token.
pub const PARAM: &str = "<_>";

/// Lines longer than this (bytes) are not tokenized (Loki's `MaxAllowedLineLength`).
pub const MAX_LINE_LENGTH: usize = 3000;

/// The punctuation tokenizer stops splitting after this many tokens.
const MAX_SPLIT_TOKENS: usize = 127;

/// The JSON fields whose text is tokenized, first present wins (Loki's default
/// `pattern_ingester_tokenizable_json_fields_default`).
pub const JSON_MESSAGE_FIELDS: [&str; 6] = ["log", "message", "msg", "msg_", "_msg", "content"];

/// How the lines of a stream are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Logfmt,
    Unknown,
}

static LOGFMT: LazyLock<Regex> = LazyLock::new(|| {
    // Go's `\w` and `\S` are ASCII classes.
    Regex::new(r#"^([0-9A-Za-z_]+?=([^"][^\t\n\f\r ]*?|".+?") )*?([0-9A-Za-z_]+?=([^"][^\t\n\f\r ]*?|".+?"))+$"#)
        .expect("the logfmt pattern compiles")
});

/// Loki's guess of a stream's format from one line.
pub fn detect_format(line: &str) -> Format {
    let b = line.as_bytes();
    if b.len() < 2 {
        Format::Unknown
    } else if b[0] == b'{' && b[b.len() - 1] == b'}' {
        Format::Json
    } else if LOGFMT.is_match(line) {
        Format::Logfmt
    } else {
        Format::Unknown
    }
}

/// A tokenized line: its tokens and, for punctuation tokens, the index of the token each space
/// followed (-1 for a space before any token, which Loki's printer never reaches).
#[derive(Debug, Default, Clone)]
pub struct Tokens<'a> {
    pub tokens: Vec<Cow<'a, str>>,
    pub spaces: Vec<i32>,
}

/// Why a line has no tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    TooLong,
    /// A JSON line without a top-level string message field.
    NoMessage,
}

/// Tokenizes one line of a stream of `format`.
pub fn tokenize(format: Format, line: &str) -> Result<Tokens<'_>, Skip> {
    if line.len() > MAX_LINE_LENGTH {
        return Err(Skip::TooLong);
    }
    match format {
        Format::Unknown => Ok(punctuation(line)),
        Format::Json => {
            let msg = json_message(line).ok_or(Skip::NoMessage)?;
            Ok(punctuation(msg))
        }
        Format::Logfmt => logfmt(line),
    }
}

/// Prints a pattern's tokens as Loki does, runs of placeholders collapsed into one.
pub fn join(format: Format, tokens: &[Box<str>], spaces: &[i32]) -> String {
    let s = match format {
        Format::Unknown => join_punctuation(tokens, spaces),
        Format::Json => format!("{PARAM}{}{PARAM}", join_punctuation(tokens, spaces)),
        Format::Logfmt => join_logfmt(tokens),
    };
    dedup_placeholders(&s)
}

/// Go's `unicode.IsPunct` for ASCII, and the common punctuation blocks beyond it.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~');
    }
    matches!(c,
        '\u{a1}' | '\u{a7}' | '\u{ab}' | '\u{b6}' | '\u{b7}' | '\u{bb}' | '\u{bf}'
        | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{2043}' | '\u{2045}'..='\u{2051}' | '\u{2053}'..='\u{205e}'
        | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301f}'
        | '\u{ff01}'..='\u{ff03}' | '\u{ff05}'..='\u{ff0a}' | '\u{ff0c}'..='\u{ff0f}' | '\u{ff1a}' | '\u{ff1b}'
        | '\u{ff1f}' | '\u{ff20}' | '\u{ff3b}'..='\u{ff3d}' | '\u{ff3f}' | '\u{ff5b}' | '\u{ff5d}')
}

fn punctuation(line: &str) -> Tokens<'_> {
    let mut t = Tokens { tokens: Vec::with_capacity(32), spaces: Vec::with_capacity(16) };
    let mut start = 0;
    for (i, c) in line.char_indices() {
        if t.tokens.len() >= MAX_SPLIT_TOKENS {
            break;
        }
        if c.is_alphabetic() || c.is_numeric() || matches!(c, '_' | '-' | '.' | ':' | '/') {
            continue;
        }
        if c == ' ' || c == '=' || is_punct(c) {
            if i > start {
                t.tokens.push(Cow::Borrowed(&line[start..i]));
            }
            if c == ' ' {
                t.spaces.push(t.tokens.len() as i32 - 1);
            } else {
                t.tokens.push(Cow::Borrowed(&line[i..i + c.len_utf8()]));
            }
            start = i + c.len_utf8();
        }
    }
    if start < line.len() {
        t.tokens.push(Cow::Borrowed(&line[start..]));
    }
    t
}

fn join_punctuation(tokens: &[Box<str>], spaces: &[i32]) -> String {
    let mut out = String::with_capacity(tokens.iter().map(|t| t.len() + 1).sum());
    let mut si = 0;
    for (i, tok) in tokens.iter().enumerate() {
        out.push_str(tok);
        while si < spaces.len() && spaces[si] == i as i32 {
            out.push(' ');
            si += 1;
        }
    }
    out
}

/// Keys whose value always varies (Loki's `isVariableField`).
fn is_variable_key(k: &str) -> bool {
    k.eq_ignore_ascii_case("ts")
        || k == "t"
        || k.eq_ignore_ascii_case("traceID")
        || k.eq_ignore_ascii_case("time")
        || k.eq_ignore_ascii_case("timestamp")
}

fn logfmt(line: &str) -> Result<Tokens<'_>, Skip> {
    let pairs = logql::logfmt_pairs(line);
    let mut t = Tokens { tokens: Vec::with_capacity(pairs.len() * 2), spaces: Vec::new() };
    for (k, v) in pairs {
        let var = is_variable_key(&k);
        t.tokens.push(Cow::Owned(k));
        t.tokens.push(if var { Cow::Borrowed(PARAM) } else { Cow::Owned(v) });
    }
    Ok(t)
}

/// go-logfmt's encoding of key/value tokens; a key it cannot write makes the whole pattern
/// empty (then never reported), as in Loki.
fn join_logfmt(tokens: &[Box<str>]) -> String {
    let mut out = String::new();
    for pair in tokens.chunks(2) {
        let k = &pair[0];
        let v = pair.get(1).map(|v| &**v).unwrap_or("");
        if k.is_empty() || k.chars().any(|c| c <= ' ' || c == '=' || c == '"' || c == char::REPLACEMENT_CHARACTER) {
            return String::new();
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(k);
        out.push('=');
        if v.chars().any(|c| c <= ' ' || c == '=' || c == '"' || c == char::REPLACEMENT_CHARACTER) {
            out.push('"');
            for c in v.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
                    char::REPLACEMENT_CHARACTER => out.push_str("\\ufffd"),
                    c => out.push(c),
                }
            }
            out.push('"');
        } else {
            out.push_str(v);
        }
    }
    out
}

fn dedup_placeholders(s: &str) -> String {
    const TWO: &str = "<_><_>";
    if !s.contains(TWO) {
        return s.to_string();
    }
    let mut out = s.to_string();
    while out.contains(TWO) {
        out = out.replace(TWO, PARAM);
    }
    out
}

/// The raw (still escaped) text of the first top-level string field among
/// [`JSON_MESSAGE_FIELDS`], as Loki's tokenizer reads it.
fn json_message(line: &str) -> Option<&str> {
    let fields = top_level_strings(line)?;
    JSON_MESSAGE_FIELDS.iter().find_map(|want| fields.iter().find(|(k, _)| k == want).map(|(_, v)| *v))
}

/// The top-level fields of a JSON object whose value is a string: (raw key, raw value).
fn top_level_strings(s: &str) -> Option<Vec<(&str, &str)>> {
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut out = Vec::new();
    loop {
        i = skip_ws(b, i);
        match b.get(i)? {
            b'}' => return Some(out),
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let (kend, key) = string_at(s, i)?;
        i = skip_ws(b, kend);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        if b.get(i) == Some(&b'"') {
            let (vend, v) = string_at(s, i)?;
            out.push((key, v));
            i = vend;
        } else {
            i = skip_value(b, i)?;
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The string starting at the quote at `i`: (index after its closing quote, raw content).
fn string_at(s: &str, i: usize) -> Option<(usize, &str)> {
    let b = s.as_bytes();
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some((j + 1, &s[i + 1..j])),
            _ => j += 1,
        }
    }
    None
}

/// Skips a non-string value (number, literal, object, array) starting at `i`.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b',' if depth == 0 => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(line: &str) -> Vec<String> {
        punctuation(line).tokens.into_iter().map(|t| t.into_owned()).collect()
    }

    #[test]
    fn formats_as_loki_guesses_them() {
        assert_eq!(detect_format(r#"{"a":1}"#), Format::Json);
        assert_eq!(detect_format(r#"level=info msg="hello world" n=1"#), Format::Logfmt);
        assert_eq!(detect_format("GET /index.html 200"), Format::Unknown);
        assert_eq!(detect_format("x"), Format::Unknown);
    }

    #[test]
    fn punctuation_splits_as_loki() {
        assert_eq!(toks("a=b c.d:e/f_g-h, (x)"), ["a", "=", "b", "c.d:e/f_g-h", ",", "(", "x", ")"]);
        let t = punctuation("foo bar  baz");
        assert_eq!(t.spaces, [0, 1, 1]);
        let boxed: Vec<Box<str>> = t.tokens.iter().map(|t| (**t).into()).collect();
        assert_eq!(join(Format::Unknown, &boxed, &t.spaces), "foo bar  baz");
        // Symbols stay inside tokens; non-ASCII punctuation is split off whole.
        assert_eq!(toks("a+b<c «d»"), ["a+b<c", "«", "d", "»"]);
    }

    #[test]
    fn logfmt_tokens_hide_times_and_quote_back() {
        let t = logfmt(r#"ts=2024-01-01T00:00:00Z level=info msg="hello world""#).unwrap();
        let boxed: Vec<Box<str>> = t.tokens.iter().map(|t| (**t).into()).collect();
        assert_eq!(boxed.len(), 6);
        assert_eq!(&*boxed[1], PARAM);
        assert_eq!(join(Format::Logfmt, &boxed, &[]), r#"ts=<_> level=info msg="hello world""#);
    }

    #[test]
    fn json_message_is_the_first_known_field() {
        assert_eq!(json_message(r#"{"n":{"msg":"inner"},"a":[1,"x"],"msg":"hi \"there\"","log":"L"}"#), Some("L"));
        assert_eq!(json_message(r#"{"n":{"msg":"inner"},"msg":"hi \"there\""}"#), Some(r#"hi \"there\""#));
        assert_eq!(json_message(r#"{"level":"info"}"#), None);
        assert_eq!(json_message("not json"), None);
    }

    #[test]
    fn placeholders_collapse() {
        assert_eq!(dedup_placeholders("a<_><_><_>b<_>c<_><_>"), "a<_>b<_>c<_>");
    }
}
