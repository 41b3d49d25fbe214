//! Sending alerts to an Alertmanager over its v2 API: `POST <url>/api/v2/alerts` with a JSON
//! array, from a bounded queue (the oldest are dropped and counted when full) in batches, by a
//! background task, so evaluation never waits on an Alertmanager. As Prometheus, a failed
//! batch is counted and logged, not retried: firing alerts are sent again on the resend delay.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use model::alert::{AlertSink, PostableAlert};
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::metrics::{Metrics, labels};

const CAPACITY: usize = 10_000;
const BATCH: usize = 64;

/// One Alertmanager.
pub struct Alertmanager {
    url: String,
    queue: Mutex<VecDeque<PostableAlert>>,
    notify: Notify,
    stopping: AtomicBool,
    metrics: Metrics,
    client: reqwest::Client,
}

impl Alertmanager {
    /// `base` is the Alertmanager's base URL; `/api/v2/alerts` is appended.
    pub fn new(base: &str, metrics: Metrics) -> anyhow::Result<Arc<Self>> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Arc::new(Alertmanager {
            url: format!("{}/api/v2/alerts", base.trim_end_matches('/')),
            queue: Mutex::new(VecDeque::new()),
            notify: Notify::new(),
            stopping: AtomicBool::new(false),
            metrics,
            client,
        }))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn l(&self) -> Vec<(String, String)> {
        labels(&[("alertmanager", &self.url)])
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.notify.notify_one();
    }

    /// Delivers batches until stopped (then drains what is queued once).
    pub async fn run(self: Arc<Self>) {
        loop {
            let batch: Vec<PostableAlert> = {
                let mut q = self.queue.lock();
                let n = q.len().min(BATCH);
                let b = q.drain(..n).collect();
                self.metrics.notification_queue.get_or_create(&self.l()).set(q.len() as i64);
                b
            };
            if batch.is_empty() {
                if self.stopping.load(Ordering::Relaxed) {
                    return;
                }
                let _ = tokio::time::timeout(Duration::from_secs(1), self.notify.notified()).await;
                continue;
            }
            self.post(batch).await;
        }
    }

    async fn post(&self, batch: Vec<PostableAlert>) {
        let n = batch.len() as u64;
        let started = Instant::now();
        let result = self.client.post(&self.url).json(&batch).send().await;
        self.metrics.notification_latency.get_or_create(&self.l()).observe(started.elapsed().as_secs_f64());
        let error = match result {
            Ok(r) if r.status().is_success() => {
                self.metrics.notifications_sent.get_or_create(&self.l()).inc_by(n);
                return;
            }
            Ok(r) => {
                let status = r.status();
                format!("{status}: {}", r.text().await.unwrap_or_default().chars().take(300).collect::<String>())
            }
            Err(e) => e.to_string(),
        };
        tracing::error!(alertmanager = %self.url, alerts = n, %error, "sending alerts to Alertmanager failed");
        self.metrics.notifications_errors.get_or_create(&self.l()).inc();
        self.metrics.notifications_dropped.get_or_create(&self.l()).inc_by(n);
    }
}

impl AlertSink for Alertmanager {
    fn send(&self, alerts: Vec<PostableAlert>) {
        let mut q = self.queue.lock();
        for a in alerts {
            if q.len() >= CAPACITY {
                q.pop_front();
                self.metrics.notifications_dropped.get_or_create(&self.l()).inc();
            }
            q.push_back(a);
        }
        self.metrics.notification_queue.get_or_create(&self.l()).set(q.len() as i64);
        drop(q);
        self.notify.notify_one();
    }
}
