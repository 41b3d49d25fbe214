//! A writer's fresh entries as a count needs them from it: each entry's time, line length and
//! identity hash (`digest.rs`) with its metadata, never its line. A count over replicated
//! streams compares and counts these as it does entries (`replicas.rs`, `dedup.rs`), in about a
//! tenth of the bytes, and the asker allocates no line.
//!
//! Encoding (zstd-compressed, `application/x-bitacora-identities`): a varint count of streams;
//! per stream its labels (length-prefixed, Prometheus text), a varint count of metadata sets
//! and each set (a count of pairs, each key and value length-prefixed), a varint count of
//! entries and per entry: the time's difference from the previous (zigzag varint), the line's
//! length (varint), the hash (8 bytes, little-endian) and the index of its metadata set (varint).

use std::collections::HashMap;

use model::Labels;

use crate::varint::{self, Reader};

/// The content type of an encoded answer.
pub const CONTENT_TYPE: &str = "application/x-bitacora-identities";

/// An entry without its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub ts: i64,
    /// The line's length in bytes.
    pub bytes: u64,
    /// `digest::line_hash` of the line, seeded with its metadata's hash.
    pub hash: u64,
    pub metadata: model::Metadata,
}

impl Identity {
    pub fn of(e: &model::Entry) -> Identity {
        let hash = crate::digest::line_hash(e.line.as_bytes(), crate::digest::metadata_hash(&e.metadata));
        Identity { ts: e.ts, bytes: e.line.len() as u64, hash, metadata: e.metadata.clone() }
    }
}

/// Identities by stream.
pub type IdentityStreams = Vec<(Labels, Vec<Identity>)>;

pub fn encode(streams: &IdentityStreams) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    varint::put_u64(&mut buf, streams.len() as u64);
    for (labels, ids) in streams {
        varint::put_bytes(&mut buf, labels.to_string().as_bytes());
        let mut sets: HashMap<&[(String, String)], u64> = HashMap::new();
        let mut order: Vec<&[(String, String)]> = Vec::new();
        let indexes: Vec<u64> = ids
            .iter()
            .map(|id| {
                *sets.entry(id.metadata.as_slice()).or_insert_with(|| {
                    order.push(id.metadata.as_slice());
                    order.len() as u64 - 1
                })
            })
            .collect();
        varint::put_u64(&mut buf, order.len() as u64);
        for set in order {
            varint::put_u64(&mut buf, set.len() as u64);
            for (k, v) in set {
                varint::put_bytes(&mut buf, k.as_bytes());
                varint::put_bytes(&mut buf, v.as_bytes());
            }
        }
        varint::put_u64(&mut buf, ids.len() as u64);
        let mut prev = 0i64;
        for (id, set) in ids.iter().zip(indexes) {
            varint::put_i64(&mut buf, id.ts.wrapping_sub(prev));
            prev = id.ts;
            varint::put_u64(&mut buf, id.bytes);
            buf.extend_from_slice(&id.hash.to_le_bytes());
            varint::put_u64(&mut buf, set);
        }
    }
    zstd::bulk::compress(&buf, 1)
}

/// Decodes an answer, refusing one that would decompress beyond `max_bytes`.
pub fn decode(body: &[u8], max_bytes: usize) -> Result<IdentityStreams, String> {
    let plain = zstd::bulk::decompress(body, max_bytes).map_err(|e| format!("undecodable identities: {e}"))?;
    let bad = |e: crate::varint::Corrupt| format!("damaged identities: {e}");
    let mut r = Reader::new(&plain);
    let n = r.u64().map_err(bad)? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let text = r.str().map_err(bad)?;
        let labels = model::parse_prom_labels(text).map_err(|e| format!("labels {text:?}: {e}"))?;
        let nsets = r.u64().map_err(bad)? as usize;
        let mut sets = Vec::with_capacity(nsets.min(1 << 16));
        for _ in 0..nsets {
            let pairs = r.u64().map_err(bad)? as usize;
            let mut set = Vec::with_capacity(pairs.min(256));
            for _ in 0..pairs {
                set.push((r.str().map_err(bad)?.to_string(), r.str().map_err(bad)?.to_string()));
            }
            sets.push(model::Metadata::new(set));
        }
        let count = r.u64().map_err(bad)? as usize;
        let mut ids = Vec::with_capacity(count.min(plain.len() / 10 + 1));
        let mut ts = 0i64;
        for _ in 0..count {
            ts = ts.wrapping_add(r.i64().map_err(bad)?);
            let bytes = r.u64().map_err(bad)?;
            let hash = u64::from_le_bytes(r.take(8).map_err(bad)?.try_into().expect("8 bytes"));
            let set = r.u64().map_err(bad)? as usize;
            let metadata = sets.get(set).ok_or_else(|| format!("damaged identities: metadata set {set} of {nsets}"))?;
            ids.push(Identity { ts, bytes, hash, metadata: metadata.clone() });
        }
        out.push((labels, ids));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_round_trip_and_damage_is_an_error() {
        let e = |ts: i64, line: &str, meta: &[(&str, &str)]| model::Entry {
            ts,
            line: line.into(),
            metadata: meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        let ids = vec![
            Identity::of(&e(5, "GET /", &[])),
            Identity::of(&e(7, "POST /x", &[("trace_id", "abc")])),
            Identity::of(&e(7, "GET /", &[])),
        ];
        let streams = vec![(Labels::from_pairs([("app", "api")]).unwrap(), ids)];
        let body = encode(&streams).unwrap();
        assert_eq!(decode(&body, 1 << 20).unwrap(), streams);
        assert!(decode(&body, 10).unwrap_err().contains("undecodable"));
        let plain = zstd::bulk::decompress(&body, 1 << 20).unwrap();
        let cut = zstd::bulk::compress(&plain[..plain.len() - 3], 1).unwrap();
        assert!(decode(&cut, 1 << 20).unwrap_err().contains("damaged"));
    }
}
