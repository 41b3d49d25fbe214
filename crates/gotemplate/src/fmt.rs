//! Go's `fmt.Sprintf` over template values: every verb (`%v %+v %#v %T %t %d %b %o %O %x %X
//! %c %q %U %e %E %f %F %g %G %s %%`), flags (`+ - # 0` and space), width and precision
//! (literal, `*` or `[n]` argument indexes), and Go's error forms (`%!d(string=x)`,
//! `%!d(MISSING)`, `%!(EXTRA ...)`, `%!(NOVERB)`, `%!(BADWIDTH)`, `%!(BADPREC)`,
//! `%!d(BADINDEX)`).

use crate::go::format_float_go;
use crate::value::{MapKind, Value};

#[derive(Clone, Copy, Default)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

/// Go `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let c: Vec<char> = format.chars().collect();
    let (mut i, mut argn) = (0usize, 0usize);
    // Whether some `[n]` index appeared (then unused arguments are not reported).
    let mut reordered = false;
    while i < c.len() {
        if c[i] != '%' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut good = true;
        let mut f = Flags::default();
        while i < c.len() {
            match c[i] {
                '#' => f.sharp = true,
                '0' => f.zero = !f.minus,
                '+' => f.plus = true,
                '-' => {
                    f.minus = true;
                    f.zero = false;
                }
                ' ' => f.space = true,
                _ => break,
            }
            i += 1;
        }
        // argument index, then width
        let mut after_index;
        (argn, i, after_index) = arg_index(&c, i, argn, args.len(), &mut reordered, &mut good);
        if i < c.len() && c[i] == '*' {
            i += 1;
            match int_arg(args, argn) {
                Some(w) => {
                    if w < 0 {
                        f.minus = true;
                        f.zero = false;
                    }
                    f.wid = Some(w.unsigned_abs() as usize);
                }
                None => out.push_str("%!(BADWIDTH)"),
            }
            argn += usize::from(argn < args.len());
            after_index = false;
        } else {
            let (n, j) = num(&c, i);
            if n.is_some() && after_index {
                good = false;
            }
            f.wid = n;
            i = j;
        }
        if i + 1 < c.len() && c[i] == '.' {
            i += 1;
            if after_index {
                good = false;
            }
            (argn, i, after_index) = arg_index(&c, i, argn, args.len(), &mut reordered, &mut good);
            if i < c.len() && c[i] == '*' {
                i += 1;
                match int_arg(args, argn) {
                    Some(p) if p >= 0 => f.prec = Some(p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argn += usize::from(argn < args.len());
                after_index = false;
            } else {
                let (n, j) = num(&c, i);
                f.prec = Some(n.unwrap_or(0));
                i = j;
            }
        }
        if !after_index {
            (argn, i, _) = arg_index(&c, i, argn, args.len(), &mut reordered, &mut good);
        }
        if i >= c.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = c[i];
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        let Some(arg) = args.get(argn) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argn += 1;
        if verb == 'v' {
            f.sharp_v = f.sharp;
            f.sharp = false;
            f.plus_v = f.plus;
            f.plus = false;
        }
        print_arg(&mut out, arg, verb, &f, 0);
    }
    if !reordered && argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[argn..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            match a {
                Value::Nil => out.push_str("<nil>"),
                a => {
                    out.push_str(type_name(a));
                    out.push('=');
                    print_arg(&mut out, a, 'v', &Flags::default(), 0);
                }
            }
        }
        out.push(')');
    }
    out
}

/// A decimal number at `i` (at most 1e6, as Go): the value and the index after it.
fn num(c: &[char], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while i < c.len() && c[i].is_ascii_digit() {
        if n >= 1_000_000 {
            return (None, c.len());
        }
        n = n * 10 + c[i] as usize - '0' as usize;
        i += 1;
    }
    (if i > start { Some(n) } else { None }, i)
}

/// `[n]`: the argument index (1-based) for what follows; (index, position after it, whether
/// an index was parsed). A bad or out-of-range index makes the verb `%!v(BADINDEX)`.
fn arg_index(
    c: &[char],
    i: usize,
    argn: usize,
    nargs: usize,
    reordered: &mut bool,
    good: &mut bool,
) -> (usize, usize, bool) {
    if i >= c.len() || c[i] != '[' {
        return (argn, i, false);
    }
    *reordered = true;
    let rest = &c[i..];
    let (index, wid, ok) = match rest.iter().position(|&x| x == ']') {
        Some(close) if rest.len() >= 3 => {
            let (n, end) = num(rest, 1);
            match n {
                Some(n) if end == close => (n as i64 - 1, close + 1, true),
                _ => (0, close + 1, false),
            }
        }
        _ => (0, 1, false),
    };
    if ok && index >= 0 && (index as usize) < nargs {
        return (index as usize, i + wid, true);
    }
    *good = false;
    (argn, i + wid, ok)
}

fn int_arg(args: &[Value], n: usize) -> Option<i64> {
    match args.get(n)? {
        Value::Int(i) if i.unsigned_abs() <= 1_000_000 => Some(*i),
        _ => None,
    }
}

/// Go's type name as `%T` and the error forms print it.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        v => v.type_name(),
    }
}

fn print_arg(out: &mut String, v: &Value, verb: char, f: &Flags, depth: usize) {
    if verb == 'T' {
        pad(out, type_name(v), f);
        return;
    }
    match v {
        Value::Nil => match verb {
            'v' if depth == 0 || !f.sharp_v => pad(out, "<nil>", f),
            'v' => out.push_str("interface {}(nil)"),
            _ => {
                out.push_str(&format!("%!{verb}(<nil>)"));
            }
        },
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, f),
            _ => bad_verb(out, v, verb, f),
        },
        Value::Int(n) => fmt_integer(out, v, *n, verb, f),
        Value::Float(x) => match verb {
            'v' => fmt_float(out, *x, 'g', None, f),
            'b' | 'g' | 'G' | 'x' | 'X' => fmt_float(out, *x, verb, None, f),
            'f' | 'e' | 'E' => fmt_float(out, *x, verb, Some(6), f),
            'F' => fmt_float(out, *x, 'f', Some(6), f),
            _ => bad_verb(out, v, verb, f),
        },
        Value::Str(s) => fmt_string(out, v, s, verb, f),
        // time.Time is a Stringer
        Value::Time(..) => match verb {
            'v' | 's' | 'x' | 'X' | 'q' => {
                fmt_string(out, v, &v.to_go_string(), if verb == 'v' { 's' } else { verb }, f)
            }
            _ => bad_verb(out, v, verb, f),
        },
        Value::Root => print_arg(out, &Value::Str(v.to_go_string()), verb, f, depth),
        Value::Map(m) => {
            if let MapKind::Struct(t) = m.kind {
                if f.sharp_v {
                    out.push_str(t);
                }
                out.push('{');
                for (k, (name, x)) in m.entries.iter().enumerate() {
                    if k > 0 {
                        out.push_str(if f.sharp_v { ", " } else { " " });
                    }
                    if f.plus_v || f.sharp_v {
                        out.push_str(name);
                        out.push(':');
                    }
                    print_arg(out, x, verb, f, depth + 1);
                }
                out.push('}');
                return;
            }
            if f.sharp_v {
                out.push_str(m.type_name());
                out.push('{');
            } else {
                out.push_str("map[");
            }
            for (k, (key, x)) in m.entries.iter().enumerate() {
                if k > 0 {
                    out.push_str(if f.sharp_v { ", " } else { " " });
                }
                print_arg(out, &Value::Str(key.clone()), verb, f, depth + 1);
                out.push(':');
                print_arg(out, x, verb, f, depth + 1);
            }
            out.push(if f.sharp_v { '}' } else { ']' });
        }
        Value::List(l) => {
            if f.sharp_v {
                out.push_str("[]interface {}{");
            } else {
                out.push('[');
            }
            for (k, x) in l.iter().enumerate() {
                if k > 0 {
                    out.push_str(if f.sharp_v { ", " } else { " " });
                }
                print_arg(out, x, verb, f, depth + 1);
            }
            out.push(if f.sharp_v { '}' } else { ']' });
        }
    }
}

/// `%!verb(type=value)`: the value printed with `%v` and the same flags.
fn bad_verb(out: &mut String, v: &Value, verb: char, f: &Flags) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    out.push_str(type_name(v));
    out.push('=');
    print_arg(out, v, 'v', f, 0);
    out.push(')');
}

/// Pads to the width with spaces (or zeros with the `0` flag), left or right (`-`).
fn pad(out: &mut String, s: &str, f: &Flags) {
    let n = s.chars().count();
    let w = f.wid.unwrap_or(0);
    if w <= n {
        out.push_str(s);
        return;
    }
    let fill = if f.zero { "0" } else { " " }.repeat(w - n);
    if f.minus {
        out.push_str(s);
        out.push_str(&fill);
    } else {
        out.push_str(&fill);
        out.push_str(s);
    }
}

fn fmt_integer(out: &mut String, v: &Value, n: i64, verb: char, f: &Flags) {
    let u = n.unsigned_abs();
    match verb {
        'v' | 'd' => int_digits(out, n < 0, u, 10, false, verb, f),
        'b' => int_digits(out, n < 0, u, 2, false, verb, f),
        'o' | 'O' => int_digits(out, n < 0, u, 8, false, verb, f),
        'x' => int_digits(out, n < 0, u, 16, false, verb, f),
        'X' => int_digits(out, n < 0, u, 16, true, verb, f),
        'c' => {
            let r = u32::try_from(n).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            pad(out, &r.to_string(), f);
        }
        'q' => {
            if !(0..=0x10FFFF).contains(&n) {
                return bad_verb(out, v, verb, f);
            }
            let r = char::from_u32(n as u32).unwrap_or('\u{FFFD}');
            pad(out, &quote_rune(r, f.plus), f);
        }
        'U' => {
            let prec = f.prec.unwrap_or(4).max(4);
            let mut s = format!("U+{:0prec$X}", n as u64);
            if f.sharp
                && let Some(r) = u32::try_from(n).ok().and_then(char::from_u32)
                && is_print(r)
            {
                s.push_str(&format!(" '{r}'"));
            }
            let g = Flags { zero: false, ..*f };
            pad(out, &s, &g);
        }
        _ => bad_verb(out, v, verb, f),
    }
}

/// Go's `fmt.fmtInteger`: precision or zero padding as leading zeros, `#` prefixes, the sign.
fn int_digits(out: &mut String, neg: bool, u: u64, base: u32, upper: bool, verb: char, f: &Flags) {
    let mut prec = 0usize;
    if let Some(p) = f.prec {
        prec = p;
        if p == 0 && u == 0 {
            let g = Flags { zero: false, ..*f };
            pad(out, "", &g);
            return;
        }
    } else if f.zero && !f.minus && f.wid.is_some() {
        prec = f.wid.unwrap_or(0);
        if neg || f.plus || f.space {
            prec = prec.saturating_sub(1);
        }
    }
    let mut digits = match base {
        2 => format!("{u:b}"),
        8 => format!("{u:o}"),
        16 if upper => format!("{u:X}"),
        16 => format!("{u:x}"),
        _ => u.to_string(),
    };
    if digits.len() < prec {
        digits = format!("{}{digits}", "0".repeat(prec - digits.len()));
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    } else if f.plus {
        s.push('+');
    } else if f.space {
        s.push(' ');
    }
    if f.sharp {
        match base {
            2 => s.push_str("0b"),
            8 if !digits.starts_with('0') => s.push('0'),
            16 => s.push_str(if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    if verb == 'O' {
        s.push_str("0o");
    }
    s.push_str(&digits);
    let g = Flags { zero: false, ..*f };
    pad(out, &s, &g);
}

/// Go's `fmt.fmtFloat`.
fn fmt_float(out: &mut String, v: f64, verb: char, default_prec: Option<usize>, f: &Flags) {
    let prec = f.prec.or(default_prec).map(|p| p as i32).unwrap_or(-1);
    let s = format_float_go(v, verb, prec);
    let mut num: Vec<char> = s.chars().collect();
    if num[0] != '-' && num[0] != '+' {
        num.insert(0, '+');
    }
    if f.space && num[0] == '+' && !f.plus {
        num[0] = ' ';
    }
    if num[1] == 'I' || num[1] == 'N' {
        if num[1] == 'N' && !f.space && !f.plus {
            num.remove(0);
        }
        let g = Flags { zero: false, ..*f };
        pad(out, &num.iter().collect::<String>(), &g);
        return;
    }
    if f.sharp && verb != 'b' {
        let mut digits: i32 = match verb {
            'v' | 'g' | 'G' | 'x' | 'X' => {
                if prec == -1 {
                    6
                } else {
                    prec
                }
            }
            _ => 0,
        };
        let mut tail: Vec<char> = Vec::new();
        let mut has_point = false;
        let mut nonzero = false;
        let mut k = 1;
        while k < num.len() {
            match num[k] {
                '.' => has_point = true,
                'p' | 'P' => {
                    tail = num.split_off(k);
                    break;
                }
                'e' | 'E' if verb != 'x' && verb != 'X' => {
                    tail = num.split_off(k);
                    break;
                }
                ch => {
                    if ch != '0' {
                        nonzero = true;
                    }
                    if nonzero {
                        digits -= 1;
                    }
                }
            }
            k += 1;
        }
        if !has_point {
            if num.len() == 2 && num[1] == '0' {
                digits -= 1;
            }
            num.push('.');
        }
        while digits > 0 {
            num.push('0');
            digits -= 1;
        }
        num.extend(tail);
    }
    if f.plus || num[0] != '+' {
        if f.zero && !f.minus && f.wid.is_some_and(|w| w > num.len()) {
            out.push(num[0]);
            out.push_str(&"0".repeat(f.wid.unwrap_or(0) - num.len()));
            out.extend(num[1..].iter());
            return;
        }
        pad(out, &num.iter().collect::<String>(), f);
        return;
    }
    pad(out, &num[1..].iter().collect::<String>(), f);
}

fn fmt_string(out: &mut String, v: &Value, s: &str, verb: char, f: &Flags) {
    let trunc = |s: &str| -> String {
        match f.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_string(),
        }
    };
    match verb {
        'v' if f.sharp_v => pad(out, &model::quote_go(s), f),
        'v' | 's' => pad(out, &trunc(s), f),
        'x' | 'X' => hex_string(out, s, verb == 'X', f),
        'q' => {
            let t = trunc(s);
            let q = if f.sharp && !t.contains('`') && t.chars().all(|c| c == '\t' || !c.is_control()) {
                format!("`{t}`")
            } else if f.plus {
                quote_ascii(&t)
            } else {
                model::quote_go(&t)
            };
            pad(out, &q, f);
        }
        _ => bad_verb(out, v, verb, f),
    }
}

/// Go's `fmt.fmtSbx`: bytes in hex, `% x` spaced, `%#x` prefixed, at most `prec` bytes.
fn hex_string(out: &mut String, s: &str, upper: bool, f: &Flags) {
    let b = s.as_bytes();
    let len = f.prec.map_or(b.len(), |p| p.min(b.len()));
    let mut width = 2 * len;
    if width == 0 {
        if let Some(w) = f.wid {
            out.push_str(&if f.zero { "0" } else { " " }.repeat(w));
        }
        return;
    }
    if f.space {
        if f.sharp {
            width *= 2;
        }
        width += len - 1;
    } else if f.sharp {
        width += 2;
    }
    let w = f.wid.unwrap_or(0);
    let fill = if f.zero { "0" } else { " " };
    if w > width && !f.minus {
        out.push_str(&fill.repeat(w - width));
    }
    let x = if upper { "0X" } else { "0x" };
    if f.sharp {
        out.push_str(x);
    }
    for (i, c) in b[..len].iter().enumerate() {
        if f.space && i > 0 {
            out.push(' ');
            if f.sharp {
                out.push_str(x);
            }
        }
        out.push_str(&if upper { format!("{c:02X}") } else { format!("{c:02x}") });
    }
    if w > width && f.minus {
        out.push_str(&fill.repeat(w - width));
    }
}

/// `strconv.QuoteToASCII`.
fn quote_ascii(s: &str) -> String {
    let q = model::quote_go(s);
    let mut out = String::new();
    for c in q.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if (c as u32) < 0x10000 {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push_str(&format!("\\U{:08x}", c as u32));
        }
    }
    out
}

/// `strconv.QuoteRune` / `QuoteRuneToASCII`.
fn quote_rune(r: char, ascii: bool) -> String {
    let inner = match r {
        '\'' => "\\'".to_string(),
        '"' => "\"".to_string(),
        r => {
            let q = model::quote_go(&r.to_string());
            q[1..q.len() - 1].to_string()
        }
    };
    let s = format!("'{inner}'");
    if ascii { quote_ascii_body(&s) } else { s }
}

fn quote_ascii_body(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii() { c.to_string() } else { format!("\\u{:04x}", c as u32) }).collect()
}

/// `strconv.IsPrint` for the runes `%#U` shows (close enough: not a control or unassigned
/// private-use or noncharacter).
fn is_print(r: char) -> bool {
    !r.is_control() && !matches!(r as u32, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
}
