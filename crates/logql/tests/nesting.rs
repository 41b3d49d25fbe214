//! Query nesting is bounded: every recursive walk (parser, printer, prettifier, evaluator) stays
//! within a 2 MiB thread stack (a tokio worker's) for the deepest query the parser accepts, and a
//! deeper one is a parse error with its position, never a stack overflow.

use logql::{Engine, MemorySource, QueryParams, QueryResult};
use logql::{MAX_DEPTH, MAX_RECURSION};
use model::{Entry, Labels};

const S: i64 = 1_000_000_000;

fn rep(s: &str, n: usize) -> String {
    s.repeat(n)
}

/// `n="1" or (n="1" or (...))`: a label filter of height `k + 1` built by recursion.
fn nested_filter(k: usize) -> String {
    format!("{}n=\"1\"{}", rep("n=\"1\" or (", k), rep(")", k))
}

/// Query shapes whose nesting depth (syntax tree height) is exactly `n` (n >= 5).
fn shapes(n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("vector aggregations", format!("{}count_over_time({{app=\"a\"}}[1m]){}", rep("sum(", n - 2), rep(")", n - 2))),
        (
            "parenthesised aggregations",
            format!("{}count_over_time({{app=\"a\"}}[1m]){}", rep("sum((", n - 2), rep("))", n - 2)),
        ),
        ("binary chain", format!("vector(1){}", rep(" + vector(1)", n - 1))),
        ("right-associative chain", format!("vector(1){}", rep(" ^ vector(1)", n - 1))),
        ("right-nested chain", format!("{}vector(1){}", rep("vector(1) + (", n - 1), rep(")", n - 1))),
        ("nested label filters", format!("{{app=\"a\"}} | logfmt | {}", nested_filter(n - 2))),
        ("label filter or chain", format!("{{app=\"a\"}} | logfmt | n=\"1\"{}", rep(" or n=\"1\"", n - 2))),
        ("label filter comma chain", format!("{{app=\"a\"}} | logfmt | n=\"1\"{}", rep(", n=\"1\"", n - 2))),
        (
            "metric over filters",
            format!("sum(count_over_time({{app=\"a\"}} | logfmt | {} [1m]))", nested_filter(n - 4)),
        ),
    ]
}

fn source() -> MemorySource {
    let m = MemorySource::new();
    m.push(
        Labels::from_pairs([("app", "a")]).unwrap(),
        (0..20).map(|i| Entry::new(i * S, format!("n={} level=info", i % 3))).collect(),
    );
    m
}

/// Runs `f` on a thread with a tokio worker's default stack (2 MiB).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().expect("thread died")
}

#[test]
fn deepest_allowed_queries_parse_print_and_evaluate_on_a_small_stack() {
    for (name, q) in shapes(MAX_DEPTH) {
        let (printed, pretty, answered) = on_small_stack(move || {
            let e = logql::parse(&q).unwrap_or_else(|e| panic!("{name}: {e}"));
            let printed = e.to_string();
            logql::parse(&printed).unwrap_or_else(|e| panic!("{name} reparsed: {e}"));
            let pretty = logql::format_query(&q).unwrap_or_else(|e| panic!("{name} prettified: {e}"));
            let params =
                QueryParams { query: q.clone(), start: 0, end: 20 * S, step: S, limit: 100, ..Default::default() };
            let out = Engine::default().query(&source(), &params).unwrap_or_else(|e| panic!("{name}: {e}"));
            let answered = match out.result {
                QueryResult::Streams(s) => s.iter().map(|s| s.entries.len()).sum::<usize>(),
                QueryResult::Matrix(s) => s.iter().map(|s| s.points.len()).sum(),
                QueryResult::Vector(s) => s.len(),
                QueryResult::Scalar { .. } => 1,
            };
            (printed, pretty, answered)
        });
        assert!(!printed.is_empty() && !pretty.is_empty(), "{name}");
        assert!(answered > 0, "{name}: no result");
    }
}

#[test]
fn parentheses_are_bounded_by_the_parser_recursion_limit() {
    let q = |k: usize| format!("{}vector(1){}", rep("(", k), rep(")", k));
    let ok = q(MAX_RECURSION - 1);
    on_small_stack(move || {
        let e = logql::parse(&ok).unwrap();
        logql::format_query(&ok).unwrap();
        e.to_string()
    });
    let bad = q(MAX_RECURSION);
    let err = on_small_stack(move || logql::parse(&bad).unwrap_err().to_string());
    assert_eq!(
        err,
        format!("parse error at line 1, col {}: query nesting too deep (max {MAX_DEPTH})", MAX_RECURSION + 1)
    );
}

#[test]
fn one_level_deeper_is_a_parse_error_with_position() {
    for (name, q) in shapes(MAX_DEPTH + 1) {
        let err = on_small_stack(move || logql::parse(&q).map(|_| ()).unwrap_err().to_string());
        assert!(err.starts_with("parse error at line 1, col "), "{name}: {err}");
        assert!(err.ends_with(&format!(": query nesting too deep (max {MAX_DEPTH})")), "{name}: {err}");
    }
}

#[test]
fn hostile_depths_are_refused_quickly_without_overflow() {
    // 1,500 parentheses (3 KB) used to abort the process in the printer; the 128 KiB input limit
    // allows 65,000-deep chains, which must neither recurse nor be dropped recursively.
    let hostile = vec![
        format!("{}vector(1){}", rep("(", 1500), rep(")", 1500)),
        format!("{}vector(1){}", rep("(", 60_000), rep(")", 5)),
        format!("vector(1){}", rep("+vector(1)", 12_000)),
        format!("vector(1){}", rep("^vector(1)", 12_000)),
        format!("{}{{app=\"a\"}}", rep("sum(", 30_000)),
        format!("{{app=\"a\"}} | logfmt | n=\"1\"{}", rep(" or n=\"1\"", 14_000)),
        format!("{{app=\"a\"}} | logfmt | n=\"1\"{}", rep(", n=\"1\"", 15_000)),
        format!("{{app=\"a\"}} | logfmt | {}n=\"1\"", rep("(", 60_000)),
        format!("count_over_time({}{{app=\"a\"}}[1m]", rep("(", 60_000)),
    ];
    for q in hostile {
        let head: String = q.chars().take(40).collect();
        let t = std::time::Instant::now();
        let err = on_small_stack(move || logql::format_query(&q).unwrap_err().to_string());
        assert!(err.contains("query nesting too deep"), "{head}: {err}");
        assert!(t.elapsed() < std::time::Duration::from_secs(5), "{head}: took {:?}", t.elapsed());
    }
}

/// Runs a log query over one line on a 2 MiB stack; returns the answered lines with labels.
fn over_line(q: &str, line: String) -> Vec<(String, String)> {
    let q = q.to_string();
    on_small_stack(move || {
        let m = MemorySource::new();
        m.push(Labels::from_pairs([("app", "a")]).unwrap(), vec![Entry::new(S, line)]);
        let params = QueryParams { query: q.clone(), start: 0, end: 2 * S, limit: 10, ..Default::default() };
        let out = Engine::default().query(&m, &params).unwrap_or_else(|e| panic!("{q}: {e}"));
        let QueryResult::Streams(s) = out.result else { panic!("not streams") };
        s.into_iter().flat_map(|s| s.entries.into_iter().map(move |e| (s.labels.to_string(), e.line))).collect()
    })
}

#[test]
fn deeply_nested_json_lines_are_parser_errors_not_crashes() {
    use logql::MAX_JSON_DEPTH;
    // A pushed line is data: 50,000 nested objects (250 KB, under the line size limit) used to
    // overflow the stack of any query with `| json`.
    let objects = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    let mixed = |n: usize| format!("{{\"a\":{}1{}}}", "[".repeat(n - 1), "]".repeat(n - 1));
    for q in ["{app=\"a\"} | json", "{app=\"a\"} | json x=\"a.a\"", "{app=\"a\"} | unpack"] {
        for line in [objects(50_000), mixed(100_000)] {
            let got = over_line(q, line);
            assert_eq!(got.len(), 1, "{q}");
            assert!(got[0].0.contains("__error__=\"JSONParserErr\""), "{q}: {}", got[0].0);
        }
    }
    // As deep as allowed is parsed (and flattened) on a small stack.
    let got = over_line("{app=\"a\"} | json", objects(MAX_JSON_DEPTH));
    assert!(!got[0].0.contains("__error__"), "{}", got[0].0);
    assert!(got[0].0.contains(&format!("{}=\"1\"", vec!["a"; MAX_JSON_DEPTH].join("_"))), "{}", got[0].0);
    let got = over_line("{app=\"a\"} | json", objects(MAX_JSON_DEPTH + 1));
    assert!(got[0].0.contains("__error__=\"JSONParserErr\""), "{}", got[0].0);
}

#[test]
fn deeply_nested_templates_are_parse_errors() {
    let ifs = |n: usize| format!("{}x{}", "{{if .a}}".repeat(n), "{{end}}".repeat(n));
    let parens = |n: usize| format!("{{{{{}.a{}}}}}", "(".repeat(n), ")".repeat(n));
    for t in [ifs(5000), parens(20_000)] {
        let q = format!("{{app=\"a\"}} | line_format `{t}`");
        let err = on_small_stack(move || {
            let params = QueryParams { query: q, start: 0, end: 2 * S, limit: 10, ..Default::default() };
            Engine::default().query(&source(), &params).map(|_| ()).unwrap_err().to_string()
        });
        assert!(err.contains("nested too deep (max 64)"), "{}", &err[err.len().saturating_sub(200)..]);
    }
    for t in [ifs(logql::MAX_TEMPLATE_DEPTH), parens(logql::MAX_TEMPLATE_DEPTH)] {
        let got = over_line(&format!("{{app=\"a\"}} | logfmt | line_format `{t}`"), "a=1".into());
        assert_eq!(got.len(), 1);
        assert!(got[0].1 == "x" || got[0].1 == "1", "{:?}", got[0]);
    }
}
