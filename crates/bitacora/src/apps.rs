//! Wiring of the apps room: its activity queries run on the store through [`StoreQuerier`]
//! (the LogQL engine over `api::StoreSource`), its live state comes from the Docker engine at
//! `agent.docker_host` (in `bitacora server` too, when that socket exists; otherwise the
//! recorded events), and its routes go behind the API's access rules.

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::registry::Registry;

use crate::config::Config;

/// The apps room for this configuration. The local engine's containers are the tenant's the
/// agent ships to (`agent.tenant`, else the default tenant); other tenants see recorded events.
pub fn new(
    cfg: &Config,
    store: Arc<store::Store>,
    deletes: Arc<deletes::Deletes>,
    registry: &mut Registry,
) -> Arc<apps::Apps> {
    let querier = Arc::new(StoreQuerier {
        store,
        deletes,
        limits: logql::Limits {
            max_entries_limit_per_query: cfg.api.max_entries_limit_per_query.max(5000),
            // One series per app (or container) and level.
            max_query_series: cfg.api.max_query_series.max(5000),
            max_query_length: cfg.api.max_query_length.0.as_nanos() as i64,
            align_step: false,
            ..Default::default()
        },
    });
    let tenant = cfg.agent.tenant.clone().unwrap_or_else(|| cfg.api.default_tenant.clone());
    apps::Apps::new(&cfg.apps, &cfg.agent.docker_host, tenant, querier, registry)
}

/// The routes, with the tenant of a request found as the API finds it.
#[allow(clippy::result_large_err)]
pub fn routes(apps: &Arc<apps::Apps>, state: api::AppState) -> axum::Router {
    let tenant_of: apps::TenantOf =
        Arc::new(move |headers| state.tenant(headers).map_err(axum::response::IntoResponse::into_response));
    apps.router(tenant_of)
}

/// The apps room's queries on the store.
struct StoreQuerier {
    store: Arc<store::Store>,
    deletes: Arc<deletes::Deletes>,
    limits: logql::Limits,
}

impl StoreQuerier {
    fn run(&self, tenant: &str, q: &logql::QueryParams) -> Result<logql::QueryResult, String> {
        let source = api::StoreSource {
            store: self.store.clone(),
            tenant: tenant.to_string(),
            stats: Arc::new(store::ReadStats::default()),
            deletes: self.deletes.clone(),
        };
        let engine = logql::Engine::new(self.limits.clone());
        engine.query(&source, q).map(|o| o.result).map_err(|e| e.to_string())
    }
}

impl apps::Querier for StoreQuerier {
    fn range(
        &self,
        tenant: &str,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
        deadline: Instant,
    ) -> Result<apps::activity::Matrix, String> {
        let q = logql::QueryParams {
            query: query.to_string(),
            start,
            end,
            step,
            deadline: Some(deadline),
            ..Default::default()
        };
        match self.run(tenant, &q)? {
            logql::QueryResult::Matrix(m) => Ok(m.into_iter().map(|s| (s.labels, s.points)).collect()),
            _ => Err(format!("{query}: not a metric query")),
        }
    }

    fn logs(
        &self,
        tenant: &str,
        query: &str,
        start: i64,
        end: i64,
        limit: u32,
        deadline: Instant,
    ) -> Result<apps::activity::Lines, String> {
        let q = logql::QueryParams {
            query: query.to_string(),
            start,
            end,
            limit,
            direction: model::Direction::Backward,
            deadline: Some(deadline),
            ..Default::default()
        };
        match self.run(tenant, &q)? {
            logql::QueryResult::Streams(streams) => {
                let mut out: apps::activity::Lines =
                    streams.into_iter().flat_map(|s| s.entries.into_iter().map(|e| (e.stream, e.ts, e.line))).collect();
                out.sort_by_key(|(_, ts, _)| std::cmp::Reverse(*ts));
                out.truncate(limit as usize);
                Ok(out)
            }
            _ => Err(format!("{query}: not a log query")),
        }
    }
}
