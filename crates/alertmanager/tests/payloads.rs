//! Slack-compatible, ntfy and Gotify payloads as a real HTTP server receives them.

mod common;

use std::time::Duration;

use common::{Hook, post_alerts, serve};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_ntfy_gotify() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let base = hook.url.trim_end_matches("/hook");
    let cfg = format!(
        "route:\n  receiver: all\n  group_by: [alertname]\n  group_wait: 1s\n\
         receivers:\n  - name: all\n\
         \x20   slack_configs: [{{api_url: '{base}/slack/T0/B0/secret', channel: '#ops', title: '{{{{ .Status | toUpper }}}}: {{{{ .GroupLabels.alertname }}}}'}}]\n\
         \x20   ntfy_configs: [{{url: '{base}/ntfy/alerts', token: tk_1, priority: '4'}}]\n\
         \x20   gotify_configs: [{{url: '{base}/gotify', token: AppTok}}]\n"
    );
    let s = serve(dir.path(), &cfg).await;
    post_alerts(
        &s.base,
        json!([{"labels": {"alertname": "Büro", "instance": "a"}, "annotations": {"summary": "it is down"}}]),
    )
    .await;
    hook.wait_for(2, Duration::from_secs(5)).await;
    for _ in 0..50 {
        if hook.raw.lock().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let raw = hook.raw.lock().clone();
    let by =
        |p: &str| raw.iter().find(|(u, _, _)| u.starts_with(p)).cloned().unwrap_or_else(|| panic!("{p}: {raw:#?}"));
    let (_, _, slack) = by("/slack/T0/B0/secret");
    let slack: serde_json::Value = serde_json::from_str(&slack).unwrap();
    assert_eq!(slack["channel"], "#ops");
    assert_eq!(slack["attachments"][0]["title"], "FIRING: Büro");
    assert_eq!(slack["attachments"][0]["color"], "danger");
    assert!(slack["attachments"][0]["text"].as_str().unwrap().contains("it is down"));
    let (_, h, body) = by("/ntfy/alerts");
    let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(get("priority"), "4");
    assert_eq!(get("tags"), "rotating_light");
    assert_eq!(get("authorization"), "Bearer tk_1");
    // "[FIRING:1] Büro (a)" as an RFC 2047 word, since the title is not ASCII.
    assert!(get("title").starts_with("=?UTF-8?B?"), "{h:?}");
    assert!(body.contains("it is down"));
    let (uri, _, body) = by("/gotify/message");
    assert_eq!(uri, "/gotify/message?token=AppTok");
    let g: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(g["title"], "[FIRING:1] Büro (a)");
    assert_eq!(g["priority"], 8);
    assert!(g["message"].as_str().unwrap().contains("it is down"));
    // Secrets are masked in the receivers page.
    let recv = common::get_json(&format!("{}/api/alerting/receivers", s.base)).await;
    let targets: Vec<&str> =
        recv[0]["integrations"].as_array().unwrap().iter().map(|i| i["target"].as_str().unwrap()).collect();
    assert!(targets.iter().all(|t| !t.contains("B0/secret") && !t.contains("AppTok")), "{targets:?}");
    assert!(targets[0].ends_with("/<secret>"), "{targets:?}");
    s.notifier.shutdown().await;
}
