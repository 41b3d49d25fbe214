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
                .map_err(|e| ApiError::bad_request(format!("could not parse 'since' parameter: {e}")))?
                .as_nanos() as i64,
            None => 3_600_000_000_000,
        };
        let start = match self.get("start") {
            Some(s) => {
                parse_time(s).map_err(|e| ApiError::bad_request(format!("could not parse 'start' parameter: {e}")))?
            }
            None => end.min(now) - since,
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

/// Loki's timestamp parameter: float seconds, integer seconds (≤ 10 digits) or nanoseconds, or
/// RFC3339(Nano). Returns Unix nanoseconds.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if s.contains('.')
        && let Ok(f) = s.parse::<f64>()
    {
        let secs = f.trunc();
        let ms = ((f - secs) * 1000.0).round();
        return Ok(secs as i64 * 1_000_000_000 + ms as i64 * 1_000_000);
    }
    if let Ok(n) = s.parse::<i64>() {
        let digits = s.trim_start_matches(['-', '+']).len();
        return Ok(if digits <= 10 { n.saturating_mul(1_000_000_000) } else { n });
    }
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_nanosecond() as i64)
        .map_err(|_| format!("cannot parse {s:?} to a valid timestamp"))
}

/// Loki's default step: (end − start) / 250, at least one second, in whole seconds.
pub fn default_step(start: i64, end: i64) -> i64 {
    (((end - start) / 250) / 1_000_000_000).max(1) * 1_000_000_000
}

/// Loki's `step`/`interval`: float seconds, else a Prometheus duration. Returns nanoseconds.
pub fn parse_step(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(format!("cannot parse {s:?} to a valid duration"));
        }
        return Ok((f * 1e9).round() as i64);
    }
    model::duration::parse_prom_duration(s)
        .map(|d| d.as_nanos() as i64)
        .map_err(|_| format!("cannot parse {s:?} to a valid duration"))
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
    }
}
