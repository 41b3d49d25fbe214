//! What a block holds, summed per ten-second window of time, so two writers' copies of a stream
//! can be compared without reading a line (issue 16: counting replicated streams).
//!
//! Windows are closed on the right, as LogQL's ranges are: window `w` holds the times in
//! `(w·WINDOW, (w+1)·WINDOW]`, so a query whose step and range are whole windows reads whole
//! windows (`tally.rs`). Footers of version 3 summed `[w·WINDOW, (w+1)·WINDOW)` instead; their
//! digests are not read (such blocks are compared entry by entry, as before digests existed).
//!
//! An entry's identity is its time and a hash of its line seeded by its metadata's hash. Each
//! block's footer carries, for every [`WINDOW`] its entries fall in, how many there are and the
//! wrapping sum of their identities, mixed. Sums add up: a writer's digest of a window is the
//! sum over its blocks and in-memory entries, however it cut them. Two writers whose digests of
//! a window are equal hold the same entries there (a 2⁻⁶⁴ chance aside), so a count reads one
//! of them; where they differ, the entries of that window are compared one by one (`dedup.rs`).

use crate::varint::{self, Corrupt, Reader};

/// The width of a digest's window, in nanoseconds.
pub const WINDOW: i64 = 10_000_000_000;

/// The window `ts` falls in.
pub fn window_of(ts: i64) -> i64 {
    ts.saturating_sub(1).div_euclid(WINDOW)
}

/// The first time window `w` holds.
pub fn window_start(w: i64) -> i64 {
    w.saturating_mul(WINDOW).saturating_add(1)
}

/// The last time window `w` holds.
pub fn window_end(w: i64) -> i64 {
    w.saturating_add(1).saturating_mul(WINDOW)
}

/// One window's entries: how many, and their identities summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Digest {
    pub count: u64,
    pub sum: u64,
}

impl Digest {
    pub fn add(&mut self, o: Digest) {
        self.count += o.count;
        self.sum = self.sum.wrapping_add(o.sum);
    }
}

/// A block's digests, by window, in window order.
pub type Windows = Vec<(i64, Digest)>;

/// A hash of an entry's metadata set (0 for none).
pub fn metadata_hash<K: AsRef<str>, V: AsRef<str>>(m: &[(K, V)]) -> u64 {
    if m.is_empty() {
        return 0;
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for (k, v) in m {
        h.update(k.as_ref().as_bytes());
        h.update(&[0xff]);
        h.update(v.as_ref().as_bytes());
        h.update(&[0xfe]);
    }
    h.digest()
}

/// An entry's identity beside its time: its line hashed, seeded by its metadata's hash.
pub fn line_hash(line: &[u8], metadata_hash: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(line, metadata_hash)
}

/// An entry's identity beside its time, from its line and metadata: what recognises exact
/// duplicates at one timestamp (a push's, a read's), the same identity counts and digests use.
pub fn entry_hash(line: &str, metadata: &[(String, String)]) -> u64 {
    line_hash(line.as_bytes(), metadata_hash(metadata))
}

/// What an entry adds to its window's sum: its time and line hash mixed (splitmix64's
/// finalizer), so entries moved in time do not cancel out.
pub fn mixed(ts: i64, line_hash: u64) -> u64 {
    let mut z = line_hash ^ (ts as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Sums entries into windows as they come (in any order; runs of one window are cheap).
#[derive(Debug, Default)]
pub struct Builder {
    windows: Vec<(i64, Digest)>,
}

impl Builder {
    pub fn add(&mut self, ts: i64, line_hash: u64) {
        let w = window_of(ts);
        let d = Digest { count: 1, sum: mixed(ts, line_hash) };
        match self.windows.last_mut() {
            Some((lw, ld)) if *lw == w => ld.add(d),
            _ => self.windows.push((w, d)),
        }
    }

    /// The windows, sorted and each once.
    pub fn finish(mut self) -> Windows {
        if !self.windows.is_sorted_by_key(|(w, _)| *w) {
            self.windows.sort_by_key(|(w, _)| *w);
        }
        let mut out: Windows = Vec::with_capacity(self.windows.len());
        for (w, d) in self.windows {
            match out.last_mut() {
                Some((lw, ld)) if *lw == w => ld.add(d),
                _ => out.push((w, d)),
            }
        }
        out
    }
}

/// Writes a block's windows into its footer entry.
pub fn encode(windows: &Windows, buf: &mut Vec<u8>) {
    varint::put_u64(buf, windows.len() as u64);
    let mut prev = 0i64;
    for (w, d) in windows {
        varint::put_i64(buf, w.wrapping_sub(prev));
        prev = *w;
        varint::put_u64(buf, d.count);
        buf.extend_from_slice(&d.sum.to_le_bytes());
    }
}

pub fn decode(r: &mut Reader<'_>) -> Result<Windows, Corrupt> {
    let n = r.u64()? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    let mut w = 0i64;
    for _ in 0..n {
        w = w.wrapping_add(r.i64()?);
        let count = r.u64()?;
        let sum = u64::from_le_bytes(r.take(8)?.try_into().map_err(|_| Corrupt(r.position()))?);
        out.push((w, Digest { count, sum }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// However entries are split into blocks and in whatever order, a window's sums add up to
    /// the same digest; a changed line, time or metadata changes it.
    #[test]
    fn sums_do_not_depend_on_how_entries_are_cut() {
        let entries: Vec<(i64, String)> = (0..1000).map(|i| (i * 37_000_000 + 1, format!("line {i}"))).collect();
        let whole = {
            let mut b = Builder::default();
            for (ts, l) in &entries {
                b.add(*ts, line_hash(l.as_bytes(), 0));
            }
            b.finish()
        };
        let mut parts: std::collections::BTreeMap<i64, Digest> = Default::default();
        for chunk in entries.chunks(77).rev() {
            let mut b = Builder::default();
            for (ts, l) in chunk.iter().rev() {
                b.add(*ts, line_hash(l.as_bytes(), 0));
            }
            for (w, d) in b.finish() {
                parts.entry(w).or_default().add(d);
            }
        }
        assert_eq!(whole, parts.into_iter().collect::<Windows>());
        assert_eq!(whole.len(), 4);
        // Closed on the right: a time on a window's edge is the window's last.
        assert_eq!(window_of(10 * WINDOW), 9);
        assert_eq!(window_of(10 * WINDOW + 1), 10);
        assert_eq!((window_start(10), window_end(10)), (10 * WINDOW + 1, 11 * WINDOW));
        assert_eq!(window_of(0), -1);
        let mut buf = Vec::new();
        encode(&whole, &mut buf);
        assert_eq!(decode(&mut Reader::new(&buf)).unwrap(), whole);
        // Two entries trading times do not cancel out.
        let a = mixed(1, line_hash(b"a", 0)).wrapping_add(mixed(3, line_hash(b"b", 0)));
        let b = mixed(3, line_hash(b"a", 0)).wrapping_add(mixed(1, line_hash(b"b", 0)));
        assert_ne!(a, b);
        assert_ne!(line_hash(b"a", 0), line_hash(b"a", metadata_hash(&[("k", "v")])));
    }
}
