//! Request parameters as Loki reads them: URL query and form body together (Go's `ParseForm`),
//! its timestamp forms and its step durations.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri, header};

use crate::error::ApiError;

/// All parameters of a request, body values first, then URL values.
#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

/// Extracts the parameters of any read endpoint (URL query and form body).
impl<S: Send + Sync> axum::extract::FromRequest<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
        Ok(Params::parse(&parts.method, &parts.uri, &parts.headers, &body))
    }
}

impl Params {
    pub fn parse(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Params {
        let mut v = Vec::new();
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if *method == Method::POST && is_form {
            v.extend(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        if let Some(q) = uri.query() {
            v.extend(form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        Params(v)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect()
    }

    /// `start`/`end` with Loki's defaults: end = now, start = end − `since` (default 1h).
    pub fn bounds(&self, now: i64) -> Result<(i64, i64), ApiError> {
        let end = match self.get("end") {
            Some(s) => {
                parse_time(s).map_err(|e| ApiError::bad_request(format!("could not parse 'end' parameter: {e}")))?
            }
            None => now,
        };
        let since = match self.get("since") {
            Some(s) => model::duration::parse_prom_duration(s)
                .map_err(|e| e.to_string())
                .and_then(|d| i64::try_from(d.as_nanos()).map_err(|_| format!("{s:?} is out of range")))
                .map_err(|e| ApiError::bad_request(format!("could not parse 'since' parameter: {e}")))?,
            None => 3_600_000_000_000,
        };
        let start = match self.get("start") {
            Some(s) => {
                parse_time(s).map_err(|e| ApiError::bad_request(format!("could not parse 'start' parameter: {e}")))?
            }
            None => end.min(now).checked_sub(since).ok_or_else(|| {
                ApiError::bad_request("invalid 'since' parameter: the start it gives is out of range".to_string())
            })?,
        };
        if end < start {
            return Err(ApiError::bad_request("end timestamp must not be before or equal to start time"));
        }
        Ok((start, end))
    }

    pub fn limit(&self, default: u32) -> Result<u32, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n > 0 && n <= u32::MAX as i64 => Ok(n as u32),
                _ => Err(ApiError::bad_request("limit must be a positive value")),
            },
        }
    }

    pub fn direction(&self) -> Result<model::Direction, ApiError> {
        match self.get("direction").map(|d| d.to_ascii_lowercase()) {
            None => Ok(model::Direction::Backward),
            Some(d) if d == "backward" => Ok(model::Direction::Backward),
            Some(d) if d == "forward" => Ok(model::Direction::Forward),
            Some(_) => Err(ApiError::bad_request(format!("invalid direction '{}'", self.get("direction").unwrap()))),
        }
    }
}

fn time_out_of_range(s: &str) -> String {
    format!(
        "{s:?} is out of range: times are Unix nanoseconds in 64 bits, from 1677-09-21T00:12:43Z to 2262-04-11T23:47:16Z"
    )
}

/// Loki's timestamp parameter: float seconds, integer seconds (≤ 10 digits) or nanoseconds, or
/// RFC3339(Nano). Returns Unix nanoseconds; a time they cannot hold is an error, never wrapped.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if s.contains('.')
        && let Ok(f) = s.parse::<f64>()
    {
        if !f.is_finite() {
            return Err(format!("cannot parse {s:?} to a valid timestamp"));
        }
        let secs = f.trunc();
        let ms = ((f - secs) * 1000.0).round();
        // i64 nanoseconds hold ±9223372036.85 s; beyond, `as` would saturate or wrap.
        if secs.abs() > 9_300_000_000.0 {
            return Err(time_out_of_range(s));
        }
        return (secs as i64)
            .checked_mul(1_000_000_000)
            .and_then(|n| n.checked_add(ms as i64 * 1_000_000))
            .ok_or_else(|| time_out_of_range(s));
    }
    if let Ok(n) = s.parse::<i64>() {
        let digits = s.trim_start_matches(['-', '+']).len();
        return if digits <= 10 { n.checked_mul(1_000_000_000).ok_or_else(|| time_out_of_range(s)) } else { Ok(n) };
    }
    let t = s.parse::<jiff::Timestamp>().map_err(|_| format!("cannot parse {s:?} to a valid timestamp"))?;
    i64::try_from(t.as_nanosecond()).map_err(|_| time_out_of_range(s))
}

/// Loki's default step: (end − start) / 250, at least one second, in whole seconds.
pub fn default_step(start: i64, end: i64) -> i64 {
    ((end.saturating_sub(start) / 250) / 1_000_000_000).max(1) * 1_000_000_000
}

/// Loki's `step`/`interval`: float seconds, else a Prometheus duration. Returns nanoseconds;
/// a duration they cannot hold is an error (Loki's wording), never wrapped.
pub fn parse_step(s: &str) -> Result<i64, String> {
    let overflow = || format!("cannot parse {s:?} to a valid duration. It overflows int64");
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(format!("cannot parse {s:?} to a valid duration"));
        }
        let ns = (f * 1e9).round();
        if ns >= i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(overflow());
        }
        return Ok(ns as i64);
    }
    let d = model::duration::parse_prom_duration(s).map_err(|_| format!("cannot parse {s:?} to a valid duration"))?;
    i64::try_from(d.as_nanos()).map_err(|_| overflow())
}

/// `step` or `interval` of a request, its errors naming the parameter.
pub fn step_param(p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    p.get(name)
        .map(|s| parse_step(s).map_err(|e| ApiError::bad_request(format!("invalid '{name}' parameter: {e}"))))
        .transpose()
}

/// Loki's bound on the points of one series of a range query.
pub const MAX_POINTS: i64 = 11_000;

/// Refuses a step that would give more than `MAX_POINTS` points per series.
pub fn check_points(start: i64, end: i64, step: i64) -> Result<(), ApiError> {
    if end.saturating_sub(start) / step.max(1) > MAX_POINTS {
        return Err(ApiError::bad_request(
            "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_forms() {
        assert_eq!(parse_time("1700000000").unwrap(), 1_700_000_000_000_000_000);
        assert_eq!(parse_time("1700000000000000000").unwrap(), 1_700_000_000_000_000_000);
        // Fractions are rounded to milliseconds in float arithmetic, as Loki does.
        assert_eq!(parse_time("1.0006").unwrap(), 1_001_000_000);
        assert_eq!(parse_time("1.25").unwrap(), 1_250_000_000);
        assert_eq!(parse_time("2024-05-01T10:00:00Z").unwrap(), 1_714_557_600_000_000_000);
        assert_eq!(parse_time("2024-05-01T12:00:00+02:00").unwrap(), 1_714_557_600_000_000_000);
        assert!(parse_time("yesterday").is_err());
        assert_eq!(parse_step("15").unwrap(), 15_000_000_000);
        assert_eq!(parse_step("1m30s").unwrap(), 90_000_000_000);
        assert!(parse_step("1.5s").is_err());
        // Out of range is an error, not a wrapped or saturated value.
        assert_eq!(parse_time("9223372035.5").unwrap(), 9_223_372_035_500_000_000);
        assert!(parse_time("9300000000.5").is_err());
        assert!(parse_time("-9300000000.5").is_err());
        assert!(parse_time("9999999999").is_err());
        assert!(parse_time("2300-01-01T00:00:00Z").is_err());
        assert!(parse_time("1.5e400").is_err());
        assert!(parse_step("1e300").unwrap_err().contains("overflows int64"));
        // Not a float: Prometheus' duration parser refuses it (out of range), in Loki's words.
        assert_eq!(parse_step("300000000d").unwrap_err(), "cannot parse \"300000000d\" to a valid duration");
    }
}
