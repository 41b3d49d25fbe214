//! Number, duration and byte-size parsing and printing with the exact behaviour of the Go
//! functions Loki relies on (`strconv.ParseFloat`, `time.ParseDuration`, Prometheus'
//! `model.ParseDuration`, go-humanize's `ParseBytes`/`Bytes`).

/// Nanoseconds per unit.
pub const NS: i64 = 1;
pub const US: i64 = 1_000;
pub const MS: i64 = 1_000_000;
pub const SEC: i64 = 1_000_000_000;
pub const MIN: i64 = 60 * SEC;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;
pub const YEAR: i64 = 365 * DAY;

/// Go's `strconv.Quote` for the messages that embed a value.
fn q(s: &str) -> String {
    model::quote_go(s)
}

/// `strconv.ParseFloat(s, 64)`; the error is Go's message.
pub fn parse_go_float(s: &str) -> Result<f64, String> {
    let err = || format!("strconv.ParseFloat: parsing {}: invalid syntax", q(s));
    if s.is_empty() {
        return Err(err());
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let v = if lower == "inf" || lower == "infinity" {
        f64::INFINITY
    } else if lower == "nan" {
        f64::NAN
    } else if let Some(h) = lower.strip_prefix("0x") {
        parse_hex_float(h).ok_or_else(err)?
    } else {
        if body.is_empty()
            || !body.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
            || !body.as_bytes()[0].is_ascii_digit() && body.as_bytes()[0] != b'.'
        {
            return Err(err());
        }
        let cleaned: String;
        let body = if body.contains('_') {
            // Go allows underscores only between digits when a base prefix is present.
            return Err(err());
        } else {
            cleaned = body.to_string();
            &cleaned
        };
        match body.parse::<f64>() {
            Ok(v) => v,
            Err(_) => return Err(err()),
        }
    };
    if v.is_infinite() && !lower.contains("inf") {
        return Err(format!("strconv.ParseFloat: parsing {}: value out of range", q(s)));
    }
    Ok(if neg { -v } else { v })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let s = s.replace('_', "");
    let (mant, exp) = match s.find('p') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => return None, // Go requires the p exponent for hex floats
    };
    let exp: i32 = exp.parse().ok()?;
    let (ip, fp) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    if ip.is_empty() && fp.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in ip.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in fp.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        let s = format!("{v}");
        if s == "-0" { "-0".into() } else { s }
    }
}

/// Go's `fmt.Sprint(float64)` (`%v`, i.e. `%g` with the shortest representation).
pub fn format_float_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Shortest repr digits and exponent.
    let e = format!("{v:e}"); // like 1.2345e6
    let (mant, exp) = e.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    // Go's shortest %v switches to exponent form from 1e+06 (precision 6).
    if !(-4..6).contains(&exp) {
        let exp_s = if exp < 0 { format!("-{:02}", -exp) } else { format!("+{exp:02}") };
        format!("{mant}e{exp_s}")
    } else {
        format!("{v}")
    }
}

/// Prometheus `model.ParseDuration` in nanoseconds (`model`'s parser, the workspace's one).
pub fn parse_prom_duration(s: &str) -> Result<i64, String> {
    model::duration::parse_prom_duration(s).map(|d| d.as_nanos() as i64)
}

/// Prometheus `model.Duration.String()`.
pub fn format_prom_duration(ns: i64) -> String {
    let mut ms = ns / MS;
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
        ms = -ms;
    }
    let units: [(&str, i64); 7] = [
        ("y", YEAR / MS),
        ("w", WEEK / MS),
        ("d", DAY / MS),
        ("h", HOUR / MS),
        ("m", MIN / MS),
        ("s", SEC / MS),
        ("ms", 1),
    ];
    for (name, size) in units {
        let n = ms / size;
        if n > 0 {
            out.push_str(&format!("{n}{name}"));
            ms -= n * size;
        }
    }
    out
}

/// Go `time.ParseDuration`, with Go's error messages.
pub fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", q(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next()
        && (c == '-' || c == '+')
    {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let mut i = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &s[..i];
        let pre = i > 0;
        let mut frac_part = "";
        let mut post = false;
        if i < b.len() && b[i] == b'.' {
            let fs = i + 1;
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac_part = &s[fs..i];
            post = !frac_part.is_empty();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let us = i;
        while i < b.len() && b[i] != b'.' && !b[i].is_ascii_digit() {
            i += 1;
        }
        if us == i {
            return Err(format!("time: missing unit in duration {}", q(orig)));
        }
        let unit = &s[us..i];
        let mult: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("time: unknown unit {} in duration {}", q(unit), q(orig))),
        };
        let v: u128 = if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| invalid())? };
        let mut val = v.checked_mul(mult).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            // fraction * mult, truncated
            let mut scale: u128 = 1;
            let mut f: u128 = 0;
            for c in frac_part.bytes().take(18) {
                f = f * 10 + (c - b'0') as u128;
                scale *= 10;
            }
            val += f * mult / scale;
        }
        total += val;
        if total > (i64::MAX as u128) + 1 {
            return Err(invalid());
        }
        s = &s[i..];
    }
    if total > i64::MAX as u128 {
        if neg && total == i64::MAX as u128 + 1 {
            return Ok(i64::MIN);
        }
        return Err(invalid());
    }
    Ok(if neg { -(total as i64) } else { total as i64 })
}

/// Go `time.Duration.String()`.
pub fn format_go_duration(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // sub-second: ns, µs, ms with fraction
        let (unit, div) = if u < 1_000 {
            ("ns", 1u64)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac_str(u, div));
        out.push_str(unit);
    } else {
        let secs_total = u / 1_000_000_000;
        let nanos = u % 1_000_000_000;
        let h = secs_total / 3600;
        let m = (secs_total % 3600) / 60;
        let s = secs_total % 60;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        let mut sec = s.to_string();
        if nanos > 0 {
            let mut f = format!("{nanos:09}");
            while f.ends_with('0') {
                f.pop();
            }
            sec.push('.');
            sec.push_str(&f);
        }
        out.push_str(&sec);
        out.push('s');
    }
    if neg { format!("-{out}") } else { out }
}

fn frac_str(u: u64, div: u64) -> String {
    let ip = u / div;
    let fp = u % div;
    if fp == 0 {
        return ip.to_string();
    }
    let width = div.to_string().len() - 1;
    let mut f = format!("{fp:0width$}");
    while f.ends_with('0') {
        f.pop();
    }
    format!("{ip}.{f}")
}

/// go-humanize `ParseBytes`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let mut last = 0;
    let mut has_comma = false;
    for (i, c) in s.char_indices() {
        if !(c.is_ascii_digit() || c == '.' || c == ',') {
            break;
        }
        if c == ',' {
            has_comma = true;
        }
        last = i + c.len_utf8();
    }
    let mut num = s[..last].to_string();
    if has_comma {
        num = num.replace(',', "");
    }
    let f = parse_go_float(&num)?;
    let extra = s[last..].trim().to_lowercase();
    let m: f64 = match extra.as_str() {
        "" | "b" => 1.0,
        "kib" | "ki" => 1024.0,
        "kb" | "k" => 1000.0,
        "mib" | "mi" => 1024f64.powi(2),
        "mb" | "m" => 1e6,
        "gib" | "gi" => 1024f64.powi(3),
        "gb" | "g" => 1e9,
        "tib" | "ti" => 1024f64.powi(4),
        "tb" | "t" => 1e12,
        "pib" | "pi" => 1024f64.powi(5),
        "pb" | "p" => 1e15,
        "eib" | "ei" => 1024f64.powi(6),
        "eb" | "e" => 1e18,
        _ => return Err(format!("unhandled size name: {extra}")),
    };
    let v = f * m;
    if v >= u64::MAX as f64 {
        return Err(format!("too large: {s}"));
    }
    Ok(v as u64)
}

/// go-humanize `Bytes` (SI units), without spaces as Loki prints it.
pub fn format_bytes(s: u64) -> String {
    let sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if s < 10 {
        return format!("{s}B");
    }
    let e = ((s as f64).ln() / 1000f64.ln()).floor();
    let suffix = sizes[e as usize];
    let val = ((s as f64) / 1000f64.powf(e) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 { format!("{val:.1}{suffix}") } else { format!("{val:.0}{suffix}") }
}

/// Go's `regexp` error text ("error parsing regexp: CODE: \`FRAGMENT\`") for a pattern the
/// `regex` crate refused; falls back to the crate's own message.
pub fn go_regex_error(pattern: &str, fallback: &regex::Error) -> String {
    use regex_syntax::ast::ErrorKind as K;
    let Err(e) = regex_syntax::ast::parse::Parser::new().parse(pattern) else {
        let s = fallback.to_string();
        let last = s.lines().rev().find(|l| l.starts_with("error:")).map(|l| l.trim_start_matches("error: "));
        return format!("error parsing regexp: {}", last.unwrap_or(&s));
    };
    let sp = e.span();
    let frag = pattern.get(sp.start.offset..sp.end.offset).unwrap_or("");
    let from = pattern.get(sp.start.offset..).unwrap_or("");
    let (code, text) = match e.kind() {
        K::ClassUnclosed => ("missing closing ]", from.to_string()),
        K::ClassRangeInvalid | K::ClassRangeLiteral => ("invalid character class range", frag.to_string()),
        K::ClassEscapeInvalid
        | K::EscapeUnrecognized
        | K::EscapeHexInvalid
        | K::EscapeHexInvalidDigit
        | K::EscapeHexEmpty => ("invalid escape sequence", frag.to_string()),
        K::EscapeUnexpectedEof => ("trailing backslash at end of expression", String::new()),
        K::GroupUnclosed => ("missing closing )", pattern.to_string()),
        K::GroupUnopened => ("unexpected )", pattern.to_string()),
        K::GroupNameEmpty | K::GroupNameInvalid | K::GroupNameUnexpectedEof | K::GroupNameDuplicate { .. } => {
            ("invalid named capture", frag.to_string())
        }
        K::RepetitionMissing => ("missing argument to repetition operator", frag.to_string()),
        K::RepetitionCountInvalid | K::RepetitionCountUnclosed | K::RepetitionCountDecimalEmpty | K::DecimalInvalid => {
            ("invalid repeat count", frag.to_string())
        }
        K::NestLimitExceeded(_) => ("expression nests too deeply", pattern.to_string()),
        K::UnsupportedBackreference | K::UnsupportedLookAround | K::FlagUnrecognized | K::FlagUnexpectedEof => {
            ("invalid or unsupported Perl syntax", frag.to_string())
        }
        _ => return format!("error parsing regexp: {e}"),
    };
    format!("error parsing regexp: {code}: `{text}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("2h45m"), Ok(2 * HOUR + 45 * MIN));
        assert_eq!(parse_go_duration("1µs"), Ok(1000));
        assert_eq!(parse_go_duration("1"), Err("time: missing unit in duration \"1\"".into()));
        assert_eq!(parse_go_duration("1d"), Err("time: unknown unit \"d\" in duration \"1d\"".into()));
        assert_eq!(parse_go_duration("abc"), Err("time: invalid duration \"abc\"".into()));
        assert_eq!(format_go_duration(MIN), "1m0s");
        assert_eq!(format_go_duration(HOUR), "1h0m0s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(100 * MS), "100ms");
        assert_eq!(format_go_duration(-5 * MIN), "-5m0s");
    }

    #[test]
    fn prom_durations() {
        assert_eq!(parse_prom_duration("1h30m"), Ok(HOUR + 30 * MIN));
        assert_eq!(parse_prom_duration("1d"), Ok(DAY));
        assert!(parse_prom_duration("1.5m").is_err());
        assert!(parse_prom_duration("30m1h").is_err());
        assert_eq!(format_prom_duration(90 * SEC), "1m30s");
        assert_eq!(format_prom_duration(DAY), "1d");
        assert_eq!(format_prom_duration(5 * MIN), "5m");
    }

    #[test]
    fn bytes_and_floats() {
        assert_eq!(parse_bytes("1KiB"), Ok(1024));
        assert_eq!(parse_bytes("20 MB"), Ok(20_000_000));
        assert_eq!(parse_bytes("42"), Ok(42));
        assert_eq!(parse_bytes(""), Err("strconv.ParseFloat: parsing \"\": invalid syntax".into()));
        assert_eq!(format_bytes(1024), "1.0kB");
        assert_eq!(format_bytes(20_000_000), "20MB");
        assert_eq!(parse_go_float("0x1p3"), Ok(8.0));
        assert!(parse_go_float("0x1A").is_err());
        assert!(parse_go_float("0b1010").is_err());
        assert_eq!(format_float_g(1e21), "1e+21");
        assert_eq!(format_float_g(0.5), "0.5");
        assert_eq!(format_float_g(100.0), "100");
        assert_eq!(format_float_g(3e6), "3e+06");
        assert_eq!(format_float_g(123456.0), "123456");
    }
}
