//! What the store says about each app: lines and error lines per minute over the last hour,
//! the newest error line, the last deploy. Read through [`Querier`], which the binary
//! implements with its store and LogQL engine.
//!
//! Cost: two range queries that only count entries (answered from the entries' metadata, no
//! line is decompressed), one log query of at most one line over one minute per app with
//! errors, and one log query of the event streams for deploys.

use std::collections::BTreeMap;
use std::time::Instant;

use model::Labels;

use crate::model::{Deploy, Kind, LastError, rfc3339_ns};

const MINUTE_NS: i64 = 60_000_000_000;

/// The number of per-minute buckets.
pub const MINUTES: usize = 60;

/// How far back the last deploy is looked for.
pub const DEPLOY_LOOKBACK_NS: i64 = 7 * 24 * 3600 * 1_000_000_000;

/// At most this many deploy lines are read (the newest).
const DEPLOY_LINES: u32 = 2000;

/// At most this many apps get their last error line looked up.
const LAST_ERROR_LOOKUPS: usize = 100;

/// The level values that count as errors.
pub const ERROR_LEVELS: &str = "error|critical|fatal";

/// Series of a range query: labels and (ts ns, value) points.
pub type Matrix = Vec<(Labels, Vec<(i64, f64)>)>;

/// Entries of a log query: stream labels, ts ns, line.
pub type Lines = Vec<(Labels, i64, String)>;

/// LogQL evaluation for tenants: blocking; called on the blocking pool.
pub trait Querier: Send + Sync {
    /// A metric range query evaluated at `start`, `start + step`, ... `end` (ns): each series'
    /// labels and its (ts ns, value) points.
    fn range(
        &self,
        tenant: &str,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
        deadline: Instant,
    ) -> Result<Matrix, String>;

    /// A log query over [start, end) (ns), newest first, at most `limit` entries: each
    /// entry's stream labels, timestamp and line.
    fn logs(
        &self,
        tenant: &str,
        query: &str,
        start: i64,
        end: i64,
        limit: u32,
        deadline: Instant,
    ) -> Result<Lines, String>;
}

/// Who a line or an event belongs to: a Dokku app, or a container outside Dokku.
pub type Key = (Kind, String);

/// The key of a stream: its `app`, else its `container_name`.
pub fn key_of(labels: &Labels) -> Option<Key> {
    match (labels.get("app"), labels.get("container_name")) {
        (Some(a), _) if !a.is_empty() => Some((Kind::App, a.to_string())),
        (_, Some(c)) if !c.is_empty() => Some((Kind::Container, c.to_string())),
        _ => None,
    }
}

/// The matchers (inside braces) of a key's own lines, without its event stream.
pub fn line_matchers(key: &Key) -> String {
    let sel = match key.0 {
        Kind::App => crate::model::selector("app", &key.1),
        Kind::Container => crate::model::selector("container_name", &key.1),
    };
    let others = if key.0 == Kind::Container { ", app=\"\"" } else { "" };
    format!("{}{others}, source!=\"docker\"}}", &sel[..sel.len() - 1])
}

/// One app's lines over the last hour.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub lines: Vec<f64>,
    pub errors: Vec<f64>,
    pub last_error: Option<LastError>,
    /// Process types of its lines (apps whose containers are gone still show them).
    pub process_types: std::collections::BTreeSet<String>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            lines: vec![0.0; MINUTES],
            errors: vec![0.0; MINUTES],
            last_error: None,
            process_types: Default::default(),
        }
    }
}

/// The minute buckets: `minutes_start` (unix seconds) is the start of the minute 59 minutes
/// before the current one.
pub fn minutes_start(now_ns: i64) -> i64 {
    let minute = now_ns.div_euclid(MINUTE_NS) * 60;
    minute - (MINUTES as i64 - 1) * 60
}

/// Lines and errors per minute of every app and container with lines in the last hour, and
/// the newest error line of those with errors.
pub fn activity(
    q: &dyn Querier,
    tenant: &str,
    minutes_start: i64,
    now_ns: i64,
    deadline: Instant,
) -> Result<BTreeMap<Key, Activity>, String> {
    // Bucket i holds [start + i min, start + (i+1) min): a count over (t - 1m, t] at
    // t = the bucket's end - 1 ns.
    let first = minutes_start * 1_000_000_000 + MINUTE_NS - 1;
    let last = first + (MINUTES as i64 - 1) * MINUTE_NS;
    let mut out: BTreeMap<Key, Activity> = BTreeMap::new();
    let queries = [
        r#"sum by (app, process_type, detected_level) (count_over_time({app=~".+", source!="docker"}[1m]))"#,
        r#"sum by (container_name, detected_level) (count_over_time({container_name=~".+", app="", source!="docker"}[1m]))"#,
    ];
    for query in queries {
        for (labels, points) in q.range(tenant, query, first, last, MINUTE_NS, deadline)? {
            let Some(key) = key_of(&labels) else { continue };
            let error = labels.get("detected_level").is_some_and(|l| ERROR_LEVELS.split('|').any(|e| e == l));
            let a = out.entry(key).or_default();
            if let Some(pt) = labels.get("process_type").filter(|p| !p.is_empty())
                && points.iter().any(|(_, v)| *v > 0.0)
            {
                a.process_types.insert(pt.to_string());
            }
            for (t, v) in points {
                let i = (t - first).div_euclid(MINUTE_NS);
                if (0..MINUTES as i64).contains(&i) {
                    a.lines[i as usize] += v;
                    if error {
                        a.errors[i as usize] += v;
                    }
                }
            }
        }
    }
    // The newest error line: looked for in the newest minute with errors only.
    let mut with_errors: Vec<(usize, &Key)> =
        out.iter().filter_map(|(k, a)| a.errors.iter().rposition(|v| *v > 0.0).map(|i| (i, k))).collect();
    with_errors.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
    with_errors.truncate(LAST_ERROR_LOOKUPS);
    let mut found: Vec<(Key, LastError)> = Vec::new();
    for (i, key) in with_errors {
        let start = minutes_start * 1_000_000_000 + i as i64 * MINUTE_NS;
        let end = (start + MINUTE_NS).min(now_ns + 1).max(start + 1);
        let query = format!("{} | detected_level=~\"{ERROR_LEVELS}\"", line_matchers(key));
        if let Some((_, ts, line)) = q.logs(tenant, &query, start, end, 1, deadline)?.into_iter().next() {
            found.push((key.clone(), LastError { ts: ts.to_string(), line }));
        }
    }
    for (k, e) in found {
        if let Some(a) = out.get_mut(&k) {
            a.last_error = Some(e);
        }
    }
    Ok(out)
}

/// The newest `event=deploy` of every app (and container) within [`DEPLOY_LOOKBACK_NS`].
pub fn last_deploys(
    q: &dyn Querier,
    tenant: &str,
    now_ns: i64,
    deadline: Instant,
) -> Result<BTreeMap<Key, Deploy>, String> {
    let lines = q.logs(
        tenant,
        r#"{source="docker"} |= "event=deploy""#,
        now_ns - DEPLOY_LOOKBACK_NS,
        now_ns + 1,
        DEPLOY_LINES,
        deadline,
    )?;
    let mut out = BTreeMap::new();
    for (labels, ts, line) in lines {
        let Some(key) = key_of(&labels) else { continue };
        if out.contains_key(&key) {
            continue;
        }
        if let Some(d) = deploy(ts, &line) {
            out.insert(key, d);
        }
    }
    Ok(out)
}

/// A deploy from its event line; `None` for any other line.
pub fn deploy(ts: i64, line: &str) -> Option<Deploy> {
    let p = crate::logfmt::pairs(line);
    if p.get("event").map(String::as_str) != Some("deploy") {
        return None;
    }
    let get = |k: &str| p.get(k).filter(|v| !v.is_empty()).cloned();
    Some(Deploy {
        at: rfc3339_ns(ts),
        image: get("image").unwrap_or_default(),
        image_id: get("image_id"),
        old_image: get("old_image"),
        old_image_id: get("old_image_id"),
        took_seconds: get("took").and_then(|t| go_duration_seconds(&t)),
        container: get("container").unwrap_or_default(),
    })
}

/// Seconds of a Go duration (`8.2s`, `1m30s`, `850ms`).
pub fn go_duration_seconds(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if rest == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|n| *n > 0)?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * unit;
        rest = &rest[u..];
    }
    Some(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_and_durations() {
        let now = 1_764_658_800_000_000_000 + 59 * MINUTE_NS + 30_000_000_000;
        assert_eq!(minutes_start(now), 1_764_658_800);
        assert_eq!(go_duration_seconds("8.2s"), Some(8.2));
        assert_eq!(go_duration_seconds("1m30.5s"), Some(90.5));
        assert_eq!(go_duration_seconds("850ms"), Some(0.85));
        assert_eq!(go_duration_seconds("8.2"), None);
        assert_eq!(go_duration_seconds("x"), None);
        assert_eq!(line_matchers(&(Kind::App, "shop".into())), r#"{app="shop", source!="docker"}"#);
        assert_eq!(
            line_matchers(&(Kind::Container, "db".into())),
            r#"{container_name="db", app="", source!="docker"}"#
        );
        let d = deploy(
            1_764_658_800_000_000_000,
            "event=deploy container=shop.web.1 id=bbbbbbbbbbbb old_id=aaaaaaaaaaaa image=dokku/shop:latest image_id=abc123def456 old_image=dokku/shop:latest old_image_id=0123456789ab took=8.2s",
        )
        .unwrap();
        assert_eq!(d.at, "2025-12-02T07:00:00Z");
        assert_eq!((d.image_id.as_deref(), d.old_image_id.as_deref()), (Some("abc123def456"), Some("0123456789ab")));
        assert_eq!((d.took_seconds, d.container.as_str()), (Some(8.2), "shop.web.1"));
        assert!(deploy(1, "event=deployed container=x").is_none());
    }
}
