//! `__error__` asked for: Loki keeps parser errors (`json`, `logfmt`, `unpack`) as series when
//! `__error__` is among a metric query's parser hints (a `by (...)` grouping that names it, the
//! range aggregation's own or a `sum`'s pushed into count/rate/bytes/bytes_rate/sum_over_time,
//! or a label filter that reads it under a grouping or `sum(...)`), marking the sample
//! `__preserve_error__="true"`. Any other case, and every other stage's error (label filter,
//! template, unwrap conversion), fails the query with `pipeline error: ...`. Expected answers
//! follow Loki's `NewParserHint`/`addErrLabel`/`RangeVectorEvaluator` (pkg/logql).

use logql::{Engine, MemorySource, QueryParams, QueryResult};
use model::{Entry, Labels};

const S: i64 = 1_000_000_000;

fn src() -> MemorySource {
    let m = MemorySource::new();
    let l = |p: &[(&str, &str)]| Labels::from_pairs(p.iter().copied()).unwrap();
    // app=j: 3 JSON lines, 2 that are not JSON.
    let j = [r#"{"n":"1","a":"x"}"#, "not json", r#"{"n":"2","a":"y"}"#, "{broken", r#"{"n":"abc","a":"z"}"#];
    m.push(l(&[("app", "j")]), j.iter().enumerate().map(|(i, s)| Entry::new(i as i64 * S + 1, *s)).collect());
    // app=f: logfmt, one line with a syntax error after a good pair.
    let f = ["n=1 a=x", "n=3 =bad", "n=5 a=y"];
    m.push(l(&[("app", "f")]), f.iter().enumerate().map(|(i, s)| Entry::new(i as i64 * S + 1, *s)).collect());
    m
}

/// The query's instant vector at 5s as `labels=value` strings (sorted), or its error.
fn instant(query: &str) -> Result<Vec<String>, String> {
    let p = QueryParams::instant(query, 5 * S);
    match Engine::default().query(&src(), &p) {
        Ok(out) => match out.result {
            QueryResult::Vector(v) => {
                let mut s: Vec<String> = v.iter().map(|x| format!("{}={}", x.labels, x.v)).collect();
                s.sort();
                Ok(s)
            }
            r => Err(format!("not a vector: {r:?}")),
        },
        Err(e) => Err(e.to_string()),
    }
}

const FAIL_JSON: &str = "pipeline error: 'JSONParserErr'";

/// (query, Ok(series) or Err(error prefix)).
const CASES: &[(&str, Result<&[&str], &str>)] = &[
    // grouping by __error__, pushed down from sum into count/rate/bytes
    (
        r#"sum by (__error__) (count_over_time({app="j"} | json [10s]))"#,
        Ok(&[r#"{__error__="JSONParserErr"}=2"#, "{}=3"]),
    ),
    (r#"sum by (__error__) (rate({app="j"} | json [10s]))"#, Ok(&[r#"{__error__="JSONParserErr"}=0.2"#, "{}=0.3"])),
    (
        r#"sum by (__error__) (bytes_over_time({app="j"} | json [10s]))"#,
        Ok(&[r#"{__error__="JSONParserErr"}=15"#, "{}=53"]),
    ),
    (
        r#"sum by (app, __error__) (count_over_time({app=~"j|f"} | json [10s]))"#,
        Ok(&[
            r#"{__error__="JSONParserErr", app="f"}=3"#,
            r#"{__error__="JSONParserErr", app="j"}=2"#,
            r#"{app="j"}=3"#,
        ]),
    ),
    (
        r#"sum by (__error__, __error_details__) (count_over_time({app="j"} | json | __error_details__!="" [10s]))"#,
        // jsonparser's ObjectEach answers both `not json` and `{broken` with MalformedObjectError
        Ok(&[
            r#"{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol"}=2"#,
        ]),
    ),
    // logfmt (an error only with --strict) and unpack are parsers too
    (
        r#"sum by (__error__) (count_over_time({app="f"} | logfmt --strict [10s]))"#,
        Ok(&[r#"{__error__="LogfmtParserErr"}=1"#, "{}=2"]),
    ),
    (
        r#"sum by (__error__) (count_over_time({app="j"} | unpack [10s]))"#,
        Ok(&[r#"{__error__="JSONParserErr"}=2"#, "{}=3"]),
    ),
    (
        r#"sum by (__error__) (count_over_time({app="j"} | json a="a" [10s]))"#,
        Ok(&[r#"{__error__="JSONParserErr"}=2"#, "{}=3"]),
    ),
    // a label filter naming __error__, under a grouping or a plain sum
    (r#"sum(count_over_time({app="j"} | json | __error__!="" [10s]))"#, Ok(&["{}=2"])),
    (r#"sum by (app) (count_over_time({app="j"} | json | __error__="JSONParserErr" [10s]))"#, Ok(&[r#"{app="j"}=2"#])),
    (r#"sum by (app) (count_over_time({app="j"} | json | __error__="" [10s]))"#, Ok(&[r#"{app="j"}=3"#])),
    // the range aggregation's own grouping; the series keeps every label and the mark
    (
        r#"max_over_time({app="f"} | logfmt --strict | unwrap n [10s]) by (__error__)"#,
        Ok(&[
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 5 : unexpected '='", __preserve_error__="true", app="f", n="3"}=3"#,
            "{}=5",
        ]),
    ),
    // nothing asks for __error__: the query fails
    (r#"count_over_time({app="j"} | json [10s])"#, Err(FAIL_JSON)),
    (r#"sum by (app) (count_over_time({app="j"} | json [10s]))"#, Err(FAIL_JSON)),
    (r#"sum(count_over_time({app="j"} | json [10s]))"#, Err(FAIL_JSON)),
    // a filter alone does not: without a grouping there are no parser hints
    (r#"count_over_time({app="j"} | json | __error__!="" [10s])"#, Err(FAIL_JSON)),
    // without-groupings never hint
    (r#"sum without (__error__) (count_over_time({app="j"} | json [10s]))"#, Err(FAIL_JSON)),
    (r#"sum without (app) (count_over_time({app="j"} | json | __error__!="" [10s]))"#, Err(FAIL_JSON)),
    // only sum pushes its grouping down, and only into count/rate/bytes/bytes_rate/sum_over_time
    (r#"max by (__error__) (count_over_time({app="j"} | json [10s]))"#, Err(FAIL_JSON)),
    (
        r#"sum by (__error__) (max_over_time({app="f"} | logfmt --strict | unwrap n [10s]))"#,
        Err("pipeline error: 'LogfmtParserErr'"),
    ),
    (r#"absent_over_time({app="j"} | json [10s])"#, Err(FAIL_JSON)),
    (r#"absent_over_time({app="j"} | json | __error__!="" [10s])"#, Ok(&[])),
    // other stages' errors still fail
    (
        r#"sum by (__error__) (count_over_time({app="j"} | json | __error__="" | n > 1 [10s]))"#,
        Err("pipeline error: 'LabelFilterErr'"),
    ),
    (
        r#"sum by (__error__) (sum_over_time({app="j"} | json | __error__="" | unwrap n [10s]))"#,
        Err("pipeline error: 'SampleExtractionErr'"),
    ),
    (
        r#"sum by (__error__) (count_over_time({app="f"} | logfmt | __error__="" | line_format "{{ .n | replace \"a\" }}" [10s]))"#,
        Err("pipeline error: 'TemplateFormatErr'"),
    ),
];

#[test]
fn preserve_error_table() {
    let mut bad = Vec::new();
    for (q, want) in CASES {
        let got = instant(q);
        let ok = match (want, &got) {
            (Ok(w), Ok(g)) => w.iter().map(|s| s.to_string()).collect::<Vec<_>>() == *g,
            (Err(w), Err(g)) => g.starts_with(w),
            _ => false,
        };
        if !ok {
            bad.push(format!("{q}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(bad.is_empty(), "{} of {} differ from Loki:\n{}", bad.len(), CASES.len(), bad.join("\n"));
}

/// Log queries never fail on errors: the filter keeps the error lines with their labels, and
/// the `__preserve_error__` mark (a metric-query hint) never shows.
#[test]
fn log_query_keeps_error_lines() {
    let mut p = QueryParams::instant(r#"{app="j"} | json | __error__="JSONParserErr""#, 0);
    p.instant = false;
    p.start = 0;
    p.end = 10 * S;
    p.limit = 100;
    let out = Engine::default().query(&src(), &p).unwrap();
    let QueryResult::Streams(s) = out.result else { panic!("not streams") };
    let mut lines: Vec<(String, String)> =
        s.iter().flat_map(|s| s.entries.iter().map(|e| (e.labels.to_string(), e.line.clone()))).collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0].1, "not json");
    assert_eq!(lines[1].1, "{broken");
    assert!(lines.iter().all(|(l, _)| l.contains(r#"__error__="JSONParserErr""#) && !l.contains("__preserve_error__")));
}
