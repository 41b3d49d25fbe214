//! Loki's `logproto.PushRequest` read straight into the store's incoming entries, every line
//! borrowed from the decompressed body. It is walked with prost's wire primitives rather than
//! decoded into prost's messages, which copied each line into a buffer of its own, made an
//! entry of it, and grew each stream's vector of messages by doubling: about a tenth of the
//! server's CPU while ingesting, none of it needed before the WAL and the head copy the line.
//!
//! Fields are read as prost reads them: unknown ones skipped, a repeated scalar field's last
//! value kept, a message field given twice merged; invalid UTF-8 is made valid (U+FFFD), as
//! Loki takes it, never refused.

use std::borrow::Cow;

use prost::DecodeError;
use prost::encoding::{DecodeContext, WireType, decode_varint, skip_field};
use store::{Incoming, IncomingStream};

/// Why a body could not be read: its wire format, a stream's label set, or more streams and
/// entries than one push may take in memory (see [`super::Budget`]).
#[derive(Debug)]
pub enum ReadError {
    Wire(String),
    Labels(String),
    TooLarge(crate::error::ApiError),
}

impl From<DecodeError> for ReadError {
    fn from(e: DecodeError) -> Self {
        ReadError::Wire(e.to_string())
    }
}

/// The streams of a `PushRequest` (field 1, `streams`).
pub fn read(body: &[u8]) -> Result<Vec<IncomingStream<'_>>, ReadError> {
    let mut buf = body;
    let mut out = Vec::new();
    let mut budget = super::Budget::new();
    while !buf.is_empty() {
        let (tag, wt) = decode_key(&mut buf)?;
        match tag {
            1 => out.push(stream(message(&mut buf, wt)?, &mut budget)?),
            _ => skip(&mut buf, tag, wt)?,
        }
    }
    Ok(out)
}

/// A `StreamAdapter`: `labels` (1), `entries` (2); its `hash` (3) is not needed.
fn stream<'a>(m: &'a [u8], budget: &mut super::Budget) -> Result<IncomingStream<'a>, ReadError> {
    // Counted first, so that the entries are laid out once, and refused before they are if
    // the push would take too much memory.
    let (mut count, mut label_bytes) = (0, 0);
    let mut buf = m;
    while !buf.is_empty() {
        let (tag, wt) = decode_key(&mut buf)?;
        match tag {
            1 => label_bytes = message(&mut buf, wt)?.len(),
            2 => {
                message(&mut buf, wt)?;
                count += 1;
            }
            _ => skip(&mut buf, tag, wt)?,
        }
    }
    budget.stream(label_bytes).map_err(ReadError::TooLarge)?;
    budget.entries(count, std::mem::size_of::<Incoming>()).map_err(ReadError::TooLarge)?;
    let mut labels: &[u8] = b"";
    let mut entries = Vec::with_capacity(count);
    let mut buf = m;
    while !buf.is_empty() {
        let (tag, wt) = decode_key(&mut buf)?;
        match tag {
            1 => labels = message(&mut buf, wt)?,
            2 => entries.push(entry(message(&mut buf, wt)?)?),
            _ => skip(&mut buf, tag, wt)?,
        }
    }
    let labels =
        model::parse_prom_labels(&String::from_utf8_lossy(labels)).map_err(|e| ReadError::Labels(e.to_string()))?;
    Ok(IncomingStream { labels, entries })
}

/// An `EntryAdapter`: `timestamp` (1), `line` (2), `structuredMetadata` (3); `parsed` (4) is
/// what a querier adds, never pushed.
fn entry(m: &[u8]) -> Result<Incoming<'_>, ReadError> {
    let (mut seconds, mut nanos) = (0i64, 0i32);
    let mut line: &[u8] = b"";
    let mut metadata = Vec::new();
    let mut buf = m;
    while !buf.is_empty() {
        let (tag, wt) = decode_key(&mut buf)?;
        match tag {
            1 => timestamp(message(&mut buf, wt)?, &mut seconds, &mut nanos)?,
            2 => line = message(&mut buf, wt)?,
            3 => metadata.push(pair(message(&mut buf, wt)?)?),
            _ => skip(&mut buf, tag, wt)?,
        }
    }
    Ok(Incoming {
        ts: seconds.saturating_mul(1_000_000_000).saturating_add(nanos as i64),
        line: text(line),
        metadata: model::Metadata::new(metadata),
    })
}

/// A `google.protobuf.Timestamp` (`seconds` 1, `nanos` 2), merged into what an earlier
/// occurrence of the field set.
fn timestamp(m: &[u8], seconds: &mut i64, nanos: &mut i32) -> Result<(), ReadError> {
    let mut buf = m;
    while !buf.is_empty() {
        let (tag, wt) = decode_key(&mut buf)?;
        match tag {
            1 => *seconds = varint(&mut buf, wt)? as i64,
            2 => *nanos = varint(&mut buf, wt)? as i32,
            _ => skip(&mut buf, tag, wt)?,
        }
    }
    Ok(())
}

/// A `LabelPairAdapter` (`name` 1, `value` 2).
fn pair(m: &[u8]) -> Result<(String, String), ReadError> {
    let (mut name, mut value): (&[u8], &[u8]) = (b"", b"");
    let mut buf = m;
    while !buf.is_empty() {
        let (tag, wt) = decode_key(&mut buf)?;
        match tag {
            1 => name = message(&mut buf, wt)?,
            2 => value = message(&mut buf, wt)?,
            _ => skip(&mut buf, tag, wt)?,
        }
    }
    Ok((text(name).into_owned(), text(value).into_owned()))
}

/// Checked first as it mostly is, valid (`from_utf8_lossy` walks every line in chunks: a
/// twentieth of ingest's CPU).
fn text(b: &[u8]) -> Cow<'_, str> {
    match simdutf8::basic::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
    }
}

/// A length-delimited field's bytes (a string, bytes or an embedded message).
fn message<'a>(buf: &mut &'a [u8], wt: WireType) -> Result<&'a [u8], ReadError> {
    expect(wt, WireType::LengthDelimited)?;
    let len = uvarint(buf)?;
    if len > buf.len() as u64 {
        return Err(ReadError::Wire(format!("a field of {len} bytes where {} are left", buf.len())));
    }
    let (field, rest) = buf.split_at(len as usize);
    *buf = rest;
    Ok(field)
}

fn varint(buf: &mut &[u8], wt: WireType) -> Result<u64, ReadError> {
    expect(wt, WireType::Varint)?;
    uvarint(buf)
}

/// A varint: a byte of its own inline (field keys and most lengths), else prost's decoder.
#[inline]
fn uvarint(buf: &mut &[u8]) -> Result<u64, ReadError> {
    match buf.first() {
        Some(&b) if b < 0x80 => {
            *buf = &buf[1..];
            Ok(b as u64)
        }
        _ => Ok(decode_varint(buf)?),
    }
}

/// A field's key: its tag and wire type (what prost's `decode_key` checks, inline).
#[inline]
fn decode_key(buf: &mut &[u8]) -> Result<(u32, WireType), ReadError> {
    let key = uvarint(buf)?;
    if key > u32::MAX as u64 {
        return Err(ReadError::Wire(format!("invalid key value: {key}")));
    }
    let wt = WireType::try_from(key & 0x07).map_err(|e| ReadError::Wire(e.to_string()))?;
    let tag = key as u32 >> 3;
    if tag == 0 {
        return Err(ReadError::Wire("invalid tag value: 0".into()));
    }
    Ok((tag, wt))
}

fn expect(wt: WireType, want: WireType) -> Result<(), ReadError> {
    if wt == want { Ok(()) } else { Err(ReadError::Wire(format!("invalid wire type: {wt:?} (expected {want:?})"))) }
}

fn skip(buf: &mut &[u8], tag: u32, wt: WireType) -> Result<(), ReadError> {
    Ok(skip_field(wt, tag, buf, DecodeContext::default())?)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use lokiproto::received::{EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter};

    fn ts(n: i64) -> Option<lokiproto::Timestamp> {
        Some(lokiproto::Timestamp { seconds: n.div_euclid(1_000_000_000), nanos: n.rem_euclid(1_000_000_000) as i32 })
    }

    /// What prost's messages decode, made into entries as the server made them before.
    fn by_messages(body: &[u8]) -> Vec<(String, Vec<model::Entry>)> {
        let req = PushRequest::decode(body).unwrap();
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        req.streams
            .into_iter()
            .map(|s| {
                let labels = model::parse_prom_labels(&text(s.labels)).unwrap().to_string();
                let entries = s
                    .entries
                    .into_iter()
                    .map(|e| model::Entry {
                        ts: e.timestamp.map_or(0, |t| t.seconds * 1_000_000_000 + t.nanos as i64),
                        line: text(e.line),
                        metadata: e.structured_metadata.into_iter().map(|p| (text(p.name), text(p.value))).collect(),
                    })
                    .collect();
                (labels, entries)
            })
            .collect()
    }

    fn by_walk(body: &[u8]) -> Vec<(String, Vec<model::Entry>)> {
        read(body)
            .unwrap()
            .into_iter()
            .map(|s| (s.labels.to_string(), s.entries.iter().map(Incoming::to_entry).collect()))
            .collect()
    }

    #[test]
    fn reads_what_prost_messages_decode() {
        let mut x = 5u64;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            x >> 33
        };
        let lines: [&[u8]; 5] =
            [b"GET /x 200", b"", b"caf\xe9 \xff end", "é ünïcode".as_bytes(), b"level=error msg=boom"];
        for round in 0..200 {
            let streams = (0..1 + next() % 4)
                .map(|s| StreamAdapter {
                    labels: format!(r#"{{app="a{s}", round="{round}"}}"#).into_bytes(),
                    entries: (0..next() % 30)
                        .map(|i| EntryAdapter {
                            timestamp: if next() % 9 == 0 {
                                None
                            } else {
                                ts(1_700_000_000_000_000_000 + i as i64 * 7 + next() as i64)
                            },
                            line: lines[next() as usize % lines.len()].to_vec(),
                            structured_metadata: (0..next() % 3)
                                .map(|k| LabelPairAdapter {
                                    name: format!("k{k}").into_bytes(),
                                    value: b"v\xc3(".to_vec(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect();
            let body = PushRequest { streams }.encode_to_vec();
            assert_eq!(by_walk(&body), by_messages(&body), "round {round}");
        }
    }

    #[test]
    fn lines_are_borrowed_from_the_body_unless_made_valid() {
        let body = PushRequest {
            streams: vec![StreamAdapter {
                labels: br#"{app="a"}"#.to_vec(),
                entries: vec![
                    EntryAdapter { timestamp: ts(5), line: b"valid".to_vec(), structured_metadata: vec![] },
                    EntryAdapter { timestamp: ts(6), line: b"in\xffvalid".to_vec(), structured_metadata: vec![] },
                ],
            }],
        }
        .encode_to_vec();
        let streams = read(&body).unwrap();
        assert!(matches!(streams[0].entries[0].line, Cow::Borrowed("valid")));
        assert_eq!(streams[0].entries[1].line, "in\u{fffd}valid");
    }

    #[test]
    fn fields_given_twice_and_unknown_fields_as_prost_reads_them() {
        // A stream whose entry gives `line` twice (the last is kept) and its timestamp in two
        // parts (merged), with unknown fields of every wire type around them.
        let mut entry = Vec::new();
        prost::encoding::string::encode(2, &"first".to_string(), &mut entry);
        prost::encoding::message::encode(1, &lokiproto::Timestamp { seconds: 7, nanos: 0 }, &mut entry);
        prost::encoding::uint64::encode(9, &77, &mut entry);
        prost::encoding::fixed32::encode(10, &1, &mut entry);
        prost::encoding::fixed64::encode(11, &1, &mut entry);
        prost::encoding::string::encode(2, &"second".to_string(), &mut entry);
        prost::encoding::message::encode(1, &lokiproto::Timestamp { seconds: 0, nanos: 3 }, &mut entry);
        let mut stream = Vec::new();
        prost::encoding::string::encode(1, &r#"{app="a"}"#.to_string(), &mut stream);
        prost::encoding::bytes::encode(2, &entry, &mut stream);
        prost::encoding::uint64::encode(3, &12345, &mut stream);
        let mut body = Vec::new();
        prost::encoding::string::encode(2, &"format".to_string(), &mut body);
        prost::encoding::bytes::encode(1, &stream, &mut body);
        assert_eq!(by_walk(&body), by_messages(&body));
        assert_eq!(by_walk(&body)[0].1[0].line, "second");
        assert_eq!(by_walk(&body)[0].1[0].ts, 7_000_000_003);
    }

    #[test]
    fn damaged_bodies_are_errors_never_panics() {
        let body = PushRequest {
            streams: vec![StreamAdapter {
                labels: br#"{app="a"}"#.to_vec(),
                entries: vec![EntryAdapter { timestamp: ts(5), line: b"a line".to_vec(), structured_metadata: vec![] }],
            }],
        }
        .encode_to_vec();
        for cut in 0..body.len() {
            let _ = read(&body[..cut]);
            let mut flipped = body.clone();
            flipped[cut] ^= 0x80;
            let _ = read(&flipped);
        }
        assert!(matches!(read(&body[..body.len() - 1]), Err(ReadError::Wire(_))));
        // `streams` as a varint: the wrong wire type.
        assert!(matches!(read(&[0x08, 0x01]), Err(ReadError::Wire(_))));
    }
}
