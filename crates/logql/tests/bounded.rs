//! Queries within the limits whose cost used to grow past them: set operators over many series,
//! range aggregations over a series per line, answers of huge formatted lines, template regexes
//! on every line. Each answers, or is refused with a limit error, in bounded time and memory.

use std::time::{Duration, Instant};

use logql::{Engine, EngineError, MemorySource, QueryParams, QueryResult};
use model::{Direction, Entry, Labels};

const S: i64 = 1_000_000_000;

/// One stream `{app="a"}` of `n` lines `id=<i> n=<i>`, one per millisecond from 1 ms.
fn ids(n: usize) -> MemorySource {
    let m = MemorySource::new();
    let l = Labels::from_pairs([("app", "a")]).unwrap();
    m.push(l, (0..n).map(|i| Entry::new((i as i64 + 1) * 1_000_000, format!("id={i} n={i}"))).collect());
    m
}

fn instant(query: &str, at: i64) -> QueryParams {
    QueryParams { query: query.into(), start: at, end: at, step: S, limit: 100, instant: true, ..Default::default() }
}

fn scalar_of(r: QueryResult) -> f64 {
    match r {
        QueryResult::Vector(v) => v.first().map_or(0.0, |s| s.v),
        other => panic!("not a vector: {other:?}"),
    }
}

#[test]
fn set_operators_over_many_series_are_linear() {
    let n = 40_000;
    let src = ids(n);
    let e = Engine::default();
    let a = r#"count_over_time({app="a"} | logfmt | drop n [1h])"#;
    let b = r#"count_over_time({app="a"} | logfmt | drop n | label_format id=`{{.id}}y` [1h])"#;
    let t = Instant::now();
    for (op, want) in [("unless", n), ("and", 0), ("or", 2 * n)] {
        let q = format!("count({a} {op} {b})");
        let got = e.query(&src, &instant(&q, 3600 * S)).unwrap();
        assert_eq!(scalar_of(got.result), want as f64, "{op}");
    }
    // Compared pairwise, 40,000 series on each side took minutes here.
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}

#[test]
fn a_range_aggregation_over_a_series_per_line_is_refused_before_it_is_laid_out() {
    let src = ids(3000);
    let e = Engine::default();
    // 3,000 series (one per line) over 10,800 one-second steps of windows that are not
    // aligned to them: 65 million buckets.
    let q = QueryParams {
        query: r#"count_over_time({app="a"} | logfmt [1500ms])"#.into(),
        start: 0,
        end: 10_800 * S,
        step: S,
        limit: 100,
        ..Default::default()
    };
    match e.query(&src, &q) {
        Err(EngineError::Limit(m)) => {
            assert!(m.contains("series over") && m.contains("raise its step"), "{m}")
        }
        other => panic!("not refused: {:?}", other.map(|o| o.result)),
    }
    // The same over 300 series answers.
    let src = ids(300);
    let out = e.query(&src, &q).unwrap();
    let QueryResult::Matrix(m) = out.result else { panic!("not a matrix") };
    assert_eq!(m.len(), 300);
    // Every line (all within the first 0.3 s) is in the first step's window only.
    assert!(m.iter().all(|s| s.points == [(S, 1.0)]), "{:?}", &m[0]);
}

#[test]
fn formatted_lines_past_the_answer_budget_are_refused() {
    let src = ids(50);
    let e = Engine::default();
    let q = QueryParams {
        query: r#"{app="a"} | line_format `{{ repeat 16000000 "a" }}`"#.into(),
        start: 0,
        end: S,
        limit: 50,
        direction: Direction::Backward,
        ..Default::default()
    };
    match e.query(&src, &q) {
        Err(EngineError::Limit(m)) => assert!(m.contains("answer's lines reached") && m.contains("line_format"), "{m}"),
        other => panic!("not refused: {:?}", other.map(|o| o.stats)),
    }
    // Five of them fit.
    let out = e.query(&src, &QueryParams { limit: 5, ..q }).unwrap();
    let QueryResult::Streams(s) = out.result else { panic!("not streams") };
    assert_eq!(s.iter().map(|s| s.entries.len()).sum::<usize>(), 5);
}

#[test]
fn a_template_regex_is_compiled_once_not_per_line() {
    let n = 2000;
    let src = ids(n);
    let e = Engine::default();
    let q =
        r#"sum(count_over_time({app="a"} | line_format `{{ regexReplaceAll "[\\p{L}\\p{N}]{120}" .app "x" }}` [1h]))"#;
    let t = Instant::now();
    let out = e.query(&src, &instant(q, 3600 * S)).unwrap();
    assert_eq!(scalar_of(out.result), n as f64);
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}

#[test]
fn a_query_of_costly_lines_stops_at_its_deadline() {
    let src = ids(400);
    let e = Engine::default();
    // Each line formats 800 kB and counts a regex's matches over it: tens of milliseconds a
    // line here; all 400 take ten seconds or more.
    let q = QueryParams {
        deadline: Some(Instant::now() + Duration::from_millis(500)),
        ..instant(
            r#"sum(count_over_time({app="a"} | line_format `{{ repeat 400000 "ab" | count "b" }}` [1h]))"#,
            3600 * S,
        )
    };
    let t = Instant::now();
    let r = e.query(&src, &q);
    assert!(matches!(r, Err(EngineError::Timeout)), "{:?}", r.map(|o| o.result));
    // Checked every few lines, not every 1,024.
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}
