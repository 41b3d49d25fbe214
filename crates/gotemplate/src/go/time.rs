//! Go's `time` layouts (`2006-01-02T15:04:05Z07:00`): formatting and parsing, in UTC or in a
//! location ([`Tz`]). Go's zero time (`0001-01-01 00:00:00 +0000 UTC`, what a failed parse
//! gives) is `i64::MIN` nanoseconds.

use super::zone::Tz;

/// Go's zero `time.Time` as nanoseconds since the epoch (it is out of `i64`'s range).
pub const ZERO_TIME: i64 = i64::MIN;
/// Go's zero time in seconds since the epoch (`time.Time{}.Unix()`).
pub const ZERO_TIME_UNIX: i64 = -62_135_596_800;

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Formats a UTC time with a Go layout.
pub fn format_time(ns: i64, layout: &str) -> String {
    format_time_in(ns, layout, &Tz::Utc)
}

/// Formats a time with a Go layout in a location.
pub fn format_time_in(ns: i64, layout: &str, tz: &Tz) -> String {
    let (off, abbr) = if ns == ZERO_TIME { (0, "UTC".to_string()) } else { tz.offset_at(ns) };
    let (secs, nanos) = if ns == ZERO_TIME {
        (ZERO_TIME_UNIX, 0)
    } else {
        (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000))
    };
    let secs = secs + off as i64;
    let zone = |colon: bool, z: bool| -> String {
        if z && off == 0 {
            return "Z".into();
        }
        let a = off.unsigned_abs();
        let sign = if off < 0 { '-' } else { '+' };
        if colon {
            format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
        } else {
            format!("{sign}{:02}{:02}", a / 3600, a % 3600 / 60)
        }
    };
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let (y, mo, d) = civil(days);
    let (h, mi, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    let wd = (days + 4).rem_euclid(7) as usize;
    let mut out = String::new();
    let mut r = layout;
    while !r.is_empty() {
        let take = |p: &str| r.starts_with(p);
        let (tok, rep): (usize, String) = if take("2006") {
            (4, format!("{y:04}"))
        } else if take("January") {
            (7, MONTHS[mo as usize - 1].into())
        } else if take("Jan") {
            (3, MONTHS[mo as usize - 1][..3].into())
        } else if take("Monday") {
            (6, DAYS[wd].into())
        } else if take("Mon") {
            (3, DAYS[wd][..3].into())
        } else if take("MST") {
            (3, abbr.clone())
        } else if take("01") {
            (2, format!("{mo:02}"))
        } else if take("02") {
            (2, format!("{d:02}"))
        } else if take("06") {
            (2, format!("{:02}", y % 100))
        } else if take("_2") {
            (2, format!("{d:>2}"))
        } else if take("15") {
            (2, format!("{h:02}"))
        } else if take("03") {
            (2, format!("{:02}", if h % 12 == 0 { 12 } else { h % 12 }))
        } else if take("04") {
            (2, format!("{mi:02}"))
        } else if take("05") {
            (2, format!("{s:02}"))
        } else if take("PM") {
            (2, if h >= 12 { "PM".into() } else { "AM".into() })
        } else if take("pm") {
            (2, if h >= 12 { "pm".into() } else { "am".into() })
        } else if take("-07:00") {
            (6, zone(true, false))
        } else if take("-0700") {
            (5, zone(false, false))
        } else if take("Z07:00") {
            (6, zone(true, true))
        } else if take("Z0700") {
            (5, zone(false, true))
        } else if take("-07") {
            (3, zone(false, false)[..3].to_string())
        } else if take("Z07") {
            (3, if off == 0 { "Z".into() } else { zone(false, false)[..3].to_string() })
        } else if take(".000000000") || take(".999999999") || take(",000000000") || take(",999999999") {
            let trim = r.as_bytes()[1] == b'9';
            let mut f = format!("{nanos:09}");
            if trim {
                while f.ends_with('0') {
                    f.pop();
                }
            }
            (10, if f.is_empty() { String::new() } else { format!(".{f}") })
        } else if take(".000000") || take(".999999") {
            let trim = r.as_bytes()[1] == b'9';
            let mut f = format!("{:06}", nanos / 1000);
            if trim {
                while f.ends_with('0') {
                    f.pop();
                }
            }
            (7, if f.is_empty() { String::new() } else { format!(".{f}") })
        } else if take(".000") || take(".999") {
            let trim = r.as_bytes()[1] == b'9';
            let mut f = format!("{:03}", nanos / 1_000_000);
            if trim {
                while f.ends_with('0') {
                    f.pop();
                }
            }
            (4, if f.is_empty() { String::new() } else { format!(".{f}") })
        } else if take("1") {
            (1, mo.to_string())
        } else if take("2") {
            (1, d.to_string())
        } else if take("3") {
            (1, (if h % 12 == 0 { 12 } else { h % 12 }).to_string())
        } else if take("4") {
            (1, mi.to_string())
        } else if take("5") {
            (1, s.to_string())
        } else {
            let c = r.chars().next().unwrap();
            (c.len_utf8(), c.to_string())
        };
        out.push_str(&rep);
        r = &r[tok..];
    }
    out
}

/// Parses a time with a Go layout (numeric fields only), UTC.
pub fn parse_time(layout: &str, v: &str) -> Option<i64> {
    parse_time_in(layout, v, &Tz::Utc).map(|(ns, _)| ns)
}

/// `time.ParseInLocation`: the wall clock is `tz`'s unless the text has an offset; then the
/// location is `tz` when its offset agrees at that instant, UTC for `Z`, else a fixed zone.
pub fn parse_time_in(layout: &str, v: &str, tz: &Tz) -> Option<(i64, Tz)> {
    let mut offset: Option<i32> = None;
    let mut zulu = false;
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ns) = (1i64, 1u32, 1u32, 0i64, 0i64, 0i64, 0i64);
    let mut l = layout;
    let mut r = v;
    let num = |r: &mut &str, n: usize| -> Option<i64> {
        let t = r.get(..n)?;
        let x = t.parse().ok()?;
        *r = &r[n..];
        Some(x)
    };
    while !l.is_empty() {
        if l.starts_with("2006") {
            y = num(&mut r, 4)?;
            l = &l[4..];
        } else if l.starts_with("01") {
            mo = num(&mut r, 2)? as u32;
            l = &l[2..];
        } else if l.starts_with("02") {
            d = num(&mut r, 2)? as u32;
            l = &l[2..];
        } else if l.starts_with("15") {
            h = num(&mut r, 2)?;
            l = &l[2..];
        } else if l.starts_with("04") {
            mi = num(&mut r, 2)?;
            l = &l[2..];
        } else if (l.starts_with(".0") || l.starts_with(".9") || l.starts_with(",0") || l.starts_with(",9"))
            && l[1..].bytes().take_while(|c| *c == l.as_bytes()[1]).count() > 0
        {
            let n = l[1..].bytes().take_while(|c| *c == l.as_bytes()[1]).count();
            l = &l[1 + n..];
            if let Some(rest) = r.strip_prefix('.').or_else(|| r.strip_prefix(',')) {
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                let mut f = digits.clone();
                f.truncate(9);
                while f.len() < 9 {
                    f.push('0');
                }
                ns = f.parse().ok()?;
                r = &rest[digits.len()..];
            }
        } else if l.starts_with("05") {
            s = num(&mut r, 2)?;
            l = &l[2..];
            if r.starts_with('.') && !l.starts_with('.') {
                let digits: String = r[1..].chars().take_while(|c| c.is_ascii_digit()).collect();
                let mut f = digits.clone();
                f.truncate(9);
                while f.len() < 9 {
                    f.push('0');
                }
                ns = f.parse().ok()?;
                r = &r[1 + digits.len()..];
            }
        } else if let Some((tok, colon, z)) =
            [("Z07:00", true, true), ("-07:00", true, false), ("Z0700", false, true), ("-0700", false, false)]
                .into_iter()
                .find(|(t, _, _)| l.starts_with(t))
        {
            l = &l[tok.len()..];
            if z && r.starts_with('Z') {
                r = &r[1..];
                offset = Some(0);
                zulu = true;
            } else {
                let sign = match r.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let hh: i32 = r.get(1..3)?.parse().ok()?;
                let (mm, used) = if colon {
                    if r.as_bytes().get(3) != Some(&b':') {
                        return None;
                    }
                    (r.get(4..6)?.parse::<i32>().ok()?, 6)
                } else {
                    (r.get(3..5)?.parse::<i32>().ok()?, 5)
                };
                offset = Some(sign * (hh * 3600 + mm * 60));
                r = &r[used..];
            }
        } else {
            let c = l.chars().next()?;
            if !r.starts_with(c) {
                return None;
            }
            l = &l[c.len_utf8()..];
            r = &r[c.len_utf8()..];
        }
    }
    if !r.is_empty() {
        return None;
    }
    // Go: "month out of range", "day out of range", ...
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&mo) || d < 1 || d > month_days[mo as usize - 1] || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    match offset {
        Some(off) => {
            let days = days_from_civil(y, mo, d);
            let secs = days * 86400 + h * 3600 + mi * 60 + s - off as i64;
            let at = secs.checked_mul(1_000_000_000)?.checked_add(ns)?;
            let loc = if zulu {
                Tz::Utc
            } else if tz.offset_at(at).0 == off {
                tz.clone()
            } else {
                Tz::Fixed(off)
            };
            Some((at, loc))
        }
        None => {
            // Go's time.Date: the offset at the wall clock read as UTC, then, when the instant
            // that gives falls outside that offset's period, the offset there (so a skipped
            // time lands before the gap, a repeated one on its first occurrence)
            let days = days_from_civil(y, mo, d);
            let wall = (days * 86400 + h * 3600 + mi * 60 + s).checked_mul(1_000_000_000)?.checked_add(ns)?;
            let off1 = tz.offset_at(wall).0 as i64;
            let utc = wall - off1 * 1_000_000_000;
            let off2 = tz.offset_at(utc).0 as i64;
            Some((wall - off2 * 1_000_000_000, tz.clone()))
        }
    }
}
