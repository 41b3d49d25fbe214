//! Segment files: what one flush cuts from the heads, for every tenant and stream, written once
//! and never changed. Blocks first, then a footer that indexes them (per stream: tenant, labels
//! and block metadata with filters), its length, checksum and a magic number. A segment is
//! written to a temporary name, synced and renamed: a crash leaves either all of it or none.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use model::{Entry, Labels};

use crate::block::{self, BlockError, BlockMeta};
use crate::files::FileCache;
use crate::grams::{GramFilter, Scheme};
use crate::head::Head;
use crate::tier::{self, Remote, Tier};
use crate::tokens::TokenFilter;
use crate::varint::{self, Corrupt, Reader};

/// One entry, borrowed: timestamp, line, structured metadata.
type Row<'a> = (i64, &'a str, &'a [(String, String)]);

const MAGIC: &[u8; 8] = b"BITSEG01";
/// The footer's version is its last byte: 1 without gram filters, 2 with, 3 with window
/// digests too (closed on the left), 4 with windows closed on the right and tallies, 5 with
/// the zstd level its blocks were written at (after the streams) and gram filters of any
/// multiple of 64 bits (earlier ones were powers of two), 6 with gram filters of
/// [`Scheme::Folded`] (earlier ones hold [`Scheme::Quads`]).
const MAGIC_END: &[u8; 8] = b"BITSEGF6";
const MAGIC_END_V5: &[u8; 8] = b"BITSEGF5";
const MAGIC_END_V4: &[u8; 8] = b"BITSEGF4";
const MAGIC_END_V3: &[u8; 8] = b"BITSEGF3";
const MAGIC_END_V2: &[u8; 8] = b"BITSEGF2";
const MAGIC_END_V1: &[u8; 8] = b"BITSEGF1";

/// One stream's blocks inside a segment.
#[derive(Debug)]
pub struct SegStream {
    pub tenant: String,
    pub labels: Labels,
    pub blocks: Vec<BlockMeta>,
}

/// Bytes of a segment's blocks and filters, and the raw line bytes its blocks hold.
#[derive(Debug, Default, Clone, Copy)]
pub struct Parts {
    pub blocks: u64,
    pub token_filters: u64,
    pub gram_filters: u64,
    pub raw: u64,
    /// Blocks written without a gram filter.
    pub unfiltered_blocks: u64,
}

impl std::ops::AddAssign for Parts {
    fn add_assign(&mut self, o: Parts) {
        self.blocks += o.blocks;
        self.token_filters += o.token_filters;
        self.gram_filters += o.gram_filters;
        self.raw += o.raw;
        self.unfiltered_blocks += o.unfiltered_blocks;
    }
}

impl Parts {
    fn add(&mut self, m: &BlockMeta) {
        self.blocks += m.len as u64;
        self.token_filters += m.filter.size_bytes() as u64;
        self.gram_filters += m.grams.size_bytes() as u64;
        self.raw += m.raw_bytes;
        self.unfiltered_blocks += matches!(m.grams, block::Grams::Unknown) as u64;
    }
}

impl Segment {
    /// Whether some of its blocks have no gram filter (a flush writes none when compaction
    /// will rewrite it; releases before filters wrote none either).
    pub fn lacks_grams(&self) -> bool {
        self.parts.unfiltered_blocks > 0
    }
}

/// A segment file's footer, held in memory but for its blocks' gram filters and sums, which
/// stay in the file until a search or a count reads them; the file itself is opened only to
/// read those and blocks (through the shared [`FileCache`]).
#[derive(Debug)]
pub struct Segment {
    pub path: PathBuf,
    pub id: u64,
    /// Every WAL segment numbered up to this one is contained in this segment or an older one.
    pub wal_upto: u64,
    pub min_ts: i64,
    pub max_ts: i64,
    pub file_bytes: u64,
    /// The zstd level its blocks were written at; `None` for segments of earlier releases.
    pub level: Option<i32>,
    /// Its footer and trailer, the end of the file.
    tail_bytes: u64,
    /// Its footer's format version.
    version: u8,
    pub streams: Vec<SegStream>,
    /// What its blocks hold, summed once when the footer is read (for the store's gauges).
    pub parts: Parts,
    files: Arc<FileCache>,
    /// Set when compaction or retention replaced or expired this segment: the file is deleted
    /// once the last query holding it lets go.
    obsolete: AtomicBool,
    /// Its place in the bucket, when the store has one.
    pub(crate) remote: Option<Remote>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Remote({}, local {}, uploaded {})", self.key, self.is_local(), self.is_uploaded())
    }
}

impl std::fmt::Debug for FileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileCache({})", self.capacity())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a segment file (bad magic number)")]
    Magic,
    #[error("segment footer checksum mismatch")]
    Checksum,
    #[error("segment footer: {0}")]
    Corrupt(#[from] Corrupt),
    #[error("segment footer has a bad label set: {0}")]
    Labels(String),
    /// Written by a newer release: not damage, and never to be skipped or touched.
    #[error("segment format {0} is newer than this bitacora reads (up to 5); upgrade bitacora")]
    Newer(u8),
}

/// Whether an I/O error opening a segment means the file itself is damaged (cut short), as
/// opposed to unreadable right now (too many open files, permissions, an I/O error), which must
/// never be mistaken for damage.
pub fn io_is_damage(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::UnexpectedEof
}

pub fn file_name(id: u64) -> String {
    format!("{id:020}.seg")
}

/// The day folder (UTC, `YYYY-MM-DD`) of a nanosecond timestamp.
pub fn day_of(ts: i64) -> String {
    jiff::Timestamp::from_nanosecond(ts as i128)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "out-of-range".into())
}

/// The temporary name a segment is written under before it is renamed into place.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Writes the given heads as a segment under `root/<day of min ts>/`.
pub fn write(
    root: &Path,
    id: u64,
    wal_upto: u64,
    heads: &[(&str, &Labels, &Head)],
    enc: block::Encoding,
    files: &Arc<FileCache>,
) -> Result<Segment, SegmentError> {
    let min_ts = heads.iter().filter_map(|(_, _, h)| h.min_ts()).min().unwrap_or(0);
    let dir = root.join(day_of(min_ts));
    let mut w = SegmentWriter::create(&dir, id, enc)?;
    for (tenant, labels, head) in heads {
        w.add_stream(tenant, labels, head.rows())?;
    }
    let path = w.finish(wal_upto, true)?;
    open(&path, id, files.clone())
}

/// Writes a segment one stream at a time, blocks as they fill, the footer at the end. Until
/// [`SegmentWriter::finish`] the file has a temporary name, removed if the writer is dropped.
pub struct SegmentWriter {
    dir: PathBuf,
    path: PathBuf,
    tmp: PathBuf,
    w: Option<BufWriter<File>>,
    offset: u64,
    streams: Vec<u8>,
    nstreams: u64,
    block_bytes: usize,
    level: i32,
    grams: bool,
    /// The block being written (its memory kept from block to block).
    block: Vec<u8>,
}

impl SegmentWriter {
    pub fn create(dir: &Path, id: u64, enc: block::Encoding) -> Result<SegmentWriter, SegmentError> {
        fs::create_dir_all(dir)?;
        let path = dir.join(file_name(id));
        let tmp = tmp_path(&path);
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        let mut sw = SegmentWriter {
            dir: dir.to_path_buf(),
            path,
            tmp,
            w: None,
            offset: MAGIC.len() as u64,
            streams: Vec::new(),
            nstreams: 0,
            block_bytes: enc.block_bytes.max(1),
            level: enc.level,
            grams: enc.grams,
            block: Vec::new(),
        };
        // From here on, a failure removes the temporary file (Drop).
        let res = w.write_all(MAGIC);
        sw.w = Some(w);
        res?;
        Ok(sw)
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.offset + self.streams.len() as u64
    }

    fn block(&mut self, rows: &[Row]) -> Result<BlockMeta, SegmentError> {
        let text: usize = rows.iter().map(|r| r.1.len()).sum();
        let mut meta = block::encode_into(rows.iter().copied(), self.level, self.grams, text, &mut self.block)?;
        meta.offset = self.offset;
        self.w.as_mut().expect("open writer").write_all(&self.block)?;
        self.offset += self.block.len() as u64;
        Ok(meta)
    }

    fn stream_footer(&mut self, tenant: &str, labels: &Labels, metas: &[BlockMeta]) {
        if metas.is_empty() {
            return;
        }
        let f = &mut self.streams;
        varint::put_bytes(f, tenant.as_bytes());
        varint::put_bytes(f, labels.to_string().as_bytes());
        varint::put_u64(f, metas.len() as u64);
        for m in metas {
            varint::put_u64(f, m.offset);
            varint::put_u64(f, m.len as u64);
            varint::put_u64(f, m.crc as u64);
            varint::put_i64(f, m.min_ts);
            varint::put_i64(f, m.max_ts);
            varint::put_u64(f, m.count as u64);
            varint::put_u64(f, m.raw_bytes);
            m.filter.encode(f);
            match &m.grams {
                // The footer's version says its filters are of this release's scheme.
                block::Grams::Loaded(g) if g.scheme() == Scheme::default() => g.encode(f),
                // Only blocks this writer encoded are written.
                _ => GramFilter::everything().encode(f),
            }
            let none = block::Sums::default();
            // Only blocks this writer encoded are written: their sums are in memory.
            let sums = m.sums.loaded().unwrap_or(&none);
            crate::digest::encode(sums.digests.as_ref().unwrap_or(&Vec::new()), f);
            crate::tally::encode(sums.tally.as_ref(), f);
        }
        self.nstreams += 1;
    }

    /// Adds one stream from borrowed rows in time order.
    pub fn add_stream<'a>(
        &mut self,
        tenant: &str,
        labels: &Labels,
        rows: impl Iterator<Item = (i64, &'a str, &'a [(String, String)])>,
    ) -> Result<(), SegmentError> {
        let mut metas = Vec::new();
        let mut chunk = Vec::new();
        let mut size = 0usize;
        for r in rows {
            size += r.1.len() + 16;
            chunk.push(r);
            if size >= self.block_bytes {
                metas.push(self.block(&chunk)?);
                chunk.clear();
                size = 0;
            }
        }
        if !chunk.is_empty() {
            metas.push(self.block(&chunk)?);
        }
        self.stream_footer(tenant, labels, &metas);
        Ok(())
    }

    /// Adds one stream from owned entries in time order (a compaction's merged readers).
    pub fn add_stream_entries(
        &mut self,
        tenant: &str,
        labels: &Labels,
        entries: impl Iterator<Item = Entry>,
    ) -> Result<(), SegmentError> {
        let mut metas = Vec::new();
        let mut chunk: Vec<Entry> = Vec::new();
        let mut size = 0usize;
        let flush = |w: &mut SegmentWriter, chunk: &mut Vec<Entry>| -> Result<BlockMeta, SegmentError> {
            let rows: Vec<Row> = chunk.iter().map(|e| (e.ts, e.line.as_str(), e.metadata.as_slice())).collect();
            let m = w.block(&rows)?;
            chunk.clear();
            Ok(m)
        };
        for e in entries {
            size += e.line.len() + 16;
            chunk.push(e);
            if size >= self.block_bytes {
                metas.push(flush(self, &mut chunk)?);
                size = 0;
            }
        }
        if !chunk.is_empty() {
            metas.push(flush(self, &mut chunk)?);
        }
        self.stream_footer(tenant, labels, &metas);
        Ok(())
    }

    /// Whether no stream was added.
    pub fn is_empty(&self) -> bool {
        self.nstreams == 0
    }

    /// Writes the footer and syncs the file. With `publish`, renames it into place and returns
    /// the final path; without, leaves it under its temporary name (the caller renames it once
    /// a compaction's manifest is durable) and returns that.
    pub fn finish(mut self, wal_upto: u64, publish: bool) -> Result<PathBuf, SegmentError> {
        let mut footer = Vec::with_capacity(self.streams.len() + 20);
        varint::put_u64(&mut footer, wal_upto);
        varint::put_u64(&mut footer, self.nstreams);
        footer.extend_from_slice(&self.streams);
        varint::put_i64(&mut footer, self.level as i64);
        let mut w = self.w.take().expect("open writer");
        let res = (|| -> Result<(), SegmentError> {
            w.write_all(&footer)?;
            w.write_all(&(footer.len() as u32).to_le_bytes())?;
            w.write_all(&crc32fast::hash(&footer).to_le_bytes())?;
            w.write_all(MAGIC_END)?;
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(())
        })();
        if let Err(e) = res {
            let _ = fs::remove_file(&self.tmp);
            return Err(e);
        }
        if !publish {
            return Ok(std::mem::take(&mut self.tmp));
        }
        if let Err(e) = fs::rename(&self.tmp, &self.path) {
            let _ = fs::remove_file(&self.tmp);
            return Err(e.into());
        }
        crate::wal::sync_dir(&self.dir);
        self.tmp = PathBuf::new();
        Ok(self.path.clone())
    }
}

impl Drop for SegmentWriter {
    fn drop(&mut self) {
        if self.w.is_some() && !self.tmp.as_os_str().is_empty() {
            self.w = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Opens a segment and reads its footer; the file is closed again.
pub fn open(path: &Path, id: u64, files: Arc<FileCache>) -> Result<Segment, SegmentError> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size < 8 + 16 {
        return Err(SegmentError::Magic);
    }
    let mut trailer = [0u8; 16];
    file.read_exact_at(&mut trailer, size - 16)?;
    let flen = u32::from_le_bytes(trailer[..4].try_into().unwrap()) as u64;
    if flen + 16 + 8 > size {
        // The magic decides first: a newer release's file is never called damaged.
        check_magic(&trailer)?;
        return Err(SegmentError::Corrupt(Corrupt(0)));
    }
    let mut tail = vec![0u8; flen as usize + 16];
    file.read_exact_at(&mut tail, size - 16 - flen)?;
    drop(file);
    from_tail(path, id, size, &tail, files, true)
}

/// Which footer version a segment's last 16 bytes announce (1 to 6).
fn check_magic(trailer: &[u8]) -> Result<u8, SegmentError> {
    let end = &trailer[8..16];
    if end == MAGIC_END {
        Ok(6)
    } else if end == MAGIC_END_V5 {
        Ok(5)
    } else if end == MAGIC_END_V4 {
        Ok(4)
    } else if end == MAGIC_END_V3 {
        Ok(3)
    } else if end == MAGIC_END_V2 {
        Ok(2)
    } else if end == MAGIC_END_V1 {
        Ok(1)
    } else if end[..7] == MAGIC_END[..7] && end[7].is_ascii_digit() && end[7] > MAGIC_END[7] {
        Err(SegmentError::Newer(end[7] - b'0'))
    } else {
        Err(SegmentError::Magic)
    }
}

/// A segment from its size and tail (footer and the 16 bytes after it), as read from the file,
/// a `.remote` marker or the bucket. With `lazy` (the file or its marker is on this disk), gram
/// filters are left in the footer, read when a search needs them.
pub fn from_tail(
    path: &Path,
    id: u64,
    size: u64,
    tail: &[u8],
    files: Arc<FileCache>,
    lazy: bool,
) -> Result<Segment, SegmentError> {
    if tail.len() < 16 || size < tail.len() as u64 + 8 {
        return Err(SegmentError::Magic);
    }
    let (footer, trailer) = tail.split_at(tail.len() - 16);
    let version = check_magic(trailer)?;
    let flen = u32::from_le_bytes(trailer[..4].try_into().unwrap()) as usize;
    let fcrc = u32::from_le_bytes(trailer[4..8].try_into().unwrap());
    if flen != footer.len() {
        return Err(SegmentError::Corrupt(Corrupt(0)));
    }
    if crc32fast::hash(footer) != fcrc {
        return Err(SegmentError::Checksum);
    }
    let mut r = Reader::new(footer);
    let wal_upto = r.u64()?;
    let n = r.u64()? as usize;
    let mut streams = Vec::with_capacity(n.min(1 << 16));
    let (mut min_ts, mut max_ts) = (i64::MAX, i64::MIN);
    let mut parts = Parts::default();
    for _ in 0..n {
        let tenant = r.str()?.to_string();
        let labels = model::parse_prom_labels(r.str()?).map_err(|e| SegmentError::Labels(e.to_string()))?;
        let nb = r.u64()? as usize;
        let mut blocks = Vec::with_capacity(nb.min(1 << 16));
        for _ in 0..nb {
            let m = BlockMeta {
                offset: r.u64()?,
                len: r.u32()?,
                crc: r.u32()?,
                min_ts: r.i64()?,
                max_ts: r.i64()?,
                count: r.u32()?,
                raw_bytes: r.u64()?,
                filter: TokenFilter::decode(&mut r)?,
                grams: if version < 2 {
                    block::Grams::Unknown
                } else if lazy {
                    match GramFilter::skip(&mut r)? {
                        // Written without one (a flush's): nothing to read.
                        None => block::Grams::Unknown,
                        // The bits end where the reader is.
                        Some(len) => block::Grams::InFooter { pos: r.position() as u32 - len as u32, len: len as u32 },
                    }
                } else {
                    match GramFilter::decode(&mut r, scheme_of(version))? {
                        g if g.is_everything() => block::Grams::Unknown,
                        g => block::Grams::Loaded(g),
                    }
                },
                sums: block::SumsAt::Loaded(block::Sums::default()),
            };
            let mut m = m;
            if version >= 3 {
                let pos = r.position();
                let sums = read_sums(&mut r, version, m.count)?;
                m.sums = if lazy && version >= 4 {
                    block::SumsAt::InFooter { pos: pos as u32, len: (r.position() - pos) as u32 }
                } else {
                    block::SumsAt::Loaded(sums)
                };
            }
            min_ts = min_ts.min(m.min_ts);
            max_ts = max_ts.max(m.max_ts);
            parts.add(&m);
            blocks.push(m);
        }
        streams.push(SegStream { tenant, labels, blocks });
    }
    let level = if version >= 5 { Some(r.i64()? as i32) } else { None };
    Ok(Segment {
        path: path.to_path_buf(),
        id,
        wal_upto,
        min_ts,
        max_ts,
        file_bytes: size,
        level,
        tail_bytes: tail.len() as u64,
        version,
        streams,
        parts,
        files,
        obsolete: AtomicBool::new(false),
        remote: None,
    })
}

/// Which windows the gram filters of a footer of `version` are.
fn scheme_of(version: u8) -> Scheme {
    if version >= 6 { Scheme::Folded } else { Scheme::Quads }
}

/// A block's digests and tally as its footer holds them (version 3 and later).
fn read_sums(r: &mut Reader<'_>, version: u8, count: u32) -> Result<block::Sums, Corrupt> {
    let d = crate::digest::decode(r)?;
    // Version 3's windows were closed on the left: not this release's windows.
    if version < 4 {
        return Ok(block::Sums::default());
    }
    let tally = crate::tally::decode(r, d.len(), count)?;
    Ok(block::Sums { tally, digests: (!d.is_empty() || count == 0).then_some(d) })
}

impl Segment {
    /// Puts the segment in the bucket tier: `local` when its file is on this disk, `uploaded`
    /// when its object is in the bucket.
    pub(crate) fn attach(&mut self, tier: &Arc<Tier>, local: bool, uploaded: bool) {
        self.remote = Some(Remote {
            tier: tier.clone(),
            key: tier::key_of(&self.path),
            local: AtomicBool::new(local),
            uploaded: AtomicBool::new(uploaded),
            uploaded_at: Default::default(),
            replaces: Default::default(),
        });
    }

    /// Whether the segment is another writer's, read from the bucket (see `tier/peers.rs`).
    pub fn is_foreign(&self) -> bool {
        self.remote.as_ref().is_some_and(|r| r.tier.foreign.is_some())
    }

    /// Which writer's data it is: `None` for this node's own (local or uploaded), else the
    /// writer's tier (compared by address).
    pub(crate) fn origin(&self) -> Option<*const Tier> {
        self.remote.as_ref().filter(|r| r.tier.foreign.is_some()).map(|r| Arc::as_ptr(&r.tier))
    }

    /// Whether the segment's file is on the local disk (always, without a bucket).
    pub fn is_local(&self) -> bool {
        self.remote.as_ref().is_none_or(Remote::is_local)
    }

    /// Whether block `m` may hold the needles (see [`BlockMeta::may_contain`]), its gram filter
    /// read from the footer on this disk when it is not in memory.
    pub fn may_contain(&self, m: &BlockMeta, needles: &crate::needles::Needles) -> bool {
        m.may_contain(needles, |pos, len| self.footer_grams(pos, len))
    }

    /// Block `m`'s digests and tally, read from the footer on this disk when they are not in
    /// memory; `None` when they cannot be read (then nothing is known of its windows, as for
    /// a block written before sums existed).
    pub fn sums<'a>(&self, m: &'a BlockMeta) -> Option<std::borrow::Cow<'a, block::Sums>> {
        match &m.sums {
            block::SumsAt::Loaded(s) => Some(std::borrow::Cow::Borrowed(s)),
            block::SumsAt::InFooter { pos, len } => {
                let bytes = self.footer_bytes(*pos, *len)?;
                let version = self.version;
                read_sums(&mut Reader::new(&bytes), version, m.count).ok().map(std::borrow::Cow::Owned)
            }
        }
    }

    /// `len` bytes of gram filter bits at `pos` of the tail.
    fn footer_grams(&self, pos: u32, len: u32) -> Option<GramFilter> {
        Some(GramFilter::from_bits(&self.footer_bytes(pos, len)?, scheme_of(self.version)))
    }

    /// `len` bytes at `pos` of the tail: from the segment's file, else from its `.remote`
    /// marker (which holds the tail after 16 bytes of its own).
    fn footer_bytes(&self, pos: u32, len: u32) -> Option<Vec<u8>> {
        let mut bytes = vec![0u8; len as usize];
        let at = (self.file_bytes - self.tail_bytes).checked_add(pos as u64)?;
        let from_file = self.is_local()
            && self.files.get(self.id, &self.path).and_then(|f| f.read_exact_at(&mut bytes, at)).is_ok();
        if !from_file {
            let marker = File::open(self.path.with_extension("remote")).ok()?;
            marker.read_exact_at(&mut bytes, 16 + pos as u64).ok()?;
        }
        Some(bytes)
    }

    /// The first `len` bytes of a block: from the local file, or else from the bucket (through
    /// the block cache, which holds whole blocks).
    fn read_at(&self, m: &BlockMeta, len: usize) -> Result<Vec<u8>, BlockError> {
        if self.is_local() {
            match self.files.get(self.id, &self.path) {
                Ok(file) => {
                    let mut data = vec![0u8; len];
                    file.read_exact_at(&mut data, m.offset).map_err(BlockError::Io)?;
                    return Ok(data);
                }
                // Evicted since the check: read it from the bucket.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.remote.is_some() => {}
                Err(e) => return Err(BlockError::Io(e)),
            }
        }
        let Some(r) = &self.remote else { unreachable!("a segment without a bucket is local") };
        let block = match r.tier.cache.get(self.id, m.offset) {
            Some(b) => {
                r.tier.metrics.block_cache_hits.inc();
                b
            }
            None => {
                let data = r.tier.fetch(&r.key, m.offset..m.offset + m.len as u64).map_err(BlockError::Unavailable)?;
                r.tier.metrics.fetched_bytes.inc_by(data.len() as u64);
                if data.len() != m.len as usize {
                    return Err(BlockError::Unavailable(format!(
                        "object storage: {}/{}: {} bytes read for a block of {}",
                        r.tier.describe(),
                        r.key,
                        data.len(),
                        m.len
                    )));
                }
                let b = Arc::new(data);
                r.tier.cache.insert(self.id, m.offset, b.clone());
                b
            }
        };
        Ok(block[..len.min(block.len())].to_vec())
    }

    /// Whether compaction or retention retired it.
    pub(crate) fn is_obsolete(&self) -> bool {
        self.obsolete.load(Ordering::Acquire)
    }

    /// Marks the segment replaced or expired: its file is deleted when the last reader drops it.
    pub fn retire(&self) {
        self.obsolete.store(true, Ordering::Release);
    }

    /// Reads and decodes only a block's timestamps, line lengths and metadata.
    pub fn read_block_stats(&self, m: &BlockMeta) -> Result<Vec<model::LineStat>, BlockError> {
        block::decode_stats(&self.read_columns(m)?)
    }

    /// Reads a block's columns as per-segment runs (see [`block::decode_runs`]).
    pub fn read_block_runs(
        &self,
        m: &BlockMeta,
        s: &model::Summaries,
        start: i64,
        end: i64,
        with_metadata: bool,
    ) -> Result<Vec<model::LineStat>, BlockError> {
        block::decode_runs(&self.read_columns(m)?, s, start, end, with_metadata)
    }

    /// A block's header and column frame, its lines left on disk.
    fn read_columns(&self, m: &BlockMeta) -> Result<Vec<u8>, BlockError> {
        let head = self.read_at(m, 8.min(m.len as usize))?;
        let (clen, _) = block::columns_header(&head)?;
        if clen + 8 > m.len as usize {
            return Err(BlockError::Checksum);
        }
        self.read_at(m, 8 + clen)
    }

    /// Reads a whole block and decodes the `LineStat`s of the entries whose line `keep` accepts.
    pub fn read_block_stats_where(
        &self,
        m: &BlockMeta,
        needle: Option<&dyn model::TextSearch>,
        keep: impl Fn(&[u8]) -> bool,
    ) -> Result<Vec<model::LineStat>, BlockError> {
        let data = self.read_at(m, m.len as usize)?;
        block::decode_stats_where(&data, m, needle, keep)
    }

    /// Reads a whole block and maps the entries `keep` accepts (see [`block::decode_map_where`]).
    pub fn read_block_map_where<T>(
        &self,
        m: &BlockMeta,
        needle: Option<&dyn model::TextSearch>,
        keep: impl Fn(i64, &[u8]) -> bool,
        f: impl FnMut(i64, &[u8], block::Shared, usize) -> Result<T, BlockError>,
    ) -> Result<Vec<T>, BlockError> {
        let data = self.read_at(m, m.len as usize)?;
        block::decode_map_where(&data, m, needle, keep, f)
    }

    /// Reads and decodes one block.
    pub fn read_block(&self, m: &BlockMeta) -> Result<Vec<Entry>, BlockError> {
        self.read_block_where(m, None, |_, _| true)
    }

    /// Reads one block, decoding only the entries `keep` accepts (see [`block::decode_where`]).
    pub fn read_block_where(
        &self,
        m: &BlockMeta,
        needle: Option<&dyn model::TextSearch>,
        keep: impl Fn(i64, &[u8]) -> bool,
    ) -> Result<Vec<Entry>, BlockError> {
        let data = self.read_at(m, m.len as usize)?;
        block::decode_where(&data, m, needle, keep)
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // Another writer's: it owns the object; nothing here is on this disk.
        if self.obsolete.load(Ordering::Acquire) && !self.is_foreign() {
            self.files.forget(self.id);
            match fs::remove_file(&self.path) {
                Ok(()) => tracing::debug!(path = %self.path.display(), "removed a retired segment"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %self.path.display(), error = %e, "could not remove a retired segment"),
            }
            if let Some(r) = &self.remote
                && r.is_uploaded()
            {
                // Its object goes too, once what replaces it is in the bucket (tier/sync.rs).
                let gone = tier::sibling(&self.path, "gone");
                match fs::rename(tier::sibling(&self.path, "remote"), &gone) {
                    Ok(()) => {
                        // Its age is the retirement's (`delete_delay` counts from it).
                        let _ = fs::File::options()
                            .write(true)
                            .open(&gone)
                            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
                        r.tier.gone.lock().push((r.key.clone(), gone))
                    }
                    Err(e) => {
                        tracing::warn!(path = %self.path.display(), error = %e, "could not mark a retired segment's object for deletion")
                    }
                }
            }
            if let Some(dir) = self.path.parent() {
                let _ = fs::remove_dir(dir); // only succeeds once the day folder is empty
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::Head;

    /// A segment opened from its file keeps its gram filters in the footer, read when a search
    /// asks: from the file, and from the `.remote` marker once the file is gone.
    /// One stream's head as a segment of 4 KiB blocks, with gram filters.
    fn write_small(dir: &Path, labels: &Labels, head: &Head, files: &Arc<FileCache>) -> Segment {
        let enc = block::Encoding { level: 1, block_bytes: 4096, grams: true };
        write(dir, 7, 0, &[("fake", labels, head)], enc, files).unwrap()
    }

    #[test]
    fn gram_filters_stay_in_the_footer_until_a_search_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let files = Arc::new(FileCache::new(8));
        let mut head = Head::default();
        for i in 0..3000i64 {
            let line =
                if i == 1234 { "GET /cart trace=4bf92f3577b34da6a3ce92".to_string() } else { format!("GET /x n={i}") };
            head.push(i, &line, &Default::default());
        }
        let labels = Labels::from_pairs([("app", "a")]).unwrap();
        let seg = write_small(dir.path(), &labels, &head, &files);
        let blocks = &seg.streams[0].blocks;
        assert!(blocks.len() > 5);
        assert!(blocks.iter().all(|b| matches!(b.grams, block::Grams::InFooter { .. })), "nothing loaded");
        let needle = |n: &str| crate::needles::Needles::new(&[n.to_string()], &[]);
        let runs = needle("b34da6a3ce92");
        let holding = |seg: &Segment| blocks.iter().filter(|b| seg.may_contain(b, &runs)).count();
        assert_eq!(holding(&seg), 1, "only the block holding the needle");
        assert_eq!(blocks.iter().filter(|b| seg.may_contain(b, &needle("zzqqxx"))).count(), 0);

        // The file evicted, its tail kept in the marker beside it.
        let (size, tail) = crate::tier::marker::read_tail(&seg.path).unwrap();
        crate::tier::marker::write(&seg.path.with_extension("remote"), size, &tail).unwrap();
        files.forget(seg.id);
        fs::remove_file(&seg.path).unwrap();
        assert_eq!(holding(&seg), 1, "read from the marker");
        // Neither there: a filter that cannot be read proves nothing.
        fs::remove_file(seg.path.with_extension("remote")).unwrap();
        assert_eq!(holding(&seg), blocks.len());
    }

    /// A segment opened from its file keeps its blocks' digests and tallies in the footer too
    /// (they grow with the time the data spans), read when asked: equal to the ones a reader
    /// loading the whole footer holds, from the file or the marker; unknown when neither is
    /// there.
    #[test]
    fn sums_stay_in_the_footer_until_asked() {
        let dir = tempfile::tempdir().unwrap();
        let files = Arc::new(FileCache::new(8));
        let mut head = Head::default();
        let levels: Vec<model::Metadata> = ["info", "warn", "error"]
            .iter()
            .map(|l| model::Metadata::new(vec![("detected_level".into(), l.to_string())]))
            .collect();
        for i in 0..3000i64 {
            head.push(i * 3_100_000_000, &format!("GET /x n={i}"), &levels[(i % 3) as usize]);
        }
        let labels = Labels::from_pairs([("app", "a")]).unwrap();
        let seg = write_small(dir.path(), &labels, &head, &files);
        let blocks = &seg.streams[0].blocks;
        assert!(blocks.len() > 5);
        assert!(blocks.iter().all(|b| matches!(b.sums, block::SumsAt::InFooter { .. })), "nothing loaded");
        let (size, tail) = crate::tier::marker::read_tail(&seg.path).unwrap();
        let eager = from_tail(&seg.path, seg.id, size, &tail, files.clone(), false).unwrap();
        let loaded: Vec<&block::Sums> = eager.streams[0].blocks.iter().map(|b| b.sums.loaded().unwrap()).collect();
        assert!(loaded.iter().all(|s| s.digests.as_ref().is_some_and(|d| d.len() > 1) && s.tally.is_some()));
        let read = |seg: &Segment| blocks.iter().map(|b| seg.sums(b).map(|s| s.into_owned())).collect::<Vec<_>>();
        let expected: Vec<Option<block::Sums>> = loaded.iter().map(|s| Some((*s).clone())).collect();
        assert_eq!(read(&seg), expected, "from the file");

        crate::tier::marker::write(&seg.path.with_extension("remote"), size, &tail).unwrap();
        files.forget(seg.id);
        fs::remove_file(&seg.path).unwrap();
        assert_eq!(read(&seg), expected, "from the marker");
        fs::remove_file(seg.path.with_extension("remote")).unwrap();
        assert!(read(&seg).iter().all(Option::is_none), "unknown when unreadable");
    }
}
