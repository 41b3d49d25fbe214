//! The evaluation loops on the wall clock: each group runs on its own interval, and a slow
//! rule times out at its group's interval without holding up another group.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use rules::{Querier, Ruler, RulerConfig};
use serde_json::Value;

/// Queries containing "slow" take 5 s; others answer at once.
struct SlowQuerier;

impl Querier for SlowQuerier {
    fn instant(&self, _t: &str, query: &str, _ts: i64) -> Result<Vec<(model::Labels, f64)>, String> {
        if query.contains("slow") {
            std::thread::sleep(Duration::from_secs(5));
        }
        Ok(vec![(model::Labels::empty(), 1.0)])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_group_does_not_hold_up_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut reg = prometheus_client::registry::Registry::default();
    let ruler = Ruler::new(
        RulerConfig::default(),
        dir.path(),
        Arc::new(SlowQuerier),
        Arc::new(MemHistory::default()),
        vec![],
        &mut reg,
    )
    .unwrap();
    let app = ruler.router(tenant_of());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    ruler.start();
    let c = reqwest::Client::new();
    for (name, expr) in [("fast", "vector(1)"), ("slow", "sum(count_over_time({app=\"slow\"}[1m]))")] {
        let g = format!("name: {name}\ninterval: 1s\nrules:\n  - alert: A{name}\n    expr: '{expr}'\n");
        assert_eq!(c.post(format!("{base}/loki/api/v1/rules/ns")).body(g).send().await.unwrap().status(), 202);
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let v: Value = c.get(format!("{base}/prometheus/api/v1/rules")).send().await.unwrap().json().await.unwrap();
    let groups = v["data"]["groups"].as_array().unwrap();
    let fast = groups.iter().find(|g| g["name"] == "fast").unwrap();
    let slow = groups.iter().find(|g| g["name"] == "slow").unwrap();
    assert_eq!(fast["rules"][0]["health"], "ok");
    assert_eq!(fast["rules"][0]["state"], "firing", "for 0: fires at the first evaluation");
    let last: jiff::Timestamp = fast["lastEvaluation"].as_str().unwrap().parse().unwrap();
    assert!(jiff::Timestamp::now().duration_since(last).as_secs_f64() < 1.5, "fast group kept running: {last}");
    assert_eq!(slow["rules"][0]["health"], "err");
    assert!(slow["rules"][0]["lastError"].as_str().unwrap().contains("timed out"), "{}", slow["rules"][0]);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &reg).unwrap();
    assert!(
        text.contains(
            "bitacora_ruler_group_evaluation_failures_total{tenant=\"fake\",namespace=\"ns\",rule_group=\"slow\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("bitacora_ruler_alerts{tenant=\"fake\",namespace=\"ns\",rule_group=\"fast\",state=\"firing\"} 1"),
        "{text}"
    );
    ruler.shutdown().await;
    server.abort();
}
