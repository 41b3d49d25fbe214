//! Throws random text and random token soups at the parser: it must never panic, and whatever
//! it accepts must print to something it accepts again.

use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[5m]",
    "[1h30m]",
    "[",
    "]",
    ",",
    ".",
    "=",
    "!=",
    "=~",
    "!~",
    "|=",
    "|~",
    "|>",
    "!>",
    "|",
    "==",
    ">",
    ">=",
    "<",
    "<=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "app",
    "level",
    "\"x\"",
    "`(?P<a>.)`",
    "\"<a> <_>\"",
    "1",
    "0.5",
    "-1",
    "5m",
    "10KB",
    "1e3",
    "0x1p3",
    "by",
    "without",
    "bool",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "or",
    "and",
    "unless",
    "json",
    "logfmt",
    "--strict",
    "--keep-empty",
    "regexp",
    "pattern",
    "unpack",
    "line_format",
    "label_format",
    "decolorize",
    "drop",
    "keep",
    "unwrap",
    "ip",
    "rate",
    "count_over_time",
    "quantile_over_time",
    "sum",
    "topk",
    "sort",
    "vector",
    "label_replace",
    "bytes",
    "duration",
    "absent_over_time",
    "#c\n",
    "__error__",
    "\"{{.a}}\"",
    "\"",
    "`",
    "'",
    "\\",
    "µ",
];

fn check(q: &str) {
    if let Ok(e) = logql::parse(q) {
        let s = e.to_string();
        let _ = logql::format_query(q);
        if let Ok((_, mut p)) = logql::log_pipeline(&e) {
            let labels = model::Labels::from_pairs([("app", "x"), ("a", "1")]).unwrap();
            for line in [r#"{"a":{"b":1},"c":"d"}"#, "a=1 b=\"x y\" c", "GET /x 200 1.5s", "", "\u{1b}[31mred"] {
                let mut entry = model::Entry::new(7, line);
                entry.metadata.make_mut().push(("m".into(), "v".into()));
                let _ = p.process(&labels, &entry);
            }
        }
        if let Ok(e2) = logql::parse(&s) {
            let s2 = e2.to_string();
            // printing is a fixed point after one round
            assert_eq!(s2, logql::parse(&s2).map(|e| e.to_string()).unwrap_or(s2.clone()), "{q}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000), .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(q in "\\PC{0,80}") {
        check(&q);
    }

    #[test]
    fn token_soup_never_panics(idx in proptest::collection::vec(0..TOKENS.len(), 0..25), sep in prop_oneof![Just(" "), Just("")]) {
        let q: Vec<&str> = idx.iter().map(|i| TOKENS[*i]).collect();
        check(&q.join(sep));
    }

    #[test]
    fn near_valid_queries_never_panic(
        a in 0..TOKENS.len(),
        pos in 0usize..60,
        base in prop::sample::select(vec![
            r#"sum by (a) (rate({app="x"} |= "e" | json | x > 5 [5m]))"#,
            r#"quantile_over_time(0.5, {app="x"} | logfmt | unwrap duration(d) | __error__="" [1m]) by (a)"#,
            r#"{app="x"} | line_format "{{.a | upper}}" | label_format b=a, c="{{.d}}" | drop e, f="g""#,
            r#"topk(3, count_over_time({app="x"}[1m])) / on (a) group_left (b) vector(2)"#,
        ]),
    ) {
        let mut q = base.to_string();
        let p = pos.min(q.len());
        if q.is_char_boundary(p) {
            q.insert_str(p, TOKENS[a]);
        }
        check(&q);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000), .. ProptestConfig::default() })]

    #[test]
    fn templates_never_panic(body in "[{}a-zA-Z0-9 .|\"()$:=_,`-]{0,40}", f in prop::sample::select(vec![
        "", "upper", "printf", "substr", "trunc", "div", "mod", "regexReplaceAll", "date", "unixToTime", "alignLeft",
        "b64dec", "urldecode", "default", "eq", "index", "if", "end", "else", "range", "__line__", "__timestamp__",
    ])) {
        let t = format!("{{{{ {f} {body} }}}}x{{{{.a}}}}");
        if let Ok(tpl) = logql::Template::parse(&t) {
            let labels: std::collections::HashMap<String, String> =
                [("a".to_string(), "1".to_string()), ("b".to_string(), "x y".to_string())].into_iter().collect();
            let _ = tpl.execute(&logql::TemplateContext { labels: &labels, line: "line", ts: 1 });
        }
        let _ = logql::Template::parse(&body);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(5000), .. ProptestConfig::default() })]

    #[test]
    fn unit_parsers_never_panic(s in "[0-9.µa-zA-Z+-]{0,40}") {
        let _ = logql::parse_go_duration(&s);
        let _ = model::duration::parse_prom_duration(&s);
        let _ = logql::parse_bytes(&s);
        let _ = logql::parse_go_float(&s);
        if let Ok(d) = logql::parse_go_duration(&s) {
            let _ = logql::format_go_duration(d);
        }
    }

    #[test]
    fn engine_never_panics(q in "\\PC{0,60}", start in -1_000_000_000_000i64..1_000_000_000_000, len in 0i64..100_000_000_000, step in -5i64..5_000_000_000) {
        let m = logql::MemorySource::new();
        m.push(model::Labels::from_pairs([("app", "a")]).unwrap(), vec![model::Entry::new(1, "a=1 b=x"), model::Entry::new(5_000_000_000, "{\"a\":2}")]);
        for query in [q.as_str(), "sum by (a) (rate({app=\"a\"} | logfmt [1s]))", "{app=\"a\"} | json"] {
            let p = logql::QueryParams { query: query.into(), start, end: start + len, step, ..logql::QueryParams::default() };
            let _ = logql::Engine::default().query(&m, &p);
        }
    }
}
