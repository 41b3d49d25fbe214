//! `POST /api/v2/alerts`, `GET /api/v2/alerts` (gettableAlert) and `GET /api/v2/alerts/groups`.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use model::Matcher;
use model::alert::PostableAlert;
use serde_json::{Value, json};

use super::{N, error, query};
use crate::alerts::Alert;
use crate::matchers::{matches_all, parse_matchers};
use crate::state::{Loaded, Muting};

pub async fn post(State(n): State<N>, body: Bytes) -> Response {
    let alerts: Vec<PostableAlert> = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("body is not a list of alerts: {e}")),
    };
    let errors = n.receive(alerts);
    if errors.is_empty() { StatusCode::OK.into_response() } else { error(StatusCode::BAD_REQUEST, errors.join("; ")) }
}

struct Filter {
    matchers: Vec<Matcher>,
    silenced: bool,
    inhibited: bool,
    active: bool,
    receiver: Option<regex::Regex>,
}

fn filter(raw: Option<String>) -> Result<Filter, String> {
    let p = query::pairs(raw.as_deref());
    let bad = |e: String| e;
    let mut matchers = Vec::new();
    for (_, v) in p.iter().filter(|(k, _)| k == "filter") {
        matchers.extend(parse_matchers(v).map_err(bad)?);
    }
    let receiver = match p.iter().rev().find(|(k, _)| k == "receiver") {
        Some((_, r)) if !r.is_empty() => Some(
            model::goregex::compile(&format!("^(?:{r})$"))
                .map_err(|e| format!("parameter receiver: bad regular expression: {e}"))?,
        ),
        _ => None,
    };
    Ok(Filter {
        matchers,
        silenced: query::boolean(&p, "silenced", true).map_err(bad)?,
        inhibited: query::boolean(&p, "inhibited", true).map_err(bad)?,
        active: query::boolean(&p, "active", true).map_err(bad)?,
        receiver,
    })
}

/// Alertmanager's `gettableAlert`.
fn gettable(a: &Alert, m: &Muting, receivers: &[String]) -> Value {
    json!({
        "labels": a.labels,
        "annotations": a.annotations,
        "startsAt": a.starts_at,
        "endsAt": a.ends_at,
        "updatedAt": a.updated_at,
        "fingerprint": a.fingerprint_hex(),
        "receivers": receivers.iter().map(|r| json!({"name": r})).collect::<Vec<_>>(),
        "status": {
            "state": if m.muted() { "suppressed" } else { "active" },
            "silencedBy": m.silenced_by,
            "inhibitedBy": m.inhibited_by,
            "mutedBy": [],
        },
        "generatorURL": a.generator_url,
    })
}

/// The current (unresolved) alerts passing the filter, with their muting and receivers.
/// An alert with its muting and receivers.
type Row = (Alert, Muting, Vec<String>);

fn selected(n: &N, f: &Filter) -> (std::sync::Arc<Loaded>, Vec<Row>) {
    let now = Timestamp::now();
    let loaded = n.shared.loaded();
    let mut alerts: Vec<Alert> = n
        .shared
        .alerts
        .lock()
        .iter()
        .filter(|a| !a.resolved(now) && matches_all(&f.matchers, |l| a.label(l)))
        .cloned()
        .collect();
    alerts.sort_by(|a, b| (&a.labels, a.fingerprint).cmp(&(&b.labels, b.fingerprint)));
    let muting = n.shared.muting(&loaded, &alerts, now);
    let out = alerts
        .into_iter()
        .zip(muting)
        .filter(|(_, m)| {
            let silenced = !m.silenced_by.is_empty();
            let inhibited = !m.inhibited_by.is_empty();
            (f.silenced || !silenced) && (f.inhibited || !inhibited) && (f.active || silenced || inhibited)
        })
        .map(|(a, m)| {
            let r = loaded.receivers_for(&a.labels);
            (a, m, r)
        })
        .filter(|(_, _, r)| f.receiver.as_ref().is_none_or(|re| r.iter().any(|x| re.is_match(x))))
        .collect();
    (loaded, out)
}

pub async fn list(State(n): State<N>, RawQuery(q): RawQuery) -> Response {
    let f = match filter(q) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let (_, list) = selected(&n, &f);
    Json(list.iter().map(|(a, m, r)| gettable(a, m, r)).collect::<Vec<_>>()).into_response()
}

/// `alertGroups`: alerts grouped per route and group labels, as the dispatcher groups them.
pub async fn groups(State(n): State<N>, RawQuery(q): RawQuery) -> Response {
    let f = match filter(q) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let (loaded, list) = selected(&n, &f);
    let Some(root) = &loaded.route else { return Json(Vec::<Value>::new()).into_response() };
    type GroupRow = (BTreeMap<String, String>, String, Vec<Value>);
    let mut groups: BTreeMap<String, GroupRow> = BTreeMap::new();
    for (a, m, receivers) in &list {
        for r in root.match_labels(&a.labels) {
            if f.receiver.as_ref().is_some_and(|re| !re.is_match(&r.receiver)) {
                continue;
            }
            let labels = r.group_labels(&a.labels);
            let key = format!("{}:{labels:?}", r.id);
            let g = groups.entry(key).or_insert_with(|| (labels, r.receiver.clone(), Vec::new()));
            g.2.push(gettable(a, m, receivers));
        }
    }
    let out: Vec<Value> = groups
        .into_values()
        .map(|(labels, receiver, alerts)| json!({"labels": labels, "receiver": {"name": receiver}, "alerts": alerts}))
        .collect();
    Json(out).into_response()
}
