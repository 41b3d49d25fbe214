//! The store's settings and the ingestion limits it enforces (Loki's defaults).

use std::time::Duration;

use model::duration::PromDuration;
use serde::{Deserialize, Serialize};

/// How the store writes, cuts and keeps data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// fsync the write-ahead log before a push is acknowledged (group commit).
    pub wal_fsync: bool,
    /// Cut every in-memory head to a segment when they hold this many line bytes.
    pub flush_bytes: u64,
    /// ... or when the oldest unflushed entry arrived this long ago.
    pub flush_interval: PromDuration,
    /// Raw line bytes per compressed block.
    pub block_bytes: usize,
    /// zstd level for blocks cut from the heads (compaction recompresses at its own level).
    pub zstd_level: i32,
    /// Drop data older than this (0s keeps it forever).
    pub retention_period: PromDuration,
    /// Drop the oldest segments while the segments take more than this many bytes (0: no limit).
    pub retention_max_bytes: u64,
    /// Accept entries up to this far behind the newest entry of their stream.
    pub out_of_order_window: PromDuration,
    /// A stream that received nothing for this long stops counting as active (for
    /// `max_global_streams_per_user`), as Loki's ingesters drop idle streams.
    pub stream_idle_period: PromDuration,
    /// How often small segments are merged (0s: never).
    pub compaction_interval: PromDuration,
    /// The largest segment a compaction writes.
    pub compaction_segment_bytes: u64,
    /// zstd level of compacted segments.
    pub compaction_zstd_level: i32,
    /// Segments whose newest entry is older than this are rewritten once at
    /// `cold_zstd_level` (0s: never): most of what a month of retention keeps is cold, read
    /// rarely, and smaller by about a quarter at level 19.
    pub cold_after: PromDuration,
    /// zstd level of the cold tier (slow to write, as fast to read).
    pub cold_zstd_level: i32,
    /// Raw line bytes per block in the cold tier (larger blocks compress better: 2 MiB took
    /// the search bench's corpus from 11.6 to 10.2 % of raw, but a search that cannot
    /// skip a block decompresses more of it: its rarest needle took 1.6x as long).
    pub cold_block_bytes: usize,
    /// Skip blocks whose filters prove a search cannot match (off only to check answers).
    pub search_pruning: bool,
    /// Segments in an S3-compatible bucket (off while `bucket` is empty).
    pub object_store: ObjectStoreConfig,
}

/// `store.object_store`: where segments are uploaded, and what the local disk keeps of them.
/// The credentials may also come from the usual `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_REGION` and `AWS_ENDPOINT_URL` environment variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectStoreConfig {
    pub bucket: String,
    /// `http(s)://host:port` of an S3-compatible server (empty: AWS S3 itself).
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Objects go under `<prefix>/<cluster.node_id>/<day>/<id>.seg`.
    pub prefix: String,
    /// Uploaded segment files kept on the local disk, newest first (their footers are always
    /// kept); older ones are read from the bucket, block by block.
    pub cache_bytes: u64,
    /// Blocks fetched from the bucket kept in memory.
    pub block_cache_bytes: u64,
    /// How often uploads, deletes and evictions run (a flush or compaction also starts them),
    /// and other writers' segments are listed.
    pub sync_interval: PromDuration,
    /// A retired segment's object (compacted, expired) is deleted this long after, so that
    /// other nodes reading it from a listing a few seconds old still find it.
    pub delete_delay: PromDuration,
}

impl Default for ObjectStoreConfig {
    fn default() -> Self {
        ObjectStoreConfig {
            bucket: String::new(),
            endpoint: String::new(),
            region: String::new(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            prefix: "bitacora".into(),
            cache_bytes: 10 << 30,
            block_cache_bytes: 64 << 20,
            sync_interval: PromDuration(Duration::from_secs(5)),
            delete_delay: PromDuration(Duration::from_secs(60)),
        }
    }
}

impl StoreConfig {
    /// How a flush writes its blocks: without gram filters when compaction runs, since it
    /// rewrites every flushed block (and builds them) within minutes (a day folder's last lone
    /// segment, once the day is over); until then a search reads those few megabytes whole.
    pub fn flush_encoding(&self) -> crate::block::Encoding {
        crate::block::Encoding {
            level: self.zstd_level,
            block_bytes: self.block_bytes,
            grams: self.compaction_interval.0.is_zero(),
        }
    }

    /// How compaction writes its blocks.
    pub fn compaction_encoding(&self) -> crate::block::Encoding {
        crate::block::Encoding { level: self.compaction_zstd_level, block_bytes: self.block_bytes, grams: true }
    }

    /// How the cold tier writes its blocks: its level (never weaker than compaction's) and its
    /// larger blocks.
    pub fn cold_encoding(&self) -> crate::block::Encoding {
        crate::block::Encoding {
            level: self.cold_zstd_level.max(self.compaction_zstd_level),
            block_bytes: self.cold_block_bytes.max(self.block_bytes),
            grams: true,
        }
    }
}

impl ObjectStoreConfig {
    pub fn enabled(&self) -> bool {
        !self.bucket.is_empty()
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            wal_fsync: true,
            flush_bytes: 4 << 20,
            flush_interval: PromDuration(Duration::from_secs(300)),
            block_bytes: 1 << 20,
            zstd_level: 1,
            retention_period: PromDuration(Duration::from_secs(30 * 86400)),
            retention_max_bytes: 0,
            out_of_order_window: PromDuration(Duration::from_secs(3600)),
            stream_idle_period: PromDuration(Duration::from_secs(1800)),
            compaction_interval: PromDuration(Duration::from_secs(60)),
            compaction_segment_bytes: 128 << 20,
            compaction_zstd_level: 7,
            cold_after: PromDuration(Duration::from_secs(86400)),
            cold_zstd_level: 19,
            cold_block_bytes: 1 << 20,
            search_pruning: true,
            object_store: ObjectStoreConfig::default(),
        }
    }
}

/// Per-tenant ingestion limits, with Loki's default values and names.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_line_size: usize,
    pub max_line_size_truncate: bool,
    pub max_label_names_per_series: usize,
    pub max_label_name_length: usize,
    pub max_label_value_length: usize,
    pub reject_old_samples: bool,
    pub reject_old_samples_max_age: PromDuration,
    pub creation_grace_period: PromDuration,
    pub allow_structured_metadata: bool,
    pub max_structured_metadata_size: usize,
    pub max_structured_metadata_entries_count: usize,
    /// Tenant ingestion rate in MiB/s (0: unlimited).
    pub ingestion_rate_mb: f64,
    pub ingestion_burst_size_mb: f64,
    pub max_global_streams_per_user: usize,
    /// Labels whose value is copied into `service_name` when a stream has none (empty: off).
    pub discover_service_name: Vec<String>,
    /// Add `detected_level` structured metadata to every entry, as Loki does.
    pub discover_log_levels: bool,
    /// How `/otlp/v1/logs` maps resource, scope and log attributes (Loki's `otlp_config`).
    pub otlp_config: otlp::OtlpConfig,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_size: 256 * 1024,
            max_line_size_truncate: false,
            max_label_names_per_series: 15,
            max_label_name_length: 1024,
            max_label_value_length: 2048,
            reject_old_samples: true,
            reject_old_samples_max_age: PromDuration(Duration::from_secs(7 * 86400)),
            creation_grace_period: PromDuration(Duration::from_secs(600)),
            allow_structured_metadata: true,
            max_structured_metadata_size: 64 * 1024,
            max_structured_metadata_entries_count: 128,
            ingestion_rate_mb: 4.0,
            ingestion_burst_size_mb: 6.0,
            max_global_streams_per_user: 5000,
            discover_service_name: [
                "service",
                "app",
                "application",
                "app_name",
                "name",
                "app_kubernetes_io_name",
                "container",
                "container_name",
                "k8s_container_name",
                "component",
                "workload",
                "job",
                "k8s_job_name",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            discover_log_levels: true,
            otlp_config: otlp::OtlpConfig::default(),
        }
    }
}
