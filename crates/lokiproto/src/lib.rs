//! Loki's push protobuf (`logproto.PushRequest`), declared by hand with prost: the wire format
//! between every agent and every server. It knows nothing else.

#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
    #[prost(string, tag = "2")]
    pub format: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamAdapter {
    #[prost(string, tag = "1")]
    pub labels: String,
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub line: String,
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
    #[prost(message, repeated, tag = "4")]
    pub parsed: Vec<LabelPairAdapter>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// The same `PushRequest` with every string as bytes, as a client may send it: Go's encoder
/// (Loki's) writes invalid UTF-8 as it comes, where prost's `String` would refuse the whole
/// request. The server reads pushes without messages (the api crate's `push::protobuf` walks
/// the body and borrows its lines); tests build such bodies with these, and check that reader
/// against them.
pub mod received {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PushRequest {
        #[prost(message, repeated, tag = "1")]
        pub streams: Vec<StreamAdapter>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StreamAdapter {
        #[prost(bytes = "vec", tag = "1")]
        pub labels: Vec<u8>,
        #[prost(message, repeated, tag = "2")]
        pub entries: Vec<EntryAdapter>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct EntryAdapter {
        #[prost(message, optional, tag = "1")]
        pub timestamp: Option<super::Timestamp>,
        #[prost(bytes = "vec", tag = "2")]
        pub line: Vec<u8>,
        #[prost(message, repeated, tag = "3")]
        pub structured_metadata: Vec<LabelPairAdapter>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LabelPairAdapter {
        #[prost(bytes = "vec", tag = "1")]
        pub name: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub value: Vec<u8>,
    }
}

/// One entry to encode, borrowed (no line is copied).
pub struct EntryRef<'a> {
    pub ts: i64,
    pub line: &'a str,
    pub metadata: &'a [(String, String)],
}

fn varint_len(v: u64) -> usize {
    prost::encoding::encoded_len_varint(v)
}

fn bytes_field_len(n: usize) -> usize {
    1 + varint_len(n as u64) + n
}

fn put_key(buf: &mut Vec<u8>, tag: u32, wt: prost::encoding::WireType) {
    prost::encoding::encode_key(tag, wt, buf);
}

fn put_bytes_field(buf: &mut Vec<u8>, tag: u32, b: &[u8]) {
    put_key(buf, tag, prost::encoding::WireType::LengthDelimited);
    prost::encoding::encode_varint(b.len() as u64, buf);
    buf.extend_from_slice(b);
}

fn timestamp_len(ts: i64) -> usize {
    let (s, n) = (ts.div_euclid(1_000_000_000), ts.rem_euclid(1_000_000_000));
    (if s != 0 { 1 + varint_len(s as u64) } else { 0 }) + (if n != 0 { 1 + varint_len(n as u64) } else { 0 })
}

fn pair_len(k: &str, v: &str) -> usize {
    (if k.is_empty() { 0 } else { bytes_field_len(k.len()) })
        + (if v.is_empty() { 0 } else { bytes_field_len(v.len()) })
}

fn entry_len(e: &EntryRef) -> usize {
    bytes_field_len(timestamp_len(e.ts))
        + if e.line.is_empty() { 0 } else { bytes_field_len(e.line.len()) }
        + e.metadata.iter().map(|(k, v)| bytes_field_len(pair_len(k, v))).sum::<usize>()
}

/// Encodes a `PushRequest` straight from borrowed streams (labels in Prometheus notation), byte
/// for byte what prost encodes for the same message, without building it.
pub fn encode_push(streams: &[(String, Vec<EntryRef>)]) -> Vec<u8> {
    use prost::encoding::{WireType, encode_varint};
    let stream_len = |(labels, entries): &(String, Vec<EntryRef>)| {
        (if labels.is_empty() { 0 } else { bytes_field_len(labels.len()) })
            + entries.iter().map(|e| bytes_field_len(entry_len(e))).sum::<usize>()
    };
    let total: usize = streams.iter().map(|s| bytes_field_len(stream_len(s))).sum();
    let mut buf = Vec::with_capacity(total);
    for s in streams {
        put_key(&mut buf, 1, WireType::LengthDelimited);
        encode_varint(stream_len(s) as u64, &mut buf);
        if !s.0.is_empty() {
            put_bytes_field(&mut buf, 1, s.0.as_bytes());
        }
        for e in &s.1 {
            put_key(&mut buf, 2, WireType::LengthDelimited);
            encode_varint(entry_len(e) as u64, &mut buf);
            put_key(&mut buf, 1, WireType::LengthDelimited);
            encode_varint(timestamp_len(e.ts) as u64, &mut buf);
            let (sec, ns) = (e.ts.div_euclid(1_000_000_000), e.ts.rem_euclid(1_000_000_000));
            if sec != 0 {
                put_key(&mut buf, 1, WireType::Varint);
                encode_varint(sec as u64, &mut buf);
            }
            if ns != 0 {
                put_key(&mut buf, 2, WireType::Varint);
                encode_varint(ns as u64, &mut buf);
            }
            if !e.line.is_empty() {
                put_bytes_field(&mut buf, 2, e.line.as_bytes());
            }
            for (k, v) in e.metadata {
                put_key(&mut buf, 3, WireType::LengthDelimited);
                encode_varint(pair_len(k, v) as u64, &mut buf);
                if !k.is_empty() {
                    put_bytes_field(&mut buf, 1, k.as_bytes());
                }
                if !v.is_empty() {
                    put_bytes_field(&mut buf, 2, v.as_bytes());
                }
            }
        }
    }
    debug_assert_eq!(buf.len(), total);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn borrowed_encoding_is_prost_encoding() {
        let meta = vec![("trace_id".to_string(), "abc".to_string()), ("k".to_string(), String::new())];
        let entries = vec![
            EntryRef { ts: 1_700_000_000_123_456_789, line: "hello", metadata: &[] },
            EntryRef { ts: 5, line: "", metadata: &meta },
            EntryRef { ts: -1_500_000_000, line: "before 1970", metadata: &meta },
        ];
        let streams = vec![(r#"{app="a"}"#.to_string(), entries), (String::new(), vec![])];
        let owned = PushRequest {
            streams: streams
                .iter()
                .map(|(l, es)| StreamAdapter {
                    labels: l.clone(),
                    entries: es
                        .iter()
                        .map(|e| EntryAdapter {
                            timestamp: Some(Timestamp {
                                seconds: e.ts.div_euclid(1_000_000_000),
                                nanos: e.ts.rem_euclid(1_000_000_000) as i32,
                            }),
                            line: e.line.to_string(),
                            structured_metadata: e
                                .metadata
                                .iter()
                                .map(|(k, v)| LabelPairAdapter { name: k.clone(), value: v.clone() })
                                .collect(),
                            parsed: vec![],
                        })
                        .collect(),
                    hash: 0,
                })
                .collect(),
            format: String::new(),
        };
        assert_eq!(encode_push(&streams), owned.encode_to_vec());
    }
}
