//! The ruler's HTTP routes: Loki's ruler API (`/loki/api/v1/rules`, `/api/prom/rules`),
//! Prometheus' read API as Loki serves it (`/prometheus/api/v1/rules|alerts`) and the list of
//! ready-made rule files (`/api/alerting/templates`).

mod loki;
mod prom;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::ruler::Ruler;
use crate::{TenantOf, builtin_rules};

#[derive(Clone)]
pub(crate) struct Http {
    pub ruler: Arc<Ruler>,
    pub tenant_of: TenantOf,
}

impl Http {
    #[allow(clippy::result_large_err)] // the TenantOf port's own shape
    pub fn tenant(&self, h: &HeaderMap) -> Result<String, Response> {
        (self.tenant_of)(h)
    }
}

pub(crate) fn text(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], msg.into()).into_response()
}

impl Ruler {
    /// Every route of the ruler, for the binary to mount behind its access rules.
    pub fn router(self: &Arc<Self>, tenant_of: TenantOf) -> Router {
        let st = Http { ruler: self.clone(), tenant_of };
        let mut r = Router::new();
        for base in ["/loki/api/v1/rules", "/api/prom/rules"] {
            r = r
                .route(base, get(loki::list_all))
                .route(
                    &format!("{base}/{{namespace}}"),
                    get(loki::get_namespace).post(loki::post_group).delete(loki::delete_namespace),
                )
                .route(&format!("{base}/{{namespace}}/{{group}}"), get(loki::get_group).delete(loki::delete_group));
        }
        r.route("/prometheus/api/v1/rules", get(prom::rules))
            .route("/prometheus/api/v1/alerts", get(prom::alerts))
            .route("/api/alerting/templates", get(|| async { axum::Json(builtin_rules()) }))
            .with_state(st)
    }
}
