//! The agent's Prometheus metrics, per container where it matters.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ContainerLabel {
    pub container: String,
}

pub struct AgentMetrics {
    pub lines_read: Family<ContainerLabel, Counter>,
    pub bytes_read: Family<ContainerLabel, Counter>,
    pub lines_sent: Family<ContainerLabel, Counter>,
    pub bytes_sent: Family<ContainerLabel, Counter>,
    pub lines_dropped: Family<ContainerLabel, Counter>,
    pub bytes_dropped: Family<ContainerLabel, Counter>,
    /// Bytes written by Docker but not yet read.
    pub lag_bytes: Family<ContainerLabel, Gauge>,
    /// Log files that rotated away before they could be read (their lines are lost).
    pub files_lost: Family<ContainerLabel, Counter>,
    pub push_seconds: Histogram,
    pub push_retries: Counter,
    pub containers: Gauge,
}

impl AgentMetrics {
    pub fn new(r: &mut Registry) -> Self {
        let m = AgentMetrics {
            lines_read: Default::default(),
            bytes_read: Default::default(),
            lines_sent: Default::default(),
            bytes_sent: Default::default(),
            lines_dropped: Default::default(),
            bytes_dropped: Default::default(),
            lag_bytes: Default::default(),
            files_lost: Default::default(),
            push_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            push_retries: Default::default(),
            containers: Default::default(),
        };
        let r = r.sub_registry_with_prefix("bitacora_agent");
        r.register("lines_read", "Log lines read, per container", m.lines_read.clone());
        r.register("bytes_read", "Log bytes read, per container", m.bytes_read.clone());
        r.register("lines_sent", "Log lines acknowledged by the receiver, per container", m.lines_sent.clone());
        r.register("bytes_sent", "Log bytes acknowledged by the receiver, per container", m.bytes_sent.clone());
        r.register("lines_dropped", "Log lines refused by the receiver, per container", m.lines_dropped.clone());
        r.register("bytes_dropped", "Log bytes refused by the receiver, per container", m.bytes_dropped.clone());
        r.register("lag_bytes", "Bytes written by Docker and not yet read, per container", m.lag_bytes.clone());
        r.register("files_lost", "Log files rotated away before they were read, per container", m.files_lost.clone());
        r.register("push_duration_seconds", "Time per push", m.push_seconds.clone());
        r.register("push_retries", "Pushes retried", m.push_retries.clone());
        r.register("containers", "Containers being read", m.containers.clone());
        m
    }
}
