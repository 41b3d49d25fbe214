//! Wiring of the Logs Drilldown room: Loki's `drilldown-limits`, `detected_fields`,
//! `detected_field/{name}/values` and `patterns` endpoints, thin routes over the `drilldown`
//! crate with the store as its source (`api::StoreSource`), behind the API's access rules.

use std::sync::Arc;
use std::time::Instant;

use api::ApiError;
use api::params::{Params, check_points, default_step, step_param};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::config::Config;

/// What the routes share.
pub struct Room {
    api: api::AppState,
    metrics: drilldown::Metrics,
    /// The query limits Drilldown reads (the same for every tenant), as Loki's
    /// `drilldown-limits` writes them; each tenant's ingestion limits are added per request.
    limits: Value,
    patterns: drilldown::patterns::PatternLimits,
}

type Shared = Arc<Room>;

pub fn routes(cfg: &Config, api: api::AppState, metrics: drilldown::Metrics) -> axum::Router {
    let dur = |d: &model::duration::PromDuration| model::duration::format_prom_duration(d.0);
    let limits = json!({
        "max_entries_limit_per_query": cfg.api.max_entries_limit_per_query,
        "max_query_series": cfg.api.max_query_series,
        "max_query_length": dur(&cfg.api.max_query_length),
        "max_query_range": "0s",
        "max_query_lookback": "0s",
        "max_query_bytes_read": "0B",
        "query_timeout": dur(&cfg.api.query_timeout),
        "volume_enabled": true,
        "volume_max_series": 1000,
        "log_level_fields": store::LEVEL_FIELDS,
        "pattern_persistence_enabled": false,
        "metric_aggregation_enabled": false,
        "retention_period": dur(&cfg.store.retention_period),
    });
    let room = Arc::new(Room { api, metrics, limits, patterns: Default::default() });
    axum::Router::new()
        .route("/loki/api/v1/drilldown-limits", get(drilldown_limits))
        .route("/loki/api/v1/detected_fields", get(detected_fields).post(detected_fields))
        .route("/loki/api/v1/detected_field/{name}/values", get(field_values).post(field_values))
        .route("/loki/api/v1/patterns", get(patterns).post(patterns))
        .with_state(room)
}

fn now() -> i64 {
    jiff::Timestamp::now().as_nanosecond() as i64
}

fn source(room: &Room, tenant: String) -> api::StoreSource {
    api::StoreSource {
        store: room.api.store.clone(),
        tenant,
        stats: Arc::new(store::ReadStats::default()),
        deletes: room.api.deletes.clone(),
    }
}

fn engine(room: &Room) -> logql::Engine {
    let c = &room.api.cfg;
    logql::Engine::new(logql::Limits {
        max_entries_limit_per_query: c.max_entries_limit_per_query,
        max_query_series: c.max_query_series,
        max_query_length: c.max_query_length.0.as_nanos() as i64,
        threads: c.query_threads,
        ..Default::default()
    })
}

fn err(e: drilldown::Error) -> ApiError {
    ApiError::new(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e.to_string())
}

/// Runs blocking work on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(e.to_string()))?
}

async fn drilldown_limits(State(room): State<Shared>, headers: HeaderMap) -> Response {
    match room.api.tenant(&headers) {
        Err(e) => e.into_response(),
        Ok(tenant) => api::json::response(&json!({
            "limits": tenant_limits(&room, &tenant),
            "pattern_ingester_enabled": true,
            "version": api::LOKI_VERSION,
        })),
    }
}

/// The tenant's limits (its override or the defaults) with the query limits.
fn tenant_limits(room: &Room, tenant: &str) -> Value {
    let dur = |d: &model::duration::PromDuration| model::duration::format_prom_duration(d.0);
    let l = room.api.store.limits(tenant);
    let mut v = serde_json::to_value(&*l).unwrap_or_else(|_| json!({}));
    if let (Value::Object(m), Value::Object(more)) = (&mut v, &room.limits) {
        m.extend(more.clone());
        m.insert("reject_old_samples_max_age".into(), dur(&l.reject_old_samples_max_age).into());
        m.insert("creation_grace_period".into(), dur(&l.creation_grace_period).into());
    }
    v
}

/// A positive integer parameter (Loki's wording on error).
fn positive(p: &Params, names: &[&str], default: u32) -> Result<u32, ApiError> {
    let Some((name, v)) = names.iter().find_map(|n| p.get(n).map(|v| (*n, v))) else { return Ok(default) };
    match v.parse::<i64>() {
        Ok(n) if n > 0 && n <= u32::MAX as i64 => Ok(n as u32),
        Ok(n) if n > 0 => Err(ApiError::bad_request(format!("{name} value {n} is out of range [0, {}]", u32::MAX))),
        Ok(_) => Err(ApiError::bad_request("limit must be a positive value")),
        Err(_) => Err(ApiError::bad_request(format!("invalid '{name}' parameter: {v:?} is not an integer"))),
    }
}

/// The parameters common to the detected-fields endpoints.
fn fields_request(room: &Room, p: &Params) -> Result<drilldown::fields::FieldsRequest, ApiError> {
    let query = p.get("query").ok_or_else(|| ApiError::bad_request("the 'query' parameter is required"))?;
    let (start, end) = p.bounds(now())?;
    let step = step_param(p, "step")?.unwrap_or_else(|| default_step(start, end));
    if step <= 0 {
        return Err(ApiError::bad_request(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    check_points(start, end, step)?;
    Ok(drilldown::fields::FieldsRequest {
        query: query.to_string(),
        start,
        end,
        line_limit: positive(p, &["line_limit"], 100)?,
        limit: positive(p, &["limit", "field_limit"], 1000)?,
        deadline: Some(Instant::now() + room.api.cfg.query_timeout.0),
    })
}

async fn detected_fields(State(room): State<Shared>, headers: HeaderMap, p: Params) -> Response {
    let run = async {
        let tenant = room.api.tenant(&headers)?;
        let req = fields_request(&room, &p)?;
        let r = room.clone();
        let fields = blocking(move || {
            drilldown::fields::detected_fields(&source(&r, tenant), &engine(&r), &req, &r.metrics).map_err(err)
        })
        .await?;
        if fields.is_empty() {
            return Ok::<_, ApiError>(api::json::response(&json!({})));
        }
        let limit = positive(&p, &["limit", "field_limit"], 1000)?;
        Ok(api::json::response(&json!({"fields": fields, "limit": limit})))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn field_values(State(room): State<Shared>, Path(name): Path<String>, headers: HeaderMap, p: Params) -> Response {
    let run = async {
        let tenant = room.api.tenant(&headers)?;
        let req = fields_request(&room, &p)?;
        let limit = req.limit;
        let r = room.clone();
        let values = blocking(move || {
            drilldown::fields::field_values(&source(&r, tenant), &engine(&r), &req, &name, &r.metrics).map_err(err)
        })
        .await?;
        if values.is_empty() {
            return Ok::<_, ApiError>(api::json::response(&json!({})));
        }
        Ok(api::json::response(&json!({"values": values, "limit": limit})))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn patterns(State(room): State<Shared>, headers: HeaderMap, p: Params) -> Response {
    let run = async {
        let tenant = room.api.tenant(&headers)?;
        let query = p.get("query").ok_or_else(|| ApiError::bad_request("the 'query' parameter is required"))?;
        let (start, end) = p.bounds(now())?;
        let step = step_param(&p, "step")?.unwrap_or_else(|| default_step(start, end));
        if step <= 0 {
            return Err(ApiError::bad_request(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        check_points(start, end, step)?;
        let req = drilldown::patterns::PatternsRequest {
            query: query.to_string(),
            start,
            end,
            step,
            deadline: Some(Instant::now() + room.api.cfg.query_timeout.0),
        };
        let r = room.clone();
        let series = blocking(move || {
            drilldown::patterns::patterns(&source(&r, tenant), &req, &r.patterns, &r.metrics).map_err(err)
        })
        .await?;
        let data: Vec<Value> =
            series.into_iter().map(|s| json!({"pattern": s.pattern, "level": s.level, "samples": s.samples})).collect();
        Ok(api::json::response(&json!({"status": "success", "data": data})))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
