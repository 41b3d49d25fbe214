//! Loki's legacy read endpoints (`/api/prom/*`), for old Grafana and logcli: `query` (log
//! queries only, with the deprecated `regexp` parameter), `label`, `label/{name}/values` and
//! `series`, in the legacy shapes: streams as `{"labels": "{...}", "entries": [{"ts", "line"}]}`
//! with RFC 3339 times, label lists as `{"values": [...]}`. Legacy tail is [`crate::tail`]'s.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::loki_json::stats_json;
use crate::params::Params;
use crate::query::{run, summary};
use crate::{AppState, json};

/// A time in Unix nanoseconds as Go's `RFC3339Nano` prints it (UTC, trailing zeros cut).
pub fn rfc3339_nano(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(ns as i128).map(|t| t.to_string()).unwrap_or_default()
}

/// Streams in the legacy shape.
pub fn streams_json(streams: &[logql::LogStream]) -> Value {
    Value::Array(
        streams
            .iter()
            .map(|s| {
                let entries: Vec<Value> =
                    s.entries.iter().map(|e| json!({"ts": rfc3339_nano(e.ts), "line": e.line})).collect();
                json!({"labels": s.labels.to_string(), "entries": entries})
            })
            .collect(),
    )
}

pub async fn query(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let res = async {
        let tenant = app.tenant(&headers)?;
        let (start, end) = p.bounds(store::now_ns())?;
        let limit = p.limit(100)?;
        let direction = p.direction()?;
        let mut text = p.get("query").unwrap_or("").to_string();
        if let Some(re) = p.get("regexp").filter(|r| !r.is_empty()) {
            text = format!("{text} |~ {}", serde_json::to_string(re).unwrap_or_default());
        }
        let expr = logql::parse(&text).map_err(|e| ApiError::bad_request(e.to_string()))?;
        if logql::log_pipeline(&expr).is_err() {
            return Err(ApiError::bad_request("legacy endpoints only support streams result type"));
        }
        let q = logql::QueryParams { query: text, start, end, limit, direction, ..Default::default() };
        let (out, rs) = run(&app, tenant, q).await?;
        let logql::QueryResult::Streams(streams) = &out.result else {
            return Err(ApiError::bad_request("legacy endpoints only support streams result type"));
        };
        Ok::<_, ApiError>(json::response(
            &json!({"streams": streams_json(streams), "stats": stats_json(&summary(&out, &rs))}),
        ))
    };
    res.await.unwrap_or_else(IntoResponse::into_response)
}

fn values(items: Vec<String>) -> Response {
    json::response(&json!({ "values": items }))
}

pub async fn labels(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    crate::meta::label_list(&app, &headers, &p, None).map(values).unwrap_or_else(IntoResponse::into_response)
}

pub async fn label_values(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    p: Params,
) -> Response {
    crate::meta::label_list(&app, &headers, &p, Some(&name)).map(values).unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_as_go_rfc3339_nano() {
        assert_eq!(super::rfc3339_nano(1_700_000_000_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::rfc3339_nano(1_700_000_000_120_000_000), "2023-11-14T22:13:20.12Z");
        assert_eq!(super::rfc3339_nano(1_700_000_000_000_000_001), "2023-11-14T22:13:20.000000001Z");
    }
}
