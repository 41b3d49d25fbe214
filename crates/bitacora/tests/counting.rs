//! Counting from block metadata: `sum(count_over_time(...))` and its kin answer whole blocks
//! from their counts, and blocks crossing steps from their footers' tallies per ten-second
//! window when steps and ranges fall on window edges, and give exactly the answers of reading
//! every entry (`store.search_pruning: false` turns these shortcuts off).

mod common;

use common::{Http, Server, now_ns};
use serde_json::{Value, json};

const S: i64 = 1_000_000_000;

/// Two hours of four streams with uneven gaps, levels and lengths, in small blocks; one of
/// them (`edge`) has every entry exactly on a ten-second edge, where a step ends.
async fn seed(h: &Http, t0: i64) -> (u64, u64) {
    let (mut lines, mut bytes) = (0u64, 0u64);
    for (app, every_ms, jitter) in
        [("api", 700i64, true), ("worker", 2_300, true), ("cron", 41_000, true), ("edge", 10_000, false)]
    {
        let mut values = Vec::new();
        let mut t = t0;
        let mut i = 0u64;
        while t < t0 + 7_200 * S {
            let level = ["info", "info", "warn", "error"][(i % 4) as usize];
            let line = format!("level={level} app={app} msg=\"step {i}\" {}", "x".repeat((i % 37) as usize));
            bytes += line.len() as u64;
            lines += 1;
            values.push(json!([t.to_string(), line]));
            // Uneven: some gaps cross a minute, most don't.
            t += every_ms * 1_000_000 + if jitter { ((i * 7919) % 1_000) as i64 * 1_000_000 } else { 0 };
            i += 1;
        }
        for chunk in values.chunks(2_000) {
            let body = json!({"streams": [{"stream": {"app": app, "env": "prod"}, "values": chunk}]});
            let (s, b) = h.push_json(&body).await;
            assert_eq!(s, 204, "{b}");
        }
    }
    (lines, bytes)
}

fn queries(t0: i64) -> Vec<(String, Vec<(&'static str, String)>)> {
    let start = (t0 / S - 300).to_string();
    let end = (t0 / S + 7_500).to_string();
    let mid = (t0 / S + 3_611).to_string();
    let range = |q: &str, step: &str| {
        (q.to_string(), vec![("start", start.clone()), ("end", end.clone()), ("step", step.to_string())])
    };
    vec![
        (r#"sum(count_over_time({env="prod"}[24h]))"#.to_string(), vec![("time", end.clone())]),
        (r#"sum by (app) (bytes_over_time({env="prod"}[1h]))"#.to_string(), vec![("time", mid.clone())]),
        range(r#"sum(count_over_time({env="prod"}[1m]))"#, "60"),
        range(r#"sum by (app) (count_over_time({env="prod"}[5m]))"#, "300"),
        range(r#"sum by (app) (rate({env="prod"}[2m]))"#, "37"),
        range(r#"sum(bytes_over_time({app="api"}[10m]))"#, "600"),
        // The series depend on metadata here: never whole blocks, tallies by set, still equal.
        range(r#"sum by (detected_level) (count_over_time({env="prod"}[5m]))"#, "300"),
        range(r#"count_over_time({app="worker"}[10m])"#, "600"),
        // Grafana's log volume: its `|= ""` and `drop __error__` change nothing.
        range(r#"sum by (level, detected_level) (count_over_time({env="prod"} |= "" | drop __error__ [1m]))"#, "60"),
    ]
}

async fn answers(h: &Http, t0: i64) -> Vec<Value> {
    let mut out = Vec::new();
    for (q, params) in queries(t0) {
        let path = if params.len() == 1 { "/loki/api/v1/query" } else { "/loki/api/v1/query_range" };
        let mut p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        p.push(("query", &q));
        let v = h.get_json(path, &p).await;
        assert_eq!(v["status"], "success", "{q}: {v}");
        out.push(v["data"]["result"].clone());
    }
    out
}

async fn blocks(h: &Http, outcome: &str) -> u64 {
    let (_, text) = h.get("/metrics", &[]).await;
    let prefix = format!("bitacora_query_blocks_total{{outcome=\"{outcome}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn counts_from_block_metadata_equal_counts_of_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = (now_ns() / S - 86_000) / 3_600 * 3_600 * S; // a whole hour, about a day ago
    let env = [("BITACORA_STORE__BLOCK_BYTES", "4096")];
    let mut srv = Server::start_in(dir.path(), &env);
    let h = Http::new(&srv.addr);
    let (lines, bytes) = seed(&h, t0).await;
    let (s, _) = h.post("/flush", &[], vec![]).await;
    assert_eq!(s, 204);
    let fast = answers(&h, t0).await;
    assert_eq!(fast[0][0]["value"][1], lines.to_string(), "every line counted once: {}", fast[0]);
    let api_bytes: u64 =
        fast[1].as_array().unwrap().iter().map(|s| s["value"][1].as_str().unwrap().parse::<u64>().unwrap()).sum();
    assert!(api_bytes > 0 && api_bytes < bytes, "an hour's bytes of each app: {}", fast[1]);
    let summarized = blocks(&h, "summarized").await;
    assert!(summarized > 100, "whole blocks were counted from their metadata ({summarized})");
    let tallied = blocks(&h, "tallied").await;
    assert!(tallied > 100, "blocks crossing steps were counted from their tallies ({tallied})");
    // Grafana's log volume, over the edge stream alone: its blocks are tallied, none decoded.
    let columns = blocks(&h, "columns").await;
    let (start, end) = ((t0 / S).to_string(), (t0 / S + 7_200).to_string());
    let v = h
        .get_json(
            "/loki/api/v1/query_range",
            &[
                (
                    "query",
                    r#"sum by (level, detected_level) (count_over_time({app="edge"} |= "" | drop __error__ [1m]))"#,
                ),
                ("start", &start),
                ("end", &end),
                ("step", "60"),
            ],
        )
        .await;
    assert_eq!(v["data"]["result"].as_array().map(|a| a.len()), Some(3), "three levels: {v}");
    assert_eq!(blocks(&h, "columns").await, columns, "no column frame decoded");
    assert!(blocks(&h, "tallied").await > tallied);
    // A case-insensitive literal is searched over whole blocks (only the lines it occurs in
    // are tested): the same count as the exact literal, which every line holds in lower case.
    let at = (t0 / S + 7_500).to_string();
    let count = |q: &'static str| {
        let at = at.clone();
        let h = &h;
        async move {
            let v = h.get_json("/loki/api/v1/query", &[("query", q), ("time", &at)]).await;
            v["data"]["result"][0]["value"][1].as_str().unwrap_or("none").to_string()
        }
    };
    let exact = count(r#"sum(count_over_time({env="prod"} |= "app=worker" [24h]))"#).await;
    assert_ne!(exact, "none");
    assert_eq!(count(r#"sum(count_over_time({env="prod"} |~ "(?i)APP=WorKer" [24h]))"#).await, exact);
    assert_eq!(count(r#"sum(count_over_time({env="prod"} |~ "(?i)app=WORKERX" [24h]))"#).await, "none");
    srv.terminate();

    let mut srv = Server::start_in(dir.path(), &[env[0], ("BITACORA_STORE__SEARCH_PRUNING", "false")]);
    let h = Http::new(&srv.addr);
    let slow = answers(&h, t0).await;
    assert_eq!(blocks(&h, "summarized").await, 0, "no summaries without search_pruning");
    assert_eq!(blocks(&h, "tallied").await, 0, "no tallies without search_pruning");
    for (i, ((q, _), (f, s))) in queries(t0).iter().zip(fast.iter().zip(&slow)).enumerate() {
        assert!(s.as_array().is_some_and(|a| !a.is_empty()), "query {i} answered nothing: {q}");
        assert_eq!(f, s, "query {i} differs with and without summaries: {q}");
    }
    srv.terminate();
}

/// A case-insensitive literal (`|~ "(?i)..."`, what Grafana sends with "match case" off) skips
/// the blocks whose gram filters lack it in every case, in a log query and in a count, and
/// answers what reading every block answers.
#[tokio::test]
async fn case_insensitive_searches_skip_blocks_that_lack_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = (now_ns() / S - 86_000) / 3_600 * 3_600 * S;
    // Compaction off: the flush builds the blocks' gram filters.
    let env = [("BITACORA_STORE__BLOCK_BYTES", "4096"), ("BITACORA_STORE__COMPACTION_INTERVAL", "0s")];
    let mut srv = Server::start_in(dir.path(), &env);
    let h = Http::new(&srv.addr);
    for app in ["api", "worker"] {
        let values: Vec<Value> = (0..20_000i64)
            .map(|i| {
                let line = match (app, i) {
                    ("api", 4_321) => "ERROR java.lang.NullPointerException at Handler.java:42".to_string(),
                    ("worker", 17_000) => "retry after nullpointerexception in job 7".to_string(),
                    _ => format!("level=info app={app} msg=\"step {i}\" took={}ms", i % 97),
                };
                json!([(t0 + i * 100_000_000).to_string(), line])
            })
            .collect();
        for chunk in values.chunks(5_000) {
            let (s, b) =
                h.push_json(&json!({"streams": [{"stream": {"app": app, "env": "prod"}, "values": chunk}]})).await;
            assert_eq!(s, 204, "{b}");
        }
    }
    let (s, _) = h.post("/flush", &[], vec![]).await;
    assert_eq!(s, 204);
    let (start, end) = ((t0 / S - 60).to_string(), (t0 / S + 2_100).to_string());
    let search = |q: &'static str| {
        let (start, end) = (start.clone(), end.clone());
        let h = &h;
        async move {
            let log = h
                .get_json(
                    "/loki/api/v1/query_range",
                    &[("query", q), ("start", &start), ("end", &end), ("limit", "100")],
                )
                .await;
            let mut lines: Vec<String> = log["data"]["result"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v[1].as_str().unwrap().to_string()))
                .collect();
            lines.sort();
            let count = format!("sum(count_over_time({q} [1h]))");
            let c = h.get_json("/loki/api/v1/query", &[("query", &count), ("time", &end)]).await;
            (lines, c["data"]["result"][0]["value"][1].as_str().unwrap_or("none").to_string())
        }
    };
    let skipped = blocks(&h, "skipped").await;
    let (lines, count) = search(r#"{env="prod"} |~ "(?i)NullPointerException""#).await;
    assert_eq!(
        lines,
        ["ERROR java.lang.NullPointerException at Handler.java:42", "retry after nullpointerexception in job 7"]
    );
    assert_eq!(count, "2");
    let now_skipped = blocks(&h, "skipped").await;
    // Two streams of about 250 blocks each, searched twice (the log query and the count).
    assert!(now_skipped - skipped > 800, "{} blocks skipped", now_skipped - skipped);
    // A case-insensitive regex (as Grafana escapes a search's special characters): its
    // literal part prunes the same way.
    let (java, java_count) = search(r#"{env="prod"} |~ "(?i)JAVA\\.lang\\.nullpointer[a-z]+ at""#).await;
    assert_eq!((java.len(), java_count.as_str()), (1, "1"));
    assert!(blocks(&h, "skipped").await - now_skipped > 800);
    srv.terminate();

    let mut srv = Server::start_in(dir.path(), &[env[0], ("BITACORA_STORE__SEARCH_PRUNING", "false")]);
    let h = Http::new(&srv.addr);
    let q = r#"sum(count_over_time({env="prod"} |~ "(?i)NullPointerException" [1h]))"#;
    let c = h.get_json("/loki/api/v1/query", &[("query", q), ("time", &end)]).await;
    assert_eq!(c["data"]["result"][0]["value"][1].as_str(), Some(count.as_str()), "every block read: {c}");
    assert_eq!(blocks(&h, "skipped").await, 0);
    srv.terminate();
}
