//! Parse error wording and positions, as Loki reports them.

use logql::parse;

const CASES: &[(&str, &str)] = &[
    ("unk({ foo = \"bar\" }[5m])", "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"),
    (
        "absent_over_time({ foo = \"bar\" }[5h]) by (foo)",
        "parse error : grouping not allowed for absent_over_time aggregation",
    ),
    (
        "approx_topk(2, count_over_time({ foo = \"bar\" }[5h])) by (foo)",
        "parse error : grouping not allowed for approx_topk aggregation",
    ),
    (
        "rate({ foo = \"bar\" }[5minutes])",
        "parse error at line 0, col 21: unknown unit \"minutes\" in duration \"5minutes\"",
    ),
    (
        "label_replace(rate({ foo = \"bar\" }[5m]),\"\")",
        "parse error at line 1, col 43: syntax error: unexpected ), expecting ,",
    ),
    (
        "label_replace(rate({ foo = \"bar\" }[5m]),\"foo\",\"$1\",\"bar\",\"^^^^x43\\\\q\")",
        "parse error : invalid regex in label_replace: error parsing regexp: invalid escape sequence: `\\q`",
    ),
    ("rate({ foo = \"bar\" }[5)", "parse error at line 0, col 21: missing closing ']' in duration"),
    ("min({ foo = \"bar\" }[5m])", "parse error at line 0, col 20: syntax error: unexpected RANGE"),
    (
        "avg(\n\t\t\t\t\tlabel_replace(\n\t\t\t\t\t\tcount_over_time({ foo = \"bar\" }[5h]) or 0,\n\t\t\t\t\t\t\"bar\",\n\t\t\t\t\t\t\"$1$2\",\n\t\t\t\t\t\t\"foo\",\n\t\t\t\t\t\t\"(.*).(.*)\"\n\t\t\t\t\t)\n\t\t\t\t) by (bar,foo)",
        "parse error : unexpected literal for right leg of logical/set binary operation (or): 0.000000",
    ),
    (
        "avg(\n\t\t\t\t\tlabel_replace(\n\t\t\t\t\t\tcount_over_time({ foo = \"bar\" }[5h]) or sum_over_time({ foo = \"bar\" }[5h]),\n\t\t\t\t\t\t\"bar\",\n\t\t\t\t\t\t\"$1$2\",\n\t\t\t\t\t\t\"foo\",\n\t\t\t\t\t\t\"(.*).(.*)\"\n\t\t\t\t\t)\n\t\t\t\t) by (bar,foo)",
        "parse error : invalid aggregation sum_over_time without unwrap",
    ),
    ("{ foo = \"bar\" }|logfmt|addr>=ip(\"1.2.3.4\")", "parse error at line 1, col 30: syntax error: unexpected ip"),
    ("{ foo = \"bar\" }|logfmt|addr>ip(\"1.2.3.4\")", "parse error at line 1, col 29: syntax error: unexpected ip"),
    ("{ foo = \"bar\" }|logfmt|addr<=ip(\"1.2.3.4\")", "parse error at line 1, col 30: syntax error: unexpected ip"),
    ("{ foo = \"bar\" }|logfmt|addr<ip(\"1.2.3.4\")", "parse error at line 1, col 29: syntax error: unexpected ip"),
    ("sum(3 ,count_over_time({ foo = \"bar\" }[5h]))", "parse error : unsupported parameter for operation sum(3,"),
    ("topk(count_over_time({ foo = \"bar\" }[5h]))", "parse error : parameter required for operation topk"),
    (
        "bottomk(he,count_over_time({ foo = \"bar\" }[5h]))",
        "parse error at line 1, col 9: syntax error: unexpected IDENTIFIER",
    ),
    ("bottomk(1.2,count_over_time({ foo = \"bar\" }[5h]))", "parse error : invalid parameter bottomk(1.2,"),
    ("stddev({ foo = \"bar\" })", "parse error at line 1, col 23: syntax error: unexpected )"),
    ("{foo=\"bar}", "parse error at line 1, col 6: literal not terminated"),
    ("{foo=\"bar\"", "parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ,"),
    ("{foo=\"bar\"} |~", "parse error at line 1, col 15: syntax error: unexpected $end, expecting STRING or ip"),
    ("{foo=\"bar\"} \"foo\"", "parse error at line 1, col 13: syntax error: unexpected STRING"),
    ("{foo=\"bar\"} foo", "parse error at line 1, col 13: syntax error: unexpected IDENTIFIER"),
    (
        "{app=\"foo\"} | logfmt | status_code > 0x10",
        "parse error : unable to parse literal as a float: strconv.ParseFloat: parsing \"0x10\": invalid syntax",
    ),
    ("{app=~\" ¡\"}", "parse error at line 1, col 7: invalid UTF-8 encoding"),
    (
        "sum_over_time({app=\"foo\"} |= \"bar\" | json | latency >= 250ms or ( status_code < 500 and status_code > 200)\n\t\t\t| line_format \"blip{{ .foo }}blop {{.status_code}}\" | label_format foo=bar,status_code=\"buzz{{.bar}}\"[5m])",
        "parse error : invalid aggregation sum_over_time without unwrap",
    ),
    (
        "count_over_time({app=\"foo\"} |= \"foo\" | json | unwrap foo [5m])",
        "parse error : invalid aggregation count_over_time with unwrap",
    ),
    (
        "{foo=\"bar\"} + {foo=\"bar\"}",
        "parse error : unexpected type for left leg of binary operation (+): *syntax.MatchersExpr",
    ),
    (
        "sum(count_over_time({foo=\"bar\"}[5m])) by (foo) - {foo=\"bar\"}",
        "parse error : unexpected type for right leg of binary operation (-): *syntax.MatchersExpr",
    ),
    (
        "{foo=\"bar\"} / sum(count_over_time({foo=\"bar\"}[5m])) by (foo)",
        "parse error : unexpected type for left leg of binary operation (/): *syntax.MatchersExpr",
    ),
    (
        "sum(count_over_time({foo=\"bar\"}[5m])) by (foo) or 1",
        "parse error : unexpected literal for right leg of logical/set binary operation (or): 1.000000",
    ),
    (
        "1 unless sum(count_over_time({foo=\"bar\"}[5m])) by (foo)",
        "parse error : unexpected literal for left leg of logical/set binary operation (unless): 1.000000",
    ),
    (
        "sum(count_over_time({foo=\"bar\"}[5m])) by (foo) + 1 or 1",
        "parse error : unexpected literal for right leg of logical/set binary operation (or): 1.000000",
    ),
    (
        "count_over_time({ foo = \"bar\" }[12m]) > { foo = \"bar\" }",
        "parse error : unexpected type for right leg of binary operation (>): *syntax.MatchersExpr",
    ),
    ("bool 1 > 1 > bool 1", "parse error at line 1, col 1: syntax error: unexpected bool"),
    (
        "sum_over_time({namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap latency [5m]) by (foo)",
        "parse error : grouping not allowed for sum_over_time aggregation",
    ),
    (
        "sum_over_time(50,{namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap latency [5m])",
        "parse error : parameter 50 not supported for operation sum_over_time",
    ),
    (
        "quantile_over_time({namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap latency [5m])",
        "parse error : parameter required for operation quantile_over_time",
    ),
    (
        "quantile_over_time(foo,{namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap latency [5m])",
        "parse error at line 1, col 20: syntax error: unexpected IDENTIFIER, expecting NUMBER or { or (",
    ),
    ("vector(abc)", "parse error at line 1, col 8: syntax error: unexpected IDENTIFIER, expecting NUMBER"),
    ("#{app=\"foo\"} | json", "parse error at line 1, col 20: syntax error: unexpected $end"),
    (
        "count without (rate({namespace=\"apps\"}[15s]))",
        "parse error at line 1, col 16: syntax error: unexpected RATE, expecting IDENTIFIER or )",
    ),
    (
        r#"count_over_time({foo!="bar"}[5m])"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
    (
        r#"count_over_time({app=~".*"}[5m])"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
    (
        r#"count_over_time({app!~"bar|baz"}[5m])"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
    (
        r#"1 + count_over_time({app=~".*"}[5m])"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
    (
        r#"1 + count_over_time({app=~".+"}[5m]) + count_over_time({app=~".*"}[5m])"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
    (
        r#"1 + count_over_time({app=~".+"}[5m]) + count_over_time({app=~".*"}[5m]) + 1"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
    (
        r#"{foo!="bar"}"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
    (
        r#"{app=~".*"}"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
    (
        r#"{foo!~"bar|baz"}"#,
        "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
    ),
];

#[test]
fn parse_errors() {
    let mut bad = Vec::new();
    for (q, want) in CASES {
        match parse(q) {
            Ok(e) => bad.push(format!("{q}\n  want: {want}\n  got ok: {e}")),
            Err(e) if e.to_string() != *want => bad.push(format!("{q}\n  want: {want}\n  got:  {e}")),
            Err(_) => {}
        }
    }
    for b in &bad {
        println!("{b}");
    }
    println!("parse errors: {} of {} differ", bad.len(), CASES.len());
    assert!(bad.len() <= MAX_DIFFERENT, "{} parse errors differ from Loki", bad.len());
}

// The one difference: Rust strings cannot carry invalid UTF-8.
const MAX_DIFFERENT: usize = 1;
