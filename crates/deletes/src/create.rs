//! A new delete request from its parameters, checked in Loki's order with Loki's texts.

use std::sync::Arc;

use crate::filter::Compiled;
use crate::time::{parse_time, shards};

/// The parameters of `POST /loki/api/v1/delete` (absent = empty, as Go's `Get`).
#[derive(Debug, Default, Clone)]
pub struct CreateParams {
    pub query: String,
    pub start: String,
    pub end: String,
    pub max_interval: String,
}

/// A checked request: its query compiled and its shards (inclusive millisecond ranges).
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub query: String,
    pub compiled: Arc<Compiled>,
    pub shards: Vec<(i64, i64)>,
}

/// Checks the parameters; `max_interval_ms` is the configured largest shard (0: unbounded).
pub fn check(p: &CreateParams, max_interval_ms: i64, now_ms: i64) -> Result<NewRequest, String> {
    if p.query.is_empty() {
        return Err("query not set".into());
    }
    let compiled = Compiled::parse(&p.query)?;
    if p.start.is_empty() {
        return Err("start time not set".into());
    }
    let start = parse_time(&p.start, now_ms).ok_or("invalid start time: require unix seconds or RFC3339 format")?;
    let end = parse_time(&p.end, now_ms).ok_or("invalid end time: require unix seconds or RFC3339 format")?;
    if end > now_ms {
        return Err("deletes in the future are not allowed".into());
    }
    if start >= end {
        return Err("start time can't be greater than or equal to end time".into());
    }
    let mut interval = 0;
    if compiled.has_filter() {
        interval = shard_interval(&p.max_interval, max_interval_ms, end - start)?;
        let n = crate::time::shard_count(interval, start, end);
        if n > MAX_SHARDS {
            return Err(format!(
                "max_interval {} splits the range into {n} deletions, more than {MAX_SHARDS}: give a larger max_interval or a shorter range",
                go_duration(interval)
            ));
        }
    }
    Ok(NewRequest { query: p.query.clone(), compiled: Arc::new(compiled), shards: shards(interval, start, end) })
}

/// The most deletions one request is split into: each is a record kept (and rewritten with the
/// others) in the requests' file, so a year at `max_interval=1s` would hold gigabytes. A day's
/// shards from 1970 until now are about 20,500.
const MAX_SHARDS: u64 = 100_000;

fn go_duration(ms: i64) -> String {
    logql::format_go_duration(ms.saturating_mul(1_000_000))
}

fn shard_interval(param: &str, max_ms: i64, range_ms: i64) -> Result<i64, String> {
    if param.is_empty() {
        return Ok(max_ms);
    }
    let ns = logql::parse_go_duration(param).ok().filter(|&ns| ns >= 1_000_000_000);
    let Some(ns) = ns else { return Err("invalid max_interval: valid time units are 's', 'm', 'h'".into()) };
    let ms = ns / 1_000_000;
    if max_ms != 0 && ms > max_ms {
        return Err(format!("max_interval can't be greater than {}", go_duration(max_ms)));
    }
    if ms > range_ms {
        return Err(format!(
            "max_interval can't be greater than the interval to be deleted ({})",
            go_duration(range_ms)
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const DAY: i64 = 86_400_000;

    fn params(q: &str, start: &str, end: &str, mi: &str) -> CreateParams {
        CreateParams { query: q.into(), start: start.into(), end: end.into(), max_interval: mi.into() }
    }

    #[test]
    fn loki_error_texts() {
        let e = |p: CreateParams| check(&p, DAY, NOW).unwrap_err();
        assert_eq!(e(params("", "1", "", "")), "query not set");
        assert_eq!(e(params("{a=\"b\"}", "", "", "")), "start time not set");
        assert_eq!(e(params("{a=\"b\"}", "12", "", "")), "invalid start time: require unix seconds or RFC3339 format");
        assert_eq!(
            e(params("{a=\"b\"}", "1699990000", "x", "")),
            "invalid end time: require unix seconds or RFC3339 format"
        );
        assert_eq!(e(params("{a=\"b\"}", "1699990000", "1700000100", "")), "deletes in the future are not allowed");
        assert_eq!(
            e(params("{a=\"b\"}", "1699990000", "1699990000", "")),
            "start time can't be greater than or equal to end time"
        );
        let f = "{a=\"b\"} |= \"x\"";
        assert_eq!(
            e(params(f, "1699990000", "1699999000", "500ms")),
            "invalid max_interval: valid time units are 's', 'm', 'h'"
        );
        assert_eq!(e(params(f, "1699990000", "1699999000", "48h")), "max_interval can't be greater than 24h0m0s");
        assert_eq!(
            e(params(f, "1699990000", "1699999000", "3h")),
            "max_interval can't be greater than the interval to be deleted (2h30m0s)"
        );
    }

    #[test]
    fn shards_only_with_filters() {
        let r = check(&params("{a=\"b\"} |= \"x\"", "1699990000", "1699999000", "1h"), DAY, NOW).unwrap();
        assert_eq!(r.shards.len(), 3);
        assert_eq!(r.shards[0].0, 1_699_990_000_000);
        assert_eq!(r.shards[2].1, 1_699_999_000_000);
        let r = check(&params("{a=\"b\"}", "1699990000", "1699999000", "1h"), DAY, NOW).unwrap();
        assert_eq!(r.shards, vec![(1_699_990_000_000, 1_699_999_000_000)]);
        // No end: now.
        let r = check(&params("{a=\"b\"}", "1699990000", "", ""), DAY, NOW).unwrap();
        assert_eq!(r.shards[0].1, NOW);
    }

    #[test]
    fn a_request_split_into_too_many_deletions_is_refused() {
        let f = "{a=\"b\"} |= \"x\"";
        let e = check(&params(f, "1000000000", "1699999000", "1s"), DAY, NOW).unwrap_err();
        assert_eq!(
            e,
            "max_interval 1s splits the range into 699999000 deletions, more than 100000: give a larger max_interval or a shorter range"
        );
        // Since 2001 by days (the default max_interval) is allowed.
        let r = check(&params(f, "1000000000", "1699999000", ""), DAY, NOW).unwrap();
        assert_eq!(r.shards.len(), 8102);
        let r = check(&params(f, "1699900000", "1699999000", "1s"), DAY, NOW).unwrap();
        assert_eq!(r.shards.len(), 99000);
    }
}
