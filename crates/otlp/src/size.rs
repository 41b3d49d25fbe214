//! How much memory a protobuf request takes once decoded into [`crate::proto`]'s messages,
//! found by walking its wire format first, without allocating.
//!
//! A message can be two bytes on the wire (its key and a zero length) and a hundred in memory
//! (an empty `LogRecord` is 136 bytes, a `KeyValue` 64): a body of empty records under the
//! size limit decoded into gigabytes. The walk lets the caller refuse such a body first. An
//! OTLP/JSON body is read as a tree of JSON values before its messages are made: there every
//! object and array (`{}` is two bytes) takes about [`JSON_NODE_BYTES`].

use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};

use crate::proto::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, LogRecord, Resource, ResourceLogs, ScopeLogs,
};

/// The messages of a logs request.
#[derive(Clone, Copy)]
enum Kind {
    Request,
    ResourceLogs,
    Resource,
    ScopeLogs,
    Scope,
    Record,
    KeyValue,
    AnyValue,
    Array,
    KvList,
}

impl Kind {
    /// The message a field holds, if it holds one.
    fn field(self, tag: u32) -> Option<Kind> {
        use Kind::*;
        Some(match (self, tag) {
            (Request, 1) => ResourceLogs,
            (ResourceLogs, 1) => Resource,
            (ResourceLogs, 2) => ScopeLogs,
            (Resource, 1) | (Scope, 3) | (Record, 6) | (KvList, 1) => KeyValue,
            (AnyValue, 6) => KvList,
            (ScopeLogs, 1) => Scope,
            (ScopeLogs, 2) => Record,
            (Record, 5) | (KeyValue, 2) | (Array, 1) => AnyValue,
            (AnyValue, 5) => Array,
            _ => return None,
        })
    }

    /// Its size in memory, counted twice: repeated messages live in vectors grown by doubling.
    fn bytes(self) -> usize {
        use std::mem::size_of;
        2 * match self {
            Kind::Request => 0,
            Kind::ResourceLogs => size_of::<ResourceLogs>(),
            Kind::Resource => size_of::<Resource>(),
            Kind::ScopeLogs => size_of::<ScopeLogs>(),
            Kind::Scope => size_of::<InstrumentationScope>(),
            Kind::Record => size_of::<LogRecord>(),
            Kind::KeyValue => size_of::<KeyValue>(),
            Kind::AnyValue => size_of::<AnyValue>(),
            Kind::Array => size_of::<ArrayValue>(),
            Kind::KvList => size_of::<KeyValueList>(),
        }
    }
}

/// What an OTLP/JSON object or array takes once read: the value, its map or list, its members'
/// keys, and the message made of it (an attribute `{"key": …, "value": {"stringValue": …}}`
/// takes about 600 bytes for its two objects).
pub const JSON_NODE_BYTES: usize = 320;

/// As deep as prost decodes messages.
const MAX_DEPTH: u32 = 100;

/// The bytes `body`'s messages take once decoded (their structs and the strings and bytes they
/// copy), or why its wire format cannot be read.
pub fn decoded_bytes(body: &[u8]) -> Result<usize, String> {
    walk(body, Kind::Request, 0)
}

fn walk(mut buf: &[u8], kind: Kind, depth: u32) -> Result<usize, String> {
    if depth > MAX_DEPTH {
        return Err("recursion limit reached".into());
    }
    let wire = |e: prost::DecodeError| e.to_string();
    let mut total = kind.bytes();
    while !buf.is_empty() {
        let (tag, wt) = decode_key(&mut buf).map_err(wire)?;
        if wt != WireType::LengthDelimited {
            skip_field(wt, tag, &mut buf, DecodeContext::default()).map_err(wire)?;
            continue;
        }
        let len = decode_varint(&mut buf).map_err(wire)?;
        if len > buf.len() as u64 {
            return Err("buffer underflow".into());
        }
        let (field, rest) = buf.split_at(len as usize);
        buf = rest;
        total = total.saturating_add(match kind.field(tag) {
            Some(k) => walk(field, k, depth + 1)?,
            // A string or bytes field: its copy (an allocation's least when not empty).
            None if len > 0 => field.len().max(16),
            None => 0,
        });
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{ExportLogsServiceRequest, Value};
    use prost::Message;

    /// The walk counts every message prost decodes: nested values and lists included.
    #[test]
    fn counts_what_prost_decodes() {
        let kv = |k: &str, v: Value| KeyValue { key: k.as_bytes().to_vec(), value: Some(AnyValue { value: Some(v) }) };
        let nested = Value::KvlistValue(KeyValueList {
            values: vec![kv("a", Value::ArrayValue(ArrayValue { values: vec![AnyValue::default(); 3] }))],
        });
        let record = LogRecord {
            body: Some(AnyValue { value: Some(Value::StringValue(b"hello".to_vec())) }),
            attributes: vec![kv("k", nested), kv("n", Value::IntValue(3))],
            ..Default::default()
        };
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", Value::StringValue(b"x".to_vec()))],
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs { log_records: vec![record; 5], ..Default::default() }],
                ..Default::default()
            }],
        };
        let body = req.encode_to_vec();
        let got = decoded_bytes(&body).unwrap();
        // Five records, each with its body, two attributes, a list holding an array of three.
        let per_record = Kind::Record.bytes()
            + 6 * Kind::KeyValue.bytes() / 3 // two attributes and the list's one
            + 7 * Kind::AnyValue.bytes()
            + Kind::KvList.bytes()
            + Kind::Array.bytes()
            + 16 * 3; // "hello", "k", "n" ("a" is counted below)
        assert!(got >= 5 * per_record, "{got} < {}", 5 * per_record);
        assert!(got < 5 * per_record + 2000, "{got}");
        // Empty records: two bytes each on the wire, counted as records.
        let empty = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs { log_records: vec![LogRecord::default(); 1000], ..Default::default() }],
                ..Default::default()
            }],
        };
        let body = empty.encode_to_vec();
        assert!(body.len() < 2100);
        assert!(decoded_bytes(&body).unwrap() >= 1000 * Kind::Record.bytes());
        // Truncated bodies are errors, never a panic.
        let body = req.encode_to_vec();
        for cut in 1..body.len() {
            let _ = decoded_bytes(&body[..cut]);
        }
    }
}
