//! Parsers that extract labels from the line: `json`, `logfmt`, `regexp`, `pattern`, `unpack`,
//! with Loki's label-name sanitising.

pub(crate) mod json;
pub(crate) mod json_scanner;
pub(crate) mod logfmt;
pub(crate) mod pattern;
pub(crate) mod regexp;
pub(crate) mod unpack;

use std::borrow::Cow;

pub(crate) fn valid_label_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// Whether `s` holds U+FFFD (its bytes start with 0xEF, which most lines never contain).
#[inline]
pub(crate) fn has_replacement(s: &[u8]) -> bool {
    // (a short key or value is quicker to look over than to hand to a vector search)
    let lead = if s.len() <= 16 { s.contains(&0xEF) } else { memchr::memchr(0xEF, s).is_some() };
    lead && s.windows(3).any(|w| w == "\u{FFFD}".as_bytes())
}

/// `part` of `line` as text: a slice of it, so not validated again as UTF-8, when `part` lies
/// within it at character boundaries (as the parts a parser cuts at ASCII delimiters do);
/// otherwise decoded, invalid UTF-8 replaced.
#[inline]
pub(crate) fn as_text<'a>(line: &'a str, part: &'a [u8]) -> Cow<'a, str> {
    let (base, at) = (line.as_ptr() as usize, part.as_ptr() as usize);
    if at >= base
        && at + part.len() <= base + line.len()
        && let Some(s) = line.get(at - base..at - base + part.len())
    {
        return Cow::Borrowed(s);
    }
    String::from_utf8_lossy(part)
}

/// A parsed value (a part of `line`, or decoded from it) as a label value: invalid UTF-8 and
/// U+FFFD become spaces (as Loki's parsers do), borrowed when neither occurs.
#[inline]
pub(crate) fn label_value<'a>(line: &'a str, v: &'a [u8]) -> Cow<'a, str> {
    let s = as_text(line, v);
    if has_replacement(s.as_bytes()) { Cow::Owned(s.replace('\u{FFFD}', " ")) } else { s }
}

/// `sanitize_key(k, true)` without allocating when the key is already a valid name.
fn sanitize_key_cow(k: &str) -> Cow<'_, str> {
    let b = k.as_bytes();
    if !b.is_empty() && !b[0].is_ascii_digit() && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') {
        Cow::Borrowed(k)
    } else {
        Cow::Owned(sanitize_key(k, true))
    }
}

/// Loki's `sanitizeLabelKey`.
pub(crate) fn sanitize_key(key: &str, is_prefix: bool) -> String {
    let key = key.trim();
    if key.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(key.len() + 1);
    if is_prefix && key.as_bytes()[0].is_ascii_digit() {
        out.push('_');
    }
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use model::{Entry, Labels};

    use crate::ast::Stage;
    use crate::pipeline::Pipeline;

    fn run_stage(stage: Stage, stream: &[(&str, &str)], md: &[(&str, &str)], line: &str) -> (String, String) {
        let mut p = Pipeline::new(&[stage]).unwrap();
        let s = Labels::from_pairs(stream.iter().copied()).unwrap();
        let mut e = Entry::new(0, line);
        e.metadata = md.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let o = p.process(&s, &e).unwrap();
        (o.labels.to_string(), o.line)
    }

    fn json(stream: &[(&str, &str)], line: &str) -> String {
        run_stage(Stage::Json, stream, &[], line).0
    }

    fn logfmt(strict: bool, stream: &[(&str, &str)], line: &str) -> String {
        run_stage(Stage::Logfmt { strict, keep_empty: false }, stream, &[], line).0
    }

    #[test]
    fn json_parser() {
        assert_eq!(
            json(&[], r#"{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}}}"#),
            r#"{app="foo", namespace="prod", pod_deployment_ref="foobar", pod_uuid="foo"}"#
        );
        assert_eq!(
            json(&[("app", "foo"), ("pod_uuid", "foo")], r#"{"app":"bar","pod":{"uuid":"bar"}}"#),
            r#"{app="foo", app_extracted="bar", pod_uuid="foo", pod_uuid_extracted="bar"}"#
        );
        assert_eq!(
            json(&[], r#"{"counter":1, "price": {"_net_":5.56909}}"#),
            r#"{counter="1", price__net_="5.56909"}"#
        );
        assert_eq!(json(&[], r#"{" ": {"foo":"bar"}}"#), r#"{foo="bar"}"#);
        assert_eq!(json(&[], r#"{"counter":1,"foo":"foo\\\"bar"}"#), r#"{counter="1", foo="foo\\\"bar"}"#);
        assert_eq!(json(&[], r#"{"counter":1, "price": {"net_":["10","20"]}}"#), r#"{counter="1"}"#);
        assert_eq!(json(&[], r#"{"cou-nter":1}"#), r#"{cou_nter="1"}"#);
        assert_eq!(json(&[], r#"{"foo":{"cou-nter":1}}""#), r#"{foo_cou_nter="1"}"#);
        assert_eq!(
            json(&[], "{n}"),
            r#"{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol"}"#
        );
        let (l, _) = run_stage(Stage::Json, &[], &[("pod", "pod_sm")], r#"{"app":"foo","pod":"pod_parsed"}"#);
        assert_eq!(l, r#"{app="foo", pod="pod_sm", pod_extracted="pod_parsed"}"#);
    }

    #[test]
    fn json_expressions() {
        let st = |e: &[(&str, &str)]| Stage::JsonExpr(e.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect());
        let line = r#"{"app":"foo","pod":{"uuid":"foo"},"arr":[1,{"a":"b"}],"n":null,"t":true}"#;
        assert_eq!(
            run_stage(st(&[("uuid", "pod.uuid")]), &[("uuid", "bar")], &[], line).0,
            r#"{uuid="bar", uuid_extracted="foo"}"#
        );
        assert_eq!(run_stage(st(&[("x", "arr[1]")]), &[], &[], line).0, r#"{x="{\"a\":\"b\"}"}"#);
        assert_eq!(run_stage(st(&[("x", r#"arr[1]["a"]"#)]), &[], &[], line).0, r#"{x="b"}"#);
        assert_eq!(
            run_stage(st(&[("x", "n"), ("y", "t"), ("z", "nope")]), &[], &[], line).0,
            r#"{x="", y="true", z=""}"#
        );
        assert_eq!(run_stage(st(&[("x", "a")]), &[("foo", "bar")], &[], "").0, r#"{foo="bar"}"#);
        let t = "{\"app\":\"foo\",\"field with space\":\"value\",\"field with \u{dc}FT8\u{1f44c}\":\"value\",\"null_field\":null,\"bool_field\":false,\"namespace\":\"prod\",\"pod\":{\"uuid\":\"foo\",\"deployment\":{\"ref\":\"foobar\", \"params\": [1,2,3,\"string_value\"]}}}";
        for (expr, want) in [
            (r#"["field with space"]"#, "value"),
            ("[\"field with \u{dc}FT8\u{1f44c}\"]", "value"),
            (r#"pod["uuid"]"#, "foo"),
            (r#"["pod"]["uuid"]"#, "foo"),
            (r#"["pod"].uuid"#, "foo"),
            ("pod.deployment.params[0]", "1"),
            (r#"pod[""]"#, ""),
            (r#"pod.deployment.params[""]"#, ""),
            ("pod.deployment.params[3]", "string_value"),
            ("pod.deployment.params", r#"[1,2,3,"string_value"]"#),
            ("pod.deployment", r#"{"ref":"foobar", "params": [1,2,3,"string_value"]}"#),
            ("null_field", ""),
            ("bool_field", "false"),
        ] {
            let got = run_stage(st(&[("x", expr)]), &[], &[], t).0;
            assert_eq!(got, format!("{{x={}}}", model::quote_go(want)), "{expr}");
        }
        assert_eq!(
            run_stage(st(&[("x", "a")]), &[("foo", "bar")], &[], "invalid json").0,
            r#"{__error__="JSONParserErr", foo="bar"}"#
        );
    }

    #[test]
    fn label_format() {
        let lf = |fmts: &[(&str, &str, bool)]| {
            Stage::LabelFormat(
                fmts.iter()
                    .map(|(n, v, r)| crate::ast::LabelFmt { name: n.to_string(), value: v.to_string(), rename: *r })
                    .collect(),
            )
        };
        let base = [("foo", "blip"), ("bar", "blop")];
        assert_eq!(run_stage(lf(&[("baz", "foo", true)]), &base, &[], "x").0, r#"{bar="blop", baz="blip"}"#);
        assert_eq!(run_stage(lf(&[("bar", "foo", true)]), &base, &[], "x").0, r#"{bar="blip"}"#);
        assert_eq!(
            run_stage(lf(&[("blip", "{{.foo}} and {{.bar}}", false), ("bar", "foo", true)]), &base, &[], "x").0,
            r#"{bar="blip", blip="blip and blop"}"#
        );
        assert_eq!(
            run_stage(lf(&[("bar", "{{replace \"test\" .foo}}", false)]), &base, &[], "x").0,
            r#"{__error__="TemplateFormatErr", __error_details__="template: label:1:2: executing \"label\" at <replace>: wrong number of args for replace: want 3 got 2", bar="blop", foo="blip"}"#
        );
        assert_eq!(
            run_stage(lf(&[("bar", "{{ .foo | duration }}", false)]), &[("foo", "3m10s")], &[], "x").0,
            r#"{bar="190", foo="3m10s"}"#
        );
    }

    #[test]
    fn unpack() {
        let (l, line) = run_stage(
            Stage::Unpack,
            &[("cluster", "us-central1"), ("app", "bar")],
            &[],
            r#"{"bar":1,"app":"foo","namespace":"prod","_entry":"some message","pod":{"uid":"1"}}"#,
        );
        assert_eq!(l, r#"{app="bar", app_extracted="foo", cluster="us-central1", namespace="prod"}"#);
        assert_eq!(line, "some message");
        let (l, _) = run_stage(Stage::Unpack, &[("cluster", "x")], &[], r#"["foo","bar"]"#);
        assert_eq!(
            l,
            r#"{__error__="JSONParserErr", __error_details__="expecting json object(6), but it is not", cluster="x"}"#
        );
        let (l, line) =
            run_stage(Stage::Unpack, &[("foo", "bar")], &[], r#"{"foo.bar":"10ms","test-dash":"foo","_entry":"m"}"#);
        assert_eq!(l, r#"{foo="bar", foo_bar="10ms", test_dash="foo"}"#);
        assert_eq!(line, "m");
        let (l, line) = run_stage(Stage::Unpack, &[("app", "bar")], &[], r#"{"bar":1,"app":"foo"}"#);
        assert_eq!(l, r#"{app="bar"}"#);
        assert_eq!(line, r#"{"bar":1,"app":"foo"}"#);
        let (l, _) = run_stage(Stage::Unpack, &[], &[("app", "foo_sm")], r#"{"app":"foo","_entry":"m"}"#);
        assert_eq!(l, r#"{app="foo_sm", app_extracted="foo"}"#);
    }

    #[test]
    fn logfmt_expressions() {
        let st = |e: &[(&str, &str)]| Stage::LogfmtExpr {
            strict: false,
            keep_empty: false,
            exprs: e.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        };
        let line = "app=foo level=error spaces=\"value with \u{dc}FT8\u{1f44c}\" ts=2021-02-12T19:18:10.037940878Z";
        assert_eq!(run_stage(st(&[("test", "level")]), &[], &[], line).0, r#"{test="error"}"#);
        assert_eq!(run_stage(st(&[("nope", "nope")]), &[], &[], line).0, r#"{nope=""}"#);
        assert_eq!(
            run_stage(st(&[("app", "app")]), &[("app", "bar")], &[], line).0,
            r#"{app="bar", app_extracted="foo"}"#
        );
        assert_eq!(
            run_stage(st(&[("lvl", "level")]), &[("level", "debug")], &[], line).0,
            r#"{level="debug", lvl="error"}"#
        );
        assert_eq!(
            run_stage(st(&[("app", "app")]), &[], &[("app", "foo_sm")], line).0,
            r#"{app="foo_sm", app_extracted="foo"}"#
        );
        assert_eq!(
            run_stage(st(&[("spaces", "spaces")]), &[], &[], line).0,
            "{spaces=\"value with \u{dc}FT8\u{1f44c}\"}"
        );
    }

    #[test]
    fn logfmt_parser() {
        assert_eq!(
            logfmt(true, &[("foo", "bar")], "foobar====wqe=sdad1r"),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 8 : unexpected '='", foo="bar"}"#
        );
        assert_eq!(logfmt(false, &[("foo", "bar")], "foobar====wqe=sdad1r"), r#"{foo="bar"}"#);
        assert_eq!(logfmt(false, &[], "buzz=foo bar=\u{FFFD}f"), r#"{bar=" f", buzz="foo"}"#);
        assert_eq!(logfmt(false, &[("foo", "bar")], "buzz bar=foo"), r#"{bar="foo", foo="bar"}"#);
        assert_eq!(logfmt(false, &[("a", "b")], r#"foobar="foo\nbar\tbaz""#), r#"{a="b", foobar="foo\nbar\tbaz"}"#);
        assert_eq!(logfmt(false, &[("a", "b")], r#"foobar="foo ba\\r baz""#), r#"{a="b", foobar="foo ba\\r baz"}"#);
        assert_eq!(
            logfmt(false, &[("foo", "bar")], r#"foobar="foo bar" foobar=10ms"#),
            r#"{foo="bar", foobar="foo bar"}"#
        );
        assert_eq!(
            logfmt(false, &[("foo", "bar")], r#"foo="foo bar" foo.bar=10ms test-dash=foo"#),
            r#"{foo="bar", foo_bar="10ms", foo_extracted="foo bar", test_dash="foo"}"#
        );
        assert_eq!(
            logfmt(true, &[("foo", "bar")], r#"foo="foo bar" =notkey bar=10ms"#),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 15 : unexpected '='", foo="bar", foo_extracted="foo bar"}"#
        );
        assert_eq!(
            logfmt(true, &[("foo", "bar")], "foo=\"foo bar\" b\u{FFFD}r=10ms"),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 20 : invalid key", foo="bar", foo_extracted="foo bar"}"#
        );
        assert_eq!(
            logfmt(true, &[("foo", "bar")], r#"foo="foo bar" bu"zz=10ms"#),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 17 : unexpected '\"'", foo="bar", foo_extracted="foo bar"}"#
        );
        assert_eq!(
            logfmt(true, &[("foo", "bar")], r#"bar=bu=zz foo="foo bar""#),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 7 : unexpected '='", foo="bar"}"#
        );
    }
}
