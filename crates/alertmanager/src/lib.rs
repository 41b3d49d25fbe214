//! Bitácora's built-in notifier, for hosts without an Alertmanager: it receives alerts (from
//! the ruler in process, or over Alertmanager's `POST /api/v2/alerts`), routes them through an
//! Alertmanager-format configuration (route tree with matchers, `group_by`, `group_wait`,
//! `group_interval`, `repeat_interval`), silences and inhibits them, and delivers grouped
//! notifications and resolved notices to receivers (webhook, Slack-compatible, e-mail over
//! SMTP, ntfy, Gotify), retrying failures with backoff.
//!
//! It owns that configuration, the dispatch state, silences and the notification log (kept on
//! disk under `<data_dir>/alertmanager/`), the receivers and Alertmanager's v2 API shapes (so
//! `amtool` works against it). It never knows rules, LogQL or the store.
//!
//! Dependencies beyond the workspace's usual ones: `lettre` (SMTP), `base64` (RFC 2047 header
//! words for ntfy), `getrandom` (silence ids).

pub mod alerts;
pub mod config;
mod dispatch;
mod http;
pub mod inhibit;
pub mod matchers;
mod metrics;
pub mod notification;
mod notifier;
pub mod receivers;
pub mod route;
mod settings;
pub mod silence;
mod state;
pub mod template;

pub use notifier::{Notifier, TestResult};
pub use settings::AlertingConfig;
