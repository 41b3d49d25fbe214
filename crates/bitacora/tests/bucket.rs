//! Segments in object storage, against a real Garage node started by the test
//! (`scripts/garage.sh`): uploads after the cut and compaction, the local disk as a bounded
//! cache, a data directory rebuilt from the bucket, the bucket down under load, retention.

mod common;

use std::time::Duration;

use common::peers::{Garage, eventually};
use common::{Http, Server, now_ns};
use serde_json::json;
use store::tier::ObjectTier;

/// A metric's value from `/metrics` (the sum of its series), or 0 when absent.
async fn metric(h: &Http, name: &str) -> f64 {
    let (_, text) = h.get("/metrics", &[]).await;
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Pushes `n` lines `line <first + i>` of stream `{app=...}`, one millisecond apart from `t0`.
async fn push(h: &Http, app: &str, t0: i64, first: usize, n: usize) {
    let values: Vec<_> = (0..n)
        .map(|i| json!([(t0 + (first + i) as i64 * 1_000_000).to_string(), format!("line {}", first + i)]))
        .collect();
    let (st, body) = h.push_json(&json!({"streams": [{"stream": {"app": app}, "values": values}]})).await;
    assert_eq!(st, 204, "push: {body}");
}

/// `sum(count_over_time({app="..."} <filter> [1d]))` at `end`. Without a filter whole blocks
/// are counted from their footer; with one (`|= "line"`) every block is read.
async fn count(h: &Http, app: &str, filter: &str, end: i64) -> (f64, serde_json::Value) {
    let v = h
        .get_json(
            "/loki/api/v1/query",
            &[("query", &format!("sum(count_over_time({{app=\"{app}\"}} {filter} [1d]))")), ("time", &end.to_string())],
        )
        .await;
    let n = v["data"]["result"][0]["value"][1].as_str().map_or(0.0, |s| s.parse().unwrap());
    (n, v)
}

fn env(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, val)| (k.as_str(), val.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_live_in_the_bucket_and_a_lost_disk_is_rebuilt_from_it() {
    let Some(garage) = Garage::start() else { return };
    let mut vars = garage.bitacora_env("t1", "writer-a");
    vars.extend(
        [
            // Nothing kept locally once uploaded, nothing cached in memory: every read of old
            // data is a ranged read from the bucket.
            ("BITACORA_STORE__OBJECT_STORE__CACHE_BYTES", "0"),
            ("BITACORA_STORE__OBJECT_STORE__BLOCK_CACHE_BYTES", "0"),
            ("BITACORA_STORE__OBJECT_STORE__SYNC_INTERVAL", "200ms"),
            ("BITACORA_STORE__BLOCK_BYTES", "4096"),
            ("BITACORA_STORE__COMPACTION_INTERVAL", "1s"),
            ("BITACORA_STORE__OBJECT_STORE__DELETE_DELAY", "0s"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut a = Server::start(&env(&vars));
    let h = Http::new(&a.addr);
    let t0 = now_ns() - 3_600_000_000_000;
    // Ten flushes of 1,000 lines: ten segments, which compaction merges (8 at a time).
    for batch in 0..10 {
        push(&h, "api", t0, batch * 1000, 1000).await;
        let (st, body) = h.post("/flush", &[], Vec::new()).await;
        assert_eq!(st, 204, "flush: {body}");
    }
    // Compaction merged them and the bucket followed: every segment served is an object, no
    // input or manifest is left, and no segment file is left on the local disk.
    let client = garage.client("t1", "writer-a");
    let objects = eventually(Duration::from_secs(60), "compaction, uploads and evictions", || {
        let (h, client) = (&h, &client);
        async move {
            let served = metric(h, "bitacora_segments").await as usize;
            let compactions = metric(h, "bitacora_compactions_total").await;
            let local = metric(h, "bitacora_bucket_local_segment_bytes").await;
            let pending = metric(h, "bitacora_bucket_pending_deletes").await;
            let objects = client.list().unwrap();
            let segs = objects.iter().filter(|(k, _)| k.ends_with(".seg")).count();
            (compactions >= 1.0
                && segs == served
                && served < 10
                && local == 0.0
                && pending == 0.0
                && !objects.iter().any(|(k, _)| k.ends_with(".manifest")))
            .then_some(objects)
        }
    })
    .await;
    let seg_files = |dir: &std::path::Path| {
        walk(&dir.join("segments")).into_iter().filter(|p| p.extension().is_some_and(|e| e == "seg")).count()
    };
    assert_eq!(seg_files(&a.dir), 0, "every segment file was evicted");
    assert!(objects.iter().all(|(k, _)| k.ends_with(".seg") && k.len() > "2026-01-01/".len()), "{objects:?}");

    // Every line, exactly once, read block by block from the bucket.
    let end = now_ns();
    let lines = h.all_lines(r#"{app="api"}"#, t0, end).await;
    let want: Vec<String> = (0..10_000).map(|i| format!("line {i}")).collect();
    assert_eq!(lines.iter().map(|(_, l)| l.clone()).collect::<Vec<_>>(), want);
    assert_eq!(count(&h, "api", "", end).await.0, 10_000.0);
    assert_eq!(count(&h, "api", r#"|= "line""#, end).await.0, 10_000.0);
    assert!(metric(&h, "bitacora_bucket_fetched_bytes_total").await > 0.0);

    // The disk is lost: the data directory is deleted while the writer is killed. A new one
    // under the same node id answers everything from the bucket.
    a.kill9();
    std::fs::remove_dir_all(&a.dir).unwrap();
    std::fs::create_dir_all(&a.dir).unwrap();
    let b = Server::start_in(&a.dir, &env(&vars));
    let hb = Http::new(&b.addr);
    let lines = eventually(Duration::from_secs(30), "the bucket's segments adopted", || {
        let hb = &hb;
        async move {
            let l = hb.all_lines(r#"{app="api"}"#, t0, end).await;
            (l.len() == 10_000).then_some(l)
        }
    })
    .await;
    assert_eq!(lines.iter().map(|(_, l)| l.clone()).collect::<Vec<_>>(), want);
    assert_eq!(count(&hb, "api", r#"|= "line""#, end).await.0, 10_000.0);

    // The bucket goes down under load: pushes go on being accepted, old data is answered with a
    // warning, and once it is back every line is uploaded and answered without one.
    garage.stop();
    let t1 = now_ns() - 60_000_000_000;
    for batch in 0..5 {
        push(&hb, "web", t1, batch * 200, 200).await;
        let (st, body) = hb.post("/flush", &[], Vec::new()).await;
        assert_eq!(st, 503, "a flush cannot reach the bucket: {body}");
        assert!(body.contains("object storage"), "{body}");
    }
    let (n, v) = count(&hb, "api", r#"|= "line""#, now_ns()).await;
    let warnings = v["warnings"].as_array().cloned().unwrap_or_default();
    assert!(
        !warnings.is_empty() && warnings[0].as_str().unwrap().contains("object storage unreachable"),
        "a warning for the blocks out of reach: {v}"
    );
    assert!(n < 10_000.0, "the count lacks what could not be read: {n}");
    assert_eq!(count(&hb, "web", r#"|= "line""#, now_ns()).await.0, 1000.0, "what is local is answered");
    assert!(metric(&hb, "bitacora_bucket_pending_uploads").await >= 1.0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    garage.restart();
    eventually(Duration::from_secs(60), "uploads resumed", || {
        let hb = &hb;
        async move {
            (metric(hb, "bitacora_bucket_pending_uploads").await == 0.0
                && metric(hb, "bitacora_bucket_local_segment_bytes").await == 0.0)
                .then_some(())
        }
    })
    .await;
    let (n, v) = count(&hb, "api", r#"|= "line""#, now_ns()).await;
    assert_eq!(n, 10_000.0, "{v}");
    assert!(v.get("warnings").is_none(), "{v}");
    let web = hb.all_lines(r#"{app="web"}"#, t1, now_ns()).await;
    assert_eq!(web.len(), 1000);
    let objects = garage.client("t1", "writer-a").list().unwrap();
    assert!(objects.iter().filter(|(k, _)| k.ends_with(".seg")).count() >= 2, "{objects:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_objects() {
    let Some(garage) = Garage::start() else { return };
    let mut vars = garage.bitacora_env("t2", "writer-r");
    vars.extend(
        [
            ("BITACORA_STORE__OBJECT_STORE__SYNC_INTERVAL", "200ms"),
            ("BITACORA_STORE__RETENTION_PERIOD", "1d"),
            ("BITACORA_STORE__COMPACTION_INTERVAL", "0s"),
            ("BITACORA_STORE__OBJECT_STORE__DELETE_DELAY", "0s"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let s = Server::start(&env(&vars));
    let h = Http::new(&s.addr);
    let now = now_ns();
    let old = now - 30 * 3_600_000_000_000; // 30 h ago: beyond the 1-day retention
    push(&h, "old", old, 0, 100).await;
    assert_eq!(h.post("/flush", &[], Vec::new()).await.0, 204);
    push(&h, "new", now - 60_000_000_000, 0, 100).await;
    assert_eq!(h.post("/flush", &[], Vec::new()).await.0, 204);
    assert_eq!(h.all_lines(r#"{app="old"}"#, old - 1, now_ns()).await.len(), 100);
    let client = garage.client("t2", "writer-r");
    let segs = |c: &bucket::Bucket| c.list().unwrap().into_iter().filter(|(k, _)| k.ends_with(".seg")).count();
    let listed = client.list().unwrap();
    assert_eq!(segs(&client), 2, "both segments uploaded by the flushes: {listed:?}");
    // A reload runs retention now.
    let st = std::process::Command::new("kill").args(["-HUP", &s.child.id().to_string()]).status().unwrap();
    assert!(st.success());
    eventually(Duration::from_secs(30), "the expired segment's object deleted", || {
        let client = &client;
        async move { (segs(client) == 1).then_some(()) }
    })
    .await;
    assert!(h.all_lines(r#"{app="old"}"#, old - 1, now_ns()).await.is_empty());
    assert_eq!(h.all_lines(r#"{app="new"}"#, old - 1, now_ns()).await.len(), 100);
    assert!(walk(&s.dir.join("segments")).iter().all(|p| p.extension().is_none_or(|e| e != "gone")));
}

/// Two writers sharing a bucket, each under its own node id, and a query node
/// (`bitacora server --role query`) over both: lines both writers hold (an agent with
/// `agent.push_urls` pushes every batch to both) are answered once, by counting queries from
/// footers and line filters alike; each writer answers the other's lines too; compaction on
/// the writers is followed; a writer's lost disk loses nothing the other holds; a query node
/// started on an empty disk answers everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_and_a_query_node_answer_every_line_once() {
    let Some(garage) = Garage::start() else { return };
    let common = [
        ("BITACORA_STORE__OBJECT_STORE__SYNC_INTERVAL", "200ms"),
        ("BITACORA_STORE__BLOCK_BYTES", "4096"),
        ("BITACORA_STORE__COMPACTION_INTERVAL", "1s"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let node = |id: &str| {
        let mut v = garage.bitacora_env("t3", id);
        v.extend(common.clone());
        v
    };
    let (va, vb) = (node("writer-a"), node("writer-b"));
    let mut a = Server::start(&env(&va));
    let mut b = Server::start(&env(&vb));
    let (ha, hb) = (Http::new(&a.addr), Http::new(&b.addr));
    let mut vq = node("query-1");
    vq.push(("BITACORA_STORE__OBJECT_STORE__BLOCK_CACHE_BYTES".into(), "0".into()));
    let qdir = tempfile::tempdir().unwrap();
    let q = Server::launch("server --role query", qdir.path(), common::free_port(), &env(&vq));
    let hq = Http::new(&q.addr);

    let t0 = now_ns() - 3_600_000_000_000;
    for round in 0..10 {
        push(&ha, "api", t0, round * 1000, 1000).await;
        push(&hb, "api", t0, round * 1000, 1000).await;
        push(&ha, "only-a", t0, round * 100, 100).await;
        push(&hb, "only-b", t0, round * 100, 100).await;
        for h in [&ha, &hb] {
            let (st, body) = h.post("/flush", &[], Vec::new()).await;
            assert_eq!(st, 204, "flush: {body}");
        }
    }
    let want = |n: usize| (0..n).map(|i| format!("line {i}")).collect::<Vec<_>>();
    // Every line of `app` once, counted exactly with and without a line filter, no warning.
    let exact = |h: &Http, app: &'static str, n: usize| {
        let h = h.clone();
        async move {
            let end = now_ns();
            let lines: Vec<String> =
                h.all_lines(&format!("{{app=\"{app}\"}}"), t0, end).await.into_iter().map(|(_, l)| l).collect();
            let (plain, v1) = count(&h, app, "", end).await;
            let (filtered, v2) = count(&h, app, r#"|= "line""#, end).await;
            let warned = v1.get("warnings").is_some() || v2.get("warnings").is_some();
            (lines == want(n) && plain == n as f64 && filtered == n as f64 && !warned).then_some(())
        }
    };
    for (h, who) in [(&hq, "the query node"), (&ha, "writer a"), (&hb, "writer b")] {
        for (app, n) in [("api", 10_000), ("only-a", 1000), ("only-b", 1000)] {
            eventually(Duration::from_secs(60), &format!("{who}: {app} exactly once"), || exact(h, app, n)).await;
        }
    }
    // The writers compacted, and the query node followed the objects they replaced.
    eventually(Duration::from_secs(60), "compaction on both writers", || async {
        (metric(&ha, "bitacora_compactions_total").await >= 1.0
            && metric(&hb, "bitacora_compactions_total").await >= 1.0)
            .then_some(())
    })
    .await;
    eventually(Duration::from_secs(60), "the query node after compaction", || exact(&hq, "api", 10_000)).await;
    // Both writers hold the same entries, window by window (their blocks' digests agree): a
    // count reads one copy, and no line of it without a filter; with one, one writer's lines.
    let read_lines =
        |v: &serde_json::Value| v["data"]["stats"]["querier"]["store"]["chunk"]["decompressedLines"].as_u64();
    eventually(Duration::from_secs(60), "a count reading one writer's copy", || async {
        let end = now_ns();
        let (plain, v1) = count(&hq, "api", "", end).await;
        let (filtered, v2) = count(&hq, "api", r#"|= "line""#, end).await;
        let (r1, r2) = (read_lines(&v1), read_lines(&v2));
        println!("api counted {plain} and {filtered}, reading {r1:?} and {r2:?} lines");
        (plain == 10_000.0 && filtered == 10_000.0 && r1 == Some(0) && r2 == Some(10_000)).then_some(())
    })
    .await;

    // Lines the writers hold and have not uploaded (no flush: they are in their heads) are
    // answered by every node, asked over HTTP: replicated ones once, a's own to b too.
    push(&ha, "fresh", t0, 0, 300).await;
    push(&hb, "fresh", t0, 0, 300).await;
    push(&ha, "fresh-a", t0, 0, 50).await;
    for (h, who) in [(&hq, "the query node"), (&hb, "writer b")] {
        eventually(Duration::from_secs(30), &format!("{who}: lines not yet uploaded"), || exact(h, "fresh", 300)).await;
        eventually(Duration::from_secs(30), &format!("{who}: a's lines not yet uploaded"), || exact(h, "fresh-a", 50))
            .await;
    }

    // A count asks for identities (time, length, hash, metadata), not lines: 300 of them, the
    // same hashes from both writers.
    let identities = |base: String| async move {
        let (start, end) = (t0.to_string(), now_ns().to_string());
        let params = [("query", r#"{app="fresh"}"#), ("start", &start), ("end", &end), ("identities", "1")];
        let resp = reqwest::Client::new().get(format!("{base}/api/v1/cluster/unuploaded")).query(&params);
        let resp = resp.send().await.unwrap();
        assert_eq!(resp.headers()["content-type"], store::tier::identities::CONTENT_TYPE);
        let body = resp.bytes().await.unwrap();
        let streams = store::tier::identities::decode(&body, 1 << 20).unwrap();
        assert!(body.len() < 300 * 16, "{} bytes for 300 identities", body.len());
        let mut v: Vec<(i64, u64, u64)> =
            streams.into_iter().flat_map(|(_, ids)| ids).map(|i| (i.ts, i.bytes, i.hash)).collect();
        v.sort_unstable();
        v
    };
    let (from_a, from_b) = (identities(a.url("")).await, identities(b.url("")).await);
    assert_eq!(from_a.len(), 300);
    assert_eq!(from_a, from_b);
    let (st, body) =
        ha.get("/api/v1/cluster/unuploaded", &[("query", r#"{app="fresh"}"#), ("identities", "yes")]).await;
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("invalid identities \"yes\""), "{body}");

    // An asker says when its last listing of the bucket began: a writer leaves out what it had
    // uploaded by then (the asker reads that from the bucket) and answers the rest.
    let unuploaded = |listed_at: u64| {
        let ha = ha.clone();
        async move {
            let (start, end, listed_at) = (t0.to_string(), now_ns().to_string(), listed_at.to_string());
            let params = [("query", r#"{app="api"}"#), ("start", &start), ("end", &end), ("listed_at", &listed_at)];
            let v = ha.get_json("/api/v1/cluster/unuploaded", &params).await;
            v["streams"].as_array().unwrap().iter().map(|s| s["values"].as_array().unwrap().len()).sum::<usize>()
        }
    };
    eventually(Duration::from_secs(30), "api's lines left out once uploaded before the listing", || async {
        let now_ms = (now_ns() / 1_000_000) as u64;
        (unuploaded(now_ms + 3_000).await == 0).then_some(())
    })
    .await;
    assert_eq!(unuploaded(1).await, 10_000, "a listing before the uploads needs every line");
    // Restarted, a knows its segments are uploaded but not when: they count as listed, not as
    // news to send with every answer.
    a.terminate();
    let _a = Server::launch("server", &a.dir, a.port, &env(&va));
    eventually(Duration::from_secs(30), "after a restart, what was uploaded before is not sent", || async {
        let now_ms = (now_ns() / 1_000_000) as u64;
        (unuploaded(now_ms + 3_000).await == 0).then_some(())
    })
    .await;

    // The status page's view of the cluster, from the query node.
    let st = hq.get_json("/api/status", &[]).await;
    let c = &st["cluster"];
    assert_eq!(c["node_id"], "query-1", "{st}");
    assert_eq!(c["role"], "query", "{st}");
    assert_eq!(c["advertise_url"], q.addr.as_str(), "{st}");
    let mut seen: Vec<String> = c["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| format!("{} {}", n["node_id"].as_str().unwrap(), n["role"].as_str().unwrap()))
        .collect();
    seen.sort();
    assert_eq!(seen, ["writer-a writer", "writer-b writer"], "{c}");
    assert!(c["other_writers_segments"].as_u64().unwrap() >= 2, "{c}");
    assert_eq!(c["evaluates_rules"], true, "query-1 is the first by id: {c}");

    // A query node stores nothing.
    let (st, body) =
        hq.push_json(&json!({"streams": [{"stream": {"app": "x"}, "values": [[now_ns().to_string(), "x"]]}]})).await;
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("--role query"), "{body}");

    // 500 more lines reach both writers; only a uploads them before b is killed and its disk
    // lost: nothing is missing.
    push(&ha, "api", t0, 10_000, 500).await;
    push(&hb, "api", t0, 10_000, 500).await;
    assert_eq!(ha.post("/flush", &[], Vec::new()).await.0, 204);
    b.kill9();
    std::fs::remove_dir_all(&b.dir).unwrap();
    // Until b's announcement is stale, answers say b's data not yet uploaded may be missing;
    // then they are complete without a word. Either way, nothing is missing.
    let (n, v) = count(&hq, "api", "", now_ns()).await;
    assert_eq!(n, 10_500.0, "{v}");
    assert!(v["warnings"].to_string().contains("writer writer-b"), "a warning names the writer: {v}");
    eventually(Duration::from_secs(60), "every line after writer b's loss", || exact(&hq, "api", 10_500)).await;

    // A second query node on an empty disk answers everything from the bucket.
    let q2dir = tempfile::tempdir().unwrap();
    let q2 = Server::launch("server --role query", q2dir.path(), common::free_port(), &env(&node("query-2")));
    let hq2 = Http::new(&q2.addr);
    eventually(Duration::from_secs(60), "a fresh query node", || exact(&hq2, "api", 10_500)).await;
    eventually(Duration::from_secs(60), "a fresh query node", || exact(&hq2, "only-b", 1000)).await;
    let objects = garage.client("t3", "query-1").list().unwrap();
    assert!(objects.is_empty(), "a query node writes nothing to the bucket: {objects:?}");
}

/// Nodes sharing a bucket evaluate the rules one at a time (the first of the announced nodes by
/// id); when it stops, another takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_at_a_time_evaluates_the_rules() {
    let Some(garage) = Garage::start() else { return };
    let group = "groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: Lines\n        expr: sum(count_over_time({app=\"x\"}[1m])) >= 0\n";
    let start = |id: &str, dir: &std::path::Path| {
        std::fs::create_dir_all(dir.join("rules/fake")).unwrap();
        std::fs::write(dir.join("rules/fake/ns.yaml"), group).unwrap();
        let mut v = garage.bitacora_env("t4", id);
        v.push(("BITACORA_STORE__OBJECT_STORE__SYNC_INTERVAL".into(), "200ms".into()));
        Server::launch("server", dir, common::free_port(), &env(&v))
    };
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = start("node-a", da.path());
    let b = start("node-b", db.path());
    let (ha, hb) = (Http::new(&a.addr), Http::new(&b.addr));
    let evals = |h: &Http| {
        let h = h.clone();
        async move {
            (
                metric(&h, "bitacora_ruler_group_evaluations_total").await,
                metric(&h, "bitacora_ruler_group_turns_skipped_total").await,
            )
        }
    };
    // Once both have read the other's announcement, only a (the first by id) evaluates.
    eventually(Duration::from_secs(30), "b leaves the rules to a", || async {
        (evals(&hb).await.1 >= 2.0).then_some(())
    })
    .await;
    let (a0, b0) = (evals(&ha).await, evals(&hb).await);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (a1, b1) = (evals(&ha).await, evals(&hb).await);
    assert!(a1.0 - a0.0 >= 2.0, "a evaluates: {a0:?} → {a1:?}");
    assert_eq!(b1.0, b0.0, "b does not: {b0:?} → {b1:?}");
    assert!(b1.1 - b0.1 >= 2.0, "b skips its turns: {b0:?} → {b1:?}");
    // a stops: once its announcement is stale, b evaluates.
    a.kill9();
    eventually(Duration::from_secs(40), "b takes the rules over", || async {
        let (e, _) = evals(&hb).await;
        (e > b1.0 + 2.0).then_some(())
    })
    .await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
