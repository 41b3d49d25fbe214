//! Splitting a template into text and `{{ actions }}` (with `{{-`/`-}}` trimming and comments),
//! and lexing an action into tokens.

use crate::go::unquote;

/// A parse error: the message and the byte offset it is about.
pub(crate) type PErr = (String, usize);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum T {
    Dot,
    Field(String),
    /// `.b` directly after `.a`, `$x` or `)` (`.a.b`, `$x.b`, `(p).b`).
    Chain(String),
    Var(String),
    Str(String),
    Num(String),
    Ident(String),
    Pipe,
    LParen,
    RParen,
    Decl,
    Assign,
    Comma,
}

/// Tokens with their byte offsets in the template.
pub(crate) fn lex_action(s: &str, base: usize) -> Result<Vec<(T, usize)>, PErr> {
    let c: Vec<char> = s.chars().collect();
    let byte_at: Vec<usize> = s.char_indices().map(|(b, _)| b).collect();
    let at = |i: usize| base + byte_at.get(i).copied().unwrap_or(s.len());
    let mut i = 0;
    let mut out: Vec<(T, usize)> = Vec::new();
    while i < c.len() {
        let ch = c[i];
        let start = at(i);
        if is_space(ch) {
            i += 1;
            continue;
        }
        let tok = if ch == '|' {
            i += 1;
            T::Pipe
        } else if ch == '(' {
            i += 1;
            T::LParen
        } else if ch == ')' {
            i += 1;
            T::RParen
        } else if ch == ',' {
            i += 1;
            T::Comma
        } else if ch == ':' && c.get(i + 1) == Some(&'=') {
            i += 2;
            T::Decl
        } else if ch == '=' {
            i += 1;
            T::Assign
        } else if ch == '"' {
            let mut j = i + 1;
            let mut raw = String::from("\"");
            while j < c.len() && c[j] != '"' {
                if c[j] == '\\' && j + 1 < c.len() {
                    raw.push(c[j]);
                    j += 1;
                }
                raw.push(c[j]);
                j += 1;
            }
            if j >= c.len() {
                return Err(("unterminated quoted string".into(), start));
            }
            raw.push('"');
            i = j + 1;
            T::Str(unquote(&raw).map_err(|e| (e, start))?)
        } else if ch == '`' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '`' {
                j += 1;
            }
            if j >= c.len() {
                return Err(("unterminated raw quoted string".into(), start));
            }
            let t = T::Str(c[i + 1..j].iter().collect());
            i = j + 1;
            t
        } else if ch == '.' || ch == '$' {
            let mut j = i + 1;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
                j += 1;
            }
            let name: String = c[i + 1..j].iter().collect();
            let glued = i > 0
                && !is_space(c[i - 1])
                && matches!(out.last(), Some((T::Field(_) | T::Chain(_) | T::Var(_) | T::RParen, _)));
            i = j;
            if ch == '$' {
                T::Var(name)
            } else if name.is_empty() {
                T::Dot
            } else if glued {
                T::Chain(name)
            } else {
                T::Field(name)
            }
        } else if ch.is_ascii_digit() || ((ch == '-' || ch == '+') && c.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let mut j = i + 1;
            while j < c.len()
                && (c[j].is_ascii_alphanumeric()
                    || c[j] == '.'
                    || c[j] == '_'
                    || ((c[j] == '-' || c[j] == '+') && matches!(c[j - 1], 'e' | 'E' | 'p' | 'P')))
            {
                j += 1;
            }
            let t = T::Num(c[i..j].iter().collect());
            i = j;
            t
        } else if ch == '\'' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '\'' {
                j += 1;
            }
            let inner: String = c[i + 1..j.min(c.len())].iter().collect();
            i = j + 1;
            T::Num((inner.chars().next().unwrap_or('\0') as u32).to_string())
        } else if ch.is_alphabetic() || ch == '_' {
            let mut j = i + 1;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
                j += 1;
            }
            let t = T::Ident(c[i..j].iter().collect());
            i = j;
            t
        } else {
            return Err((format!("unrecognized character in action: U+{:04X}", ch as u32), start));
        };
        out.push((tok, start));
    }
    Ok(out)
}

pub(crate) enum Item {
    Text(String),
    /// An action's trimmed body and its byte offset in the template.
    Action(String, usize),
}

pub(crate) fn split_items(src: &str) -> Result<Vec<Item>, PErr> {
    let mut items = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find("{{") {
        let open_at = rest.as_ptr() as usize - src.as_ptr() as usize + i;
        let mut text = rest[..i].to_string();
        let after = &rest[i + 2..];
        let trim_left = after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
        if trim_left {
            text = text.trim_end().to_string();
        }
        items.push(Item::Text(text));
        let body_start = if trim_left { 2 } else { 0 };
        let after = &after[body_start..];
        // find the closing `}}`, skipping strings
        let b = after.as_bytes();
        let mut j = 0;
        let mut end = None;
        while j < b.len() {
            match b[j] {
                b'"' => {
                    j += 1;
                    while j < b.len() && b[j] != b'"' {
                        if b[j] == b'\\' {
                            j += 1;
                        }
                        j += 1;
                    }
                }
                b'`' => {
                    j += 1;
                    while j < b.len() && b[j] != b'`' {
                        j += 1;
                    }
                }
                b'}' if b.get(j + 1) == Some(&b'}') => {
                    end = Some(j);
                    break;
                }
                b'\n' if !after[..j].trim_start().starts_with("/*") => {
                    return Err(("unclosed action".into(), open_at));
                }
                _ => {}
            }
            j += 1;
        }
        let Some(e) = end else {
            return Err(("unclosed action".into(), open_at));
        };
        let mut body = &after[..e];
        let trim_right = body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-");
        if trim_right {
            body = &body[..body.len() - 2];
        }
        let trimmed = body.trim_matches(is_space);
        items.push(Item::Action(trimmed.to_string(), trimmed.as_ptr() as usize - src.as_ptr() as usize));
        rest = &after[e + 2..];
        if trim_right {
            rest = rest.trim_start();
        }
    }
    items.push(Item::Text(rest.to_string()));
    Ok(items)
}

/// Go's template whitespace (ASCII only: a no-break space is an unrecognized character).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}
