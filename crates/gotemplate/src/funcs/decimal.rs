//! Decimal arithmetic for Sprig's `addf`/`subf`/`mulf`/`divf` (shopspring/decimal's results).

use crate::value::Value;

/// A decimal (mantissa, scale) like shopspring/decimal, which sprig's float math uses.
#[derive(Clone, Copy)]
pub(crate) struct Dec {
    m: i128,
    s: u32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let t = format!("{f}");
        let (neg, t) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.as_str()),
        };
        let (i, fr) = t.split_once('.').unwrap_or((t, ""));
        let m: i128 = format!("{i}{fr}").parse().ok()?;
        Some(Dec { m: if neg { -m } else { m }, s: fr.len() as u32 })
    }
    fn align(a: Dec, b: Dec) -> Option<(i128, i128, u32)> {
        let s = a.s.max(b.s);
        let am = a.m.checked_mul(10i128.checked_pow(s - a.s)?)?;
        let bm = b.m.checked_mul(10i128.checked_pow(s - b.s)?)?;
        Some((am, bm, s))
    }
    pub(crate) fn add(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, s) = Dec::align(a, b)?;
        Some(Dec { m: x.checked_add(y)?, s })
    }
    pub(crate) fn sub(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, s) = Dec::align(a, b)?;
        Some(Dec { m: x.checked_sub(y)?, s })
    }
    pub(crate) fn mul(a: Dec, b: Dec) -> Option<Dec> {
        Some(Dec { m: a.m.checked_mul(b.m)?, s: a.s + b.s })
    }
    /// Quotient rounded half away from zero to 16 decimal places.
    pub(crate) fn div(a: Dec, b: Dec) -> Option<Dec> {
        if b.m == 0 {
            return None;
        }
        // a.m/10^a.s / (b.m/10^b.s) * 10^16 = a.m * 10^(16 + b.s - a.s) / b.m
        let e = 16i64 + b.s as i64 - a.s as i64;
        let (num, den) = if e >= 0 {
            (a.m.checked_mul(10i128.checked_pow(e as u32)?)?, b.m)
        } else {
            (a.m, b.m.checked_mul(10i128.checked_pow((-e) as u32)?)?)
        };
        let q = num / den;
        let r = num % den;
        let q = if r.abs().checked_mul(2)? >= den.abs() { q + if (num < 0) != (den < 0) { -1 } else { 1 } } else { q };
        Some(Dec { m: q, s: 16 })
    }
    fn to_f64(self) -> f64 {
        let neg = self.m < 0;
        let digits = self.m.unsigned_abs().to_string();
        let s = self.s as usize;
        let t = if digits.len() > s {
            format!("{}.{}", &digits[..digits.len() - s], &digits[digits.len() - s..])
        } else {
            format!("0.{}{}", "0".repeat(s - digits.len()), digits)
        };
        let v: f64 = t.parse().unwrap_or(0.0);
        if neg { -v } else { v }
    }
}

pub(crate) fn dec_op(first: f64, rest: &[Value], op: fn(Dec, Dec) -> Option<Dec>, float: fn(f64, f64) -> f64) -> f64 {
    let exact = || -> Option<f64> {
        let mut acc = Dec::from_f64(first)?;
        for v in rest {
            acc = op(acc, Dec::from_f64(v.to_f64())?)?;
        }
        Some(acc.to_f64())
    };
    exact().unwrap_or_else(|| rest.iter().fold(first, |x, y| float(x, y.to_f64())))
}
