//! The `global` section: defaults for e-mail and Slack, and `resolve_timeout`.

use std::time::Duration;

use model::duration::PromDuration;
use model::secret::{Secret, SecretUrl};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Global {
    /// How long an alert without `endsAt` stays firing after it was last received.
    pub resolve_timeout: PromDuration,
    /// Default SMTP server, `host:port`.
    pub smtp_smarthost: Option<String>,
    pub smtp_from: Option<String>,
    pub smtp_hello: Option<String>,
    pub smtp_auth_username: Option<String>,
    pub smtp_auth_password: Option<Secret>,
    pub smtp_require_tls: bool,
    pub slack_api_url: Option<SecretUrl>,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            resolve_timeout: PromDuration(Duration::from_secs(300)),
            smtp_smarthost: None,
            smtp_from: None,
            smtp_hello: None,
            smtp_auth_username: None,
            smtp_auth_password: None,
            smtp_require_tls: true,
            slack_api_url: None,
        }
    }
}
