//! Durations as Loki's configuration and HTTP parameters write them.

use std::time::Duration;

use crate::quote_go;

/// Parses a Prometheus duration exactly as Prometheus' `model.ParseDuration` does: `[0-9]+`
/// followed by a unit, units `y w d h m s ms` in that order, each at most once (`1h30m`, `90s`,
/// `7d`, `15000ms`); a year is 365 days, `0` alone is zero, at most `i64::MAX` nanoseconds. The
/// errors are Prometheus' (`not a valid duration string: "1.5s"`, `unknown unit "x" in duration
/// "5x"`, `empty duration string`, `duration out of range`). The workspace's only parser of it:
/// configuration, HTTP parameters and LogQL all use it.
pub fn parse_prom_duration(s: &str) -> Result<Duration, String> {
    const MS: i128 = 1_000_000;
    const DAY: i128 = 86_400_000 * MS;
    let bad = || format!("not a valid duration string: {}", quote_go(s));
    if s.is_empty() {
        return Err("empty duration string".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let units: [(&str, i128); 7] = [
        ("y", 365 * DAY),
        ("w", 7 * DAY),
        ("d", DAY),
        ("h", 3_600_000 * MS),
        ("m", 60_000 * MS),
        ("s", 1000 * MS),
        ("ms", MS),
    ];
    let b = s.as_bytes();
    let mut i = 0;
    let mut next_unit = 0usize;
    let mut total: i128 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let n: i128 = s[start..i].parse().map_err(|_| "duration out of range".to_string())?;
        let ustart = i;
        while i < b.len() && !b[i].is_ascii_digit() {
            i += 1;
        }
        if i == ustart {
            return Err(bad());
        }
        let u = &s[ustart..i];
        let Some(idx) = units.iter().position(|(name, _)| *name == u) else {
            return Err(format!("unknown unit {} in duration {}", quote_go(u), quote_go(s)));
        };
        if idx < next_unit {
            return Err(bad());
        }
        total = n
            .checked_mul(units[idx].1)
            .and_then(|x| x.checked_add(total))
            .filter(|t| *t <= i64::MAX as i128)
            .ok_or_else(|| "duration out of range".to_string())?;
        next_unit = idx + 1;
    }
    Ok(Duration::from_nanos(total as u64))
}

/// Prints a duration the way Prometheus does (`1h30m`, `5m`, `0s`).
pub fn format_prom_duration(d: Duration) -> String {
    let mut ms = d.as_millis() as u64;
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (u, n) in [
        ("y", 365 * 86_400_000u64),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if ms >= n {
            out.push_str(&format!("{}{u}", ms / n));
            ms %= n;
        }
    }
    out
}

/// A duration that reads and writes as a Prometheus duration string in configuration files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct PromDuration(pub Duration);

impl serde::Serialize for PromDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_prom_duration(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for PromDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_prom_duration(&s).map(PromDuration).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for PromDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_prom_duration(s).map(PromDuration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prom_durations() {
        assert_eq!(parse_prom_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_prom_duration("15000ms").unwrap(), Duration::from_secs(15));
        assert_eq!(parse_prom_duration("1y").unwrap(), Duration::from_secs(365 * 86400));
        assert!(parse_prom_duration("1.5s").is_err());
        assert!(parse_prom_duration("30m1h").is_err());
        assert_eq!(parse_prom_duration("").unwrap_err(), "empty duration string");
        assert_eq!(parse_prom_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_prom_duration("forever").unwrap_err(), "not a valid duration string: \"forever\"");
        assert_eq!(parse_prom_duration("5minutes").unwrap_err(), "unknown unit \"minutes\" in duration \"5minutes\"");
        assert_eq!(parse_prom_duration("292y").unwrap(), Duration::from_secs(292 * 365 * 86400));
        assert_eq!(parse_prom_duration("300y").unwrap_err(), "duration out of range");
        assert_eq!(format_prom_duration(Duration::from_secs(5400)), "1h30m");
    }
}
