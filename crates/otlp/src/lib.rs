//! OpenTelemetry logs in, Loki streams out: decodes an OTLP/HTTP `ExportLogsServiceRequest`
//! (protobuf or OTLP/JSON) and maps it to labelled streams exactly as Loki's `/otlp/v1/logs`
//! does, under Loki's per-tenant `otlp_config`.
//!
//! It owns the OTLP messages ([`proto`]), the JSON mapping ([`json`]), what a body takes once
//! decoded ([`size`]), how an `AnyValue` reads as text ([`value`]), the attribute rules
//! ([`config`]) and the mapping ([`mapping`]). It must never know HTTP (content types and
//! compression are the api crate's), the store, or limits other than those it is handed.
//!
//! The messages are declared by hand with prost (as `lokiproto` declares Loki's) rather than
//! taken from the `opentelemetry-proto` crate: that crate brings the OpenTelemetry API and SDK
//! crates along and needs a network fetch this workspace otherwise avoids, while a dozen plain
//! messages cover the logs request; declaring them here also lets strings be read as bytes, so
//! invalid UTF-8 is made valid instead of refusing the request (Go's decoder, which Loki uses,
//! accepts it). `base64` (already in the workspace) reads and writes OTLP bytes values.

pub mod config;
pub mod json;
pub mod mapping;
pub mod proto;
pub mod size;
pub mod value;

pub use config::OtlpConfig;
pub use mapping::{Stream, to_streams};
pub use proto::ExportLogsServiceRequest;

/// The body's encoding, told by the request's content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/x-protobuf`
    Protobuf,
    /// `application/json`
    Json,
}

/// Why a body could not be read, in words for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// Decodes an `ExportLogsServiceRequest`.
pub fn decode(body: &[u8], format: Format) -> Result<ExportLogsServiceRequest, DecodeError> {
    match format {
        Format::Protobuf => <ExportLogsServiceRequest as prost::Message>::decode(body)
            .map_err(|e| DecodeError(format!("could not decode the OTLP protobuf request: {e}"))),
        Format::Json => {
            json::decode(body).map_err(|e| DecodeError(format!("could not decode the OTLP JSON request: {}", e.0)))
        }
    }
}

/// How many log records a request holds.
pub fn record_count(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs.iter().flat_map(|r| &r.scope_logs).map(|s| s.log_records.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_with_invalid_utf8_is_read() {
        use prost::Message;
        let req = proto::ExportLogsServiceRequest {
            resource_logs: vec![proto::ResourceLogs {
                scope_logs: vec![proto::ScopeLogs {
                    log_records: vec![proto::LogRecord {
                        body: Some(proto::AnyValue {
                            value: Some(proto::Value::StringValue(b"bad \xff byte".to_vec())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let back = decode(&req.encode_to_vec(), Format::Protobuf).unwrap();
        assert_eq!(
            value::as_string(back.resource_logs[0].scope_logs[0].log_records[0].body.as_ref()),
            "bad \u{fffd} byte"
        );
        assert!(
            decode(b"\xff\xff\xff", Format::Protobuf).unwrap_err().0.contains("could not decode the OTLP protobuf")
        );
    }
}
