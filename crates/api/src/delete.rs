//! Loki's delete API (served by its compactor): `POST|PUT /loki/api/v1/delete` creates a
//! request (`query`, `start`, `end`, `max_interval`, read from the URL as Loki does), `GET`
//! lists the tenant's requests, `DELETE ?request_id=...[&force=true]` cancels one. The requests
//! themselves are the `deletes` crate's.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState};

fn param(uri: &Uri, name: &str) -> String {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn enabled(app: &AppState) -> Result<(), ApiError> {
    if app.deletes.config().enabled { Ok(()) } else { Err(ApiError::bad_request("Retention is not enabled")) }
}

/// `POST|PUT /loki/api/v1/delete`: 204 with the new request's id in `X-Delete-Request-ID`.
pub async fn create(State(app): State<AppState>, headers: HeaderMap, uri: Uri) -> Result<Response, ApiError> {
    enabled(&app)?;
    let tenant = app.tenant(&headers)?;
    let p = deletes::CreateParams {
        query: param(&uri, "query"),
        start: param(&uri, "start"),
        end: param(&uri, "end"),
        max_interval: param(&uri, "max_interval"),
    };
    let deletes = app.deletes.clone();
    let res = tokio::task::spawn_blocking(move || deletes.create(&tenant, &p))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    match res {
        Ok(id) => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            if let Ok(v) = HeaderValue::from_str(&id) {
                r.headers_mut().insert("x-delete-request-id", v);
            }
            Ok(r)
        }
        Err((true, msg)) => Err(ApiError::bad_request(msg)),
        Err((false, msg)) => Err(ApiError::internal(msg)),
    }
}

/// `GET /loki/api/v1/delete[?start&end]`: the tenant's requests, oldest first.
pub async fn list(State(app): State<AppState>, headers: HeaderMap, uri: Uri) -> Result<Response, ApiError> {
    enabled(&app)?;
    let tenant = app.tenant(&headers)?;
    let (s, e) = (param(&uri, "start"), param(&uri, "end"));
    let range = if !s.is_empty() && !e.is_empty() {
        // Both are given, so "now" (the default of an empty one) is never used.
        let s = deletes::parse_time(&s, 0)
            .ok_or_else(|| ApiError::bad_request("invalid start time: require unix seconds or RFC3339 format"))?;
        let e = deletes::parse_time(&e, 0)
            .ok_or_else(|| ApiError::bad_request("invalid end time: require unix seconds or RFC3339 format"))?;
        Some((s, e))
    } else {
        None
    };
    let list: Vec<serde_json::Value> = app.deletes.list(&tenant, range).iter().map(|r| r.to_json()).collect();
    Ok(crate::json::response(&serde_json::Value::Array(list)))
}

/// `DELETE /loki/api/v1/delete?request_id=...[&force=true]`: 204.
pub async fn cancel(State(app): State<AppState>, headers: HeaderMap, uri: Uri) -> Result<Response, ApiError> {
    enabled(&app)?;
    let tenant = app.tenant(&headers)?;
    let id = param(&uri, "request_id");
    let force = param(&uri, "force") == "true";
    let deletes = app.deletes.clone();
    let res = tokio::task::spawn_blocking(move || deletes.cancel(&tenant, &id, force))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    match res {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(deletes::CancelError::NotFound) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "could not find delete request with given id"))
        }
        Err(deletes::CancelError::BadRequest(m)) => Err(ApiError::bad_request(m)),
        Err(deletes::CancelError::Internal(m)) => Err(ApiError::internal(m)),
    }
}
