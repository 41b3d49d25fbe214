//! Recording rules (and `ALERTS` series) sent with remote write into a real Prometheus
//! (`--web.enable-remote-write-receiver`) and queried back from its HTTP API.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rules::{RemoteWriteConfig, RulerConfig};
use serde_json::Value;

const GROUP: &str = r#"
name: rec
interval: 1m
rules:
  - record: shop:errors:count1m
    expr: sum by (app) (count_over_time({app="shop"} |= "error" [1m]))
    labels:
      env: test
  - alert: ShopErrors
    expr: sum by (app) (count_over_time({app="shop"} |= "error" [1m])) > 1
"#;

async fn query(base: &str, q: &str, t: f64) -> Vec<Value> {
    let v: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", q), ("time", &t.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn recorded_samples_arrive_in_a_real_prometheus() {
    let Some(bin) = binary("prometheus") else { return };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("prometheus.yml"), "global:\n  scrape_interval: 1h\n").unwrap();
    let _prom = Child(
        Command::new(bin)
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let prom = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{prom}/-/ready")).await;

    let now_ms = jiff::Timestamp::now().as_millisecond();
    let ts = now_ms * 1_000_000;
    let src = Arc::new(logql::MemorySource::new());
    src.push(labels(&[("app", "shop")]), lines(ts - 60 * S + 1, ts + 1, 10 * S, "error"));
    let cfg = RulerConfig {
        remote_write: Some(RemoteWriteConfig { url: format!("{prom}/api/v1/write"), ..Default::default() }),
        ..Default::default()
    };
    let e = env(cfg, &dir.path().join("data"), src).await;
    let r = reqwest::Client::new().post(format!("{}/loki/api/v1/rules/ns", e.base)).body(GROUP).send().await.unwrap();
    assert_eq!(r.status(), 202);
    e.ruler.evaluate_group_at("fake", "ns", "rec", ts).await.unwrap();

    let t = now_ms as f64 / 1000.0;
    let mut got = Vec::new();
    for _ in 0..100 {
        got = query(&prom, "shop:errors:count1m", t).await;
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got.len(), 1, "the recorded series never arrived");
    assert_eq!(got[0]["metric"], serde_json::json!({"__name__": "shop:errors:count1m", "app": "shop", "env": "test"}));
    assert_eq!(got[0]["value"][0].as_f64().unwrap(), t);
    assert_eq!(got[0]["value"][1], "6");
    let alerts = query(&prom, "ALERTS", t).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["metric"]["alertname"], "ShopErrors");
    assert_eq!(alerts[0]["metric"]["alertstate"], "firing");
    e.ruler.shutdown().await;
}
