//! `GET|POST /api/v2/silences`, `GET|DELETE /api/v2/silence/{id}`; changes are written to
//! disk before the answer.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::json;

use super::{N, error, query};
use crate::matchers::parse_matchers;
use crate::silence::{PostableSilence, Silence, SilenceError, SilenceState};

fn persist(n: &N) -> Result<(), Box<Response>> {
    n.shared.silences.lock().persist().map_err(|e| {
        tracing::error!("cannot write silences: {e}");
        Box::new(error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot write silences: {e}")))
    })
}

fn silence_error(e: SilenceError) -> Response {
    let status = match e {
        SilenceError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    };
    error(status, e.to_string())
}

pub async fn list(State(n): State<N>, RawQuery(q): RawQuery) -> Response {
    let mut filters = Vec::new();
    for (_, v) in query::pairs(q.as_deref()).iter().filter(|(k, _)| k == "filter") {
        match parse_matchers(v) {
            Ok(m) => filters.extend(m),
            Err(e) => return error(StatusCode::BAD_REQUEST, e),
        }
    }
    let now = Timestamp::now();
    let mut list: Vec<Silence> = n
        .shared
        .silences
        .lock()
        .list()
        .filter(|s| filters.iter().all(|f| s.matchers.iter().any(|m| m.name == f.name && f.matches(&m.value))))
        .cloned()
        .collect();
    // Active first (ending soonest first), then pending (starting soonest), then expired
    // (most recent first), as Alertmanager lists them.
    list.sort_by_key(|s| match s.state(now) {
        SilenceState::Active => (0, s.ends_at.as_nanosecond()),
        SilenceState::Pending => (1, s.starts_at.as_nanosecond()),
        SilenceState::Expired => (2, -s.ends_at.as_nanosecond()),
    });
    Json(list.iter().map(|s| s.gettable(now)).collect::<Vec<_>>()).into_response()
}

pub async fn post(State(n): State<N>, body: Bytes) -> Response {
    let p: PostableSilence = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a silence: {e}")),
    };
    let res = n.shared.silences.lock().upsert(p, Timestamp::now());
    match res {
        Ok(id) => {
            if let Err(r) = persist(&n) {
                return *r;
            }
            n.shared.wake.notify_one();
            Json(json!({ "silenceID": id })).into_response()
        }
        Err(e) => silence_error(e),
    }
}

pub async fn get_one(State(n): State<N>, Path(id): Path<String>) -> Response {
    match n.shared.silences.lock().get(&id) {
        Some(s) => Json(s.gettable(Timestamp::now())).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("silence {id} not found")),
    }
}

pub async fn delete(State(n): State<N>, Path(id): Path<String>) -> Response {
    let res = n.shared.silences.lock().expire(&id, Timestamp::now());
    match res {
        Ok(()) => match persist(&n) {
            Ok(()) => StatusCode::OK.into_response(),
            Err(r) => *r,
        },
        Err(e) => silence_error(e),
    }
}
