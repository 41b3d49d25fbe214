//! Segments in object storage (the bucket tier).
//!
//! With `store.object_store` set, every segment the store cuts or compacts is uploaded to the
//! bucket, and the local disk becomes a cache: it keeps the WAL, every segment's footer and the
//! most recent segments up to `cache_bytes`; older ones are evicted and their blocks fetched
//! with ranged reads when a query's filters keep them (`cache.rs`). Retention and compaction
//! delete objects only after the data that replaces them is in the bucket (`sync.rs`), and a
//! data directory that lost its disk adopts what the bucket holds (`adopt.rs`).
//!
//! Local files beside a segment `segments/<day>/<id>.seg`:
//! - `<id>.remote`: written once the upload is confirmed; holds the segment's size and footer,
//!   so the segment can be served after its `.seg` is evicted (see `marker.rs`);
//! - `<id>.gone`: the segment was retired (retention, compaction); its object is still to be
//!   deleted.
//!
//! The store knows no protocol: [`ObjectTier`] is implemented over S3 by the `bucket` crate.

mod adopt;
mod cache;
pub mod identities;
mod live;
pub(crate) mod marker;
mod metrics;
mod peers;
mod prefetch;
mod sync;

use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

pub use cache::BlockCache;
pub use live::{
    Announcement, ClusterStatus, LiveAnswer, LiveData, LiveRequest, MAX_LIVE_BYTES, Streams, UPLOADED_HEADER,
};
pub use metrics::TierMetrics;
pub use sync::Synced;

/// Object storage as the store uses it. Keys are relative to the writer's own prefix
/// (`<day>/<id>.seg`, `<day>/<id>.manifest`). Every call blocks; failures are `io::Error`s, with
/// `NotFound` for a missing object.
pub trait ObjectTier: Send + Sync + 'static {
    /// Uploads a local file as `key`.
    fn put_file(&self, key: &str, path: &Path) -> io::Result<()>;
    /// Stores a small object.
    fn put(&self, key: &str, data: Vec<u8>) -> io::Result<()>;
    /// Reads a whole object.
    fn get(&self, key: &str) -> io::Result<Vec<u8>>;
    /// Reads `range` of an object.
    fn get_range(&self, key: &str, range: Range<u64>) -> io::Result<Vec<u8>>;
    /// Reads several ranges of an object, in their order (an implementation may coalesce
    /// near ones and read them concurrently; by default, one after the other).
    fn get_ranges(&self, key: &str, ranges: &[Range<u64>]) -> io::Result<Vec<Vec<u8>>> {
        ranges.iter().map(|r| self.get_range(key, r.clone())).collect()
    }
    /// Deletes an object (a missing one is not an error).
    fn delete(&self, key: &str) -> io::Result<()>;
    /// Every object under the writer's prefix: relative key and size.
    fn list(&self) -> io::Result<Vec<(String, u64)>>;
    /// Where the objects go, for messages (`s3://bucket/prefix/node`).
    fn describe(&self) -> String;
    /// The node ids with objects under the bucket's prefix (every writer's, this one's too).
    fn nodes(&self) -> io::Result<Vec<String>>;
    /// The same bucket, at another node's objects (read by this one, never written).
    fn node(&self, node_id: &str) -> Arc<dyn ObjectTier>;
    /// The node whose objects these are.
    fn node_id(&self) -> String;
}

/// Blocks of one object closer than this are fetched in one ranged read (as `object_store`
/// coalesces by default): a request costs more than a megabyte of transfer.
pub const COALESCE: u64 = 1 << 20;

/// The tier as the store's segments share it.
pub struct Tier {
    pub(crate) objects: Arc<dyn ObjectTier>,
    pub(crate) cache: BlockCache,
    /// Keys of retired segments whose objects are still to be deleted, with their tombstone.
    pub(crate) gone: Mutex<Vec<(String, std::path::PathBuf)>>,
    /// Set once the bucket's listing has been reconciled with the local segments.
    pub(crate) adopted: AtomicBool,
    /// Compaction manifests already put in the bucket.
    pub(crate) manifests_up: Mutex<std::collections::HashSet<std::path::PathBuf>>,
    pub(crate) metrics: TierMetrics,
    /// After a failed block fetch, further fetches fail at once until then (with that error),
    /// so a query over many evicted blocks answers quickly while the bucket is down.
    pub(crate) unreachable: Mutex<Option<(std::time::Instant, String)>>,
    /// Another writer's objects, read and never written (see `peers.rs`); `None` for this
    /// node's own.
    pub(crate) foreign: Option<String>,
}

impl Tier {
    pub fn new(objects: Arc<dyn ObjectTier>, block_cache_bytes: u64) -> Tier {
        Tier {
            objects,
            cache: BlockCache::new(block_cache_bytes),
            gone: Mutex::new(Vec::new()),
            adopted: AtomicBool::new(false),
            manifests_up: Default::default(),
            metrics: TierMetrics::default(),
            unreachable: Mutex::new(None),
            foreign: None,
        }
    }

    /// Another writer's objects, read only.
    pub(crate) fn peer(objects: Arc<dyn ObjectTier>, block_cache_bytes: u64, node: String) -> Tier {
        Tier { foreign: Some(node), ..Tier::new(objects, block_cache_bytes) }
    }

    pub fn describe(&self) -> String {
        self.objects.describe()
    }

    /// A block's bytes from the bucket (ranged read), failing fast while the bucket is known
    /// to be down.
    pub(crate) fn fetch(&self, key: &str, range: Range<u64>) -> Result<Vec<u8>, String> {
        let got = self.fetch_many(key, std::slice::from_ref(&range))?;
        Ok(got.into_iter().next().unwrap_or_default())
    }

    /// Several blocks' bytes from the bucket at once, `ranges` sorted: ranges less than
    /// [`COALESCE`] apart are read as one (and counted as one request), and the reads are made
    /// concurrently (see [`ObjectTier::get_ranges`]). Fails fast while the bucket is known to be
    /// down.
    pub(crate) fn fetch_many(&self, key: &str, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>, String> {
        if let Some((until, e)) = &*self.unreachable.lock()
            && std::time::Instant::now() < *until
        {
            return Err(e.clone());
        }
        let mut reads: Vec<Range<u64>> = Vec::new();
        for r in ranges {
            match reads.last_mut() {
                Some(last) if r.start >= last.start && r.start <= last.end + COALESCE => last.end = last.end.max(r.end),
                _ => reads.push(r.clone()),
            }
        }
        let got = if let [one] = reads.as_slice() {
            self.objects.get_range(key, one.clone()).map(|b| vec![b])
        } else {
            self.objects.get_ranges(key, &reads)
        };
        for _ in 0..reads.len() {
            self.metrics.request("fetch", got.is_ok());
        }
        // Each wanted range cut out of the read holding it.
        let got = got.map(|read| {
            ranges
                .iter()
                .map(|r| {
                    let i = reads.partition_point(|x| x.end < r.end);
                    let (Some(x), Some(data)) = (reads.get(i), read.get(i)) else { return Vec::new() };
                    let (a, b) = ((r.start - x.start) as usize, (r.end - x.start) as usize);
                    data.get(a..b.min(data.len())).map(<[u8]>::to_vec).unwrap_or_default()
                })
                .collect()
        });
        got.map_err(|e| {
            // Gone (another writer's object replaced since the last listing): the bucket is
            // fine, and the next listing drops it.
            if e.kind() == io::ErrorKind::NotFound {
                return format!("{}/{key}: object gone (replaced or expired by its writer): {e}", self.describe());
            }
            let msg = format!("object storage unreachable: {}/{key}: {e}", self.describe());
            *self.unreachable.lock() = Some((std::time::Instant::now() + FAIL_FAST, msg.clone()));
            msg
        })
    }
}

/// A segment's place in the bucket.
pub(crate) struct Remote {
    pub tier: Arc<Tier>,
    /// `<day>/<id>.seg`.
    pub key: String,
    /// The `.seg` file is on the local disk.
    pub local: AtomicBool,
    /// The object is in the bucket (its `.remote` marker is written).
    pub uploaded: AtomicBool,
    /// When this process confirmed the upload (Unix ms; 0: before it started). Other nodes
    /// see the object at their next listing: until then this writer still answers for it.
    pub uploaded_at: std::sync::atomic::AtomicU64,
    /// For a compaction's output: the inputs it replaced that were in the bucket (their keys),
    /// and when the last of them was uploaded (Unix ms; 1 for before this process started),
    /// or 0 when some were not: other nodes read the inputs until they list the output.
    pub replaces: std::sync::OnceLock<Replaced>,
}

/// What a compaction's output replaced in the bucket (see `Remote::replaces`).
#[derive(Debug, Default)]
pub(crate) struct Replaced {
    pub keys: Vec<String>,
    pub all_uploaded_by: u64,
}

impl Remote {
    /// When everything this segment holds was in the bucket under some key, as far as other
    /// nodes can tell (Unix ms; 1: before this process started; 0: not yet): the last upload
    /// of the inputs it replaced when they all were, or else its own upload. A node that
    /// listed the bucket after the inputs' uploads reads them until it lists the output (they
    /// leave the bucket only `delete_delay` after the output is in it), so the output's own
    /// upload is no news to it.
    pub(crate) fn in_bucket_since(&self) -> u64 {
        let inputs = self.replaces.get().map_or(0, |r| r.all_uploaded_by);
        if inputs > 0 {
            return inputs;
        }
        if self.is_uploaded() {
            return self.uploaded_at.load(Ordering::Acquire).max(1);
        }
        0
    }
}

impl Remote {
    pub fn is_local(&self) -> bool {
        self.local.load(Ordering::Acquire)
    }

    pub fn is_uploaded(&self) -> bool {
        self.uploaded.load(Ordering::Acquire)
    }
}

/// How long block fetches fail at once after one failed.
const FAIL_FAST: std::time::Duration = std::time::Duration::from_secs(2);

/// The object key of a segment or manifest file `segments/<day>/<name>`.
pub(crate) fn key_of(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let day = path.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    format!("{day}/{name}")
}

/// A path with its extension replaced (`x.seg` → `x.remote`).
pub(crate) fn sibling(path: &Path, ext: &str) -> std::path::PathBuf {
    path.with_extension(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One object in memory, its reads counted.
    struct OneObject {
        data: Vec<u8>,
        reads: Mutex<Vec<Range<u64>>>,
    }

    impl ObjectTier for OneObject {
        fn put_file(&self, _: &str, _: &Path) -> io::Result<()> {
            unimplemented!()
        }
        fn put(&self, _: &str, _: Vec<u8>) -> io::Result<()> {
            unimplemented!()
        }
        fn get(&self, _: &str) -> io::Result<Vec<u8>> {
            unimplemented!()
        }
        fn get_range(&self, _: &str, r: Range<u64>) -> io::Result<Vec<u8>> {
            self.reads.lock().push(r.clone());
            Ok(self.data[r.start as usize..r.end as usize].to_vec())
        }
        fn delete(&self, _: &str) -> io::Result<()> {
            unimplemented!()
        }
        fn list(&self) -> io::Result<Vec<(String, u64)>> {
            unimplemented!()
        }
        fn describe(&self) -> String {
            "memory".into()
        }
        fn nodes(&self) -> io::Result<Vec<String>> {
            unimplemented!()
        }
        fn node(&self, _: &str) -> Arc<dyn ObjectTier> {
            unimplemented!()
        }
        fn node_id(&self) -> String {
            "me".into()
        }
    }

    /// A compaction's output whose inputs were all in the bucket has been there since their
    /// last upload, before and after its own: a node that listed the inputs is not sent it.
    #[test]
    fn an_output_is_in_the_bucket_since_its_inputs_were() {
        let tier = Arc::new(Tier::new(Arc::new(OneObject { data: Vec::new(), reads: Mutex::new(Vec::new()) }), 0));
        let remote = || Remote {
            tier: tier.clone(),
            key: "d/1.seg".into(),
            local: AtomicBool::new(true),
            uploaded: AtomicBool::new(false),
            uploaded_at: Default::default(),
            replaces: Default::default(),
        };
        let upload = |r: &Remote, at: u64| {
            r.uploaded_at.store(at, Ordering::Release);
            r.uploaded.store(true, Ordering::Release);
        };
        let fresh = remote();
        assert_eq!(fresh.in_bucket_since(), 0);
        upload(&fresh, 500);
        assert_eq!(fresh.in_bucket_since(), 500);
        let output = remote();
        let _ = output.replaces.set(Replaced { keys: vec!["d/0.seg".into()], all_uploaded_by: 100 });
        assert_eq!(output.in_bucket_since(), 100);
        upload(&output, 900);
        assert_eq!(output.in_bucket_since(), 100, "its own upload is no news");
        // An output of inputs some of which were not in the bucket: its own upload counts.
        let partial = remote();
        let _ = partial.replaces.set(Replaced { keys: vec!["d/0.seg".into()], all_uploaded_by: 0 });
        assert_eq!(partial.in_bucket_since(), 0);
        upload(&partial, 900);
        assert_eq!(partial.in_bucket_since(), 900);
    }

    /// Blocks less than `COALESCE` apart are one read; each block comes back cut out of it.
    #[test]
    fn near_blocks_are_one_read_and_each_comes_back_whole() {
        let data: Vec<u8> = (0..3 * COALESCE as usize).map(|i| (i % 251) as u8).collect();
        let objects = Arc::new(OneObject { data: data.clone(), reads: Mutex::new(Vec::new()) });
        let tier = Tier::new(objects.clone(), 0);
        let far = 2 * COALESCE + 100;
        let ranges = [0..10, 10..30, 5000..5100, far..far + 7];
        let got = tier.fetch_many("k", &ranges).unwrap();
        for (r, g) in ranges.iter().zip(&got) {
            assert_eq!(g.as_slice(), &data[r.start as usize..r.end as usize], "{r:?}");
        }
        assert_eq!(*objects.reads.lock(), vec![0..5100, far..far + 7]);
        assert_eq!(tier.fetch("k", 40..44).unwrap(), &data[40..44]);
    }
}
