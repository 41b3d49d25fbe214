//! HTTP-level metrics: request durations by route and status, push decode failures.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub route: String,
    pub status_code: String,
}

/// How a query used a block: `read` (decompressed), `columns` (only its timestamps, lengths and
/// metadata, for counting), `summarized` (counted from its metadata alone), `skipped` (its
/// filters prove no line matches).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BlockUse {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: String,
}

pub struct HttpMetrics {
    pub requests: Family<Route, Histogram>,
    pub push_errors: Family<Reason, Counter>,
    /// OTLP log records received (before mapping and limits).
    pub otlp_records: Counter,
    pub tail_clients: prometheus_client::metrics::gauge::Gauge,
    /// Blocks queries met that could not be read (their queries failed rather than answer
    /// partially).
    pub corrupt_blocks_read: Counter,
    /// Blocks queries used, by how.
    pub query_blocks: Family<BlockUse, Counter>,
}

impl HttpMetrics {
    pub fn new(r: &mut Registry) -> Self {
        let m = HttpMetrics {
            requests: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 4.0, 10))),
            push_errors: Default::default(),
            otlp_records: Default::default(),
            tail_clients: Default::default(),
            corrupt_blocks_read: Default::default(),
            query_blocks: Default::default(),
        };
        r.register("loki_request_duration_seconds", "Time to answer HTTP requests", m.requests.clone());
        r.register("bitacora_push_decode_errors", "Push bodies that could not be decoded", m.push_errors.clone());
        r.register("bitacora_otlp_log_records", "OTLP log records received on /otlp/v1/logs", m.otlp_records.clone());
        r.register("bitacora_tail_clients", "Open live-tail connections", m.tail_clients.clone());
        r.register(
            "bitacora_store_corrupt_blocks_read",
            "Damaged blocks met by queries (each such query failed with a data corruption error)",
            m.corrupt_blocks_read.clone(),
        );
        r.register(
            "bitacora_query_blocks",
            "Segment blocks queries used, by outcome (read; columns; summarized from their counts; tallied from their windows; skipped)",
            m.query_blocks.clone(),
        );
        m
    }
}
