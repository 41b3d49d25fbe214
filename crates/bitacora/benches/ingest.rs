//! Ingest benchmark (not a test): the Loghub corpus replayed to 1,000,000 lines, pushed through
//! HTTP as protobuf+snappy to a release `bitacora server`, then `POST /flush`, then a needle
//! search. Reports server CPU per line, disk bytes per raw byte, needle latency per GB and peak
//! RSS at 20,000 lines/s, each beside `zstd -3` and `grep -F` run over the same raw bytes here.
//!
//! Run: `cargo bench --bench ingest` (env BENCH_LINES to change the size).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{dir_bytes, encode_batch, load_corpus, proc_stat, start_server_in, vary};

const NEEDLE: &str = "trace_7f3a9c2e1b";

fn main() {
    let target: usize = std::env::var("BENCH_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let corpus = load_corpus();
    let per_replay: usize = corpus.files.iter().map(|f| f.1.len()).sum();
    let replays = target.div_ceil(per_replay);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    let t0 = now - 3_000_000_000_000; // 50 minutes ago
    let step = 3_000_000_000_000 / (replays * per_replay) as i64;

    // Build batches of ~1000 lines (each file's replay in order), and the raw bytes.
    let mut batches: Vec<Vec<u8>> = Vec::new();
    let mut raw = Vec::with_capacity(target * 110);
    let mut lines = 0usize;
    let mut ts = t0;
    let mut needles = 0;
    for r in 0..replays {
        for chunk_start in (0..2000).step_by(500) {
            let mut batch = Vec::new();
            for (fi, (app, ls)) in corpus.files.iter().enumerate() {
                let mut es = Vec::new();
                for (li, l) in ls.iter().enumerate().skip(chunk_start).take(500) {
                    let mut line = vary(l, r, fi * 10_000 + li);
                    if r == replays / 2 && li == 1234 && fi % 5 == 0 {
                        line.push_str(&format!(" {NEEDLE} "));
                        needles += 1;
                    }
                    raw.extend_from_slice(line.as_bytes());
                    raw.push(b'\n');
                    ts += step;
                    es.push((ts, line));
                    lines += 1;
                }
                batch.push((format!("{{app=\"{app}\", stream=\"stdout\"}}"), es));
            }
            batches.push(encode_batch(&batch));
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let raw_path = tmp.path().join("raw.log");
    std::fs::File::create(&raw_path).unwrap().write_all(&raw).unwrap();
    println!(
        "corpus: {lines} lines, {:.1} MB raw, {} batches, {needles} needle lines",
        raw.len() as f64 / 1e6,
        batches.len()
    );

    // References over the same bytes.
    let t = Instant::now();
    let z = Command::new("zstd").args(["-3", "-q", "-f", "-o"]).arg(tmp.path().join("raw.zst")).arg(&raw_path).status();
    let zstd_secs = t.elapsed().as_secs_f64();
    let zstd_ratio = z
        .ok()
        .filter(|s| s.success())
        .map(|_| std::fs::metadata(tmp.path().join("raw.zst")).unwrap().len() as f64 / raw.len() as f64);
    let t = Instant::now();
    let g = Command::new("grep").args(["-F", "-c", NEEDLE]).arg(&raw_path).output().unwrap();
    let grep_secs = t.elapsed().as_secs_f64();
    let grep_hits = String::from_utf8_lossy(&g.stdout).trim().to_string();
    let t = Instant::now();
    let _ = Command::new("cat").arg(&raw_path).stdout(Stdio::null()).status();
    let cat_secs = t.elapsed().as_secs_f64();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = reqwest::Client::new();

    // Phase 1: peak RSS at a steady 20,000 lines/s for 15 s.
    let d1 = tempfile::tempdir().unwrap();
    let srv = start_server_in(d1.path(), &[]);
    let pid = srv.child.id();
    let pace_batches = 15 * 20_000 / 8000; // each batch holds 16 files x 500 lines = 8000 lines
    rt.block_on(async {
        let t = Instant::now();
        for (i, b) in batches.iter().take(pace_batches.max(1)).enumerate() {
            let due = Duration::from_secs_f64(i as f64 * 8000.0 / 20_000.0);
            if let Some(wait) = due.checked_sub(t.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            let r = client
                .post(format!("{}/loki/api/v1/push", srv.addr))
                .header("Content-Type", "application/x-protobuf")
                .body(b.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 204, "{}", r.text().await.unwrap());
        }
    });
    let (_, _, hwm_paced) = proc_stat(pid);
    drop(srv);

    // Phase 2: everything as fast as two concurrent clients can push.
    let d2 = tempfile::tempdir().unwrap();
    let mut srv = start_server_in(d2.path(), &[]);
    let pid = srv.child.id();
    let (cpu0, _, _) = proc_stat(pid);
    let t = Instant::now();
    common::push_all(&rt, &client, &srv.addr, batches);
    let wall = t.elapsed().as_secs_f64();
    let (cpu1, _, hwm_full) = proc_stat(pid);
    let cpu = cpu1 - cpu0;
    let disk = dir_bytes(&srv.dir.join("segments"));

    // Needle search over everything.
    let q = format!("{{app=~\".+\"}} |= \" {NEEDLE} \"");
    let (start, end) = ((t0 - 1).to_string(), (now + 1).to_string());
    let mut best = f64::MAX;
    let mut hits = 0;
    rt.block_on(async {
        for _ in 0..5 {
            let t = Instant::now();
            let r = client
                .get(format!("{}/loki/api/v1/query_range", srv.addr))
                .query(&[("query", q.as_str()), ("start", &start), ("end", &end), ("limit", "100")])
                .send()
                .await
                .unwrap();
            let v: serde_json::Value = r.json().await.unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            hits = v["data"]["result"]
                .as_array()
                .map(|a| a.iter().map(|s| s["values"].as_array().unwrap().len()).sum::<usize>())
                .unwrap_or(0);
        }
    });
    // LogQL over every line (issue 3's measures): server CPU per query, as lines per CPU-second.
    let queries = [
        ("line filter", "sum(count_over_time({app=~\".+\"} |= \"error\" [1h]))"),
        ("json + label filter", "sum(count_over_time({app=~\".+\"} | json | level=\"x\" [1h]))"),
        ("logfmt + duration filter", "sum(count_over_time({app=~\".+\"} | logfmt | dur > 1s [1h]))"),
        ("sum by (app) count_over_time", "sum by (app) (count_over_time({app=~\".+\"}[1h]))"),
    ];
    let mut qrows = Vec::new();
    rt.block_on(async {
        for (name, q) in queries {
            let (c0, _, _) = proc_stat(pid);
            let t = Instant::now();
            let r = client
                .get(format!("{}/loki/api/v1/query", srv.addr))
                .query(&[("query", q), ("time", &(now + 1).to_string())])
                .send()
                .await
                .unwrap();
            let status = r.status();
            let v: serde_json::Value = r.json().await.unwrap_or_default();
            let wall = t.elapsed().as_secs_f64();
            let (c1, _, _) = proc_stat(pid);
            let processed = v["data"]["stats"]["summary"]["totalLinesProcessed"].as_u64().unwrap_or(0);
            qrows.push((name, status.as_u16(), processed, (c1 - c0).max(0.01), wall));
        }
    });
    let t = Instant::now();
    let _ = Command::new("grep").args(["-F", "-c", "error"]).arg(&raw_path).output();
    let grep_err_secs = t.elapsed().as_secs_f64();
    let _ = srv.child.kill();
    let gb = raw.len() as f64 / 1e9;
    println!();
    println!("| measure | bitácora | reference (same bytes, same run) |");
    println!("|---|---|---|");
    println!(
        "| ingest, lines per server CPU-second | {:.0} ({:.1} s CPU, {:.1} s wall) | `cat`: {:.0} lines/s |",
        lines as f64 / cpu,
        cpu,
        wall,
        lines as f64 / cat_secs
    );
    println!(
        "| disk bytes / raw bytes | {:.2}% ({:.1} MB) | `zstd -3`: {} ({:.0} lines/s) |",
        disk as f64 / raw.len() as f64 * 100.0,
        disk as f64 / 1e6,
        zstd_ratio.map(|r| format!("{:.2}%", r * 100.0)).unwrap_or("n/a".into()),
        lines as f64 / zstd_secs
    );
    println!(
        "| needle search latency per GB | {:.1} ms ({hits} hits) | `grep -F`: {:.1} ms per GB ({grep_hits} hits) |",
        best / gb * 1000.0,
        grep_secs / gb * 1000.0
    );
    println!("| server peak RSS at 20,000 lines/s | {:.1} MiB | |", hwm_paced as f64 / 1024.0);
    println!("| server peak RSS at full speed | {:.1} MiB | |", hwm_full as f64 / 1024.0);
    println!();
    println!("| query over all {lines} lines | status | lines per server CPU-second | wall | reference |");
    println!("|---|---|---|---|---|");
    for (name, status, processed, cpu, wall) in qrows {
        println!(
            "| {name} | {status} | {:.0} ({lines} lines scanned, {processed} through the pipeline, {cpu:.2} s CPU) | {:.0} ms | `grep -F -c error`: {:.0} lines/s |",
            lines as f64 / cpu,
            wall * 1000.0,
            lines as f64 / grep_err_secs
        );
    }
}
