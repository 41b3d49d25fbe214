//! OTLP log records to Loki streams, as Loki's OTLP endpoint maps them.
//!
//! - Resource attributes whose rule says `index_label` (by default Loki's 18 well-known ones)
//!   become the stream's labels, names normalised (`service.name` → `service_name`); a map value
//!   becomes one label per leaf (`k8s.x` = {a: 1} → `k8s_x_a`).
//! - `service_name`: when the resource has no `service.name`, the first index label (in attribute
//!   order) named in `discover_service_name` gives it, else `unknown_service` (unless the list
//!   is empty).
//! - Each entry's structured metadata, in Loki's order: the log attributes, `observed_timestamp`
//!   (when both timestamps are set), `severity_number`, `severity_text`,
//!   `dropped_attributes_count`, `flags`, `trace_id`, `span_id` (hex), `event_name`; then the
//!   resource attributes that are not labels; then the scope's attributes, `scope_name`,
//!   `scope_version`, `scope_dropped_attributes_count`. Attributes whose rule says `drop` are left
//!   out.
//! - The line is the body as text ([`crate::value::as_string`]); the time is the record's
//!   timestamp, else its observed timestamp, else now.

use std::collections::BTreeMap;

use model::{Entry, Labels};

use crate::config::{Action, OtlpConfig};
use crate::proto::{AnyValue, ExportLogsServiceRequest, KeyValue, LogRecord, Value, text};
use crate::value::as_string;

/// One stream of the mapped request.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub labels: Labels,
    pub entries: Vec<Entry>,
}

/// Prometheus' OTLP label namer (`otlptranslator.NormalizeLabel`): every character outside
/// `[A-Za-z0-9_]` becomes `_`; a leading digit gets `key_` before it, a single leading `_` gets
/// `key`.
pub fn normalize_label(name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{s}")
    } else if s.starts_with('_') && !s.starts_with("__") {
        format!("key{s}")
    } else {
        s
    }
}

/// An attribute as name/value pairs: one pair, or one per leaf of a map value.
fn flatten(key: &str, v: Option<&AnyValue>, prefix: &str, out: &mut Vec<(String, String)>) {
    let name = normalize_label(&if prefix.is_empty() { key.to_string() } else { format!("{prefix}_{key}") });
    match v.and_then(|v| v.value.as_ref()) {
        Some(Value::KvlistValue(m)) => {
            for kv in &m.values {
                flatten(&text(&kv.key), kv.value.as_ref(), &name, out);
            }
        }
        _ => out.push((name, as_string(v))),
    }
}

fn attribute(kv: &KeyValue, out: &mut Vec<(String, String)>) {
    flatten(&text(&kv.key), kv.value.as_ref(), "", out)
}

fn ns(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Maps a decoded request to streams (grouped by label set, in label order).
pub fn to_streams(
    req: &ExportLogsServiceRequest,
    cfg: &OtlpConfig,
    discover_service_name: &[String],
    now_ns: i64,
) -> Vec<Stream> {
    let mut streams: BTreeMap<Labels, Vec<Entry>> = BTreeMap::new();
    for rl in &req.resource_logs {
        let attrs: &[KeyValue] = rl.resource.as_ref().map_or(&[], |r| &r.attributes);
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        let mut resource_meta: Vec<(String, String)> = Vec::new();
        let discover = !discover_service_name.is_empty();
        let mut has_service_name =
            attrs.iter().any(|kv| kv.key == b"service.name" && !as_string(kv.value.as_ref()).is_empty());
        for kv in attrs {
            match cfg.resource_action(&text(&kv.key)) {
                Action::Drop => {}
                Action::StructuredMetadata => attribute(kv, &mut resource_meta),
                Action::IndexLabel => {
                    let mut pairs = Vec::new();
                    attribute(kv, &mut pairs);
                    for (k, v) in pairs {
                        if discover && !has_service_name && discover_service_name.contains(&k) {
                            labels.insert("service_name".into(), v.clone());
                            has_service_name = true;
                        }
                        labels.insert(k, v);
                    }
                }
            }
        }
        if discover && !has_service_name {
            labels.insert("service_name".into(), "unknown_service".into());
        }
        // Empty values are dropped, as for every push; names are unique here.
        let labels = Labels::from_pairs(labels).unwrap_or_default();
        for sl in &rl.scope_logs {
            let mut scope_meta: Vec<(String, String)> = Vec::new();
            if let Some(scope) = &sl.scope {
                for kv in &scope.attributes {
                    if cfg.scope_action(&text(&kv.key)) != Action::Drop {
                        attribute(kv, &mut scope_meta);
                    }
                }
                if !scope.name.is_empty() {
                    scope_meta.push(("scope_name".into(), text(&scope.name)));
                }
                if !scope.version.is_empty() {
                    scope_meta.push(("scope_version".into(), text(&scope.version)));
                }
                if scope.dropped_attributes_count != 0 {
                    scope_meta
                        .push(("scope_dropped_attributes_count".into(), scope.dropped_attributes_count.to_string()));
                }
            }
            let entries = streams.entry(labels.clone()).or_default();
            for r in &sl.log_records {
                let mut e = entry(r, cfg, now_ns);
                let md = e.metadata.make_mut();
                md.extend(resource_meta.iter().cloned());
                md.extend(scope_meta.iter().cloned());
                entries.push(e);
            }
        }
    }
    streams.into_iter().filter(|(_, e)| !e.is_empty()).map(|(labels, entries)| Stream { labels, entries }).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn entry(r: &LogRecord, cfg: &OtlpConfig, now_ns: i64) -> Entry {
    let mut meta: Vec<(String, String)> = Vec::new();
    for kv in &r.attributes {
        if cfg.log_action(&text(&kv.key)) != Action::Drop {
            attribute(kv, &mut meta);
        }
    }
    if r.time_unix_nano != 0 && r.observed_time_unix_nano != 0 {
        meta.push(("observed_timestamp".into(), ns(r.observed_time_unix_nano).to_string()));
    }
    if r.severity_number != 0 {
        meta.push(("severity_number".into(), r.severity_number.to_string()));
    }
    if !r.severity_text.is_empty() {
        meta.push(("severity_text".into(), text(&r.severity_text)));
    }
    if r.dropped_attributes_count != 0 {
        meta.push(("dropped_attributes_count".into(), r.dropped_attributes_count.to_string()));
    }
    if r.flags != 0 {
        meta.push(("flags".into(), r.flags.to_string()));
    }
    if r.trace_id.iter().any(|b| *b != 0) {
        meta.push(("trace_id".into(), hex(&r.trace_id)));
    }
    if r.span_id.iter().any(|b| *b != 0) {
        meta.push(("span_id".into(), hex(&r.span_id)));
    }
    if !r.event_name.is_empty() {
        meta.push(("event_name".into(), text(&r.event_name)));
    }
    let ts = if r.time_unix_nano != 0 {
        ns(r.time_unix_nano)
    } else if r.observed_time_unix_nano != 0 {
        ns(r.observed_time_unix_nano)
    } else {
        now_ns
    };
    Entry::with_metadata(ts, as_string(r.body.as_ref()), meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::*;

    fn s(v: &str) -> Option<AnyValue> {
        Some(AnyValue { value: Some(Value::StringValue(v.as_bytes().to_vec())) })
    }
    fn kv(k: &str, v: Option<AnyValue>) -> KeyValue {
        KeyValue { key: k.as_bytes().to_vec(), value: v }
    }
    fn discover() -> Vec<String> {
        ["service", "app", "k8s_container_name", "k8s_job_name"].map(String::from).to_vec()
    }

    #[test]
    fn names_are_normalised_as_prometheus_does() {
        assert_eq!(normalize_label("service.name"), "service_name");
        assert_eq!(normalize_label("http.status-code"), "http_status_code");
        assert_eq!(normalize_label("1a"), "key_1a");
        assert_eq!(normalize_label("_a"), "key_a");
        assert_eq!(normalize_label("__a"), "__a");
        assert_eq!(normalize_label("ñ"), "key_");
    }

    fn request(resource: Vec<KeyValue>, records: Vec<LogRecord>) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource { attributes: resource, dropped_attributes_count: 0 }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: b"my.lib".to_vec(),
                        version: b"2.0".to_vec(),
                        attributes: vec![kv("scope.attr", s("x"))],
                        dropped_attributes_count: 0,
                    }),
                    log_records: records,
                    schema_url: vec![],
                }],
                schema_url: vec![],
            }],
        }
    }

    #[test]
    fn loki_mapping_of_a_record() {
        let rec = LogRecord {
            time_unix_nano: 0,
            observed_time_unix_nano: 1_700_000_000_000_000_000,
            severity_number: 17,
            severity_text: b"ERROR".to_vec(),
            body: s("boom"),
            attributes: vec![
                kv("user.id", s("u1")),
                kv(
                    "http",
                    Some(AnyValue {
                        value: Some(Value::KvlistValue(KeyValueList { values: vec![kv("method", s("GET"))] })),
                    }),
                ),
            ],
            dropped_attributes_count: 0,
            flags: 1,
            trace_id: (1..=16).collect(),
            span_id: (1..=8).collect(),
            event_name: b"ev".to_vec(),
        };
        let req = request(
            vec![kv("service.name", s("shop")), kv("k8s.namespace.name", s("prod")), kv("host.name", s("h1"))],
            vec![rec],
        );
        let out = to_streams(&req, &OtlpConfig::default(), &discover(), 42);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].labels.to_string(), r#"{k8s_namespace_name="prod", service_name="shop"}"#);
        let e = &out[0].entries[0];
        assert_eq!((e.ts, e.line.as_str()), (1_700_000_000_000_000_000, "boom"));
        let want: Vec<(String, String)> = [
            ("user_id", "u1"),
            ("http_method", "GET"),
            ("severity_number", "17"),
            ("severity_text", "ERROR"),
            ("flags", "1"),
            ("trace_id", "0102030405060708090a0b0c0d0e0f10"),
            ("span_id", "0102030405060708"),
            ("event_name", "ev"),
            ("host_name", "h1"),
            ("scope_attr", "x"),
            ("scope_name", "my.lib"),
            ("scope_version", "2.0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(e.metadata, want);
    }

    #[test]
    fn service_name_discovery_and_now() {
        let rec = LogRecord { body: s("x"), ..Default::default() };
        let req = request(vec![kv("k8s.container.name", s("web"))], vec![rec.clone()]);
        let out = to_streams(&req, &OtlpConfig::default(), &discover(), 42);
        assert_eq!(out[0].labels.to_string(), r#"{k8s_container_name="web", service_name="web"}"#);
        assert_eq!(out[0].entries[0].ts, 42, "no timestamps: now");
        let req = request(vec![kv("host.name", s("h"))], vec![rec.clone()]);
        let out = to_streams(&req, &OtlpConfig::default(), &discover(), 42);
        assert_eq!(out[0].labels.to_string(), r#"{service_name="unknown_service"}"#);
        let out = to_streams(&req, &OtlpConfig::default(), &[], 42);
        assert!(out[0].labels.is_empty(), "discovery off: no labels at all");
    }
}
