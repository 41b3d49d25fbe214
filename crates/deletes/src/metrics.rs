//! Deletion's Prometheus metrics, under Loki's compactor names.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct User {
    pub user: String,
}

#[derive(Default, Clone)]
pub struct Metrics {
    pub received: Family<User, Counter>,
    pub processed: Family<User, Counter>,
    pub cancelled: Family<User, Counter>,
    pub deleted_lines: Family<User, Counter>,
    pub pending: Gauge,
    pub failures: Counter,
}

impl Metrics {
    pub fn new(r: &mut Registry) -> Metrics {
        let m = Metrics::default();
        r.register(
            "loki_compactor_delete_requests_received",
            "Delete requests received, by tenant",
            m.received.clone(),
        );
        r.register(
            "loki_compactor_delete_requests_processed",
            "Delete requests carried out (their lines removed from disk), by tenant",
            m.processed.clone(),
        );
        r.register("bitacora_delete_requests_cancelled", "Delete requests cancelled, by tenant", m.cancelled.clone());
        r.register(
            "loki_compactor_deleted_lines",
            "Lines removed from disk by delete requests, by tenant",
            m.deleted_lines.clone(),
        );
        r.register(
            "loki_compactor_pending_delete_requests_count",
            "Delete requests not yet carried out",
            m.pending.clone(),
        );
        r.register(
            "bitacora_delete_processing_failures",
            "Attempts to carry out delete requests that failed (retried)",
            m.failures.clone(),
        );
        m
    }
}
