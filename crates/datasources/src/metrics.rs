//! The data sources' metrics: proxied requests by data source type and status, their duration,
//! how many data sources are in force and how many provisioning problems the last read found.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Proxied {
    pub r#type: String,
    pub status_code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByType {
    pub r#type: String,
}

pub struct Metrics {
    pub requests: Family<Proxied, Counter>,
    pub duration: Family<ByType, Histogram>,
    pub sources: Gauge,
    pub provisioning_problems: Gauge,
}

impl Metrics {
    pub fn new(r: &mut Registry) -> Metrics {
        let m = Metrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(|| {
                Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.005, 2.0, 14))
            }),
            sources: Gauge::default(),
            provisioning_problems: Gauge::default(),
        };
        r.register(
            "bitacora_datasource_proxy_requests",
            "Requests through the data source proxy, by data source type and answer status",
            m.requests.clone(),
        );
        r.register(
            "bitacora_datasource_proxy_duration_seconds",
            "Time to the upstream's answer head through the data source proxy",
            m.duration.clone(),
        );
        r.register("bitacora_datasources", "Data sources in force, the built-in one included", m.sources.clone());
        r.register(
            "bitacora_datasource_provisioning_problems",
            "Problems the last read of the data source provisioning files found",
            m.provisioning_problems.clone(),
        );
        m
    }
}
