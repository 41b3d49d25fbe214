//! The room's Prometheus metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    pub kind: String,
}

/// Counters and timings of detected fields and patterns.
#[derive(Clone)]
pub struct Metrics {
    /// Lines read for patterns.
    pub pattern_lines: Counter,
    /// Lines given no pattern, by reason (too few or many tokens, too long, clusters full).
    pub pattern_lines_skipped: Family<Reason, Counter>,
    /// Clusters (patterns) opened.
    pub pattern_clusters: Counter,
    /// Lines read for detected fields.
    pub field_lines: Counter,
    /// Seconds per answer, by kind (`fields`, `values`, `patterns`).
    pub duration: Family<Kind, Histogram>,
}

impl Metrics {
    pub fn new(r: &mut Registry) -> Metrics {
        let m = Metrics::unregistered();
        let r = r.sub_registry_with_prefix("bitacora_drilldown");
        r.register("pattern_lines", "Lines read to find log patterns", m.pattern_lines.clone());
        r.register(
            "pattern_lines_skipped",
            "Lines given no pattern: too_few_tokens, too_many_tokens, line_too_long, clusters_full",
            m.pattern_lines_skipped.clone(),
        );
        r.register("pattern_clusters", "Log patterns (Drain clusters) opened", m.pattern_clusters.clone());
        r.register("field_lines", "Lines sampled to detect fields", m.field_lines.clone());
        r.register("answer_seconds", "Time to answer, by kind (fields, values, patterns)", m.duration.clone());
        m
    }

    /// Metrics not exported anywhere (tests, tools).
    pub fn unregistered() -> Metrics {
        Metrics {
            pattern_lines: Counter::default(),
            pattern_lines_skipped: Family::default(),
            pattern_clusters: Counter::default(),
            field_lines: Counter::default(),
            duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 4.0, 10))),
        }
    }

    pub(crate) fn skipped(&self, reason: &str, n: u64) {
        if n > 0 {
            self.pattern_lines_skipped.get_or_create(&Reason { reason: reason.to_string() }).inc_by(n);
        }
    }

    pub(crate) fn observe(&self, kind: &str, secs: f64) {
        self.duration.get_or_create(&Kind { kind: kind.to_string() }).observe(secs);
    }
}
