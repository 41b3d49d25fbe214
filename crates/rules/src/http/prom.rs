//! Prometheus' rules and alerts read API (`/api/v1/rules`, `/api/v1/alerts`) as Loki serves
//! it under `/prometheus`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Http;
use crate::alert::{Alert, AlertState, to_ts};
use crate::group::RuleRuntime;

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or(())
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn params(q: &Option<String>) -> Vec<(String, String)> {
    q.as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn all(p: &[(String, String)], name: &str) -> Vec<String> {
    p.iter().filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name)).map(|(_, v)| v.clone()).collect()
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`, how Prometheus prints an alert's value.
fn value_e(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return crate::template::go_float(v);
    }
    let s = format!("{v:e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, d) = e.strip_prefix('-').map_or(('+', e), |d| ('-', d));
    format!("{m}e{sign}{d:0>2}")
}

fn time(ns: Option<i64>) -> String {
    ns.map_or("0001-01-01T00:00:00Z".to_string(), |n| to_ts(n).to_string())
}

fn alert_json(a: &Alert) -> Value {
    let mut v = json!({
        "labels": a.labels,
        "annotations": a.annotations,
        "state": a.state.as_str(),
        "activeAt": to_ts(a.active_at).to_string(),
        "value": value_e(a.value),
    });
    if let Some(k) = a.keep_firing_since {
        v["keepFiringSince"] = json!(to_ts(k).to_string());
    }
    v
}

fn active(r: &RuleRuntime) -> impl Iterator<Item = &Alert> {
    r.alerts.active.values().filter(|a| a.state != AlertState::Inactive)
}

fn rule_json(r: &RuleRuntime) -> Value {
    let common = |mut v: Value| {
        v["health"] = json!(r.health.as_str());
        v["lastError"] = json!(r.last_error);
        v["evaluationTime"] = json!(r.eval_secs);
        v["lastEvaluation"] = json!(time(r.last_eval));
        v
    };
    match &r.spec {
        Some(spec) => {
            let alerts: Vec<&Alert> = active(r).collect();
            let state = if alerts.iter().any(|a| a.state == AlertState::Firing) {
                "firing"
            } else if alerts.is_empty() {
                "inactive"
            } else {
                "pending"
            };
            common(json!({
                "state": state,
                "name": spec.name,
                "query": r.def.expr,
                "duration": spec.for_ns as f64 / 1e9,
                "keepFiringFor": spec.keep_firing_for_ns as f64 / 1e9,
                "labels": r.def.labels,
                "annotations": r.def.annotations,
                "alerts": alerts.into_iter().map(alert_json).collect::<Vec<_>>(),
                "type": "alerting",
            }))
        }
        None => common(json!({
            "name": r.def.name(),
            "query": r.def.expr,
            "labels": r.def.labels,
            "type": "recording",
        })),
    }
}

fn ok(data: Value) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

pub async fn rules(State(st): State<Http>, h: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let tenant = match st.tenant(&h) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let p = params(&q);
    let kind = all(&p, "type").pop().unwrap_or_default().to_lowercase();
    let (want_alert, want_record) = match kind.as_str() {
        "" => (true, true),
        "alert" => (true, false),
        "record" => (false, true),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"status": "error", "errorType": "bad_data", "error": format!("invalid query parameter type: {kind:?} (want alert or record)")})),
            )
                .into_response();
        }
    };
    let (names, groups_f, files) = (all(&p, "rule_name"), all(&p, "rule_group"), all(&p, "file"));
    let rule_filter = !names.is_empty() || !kind.is_empty();
    let mut out = Vec::new();
    for g in st.ruler.groups_of(&tenant) {
        let rt = g.rt.lock();
        if (!groups_f.is_empty() && !groups_f.contains(&rt.key.group))
            || (!files.is_empty() && !files.contains(&rt.key.namespace))
        {
            continue;
        }
        let rules: Vec<Value> = rt
            .rules
            .iter()
            .filter(|r| if r.spec.is_some() { want_alert } else { want_record })
            .filter(|r| names.is_empty() || names.iter().any(|n| n == r.def.name()))
            .map(rule_json)
            .collect();
        if rules.is_empty() && rule_filter {
            continue;
        }
        out.push(json!({
            "name": rt.key.group,
            "file": rt.key.namespace,
            "rules": rules,
            "interval": rt.interval.as_secs_f64(),
            "limit": rt.def.limit,
            "evaluationTime": rt.eval_secs,
            "lastEvaluation": time(rt.last_eval),
        }));
    }
    ok(json!({"groups": out}))
}

pub async fn alerts(State(st): State<Http>, h: HeaderMap) -> Response {
    let tenant = match st.tenant(&h) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut out = Vec::new();
    for g in st.ruler.groups_of(&tenant) {
        let rt = g.rt.lock();
        for r in &rt.rules {
            out.extend(active(r).map(alert_json));
        }
    }
    ok(json!({"alerts": out}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_params_as_prometheus_writes_them() {
        assert_eq!(value_e(1.0), "1e+00");
        assert_eq!(value_e(12.5), "1.25e+01");
        assert_eq!(value_e(0.001), "1e-03");
        let p = params(&Some("rule_name%5B%5D=A+b&rule_name[]=C&type=alert".into()));
        assert_eq!(all(&p, "rule_name"), ["A b", "C"]);
        assert_eq!(all(&p, "type"), ["alert"]);
    }
}
