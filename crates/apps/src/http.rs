//! The routes: `GET /api/apps` and `GET /api/apps/containers/{id}`, for the request's tenant.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::TenantOf;
use crate::metrics::RequestLabels;
use crate::service::{Apps, Error};

#[derive(Clone)]
struct Ctx {
    apps: Arc<Apps>,
    tenant_of: TenantOf,
}

/// Both routes; `tenant_of` finds the request's tenant (or refuses it) as the API does.
pub fn router(apps: Arc<Apps>, tenant_of: TenantOf) -> Router {
    Router::new()
        .route("/api/apps", get(list))
        .route("/api/apps/containers/{id}", get(one))
        .with_state(Ctx { apps, tenant_of })
}

fn json<T: serde::Serialize>(status: StatusCode, v: &T) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "error": message }))
}

impl Ctx {
    fn count(&self, route: &str, outcome: &str) {
        self.apps.metrics.requests.get_or_create(&RequestLabels { route: route.into(), outcome: outcome.into() }).inc();
    }

    fn failed(&self, route: &str, e: Error) -> Response {
        self.count(route, "error");
        match e {
            Error::BadId(m) => error(StatusCode::BAD_REQUEST, &m),
            Error::Store(m) => {
                tracing::warn!(error = %m, "apps: the store's queries failed");
                error(StatusCode::SERVICE_UNAVAILABLE, &format!("reading the apps' activity failed: {m}"))
            }
        }
    }
}

async fn list(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    let tenant = match (ctx.tenant_of)(&headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    match ctx.apps.list(&tenant).await {
        Ok(a) => {
            ctx.count("apps", if a.engine { "engine" } else { "events" });
            json(StatusCode::OK, &a)
        }
        Err(e) => ctx.failed("apps", e),
    }
}

async fn one(State(ctx): State<Ctx>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let tenant = match (ctx.tenant_of)(&headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    match ctx.apps.container(&tenant, &id).await {
        Ok((engine, Some(c))) => {
            ctx.count("container", if engine { "engine" } else { "events" });
            json(StatusCode::OK, &c)
        }
        Ok((_, None)) => {
            ctx.count("container", "not_found");
            error(StatusCode::NOT_FOUND, &format!("no container {id}"))
        }
        Err(e) => ctx.failed("container", e),
    }
}
