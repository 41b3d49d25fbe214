//! Bitácora's built-in notifier, for hosts without an Alertmanager: it receives alerts (from
//! the ruler in process, or over Alertmanager's `POST /api/v2/alerts`), routes them through an
//! Alertmanager-format configuration (route tree with matchers, `group_by`, `group_wait`,
//! `group_interval`, `repeat_interval`), silences them, and delivers grouped notifications and
//! resolved notices to receivers (webhook, Slack-compatible, e-mail over SMTP, ntfy, Gotify),
//! retrying failures with backoff.
//!
//! It owns that configuration, the dispatch state, silences (kept on disk), the receivers and
//! Alertmanager's v2 API shapes (so `amtool` works against it). It never knows rules, LogQL or
//! the store.
