//! Alerting end to end, as a Dokku operator runs it, with real peers: rule groups created
//! through Loki's ruler API fire and resolve on pushed logs with the `for` timing kept; the
//! built-in notifier delivers grouped notifications and resolved notices to a webhook and by
//! e-mail to a real SMTP server (aiosmtpd); a real Alertmanager receives the same alerts and
//! forwards them; recording rules arrive in a real Prometheus by remote write and are queried
//! back from it; alert state survives restarts while pending and while firing.

mod common;

use std::time::Duration;

use common::peers::{self, Hook, Smtp, eventually};
use common::{Http, Server, free_port, now_ns};
use serde_json::Value;

/// Pushes `per_second` lines containing "error" for `app` every second until dropped.
struct Pusher(tokio::task::JoinHandle<()>);

impl Pusher {
    fn start(base: &str, app: &'static str, per_second: usize) -> Pusher {
        let h = Http::new(base);
        Pusher(tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                let values: Vec<Value> = (0..per_second)
                    .map(|i| {
                        n += 1;
                        serde_json::json!([
                            (now_ns() + i as i64).to_string(),
                            format!("level=error msg=\"payment failed\" n={n}")
                        ])
                    })
                    .collect();
                let body =
                    serde_json::json!({"streams": [{"stream": {"app": app, "stream": "stderr"}, "values": values}]});
                let (status, text) = h.push_json(&body).await;
                assert_eq!(status, 204, "{text}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }))
    }
}

impl Drop for Pusher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn post_group(h: &Http, namespace: &str, yaml: &str) -> (u16, String) {
    h.post(
        &format!("/loki/api/v1/rules/{namespace}"),
        &[("Content-Type", "application/yaml")],
        yaml.as_bytes().to_vec(),
    )
    .await
}

/// The alerts of `name` as `/prometheus/api/v1/alerts` lists them.
async fn alerts(h: &Http, name: &str) -> Vec<Value> {
    let v = h.get_json("/prometheus/api/v1/alerts", &[]).await;
    v["data"]["alerts"].as_array().unwrap().iter().filter(|a| a["labels"]["alertname"] == name).cloned().collect()
}

async fn alert_in_state(h: &Http, name: &str, state: &str) -> Option<Value> {
    alerts(h, name).await.into_iter().find(|a| a["state"] == state)
}

/// The alert's history: (ts, JSON line), oldest first.
async fn history(h: &Http, name: &str) -> Vec<(i64, Value)> {
    let q = format!("{{app=\"bitacora\", source=\"alerts\", alertname=\"{name}\"}}");
    h.all_lines(&q, now_ns() - 3_600_000_000_000, now_ns() + 1_000_000_000)
        .await
        .into_iter()
        .map(|(ts, l)| (ts, serde_json::from_str(&l).unwrap_or_else(|e| panic!("history line {l:?}: {e}"))))
        .collect()
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const SHOP_RULES: &str = r#"
name: shop
interval: 1s
rules:
  - alert: ShopErrors
    expr: sum by (app) (count_over_time({app="shop"} |= "error" [10s])) > 5
    for: 3s
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.app }} logs {{ $value }} errors in 10s"
  - record: app:errors:count10s
    expr: sum by (app) (count_over_time({app="shop"} |= "error" [10s]))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_fire_and_resolve_through_every_receiver() {
    if !peers::have("prometheus", "Debian's prometheus")
        || !peers::have("prometheus-alertmanager", "Debian's prometheus-alertmanager")
        || !peers::have_python("aiosmtpd")
    {
        return;
    }
    let hook = Hook::start().await;
    let smtp = Smtp::start();
    let am = peers::alertmanager(&format!(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: hook\n    webhook_configs:\n      - url: {}/am\n        send_resolved: true\n",
        hook.base
    ));
    let prom = peers::prometheus();
    let dir = tempfile::tempdir().unwrap();
    let builtin = write(
        dir.path(),
        "notify.yml",
        &format!(
            "global:\n  smtp_smarthost: 127.0.0.1:{}\n  smtp_from: bitacora@example.org\n  smtp_require_tls: false\n\
             route:\n  receiver: team\n  group_by: [alertname, app]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: team\n    webhook_configs:\n      - url: {}/builtin\n    email_configs:\n      - to: ops@example.org\n        send_resolved: true\n",
            smtp.port, hook.base
        ),
    );
    let config = write(
        dir.path(),
        "bitacora.yml",
        &format!(
            "ruler:\n  evaluation_interval: 1s\n  alertmanager_url: [\"{}\"]\n  remote_write:\n    url: {}/api/v1/write\n\
             alerting:\n  alertmanager_config: {builtin}\n",
            am.url, prom.url
        ),
    );
    let data = dir.path().join("data");
    let srv = Server::launch("server", &data, free_port(), &[("BITACORA_CONFIG", &config)]);
    let h = Http::new(&srv.addr);

    // Bad rules are refused with the rule, the field and, for LogQL, the position.
    let (status, text) = post_group(
        &h,
        "shop",
        "name: bad\nrules:\n  - alert: Broken\n    expr: sum(count_over_time({app=\"shop\"} |= [10s]))\n",
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("Broken") && text.contains("expr") && text.contains("col"), "{text}");
    let (status, text) = post_group(&h, "shop", "name: bad\nrules:\n  - alert: NoExpr\n").await;
    assert_eq!(status, 400, "{text}");

    let (status, text) = post_group(&h, "shop", SHOP_RULES).await;
    assert_eq!(status, 202, "{text}");
    let (status, yaml) = h.get("/loki/api/v1/rules/shop/shop", &[]).await;
    assert_eq!(status, 200);
    assert!(yaml.contains("ShopErrors") && yaml.contains("app:errors:count10s"), "{yaml}");

    // Two error lines a second: above 5 in 10 s within a few seconds.
    let pusher = Pusher::start(&srv.addr, "shop", 2);
    let firing =
        eventually(Duration::from_secs(40), "ShopErrors firing", || alert_in_state(&h, "ShopErrors", "firing")).await;
    assert_eq!(firing["labels"]["app"], "shop");
    assert_eq!(firing["labels"]["severity"], "page");
    let summary = firing["annotations"]["summary"].as_str().unwrap();
    assert!(summary.starts_with("shop logs ") && summary.ends_with(" errors in 10s"), "{summary}");

    // `for: 3s` on a 1 s interval: firing at the first evaluation at least 3 s after pending.
    let hist = history(&h, "ShopErrors").await;
    let at = |state: &str| hist.iter().find(|(_, l)| l["state"] == state).map(|(ts, _)| *ts);
    let (pending, fired) = (at("pending").expect("a pending line"), at("firing").expect("a firing line"));
    let waited = Duration::from_nanos((fired - pending) as u64);
    assert!(waited >= Duration::from_secs(3) && waited < Duration::from_millis(4500), "pending for {waited:?}");

    // The built-in notifier: one grouped webhook notification, and an e-mail.
    let note = eventually(Duration::from_secs(20), "the built-in webhook", || async {
        hook.bodies("/builtin").into_iter().find(|b| b["status"] == "firing")
    })
    .await;
    assert_eq!(note["receiver"], "team");
    assert_eq!(note["groupLabels"]["alertname"], "ShopErrors");
    assert_eq!(note["alerts"][0]["labels"]["app"], "shop");
    assert!(note["alerts"][0]["annotations"]["summary"].as_str().unwrap().starts_with("shop logs "));
    let mail = eventually(Duration::from_secs(20), "an e-mail", || async {
        smtp.messages().into_iter().find(|m| m["data"].as_str().unwrap().contains("ShopErrors"))
    })
    .await;
    assert_eq!(mail["to"], serde_json::json!(["ops@example.org"]));
    assert_eq!(mail["from"], "bitacora@example.org");

    // The real Alertmanager has it, and forwarded it to its own receiver.
    let client = reqwest::Client::new();
    let in_am: Value = client.get(format!("{}/api/v2/alerts", am.url)).send().await.unwrap().json().await.unwrap();
    let ours: Vec<&Value> =
        in_am.as_array().unwrap().iter().filter(|a| a["labels"]["alertname"] == "ShopErrors").collect();
    assert_eq!(ours.len(), 1, "{in_am}");
    assert_eq!(ours[0]["labels"]["app"], "shop");
    assert!(ours[0]["generatorURL"].as_str().unwrap().starts_with("http"), "{}", ours[0]);
    eventually(Duration::from_secs(20), "Alertmanager's webhook", || async {
        hook.bodies("/am")
            .into_iter()
            .find(|b| b["status"] == "firing" && b["alerts"][0]["labels"]["alertname"] == "ShopErrors")
    })
    .await;

    // The recording rule's samples, queried back from the real Prometheus.
    let recorded = eventually(Duration::from_secs(30), "the recorded series in Prometheus", || async {
        let v: Value = client
            .get(format!("{}/api/v1/query", prom.url))
            .query(&[("query", "app:errors:count10s{app=\"shop\"}")])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        v["data"]["result"].as_array().filter(|r| !r.is_empty()).map(|r| r[0].clone())
    })
    .await;
    let value: f64 = recorded["value"][1].as_str().unwrap().parse().unwrap();
    assert!(value > 5.0, "{recorded}");

    // Quiet again: resolved everywhere, with a resolved notice and a history line.
    drop(pusher);
    eventually(Duration::from_secs(40), "ShopErrors resolved", || async {
        alerts(&h, "ShopErrors").await.is_empty().then_some(())
    })
    .await;
    eventually(Duration::from_secs(20), "the built-in resolved notice", || async {
        hook.bodies("/builtin").into_iter().find(|b| b["status"] == "resolved")
    })
    .await;
    eventually(Duration::from_secs(20), "the resolved e-mail", || async {
        smtp.messages().into_iter().find(|m| m["data"].as_str().unwrap().contains("RESOLVED"))
    })
    .await;
    eventually(Duration::from_secs(30), "Alertmanager's resolved notice", || async {
        hook.bodies("/am").into_iter().find(|b| b["status"] == "resolved")
    })
    .await;
    let hist = history(&h, "ShopErrors").await;
    let states: Vec<&str> = hist.iter().map(|(_, l)| l["state"].as_str().unwrap()).collect();
    assert_eq!(states, vec!["pending", "firing", "inactive"], "{hist:?}");
    // One notification per change: one firing, one resolved.
    let builtin: Vec<String> =
        hook.bodies("/builtin").iter().map(|b| b["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(builtin, vec!["firing", "resolved"]);
}

const SLOW_RULE: &str = r#"
name: slow
interval: 1s
rules:
  - alert: ShopSlow
    expr: sum by (app) (count_over_time({app="shop"} |= "error" [1m])) > 2
    for: 6s
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_pending_and_firing_alerts() {
    let hook = Hook::start().await;
    let dir = tempfile::tempdir().unwrap();
    let builtin = write(
        dir.path(),
        "notify.yml",
        &format!(
            "route:\n  receiver: hook\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: hook\n    webhook_configs:\n      - url: {}/builtin\n",
            hook.base
        ),
    );
    let config = write(
        dir.path(),
        "bitacora.yml",
        &format!("ruler:\n  evaluation_interval: 1s\nalerting:\n  alertmanager_config: {builtin}\n"),
    );
    let data = dir.path().join("data");
    let port = free_port();
    let env = [("BITACORA_CONFIG", config.as_str())];
    let mut srv = Server::launch("server", &data, port, &env);
    let h = Http::new(&srv.addr);
    let (status, text) = post_group(&h, "shop", SLOW_RULE).await;
    assert_eq!(status, 202, "{text}");
    let pusher = Pusher::start(&srv.addr, "shop", 1);
    let pending =
        eventually(Duration::from_secs(20), "ShopSlow pending", || alert_in_state(&h, "ShopSlow", "pending")).await;
    let active_at = pending["activeAt"].as_str().unwrap().to_string();

    // Restarted while pending: still pending since the same instant, and it fires on time.
    drop(pusher);
    srv.terminate();
    let mut srv = Server::launch("server", &data, port, &env);
    let pusher = Pusher::start(&srv.addr, "shop", 1);
    let again = eventually(Duration::from_secs(10), "ShopSlow after the restart", || async {
        alerts(&h, "ShopSlow").await.into_iter().next()
    })
    .await;
    assert_eq!(again["activeAt"], active_at.as_str(), "{again}");
    eventually(Duration::from_secs(20), "ShopSlow firing", || alert_in_state(&h, "ShopSlow", "firing")).await;
    let hist = history(&h, "ShopSlow").await;
    let states: Vec<&str> = hist.iter().map(|(_, l)| l["state"].as_str().unwrap()).collect();
    assert_eq!(states, vec!["pending", "firing"], "neither re-announced nor forgotten: {hist:?}");
    let waited = Duration::from_nanos((hist[1].0 - hist[0].0) as u64);
    assert!(waited >= Duration::from_secs(6) && waited < Duration::from_millis(7500), "fired {waited:?} after pending");
    eventually(Duration::from_secs(10), "the firing notification", || async {
        (hook.bodies("/builtin").len() == 1).then_some(())
    })
    .await;

    // Restarted while firing: firing since the same instant, not notified or recorded again.
    drop(pusher);
    srv.terminate();
    let _srv = Server::launch("server", &data, port, &env);
    let _pusher = Pusher::start(&format!("http://127.0.0.1:{port}"), "shop", 1);
    let firing = eventually(Duration::from_secs(10), "ShopSlow firing after the restart", || async {
        alerts(&h, "ShopSlow").await.into_iter().next()
    })
    .await;
    assert_eq!(firing["state"], "firing", "{firing}");
    assert_eq!(firing["activeAt"], active_at.as_str());
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(hook.bodies("/builtin").len(), 1, "re-notified after a restart: {:?}", hook.bodies("/builtin"));
    let states: Vec<String> =
        history(&h, "ShopSlow").await.iter().map(|(_, l)| l["state"].as_str().unwrap().to_string()).collect();
    assert_eq!(states, vec!["pending", "firing"]);
}
