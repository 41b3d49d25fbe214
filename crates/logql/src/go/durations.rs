//! Prometheus durations (`1h30m`, `7d`), in nanoseconds; Go's are in `gotemplate::go`.

/// Nanoseconds per unit.
pub(crate) const MS: i64 = 1_000_000;
pub(crate) const SEC: i64 = 1_000_000_000;
pub(crate) const MIN: i64 = 60 * SEC;
pub(crate) const HOUR: i64 = 60 * MIN;
pub(crate) const DAY: i64 = 24 * HOUR;
pub(crate) const WEEK: i64 = 7 * DAY;
pub(crate) const YEAR: i64 = 365 * DAY;

/// Prometheus `model.ParseDuration` in nanoseconds (`model`'s parser, the workspace's one).
pub(crate) fn parse_prom_duration(s: &str) -> Result<i64, String> {
    model::duration::parse_prom_duration(s).map(|d| d.as_nanos() as i64)
}

/// Prometheus `model.Duration.String()`.
pub(crate) fn format_prom_duration(ns: i64) -> String {
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
