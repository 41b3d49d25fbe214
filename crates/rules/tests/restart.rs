//! A restart (a new Ruler on the same data directory) while an alert is pending and while it
//! is firing: activeAt is kept, the alert fires on time, is not re-announced, not forgotten;
//! after an outage longer than `for_outage_tolerance` it starts afresh.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use model::duration::PromDuration;
use rules::RulerConfig;
use serde_json::Value;

const T0: i64 = 1_700_000_000 * S;

const GROUP: &str = "name: g\ninterval: 1m\nrules:\n  - alert: Errs\n    expr: sum by (app) (count_over_time({app=\"shop\"} |= \"error\" [1m])) > 0\n    for: 2m\n";

async fn alerts(base: &str) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{base}/prometheus/api/v1/alerts")).await.unwrap().json().await.unwrap();
    v["data"]["alerts"].as_array().unwrap().clone()
}

fn source() -> Arc<logql::MemorySource> {
    let src = Arc::new(logql::MemorySource::new());
    src.push(labels(&[("app", "shop")]), lines(T0 - 2 * M, T0 + 10 * M, 10 * S, "error"));
    src
}

#[tokio::test]
async fn restarts_while_pending_and_while_firing_keep_the_alert() {
    let dir = tempfile::tempdir().unwrap();
    let src = source();
    let e1 = env(RulerConfig::default(), dir.path(), src.clone()).await;
    let r = reqwest::Client::new().post(format!("{}/loki/api/v1/rules/ns", e1.base)).body(GROUP).send().await.unwrap();
    assert_eq!(r.status(), 202);
    e1.ruler.evaluate_group_at("fake", "ns", "g", T0).await.unwrap();
    assert_eq!(alerts(&e1.base).await[0]["state"], "pending");
    e1.ruler.shutdown().await;
    let saved: Value = serde_json::from_slice(&std::fs::read(dir.path().join("ruler/state.json")).unwrap()).unwrap();
    assert_eq!(saved["rules"][0]["alerts"][0]["state"], "pending");
    drop(e1);

    // Restart while pending: activeAt kept, fires at T0 + for, not later.
    let e2 = env(RulerConfig::default(), dir.path(), src.clone()).await;
    let a = alerts(&e2.base).await;
    assert_eq!(a[0]["state"], "pending");
    assert_eq!(a[0]["activeAt"], "2023-11-14T22:13:20Z");
    e2.ruler.evaluate_group_at("fake", "ns", "g", T0 + M).await.unwrap();
    assert_eq!(alerts(&e2.base).await[0]["state"], "pending");
    assert!(e2.history.states().is_empty(), "no new pending line for a restored alert");
    e2.ruler.evaluate_group_at("fake", "ns", "g", T0 + 2 * M).await.unwrap();
    assert_eq!(alerts(&e2.base).await[0]["state"], "firing");
    assert_eq!(e2.history.states(), [("firing".into(), "pending".into(), T0 + 2 * M)]);
    e2.ruler.shutdown().await;
    drop(e2);

    // Restart while firing: still firing, no new history line, not forgotten.
    let e3 = env(RulerConfig::default(), dir.path(), src.clone()).await;
    assert_eq!(alerts(&e3.base).await[0]["state"], "firing");
    e3.ruler.evaluate_group_at("fake", "ns", "g", T0 + 3 * M).await.unwrap();
    let a = alerts(&e3.base).await;
    assert_eq!(
        (a.len(), a[0]["state"].as_str(), a[0]["activeAt"].as_str()),
        (1, Some("firing"), Some("2023-11-14T22:13:20Z"))
    );
    assert!(e3.history.states().is_empty(), "a restored firing alert is not announced again");
    let sent = e3.sink.0.lock().clone();
    assert_eq!(sent.len(), 1, "refreshed in the Alertmanager after the restart");
    assert_eq!(
        sent[0].starts_at.unwrap().as_nanosecond() as i64,
        T0 + 2 * M,
        "same startsAt: the same alert, not a new one"
    );
    e3.ruler.shutdown().await;
}

#[tokio::test]
async fn an_outage_longer_than_the_tolerance_starts_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = RulerConfig { for_outage_tolerance: PromDuration(Duration::from_millis(50)), ..Default::default() };
    let src = source();
    let e1 = env(cfg.clone(), dir.path(), src.clone()).await;
    reqwest::Client::new().post(format!("{}/loki/api/v1/rules/ns", e1.base)).body(GROUP).send().await.unwrap();
    e1.ruler.evaluate_group_at("fake", "ns", "g", T0).await.unwrap();
    e1.ruler.shutdown().await;
    drop(e1);
    tokio::time::sleep(Duration::from_millis(120)).await;
    let e2 = env(cfg, dir.path(), src).await;
    assert!(alerts(&e2.base).await.is_empty());
    e2.ruler.evaluate_group_at("fake", "ns", "g", T0 + M).await.unwrap();
    let a = alerts(&e2.base).await;
    assert_eq!(a[0]["state"], "pending");
    assert_eq!(a[0]["activeAt"], "2023-11-14T22:14:20Z", "a new activeAt");
}
