//! Go's `time` layouts (`2006-01-02T15:04:05Z07:00`): formatting and parsing, in UTC.

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
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
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
            (3, "UTC".into())
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
            (6, "+00:00".into())
        } else if take("-0700") {
            (5, "+0000".into())
        } else if take("Z07:00") {
            (6, "Z".into())
        } else if take("Z0700") {
            (5, "Z".into())
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
        } else if l.starts_with("Z07:00") {
            if r.starts_with('Z') {
                r = &r[1..];
            } else {
                r = r.get(6..)?;
            }
            l = &l[6..];
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
    let days = days_from_civil(y, mo, d);
    Some(((days * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000) + ns)
}
