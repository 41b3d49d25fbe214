//! The notifier's HTTP API: Alertmanager's v2 (`/api/v2/...`, also under `/alertmanager`),
//! so `amtool` and Grafana's Alertmanager data source work, and Bitácora's own receiver pages
//! (`/api/alerting/receivers`).

mod alerts;
mod query;
mod receivers;
mod silences;
mod status;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::notifier::Notifier;

type N = Arc<Notifier>;

/// An error answer: Alertmanager writes a JSON string.
pub(crate) fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, axum::Json(serde_json::Value::String(msg.into()))).into_response()
}

fn v2() -> Router<N> {
    Router::new()
        .route("/alerts", get(alerts::list).post(alerts::post))
        .route("/alerts/groups", get(alerts::groups))
        .route("/silences", get(silences::list).post(silences::post))
        .route("/silence/{id}", get(silences::get_one).delete(silences::delete))
        .route("/status", get(status::status))
        .route("/receivers", get(status::receivers))
}

impl Notifier {
    /// Every route of the notifier, ready to merge into the server's router.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .nest("/api/v2", v2())
            .nest("/alertmanager/api/v2", v2())
            .route("/api/alerting/receivers", get(receivers::list))
            .route("/api/alerting/receivers/{name}/test", post(receivers::test))
            .with_state(self.clone())
    }
}
