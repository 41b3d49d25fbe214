//! Alert rule templates as Prometheus expands them: `$labels`, `$value`, `$externalLabels`,
//! `$externalURL`, `.Labels`/`.Value`, and the language's constructs.

use std::collections::BTreeMap;

use gotemplate::{check_alert_template, expand_alert_template};

fn labels(p: &[(&str, &str)]) -> BTreeMap<String, String> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn expand(text: &str, value: f64) -> Result<String, String> {
    let l = labels(&[("app", "web"), ("instance", "host-1.example.com:9100"), ("severity", "page")]);
    let ext = labels(&[("cluster", "eu1")]);
    expand_alert_template(text, &l, value, &ext, "http://bitacora.example:3100/prefix")
}

fn ok(text: &str, value: f64) -> String {
    expand(text, value).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn data_and_variables() {
    assert_eq!(ok("{{ $labels.app }} is down", 0.0), "web is down");
    assert_eq!(ok("{{ .Labels.app }}={{ .Value }}", 3.5), "web=3.5");
    assert_eq!(ok("{{ $value }}", 1234567.0), "1.234567e+06");
    assert_eq!(ok("{{ $value | humanize }}", 1234567.0), "1.235M");
    assert_eq!(ok("{{ $externalLabels.cluster }} {{ .ExternalLabels.cluster }}", 0.0), "eu1 eu1");
    assert_eq!(
        ok("{{ $externalURL }}|{{ .ExternalURL }}|{{ externalURL }}|{{ pathPrefix }}", 0.0),
        "http://bitacora.example:3100/prefix|http://bitacora.example:3100/prefix|http://bitacora.example:3100/prefix|/prefix"
    );
    // A missing label is empty (Prometheus' missingkey=zero), as with `index`.
    assert_eq!(ok("[{{ $labels.nope }}][{{ .Labels.nope }}][{{ index $labels \"nope\" }}]", 0.0), "[][][]");
    assert_eq!(ok("{{ index $labels \"severity\" }}", 0.0), "page");
    assert_eq!(ok("{{ $labels }}", 0.0), "map[app:web instance:host-1.example.com:9100 severity:page]");
    assert_eq!(ok("{{ $.Labels.app }}", 0.0), "web");
    assert_eq!(ok("{{ $labels.instance | stripPort | stripDomain }}", 0.0), "host-1");
    // A field the data does not have is an error naming it.
    assert_eq!(
        expand("{{ .Nope }}", 0.0).unwrap_err(),
        "template: __alert:1:3: executing \"__alert\" at <.Nope>: can't evaluate field Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }"
    );
    assert!(expand("{{ $value.x }}", 0.0).unwrap_err().contains("can't evaluate field x in type float64"));
}

#[test]
fn declarations_and_scopes() {
    assert_eq!(ok("{{ $x := 1 }}{{ $x }}", 0.0), "1");
    assert_eq!(ok("{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}", 0.0), "21");
    assert_eq!(ok("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", 0.0), "2");
    assert_eq!(ok("{{ $s := printf \"%s/%s\" $labels.app $labels.severity }}{{ $s | toUpper }}", 0.0), "WEB/PAGE");
    // Variables are checked at parse time, with the line.
    assert_eq!(
        check_alert_template("ok\n{{ $nope }}").unwrap_err(),
        "template: __alert:2: undefined variable \"$nope\""
    );
    assert_eq!(
        check_alert_template("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}").unwrap_err(),
        "template: __alert:1: undefined variable \"$y\""
    );
}

#[test]
fn range_with_if() {
    assert_eq!(
        ok("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}", 0.0),
        "app=web;instance=host-1.example.com:9100;severity=page;"
    );
    assert_eq!(ok("{{ range $v := $externalLabels }}<{{ $v }}>{{ end }}", 0.0), "<eu1>");
    assert_eq!(ok("{{ range .Labels }}{{ . }},{{ end }}", 0.0), "web,host-1.example.com:9100,page,");
    assert_eq!(
        ok("{{ range $k, $v := $labels }}{{ if eq $k \"instance\" }}{{ break }}{{ end }}{{ $k }} {{ end }}", 0.0),
        "app "
    );
    assert_eq!(
        ok("{{ range $k, $v := $labels }}{{ if eq $k \"app\" }}{{ continue }}{{ end }}{{ $k }} {{ end }}", 0.0),
        "instance severity "
    );
    let none = expand_alert_template(
        "{{ range $externalLabels }}x{{ else }}none{{ end }}",
        &labels(&[]),
        0.0,
        &labels(&[]),
        "",
    );
    assert_eq!(none.unwrap(), "none");
    assert!(expand("{{ range $labels.app }}x{{ end }}", 0.0).unwrap_err().contains("range can't iterate over web"));
    assert_eq!(ok("{{ with $labels.app }}app {{ . }}{{ end }}", 0.0), "app web");
    assert_eq!(ok("{{ with $labels.nope }}x{{ else }}no app{{ end }}", 0.0), "no app");
    let sev = "{{ if gt $value 100.0 }}critical{{ else if gt $value 10.0 }}warning{{ else }}ok{{ end }}";
    assert_eq!(ok(sev, 500.0), "critical");
    assert_eq!(ok(sev, 50.0), "warning");
    assert_eq!(ok(sev, 5.0), "ok");
    assert_eq!(ok("{{ if and (eq $labels.app \"web\") (ne $labels.severity \"info\") }}y{{ end }}", 0.0), "y");
    assert_eq!(ok("{{ if not (match \"^db\" $labels.app) }}not a db{{ end }}", 0.0), "not a db");
    assert_eq!(ok("{{ len $labels }}", 0.0), "3");
    assert_eq!(ok("{{ $value | printf \"%.2f\" }}", 0.12345), "0.12");
    assert_eq!(ok("{{ humanizePercentage $value }}", 0.1234), "12.34%");
    assert_eq!(ok("{{ humanizeDuration $value }}", 90061.0), "1d 1h 1m 1s");
    assert_eq!(ok("{{ reReplaceAll \"(.*)-(\\\\d+)\\\\..*\" \"$1#$2\" $labels.instance }}", 0.0), "host#1");
    assert_eq!(ok("{{ label \"app\" . }}", 0.0), "web");
    assert_eq!(ok("{{/* a comment */}}a {{- \" b \" -}} c", 0.0), "a b c");
}

#[test]
fn errors_are_bounded_and_named() {
    assert_eq!(check_alert_template("{{ $labels.app "), Err("template: __alert:1: unclosed action".into()));
    assert_eq!(
        check_alert_template("a\nb {{ query \"up\" | first | value }}").unwrap_err(),
        "template: __alert:2: function \"query\" is not supported: it needs a PromQL query engine, which alert templates here do not have"
    );
    assert_eq!(check_alert_template("{{ if true }}x").unwrap_err(), "template: __alert:1: unexpected EOF");
    assert_eq!(check_alert_template("{{ end }}").unwrap_err(), "template: __alert:1: unexpected {{end}}");
    assert!(check_alert_template("{{ break }}").unwrap_err().contains("{{break}} outside {{range}}"));
    assert!(check_alert_template("{{ define \"x\" }}{{ end }}").unwrap_err().contains("not supported"));
    let deep = "{{ if true }}".repeat(100) + &"{{ end }}".repeat(100);
    assert!(check_alert_template(&deep).unwrap_err().contains("nested too deep (max 64)"));
    // Ranging over ranges stops at the step budget instead of running for ever.
    let nested = "{{ range $labels }}".repeat(20) + &"{{ end }}".repeat(20);
    assert!(expand(&nested, 0.0).unwrap_err().contains("execution too long"));
    assert!(check_alert_template("{{ $labels.app }} {{ humanize $value }}").is_ok());
}
