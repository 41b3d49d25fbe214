//! Metadata endpoints: label names and values, series, index statistics and volumes.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use model::{Labels, Matcher};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::loki_json::{empty_stats, labels_json, seconds_json};
use crate::params::{Params, check_points, default_step, step_param};
use crate::{AppState, json};

/// The matchers of a pure stream selector. With `strict`, the selector must have a matcher that
/// does not match the empty string (as for queries); otherwise `{}` and the empty string select all.
pub fn selector(q: Option<&str>, strict: bool) -> Result<Vec<Matcher>, ApiError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        if strict {
            return Err(ApiError::bad_request("parse error : syntax error: unexpected $end"));
        }
        return Ok(Vec::new());
    };
    if !strict && q.chars().filter(|c| !c.is_whitespace()).collect::<String>() == "{}" {
        return Ok(Vec::new());
    }
    let e = if strict { logql::parse(q) } else { logql::parse_without_validation(q) }
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    e.selector_matchers().map(|m| m.to_vec()).ok_or_else(|| ApiError::bad_request("only label matchers are supported"))
}

fn now() -> i64 {
    store::now_ns()
}

pub fn list_response(items: Vec<String>) -> Response {
    if items.is_empty() {
        json::response(&json!({"status": "success"}))
    } else {
        json::response(&json!({"status": "success", "data": items}))
    }
}

/// The label names of a request (`start`, `end`, `query`), or, with `name`, that label's values.
pub fn label_list(
    app: &AppState,
    headers: &HeaderMap,
    p: &Params,
    name: Option<&str>,
) -> Result<Vec<String>, ApiError> {
    let tenant = app.tenant(headers)?;
    let (start, end) = p.bounds(now())?;
    let m = selector(p.get("query"), false)?;
    Ok(match name {
        Some(n) => app.store.label_values(&tenant, n, &m, start, end),
        None => app.store.label_names(&tenant, &m, start, end),
    })
}

pub async fn labels(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    label_list(&app, &headers, &p, None).map(list_response).unwrap_or_else(IntoResponse::into_response)
}

pub async fn label_values(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    p: Params,
) -> Response {
    label_list(&app, &headers, &p, Some(&name)).map(list_response).unwrap_or_else(IntoResponse::into_response)
}

pub async fn series(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let run = || -> Result<Response, ApiError> {
        let tenant = app.tenant(&headers)?;
        let (start, end) = p.bounds(now())?;
        let mut selectors: Vec<&str> = p.all("match[]");
        selectors.extend(p.all("match"));
        let mut out: std::collections::BTreeSet<Labels> = Default::default();
        if selectors.iter().all(|s| s.trim().is_empty()) {
            out.extend(app.store.series(&tenant, &[], start, end));
        }
        for s in selectors.iter().filter(|s| !s.trim().is_empty()) {
            let m = selector(Some(s), false)?;
            out.extend(app.store.series(&tenant, &m, start, end));
        }
        let data: Vec<Value> = out.iter().map(labels_json).collect();
        Ok(json::response(&json!({"status": "success", "data": data})))
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

pub async fn index_stats(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let run = || -> Result<Response, ApiError> {
        let tenant = app.tenant(&headers)?;
        let (start, end) = p.bounds(now())?;
        let m = selector(p.get("query"), true)?;
        let mut total = store::IndexStats::default();
        for (_, s) in app.store.stream_stats(&tenant, &m, start, end) {
            total.streams += s.streams;
            total.chunks += s.chunks;
            total.bytes += s.bytes;
            total.entries += s.entries;
        }
        Ok(json::response(&total))
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

struct VolumeParams {
    tenant: String,
    matchers: Vec<Matcher>,
    start: i64,
    end: i64,
    limit: usize,
    target: Vec<String>,
    by_labels: bool,
}

fn volume_params(app: &AppState, p: &Params, headers: &HeaderMap) -> Result<VolumeParams, ApiError> {
    let tenant = app.tenant(headers)?;
    let (start, end) = p.bounds(now())?;
    let matchers = selector(p.get("query"), false)?;
    let limit = match p.get("limit") {
        None => 100,
        Some(s) => match s.parse::<i64>() {
            Ok(0) => 100,
            Ok(n) if n > 0 => n as usize,
            _ => return Err(ApiError::bad_request("limit must be a positive value")),
        },
    };
    let target: Vec<String> = p
        .get("targetLabels")
        .map(|t| t.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let by_labels = match p.get("aggregateBy") {
        None | Some("series") => false,
        Some("labels") => true,
        Some(_) => return Err(ApiError::bad_request("invalid aggregation option")),
    };
    Ok(VolumeParams { tenant, matchers, start, end, limit, target, by_labels })
}

/// Volumes (line bytes) grouped as Loki groups them, largest first, at most `limit`.
fn volumes(app: &AppState, v: &VolumeParams, start: i64, end: i64) -> BTreeMap<Labels, u64> {
    let group_names: Vec<String> = if !v.target.is_empty() {
        v.target.clone()
    } else {
        let mut n: Vec<String> = v.matchers.iter().map(|m| m.name.clone()).collect();
        n.dedup();
        n
    };
    let mut groups: BTreeMap<Labels, u64> = BTreeMap::new();
    for (labels, s) in app.store.stream_stats(&v.tenant, &v.matchers, start, end) {
        if v.by_labels {
            for (k, _) in labels.iter() {
                *groups.entry(Labels::from_sorted(vec![(k.to_string(), String::new())])).or_default() += s.bytes;
            }
        } else {
            let key: Vec<(String, String)> = if group_names.is_empty() {
                labels.as_slice().to_vec()
            } else {
                group_names.iter().filter_map(|n| labels.get(n).map(|v| (n.clone(), v.to_string()))).collect()
            };
            let key = Labels::from_pairs(key).unwrap_or_default();
            *groups.entry(key).or_default() += s.bytes;
        }
    }
    groups
}

fn top(groups: BTreeMap<Labels, u64>, limit: usize) -> Vec<(Labels, u64)> {
    let mut v: Vec<(Labels, u64)> = groups.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(limit);
    v
}

fn metric_json(l: &Labels) -> Value {
    // aggregateBy=labels answers {name=""}: keep empty values here.
    Value::Object(l.as_slice().iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

pub async fn volume(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let run = || -> Result<Response, ApiError> {
        let v = volume_params(&app, &p, &headers)?;
        let result: Vec<Value> = top(volumes(&app, &v, v.start, v.end), v.limit)
            .into_iter()
            .map(|(l, b)| json!({"metric": metric_json(&l), "value": [seconds_json(v.end), b.to_string()]}))
            .collect();
        Ok(json::response(
            &json!({"status": "success", "data": {"resultType": "vector", "result": result, "stats": empty_stats()}}),
        ))
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

pub async fn volume_range(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let run = || -> Result<Response, ApiError> {
        let v = volume_params(&app, &p, &headers)?;
        let step = step_param(&p, "step")?.unwrap_or_else(|| default_step(v.start, v.end));
        if step <= 0 {
            return Err(ApiError::bad_request(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        check_points(v.start, v.end, step)?;
        let overall = top(volumes(&app, &v, v.start, v.end), v.limit);
        let keep: std::collections::BTreeSet<&Labels> = overall.iter().map(|(l, _)| l).collect();
        let mut series: BTreeMap<Labels, Vec<Value>> = BTreeMap::new();
        let mut t = v.start - v.start.rem_euclid(step) + step;
        while t < v.end.saturating_add(step) {
            for (l, b) in volumes(&app, &v, t - step, t) {
                if keep.contains(&l) && b > 0 {
                    series.entry(l).or_default().push(json!([seconds_json(t), b.to_string()]));
                }
            }
            let Some(next) = t.checked_add(step) else { break };
            t = next;
        }
        let mut result: Vec<(u64, Value)> = series
            .into_iter()
            .map(|(l, pts)| {
                let total = overall.iter().find(|(k, _)| *k == l).map_or(0, |(_, b)| *b);
                (total, json!({"metric": metric_json(&l), "values": pts}))
            })
            .collect();
        result.sort_by_key(|r| std::cmp::Reverse(r.0));
        let result: Vec<Value> = result.into_iter().map(|(_, v)| v).collect();
        Ok(json::response(
            &json!({"status": "success", "data": {"resultType": "matrix", "result": result, "stats": empty_stats()}}),
        ))
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

pub async fn detected_labels(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let run = || -> Result<Response, ApiError> {
        let tenant = app.tenant(&headers)?;
        let (start, end) = p.bounds(now())?;
        let m = selector(p.get("query"), false)?;
        let mut values: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for l in app.store.series(&tenant, &m, start, end) {
            for (k, v) in l.iter() {
                values.entry(k.to_string()).or_default().insert(v.to_string());
            }
        }
        let always = ["cluster", "namespace", "instance", "pod"];
        let items: Vec<Value> = values
            .into_iter()
            .filter(|(k, vs)| {
                always.contains(&k.as_str())
                    || !vs.iter().all(|v| v.parse::<f64>().is_ok() || looks_like_uuid(v))
                    || vs.iter().all(|v| v == "0" || v == "1")
            })
            .map(|(k, vs)| json!({"label": k, "cardinality": vs.len()}))
            .collect();
        if items.is_empty() {
            return Ok(json::response(&json!({})));
        }
        Ok(json::response(&json!({"detectedLabels": items})))
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

fn looks_like_uuid(v: &str) -> bool {
    v.len() == 36
        && v.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}
