//! Bitácora's storage engine.
//!
//! It owns everything on disk under the data directory: the write-ahead log (`wal/`), the
//! segment files that flushes cut from the in-memory heads (`segments/<day>/`), and the
//! per-tenant label index rebuilt from both at start. It validates pushes against Loki's limits
//! (each tenant's own when `overrides` gives it some, see `tenant_limits`),
//! makes every accepted entry durable before `push` returns, answers label, series and stats
//! questions, and hands out per-stream readers that prune by labels, time and tokens.
//!
//! It knows no query language and no wire format: callers give it label matchers, time ranges
//! and substrings that lines must contain.

mod background;
mod block;
mod compact;
mod config;
mod dedup;
mod digest;
mod discover;
mod files;
mod format;
mod grams;
mod head;
mod incoming;
mod index;
mod lock;
mod metrics;
mod needles;
mod purge;
mod push;
mod query;
mod replicas;
mod retention;
mod segment;
mod select;
mod snapshot;
mod space;
mod tally;
mod tenant_limits;
pub mod tier;
mod tokens;
mod varint;
pub mod wal;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use arc_swap::ArcSwap;
use model::{Labels, Matcher};
use parking_lot::Mutex;
use roaring::RoaringBitmap;

pub use compact::Compacted;
pub use config::{Limits, ObjectStoreConfig, StoreConfig};
pub use discover::LEVEL_FIELDS;
pub use files::{open_file_limit, raise_open_file_limit};
pub use incoming::{Incoming, IncomingStream};
pub use metrics::Metrics;
pub use purge::{Purge, Remover};
pub use push::{PushOutcome, PushStatus, PushStream};
pub use query::Select;
pub use select::{ReadStats, StatsReader, StreamReader};
pub use tenant_limits::TenantLimits;
pub use tokens::{for_each_token, required_tokens};

use files::FileCache;
use head::Head;
use index::Tenant;
use lock::DirLock;
use segment::{Segment, SegmentError};

use space::DiskSpace;
use wal::{Syncer, WalWriter};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // (Fields named `cause`, not `source`: the message holds it already, and a `source` would
    // be printed twice by error chains.)
    #[error("data directory {path}: {cause}. {hint}")]
    DataDir { path: PathBuf, cause: std::io::Error, hint: String },
    #[error("data directory {0} is in use by another bitacora process (lock file {0}/LOCK is held)")]
    Locked(PathBuf),
    #[error(transparent)]
    Format(#[from] format::FormatError),
    #[error("segment file {path}: {cause}")]
    SegmentNewer { path: PathBuf, cause: SegmentError },
    #[error("segment file {path}: {cause}. {hint}")]
    SegmentUnreadable { path: PathBuf, cause: std::io::Error, hint: &'static str },
    #[error("write-ahead log: {0}")]
    Wal(std::io::Error),
    /// No space left for the write; nothing of it was kept. The API answers 507.
    #[error("disk full: {0}; the push was not stored (free space in the data directory; writing resumes by itself)")]
    DiskFull(String),
    #[error("flush: {0}")]
    Flush(String),
    #[error("compaction: {0}")]
    Compaction(String),
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// The bucket could not be reached or refused a request; the data stays local meanwhile.
    #[error("object storage: {0}")]
    Bucket(String),
    /// A request would need more memory than it may take.
    #[error("{0}")]
    TooLarge(String),
}

/// A subscriber to newly accepted entries (live tail): tenant, stream labels, entries.
pub type Subscriber = Box<dyn Fn(&str, &Labels, &[Incoming]) + Send + Sync>;

/// A segment with its streams resolved to tenant stream ids.
struct Loaded {
    seg: Arc<Segment>,
    /// tenant → (stream id → index in `seg.streams`).
    streams: HashMap<String, HashMap<u32, usize>>,
    /// tenant → stream ids present.
    ids: HashMap<String, RoaringBitmap>,
}

struct Flushing {
    tenant: String,
    sid: u32,
    labels: Labels,
    head: Arc<Head>,
}

struct Inner {
    wal: WalWriter,
    tenants: HashMap<String, Tenant>,
    segments: Vec<Loaded>,
    flushing: Vec<Flushing>,
    /// Line bytes of the heads in `flushing`.
    flushing_bytes: u64,
    next_segment_id: u64,
    head_bytes: u64,
    oldest_unflushed: Option<Instant>,
    rate: HashMap<String, push::TokenBucket>,
}

/// The storage engine. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Store {
    /// Both replaceable while running (`reconfigure`, on SIGHUP).
    cfg: ArcSwap<StoreConfig>,
    limits: ArcSwap<TenantLimits>,
    dir: PathBuf,
    inner: Mutex<Inner>,
    syncer: Syncer,
    flush_lock: Mutex<()>,
    /// Wakes the background thread when the heads are due (set by pushes), and pushes waiting
    /// for memory when a flush finished.
    flush_wake: (Mutex<bool>, parking_lot::Condvar),
    flushed: parking_lot::Condvar,
    subscribers: parking_lot::RwLock<Vec<Subscriber>>,
    pub metrics: Metrics,
    /// Open segment files, bounded.
    files: Arc<FileCache>,
    space: DiskSpace,
    compact_lock: Mutex<()>,
    /// Segments compaction must leave alone (a block could not be read), until restart.
    quarantined: Mutex<HashSet<u64>>,
    /// Committed compactions whose inputs are not all deleted yet: (manifest, inputs).
    manifests: Mutex<Vec<(PathBuf, Vec<PathBuf>)>>,
    /// Run retention at the next wake (the settings changed).
    retention_due: std::sync::atomic::AtomicBool,
    /// Lines and line bytes accepted since start.
    accepted: (std::sync::atomic::AtomicU64, std::sync::atomic::AtomicU64),
    /// Which stored entries compaction removes (deletes); see `purge.rs`.
    purge: parking_lot::RwLock<Option<Arc<dyn Purge>>>,
    /// The bucket segments are uploaded to, when `store.object_store` is set (see `tier`).
    tier: Option<Arc<tier::Tier>>,
    sync_lock: Mutex<()>,
    /// Wakes the bucket thread (a flush or compaction made segments to upload).
    bucket_wake: (Mutex<bool>, parking_lot::Condvar),
    /// Whether the last sync pass failed (logged once per outage).
    bucket_failing: std::sync::atomic::AtomicBool,
    /// Other writers in the bucket, by node id (see `tier/peers.rs`).
    peers: Mutex<HashMap<String, Arc<tier::Tier>>>,
    /// The transport to other writers' data not yet uploaded, their announcements, and this
    /// writer's own address (see `tier/live.rs`).
    live: std::sync::OnceLock<Arc<dyn tier::LiveData>>,
    /// Other nodes' fresh announcements (writers and query nodes), and when they were read.
    writers: Mutex<Vec<tier::Announcement>>,
    announcements_read: std::sync::atomic::AtomicU64,
    /// When the last complete pass over other writers' segments began (Unix ms, 0: none yet):
    /// every segment uploaded before it is held here (see `tier/live.rs`).
    peers_listed_at: std::sync::atomic::AtomicU64,
    /// This node's URL and role, when it announces itself.
    advertise: Mutex<Option<(String, String)>>,
    _lock: DirLock,
}

/// What the status page shows of the store.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct StoreStatus {
    pub segments: usize,
    pub segment_bytes: u64,
    /// Raw line bytes inside the segments (what they hold uncompressed).
    pub segment_raw_bytes: u64,
    pub wal_files: usize,
    pub wal_bytes: u64,
    pub head_bytes: u64,
    pub open_segment_files: usize,
    pub streams: usize,
    pub active_streams: usize,
    /// Oldest and newest timestamps in segments (Unix ns; 0 when empty).
    pub oldest_ts: i64,
    pub newest_ts: i64,
    pub disk_full: bool,
    /// The data directory's file system.
    pub fs_free_bytes: u64,
    pub fs_total_bytes: u64,
    pub retention_period_seconds: u64,
    pub retention_max_bytes: u64,
    /// Lines and line bytes accepted since start.
    pub lines_accepted: u64,
    pub bytes_accepted: u64,
}

/// Totals for `index/stats`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IndexStats {
    pub streams: u64,
    pub chunks: u64,
    pub bytes: u64,
    pub entries: u64,
}

fn dir_error(path: &Path, source: std::io::Error) -> StoreError {
    let hint = match source.kind() {
        std::io::ErrorKind::PermissionDenied => {
            // The directory to hand over: the path itself, or the one it could not be made in.
            let owned = if path.is_dir() { path } else { path.parent().unwrap_or(path) };
            // SAFETY: geteuid and getegid cannot fail and touch no memory.
            let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
            format!(
                "This process runs as uid {uid} (gid {gid}): make the directory writable by it, e.g. as root \
                 `chown -R {uid}:{gid} {}` (for a container, on the host directory mounted there), or choose \
                 another with --data-dir or BITACORA_DATA_DIR",
                owned.display()
            )
        }
        std::io::ErrorKind::ReadOnlyFilesystem => "The file system is read-only; choose another with --data-dir".into(),
        _ => "Check that the path is a writable directory, or choose another with --data-dir".into(),
    };
    StoreError::DataDir { path: path.to_path_buf(), cause: source, hint }
}

impl Store {
    /// Opens (or creates) a data directory: loads the segments, replays the WAL into the heads.
    /// Damaged segments and a torn WAL tail are reported and skipped; the rest is served.
    pub fn open(
        dir: &Path,
        cfg: StoreConfig,
        limits: Limits,
        registry: &mut prometheus_client::registry::Registry,
    ) -> Result<Store, StoreError> {
        Store::open_with(dir, cfg, limits, registry, None)
    }

    /// [`Store::open`], with the bucket segments go to (`store.object_store`): the local disk
    /// then holds the WAL, every segment's footer and the newest segments (see [`tier`]).
    pub fn open_with(
        dir: &Path,
        cfg: StoreConfig,
        limits: Limits,
        registry: &mut prometheus_client::registry::Registry,
        objects: Option<Arc<dyn tier::ObjectTier>>,
    ) -> Result<Store, StoreError> {
        let tier = objects.map(|o| Arc::new(tier::Tier::new(o, cfg.object_store.block_cache_bytes)));
        if let Some(t) = &tier {
            t.metrics.register(registry);
        }
        let seg_root = dir.join("segments");
        let wal_dir = dir.join("wal");
        for d in [dir, &seg_root, &wal_dir] {
            fs::create_dir_all(d).map_err(|e| dir_error(d, e))?;
        }
        let metrics = Metrics::new(registry);
        let space = DiskSpace::new(metrics.disk_full.clone());
        let probe = dir.join(".write-test");
        match fs::write(&probe, b"ok") {
            Ok(()) => {}
            Err(e) if space::is_no_space(&e) => {
                space.failed("start", &e);
            }
            Err(e) => return Err(dir_error(dir, e)),
        }
        let _ = fs::remove_file(&probe);
        let lock = DirLock::acquire(dir).map_err(|e| match e {
            lock::LockError::Held(p) => StoreError::Locked(p),
            lock::LockError::Io(p, e) => dir_error(&p, e),
        })?;
        // Before anything is changed: a directory from a newer release is refused untouched.
        format::check(dir)?;
        let kept_manifests = compact::recover(&seg_root, tier.is_some()).map_err(|e| dir_error(&seg_root, e))?;
        let cache = Arc::new(FileCache::sized_for_process());

        // Segments.
        let mut segments = Vec::new();
        let mut max_id = 0u64;
        let mut wal_upto = 0u64;
        for day in fs::read_dir(&seg_root).map_err(|e| dir_error(&seg_root, e))? {
            let Ok(day) = day else { continue };
            let Ok(files) = fs::read_dir(day.path()) else { continue };
            for f in files.flatten() {
                let path = f.path();
                let name = f.file_name().to_string_lossy().to_string();
                if name.ends_with(".tmp") {
                    let _ = fs::remove_file(&path);
                    continue;
                }
                if let Some(t) = &tier {
                    // A retired segment whose object is still to be deleted.
                    if name.ends_with(".gone") {
                        t.gone.lock().push((tier::key_of(&path.with_extension("seg")), path.clone()));
                        continue;
                    }
                    // An evicted segment, served from its footer.
                    if let Some(id) = name.strip_suffix(".remote").and_then(|s| s.parse::<u64>().ok()) {
                        max_id = max_id.max(id);
                        let seg_path = path.with_extension("seg");
                        if seg_path.exists() {
                            continue; // opened from its file below
                        }
                        let opened = tier::marker::read(&path).map_err(SegmentError::Io).and_then(|(size, tail)| {
                            segment::from_tail(&seg_path, id, size, &tail, cache.clone(), true)
                        });
                        match opened {
                            Ok(mut seg) => {
                                seg.attach(t, false, true);
                                wal_upto = wal_upto.max(seg.wal_upto);
                                segments.push(seg);
                            }
                            Err(e @ SegmentError::Newer(_)) => {
                                return Err(StoreError::SegmentNewer { path, cause: e });
                            }
                            Err(e) => {
                                // The object is still in the bucket: adoption finds it again.
                                tracing::error!(path = %path.display(), error = %e, "damaged segment marker removed; the bucket's copy is adopted again");
                                let _ = fs::remove_file(&path);
                            }
                        }
                        continue;
                    }
                }
                let Some(id) = name.strip_suffix(".seg").and_then(|s| s.parse::<u64>().ok()) else { continue };
                max_id = max_id.max(id);
                match segment::open(&path, id, cache.clone()) {
                    Ok(mut seg) => {
                        if let Some(t) = &tier {
                            seg.attach(t, true, path.with_extension("remote").exists());
                        }
                        wal_upto = wal_upto.max(seg.wal_upto);
                        segments.push(seg);
                    }
                    Err(SegmentError::Io(e)) if !segment::io_is_damage(&e) => {
                        // Not damage: the file is there but cannot be read now. Serving without
                        // it would make its data silently vanish from every query.
                        let hint = match e.raw_os_error() {
                            Some(libc::EMFILE) | Some(libc::ENFILE) => {
                                "Too many open files: raise the limit (ulimit -n, LimitNOFILE= in systemd)"
                            }
                            Some(libc::EACCES) | Some(libc::EPERM) => {
                                "Permission denied: the data directory must belong to the user running bitacora (chown -R)"
                            }
                            _ => "The file could not be read; check the disk and the file's permissions",
                        };
                        return Err(StoreError::SegmentUnreadable { path, cause: e, hint });
                    }
                    Err(e @ SegmentError::Newer(_)) => return Err(StoreError::SegmentNewer { path, cause: e }),
                    Err(e) => {
                        metrics.corrupt_segments.inc();
                        tracing::error!(path = %path.display(), error = %e, "damaged segment file skipped; the rest of the data is served");
                    }
                }
            }
        }
        segments.sort_by_key(|s| s.id);

        let wal_segments = wal::list_segments(&wal_dir).map_err(|e| dir_error(&wal_dir, e))?;
        let next_wal = wal_segments.last().copied().unwrap_or(0).max(wal_upto) + 1;
        let wal = WalWriter::new(&wal_dir, next_wal);
        // With a bucket, ids also grow with the clock: a data directory that lost its disk never
        // reuses the id of an object already in the bucket, even before it can list it.
        let floor = if tier.is_some() { (now_ns() / 1_000_000_000).max(0) as u64 * 1_000_000 } else { 0 };
        let mut inner = Inner {
            wal,
            tenants: HashMap::new(),
            segments: Vec::new(),
            flushing: Vec::new(),
            flushing_bytes: 0,
            next_segment_id: (max_id + 1).max(floor),
            head_bytes: 0,
            oldest_unflushed: None,
            rate: HashMap::new(),
        };
        for seg in segments {
            register_segment(&mut inner, seg);
        }
        let mut replayed = 0usize;
        for seq in wal_segments {
            let path = wal::segment_path(&wal_dir, seq);
            if seq <= wal_upto {
                let _ = fs::remove_file(&path);
                continue;
            }
            let res = wal::read_segment(&path, |rec| {
                let tenant = inner.tenants.entry(rec.tenant).or_default();
                for (labels, entries) in rec.streams {
                    let (sid, _) = tenant.get_or_create(&labels);
                    let st = &mut tenant.streams[sid as usize];
                    for e in entries {
                        if !st.head.contains(e.ts, &e.line, &e.metadata) {
                            st.max_ts = st.max_ts.max(e.ts);
                            inner.head_bytes += e.line.len() as u64;
                            st.head.push(e.ts, &e.line, &e.metadata);
                            replayed += 1;
                        }
                    }
                }
            });
            if let Err(e) = res {
                tracing::error!(path = %path.display(), error = %e, "unreadable WAL segment skipped");
            }
        }
        if replayed > 0 {
            inner.oldest_unflushed = Some(Instant::now());
            tracing::info!(entries = replayed, "replayed the write-ahead log");
        }
        let store = Store {
            cfg: ArcSwap::from_pointee(cfg),
            limits: ArcSwap::from_pointee(TenantLimits::uniform(limits)),
            dir: dir.to_path_buf(),
            inner: Mutex::new(inner),
            syncer: Syncer::default(),
            flush_lock: Mutex::new(()),
            flush_wake: (Mutex::new(false), parking_lot::Condvar::new()),
            flushed: parking_lot::Condvar::new(),
            subscribers: Default::default(),
            metrics,
            files: cache,
            space,
            compact_lock: Mutex::new(()),
            quarantined: Default::default(),
            manifests: Mutex::new(kept_manifests),
            retention_due: Default::default(),
            accepted: Default::default(),
            purge: Default::default(),
            tier,
            sync_lock: Mutex::new(()),
            bucket_wake: (Mutex::new(false), parking_lot::Condvar::new()),
            bucket_failing: Default::default(),
            peers: Default::default(),
            live: Default::default(),
            writers: Default::default(),
            announcements_read: Default::default(),
            peers_listed_at: Default::default(),
            advertise: Default::default(),
            _lock: lock,
        };
        store.update_gauges();
        Ok(store)
    }

    pub fn config(&self) -> Arc<StoreConfig> {
        self.cfg.load_full()
    }

    /// The limits `tenant` is held to (its override, or the defaults).
    pub fn limits(&self, tenant: &str) -> Arc<Limits> {
        self.limits.load().of(tenant).clone()
    }

    /// Replaces the settings and limits while running (a configuration reload, or the start
    /// with per-tenant overrides): the next push, flush, retention pass and compaction use them.
    pub fn reconfigure(&self, cfg: StoreConfig, limits: TenantLimits) {
        self.cfg.store(Arc::new(cfg));
        self.limits.store(Arc::new(limits));
        self.retention_due.store(true, Ordering::Relaxed);
        self.wake_flusher();
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// Registers a callback for every batch of newly accepted entries.
    pub fn subscribe(&self, f: Subscriber) {
        self.subscribers.write().push(f);
    }

    /// Whether the heads should be cut now (size or age).
    pub fn flush_due(&self) -> bool {
        let inner = self.inner.lock();
        inner.head_bytes >= self.cfg.load().flush_bytes
            || inner.oldest_unflushed.is_some_and(|t| t.elapsed() >= self.cfg.load().flush_interval.0)
    }

    /// Cuts every head into a new segment file and drops the WAL segments it covers.
    pub fn flush(&self) -> Result<(), StoreError> {
        let _one = self.flush_lock.lock();
        let started = Instant::now();
        let (wal_upto, id, work) = {
            let mut inner = self.inner.lock();
            let mut taken = Vec::new();
            let Inner { tenants, flushing, .. } = &mut *inner;
            for (tname, t) in tenants.iter_mut() {
                for (sid, st) in t.streams.iter_mut().enumerate() {
                    if !st.head.is_empty() {
                        taken.push(Flushing {
                            tenant: tname.clone(),
                            sid: sid as u32,
                            labels: st.labels.clone(),
                            head: Arc::new(std::mem::take(&mut st.head)),
                        });
                    }
                }
            }
            if taken.is_empty() && flushing.is_empty() {
                return Ok(());
            }
            flushing.extend(taken);
            let upto = inner.wal.rotate().map_err(|e| self.io_error("flush", e))?;
            inner.flushing_bytes += inner.head_bytes;
            inner.head_bytes = 0;
            inner.oldest_unflushed = None;
            let id = inner.next_segment_id;
            inner.next_segment_id += 1;
            let work: Vec<(String, Labels, Arc<Head>)> =
                inner.flushing.iter().map(|f| (f.tenant.clone(), f.labels.clone(), f.head.clone())).collect();
            (upto, id, work)
        };
        // Several flush attempts may have left pieces of one stream: merge them per stream.
        let mut merged: BTreeMap<(String, Labels), Vec<Arc<Head>>> = BTreeMap::new();
        for (t, l, h) in work {
            merged.entry((t, l)).or_default().push(h);
        }
        let heads: Vec<(String, Labels, Arc<Head>)> = merged
            .into_iter()
            .map(|((t, l), hs)| {
                if hs.len() == 1 {
                    (t, l, hs.into_iter().next().unwrap())
                } else {
                    let mut h = Head::default();
                    for part in hs {
                        for (ts, line, meta) in part.rows() {
                            if !h.contains(ts, line, meta) {
                                h.push(ts, line, &meta.to_vec().into());
                            }
                        }
                    }
                    (t, l, Arc::new(h))
                }
            })
            .collect();
        let refs: Vec<(&str, &Labels, &Head)> = heads.iter().map(|(t, l, h)| (t.as_str(), l, &**h)).collect();
        let seg = segment::write(
            &self.dir.join("segments"),
            id,
            wal_upto,
            &refs,
            self.cfg.load().flush_encoding(),
            &self.files,
        )
        .map_err(|e| {
            self.metrics.flush_failures.inc();
            self.write_error("flush", e)
        })?;
        self.space.succeeded();
        drop(refs);
        drop(heads);
        let mut seg = seg;
        if let Some(t) = &self.tier {
            seg.attach(t, true, false);
        }
        let bytes = seg.file_bytes;
        {
            let mut inner = self.inner.lock();
            register_segment(&mut inner, seg);
            inner.flushing.clear();
            inner.flushing_bytes = 0;
        }
        let wal_dir = self.dir.join("wal");
        if let Ok(list) = wal::list_segments(&wal_dir) {
            for seq in list.into_iter().filter(|&s| s <= wal_upto) {
                let _ = fs::remove_file(wal::segment_path(&wal_dir, seq));
            }
        }
        self.flushed.notify_all();
        self.wake_bucket();
        self.metrics.flushes.inc();
        self.metrics.flushed_bytes.inc_by(bytes);
        self.metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
        tracing::debug!(segment = id, bytes, ms = started.elapsed().as_millis() as u64, "flushed heads");
        self.update_gauges();
        Ok(())
    }

    fn update_gauges(&self) {
        self.metrics.open_segment_files.set(self.files.len() as i64);
        let inner = self.inner.lock();
        self.metrics.segments.set(inner.segments.len() as i64);
        self.metrics.segment_bytes.set(inner.segments.iter().map(|s| s.seg.file_bytes).sum::<u64>() as i64);
        let mut p = segment::Parts::default();
        for s in &inner.segments {
            p += s.seg.parts;
        }
        for (part, bytes) in
            [("blocks", p.blocks), ("token_filters", p.token_filters), ("gram_filters", p.gram_filters)]
        {
            self.metrics.segment_parts.get_or_create(&metrics::Part { part: part.into() }).set(bytes as i64);
        }
        self.metrics.segment_raw_bytes.set(p.raw as i64);
        let mut by_level: BTreeMap<Option<i32>, u64> = BTreeMap::new();
        for s in &inner.segments {
            *by_level.entry(s.seg.level).or_default() += s.seg.file_bytes;
        }
        self.metrics.segment_level_bytes.clear();
        for (level, bytes) in by_level {
            let level = level.map_or_else(|| "unknown".to_string(), |l| l.to_string());
            self.metrics.segment_level_bytes.get_or_create(&metrics::Level { level }).set(bytes as i64);
        }
        self.metrics.head_bytes.set(inner.head_bytes as i64);
        self.metrics.streams.set(inner.tenants.values().map(|t| t.stream_count()).sum::<usize>() as i64);
        let idle = self.cfg.load().stream_idle_period.0;
        self.metrics.active_streams.set(inner.tenants.values().map(|t| t.active_count(idle)).sum::<usize>() as i64);
    }

    /// Stream ids of `tenant` matching `matchers` that have data in `[start, end)`, with labels.
    fn streams_in(
        &self,
        inner: &Inner,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(u32, Labels)> {
        let Some(t) = inner.tenants.get(tenant) else { return Vec::new() };
        let matched = t.matching(matchers);
        let mut active = RoaringBitmap::new();
        for s in &inner.segments {
            if s.seg.max_ts >= start
                && s.seg.min_ts < end
                && let Some(ids) = s.ids.get(tenant)
            {
                {
                    let cand = ids & &matched;
                    for sid in cand.iter() {
                        if active.contains(sid) {
                            continue;
                        }
                        let idx = s.streams[tenant][&sid];
                        if s.seg.streams[idx].blocks.iter().any(|b| b.max_ts >= start && b.min_ts < end) {
                            active.insert(sid);
                        }
                    }
                }
            }
        }
        for sid in matched.iter() {
            if active.contains(sid) {
                continue;
            }
            let st = &t.streams[sid as usize];
            if st.head.stats(start, end).0 > 0 {
                active.insert(sid);
            }
        }
        for f in inner.flushing.iter().filter(|f| f.tenant == tenant && matched.contains(f.sid)) {
            if f.head.stats(start, end).0 > 0 {
                active.insert(f.sid);
            }
        }
        active.iter().map(|sid| (sid, t.streams[sid as usize].labels.clone())).collect()
    }

    /// Label sets of the matching streams with data in `[start, end)`.
    pub fn series(&self, tenant: &str, matchers: &[Matcher], start: i64, end: i64) -> Vec<Labels> {
        let inner = self.inner.lock();
        self.streams_in(&inner, tenant, matchers, start, end).into_iter().map(|(_, l)| l).collect()
    }

    /// Sorted label names of the matching streams with data in `[start, end)`.
    pub fn label_names(&self, tenant: &str, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        let mut names = BTreeSet::new();
        for l in self.series(tenant, matchers, start, end) {
            for (k, _) in l.iter() {
                names.insert(k.to_string());
            }
        }
        names.into_iter().collect()
    }

    /// Sorted values of one label among the matching streams with data in `[start, end)`.
    pub fn label_values(&self, tenant: &str, name: &str, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        let mut values = BTreeSet::new();
        for l in self.series(tenant, matchers, start, end) {
            if let Some(v) = l.get(name) {
                values.insert(v.to_string());
            }
        }
        values.into_iter().collect()
    }

    /// Per matching stream with data in `[start, end)`: its labels and, for the blocks and head
    /// entries overlapping the window, their count of entries and line bytes. Blocks that straddle
    /// the window edges count whole (as Loki's index statistics do).
    pub fn stream_stats(&self, tenant: &str, matchers: &[Matcher], start: i64, end: i64) -> Vec<(Labels, IndexStats)> {
        let inner = self.inner.lock();
        let streams = self.streams_in(&inner, tenant, matchers, start, end);
        let mut out = Vec::with_capacity(streams.len());
        for (sid, labels) in streams {
            let mut st = IndexStats { streams: 1, ..Default::default() };
            for s in &inner.segments {
                if s.seg.max_ts < start || s.seg.min_ts >= end {
                    continue;
                }
                if let Some(&idx) = s.streams.get(tenant).and_then(|m| m.get(&sid)) {
                    let blocks: Vec<_> =
                        s.seg.streams[idx].blocks.iter().filter(|b| b.max_ts >= start && b.min_ts < end).collect();
                    if !blocks.is_empty() {
                        st.chunks += 1;
                    }
                    for b in blocks {
                        st.entries += b.count as u64;
                        st.bytes += b.raw_bytes;
                    }
                }
            }
            let t = &inner.tenants[tenant];
            let mut heads: Vec<&Head> = vec![&t.streams[sid as usize].head];
            heads.extend(inner.flushing.iter().filter(|f| f.tenant == tenant && f.sid == sid).map(|f| &*f.head));
            for h in heads {
                let (n, b) = h.stats(start, end);
                if n > 0 {
                    st.chunks += 1;
                    st.entries += n;
                    st.bytes += b;
                }
            }
            out.push((labels, st));
        }
        out
    }

    /// Tenants that have streams.
    pub fn tenants(&self) -> Vec<String> {
        let mut v: Vec<String> = self.inner.lock().tenants.keys().cloned().collect();
        v.sort();
        v
    }

    /// Disk bytes used by segments.
    pub fn segment_bytes(&self) -> u64 {
        self.inner.lock().segments.iter().map(|s| s.seg.file_bytes).sum()
    }

    /// A store error for a failed write: "disk full" when it failed for lack of space.
    fn io_error(&self, what: &str, e: std::io::Error) -> StoreError {
        if self.space.failed(what, &e) {
            StoreError::DiskFull(format!("{what}: {e}"))
        } else if what == "flush" {
            StoreError::Flush(e.to_string())
        } else if what.starts_with("compaction") {
            StoreError::Compaction(e.to_string())
        } else if what == "snapshot" {
            StoreError::Snapshot(e.to_string())
        } else {
            StoreError::Wal(e)
        }
    }

    fn write_error(&self, what: &str, e: SegmentError) -> StoreError {
        match e {
            SegmentError::Io(e) => self.io_error(what, e),
            e if what == "flush" => StoreError::Flush(e.to_string()),
            e => StoreError::Compaction(e.to_string()),
        }
    }

    fn allocate_segment_id(&self) -> u64 {
        let mut inner = self.inner.lock();
        let id = inner.next_segment_id;
        inner.next_segment_id += 1;
        id
    }

    /// Whether writes are refused for lack of disk space right now.
    pub fn disk_full(&self) -> bool {
        self.space.is_full()
    }

    /// How many segment files are open now (bounded by the file cache).
    pub fn open_segment_files(&self) -> usize {
        self.files.len()
    }

    /// The bucket segments go to, for messages (`None` without one).
    pub fn bucket(&self) -> Option<String> {
        self.tier.as_ref().map(|t| t.describe())
    }

    /// How many served segments have their file on the local disk.
    pub fn local_segment_count(&self) -> usize {
        self.inner.lock().segments.iter().filter(|l| l.seg.is_local()).count()
    }

    /// The zstd level of every served segment's blocks (`None`: written by an earlier release).
    pub fn segment_levels(&self) -> Vec<Option<i32>> {
        self.inner.lock().segments.iter().map(|l| l.seg.level).collect()
    }

    /// How many segments are served.
    pub fn segment_count(&self) -> usize {
        self.inner.lock().segments.len()
    }

    /// Sizes, counts and limits for the status page.
    pub fn status(&self) -> StoreStatus {
        let cfg = self.cfg.load();
        let idle = cfg.stream_idle_period.0;
        let mut st = {
            let inner = self.inner.lock();
            let segs = &inner.segments;
            StoreStatus {
                segments: segs.len(),
                segment_bytes: segs.iter().map(|l| l.seg.file_bytes).sum(),
                segment_raw_bytes: segs
                    .iter()
                    .flat_map(|l| &l.seg.streams)
                    .flat_map(|s| &s.blocks)
                    .map(|b| b.raw_bytes)
                    .sum(),
                head_bytes: inner.head_bytes,
                streams: inner.tenants.values().map(|t| t.stream_count()).sum(),
                active_streams: inner.tenants.values().map(|t| t.active_count(idle)).sum(),
                oldest_ts: segs.iter().map(|l| l.seg.min_ts).min().unwrap_or(0),
                newest_ts: segs.iter().map(|l| l.seg.max_ts).max().unwrap_or(0),
                ..Default::default()
            }
        };
        let wal = self.dir.join("wal");
        if let Ok(rd) = fs::read_dir(&wal) {
            for e in rd.flatten() {
                st.wal_files += 1;
                st.wal_bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
        st.open_segment_files = self.files.len();
        st.disk_full = self.space.is_full();
        (st.fs_free_bytes, st.fs_total_bytes) = space::fs_space(&self.dir);
        st.retention_period_seconds = cfg.retention_period.0.as_secs();
        st.retention_max_bytes = cfg.retention_max_bytes;
        st.lines_accepted = self.accepted.0.load(Ordering::Relaxed);
        st.bytes_accepted = self.accepted.1.load(Ordering::Relaxed);
        st
    }
}

/// Bytes of the files directly inside `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir).map(|rd| rd.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0)
}

fn register_segment(inner: &mut Inner, seg: Segment) {
    let mut streams: HashMap<String, HashMap<u32, usize>> = HashMap::new();
    let mut ids: HashMap<String, RoaringBitmap> = HashMap::new();
    for (i, s) in seg.streams.iter().enumerate() {
        let tenant = inner.tenants.entry(s.tenant.clone()).or_default();
        let (sid, _) = tenant.get_or_create(&s.labels);
        let st = &mut tenant.streams[sid as usize];
        if let Some(b) = s.blocks.last() {
            st.max_ts = st.max_ts.max(b.max_ts);
        }
        streams.entry(s.tenant.clone()).or_default().insert(sid, i);
        ids.entry(s.tenant.clone()).or_default().insert(sid);
    }
    inner.segments.push(Loaded { seg: Arc::new(seg), streams, ids });
}

/// The current time in Unix nanoseconds.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}
