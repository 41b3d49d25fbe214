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

/// A started ruler over `querier`, its API served on a loopback port.
async fn serve(
    querier: Arc<dyn Querier>,
) -> (Arc<Ruler>, prometheus_client::registry::Registry, String, tokio::task::JoinHandle<()>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut reg = prometheus_client::registry::Registry::default();
    let ruler =
        Ruler::new(RulerConfig::default(), dir.path(), querier, Arc::new(MemHistory::default()), vec![], &mut reg)
            .unwrap();
    let app = ruler.router(tenant_of());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    ruler.start();
    (ruler, reg, base, server, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_group_does_not_hold_up_the_others() {
    let (ruler, reg, base, server, _dir) = serve(Arc::new(SlowQuerier)).await;
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

/// Each query takes 2.5 s and ignores its deadline (as a query stuck in one costly step does);
/// counts how many run at once.
#[derive(Default)]
struct StuckQuerier {
    running: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
    calls: std::sync::atomic::AtomicUsize,
}

impl Querier for StuckQuerier {
    fn instant(&self, _t: &str, _query: &str, _ts: i64) -> Result<Vec<(model::Labels, f64)>, String> {
        use std::sync::atomic::Ordering::SeqCst;
        self.calls.fetch_add(1, SeqCst);
        let now = self.running.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        std::thread::sleep(Duration::from_millis(2500));
        self.running.fetch_sub(1, SeqCst);
        Ok(vec![(model::Labels::empty(), 1.0)])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_deadline_is_not_joined_by_the_next_evaluations() {
    let q = Arc::new(StuckQuerier::default());
    let (ruler, _reg, base, server, _dir) = serve(q.clone()).await;
    let c = reqwest::Client::new();
    let g =
        "name: stuck\ninterval: 500ms\nrules:\n  - alert: Stuck\n    expr: 'sum(count_over_time({app=\"x\"}[1m]))'\n";
    assert_eq!(c.post(format!("{base}/loki/api/v1/rules/ns")).body(g).send().await.unwrap().status(), 202);
    tokio::time::sleep(Duration::from_millis(6000)).await;
    let v: Value = c.get(format!("{base}/prometheus/api/v1/rules")).send().await.unwrap().json().await.unwrap();
    let rule = &v["data"]["groups"][0]["rules"][0];
    // The time-out is reported at the deadline, while the query still runs.
    assert!(rule["lastError"].as_str().unwrap_or("").contains("timed out"), "{rule}");
    use std::sync::atomic::Ordering::SeqCst;
    // Twelve turns of the interval went by: each new query waited for the one before to stop.
    assert_eq!(q.most.load(SeqCst), 1, "{} queries ran at once", q.most.load(SeqCst));
    assert!((2..=3).contains(&q.calls.load(SeqCst)), "{} queries", q.calls.load(SeqCst));
    ruler.shutdown().await;
    server.abort();
}
