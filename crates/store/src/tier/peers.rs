//! Other writers' segments: every node with the bucket answers queries over every writer's
//! data (issue 16, "any node answers").
//!
//! Each pass lists the node ids under the bucket's prefix and, for every other writer, its
//! objects: segments it has not seen are served from their footer (two ranged reads, kept in
//! memory only) and read block by block through that writer's block cache; segments the writer
//! has since deleted (compaction, retention) or replaced (a compaction manifest whose outputs
//! are all up) leave. These segments are never compacted, expired or deleted here: their writer
//! owns them. Entries two writers both hold (an agent pushing to both, `agent.push_urls`) are
//! exact duplicates, which queries remove.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::segment::Segment;
use crate::tier::Tier;
use crate::tier::adopt::replaced_objects;
use crate::{Store, StoreError, register_segment};

/// Footers fetched at once.
const FOOTERS_AT_ONCE: usize = 4;

/// What one pass changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PeersSynced {
    pub writers: usize,
    pub added: usize,
    pub removed: usize,
}

impl Store {
    /// Brings other writers' segments up to date with the bucket (see the module doc).
    pub(crate) fn refresh_peers(&self, own: &Arc<Tier>) -> Result<PeersSynced, StoreError> {
        let began = crate::tier::live::now_ms();
        let me = own.objects.node_id();
        let nodes = own.objects.nodes();
        own.metrics.request("list", nodes.is_ok());
        let nodes = nodes.map_err(|e| StoreError::Bucket(format!("listing writers ({}): {e}", own.describe())))?;
        let mut done = PeersSynced::default();
        for node in nodes.into_iter().filter(|n| *n != me && !n.starts_with('_')) {
            done.writers += 1;
            let peer = {
                let mut peers = self.peers.lock();
                peers
                    .entry(node.clone())
                    .or_insert_with(|| {
                        let cache = self.cfg.load().object_store.block_cache_bytes;
                        let mut t = Tier::peer(own.objects.node(&node), cache, node.clone());
                        t.metrics = own.metrics.clone(); // one set of bucket metrics per node
                        Arc::new(t)
                    })
                    .clone()
            };
            let listed = peer.objects.list();
            peer.metrics.request("list", listed.is_ok());
            let listed =
                listed.map_err(|e| StoreError::Bucket(format!("listing writer {node} ({}): {e}", peer.describe())))?;
            let replaced: HashSet<String> =
                replaced_objects(&peer, &listed)?.into_iter().flat_map(|(_, keys)| keys).collect();
            let wanted: HashMap<&str, u64> = listed
                .iter()
                .filter(|(k, _)| k.ends_with(".seg") && !replaced.contains(k))
                .map(|(k, s)| (k.as_str(), *s))
                .collect();
            let held: HashSet<String> = {
                let inner = self.inner.lock();
                inner.segments.iter().filter(|l| of(&l.seg, &peer)).map(|l| key(&l.seg)).collect()
            };
            // Gone from the bucket, or replaced by a compaction's outputs: no longer served.
            let stale: HashSet<&String> = held.iter().filter(|k| !wanted.contains_key(k.as_str())).collect();
            if !stale.is_empty() {
                let mut inner = self.inner.lock();
                inner.segments.retain(|l| !(of(&l.seg, &peer) && stale.contains(&key(&l.seg))));
                done.removed += stale.len();
            }
            let root = self.dir.join("peers").join(&node);
            let new: Vec<(&str, u64)> =
                wanted.iter().filter(|(k, _)| !held.contains(**k)).map(|(k, s)| (*k, *s)).collect();
            // Footers are fetched a few at a time: a pass's age is how stale this node's
            // listing is, and how much other writers must send it live (`live.rs`).
            for chunk in new.chunks(FOOTERS_AT_ONCE) {
                let fetched: Vec<_> = std::thread::scope(|s| {
                    let handles: Vec<_> = chunk
                        .iter()
                        .map(|(k, size)| {
                            let (peer, path) = (&peer, root.join(k));
                            s.spawn(move || self.fetch_footer(peer, k, *size, &path))
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().expect("footer fetch panicked")).collect()
                });
                for got in fetched {
                    let Some((mut seg, _)) = got? else { continue };
                    seg.attach(&peer, false, true);
                    register_segment(&mut self.inner.lock(), seg);
                    done.added += 1;
                }
            }
        }
        self.peers_listed_at.store(began, std::sync::atomic::Ordering::Release);
        if done.added + done.removed > 0 {
            tracing::debug!(
                writers = done.writers,
                added = done.added,
                removed = done.removed,
                "other writers' segments"
            );
            self.update_gauges();
        }
        Ok(done)
    }
}

/// Whether `seg` is `peer`'s.
fn of(seg: &Segment, peer: &Arc<Tier>) -> bool {
    seg.remote.as_ref().is_some_and(|r| Arc::ptr_eq(&r.tier, peer))
}

fn key(seg: &Segment) -> String {
    seg.remote.as_ref().map(|r| r.key.clone()).unwrap_or_default()
}
