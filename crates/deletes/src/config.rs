//! Settings of log deletion (Loki's compactor settings of the same meaning).

use std::time::Duration;

use model::duration::PromDuration;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeletesConfig {
    /// Whether the delete API is served. Off: it answers 400 `Retention is not enabled`, as
    /// Loki does without retention.
    pub enabled: bool,
    /// A request can be cancelled for this long after it is created; lines leave the disk only
    /// after it (Loki's `delete_request_cancel_period`). They are hidden from queries at once.
    pub cancel_period: PromDuration,
    /// Requests with line filters are split into shards no longer than this (Loki's
    /// `delete_max_interval`; 0s: never split).
    pub max_interval: PromDuration,
    /// How often due requests are looked for and carried out.
    pub process_interval: PromDuration,
}

impl Default for DeletesConfig {
    fn default() -> Self {
        DeletesConfig {
            enabled: true,
            cancel_period: PromDuration(Duration::from_secs(24 * 3600)),
            max_interval: PromDuration(Duration::from_secs(24 * 3600)),
            process_interval: PromDuration(Duration::from_secs(10)),
        }
    }
}
