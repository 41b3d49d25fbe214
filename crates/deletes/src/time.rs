//! Time as Loki's delete API reads and writes it: parameters as RFC 3339 or 10-digit Unix
//! seconds, Prometheus `model.Time` (milliseconds) printed as seconds with up to three decimals,
//! and the split of a range into interval-aligned shards.

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A time parameter in milliseconds: empty is now; else RFC 3339, else exactly ten characters
/// read as (fractional) Unix seconds.
pub fn parse_time(s: &str, now: i64) -> Option<i64> {
    if s.is_empty() {
        return Some(now);
    }
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    if s.len() != 10 {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    let secs = f.trunc();
    let frac = ((f - secs) * 1000.0).round() / 1000.0;
    Some(secs as i64 * 1000 + (frac * 1000.0) as i64)
}

/// A `model.Time` as Prometheus prints it in JSON: seconds, with the milliseconds as decimals
/// when there are any (`1700000000`, `1700000000.25`).
pub fn model_time(ms: i64) -> serde_json::Value {
    let (secs, rem) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let text = if rem == 0 { secs.to_string() } else { format!("{secs}.{rem:03}").trim_end_matches('0').to_string() };
    text.parse::<serde_json::Number>().map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
}

/// Splits `[start, end]` (ms) into shards of at most `interval` ms aligned to multiples of it
/// (the first starts at `start`, the last ends at `end`; neighbours share their boundary).
/// How many pieces [`shards`] makes, without making them.
pub fn shard_count(interval: i64, start: i64, end: i64) -> u64 {
    if interval <= 0 || interval >= end - start {
        return 1;
    }
    let first = start - start.rem_euclid(interval);
    ((end - first) as u64).div_ceil(interval as u64)
}

pub fn shards(interval: i64, start: i64, end: i64) -> Vec<(i64, i64)> {
    if interval <= 0 || interval >= end - start {
        return vec![(start, end)];
    }
    let mut out = Vec::new();
    let mut s = start - start.rem_euclid(interval);
    while s < end {
        let e = (s + interval).min(end);
        out.push((if out.is_empty() { start } else { s }, e));
        s += interval;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loki_times() {
        assert_eq!(parse_time("", 42), Some(42));
        assert_eq!(parse_time("1700000000", 0), Some(1_700_000_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20Z", 0), Some(1_700_000_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20.5+00:00", 0), Some(1_700_000_000_500));
        // Nanoseconds (19 digits) and milliseconds (13) are not Unix seconds.
        assert_eq!(parse_time("1700000000000", 0), None);
        assert_eq!(parse_time("yesterday!", 0), None);
    }

    #[test]
    fn prints_model_time() {
        assert_eq!(model_time(1_700_000_000_000).to_string(), "1700000000");
        assert_eq!(model_time(1_700_000_000_250).to_string(), "1700000000.25");
        assert_eq!(model_time(1_700_000_000_007).to_string(), "1700000000.007");
    }

    #[test]
    fn shards_align_to_the_interval() {
        let h = 3_600_000;
        assert_eq!(shards(h, 1000, 2 * h), vec![(1000, h), (h, 2 * h)]);
        assert_eq!(shards(h, 0, h), vec![(0, h)]);
        assert_eq!(shards(0, 5, 9), vec![(5, 9)]);
        assert_eq!(shards(h, h / 2, 2 * h + 5), vec![(h / 2, h), (h, 2 * h), (2 * h, 2 * h + 5)]);
    }
}
