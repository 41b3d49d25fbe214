//! What a block holds per window of time and metadata set: how many entries and how many bytes
//! of line, kept in the block's footer so that counting queries whose steps and ranges fall on
//! window edges answer a block without decompressing anything.
//!
//! The windows are the block's digest windows (`digest.rs`: ten seconds, closed on the right
//! as LogQL's ranges are). A block carrying more than [`MAX_SETS`] distinct metadata sets has no
//! tally: counting reads its column frame instead. Knows nothing of queries beyond the
//! segments between `Summaries::bounds`.

use model::{LineStat, Summaries};

use crate::block::Shared;
use crate::digest::{self, Windows};
use crate::varint::{self, Corrupt, Reader};

/// The most distinct metadata sets a block's tally splits its windows by.
pub const MAX_SETS: usize = 8;

/// One window's entries of one metadata set (8 bytes in memory: segments read from the bucket
/// keep their tallies in memory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cell {
    pub count: u32,
    pub bytes: u32,
}

/// A block's entries by window (its digest windows, in order) and metadata set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The distinct metadata sets (one, possibly empty, when entries carry one set).
    pub sets: Vec<Shared>,
    /// `windows × sets` cells, window by window.
    pub cells: Vec<Cell>,
}

impl Tally {
    fn row(&self, window: usize) -> &[Cell] {
        let n = self.sets.len();
        &self.cells[window * n..(window + 1) * n]
    }
}

/// Builds a tally from a block's entries in time order.
#[derive(Debug, Default)]
pub struct Builder {
    /// Each set's index is its place here; `None` once more than [`MAX_SETS`] were met, or an
    /// entry came out of time order.
    sets: Option<Vec<Shared>>,
    windows: Vec<(i64, [Cell; MAX_SETS])>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder { sets: Some(Vec::new()), windows: Vec::new() }
    }

    /// The index of `meta`'s set, which a caller keeps while entries repeat it (`None`: the
    /// block has too many sets for a tally).
    pub fn set_of(&mut self, meta: &[(String, String)]) -> Option<usize> {
        let sets = self.sets.as_mut()?;
        if let Some(i) = sets.iter().position(|s| s.as_slice() == meta) {
            return Some(i);
        }
        if sets.len() == MAX_SETS {
            self.sets = None;
            return None;
        }
        sets.push(meta.to_vec().into());
        Some(sets.len() - 1)
    }

    pub fn add(&mut self, ts: i64, set: Option<usize>, bytes: u64) {
        let (Some(set), Some(_)) = (set, &self.sets) else {
            self.sets = None;
            return;
        };
        let w = digest::window_of(ts);
        match self.windows.last_mut() {
            Some((lw, _)) if *lw > w => {
                self.sets = None;
                return;
            }
            Some((lw, _)) if *lw == w => {}
            _ => self.windows.push((w, [Cell::default(); MAX_SETS])),
        }
        let c = &mut self.windows.last_mut().expect("pushed above").1[set];
        match u32::try_from(bytes).ok().and_then(|b| c.bytes.checked_add(b)) {
            Some(b) => {
                c.count += 1;
                c.bytes = b;
            }
            // More than 4 GiB of lines in ten seconds of one block: counted from its columns.
            None => self.sets = None,
        }
    }

    /// The tally, if the block can have one; `windows` are its digest windows.
    pub fn finish(self, windows: &Windows) -> Option<Tally> {
        let sets = self.sets?;
        let same = self.windows.len() == windows.len() && self.windows.iter().zip(windows).all(|(a, b)| a.0 == b.0);
        if !same || sets.is_empty() {
            return None;
        }
        let cells = self.windows.iter().flat_map(|(_, row)| row[..sets.len()].iter().copied()).collect();
        Some(Tally { sets, cells })
    }
}

/// Writes a block's tally into its footer entry (0 sets: none).
pub fn encode(t: Option<&Tally>, buf: &mut Vec<u8>) {
    let Some(t) = t else {
        varint::put_u64(buf, 0);
        return;
    };
    varint::put_u64(buf, t.sets.len() as u64);
    for s in &t.sets {
        varint::put_u64(buf, s.len() as u64);
        for (k, v) in s.iter() {
            varint::put_bytes(buf, k.as_bytes());
            varint::put_bytes(buf, v.as_bytes());
        }
    }
    for c in &t.cells {
        varint::put_u64(buf, c.count as u64);
        if c.count > 0 {
            varint::put_u64(buf, c.bytes as u64);
        }
    }
}

/// Reads a block's tally: `windows` digest windows, `count` entries in all (which its cells
/// must add up to).
pub fn decode(r: &mut Reader<'_>, windows: usize, count: u32) -> Result<Option<Tally>, Corrupt> {
    let n = r.u64()? as usize;
    if n == 0 {
        return Ok(None);
    }
    if n > MAX_SETS {
        return Err(Corrupt(r.position()));
    }
    let mut sets = Vec::with_capacity(n);
    for _ in 0..n {
        let pairs = r.u64()? as usize;
        let mut set = Vec::with_capacity(pairs.min(64));
        for _ in 0..pairs {
            set.push((r.str()?.to_string(), r.str()?.to_string()));
        }
        sets.push(set.into());
    }
    let cells_n = windows.checked_mul(n).filter(|&c| c <= count as usize * n).ok_or(Corrupt(r.position()))?;
    let mut cells = Vec::with_capacity(cells_n);
    let mut total = 0u64;
    for _ in 0..cells_n {
        let count = u32::try_from(r.u64()?).map_err(|_| Corrupt(r.position()))?;
        let bytes = if count > 0 { u32::try_from(r.u64()?).map_err(|_| Corrupt(r.position()))? } else { 0 };
        total += count as u64;
        cells.push(Cell { count, bytes });
    }
    if total != count as u64 {
        return Err(Corrupt(r.position()));
    }
    Ok(Some(Tally { sets, cells }))
}

/// A block's entries in `[start, end)` as runs, one per segment of `s` (and per metadata set,
/// `with_metadata`), answered from its tally alone, as `block::decode_runs` answers them from
/// its columns. `None` when the tally cannot say: the block has none, or one of its windows
/// is cut by a bound of `s` or by the read's edges.
pub fn runs(
    m: &crate::block::BlockMeta,
    sums: &crate::block::Sums,
    s: &Summaries,
    start: i64,
    end: i64,
    with_metadata: bool,
) -> Option<Vec<LineStat>> {
    let (windows, tally) = (sums.digests.as_ref()?, sums.tally.as_ref()?);
    // Entries are read in `(lo, hi]`.
    let (lo, hi) = (start.saturating_sub(1), end.saturating_sub(1));
    let mut out: Vec<LineStat> = Vec::new();
    // Per set (or one for all), the index in `out` of its run in the current segment.
    let mut open = [usize::MAX; MAX_SETS];
    let (mut seg, mut open_from) = (usize::MAX, 0usize);
    for (i, (w, _)) in windows.iter().enumerate() {
        // The window's entries lie in `[first, last]`.
        let first = digest::window_start(*w).max(m.min_ts);
        let last = digest::window_end(*w).min(m.max_ts);
        if last <= lo || first > hi {
            continue;
        }
        if first <= lo || last > hi {
            return None;
        }
        let k = s.bounds.partition_point(|&b| b < first);
        if s.bounds.get(k).is_some_and(|&b| b < last) {
            return None;
        }
        if k != seg {
            seg = k;
            open_from = out.len();
        }
        for (j, c) in tally.row(i).iter().enumerate().filter(|(_, c)| c.count > 0) {
            let slot = if with_metadata { j } else { 0 };
            if open[slot] == usize::MAX || open[slot] < open_from {
                open[slot] = out.len();
                let metadata = if with_metadata { tally.sets[j].clone() } else { Default::default() };
                out.push(LineStat { ts: last, bytes: 0, metadata, lines: 0 });
            }
            let run = &mut out[open[slot]];
            run.ts = last;
            run.bytes += c.bytes as u64;
            run.lines += c.count;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const S: i64 = 1_000_000_000;

    type Meta = [(String, String)];

    fn meta(level: &str) -> Vec<(String, String)> {
        vec![("detected_level".to_string(), level.to_string())]
    }

    /// Entries on window edges, across sets: runs from the tally equal runs decoded from the
    /// block's columns, for bounds on window edges; bounds inside a window are refused.
    #[test]
    fn runs_from_the_tally_equal_runs_from_the_columns() {
        let levels = [meta("info"), meta("info"), meta("warn"), Vec::new(), meta("error")];
        let mut rows: Vec<(i64, String, &Meta)> = Vec::new();
        for i in 0..2_000i64 {
            // Every 7th entry exactly on a ten-second edge.
            let ts = if i % 7 == 0 { (i / 7) * 10 * S } else { i * 1_430_000_000 + 3 };
            rows.push((ts, format!("line {i} {}", "x".repeat((i % 13) as usize)), &levels[(i % 5) as usize]));
        }
        rows.sort_by_key(|r| r.0);
        let (data, m) = crate::block::encode(rows.iter().map(|(t, l, md)| (*t, l.as_str(), *md)), 1).unwrap();
        let sums = m.sums.loaded().expect("just encoded");
        let t = sums.tally.as_ref().expect("five sets: a tally");
        assert_eq!(t.sets.len(), 4);
        assert_eq!(t.cells.iter().map(|c| c.count as u64).sum::<u64>(), 2_000);
        let mut buf = Vec::new();
        encode(Some(t), &mut buf);
        let back = decode(&mut Reader::new(&buf), sums.digests.as_ref().unwrap().len(), m.count).unwrap();
        assert_eq!(back.as_ref(), Some(t));
        assert!(decode(&mut Reader::new(&buf), sums.digests.as_ref().unwrap().len(), m.count + 1).is_err());

        let sorted = |mut v: Vec<LineStat>| {
            v.sort_by(|a, b| (a.ts, &a.metadata).cmp(&(b.ts, &b.metadata)));
            v.into_iter().map(|s| (s.ts, s.bytes, s.lines, s.metadata)).collect::<Vec<_>>()
        };
        let (min, max) = (m.min_ts, m.max_ts);
        for step in [60 * S, 300 * S, 10 * S] {
            let bounds: Vec<i64> = (0..=(max / step + 2)).map(|k| k * step).collect();
            let s = Summaries { bounds: Arc::new(bounds.clone()), labels: None };
            let (start, end) = (bounds[1] + 1, bounds[bounds.len() - 2] + 1);
            for with_metadata in [true, false] {
                let fast = runs(&m, sums, &s, start, end, with_metadata).expect("bounds on window edges");
                let slow = crate::block::decode_runs(&data, &s, start, end, with_metadata).unwrap();
                // Runs end at their newest entry (columns) or their newest window's end
                // (tally): both in the same segment.
                let seg = |v: Vec<LineStat>| {
                    sorted(
                        v.into_iter()
                            .map(|mut r| {
                                r.ts = bounds[bounds.partition_point(|&b| b < r.ts)];
                                r
                            })
                            .collect(),
                    )
                };
                assert_eq!(seg(fast), seg(slow), "step {step}, metadata {with_metadata}");
            }
            // A read starting inside a window with entries cannot be answered from the tally.
            assert!(runs(&m, sums, &s, min + 5 * S, end, false).is_none() || min + 5 * S > max);
        }
        let odd =
            Summaries { bounds: Arc::new((0..=(max / (37 * S) + 1)).map(|k| k * 37 * S).collect()), labels: None };
        assert!(runs(&m, sums, &odd, min, max + 1, false).is_none(), "bounds inside windows");
    }

    #[test]
    fn too_many_sets_leave_no_tally() {
        let sets: Vec<Vec<(String, String)>> = (0..=MAX_SETS).map(|i| meta(&i.to_string())).collect();
        let rows: Vec<(i64, &str, &Meta)> =
            sets.iter().enumerate().map(|(i, s)| (i as i64 * S, "x", s.as_slice())).collect();
        let (_, m) = crate::block::encode(rows[..MAX_SETS].iter().copied(), 1).unwrap();
        assert_eq!(m.sums.loaded().unwrap().tally.as_ref().unwrap().sets.len(), MAX_SETS);
        let (_, m) = crate::block::encode(rows.iter().copied(), 1).unwrap();
        assert!(m.sums.loaded().unwrap().tally.is_none());
    }
}
