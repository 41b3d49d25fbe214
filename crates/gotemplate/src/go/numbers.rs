//! Floats: Go's `strconv.ParseFloat` and `fmt`'s `%v`/`%g` printing.

use model::quote_go as q;

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

/// Go's `fmt.Sprintf("%.<prec>g", v)`: `prec` significant digits, exponent form when the
/// exponent is below -4 or at least `prec`, trailing zeros dropped.
pub fn format_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let prec = prec.max(1);
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let e = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s.to_string() }
    };
    if exp < -4 || exp >= prec as i32 {
        let exp_s = if exp < 0 { format!("-{:02}", -exp) } else { format!("+{exp:02}") };
        format!("{}e{exp_s}", trim(mant))
    } else {
        trim(&format!("{:.*}", (prec as i32 - 1 - exp).max(0) as usize, v))
    }
}
