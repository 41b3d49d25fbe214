//! The bucket tier's metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// What a request to the bucket was for: `upload`, `fetch` (a block), `footer`, `delete`,
/// `list`, `manifest`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Op {
    pub op: &'static str,
    pub outcome: &'static str,
}

#[derive(Default, Clone)]
pub struct TierMetrics {
    pub requests: Family<Op, Counter>,
    pub uploaded_bytes: Counter,
    pub fetched_bytes: Counter,
    pub block_cache_hits: Counter,
    pub evictions: Counter,
    pub pending_uploads: Gauge,
    pub pending_deletes: Gauge,
    pub local_bytes: Gauge,
    pub block_cache_bytes: Gauge,
}

impl TierMetrics {
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "bitacora_bucket_requests",
            "Requests to the object store, by purpose and outcome",
            self.requests.clone(),
        );
        r.register("bitacora_bucket_uploaded_bytes", "Segment bytes uploaded", self.uploaded_bytes.clone());
        r.register(
            "bitacora_bucket_fetched_bytes",
            "Block bytes fetched from the bucket for queries",
            self.fetched_bytes.clone(),
        );
        r.register(
            "bitacora_bucket_block_cache_hits",
            "Blocks of evicted segments found in the block cache",
            self.block_cache_hits.clone(),
        );
        r.register(
            "bitacora_bucket_evictions",
            "Uploaded segments evicted from the local disk",
            self.evictions.clone(),
        );
        r.register("bitacora_bucket_pending_uploads", "Segments not yet in the bucket", self.pending_uploads.clone());
        r.register(
            "bitacora_bucket_pending_deletes",
            "Objects of retired segments not yet deleted",
            self.pending_deletes.clone(),
        );
        r.register(
            "bitacora_bucket_local_segment_bytes",
            "Bytes of segment files kept on the local disk",
            self.local_bytes.clone(),
        );
        r.register(
            "bitacora_bucket_block_cache_bytes",
            "Bytes of fetched blocks held in memory",
            self.block_cache_bytes.clone(),
        );
    }

    pub fn request(&self, op: &'static str, ok: bool) {
        self.requests.get_or_create(&Op { op, outcome: if ok { "ok" } else { "error" } }).inc();
    }
}
