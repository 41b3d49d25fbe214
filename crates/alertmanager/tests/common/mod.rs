//! Test harness: a notifier served on a loopback port, and a real webhook receiver that records
//! what it is sent (and can be told to fail).

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alertmanager::{AlertingConfig, Notifier};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use parking_lot::Mutex;
use serde_json::Value;

/// A request as received: URI, some headers, body.
pub type RawRequest = (String, Vec<(String, String)>, String);

pub struct Served {
    pub notifier: Arc<Notifier>,
    pub base: String,
    pub registry: prometheus_client::registry::Registry,
}

/// Writes `config` to `dir/am.yml`, builds, starts and serves a notifier.
pub async fn serve(dir: &Path, config: &str) -> Served {
    let file = dir.join("am.yml");
    std::fs::write(&file, config).unwrap();
    let cfg =
        AlertingConfig { enabled: true, alertmanager_config: Some(file), external_url: "http://bitacora.test".into() };
    let mut registry = prometheus_client::registry::Registry::default();
    let notifier = Notifier::new(cfg, dir, &mut registry).unwrap();
    notifier.start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = notifier.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Served { notifier, base, registry }
}

/// A webhook receiver: records every JSON body; answers 500 to the first `fail` requests.
#[derive(Clone)]
pub struct Hook {
    pub url: String,
    pub got: Arc<Mutex<Vec<Value>>>,
    pub fail: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
    /// Every request: URI, the Title/Priority/Tags/Authorization headers, the body.
    pub raw: Arc<Mutex<Vec<RawRequest>>>,
}

impl Hook {
    pub async fn start() -> Hook {
        let got = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let h = Hook { url, got, fail, requests, raw: Default::default() };
        let app = Router::new().route("/{*path}", axum::routing::post(receive)).with_state(h.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        h
    }

    pub fn messages(&self) -> Vec<Value> {
        self.got.lock().clone()
    }

    /// Waits until at least `n` messages arrived (or panics after `max`).
    pub async fn wait_for(&self, n: usize, max: Duration) -> Vec<Value> {
        let end = tokio::time::Instant::now() + max;
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(tokio::time::Instant::now() < end, "expected {n} notifications, got {}: {m:#?}", m.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(
    State(h): State<Hook>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    h.requests.fetch_add(1, Ordering::SeqCst);
    let hs = ["title", "priority", "tags", "authorization"]
        .iter()
        .filter_map(|n| headers.get(*n).map(|v| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())))
        .collect();
    h.raw.lock().push((uri.to_string(), hs, String::from_utf8_lossy(&body).into_owned()));
    if h.fail.load(Ordering::SeqCst) > 0 {
        h.fail.fetch_sub(1, Ordering::SeqCst);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    h.got.lock().push(v);
    StatusCode::OK
}

pub async fn post_alerts(base: &str, alerts: Value) -> reqwest::Response {
    reqwest::Client::new().post(format!("{base}/api/v2/alerts")).json(&alerts).send().await.unwrap()
}

pub async fn get_json(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.unwrap()
}

/// Alert names of a webhook message, sorted, with their status.
pub fn summary(msg: &Value) -> Vec<String> {
    let mut v: Vec<String> = msg["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}:{}",
                a["labels"]["instance"].as_str().unwrap_or(a["labels"]["alertname"].as_str().unwrap_or("")),
                a["status"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

/// Whether a program is installed; under CI a missing one fails the test.
pub fn require(program: &str, what: &str) -> bool {
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program} >/dev/null 2>&1 || python3 -c 'import {program}' 2>/dev/null"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{program} is required under CI ({what})");
        }
        eprintln!("SKIPPED: {program} is not installed ({what})");
    }
    ok
}
