//! `receivers`: named lists of integrations (webhook, Slack, e-mail, ntfy, Gotify).

use std::collections::BTreeMap;

use model::secret::{Secret, SecretUrl};
use serde::Deserialize;

use super::Global;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReceiverConfig {
    pub name: String,
    pub webhook_configs: Vec<WebhookConfig>,
    pub slack_configs: Vec<SlackConfig>,
    pub email_configs: Vec<EmailConfig>,
    pub ntfy_configs: Vec<NtfyConfig>,
    pub gotify_configs: Vec<GotifyConfig>,
}

impl ReceiverConfig {
    pub(super) fn validate(&self, g: &Global) -> Result<(), String> {
        for (i, w) in self.webhook_configs.iter().enumerate() {
            check_url(w.url.expose()).map_err(|e| format!("webhook_configs[{i}].url: {e}"))?;
        }
        for (i, s) in self.slack_configs.iter().enumerate() {
            match s.api_url.as_ref().or(g.slack_api_url.as_ref()) {
                None => return Err(format!("slack_configs[{i}].api_url: missing (and no global slack_api_url)")),
                Some(u) => check_url(u.expose()).map_err(|e| format!("slack_configs[{i}].api_url: {e}"))?,
            }
            for (f, t) in [("title", &s.title), ("text", &s.text)] {
                if let Some(t) = t {
                    crate::template::check(t).map_err(|e| format!("slack_configs[{i}].{f}: {e}"))?;
                }
            }
        }
        for (i, e) in self.email_configs.iter().enumerate() {
            if e.to.trim().is_empty() {
                return Err(format!("email_configs[{i}].to: missing"));
            }
            if e.smarthost.as_ref().or(g.smtp_smarthost.as_ref()).is_none() {
                return Err(format!("email_configs[{i}].smarthost: missing (and no global smtp_smarthost)"));
            }
            if e.from.as_ref().or(g.smtp_from.as_ref()).is_none() {
                return Err(format!("email_configs[{i}].from: missing (and no global smtp_from)"));
            }
        }
        for (i, n) in self.ntfy_configs.iter().enumerate() {
            check_url(n.url.expose()).map_err(|e| format!("ntfy_configs[{i}].url: {e}"))?;
            if let Some(p) = &n.priority
                && !["1", "2", "3", "4", "5", "min", "low", "default", "high", "max", "urgent"].contains(&p.as_str())
            {
                return Err(format!("ntfy_configs[{i}].priority: {p:?} is not 1-5 or min/low/default/high/max"));
            }
        }
        for (i, n) in self.gotify_configs.iter().enumerate() {
            check_url(&n.url).map_err(|e| format!("gotify_configs[{i}].url: {e}"))?;
            if n.token.expose().is_empty() {
                return Err(format!("gotify_configs[{i}].token: missing (an application token)"));
            }
        }
        Ok(())
    }
}

fn check_url(u: &str) -> Result<(), String> {
    if u.is_empty() {
        return Err("missing".into());
    }
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        return Err(format!("{:?} is not an http(s) URL", SecretUrl::new(u).masked()));
    }
    Ok(())
}

fn yes() -> bool {
    true
}

/// Alertmanager's webhook: its JSON (version 4) POSTed to `url`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: SecretUrl,
    #[serde(default = "yes")]
    pub send_resolved: bool,
    /// At most this many alerts per message (0: all); the rest are counted in `truncatedAlerts`.
    #[serde(default)]
    pub max_alerts: usize,
}

/// A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's `/slack`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfig {
    pub api_url: Option<SecretUrl>,
    pub channel: Option<String>,
    pub username: Option<String>,
    pub icon_emoji: Option<String>,
    pub icon_url: Option<String>,
    pub title: Option<String>,
    pub title_link: Option<String>,
    pub text: Option<String>,
    pub send_resolved: bool,
}

/// E-mail over SMTP.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// Recipients, comma-separated.
    pub to: String,
    pub from: Option<String>,
    pub smarthost: Option<String>,
    pub hello: Option<String>,
    pub auth_username: Option<String>,
    pub auth_password: Option<Secret>,
    pub require_tls: Option<bool>,
    pub send_resolved: bool,
    /// Extra headers; `Subject`, `To` and `From` here replace the defaults.
    pub headers: BTreeMap<String, String>,
}

/// ntfy: a POST of the text to the topic URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtfyConfig {
    /// The topic URL, `https://ntfy.sh/mytopic`.
    pub url: SecretUrl,
    /// Access token (sent as `Authorization: Bearer`).
    #[serde(default)]
    pub token: Option<Secret>,
    /// `1`-`5` or `min`, `low`, `default`, `high`, `max`; default: `high` while firing.
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default = "yes")]
    pub send_resolved: bool,
}

/// Gotify: `POST <url>/message?token=` with `{title, message, priority}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GotifyConfig {
    /// The server's base URL.
    pub url: String,
    /// An application token.
    pub token: Secret,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default = "yes")]
    pub send_resolved: bool,
}
