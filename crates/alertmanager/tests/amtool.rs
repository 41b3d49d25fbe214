//! Alertmanager's own client, `amtool`, against the notifier's v2 API: silences added,
//! queried and expired, alerts queried (with the silenced one shown as suppressed).

mod common;

use std::time::Duration;

use common::{Hook, get_json, post_alerts, serve};
use serde_json::json;

async fn amtool(base: &str, args: &[&str]) -> (bool, String) {
    let url = format!("--alertmanager.url={base}");
    let mut all = vec![url.as_str()];
    all.extend_from_slice(args);
    let args: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || std::process::Command::new("amtool").args(&args).output())
        .await
        .unwrap()
        .expect("amtool");
    // stderr carries amtool's warning that versions differ; the answers are on stdout.
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return (false, format!("{}{stderr}", String::from_utf8_lossy(&out.stdout)));
    }
    (true, String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amtool_silences_and_alerts() {
    if !common::require("amtool", "apt-get install prometheus-alertmanager") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let cfg = format!(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n\
         receivers:\n  - name: hook\n    webhook_configs: [{{url: '{}'}}]\n",
        hook.url
    );
    let s = serve(dir.path(), &cfg).await;
    let (ok, out) = amtool(&s.base, &["silence", "add", "alertname=X", "-c", "test", "-a", "tester", "-d", "1h"]).await;
    assert!(ok, "{out}");
    let id = out.trim().to_string();
    assert_eq!(id.len(), 36, "{out}");
    let (ok, out) =
        amtool(&s.base, &["silence", "add", "alertname=~\"Y.*\"", "severity!=info", "-c", "regex", "-a", "t"]).await;
    assert!(ok, "{out}");

    let list = get_json(&format!("{}/api/v2/silences", s.base)).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let x = list.as_array().unwrap().iter().find(|s| s["id"] == id.as_str()).unwrap();
    assert_eq!(x["createdBy"], "tester");
    assert_eq!(x["comment"], "test");
    assert_eq!(x["matchers"], json!([{"name": "alertname", "value": "X", "isRegex": false, "isEqual": true}]));

    let (ok, out) = amtool(&s.base, &["silence", "query"]).await;
    assert!(ok, "{out}");
    assert!(out.contains(&id) && out.contains("tester") && out.contains("alertname=\"X\""), "{out}");
    let (ok, out) = amtool(&s.base, &["silence", "query", "-q", "alertname=X"]).await;
    assert!(ok, "{out}");
    assert_eq!(out.trim(), id);

    post_alerts(
        &s.base,
        json!([
            {"labels": {"alertname": "X", "instance": "a"}, "annotations": {"summary": "muted"}},
            {"labels": {"alertname": "Z", "instance": "b"}, "annotations": {"summary": "loud"}},
        ]),
    )
    .await;
    let (ok, out) = amtool(&s.base, &["alert", "query"]).await;
    assert!(ok, "{out}");
    assert!(out.contains('Z') && !out.lines().any(|l| l.starts_with("X ")), "silenced alerts hidden by default: {out}");
    let (ok, out) = amtool(&s.base, &["alert", "query", "--silenced"]).await;
    assert!(ok, "{out}");
    assert!(out.lines().any(|l| l.starts_with("X ")) && !out.lines().any(|l| l.starts_with("Z ")), "{out}");
    let (ok, out) = amtool(&s.base, &["-o", "json", "alert", "query", "-s", "alertname=X"]).await;
    assert!(ok, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v[0]["status"]["state"], "suppressed");
    assert_eq!(v[0]["status"]["silencedBy"], json!([id]));

    // Only Z is delivered.
    let m = hook.wait_for(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hook.messages().len(), 1);
    assert_eq!(m[0]["groupLabels"]["alertname"], "Z");

    let (ok, out) = amtool(&s.base, &["silence", "expire", &id]).await;
    assert!(ok, "{out}");
    let (ok, out) = amtool(&s.base, &["silence", "query", "--expired"]).await;
    assert!(ok, "{out}");
    assert!(out.contains(&id), "{out}");
    let (ok, out) = amtool(&s.base, &["silence", "add", "alertname=~\"(\"", "-c", "bad"]).await;
    assert!(!ok, "{out}");
    let (ok, out) = amtool(&s.base, &["config", "show"]).await;
    assert!(ok && out.contains("group_wait"), "{out}");
    s.notifier.shutdown().await;
}
