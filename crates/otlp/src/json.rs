//! OTLP/JSON (the protobuf JSON mapping as OTLP specifies it) decoded into the same messages as
//! the protobuf: field names in lowerCamelCase or as in the .proto (snake_case); trace and span
//! ids in hex (not base64); enums as integers or their names; 64-bit integers as strings or
//! numbers; `bytesValue` in base64; unknown fields ignored.

use base64::Engine as _;
use serde_json::{Map, Value as J};

use crate::DecodeError;
use crate::proto::*;

type R<T> = Result<T, DecodeError>;

fn err(msg: String) -> DecodeError {
    DecodeError(msg)
}

/// The field `camel` (or its snake_case name) of an object.
fn field<'a>(o: &'a Map<String, J>, camel: &str, snake: &str) -> Option<&'a J> {
    o.get(camel).or_else(|| o.get(snake)).filter(|v| !v.is_null())
}

fn object<'a>(v: &'a J, what: &str) -> R<&'a Map<String, J>> {
    v.as_object().ok_or_else(|| err(format!("{what} must be a JSON object")))
}

fn list<'a>(o: &'a Map<String, J>, camel: &str, snake: &str, what: &str) -> R<&'a [J]> {
    match field(o, camel, snake) {
        None => Ok(&[]),
        Some(J::Array(a)) => Ok(a),
        Some(_) => Err(err(format!("{what}.{camel} must be an array"))),
    }
}

fn string(o: &Map<String, J>, camel: &str, snake: &str, what: &str) -> R<Vec<u8>> {
    match field(o, camel, snake) {
        None => Ok(Vec::new()),
        Some(J::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(_) => Err(err(format!("{what}.{camel} must be a string"))),
    }
}

/// An integer field: a JSON number or a string of digits.
fn int(o: &Map<String, J>, camel: &str, snake: &str, what: &str) -> R<i128> {
    let bad = || err(format!("{what}.{camel} must be an integer (a number or a string of digits)"));
    match field(o, camel, snake) {
        None => Ok(0),
        Some(J::Number(n)) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)).ok_or_else(bad),
        Some(J::String(s)) => s.trim().parse::<i128>().map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

fn ranged<T: TryFrom<i128>>(v: i128, camel: &str, what: &str) -> R<T> {
    T::try_from(v).map_err(|_| err(format!("{what}.{camel} is out of range: {v}")))
}

fn hex_id(o: &Map<String, J>, camel: &str, snake: &str, len: usize, what: &str) -> R<Vec<u8>> {
    let s = match field(o, camel, snake) {
        None => return Ok(Vec::new()),
        Some(J::String(s)) => s,
        Some(_) => return Err(err(format!("{what}.{camel} must be a hex string"))),
    };
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let b = s.as_bytes();
    if b.len() != len * 2 || !b.iter().all(u8::is_ascii_hexdigit) {
        return Err(err(format!("{what}.{camel} must be {} hex digits, got {s:?}", len * 2)));
    }
    Ok(b.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0)).collect())
}

const SEVERITIES: [&str; 25] = [
    "UNSPECIFIED",
    "TRACE",
    "TRACE2",
    "TRACE3",
    "TRACE4",
    "DEBUG",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
    "INFO",
    "INFO2",
    "INFO3",
    "INFO4",
    "WARN",
    "WARN2",
    "WARN3",
    "WARN4",
    "ERROR",
    "ERROR2",
    "ERROR3",
    "ERROR4",
    "FATAL",
    "FATAL2",
    "FATAL3",
    "FATAL4",
];

fn severity(o: &Map<String, J>, what: &str) -> R<i32> {
    match field(o, "severityNumber", "severity_number") {
        Some(J::String(s)) if s.starts_with("SEVERITY_NUMBER_") => {
            let name = &s["SEVERITY_NUMBER_".len()..];
            SEVERITIES
                .iter()
                .position(|n| *n == name)
                .map(|i| i as i32)
                .ok_or_else(|| err(format!("{what}.severityNumber: unknown severity {s:?}")))
        }
        _ => ranged(int(o, "severityNumber", "severity_number", what)?, "severityNumber", what),
    }
}

/// Decodes an `ExportLogsServiceRequest` in OTLP/JSON.
pub fn decode(body: &[u8]) -> R<ExportLogsServiceRequest> {
    let v: J = serde_json::from_slice(body).map_err(|e| err(format!("invalid JSON: {e}")))?;
    let o = object(&v, "the request")?;
    let mut out = ExportLogsServiceRequest::default();
    for rl in list(o, "resourceLogs", "resource_logs", "request")? {
        out.resource_logs.push(resource_logs(object(rl, "resourceLogs[]")?)?);
    }
    Ok(out)
}

fn resource_logs(o: &Map<String, J>) -> R<ResourceLogs> {
    let w = "resourceLogs[]";
    let resource = match field(o, "resource", "resource") {
        None => None,
        Some(r) => {
            let r = object(r, "resource")?;
            Some(Resource {
                attributes: attributes(r, "resource")?,
                dropped_attributes_count: ranged(
                    int(r, "droppedAttributesCount", "dropped_attributes_count", "resource")?,
                    "droppedAttributesCount",
                    "resource",
                )?,
            })
        }
    };
    let mut scope_logs = Vec::new();
    for sl in list(o, "scopeLogs", "scope_logs", w)? {
        scope_logs.push(scope_logs_of(object(sl, "scopeLogs[]")?)?);
    }
    Ok(ResourceLogs { resource, scope_logs, schema_url: string(o, "schemaUrl", "schema_url", w)? })
}

fn scope_logs_of(o: &Map<String, J>) -> R<ScopeLogs> {
    let w = "scopeLogs[]";
    let scope = match field(o, "scope", "scope") {
        None => None,
        Some(s) => {
            let s = object(s, "scope")?;
            Some(InstrumentationScope {
                name: string(s, "name", "name", "scope")?,
                version: string(s, "version", "version", "scope")?,
                attributes: attributes(s, "scope")?,
                dropped_attributes_count: ranged(
                    int(s, "droppedAttributesCount", "dropped_attributes_count", "scope")?,
                    "droppedAttributesCount",
                    "scope",
                )?,
            })
        }
    };
    let mut log_records = Vec::new();
    for r in list(o, "logRecords", "log_records", w)? {
        log_records.push(record(object(r, "logRecords[]")?)?);
    }
    Ok(ScopeLogs { scope, log_records, schema_url: string(o, "schemaUrl", "schema_url", w)? })
}

fn record(o: &Map<String, J>) -> R<LogRecord> {
    let w = "logRecords[]";
    Ok(LogRecord {
        time_unix_nano: ranged(int(o, "timeUnixNano", "time_unix_nano", w)?, "timeUnixNano", w)?,
        observed_time_unix_nano: ranged(
            int(o, "observedTimeUnixNano", "observed_time_unix_nano", w)?,
            "observedTimeUnixNano",
            w,
        )?,
        severity_number: severity(o, w)?,
        severity_text: string(o, "severityText", "severity_text", w)?,
        body: field(o, "body", "body").map(|b| any_value(b, "logRecords[].body")).transpose()?,
        attributes: attributes(o, w)?,
        dropped_attributes_count: ranged(
            int(o, "droppedAttributesCount", "dropped_attributes_count", w)?,
            "droppedAttributesCount",
            w,
        )?,
        flags: ranged(int(o, "flags", "flags", w)?, "flags", w)?,
        trace_id: hex_id(o, "traceId", "trace_id", 16, w)?,
        span_id: hex_id(o, "spanId", "span_id", 8, w)?,
        event_name: string(o, "eventName", "event_name", w)?,
    })
}

fn attributes(o: &Map<String, J>, what: &str) -> R<Vec<KeyValue>> {
    list(o, "attributes", "attributes", what)?.iter().map(|kv| key_value(kv, what)).collect()
}

fn key_value(v: &J, what: &str) -> R<KeyValue> {
    let o = object(v, &format!("{what}.attributes[]"))?;
    let key = match o.get("key") {
        Some(J::String(s)) => s.as_bytes().to_vec(),
        None | Some(J::Null) => Vec::new(),
        Some(_) => return Err(err(format!("{what}.attributes[].key must be a string"))),
    };
    let value = field(o, "value", "value").map(|v| any_value(v, what)).transpose()?;
    Ok(KeyValue { key, value })
}

fn any_value(v: &J, what: &str) -> R<AnyValue> {
    let o = object(v, &format!("{what} (an AnyValue)"))?;
    let w = what;
    let value = if let Some(s) = field(o, "stringValue", "string_value") {
        Some(Value::StringValue(
            s.as_str().ok_or_else(|| err(format!("{w}.stringValue must be a string")))?.as_bytes().to_vec(),
        ))
    } else if let Some(b) = field(o, "boolValue", "bool_value") {
        Some(Value::BoolValue(b.as_bool().ok_or_else(|| err(format!("{w}.boolValue must be true or false")))?))
    } else if field(o, "intValue", "int_value").is_some() {
        Some(Value::IntValue(ranged(int(o, "intValue", "int_value", w)?, "intValue", w)?))
    } else if let Some(d) = field(o, "doubleValue", "double_value") {
        let f = match d {
            J::Number(n) => n.as_f64(),
            J::String(s) => match s.as_str() {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                s => s.parse().ok(),
            },
            _ => None,
        };
        Some(Value::DoubleValue(f.ok_or_else(|| err(format!("{w}.doubleValue must be a number")))?))
    } else if let Some(a) = field(o, "arrayValue", "array_value") {
        let a = object(a, &format!("{w}.arrayValue"))?;
        let values = list(a, "values", "values", w)?.iter().map(|x| any_value(x, w)).collect::<R<Vec<_>>>()?;
        Some(Value::ArrayValue(ArrayValue { values }))
    } else if let Some(m) = field(o, "kvlistValue", "kvlist_value") {
        let m = object(m, &format!("{w}.kvlistValue"))?;
        let values = list(m, "values", "values", w)?.iter().map(|x| key_value(x, w)).collect::<R<Vec<_>>>()?;
        Some(Value::KvlistValue(KeyValueList { values }))
    } else if let Some(b) = field(o, "bytesValue", "bytes_value") {
        let s = b.as_str().ok_or_else(|| err(format!("{w}.bytesValue must be a base64 string")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
            .map_err(|e| err(format!("{w}.bytesValue is not base64: {e}")))?;
        Some(Value::BytesValue(bytes))
    } else {
        None
    };
    Ok(AnyValue { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_and_snake_case_hex_ids_enum_names() {
        let body =
            br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
          "scope_logs":[{"scope":{"name":"lib","version":"1.2"},
            "logRecords":[
              {"timeUnixNano":"1700000000000000001","severityNumber":"SEVERITY_NUMBER_WARN","severityText":"WARN",
               "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","flags":1,
               "body":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"7"}}]}},
               "attributes":[{"key":"d","value":{"double_value":2.5}}]},
              {"time_unix_nano":5,"severity_number":17,"body":{"stringValue":"x"}}]}]}]}"#;
        let r = decode(body).unwrap();
        let sl = &r.resource_logs[0].scope_logs[0];
        assert_eq!(sl.scope.as_ref().unwrap().version, b"1.2");
        let a = &sl.log_records[0];
        assert_eq!(a.time_unix_nano, 1_700_000_000_000_000_001);
        assert_eq!(a.severity_number, 13);
        assert_eq!(a.trace_id.len(), 16);
        assert_eq!(a.trace_id[0], 0x5b);
        assert_eq!(a.span_id, vec![0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]);
        assert_eq!(a.attributes[0].value, Some(AnyValue { value: Some(Value::DoubleValue(2.5)) }));
        let b = &sl.log_records[1];
        assert_eq!((b.time_unix_nano, b.severity_number), (5, 17));
    }

    #[test]
    fn bad_bodies_name_the_problem() {
        let e = |b: &str| decode(b.as_bytes()).unwrap_err().0;
        assert!(e("{").contains("invalid JSON"));
        assert!(e(r#"{"resourceLogs":{}}"#).contains("resourceLogs must be an array"));
        assert!(
            e(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}"#).contains("32 hex digits")
        );
        assert!(
            e(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]}"#)
                .contains("timeUnixNano must be an integer")
        );
        assert!(
            e(r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_LOUD"}]}]}]}"#)
                .contains("unknown severity")
        );
    }
}
