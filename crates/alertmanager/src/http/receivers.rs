//! Bitácora's receiver pages: each receiver's integrations with what happened to them, and
//! "send a test notification".

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{N, error};

pub async fn list(State(n): State<N>) -> Json<Value> {
    let loaded = n.shared.loaded();
    let out: Vec<Value> = loaded
        .config
        .receivers
        .iter()
        .map(|r| {
            let integrations: Vec<Value> = loaded
                .integrations_of(&r.name)
                .map(|i| {
                    let st = i.stats.lock().clone();
                    json!({
                        "type": i.kind,
                        "target": i.target,
                        "sendResolved": i.send_resolved,
                        "sent": st.sent,
                        "failed": st.failed,
                        "lastAttempt": st.last_attempt,
                        "lastError": st.last_error,
                        "lastErrorAt": st.last_error_at,
                        "lastSuccess": st.last_success,
                    })
                })
                .collect();
            json!({ "name": r.name, "integrations": integrations })
        })
        .collect();
    Json(Value::Array(out))
}

pub async fn test(State(n): State<N>, Path(name): Path<String>) -> Response {
    match n.test_receiver(&name).await {
        None => error(StatusCode::NOT_FOUND, format!("no receiver named {name:?}")),
        Some(results) if results.is_empty() => {
            error(StatusCode::BAD_REQUEST, format!("receiver {name:?} has no integrations"))
        }
        Some(results) => {
            let status = if results.iter().all(|r| r.ok) { StatusCode::OK } else { StatusCode::BAD_GATEWAY };
            (status, Json(json!({ "receiver": name, "results": results }))).into_response()
        }
    }
}
