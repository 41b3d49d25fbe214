//! Rule evaluation cost benchmark (not a test): a store holding a day of logs (the Loghub
//! corpus replayed over 24 hours, 16 apps), then each rule of the ready-made Dokku file and a
//! typical single-app rule evaluated at "now" as the ruler does (an instant LogQL query on the
//! store). Reports CPU per evaluation (this process, so per core) beside a `memmem` scan for
//! the rule's needle over the raw bytes of the time span the rule reads, run here on the same
//! bytes.
//!
//! Run: `cargo bench --bench rules` (env BENCH_LINES, default 1,000,000 lines a day).

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::registry::Registry;

const DAY: i64 = 86_400_000_000_000;

fn corpus() -> Vec<(String, Vec<String>)> {
    let dir = std::env::var("BITACORA_CORPUS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/loghub").into());
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus at {dir}: {e}")).flatten().collect();
    files.sort_by_key(|e| e.file_name());
    files
        .into_iter()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let app = name.strip_suffix("_2k.log")?.to_lowercase();
            Some((app, std::fs::read_to_string(e.path()).unwrap().lines().map(String::from).collect()))
        })
        .collect()
}

/// CPU seconds of this process (user + system).
fn cpu() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

struct Rule {
    name: String,
    expr: String,
    /// How far back the rule reads (its widest range plus offset), ns.
    lookback: i64,
    needle: &'static str,
}

fn main() {
    let lines: usize = std::env::var("BENCH_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let corpus = corpus();
    let dir = tempfile::tempdir().unwrap();
    let mut reg = Registry::default();
    let limits = store::Limits { ingestion_rate_mb: 0.0, reject_old_samples: false, ..Default::default() };
    let store = Arc::new(store::Store::open(dir.path(), store::StoreConfig::default(), limits, &mut reg).unwrap());
    // The flusher: pushes wait for it once the heads hold twice `flush_bytes`.
    let _background = store.spawn_background();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    let start = now - DAY;
    let step = DAY / lines as i64;
    // Raw bytes with their time, for the reference scans.
    let mut raw: Vec<(i64, String)> = Vec::with_capacity(lines);
    let t0 = Instant::now();
    let per_batch = 10_000;
    let mut i = 0usize;
    while i < lines {
        let mut streams: std::collections::BTreeMap<String, Vec<model::Entry>> = Default::default();
        for k in i..(i + per_batch).min(lines) {
            let (app, text) = &corpus[k % corpus.len()];
            let line = &text[(k / corpus.len()) % text.len()];
            let ts = start + k as i64 * step;
            streams.entry(app.clone()).or_default().push(model::Entry::new(ts, line.clone()));
            raw.push((ts, line.clone()));
        }
        let batch = streams
            .into_iter()
            .map(|(app, entries)| store::PushStream {
                labels: model::Labels::from_pairs([
                    ("app".to_string(), app),
                    ("stream".to_string(), "stdout".to_string()),
                ])
                .unwrap(),
                entries,
            })
            .collect();
        let out = store.push("fake", batch).unwrap();
        assert!(matches!(out.status, store::PushStatus::Ok), "{}", out.message);
        i += per_batch;
    }
    store.flush().unwrap();
    let raw_bytes: usize = raw.iter().map(|(_, l)| l.len() + 1).sum();
    eprintln!(
        "stored {lines} lines ({:.1} MB raw) over 24 h in {:.1} s",
        raw_bytes as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );

    let mut rules: Vec<Rule> = Vec::new();
    let dokku = rules::builtin_rules().into_iter().find(|b| b.name == "dokku").unwrap();
    let file = rules::parse_file(dokku.yaml).unwrap();
    for g in &file.groups {
        for r in &g.rules {
            let name = r.alert.clone().or_else(|| r.record.clone()).unwrap_or_default();
            let (lookback, needle) = match name.as_str() {
                "DokkuAppErrorRateJump" => (65 * 60, "error"),
                "DokkuContainerCrashLooping" => (10 * 60, "event=die"),
                _ => (210 * 60, "\n"),
            };
            rules.push(Rule { name, expr: r.expr.clone(), lookback: lookback * 1_000_000_000, needle });
        }
    }
    rules.push(Rule {
        name: "one app's errors (typical)".into(),
        expr: "sum by (app) (count_over_time({app=\"apache\"} |= \"error\" [5m])) > 5".into(),
        lookback: 300_000_000_000,
        needle: "error",
    });
    rules.push(Rule {
        name: "every app's errors, 1h".into(),
        expr: "sum by (app) (count_over_time({app=~\".+\"} |~ `(?i)error` [1h])) > 100".into(),
        lookback: 3_600_000_000_000,
        needle: "error",
    });

    let engine = logql::Engine::new(logql::Limits::default());
    let source = api::StoreSource {
        store: store.clone(),
        tenant: "fake".into(),
        stats: Arc::new(store::ReadStats::default()),
        deletes: deletes::Deletes::none(),
    };
    println!(
        "rule evaluation over a day of data ({lines} lines, {:.1} MB raw), CPU per evaluation on one core",
        raw_bytes as f64 / 1e6
    );
    println!("{:<32} {:>10} {:>8} {:>12} {:>14} {:>8}", "rule", "cpu ms", "series", "span MB", "memmem ms", "ratio");
    for r in &rules {
        let reps = 10;
        let mut series = 0;
        let c0 = cpu();
        for _ in 0..reps {
            let out =
                rules::instant_query(&engine, &source, &r.expr, now, Some(Instant::now() + Duration::from_secs(60)))
                    .unwrap_or_else(|e| panic!("{}: {e}", r.name));
            series = out.len();
        }
        let eval = (cpu() - c0) / reps as f64;
        // The reference: a memmem scan for the rule's needle over the span it reads.
        let span: Vec<&str> = raw.iter().filter(|(ts, _)| *ts > now - r.lookback).map(|(_, l)| l.as_str()).collect();
        let bytes: usize = span.iter().map(|l| l.len() + 1).sum();
        let finder = memchr::memmem::Finder::new(r.needle.as_bytes());
        let c0 = cpu();
        let mut hits = 0usize;
        for _ in 0..reps {
            for l in &span {
                hits += finder.find_iter(l.as_bytes()).count();
            }
        }
        let scan = (cpu() - c0) / reps as f64;
        std::hint::black_box(hits);
        println!(
            "{:<32} {:>10.2} {:>8} {:>12.2} {:>14.3} {:>8.1}",
            r.name,
            eval * 1e3,
            series,
            bytes as f64 / 1e6,
            scan * 1e3,
            if scan > 0.0 { eval / scan } else { f64::NAN }
        );
    }
}
