//! What other nodes sharing the bucket ask a writer: the entries it holds and has not uploaded
//! yet (its heads, segments still to upload), so their answers are as fresh as its own
//! (`store::tier::LiveData` is the asking side).
//!
//! `GET /api/v1/cluster/unuploaded?query={selector}&start=<ns>&end=<ns>[&contains=s...][&listed_at=<ms>]`
//! answers the entries in `[start, end)` holding every `contains` substring, leaving out the
//! segments uploaded before `listed_at` (when the asker's last complete listing of the bucket
//! began). With `Accept: application/x-protobuf`, as a snappy-compressed Loki `PushRequest`
//! (a tenth of the JSON's bytes, and decoded without parsing text); otherwise as
//! `{"streams": [{"labels": "{app=\"api\"}", "values": [["<ns>", "line", [["k", "v"]]]]}]}`.
//! With `identities=1` (a count), each entry's time, line length, hash and metadata instead,
//! zstd-compressed (`store::tier::identities`). Metadata keeps the entry's order (the reader removes exact duplicates by it). 413 beyond
//! `store::tier::MAX_LIVE_BYTES`. The header `X-Bitacora-Uploaded-Segments` names, space-separated,
//! the segments in the answer that are in the bucket already: the asker reads those from the
//! answer only, so it never holds one writer's entries twice.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::meta::selector;
use crate::params::Params;
use crate::{AppState, json};

pub async fn unuploaded(State(app): State<AppState>, headers: HeaderMap, p: Params) -> Response {
    let run = async {
        let tenant = app.tenant(&headers)?;
        let (start, end) = p.bounds(store::now_ns())?;
        let matchers = selector(p.get("query"), true)?;
        let contains: Vec<String> = p.all("contains").into_iter().filter(|s| !s.is_empty()).map(String::from).collect();
        let q = store::Select {
            tenant,
            matchers,
            start,
            end,
            direction: model::Direction::Forward,
            required_substrings: contains,
            required_any_case: vec![],
            line_filter: None,
            summaries: None,
            take: None,
        };
        let listed_at = match p.get("listed_at").filter(|s| !s.is_empty()) {
            Some(s) => s.parse::<u64>().map_err(|e| ApiError::bad_request(format!("invalid listed_at {s:?}: {e}")))?,
            None => 0,
        };
        let identities = match p.get("identities").unwrap_or("") {
            "" | "0" | "false" => false,
            "1" | "true" => true,
            v => return Err(ApiError::bad_request(format!("invalid identities {v:?}: expected 1 or 0"))),
        };
        let store = app.store.clone();
        let answer = tokio::task::spawn_blocking(move || store.unuploaded(&q, listed_at, identities))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(|e| match e {
                store::StoreError::TooLarge(m) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, m),
                e => ApiError::internal(e.to_string()),
            })?;
        let streams = &answer.streams;
        // Which of the answer's segments the asker may have listed too (it reads them here).
        let uploaded = (store::tier::UPLOADED_HEADER, answer.uploaded.join(" "));
        if identities {
            use store::tier::identities;
            let body = identities::encode(&answer.identities).map_err(|e| ApiError::internal(e.to_string()))?;
            return Ok((
                [(axum::http::header::CONTENT_TYPE.as_str(), identities::CONTENT_TYPE.to_string()), uploaded],
                body,
            )
                .into_response());
        }
        let protobuf = headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/x-protobuf"));
        if protobuf {
            let refs: Vec<(String, Vec<lokiproto::EntryRef>)> = streams
                .iter()
                .map(|(labels, entries)| {
                    let refs = entries
                        .iter()
                        .map(|e| lokiproto::EntryRef { ts: e.ts, line: &e.line, metadata: &e.metadata })
                        .collect();
                    (labels.to_string(), refs)
                })
                .collect();
            let body = snap::raw::Encoder::new()
                .compress_vec(&lokiproto::encode_push(&refs))
                .map_err(|e| ApiError::internal(e.to_string()))?;
            return Ok((
                [(axum::http::header::CONTENT_TYPE.as_str(), "application/x-protobuf".to_string()), uploaded],
                body,
            )
                .into_response());
        }
        // Serialized straight from the entries (no JSON tree of them in memory).
        let out = Answer {
            streams: streams
                .iter()
                .map(|(labels, entries)| AnswerStream {
                    labels: labels.to_string(),
                    values: entries
                        .iter()
                        .map(|e| (e.ts.to_string(), e.line.as_str(), e.metadata.as_slice()))
                        .collect(),
                })
                .collect(),
        };
        let mut resp = json::response(&out);
        if let Ok(v) = axum::http::HeaderValue::from_str(&uploaded.1) {
            resp.headers_mut().insert(uploaded.0, v);
        }
        Ok::<_, ApiError>(resp)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Serialize)]
struct Answer<'a> {
    streams: Vec<AnswerStream<'a>>,
}

/// A stream's entries as `[timestamp, line, metadata pairs]`.
#[derive(Serialize)]
struct AnswerStream<'a> {
    labels: String,
    values: Vec<(String, &'a str, Metadata<'a>)>,
}

/// An entry's structured metadata, in order.
type Metadata<'a> = &'a [(String, String)];
