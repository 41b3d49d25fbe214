//! `line_format` templates: behaviour of Loki's formatter on known inputs.

use std::collections::HashMap;

use logql::{Template, TemplateContext as Ctx};

#[allow(clippy::type_complexity)]
const CASES: &[(&str, &str, &[(&str, &str)], i64, &str)] = &[
    ("count", "{{.foo | count \"abc\" }}", &[("foo", "abc abc abc"), ("bar", "blop")], 0, "3"),
    ("count regex", "{{.foo | count \"a|b|c\" }}", &[("foo", "abc abc abc"), ("bar", "blop")], 0, "9"),
    ("combining", "foo{{.foo}}buzz{{  .bar  }}", &[("foo", "blip"), ("bar", "blop")], 0, "fooblipbuzzblop"),
    (
        "Replace",
        "foo{{.foo}}buzz{{ Replace .bar \"blop\" \"bar\" -1 }}",
        &[("foo", "blip"), ("bar", "blop")],
        0,
        "fooblipbuzzbar",
    ),
    (
        "replace",
        "foo{{.foo}}buzz{{ .bar | replace \"blop\" \"bar\" }}",
        &[("foo", "blip"), ("bar", "blop")],
        0,
        "fooblipbuzzbar",
    ),
    ("title", "{{.foo | title }}", &[("foo", "blip"), ("bar", "blop")], 0, "Blip"),
    (
        "substr and trunc",
        "{{.foo | substr 1 3 }} {{ .bar  | trunc 1 }} {{ .bar  | trunc 3 }}",
        &[("foo", "blip"), ("bar", "blop")],
        0,
        "li b blo",
    ),
    (
        "trim",
        "{{.foo | trim }} {{ .bar  | trimAll \"op\" }} {{ .bar  | trimPrefix \"b\" }} {{ .bar  | trimSuffix \"p\" }}",
        &[("foo", "  blip "), ("bar", "blop")],
        0,
        "blip bl lop blo",
    ),
    ("lower and upper", "{{.foo | lower }} {{ .bar  | upper }}", &[("foo", "BLIp"), ("bar", "blop")], 0, "blip BLOP"),
    ("repeat", "{{ \"foo\" | repeat 3 }}", &[("foo", "BLIp"), ("bar", "blop")], 0, "foofoofoo"),
    ("indent", "{{ \"foo\\n bar\" | indent 4 }}", &[("foo", "BLIp"), ("bar", "blop")], 0, "    foo\n     bar"),
    ("nindent", "{{ \"foo\" | nindent 2 }}", &[("foo", "BLIp"), ("bar", "blop")], 0, "\n  foo"),
    (
        "contains",
        "{{ if  .foo | contains \"p\"}}yes{{end}}-{{ if  .foo | contains \"z\"}}no{{end}}",
        &[("foo", "BLIp"), ("bar", "blop")],
        0,
        "yes-",
    ),
    (
        "hasPrefix",
        "{{ if  .foo | hasPrefix \"BL\" }}yes{{end}}-{{ if  .foo | hasPrefix \"p\"}}no{{end}}",
        &[("foo", "BLIp"), ("bar", "blop")],
        0,
        "yes-",
    ),
    (
        "hasSuffix",
        "{{ if  .foo | hasSuffix \"Ip\" }}yes{{end}}-{{ if  .foo | hasSuffix \"pw\"}}no{{end}}",
        &[("foo", "BLIp"), ("bar", "blop")],
        0,
        "yes-",
    ),
    ("regexReplaceAll", "{{ regexReplaceAll \"(p)\" .foo \"t\" }}", &[("foo", "BLIp"), ("bar", "blop")], 0, "BLIt"),
    (
        "regexReplaceAllLiteral",
        "{{ regexReplaceAllLiteral \"(p)\" .foo \"${1}\" }}",
        &[("foo", "BLIp"), ("bar", "blop")],
        0,
        "BLI${1}",
    ),
    ("missing", "foo {{.foo}}buzz{{  .bar  }}", &[("bar", "blop")], 0, "foo buzzblop"),
    (
        "function",
        "foo {{.foo | ToUpper }} buzz{{  .bar  }}",
        &[("foo", "blip"), ("bar", "blop")],
        0,
        "foo BLIP buzzblop",
    ),
    (
        "mathint",
        "{{ add .foo 1 | sub .bar | mul .baz | div .bazz}}",
        &[("foo", "1"), ("bar", "3"), ("baz", "10"), ("bazz", "20")],
        0,
        "2",
    ),
    (
        "mathfloat",
        "{{ addf .foo 1.5 | subf .bar 1.5 | mulf .baz | divf .bazz }}",
        &[("foo", "1.5"), ("bar", "5"), ("baz", "10.5"), ("bazz", "20.2")],
        0,
        "3.8476190476190477",
    ),
    (
        "mathfloatround",
        "{{ round (addf .foo 1.5 | subf .bar | mulf .baz | divf .bazz) 5 .2}}",
        &[("foo", "1.5"), ("bar", "3.5"), ("baz", "10.5"), ("bazz", "20.4")],
        0,
        "3.88572",
    ),
    (
        "min",
        "min is {{ min .foo .bar .baz }} and max is {{ max .foo .bar .baz }}",
        &[("foo", "5"), ("bar", "10"), ("baz", "15")],
        0,
        "min is 5 and max is 15",
    ),
    (
        "max",
        "minf is {{ minf .foo .bar .baz }} and maxf is {{maxf .foo .bar .baz}}",
        &[("foo", "5.3"), ("bar", "10.5"), ("baz", "15.2")],
        0,
        "minf is 5.3 and maxf is 15.2",
    ),
    (
        "ceilfloor",
        "ceil is {{ ceil .foo }} and floor is {{floor .foo }}",
        &[("foo", "5.3")],
        0,
        "ceil is 6 and floor is 5",
    ),
    ("mod", "mod is {{ mod .foo 3 }}", &[("foo", "20")], 0, "mod is 2"),
    ("float64int", "{{ \"2.5\" | float64 | int | add 10}}", &[("foo", "2.5")], 0, "12"),
    ("line", "{{ __line__ }} bar {{ .bar }}", &[("bar", "2")], 0, "1 bar 2"),
    (
        "default",
        "{{.foo | default \"-\" }}{{.bar | default \"-\"}}{{.unknown | default \"-\"}}",
        &[("foo", "blip"), ("bar", "")],
        0,
        "blip--",
    ),
    (
        "timestamp",
        "{{ __timestamp__ | date \"2006-01-02\" }} bar {{ .bar }}",
        &[("bar", "2")],
        1656331200000000000,
        "2022-06-27 bar 2",
    ),
    (
        "timestamp_unix",
        "{{ __timestamp__ | unixEpoch }} bar {{ .bar }}",
        &[("bar", "2")],
        1656353124120000000,
        "1656353124 bar 2",
    ),
    ("bytes 1", "{{ .foo | bytes }}", &[("foo", "3 kB")], 1656353124120000000, "3000"),
    ("bytes 2", "{{ .foo | bytes }}", &[("foo", "3MB")], 1656353124120000000, "3e+06"),
    ("duration 1", "{{ .foo | duration }}", &[("foo", "3ms")], 1656353124120000000, "0.003"),
    ("duration 2", "{{ .foo | duration_seconds }}", &[("foo", "3m10s")], 1656353124120000000, "190"),
    (
        "toDateInZone",
        "{{ .foo | toDateInZone \"2006-01-02T15:04:05.999999999Z\" \"UTC\" | unixEpochMillis }}",
        &[("foo", "2023-03-10T01:32:40.340485723Z")],
        1656353124120000000,
        "1678411960340",
    ),
    (
        "unixEpochMillis",
        "{{ .foo | toDateInZone \"2006-01-02T15:04:05.999999999Z\" \"UTC\" | unixEpochMillis }}",
        &[("foo", "2023-03-10T01:32:40.340485723Z")],
        1656353124120000000,
        "1678411960340",
    ),
    (
        "unixEpochNanos",
        "{{ .foo | toDateInZone \"2006-01-02T15:04:05.999999999Z\" \"UTC\" | unixEpochNanos }}",
        &[("foo", "2023-03-10T01:32:40.340485723Z")],
        1656353124120000000,
        "1678411960340485723",
    ),
    (
        "base64encode",
        "{{ .foo | b64enc }}",
        &[("foo", "i'm a string, encode me!")],
        1656353124120000000,
        "aSdtIGEgc3RyaW5nLCBlbmNvZGUgbWUh",
    ),
    (
        "base64decode",
        "{{ .foo | b64dec }}",
        &[("foo", "aSdtIGEgc3RyaW5nLCBlbmNvZGUgbWUh")],
        1656353124120000000,
        "i'm a string, encode me!",
    ),
    (
        "base64decode missing padding",
        "{{ .foo | b64dec }} {{ .bar | b64dec }}",
        &[("foo", "Zm9vYmE"), ("bar", "Zm9vYg")],
        1656353124120000000,
        "fooba foob",
    ),
    ("alignLeft", "{{ alignLeft 4 .foo }}", &[("foo", "hello")], 1656353124120000000, "hell"),
    ("alignRight", "{{ alignRight 4 .foo }}", &[("foo", "hello")], 1656353124120000000, "ello"),
    ("simple key template", "{{.foo}}", &[("foo", "bar")], 0, "bar"),
    ("simple key template with space", "{{.foo}}  ", &[("foo", "bar")], 0, "bar  "),
];

#[test]
fn line_format_cases() {
    let mut bad = Vec::new();
    for (name, tpl, labels, ts, want) in CASES {
        let m: HashMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let got = Template::parse(tpl).and_then(|t| t.execute(&Ctx { labels: &m, line: "1", ts: *ts }));
        match got {
            Ok(g) if g == *want => {}
            other => bad.push(format!("{name}: {tpl}\n   want {want:?}\n   got  {other:?}")),
        }
    }
    for b in &bad {
        println!("{b}");
    }
    println!("templates: {} of {} differ", bad.len(), CASES.len());
    assert!(bad.is_empty(), "template output differs from Loki");
}
