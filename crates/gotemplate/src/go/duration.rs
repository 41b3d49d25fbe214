//! Go's `time.Duration` syntax: `time.ParseDuration` and `Duration.String()`, in nanoseconds.

use model::quote_go as q;

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

/// Go's `time.Duration.Seconds()`: whole seconds plus the nanoseconds' fraction, each
/// converted apart (which rounds differently from `ns as f64 / 1e9` for large durations).
pub fn duration_seconds(ns: i64) -> f64 {
    let (sec, nsec) = (ns / 1_000_000_000, ns % 1_000_000_000);
    sec as f64 + nsec as f64 / 1e9
}
