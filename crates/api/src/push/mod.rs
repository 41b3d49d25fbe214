//! `POST /loki/api/v1/push` and `/api/prom/push`: Loki's JSON (both shapes) and protobuf with
//! snappy, optionally gzip or deflate encoded, decoded into the store's push streams.
//!
//! Bodies are bounded before and after decompression by Loki's `max_recv_msg_size` (100 MiB):
//! gzip and deflate are inflated as a stream that stops at the limit, and snappy's declared
//! length is checked before its buffer is allocated, so a small "bomb" cannot make the server
//! allocate gigabytes; both are answered 413 naming the limit.

mod protobuf;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use model::{Entry, Labels};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use store::{PushStatus, PushStream};

use crate::AppState;
use crate::error::ApiError;

pub const MAX_RECV_MSG_SIZE: usize = 100 << 20;
/// The most a decompressed body may hold (Loki applies `max_recv_msg_size` after decompression).
pub const MAX_DECOMPRESSED_SIZE: usize = MAX_RECV_MSG_SIZE;

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
}

pub async fn handle(State(app): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let tenant = match app.tenant(&headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    // Decoded and stored on one blocking thread (one hand-over per push, not two).
    let store = app.store.clone();
    let done = tokio::task::spawn_blocking(move || {
        let decoded = decode(uri.path(), &headers, &body)?;
        drop(body);
        match decoded {
            Decoded::Protobuf(raw) => Ok(store.push_incoming(&tenant, read_protobuf(&raw)?)),
            Decoded::Streams(streams) => Ok::<_, ApiError>(store.push(&tenant, streams)),
        }
    })
    .await;
    match done {
        Ok(Ok(stored)) => answer(stored),
        Ok(Err(e)) => {
            let reason = if e.status == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "decode" };
            app.metrics.push_errors.get_or_create(&crate::metrics::Reason { reason: reason.into() }).inc();
            e.into_response()
        }
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

/// Stores decoded streams and answers as Loki does: 204, or the store's refusal (400 naming the
/// entries left out, 429 when rate limited, 422 when nothing was pushed). Acknowledged means in
/// the write-ahead log.
pub async fn store_push(app: &AppState, tenant: String, streams: Vec<PushStream>) -> Response {
    let store = app.store.clone();
    match tokio::task::spawn_blocking(move || store.push(&tenant, streams)).await {
        Ok(stored) => answer(stored),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

/// The answer to a push the store took or refused.
fn answer(stored: Result<store::PushOutcome, store::StoreError>) -> Response {
    match stored {
        Ok(out) => match out.status {
            PushStatus::Ok => StatusCode::NO_CONTENT.into_response(),
            PushStatus::BadRequest => ApiError::bad_request(out.message).into_response(),
            PushStatus::RateLimited => ApiError::new(StatusCode::TOO_MANY_REQUESTS, out.message).into_response(),
            PushStatus::Unprocessable => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, out.message).into_response(),
        },
        Err(e) => {
            let mut err = ApiError::from(e);
            err.message = format!("could not store the push: {}", err.message);
            err.into_response()
        }
    }
}

/// A push body, decompressed: a protobuf body (whose entries are read from it, borrowing
/// their lines, as they are stored) or the streams of a JSON one.
pub(crate) enum Decoded {
    Protobuf(Vec<u8>),
    Streams(Vec<PushStream>),
}

/// Decodes a push body by path, content type and content encoding.
pub(crate) fn decode(path: &str, headers: &HeaderMap, body: &[u8]) -> Result<Decoded, ApiError> {
    if body.len() > MAX_RECV_MSG_SIZE {
        return Err(too_large(format!("message size too large than max ({} vs {MAX_RECV_MSG_SIZE})", body.len())));
    }
    let inflated = inflate(headers, body)?;
    let body: &[u8] = &inflated;
    let content_type = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("\u{0}"));
    let is_json = match content_type {
        None | Some("") => false,
        Some(ct) => {
            let m: mime::Mime = ct
                .parse()
                .ok()
                .filter(|m: &mime::Mime| !m.type_().as_str().is_empty() && !m.subtype().as_str().is_empty())
                .ok_or_else(|| ApiError::bad_request(format!("invalid Content-Type header {ct:?}")))?;
            m.type_() == mime::APPLICATION && m.subtype() == mime::JSON
        }
    };
    if is_json {
        let v1 = path.to_ascii_lowercase().contains("/loki/api/v1");
        // Each entry is a list or an object, and so is each stream: counted before anything is
        // laid out, at twice an entry's size (the lists grow by doubling); a legacy entry's
        // timestamp is a string of its own.
        let entry = if v1 { size_of::<V1Value>() } else { size_of::<LegacyEntry>() + 32 };
        Budget::new().entries(json_nodes(body), 2 * entry)?;
        let streams = if v1 { decode_json_v1(body)? } else { decode_json_legacy(body)? };
        Ok(Decoded::Streams(streams))
    } else {
        unsnappy(body).map(Decoded::Protobuf)
    }
}

/// The body as sent (`Content-Encoding` absent, `identity` or `snappy`), or gunzipped or
/// inflated within [`MAX_DECOMPRESSED_SIZE`]; another encoding is a 400 naming it.
pub fn inflate<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, ApiError> {
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("").trim();
    Ok(match encoding.to_ascii_lowercase().as_str() {
        "" | "snappy" | "identity" => std::borrow::Cow::Borrowed(body),
        "gzip" => read_limited(flate2::read::GzDecoder::new(body), "gzip")?.into(),
        "deflate" => read_limited(flate2::read::DeflateDecoder::new(body), "deflate")?.into(),
        other => return Err(ApiError::bad_request(format!("Content-Encoding {other:?} not supported"))),
    })
}

/// Inflates a body, reading at most one byte past the limit: memory stays bounded by the limit
/// however much the body would inflate to.
fn read_limited(r: impl Read, what: &str) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    r.take(MAX_DECOMPRESSED_SIZE as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::bad_request(format!("could not decompress the {what} body: {e}")))?;
    if out.len() > MAX_DECOMPRESSED_SIZE {
        return Err(too_large(format!(
            "message size too large than max: the {what} body decompresses to more than {MAX_DECOMPRESSED_SIZE} bytes"
        )));
    }
    Ok(out)
}

/// A snappy-compressed body's bytes, its declared length checked before anything is allocated.
fn unsnappy(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let declared = snap::raw::decompress_len(body)
        .map_err(|e| ApiError::bad_request(format!("could not decode the snappy-compressed protobuf body: {e}")))?;
    if declared > MAX_DECOMPRESSED_SIZE {
        return Err(too_large(format!(
            "message size too large than max ({declared} vs {MAX_DECOMPRESSED_SIZE}): the snappy body declares {declared} decompressed bytes"
        )));
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| ApiError::bad_request(format!("could not decode the snappy-compressed protobuf body: {e}")))
}

/// How much memory a push's streams and entries may still take once laid out, besides its
/// body: each entry 40 bytes, each stream 256 (measured: its place in the list as it grows,
/// its parsed labels' allocations) and its labels' bytes three times over. A
/// body under the size limit can hold millions of empty entries (2 bytes each in protobuf, 20
/// times that in memory) or streams; such a push is refused as it is read, before they are
/// laid out, where it took gigabytes. Honest pushes take far less: 100 MiB of lines averaging
/// 32 bytes take [`DECODED_LIMIT`].
pub(crate) struct Budget {
    left: usize,
}

/// The most memory one push's streams and entries may take.
pub(crate) const DECODED_LIMIT: usize = 128 << 20;

impl Budget {
    pub(crate) fn new() -> Self {
        Budget { left: DECODED_LIMIT }
    }

    /// Takes `n` entries of `size` bytes each, or says why the push is refused.
    pub(crate) fn entries(&mut self, n: usize, size: usize) -> Result<(), ApiError> {
        self.take(n.saturating_mul(size))
    }

    /// Takes one stream whose labels are `label_bytes` long.
    pub(crate) fn stream(&mut self, label_bytes: usize) -> Result<(), ApiError> {
        self.take(256 + 3 * label_bytes)
    }

    /// Takes `bytes` of memory.
    pub(crate) fn bytes(&mut self, bytes: usize) -> Result<(), ApiError> {
        self.take(bytes)
    }

    fn take(&mut self, bytes: usize) -> Result<(), ApiError> {
        match self.left.checked_sub(bytes) {
            Some(l) => {
                self.left = l;
                Ok(())
            }
            None => Err(too_large(format!(
                "push request too large once decoded: what it holds would take more than {} MiB of memory (entries or log records averaging under 32 bytes, or empty streams); send it in smaller pushes",
                DECODED_LIMIT >> 20
            ))),
        }
    }
}

/// How many objects and arrays a JSON body holds (outside its strings): what it takes once
/// read grows with them, not with its bytes (`{}` and `[]` are two).
pub(crate) fn json_nodes(body: &[u8]) -> usize {
    let (mut nodes, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => nodes += 1,
                _ => {}
            }
        }
    }
    nodes
}

/// The streams of a decompressed protobuf push, their lines borrowed from it.
fn read_protobuf(raw: &[u8]) -> Result<Vec<store::IncomingStream<'_>>, ApiError> {
    protobuf::read(raw).map_err(|e| match e {
        protobuf::ReadError::Wire(e) => {
            ApiError::bad_request(format!("could not decode the protobuf push request: {e}"))
        }
        protobuf::ReadError::Labels(e) => ApiError::bad_request(format!("couldn't parse labels: {e}")),
        protobuf::ReadError::TooLarge(e) => e,
    })
}

/// A snappy-compressed protobuf push's streams, owning their lines (for a caller that keeps
/// them).
pub fn decode_protobuf(body: &[u8]) -> Result<Vec<PushStream>, ApiError> {
    let raw = unsnappy(body)?;
    Ok(read_protobuf(&raw)?
        .into_iter()
        .map(|s| PushStream { labels: s.labels, entries: s.entries.iter().map(store::Incoming::to_entry).collect() })
        .collect())
}

/// Checks label names as Prometheus' parser would, and builds the label set.
fn labels_from_map(map: BTreeMap<String, String>) -> Result<Labels, ApiError> {
    for k in map.keys() {
        let ok =
            k.bytes().enumerate().all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()));
        if !ok || k.is_empty() {
            return Err(ApiError::bad_request(format!("couldn't parse labels: invalid label name {k:?}")));
        }
    }
    Labels::from_pairs(map).map_err(|e| ApiError::bad_request(format!("couldn't parse labels: {e}")))
}

#[derive(Deserialize)]
struct V1Body {
    streams: Vec<V1Stream>,
}

#[derive(Deserialize)]
struct V1Stream {
    #[serde(default)]
    stream: Option<BTreeMap<String, String>>,
    #[serde(default)]
    values: Option<Vec<V1Value>>,
}

struct V1Value(Entry);

impl<'de> Deserialize<'de> for V1Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = V1Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"an entry ["<unix epoch in nanoseconds>", "<log line>", {optional structured metadata}]"#)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<V1Value, A::Error> {
                let ts: std::borrow::Cow<'de, str> =
                    seq.next_element()?.ok_or_else(|| de::Error::custom("entry has no timestamp"))?;
                let ts: i64 = ts.parse().map_err(|_| {
                    de::Error::custom(format!("timestamp {ts:?} is not a string of Unix epoch nanoseconds"))
                })?;
                let line: String = seq.next_element()?.ok_or_else(|| de::Error::custom("entry has no log line"))?;
                let meta: Option<BTreeMap<String, String>> = seq.next_element()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(V1Value(Entry {
                    ts,
                    line,
                    metadata: meta.map(|m| model::Metadata::new(m.into_iter().collect())).unwrap_or_default(),
                }))
            }
        }
        d.deserialize_seq(V)
    }
}

fn decode_json_v1(body: &[u8]) -> Result<Vec<PushStream>, ApiError> {
    let b: V1Body = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("could not decode the JSON push request: {e}")))?;
    b.streams
        .into_iter()
        .map(|s| {
            Ok(PushStream {
                labels: labels_from_map(s.stream.unwrap_or_default())?,
                entries: s.values.unwrap_or_default().into_iter().map(|v| v.0).collect(),
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct LegacyBody {
    streams: Vec<LegacyStream>,
}

#[derive(Deserialize)]
struct LegacyStream {
    labels: String,
    #[serde(default)]
    entries: Vec<LegacyEntry>,
}

#[derive(Deserialize)]
struct LegacyEntry {
    ts: String,
    line: String,
    #[serde(default, rename = "structuredMetadata")]
    structured_metadata: Option<BTreeMap<String, String>>,
}

fn decode_json_legacy(body: &[u8]) -> Result<Vec<PushStream>, ApiError> {
    let b: LegacyBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("could not decode the JSON push request: {e}")))?;
    let mut out = Vec::with_capacity(b.streams.len());
    for s in b.streams {
        let labels = model::parse_prom_labels(&s.labels)
            .map_err(|e| ApiError::bad_request(format!("couldn't parse labels: {e}")))?;
        let mut entries = Vec::with_capacity(s.entries.len());
        for e in s.entries {
            let ts: jiff::Timestamp = e
                .ts
                .parse()
                .map_err(|err| ApiError::bad_request(format!("could not parse entry timestamp {:?}: {err}", e.ts)))?;
            entries.push(Entry {
                ts: ts.as_nanosecond() as i64,
                line: e.line,
                metadata: e
                    .structured_metadata
                    .map(|m| model::Metadata::new(m.into_iter().collect()))
                    .unwrap_or_default(),
            });
        }
        out.push(PushStream { labels, entries });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects and arrays are counted, not those inside strings, escaped quotes included.
    #[test]
    fn json_nodes_outside_strings() {
        let body = br#"{"streams":[{"stream":{"a":"{["},"values":[["1","x [{ \"{"],["2","\\"]]}]}"#;
        assert_eq!(json_nodes(body), 7);
        assert_eq!(json_nodes(b"[{},{}"), 3);
        let otlp = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{"body":{"stringValue":"{[{["}}]}]}]}"#;
        assert_eq!(json_nodes(otlp), 9);
        assert_eq!(json_nodes(br#"{"a":"\"{","b":"\\","c":[]}"#), 2);
    }
}
