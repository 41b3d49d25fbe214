//! Other writers' data not yet in the bucket: their WAL-backed heads and the segments they have
//! not uploaded. Writers announce where they answer (`_nodes/<node id>.json` in the bucket,
//! refreshed each sync pass); a query asks every live writer for the entries it holds and has
//! not uploaded, and merges them with the segments (exact duplicates removed), so any node's
//! answer is as fresh as the writer's own.
//!
//! The store knows no HTTP: the transport is a [`LiveData`] the server installs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::{Entry, Labels, Matcher};
use serde::{Deserialize, Serialize};

use crate::dedup::DedupStats;
use crate::query::Select;
use crate::select::{ReadStats, StreamReader};
use crate::tier::Tier;
use crate::tier::identities::Identity;
use crate::{Store, StoreError};

/// How a writer is reached, as it announces itself in the bucket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Announcement {
    pub node_id: String,
    /// Base URL of its HTTP API (`http://10.0.0.5:3100`).
    pub url: String,
    /// When it was written, Unix milliseconds.
    pub at_ms: u64,
    /// `writer` (asked for its data not yet uploaded) or `query`.
    #[serde(default = "writer")]
    pub role: String,
}

fn writer() -> String {
    "writer".into()
}

/// This node's place among the nodes sharing the bucket, for `/api/status`.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    /// Where this node's objects go (`endpoint/bucket/prefix/node`).
    pub bucket: String,
    pub node_id: String,
    /// This node's role (`writer` or `query`) and the address it announces (empty: none, so
    /// other nodes cannot ask it for its data not yet uploaded).
    pub role: String,
    pub advertise_url: String,
    /// The last sync pass failed (the bucket unreachable): segments wait locally.
    pub bucket_failing: bool,
    pub pending_uploads: i64,
    pub pending_deletes: i64,
    /// Segments of other writers served from the bucket.
    pub other_writers_segments: usize,
    pub evaluates_rules: bool,
    /// Other nodes announced within the listing lag.
    pub nodes: Vec<Announcement>,
}

/// What a query asks a writer for.
#[derive(Debug, Clone)]
pub struct LiveRequest<'a> {
    pub tenant: &'a str,
    /// The stream selector, `{app="api"}`.
    pub selector: String,
    pub start: i64,
    pub end: i64,
    /// Substrings every wanted line holds (the query's line filters).
    pub contains: &'a [String],
    /// When the asker's last complete listing of the bucket began (Unix ms, 0: unknown): the
    /// writer leaves out the segments it had uploaded by then.
    pub listed_at_ms: u64,
    /// For a count: the entries' identities without their lines (`identities.rs`).
    pub identities: bool,
}

/// Entries by stream, as a writer answers them.
pub type Streams = Vec<(Labels, Vec<Entry>)>;

/// A writer's answer: its entries, and which of the segments they come from it has uploaded
/// (within the clock skew of the asker's listing, so the asker may have listed them too and
/// leaves those out of what it reads from the bucket).
#[derive(Debug, Default)]
pub struct LiveAnswer {
    pub streams: Streams,
    /// What it answers a count instead of entries.
    pub identities: crate::tier::identities::IdentityStreams,
    /// Bucket keys under the writer's folder (`2026-12-03/000042.seg`).
    pub uploaded: Vec<String>,
}

/// The header a writer's answer names its uploaded segments in, space-separated.
pub const UPLOADED_HEADER: &str = "x-bitacora-uploaded-segments";

/// The transport to other writers (HTTP, installed by the server).
pub trait LiveData: Send + Sync + 'static {
    fn fetch(&self, url: &str, req: &LiveRequest<'_>) -> Result<LiveAnswer, String>;
}

/// Another writer's entries for a query: who it is, what it answered.
pub(crate) struct FromWriter {
    pub origin: crate::replicas::Origin,
    pub answer: LiveAnswer,
}

/// The most a writer answers for one query (its entries' bytes, lines, metadata and times):
/// beyond, it refuses and the query says so.
pub const MAX_LIVE_BYTES: u64 = 64 << 20;

/// How far apart two nodes' clocks may be when a writer compares its upload times with an
/// asker's listing time.
pub const CLOCK_SKEW: Duration = Duration::from_secs(2);

/// Where the announcements live, beside the writers' own folders.
pub(crate) const NODES: &str = "_nodes";

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Store {
    /// Installs the transport to other writers.
    pub fn set_live_data(&self, live: Arc<dyn LiveData>) {
        let _ = self.live.set(live);
    }

    /// Makes this node announce itself in the bucket as answering at `url`, a writer (asked for
    /// its data not yet uploaded) or a query node (a candidate to evaluate rules only).
    pub fn announce_as(&self, url: String, writer: bool) {
        *self.advertise.lock() = Some((url, if writer { "writer" } else { "query" }.to_string()));
    }

    /// Whether this node evaluates rules now: always without a bucket; with one, the node with
    /// the smallest id among those announced within the listing lag does. When this node could
    /// not read the announcements for that long, it evaluates too: an alert sent twice is
    /// deduplicated by Alertmanager, an alert not sent is lost.
    pub fn evaluates_rules(&self) -> bool {
        let Some(tier) = &self.tier else { return true };
        let read = self.announcements_read.load(Ordering::Acquire);
        if read == 0 || now_ms().saturating_sub(read) > self.listing_lag().as_millis() as u64 {
            return true;
        }
        let me = tier.objects.node_id();
        self.writers.lock().iter().all(|a| a.node_id > me)
    }

    /// Puts this writer's announcement (each sync pass).
    pub(crate) fn announce(&self, tier: &Arc<Tier>) -> Result<(), StoreError> {
        let Some((url, role)) = self.advertise.lock().clone() else { return Ok(()) };
        let node_id = tier.objects.node_id();
        let a = Announcement { node_id: node_id.clone(), url, at_ms: now_ms(), role };
        let body = serde_json::to_vec(&a).expect("announcement serializes");
        let res = tier.objects.node(NODES).put(&format!("{node_id}.json"), body);
        tier.metrics.request("announce", res.is_ok());
        res.map_err(|e| StoreError::Bucket(format!("announcing this writer ({}): {e}", tier.describe())))
    }

    /// Reads the other writers' announcements (each sync pass); those older than three passes
    /// and ten seconds are not asked (a writer that stopped is a warning of every query until
    /// then).
    pub(crate) fn read_announcements(&self, tier: &Arc<Tier>) -> Result<(), StoreError> {
        let nodes = tier.objects.node(NODES);
        let me = format!("{}.json", tier.objects.node_id());
        let listed = nodes.list();
        tier.metrics.request("list", listed.is_ok());
        let listed = listed.map_err(|e| StoreError::Bucket(format!("listing writers' addresses: {e}")))?;
        let fresh = self.listing_lag();
        let mut live = Vec::new();
        for (key, _) in listed.iter().filter(|(k, _)| k.ends_with(".json") && **k != me) {
            let got = nodes.get(key);
            tier.metrics.request("announce", got.is_ok());
            let Ok(body) = got else { continue }; // gone since the listing
            match serde_json::from_slice::<Announcement>(&body) {
                Ok(a) if now_ms().saturating_sub(a.at_ms) <= fresh.as_millis() as u64 => live.push(a),
                Ok(_) => {}
                Err(e) => tracing::warn!(key, error = %e, "unreadable writer announcement ignored"),
            }
        }
        *self.writers.lock() = live;
        self.announcements_read.store(now_ms(), Ordering::Release);
        Ok(())
    }

    /// How far behind the bucket another node's view may be: three sync passes and ten
    /// seconds. An announcement older than this is stale; a segment uploaded more recently is
    /// still answered for by its writer.
    pub(crate) fn listing_lag(&self) -> Duration {
        self.cfg.load().object_store.sync_interval.0 * 3 + Duration::from_secs(10)
    }

    /// Whether a node that listed the bucket at `listed_at` (Unix ms by its clock; 0 when it
    /// does not say) may not hold this writer's segment's entries: neither it nor (for a
    /// compaction's output) all the inputs it replaced were uploaded before that listing began
    /// ([`CLOCK_SKEW`] allowed for), or within the listing lag when unknown. Uploads from
    /// before this process started (no upload time) count as listed.
    pub(crate) fn maybe_unlisted(&self, seg: &crate::segment::Segment, listed_at: u64) -> bool {
        let Some(r) = seg.remote.as_ref().filter(|_| !seg.is_foreign()) else { return !seg.is_foreign() };
        match r.in_bucket_since() {
            0 => true,
            1 => false,
            at if listed_at > 0 => at + CLOCK_SKEW.as_millis() as u64 >= listed_at,
            at => now_ms().saturating_sub(at) <= self.listing_lag().as_millis() as u64,
        }
    }

    /// Where this node stands among the nodes sharing the bucket; `None` without a bucket.
    pub fn cluster_status(&self) -> Option<ClusterStatus> {
        let tier = self.tier.as_ref()?;
        let other_writers_segments = self.inner.lock().segments.iter().filter(|l| l.seg.is_foreign()).count();
        let (advertise_url, role) = self.advertise.lock().clone().unwrap_or_else(|| (String::new(), writer()));
        Some(ClusterStatus {
            bucket: tier.describe(),
            node_id: tier.objects.node_id(),
            role,
            advertise_url,
            bucket_failing: self.bucket_failing.load(Ordering::Relaxed),
            pending_uploads: tier.metrics.pending_uploads.get(),
            pending_deletes: tier.metrics.pending_deletes.get(),
            other_writers_segments,
            evaluates_rules: self.evaluates_rules(),
            nodes: self.writers.lock().clone(),
        })
    }

    /// The other live writers' entries for `q`, not yet in the bucket, fetched in parallel.
    /// A writer that does not answer is a warning of the query, like an unreadable block.
    /// With `identities` (a count), without lines.
    pub(crate) fn live_entries(&self, q: &Select, stats: &ReadStats, identities: bool) -> Vec<FromWriter> {
        let Some(live) = self.live.get() else { return Vec::new() };
        let writers: Vec<Announcement> = self.writers.lock().iter().filter(|a| a.role == "writer").cloned().collect();
        if writers.is_empty() {
            return Vec::new();
        }
        let req = LiveRequest {
            tenant: &q.tenant,
            selector: selector(&q.matchers),
            start: q.start,
            end: q.end,
            contains: &q.required_substrings,
            listed_at_ms: self.peers_listed_at.load(Ordering::Acquire),
            identities,
        };
        let answers: Vec<(Announcement, Result<LiveAnswer, String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = writers.iter().map(|w| (w.clone(), s.spawn(|| live.fetch(&w.url, &req)))).collect();
            handles
                .into_iter()
                .map(|(w, h)| (w, h.join().unwrap_or_else(|_| Err("the request panicked".into()))))
                .collect()
        });
        let mut out = Vec::new();
        for (w, got) in answers {
            match got {
                Ok(answer) => out.push(FromWriter { origin: self.origin_of(&w.node_id), answer }),
                Err(e) => {
                    stats.unanswered_writers.fetch_add(1, Ordering::Relaxed);
                    let msg = format!("writer {} at {}: {e}", w.node_id, w.url);
                    if stats.first_unanswered.set(msg).is_ok() {
                        tracing::warn!(writer = %w.node_id, url = %w.url, error = %e, "a query could not reach a writer");
                    }
                }
            }
        }
        out
    }

    /// Who holds a writer's segments, as its segments here say (`Segment::origin`): the same
    /// for what it answers live.
    pub(crate) fn origin_of(&self, node_id: &str) -> crate::replicas::Origin {
        match self.peers.lock().get(node_id) {
            Some(t) => Arc::as_ptr(t) as usize as u64,
            None => xxhash_rust::xxh3::xxh3_64(node_id.as_bytes()) | 1,
        }
    }

    /// What this writer holds of `q` that a node which listed the bucket at `listed_at_ms` (0:
    /// unknown) may not read there: its heads, and segments not uploaded or uploaded since (all
    /// of its data without a bucket), at most [`MAX_LIVE_BYTES`] of lines; with the keys of
    /// those segments it has uploaded. With `identities`, the entries' identities instead of
    /// the entries (for a count; `identities.rs`).
    pub fn unuploaded(&self, q: &Select, listed_at_ms: u64, identities: bool) -> Result<LiveAnswer, StoreError> {
        // The answer's segments that are in the bucket, or whose replaced inputs are.
        let uploaded: Vec<String> = self
            .inner
            .lock()
            .segments
            .iter()
            .filter(|l| !l.seg.is_foreign() && l.seg.max_ts >= q.start && l.seg.min_ts < q.end)
            .filter(|l| self.maybe_unlisted(&l.seg, listed_at_ms))
            .filter_map(|l| l.seg.remote.as_ref())
            .flat_map(|r| {
                let own = r.is_uploaded().then(|| r.key.clone());
                own.into_iter().chain(r.replaces.get().map(|p| p.keys.clone()).unwrap_or_default())
            })
            .collect();
        let stats = Arc::new(ReadStats::default());
        let needles = crate::query::needles(q);
        let mut bytes = 0u64;
        let mut out = Vec::new();
        let mut ids = Vec::new();
        // What the answer holds in memory, here and at the asker: an entry's line, time and
        // metadata; an identity's 32 bytes (its metadata set is shared).
        let mut count = |held: usize| {
            bytes += held as u64;
            if bytes > MAX_LIVE_BYTES {
                return Err(StoreError::TooLarge(format!(
                    "more than {} MiB of lines not yet uploaded match; narrow the query",
                    MAX_LIVE_BYTES >> 20
                )));
            }
            Ok(())
        };
        for (labels, sources) in self.local_sources(q, &stats, Some(listed_at_ms)) {
            if identities {
                // Taken from the blocks' text in place, no entry made (`dedup.rs`).
                let all = Arc::new(|_| true);
                let mut d = DedupStats::new(sources, q.start, q.end, needles.clone(), None, all, stats.clone());
                let mut stream_ids = Vec::new();
                while let Some((hash, s)) = d.next_keyed() {
                    count(std::mem::size_of::<Identity>())?;
                    stream_ids.push(Identity { ts: s.ts, bytes: s.bytes, hash, metadata: s.metadata });
                }
                if !stream_ids.is_empty() {
                    ids.push((labels, stream_ids));
                }
                continue;
            }
            let mut entries = Vec::new();
            for e in StreamReader::new(sources, q.start, q.end, q.direction, needles.clone(), stats.clone()) {
                count(e.line.len() + 16 + e.metadata.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>())?;
                entries.push(e);
            }
            if !entries.is_empty() {
                out.push((labels, entries));
            }
        }
        Ok(LiveAnswer { streams: out, identities: ids, uploaded })
    }
}

/// A selector from matchers, in LogQL's syntax.
fn selector(matchers: &[Matcher]) -> String {
    let parts: Vec<String> = matchers.iter().map(ToString::to_string).collect();
    format!("{{{}}}", parts.join(", "))
}
