//! Parser hints (only the labels a query uses are extracted) never change those labels: for
//! tricky lines, a hinted pipeline gives the same values for the hinted names, the same
//! errors and the same kept lines as the full parse.

use logql::{log_pipeline, parse};
use model::{Entry, Labels};

fn labels_for(
    query: &str,
    stream: &[(&str, &str)],
    line: &str,
    hints: Option<&[&str]>,
    names: &[&str],
) -> Option<String> {
    let (_, p) = log_pipeline(&parse(query).unwrap()).unwrap();
    let mut p = p.with_hints(hints.map(|h| h.iter().map(|s| s.to_string()).collect()));
    let s = Labels::from_pairs(stream.iter().copied()).unwrap();
    // Twice: the second run reuses the builder's strings and the stage buffers.
    let e = Entry::new(1, line);
    p.process(&s, &e);
    let out = p.process(&s, &e)?;
    let kept: Vec<String> = out
        .labels
        .iter()
        .filter(|(k, _)| names.contains(k) || k.starts_with("__error"))
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    Some(format!("{} | {}", kept.join(", "), out.line))
}

fn same(query: &str, stream: &[(&str, &str)], lines: &[&str], hints: &[&str]) {
    for line in lines {
        let full = labels_for(query, stream, line, None, hints);
        let hinted = labels_for(query, stream, line, Some(hints), hints);
        assert_eq!(hinted, full, "query {query} line {line:?} hints {hints:?}");
    }
}

const LOGFMT: &[&str] = &[
    "level=info status=200 path=/x",
    "status=500",
    "xstatus=1 status=2",
    "msg=\"a status=1 b\" status=2",
    "status=\"quoted \\\"esc\\\" 500\" level=warn",
    "status=5=0 status=7",
    "status= status=9",
    "status status=3",
    "=status status=4",
    "a\tstatus=6\tlevel=error",
    "status=1 status=2",
    "level=\"unterminated status=3",
    "bu\"zz=1 status=8",
    "status=\u{FFFD}x",
    "nothing here",
    "",
    "level=error",
];

#[test]
fn logfmt_hinted_equals_full() {
    for q in [r#"{a="b"} | logfmt"#, r#"{a="b"} | logfmt --keep-empty"#, r#"{a="b"} | logfmt | status >= 5"#] {
        same(q, &[("a", "b")], LOGFMT, &["", "status"]);
        same(q, &[("a", "b")], LOGFMT, &["", "status", "level"]);
        // a clash with a stream label: `status_extracted`
        same(q, &[("a", "b"), ("status", "s")], LOGFMT, &["", "status", "status_extracted"]);
        same(q, &[("a", "b")], LOGFMT, &["", "status", "level_x", "__error__"]);
    }
}

#[test]
fn logfmt_strict_errors_still_surface_with_hints() {
    let q = r#"{a="b"} | logfmt --strict"#;
    same(q, &[("a", "b")], LOGFMT, &["", "status"]);
    let got = labels_for(q, &[("a", "b")], "status=1 bad\"key=2", Some(&["", "status"]), &["status"]).unwrap();
    assert!(got.contains("__error__=\"LogfmtParserErr\"") && got.contains("status=\"1\""), "{got}");
}

const JSON: &[&str] = &[
    r#"{"level":"error","msg":"x"}"#,
    r#"{"msg":"x","level":"info","level":"error"}"#,
    r#"{"lev\u0065l":"escaped key"}"#,
    r#"{"level":"error","broken":}"#,
    r#"{"level":"error""#,
    r#"{"level":1.50,"n":null,"a":[1,2]}"#,
    r#"{"level":{"inner":"x"},"queue":"q"}"#,
    r#"{"le-vel":"dash","level":"\"quoted\""}"#,
    r#"{"1level":"digit"}"#,
    r#"not json"#,
    r#"{"level":"a\ud83d\ude00b"}"#,
];

#[test]
fn json_hinted_equals_full() {
    let q = r#"{a="b"} | json"#;
    same(q, &[("a", "b")], JSON, &["", "level"]);
    same(q, &[("a", "b")], JSON, &["", "level_inner", "queue"]);
    same(q, &[("a", "b")], JSON, &["", "le_vel", "_1level"]);
    same(q, &[("a", "b"), ("level", "s")], JSON, &["", "level", "level_extracted"]);
    // With a filter the hints name its label (as the planner's do).
    let q = r#"{a="b"} | json | level="error""#;
    same(q, &[("a", "b")], JSON, &["", "level"]);
    same(q, &[("a", "b")], JSON, &["", "level", "queue"]);
    // An error anywhere in the object is reported, even after the hinted field.
    let got = labels_for(r#"{a="b"} | json"#, &[], r#"{"level":"error","x":tru}"#, Some(&["", "level"]), &["level"]);
    assert!(got.unwrap().contains("__error__=\"JSONParserErr\""));
}

#[test]
fn regexp_pattern_unpack_hinted_equal_full() {
    let lines = ["level=info method=GET status=503", "method=POST status=200 x", "", "status=", "nothing"];
    for (q, hints) in [
        (r#"{a="b"} | regexp "status=(?P<code>\\d+)""#, &["", "code"][..]),
        (r#"{a="b"} | regexp "status=(?P<code>\\d+)""#, &["", "other"][..]),
        (r#"{a="b"} | regexp "method=(?P<m>\\w+) status=(?P<code>\\d*)""#, &["", "m"][..]),
        (r#"{a="b"} | pattern "<_> method=<method> <_>""#, &["", "method"][..]),
        (r#"{a="b"} | pattern "<_> method=<method> <_>""#, &["", "nope"][..]),
        (r#"{a="b"} | pattern "level=<level> <rest>" | rest=~".*503""#, &["", "rest"][..]),
    ] {
        same(q, &[("a", "b")], &lines, hints);
        same(q, &[("a", "b"), ("code", "c"), ("method", "m")], &lines, hints);
    }
    let packed = [
        r#"{"_entry":"m1","level":"error","host":"h"}"#,
        r#"{"level":"info","_entry":"m2"}"#,
        r#"{"level":"info"}"#,
        r#"{"level":"info","_entry":"m2","x":}"#,
        r#"["x"]"#,
    ];
    same(r#"{a="b"} | unpack"#, &[("a", "b")], &packed, &["", "level"]);
    same(
        r#"{a="b"} | unpack | level="error""#,
        &[("a", "b"), ("level", "l")],
        &packed,
        &["", "level", "level_extracted"],
    );
}
