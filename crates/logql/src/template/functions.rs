//! The template functions Loki registers (Sprig's subset plus its own), with Go's semantics.

use super::decimal::{Dec, dec_op};
use super::encoding::{b64dec, b64enc, query_escape, query_unescape};
use super::fmt::sprintf;
use super::time::{format_time, parse_time};
use super::{Ctx, Val};
use crate::go;
use crate::regexes::{expand_go, regex_err};

pub(crate) const FUNCS: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "html",
    "js",
    "urlquery",
    "call",
    "ToLower",
    "ToUpper",
    "Replace",
    "Trim",
    "TrimLeft",
    "TrimRight",
    "TrimPrefix",
    "TrimSuffix",
    "TrimSpace",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "count",
    "urldecode",
    "urlencode",
    "bytes",
    "duration",
    "duration_seconds",
    "unixEpochMillis",
    "unixEpochNanos",
    "toDateInZone",
    "unixToTime",
    "alignLeft",
    "alignRight",
    "b64dec",
    "b64enc",
    "lower",
    "upper",
    "title",
    "trunc",
    "substr",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "indent",
    "nindent",
    "replace",
    "repeat",
    "trim",
    "trimAll",
    "trimSuffix",
    "trimPrefix",
    "int",
    "float64",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "addf",
    "subf",
    "mulf",
    "divf",
    "max",
    "min",
    "maxf",
    "minf",
    "ceil",
    "floor",
    "round",
    "fromJson",
    "date",
    "toDate",
    "now",
    "unixEpoch",
    "default",
    "__line__",
    "__timestamp__",
];

/// Upper bound on what one function call may produce (keeps a query from exhausting memory).
const MAX_OUTPUT: usize = 16 << 20;

/// Go's argument count rules: (minimum, maximum) for each function.
pub(crate) fn arity(f: &str) -> (usize, Option<usize>) {
    match f {
        "now" | "__line__" | "__timestamp__" => (0, Some(0)),
        "ToLower" | "ToUpper" | "TrimSpace" | "urldecode" | "urlencode" | "bytes" | "duration" | "duration_seconds"
        | "unixEpochMillis" | "unixEpochNanos" | "unixToTime" | "b64dec" | "b64enc" | "lower" | "upper" | "title"
        | "trim" | "int" | "float64" | "ceil" | "floor" | "fromJson" | "unixEpoch" | "not" | "len" => (1, Some(1)),
        "Trim" | "TrimLeft" | "TrimRight" | "TrimPrefix" | "TrimSuffix" | "count" | "alignLeft" | "alignRight"
        | "trunc" | "contains" | "hasPrefix" | "hasSuffix" | "indent" | "nindent" | "repeat" | "trimAll"
        | "trimSuffix" | "trimPrefix" | "sub" | "div" | "mod" | "date" | "toDate" | "ne" | "lt" | "le" | "gt"
        | "ge" => (2, Some(2)),
        "regexReplaceAll" | "regexReplaceAllLiteral" | "toDateInZone" | "substr" | "replace" => (3, Some(3)),
        "Replace" => (4, Some(4)),
        "round" => (2, None),
        "mul" | "subf" | "mulf" | "divf" | "max" | "min" | "maxf" | "minf" | "default" | "and" | "or" | "index"
        | "slice" | "printf" | "eq" | "call" => (1, None),
        _ => (0, None),
    }
}

pub(crate) fn call(f: &str, a: Vec<Val>, ctx: &Ctx) -> Result<Val, String> {
    let (min, max) = arity(f);
    if a.len() < min || max.is_some_and(|m| a.len() > m) {
        let want = if max == Some(min) { min.to_string() } else { format!("at least {min}") };
        return Err(format!("wrong number of args for {f}: want {want} got {}", a.len()));
    }
    let s = |i: usize| a.get(i).map(|v| v.as_str()).unwrap_or_default();
    let last = || a.last().cloned().unwrap_or(Val::Nil);
    Ok(match f {
        "__line__" => Val::Str(ctx.line.to_string()),
        "__timestamp__" => Val::Time(ctx.ts),
        "ToLower" | "lower" => Val::Str(s(0).to_lowercase()),
        "ToUpper" | "upper" => Val::Str(s(0).to_uppercase()),
        "title" => {
            let mut out = String::new();
            let mut prev_letter = false;
            for c in s(0).chars() {
                if !prev_letter {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
            }
            Val::Str(out)
        }
        "Replace" => {
            want(f, &a, 4)?;
            let n = a[3].to_i64();
            let (src, old, new) = (s(0), s(1), s(2));
            if n < 0 { Val::Str(src.replace(&old, &new)) } else { Val::Str(src.replacen(&old, &new, n as usize)) }
        }
        "replace" => {
            want(f, &a, 3)?;
            Val::Str(s(2).replace(&s(0), &s(1)))
        }
        "Trim" => Val::Str(s(0).trim_matches(|c| s(1).contains(c)).to_string()),
        "TrimLeft" => Val::Str(s(0).trim_start_matches(|c| s(1).contains(c)).to_string()),
        "TrimRight" => Val::Str(s(0).trim_end_matches(|c| s(1).contains(c)).to_string()),
        "TrimPrefix" => Val::Str(s(0).strip_prefix(s(1).as_str()).map(str::to_string).unwrap_or_else(|| s(0))),
        "TrimSuffix" => Val::Str(s(0).strip_suffix(s(1).as_str()).map(str::to_string).unwrap_or_else(|| s(0))),
        "trimPrefix" => Val::Str(s(1).strip_prefix(s(0).as_str()).map(str::to_string).unwrap_or_else(|| s(1))),
        "trimSuffix" => Val::Str(s(1).strip_suffix(s(0).as_str()).map(str::to_string).unwrap_or_else(|| s(1))),
        "trimAll" => Val::Str(s(1).trim_matches(|c| s(0).contains(c)).to_string()),
        "TrimSpace" | "trim" => Val::Str(s(0).trim().to_string()),
        "regexReplaceAll" | "regexReplaceAllLiteral" => {
            want(f, &a, 3)?;
            let re = go_regex(&s(0))?;
            let src = s(1);
            let repl = s(2);
            if f == "regexReplaceAll" {
                let mut out = String::new();
                let mut last_end = 0;
                for c in re.captures_iter(&src) {
                    let m = c.get(0).unwrap();
                    out.push_str(&src[last_end..m.start()]);
                    out.push_str(&expand_go(&repl, &c));
                    last_end = m.end();
                }
                out.push_str(&src[last_end..]);
                Val::Str(out)
            } else {
                Val::Str(re.replace_all(&src, regex::NoExpand(&repl)).into_owned())
            }
        }
        "count" => Val::Int(go_regex(&s(0))?.find_iter(&s(1)).count() as i64),
        "urlencode" | "urlquery" => Val::Str(query_escape(&s(0))),
        "urldecode" => Val::Str(query_unescape(&s(0))?),
        "b64enc" => Val::Str(b64enc(s(0).as_bytes())),
        "b64dec" => {
            let mut v = s(0);
            let r = v.len() % 4;
            if r != 0 && r != 1 {
                v.push_str(&"=".repeat(4 - r));
            }
            Val::Str(match b64dec(&v) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => e,
            })
        }
        "bytes" => Val::Float(go::parse_bytes(&s(0))? as f64),
        "duration" | "duration_seconds" => Val::Float(go::parse_go_duration(&s(0))? as f64 / 1e9),
        "unixEpoch" => Val::Str((time_of(&last()) / 1_000_000_000).to_string()),
        "unixEpochMillis" => Val::Str((time_of(&last()) / 1_000_000).to_string()),
        "unixEpochNanos" => Val::Str(time_of(&last()).to_string()),
        "unixToTime" => {
            let e = s(0);
            let i: i64 = e.parse().map_err(|_| format!("unable to parse time '{e}'"))?;
            Val::Time(match e.len() {
                5 => i * 86400 * 1_000_000_000,
                10 => i * 1_000_000_000,
                13 => i * 1_000_000,
                16 => i * 1000,
                19 => i,
                _ => return Err(format!("unable to parse time '{e}'")),
            })
        }
        "now" => Val::Time(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0),
        ),
        "date" => {
            want(f, &a, 2)?;
            Val::Str(format_time(time_of(&a[1]), &s(0)))
        }
        "toDate" | "toDateInZone" => {
            let (layout, v) = if f == "toDate" { (s(0), s(1)) } else { (s(0), s(2)) };
            Val::Time(parse_time(&layout, &v).unwrap_or(i64::MIN))
        }
        "alignLeft" | "alignRight" => {
            let n = a.first().map(|v| v.to_i64()).unwrap_or(0);
            if n < 0 {
                return Ok(Val::Str(s(1)));
            }
            if n as u128 > MAX_OUTPUT as u128 {
                return Err(format!("error calling {f}: result too large"));
            }
            let n = n as usize;
            let src = s(1);
            let len = src.chars().count();
            Val::Str(if len >= n {
                if f == "alignLeft" { src.chars().take(n).collect() } else { src.chars().skip(len - n).collect() }
            } else if f == "alignLeft" {
                format!("{src}{}", " ".repeat(n - len))
            } else {
                format!("{}{src}", " ".repeat(n - len))
            })
        }
        "trunc" => {
            // sprig: byte-based
            let n = a[0].to_i64();
            let src = s(1);
            let b = src.as_bytes();
            let len = b.len() as i64;
            Val::Str(if n < 0 && len + n > 0 {
                String::from_utf8_lossy(&b[(len + n) as usize..]).into_owned()
            } else if n >= 0 && len > n {
                String::from_utf8_lossy(&b[..n as usize]).into_owned()
            } else {
                src
            })
        }
        "substr" => {
            // sprig: byte-based; Go's out-of-range slicing panics, which the template reports
            let (st, en, src) = (a[0].to_i64(), a[1].to_i64(), s(2));
            let b = src.as_bytes();
            let len = b.len() as i64;
            let oob = || "error calling substr: runtime error: slice bounds out of range".to_string();
            let r = if st < 0 {
                if en < 0 || en > len {
                    return Err(oob());
                }
                &b[..en as usize]
            } else if en < 0 || en > len {
                if st > len {
                    return Err(oob());
                }
                &b[st as usize..]
            } else {
                if st > en {
                    return Err(oob());
                }
                &b[st as usize..en as usize]
            };
            Val::Str(String::from_utf8_lossy(r).into_owned())
        }
        "contains" => Val::Bool(s(1).contains(&s(0))),
        "hasPrefix" => Val::Bool(s(1).starts_with(&s(0))),
        "hasSuffix" => Val::Bool(s(1).ends_with(&s(0))),
        "indent" | "nindent" => {
            let n = a[0].to_i64().clamp(0, MAX_OUTPUT as i64) as usize;
            if n.saturating_mul(s(1).matches('\n').count() + 1) > MAX_OUTPUT {
                return Err(format!("error calling {f}: result too large"));
            }
            let pad = " ".repeat(n);
            let r = format!("{pad}{}", s(1).replace('\n', &format!("\n{pad}")));
            Val::Str(if f == "nindent" { format!("\n{r}") } else { r })
        }
        "repeat" => {
            let n = a[0].to_i64();
            let src = s(1);
            if n < 0 {
                return Err("error calling repeat: strings: negative Repeat count".into());
            }
            if (n as u128) * (src.len() as u128) > MAX_OUTPUT as u128 {
                return Err("error calling repeat: result too large".into());
            }
            Val::Str(src.repeat(n as usize))
        }
        "int" => Val::Int(last().to_i64()),
        "float64" => Val::Float(last().to_f64()),
        "add" => Val::Int(a.iter().map(|v| v.to_i64()).fold(0i64, |x, y| x.wrapping_add(y))),
        "mul" => Val::Int(a.iter().map(|v| v.to_i64()).fold(1i64, |x, y| x.wrapping_mul(y))),
        "sub" => Val::Int(a[0].to_i64().wrapping_sub(a[1].to_i64())),
        "div" => {
            let d = a[1].to_i64();
            if d == 0 {
                return Err("error calling div: runtime error: integer divide by zero".into());
            }
            Val::Int(a[0].to_i64() / d)
        }
        "mod" => {
            let d = a[1].to_i64();
            if d == 0 {
                return Err("error calling mod: runtime error: integer divide by zero".into());
            }
            Val::Int(a[0].to_i64() % d)
        }
        "addf" => Val::Float(dec_op(0.0, &a, Dec::add, |x, y| x + y)),
        "subf" => Val::Float(dec_op(a[0].to_f64(), &a[1..], Dec::sub, |x, y| x - y)),
        "mulf" => Val::Float(dec_op(a[0].to_f64(), &a[1..], Dec::mul, |x, y| x * y)),
        "divf" => Val::Float(dec_op(a[0].to_f64(), &a[1..], Dec::div, |x, y| x / y)),
        "max" => Val::Int(a.iter().map(|v| v.to_i64()).max().unwrap_or(0)),
        "min" => Val::Int(a.iter().map(|v| v.to_i64()).min().unwrap_or(0)),
        "maxf" => Val::Float(a.iter().map(|v| v.to_f64()).fold(f64::NEG_INFINITY, f64::max)),
        "minf" => Val::Float(a.iter().map(|v| v.to_f64()).fold(f64::INFINITY, f64::min)),
        "ceil" => Val::Float(a[0].to_f64().ceil()),
        "floor" => Val::Float(a[0].to_f64().floor()),
        "round" => {
            // sprig: round up when the fraction is at least rOpt (default .5)
            let p = a[1].to_i64() as i32;
            let r_opt = a.get(2).map(|v| v.to_f64()).unwrap_or(0.5);
            let pow = 10f64.powi(p);
            let digit = pow * a[0].to_f64();
            let div = digit.fract();
            let r = if div >= r_opt { digit.ceil() } else { digit.floor() };
            Val::Float(r / pow)
        }
        "default" => {
            if a.len() < 2 {
                a.first().cloned().unwrap_or(Val::Nil)
            } else if a[1].truth() {
                a[1].clone()
            } else {
                a[0].clone()
            }
        }
        "fromJson" => Val::Str(String::new()),
        "not" => Val::Bool(!a.first().map(|v| v.truth()).unwrap_or(false)),
        "and" => {
            let mut r = Val::Nil;
            for v in &a {
                r = v.clone();
                if !v.truth() {
                    break;
                }
            }
            r
        }
        "or" => {
            let mut r = Val::Nil;
            for v in &a {
                r = v.clone();
                if v.truth() {
                    break;
                }
            }
            r
        }
        "len" => match &a[0] {
            Val::Map => Val::Int(ctx.labels.len() as i64),
            _ => Val::Int(s(0).len() as i64),
        },
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
            if a.len() < 2 {
                return Err("missing argument for comparison".to_string());
            }
            let cmp = |x: &Val, y: &Val| -> Option<std::cmp::Ordering> {
                match (x, y) {
                    (Val::Str(p), Val::Str(q)) => Some(p.cmp(q)),
                    (Val::Bool(p), Val::Bool(q)) => Some(p.cmp(q)),
                    (Val::Int(p), Val::Int(q)) => Some(p.cmp(q)),
                    (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => x.to_f64().partial_cmp(&y.to_f64()),
                    (Val::Nil, Val::Nil) => Some(std::cmp::Ordering::Equal),
                    _ => None,
                }
            };
            match f {
                "eq" => {
                    let mut r = false;
                    for y in &a[1..] {
                        match cmp(&a[0], y) {
                            Some(o) => r |= o.is_eq(),
                            None => return Err("error calling eq: incompatible types for comparison".into()),
                        }
                    }
                    Val::Bool(r)
                }
                _ => {
                    let o = cmp(&a[0], &a[1])
                        .ok_or_else(|| format!("error calling {f}: incompatible types for comparison"))?;
                    Val::Bool(match f {
                        "ne" => o.is_ne(),
                        "lt" => o.is_lt(),
                        "le" => o.is_le(),
                        "gt" => o.is_gt(),
                        _ => o.is_ge(),
                    })
                }
            }
        }
        "print" => {
            let mut out = String::new();
            for (i, v) in a.iter().enumerate() {
                let is_str = matches!(v, Val::Str(_));
                let prev_str = i > 0 && matches!(a[i - 1], Val::Str(_));
                if i > 0 && !is_str && !prev_str {
                    out.push(' ');
                }
                out.push_str(&v.to_go_string());
            }
            Val::Str(out)
        }
        "println" => Val::Str(format!("{}\n", a.iter().map(|v| v.to_go_string()).collect::<Vec<_>>().join(" "))),
        "printf" => Val::Str(sprintf(&s(0), &a[1.min(a.len())..])),
        "html" => Val::Str(
            s(0).replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;"),
        ),
        "js" => Val::Str(s(0).replace('\\', "\\\\").replace('"', "\\\"").replace('\'', "\\'")),
        "index" if matches!(a[0], Val::Map) && a.len() == 2 => {
            Val::Str(ctx.labels.get(&a[1].as_str()).cloned().unwrap_or_default())
        }
        "index" | "slice" | "call" => return Err(format!("error calling {f}: can't index item of type string")),
        _ => return Err(format!("function {f:?} not defined")),
    })
}

fn time_of(v: &Val) -> i64 {
    match v {
        Val::Time(t) => *t,
        Val::Int(i) => *i * 1_000_000_000,
        Val::Str(s) => s.parse::<i64>().map(|i| i * 1_000_000_000).unwrap_or(0),
        _ => 0,
    }
}

fn want(f: &str, args: &[Val], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!("wrong number of args for {f}: want {n} got {}", args.len()));
    }
    Ok(())
}

fn go_regex(p: &str) -> Result<regex::Regex, String> {
    model::goregex::compile(p).map_err(|e| regex_err(p, &e))
}
