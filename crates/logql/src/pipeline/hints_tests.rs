//! Hinted pipelines (parsers extracting only the labels a query uses, prefilters skipping
//! parsers) must agree with full ones on every label the query reads, the error labels, the
//! line and whether the entry is kept.

use model::{Entry, Labels};

use super::Pipeline;
use crate::ast::Expr;
use crate::parser::parse;

/// Lines that stress the shortcuts: duplicates, escapes, quotes, nesting, malformed text.
const LINES: &[&str] = &[
    "level=info method=GET status=500 duration=3ms",
    "level=info status=500 status=200",
    "status= status=503",
    "msg=\"a status=200\" status=500",
    "msg=\"unterminated status=500",
    "status=\"5\\\"00\" x=1",
    "a=1 status=5\"00 status=501",
    "xstatus=1 status=404",
    "status=500=1 status=502",
    "=status=500",
    "status",
    "method=POST status=200 method=GET",
    "level=error method=POST",
    "b\u{FFFD}r=1 status=500",
    "status=\u{FFFD}00 level=err\u{FFFD}r",
    "1status=5 _1status=6",
    "status=\"503\" code=503",
    "",
    "   ",
    r#"{"level":"error","level":"info"}"#,
    r#"{"lev\u0065l":"error"}"#,
    r#"{"level":"err\u006fr"}"#,
    r#"{"level":"error", broken"#,
    r#"{"a":{"level":"x"},"level":"error","queue":"q"}"#,
    r#"{"level":{"x":1}}"#,
    r#"{"level":["error"]}"#,
    r#"{"level":null,"status":500}"#,
    r#"{"level":"error","queue":"q\"x"}"#,
    r#"{"pod":{"uuid":"u"},"pod_uuid":"v"}"#,
    r#"{" level":"error"}"#,
    r#"{"level.x":"e","level":"error"}"#,
    r#"{"status":503,"method":"POST","level":"err or"}"#,
    r#"{"_entry":"m status=500","level":"error"}"#,
    r#"{"_entry":"m","lev\u0065l":"error","queue":"default"}"#,
    r#"{"_ent\u0072y":"m2","level":"error"}"#,
    r#"{"_entry":"m","level":"error","level":"info"}"#,
    r#"{"_entry":"m","level":"error""#,
    r#"["level","error"]"#,
    "not json level=error",
    "GET /api status=503 method=POST extra",
];

/// Queries (their log part) with the hints a metric query over them gets.
const QUERIES: &[(&str, &[&str])] = &[
    (r#"{app="a"} | logfmt | status >= 500"#, &["", "status"]),
    (r#"{app="a"} | logfmt"#, &["", "method", "status"]),
    (r#"{app="a"} | logfmt | level="error""#, &["", "level"]),
    (r#"{app="a"} | logfmt | level_extracted="error""#, &["", "level", "level_extracted"]),
    (r#"{app="a"} | logfmt --strict | status >= 500"#, &["", "status"]),
    (r#"{app="a"} | logfmt | __error__="""#, &["", "__error__", "status"]),
    (r#"{app="a"} | json | level="error""#, &["", "level"]),
    (r#"{app="a"} | json | level="error" and queue="q""#, &["", "level", "queue"]),
    (r#"{app="a"} | json"#, &["", "queue", "pod_uuid"]),
    (r#"{app="a"} | json | status >= 500"#, &["", "status", "__error__"]),
    (r#"{app="a"} | json lvl="level" | lvl="error""#, &["", "lvl"]),
    (r#"{app="a"} | unpack | level="error""#, &["", "level"]),
    (r#"{app="a"} | unpack"#, &["", "queue", "level_extracted", "level"]),
    (r#"{app="a"} | regexp "status=(?P<code>\\d+)" | code="503""#, &["", "code"]),
    (r#"{app="a"} | pattern "<_> method=<method> <_>" | method="POST""#, &["", "method"]),
    (r#"{app="a"} | json | logfmt | level="error""#, &["", "level"]),
    (r#"{app="a"} | logfmt"#, &[""]),
    (r#"{app="a"} | logfmt --strict"#, &[""]),
    (r#"{app="a"} | json"#, &[""]),
    (r#"{app="a"} | unpack"#, &[""]),
    (r#"{app="a"} | logfmt | method="POST" | status >= 500"#, &["", "method", "status"]),
];

fn pipeline(q: &str) -> Pipeline {
    let Expr::Log(l) = parse(q).unwrap() else { panic!("{q}") };
    Pipeline::new(&l.stages).unwrap()
}

#[test]
fn hinted_pipelines_agree_with_full_ones() {
    let streams = [
        Labels::from_pairs([("app", "a")]).unwrap(),
        Labels::from_pairs([("app", "a"), ("level", "prod"), ("status", "1")]).unwrap(),
    ];
    let metadata: [Vec<(String, String)>; 2] = [vec![], vec![("level".into(), "meta".into())]];
    let mut checked = 0;
    for (q, hints) in QUERIES {
        let mut full = pipeline(q).without_prefilters();
        let mut fast = pipeline(q).with_hints(Some(hints.iter().map(|h| h.to_string()).collect()));
        for stream in &streams {
            for md in &metadata {
                for line in LINES {
                    let e = Entry { ts: 0, line: line.to_string(), metadata: md.clone().into() };
                    let a = full.run(stream, &e).map(|l| l.into_owned());
                    let b = fast.run(stream, &e).map(|l| l.into_owned());
                    let at = format!("{q} on {stream} {md:?} {line:?}");
                    assert_eq!(a, b, "kept or line differs: {at}");
                    if a.is_none() {
                        continue;
                    }
                    checked += 1;
                    let (fa, fb) = (full.builder(), fast.builder());
                    assert_eq!(fa.err, fb.err, "{at}");
                    assert_eq!(fa.err_details, fb.err_details, "{at}");
                    for h in hints.iter().filter(|h| !h.is_empty()) {
                        assert_eq!(fa.value_of(h), fb.value_of(h), "label {h}: {at}");
                    }
                }
            }
        }
    }
    // (most entries must be kept somewhere, or the comparison says little)
    assert!(checked > 400, "{checked}");
}

#[test]
fn prefilters_skip_parsers_only_where_the_filter_drops() {
    let stream = Labels::from_pairs([("app", "a")]).unwrap();
    let mut p = pipeline(r#"{app="a"} | json | level="error""#);
    let run = |p: &mut Pipeline, line: &str| p.run(&stream, &Entry::new(0, line)).is_some();
    assert!(run(&mut p, r#"{"level":"error"}"#));
    assert!(!run(&mut p, r#"{"level":"info"}"#));
    // an escaped value can only be judged once decoded
    assert!(run(&mut p, r#"{"level":"\u0065rror"}"#));
    // the stream's own label is compared, whatever the line holds
    let with_level = Labels::from_pairs([("app", "a"), ("level", "error")]).unwrap();
    assert!(p.run(&with_level, &Entry::new(0, r#"{"x":"info"}"#)).is_some());
}
