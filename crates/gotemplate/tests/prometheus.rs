//! Prometheus' template functions: the inputs and expected outputs of Prometheus' own
//! `template_test.go` (TestTemplateExpansion), run through the Prometheus function set.

use std::sync::Arc;

use gotemplate::{FuncSet, NoHost, Value};

fn expand(text: &str, dot: Value) -> Result<String, String> {
    FuncSet::Prometheus.parse(text, "test")?.execute_with(&dot, &NoHost, &[])
}

fn ok(text: &str) -> String {
    expand(text, Value::Nil).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn floats(v: &[f64]) -> Value {
    Value::List(Arc::new(v.iter().map(|f| Value::Float(*f)).collect()))
}
fn ints(v: &[i64]) -> Value {
    Value::List(Arc::new(v.iter().map(|i| Value::Int(*i)).collect()))
}
fn strs(v: &[&str]) -> Value {
    Value::List(Arc::new(v.iter().map(|s| Value::Str(s.to_string())).collect()))
}

fn each(f: &str, input: Value) -> String {
    expand(&format!("{{{{ range . }}}}{{{{ {f} . }}}}:{{{{ end }}}}"), input).unwrap()
}

#[test]
fn plain_values_and_missing_fields() {
    assert_eq!(ok("plain text"), "plain text");
    assert_eq!(ok("{{ 1 }}"), "1");
    assert_eq!(ok("{{ \"<b>\" }}"), "<b>");
    assert_eq!(ok("{{ \"<b>\" | safeHtml }}"), "<b>");
    // Missing value on nil data is <no value>.
    assert_eq!(ok("{{ .Foo }}"), "<no value>");
    assert_eq!(
        expand("{{\u{a0}}}", Value::Nil).unwrap_err(),
        "template: test:1: unrecognized character in action: U+00A0"
    );
    assert_eq!(expand("{{", Value::Nil).unwrap_err(), "template: test:1: unclosed action");
    assert_eq!(ok("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}"), "xa");
}

#[test]
fn humanize() {
    assert_eq!(each("humanize", floats(&[0.0, 1.0, 1234567.0, 0.12])), "0:1:1.235M:120m:");
    assert_eq!(each("humanize", strs(&["0.0", "1.0", "1234567.0", ".12"])), "0:1:1.235M:120m:");
    assert_eq!(each("humanize", ints(&[0, -1, 1, 1234567, i64::MAX])), "0:-1:1:1.235M:9.223E:");
    assert_eq!(
        expand(r#"{{ humanize "one" }}"#, Value::Nil).unwrap_err(),
        r#"template: test:1:3: executing "test" at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax"#
    );
}

#[test]
fn humanize1024() {
    assert_eq!(each("humanize1024", floats(&[0.0, 1.0, 1048576.0, 0.12])), "0:1:1Mi:0.12:");
    assert_eq!(each("humanize1024", strs(&["0.0", "1.0", "1048576.0", ".12"])), "0:1:1Mi:0.12:");
    assert_eq!(each("humanize1024", ints(&[0, -1, 1, 1234567, i64::MAX])), "0:-1:1:1.177Mi:8Ei:");
    assert!(
        expand(r#"{{ humanize1024 "one" }}"#, Value::Nil)
            .unwrap_err()
            .ends_with("error calling humanize1024: strconv.ParseFloat: parsing \"one\": invalid syntax")
    );
}

#[test]
fn humanize_duration() {
    assert_eq!(
        each(
            "humanizeDuration",
            floats(&[
                0.0,
                1.0,
                60.0,
                3600.0,
                86400.0,
                86400.0 + 3600.0,
                -(86400.0 * 2.0 + 3600.0 * 3.0 + 240.0 + 5.0),
                899.99
            ])
        ),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:"
    );
    assert_eq!(each("humanizeDuration", strs(&["0", "1", "60", "3600", "86400"])), "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:");
    assert_eq!(
        each("humanizeDuration", floats(&[0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345])),
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"
    );
    assert_eq!(
        each("humanizeDuration", strs(&[".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"])),
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"
    );
    assert_eq!(each("humanizeDuration", ints(&[0, -1, 1, 1234567])), "0s:-1s:1s:14d 6h 56m 7s:");
    assert_eq!(ok("{{ humanizeDuration 90061 }}"), "1d 1h 1m 1s");
    assert!(
        expand(r#"{{ humanizeDuration "one" }}"#, Value::Nil)
            .unwrap_err()
            .ends_with("error calling humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax")
    );
}

#[test]
fn inf_and_nan() {
    let t =
        "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}";
    let want = "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:";
    assert_eq!(expand(t, floats(&[f64::INFINITY, f64::NEG_INFINITY, f64::NAN])).unwrap(), want);
    assert_eq!(expand(t, strs(&["+Inf", "-Inf", "NaN"])).unwrap(), want);
}

#[test]
fn humanize_percentage() {
    assert_eq!(
        ok(
            "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}"
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(
        each("humanizePercentage", ints(&[0, -1, 1, 1234567, i64::MAX])),
        "0%:-100%:100%:1.235e+08%:9.223e+20%:"
    );
    assert_eq!(
        ok(
            r#"{{ "-0.22222" | humanizePercentage }}:{{ "0.0" | humanizePercentage }}:{{ "0.1234567" | humanizePercentage }}:{{ "1.23456" | humanizePercentage }}"#
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(ok("{{ humanizePercentage 0.1234 }}"), "12.34%");
    assert_eq!(
        expand(r#"{{ "one" | humanizePercentage }}"#, Value::Nil).unwrap_err(),
        r#"template: test:1:11: executing "test" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax"#
    );
}

#[test]
fn humanize_timestamp() {
    assert_eq!(
        each("humanizeTimestamp", ints(&[0, -1, 1, 1234567, 9223372036])),
        "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:"
    );
    assert_eq!(
        expand("{{ range . }}{{ humanizeTimestamp . }}:{{ end }}", ints(&[i64::MIN, i64::MAX])).unwrap_err(),
        r#"template: test:1:16: executing "test" at <humanizeTimestamp .>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64"#
    );
    assert_eq!(ok("{{ 1435065584.128 | humanizeTimestamp }}"), "2015-06-23 13:19:44.128 +0000 UTC");
    assert_eq!(ok(r#"{{ "1435065584.128" | humanizeTimestamp }}"#), "2015-06-23 13:19:44.128 +0000 UTC");
    assert_eq!(ok("{{ 1435065584.128 | toTime }}"), "2015-06-23 13:19:44.128 +0000 UTC");
}

#[test]
fn strings_regexes_and_links() {
    assert_eq!(ok("{{ \"aa bb CC\" | title }}"), "Aa Bb CC");
    assert_eq!(ok("{{ \"aa bb CC\" | toUpper }}"), "AA BB CC");
    assert_eq!(ok("{{ \"aA bB CC\" | toLower }}"), "aa bb cc");
    assert_eq!(ok("{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}"), "true false");
    assert_eq!(ok("{{ graphLink \"up\" }}"), "/graph?g0.expr=up&g0.tab=0");
    assert_eq!(ok("{{ tableLink \"up\" }}"), "/graph?g0.expr=up&g0.tab=1");
    assert_eq!(ok("{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}"), "3720.01");
    assert_eq!(
        expand(r#"{{ reReplaceAll "(" "x" "y" }}"#, Value::Nil).unwrap_err(),
        "template: test:1:3: executing \"test\" at <reReplaceAll \"(\" \"x\" \"y\">: error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`"
    );
    assert!(
        expand(r#"{{ match "[" "y" }}"#, Value::Nil)
            .unwrap_err()
            .ends_with("error calling match: error parsing regexp: missing closing ]: `[`")
    );
}

#[test]
fn strip_port_and_domain() {
    for (input, port, domain) in [
        ("foo.example.com", "foo.example.com", "foo"),
        ("foo.example.com:12345", "foo.example.com", "foo:12345"),
        ("192.0.2.1", "192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:12345", "192.0.2.1", "192.0.2.1:12345"),
        ("2001:0DB8::1", "2001:0DB8::1", "2001:0DB8::1"),
        ("[2001:0DB8::1]:12345", "2001:0DB8::1", "[2001:0DB8::1]:12345"),
        ("[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345"),
    ] {
        assert_eq!(ok(&format!("{{{{ {input:?} | stripPort }}}}")), port, "stripPort {input}");
        assert_eq!(ok(&format!("{{{{ {input:?} | stripDomain }}}}")), domain, "stripDomain {input}");
    }
}

#[test]
fn query_functions_are_refused_by_name() {
    for f in ["query", "first", "value", "strvalue", "sortByLabel"] {
        let e = FuncSet::Prometheus.parse(&format!("x\n{{{{ {f} \"up\" }}}}"), "test").unwrap_err();
        assert_eq!(
            e,
            format!(
                "template: test:2: function \"{f}\" is not supported: it needs a PromQL query engine, which alert templates here do not have"
            )
        );
    }
    assert!(FuncSet::Prometheus.parse("{{ nope }}", "t").unwrap_err().contains("function \"nope\" not defined"));
    // Loki's functions are not Prometheus' and the other way round.
    assert!(FuncSet::Prometheus.parse("{{ upper \"a\" }}", "t").is_err());
    assert!(FuncSet::Sprig.parse("{{ humanize 1 }}", "t").is_err());
}
