//! The agent's settings (the `agent:` section of the configuration file).

use std::path::PathBuf;
use std::time::Duration;

use model::duration::PromDuration;
use serde::{Deserialize, Serialize};

use crate::relabel::RelabelConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// Loki push endpoint (Bitácora or Loki): `http://host:3100/loki/api/v1/push`. In `bitacora
    /// run` the agent writes into the local store instead.
    /// Credentials in it (`user:password@`) are masked in `/config`.
    pub push_url: Option<model::secret::SecretUrl>,
    /// Several writers to push every batch to (with `push_url`, if set, as one of them): a
    /// batch is acknowledged once `push_quorum` of them accepted it.
    pub push_urls: Vec<model::secret::SecretUrl>,
    /// How many of the push URLs must accept a batch (0: all of them).
    pub push_quorum: usize,
    /// Docker API socket.
    pub docker_host: String,
    /// Where read positions are kept (default: `<data_dir>/agent-positions.json`).
    pub positions_file: Option<PathBuf>,
    /// Tenant sent as `X-Scope-OrgID`.
    pub tenant: Option<String>,
    pub basic_auth: Option<BasicAuth>,
    pub bearer_token: Option<model::secret::Secret>,
    /// The `host` label (default: the Docker engine's name, as `docker info` shows it; the
    /// hostname if the engine does not answer).
    pub host: Option<String>,
    /// Send a batch when it holds this many line bytes...
    pub batch_bytes: usize,
    /// ...or when its first entry waited this long.
    pub batch_wait: PromDuration,
    pub min_backoff: PromDuration,
    pub max_backoff: PromDuration,
    /// Full re-list of containers, besides the event stream.
    pub resync_interval: PromDuration,
    /// How often files are checked for new bytes and rotation.
    pub poll_interval: PromDuration,
    /// Only containers whose name matches one of these regexes (empty: all).
    pub include_containers: Vec<String>,
    /// Never containers whose name matches one of these regexes.
    pub exclude_containers: Vec<String>,
    /// Promtail-style relabeling over `__meta_docker_*` labels.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Optional processing of each entry: json/logfmt/regex extraction, timestamp, drop.
    pub pipeline_stages: Vec<crate::stages::StageConfig>,
    pub multiline: MultilineConfig,
    /// Docker's split lines are joined up to this many bytes.
    pub max_line_bytes: usize,
    /// Entries buffered between the readers and the shipper (backpressure beyond).
    pub buffer_entries: usize,
    /// Each container line carries the container's short id as structured metadata
    /// `container_id`, so old and new containers of one name can be told apart. Turn off to
    /// push to a Loki before 3.0 or one with structured metadata disabled.
    pub container_id_metadata: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BasicAuth {
    pub username: String,
    pub password: model::secret::Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultilineConfig {
    pub enabled: bool,
    /// A regex matching the first line of an entry; other lines are appended to the previous
    /// one. Unset: the traces runtimes print (Go panics, Python tracebacks, Java/Kotlin, Node and
    /// Ruby) are recognised and joined whole (`crate::multiline`), and otherwise lines starting
    /// with white space or `Caused by:` continue an entry.
    pub firstline: Option<String>,
    /// An entry is sent once no continuation arrived for this long (runtimes write a trace in
    /// one burst; a line's latency to the store is about this plus the batch wait).
    pub max_wait: PromDuration,
    pub max_lines: usize,
}

impl Default for MultilineConfig {
    fn default() -> Self {
        MultilineConfig {
            enabled: true,
            firstline: None,
            max_wait: PromDuration(Duration::from_millis(100)),
            max_lines: 500,
        }
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            push_url: None,
            push_urls: Vec::new(),
            push_quorum: 0,
            docker_host: "unix:///var/run/docker.sock".into(),
            positions_file: None,
            tenant: None,
            basic_auth: None,
            bearer_token: None,
            host: None,
            batch_bytes: 1 << 20,
            batch_wait: PromDuration(Duration::from_secs(1)),
            min_backoff: PromDuration(Duration::from_millis(500)),
            max_backoff: PromDuration(Duration::from_secs(30)),
            resync_interval: PromDuration(Duration::from_secs(30)),
            poll_interval: PromDuration(Duration::from_millis(250)),
            include_containers: Vec::new(),
            exclude_containers: Vec::new(),
            relabel_configs: Vec::new(),
            pipeline_stages: Vec::new(),
            multiline: MultilineConfig::default(),
            max_line_bytes: 256 * 1024,
            buffer_entries: 5_000,
            container_id_metadata: true,
        }
    }
}
