//! The notifier against a real webhook receiver on loopback: grouping after group_wait, a new
//! alert after group_interval, resolved notices, silences, inhibition, retries of a failing
//! receiver, test notifications, in-process intake and silences surviving a restart.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Hook, get_json, post_alerts, serve, summary};
use model::alert::{AlertSink, PostableAlert};
use serde_json::json;

fn config(hook: &str, extra: &str) -> String {
    format!(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\n\
         receivers:\n  - name: hook\n    webhook_configs:\n      - url: '{hook}'\n{extra}"
    )
}

fn now_plus(secs: i64) -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(secs)).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_then_new_alert_then_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let s = serve(dir.path(), &config(&hook.url, "")).await;
    let t0 = tokio::time::Instant::now();
    let r = post_alerts(
        &s.base,
        json!([
            {"labels": {"alertname": "Down", "instance": "a"}, "annotations": {"summary": "a is down"}, "generatorURL": "http://gen/a"},
            {"labels": {"alertname": "Down", "instance": "b"}},
        ]),
    )
    .await;
    assert_eq!(r.status(), 200);
    // Nothing before group_wait, then one message with both alerts.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(hook.messages().is_empty(), "sent before group_wait");
    let m = hook.wait_for(1, Duration::from_secs(5)).await;
    assert!(t0.elapsed() >= Duration::from_secs(1));
    let first = &m[0];
    assert_eq!(first["version"], "4");
    assert_eq!(first["status"], "firing");
    assert_eq!(first["receiver"], "hook");
    assert_eq!(first["groupLabels"], json!({"alertname": "Down"}));
    assert_eq!(first["commonLabels"], json!({"alertname": "Down"}));
    assert_eq!(first["externalURL"], "http://bitacora.test");
    assert_eq!(first["truncatedAlerts"], 0);
    assert_eq!(summary(first), ["a:firing", "b:firing"]);
    let a = first["alerts"].as_array().unwrap().iter().find(|a| a["labels"]["instance"] == "a").unwrap();
    assert_eq!(a["annotations"]["summary"], "a is down");
    assert_eq!(a["generatorURL"], "http://gen/a");
    assert_eq!(a["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(a["endsAt"], "0001-01-01T00:00:00Z");
    assert!(first["groupKey"].as_str().unwrap().contains("alertname=\"Down\""));

    // The same alerts again: nothing new to say within repeat_interval.
    post_alerts(&s.base, json!([{"labels": {"alertname": "Down", "instance": "a"}}])).await;
    // A third alert of the group: told after group_interval, not group_wait.
    post_alerts(&s.base, json!([{"labels": {"alertname": "Down", "instance": "c"}}])).await;
    let m = hook.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(summary(&m[1]), ["a:firing", "b:firing", "c:firing"]);

    // Resolve one: a notice with it resolved, the others still firing.
    post_alerts(&s.base, json!([{"labels": {"alertname": "Down", "instance": "a"}, "endsAt": now_plus(-1)}])).await;
    let m = hook.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(m[2]["status"], "firing");
    assert_eq!(summary(&m[2]), ["a:resolved", "b:firing", "c:firing"]);
    let resolved = m[2]["alerts"].as_array().unwrap().iter().find(|a| a["status"] == "resolved").unwrap();
    assert_ne!(resolved["endsAt"], "0001-01-01T00:00:00Z");

    // Resolve the rest: a resolved notice; after it, silence.
    let ends = now_plus(-1);
    post_alerts(
        &s.base,
        json!([
            {"labels": {"alertname": "Down", "instance": "b"}, "endsAt": ends},
            {"labels": {"alertname": "Down", "instance": "c"}, "endsAt": ends},
        ]),
    )
    .await;
    let m = hook.wait_for(4, Duration::from_secs(5)).await;
    assert_eq!(m[3]["status"], "resolved");
    assert_eq!(summary(&m[3]), ["b:resolved", "c:resolved"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hook.messages().len(), 4, "nothing after the resolved notice: {:#?}", hook.messages());
    // Resolved alerts are no longer listed.
    assert_eq!(get_json(&format!("{}/api/v2/alerts", s.base)).await, json!([]));
    s.notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silenced_alerts_are_not_sent_and_inhibition_mutes() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let extra = "inhibit_rules:\n  - source_matchers: ['severity=\"critical\"']\n    target_matchers: ['severity=\"warning\"']\n    equal: [cluster]\n";
    let s = serve(dir.path(), &config(&hook.url, extra)).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/v2/silences", s.base))
        .json(&json!({
            "matchers": [{"name": "alertname", "value": "Quiet", "isRegex": false, "isEqual": true}],
            "startsAt": now_plus(0), "endsAt": now_plus(3600), "createdBy": "test", "comment": "maintenance"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.json::<serde_json::Value>().await.unwrap()["silenceID"].as_str().unwrap().to_string();

    post_alerts(
        &s.base,
        json!([
            {"labels": {"alertname": "Quiet", "instance": "q"}},
            {"labels": {"alertname": "DbDown", "severity": "critical", "cluster": "eu"}},
            {"labels": {"alertname": "DbSlow", "severity": "warning", "cluster": "eu", "instance": "eu"}},
            {"labels": {"alertname": "DbSlow", "severity": "warning", "cluster": "us", "instance": "us"}},
        ]),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let got = hook.messages();
    let mut names: Vec<String> =
        got.iter().map(|m| format!("{}{:?}", m["groupLabels"]["alertname"].as_str().unwrap(), summary(m))).collect();
    names.sort();
    assert_eq!(names, ["DbDown[\"DbDown:firing\"]", "DbSlow[\"us:firing\"]"], "{got:#?}");

    // The API shows why.
    let alerts = get_json(&format!("{}/api/v2/alerts", s.base)).await;
    let find = |name: &str, inst: &str| {
        alerts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["labels"]["alertname"] == name && a["labels"]["instance"] == inst)
            .cloned()
    };
    let quiet = find("Quiet", "q").unwrap();
    assert_eq!(quiet["status"]["state"], "suppressed");
    assert_eq!(quiet["status"]["silencedBy"], json!([id]));
    assert_eq!(quiet["receivers"], json!([{"name": "hook"}]));
    let slow_eu = find("DbSlow", "eu").unwrap();
    assert_eq!(slow_eu["status"]["state"], "suppressed");
    assert_eq!(slow_eu["status"]["inhibitedBy"].as_array().unwrap().len(), 1);
    assert_eq!(find("DbSlow", "us").unwrap()["status"]["state"], "active");
    // Filters.
    let only_active = get_json(&format!("{}/api/v2/alerts?silenced=false&inhibited=false", s.base)).await;
    assert_eq!(only_active.as_array().unwrap().len(), 2);
    let filtered =
        get_json(&format!("{}/api/v2/alerts?filter=alertname%3D~%22Db.*%22&filter=cluster%3D%22eu%22", s.base)).await;
    assert_eq!(filtered.as_array().unwrap().len(), 2);
    let groups = get_json(&format!("{}/api/v2/alerts/groups", s.base)).await;
    assert_eq!(groups.as_array().unwrap().len(), 3);
    assert!(groups.as_array().unwrap().iter().all(|g| g["receiver"]["name"] == "hook"));
    let bad = reqwest::get(format!("{}/api/v2/alerts?filter=alertname", s.base)).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("no operator"));

    // Expiring the silence lets the alert through (new group state, next interval).
    let r = client.delete(format!("{}/api/v2/silence/{id}", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let m = hook.wait_for(3, Duration::from_secs(6)).await;
    assert!(m.iter().any(|m| m["groupLabels"]["alertname"] == "Quiet"), "{m:#?}");
    let sil = get_json(&format!("{}/api/v2/silence/{id}", s.base)).await;
    assert_eq!(sil["status"]["state"], "expired");
    s.notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receiver_is_retried_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    hook.fail.store(1, Ordering::SeqCst);
    // A second receiver that cannot be reached must not hold the first one back.
    let extra = "  - name: dead\n    webhook_configs: [{url: 'http://127.0.0.1:9/x'}]\n";
    let cfg = config(&hook.url, extra).replace(
        "  repeat_interval: 1h\n",
        "  repeat_interval: 1h\n  routes:\n    - receiver: dead\n      continue: true\n      matchers: ['alertname=\"Flaky\"']\n    - receiver: hook\n      matchers: ['alertname=\"Flaky\"']\n",
    );
    let s = serve(dir.path(), &cfg).await;
    post_alerts(&s.base, json!([{"labels": {"alertname": "Flaky"}}])).await;
    let m = hook.wait_for(1, Duration::from_secs(6)).await;
    assert_eq!(summary(&m[0]), ["Flaky:firing"]);
    assert_eq!(hook.requests.load(Ordering::SeqCst), 2, "one failure, one retry");
    let recv = get_json(&format!("{}/api/alerting/receivers", s.base)).await;
    let hook_r = recv.as_array().unwrap().iter().find(|r| r["name"] == "hook").unwrap();
    let i = &hook_r["integrations"][0];
    assert_eq!(i["type"], "webhook");
    assert_eq!(i["sent"], 1);
    assert_eq!(i["failed"], 1);
    assert!(i["lastError"].as_str().unwrap().contains("500"), "{i}");
    assert!(i["lastSuccess"].is_string());
    let dead = &recv.as_array().unwrap().iter().find(|r| r["name"] == "dead").unwrap()["integrations"][0];
    assert!(dead["failed"].as_u64().unwrap() >= 1);
    assert!(dead["lastError"].as_str().unwrap().contains("request failed"), "{dead}");
    assert!(dead["lastSuccess"].is_null());

    // Test notifications: 200 with the result for a working receiver, 502 for a dead one.
    let client = reqwest::Client::new();
    let r = client.post(format!("{}/api/alerting/receivers/hook/test", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["ok"], true);
    let m = hook.wait_for(2, Duration::from_secs(2)).await;
    assert_eq!(m[1]["alerts"][0]["labels"]["alertname"], "TestAlert");
    let r = client.post(format!("{}/api/alerting/receivers/dead/test", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 502);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["results"][0]["error"].as_str().unwrap().contains("request failed"));
    let r = client.post(format!("{}/api/alerting/receivers/nobody/test", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Metrics count it.
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &s.registry).unwrap();
    assert!(
        text.contains("bitacora_alertmanager_notification_requests_failed_total{integration=\"webhook\"}"),
        "{text}"
    );
    s.notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_sink_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let s = serve(dir.path(), &config(&hook.url, "")).await;
    let sink: &dyn AlertSink = &*s.notifier;
    sink.send(vec![PostableAlert {
        labels: [("alertname".to_string(), "FromRuler".to_string())].into(),
        ..Default::default()
    }]);
    let m = hook.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(m[0]["groupLabels"]["alertname"], "FromRuler");

    let r = post_alerts(&s.base, json!([{"labels": {}}])).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("no labels"));
    let r = reqwest::Client::new().post(format!("{}/api/v2/alerts", s.base)).body("{").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v2/silences", s.base))
        .json(&json!({"matchers": [{"name": "a", "value": "(", "isRegex": true}], "startsAt": now_plus(0), "endsAt": now_plus(60), "createdBy": "t", "comment": "c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("regular expression"));
    let st = get_json(&format!("{}/alertmanager/api/v2/status", s.base)).await;
    assert_eq!(st["cluster"]["status"], "disabled");
    assert!(st["config"]["original"].as_str().unwrap().contains("group_wait: 1s"));
    assert_eq!(get_json(&format!("{}/api/v2/receivers", s.base)).await, json!([{"name": "hook"}]));
    s.notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_survive_a_restart_and_reload_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start().await;
    let s = serve(dir.path(), &config(&hook.url, "")).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v2/silences", s.base))
        .json(&json!({"matchers": [{"name": "job", "value": "web.*", "isRegex": true}], "startsAt": now_plus(0), "endsAt": now_plus(600), "createdBy": "ops", "comment": "deploy"}))
        .send()
        .await
        .unwrap();
    let id = r.json::<serde_json::Value>().await.unwrap()["silenceID"].as_str().unwrap().to_string();
    // A broken file is refused on reload; the running configuration stays.
    std::fs::write(dir.path().join("am.yml"), "route:\n  receiver: hook\n  group_wait: later\n").unwrap();
    let e = s.notifier.reload().unwrap_err().to_string();
    assert!(e.contains("am.yml") && e.contains("line 3"), "{e}");
    s.notifier.shutdown().await;
    drop(s);

    std::fs::write(dir.path().join("am.yml"), config(&hook.url, "")).unwrap();
    let s2 = serve(dir.path(), &config(&hook.url, "")).await;
    let list = get_json(&format!("{}/api/v2/silences", s2.base)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["createdBy"], "ops");
    assert_eq!(list[0]["matchers"][0]["isRegex"], true);
    assert_eq!(list[0]["status"]["state"], "active");
    post_alerts(&s2.base, json!([{"labels": {"alertname": "X", "job": "webapp"}}])).await;
    let a = get_json(&format!("{}/api/v2/alerts", s2.base)).await;
    assert_eq!(a[0]["status"]["silencedBy"], json!([id]));
    s2.notifier.reload().unwrap();
    s2.notifier.shutdown().await;
}
