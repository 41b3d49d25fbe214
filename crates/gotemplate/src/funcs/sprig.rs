//! The template functions Loki registers (Sprig's subset plus its own), with Go's semantics.

use super::decimal::{Dec, dec_op};
use super::encoding::{b64dec, b64enc, query_escape, query_unescape};
use super::title;
use crate::go::{self, expand_go};
use crate::go::{Tz, format_time_in, parse_time_in};
use crate::value::Value;

/// The functions Loki registers besides Go's builtins.
pub(crate) const FUNCS: &[&str] = &[
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
];

/// Upper bound on what one function call may produce (keeps a query from exhausting memory).
const MAX_OUTPUT: usize = 16 << 20;

/// Go's argument count rules: (minimum, maximum) for each function.
pub(crate) fn arity(f: &str) -> (usize, Option<usize>) {
    match f {
        "now" => (0, Some(0)),
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

pub(crate) fn call(f: &str, a: Vec<Value>) -> Result<Value, String> {
    let s = |i: usize| a.get(i).map(|v| v.as_str()).unwrap_or_default();
    let last = || a.last().cloned().unwrap_or(Value::Nil);
    Ok(match f {
        "ToLower" | "lower" => Value::Str(s(0).to_lowercase()),
        "ToUpper" | "upper" => Value::Str(s(0).to_uppercase()),
        "title" => Value::Str(title(&s(0))),
        "Replace" => {
            want(f, &a, 4)?;
            let n = a[3].to_i64();
            let (src, old, new) = (s(0), s(1), s(2));
            if n < 0 { Value::Str(src.replace(&old, &new)) } else { Value::Str(src.replacen(&old, &new, n as usize)) }
        }
        "replace" => {
            want(f, &a, 3)?;
            Value::Str(s(2).replace(&s(0), &s(1)))
        }
        "Trim" => Value::Str(s(0).trim_matches(|c| s(1).contains(c)).to_string()),
        "TrimLeft" => Value::Str(s(0).trim_start_matches(|c| s(1).contains(c)).to_string()),
        "TrimRight" => Value::Str(s(0).trim_end_matches(|c| s(1).contains(c)).to_string()),
        "TrimPrefix" => Value::Str(s(0).strip_prefix(s(1).as_str()).map(str::to_string).unwrap_or_else(|| s(0))),
        "TrimSuffix" => Value::Str(s(0).strip_suffix(s(1).as_str()).map(str::to_string).unwrap_or_else(|| s(0))),
        "trimPrefix" => Value::Str(s(1).strip_prefix(s(0).as_str()).map(str::to_string).unwrap_or_else(|| s(1))),
        "trimSuffix" => Value::Str(s(1).strip_suffix(s(0).as_str()).map(str::to_string).unwrap_or_else(|| s(1))),
        "trimAll" => Value::Str(s(1).trim_matches(|c| s(0).contains(c)).to_string()),
        "TrimSpace" | "trim" => Value::Str(s(0).trim().to_string()),
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
                Value::Str(out)
            } else {
                Value::Str(re.replace_all(&src, regex::NoExpand(&repl)).into_owned())
            }
        }
        "count" => Value::Int(go_regex(&s(0))?.find_iter(&s(1)).count() as i64),
        "urlencode" => Value::Str(query_escape(&s(0))),
        "urldecode" => Value::Str(query_unescape(&s(0))?),
        "b64enc" => Value::Str(b64enc(s(0).as_bytes())),
        "b64dec" => {
            let mut v = s(0);
            let r = v.len() % 4;
            if r != 0 && r != 1 {
                v.push_str(&"=".repeat(4 - r));
            }
            Value::Str(match b64dec(&v) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => e,
            })
        }
        "bytes" => Value::Float(go::parse_bytes(&s(0))? as f64),
        "duration" | "duration_seconds" => Value::Float(go::duration_seconds(go::parse_go_duration(&s(0))?)),
        "unixEpoch" | "unixEpochMillis" | "unixEpochNanos" => {
            let Value::Time(t, _) = last() else {
                return Err(format!("wrong type for value; expected time.Time; got {}", last().type_name()));
            };
            // Go's Unix(), UnixMilli(), UnixNano() (the zero time's nanoseconds wrap, as in Go)
            let (secs, nanos) = if t == go::ZERO_TIME {
                (go::ZERO_TIME_UNIX, 0)
            } else {
                (t.div_euclid(1_000_000_000), t.rem_euclid(1_000_000_000))
            };
            Value::Str(match f {
                "unixEpoch" => secs.to_string(),
                "unixEpochMillis" => (secs.wrapping_mul(1000) + nanos / 1_000_000).to_string(),
                _ => secs.wrapping_mul(1_000_000_000).wrapping_add(nanos).to_string(),
            })
        }
        "unixToTime" => {
            let e = s(0);
            let i: i64 = e.parse().map_err(|_| format!("unable to parse time '{e}'"))?;
            let ns = match e.len() {
                5 => i.saturating_mul(86400 * 1_000_000_000),
                10 => i.saturating_mul(1_000_000_000),
                13 => i.saturating_mul(1_000_000),
                16 => i.saturating_mul(1000),
                19 => i,
                _ => return Err(format!("unable to parse time '{e}'")),
            };
            // time.Unix: in the process' zone
            Value::Time(ns, Tz::Local)
        }
        "now" => Value::Time(now(), Tz::Local),
        "date" => {
            // Sprig's dateInZone(fmt, date, "Local"): a time, or Unix seconds as an int; any
            // other value is the current time
            want(f, &a, 2)?;
            let t = match &a[1] {
                Value::Time(t, _) => *t,
                Value::Int(secs) => secs.saturating_mul(1_000_000_000),
                _ => now(),
            };
            Value::Str(format_time_in(t, &s(0), &Tz::Local))
        }
        "toDate" | "toDateInZone" => {
            // time.ParseInLocation in Local, or in the named zone (UTC when it does not load);
            // a value that does not parse is Go's zero time
            let (layout, v, tz) =
                if f == "toDate" { (s(0), s(1), Tz::Local) } else { (s(0), s(2), Tz::load(&s(1)).unwrap_or(Tz::Utc)) };
            match parse_time_in(&layout, &v, &tz) {
                Some((t, loc)) => Value::Time(t, loc),
                None => Value::Time(go::ZERO_TIME, Tz::Utc),
            }
        }
        "alignLeft" | "alignRight" => {
            let n = a.first().map(|v| v.to_i64()).unwrap_or(0);
            if n < 0 {
                return Ok(Value::Str(s(1)));
            }
            if n as u128 > MAX_OUTPUT as u128 {
                return Err(format!("error calling {f}: result too large"));
            }
            let n = n as usize;
            let src = s(1);
            let len = src.chars().count();
            Value::Str(if len >= n {
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
            Value::Str(if n < 0 && len + n > 0 {
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
            Value::Str(String::from_utf8_lossy(r).into_owned())
        }
        "contains" => Value::Bool(s(1).contains(&s(0))),
        "hasPrefix" => Value::Bool(s(1).starts_with(&s(0))),
        "hasSuffix" => Value::Bool(s(1).ends_with(&s(0))),
        "indent" | "nindent" => {
            let n = a[0].to_i64().clamp(0, MAX_OUTPUT as i64) as usize;
            if n.saturating_mul(s(1).matches('\n').count() + 1) > MAX_OUTPUT {
                return Err(format!("error calling {f}: result too large"));
            }
            let pad = " ".repeat(n);
            let r = format!("{pad}{}", s(1).replace('\n', &format!("\n{pad}")));
            Value::Str(if f == "nindent" { format!("\n{r}") } else { r })
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
            Value::Str(src.repeat(n as usize))
        }
        "int" => Value::Int(last().to_i64()),
        "float64" => Value::Float(last().to_f64()),
        "add" => Value::Int(a.iter().map(|v| v.to_i64()).fold(0i64, |x, y| x.wrapping_add(y))),
        "mul" => Value::Int(a.iter().map(|v| v.to_i64()).fold(1i64, |x, y| x.wrapping_mul(y))),
        "sub" => Value::Int(a[0].to_i64().wrapping_sub(a[1].to_i64())),
        "div" => {
            let d = a[1].to_i64();
            if d == 0 {
                return Err("error calling div: runtime error: integer divide by zero".into());
            }
            Value::Int(a[0].to_i64() / d)
        }
        "mod" => {
            let d = a[1].to_i64();
            if d == 0 {
                return Err("error calling mod: runtime error: integer divide by zero".into());
            }
            Value::Int(a[0].to_i64() % d)
        }
        "addf" => Value::Float(dec_op(0.0, &a, Dec::add, |x, y| x + y)),
        "subf" => Value::Float(dec_op(a[0].to_f64(), &a[1..], Dec::sub, |x, y| x - y)),
        "mulf" => Value::Float(dec_op(a[0].to_f64(), &a[1..], Dec::mul, |x, y| x * y)),
        "divf" => Value::Float(dec_op(a[0].to_f64(), &a[1..], Dec::div, |x, y| x / y)),
        "max" => Value::Int(a.iter().map(|v| v.to_i64()).max().unwrap_or(0)),
        "min" => Value::Int(a.iter().map(|v| v.to_i64()).min().unwrap_or(0)),
        "maxf" => Value::Float(a.iter().map(|v| v.to_f64()).fold(f64::NEG_INFINITY, f64::max)),
        "minf" => Value::Float(a.iter().map(|v| v.to_f64()).fold(f64::INFINITY, f64::min)),
        "ceil" => Value::Float(a[0].to_f64().ceil()),
        "floor" => Value::Float(a[0].to_f64().floor()),
        "round" => {
            // sprig: round up when the fraction is at least rOpt (default .5)
            let p = a[1].to_i64() as i32;
            let r_opt = a.get(2).map(|v| v.to_f64()).unwrap_or(0.5);
            let pow = 10f64.powi(p);
            let digit = pow * a[0].to_f64();
            let div = digit.fract();
            let r = if div >= r_opt { digit.ceil() } else { digit.floor() };
            Value::Float(r / pow)
        }
        "default" => {
            if a.len() < 2 {
                a.first().cloned().unwrap_or(Value::Nil)
            } else if a[1].truth() {
                a[1].clone()
            } else {
                a[0].clone()
            }
        }
        "fromJson" => Value::from_json(&s(0)),
        _ => return Err(format!("function {f:?} not defined")),
    })
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

fn want(f: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!("wrong number of args for {f}: want {n} got {}", args.len()));
    }
    Ok(())
}

/// A pattern compiled once per thread, not at every call: a template runs once per line, and
/// compiling a large pattern (`[\p{L}\p{N}]{300}`) took 78 ms, so a query calling it on every
/// line ran for hours. A regex's clone shares its compiled program. At most
/// [`REGEX_CACHE`] patterns are kept (a query has few), and only as long as their thread:
/// a query's reading threads end with it, and a compiled pattern is at most 16 MiB.
fn go_regex(p: &str) -> Result<regex::Regex, String> {
    thread_local! {
        static COMPILED: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(re) = COMPILED.with_borrow(|c| c.get(p).cloned()) {
        return Ok(re);
    }
    let re = go::compile_regex(p)?;
    COMPILED.with_borrow_mut(|c| {
        if c.len() >= REGEX_CACHE {
            c.clear();
        }
        c.insert(p.to_string(), re.clone());
    });
    Ok(re)
}

/// Compiled template patterns kept per thread.
const REGEX_CACHE: usize = 16;
