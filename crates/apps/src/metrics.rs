//! The apps room's metrics: requests by route and outcome, Docker engine errors, open stats
//! streams and the samples they deliver, store query time.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `apps` or `container`.
    pub route: String,
    /// `engine`, `events`, `not_found`, `error`.
    pub outcome: String,
}

#[derive(Clone)]
pub struct Metrics {
    pub requests: Family<RequestLabels, Counter>,
    pub engine_errors: Counter,
    pub stats_streams_open: Gauge,
    pub stats_samples: Counter,
    pub query_seconds: Histogram,
}

impl Metrics {
    pub fn new(r: &mut Registry) -> Metrics {
        let m = Metrics {
            requests: Family::default(),
            engine_errors: Counter::default(),
            stats_streams_open: Gauge::default(),
            stats_samples: Counter::default(),
            query_seconds: Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        };
        r.register("bitacora_apps_requests", "Requests of the apps API by route and outcome", m.requests.clone());
        r.register(
            "bitacora_apps_engine_errors",
            "Docker engine calls of the apps API that failed or timed out",
            m.engine_errors.clone(),
        );
        r.register(
            "bitacora_apps_stats_streams_open",
            "Docker stats streams open because someone looked at a container recently",
            m.stats_streams_open.clone(),
        );
        r.register("bitacora_apps_stats_samples", "Docker stats samples received", m.stats_samples.clone());
        r.register(
            "bitacora_apps_query_seconds",
            "Time of the store queries behind one apps answer (activity, deploys, events)",
            m.query_seconds.clone(),
        );
        m
    }
}
