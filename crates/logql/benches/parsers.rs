//! Parser micro-benchmark: `cargo bench -p logql --bench parsers`.
//!
//! Generates 200k lines of each kind (logfmt access lines, JSON job lines, packed JSON for
//! `unpack`) and prints, per query, nanoseconds per line for
//! * `engine`: the whole metric query through `Engine::query` over a `MemorySource` (one stream,
//!   one thread; includes the source's per-entry clone of the line, which stands for the store's
//!   own per-entry `String` made while decoding a block),
//! * `pipeline`: the compiled pipeline alone (`Pipeline::run` over prepared entries) with the
//!   parser hints the engine would use, and without hints (every field extracted; a parser
//!   followed by `| name="value"` is still skipped on lines lacking the value, see
//!   `pipeline::prefilter`),
//!
//! beside a `memchr::memmem` scan of the same lines for a literal as the reference.
//! `PARSER_BENCH_LINES` changes the line count, `PARSER_BENCH_ROUNDS` the rounds (best kept),
//! `PARSER_BENCH_ONLY` keeps the cases whose name contains it; `PARSER_BENCH_HINT_ONLY` runs only
//! the hinted pipeline and `PARSER_BENCH_ENGINE_ONLY` only the engine (for profiling one path).

use std::hint::black_box;
use std::time::Instant;

use logql::{Engine, Limits, MemorySource, QueryParams, log_pipeline, parse};
use model::{Direction, Entry, Labels};

const S: i64 = 1_000_000_000;

/// A small deterministic generator (xorshift), so every run sees the same lines.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

fn logfmt_line(r: &mut Rng) -> String {
    let level = r.pick(&["info", "info", "info", "warn", "error"]);
    let method = r.pick(&["GET", "GET", "POST", "PUT", "DELETE"]);
    let path = r.pick(&["/api/orders", "/api/users", "/api/invoices/42", "/healthz", "/api/search"]);
    let status = r.pick(&["200", "200", "200", "201", "204", "404", "500", "503"]);
    format!(
        "level={level} method={method} path={path} status={status} duration={}ms bytes={} request_id={:016x}",
        r.next() % 2000,
        r.next() % 100_000,
        r.next()
    )
}

fn json_line(r: &mut Rng) -> String {
    let level = r.pick(&["info", "info", "info", "warn", "error"]);
    let msg = r.pick(&["job finished", "job started", "retrying job", "job failed"]);
    let queue = r.pick(&["default", "mailers", "critical"]);
    format!(
        r#"{{"level":"{level}","msg":"{msg}","job":"invoice-{}","attempt":{},"elapsed_ms":{},"queue":"{queue}"}}"#,
        r.next() % 1000,
        r.next() % 5,
        r.next() % 5000
    )
}

fn packed_line(r: &mut Rng) -> String {
    let level = r.pick(&["info", "info", "info", "warn", "error"]);
    let queue = r.pick(&["default", "mailers", "critical"]);
    format!(
        r#"{{"_entry":"job invoice-{} finished in {}ms","level":"{level}","queue":"{queue}","host":"worker-{}"}}"#,
        r.next() % 1000,
        r.next() % 5000,
        r.next() % 8
    )
}

struct Case {
    name: &'static str,
    app: &'static str,
    /// The metric query the engine runs.
    query: &'static str,
    /// Its log part, for the pipeline-only runs, and the hints the engine derives for it.
    log: &'static str,
    hints: &'static [&'static str],
    /// A literal for the memmem reference.
    needle: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "logfmt | status >= 500",
        app: "api",
        query: r#"sum(count_over_time({app="api"} | logfmt | status >= 500 [24h]))"#,
        log: r#"{app="api"} | logfmt | status >= 500"#,
        hints: &["", "status"],
        needle: "status=5",
    },
    Case {
        name: "json | level=\"error\"",
        app: "worker",
        query: r#"sum(count_over_time({app="worker"} | json | level="error" [24h]))"#,
        log: r#"{app="worker"} | json | level="error""#,
        hints: &["", "level"],
        needle: "\"level\":\"error\"",
    },
    Case {
        name: "regexp | code=\"503\"",
        app: "api",
        query: r#"sum(count_over_time({app="api"} | regexp "status=(?P<code>\\d+)" | code="503" [24h]))"#,
        log: r#"{app="api"} | regexp "status=(?P<code>\\d+)" | code="503""#,
        hints: &["", "code"],
        needle: "status=503",
    },
    Case {
        name: "pattern | method=\"POST\"",
        app: "api",
        query: r#"sum(count_over_time({app="api"} | pattern "<_> method=<method> <_>" | method="POST" [24h]))"#,
        log: r#"{app="api"} | pattern "<_> method=<method> <_>" | method="POST""#,
        hints: &["", "method"],
        needle: "method=POST",
    },
    Case {
        name: "unpack | level=\"error\"",
        app: "packed",
        query: r#"sum(count_over_time({app="packed"} | unpack | level="error" [24h]))"#,
        log: r#"{app="packed"} | unpack | level="error""#,
        hints: &["", "level"],
        needle: "\"level\":\"error\"",
    },
    Case {
        name: "logfmt, no label used",
        app: "api",
        query: r#"sum(count_over_time({app="api"} | logfmt [24h]))"#,
        log: r#"{app="api"} | logfmt"#,
        hints: &[""],
        needle: "status=5",
    },
    Case {
        name: "logfmt by (method, status)",
        app: "api",
        query: r#"sum by (method, status) (count_over_time({app="api"} | logfmt [24h]))"#,
        log: r#"{app="api"} | logfmt"#,
        hints: &["", "method", "status"],
        needle: "status=5",
    },
    Case {
        name: "json by (queue)",
        app: "worker",
        query: r#"sum by (queue) (count_over_time({app="worker"} | json [24h]))"#,
        log: r#"{app="worker"} | json"#,
        hints: &["", "queue"],
        needle: "\"queue\":\"mailers\"",
    },
];

fn best<T>(rounds: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.unwrap())
}

fn main() {
    let n: usize = std::env::var("PARSER_BENCH_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let rounds: usize = std::env::var("PARSER_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut streams = Vec::new();
    for (app, gen_line) in
        [("api", logfmt_line as fn(&mut Rng) -> String), ("worker", json_line), ("packed", packed_line)]
    {
        let labels = Labels::from_pairs([("app", app), ("env", "prod")]).unwrap();
        let entries: Vec<Entry> = (0..n).map(|i| Entry::new(i as i64 * S / 10, gen_line(&mut r))).collect();
        streams.push((labels, entries));
    }
    let src = MemorySource::from_streams(streams.clone());
    let engine = Engine::new(Limits { threads: 1, ..Limits::default() });
    let end = n as i64 * S / 10;
    println!("{n} lines per kind, best of {rounds} rounds, ns per line");
    println!("{:<28} {:>8} {:>10} {:>10} {:>8}   (kept lines)", "query", "engine", "pipe hint", "pipe all", "memmem");
    let only = std::env::var("PARSER_BENCH_ONLY").unwrap_or_default();
    for c in CASES.iter().filter(|c| c.name.contains(only.as_str())) {
        let (labels, entries) = streams.iter().find(|(l, _)| l.get("app") == Some(c.app)).unwrap();
        let params = QueryParams {
            query: c.query.into(),
            start: end,
            end,
            instant: true,
            limit: 100,
            direction: Direction::Forward,
            ..QueryParams::default()
        };
        let hint_only = std::env::var("PARSER_BENCH_HINT_ONLY").is_ok();
        let (te, _) =
            if hint_only { (0.0, ()) } else { best(rounds, || drop(black_box(engine.query(&src, &params).unwrap()))) };
        let expr = parse(c.log).unwrap();
        let run_pipe = |hints: Option<Vec<String>>| {
            let (_, p) = log_pipeline(&expr).unwrap();
            let mut p = p.with_hints(hints);
            best(rounds, || {
                let mut kept = 0usize;
                for e in entries {
                    if p.run(labels, e).is_some() {
                        kept += 1;
                    }
                }
                kept
            })
        };
        let engine_only = std::env::var("PARSER_BENCH_ENGINE_ONLY").is_ok();
        let (th, kept_h) =
            if engine_only { (0.0, 0) } else { run_pipe(Some(c.hints.iter().map(|s| s.to_string()).collect())) };
        let (ta, kept_a) = if hint_only || engine_only { (0.0, kept_h) } else { run_pipe(None) };
        assert_eq!(kept_h, kept_a, "{}: hinted and full pipelines disagree", c.name);
        let finder = memchr::memmem::Finder::new(c.needle);
        let (tm, _) = best(rounds, || entries.iter().filter(|e| finder.find(e.line.as_bytes()).is_some()).count());
        let per = |t: f64| t * 1e9 / n as f64;
        println!("{:<28} {:>8.1} {:>10.1} {:>10.1} {:>8.1}   ({kept_h})", c.name, per(te), per(th), per(ta), per(tm));
    }
}
