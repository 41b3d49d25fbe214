//! Receivers: each configured integration (webhook, Slack, e-mail, ntfy, Gotify) with its
//! delivery, retries with exponential backoff until the deadline the dispatcher gives, and
//! what happened to it (sent, failed, last attempt, last error, last success).

mod email;
mod gotify;
mod ntfy;
mod slack;
mod webhook;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use parking_lot::Mutex;
use serde::Serialize;
use tokio::time::Instant;

use crate::config::{AmConfig, Global, ReceiverConfig};
use crate::metrics::Metrics;
use crate::notification::Notification;

pub use webhook::payload as webhook_payload;

/// What happened to one integration so far.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationStats {
    /// Notifications delivered.
    pub sent: u64,
    /// Delivery attempts that failed.
    pub failed: u64,
    pub last_attempt: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
}

/// A delivery failure; `retry` is false when sending it again cannot help (a 4xx answer).
#[derive(Debug, Clone)]
pub struct SendError {
    pub message: String,
    pub retry: bool,
}

impl SendError {
    pub fn retry(message: impl Into<String>) -> Self {
        SendError { message: message.into(), retry: true }
    }
}

/// Turns an HTTP answer into success or a [`SendError`] (4xx other than 429 is final).
async fn check_response(r: Result<reqwest::Response, reqwest::Error>) -> Result<(), SendError> {
    let r = r.map_err(|e| SendError::retry(format!("request failed: {e}")))?;
    let status = r.status();
    if status.is_success() {
        return Ok(());
    }
    let body = r.text().await.unwrap_or_default();
    let body: String = body.chars().take(200).collect();
    Err(SendError {
        message: format!("HTTP {}: {}", status.as_u16(), body.trim()),
        retry: status.is_server_error() || status.as_u16() == 429,
    })
}

enum Kind {
    Webhook(webhook::Webhook),
    Slack(slack::Slack),
    Email(email::Email),
    Ntfy(ntfy::Ntfy),
    Gotify(gotify::Gotify),
}

/// One configured integration of a receiver.
pub struct Integration {
    pub receiver: String,
    /// `webhook`, `slack`, `email`, `ntfy` or `gotify`.
    pub kind: &'static str,
    /// Its position among the receiver's integrations of that kind.
    pub index: usize,
    pub send_resolved: bool,
    /// Where it sends, secrets masked.
    pub target: String,
    pub stats: Arc<Mutex<IntegrationStats>>,
    imp: Kind,
}

/// Backoff between attempts: 1s, 2s, 4s, ... at most 1 minute.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl Integration {
    /// The key it is known by in the notification log and the statistics.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.receiver, self.kind, self.index)
    }

    async fn send_once(&self, n: &Notification, http: &reqwest::Client) -> Result<(), SendError> {
        match &self.imp {
            Kind::Webhook(w) => w.send(n, http).await,
            Kind::Slack(s) => s.send(n, http).await,
            Kind::Email(e) => e.send(n).await,
            Kind::Ntfy(x) => x.send(n, http).await,
            Kind::Gotify(g) => g.send(n, http).await,
        }
    }

    /// Delivers `n`, retrying with backoff until it succeeds, fails for good, or `deadline`.
    pub async fn notify(
        &self,
        n: &Notification,
        http: &reqwest::Client,
        metrics: &Metrics,
        deadline: Instant,
    ) -> Result<(), String> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let started = Instant::now();
            let res = tokio::time::timeout(Duration::from_secs(30), self.send_once(n, http))
                .await
                .unwrap_or_else(|_| Err(SendError::retry("timed out after 30s")));
            metrics.observe_request(self.kind, started.elapsed(), res.is_ok());
            let now = Timestamp::now();
            let failure = {
                let mut st = self.stats.lock();
                st.last_attempt = Some(now);
                match res {
                    Ok(()) => {
                        st.sent += 1;
                        st.last_success = Some(now);
                        None
                    }
                    Err(e) => {
                        st.failed += 1;
                        st.last_error = Some(e.message.clone());
                        st.last_error_at = Some(now);
                        Some(e)
                    }
                }
            };
            match failure {
                None => {
                    metrics.notification(self.kind, true);
                    return Ok(());
                }
                Some(e) => {
                    tracing::warn!(integration = self.key(), attempt, "notification failed: {}", e.message);
                    if !e.retry || Instant::now() + backoff > deadline {
                        metrics.notification(self.kind, false);
                        return Err(e.message);
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// Builds every integration of the configuration, keeping the statistics of those that
/// existed before (by [`Integration::key`]).
pub fn build(
    cfg: &AmConfig,
    previous: &HashMap<String, Arc<Mutex<IntegrationStats>>>,
) -> Result<Vec<Arc<Integration>>, String> {
    let mut out = Vec::new();
    for r in &cfg.receivers {
        build_receiver(r, &cfg.global, previous, &mut out)?;
    }
    Ok(out)
}

fn build_receiver(
    r: &ReceiverConfig,
    g: &Global,
    previous: &HashMap<String, Arc<Mutex<IntegrationStats>>>,
    out: &mut Vec<Arc<Integration>>,
) -> Result<(), String> {
    let mut push = |kind: &'static str, index: usize, send_resolved: bool, target: String, imp: Kind| {
        let key = format!("{}/{kind}/{index}", r.name);
        let stats = previous.get(&key).cloned().unwrap_or_default();
        out.push(Arc::new(Integration { receiver: r.name.clone(), kind, index, send_resolved, target, stats, imp }));
    };
    for (i, c) in r.webhook_configs.iter().enumerate() {
        let w = webhook::Webhook::new(c);
        push("webhook", i, c.send_resolved, c.url.masked(), Kind::Webhook(w));
    }
    for (i, c) in r.slack_configs.iter().enumerate() {
        let s = slack::Slack::new(c, g);
        push("slack", i, c.send_resolved, s.target(), Kind::Slack(s));
    }
    for (i, c) in r.email_configs.iter().enumerate() {
        let e = email::Email::new(c, g).map_err(|e| format!("receivers {}: email_configs[{i}]: {e}", r.name))?;
        push("email", i, c.send_resolved, e.target(), Kind::Email(e));
    }
    for (i, c) in r.ntfy_configs.iter().enumerate() {
        push("ntfy", i, c.send_resolved, c.url.masked(), Kind::Ntfy(ntfy::Ntfy::new(c)));
    }
    for (i, c) in r.gotify_configs.iter().enumerate() {
        push("gotify", i, c.send_resolved, c.url.clone(), Kind::Gotify(gotify::Gotify::new(c)));
    }
    Ok(())
}
