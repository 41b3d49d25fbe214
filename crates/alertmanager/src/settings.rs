//! The `alerting` section of Bitácora's configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertingConfig {
    /// Run the built-in notifier (its API answers and in-process alerts are delivered).
    pub enabled: bool,
    /// An Alertmanager-format YAML file (`route`, `receivers`, `inhibit_rules`, `global`).
    /// None: no receivers; alerts are still received, listed and silenced.
    pub alertmanager_config: Option<PathBuf>,
    /// This server's public URL, for links in notifications (`externalURL`).
    pub external_url: String,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig { enabled: true, alertmanager_config: None, external_url: String::new() }
    }
}
