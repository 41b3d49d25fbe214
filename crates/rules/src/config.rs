//! The `ruler` section of Bitácora's configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use model::duration::PromDuration;
use serde::{Deserialize, Deserializer, Serialize};

/// How and where rules are loaded, evaluated and their results sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulerConfig {
    /// Directory of rule files, Loki's local layout `<dir>/<tenant>/<namespace>.yaml`. Empty
    /// (the default) means `<data_dir>/rules`; the binary resolves it.
    pub rules_dir: PathBuf,
    /// The evaluation interval of groups that do not set `interval` (default `1m`).
    pub evaluation_interval: PromDuration,
    /// Alertmanager base URLs (`/api/v2/alerts` is appended). A list, or one comma-separated
    /// string. Empty: alerts only go to the in-process sinks.
    #[serde(deserialize_with = "urls")]
    pub alertmanager_url: Vec<String>,
    /// Base URL of this Bitácora for alerts' `generatorURL` (e.g. `http://host:3100`). Empty:
    /// the binary fills in `http://<listen address>`.
    pub external_url: String,
    /// How often a still-firing alert is sent again (default `1m`, as Prometheus).
    pub resend_delay: PromDuration,
    /// After a restart, pending and firing alerts are restored only if Bitácora was down for
    /// less than this (default `1h`); otherwise they start again from inactive.
    pub for_outage_tolerance: PromDuration,
    /// Where recording rules' samples (and `ALERTS` series) go; none: they are only shown.
    pub remote_write: Option<RemoteWriteConfig>,
    /// Whether the ruler runs at all (default true).
    pub enabled: bool,
}

impl Default for RulerConfig {
    fn default() -> Self {
        RulerConfig {
            rules_dir: PathBuf::new(),
            evaluation_interval: PromDuration(Duration::from_secs(60)),
            alertmanager_url: Vec::new(),
            external_url: String::new(),
            resend_delay: PromDuration(Duration::from_secs(60)),
            for_outage_tolerance: PromDuration(Duration::from_secs(3600)),
            remote_write: None,
            enabled: true,
        }
    }
}

/// A Prometheus remote-write (1.0) endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteWriteConfig {
    /// The receiver's URL, e.g. `http://prometheus:9090/api/v1/write`.
    pub url: String,
    /// Extra HTTP headers sent with every request (e.g. `Authorization`, `X-Scope-OrgID`).
    pub headers: BTreeMap<String, String>,
    /// Most samples waiting to be sent (default 10000); when full the oldest are dropped
    /// and counted.
    pub queue_capacity: usize,
    /// Time-out of one request (default `30s`).
    pub timeout: PromDuration,
}

impl Default for RemoteWriteConfig {
    fn default() -> Self {
        RemoteWriteConfig {
            url: String::new(),
            headers: BTreeMap::new(),
            queue_capacity: 10_000,
            timeout: PromDuration(Duration::from_secs(30)),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn urls<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split(',').map(str::to_string).collect(),
        OneOrMany::Many(v) => v,
    };
    Ok(list.into_iter().map(|s| s.trim().trim_end_matches('/').to_string()).filter(|s| !s.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_list_or_comma_string() {
        let c: RulerConfig = serde_saphyr::from_str("alertmanager_url: http://a:9093/, http://b:9093\n").unwrap();
        assert_eq!(c.alertmanager_url, ["http://a:9093", "http://b:9093"]);
        let c: RulerConfig = serde_saphyr::from_str("alertmanager_url: [http://a:9093]\nresend_delay: 2m\n").unwrap();
        assert_eq!(c.alertmanager_url, ["http://a:9093"]);
        assert_eq!(c.resend_delay.0, Duration::from_secs(120));
        assert_eq!(c.evaluation_interval.0, Duration::from_secs(60));
        assert!(serde_saphyr::from_str::<RulerConfig>("bogus: 1\n").is_err());
        let c: RulerConfig = serde_saphyr::from_str("remote_write: {url: http://p/api/v1/write}\n").unwrap();
        assert_eq!(c.remote_write.unwrap().queue_capacity, 10_000);
    }
}
