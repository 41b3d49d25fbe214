//! Wiring of alerting: the ruler (`rules`) evaluates its LogQL on the store through
//! [`StoreQuerier`], writes alert history into the store through [`StoreHistory`], and hands its
//! alerts to the built-in notifier (`alertmanager`) in process and to any configured
//! Alertmanager; both rooms' HTTP routes go behind the API's access rules.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::registry::Registry;

use crate::config::Config;

/// The running ruler and notifier.
pub struct Alerting {
    pub ruler: Arc<rules::Ruler>,
    pub notifier: Arc<alertmanager::Notifier>,
    /// `alerting.enabled`: off, the ruler only sends to configured Alertmanagers.
    notifier_enabled: bool,
}

impl Alerting {
    /// Builds both (their configuration problems name the file, rule and field) without
    /// starting them.
    pub fn new(
        cfg: &Config,
        store: Arc<store::Store>,
        deletes: Arc<deletes::Deletes>,
        registry: &mut Registry,
    ) -> anyhow::Result<Alerting> {
        let querier = Arc::new(StoreQuerier {
            store: store.clone(),
            deletes,
            limits: logql::Limits {
                max_entries_limit_per_query: cfg.api.max_entries_limit_per_query,
                max_query_series: cfg.api.max_query_series,
                max_query_length: cfg.api.max_query_length.0.as_nanos() as i64,
                threads: cfg.api.query_threads,
                ..Default::default()
            },
            timeout: cfg.api.query_timeout.0,
        });
        let history = Arc::new(StoreHistory { store });
        let scheme = if cfg.tls.cert_file.is_some() { "https" } else { "http" };
        let own_url = format!("{scheme}://{}", cfg.listen);
        let mut acfg = cfg.alerting.clone();
        if acfg.external_url.is_empty() {
            acfg.external_url =
                if cfg.ruler.external_url.is_empty() { own_url.clone() } else { cfg.ruler.external_url.clone() };
        }
        let notifier = alertmanager::Notifier::new(acfg, &cfg.data_dir, registry)?;
        let mut rcfg = cfg.ruler.clone();
        rcfg.rules_dir = cfg.rules_dir();
        if rcfg.external_url.is_empty() {
            rcfg.external_url = own_url;
        }
        let sinks: Vec<Arc<dyn model::alert::AlertSink>> =
            if cfg.alerting.enabled { vec![notifier.clone() as Arc<dyn model::alert::AlertSink>] } else { vec![] };
        let ruler = rules::Ruler::new(rcfg, &cfg.data_dir, querier, history, sinks, registry)?;
        Ok(Alerting { ruler, notifier, notifier_enabled: cfg.alerting.enabled })
    }

    /// Starts evaluation and dispatch on the current runtime.
    pub fn start(&self) {
        if self.notifier_enabled {
            self.notifier.start();
        }
        self.ruler.start();
    }

    /// Both rooms' routes; the tenant of a ruler request is the API's (user, token or
    /// `X-Scope-OrgID`). A refusal is the API's own error response, which is large but rare.
    #[allow(clippy::result_large_err)]
    pub fn routes(&self, state: api::AppState) -> axum::Router {
        let tenant_of: rules::TenantOf =
            Arc::new(move |headers| state.tenant(headers).map_err(axum::response::IntoResponse::into_response));
        let ruler = self.ruler.router(tenant_of);
        if self.notifier_enabled { ruler.merge(self.notifier.router()) } else { ruler }
    }

    /// Stops evaluation first (its last alerts still reach the notifier), then the notifier;
    /// both keep their state on disk.
    pub async fn shutdown(&self) {
        self.ruler.shutdown().await;
        self.notifier.shutdown().await;
    }
}

/// The ruler's queries, on the store, with the API's limits and time-out.
struct StoreQuerier {
    store: Arc<store::Store>,
    deletes: Arc<deletes::Deletes>,
    limits: logql::Limits,
    timeout: Duration,
}

impl rules::Querier for StoreQuerier {
    fn instant(&self, tenant: &str, query: &str, ts_nanos: i64) -> Result<Vec<(model::Labels, f64)>, String> {
        self.instant_until(tenant, query, ts_nanos, Instant::now() + self.timeout)
    }

    /// Bounded by the group's interval (the ruler's deadline) and the API's query time-out.
    fn instant_until(
        &self,
        tenant: &str,
        query: &str,
        ts_nanos: i64,
        deadline: Instant,
    ) -> Result<Vec<(model::Labels, f64)>, String> {
        let source = api::StoreSource {
            store: self.store.clone(),
            tenant: tenant.to_string(),
            stats: Arc::new(store::ReadStats::default()),
            deletes: self.deletes.clone(),
        };
        let deadline = deadline.min(Instant::now() + self.timeout);
        let engine = logql::Engine::new(self.limits.clone());
        rules::instant_query(&engine, &source, query, ts_nanos, Some(deadline))
    }
}

/// Alert state changes as log lines in the rule's tenant.
struct StoreHistory {
    store: Arc<store::Store>,
}

impl rules::History for StoreHistory {
    /// Called from the ruler's evaluation task: the WAL append (and its fsync) runs on the
    /// blocking pool, never on a runtime worker.
    fn record(&self, tenant: &str, labels: model::Labels, ts_nanos: i64, line: String) {
        let stream = store::PushStream { labels, entries: vec![model::Entry::new(ts_nanos, line)] };
        let (store, tenant) = (self.store.clone(), tenant.to_string());
        let push = move || match store.push(&tenant, vec![stream]) {
            Ok(o) if matches!(o.status, store::PushStatus::Ok) => {}
            Ok(o) => tracing::warn!(message = %o.message, "an alert's history line was not stored"),
            Err(e) => tracing::warn!(error = %e, "an alert's history line was not stored"),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(push)),
            Err(_) => push(),
        }
    }
}
