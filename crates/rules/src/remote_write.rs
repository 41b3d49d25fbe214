//! Prometheus remote write 1.0: recording rules' samples as a snappy-compressed protobuf
//! `WriteRequest`, from a bounded queue (the oldest samples are dropped and counted when it is
//! full), retried with backoff on 5xx, 429 and network errors; a 4xx refusal is logged and the
//! batch dropped.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::config::RemoteWriteConfig;
use crate::metrics::Metrics;

#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Unix milliseconds.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// Most samples in one request.
const BATCH: usize = 500;

/// Encodes a request body: protobuf, then snappy's block format.
pub fn encode(req: &WriteRequest) -> Vec<u8> {
    let raw = prost::Message::encode_to_vec(req);
    snap::raw::Encoder::new().compress_vec(&raw).unwrap_or_default()
}

/// The queue and its sender.
pub struct RemoteWriter {
    cfg: RemoteWriteConfig,
    queue: Mutex<VecDeque<(BTreeMap<String, String>, Sample)>>,
    notify: Notify,
    stopping: AtomicBool,
    metrics: Metrics,
    client: reqwest::Client,
}

impl RemoteWriter {
    pub fn new(cfg: RemoteWriteConfig, metrics: Metrics) -> anyhow::Result<Arc<Self>> {
        let client = reqwest::Client::builder().timeout(cfg.timeout.0).build()?;
        Ok(Arc::new(RemoteWriter {
            cfg,
            queue: Mutex::new(VecDeque::new()),
            notify: Notify::new(),
            stopping: AtomicBool::new(false),
            metrics,
            client,
        }))
    }

    /// Queues samples (labels with `__name__`), never blocking.
    pub fn push(&self, samples: Vec<(BTreeMap<String, String>, f64)>, ts_ms: i64) {
        if samples.is_empty() {
            return;
        }
        let cap = self.cfg.queue_capacity.max(1);
        let mut q = self.queue.lock();
        for (l, v) in samples {
            if q.len() >= cap {
                q.pop_front();
                self.metrics.rw_samples_dropped.inc();
            }
            q.push_back((l, Sample { value: v, timestamp: ts_ms }));
        }
        self.metrics.rw_queue_length.set(q.len() as i64);
        drop(q);
        self.notify.notify_one();
    }

    pub fn queued(&self) -> usize {
        self.queue.lock().len()
    }

    /// Sends until the queue is empty; with `stop`, the worker gives up retrying.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.notify.notify_one();
    }

    /// The sending loop; runs until [`stop`](Self::stop) and the queue is drained or fails.
    pub async fn run(self: Arc<Self>) {
        loop {
            let batch: Vec<_> = {
                let mut q = self.queue.lock();
                let n = q.len().min(BATCH);
                q.drain(..n).collect()
            };
            if batch.is_empty() {
                if self.stopping.load(Ordering::Relaxed) {
                    return;
                }
                let _ = tokio::time::timeout(Duration::from_secs(1), self.notify.notified()).await;
                continue;
            }
            self.metrics.rw_queue_length.set(self.queued() as i64);
            self.send_with_retries(batch).await;
        }
    }

    async fn send_with_retries(&self, batch: Vec<(BTreeMap<String, String>, Sample)>) {
        let n = batch.len() as u64;
        let mut by_series: BTreeMap<BTreeMap<String, String>, Vec<Sample>> = BTreeMap::new();
        for (l, s) in batch {
            by_series.entry(l).or_default().push(s);
        }
        let req = WriteRequest {
            timeseries: by_series
                .into_iter()
                .map(|(l, samples)| TimeSeries {
                    labels: l.into_iter().map(|(name, value)| Label { name, value }).collect(),
                    samples,
                })
                .collect(),
        };
        let body = encode(&req);
        let mut backoff = Duration::from_millis(100);
        loop {
            let mut r = self
                .client
                .post(&self.cfg.url)
                .header("Content-Encoding", "snappy")
                .header("Content-Type", "application/x-protobuf")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .header("User-Agent", "bitacora-ruler");
            for (k, v) in &self.cfg.headers {
                r = r.header(k, v.expose());
            }
            let outcome = match r.body(body.clone()).send().await {
                Ok(resp) if resp.status().is_success() => {
                    self.metrics.rw_samples_sent.inc_by(n);
                    return;
                }
                Ok(resp) => {
                    let status = resp.status();
                    let text: String = resp.text().await.unwrap_or_default().chars().take(500).collect();
                    if status.is_client_error() && status.as_u16() != 429 {
                        tracing::error!(url = %self.cfg.url, %status, body = %text, samples = n, "remote write refused; samples dropped");
                        self.metrics.rw_samples_failed.inc_by(n);
                        return;
                    }
                    format!("{status}: {text}")
                }
                Err(e) => e.to_string(),
            };
            if self.stopping.load(Ordering::Relaxed) {
                tracing::error!(url = %self.cfg.url, error = %outcome, samples = n, "remote write failed while stopping; samples dropped");
                self.metrics.rw_samples_failed.inc_by(n);
                return;
            }
            tracing::warn!(url = %self.cfg.url, error = %outcome, retry_in = ?backoff, "remote write failed; retrying");
            self.metrics.rw_retries.inc();
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = self.notify.notified(), if self.stopping.load(Ordering::Relaxed) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_snappy_block_protobuf() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label { name: "__name__".into(), value: "x".into() }],
                samples: vec![Sample { value: 2.5, timestamp: 1000 }],
            }],
        };
        let body = encode(&req);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        let back: WriteRequest = prost::Message::decode(raw.as_slice()).unwrap();
        assert_eq!(back, req);
    }

    #[test]
    fn full_queue_drops_the_oldest() {
        let mut reg = prometheus_client::registry::Registry::default();
        let m = Metrics::new(&mut reg);
        let cfg = RemoteWriteConfig { url: "http://127.0.0.1:9/".into(), queue_capacity: 2, ..Default::default() };
        let w = RemoteWriter::new(cfg, m.clone()).unwrap();
        let s = |v: f64| ([("__name__".to_string(), "x".to_string())].into(), v);
        w.push(vec![s(1.0), s(2.0), s(3.0)], 5);
        assert_eq!(w.queued(), 2);
        assert_eq!(m.rw_samples_dropped.get(), 1);
        assert_eq!(w.queue.lock().front().unwrap().1.value, 2.0);
    }

    /// A receiver that answers 503 twice, then 204: the samples arrive once, after two
    /// retries; one that answers 400 gets them dropped and counted, without a retry.
    #[tokio::test]
    async fn retries_server_errors_and_drops_refusals() {
        use std::sync::atomic::AtomicUsize;
        let calls = Arc::new(AtomicUsize::new(0));
        let got: Arc<Mutex<Vec<WriteRequest>>> = Arc::default();
        let (c, g) = (calls.clone(), got.clone());
        let app = axum::Router::new()
            .route(
                "/flaky",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let (c, g) = (c.clone(), g.clone());
                    async move {
                        if c.fetch_add(1, Ordering::SeqCst) < 2 {
                            return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                        }
                        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
                        g.lock().push(prost::Message::decode(raw.as_slice()).unwrap());
                        axum::http::StatusCode::NO_CONTENT
                    }
                }),
            )
            .route("/refuse", axum::routing::post(|| async { (axum::http::StatusCode::BAD_REQUEST, "out of order") }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let s = |v: f64| ([("__name__".to_string(), "x".to_string())].into(), v);

        let mut reg = prometheus_client::registry::Registry::default();
        let m = Metrics::new(&mut reg);
        let cfg = RemoteWriteConfig { url: format!("{base}/flaky"), ..Default::default() };
        let w = RemoteWriter::new(cfg, m.clone()).unwrap();
        tokio::spawn(w.clone().run());
        w.push(vec![s(1.0), s(2.0)], 1000);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while got.lock().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "never delivered after {} calls",
                calls.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The writer counts a batch as sent once it has read the answer, just after the server
        // stored it: wait for that too.
        while m.rw_samples_sent.get() < 2 {
            assert!(std::time::Instant::now() < deadline, "delivered but not counted as sent");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(m.rw_retries.get(), 2);
        assert_eq!(m.rw_samples_sent.get(), 2);
        let values: Vec<f64> =
            got.lock()[0].timeseries.iter().flat_map(|t| t.samples.iter().map(|s| s.value)).collect();
        assert_eq!(values, [1.0, 2.0]);

        let m = Metrics::new(&mut prometheus_client::registry::Registry::default());
        let cfg = RemoteWriteConfig { url: format!("{base}/refuse"), ..Default::default() };
        let w = RemoteWriter::new(cfg, m.clone()).unwrap();
        tokio::spawn(w.clone().run());
        w.push(vec![s(1.0)], 1000);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while m.rw_samples_failed.get() == 0 {
            assert!(std::time::Instant::now() < deadline, "a refused batch was not counted");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(m.rw_retries.get(), 0);
        assert_eq!(w.queued(), 0);
    }
}
