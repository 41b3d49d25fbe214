//! Patterns over a day of an app's logs: a million lines in 10 streams (logfmt, plain and JSON),
//! timed, with the peak memory the answer adds; every line counted in exactly the pattern of
//! its template. Ignored by default (seconds in a debug build):
//! `cargo test -p drilldown --test scale -- --ignored --nocapture`.

use std::time::Instant;

use drilldown::Metrics;
use drilldown::patterns::{PatternLimits, PatternsRequest, patterns};
use logql::MemorySource;
use model::{Entry, Labels};

const SEC: i64 = 1_000_000_000;

fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn line(stream: usize, i: usize) -> (String, &'static str) {
    match (stream % 3, i % 4) {
        (0, 0) => {
            (format!("level=info msg=\"request served\" path=/api/{} status=200 dur={}ms", i % 37, i % 900), "info")
        }
        (0, 1) => (format!("level=warn msg=\"slow query\" table=orders rows={} took={}ms", i % 5000, i % 3000), "warn"),
        (0, 2) => (format!("level=info msg=\"cache hit\" key=user:{} ttl=300", i), "info"),
        (0, _) => (format!("level=error msg=\"payment failed\" user={} code=502 retry=true", i % 1000), "error"),
        (1, 0 | 1) => (format!("GET /static/app.{}.js 200 {} bytes in {} ms", i % 50, 1000 + i % 9000, i % 40), "info"),
        (1, _) => (format!("connection from 10.0.{}.{} closed after {} requests", i % 255, i % 200, i % 77), "info"),
        (_, 0..=2) => {
            (format!(r#"{{"level":"info","msg":"job {} finished in {} s","queue":"default"}}"#, i, i % 60), "info")
        }
        (_, _) => (
            format!(r#"{{"level":"error","msg":"job {} failed: timeout after {} s","queue":"default"}}"#, i, i % 60),
            "error",
        ),
    }
}

#[test]
#[ignore]
fn a_million_lines_in_a_day() {
    const STREAMS: usize = 10;
    const PER_STREAM: usize = 100_000;
    let day = 86_400 * SEC;
    let t0 = 1_700_000_000 * SEC / day * day;
    let src = MemorySource::new();
    for s in 0..STREAMS {
        let labels = Labels::from_pairs([("app", "shop"), ("pod", &*format!("shop-{s}"))]).unwrap();
        let entries: Vec<Entry> = (0..PER_STREAM)
            .map(|i| {
                let (l, level) = line(s, i);
                let ts = t0 + (i as i64) * (day / PER_STREAM as i64);
                Entry { ts, line: l, metadata: vec![("detected_level".into(), level.into())].into() }
            })
            .collect();
        src.push(labels, entries);
    }
    let before = peak_rss_kib();
    let req =
        PatternsRequest { query: r#"{app="shop"}"#.into(), start: t0, end: t0 + day, step: 300 * SEC, deadline: None };
    let t = Instant::now();
    let out = patterns(&src, &req, &PatternLimits::default(), &Metrics::unregistered()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let after = peak_rss_kib();
    let total: u64 = out.iter().map(|p| p.total()).sum();
    println!(
        "{} lines, {} patterns in {secs:.2} s ({:.0} lines/s); peak RSS {} MiB before, {} MiB after",
        STREAMS * PER_STREAM,
        out.len(),
        (STREAMS * PER_STREAM) as f64 / secs,
        before / 1024,
        after / 1024
    );
    for p in &out {
        println!("{:>8} {:<6} {}", p.total(), p.level, p.pattern);
    }
    assert_eq!(total, (STREAMS * PER_STREAM) as u64, "every line in exactly one pattern");
    // Each template is one pattern with the count of its lines.
    let count = |pat: &str| out.iter().filter(|p| p.pattern == pat).map(|p| p.total()).sum::<u64>();
    let logfmt_streams = (0..STREAMS).filter(|s| s % 3 == 0).count() as u64;
    assert_eq!(count(r#"level=error msg="payment failed" user=<_> code=502 retry=true"#), logfmt_streams * 25_000);
    assert_eq!(count(r#"level=info msg="cache hit" key=<_> ttl=300"#), logfmt_streams * 25_000);
    assert!(out.len() <= 20, "{} patterns", out.len());
    // A day in 5-minute steps: 288 buckets at most per pattern.
    assert!(out.iter().all(|p| p.samples.len() <= 288));
}
