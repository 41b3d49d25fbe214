//! Administration endpoints beside Loki's: snapshots, as Prometheus' `POST
//! /api/v1/admin/tsdb/snapshot` makes them (`{"status":"success","data":{"name":"..."}}`).
//! They change nothing that was stored; access to them is the auth layer's business (admin).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::{ApiError, AppState};

#[derive(Deserialize)]
pub struct SnapshotParams {
    /// A name of one's own; default `<UTC time>-<random>`, as Prometheus names them.
    name: Option<String>,
}

/// `POST /api/v1/admin/snapshot`: a consistent copy under `<data_dir>/snapshots/<name>`.
pub async fn snapshot(State(app): State<AppState>, Query(p): Query<SnapshotParams>) -> Response {
    let name = p.name.unwrap_or_else(|| {
        let now = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
        format!("{now}-{:016x}", rand_u64())
    });
    let store = app.store.clone();
    let n = name.clone();
    match tokio::task::spawn_blocking(move || store.snapshot(&n)).await {
        Ok(Ok(_)) => axum::Json(serde_json::json!({"status": "success", "data": {"name": name}})).into_response(),
        Ok(Err(e @ store::StoreError::Snapshot(_))) if e.to_string().contains("invalid") => {
            ApiError::bad_request(e.to_string()).into_response()
        }
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.finish()
}
