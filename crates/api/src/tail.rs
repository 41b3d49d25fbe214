//! `GET /loki/api/v1/tail`: live tail over a WebSocket. History first (the newest `limit`
//! entries since `start`, oldest first), then every new matching entry as it is stored, at most
//! 100 per message, a ping every second, closed after `tail_max_duration`.
//!
//! `GET /api/prom/tail` is the same in Loki's legacy shape: streams as
//! `{"labels": "{...}", "entries": [{"ts": "<RFC3339Nano>", "line": "..."}]}` and a
//! `dropped_entries` field always present.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use logql::{LogEntryOut, Pipeline};
use model::Matcher;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::error::ApiError;
use crate::params::Params;
use crate::params::parse_time;
use crate::query::{encode_result, run};
use crate::{AppState, TailBatch, json};

type Upgrade = Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>;

/// A WebSocket handshake, or the answer refusing it.
type Handshake = Result<WebSocketUpgrade, Response>;

pub async fn handle(
    State(app): State<AppState>,
    ws: Upgrade,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    tail(app, ws.map_err(IntoResponse::into_response), method, uri, headers, &Bytes::new(), false)
}

/// `POST /loki/api/v1/tail` (and `/api/prom/tail`): Loki routes it, checks the parameters (from
/// the form body too) and then refuses the upgrade, since a WebSocket handshake is a GET: bad
/// parameters answer 400 with the reason, good ones 405 naming the method.
pub async fn post(State(app): State<AppState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let legacy = uri.path().starts_with("/api/prom/");
    let mut refused = ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "websocket: not a websocket handshake: request method is not GET",
    )
    .into_response();
    refused.headers_mut().insert(axum::http::header::ALLOW, axum::http::HeaderValue::from_static("GET"));
    tail(app, Err(refused), method, uri, headers, &body, legacy)
}

/// `GET /api/prom/tail`: the legacy shapes.
pub async fn legacy(
    State(app): State<AppState>,
    ws: Upgrade,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    tail(app, ws.map_err(IntoResponse::into_response), method, uri, headers, &Bytes::new(), true)
}

fn tail(
    app: AppState,
    ws: Handshake,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: &Bytes,
    legacy: bool,
) -> Response {
    let p = Params::parse(&method, &uri, &headers, body);
    let prepared = (|| -> Result<_, ApiError> {
        let tenant = app.tenant(&headers)?;
        let query = p.get("query").unwrap_or("").to_string();
        let expr = logql::parse(&query).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let (matchers, pipeline) = logql::log_pipeline(&expr).map_err(crate::query::engine_error)?;
        let limit = p.limit(100)?;
        let now = store::now_ns();
        let start = match p.get("start") {
            Some(s) => {
                parse_time(s).map_err(|e| ApiError::bad_request(format!("could not parse 'start' parameter: {e}")))?
            }
            None => now - 3_600_000_000_000,
        };
        if let Some(d) = p.get("delay_for") {
            let d: i64 = d.parse().map_err(|_| ApiError::bad_request("delay_for must be a whole number of seconds"))?;
            if d > 5 {
                return Err(ApiError::bad_request("delay_for can't be greater than 5"));
            }
        }
        let flags: Vec<String> = headers
            .get("x-loki-response-encoding-flags")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        Ok((tenant, query, matchers, pipeline, limit, start, flags))
    })();
    let (tenant, query, matchers, pipeline, limit, start, flags) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let clients = app.metrics.tail_clients.get();
    if clients >= app.cfg.max_concurrent_tail_requests as i64 {
        return ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            format!(
                "max concurrent tail requests limit exceeded, count > limit ({} > {})",
                clients + 1,
                app.cfg.max_concurrent_tail_requests
            ),
        )
        .into_response();
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(refused) => return refused,
    };
    ws.on_upgrade(move |socket| async move {
        app.metrics.tail_clients.inc();
        let t = Tail { app: app.clone(), tenant, query, matchers, pipeline, limit, start, flags, legacy };
        if let Err(e) = t.serve(socket).await {
            tracing::debug!(error = %e, "tail ended");
        }
        app.metrics.tail_clients.dec();
    })
}

struct Tail {
    app: AppState,
    tenant: String,
    query: String,
    matchers: Vec<Matcher>,
    pipeline: Pipeline,
    limit: u32,
    start: i64,
    flags: Vec<String>,
    legacy: bool,
}

impl Tail {
    fn message(&self, entries: Vec<LogEntryOut>) -> Message {
        let mut streams: Vec<logql::LogStream> = Vec::new();
        for e in entries {
            match streams.iter_mut().find(|s| s.labels == e.labels) {
                Some(s) => s.entries.push(e),
                None => streams.push(logql::LogStream { labels: e.labels.clone(), entries: vec![e] }),
            }
        }
        if self.legacy {
            let msg = json!({"streams": crate::legacy::streams_json(&streams), "dropped_entries": null});
            return Message::Text(String::from_utf8(json::to_vec(&msg)).unwrap_or_default().into());
        }
        let data =
            encode_result(&logql::QueryResult::Streams(streams), &self.flags, model::Direction::Forward, Value::Null);
        let mut msg = json!({"streams": data["result"]});
        if let Some(f) = data.get("encodingFlags") {
            msg["encodingFlags"] = f.clone();
        }
        Message::Text(String::from_utf8(json::to_vec(&msg)).unwrap_or_default().into())
    }

    async fn serve(mut self, mut socket: WebSocket) -> Result<(), axum::Error> {
        // Subscribe before reading history, so nothing stored in between is missed.
        let mut rx = self.app.tail.subscribe();
        let now = store::now_ns();
        let q = logql::QueryParams {
            query: self.query.clone(),
            start: self.start,
            end: now + 1,
            limit: self.limit,
            direction: model::Direction::Backward,
            ..Default::default()
        };
        let mut seen: HashSet<(i64, String)> = HashSet::new();
        match run(&self.app, self.tenant.clone(), q).await {
            Ok((out, _)) => {
                if let logql::QueryResult::Streams(streams) = out.result {
                    let mut all: Vec<LogEntryOut> = streams.into_iter().flat_map(|s| s.entries).collect();
                    all.sort_by_key(|e| e.ts);
                    for e in &all {
                        seen.insert((e.ts, e.line.clone()));
                    }
                    for chunk in all.chunks(100) {
                        socket.send(self.message(chunk.to_vec())).await?;
                    }
                }
            }
            Err(e) => {
                let _ = socket.send(close(&e.message)).await;
                return Ok(());
            }
        }
        let history_end = now;
        let max = tokio::time::sleep(self.app.cfg.tail_max_duration.0);
        tokio::pin!(max);
        let mut ping = tokio::time::interval(Duration::from_secs(1));
        let mut pending: Vec<LogEntryOut> = Vec::new();
        let mut flush = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = &mut max => {
                    let _ = socket.send(close("reached tail max duration limit")).await;
                    return Ok(());
                }
                _ = ping.tick() => socket.send(Message::Ping(Bytes::new())).await?,
                _ = flush.tick() => {
                    while !pending.is_empty() {
                        let n = pending.len().min(100);
                        let batch: Vec<LogEntryOut> = pending.drain(..n).collect();
                        socket.send(self.message(batch)).await?;
                    }
                }
                msg = socket.recv() => match msg {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Ok(_)) => {}
                },
                b = rx.recv() => match b {
                    Ok(batch) => self.accept(&batch, &mut pending, &seen, history_end),
                    Err(RecvError::Lagged(n)) => tracing::warn!(dropped_batches = n, "live tail client too slow; batches dropped"),
                    Err(RecvError::Closed) => return Ok(()),
                },
            }
            if pending.len() > 10_000 {
                let drop = pending.len() - 10_000;
                pending.drain(..drop);
            }
        }
    }

    fn accept(
        &mut self,
        b: &Arc<TailBatch>,
        out: &mut Vec<LogEntryOut>,
        seen: &HashSet<(i64, String)>,
        history_end: i64,
    ) {
        if b.tenant != self.tenant || !self.matchers.iter().all(|m| m.matches(b.labels.get(&m.name).unwrap_or(""))) {
            return;
        }
        for e in &b.entries {
            if e.ts <= history_end && seen.contains(&(e.ts, e.line.clone())) {
                continue;
            }
            if let Some(o) = self.pipeline.process(&b.labels, e) {
                out.push(o);
            }
        }
    }
}

fn close(reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code: 1011, reason: reason.to_string().into() }))
}
