//! Shared parts of the ruler's tests: a Querier over a real `logql::MemorySource`, a History
//! and an AlertSink that keep what they get, and the ruler's router on a loopback port.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use model::alert::{AlertSink, PostableAlert};
use parking_lot::Mutex;
use rules::{History, Querier, Ruler, RulerConfig, TenantOf};

pub const S: i64 = 1_000_000_000;
pub const M: i64 = 60 * S;

pub struct MemQuerier(pub Arc<logql::MemorySource>);

impl Querier for MemQuerier {
    fn instant(&self, _tenant: &str, query: &str, ts: i64) -> Result<Vec<(model::Labels, f64)>, String> {
        rules::instant_query(&logql::Engine::new(logql::Limits::default()), &*self.0, query, ts, None)
    }
    fn instant_until(
        &self,
        _t: &str,
        query: &str,
        ts: i64,
        deadline: Instant,
    ) -> Result<Vec<(model::Labels, f64)>, String> {
        rules::instant_query(&logql::Engine::new(logql::Limits::default()), &*self.0, query, ts, Some(deadline))
    }
}

#[derive(Default)]
pub struct MemHistory(pub Mutex<Vec<(String, model::Labels, i64, serde_json::Value)>>);

impl History for MemHistory {
    fn record(&self, tenant: &str, labels: model::Labels, ts: i64, line: String) {
        self.0.lock().push((tenant.into(), labels, ts, serde_json::from_str(&line).unwrap()));
    }
}

impl MemHistory {
    /// (state, previous, ts) of each line.
    pub fn states(&self) -> Vec<(String, String, i64)> {
        self.0
            .lock()
            .iter()
            .map(|(_, _, ts, v)| {
                (v["state"].as_str().unwrap().to_string(), v["previous"].as_str().unwrap().to_string(), *ts)
            })
            .collect()
    }
}

#[derive(Default)]
pub struct MemSink(pub Mutex<Vec<PostableAlert>>);

impl AlertSink for MemSink {
    fn send(&self, alerts: Vec<PostableAlert>) {
        self.0.lock().extend(alerts);
    }
}

pub fn labels(pairs: &[(&str, &str)]) -> model::Labels {
    model::Labels::from_pairs(pairs.iter().copied()).unwrap()
}

/// Lines `line` every `step` ns in [from, to).
pub fn lines(from: i64, to: i64, step: i64, line: &str) -> Vec<model::Entry> {
    (0..).map(|i| from + i * step).take_while(|t| *t < to).map(|t| model::Entry::new(t, line)).collect()
}

#[allow(clippy::result_large_err)] // the TenantOf port's own shape
pub fn tenant_of() -> TenantOf {
    Arc::new(|h: &axum::http::HeaderMap| {
        Ok(h.get("X-Scope-OrgID").and_then(|v| v.to_str().ok()).unwrap_or("fake").to_string())
    })
}

pub struct Env {
    pub ruler: Arc<Ruler>,
    pub history: Arc<MemHistory>,
    pub sink: Arc<MemSink>,
    pub base: String,
    pub server: tokio::task::JoinHandle<()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A ruler on `data_dir` over `src`, its router served on a loopback port.
pub async fn env(cfg: RulerConfig, data_dir: &Path, src: Arc<logql::MemorySource>) -> Env {
    let history = Arc::new(MemHistory::default());
    let sink = Arc::new(MemSink::default());
    let mut reg = prometheus_client::registry::Registry::default();
    let ruler = Ruler::new(
        cfg,
        data_dir,
        Arc::new(MemQuerier(src)),
        history.clone(),
        vec![sink.clone() as Arc<dyn AlertSink>],
        &mut reg,
    )
    .unwrap();
    let app = ruler.router(tenant_of());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Env { ruler, history, sink, base, server }
}

/// Finds a real binary, or says why the test is skipped (fails under CI=true).
pub fn binary(name: &str) -> Option<String> {
    let found = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()))
        .map(|p| p.display().to_string());
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is required under CI=true (apt-get install {name})");
        }
        eprintln!("SKIPPED: {name} not installed (apt-get install {name})");
    }
    found
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when dropped.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn wait_ready(url: &str) {
    let c = reqwest::Client::new();
    for _ in 0..150 {
        if c.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{url} never became ready");
}
