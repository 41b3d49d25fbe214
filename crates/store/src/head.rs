//! A stream's head: the entries that are in the WAL but not yet in a segment, kept sorted by
//! time in compact buffers (a small record per entry, the line bytes appended to chunks of
//! [`CHUNK`] bytes: memory grows with what is held, never by doubling, and is not copied as
//! it grows).

use model::Entry;

/// Bytes of line text per chunk, at most (a longer line gets a chunk of its own).
const CHUNK: usize = 64 << 10;

#[derive(Debug, Clone, Copy)]
struct Rec {
    ts: i64,
    chunk: u32,
    start: u32,
    len: u32,
    /// 0: no metadata; otherwise an index + 1 into `Head::meta`.
    meta: u32,
}

#[derive(Debug, Default)]
pub struct Head {
    recs: Vec<Rec>,
    chunks: Vec<String>,
    /// Distinct metadata sets, each stored once (most entries share a few, e.g. a level).
    meta: Vec<model::Metadata>,
    meta_ids: std::collections::HashMap<Vec<(String, String)>, u32>,
    bytes: u64,
}

impl Head {
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    pub fn min_ts(&self) -> Option<i64> {
        self.recs.first().map(|r| r.ts)
    }

    fn line(&self, r: &Rec) -> &str {
        &self.chunks[r.chunk as usize][r.start as usize..(r.start + r.len) as usize]
    }

    fn meta_of(&self, r: &Rec) -> &[(String, String)] {
        if r.meta == 0 { &[] } else { &self.meta[r.meta as usize - 1] }
    }

    /// A record's metadata set, shared with the entries read before it.
    fn meta_set(&self, r: &Rec) -> model::Metadata {
        if r.meta == 0 { model::Metadata::default() } else { self.meta[r.meta as usize - 1].clone() }
    }

    /// Appends a line's text to the last chunk, or to a new one when it does not fit.
    fn store(&mut self, line: &str) -> (u32, u32) {
        let fits = self.chunks.last().is_some_and(|c| c.capacity() - c.len() >= line.len());
        if !fits {
            // As large as what the head holds already (so a quiet stream's head stays small),
            // up to a chunk.
            let size = (self.bytes as usize).clamp(256, CHUNK).max(line.len());
            self.chunks.push(String::with_capacity(size));
        }
        let c = self.chunks.last_mut().expect("a chunk");
        let start = c.len() as u32;
        c.push_str(line);
        ((self.chunks.len() - 1) as u32, start)
    }

    /// Whether an identical entry (timestamp, line and metadata) is already here.
    pub fn contains(&self, ts: i64, line: &str, meta: &[(String, String)]) -> bool {
        let hi = self.recs.partition_point(|r| r.ts <= ts);
        self.recs[..hi].iter().rev().take_while(|r| r.ts == ts).any(|r| self.line(r) == line && self.meta_of(r) == meta)
    }

    /// Adds an entry in time order (after entries of the same timestamp). The caller has already
    /// checked for duplicates.
    pub fn push(&mut self, ts: i64, line: &str, meta: &model::Metadata) {
        let rec = self.record(ts, line, meta);
        if self.recs.last().is_none_or(|l| l.ts <= ts) {
            self.recs.push(rec);
        } else {
            let at = self.recs.partition_point(|r| r.ts <= ts);
            self.recs.insert(at, rec);
        }
    }

    /// Adds entries as [`Head::push`] would one by one, but a run that arrives behind what the
    /// head holds (two clients' batches crossing) is merged once instead of each entry
    /// shifting the newer ones.
    pub fn push_all<'a>(&mut self, entries: impl IntoIterator<Item = (i64, &'a str, &'a model::Metadata)>) {
        let before = self.recs.len();
        let (mut sorted, mut min_ts) = (true, i64::MAX);
        for (ts, line, meta) in entries {
            let rec = self.record(ts, line, meta);
            sorted &= self.recs.last().is_none_or(|l| l.ts <= rec.ts);
            min_ts = min_ts.min(rec.ts);
            self.recs.push(rec);
        }
        if !sorted {
            // Everything before `at` is not newer than any new entry, so it stays in place; a
            // stable sort of the rest puts each new entry after the held ones of its timestamp
            // and keeps the new ones' own order among equals, as single pushes would.
            let at = self.recs[..before].partition_point(|r| r.ts <= min_ts);
            self.recs[at..].sort_by_key(|r| r.ts);
        }
    }

    /// Stores an entry's line and metadata set, and returns its record.
    fn record(&mut self, ts: i64, line: &str, meta: &model::Metadata) -> Rec {
        let (chunk, start) = self.store(line);
        let last = self.recs.last().map_or(0, |r| r.meta);
        // Sets are kept as they come, shared: an entry carrying the very set stored (a level's,
        // shared by the push decoders) is known without comparing its strings.
        let same = |m: &model::Metadata| m.ptr_eq(meta) || **m == **meta;
        let meta_idx = if meta.is_empty() {
            0
        } else if last != 0 && same(&self.meta[last as usize - 1]) {
            last // most entries carry the set the one before carried
        } else if let Some(i) = self.meta.iter().take(8).position(same) {
            // A head mostly holds a few sets (a level each): compared before hashing.
            i as u32 + 1
        } else if let Some(&id) = self.meta_ids.get(&**meta) {
            id
        } else {
            self.meta.push(meta.clone());
            let id = self.meta.len() as u32;
            self.meta_ids.insert(meta.to_vec(), id);
            id
        };
        self.bytes += line.len() as u64;
        Rec { ts, chunk, start, len: line.len() as u32, meta: meta_idx }
    }

    /// Entries with `start <= ts < end`, in time order.
    pub fn range(&self, start: i64, end: i64) -> Vec<Entry> {
        let lo = self.recs.partition_point(|r| r.ts < start);
        let hi = self.recs.partition_point(|r| r.ts < end);
        self.recs[lo..hi]
            .iter()
            .map(|r| Entry { ts: r.ts, line: self.line(r).to_string(), metadata: self.meta_set(r) })
            .collect()
    }

    /// Counts and bytes of entries with `start <= ts < end`.
    pub fn stats(&self, start: i64, end: i64) -> (u64, u64) {
        let lo = self.recs.partition_point(|r| r.ts < start);
        let hi = self.recs.partition_point(|r| r.ts < end);
        let bytes = self.recs[lo..hi].iter().map(|r| r.len as u64).sum();
        ((hi - lo) as u64, bytes)
    }

    /// All entries as borrowed rows, in time order.
    pub fn rows(&self) -> impl Iterator<Item = (i64, &str, &[(String, String)])> {
        self.recs.iter().map(|r| (r.ts, self.line(r), self.meta_of(r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_pushed_together_end_as_single_pushes_leave_them() {
        // Two clients' batches crossing, with timestamps repeated inside and across runs.
        let mut x = 11u64;
        let mut one = Head::default();
        let mut many = Head::default();
        for run in 0..40 {
            let mut batch = Vec::new();
            for i in 0..25 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let ts = (run as i64 % 7) * 10 + (x >> 60) as i64 + if i % 9 == 0 { -20 } else { 0 };
                batch.push(Entry::new(ts, format!("r{run} e{i}")));
            }
            for e in &batch {
                one.push(e.ts, &e.line, &e.metadata);
            }
            many.push_all(batch.iter().map(|e| (e.ts, e.line.as_str(), &e.metadata)));
        }
        let lines = |h: &Head| h.rows().map(|(ts, l, _)| (ts, l.to_string())).collect::<Vec<_>>();
        assert_eq!(lines(&many), lines(&one));
        assert!(lines(&many).windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn keeps_order_and_finds_duplicates() {
        let mut h = Head::default();
        h.push(20, "b", &Default::default());
        h.push(10, "a", &Default::default());
        h.push(20, "c", &vec![("k".into(), "v".into())].into());
        h.push(15, "x", &Default::default());
        let all: Vec<_> = h.range(i64::MIN, i64::MAX).into_iter().map(|e| (e.ts, e.line)).collect();
        assert_eq!(all, vec![(10, "a".into()), (15, "x".into()), (20, "b".into()), (20, "c".into())]);
        assert!(h.contains(20, "b", &[]));
        assert!(!h.contains(20, "c", &[]));
        assert!(h.contains(20, "c", &[("k".into(), "v".into())]));
        assert_eq!(h.range(15, 20).len(), 1);
        assert_eq!(h.stats(0, 100), (4, 4));
    }

    #[test]
    fn lines_fill_chunks_and_long_ones_get_their_own() {
        let mut h = Head::default();
        let long = "x".repeat(CHUNK + 10);
        let lines: Vec<String> = (0..3000).map(|i| format!("line {i} {}", "y".repeat(i % 97))).collect();
        for (i, l) in lines.iter().enumerate() {
            h.push(i as i64, l, &Default::default());
            if i == 1500 {
                h.push(i as i64, &long, &Default::default());
            }
        }
        let back: Vec<String> = h.rows().map(|(_, l, _)| l.to_string()).collect();
        let mut want = lines.clone();
        want.insert(1501, long.clone());
        assert_eq!(back, want);
        let held: usize = h.chunks.iter().map(|c| c.capacity()).sum();
        let text: usize = want.iter().map(|l| l.len()).sum();
        assert!(held < text + 3 * CHUNK, "{held} bytes held for {text}");
        let mut quiet = Head::default();
        quiet.push(1, "a short line", &Default::default());
        assert!(quiet.chunks[0].capacity() < 1024, "a quiet stream's head stays small");
    }
}
