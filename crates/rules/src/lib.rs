//! Bitácora's ruler: alerting and recording rules written as Prometheus/Loki rule files, with
//! LogQL metric queries as their expressions, evaluated on each group's interval.
//!
//! It owns the rule files (per tenant under `ruler.rules_dir`, Loki's local layout
//! `<dir>/<tenant>/<namespace>.yaml`), their validation, Loki's ruler API and Prometheus' rules
//! and alerts read API (as an axum router the binary mounts), the alert state machine and its
//! persistence across restarts, alert templates, sending alerts to Alertmanagers (Alertmanager's
//! v2 API, or any [`model::alert::AlertSink`]) and recording rules' samples to Prometheus
//! remote write.
//!
//! It never knows the store, the HTTP API crate or the built-in notifier: queries go through
//! the [`Querier`] port, alert history through the [`History`] port, both wired by the binary.
