//! `query`, `query_range` and `format_query`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use model::Labels;

use crate::error::ApiError;
use crate::loki_json::{Summary, format_value, labels_json, seconds_json, stats_json};
use crate::matrix_json::{Answer, Data};
use crate::params::{Params, default_step, parse_time, step_param};
use crate::source::StoreSource;
use crate::{AppState, json};

/// Sets the engine's cancel flag when the request goes away (client disconnect or timeout).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub fn engine(app: &AppState) -> logql::Engine {
    logql::Engine::new(logql::Limits {
        max_entries_limit_per_query: app.cfg.max_entries_limit_per_query,
        max_query_series: app.cfg.max_query_series,
        max_query_length: app.cfg.max_query_length.0.as_nanos() as i64,
        threads: app.cfg.query_threads,
        ..Default::default()
    })
}

/// Runs a query on the blocking pool, cancelled if this future is dropped, bounded by the
/// configured time-out.
pub async fn run(
    app: &AppState,
    tenant: String,
    mut q: logql::QueryParams,
) -> Result<(logql::QueryOutput, Arc<store::ReadStats>), ApiError> {
    let cancel = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    q.cancel = Some(cancel);
    let timeout = app.cfg.query_timeout.0;
    q.deadline = Some(Instant::now() + timeout);
    let stats = Arc::new(store::ReadStats::default());
    let source = StoreSource { store: app.store.clone(), tenant, stats: stats.clone(), deletes: app.deletes.clone() };
    let engine = engine(app);
    let out = tokio::task::spawn_blocking(move || engine.query(&source, &q))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    for (outcome, n) in [
        ("read", g(&stats.blocks_read)),
        ("columns", g(&stats.stats_blocks_read)),
        ("summarized", g(&stats.summarized_blocks)),
        ("tallied", g(&stats.tallied_blocks)),
        ("skipped", g(&stats.blocks_skipped)),
    ] {
        app.metrics.query_blocks.get_or_create(&crate::metrics::BlockUse { outcome }).inc_by(n);
    }
    // A damaged block would leave the answer silently incomplete: fail instead, loudly.
    let corrupt = stats.corrupt_blocks.load(Ordering::Relaxed);
    if corrupt > 0 {
        app.metrics.corrupt_blocks_read.inc_by(corrupt);
        let first = stats.first_corrupt.get().map_or("", String::as_str);
        return Err(ApiError::internal(format!(
            "data corruption: {corrupt} block(s) could not be read, so the answer would be incomplete (first: {first})"
        )));
    }
    match out {
        Ok(o) => Ok((o, stats)),
        Err(e) => Err(engine_error(e)),
    }
}

/// What the answer lacks, for a response's `warnings` (as Prometheus and Loki put them):
/// blocks only in the bucket that could not be fetched, and writers that did not answer for
/// their data not yet uploaded.
fn warnings(rs: &store::ReadStats) -> Vec<String> {
    let mut warnings = Vec::new();
    let missing = rs.unavailable_blocks.load(Ordering::Relaxed);
    if missing > 0 {
        let first = rs.first_unavailable.get().map_or("", String::as_str);
        warnings.push(format!(
            "{missing} block(s) in object storage could not be read, so the answer may be incomplete (first: {first})"
        ));
    }
    let writers = rs.unanswered_writers.load(Ordering::Relaxed);
    if writers > 0 {
        let first = rs.first_unanswered.get().map_or("", String::as_str);
        warnings.push(format!(
            "{writers} writer(s) did not answer for their data not yet uploaded, so the answer may be incomplete (first: {first})"
        ));
    }
    warnings
}

/// A query's answer, its matrix written without building a value per point.
fn answer<'a>(
    result: &'a logql::QueryResult,
    flags: &[String],
    direction: model::Direction,
    stats: Value,
    rs: &store::ReadStats,
) -> Answer<'a> {
    let data = match result {
        logql::QueryResult::Matrix(series) => Data::Matrix { series, stats },
        other => Data::Value(encode_result(other, flags, direction, stats)),
    };
    Answer { data, warnings: warnings(rs) }
}

pub fn engine_error(e: logql::EngineError) -> ApiError {
    let msg = match &e {
        logql::EngineError::Cancelled => "the request was cancelled by the client".to_string(),
        logql::EngineError::Timeout => "request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed".to_string(),
        other => other.to_string(),
    };
    ApiError::new(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), msg)
}

pub fn summary(o: &logql::QueryOutput, r: &store::ReadStats) -> Summary {
    let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    Summary {
        bytes: o.stats.total_bytes_processed,
        lines: o.stats.total_lines_processed,
        entries_returned: o.stats.total_entries_returned,
        exec_seconds: o.stats.exec_time_secs,
        decompressed_bytes: g(&r.decompressed_bytes),
        decompressed_lines: g(&r.decompressed_lines),
        compressed_bytes: g(&r.compressed_bytes),
        head_bytes: g(&r.head_bytes),
        head_lines: g(&r.head_lines),
        chunks: g(&r.blocks_read),
        post_filter_lines: o.stats.total_post_filter_lines,
    }
}

fn pairs_json(p: &[(String, String)]) -> Value {
    Value::Object(p.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// The `data` object of a query response.
pub fn encode_result(
    result: &logql::QueryResult,
    flags: &[String],
    direction: model::Direction,
    stats: Value,
) -> Value {
    let categorize = flags.iter().any(|f| f == "categorize-labels");
    match result {
        logql::QueryResult::Streams(streams) => {
            let result: Vec<Value> = if categorize {
                // Group by the labels that are neither metadata nor parsed; every value a 3-tuple.
                let mut entries: Vec<&logql::LogEntryOut> = streams.iter().flat_map(|s| &s.entries).collect();
                match direction {
                    model::Direction::Forward => entries.sort_by_key(|e| e.ts),
                    model::Direction::Backward => entries.sort_by_key(|e| std::cmp::Reverse(e.ts)),
                }
                let mut groups: BTreeMap<String, (Labels, Vec<Value>)> = BTreeMap::new();
                {
                    for e in entries {
                        let mut extra = serde_json::Map::new();
                        if !e.metadata.is_empty() {
                            extra.insert("structuredMetadata".into(), pairs_json(&e.metadata));
                        }
                        if !e.parsed.is_empty() {
                            extra.insert("parsed".into(), pairs_json(&e.parsed));
                        }
                        groups
                            .entry(e.stream.to_string())
                            .or_insert_with(|| (e.stream.clone(), Vec::new()))
                            .1
                            .push(json!([e.ts.to_string(), e.line, Value::Object(extra)]));
                    }
                }
                groups.into_values().map(|(l, values)| json!({"stream": labels_json(&l), "values": values})).collect()
            } else {
                streams
                    .iter()
                    .map(|s| {
                        let values: Vec<Value> = s.entries.iter().map(|e| json!([e.ts.to_string(), e.line])).collect();
                        json!({"stream": labels_json(&s.labels), "values": values})
                    })
                    .collect()
            };
            let mut data = serde_json::Map::new();
            data.insert("resultType".into(), json!("streams"));
            if !flags.is_empty() {
                data.insert("encodingFlags".into(), json!(flags));
            }
            data.insert("result".into(), Value::Array(result));
            data.insert("stats".into(), stats);
            Value::Object(data)
        }
        // The query handlers write a matrix straight to bytes ([`answer`]); the same encoding.
        logql::QueryResult::Matrix(series) => {
            serde_json::to_value(Data::Matrix { series, stats }).expect("a matrix encodes as JSON")
        }
        logql::QueryResult::Vector(samples) => {
            let result: Vec<Value> = samples
                .iter()
                .map(|s| json!({"metric": labels_json(&s.labels), "value": [seconds_json(s.t), format_value(s.v)]}))
                .collect();
            json!({"resultType": "vector", "result": result, "stats": stats})
        }
        logql::QueryResult::Scalar { t, v } => {
            json!({"resultType": "scalar", "result": [seconds_json(*t), format_value(*v)], "stats": stats})
        }
    }
}

fn encoding_flags(headers: &HeaderMap) -> Vec<String> {
    headers
        .get("x-loki-response-encoding-flags")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').filter(|s| !s.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}

fn query_text(p: &Params) -> String {
    p.get("query").unwrap_or("").to_string()
}

pub async fn instant(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let res = async {
        let tenant = app.tenant(&headers)?;
        let time = match p.get("time") {
            Some(t) => {
                parse_time(t).map_err(|e| ApiError::bad_request(format!("could not parse 'time' parameter: {e}")))?
            }
            None => store::now_ns(),
        };
        let limit = p.limit(100)?;
        let direction = p.direction()?;
        let q = logql::QueryParams {
            query: query_text(&p),
            start: time,
            end: time,
            limit,
            direction,
            instant: true,
            ..Default::default()
        };
        let (out, rs) = run(&app, tenant, q).await?;
        let stats = stats_json(&summary(&out, &rs));
        Ok::<_, ApiError>(json::response(&answer(&out.result, &[], direction, stats, &rs)))
    };
    res.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn range(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let res = async {
        let tenant = app.tenant(&headers)?;
        let (start, end) = p.bounds(store::now_ns())?;
        let limit = p.limit(100)?;
        let direction = p.direction()?;
        let step = step_param(&p, "step")?.unwrap_or_else(|| default_step(start, end));
        if step <= 0 {
            return Err(ApiError::bad_request(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        let interval = step_param(&p, "interval")?.unwrap_or(0);
        if interval < 0 {
            return Err(ApiError::bad_request("interval must be >= 0"));
        }
        let q = logql::QueryParams {
            query: query_text(&p),
            start,
            end,
            step,
            interval,
            limit,
            direction,
            ..Default::default()
        };
        let (out, rs) = run(&app, tenant, q).await?;
        let stats = stats_json(&summary(&out, &rs));
        let flags = encoding_flags(&headers);
        Ok::<_, ApiError>(json::response(&answer(&out.result, &flags, direction, stats, &rs)))
    };
    res.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn format_query(p: Params) -> Response {
    match logql::parse(p.get("query").unwrap_or("")) {
        Ok(e) => json::response(&json!({"status": "success", "data": e.to_string()})),
        Err(e) => {
            let mut r = json::response(&json!({"status": "invalid-query", "error": e.to_string()}));
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
    }
}
