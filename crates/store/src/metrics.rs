//! The store's Prometheus metrics, under Loki's names where dashboards expect them.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabel {
    pub tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Discard {
    pub reason: String,
    pub tenant: String,
}

/// A part of the segment files: `blocks` (compressed lines and columns), `token_filters`,
/// `gram_filters`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Part {
    pub part: String,
}

/// The zstd level a segment's blocks were written at (`unknown` for earlier releases').
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Level {
    pub level: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: String,
}

impl Reason {
    pub fn new(r: &str) -> Self {
        Reason { reason: r.to_string() }
    }
}

pub struct Metrics {
    pub lines_received: Family<TenantLabel, Counter>,
    pub bytes_received: Family<TenantLabel, Counter>,
    pub discarded_samples: Family<Discard, Counter>,
    pub discarded_bytes: Family<Discard, Counter>,
    pub streams_created: Counter,
    pub wal_bytes: Counter,
    pub wal_records: Counter,
    pub flushes: Counter,
    pub flush_failures: Counter,
    pub flushed_bytes: Counter,
    pub flush_seconds: Histogram,
    pub retention_segments: Family<Reason, Counter>,
    pub retention_bytes: Counter,
    pub retention_entries: Counter,
    pub corrupt_segments: Counter,
    pub segments: Gauge,
    pub segment_bytes: Gauge,
    pub segment_parts: Family<Part, Gauge>,
    pub segment_level_bytes: Family<Level, Gauge>,
    pub segment_raw_bytes: Gauge,
    pub head_bytes: Gauge,
    pub streams: Gauge,
    pub active_streams: Gauge,
    pub disk_full: Gauge,
    pub open_segment_files: Gauge,
    pub compactions: Counter,
    pub compaction_failures: Counter,
    pub compacted_bytes_in: Counter,
    pub compacted_bytes_out: Counter,
    pub compaction_seconds: Histogram,
    pub wal_write_failures: Counter,
}

impl Metrics {
    pub fn new(r: &mut Registry) -> Self {
        let m = Metrics {
            lines_received: Default::default(),
            bytes_received: Default::default(),
            discarded_samples: Default::default(),
            discarded_bytes: Default::default(),
            streams_created: Default::default(),
            wal_bytes: Default::default(),
            wal_records: Default::default(),
            flushes: Default::default(),
            flush_failures: Default::default(),
            flushed_bytes: Default::default(),
            flush_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 12)),
            retention_segments: Default::default(),
            retention_bytes: Default::default(),
            retention_entries: Default::default(),
            corrupt_segments: Default::default(),
            segments: Default::default(),
            segment_bytes: Default::default(),
            segment_parts: Default::default(),
            segment_level_bytes: Default::default(),
            segment_raw_bytes: Default::default(),
            head_bytes: Default::default(),
            streams: Default::default(),
            active_streams: Default::default(),
            disk_full: Default::default(),
            open_segment_files: Default::default(),
            compactions: Default::default(),
            compaction_failures: Default::default(),
            compacted_bytes_in: Default::default(),
            compacted_bytes_out: Default::default(),
            compaction_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            wal_write_failures: Default::default(),
        };
        r.register("loki_distributor_lines_received", "Lines accepted, by tenant", m.lines_received.clone());
        r.register("loki_distributor_bytes_received", "Line bytes accepted, by tenant", m.bytes_received.clone());
        r.register("loki_discarded_samples", "Entries refused, by reason and tenant", m.discarded_samples.clone());
        r.register("loki_discarded_bytes", "Line bytes refused, by reason and tenant", m.discarded_bytes.clone());
        r.register("loki_ingester_streams_created", "Streams created", m.streams_created.clone());
        r.register("bitacora_wal_bytes", "Bytes appended to the write-ahead log", m.wal_bytes.clone());
        r.register("bitacora_wal_records", "Records appended to the write-ahead log", m.wal_records.clone());
        r.register("bitacora_flushes", "Heads cut to segment files", m.flushes.clone());
        r.register("bitacora_flush_failures", "Flushes that failed (data stays in the WAL)", m.flush_failures.clone());
        r.register("bitacora_flushed_bytes", "Segment bytes written", m.flushed_bytes.clone());
        r.register("bitacora_flush_duration_seconds", "Time to write one segment", m.flush_seconds.clone());
        r.register(
            "bitacora_retention_segments",
            "Segments removed by retention, by reason",
            m.retention_segments.clone(),
        );
        r.register("bitacora_retention_bytes", "Segment bytes removed by retention", m.retention_bytes.clone());
        r.register("bitacora_retention_entries", "Entries removed by retention", m.retention_entries.clone());
        r.register(
            "bitacora_corrupt_segments",
            "Segment files skipped as damaged at start",
            m.corrupt_segments.clone(),
        );
        r.register("bitacora_segments", "Segment files served", m.segments.clone());
        r.register("bitacora_segment_disk_bytes", "Bytes of segment files on disk", m.segment_bytes.clone());
        r.register(
            "bitacora_segment_part_bytes",
            "Bytes of the segment files by part: blocks, token_filters, gram_filters",
            m.segment_parts.clone(),
        );
        r.register(
            "bitacora_segment_level_bytes",
            "Bytes of segment files by the zstd level of their blocks (the cold tier's is the strongest)",
            m.segment_level_bytes.clone(),
        );
        r.register(
            "bitacora_segment_raw_bytes",
            "Line bytes held in segment files, before compression",
            m.segment_raw_bytes.clone(),
        );
        r.register("bitacora_head_bytes", "Line bytes in memory, not yet in a segment", m.head_bytes.clone());
        r.register("bitacora_streams", "Streams known, all tenants", m.streams.clone());
        r.register(
            "loki_ingester_memory_streams",
            "Active streams (received entries within stream_idle_period), all tenants",
            m.active_streams.clone(),
        );
        r.register("bitacora_disk_full", "1 while writes are refused for lack of disk space", m.disk_full.clone());
        r.register("bitacora_open_segment_files", "Segment files open now", m.open_segment_files.clone());
        r.register("bitacora_compactions", "Compactions done", m.compactions.clone());
        r.register("bitacora_compaction_failures", "Compactions that failed", m.compaction_failures.clone());
        r.register(
            "bitacora_compaction_input_bytes",
            "Segment bytes merged by compaction",
            m.compacted_bytes_in.clone(),
        );
        r.register(
            "bitacora_compaction_output_bytes",
            "Segment bytes written by compaction",
            m.compacted_bytes_out.clone(),
        );
        r.register("bitacora_compaction_duration_seconds", "Time of one compaction", m.compaction_seconds.clone());
        r.register(
            "bitacora_wal_write_failures",
            "WAL appends that failed (the push was refused, nothing kept)",
            m.wal_write_failures.clone(),
        );
        m
    }

    pub fn discard(&self, reason: &str, tenant: &str, lines: u64, bytes: u64) {
        let k = Discard { reason: reason.to_string(), tenant: tenant.to_string() };
        self.discarded_samples.get_or_create(&k).inc_by(lines);
        self.discarded_bytes.get_or_create(&k).inc_by(bytes);
    }
}
