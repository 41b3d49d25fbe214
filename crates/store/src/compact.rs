//! Compaction: the small segments that flushes cut are merged, in the background, into fewer
//! larger ones (per day folder and tenant, each at most `compaction_segment_bytes`), with
//! duplicates removed and a stronger zstd level.
//!
//! Choosing: within a day folder, segments are grouped in size tiers (each tier 8x the one
//! below); a tier holding `FAN_IN` segments is merged, so every byte is rewritten about once
//! per tier, not once per flush. A day folder from before yesterday is merged whole.
//!
//! Cold tier: once a segment's newest entry is older than `cold_after`, it is rewritten once
//! at `cold_zstd_level` (segments record their level), merged with its day's other cold
//! candidates. Merges of fresh data always go first: a cold job is taken only when no tier is
//! full, one at a time, so a backlog of cold work never lets small segments pile up.
//!
//! All or nothing: the outputs are written under temporary names and synced; then a manifest
//! naming inputs and outputs is written and synced (the commit point); then the outputs are
//! renamed into place, swapped for the inputs in the served set, and the inputs retired (each
//! deleted once the last query holding it is done). At start, [`recover`] finishes a committed
//! compaction (renames what is left, deletes the inputs) and forgets an uncommitted one
//! (temporary files are deleted), so a `kill -9` at any moment loses and duplicates nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use model::{Direction, Labels};

use crate::block::Encoding;
use crate::segment::{self, Segment, SegmentWriter};
use crate::select::{ReadStats, Source, StreamReader};
use crate::{Store, StoreError, register_segment};

/// How many segments of one size tier are merged at once.
pub const FAN_IN: usize = 8;
/// The most segments one compaction reads: bounds its open files and the blocks its merge
/// holds decoded at once.
pub const MAX_INPUTS: usize = 64;
/// The size of the smallest tier: segments below it are all in tier 0.
const TIER_BASE: u64 = 256 << 10;
pub(crate) const MANIFEST_SUFFIX: &str = ".manifest";

/// The size tier of a segment of `bytes`.
fn tier(bytes: u64) -> u32 {
    let mut t = 0;
    let mut limit = TIER_BASE;
    while bytes >= limit && t < 16 {
        limit = limit.saturating_mul(8);
        t += 1;
    }
    t
}

/// Picks the segments of one day folder to merge now, oldest first: a full tier, or, for a day
/// no longer written to, every segment that is not already big, or its one segment a flush
/// wrote without gram filters (rewritten alone, so that searches can skip its blocks).
pub(crate) fn plan(segs: &[Arc<Segment>], target: u64, closed_day: bool) -> Vec<Arc<Segment>> {
    let small: Vec<&Arc<Segment>> = segs.iter().filter(|s| s.file_bytes < target / 2).collect();
    let pick = |v: Vec<&Arc<Segment>>| -> Vec<Arc<Segment>> {
        let out = oldest_first(v, target);
        if out.len() >= 2 { out } else { Vec::new() }
    };
    if closed_day && small.len() >= 2 {
        return pick(small);
    }
    if closed_day && let Some(lone) = segs.iter().find(|s| s.lacks_grams()) {
        return vec![lone.clone()];
    }
    let mut tiers: BTreeMap<u32, Vec<&Arc<Segment>>> = BTreeMap::new();
    for s in small {
        tiers.entry(tier(s.file_bytes)).or_default().push(s);
    }
    for (_, v) in tiers {
        if v.len() >= FAN_IN {
            let chosen = pick(v);
            if !chosen.is_empty() {
                return chosen;
            }
        }
    }
    Vec::new()
}

/// Picks the segments of one day folder to rewrite at the cold `level`, oldest first: those
/// whose newest entry is before `before` and whose blocks are at a weaker level (or one not
/// recorded), up to `target` bytes. One segment alone is rewritten too.
pub(crate) fn plan_cold(segs: &[Arc<Segment>], target: u64, before: i64, level: i32) -> Vec<Arc<Segment>> {
    oldest_first(segs.iter().filter(|s| s.max_ts < before && s.level.is_none_or(|l| l < level)).collect(), target)
}

/// The oldest of `v`, up to `target` bytes and [`MAX_INPUTS`] segments (at least one).
fn oldest_first(mut v: Vec<&Arc<Segment>>, target: u64) -> Vec<Arc<Segment>> {
    v.sort_by_key(|s| s.id);
    let mut total = 0u64;
    let mut out = Vec::new();
    for s in v {
        if !out.is_empty() && (total + s.file_bytes > target || out.len() >= MAX_INPUTS) {
            break;
        }
        total += s.file_bytes;
        out.push(s.clone());
    }
    out
}

/// The manifest that commits a compaction in `dir`.
struct Manifest {
    inputs: Vec<PathBuf>,
    outputs: Vec<PathBuf>,
}

impl Manifest {
    fn encode(&self) -> String {
        let mut s = String::from("bitacora compaction v1\n");
        for p in &self.inputs {
            s.push_str(&format!("input {}\n", day_and_file(p)));
        }
        for p in &self.outputs {
            s.push_str(&format!("output {}\n", day_and_file(p)));
        }
        s.push_str(&format!("crc {}\n", crc32fast::hash(s.as_bytes())));
        s
    }

    /// Decodes a manifest; its paths are relative to the segments folder `root`.
    fn decode(root: &Path, text: &str) -> Option<Manifest> {
        let body_end = text.rfind("crc ")?;
        let crc: u32 = text[body_end + 4..].trim().parse().ok()?;
        if crc32fast::hash(&text.as_bytes()[..body_end]) != crc {
            return None;
        }
        let mut m = Manifest { inputs: Vec::new(), outputs: Vec::new() };
        for line in text[..body_end].lines().skip(1) {
            match line.split_once(' ') {
                Some(("input", f)) => m.inputs.push(root.join(f)),
                Some(("output", f)) => m.outputs.push(root.join(f)),
                _ => return None,
            }
        }
        Some(m)
    }
}

/// A manifest's inputs and outputs as keys `<day>/<file>` (as in the bucket); `None` if damaged.
pub(crate) fn manifest_keys(text: &str) -> Option<(Vec<String>, Vec<String>)> {
    let m = Manifest::decode(Path::new(""), text)?;
    let keys = |v: Vec<PathBuf>| v.iter().map(|p| day_and_file(p)).collect();
    Some((keys(m.inputs), keys(m.outputs)))
}

fn file_part(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `<day>/<file>`: a segment's path relative to the segments folder.
fn day_and_file(p: &Path) -> String {
    let day = p.parent().map(file_part).unwrap_or_default();
    format!("{day}/{}", file_part(p))
}

/// Finishes or forgets the compactions a crash interrupted, in every day folder under `root`.
/// Runs before the segments are loaded. With a bucket (`tiered`), an input's object is marked
/// for deletion (`.gone`) and the manifest kept until that is done; the kept manifests are
/// returned with their inputs.
pub fn recover(root: &Path, tiered: bool) -> std::io::Result<Vec<(PathBuf, Vec<PathBuf>)>> {
    let mut kept = Vec::new();
    for day in fs::read_dir(root)? {
        let day = day?.path();
        if !day.is_dir() {
            continue;
        }
        for f in fs::read_dir(&day)?.flatten() {
            let path = f.path();
            let name = file_part(&path);
            if !name.ends_with(MANIFEST_SUFFIX) {
                if name.ends_with(&format!("{MANIFEST_SUFFIX}.tmp")) {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            let text = fs::read_to_string(&path)?;
            let Some(m) = Manifest::decode(root, &text) else {
                // Manifests are renamed into place whole: a damaged one was never the commit
                // point of anything we can trust. Keep the inputs.
                tracing::error!(path = %path.display(), "damaged compaction manifest ignored");
                continue;
            };
            for out in &m.outputs {
                let tmp = segment::tmp_path(out);
                if tmp.exists() {
                    fs::rename(&tmp, out)?;
                }
                if let Some(d) = out.parent() {
                    crate::wal::sync_dir(d);
                }
            }
            for input in &m.inputs {
                match fs::remove_file(input) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
                if tiered {
                    match fs::rename(crate::tier::sibling(input, "remote"), crate::tier::sibling(input, "gone")) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            crate::wal::sync_dir(&day);
            if tiered {
                kept.push((path.clone(), m.inputs));
            } else {
                fs::remove_file(&path)?;
            }
            tracing::info!(manifest = %path.display(), "finished a compaction interrupted by a restart");
        }
    }
    Ok(kept)
}

/// What one compaction did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Compacted {
    pub inputs: usize,
    pub outputs: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Store {
    /// Runs compactions until nothing is left to merge. Returns what was merged.
    pub fn compact(&self) -> Result<Compacted, StoreError> {
        let _one = self.compact_lock.lock();
        self.forget_finished_manifests();
        let mut total = Compacted::default();
        loop {
            let Some((day, inputs, enc)) = self.next_compaction() else { break };
            let res = self.compact_one_at(&day, &inputs, enc);
            crate::block::release_encoder();
            match res {
                Ok(c) => {
                    total.inputs += c.inputs;
                    total.outputs += c.outputs;
                    total.bytes_in += c.bytes_in;
                    total.bytes_out += c.bytes_out;
                }
                Err(e) => {
                    self.metrics.compaction_failures.inc();
                    return Err(e);
                }
            }
        }
        Ok(total)
    }

    /// The next merge: a full tier of fresh segments (at `compaction_zstd_level`), else
    /// segments gone cold (at `cold_zstd_level`).
    fn next_compaction(&self) -> Option<(PathBuf, Vec<Arc<Segment>>, Encoding)> {
        let quarantined = self.quarantined.lock().clone();
        let inner = self.inner.lock();
        let mut by_day: BTreeMap<PathBuf, Vec<Arc<Segment>>> = BTreeMap::new();
        for l in &inner.segments {
            if quarantined.contains(&l.seg.id) || l.seg.is_foreign() {
                continue;
            }
            // With a bucket, only what is in it: other nodes read the inputs from the bucket
            // until they list the outputs, so a writer never sends them a compaction's
            // output as news (`tier/live.rs`).
            if l.seg.remote.as_ref().is_some_and(|r| r.in_bucket_since() == 0) {
                continue;
            }
            if let Some(dir) = l.seg.path.parent() {
                by_day.entry(dir.to_path_buf()).or_default().push(l.seg.clone());
            }
        }
        drop(inner);
        let cfg = self.cfg.load();
        let target = cfg.compaction_segment_bytes.max(1 << 20);
        let now = crate::now_ns();
        let yesterday = segment::day_of(now - DAY_NS);

        let cold_after = cfg.cold_after.0.as_nanos().min(i64::MAX as u128) as i64;
        let before = if cold_after > 0 { now.saturating_sub(cold_after) } else { i64::MIN };
        for (day, segs) in &by_day {
            let name = file_part(day);
            // A folder from before yesterday is closed: flushes of current data no longer land
            // in it, so it is merged whole (a backfill's flushes are split by day on the way).
            let closed = name.as_str() < yesterday.as_str();
            let chosen = plan(segs, target, closed);
            if !chosen.is_empty() {
                // Cold inputs make a cold output (never rewritten at the cold level again).
                let cold = chosen.iter().all(|s| s.max_ts < before);
                let enc = if cold { cfg.cold_encoding() } else { cfg.compaction_encoding() };
                return Some((day.clone(), chosen, enc));
            }
        }
        if cold_after > 0 {
            for (day, segs) in by_day {
                let enc = cfg.cold_encoding();
                let chosen = plan_cold(&segs, target, before, enc.level);
                if !chosen.is_empty() {
                    return Some((day, chosen, enc));
                }
            }
        }
        None
    }

    /// Deletes manifests whose inputs are all gone (their work is done).
    pub(crate) fn forget_finished_manifests(&self) {
        let mut pending = self.manifests.lock();
        pending.retain(|(manifest, inputs)| {
            // With a bucket, an input is gone once its object is (no marker, no tombstone left).
            let exists = |p: &PathBuf| {
                p.exists()
                    || self.tier.is_some()
                        && (crate::tier::sibling(p, "remote").exists() || crate::tier::sibling(p, "gone").exists())
            };
            if inputs.iter().any(exists) {
                return true;
            }
            if let Some(tier) = &self.tier
                && tier.manifests_up.lock().remove(manifest)
            {
                let res = tier.objects.delete(&crate::tier::key_of(manifest));
                tier.metrics.request("delete", res.is_ok());
                if let Err(e) = res {
                    // Harmless left over: its outputs are all in the bucket and its inputs gone.
                    tracing::warn!(manifest = %manifest.display(), error = %e, "could not delete a finished manifest from the bucket");
                }
            }
            let _ = fs::remove_file(manifest);
            false
        });
    }

    /// Merges `inputs` (segments of the folder `day`) into new segments, dropping duplicates
    /// and the entries the purge hook removes.
    pub(crate) fn compact_one(&self, day: &Path, inputs: &[Arc<Segment>]) -> Result<Compacted, StoreError> {
        self.compact_one_at(day, inputs, self.cfg.load().compaction_encoding())
    }

    /// As [`Store::compact_one`], the outputs' blocks encoded as `enc` says.
    fn compact_one_at(&self, day: &Path, inputs: &[Arc<Segment>], enc: Encoding) -> Result<Compacted, StoreError> {
        let started = Instant::now();
        let err = |e: String| StoreError::Compaction(e);
        // Every stream of every input, by tenant and labels, with its blocks.
        let mut streams: BTreeMap<(String, Labels), Vec<Source>> = BTreeMap::new();
        for seg in inputs {
            for (si, st) in seg.streams.iter().enumerate() {
                let e = streams.entry((st.tenant.clone(), st.labels.clone())).or_default();
                for bi in 0..st.blocks.len() {
                    e.push(Source::Block { seg: seg.clone(), stream: si, block: bi });
                }
            }
        }
        let wal_upto = inputs.iter().map(|s| s.wal_upto).max().unwrap_or(0);
        let target = self.cfg.load().compaction_segment_bytes.max(1 << 20);
        let root = self.dir.join("segments");
        let stats = Arc::new(ReadStats::default());
        let mut outputs: Vec<(u64, PathBuf)> = Vec::new();
        // Outputs per (day of the entries, tenant): a day's data lands in that day's folder, so
        // retention can drop old days whole even when a flush mixed old and new lines.
        let mut writers: BTreeMap<(i64, String), (u64, SegmentWriter)> = BTreeMap::new();
        let finish = |w: (u64, SegmentWriter), outputs: &mut Vec<(u64, PathBuf)>| -> Result<(), StoreError> {
            let (id, w) = w;
            if w.is_empty() {
                return Ok(());
            }
            let tmp = w.finish(wal_upto, false).map_err(|e| self.write_error("compaction", e))?;
            outputs.push((id, tmp.with_extension("")));
            Ok(())
        };
        let abandon = |outputs: &[(u64, PathBuf)]| {
            for (_, p) in outputs {
                let _ = fs::remove_file(segment::tmp_path(p));
            }
        };
        for ((tenant, labels), sources) in streams {
            let mut remove = self.purge_remover(&tenant, &labels);
            let mut reader =
                StreamReader::new(sources, i64::MIN, i64::MAX, Direction::Forward, Arc::new(Vec::new()), stats.clone())
                    .peekable();
            while let Some(first) = reader.peek() {
                let day = first.ts.div_euclid(DAY_NS);
                let key = (day, tenant.clone());
                if writers.get(&key).is_some_and(|(_, w)| w.bytes() >= target) {
                    let w = writers.remove(&key).unwrap();
                    if let Err(e) = finish(w, &mut outputs) {
                        abandon(&outputs);
                        return Err(e);
                    }
                }
                if !writers.contains_key(&key) {
                    let id = self.allocate_segment_id();
                    let folder = root.join(segment::day_of(first.ts));
                    match SegmentWriter::create(&folder, id, enc) {
                        Ok(w) => writers.insert(key.clone(), (id, w)),
                        Err(e) => {
                            abandon(&outputs);
                            return Err(self.write_error("compaction", e));
                        }
                    };
                }
                let (_, w) = writers.get_mut(&key).unwrap();
                let mut run = std::iter::from_fn(|| reader.next_if(|e| e.ts.div_euclid(DAY_NS) == day))
                    .filter(|e| !remove.as_mut().is_some_and(|r| r(e)))
                    .peekable();
                if run.peek().is_none() {
                    continue; // every entry of this run was removed
                }
                if let Err(e) = w.add_stream_entries(&tenant, &labels, run) {
                    abandon(&outputs);
                    return Err(self.write_error("compaction", e));
                }
            }
            let unreachable = stats.unavailable_blocks.load(Ordering::Relaxed);
            if unreachable > 0 {
                // Not damage: the bucket is out of reach. Try again later.
                drop(writers);
                abandon(&outputs);
                return Err(err(format!(
                    "{unreachable} block(s) could not be fetched from the bucket ({}); retried later",
                    stats.first_unavailable.get().map_or("", String::as_str)
                )));
            }
            let bad = stats.corrupt_blocks.load(Ordering::Relaxed);
            if bad > 0 {
                // Never merge around damage: the inputs stay as they are, served and reported.
                drop(writers);
                abandon(&outputs);
                self.quarantined.lock().extend(inputs.iter().map(|s| s.id));
                return Err(err(format!(
                    "{bad} block(s) of {} could not be read; these segments are left as they are",
                    inputs.iter().map(|s| s.path.display().to_string()).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        for (_, w) in std::mem::take(&mut writers) {
            if let Err(e) = finish(w, &mut outputs) {
                abandon(&outputs);
                return Err(e);
            }
        }
        // The commit point: a synced manifest.
        let manifest = Manifest {
            inputs: inputs.iter().map(|s| s.path.clone()).collect(),
            outputs: outputs.iter().map(|(_, p)| p.clone()).collect(),
        };
        // Named after its first output, or a fresh id when everything was removed (never a name
        // another pending manifest may hold).
        let mname = outputs.first().map_or_else(|| self.allocate_segment_id(), |o| o.0);
        let mpath = day.join(format!("{mname}{MANIFEST_SUFFIX}"));
        if let Err(e) = write_synced(&mpath, manifest.encode().as_bytes()) {
            abandon(&outputs);
            return Err(self.io_error("compaction manifest", e));
        }
        let mut opened = Vec::new();
        for (id, p) in &outputs {
            fs::rename(segment::tmp_path(p), p).map_err(|e| self.io_error("compaction", e))?;
            opened.push((*id, p.clone()));
        }
        let folders: BTreeSet<&Path> = outputs.iter().filter_map(|(_, p)| p.parent()).collect();
        for f in folders {
            crate::wal::sync_dir(f);
        }
        let mut segs = Vec::new();
        for (id, p) in opened {
            let mut seg = segment::open(&p, id, self.files.clone()).map_err(|e| err(e.to_string()))?;
            if let Some(tier) = &self.tier {
                seg.attach(tier, true, false);
                // Other nodes read the inputs until they list this output: a writer asked for
                // what they have not listed need not send it, and names the inputs when it does.
                let remotes: Vec<&crate::tier::Remote> = inputs.iter().filter_map(|s| s.remote.as_ref()).collect();
                let since: Vec<u64> = remotes.iter().map(|r| r.in_bucket_since()).collect();
                let replaced = crate::tier::Replaced {
                    keys: remotes
                        .iter()
                        .flat_map(|r| match r.is_uploaded() {
                            true => vec![r.key.clone()],
                            false => r.replaces.get().map(|p| p.keys.clone()).unwrap_or_default(),
                        })
                        .collect(),
                    all_uploaded_by: if since.contains(&0) || remotes.len() < inputs.len() {
                        0
                    } else {
                        since.iter().copied().max().unwrap_or(0)
                    },
                };
                let _ = seg.remote.as_ref().expect("attached").replaces.set(replaced);
            }
            segs.push(seg);
        }
        let out = Compacted {
            inputs: inputs.len(),
            outputs: segs.len(),
            bytes_in: inputs.iter().map(|s| s.file_bytes).sum(),
            bytes_out: segs.iter().map(|s| s.file_bytes).sum(),
        };
        let ids: HashSet<u64> = inputs.iter().map(|s| s.id).collect();
        // Known before its outputs are served: the bucket gets the manifest before them.
        self.manifests.lock().push((mpath, manifest.inputs));
        {
            let mut inner = self.inner.lock();
            inner.segments.retain(|l| l.seg.is_foreign() || !ids.contains(&l.seg.id));
            for s in segs {
                register_segment(&mut inner, s);
            }
        }
        for s in inputs {
            s.retire();
        }
        self.wake_bucket();
        self.space.succeeded();
        self.metrics.compactions.inc();
        self.metrics.compacted_bytes_in.inc_by(out.bytes_in);
        self.metrics.compacted_bytes_out.inc_by(out.bytes_out);
        self.metrics.compaction_seconds.observe(started.elapsed().as_secs_f64());
        tracing::debug!(
            day = %day.display(),
            inputs = out.inputs,
            outputs = out.outputs,
            bytes_in = out.bytes_in,
            bytes_out = out.bytes_out,
            level = enc.level,
            ms = started.elapsed().as_millis() as u64,
            "compacted segments"
        );
        self.update_gauges();
        Ok(out)
    }
}

const DAY_NS: i64 = 86_400_000_000_000;

/// Writes a small file under a temporary name, syncs it, renames it into place, syncs the folder.
fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = segment::tmp_path(path);
    let res = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res?;
    if let Some(dir) = path.parent() {
        crate::wal::sync_dir(dir);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_grow_by_eight() {
        assert_eq!(tier(0), 0);
        assert_eq!(tier(TIER_BASE - 1), 0);
        assert_eq!(tier(TIER_BASE), 1);
        assert_eq!(tier(TIER_BASE * 8), 2);
    }

    #[test]
    fn manifest_round_trip_and_damage() {
        let dir = Path::new("/data/segments");
        let day = dir.join("2026-12-01");
        let m = Manifest {
            inputs: vec![day.join("1.seg"), day.join("2.seg")],
            outputs: vec![dir.join("2026-11-30/3.seg")],
        };
        let text = m.encode();
        let back = Manifest::decode(dir, &text).unwrap();
        assert_eq!(back.inputs, m.inputs);
        assert_eq!(back.outputs, m.outputs);
        assert!(Manifest::decode(dir, &text.replace("2.seg", "4.seg")).is_none());
        assert!(Manifest::decode(dir, &text[..text.len() - 3]).is_none());
    }
}
