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
//!
//! | module | holds |
//! |---|---|
//! | `config` | [`RulerConfig`], [`RemoteWriteConfig`] |
//! | `file` | the rule file model and its YAML |
//! | `template` | expansion of labels and annotations with the `gotemplate` engine ([`template::expand`]) |
//! | `validate` | refusals naming namespace, group, rule, field (and LogQL position) |
//! | `store` | rule files on disk per tenant, atomic writes |
//! | `alert` | an alerting rule's state machine and what to send when |
//! | `recording` | a recording rule's output series |
//! | `group` | a group at run time (rules, alerts, health) |
//! | `querier` | a rule's expression as a LogQL instant query on a `LogSource` |
//! | `eval` | one evaluation of a group |
//! | `schedule` | Prometheus' alignment of groups and the evaluation loop |
//! | `state` | active alerts saved across restarts |
//! | `notifier` | the Alertmanager v2 sender |
//! | `remote_write` | the Prometheus remote-write sender |
//! | `metrics` | Prometheus metrics of all of the above |
//! | `ruler` | [`Ruler`]: loading, loops, edits, shutdown |
//! | `http` | Loki's ruler API, Prometheus' rules/alerts API, ready-made templates |
//! | `builtin` | ready-made rule files (`dokku.yaml`) |

mod alert;
mod builtin;
mod config;
mod eval;
mod file;
mod group;
mod http;
mod metrics;
mod notifier;
mod querier;
mod recording;
mod remote_write;
mod ruler;
mod schedule;
mod state;
mod store;
pub mod template;
mod validate;

use std::sync::Arc;
use std::time::Instant;

pub use alert::{AlertState, RESOLVED_RETENTION_NS};
pub use builtin::{BuiltinRules, builtin_rules};
pub use config::{RemoteWriteConfig, RulerConfig};
pub use file::{Rule, RuleFile, RuleGroup, parse_file, parse_group};
pub use notifier::Alertmanager;
pub use querier::instant_query;
pub use remote_write::{
    Label as RwLabel, Sample as RwSample, TimeSeries as RwTimeSeries, WriteRequest, encode as encode_write_request,
};
pub use ruler::{EditError, Ruler};
pub use validate::{validate_file, validate_group};

/// Runs a rule's expression: a LogQL instant query at `ts_nanos` for `tenant`. Blocking;
/// called on the blocking pool.
pub trait Querier: Send + Sync {
    fn instant(&self, tenant: &str, query: &str, ts_nanos: i64) -> Result<Vec<(model::Labels, f64)>, String>;

    /// The same, to give up at `deadline` (the group's interval); the default ignores it.
    fn instant_until(
        &self,
        tenant: &str,
        query: &str,
        ts_nanos: i64,
        deadline: Instant,
    ) -> Result<Vec<(model::Labels, f64)>, String> {
        let _ = deadline;
        self.instant(tenant, query, ts_nanos)
    }
}

/// Keeps an alert's state change as a log line in Bitácora's store.
pub trait History: Send + Sync {
    fn record(&self, tenant: &str, labels: model::Labels, ts_nanos: i64, line: String);
}

/// The tenant of a request, or the response refusing it.
pub type TenantOf = Arc<dyn Fn(&axum::http::HeaderMap) -> Result<String, axum::response::Response> + Send + Sync>;
