//! `POST /otlp/v1/logs`: OpenTelemetry logs over OTLP/HTTP (protobuf or JSON, optionally gzip),
//! mapped to streams by the `otlp` crate under the limits' `otlp_config`, then stored through
//! the same path as `/loki/api/v1/push` (same limits, same answers: 204 once in the WAL, 400
//! naming what is wrong, 429 when rate limited).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use store::PushStream;

use crate::AppState;
use crate::error::ApiError;
use crate::push::{MAX_RECV_MSG_SIZE, inflate, store_push};

/// The body's format by `Content-Type` (parameters ignored), as Loki accepts them.
fn format(headers: &HeaderMap) -> Result<otlp::Format, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("")).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-protobuf" => Ok(otlp::Format::Protobuf),
        "application/json" => Ok(otlp::Format::Json),
        _ => Err(ApiError::bad_request(format!(
            "content type: {ct:?} is not supported (OTLP/HTTP bodies are application/x-protobuf or application/json)"
        ))),
    }
}

fn decode(app: &AppState, tenant: &str, headers: &HeaderMap, body: &[u8]) -> Result<Vec<PushStream>, ApiError> {
    if body.len() > MAX_RECV_MSG_SIZE {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("message size too large than max ({} vs {MAX_RECV_MSG_SIZE})", body.len()),
        ));
    }
    let format = format(headers)?;
    let body = inflate(headers, body)?;
    // Before the messages are laid out: a body of empty records takes 70 times its size.
    let need = match format {
        otlp::Format::Protobuf => otlp::size::decoded_bytes(&body)
            .map_err(|e| ApiError::bad_request(format!("could not decode the OTLP protobuf request: {e}")))?,
        otlp::Format::Json => {
            body.len().saturating_add(crate::push::json_nodes(&body).saturating_mul(otlp::size::JSON_NODE_BYTES))
        }
    };
    crate::push::Budget::new().bytes(need)?;
    let req = otlp::decode(&body, format).map_err(|e| ApiError::bad_request(e.0))?;
    app.metrics.otlp_records.inc_by(otlp::record_count(&req) as u64);
    // The tenant's own `otlp_config` when `overrides` gives it one.
    let limits = app.store.limits(tenant);
    let streams = otlp::to_streams(&req, &limits.otlp_config, &limits.discover_service_name, store::now_ns());
    Ok(streams.into_iter().map(|s| PushStream { labels: s.labels, entries: s.entries }).collect())
}

pub async fn handle(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let tenant = match app.tenant(&headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let (a, t) = (app.clone(), tenant.clone());
    let streams = match tokio::task::spawn_blocking(move || decode(&a, &t, &headers, &body)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            let reason = if e.status == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "otlp_decode" };
            app.metrics.push_errors.get_or_create(&crate::metrics::Reason { reason: reason.into() }).inc();
            return e.into_response();
        }
        Err(e) => return ApiError::internal(e.to_string()).into_response(),
    };
    if streams.is_empty() {
        // An export without records is valid OTLP: nothing to store.
        return StatusCode::NO_CONTENT.into_response();
    }
    store_push(&app, tenant, streams).await
}
