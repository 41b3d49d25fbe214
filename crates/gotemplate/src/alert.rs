//! Prometheus' alert template data: what the annotations and labels of an alerting rule see
//! (`.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value` and the variables `$labels`,
//! `$externalLabels`, `$externalURL`, `$value` Prometheus declares before the text), with
//! Prometheus' function set and `externalURL`/`pathPrefix`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::{FuncSet, Host, Map, MapKind, Options, Template, Value};

/// The Go type of Prometheus' alert template data (for error messages).
const DATA_TYPE: &str =
    "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }";

const VARS: &[&str] = &["labels", "externalLabels", "externalURL", "value"];
const HOST_FUNCS: &[(&str, usize)] = &[("externalURL", 0), ("pathPrefix", 0)];

fn options() -> Options<'static> {
    Options { name: "__alert", funcs: FuncSet::Prometheus, host_funcs: HOST_FUNCS, vars: VARS }
}

struct AlertHost<'a> {
    external_url: &'a str,
}

impl Host for AlertHost<'_> {
    fn call(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        Ok(Value::Str(match name {
            "externalURL" => self.external_url.to_string(),
            _ => url_path(self.external_url).to_string(),
        }))
    }
}

/// The path of a URL (`http://host:9090/prefix?x` → `/prefix`).
fn url_path(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            match after.find(['/', '?', '#']) {
                Some(j) => &after[j..],
                None => "",
            }
        }
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(Arc::new(Map {
        kind: MapKind::Strings,
        entries: m.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect(),
    }))
}

/// Expands an alerting rule's annotation or label template the way Prometheus does for an alert
/// with `labels` and `value`.
pub fn expand_alert_template(
    text: &str,
    labels: &BTreeMap<String, String>,
    value: f64,
    external_labels: &BTreeMap<String, String>,
    external_url: &str,
) -> Result<String, String> {
    let t = Template::parse_with(text, &options())?;
    let (l, el, url, v) =
        (string_map(labels), string_map(external_labels), Value::Str(external_url.to_string()), Value::Float(value));
    let dot = Value::Map(Arc::new(Map {
        kind: MapKind::Struct(DATA_TYPE),
        entries: vec![
            ("Labels".into(), l.clone()),
            ("ExternalLabels".into(), el.clone()),
            ("ExternalURL".into(), url.clone()),
            ("Value".into(), v.clone()),
        ],
    }));
    let vars = [("labels", l), ("externalLabels", el), ("externalURL", url), ("value", v)];
    t.execute_with(&dot, &AlertHost { external_url }, &vars)
}

/// Parses an alerting rule's template without expanding it: the error names the problem and
/// its line (`template: __alert:3: function "nope" not defined`).
pub fn check_alert_template(text: &str) -> Result<(), String> {
    Template::parse_with(text, &options()).map(|_| ())
}
