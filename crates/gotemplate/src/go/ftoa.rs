//! Go's `strconv.FormatFloat(v, fmt, prec, 64)` for every format (`e E f g G x X b`), shortest
//! (`prec < 0`) or with a precision. Decimal digits come from Rust's exact float printing
//! (correctly rounded, ties to even on the exact binary value, as Go's decimal rounding does);
//! the layout rules (`%g`'s exponent switch, trailing zeros, exponent digits) are Go's.

/// Decimal digits (no trailing zeros, at least one) and the decimal point's position.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// Digits of |v| (finite): shortest round-tripping ones, or `sig` significant digits.
fn digits(v: f64, sig: Option<usize>) -> Digits {
    let s = match sig {
        None => format!("{:e}", v.abs()),
        Some(n) => format!("{:.*e}", n.max(1) - 1, v.abs()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(|c| c.is_ascii_digit()).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    if d == b"0" {
        return Digits { d, dp: 1 };
    }
    Digits { d, dp: exp + 1 }
}

/// Digits of |v| rounded to `frac` places after the decimal point (for `%f`).
fn fixed(v: f64, frac: usize) -> String {
    format!("{:.*}", frac, v.abs())
}

fn fmt_e(out: &mut String, dg: &Digits, prec: i32, e: char) {
    out.push(dg.d[0] as char);
    if prec > 0 {
        out.push('.');
        let mut i = 1usize;
        let m = (dg.d.len()).min(prec as usize + 1);
        while i < m {
            out.push(dg.d[i] as char);
            i += 1;
        }
        for _ in i..=prec as usize {
            out.push('0');
        }
    }
    out.push(e);
    let exp = if dg.d == b"0" { 0 } else { dg.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
}

fn fmt_f(out: &mut String, dg: &Digits, prec: i32) {
    if dg.dp > 0 {
        let m = (dg.d.len()).min(dg.dp as usize);
        out.extend(dg.d[..m].iter().map(|&c| c as char));
        for _ in m..dg.dp as usize {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = dg.dp + i - 1;
            out.push(if j >= 0 && (j as usize) < dg.d.len() { dg.d[j as usize] as char } else { '0' });
        }
    }
}

/// `strconv.FormatFloat(v, fmt, prec, 64)`.
pub fn format_float_go(v: f64, fmt: char, prec: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    match fmt {
        'b' => {
            let bits = v.to_bits();
            let exp = ((bits >> 52) & 0x7ff) as i64;
            let mut mant = bits & ((1 << 52) - 1);
            let e = if exp == 0 {
                -1074
            } else {
                mant |= 1 << 52;
                exp - 1075
            };
            out.push_str(&format!("{mant}p{}{}", if e >= 0 { "+" } else { "" }, e));
        }
        'x' | 'X' => out.push_str(&hex(v.abs(), prec, fmt == 'X')),
        'f' if prec >= 0 => out.push_str(&fixed(v, prec as usize)),
        'f' => {
            let dg = digits(v, None);
            let p = (dg.d.len() as i32 - dg.dp).max(0);
            fmt_f(&mut out, &dg, p);
        }
        'e' | 'E' => {
            let dg = if prec < 0 { digits(v, None) } else { digits(v, Some(prec as usize + 1)) };
            let p = if prec < 0 { dg.d.len() as i32 - 1 } else { prec };
            fmt_e(&mut out, &dg, p, fmt);
        }
        'g' | 'G' => {
            let shortest = prec < 0;
            let mut prec = prec;
            if prec == 0 {
                prec = 1;
            }
            let dg = if shortest { digits(v, None) } else { digits(v, Some(prec as usize)) };
            // Go's decimal has no digits for zero
            let (nd, dp) = if dg.d == b"0" { (0, 0) } else { (dg.d.len() as i32, dg.dp) };
            if shortest {
                prec = nd.max(1);
            }
            let mut eprec = prec;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                if prec > nd {
                    prec = nd;
                }
                fmt_e(&mut out, &dg, (prec - 1).max(0), if fmt == 'g' { 'e' } else { 'E' });
            } else {
                if prec > dp {
                    prec = nd;
                }
                fmt_f(&mut out, &dg, (prec - dp).max(0));
            }
        }
        _ => {
            out.clear();
            out.push('%');
            out.push(fmt);
        }
    }
    out
}

/// `%x`: `0x1.8p+01` (mantissa rounded to `prec` hex digits, ties to even).
fn hex(v: f64, prec: i32, upper: bool) -> String {
    let bits = v.to_bits();
    let bexp = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    let mut exp;
    if v == 0.0 {
        exp = 0;
        mant = 0;
    } else if bexp == 0 {
        // subnormal: normalise so the leading 1 is at bit 52
        exp = -1022;
        while mant & (1 << 52) == 0 {
            mant <<= 1;
            exp -= 1;
        }
    } else {
        mant |= 1 << 52;
        exp = bexp - 1023;
    }
    // 52 fraction bits = 13 hex digits; round to prec digits.
    if (0..13).contains(&prec) && mant != 0 {
        let shift = 4 * (13 - prec) as u32;
        let rem = mant & ((1u64 << shift) - 1);
        let half = 1u64 << (shift - 1);
        mant >>= shift;
        if rem > half || (rem == half && mant & 1 == 1) {
            mant += 1;
        }
        mant <<= shift;
        if mant >> 53 != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let lead = if v == 0.0 { 0 } else { mant >> 52 };
    let frac = mant & ((1u64 << 52) - 1);
    let mut fd = format!("{frac:013x}");
    if prec < 0 {
        while fd.ends_with('0') {
            fd.pop();
        }
    } else {
        fd.truncate(prec as usize);
        while (fd.len() as i32) < prec {
            fd.push('0');
        }
    }
    let mut s = format!("0x{lead}");
    if !fd.is_empty() {
        s.push('.');
        s.push_str(&fd);
    }
    s.push('p');
    s.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        s.push('0');
    }
    s.push_str(&a.to_string());
    if upper { s.to_uppercase() } else { s }
}
