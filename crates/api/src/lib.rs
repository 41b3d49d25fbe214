//! Bitácora's HTTP API: Loki's push (its own and OTLP), query, metadata and live-tail endpoints, plus `/ready`,
//! `/metrics`, `/config` and `/flush`, and the delete API, byte-compatible with Loki so its clients work unchanged.
//!
//! It owns the wire: decoding pushes, reading parameters, encoding results. It stores nothing
//! itself (that is the store's job) and evaluates no LogQL (that is the logql crate's job).
//!
//! Access control (users, sessions, tokens) is the `auth` crate's; [`auth`] here is its
//! middleware in front of every route and the login endpoints.
//!
//! Beside axum and prost, `simdutf8` checks pushed lines' UTF-8 (its SIMD check is several
//! times std's on log lines; std's was a fiftieth of ingest's CPU).

mod admin;
pub mod auth;
mod cluster;
mod delete;
mod error;
pub mod json;
mod legacy;
mod loki_json;
mod matrix_json;
mod meta;
mod metrics;
mod otlp;
pub mod params;
pub mod status;
pub use lokiproto as proto;
pub mod push;
mod query;
mod source;
mod tail;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use store::Store;

pub use error::ApiError;
pub use metrics::HttpMetrics;
pub use source::StoreSource;

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Require `X-Scope-OrgID` on every request (Loki's `auth_enabled`).
    pub auth_enabled: bool,
    /// The tenant used when auth is disabled (Loki's `fake`).
    pub default_tenant: String,
    pub max_entries_limit_per_query: u32,
    pub max_query_series: usize,
    pub max_query_length: model::duration::PromDuration,
    pub query_timeout: model::duration::PromDuration,
    pub tail_max_duration: model::duration::PromDuration,
    pub max_concurrent_tail_requests: usize,
    /// A connection must send a request's whole header within this time, or it is closed
    /// (slowloris); it also bounds the wait for the first request. 0s: no limit.
    pub http_header_read_timeout: model::duration::PromDuration,
    /// A keep-alive connection without a request in flight for this long is closed. 0s: never.
    pub http_idle_timeout: model::duration::PromDuration,
    /// Connections served at once; further ones wait in the listen backlog for a free slot.
    pub max_connections: usize,
    /// Threads one query reads and filters with (0: one per core).
    pub query_threads: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            auth_enabled: false,
            default_tenant: "fake".into(),
            max_entries_limit_per_query: 5000,
            max_query_series: 500,
            max_query_length: model::duration::PromDuration(Duration::from_secs(721 * 3600)),
            query_timeout: model::duration::PromDuration(Duration::from_secs(60)),
            tail_max_duration: model::duration::PromDuration(Duration::from_secs(3600)),
            max_concurrent_tail_requests: 10,
            http_header_read_timeout: model::duration::PromDuration(Duration::from_secs(15)),
            http_idle_timeout: model::duration::PromDuration(Duration::from_secs(120)),
            max_connections: 1000,
            query_threads: 0,
        }
    }
}

/// One batch of newly stored entries, for live tail.
pub struct TailBatch {
    pub tenant: String,
    pub labels: model::Labels,
    pub entries: Vec<model::Entry>,
}

pub struct Inner {
    pub store: Arc<Store>,
    /// Users, sessions and tokens; [`::auth::Auth::reload`] swaps its configuration.
    pub auth: Arc<::auth::Auth>,
    pub cfg: ApiConfig,
    pub registry: Registry,
    pub metrics: HttpMetrics,
    pub tail: tokio::sync::broadcast::Sender<Arc<TailBatch>>,
    /// The running configuration, as YAML, for `/config`.
    pub config_yaml: std::sync::RwLock<String>,
    pub ready: AtomicBool,
    pub started: Instant,
    /// Delete requests: served by the delete API, applied by every query's source.
    pub deletes: Arc<deletes::Deletes>,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Loki's version as reported to clients that gate features on it.
pub const LOKI_VERSION: &str = "3.5.0";

impl AppState {
    /// Builds the state and subscribes live tail to the store.
    pub fn new(
        store: Arc<Store>,
        auth: Arc<::auth::Auth>,
        cfg: ApiConfig,
        mut registry: Registry,
        config_yaml: String,
        deletes: Arc<deletes::Deletes>,
    ) -> AppState {
        let metrics = HttpMetrics::new(&mut registry);
        let (tx, _) = tokio::sync::broadcast::channel(1024);
        let sender = tx.clone();
        store.subscribe(Box::new(move |tenant, labels, entries| {
            if sender.receiver_count() > 0 {
                let _ = sender.send(Arc::new(TailBatch {
                    tenant: tenant.to_string(),
                    labels: labels.clone(),
                    entries: entries.iter().map(store::Incoming::to_entry).collect(),
                }));
            }
        }));
        AppState(Arc::new(Inner {
            store,
            auth,
            cfg,
            registry,
            metrics,
            tail: tx,
            config_yaml: std::sync::RwLock::new(config_yaml),
            ready: AtomicBool::new(true),
            started: Instant::now(),
            deletes,
        }))
    }

    /// The request's tenant: the tenant of its user or token if it has one, else
    /// `X-Scope-OrgID`, or the default tenant when auth is off.
    pub fn tenant(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        // Set only by the auth middleware (which removes any value a client sends).
        if let Some(t) = headers.get(auth::PINNED_TENANT).and_then(|v| v.to_str().ok()) {
            return Ok(t.to_string());
        }
        let h = headers.get("x-scope-orgid").and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty());
        match h {
            None if self.cfg.auth_enabled => Err(ApiError::new(StatusCode::UNAUTHORIZED, "no org id")),
            None => Ok(self.cfg.default_tenant.clone()),
            Some(_) if !self.cfg.auth_enabled => Ok(self.cfg.default_tenant.clone()),
            Some(t) => {
                let valid = t.len() <= 150
                    && t != "."
                    && t != ".."
                    && t.chars().all(|c| c.is_ascii_alphanumeric() || "!-_.*'()".contains(c));
                if valid {
                    Ok(t.to_string())
                } else {
                    Err(ApiError::bad_request(format!(
                        "tenant ID {t:?} contains unsupported characters or is too long"
                    )))
                }
            }
        }
    }
}

/// Every route of the API, plus `extra`: routes of other rooms (the ruler's API, the built-in
/// notifier's) that go behind the same access rules and request metrics.
pub fn router(state: AppState, extra: Router) -> Router {
    let loki = Router::new()
        .route("/loki/api/v1/push", post(push::handle))
        .route("/api/prom/push", post(push::handle))
        .route("/otlp/v1/logs", post(otlp::handle))
        .layer(DefaultBodyLimit::max(push::MAX_RECV_MSG_SIZE + 1));
    let read = Router::new()
        .route("/loki/api/v1/query", get(query::instant).post(query::instant))
        .route("/loki/api/v1/query_range", get(query::range).post(query::range))
        .route("/loki/api/v1/labels", get(meta::labels).post(meta::labels))
        .route("/loki/api/v1/label", get(meta::labels).post(meta::labels))
        .route("/loki/api/v1/label/{name}/values", get(meta::label_values).post(meta::label_values))
        .route("/loki/api/v1/series", get(meta::series).post(meta::series))
        .route("/loki/api/v1/index/stats", get(meta::index_stats).post(meta::index_stats))
        .route("/loki/api/v1/index/volume", get(meta::volume).post(meta::volume))
        .route("/loki/api/v1/index/volume_range", get(meta::volume_range).post(meta::volume_range))
        .route("/loki/api/v1/detected_labels", get(meta::detected_labels).post(meta::detected_labels))
        .route("/loki/api/v1/format_query", get(query::format_query).post(query::format_query))
        .route("/loki/api/v1/tail", get(tail::handle).post(tail::post))
        .route("/api/prom/tail", get(tail::legacy).post(tail::post))
        .route("/api/prom/query", get(legacy::query).post(legacy::query))
        .route("/api/prom/label", get(legacy::labels).post(legacy::labels))
        .route("/api/prom/label/{name}/values", get(legacy::label_values).post(legacy::label_values))
        .route("/api/prom/series", get(meta::series).post(meta::series))
        .route("/loki/api/v1/delete", post(delete::create).put(delete::create).get(delete::list).delete(delete::cancel))
        .route("/loki/api/v1/status/buildinfo", get(buildinfo))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_handler))
        .route("/config", get(config))
        .route("/flush", post(flush))
        .route("/api/v1/admin/snapshot", post(admin::snapshot))
        .route("/api/status", get(status::handle))
        .route("/api/v1/cluster/unuploaded", get(cluster::unuploaded))
        .route("/ingester/flush", post(flush))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/session", get(auth::session));
    loki.merge(read)
        .with_state(state.clone())
        .merge(extra)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(axum::middleware::from_fn_with_state(state, observe))
}

async fn observe(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "other".into());
    let started = Instant::now();
    let resp = next.run(req).await;
    app.metrics
        .requests
        .get_or_create(&metrics::Route { route, status_code: resp.status().as_u16().to_string() })
        .observe(started.elapsed().as_secs_f64());
    resp
}

/// The web UI for its own paths; Loki's plain 404 for everything else.
async fn not_found(uri: axum::http::Uri) -> Response {
    ui::serve(&uri).unwrap_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "404 page not found").into_response())
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {} is not allowed on {}", req.method(), req.uri().path()),
    )
}

async fn ready(State(app): State<AppState>) -> Response {
    if app.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Application is stopping").into_response()
    }
}

async fn buildinfo() -> Response {
    json::response(&serde_json::json!({
        "version": LOKI_VERSION,
        "revision": env!("CARGO_PKG_VERSION"),
        "branch": "main",
        "buildUser": "bitacora",
        "buildDate": "",
        "goVersion": "",
    }))
}

async fn metrics_handler(State(app): State<AppState>) -> Response {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &app.registry) {
        return ApiError::internal(e.to_string()).into_response();
    }
    let mut r = out.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

async fn config(State(app): State<AppState>) -> Response {
    let yaml = app.config_yaml.read().map(|y| y.clone()).unwrap_or_default();
    let mut r = yaml.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

async fn flush(State(app): State<AppState>) -> Response {
    let store = app.store.clone();
    // As Loki's ingesters flush chunks to object storage: with a bucket, the new segment is
    // uploaded before the answer (503 while the bucket is unreachable; the data stays local).
    match tokio::task::spawn_blocking(move || store.flush().and_then(|()| store.sync_bucket().map(|_| ()))).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e @ store::StoreError::Bucket(_))) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
        Ok(Err(e)) => ApiError::internal(e.to_string()).into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}
