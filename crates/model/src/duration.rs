//! Durations as Loki's configuration and HTTP parameters write them.

use std::time::Duration;

/// Parses a Prometheus duration: `[0-9]+` with units `y w d h m s ms`, in descending order and
/// combinable (`1h30m`, `90s`, `7d`, `15000ms`). A year is 365 days. `0` alone is zero.
pub fn parse_prom_duration(s: &str) -> Result<Duration, String> {
    let err = || format!("not a valid duration string: {s:?}");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(err());
    }
    let units: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let b = s.as_bytes();
    let (mut i, mut total_ms, mut last_unit) = (0usize, 0u64, 0usize);
    while i < b.len() {
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if st == i {
            return Err(err());
        }
        let n: u64 = s[st..i].parse().map_err(|_| err())?;
        let ust = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ust..i];
        let idx = units.iter().position(|(u, _)| *u == unit).ok_or_else(err)?;
        if idx < last_unit {
            return Err(err());
        }
        last_unit = idx + 1;
        total_ms = total_ms.checked_add(n.checked_mul(units[idx].1).ok_or_else(err)?).ok_or_else(err)?;
    }
    Ok(Duration::from_millis(total_ms))
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
        assert!(parse_prom_duration("").is_err());
        assert_eq!(format_prom_duration(Duration::from_secs(5400)), "1h30m");
    }
}
