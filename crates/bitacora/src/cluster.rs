//! Asking other writers for their data not yet in the bucket, over HTTP (the store's
//! [`store::tier::LiveData`]; the answering side is `api`'s `GET /api/v1/cluster/unuploaded`).
//!
//! Queries run on blocking threads; each fetch runs on this module's own small runtime and is
//! waited for, bounded by a short timeout: a writer that does not answer makes the query say so
//! in its warnings rather than hang.

use std::sync::Arc;
use std::time::Duration;

use model::Entry;
use store::tier::{LiveAnswer, LiveData, LiveRequest, UPLOADED_HEADER, identities};

pub struct HttpLive {
    client: reqwest::Client,
    token: Option<String>,
    rt: tokio::runtime::Runtime,
}

impl HttpLive {
    pub fn new(token: Option<String>) -> anyhow::Result<Arc<HttpLive>> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(20))
            .build()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cluster")
            .enable_all()
            .build()?;
        Ok(Arc::new(HttpLive { client, token, rt }))
    }
}

impl Drop for HttpLive {
    fn drop(&mut self) {
        // Not inside another runtime's shutdown: let it go in the background.
        let rt =
            std::mem::replace(&mut self.rt, tokio::runtime::Builder::new_current_thread().build().expect("runtime"));
        rt.shutdown_background();
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    streams: Vec<AnswerStream>,
}

#[derive(serde::Deserialize)]
struct AnswerStream {
    labels: String,
    values: Vec<(String, String, Metadata)>,
}

/// An entry's structured metadata, in order.
type Metadata = Vec<(String, String)>;

impl LiveData for HttpLive {
    fn fetch(&self, url: &str, req: &LiveRequest<'_>) -> Result<LiveAnswer, String> {
        let mut params: Vec<(&str, String)> =
            vec![("query", req.selector.clone()), ("start", req.start.to_string()), ("end", req.end.to_string())];
        params.extend(req.contains.iter().map(|c| ("contains", c.clone())));
        if req.listed_at_ms > 0 {
            params.push(("listed_at", req.listed_at_ms.to_string()));
        }
        if req.identities {
            params.push(("identities", "1".into()));
        }
        let mut r = self
            .client
            .get(format!("{url}/api/v1/cluster/unuploaded"))
            .query(&params)
            .header("X-Scope-OrgID", req.tenant)
            .header(reqwest::header::ACCEPT, "application/x-protobuf, application/json;q=0.5");
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.rt.spawn(async move {
            let got = async {
                let resp = r.send().await.map_err(|e| e.to_string())?;
                let status = resp.status();
                let kind = resp
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
                    .unwrap_or_default();
                let uploaded: Vec<String> = resp
                    .headers()
                    .get(UPLOADED_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.split_ascii_whitespace().map(String::from).collect())
                    .unwrap_or_default();
                let body = resp.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!("{status}: {}", String::from_utf8_lossy(&body).trim()));
                }
                Ok((kind, body, uploaded))
            }
            .await;
            let _ = tx.send(got);
        });
        let (kind, body, uploaded) = rx.recv().map_err(|_| "abandoned (shutting down)".to_string())??;
        if kind.starts_with(identities::CONTENT_TYPE) {
            // Bounded like the entries it stands for (a writer answers at most that much).
            let identities = identities::decode(&body, 2 * store::tier::MAX_LIVE_BYTES as usize)?;
            return Ok(LiveAnswer { identities, uploaded, ..Default::default() });
        }
        if kind.starts_with("application/x-protobuf") {
            let streams = api::push::decode_protobuf(&body).map_err(|e| format!("unreadable answer: {}", e.message))?;
            let streams = streams.into_iter().map(|s| (s.labels, s.entries)).collect();
            return Ok(LiveAnswer { streams, uploaded, ..Default::default() });
        }
        // A writer of an earlier version answers JSON.
        let answer = serde_json::from_slice::<Answer>(&body).map_err(|e| format!("unreadable answer: {e}"))?;
        let streams = answer
            .streams
            .into_iter()
            .map(|s| {
                let labels = model::parse_prom_labels(&s.labels).map_err(|e| format!("labels {:?}: {e}", s.labels))?;
                let entries = s
                    .values
                    .into_iter()
                    .map(|(ts, line, metadata)| {
                        let ts = ts.parse::<i64>().map_err(|e| format!("timestamp {ts:?}: {e}"))?;
                        Ok(Entry::with_metadata(ts, line, metadata))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok((labels, entries))
            })
            .collect::<Result<_, String>>()?;
        Ok(LiveAnswer { streams, uploaded, ..Default::default() })
    }
}
