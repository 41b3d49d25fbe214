//! Loki's delete API against a real server, with requests shaped as `logcli delete
//! create/list/cancel` sends them (POST with `query`, `start`, `end` as Unix seconds and
//! `max_interval` in the URL; GET; DELETE with `request_id` and `force`): lines hidden from log
//! and metric queries at once, removed from disk once the cancel period is over, cancellation,
//! persistence across restarts, and Loki's error texts.

mod common;

use std::time::{Duration, Instant};

use common::{Http, Server, now_ns};
use serde_json::{Value, json};

const SEC: i64 = 1_000_000_000;

/// 40 lines a second apart in `{app="api"}` (alice on even seconds, bob on odd ones) and 10 in
/// `{app="web"}` (all alice), starting at `base` (ns, whole seconds).
async fn push_fixture(h: &Http, base: i64) {
    let api: Vec<Value> = (0..40)
        .map(|i| {
            let who = if i % 2 == 0 { "alice" } else { "bob" };
            json!([(base + i * SEC).to_string(), format!("user={who} i={i}")])
        })
        .collect();
    let web: Vec<Value> =
        (0..10).map(|i| json!([(base + i * SEC).to_string(), format!("user=alice web={i}")])).collect();
    let (s, b) = h
        .push_json(&json!({"streams": [
            {"stream": {"app": "api"}, "values": api},
            {"stream": {"app": "web"}, "values": web},
        ]}))
        .await;
    assert_eq!(s, 204, "{b}");
}

async fn send(h: &Http, method: reqwest::Method, params: &[(&str, &str)]) -> (u16, String, Option<String>) {
    let resp = h.c.request(method, format!("{}/loki/api/v1/delete", h.base)).query(params).send().await.unwrap();
    let id = resp.headers().get("x-delete-request-id").map(|v| v.to_str().unwrap().to_string());
    (resp.status().as_u16(), resp.text().await.unwrap(), id)
}

async fn list(h: &Http) -> Vec<Value> {
    h.get_json("/loki/api/v1/delete", &[]).await.as_array().unwrap().clone()
}

async fn lines(h: &Http, query: &str, base: i64) -> Vec<(i64, String)> {
    h.all_lines(query, base - 60 * SEC, now_ns()).await
}

/// `sum(<range aggregation>)` as an instant query now: the one sample's value.
async fn instant(h: &Http, query: &str) -> f64 {
    let v = h.get_json("/loki/api/v1/query", &[("query", query)]).await;
    let r = v["data"]["result"].as_array().unwrap();
    if r.is_empty() {
        return 0.0;
    }
    r[0]["value"][1].as_str().unwrap().parse().unwrap()
}

fn expected_api(deleted: impl Fn(i64) -> bool) -> Vec<String> {
    (0..40)
        .filter(|&i| !deleted(i))
        .map(|i| format!("user={} i={i}", if i % 2 == 0 { "alice" } else { "bob" }))
        .collect()
}

fn texts(v: &[(i64, String)]) -> Vec<String> {
    v.iter().map(|(_, l)| l.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_lines_vanish_from_queries_then_from_disk() {
    let env = [("BITACORA_DELETES__CANCEL_PERIOD", "3s"), ("BITACORA_DELETES__PROCESS_INTERVAL", "200ms")];
    let mut server = Server::start(&env);
    let h = Http::new(&server.addr);
    let base = (now_ns() / SEC - 600) * SEC;
    push_fixture(&h, base).await;
    let before_web = lines(&h, r#"{app="web"}"#, base).await;
    assert_eq!(before_web.len(), 10);
    // Alice's lines of `api` in the first 20 seconds (both ends included, as Loki's are).
    let (start, end) = ((base / SEC).to_string(), (base / SEC + 20).to_string());
    let (s, b, id) = send(
        &h,
        reqwest::Method::POST,
        &[("query", r#"{app="api"} |= "alice""#), ("start", &start), ("end", &end), ("max_interval", "10s")],
    )
    .await;
    assert_eq!(s, 204, "{b}");
    let id = id.expect("X-Delete-Request-ID");
    let deleted = |i: i64| i % 2 == 0 && i <= 20;

    // Hidden at once from log queries, metric queries (the counting fast path and the line
    // path) and the other stream is untouched.
    assert_eq!(texts(&lines(&h, r#"{app="api"}"#, base).await), expected_api(deleted));
    assert_eq!(lines(&h, r#"{app="web"}"#, base).await, before_web);
    assert_eq!(instant(&h, r#"sum(count_over_time({app="api"}[1h]))"#).await, 29.0);
    assert_eq!(instant(&h, r#"sum(count_over_time({app="api"} |= "alice" [1h]))"#).await, 9.0);
    assert_eq!(instant(&h, r#"sum(count_over_time({app="api"} | logfmt | user="alice" [1h]))"#).await, 9.0);
    assert_eq!(instant(&h, r#"sum(count_over_time({app="web"}[1h]))"#).await, 10.0);

    // Listed as received (its two shards merged back), with Loki's fields.
    let l = list(&h).await;
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0]["request_id"], id.as_str());
    assert_eq!(l[0]["query"], r#"{app="api"} |= "alice""#);
    assert_eq!(l[0]["start_time"], json!(base / SEC));
    assert_eq!(l[0]["end_time"], json!(base / SEC + 20));
    assert_eq!(l[0]["user_id"], "fake");
    assert!(l[0]["created_at"].is_number());
    let status = l[0]["status"].as_str().unwrap();
    assert!(status == "received" || status == "processed", "{status}");

    // After the cancel period it is carried out.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if list(&h).await[0]["status"] == "processed" {
            break;
        }
        assert!(Instant::now() < deadline, "not processed: {:?}", list(&h).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (s, b, _) = send(&h, reqwest::Method::DELETE, &[("request_id", &id)]).await;
    assert_eq!((s, b.as_str()), (400, "deletion of request which is in process or already processed is not allowed"));
    assert_eq!(texts(&lines(&h, r#"{app="api"}"#, base).await), expected_api(deleted));
    let metrics = h.get("/metrics", &[]).await.1;
    assert!(metrics.contains(r#"loki_compactor_deleted_lines_total{user="fake"} 11"#), "{metrics}");
    assert!(metrics.contains(r#"loki_compactor_delete_requests_processed_total{user="fake"} 1"#));

    // On disk: a server on the same directory without the requests file finds exactly the
    // rest, the other stream unchanged.
    let before_api = lines(&h, r#"{app="api"}"#, base).await;
    assert_eq!(server.terminate().code(), Some(0));
    let dir = server.dir.clone();
    std::fs::remove_file(dir.join("delete_requests.json")).unwrap();
    let fresh = Server::start_in(&dir, &[]);
    let h2 = Http::new(&fresh.addr);
    assert!(list(&h2).await.is_empty());
    assert_eq!(lines(&h2, r#"{app="api"}"#, base).await, before_api);
    assert_eq!(lines(&h2, r#"{app="web"}"#, base).await, before_web);
    assert_eq!(instant(&h2, r#"sum(count_over_time({app="api"}[1h]))"#).await, 29.0);
    // No uncompressed file (the WAL, the requests file) holds a deleted line any more; the
    // segments are compressed, so the fresh server above is their check.
    for f in files(&dir) {
        let bytes = std::fs::read(&f).unwrap();
        for i in [0, 2, 20] {
            let needle = format!("user=alice i={i}");
            assert!(!contains(&bytes, needle.as_bytes()) || f.extension().is_some_and(|e| e == "seg"), "{f:?}");
        }
    }
}

/// A count that searches a stream of many blocks reads it in parts, on several cores; a delete
/// request hides its lines from that count all the same, and the stream is counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_lines_vanish_from_counts_read_in_parts() {
    let mut server = Server::start(&[("BITACORA_STORE__BLOCK_BYTES", "64")]);
    let h = Http::new(&server.addr);
    let base = (now_ns() / SEC - 600) * SEC;
    push_fixture(&h, base).await;
    let (s, _) = h.post("/flush", &[], vec![]).await;
    assert_eq!(s, 204);
    let count = |q: &'static str| instant(&h, q);
    assert_eq!(count(r#"sum(count_over_time({app="api"} |= "alice" [1h]))"#).await, 20.0);
    let (start, end) = ((base / SEC).to_string(), (base / SEC + 20).to_string());
    let (s, b, _) =
        send(&h, reqwest::Method::POST, &[("query", r#"{app="api"} |= "alice""#), ("start", &start), ("end", &end)])
            .await;
    assert_eq!(s, 204, "{b}");
    assert_eq!(count(r#"sum(count_over_time({app="api"} |= "alice" [1h]))"#).await, 9.0);
    assert_eq!(count(r#"sum(count_over_time({app="api"} |= "user=" [1h]))"#).await, 29.0);
    assert_eq!(count(r#"sum(count_over_time({app="api"} |~ "user=(alice|bob)" [1h]))"#).await, 29.0);
    assert_eq!(count(r#"sum(count_over_time({app="web"} |= "alice" [1h]))"#).await, 10.0);
    let metrics = h.get("/metrics", &[]).await.1;
    let read: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"bitacora_query_blocks_total{outcome="read"} "#))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(read > 8, "the counts searched many blocks ({read})");
    server.terminate();
}

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_restores_lines_and_requests_survive_restarts() {
    let mut server = Server::start(&[]);
    let h = Http::new(&server.addr);
    let base = (now_ns() / SEC - 600) * SEC;
    push_fixture(&h, base).await;
    let all_api = lines(&h, r#"{app="api"}"#, base).await;
    assert_eq!(all_api.len(), 40);
    // A whole-stream delete with RFC 3339 times, sent with PUT.
    let start = jiff::Timestamp::from_nanosecond(base as i128).unwrap().to_string();
    let end = jiff::Timestamp::from_nanosecond((base + 9 * SEC) as i128).unwrap().to_string();
    let (s, b, id) =
        send(&h, reqwest::Method::PUT, &[("query", r#"{app="web"}"#), ("start", &start), ("end", &end)]).await;
    assert_eq!(s, 204, "{b}");
    let id = id.unwrap();
    assert!(lines(&h, r#"{app="web"}"#, base).await.is_empty());
    assert_eq!(instant(&h, r#"sum(count_over_time({app="web"}[1h]))"#).await, 0.0);
    assert_eq!(lines(&h, r#"{app="api"}"#, base).await, all_api);

    // A restart keeps the request, still received and still applied.
    assert_eq!(server.terminate().code(), Some(0));
    let server = Server::start_in(&server.dir.clone(), &[]);
    let h = Http::new(&server.addr);
    let l = list(&h).await;
    assert_eq!(l.len(), 1);
    assert_eq!((l[0]["request_id"].as_str().unwrap(), l[0]["status"].as_str().unwrap()), (id.as_str(), "received"));
    assert!(lines(&h, r#"{app="web"}"#, base).await.is_empty());

    // Cancelling within the cancel period restores the lines.
    let (s, b, _) = send(&h, reqwest::Method::DELETE, &[("request_id", &id)]).await;
    assert_eq!(s, 204, "{b}");
    assert_eq!(lines(&h, r#"{app="web"}"#, base).await.len(), 10);
    assert_eq!(instant(&h, r#"sum(count_over_time({app="web"}[1h]))"#).await, 10.0);
    assert!(list(&h).await.is_empty());
    let (s, b, _) = send(&h, reqwest::Method::DELETE, &[("request_id", &id), ("force", "true")]).await;
    assert_eq!((s, b.as_str()), (404, "could not find delete request with given id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_answer_with_lokis_texts() {
    let server = Server::start(&[]);
    let h = Http::new(&server.addr);
    let now = (now_ns() / SEC).to_string();
    let hour_ago = (now_ns() / SEC - 3600).to_string();
    let future = (now_ns() / SEC + 3600).to_string();
    let sel = r#"{app="api"}"#;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("start", &hour_ago)], "query not set"),
        (vec![("query", sel)], "start time not set"),
        (vec![("query", sel), ("start", "12345")], "invalid start time: require unix seconds or RFC3339 format"),
        (
            vec![("query", sel), ("start", &hour_ago), ("end", "soon")],
            "invalid end time: require unix seconds or RFC3339 format",
        ),
        (vec![("query", sel), ("start", &hour_ago), ("end", &future)], "deletes in the future are not allowed"),
        (
            vec![("query", sel), ("start", &now), ("end", &hour_ago)],
            "start time can't be greater than or equal to end time",
        ),
        (
            vec![("query", r#"rate({app="api"}[5m])"#), ("start", &hour_ago)],
            "invalid query expression: only log selector is supported",
        ),
        (
            vec![("query", r#"{app="api"} |= "x""#), ("start", &hour_ago), ("max_interval", "2h")],
            "max_interval can't be greater than the interval to be deleted (1h0m0s)",
        ),
        (
            vec![("query", r#"{app="api"} |= "x""#), ("start", &hour_ago), ("max_interval", "5x")],
            "invalid max_interval: valid time units are 's', 'm', 'h'",
        ),
    ];
    for (params, want) in cases {
        let (s, b, _) = send(&h, reqwest::Method::POST, &params).await;
        // The end defaults to now, so "1h0m0s" may be a few ms more.
        if want.starts_with("max_interval can't be greater than the interval") {
            assert!(
                s == 400 && b.starts_with("max_interval can't be greater than the interval to be deleted (1h0m"),
                "{b}"
            );
        } else {
            assert_eq!((s, b.as_str()), (400, want), "{params:?}");
        }
    }
    let (s, b, _) = send(&h, reqwest::Method::POST, &[("query", r#"{app="api""#), ("start", &hour_ago)]).await;
    assert!(s == 400 && b.starts_with("invalid query expression: parse error"), "{b}");
    let (s, b, _) = send(&h, reqwest::Method::DELETE, &[("request_id", "deadbeef")]).await;
    assert_eq!((s, b.as_str()), (404, "could not find delete request with given id"));
    assert!(list(&h).await.is_empty());
}
