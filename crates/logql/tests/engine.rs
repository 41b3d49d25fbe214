//! Engine behaviour for log and metric queries over `MemorySource`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use logql::{Engine, EngineError, MemorySource, QueryParams, QueryResult};
use model::{Direction, Entry, Labels};

const S: i64 = 1_000_000_000;

fn labels(p: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(p.iter().copied()).unwrap()
}

fn src() -> MemorySource {
    let m = MemorySource::new();
    m.push(
        labels(&[("app", "a"), ("env", "prod")]),
        (0..10).map(|i| Entry::new(i * S, format!("level=info n={i} msg=\"a{i}\""))).collect(),
    );
    m.push(
        labels(&[("app", "b"), ("env", "prod")]),
        (0..10).map(|i| Entry::new(i * S, format!("level=error n={i}"))).collect(),
    );
    m
}

fn q(query: &str, start: i64, end: i64, limit: u32, dir: Direction) -> QueryParams {
    QueryParams { query: query.into(), start, end, step: S, limit, direction: dir, ..QueryParams::default() }
}

fn streams(r: QueryResult) -> Vec<(String, Vec<(i64, String)>)> {
    let QueryResult::Streams(s) = r else { panic!("not streams: {r:?}") };
    s.into_iter().map(|s| (s.labels.to_string(), s.entries.into_iter().map(|e| (e.ts, e.line)).collect())).collect()
}

#[test]
fn backward_limit_across_streams() {
    let e = Engine::default();
    let out = e.query(&src(), &q(r#"{env="prod"}"#, 0, 10 * S, 3, Direction::Backward)).unwrap();
    let s = streams(out.result);
    // ties at 9s broken by stream label string; newest first within a stream
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].0, r#"{app="a", env="prod"}"#);
    assert_eq!(s[0].1.iter().map(|x| x.0).collect::<Vec<_>>(), vec![9 * S, 8 * S]);
    assert_eq!(s[1].1.iter().map(|x| x.0).collect::<Vec<_>>(), vec![9 * S]);
    assert_eq!(out.stats.total_entries_returned, 3);
}

#[test]
fn forward_window_is_half_open() {
    let e = Engine::default();
    let out = e.query(&src(), &q(r#"{app="a"}"#, 2 * S, 5 * S, 100, Direction::Forward)).unwrap();
    let s = streams(out.result);
    assert_eq!(s[0].1.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2 * S, 3 * S, 4 * S]);
}

#[test]
fn interval_skips_entries() {
    let e = Engine::default();
    let mut p = q(r#"{app="a"}"#, 0, 10 * S, 100, Direction::Forward);
    p.interval = 3 * S;
    let s = streams(e.query(&src(), &p).unwrap().result);
    assert_eq!(s[0].1.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 3 * S, 6 * S, 9 * S]);
}

#[test]
fn pipeline_labels_split_streams() {
    let e = Engine::default();
    let out = e
        .query(
            &src(),
            &q(r#"{app="a"} | logfmt | n > 7 | line_format "{{.msg}}""#, 0, 10 * S, 100, Direction::Backward),
        )
        .unwrap();
    let QueryResult::Streams(s) = out.result else { panic!() };
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].labels.to_string(), r#"{app="a", env="prod", level="info", msg="a8", n="8"}"#);
    assert_eq!(s[0].entries[0].line, "a8");
    assert_eq!(s[0].entries[0].stream.to_string(), r#"{app="a", env="prod"}"#);
    assert!(s[0].entries[0].parsed.contains(&("n".to_string(), "8".to_string())));
}

#[test]
fn duplicates_are_returned_once() {
    let m = MemorySource::new();
    m.push(labels(&[("app", "a")]), vec![Entry::new(S, "x"), Entry::new(S, "x"), Entry::new(S, "y")]);
    let s = streams(Engine::default().query(&m, &q(r#"{app="a"}"#, 0, 2 * S, 100, Direction::Forward)).unwrap().result);
    assert_eq!(s[0].1.len(), 2);
}

#[test]
fn errors_and_limits() {
    let e = Engine::default();
    let mut p = q(r#"{app="a"}"#, 0, 10 * S, 100, Direction::Backward);
    p.instant = true;
    let err = e.query(&src(), &p).unwrap_err();
    assert!(err.to_string().starts_with("log queries are not supported as an instant query type"));
    assert!(err.is_client_error());
    let err = e.query(&src(), &q(r#"{app="a"}"#, 0, 10 * S, 6000, Direction::Backward)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "max entries limit per query exceeded, limit > max_entries_limit_per_query (6000 > 5000)"
    );
    let err = e.query(&src(), &q(r#"{app=~".*"}"#, 0, 10 * S, 10, Direction::Backward)).unwrap_err();
    assert!(matches!(err, EngineError::Parse(_)));
    let err = e.query(&src(), &q(r#"count_over_time({app="b"} | json [5s])"#, 0, 10 * S, 10, Direction::Backward));
    assert!(err.unwrap_err().to_string().starts_with("pipeline error: 'JSONParserErr'"));
    let mut small = Engine::default();
    small.limits.max_query_series = 1;
    let err = small.query(&src(), &q(r#"count_over_time({env="prod"}[5s])"#, 0, 10 * S, 10, Direction::Backward));
    assert!(err.unwrap_err().to_string().starts_with("maximum number of series (1) reached"));
    let cancel = Arc::new(AtomicBool::new(true));
    let mut p = q(r#"count_over_time({env="prod"}[5s])"#, 0, 10 * S, 10, Direction::Backward);
    p.cancel = Some(cancel);
    assert!(matches!(e.query(&src(), &p), Err(EngineError::Cancelled)));
}

#[test]
fn metric_range_and_instant() {
    let e = Engine::default();
    let out = e
        .query(&src(), &q(r#"sum by (app) (count_over_time({env="prod"}[5s]))"#, 5 * S, 9 * S, 0, Direction::Backward));
    let QueryResult::Matrix(m) = out.unwrap().result else { panic!() };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].labels.to_string(), r#"{app="a"}"#);
    assert_eq!(m[0].points, vec![(5 * S, 5.0), (6 * S, 5.0), (7 * S, 5.0), (8 * S, 5.0), (9 * S, 5.0)]);
    let mut p = q(r#"sum(count_over_time({env="prod"}[3s]))"#, 9 * S, 9 * S, 0, Direction::Backward);
    p.instant = true;
    let QueryResult::Vector(v) = e.query(&src(), &p).unwrap().result else { panic!() };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].v, 6.0);
    p.query = "1 + 1".into();
    assert_eq!(e.query(&src(), &p).unwrap().result, QueryResult::Scalar { t: 9 * S, v: 2.0 });
}

#[test]
fn step_alignment() {
    let e = Engine::default();
    let mut p = q(r#"count_over_time({app="a"}[10s])"#, 2 * S + 500_000_000, 7 * S, 0, Direction::Backward);
    p.step = 2 * S;
    let QueryResult::Matrix(m) = e.query(&src(), &p).unwrap().result else { panic!() };
    let ts: Vec<i64> = m[0].points.iter().map(|x| x.0).collect();
    assert_eq!(ts, vec![2 * S, 4 * S, 6 * S, 8 * S]);
}

#[test]
fn tail_pipeline() {
    let e = logql::parse(r#"{app="a"} |= "error" | logfmt"#).unwrap();
    let (matchers, mut p) = logql::log_pipeline(&e).unwrap();
    assert_eq!(matchers.len(), 1);
    let l = labels(&[("app", "a")]);
    assert!(p.process(&l, &Entry::new(1, "level=info")).is_none());
    let o = p.process(&l, &Entry::new(2, "level=error")).unwrap();
    assert_eq!(o.labels.to_string(), r#"{app="a", level="error"}"#);
}

#[test]
fn public_types_are_thread_safe() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<logql::Pipeline>();
    assert_send_sync::<logql::Expr>();
    assert_send_sync::<MemorySource>();
    assert_send_sync::<EngineError>();
    assert_send_sync::<QueryResult>();
}

#[test]
fn categorize_labels_grouping() {
    let e = Engine::default();
    let out = e.query(&src(), &q(r#"{app="a"} | logfmt | n > 7"#, 0, 10 * S, 100, Direction::Backward)).unwrap();
    let QueryResult::Streams(s) = out.result else { panic!() };
    assert_eq!(s.len(), 2);
    let c = logql::categorized_streams(&s, Direction::Backward);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].labels.to_string(), r#"{app="a", env="prod"}"#);
    assert_eq!(c[0].entries.iter().map(|e| e.ts).collect::<Vec<_>>(), vec![9 * S, 8 * S]);
}

#[test]
fn extreme_ranges_do_not_overflow() {
    let e = Engine::default();
    let mut p = QueryParams::instant(r#"count_over_time({app="a"}[290y] offset 290y)"#, 1_760_000_000 * S);
    assert!(e.query(&src(), &p).is_ok());
    p.query = r#"count_over_time({app="a"}[290y] offset -2000000h)"#.into();
    assert!(e.query(&src(), &p).is_ok());
}

/// Counting with only line filters (regexes, negations, patterns, `or`) is read through the
/// source's counting path with the filters as a line test; the answers equal the full pipeline's
/// (a no-op label filter after them keeps the query on the pipeline path).
#[test]
fn line_filter_counts_equal_the_pipelines() {
    let e = Engine::default();
    let value = |query: &str| {
        let out = e
            .query(&src(), &QueryParams { instant: true, ..q(query, 20 * S, 20 * S, 100, Direction::Backward) })
            .unwrap();
        format!("{:?}", out.result)
    };
    for f in [
        r#"|~ "n=[2-5]""#,
        r#"!~ "n=[2-5]""#,
        r#"|~ "(?i)LEVEL=ERROR""#,
        r#"!= "info""#,
        r#"|= "n=1" or "n=2""#,
        r#"|> "level=<_> n=<_>""#,
        r#"|= "level" !~ "n=(0|9)""#,
    ] {
        for agg in ["count_over_time", "bytes_over_time"] {
            let fast = format!("sum by (app) ({agg}({{env=\"prod\"}} {f} [30s]))");
            let slow = format!("sum by (app) ({agg}({{env=\"prod\"}} {f} | __error__=\"\" [30s]))");
            assert_eq!(value(&fast), value(&slow), "{fast}");
        }
    }
    assert!(value(r#"sum(count_over_time({env="prod"} |~ "n=[2-5]" [30s]))"#).contains("8.0"), "4 lines of each app");
}

/// A metric query finds each sample's series from the pipeline's labels without building
/// them when seen before: its counts must be those of the log query's label sets, grouped.
#[test]
fn metric_series_match_the_log_querys_labels() {
    let m = MemorySource::new();
    let vals = ["x", "y", "", "x y", "é"];
    let mut entries = Vec::new();
    for i in 0..300i64 {
        let a = vals[(i % 5) as usize];
        let b = (i * 7) % 3;
        let mut line = format!("a={a:?} b={b} c={}", i % 4);
        if i % 11 == 0 {
            line.push_str(" a=dup b=9");
        }
        if i % 13 == 0 {
            line = format!("b={b} app=z");
        }
        let mut e = Entry::new((i + 1) * S, line);
        if i % 6 == 0 {
            e.metadata = vec![("md".into(), format!("m{}", i % 4)), ("c".into(), "meta".into())].into();
        }
        entries.push(e);
    }
    m.push(labels(&[("app", "k"), ("env", "prod")]), entries.clone());
    m.push(labels(&[("app", "k"), ("env", "dev"), ("a", "stream")]), entries);
    let e = Engine::default();
    let end = 400 * S;
    let logs = e.query(&m, &q(r#"{app="k"} | logfmt"#, 0, end, 5000, Direction::Forward)).unwrap().result;
    let QueryResult::Streams(logs) = logs else { panic!() };
    let count = |keep: &dyn Fn(&str) -> bool| {
        let mut want: std::collections::BTreeMap<String, f64> = Default::default();
        for s in &logs {
            let l = Labels::from_sorted(
                s.labels.iter().filter(|(k, _)| keep(k)).map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            );
            *want.entry(l.to_string()).or_default() += s.entries.len() as f64;
        }
        want
    };
    for (query, keep) in [
        (r#"count_over_time({app="k"} | logfmt [500s])"#, &(|_: &str| true) as &dyn Fn(&str) -> bool),
        (r#"sum by (a, b) (count_over_time({app="k"} | logfmt [500s]))"#, &|k: &str| k == "a" || k == "b"),
        (r#"sum by (b, md, a) (count_over_time({app="k"} | logfmt [500s]))"#, &|k: &str| ["a", "b", "md"].contains(&k)),
        (r#"sum without (b) (count_over_time({app="k"} | logfmt [500s]))"#, &|k: &str| k != "b"),
    ] {
        let mut p = q(query, end, end, 0, Direction::Forward);
        p.instant = true;
        let QueryResult::Vector(v) = e.query(&m, &p).unwrap().result else { panic!() };
        let got: std::collections::BTreeMap<String, f64> = v.iter().map(|s| (s.labels.to_string(), s.v)).collect();
        assert_eq!(got, count(keep), "{query}");
        assert!(got.len() > 5, "{query}: {got:?}");
    }
}

/// A bucketed count over one stream is read as one time span per thread (when streams are
/// fewer than threads): the answer is the one thread's, duplicates included once.
#[test]
fn one_stream_counted_in_spans_per_thread_equals_one_thread() {
    let m = MemorySource::new();
    let mut es = Vec::new();
    for i in 0..2000i64 {
        let ts = i * S / 20 + (i % 7) * 1000;
        let level = ["info", "warn", "error"][(i % 3) as usize];
        es.push(Entry::new(ts, format!("level={level} n={} msg=\"x{}\"", i % 11, i % 5)));
        if i % 50 == 0 {
            es.push(Entry::new(ts, format!("level={level} n={} msg=\"x{}\"", i % 11, i % 5))); // an exact duplicate
        }
    }
    es.sort_by_key(|e| e.ts);
    m.push(labels(&[("app", "a")]), es);
    let queries = [
        r#"sum by (level) (count_over_time({app="a"} | logfmt [7s]))"#,
        r#"rate({app="a"} | logfmt | n > 5 [5s])"#,
        r#"bytes_over_time({app="a"} |~ "x[12]" [10s])"#,
        r#"sum(count_over_time({app="a"} | logfmt | level="error" [100s]))"#,
    ];
    for query in queries {
        let p = QueryParams { query: query.into(), start: 0, end: 100 * S, step: 3 * S, ..QueryParams::default() };
        let run = |threads| {
            let e = Engine::new(logql::Limits { threads, ..Default::default() });
            let QueryResult::Matrix(m) = e.query(&m, &p).unwrap().result else { panic!("not a matrix") };
            m
        };
        let one = run(1);
        assert!(one.iter().map(|s| s.points.len()).sum::<usize>() > 20, "{query}: {one:?}");
        for threads in [2, 3, 8] {
            assert_eq!(run(threads), one, "{query} with {threads} threads");
        }
    }
}

/// A source whose streams each take a while to read and hold no wanted entry (a rare needle
/// searched in blocks fetched from a slow bucket).
struct SlowEmpty;

impl logql::LogSource for SlowEmpty {
    fn select(&self, _: &logql::SelectRequest) -> Result<Vec<logql::SelectedStream>, EngineError> {
        Ok(Vec::new())
    }

    fn select_stats(&self, _: &logql::SelectRequest) -> Result<Option<Vec<logql::SelectedStats>>, EngineError> {
        let stream = |i: usize| logql::SelectedStats {
            labels: labels(&[("app", "a"), ("n", &i.to_string())]),
            entries: Box::new(std::iter::once(()).filter_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                None
            })),
        };
        Ok(Some((0..100).map(stream).collect()))
    }
}

/// The deadline holds though no entry comes: it is checked between streams too.
#[test]
fn a_count_finding_nothing_stops_at_its_deadline() {
    let mut p = QueryParams::instant(r#"sum(count_over_time({app="a"} |= "needle" [1h]))"#, 3600 * S);
    p.deadline = Some(std::time::Instant::now() + std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let got = Engine::default().query(&SlowEmpty, &p);
    assert!(matches!(got, Err(EngineError::Timeout)), "{:?}", got.map(|_| ()));
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
}
