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
use crate::meta::{labels_json, seconds_json};
use crate::params::{Params, parse_time, step_param};
use crate::source::StoreSource;
use crate::{AppState, json};

/// Loki's default step: (end − start) / 250, at least one second, in whole seconds.
pub fn default_step(start: i64, end: i64) -> i64 {
    ((end.saturating_sub(start) / 250) / 1_000_000_000).max(1) * 1_000_000_000
}

pub fn empty_stats() -> Value {
    stats_json(&Summary::default())
}

#[derive(Default)]
pub struct Summary {
    pub bytes: u64,
    pub lines: u64,
    pub entries_returned: u64,
    pub exec_seconds: f64,
    pub decompressed_bytes: u64,
    pub decompressed_lines: u64,
    pub compressed_bytes: u64,
    pub head_bytes: u64,
    pub head_lines: u64,
    pub chunks: u64,
    pub post_filter_lines: u64,
}

/// The `stats` object, with Loki's whole structure.
pub fn stats_json(s: &Summary) -> Value {
    let per_sec = |n: u64| if s.exec_seconds > 0.0 { (n as f64 / s.exec_seconds) as u64 } else { 0 };
    let store = json!({
        "totalChunksRef": s.chunks, "totalChunksDownloaded": s.chunks, "chunksDownloadTime": 0,
        "chunkRefsFetchTime": 0, "congestionControlLatency": 0, "pipelineWrapperFilteredLines": 0,
        "queryReferencedStructuredMetadata": false, "queryUsedV2Engine": false,
        "chunk": {
            "headChunkBytes": s.head_bytes, "headChunkLines": s.head_lines,
            "decompressedBytes": s.decompressed_bytes, "decompressedLines": s.decompressed_lines,
            "compressedBytes": s.compressed_bytes, "totalDuplicates": 0, "postFilterLines": s.post_filter_lines,
            "headChunkStructuredMetadataBytes": 0, "decompressedStructuredMetadataBytes": 0
        }
    });
    let cache = json!({"entriesFound": 0, "entriesRequested": 0, "entriesStored": 0, "bytesReceived": 0,
        "bytesSent": 0, "requests": 0, "downloadTime": 0, "queryLengthServed": 0});
    json!({
        "summary": {
            "bytesProcessedPerSecond": per_sec(s.bytes), "linesProcessedPerSecond": per_sec(s.lines),
            "totalBytesProcessed": s.bytes, "totalLinesProcessed": s.lines, "execTime": s.exec_seconds,
            "queueTime": 0, "subqueries": 0, "totalEntriesReturned": s.entries_returned, "splits": 0,
            "shards": 0, "totalPostFilterLines": s.post_filter_lines, "totalStructuredMetadataBytesProcessed": 0
        },
        "querier": {"store": store, "querierExecTime": 0},
        "ingester": {"totalReached": 0, "totalChunksMatched": 0, "totalBatches": 0, "totalLinesSent": 0, "store": store},
        "cache": {"chunk": cache, "index": cache, "result": cache, "statsResult": cache, "volumeResult": cache,
            "seriesResult": cache, "labelResult": cache, "instantMetricResult": cache, "logResult": cache, "taskResult": cache},
        "index": {"totalChunks": 0, "postFilterChunks": 0, "shardsDuration": 0, "usedBloomFilters": false,
            "totalStreams": 0, "chunkRefsLookupTime": 0, "bloomFilterTime": 0}
    })
}

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
    let source = StoreSource { store: app.store.clone(), tenant, stats: stats.clone() };
    let engine = engine(app);
    let out = tokio::task::spawn_blocking(move || engine.query(&source, &q))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
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

pub fn engine_error(e: logql::EngineError) -> ApiError {
    let msg = match &e {
        logql::EngineError::Cancelled => "the request was cancelled by the client".to_string(),
        logql::EngineError::Timeout => "request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed".to_string(),
        other => other.to_string(),
    };
    ApiError::new(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), msg)
}

fn summary(o: &logql::QueryOutput, r: &store::ReadStats) -> Summary {
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

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`, with Prometheus' spelling of infinities.
pub fn format_value(v: f64) -> String {
    logql::units::format_float(v)
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
        logql::QueryResult::Matrix(series) => {
            let result: Vec<Value> = series
                .iter()
                .map(|s| {
                    let values: Vec<Value> =
                        s.points.iter().map(|(t, v)| json!([seconds_json(*t), format_value(*v)])).collect();
                    json!({"metric": labels_json(&s.labels), "values": values})
                })
                .collect();
            json!({"resultType": "matrix", "result": result, "stats": stats})
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
        Ok::<_, ApiError>(json::response(
            &json!({"status": "success", "data": encode_result(&out.result, &[], direction, stats)}),
        ))
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
        Ok::<_, ApiError>(json::response(
            &json!({"status": "success", "data": encode_result(&out.result, &flags, direction, stats)}),
        ))
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
