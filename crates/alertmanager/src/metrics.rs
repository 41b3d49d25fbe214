//! The notifier's Prometheus metrics (`bitacora_alertmanager_*`): alerts received, alerts and
//! silences by state, aggregation groups, notifications and requests per integration type.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IntegrationLabel {
    pub integration: String,
}

#[derive(Clone)]
pub struct Metrics {
    pub alerts_received: Family<StatusLabel, Counter>,
    pub alerts_invalid: Counter,
    pub alerts: Family<StateLabel, Gauge>,
    pub silences: Family<StateLabel, Gauge>,
    pub groups: Gauge,
    pub notifications: Family<IntegrationLabel, Counter>,
    pub notifications_failed: Family<IntegrationLabel, Counter>,
    pub requests: Family<IntegrationLabel, Counter>,
    pub requests_failed: Family<IntegrationLabel, Counter>,
    pub request_seconds: Family<IntegrationLabel, Histogram>,
    pub config_reloads_failed: Counter,
}

impl Metrics {
    pub fn new(reg: &mut Registry) -> Self {
        let m = Metrics {
            alerts_received: Family::default(),
            alerts_invalid: Counter::default(),
            alerts: Family::default(),
            silences: Family::default(),
            groups: Gauge::default(),
            notifications: Family::default(),
            notifications_failed: Family::default(),
            requests: Family::default(),
            requests_failed: Family::default(),
            request_seconds: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.01, 4.0, 7))),
            config_reloads_failed: Counter::default(),
        };
        let r = reg.sub_registry_with_prefix("bitacora_alertmanager");
        r.register("alerts_received", "Alerts received, by status", m.alerts_received.clone());
        r.register("alerts_invalid", "Alerts refused as invalid", m.alerts_invalid.clone());
        r.register("alerts", "Alerts held, by state (active, suppressed, resolved)", m.alerts.clone());
        r.register("silences", "Silences, by state", m.silences.clone());
        r.register("aggregation_groups", "Aggregation groups", m.groups.clone());
        r.register("notifications", "Notifications delivered, by integration type", m.notifications.clone());
        r.register(
            "notifications_failed",
            "Notifications given up after retries, by integration type",
            m.notifications_failed.clone(),
        );
        r.register("notification_requests", "Delivery attempts, by integration type", m.requests.clone());
        r.register(
            "notification_requests_failed",
            "Failed delivery attempts, by integration type",
            m.requests_failed.clone(),
        );
        r.register("notification_request_duration_seconds", "Delivery attempt duration", m.request_seconds.clone());
        r.register("config_reloads_failed", "Configuration reloads refused", m.config_reloads_failed.clone());
        m
    }

    fn il(kind: &str) -> IntegrationLabel {
        IntegrationLabel { integration: kind.to_string() }
    }

    pub fn observe_request(&self, kind: &str, took: Duration, ok: bool) {
        self.requests.get_or_create(&Self::il(kind)).inc();
        if !ok {
            self.requests_failed.get_or_create(&Self::il(kind)).inc();
        }
        self.request_seconds.get_or_create(&Self::il(kind)).observe(took.as_secs_f64());
    }

    pub fn notification(&self, kind: &str, ok: bool) {
        if ok {
            self.notifications.get_or_create(&Self::il(kind)).inc();
        } else {
            self.notifications_failed.get_or_create(&Self::il(kind)).inc();
        }
    }

    pub fn set_state(fam: &Family<StateLabel, Gauge>, state: &str, v: i64) {
        fam.get_or_create(&StateLabel { state: state.to_string() }).set(v);
    }
}
