//! Loki's JSON shapes shared by the query endpoints (`query.rs`) and the metadata endpoints
//! (`meta.rs`): label sets as objects, timestamps in seconds, sample values as strings and the
//! `stats` object.

use model::Labels;
use serde_json::{Value, json};

/// A label set as a JSON object.
pub fn labels_json(l: &Labels) -> Value {
    Value::Object(l.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect())
}

/// A nanosecond timestamp as Loki writes it in samples: seconds, with milliseconds when any.
pub fn seconds_json(ns: i64) -> Value {
    let ms = ns.div_euclid(1_000_000);
    if ms % 1000 == 0 { json!(ms / 1000) } else { json!(ms as f64 / 1000.0) }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`, with Prometheus' spelling of infinities.
pub fn format_value(v: f64) -> String {
    logql::format_float(v)
}

/// The `stats` object of a response that read nothing.
pub fn empty_stats() -> Value {
    stats_json(&Summary::default())
}

/// What a query read, for the `stats` object.
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
