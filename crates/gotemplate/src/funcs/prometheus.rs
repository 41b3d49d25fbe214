//! Prometheus' template functions (those that need no query engine), with Prometheus' exact
//! output: `humanize*`, `toTime`, string and regex helpers, host names, `graphLink`.

use super::encoding::query_escape;
use super::title;
use crate::go::Tz;
use crate::go::{self, expand_go, format_float_g, format_g, join_host_port, split_host_port};
use crate::value::{MapKind, Value};

pub(crate) const FUNCS: &[&str] = &[
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "title",
    "toUpper",
    "toLower",
    "match",
    "reReplaceAll",
    "safeHtml",
    "stripPort",
    "stripDomain",
    "label",
    "parseDuration",
    "graphLink",
    "tableLink",
];

/// Prometheus' functions that Bitácora's templates cannot offer, and why.
pub(crate) fn unsupported(name: &str) -> Option<&'static str> {
    match name {
        "query" | "first" | "value" | "strvalue" | "sortByLabel" => {
            Some("it needs a PromQL query engine, which alert templates here do not have")
        }
        "args" | "tmpl" => Some("it needs named templates ({{define}}), which alert templates here do not have"),
        _ => None,
    }
}

pub(crate) fn arity(f: &str) -> (usize, Option<usize>) {
    match f {
        "match" | "label" => (2, Some(2)),
        "reReplaceAll" => (3, Some(3)),
        _ => (1, Some(1)),
    }
}

/// prometheus/common's `ConvertToFloat`: numbers, and strings through `strconv.ParseFloat`.
fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Str(s) => go::parse_go_float(s),
        v => Err(format!("can't convert {} to float", v.type_name())),
    }
}

/// Scales by 1000 (or 1024) into SI (or IEC) prefixes, four significant digits.
fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format_g(v, 4);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(v, 4))
}

fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return format_g(v, 4);
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_g(v, 4))
}

/// Seconds as `1d 2h 3m 4s`, `1.5s` or `100ms`.
fn humanize_duration(mut v: f64) -> String {
    if !v.is_finite() {
        return format_g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", format_g(v, 4));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        v = v.abs();
        let d = v as i64;
        let (s, m, h, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        return if days != 0 {
            format!("{sign}{days}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", format_g(v, 4))
        };
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, 4))
}

/// Seconds since the epoch as a time (millisecond precision, as Prometheus' `model.Time`).
fn float_to_time(v: f64) -> Result<i64, String> {
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            format_float_g(v)
        ));
    }
    Ok((ns as i64 / 1_000_000) * 1_000_000)
}

/// Go's regexp `quote` for `MustCompile`'s panic text.
fn quote_pattern(p: &str) -> String {
    if p.chars().all(|c| c != '`' && (c == '\t' || !c.is_control()) && c != '\u{FEFF}') {
        format!("`{p}`")
    } else {
        model::quote_go(p)
    }
}

pub(crate) fn call(f: &str, a: Vec<Value>) -> Result<Value, String> {
    let s = |i: usize| a.get(i).map(|v| v.as_str()).unwrap_or_default();
    Ok(Value::Str(match f {
        "humanize" => humanize(to_float(&a[0])?),
        "humanize1024" => humanize1024(to_float(&a[0])?),
        "humanizeDuration" => humanize_duration(to_float(&a[0])?),
        "humanizePercentage" => format!("{}%", format_g(to_float(&a[0])? * 100.0, 4)),
        "humanizeTimestamp" => {
            let v = to_float(&a[0])?;
            if !v.is_finite() { format_g(v, 4) } else { Value::Time(float_to_time(v)?, Tz::Utc).to_go_string() }
        }
        "toTime" => {
            let v = to_float(&a[0])?;
            if !v.is_finite() {
                return Err("value is NaN or Inf".into());
            }
            return Ok(Value::Time(float_to_time(v)?, Tz::Utc));
        }
        "title" => title(&s(0)),
        "toUpper" => s(0).to_uppercase(),
        "toLower" => s(0).to_lowercase(),
        "safeHtml" => s(0),
        "match" => return Ok(Value::Bool(go::compile_regex(&s(0))?.is_match(&s(1)))),
        "reReplaceAll" => {
            let p = s(0);
            let re = go::compile_regex(&p).map_err(|e| format!("regexp: Compile({}): {e}", quote_pattern(&p)))?;
            let (repl, text) = (s(1), s(2));
            let mut out = String::new();
            let mut last = 0;
            for c in re.captures_iter(&text) {
                let m = c.get(0).expect("group 0");
                out.push_str(&text[last..m.start()]);
                out.push_str(&expand_go(&repl, &c));
                last = m.end();
            }
            out.push_str(&text[last..]);
            out
        }
        "stripPort" => {
            let hp = s(0);
            match split_host_port(&hp) {
                Ok((h, _)) => h.to_string(),
                Err(_) => hp,
            }
        }
        "stripDomain" => {
            let hp = s(0);
            let (host, port) = split_host_port(&hp).unwrap_or((&hp, ""));
            if host.parse::<std::net::IpAddr>().is_ok() {
                return Ok(Value::Str(hp.clone()));
            }
            let host = host.split('.').next().unwrap_or("");
            if port.is_empty() { host.to_string() } else { join_host_port(host, port) }
        }
        "label" => {
            let name = s(0);
            let found = match &a[1] {
                Value::Map(m) => match (m.kind, m.get("Labels")) {
                    (MapKind::Struct(_), Some(Value::Map(l))) => l.get(&name).cloned(),
                    (MapKind::Strings, _) => m.get(&name).cloned(),
                    _ => None,
                },
                v => return Err(format!("wrong type for value; expected sample; got {}", v.type_name())),
            };
            found.map(|v| v.as_str()).unwrap_or_default()
        }
        "parseDuration" => {
            let d = model::duration::parse_prom_duration(&s(0))?;
            return Ok(Value::Float(d.as_secs_f64()));
        }
        "graphLink" | "tableLink" => {
            let tab = if f == "graphLink" { 0 } else { 1 };
            format!("/graph?g0.expr={}&g0.tab={tab}", query_escape(&s(0)))
        }
        _ => return Err(format!("function {f:?} not defined")),
    }))
}
