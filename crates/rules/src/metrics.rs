//! The ruler's Prometheus metrics: evaluation, alerts, notifications and remote write.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub type L = Vec<(String, String)>;

fn hist() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 4.0, 10))
}

#[derive(Clone)]
pub struct Metrics {
    /// by tenant, namespace, rule_group
    pub eval_duration: Family<L, Histogram, fn() -> Histogram>,
    pub eval_total: Family<L, Counter>,
    pub eval_failures: Family<L, Counter>,
    pub missed_iterations: Family<L, Counter>,
    /// Turns left to another node (many nodes sharing a bucket: one evaluates).
    pub skipped_turns: Family<L, Counter>,
    /// by state (pending, firing)
    pub alerts: Family<L, Gauge>,
    /// by alertmanager (URL or sink index)
    pub notifications_sent: Family<L, Counter>,
    pub notifications_errors: Family<L, Counter>,
    pub notifications_dropped: Family<L, Counter>,
    pub notification_latency: Family<L, Histogram, fn() -> Histogram>,
    pub notification_queue: Family<L, Gauge>,
    pub rw_samples_sent: Counter,
    pub rw_samples_failed: Counter,
    pub rw_samples_dropped: Counter,
    pub rw_retries: Counter,
    pub rw_queue_length: Gauge,
}

impl Metrics {
    pub fn new(reg: &mut Registry) -> Self {
        let m = Metrics {
            eval_duration: Family::new_with_constructor(hist),
            eval_total: Family::default(),
            eval_failures: Family::default(),
            missed_iterations: Family::default(),
            skipped_turns: Family::default(),
            alerts: Family::default(),
            notifications_sent: Family::default(),
            notifications_errors: Family::default(),
            notifications_dropped: Family::default(),
            notification_latency: Family::new_with_constructor(hist),
            notification_queue: Family::default(),
            rw_samples_sent: Counter::default(),
            rw_samples_failed: Counter::default(),
            rw_samples_dropped: Counter::default(),
            rw_retries: Counter::default(),
            rw_queue_length: Gauge::default(),
        };
        let r = reg.sub_registry_with_prefix("bitacora_ruler");
        r.register(
            "group_evaluation_duration_seconds",
            "Time of one evaluation of a rule group",
            m.eval_duration.clone(),
        );
        r.register("group_evaluations", "Evaluations of rule groups", m.eval_total.clone());
        r.register(
            "group_turns_skipped",
            "Turns of rule groups left to another node sharing the bucket",
            m.skipped_turns.clone(),
        );
        r.register("group_evaluation_failures", "Rule evaluations that failed, by group", m.eval_failures.clone());
        r.register(
            "group_iterations_missed",
            "Evaluations skipped because the previous one ran too long",
            m.missed_iterations.clone(),
        );
        r.register("alerts", "Active alerts by state", m.alerts.clone());
        r.register("notifications_sent", "Alerts delivered, by Alertmanager", m.notifications_sent.clone());
        r.register(
            "notifications_errors",
            "Failed deliveries of alert batches, by Alertmanager",
            m.notifications_errors.clone(),
        );
        r.register(
            "notifications_dropped",
            "Alerts dropped (queue full or undeliverable), by Alertmanager",
            m.notifications_dropped.clone(),
        );
        r.register(
            "notification_latency_seconds",
            "Time of one delivery to an Alertmanager",
            m.notification_latency.clone(),
        );
        r.register(
            "notification_queue_length",
            "Alerts waiting to be delivered, by Alertmanager",
            m.notification_queue.clone(),
        );
        r.register(
            "remote_write_samples_sent",
            "Samples accepted by the remote-write receiver",
            m.rw_samples_sent.clone(),
        );
        r.register(
            "remote_write_samples_failed",
            "Samples refused by the receiver (4xx) and dropped",
            m.rw_samples_failed.clone(),
        );
        r.register(
            "remote_write_samples_dropped",
            "Samples dropped because the queue was full",
            m.rw_samples_dropped.clone(),
        );
        r.register("remote_write_retries", "Remote-write requests retried", m.rw_retries.clone());
        r.register("remote_write_queue_length", "Samples waiting to be sent", m.rw_queue_length.clone());
        m
    }
}

pub fn labels(pairs: &[(&str, &str)]) -> L {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}
