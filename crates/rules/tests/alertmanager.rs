//! Alerts into a real Alertmanager (Debian's `prometheus-alertmanager`) over its v2 API:
//! visible in its `GET /api/v2/alerts` while firing, gone once sent as resolved, and forwarded
//! to a webhook receiver.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use common::*;
use model::duration::PromDuration;
use parking_lot::Mutex;
use rules::RulerConfig;
use serde_json::Value;

const GROUP: &str = r#"
name: am
interval: 1m
rules:
  - alert: ShopDown
    expr: sum by (app) (count_over_time({app="shop"} |= "error" [1m])) > 1
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.app }} errors: {{ $value }}"
"#;

async fn am_alerts(base: &str) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{base}/api/v2/alerts")).await.unwrap().json().await.unwrap();
    v.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn alerts_reach_a_real_alertmanager_and_its_webhook() {
    let Some(bin) = binary("prometheus-alertmanager") else { return };
    // The webhook receiver the Alertmanager forwards to.
    let hooks: Arc<Mutex<Vec<Value>>> = Arc::default();
    let h = hooks.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(v): axum::Json<Value>| {
            let h = h.clone();
            async move {
                h.lock().push(v);
            }
        }),
    );
    let hook_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", hook_listener.local_addr().unwrap());
    let hook_server = tokio::spawn(async move { axum::serve(hook_listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = format!(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 100ms\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: {hook_url}\n        send_resolved: true\n"
    );
    std::fs::write(dir.path().join("am.yml"), cfg).unwrap();
    let _am = Child(
        Command::new(bin)
            .arg(format!("--config.file={}", dir.path().join("am.yml").display()))
            .arg(format!("--storage.path={}", dir.path().join("am").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let am = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{am}/-/ready")).await;

    // Errors every 10 s in [now-5m, now-4m) (5 of them in the window (now-5m, now-4m]): firing at now-4m, resolved at now-1m (both in the past,
    // so the resolved endsAt is too); a long resend delay keeps endsAt of the firing one ahead.
    let now = jiff::Timestamp::now().as_millisecond() * 1_000_000;
    let src = Arc::new(logql::MemorySource::new());
    src.push(labels(&[("app", "shop")]), lines(now - 5 * M, now - 4 * M, 10 * S, "error"));
    let rcfg = RulerConfig {
        alertmanager_url: vec![am.clone()],
        external_url: "http://bitacora.test:3100".into(),
        resend_delay: PromDuration(Duration::from_secs(600)),
        ..Default::default()
    };
    let e = env(rcfg, &dir.path().join("data"), src).await;
    let r = reqwest::Client::new().post(format!("{}/loki/api/v1/rules/ns", e.base)).body(GROUP).send().await.unwrap();
    assert_eq!(r.status(), 202);
    e.ruler.evaluate_group_at("fake", "ns", "am", now - 4 * M).await.unwrap();

    let mut got = Vec::new();
    for _ in 0..100 {
        got = am_alerts(&am).await;
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got.len(), 1, "the alert never reached the Alertmanager");
    assert_eq!(got[0]["labels"]["alertname"], "ShopDown");
    assert_eq!(got[0]["labels"]["app"], "shop");
    assert_eq!(got[0]["labels"]["severity"], "page");
    assert_eq!(got[0]["annotations"]["summary"], "shop errors: 5");
    assert_eq!(got[0]["status"]["state"], "active");
    assert!(got[0]["generatorURL"].as_str().unwrap().starts_with("http://bitacora.test:3100/alerting?"));
    let starts: jiff::Timestamp = got[0]["startsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(starts.as_nanosecond() as i64, now - 4 * M);

    let mut firing_hook = None;
    for _ in 0..100 {
        firing_hook = hooks.lock().iter().find(|v| v["status"] == "firing").cloned();
        if firing_hook.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let firing_hook = firing_hook.expect("the Alertmanager never called the webhook");
    assert_eq!(firing_hook["alerts"][0]["labels"]["alertname"], "ShopDown");

    e.ruler.evaluate_group_at("fake", "ns", "am", now - M).await.unwrap();
    let mut resolved = false;
    for _ in 0..100 {
        if am_alerts(&am).await.is_empty() && hooks.lock().iter().any(|v| v["status"] == "resolved") {
            resolved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(resolved, "the resolved alert did not clear the Alertmanager and reach the webhook");
    e.ruler.shutdown().await;
    hook_server.abort();
}
