//! The LogQL lexer: Go `text/scanner` tokenisation plus Loki's rules for durations, byte sizes,
//! ranges, parser flags and context-dependent function keywords.

use crate::go;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Number(String),
    Duration(i64),
    Bytes(u64),
    Range(i64),
    Flag(String),
    /// A function keyword (only when followed by `(` or `by (`/`without (`), lower-cased.
    Func(&'static str),
    LBrace,
    RBrace,
    LParen,
    RParen,
    RBracket,
    Comma,
    Dot,
    Eq,
    Neq,
    Re,
    Nre,
    Npa,
    PipeExact,
    PipeMatch,
    PipePattern,
    Pipe,
    CmpEq,
    Gt,
    Gte,
    Lt,
    Lte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    /// Always-reserved keyword (lower-cased): by without bool ... keep.
    Kw(&'static str),
    Eof,
}

impl Tok {
    /// The token's name in goyacc messages (Loki renames literal tokens to their text).
    pub(crate) fn name(&self) -> String {
        match self {
            Tok::Ident(_) => "IDENTIFIER".into(),
            Tok::Str(_) => "STRING".into(),
            Tok::Number(_) => "NUMBER".into(),
            Tok::Duration(_) => "DURATION".into(),
            Tok::Bytes(_) => "BYTES".into(),
            Tok::Range(_) => "RANGE".into(),
            Tok::Flag(_) => "FUNCTION_FLAG".into(),
            Tok::Func(f) => match *f {
                "bytes" => "BYTES_CONV".into(),
                "duration" => "DURATION_CONV".into(),
                "duration_seconds" => "DURATION_SECONDS_CONV".into(),
                "ip" => "ip".into(),
                "label_replace" => "label_replace".into(),
                f => f.to_ascii_uppercase(),
            },
            Tok::LBrace => "{".into(),
            Tok::RBrace => "}".into(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::RBracket => "]".into(),
            Tok::Comma => ",".into(),
            Tok::Dot => ".".into(),
            Tok::Eq => "=".into(),
            Tok::Neq => "!=".into(),
            Tok::Re => "=~".into(),
            Tok::Nre => "!~".into(),
            Tok::Npa => "!>".into(),
            Tok::PipeExact => "|=".into(),
            Tok::PipeMatch => "|~".into(),
            Tok::PipePattern => "|>".into(),
            Tok::Pipe => "|".into(),
            Tok::CmpEq => "==".into(),
            Tok::Gt => ">".into(),
            Tok::Gte => ">=".into(),
            Tok::Lt => "<".into(),
            Tok::Lte => "<=".into(),
            Tok::Add => "+".into(),
            Tok::Sub => "-".into(),
            Tok::Mul => "*".into(),
            Tok::Div => "/".into(),
            Tok::Mod => "%".into(),
            Tok::Pow => "^".into(),
            Tok::Kw(k) => (*k).into(),
            Tok::Eof => "$end".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub line: usize,
    pub col: usize,
}

/// A lexing error at a position (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LexError {
    pub msg: String,
    pub line: usize,
    pub col: usize,
}

const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "bool",
    "label_replace",
    "offset",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "or",
    "and",
    "unless",
    "json",
    "regexp",
    "logfmt",
    "unpack",
    "pattern",
    "label_format",
    "line_format",
    "ip",
    "decolorize",
    "drop",
    "keep",
    "unwrap",
];

pub(crate) const FUNCTIONS: &[&str] = &[
    "rate",
    "rate_counter",
    "count_over_time",
    "bytes_rate",
    "bytes_over_time",
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "stdvar_over_time",
    "stddev_over_time",
    "quantile_over_time",
    "first_over_time",
    "last_over_time",
    "absent_over_time",
    "vector",
    "sum",
    "avg",
    "max",
    "min",
    "count",
    "stddev",
    "stdvar",
    "bottomk",
    "topk",
    "sort",
    "sort_desc",
    "label_replace",
    "approx_topk",
    "bytes",
    "duration",
    "duration_seconds",
    "ip",
];

fn lookup(list: &[&'static str], s: &str) -> Option<&'static str> {
    list.iter().copied().find(|k| k.eq_ignore_ascii_case(s))
}

struct Scanner<'a> {
    chars: Vec<char>,
    src: &'a str,
    pos: usize,
    line: usize,
    col: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }
}

/// Tokenises a whole query. On a lexing error returns the error (Loki reports the first one).
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let mut s = Scanner { chars: src.chars().collect(), src, pos: 0, line: 1, col: 1 };
    let _ = s.src;
    let mut out = Vec::new();
    loop {
        // skip whitespace and comments
        loop {
            match s.peek() {
                Some(c) if c.is_whitespace() => {
                    s.next();
                }
                Some('#') => {
                    while let Some(c) = s.peek() {
                        if c == '\n' {
                            break;
                        }
                        s.next();
                    }
                }
                Some('/') if s.peek_at(1) == Some('/') => {
                    while let Some(c) = s.peek() {
                        if c == '\n' {
                            break;
                        }
                        s.next();
                    }
                }
                Some('/') if s.peek_at(1) == Some('*') => {
                    let (l, c) = (s.line, s.col);
                    s.next();
                    s.next();
                    let mut closed = false;
                    while let Some(c) = s.next() {
                        if c == '*' && s.peek() == Some('/') {
                            s.next();
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        return Err(LexError { msg: "comment not terminated".into(), line: l, col: c });
                    }
                }
                _ => break,
            }
        }
        let (line, col) = (s.line, s.col);
        let Some(c) = s.peek() else {
            out.push(Token { tok: Tok::Eof, line, col });
            return Ok(out);
        };
        let err = |msg: &str| LexError { msg: msg.to_string(), line, col };
        let tok = if c.is_ascii_digit() || (c == '.' && s.peek_at(1).is_some_and(|d| d.is_ascii_digit())) {
            let text = scan_number(&mut s);
            if let Some(d) = try_scan_suffix(&mut s, &text, is_duration_rune, |t| parse_duration_lit(t).ok()) {
                Tok::Duration(d)
            } else if let Some(b) = try_scan_suffix(&mut s, &text, is_bytes_rune, |t| go::parse_bytes(t).ok()) {
                Tok::Bytes(b)
            } else {
                Tok::Number(text)
            }
        } else if c == '"' || c == '`' {
            Tok::Str(scan_string(&mut s).map_err(|m| err(&m))?)
        } else if c == '\'' {
            // Go char literal: Loki treats its text as an identifier.
            s.next();
            let mut t = String::from("'");
            loop {
                match s.next() {
                    None | Some('\n') => return Err(err("literal not terminated")),
                    Some('\\') => {
                        t.push('\\');
                        if let Some(c) = s.next() {
                            t.push(c);
                        }
                    }
                    Some('\'') => {
                        t.push('\'');
                        break;
                    }
                    Some(c) => t.push(c),
                }
            }
            Tok::Ident(t)
        } else if c == '_' || c.is_alphabetic() {
            let mut id = String::new();
            while let Some(c) = s.peek() {
                if c == '_' || c.is_alphabetic() || c.is_numeric() && c.is_ascii_digit() || c.is_numeric() {
                    id.push(c);
                    s.next();
                } else {
                    break;
                }
            }
            classify_word(&s, id)
        } else if c == '[' {
            s.next();
            let mut body = String::new();
            let mut found = false;
            while let Some(c) = s.next() {
                if c == ']' {
                    found = true;
                    break;
                }
                body.push(c);
            }
            // Loki reports positions of range tokens on line 0.
            let err0 = |msg: &str| LexError { msg: msg.to_string(), line: 0, col };
            if !found {
                return Err(err0("missing closing ']' in duration"));
            }
            match go::parse_prom_duration(&body) {
                Ok(d) => {
                    out.push(Token { tok: Tok::Range(d), line: 0, col });
                    continue;
                }
                Err(e) => return Err(err0(&e)),
            }
        } else {
            s.next();
            let n = s.peek();
            let two = |s: &mut Scanner, t: Tok| {
                s.next();
                t
            };
            match (c, n) {
                ('!', Some('=')) => two(&mut s, Tok::Neq),
                ('!', Some('~')) => two(&mut s, Tok::Nre),
                ('!', Some('>')) => two(&mut s, Tok::Npa),
                ('=', Some('~')) => two(&mut s, Tok::Re),
                ('=', Some('=')) => two(&mut s, Tok::CmpEq),
                ('|', Some('=')) => two(&mut s, Tok::PipeExact),
                ('|', Some('~')) => two(&mut s, Tok::PipeMatch),
                ('|', Some('>')) => two(&mut s, Tok::PipePattern),
                ('>', Some('=')) => two(&mut s, Tok::Gte),
                ('<', Some('=')) => two(&mut s, Tok::Lte),
                ('-', Some('-')) => {
                    // parser flags --strict / --keep-empty
                    let mut j = s.pos;
                    let mut flag = String::from("-");
                    while let Some(&c) = s.chars.get(j) {
                        if c.is_alphabetic() || c == '-' {
                            flag.push(c);
                            j += 1;
                        } else {
                            break;
                        }
                    }
                    if flag == "--strict" || flag == "--keep-empty" {
                        for _ in 0..flag.len() - 1 {
                            s.next();
                        }
                        Tok::Flag(flag)
                    } else {
                        Tok::Sub
                    }
                }
                ('-', _) => {
                    if let Some(d) = try_scan_suffix(&mut s, "-", is_duration_char, |t| parse_duration_lit(t).ok()) {
                        Tok::Duration(d)
                    } else {
                        Tok::Sub
                    }
                }
                ('=', _) => Tok::Eq,
                ('|', _) => Tok::Pipe,
                ('>', _) => Tok::Gt,
                ('<', _) => Tok::Lt,
                ('{', _) => Tok::LBrace,
                ('}', _) => Tok::RBrace,
                ('(', _) => Tok::LParen,
                (')', _) => Tok::RParen,
                (']', _) => Tok::RBracket,
                (',', _) => Tok::Comma,
                ('.', _) => Tok::Dot,
                ('+', _) => Tok::Add,
                ('*', _) => Tok::Mul,
                ('/', _) => Tok::Div,
                ('%', _) => Tok::Mod,
                ('^', _) => Tok::Pow,
                (c, _) => Tok::Ident(c.to_string()),
            }
        };
        out.push(Token { tok, line, col });
    }
}

fn classify_word(s: &Scanner, id: String) -> Tok {
    let lower = id.to_lowercase();
    if let Some(f) = lookup(FUNCTIONS, &lower) {
        if is_function(s) {
            return Tok::Func(f);
        }
        return Tok::Ident(id);
    }
    if let Some(k) = lookup(KEYWORDS, &lower) {
        return Tok::Kw(k);
    }
    Tok::Ident(id)
}

/// Loki's `isFunction`: after optional whitespace comes `(`, or `by`/`without` then `(`.
fn is_function(s: &Scanner) -> bool {
    let mut j = s.pos;
    while s.chars.get(j).is_some_and(|c| c.is_whitespace()) {
        j += 1;
    }
    if s.chars.get(j) == Some(&'(') {
        return true;
    }
    for kw in ["by", "without"] {
        let n = kw.len();
        if j + n <= s.chars.len() {
            let w: String = s.chars[j..j + n].iter().collect();
            if w.eq_ignore_ascii_case(kw) {
                let mut k = j + n;
                while s.chars.get(k).is_some_and(|c| c.is_whitespace()) {
                    k += 1;
                }
                return s.chars.get(k) == Some(&'(');
            }
        }
    }
    false
}

fn is_duration_rune(c: char) -> bool {
    matches!(c, 'n' | 'u' | 'µ' | 'm' | 's' | 'h' | 'd' | 'w' | 'y')
}
fn is_duration_char(c: char) -> bool {
    is_duration_rune(c)
}
fn is_bytes_rune(c: char) -> bool {
    matches!(c, 'B' | 'i' | 'k' | 'K' | 'M' | 'G' | 'T' | 'P')
}

/// Loki's duration literal: Prometheus first, then Go.
pub(crate) fn parse_duration_lit(t: &str) -> Result<i64, String> {
    go::parse_prom_duration(t).or_else(|_| go::parse_go_duration(t))
}

fn try_scan_suffix<T>(
    s: &mut Scanner,
    prefix: &str,
    unit: fn(char) -> bool,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let mut j = s.pos;
    let mut text = prefix.to_string();
    while let Some(&c) = s.chars.get(j) {
        if c.is_whitespace() || !(c.is_numeric() || unit(c) || c == '.') {
            break;
        }
        text.push(c);
        j += 1;
    }
    if j == s.pos {
        return None;
    }
    let v = parse(&text)?;
    while s.pos < j {
        s.next();
    }
    Some(v)
}

fn scan_number(s: &mut Scanner) -> String {
    let mut t = String::new();
    let digits = |s: &mut Scanner, t: &mut String, pred: fn(char) -> bool| {
        while let Some(c) = s.peek() {
            if pred(c) || c == '_' {
                t.push(c);
                s.next();
            } else {
                break;
            }
        }
    };
    let c = s.peek().unwrap();
    let mut prefix = '0';
    if c == '0'
        && let Some(p) = s.peek_at(1)
        && matches!(p.to_ascii_lowercase(), 'x' | 'o' | 'b')
    {
        prefix = p.to_ascii_lowercase();
        t.push(c);
        t.push(p);
        s.next();
        s.next();
    }
    let pred: fn(char) -> bool = match prefix {
        'x' => |c| c.is_ascii_hexdigit(),
        'o' => |c| c.is_ascii_digit(),
        'b' => |c| c.is_ascii_digit(),
        _ => |c| c.is_ascii_digit(),
    };
    digits(s, &mut t, pred);
    if s.peek() == Some('.') && (prefix == '0' || prefix == 'x') {
        t.push('.');
        s.next();
        digits(s, &mut t, pred);
    }
    if let Some(e) = s.peek() {
        let el = e.to_ascii_lowercase();
        if (el == 'e' && prefix == '0') || (el == 'p' && prefix == 'x') {
            // exponent: only if followed by digits (optionally signed)
            let (a, b) = (s.peek_at(1), s.peek_at(2));
            let ok = a.is_some_and(|c| c.is_ascii_digit())
                || (matches!(a, Some('+') | Some('-')) && b.is_some_and(|c| c.is_ascii_digit()));
            if ok {
                t.push(e);
                s.next();
                if matches!(s.peek(), Some('+') | Some('-')) {
                    t.push(s.next().unwrap());
                }
                digits(s, &mut t, |c| c.is_ascii_digit());
            }
        }
    }
    t
}

fn scan_string(s: &mut Scanner) -> Result<String, String> {
    let q = s.next().unwrap();
    let mut raw = String::new();
    if q == '`' {
        loop {
            match s.next() {
                None => return Err("literal not terminated".into()),
                Some('`') => break,
                Some('\r') => {}
                Some(c) => raw.push(c),
            }
        }
        return Ok(raw);
    }
    // double-quoted with Go escapes
    let mut out = String::new();
    loop {
        match s.next() {
            None | Some('\n') => return Err("literal not terminated".into()),
            Some('"') => break,
            Some('\\') => {
                let Some(e) = s.next() else { return Err("literal not terminated".into()) };
                match e {
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => return Err("invalid syntax".into()),
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap();
                        for _ in 0..2 {
                            let d = s.next().and_then(|c| c.to_digit(8)).ok_or("invalid syntax")?;
                            v = v * 8 + d;
                        }
                        if v > 255 {
                            return Err("invalid syntax".into());
                        }
                        push_byte(&mut out, v as u8);
                    }
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut v = 0u32;
                        for _ in 0..n {
                            let d = s.next().and_then(|c| c.to_digit(16)).ok_or("invalid syntax")?;
                            v = v * 16 + d;
                        }
                        if e == 'x' {
                            push_byte(&mut out, v as u8);
                        } else {
                            out.push(char::from_u32(v).ok_or("invalid syntax")?);
                        }
                    }
                    _ => return Err("invalid syntax".into()),
                }
            }
            Some(c) => out.push(c),
        }
    }
    Ok(out)
}

/// Go strings are bytes; a `\xNN` escape above 0x7f can't be kept in a Rust `String`, so it
/// becomes the corresponding Latin-1 char (close enough for patterns and templates).
fn push_byte(out: &mut String, b: u8) {
    out.push(b as char);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn basic() {
        assert_eq!(
            toks(r#"rate({a="b"}[5m])"#),
            vec![
                Tok::Func("rate"),
                Tok::LParen,
                Tok::LBrace,
                Tok::Ident("a".into()),
                Tok::Eq,
                Tok::Str("b".into()),
                Tok::RBrace,
                Tok::Range(5 * go::MIN),
                Tok::RParen,
                Tok::Eof
            ]
        );
        assert_eq!(toks("count > 5")[0], Tok::Ident("count".into()));
        assert_eq!(toks("sum by (a)")[0], Tok::Func("sum"));
        assert_eq!(toks("SUM (a)")[0], Tok::Func("sum"));
        assert_eq!(toks("x > 1.5s")[2], Tok::Duration(1_500_000_000));
        assert_eq!(toks("x > 1KiB")[2], Tok::Bytes(1024));
        assert_eq!(toks("x > 1mb")[2], Tok::Duration(go::MIN));
        assert_eq!(toks("logfmt --strict")[1], Tok::Flag("--strict".into()));
        assert_eq!(toks("offset -5m")[1], Tok::Duration(-5 * go::MIN));
        assert_eq!(toks("1-1")[1], Tok::Sub);
        assert_eq!(toks("0x1p3")[0], Tok::Number("0x1p3".into()));
    }
}
