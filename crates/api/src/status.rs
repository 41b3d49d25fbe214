//! `GET /api/status`: what the status page shows. The store's sizes and limits, the ingest rate
//! (between two calls), the retention horizon they imply, the agent's targets (read from the
//! same metrics `/metrics` serves, so the two never disagree) and Bitácora's last warnings and
//! errors (given by the binary, which owns the log); with a bucket, this node's place among the
//! nodes sharing it (`cluster`: pending uploads, other writers seen, who evaluates the rules).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;

/// Supplies the last warnings and errors (the binary's log).
pub type ProblemsFn = Arc<dyn Fn() -> Vec<Value> + Send + Sync>;

static LAST: Mutex<Option<(Instant, u64, u64)>> = Mutex::new(None);
static PROBLEMS: OnceLock<ProblemsFn> = OnceLock::new();

/// Where the status page reads the last problems from.
pub fn set_problems(f: ProblemsFn) {
    let _ = PROBLEMS.set(f);
}

pub async fn handle(State(app): State<AppState>) -> Response {
    let store = app.store.clone();
    let (st, cluster) =
        tokio::task::spawn_blocking(move || (store.status(), store.cluster_status())).await.unwrap_or_default();
    let now = Instant::now();
    let (lines_ps, bytes_ps) = {
        let mut last = LAST.lock().unwrap();
        let rate = match *last {
            Some((t, l, b)) if now.duration_since(t).as_secs_f64() > 0.5 => {
                let dt = now.duration_since(t).as_secs_f64();
                Some((st.lines_accepted.saturating_sub(l) as f64 / dt, st.bytes_accepted.saturating_sub(b) as f64 / dt))
            }
            _ => None,
        };
        if last.is_none_or(|(t, _, _)| now.duration_since(t).as_secs_f64() > 0.5) {
            *last = Some((now, st.lines_accepted, st.bytes_accepted));
        }
        rate.unwrap_or_else(|| {
            // The first call: the average since start.
            let up = app.started.elapsed().as_secs_f64().max(1.0);
            (st.lines_accepted as f64 / up, st.bytes_accepted as f64 / up)
        })
    };
    // Disk used per raw byte, from what the segments hold.
    let ratio = if st.segment_raw_bytes > 0 { st.segment_bytes as f64 / st.segment_raw_bytes as f64 } else { 0.2 };
    let disk_per_second = bytes_ps * ratio;
    let used = st.segment_bytes + st.wal_bytes;
    let room = if st.retention_max_bytes > 0 { st.retention_max_bytes } else { used + st.fs_free_bytes };
    let by_space = if disk_per_second > 0.0 { Some(room as f64 / disk_per_second) } else { None };
    let period = st.retention_period_seconds as f64;
    let horizon = match (period > 0.0, by_space) {
        (true, Some(s)) => s.min(period),
        (true, None) => period,
        (false, Some(s)) => s,
        (false, None) => f64::INFINITY,
    };
    let limited_by = if by_space.is_some_and(|s| period == 0.0 || s < period) { "disk" } else { "retention_period" };
    let body = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": app.started.elapsed().as_secs(),
        "ingest": {"lines_per_second": lines_ps, "bytes_per_second": bytes_ps,
                   "lines_total": st.lines_accepted, "bytes_total": st.bytes_accepted},
        "disk": {"segments": st.segments, "segment_bytes": st.segment_bytes, "raw_bytes": st.segment_raw_bytes,
                 "wal_files": st.wal_files, "wal_bytes": st.wal_bytes, "head_bytes": st.head_bytes,
                 "open_segment_files": st.open_segment_files, "free_bytes": st.fs_free_bytes,
                 "total_bytes": st.fs_total_bytes, "full": st.disk_full},
        "retention": {"period_seconds": st.retention_period_seconds, "max_bytes": st.retention_max_bytes,
                      "oldest_ts": st.oldest_ts.to_string(), "newest_ts": st.newest_ts.to_string(),
                      "horizon_seconds": if horizon.is_finite() { Value::from(horizon.round() as u64) } else { Value::Null },
                      "limited_by": limited_by},
        "streams": {"total": st.streams, "active": st.active_streams},
        "targets": targets(&app),
        "cluster": cluster,
        "problems": PROBLEMS.get().map(|f| f()).unwrap_or_default(),
    });
    axum::Json(body).into_response()
}

/// Every key of a target, so a counter still at zero (never created in its family) reads 0.
const TARGET_KEYS: [&str; 8] = [
    "lines_read",
    "bytes_read",
    "lines_sent",
    "bytes_sent",
    "lines_dropped",
    "bytes_dropped",
    "lag_bytes",
    "files_lost",
];

/// The agent's containers, from its per-container metrics.
fn targets(app: &AppState) -> Vec<Value> {
    let mut text = String::new();
    let _ = prometheus_client::encoding::text::encode(&mut text, &app.registry);
    let mut rows: std::collections::BTreeMap<String, serde_json::Map<String, Value>> = Default::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("bitacora_agent_") else { continue };
        let Some((name, rest)) = rest.split_once("{container=\"") else { continue };
        let Some((container, rest)) = rest.split_once("\"}") else { continue };
        let Ok(v) = rest.trim().parse::<f64>() else { continue };
        let key = name.trim_end_matches("_total").to_string();
        rows.entry(container.to_string()).or_default().insert(key, Value::from(v as u64));
    }
    rows.into_iter()
        .map(|(c, mut m)| {
            for k in TARGET_KEYS {
                m.entry(k).or_insert(Value::from(0u64));
            }
            m.insert("container".into(), Value::from(c));
            Value::Object(m)
        })
        .collect()
}
