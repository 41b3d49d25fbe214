//! `GET /api/v2/status` and `GET /api/v2/receivers`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::N;

pub async fn status(State(n): State<N>) -> Json<Value> {
    let loaded = n.shared.loaded();
    Json(json!({
        "cluster": { "status": "disabled", "peers": [] },
        "versionInfo": {
            "branch": "",
            "buildDate": "",
            "buildUser": "",
            "goVersion": "",
            "revision": "",
            "version": concat!("bitacora-", env!("CARGO_PKG_VERSION")),
        },
        "config": { "original": loaded.original },
        "uptime": n.shared.started,
    }))
}

pub async fn receivers(State(n): State<N>) -> Json<Value> {
    let loaded = n.shared.loaded();
    Json(Value::Array(loaded.config.receivers.iter().map(|r| json!({"name": r.name})).collect()))
}
