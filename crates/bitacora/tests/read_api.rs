//! The read side as Grafana and logcli use it: instant and range metric queries, encoding flags,
//! live tail over a WebSocket, format_query, and the operational endpoints.

mod common;

use std::time::Duration;

use common::{Http, Server, now_ns};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

async fn seed(h: &Http, t0: i64) {
    let values: Vec<_> = (0..60)
        .map(|i| {
            let level = if i % 3 == 0 { "error" } else { "info" };
            json!([(t0 + i * 1_000_000_000).to_string(), format!("level={level} msg=\"request {i}\" dur={i}ms")])
        })
        .collect();
    let (s, b) = h.push_json(&json!({"streams": [{"stream": {"app": "api", "env": "prod"}, "values": values}]})).await;
    assert_eq!(s, 204, "{b}");
}

#[tokio::test]
async fn metric_queries_and_encodings() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = (now_ns() / 10_000_000_000 - 60) * 10_000_000_000; // a multiple of 10 s, 10 minutes ago
    seed(&h, t0).await;
    let at = ((t0 + 60_000_000_000) / 1_000_000_000).to_string();

    // Instant: a vector, labels sorted, values as Go prints them.
    let v = h
        .get_json(
            "/loki/api/v1/query",
            &[("query", "sum by (level) (count_over_time({app=\"api\"} | logfmt [1m]))"), ("time", &at)],
        )
        .await;
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(
        v["data"]["result"],
        json!([
            // (t−1m, t] holds requests 1 to 59: 19 errors (every third), 40 infos.
            {"metric": {"level": "error"}, "value": [at.parse::<i64>().unwrap(), "19"]},
            {"metric": {"level": "info"}, "value": [at.parse::<i64>().unwrap(), "40"]}
        ])
    );
    assert!(v["data"]["stats"]["summary"]["totalLinesProcessed"].as_u64().unwrap() >= 59);
    // Counting without a pipeline reads block metadata only: after a flush, no line is
    // decompressed; a line filter has to decompress them.
    let (s, _) = h.post("/flush", &[], vec![]).await;
    assert_eq!(s, 204);
    let count = |q: &'static str| {
        let h = &h;
        let at = at.clone();
        async move { h.get_json("/loki/api/v1/query", &[("query", q), ("time", &at)]).await }
    };
    let v = count("sum(count_over_time({app=\"api\"}[2m]))").await;
    assert_eq!(v["data"]["result"][0]["value"][1], "60");
    assert_eq!(v["data"]["stats"]["querier"]["store"]["chunk"]["decompressedBytes"], 0, "{v}");
    assert_eq!(v["data"]["stats"]["summary"]["totalLinesProcessed"], 60);
    let v = count("sum(bytes_over_time({app=\"api\"}[2m]))").await;
    let bytes: u64 = (0..60)
        .map(|i: u64| {
            format!("level={} msg=\"request {i}\" dur={i}ms", if i.is_multiple_of(3) { "error" } else { "info" }).len()
                as u64
        })
        .sum();
    assert_eq!(v["data"]["result"][0]["value"][1], bytes.to_string());
    assert_eq!(v["data"]["stats"]["querier"]["store"]["chunk"]["decompressedBytes"], 0);
    let v = count("sum(count_over_time({app=\"api\"} |= \"request 1\" [2m]))").await;
    assert_eq!(v["data"]["result"][0]["value"][1], "11");
    assert!(v["data"]["stats"]["querier"]["store"]["chunk"]["decompressedBytes"].as_u64().unwrap() > 0);
    // Grafana's health check.
    let v = h.get_json("/loki/api/v1/query", &[("query", "vector(1)+vector(1)"), ("time", "4000000000")]).await;
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(v["data"]["result"][0]["value"], json!([4000000000i64, "2"]));
    // A log query on the instant endpoint is refused as Loki does.
    let (s, b) = h.get("/loki/api/v1/query", &[("query", "{app=\"api\"}")]).await;
    assert_eq!(s, 400);
    assert!(b.contains("log queries are not supported as an instant query type"), "{b}");
    // Range: a matrix with step-aligned points.
    let start = (t0 / 1_000_000_000).to_string();
    let end = ((t0 + 60_000_000_000) / 1_000_000_000).to_string();
    let v = h
        .get_json(
            "/loki/api/v1/query_range",
            &[("query", "sum(count_over_time({app=\"api\"}[10s]))"), ("start", &start), ("end", &end), ("step", "10s")],
        )
        .await;
    assert_eq!(v["data"]["resultType"], "matrix");
    let values = v["data"]["result"][0]["values"].as_array().unwrap();
    // detected_level would split series (structured metadata are sample labels); sum() joins.
    assert_eq!(values.len(), 7, "{v}");
    assert_eq!(values[0], json!([t0 / 1_000_000_000, "1"]));
    assert_eq!(values[1], json!([t0 / 1_000_000_000 + 10, "10"]));
    // A parse error: 400, Loki's wording with the position.
    let (s, b) = h.get("/loki/api/v1/query_range", &[("query", "{app=\"api\"} |= ")]).await;
    assert_eq!(s, 400);
    assert!(b.starts_with("parse error at line 1, col"), "{b}");
    // Limits.
    let (s, b) = h.get("/loki/api/v1/query_range", &[("query", "{app=\"api\"}"), ("limit", "6000")]).await;
    assert_eq!(s, 400);
    assert!(b.contains("max entries limit per query exceeded"), "{b}");
    let (s, b) = h.get("/loki/api/v1/query_range", &[("query", "{app=\"api\"}"), ("step", "0")]).await;
    assert_eq!(
        (s, b.as_str()),
        (400, "zero or negative query resolution step widths are not accepted. Try a positive integer")
    );

    // categorize-labels: 3-tuples, parsed labels apart from stream labels.
    let r =
        h.c.get(format!("{}/loki/api/v1/query_range", srv.addr))
            .query(&[
                ("query", "{app=\"api\"} | logfmt | level=\"error\""),
                ("start", &start),
                ("end", &end),
                ("limit", "2"),
            ])
            .header("X-Loki-Response-Encoding-Flags", "categorize-labels")
            .send()
            .await
            .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data"]["encodingFlags"], json!(["categorize-labels"]));
    let s0 = &v["data"]["result"][0];
    assert_eq!(s0["stream"], json!({"app": "api", "env": "prod", "service_name": "api"}));
    let e0 = &s0["values"][0];
    assert_eq!(e0.as_array().unwrap().len(), 3);
    assert_eq!(e0[2]["parsed"]["level"], "error");
    assert_eq!(e0[2]["structuredMetadata"]["detected_level"], "error");
    // Newest first by default.
    assert_eq!(e0[1], "level=error msg=\"request 57\" dur=57ms");
}

#[tokio::test]
async fn live_tail_sends_history_then_new_lines() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = now_ns() - 30_000_000_000;
    seed(&h, t0 - 60_000_000_000).await;
    let url = format!(
        "ws://127.0.0.1:{}/loki/api/v1/tail?query=%7Bapp%3D%22api%22%7D%20%7C%3D%20%22request%201%22&limit=3",
        srv.port
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut got: Vec<(i64, String)> = Vec::new();
    // History: the newest 3 matches, oldest first.
    while got.len() < 3 {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(t) = msg {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            for s in v["streams"].as_array().unwrap() {
                for e in s["values"].as_array().unwrap() {
                    got.push((e[0].as_str().unwrap().parse().unwrap(), e[1].as_str().unwrap().to_string()));
                }
            }
        }
    }
    // Entries are grouped by label set within a message (detected_level differs); in time they are
    // the newest three.
    got.sort();
    let got: Vec<String> = got.into_iter().map(|g| g.1).collect();
    assert_eq!(
        got,
        vec![
            "level=info msg=\"request 17\" dur=17ms",
            "level=error msg=\"request 18\" dur=18ms",
            "level=info msg=\"request 19\" dur=19ms"
        ]
    );
    // New lines: only the matching one arrives, promptly.
    let now = now_ns();
    let (s, _) = h
        .push_json(&json!({"streams": [{"stream": {"app": "api", "env": "prod"}, "values": [
            [now.to_string(), "live request 1 arrived"], [(now + 1).to_string(), "live other"]]},
            {"stream": {"app": "other"}, "values": [[now.to_string(), "request 1 elsewhere"]]}]}))
        .await;
    assert_eq!(s, 204);
    let started = std::time::Instant::now();
    let live = loop {
        let msg = tokio::time::timeout(Duration::from_secs(3), ws.next())
            .await
            .expect("a live line within 3 s")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            break serde_json::from_str::<serde_json::Value>(&t).unwrap();
        }
    };
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(live["streams"][0]["values"][0][1], "live request 1 arrived");
    assert_eq!(live["streams"].as_array().unwrap().len(), 1);
    ws.send(Message::Close(None)).await.unwrap();
    // Bad tail parameters are refused before the upgrade.
    let (s, b) = h.get("/loki/api/v1/tail", &[("query", "{app=\"api\"}"), ("delay_for", "6")]).await;
    assert!(s == 400 && b.contains("delay_for can't be greater than 5"), "{s} {b}");
}

#[tokio::test]
async fn operational_endpoints() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let v = h.get_json("/loki/api/v1/format_query", &[("query", "{app=   \"x\"}|=\"y\"")]).await;
    assert_eq!(v, json!({"status": "success", "data": "{app=\"x\"} |= \"y\""}));
    let (s, b) = h.get("/loki/api/v1/format_query", &[("query", "{app=")]).await;
    assert_eq!(s, 400);
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["status"], "invalid-query");
    assert!(v["error"].as_str().unwrap().starts_with("parse error"), "{v}");
    let v = h.get_json("/loki/api/v1/status/buildinfo", &[]).await;
    assert!(v["version"].as_str().unwrap().starts_with('3'));
    let (s, b) = h.get("/ready", &[]).await;
    assert_eq!((s, b.as_str()), (200, "ready\n"));
    seed(&h, now_ns() - 120_000_000_000).await;
    let _ = h.get("/loki/api/v1/labels", &[]).await;
    let (s, m) = h.get("/metrics", &[]).await;
    assert_eq!(s, 200);
    for name in [
        "loki_distributor_lines_received_total{tenant=\"fake\"} 60",
        "loki_request_duration_seconds_bucket",
        "bitacora_wal_bytes_total",
        "bitacora_head_bytes",
        "loki_ingester_streams_created_total 1",
    ] {
        assert!(m.contains(name), "/metrics lacks {name}:\n{m}");
    }
    let (s, c) = h.get("/config", &[]).await;
    assert_eq!(s, 200);
    assert!(c.contains("retention_period") && c.contains("ingestion_rate_mb"), "{c}");
}
