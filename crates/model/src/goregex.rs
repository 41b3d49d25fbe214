//! Go (RE2) regular expressions compiled with the `regex` crate.
//!
//! The two agree on almost everything; where they differ this module rewrites the pattern
//! first: Go's `\d \w \s \b` are ASCII-only (Rust's are Unicode), and Go supports `\Q...\E`.

use regex::{Regex, RegexBuilder};

/// Compiles a Go-syntax pattern (unanchored; callers add `^(?:...)$` where Loki anchors).
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&translate(pattern)).octal(true).size_limit(1 << 24).build()
}

/// Rewrites the constructs whose meaning differs between RE2 and the `regex` crate.
pub fn translate(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        if c == '\\' {
            let Some(e) = chars.next() else {
                out.push('\\');
                break;
            };
            match e {
                'Q' => {
                    // Literal text up to \E (or the end).
                    let mut lit = String::new();
                    while let Some(c) = chars.next() {
                        if c == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        lit.push(c);
                    }
                    out.push_str(&regex::escape(&lit));
                }
                'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                    let ascii = match e {
                        'd' => "0-9",
                        'w' => "0-9A-Za-z_",
                        's' => "\\t\\n\\f\\r ",
                        'D' => "^0-9",
                        'W' => "^0-9A-Za-z_",
                        _ => "^\\t\\n\\f\\r ",
                    };
                    if in_class {
                        if ascii.starts_with('^') {
                            // A negated class inside a class: keep Rust's form, ASCII-restricted.
                            out.push_str(&format!("[[:^{}:]]", perl_name(e)));
                        } else {
                            out.push_str(ascii);
                        }
                    } else {
                        out.push('[');
                        out.push_str(ascii);
                        out.push(']');
                    }
                }
                'b' | 'B' if !in_class => {
                    out.push_str("(?-u:\\");
                    out.push(e);
                    out.push(')');
                }
                _ => {
                    out.push('\\');
                    out.push(e);
                }
            }
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            } else if c == '[' && chars.peek() == Some(&':') {
                // POSIX class like [:alpha:]: copy through its closing ']'.
                out.push(c);
                for c2 in chars.by_ref() {
                    out.push(c2);
                    if c2 == ']' {
                        break;
                    }
                }
                continue;
            }
            out.push(c);
            continue;
        }
        if c == '[' {
            in_class = true;
            out.push(c);
            // A leading '^' and a leading ']' are part of the class syntax.
            if chars.peek() == Some(&'^') {
                out.push(chars.next().unwrap());
            }
            if chars.peek() == Some(&']') {
                out.push(chars.next().unwrap());
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn perl_name(e: char) -> &'static str {
    match e {
        'D' => "digit",
        'W' => "word",
        _ => "space",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_classes_and_quote() {
        let r = compile(r"^\d+$").unwrap();
        assert!(r.is_match("123"));
        assert!(!r.is_match("١٢٣"));
        let r = compile(r"^[\d.]+$").unwrap();
        assert!(r.is_match("1.5"));
        let r = compile(r"\Qa.b\E").unwrap();
        assert!(r.is_match("xa.by"));
        assert!(!r.is_match("axb"));
        let r = compile(r"\bfoo\b").unwrap();
        assert!(r.is_match("a foo b"));
    }
}
