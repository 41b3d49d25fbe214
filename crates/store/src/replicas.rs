//! Which writer's copy of each ten-second window a count reads, when a stream's entries come
//! from more than one writer (the agent pushing every batch to two, `agent.push_urls`).
//!
//! Each source's entries are summed per window (`digest.rs`: from the block's footer, or hashed
//! for entries in memory). A window whose writers' digests are all equal, or that only one
//! writer holds, is *clean*: one writer's entries there are counted, the others' never read; a
//! count over replicated streams then costs what it costs over one writer (whole blocks from
//! their footers). A window whose digests differ (a writer lost some of it, a push in flight,
//! a block written before digests existed) is *dirty*: its entries are compared one by one
//! (`dedup.rs`).
//!
//! What it must be given: every source holding entries of each window it is asked about (the
//! caller widens the range it gathers to whole windows). Sources pruned because they cannot hold
//! a query's substrings may be missing: what two writers hold alike still holds the same matches.

use std::collections::HashMap;
use std::sync::Arc;

use crate::digest::{self, Digest, window_of};
use crate::select::Source;

/// Who holds a source's entries: 0 for this node, else another writer (see `Store::origins`).
pub type Origin = u64;

/// What a count does with one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Every writer holding it holds the same entries: this one's are counted.
    Clean(Origin),
    /// Its entries are compared one by one.
    Dirty,
}

/// Each window's decision (windows no source holds are absent).
#[derive(Debug, Default)]
pub struct Decisions(HashMap<i64, Decision>);

impl Decisions {
    pub fn dirty(&self, ts: i64) -> bool {
        self.0.get(&window_of(ts)) == Some(&Decision::Dirty)
    }

    pub fn counts(&self, origin: Origin, ts: i64) -> bool {
        self.0.get(&window_of(ts)) == Some(&Decision::Clean(origin))
    }
}

/// A stream's sources sorted by how a count reads them.
#[derive(Default)]
pub struct Plan {
    /// Counted whole: each window of theirs in the range is clean and theirs to count.
    pub whole: Vec<Source>,
    /// Counted in their windows only (`Decisions::counts`), by origin.
    pub partly: Vec<(Origin, Vec<Source>)>,
    /// Holding entries of dirty windows: read entry by entry, in those windows only.
    pub dirty: Vec<Source>,
    pub decisions: Arc<Decisions>,
}

/// Plans a count of `[start, end)` over `sources`, held by `origins` (one per source).
pub fn plan(sources: Vec<Source>, origins: Vec<Origin>, start: i64, end: i64) -> Plan {
    debug_assert_eq!(sources.len(), origins.len());
    let (first, last) = (window_of(start), window_of(end.saturating_sub(1)));
    let in_range = |w: i64| w >= first && w <= last;
    // Per window: each origin's digest, and whether some source's digest is unknown.
    let mut seen: HashMap<i64, (Vec<(Origin, Digest)>, bool)> = HashMap::new();
    let mut touched: Vec<Vec<i64>> = Vec::with_capacity(sources.len());
    for (src, &origin) in sources.iter().zip(&origins) {
        let mut mine = Vec::new();
        match windows_of(src) {
            Some(ws) => {
                for (w, d) in ws.into_iter().filter(|(w, _)| in_range(*w)) {
                    let slot = &mut seen.entry(w).or_default().0;
                    match slot.iter_mut().find(|(o, _)| *o == origin) {
                        Some((_, sum)) => sum.add(d),
                        None => slot.push((origin, d)),
                    }
                    mine.push(w);
                }
            }
            None => {
                let (lo, hi) = bounds(src);
                for w in window_of(lo).max(first)..=window_of(hi).min(last) {
                    seen.entry(w).or_default().1 = true;
                    mine.push(w);
                }
            }
        }
        touched.push(mine);
    }
    let decisions: HashMap<i64, Decision> = seen
        .into_iter()
        .map(|(w, (digests, unknown))| {
            let same = digests.windows(2).all(|p| p[0].1 == p[1].1);
            let d = match digests.iter().map(|(o, _)| *o).min() {
                Some(o) if same && !unknown => Decision::Clean(o),
                _ => Decision::Dirty,
            };
            (w, d)
        })
        .collect();
    let mut plan = Plan::default();
    let mut partly: HashMap<Origin, Vec<Source>> = HashMap::new();
    for ((src, origin), windows) in sources.into_iter().zip(origins).zip(touched) {
        let mine = windows.iter().filter(|w| decisions[w] == Decision::Clean(origin)).count();
        let dirty = windows.iter().any(|w| decisions[w] == Decision::Dirty);
        if dirty {
            // Read entry by entry in its dirty windows; in those it counts, read as well.
            if mine > 0 {
                partly.entry(origin).or_default().push(src.clone());
            }
            plan.dirty.push(src);
        } else if mine == windows.len() {
            plan.whole.push(src);
        } else if mine > 0 {
            partly.entry(origin).or_default().push(src);
        }
    }
    plan.partly = partly.into_iter().collect();
    plan.decisions = Arc::new(Decisions(decisions));
    plan
}

/// A source's digests by window; `None` for a block written before digests existed.
fn windows_of(src: &Source) -> Option<digest::Windows> {
    match src {
        Source::Block { seg, stream, block } => match seg.sums(&seg.streams[*stream].blocks[*block])? {
            // Only the digests: the tally stays where it is.
            std::borrow::Cow::Borrowed(s) => s.digests.clone(),
            std::borrow::Cow::Owned(s) => s.digests,
        },
        Source::Memory(v) => {
            let mut b = digest::Builder::default();
            let mut last: Option<(&[(String, String)], u64)> = None;
            for e in v {
                let mh = match last {
                    Some((m, h)) if m == e.metadata.as_slice() => h,
                    _ => {
                        let h = digest::metadata_hash(&e.metadata);
                        last = Some((&e.metadata, h));
                        h
                    }
                };
                b.add(e.ts, digest::line_hash(e.line.as_bytes(), mh));
            }
            Some(b.finish())
        }
        Source::Identities(v) => {
            let mut b = digest::Builder::default();
            for e in v {
                b.add(e.ts, e.hash);
            }
            Some(b.finish())
        }
    }
}

fn bounds(src: &Source) -> (i64, i64) {
    match src {
        Source::Block { seg, stream, block } => {
            let m = &seg.streams[*stream].blocks[*block];
            (m.min_ts, m.max_ts)
        }
        Source::Memory(v) => {
            (v.iter().map(|e| e.ts).min().unwrap_or(i64::MAX), v.iter().map(|e| e.ts).max().unwrap_or(i64::MIN))
        }
        Source::Identities(v) => {
            (v.iter().map(|e| e.ts).min().unwrap_or(i64::MAX), v.iter().map(|e| e.ts).max().unwrap_or(i64::MIN))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::{ReadStats, StatsReader};
    use model::Entry;

    const S: i64 = 1_000_000_000;

    /// One entry every 100 ms over 40 s (windows 0–3, closed on the right), lines unique.
    fn entries() -> Vec<Entry> {
        (0..400)
            .map(|i| Entry { ts: (i + 1) * S / 10, line: format!("line {i}"), metadata: Default::default() })
            .collect()
    }

    /// The count, and how many sources were read whole, partly and entry by entry.
    fn count(sources: Vec<Source>, origins: Vec<Origin>, start: i64, end: i64) -> (u64, [usize; 3], Arc<Decisions>) {
        let p = plan(sources, origins, start, end);
        let shape = [p.whole.len(), p.partly.iter().map(|(_, s)| s.len()).sum(), p.dirty.len()];
        let decisions = p.decisions.clone();
        let stats = Arc::new(ReadStats::default());
        let r = StatsReader::new(Vec::new(), start, end, Arc::new(Vec::new()), stats).replicated(p);
        (r.map(|s| s.lines as u64).sum(), shape, decisions)
    }

    /// Two writers holding the same entries: one copy is counted, the other never read.
    #[test]
    fn equal_copies_read_one_writer() {
        let a = entries();
        let (n, shape, _) = count(vec![Source::Memory(a.clone()), Source::Memory(a)], vec![7, 9], 0, 40 * S + 1);
        assert_eq!(n, 400);
        assert_eq!(shape, [1, 0, 0]);
        // A range inside windows: still whole windows compared, the range counted.
        let a = entries();
        let (n, _, _) = count(vec![Source::Memory(a.clone()), Source::Memory(a)], vec![7, 9], 5 * S, 25 * S + 1);
        assert_eq!(n, 201);
    }

    /// A writer missing entries, or holding one the other lacks: only those windows are compared
    /// entry by entry, and every entry counts once.
    #[test]
    fn differing_windows_are_compared_entry_by_entry() {
        let a = entries();
        let mut b = a.clone();
        b.remove(150); // window 1 (10–20 s)
        b.push(Entry { ts: 35 * S, line: "only in b".into(), metadata: Default::default() }); // window 3
        b.sort_by_key(|e| e.ts);
        let (n, shape, d) =
            count(vec![Source::Memory(a.clone()), Source::Memory(b.clone())], vec![7, 9], 0, 40 * S + 1);
        assert_eq!(n, 401);
        assert_eq!(d.0.values().filter(|d| **d == Decision::Dirty).count(), 2, "{d:?}");
        assert_eq!(shape, [0, 1, 2], "writer 7's clean windows counted from it, both read in the dirty ones");
        // Only one writer holding a window (the other lost its disk after 10 s): counted from it.
        let (n, shape, _) =
            count(vec![Source::Memory(a[..100].to_vec()), Source::Memory(b)], vec![7, 9], 0, 40 * S + 1);
        assert_eq!(n, 400);
        assert_eq!(shape, [1, 1, 0]);
        // The same line at another time, or with other metadata, is another entry.
        let mut c = a.clone();
        c[10].ts += 1;
        c[20].metadata = vec![("k".into(), "v".into())].into();
        let (n, _, _) = count(vec![Source::Memory(a), Source::Memory(c)], vec![7, 9], 0, 40 * S + 1);
        assert_eq!(n, 402);
    }
}
