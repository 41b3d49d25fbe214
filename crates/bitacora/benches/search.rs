//! Search benchmark (not a test): every figure of "search at the speed of the hardware" in one
//! run, each beside references run in this process on the same bytes.
//!
//! A corpus of `BENCH_BYTES` raw bytes (default 1 GB): the Loghub files replayed with varied
//! digits, plus a logfmt access log (`api`, with random request ids) and a JSON worker log
//! (`worker`), spread over the last 23 hours, with needles planted in 20 lines each: one as a
//! whole word, one inside a longer token (the middle of a trace id), one as the 6-character
//! prefix of a UUID. It is pushed to a release `bitacora server` as Promtail pushes
//! (protobuf + snappy, two clients), flushed and compacted, then rewritten in the cold tier
//! (`cold_after: 1s`, what most of a month's retention is); then each query runs three times
//! (median wall time, server CPU from /proc), and once more on a server over the same data with
//! block pruning and parallel reads turned off, whose answer must be the same.
//!
//! References: `zstd -3`/`-19` sizes and `zstd -d` speed (the zstd crate, in process), each
//! app's stream of the first 64 MB compressed whole with `zstd -19` and `xz -9e` (the disk a
//! store could reach without blocks or filters),
//! a memmem scan (memchr) and `grep -F` / `grep -c` over the raw file.
//!
//! Run: `cargo bench --bench search` (BENCH_BYTES=200000000 for a quicker look; BENCH_KEEP=1
//! keeps the corpus and the data directory for profiling a query, and prints where;
//! BENCH_INGEST_ONLY=n measures only the ingest, n times).

mod common;

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use common::{Rng, dir_bytes, encode_batch, load_corpus, proc_stat, self_cpu, start_server_in, vary};

const WHOLE: &str = "Kq7vX2mPzL9wRt";
const INNER: &str = "b34da6a3ce92";
const PREFIX: &str = "e8a1f0";
const PLANTED: usize = 20;
const HOUR: i64 = 3_600_000_000_000;

fn hex(r: &mut Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b"0123456789abcdef"[(r.next() % 16) as usize])).collect()
}

/// One line of the synthetic apps: a logfmt access log, a JSON worker log and an access log
/// packed by Promtail's `pack` stage.
fn synthetic(app: &str, r: &mut Rng) -> String {
    const PATHS: [&str; 6] = ["/", "/api/orders", "/api/users/42", "/login", "/static/app.js", "/healthz"];
    match app {
        "api" => {
            let status = match r.next() % 100 {
                0..=1 => 500 + (r.next() % 4) as u32,
                2..=6 => 404,
                _ => 200,
            };
            format!(
                "level={} method={} path={} status={status} duration={}ms bytes={} request_id={}",
                if status >= 500 { "error" } else { "info" },
                ["GET", "POST"][(r.next() % 2) as usize],
                PATHS[(r.next() % 6) as usize],
                r.next() % 900,
                r.next() % 50_000,
                hex(r, 16)
            )
        }
        "packed" => {
            // Promtail's `pack` stage: labels packed into the line, the original under `_entry`.
            let status = if r.next().is_multiple_of(50) { 500 } else { 200 };
            format!(
                r#"{{"container":"web.{}","stream":"stdout","_entry":"{} {} {status} {}ms"}}"#,
                r.next() % 4 + 1,
                ["GET", "POST"][(r.next() % 2) as usize],
                PATHS[(r.next() % 6) as usize],
                r.next() % 900
            )
        }
        _ => {
            let level = ["info", "info", "info", "debug", "warn", "error"][(r.next() % 6) as usize];
            format!(
                r#"{{"level":"{level}","msg":"job finished","job":"invoice-{}","attempt":{},"elapsed_ms":{},"queue":"default"}}"#,
                r.next() % 100_000,
                r.next() % 3,
                r.next() % 5000
            )
        }
    }
}

struct Generated {
    batches: Vec<Vec<u8>>,
    raw_path: std::path::PathBuf,
    raw_bytes: u64,
    lines: u64,
    app_bytes: std::collections::HashMap<String, u64>,
    start: i64,
    end: i64,
}

fn generate(dir: &std::path::Path, target: u64) -> Generated {
    let corpus = load_corpus();
    let mut apps: Vec<(String, Vec<String>)> = corpus.files;
    apps.push(("api".into(), Vec::new()));
    apps.push(("worker".into(), Vec::new()));
    apps.push(("packed".into(), Vec::new()));
    let total_lines = target / 130;
    let end = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    let start = end - 23 * HOUR;
    let step = (23 * HOUR) / total_lines as i64;
    let raw_path = dir.join("raw.log");
    let mut raw = std::io::BufWriter::new(std::fs::File::create(&raw_path).unwrap());
    let mut rng = Rng(7);
    let mut batches = Vec::new();
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut app_bytes = std::collections::HashMap::new();
    let mut ts = start;
    // Needles go in at evenly spaced byte offsets: the k-th at k/(3n+1) of the target.
    let plant_gap = target / (3 * PLANTED as u64 + 1);
    let mut planted = 0u64;
    let mut replay = 0usize;
    while bytes < target {
        // A batch: 500 lines of each app, in time order across apps.
        let mut batch: Vec<(String, Vec<(i64, String)>)> =
            apps.iter().map(|(a, _)| (format!("{{app=\"{a}\", host=\"h\", stream=\"stdout\"}}"), Vec::new())).collect();
        for i in 0..500 {
            for (ai, (app, ls)) in apps.iter().enumerate() {
                let mut line = if ls.is_empty() {
                    synthetic(app, &mut rng)
                } else {
                    let li = (replay * 500 + i) % ls.len();
                    vary(&ls[li], replay / 4 + 1, ai * 10_000 + li)
                };
                lines += 1;
                if planted < 3 * PLANTED as u64 && bytes >= (planted + 1) * plant_gap {
                    planted += 1;
                    match planted % 3 {
                        0 => line.push_str(&format!(" req={WHOLE}")),
                        1 => line.push_str(&format!(" trace_id=4bf92f3577{INNER}9d0e0e4736")),
                        _ => line.push_str(&format!(" session={PREFIX}c4-d2b9-4c7e-9f3a-1b2c3d4e5f60")),
                    }
                }
                ts += step;
                bytes += line.len() as u64;
                *app_bytes.entry(app.clone()).or_insert(0) += line.len() as u64;
                raw.write_all(line.as_bytes()).unwrap();
                raw.write_all(b"\n").unwrap();
                batch[ai].1.push((ts, line));
            }
        }
        replay += 1;
        batches.push(encode_batch(&batch));
    }
    raw.flush().unwrap();
    Generated { batches, raw_path, raw_bytes: bytes, lines, app_bytes, start, end: ts + 1 }
}

/// What compressing each app's stream whole gets: the bound for a store that compresses streams
/// apart, before blocks (random access) and filters (pruning) cost anything. The sample's lines
/// are interleaved, app after app (see [`generate`]), so line `k` is app `k % apps`.
/// `xz -9e` (its 64 MiB dictionary holds each stream whole) when the command is there.
fn per_stream_bound(sample: &[u8], apps: usize, dir: &std::path::Path) -> (f64, Option<f64>) {
    let mut streams = vec![Vec::new(); apps];
    for (k, line) in sample.split_inclusive(|&b| b == b'\n').enumerate() {
        streams[k % apps].extend_from_slice(line);
    }
    let z19: usize = streams.iter().map(|s| zstd::bulk::compress(s, 19).unwrap().len()).sum();
    let xz = streams.iter().try_fold(0usize, |sum, s| {
        let path = dir.join("stream.raw");
        std::fs::write(&path, s).ok()?;
        let out = Command::new("xz").args(["-9e", "-T1", "-c"]).arg(&path).output().ok()?;
        out.status.success().then(|| sum + out.stdout.len())
    });
    let raw = sample.len() as f64;
    (z19 as f64 / raw, xz.map(|x| x as f64 / raw))
}

/// `BENCH_INGEST_ONLY=n`: only the ingest, `n` times on fresh data directories (for comparing
/// settings that change ingest CPU or memory, whose single runs are noisy here).
fn ingest_only(root: &std::path::Path, g: &Generated, runs: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(600)).build().unwrap();
    let (mut cpus, mut hwms) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let data = root.join(format!("ingest-{run}"));
        std::fs::create_dir_all(&data).unwrap();
        let config = root.join("bitacora.yml");
        std::fs::write(&config, "store:\n  compaction_interval: 24h\n").unwrap();
        let srv = start_server_in(&data, &[("BITACORA_CONFIG", config.to_str().unwrap())]);
        let (cpu0, _, _) = proc_stat(srv.child.id());
        let t = Instant::now();
        common::push_all(&rt, &client, &srv.addr, g.batches.clone());
        let wall = t.elapsed().as_secs_f64();
        let (cpu1, _, hwm) = proc_stat(srv.child.id());
        println!(
            "ingest run {run}: {:.0} lines per CPU-second ({:.2} CPU-s, {wall:.1} s wall), peak RSS {:.1} MiB, segments cut {:.2} % of raw",
            g.lines as f64 / (cpu1 - cpu0),
            cpu1 - cpu0,
            hwm as f64 / 1024.0,
            100.0 * dir_bytes(&data.join("segments")) as f64 / g.raw_bytes as f64
        );
        cpus.push(cpu1 - cpu0);
        hwms.push(hwm as f64 / 1024.0);
        drop(srv);
        let _ = std::fs::remove_dir_all(&data);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "ingest mean of {runs}: {:.0} lines per CPU-second, peak RSS {:.1} MiB (max {:.1})",
        g.lines as f64 / mean(&cpus),
        mean(&hwms),
        hwms.iter().cloned().fold(0.0, f64::max)
    );
}

/// Waits until `dir`'s size has not changed for `quiet`, and returns it.
fn settled_bytes(dir: &std::path::Path, quiet: std::time::Duration) -> u64 {
    let mut last = (dir_bytes(dir), Instant::now());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(2));
        let now = dir_bytes(dir);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() >= quiet {
            return now;
        }
    }
}

struct Measured {
    wall_ms: f64,
    cpu_s: f64,
    result: serde_json::Value,
}

fn run_query(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    srv: &common::Srv,
    g: &Generated,
    q: &Q,
    runs: usize,
) -> Measured {
    let pid = srv.child.id();
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut result = serde_json::Value::Null;
    for _ in 0..runs {
        let (c0, _, _) = proc_stat(pid);
        let t = Instant::now();
        let req = match q.kind {
            Kind::Log => client.get(format!("{}/loki/api/v1/query_range", srv.addr)).query(&[
                ("query", q.query.as_str()),
                ("start", &g.start.to_string()),
                ("end", &g.end.to_string()),
                ("limit", "1000"),
            ]),
            Kind::Instant => client
                .get(format!("{}/loki/api/v1/query", srv.addr))
                .query(&[("query", q.query.as_str()), ("time", &g.end.to_string())]),
            Kind::Range(step) => client.get(format!("{}/loki/api/v1/query_range", srv.addr)).query(&[
                ("query", q.query.as_str()),
                ("start", &g.start.to_string()),
                ("end", &g.end.to_string()),
                ("step", step),
            ]),
        };
        let (status, v) = rt.block_on(async {
            let r = req.send().await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        });
        assert!(status.is_success(), "{}: {status} {v}", q.query);
        walls.push(t.elapsed().as_secs_f64() * 1000.0);
        cpus.push(proc_stat(pid).0 - c0);
        result = v["data"]["result"].clone();
    }
    walls.sort_by(f64::total_cmp);
    // CPU as the mean of the runs: /proc counts in 10 ms ticks, so one run's figure is coarse.
    let cpu_s = cpus.iter().sum::<f64>() / cpus.len() as f64;
    Measured { wall_ms: walls[walls.len() / 2], cpu_s, result: normalize(result) }
}

/// Streams and series in a stable order, so two servers' answers compare.
fn normalize(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(a) = v.as_array_mut() {
        a.sort_by_key(|s| s.get("stream").or(s.get("metric")).map(|m| m.to_string()).unwrap_or_default());
    }
    v
}

fn count_of(v: &serde_json::Value, kind: &Kind) -> String {
    match kind {
        Kind::Log => v
            .as_array()
            .map(|a| a.iter().map(|s| s["values"].as_array().map_or(0, |x| x.len())).sum::<usize>())
            .unwrap_or(0)
            .to_string(),
        Kind::Instant => v[0]["value"][1].as_str().unwrap_or("0").to_string(),
        Kind::Range(_) => format!(
            "{} points",
            v.as_array()
                .map(|a| a.iter().map(|s| s["values"].as_array().map_or(0, |x| x.len())).sum::<usize>())
                .unwrap_or(0)
        ),
    }
}

enum Kind {
    Log,
    Instant,
    Range(&'static str),
}

struct Q {
    group: &'static str,
    name: String,
    query: String,
    kind: Kind,
    /// Raw bytes of the streams it reads.
    app: Option<&'static str>,
}

fn queries() -> Vec<Q> {
    let q = |group, name: &str, query: String, kind, app| Q { group, name: name.into(), query, kind, app };
    let all = "{host=\"h\"}";
    let mut v = Vec::new();
    for (what, n) in [("whole word", WHOLE), ("inside a token", INNER), ("UUID prefix, 6 chars", PREFIX)] {
        v.push(q("needle", &format!("log query, {what}"), format!("{all} |= \"{n}\""), Kind::Log, None));
        v.push(q(
            "needle",
            &format!("count, {what}"),
            format!("sum(count_over_time({all} |= \"{n}\" [24h]))"),
            Kind::Instant,
            None,
        ));
    }
    v.push(q(
        "needle",
        "regex with a literal",
        format!("sum(count_over_time({all} |~ \"req=Kq7vX2m[A-Za-z0-9]+\" [24h]))"),
        Kind::Instant,
        None,
    ));
    v.push(q(
        "scan",
        "count |= \"error\"",
        format!("sum(count_over_time({all} |= \"error\" [24h]))"),
        Kind::Instant,
        None,
    ));
    v.push(q(
        "scan",
        "count |~ \"(?i)exception\"",
        format!("sum(count_over_time({all} |~ \"(?i)exception\" [24h]))"),
        Kind::Instant,
        None,
    ));
    v.push(q("scan", "log query |= \"error\", limit 1000", format!("{all} |= \"error\""), Kind::Log, None));
    v.push(q(
        "parser",
        "logfmt | status >= 500",
        "sum(count_over_time({app=\"api\"} | logfmt | status >= 500 [24h]))".into(),
        Kind::Instant,
        Some("api"),
    ));
    v.push(q(
        "parser",
        "json | level=\"error\"",
        "sum(count_over_time({app=\"worker\"} | json | level=\"error\" [24h]))".into(),
        Kind::Instant,
        Some("worker"),
    ));
    v.push(q(
        "parser",
        "regexp",
        "sum(count_over_time({app=\"api\"} | regexp \"status=(?P<code>\\\\d+)\" | code=\"503\" [24h]))".into(),
        Kind::Instant,
        Some("api"),
    ));
    v.push(q(
        "parser",
        "pattern",
        "sum(count_over_time({app=\"api\"} | pattern \"<_> method=<method> <_>\" | method=\"POST\" [24h]))".into(),
        Kind::Instant,
        Some("api"),
    ));
    v.push(q(
        "parser",
        "unpack",
        "sum(count_over_time({app=\"packed\"} | unpack | container=\"web.2\" [24h]))".into(),
        Kind::Instant,
        Some("packed"),
    ));
    v.push(q(
        "count",
        "sum(count_over_time({all}[24h]))",
        format!("sum(count_over_time({all}[24h]))"),
        Kind::Instant,
        None,
    ));
    v.push(q(
        "count",
        "counts per minute over the day",
        format!("sum(count_over_time({all}[1m]))"),
        Kind::Range("60"),
        None,
    ));
    v.push(q(
        "count",
        "volume histogram by level",
        format!("sum by (detected_level) (count_over_time({all}[5m]))"),
        Kind::Range("300"),
        None,
    ));
    v
}

fn main() {
    let target: u64 = std::env::var("BENCH_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000_000);
    let tmp = tempfile::tempdir().unwrap();
    let (_tmp, root) = if std::env::var_os("BENCH_KEEP").is_some() {
        let kept = tmp.keep();
        println!("kept: {}", kept.display());
        (None, kept)
    } else {
        let root = tmp.path().to_path_buf();
        (Some(tmp), root)
    };
    let t = Instant::now();
    let mut g = generate(&root, target);
    let gb = g.raw_bytes as f64 / 1e9;
    println!(
        "corpus: {} lines, {:.2} GB raw, {} batches, generated in {:.0} s",
        g.lines,
        gb,
        g.batches.len(),
        t.elapsed().as_secs_f64()
    );

    if let Some(runs) = std::env::var("BENCH_INGEST_ONLY").ok().and_then(|v| v.parse().ok()) {
        ingest_only(&root, &g, runs);
        return;
    }

    // References, in this process, on the same bytes.
    let raw = std::fs::read(&g.raw_path).unwrap();
    let (c0, _) = self_cpu();
    let z3 = zstd::bulk::compress(&raw, 3).unwrap();
    let (c1, _) = self_cpu();
    let sample = &raw[..raw.len().min(64 << 20)];
    let z19 = zstd::bulk::compress(sample, 19).unwrap().len() as f64 / sample.len() as f64;
    let (c2, _) = self_cpu();
    let back = zstd::bulk::decompress(&z3, raw.len()).unwrap();
    let (c3, _) = self_cpu();
    let (stream_z19, stream_xz) = per_stream_bound(&raw[..raw.len().min(64 << 20)], g.app_bytes.len(), &root);
    assert_eq!(back.len(), raw.len());
    drop(back);
    let zstd_d_gbs = gb / (c3 - c2);
    let zstd3_ratio = z3.len() as f64 / raw.len() as f64;
    let zstd3_lines_per_cpu_s = g.lines as f64 / (c1 - c0);
    drop(z3);
    let finder = memchr::memmem::Finder::new(INNER);
    let (m0, _) = self_cpu();
    let memmem_hits = finder.find_iter(&raw).count();
    let (m1, _) = self_cpu();
    let memmem_gbs = gb / (m1 - m0).max(1e-3);
    drop(raw);
    let grep = |args: &[&str]| {
        let (_, k0) = self_cpu();
        let out = Command::new("grep").args(args).arg(&g.raw_path).output().unwrap();
        let (_, k1) = self_cpu();
        (String::from_utf8_lossy(&out.stdout).trim().to_string(), gb / (k1 - k0).max(1e-3))
    };
    let (grep_needle_hits, grep_f_gbs) = grep(&["-F", "-c", INNER]);
    let (grep_error_hits, grep_c_gbs) = grep(&["-c", "error"]);

    // Ingest: two clients as fast as the server takes it, then the cut to segments.
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Compaction on (flushes then leave gram filters to it, as with the default settings) but
    // not due while ingesting (its CPU is reported on its own), then made due by a reload.
    let config = root.join("bitacora.yml");
    std::fs::write(&config, "store:\n  compaction_interval: 24h\n").unwrap();
    let srv = start_server_in(&data, &[("BITACORA_CONFIG", config.to_str().unwrap())]);
    let pid = srv.child.id();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(600)).build().unwrap();
    let (cpu0, _, _) = proc_stat(pid);
    let t = Instant::now();
    let batches = std::mem::take(&mut g.batches);
    // Loki, when there is one to compare with, is sent the same batches afterwards.
    let loki_bin = common::loki::binary();
    let loki_batches = loki_bin.as_ref().map(|_| batches.clone());
    common::push_all(&rt, &client, &srv.addr, batches);
    let ingest_wall = t.elapsed().as_secs_f64();
    let (cpu1, _, hwm) = proc_stat(pid);
    let ingest_cpu = cpu1 - cpu0;
    let flushed = dir_bytes(&data);
    std::fs::write(&config, "store:\n  compaction_interval: 2s\n  cold_after: 0s\n").unwrap();
    // SAFETY: a signal to the server this process started.
    unsafe { libc::kill(pid as i32, libc::SIGHUP) };
    // Compaction: wait until the directory stops changing.
    let compacted = settled_bytes(&data, std::time::Duration::from_secs(6));
    let (cpu2, _, _) = proc_stat(pid);
    let compaction_cpu = cpu2 - cpu1;
    // What the segment files hold, from the server's own gauges.
    let metrics = || {
        rt.block_on(async { client.get(format!("{}/metrics", srv.addr)).send().await.unwrap().text().await.unwrap() })
    };
    let parts = |text: &str| {
        let gauge = |name: &str| -> f64 {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let pct = |name: &str| gauge(name) / g.raw_bytes as f64 * 100.0;
        format!(
            "blocks {:.2} %, token filters {:.2} %, gram filters {:.2} %",
            pct("bitacora_segment_part_bytes{part=\"blocks\"}"),
            pct("bitacora_segment_part_bytes{part=\"token_filters\"}"),
            pct("bitacora_segment_part_bytes{part=\"gram_filters\"}")
        )
    };
    let hot_parts = parts(&metrics());
    // The cold tier (what a month of retention mostly holds): everything older than a second
    // rewritten at the cold level; done when only that level has bytes.
    const COLD_LEVEL: u32 = 19;
    std::fs::write(
        &config,
        format!("store:\n  compaction_interval: 2s\n  cold_after: 1s\n  cold_zstd_level: {COLD_LEVEL}\n"),
    )
    .unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(pid as i32, libc::SIGHUP) };
    let cold_started = Instant::now();
    let cold_prefix = "bitacora_segment_level_bytes{level=\"";
    loop {
        std::thread::sleep(std::time::Duration::from_secs(2));
        let text = metrics();
        let warm = text
            .lines()
            .filter(|l| l.starts_with(cold_prefix))
            .any(|l| !l.starts_with(&format!("{cold_prefix}{COLD_LEVEL}\"")) && !l.ends_with(" 0"));
        if !warm {
            break;
        }
        assert!(
            cold_started.elapsed() < std::time::Duration::from_secs(3600),
            "the cold tier did not finish in an hour"
        );
    }
    let cold = settled_bytes(&data, std::time::Duration::from_secs(4));
    let (cpu3, _, _) = proc_stat(pid);
    let cold_cpu = cpu3 - cpu2;
    let cold_wall = cold_started.elapsed().as_secs_f64();
    let cold_parts = parts(&metrics());

    println!();
    println!("| measure | bitácora | reference (same bytes, this run) |");
    println!("|---|---|---|");
    println!(
        "| ingest, lines per server CPU-second (push, WAL, cut) | {:.0} ({:.1} CPU-s, {:.1} s wall) | `zstd -3`: {:.0} lines per CPU-second |",
        g.lines as f64 / ingest_cpu,
        ingest_cpu,
        ingest_wall,
        zstd3_lines_per_cpu_s
    );
    println!("| server peak RSS while ingesting | {:.1} MiB | |", hwm as f64 / 1024.0);
    println!(
        "| data directory after the cut / raw | {:.2} % | `zstd -3`: {:.2} %, `zstd -19` (first 64 MB): {:.2} % |",
        flushed as f64 / g.raw_bytes as f64 * 100.0,
        zstd3_ratio * 100.0,
        z19 * 100.0
    );
    println!(
        "| data directory once compacted / raw | {:.2} % (compaction {:.1} CPU-s; {hot_parts}) | |",
        compacted as f64 / g.raw_bytes as f64 * 100.0,
        compaction_cpu
    );
    println!(
        "| data directory in the cold tier (zstd {COLD_LEVEL}) / raw | {:.2} % (rewrite {:.1} CPU-s, {:.0} s wall, {:.1} MB/s of raw per CPU-s; {cold_parts}) | each app's lines of the first 64 MB compressed whole (no blocks, no random access, no filters): `zstd -19` {:.2} %, `xz -9e` {} |",
        cold as f64 / g.raw_bytes as f64 * 100.0,
        cold_cpu,
        cold_wall,
        g.raw_bytes as f64 / 1e6 / cold_cpu,
        stream_z19 * 100.0,
        stream_xz.map_or("(no xz here)".to_string(), |r| format!("{:.2} %", r * 100.0))
    );
    println!(
        "| scan references, GB/s per core | | `zstd -d`: {zstd_d_gbs:.2}, memmem: {memmem_gbs:.2} ({memmem_hits} hits), `grep -F -c`: {grep_f_gbs:.2} ({grep_needle_hits}), `grep -c error`: {grep_c_gbs:.2} ({grep_error_hits}) |"
    );

    let qs = queries();
    let mut fast = Vec::new();
    for q in &qs {
        fast.push(run_query(&rt, &client, &srv, &g, q, 3));
    }
    drop(srv);
    // The same data with pruning and parallel reads off: the answers must be the same.
    let plain =
        start_server_in(&data, &[("BITACORA_STORE__SEARCH_PRUNING", "false"), ("BITACORA_API__QUERY_THREADS", "1")]);
    println!();
    println!(
        "| query (over {gb:.2} GB, {} lines) | answer | wall (median of 3) | server CPU (mean of 3) | raw GB/s per core | ms per GB | without pruning and parallelism | same answer |",
        g.lines
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut mismatches = 0;
    for (q, m) in qs.iter().zip(&fast) {
        let p = run_query(&rt, &client, &plain, &g, q, 1);
        let bytes = q.app.map_or(g.raw_bytes, |a| g.app_bytes[a]) as f64 / 1e9;
        let same = p.result == m.result;
        if !same {
            mismatches += 1;
        }
        println!(
            "| {}: {} | {} | {:.0} ms | {:.3} s | {:.2} | {:.0} | {:.0} ms, {:.2} CPU-s | {} |",
            q.group,
            q.name,
            count_of(&m.result, &q.kind),
            m.wall_ms,
            m.cpu_s,
            bytes / m.cpu_s.max(0.001),
            m.wall_ms / bytes,
            p.wall_ms,
            p.cpu_s,
            if same { "yes" } else { "NO" }
        );
    }
    println!();
    println!(
        "planted: {PLANTED} lines each of {WHOLE:?} (whole word), {INNER:?} (inside a trace id), {PREFIX:?} (UUID prefix)"
    );
    assert_eq!(mismatches, 0, "answers differ with pruning and parallelism off");

    match (loki_bin, loki_batches) {
        (Some(bin), Some(batches)) => against_loki(&rt, &client, &bin, &root, &g, batches, &qs, &fast),
        _ => println!("\nno Loki to compare with: `scripts/loki.sh build` (or LOKI_BIN) adds it"),
    }
}

/// The same batches pushed to Loki, the same queries asked of it: its CPU, memory and disk
/// beside Bitácora's, and whether its answers are the same.
#[allow(clippy::too_many_arguments)]
fn against_loki(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    bin: &std::path::Path,
    root: &std::path::Path,
    g: &Generated,
    batches: Vec<Vec<u8>>,
    qs: &[Q],
    ours: &[Measured],
) {
    let dir = root.join("loki");
    let loki = common::loki::start_in(bin, &dir);
    let pid = loki.child.id();
    let version = Command::new(bin)
        .arg("-version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
    let (cpu0, _, _) = proc_stat(pid);
    let t = Instant::now();
    common::push_all(rt, client, &loki.addr, batches);
    let pushed_wall = t.elapsed().as_secs_f64();
    // Its flush runs in the background: done when the directory stops changing.
    let total = settled_bytes(&dir, std::time::Duration::from_secs(10));
    let (cpu1, _, hwm) = proc_stat(pid);
    let chunks = dir_bytes(&dir.join("chunks"));
    println!();
    println!("Loki ({version}) on the same batches:");
    println!("| measure | Loki |");
    println!("|---|---|");
    println!(
        "| ingest, lines per server CPU-second (push, WAL, flush) | {:.0} ({:.1} CPU-s, pushed in {:.1} s wall) |",
        g.lines as f64 / (cpu1 - cpu0),
        cpu1 - cpu0,
        pushed_wall
    );
    println!("| server peak RSS while ingesting | {:.1} MiB |", hwm as f64 / 1024.0);
    println!(
        "| data directory after the flush / raw | {:.2} % (chunks {:.2} %, the rest index and WAL) |",
        total as f64 / g.raw_bytes as f64 * 100.0,
        chunks as f64 / g.raw_bytes as f64 * 100.0
    );
    println!();
    println!(
        "| query | answer (Bitácora / Loki) | Bitácora CPU | Loki CPU | Loki CPU ÷ Bitácora CPU | Bitácora wall | Loki wall |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (q, m) in qs.iter().zip(ours) {
        let l = run_query(rt, client, &loki, g, q, 3);
        let (a, b) = (count_of(&m.result, &q.kind), count_of(&l.result, &q.kind));
        println!(
            "| {}: {} | {} | {:.3} s | {:.3} s | {:.1} | {:.0} ms | {:.0} ms |",
            q.group,
            q.name,
            match (a == b, q.query.contains("detected_level")) {
                (true, _) => format!("{a} (same)"),
                // Loki 3.4 takes a level from any `info`/`error`/`warn` in a line; Bitácora from
                // fields, words and HTTP statuses (store/src/discover.rs): other series.
                (false, true) => format!("{a} / {b} (levels discovered differently)"),
                (false, false) => format!("{a} / {b} DIFFER"),
            },
            m.cpu_s,
            l.cpu_s,
            l.cpu_s / m.cpu_s.max(0.001),
            m.wall_ms,
            l.wall_ms
        );
    }
}
