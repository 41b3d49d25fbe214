//! Loki's legacy and small endpoints against a real server: `/api/prom/query`, `label`,
//! `label/{name}/values`, `series` and `tail` (WebSocket) in the legacy shapes, Grafana's
//! `v2alpha/tail` probe, `/log_level` read and changed at run time, and a protobuf push whose
//! line is not valid UTF-8.

mod common;

use std::time::Duration;

use common::{Http, Server, now_ns};
use futures_util::StreamExt;
use prost::Message as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn seed(h: &Http, t0: i64) {
    let values: Vec<Value> =
        (0..5).map(|i| json!([(t0 + i * 1_000_000_000).to_string(), format!("legacy line {i}")])).collect();
    let (s, b) = h.push_json(&json!({"streams": [{"stream": {"app": "old", "env": "prod"}, "values": values}]})).await;
    assert_eq!(s, 204, "{b}");
}

fn rfc3339(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(ns as i128).unwrap().to_string()
}

#[tokio::test]
async fn legacy_query_labels_and_series() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = now_ns() - 60_000_000_000;
    seed(&h, t0).await;
    let (start, end) = ((t0 - 1_000_000_000).to_string(), now_ns().to_string());
    let range = [("start", start.as_str()), ("end", end.as_str())];

    let v = h.get_json("/api/prom/query", &[("query", r#"{app="old"}"#), range[0], range[1], ("limit", "2")]).await;
    let streams = v["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 1, "{v}");
    assert_eq!(streams[0]["labels"], r#"{app="old", detected_level="unknown", env="prod", service_name="old"}"#);
    let entries = streams[0]["entries"].as_array().unwrap();
    // Backward by default: the newest two, times in RFC 3339.
    assert_eq!(entries[0], json!({"ts": rfc3339(t0 + 4_000_000_000), "line": "legacy line 4"}));
    assert_eq!(entries[1], json!({"ts": rfc3339(t0 + 3_000_000_000), "line": "legacy line 3"}));
    assert!(v["stats"]["summary"].is_object(), "{v}");
    assert!(v.get("status").is_none(), "no envelope");

    // The deprecated `regexp` parameter filters as `|~`.
    let v = h
        .get_json(
            "/api/prom/query",
            &[("query", r#"{app="old"}"#), ("regexp", "line [12]$"), ("direction", "forward"), range[0], range[1]],
        )
        .await;
    let lines: Vec<&str> =
        v["streams"][0]["entries"].as_array().unwrap().iter().map(|e| e["line"].as_str().unwrap()).collect();
    assert_eq!(lines, ["legacy line 1", "legacy line 2"]);

    let (s, text) = h.get("/api/prom/query", &[("query", r#"count_over_time({app="old"}[1m])"#)]).await;
    assert_eq!(s, 400);
    assert!(text.contains("legacy endpoints only support streams result type"), "{text}");
    let (s, text) = h.get("/api/prom/query", &[("query", r#"{app="old""#)]).await;
    assert_eq!(s, 400, "{text}");

    let v = h.get_json("/api/prom/label", &[range[0], range[1]]).await;
    assert_eq!(v, json!({"values": ["app", "env", "service_name"]}));
    let v = h.get_json("/api/prom/label/env/values", &[range[0], range[1]]).await;
    assert_eq!(v, json!({"values": ["prod"]}));
    let v = h.get_json("/api/prom/series", &[("match[]", r#"{app="old"}"#), range[0], range[1]]).await;
    assert_eq!(v["data"], json!([{"app": "old", "env": "prod", "service_name": "old"}]));
}

#[tokio::test]
async fn legacy_tail_and_the_v2alpha_probe() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = now_ns() - 30_000_000_000;
    seed(&h, t0).await;
    // Grafana's probe for a v2 tail: 404, never 400 (which would mean "v2 exists").
    let (s, _) = h.get("/loki/api/v2alpha/tail", &[("query", r#"{app="old"}"#)]).await;
    assert_eq!(s, 404);

    // A POST tail, as Loki routes it: its parameters are checked (form body included), then the
    // upgrade is refused by name, since a WebSocket handshake is a GET.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    for path in ["/loki/api/v1/tail", "/api/prom/tail"] {
        let (s, b) = h.post(path, &form, b"query=%7Bapp%3D%22old%22%7D".to_vec()).await;
        assert_eq!((s, b.as_str()), (405, "websocket: not a websocket handshake: request method is not GET"), "{path}");
        let (s, b) = h.post(path, &form, b"query=%7Bapp%3D".to_vec()).await;
        assert_eq!(s, 400, "{path}: {b}");
        assert!(b.contains("parse error"), "{path}: {b}");
    }

    let url = format!("ws://127.0.0.1:{}/api/prom/tail?query=%7Bapp%3D%22old%22%7D&limit=2", srv.port);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut got: Vec<Value> = Vec::new();
    let mut pushed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.len() < 3 {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.expect("tail messages").unwrap().unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            assert!(v.as_object().unwrap().contains_key("dropped_entries"), "{v}");
            for s in v["streams"].as_array().unwrap() {
                assert_eq!(s["labels"], r#"{app="old", detected_level="unknown", env="prod", service_name="old"}"#);
                got.extend(s["entries"].as_array().unwrap().iter().cloned());
            }
        }
        if got.len() == 2 && !pushed {
            pushed = true;
            let t = now_ns();
            let (s, b) = h.push_json(&json!({"streams": [{"stream": {"app": "old", "env": "prod"}, "values": [[t.to_string(), "live line"]]}]})).await;
            assert_eq!(s, 204, "{b}");
        }
    }
    assert_eq!(got[0], json!({"ts": rfc3339(t0 + 3_000_000_000), "line": "legacy line 3"}));
    assert_eq!(got[1], json!({"ts": rfc3339(t0 + 4_000_000_000), "line": "legacy line 4"}));
    assert_eq!(got[2]["line"], "live line");
}

#[tokio::test]
async fn log_level_is_read_and_changed_at_run_time() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let v = h.get_json("/log_level", &[]).await;
    assert_eq!(v, json!({"message": "Current log level is warn", "status": "success"}));
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (s, text) = h.post("/log_level", &form, b"log_level=debug".to_vec()).await;
    assert_eq!((s, text.as_str()), (200, r#"{"message":"Log level set to debug","status":"success"}"#));
    let v = h.get_json("/log_level", &[]).await;
    assert_eq!(v["message"], "Current log level is debug");
    let (s, text) = h.post("/log_level", &form, b"log_level=loud".to_vec()).await;
    assert_eq!(s, 400);
    assert!(text.contains("unrecognized log level \\\"loud\\\""), "{text}");
    let v = h.get_json("/log_level", &[]).await;
    assert_eq!(v["message"], "Current log level is debug", "a bad level changes nothing");
    // The change is real: the info event logged after it (below the starting `warn`) reaches
    // the server's own log, `{app="bitacora"}`.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let lines = h.all_lines(r#"{app="bitacora", level="info"}"#, now_ns() - 60_000_000_000, now_ns() + 1).await;
        if lines.iter().any(|l| l.1.contains("log level changed")) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the info event after the change never reached the self log: {lines:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn protobuf_push_with_invalid_utf8_is_made_valid() {
    use api::proto::received::*;
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t = now_ns() - 1_000_000_000;
    let ts = |n: i64| Some(api::proto::Timestamp { seconds: n / 1_000_000_000, nanos: (n % 1_000_000_000) as i32 });
    let req = PushRequest {
        streams: vec![StreamAdapter {
            labels: br#"{app="utf"}"#.to_vec(),
            entries: vec![
                EntryAdapter { timestamp: ts(t), line: b"ok line".to_vec(), structured_metadata: vec![] },
                EntryAdapter {
                    timestamp: ts(t + 1),
                    line: b"caf\xe9 \xff end".to_vec(),
                    structured_metadata: vec![LabelPairAdapter { name: b"user".to_vec(), value: b"\xc3(".to_vec() }],
                },
            ],
        }],
    };
    let body = snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).unwrap();
    let (s, b) = h.post("/loki/api/v1/push", &[("Content-Type", "application/x-protobuf")], body).await;
    assert_eq!(s, 204, "{b}");
    let lines = h.all_lines(r#"{app="utf"}"#, t - 1, now_ns()).await;
    assert_eq!(lines, vec![(t, "ok line".to_string()), (t + 1, "caf\u{fffd} \u{fffd} end".to_string())]);
    let v = h.get_json("/loki/api/v1/query_range", &[("query", r#"{app="utf"} | user!="""#), ("since", "5m")]).await;
    assert_eq!(v["data"]["result"][0]["stream"]["user"], "\u{fffd}(");
}
