//! Shipping: entries from every reader are batched by size and time and handed to a sink (the
//! HTTP push client, or the local store in `bitacora run`), retried with exponential backoff and
//! jitter, honouring 429 and `Retry-After`. Only after the sink accepted a batch do the readers'
//! positions advance. At shutdown the agent sets a deadline: what was already read is pushed
//! once more before it, without retries; what is not acknowledged by then is read again at the
//! next start.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use model::{Entry, Labels};
use tokio::sync::{mpsc, watch};

use crate::config::AgentConfig;
use crate::metrics::{AgentMetrics, ContainerLabel};
use crate::positions::Position;

/// Why a push failed.
#[derive(Debug, Clone)]
pub enum PushError {
    /// Try again later (5xx, 429, connection errors), after `retry_after` if the receiver said.
    Retry { message: String, retry_after: Option<Duration> },
    /// The receiver refused the batch for good (4xx): it is dropped, counted and logged.
    Refused(String),
}

/// Where batches go.
pub trait Sink: Send + Sync + 'static {
    fn push<'a>(
        &'a self,
        streams: &'a [(Labels, Vec<Entry>)],
    ) -> Pin<Box<dyn Future<Output = Result<(), PushError>> + Send + 'a>>;
}

/// Loki's push API over HTTP: protobuf + snappy, basic auth or bearer token, tenant header.
pub struct HttpSink {
    client: reqwest::Client,
    url: String,
    cfg: AgentConfig,
}

impl HttpSink {
    pub fn new(url: &str, cfg: &AgentConfig) -> HttpSink {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("HTTP client");
        HttpSink { client, url: url.to_string(), cfg: cfg.clone() }
    }
}

/// Encodes streams as a snappy-compressed `PushRequest`, without copying lines.
pub fn encode(streams: &[(Labels, Vec<Entry>)]) -> Vec<u8> {
    let refs: Vec<(String, Vec<lokiproto::EntryRef>)> = streams
        .iter()
        .map(|(l, es)| {
            (
                l.to_string(),
                es.iter().map(|e| lokiproto::EntryRef { ts: e.ts, line: &e.line, metadata: &e.metadata }).collect(),
            )
        })
        .collect();
    snap::raw::Encoder::new().compress_vec(&lokiproto::encode_push(&refs)).expect("snappy")
}

impl HttpSink {
    /// Pushes an encoded `PushRequest` body.
    pub async fn push_body(&self, body: Vec<u8>) -> Result<(), PushError> {
        let mut req = self.client.post(&self.url).header("Content-Type", "application/x-protobuf").body(body);
        if let Some(t) = &self.cfg.tenant {
            req = req.header("X-Scope-OrgID", t);
        }
        if let Some(a) = &self.cfg.basic_auth {
            req = req.basic_auth(&a.username, Some(a.password.expose()));
        }
        if let Some(t) = &self.cfg.bearer_token {
            req = req.bearer_auth(t.expose());
        }
        let resp = req.send().await.map_err(|e| PushError::Retry { message: e.to_string(), retry_after: None })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp.text().await.unwrap_or_default();
        let message = format!("{status}: {}", text.trim());
        if status.as_u16() == 429 || status.is_server_error() {
            Err(PushError::Retry { message, retry_after })
        } else {
            Err(PushError::Refused(message))
        }
    }

    /// The push URL (credentials masked), for messages.
    pub fn name(&self) -> String {
        model::secret::SecretUrl::new(self.url.clone()).masked()
    }
}

impl Sink for HttpSink {
    fn push<'a>(
        &'a self,
        streams: &'a [(Labels, Vec<Entry>)],
    ) -> Pin<Box<dyn Future<Output = Result<(), PushError>> + Send + 'a>> {
        Box::pin(self.push_body(encode(streams)))
    }
}

/// One entry on its way, with where its reader may resume once it is acknowledged.
pub struct Item {
    pub container: Arc<str>,
    pub container_name: Arc<str>,
    /// Shared by every entry of the stream (cheap to hold thousands in the buffer).
    pub labels: Arc<Labels>,
    pub entry: Entry,
    pub position: Position,
}

/// Acknowledged positions, per container id.
pub type Acks = BTreeMap<Arc<str>, Position>;

/// Set (once) when the agent stops: every push must be over by this instant.
pub type Stop = watch::Receiver<Option<Instant>>;

/// Runs until the channel closes: batches, pushes (retrying), then reports acknowledgements.
pub async fn run(
    cfg: AgentConfig,
    sink: Arc<dyn Sink>,
    mut rx: mpsc::Receiver<Item>,
    acks: mpsc::UnboundedSender<Acks>,
    metrics: Arc<AgentMetrics>,
    mut stop: Stop,
) {
    let mut batch: Vec<Item> = Vec::new();
    let mut bytes = 0usize;
    let mut first: Option<Instant> = None;
    let mut seed = std::process::id() as u64 ^ 0x9E37_79B9_7F4A_7C15;
    loop {
        let wait = first.map(|f| cfg.batch_wait.0.saturating_sub(f.elapsed())).unwrap_or(Duration::from_secs(3600));
        let closed = tokio::select! {
            item = rx.recv() => match item {
                Some(it) => {
                    bytes += it.entry.line.len();
                    first.get_or_insert_with(Instant::now);
                    batch.push(it);
                    false
                }
                None => true,
            },
            _ = tokio::time::sleep(wait) => false,
        };
        let due = !batch.is_empty()
            && (closed || bytes >= cfg.batch_bytes || first.is_some_and(|f| f.elapsed() >= cfg.batch_wait.0));
        if due {
            let items = std::mem::take(&mut batch);
            bytes = 0;
            first = None;
            if !send(&cfg, sink.as_ref(), items, &acks, &metrics, &mut seed, &mut stop).await {
                // Shutting down and not acknowledged: later batches must not move positions
                // past these entries, so nothing more is sent.
                return;
            }
        }
        if closed {
            return;
        }
    }
}

/// Pushes one batch until it is acknowledged or refused (true), or, shutting down, until the
/// deadline (false).
async fn send(
    cfg: &AgentConfig,
    sink: &dyn Sink,
    items: Vec<Item>,
    acks: &mpsc::UnboundedSender<Acks>,
    metrics: &AgentMetrics,
    seed: &mut u64,
    stop: &mut Stop,
) -> bool {
    let mut streams: BTreeMap<Arc<Labels>, Vec<Entry>> = BTreeMap::new();
    let mut done: Acks = BTreeMap::new();
    let mut per_container: BTreeMap<Arc<str>, (u64, u64)> = BTreeMap::new();
    for it in items {
        // The Docker event lines are not a container's: they have no target row of their own.
        if &*it.container_name != crate::events::POSITION_KEY {
            let c = per_container.entry(it.container_name.clone()).or_default();
            c.0 += 1;
            c.1 += it.entry.line.len() as u64;
        }
        done.insert(it.container.clone(), it.position);
        streams.entry(it.labels).or_default().push(it.entry);
    }
    let streams: Vec<(Labels, Vec<Entry>)> = streams.into_iter().map(|(l, e)| (Arc::unwrap_or_clone(l), e)).collect();
    let mut backoff = cfg.min_backoff.0;
    loop {
        let started = Instant::now();
        let res = push_until_deadline(sink, &streams, stop).await;
        metrics.push_seconds.observe(started.elapsed().as_secs_f64());
        match res {
            Ok(()) => {
                for (name, (n, b)) in &per_container {
                    let l = ContainerLabel { container: name.to_string() };
                    metrics.lines_sent.get_or_create(&l).inc_by(*n);
                    metrics.bytes_sent.get_or_create(&l).inc_by(*b);
                }
                let _ = acks.send(done);
                return true;
            }
            Err(PushError::Refused(msg)) => {
                tracing::error!(error = %msg, "the receiver refused a batch; it is dropped");
                for (name, (n, b)) in &per_container {
                    let l = ContainerLabel { container: name.to_string() };
                    metrics.lines_dropped.get_or_create(&l).inc_by(*n);
                    metrics.bytes_dropped.get_or_create(&l).inc_by(*b);
                }
                let _ = acks.send(done);
                return true;
            }
            Err(PushError::Retry { message, .. }) if stop.borrow().is_some() => {
                let lines: u64 = per_container.values().map(|c| c.0).sum();
                tracing::warn!(error = %message, lines, "shutting down: a batch was not acknowledged in time; its lines will be read again at the next start");
                return false;
            }
            Err(PushError::Retry { message, retry_after }) => {
                metrics.push_retries.inc();
                // Full jitter: a random wait between half the backoff and the backoff.
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                let jittered = backoff / 2 + Duration::from_nanos(*seed % (backoff.as_nanos() as u64 / 2 + 1));
                let wait = retry_after.unwrap_or(jittered).min(cfg.max_backoff.0.max(retry_after.unwrap_or_default()));
                tracing::warn!(error = %message, wait_ms = wait.as_millis() as u64, "push failed; retrying");
                // A shutdown cuts the wait short: one last attempt before the deadline.
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.wait_for(Option::is_some) => {}
                }
                backoff = (backoff * 2).min(cfg.max_backoff.0);
            }
        }
    }
}

/// One push, cut off at the shutdown deadline if one is set before it is over (a push in flight
/// is not abandoned at the signal itself: it may well be acknowledged in time).
async fn push_until_deadline(
    sink: &dyn Sink,
    streams: &[(Labels, Vec<Entry>)],
    stop: &mut Stop,
) -> Result<(), PushError> {
    let push = sink.push(streams);
    tokio::pin!(push);
    let deadline = tokio::select! {
        r = &mut push => return r,
        d = stop.wait_for(Option::is_some) => d.ok().and_then(|d| *d),
    };
    // Without a deadline (the agent is gone without setting one) there is nothing to cut short.
    let Some(deadline) = deadline else { return push.await };
    match tokio::time::timeout_at(deadline.into(), push).await {
        Ok(r) => r,
        Err(_) => Err(PushError::Retry { message: "no answer before the shutdown deadline".into(), retry_after: None }),
    }
}
