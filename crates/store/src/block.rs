//! Blocks: the unit of compression and of pruning.
//!
//! A block holds up to `block_bytes` of one stream's entries in time order, as three columns
//! (timestamps as zigzag deltas, line lengths and bytes, structured metadata), compressed
//! together with zstd. Beside it, uncompressed, sit its min/max time, counts, raw bytes and a
//! gram filter (see [`crate::grams`]): which 4-byte parts of its words it holds, so that a
//! search for a word, or for part of one, can skip the block without decompressing it. A
//! flush's blocks carry the filter that holds everything instead when compaction will rewrite
//! them (see [`Encoding::grams`]). (Blocks of earlier releases also carry a token filter over
//! whole words, still honoured.)

use model::{Entry, TextSearch};

use crate::grams::{GramBuilder, GramFilter};
use crate::needles::Needles;
use crate::tokens::{TokenFilter, token_key, token_spans};
use crate::varint::{self, Corrupt, Reader};

/// What is known about a block without decompressing it.
#[derive(Debug, Clone)]
pub struct BlockMeta {
    pub offset: u64,
    pub len: u32,
    pub crc: u32,
    pub min_ts: i64,
    pub max_ts: i64,
    pub count: u32,
    pub raw_bytes: u64,
    pub filter: TokenFilter,
    /// Its words' 4-byte grams.
    pub grams: Grams,
    /// Its digests and tally: in memory, or where they are in its segment's footer.
    pub sums: SumsAt,
}

/// A block's entries summed per window of time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sums {
    /// Its entries summed per ten-second window (`digest.rs`); `None` in segments written
    /// before digests existed.
    pub digests: Option<crate::digest::Windows>,
    /// Its entries and bytes per digest window and metadata set (`tally.rs`); `None` in
    /// segments written before tallies existed, and for blocks of too many sets.
    pub tally: Option<crate::tally::Tally>,
}

/// Where a block's [`Sums`] are.
#[derive(Debug, Clone)]
pub enum SumsAt {
    /// In memory: a block just encoded, one of a segment read from the bucket, or one written
    /// before digests existed (then empty).
    Loaded(Sums),
    /// In its segment's footer, `len` bytes at `pos` of the segment's tail, read when a count
    /// or a replica comparison needs them: like the gram filters, they grow with the data held
    /// (a window of ten seconds each), which the store's memory must not.
    InFooter { pos: u32, len: u32 },
}

impl SumsAt {
    /// The sums, when in memory.
    pub fn loaded(&self) -> Option<&Sums> {
        match self {
            SumsAt::Loaded(s) => Some(s),
            SumsAt::InFooter { .. } => None,
        }
    }
}

/// Where a block's gram filter is.
#[derive(Debug, Clone)]
pub enum Grams {
    /// None: written before gram filters existed (every gram may be there).
    Unknown,
    /// In memory: a block just encoded, or one of a segment read from the bucket.
    Loaded(GramFilter),
    /// In its segment's footer, `len` bytes of bits at `pos` of the segment's tail (footer and
    /// trailer), read when a search needs them: the store's memory does not grow with the data
    /// it holds (the filters are about 2 % of the raw bytes).
    InFooter { pos: u32, len: u32 },
}

impl Grams {
    /// Bytes of filter bits.
    pub fn size_bytes(&self) -> usize {
        match self {
            Grams::Unknown => 0,
            Grams::Loaded(g) => g.size_bytes(),
            Grams::InFooter { len, .. } => *len as usize,
        }
    }
}

impl BlockMeta {
    /// False only if no line of the block can contain the needles: a whole word of one is
    /// missing from the token filter, or a gram of one of their runs from the gram filter,
    /// which `load` reads when it is not in memory (a filter it cannot read proves nothing).
    pub fn may_contain(&self, n: &Needles, load: impl FnOnce(u32, u32) -> Option<GramFilter>) -> bool {
        if !n.tokens.iter().all(|&t| self.filter.may_contain(t)) {
            return false;
        }
        if n.runs.is_empty() && n.any_case.is_empty() {
            return true;
        }
        let read;
        let g = match &self.grams {
            Grams::Unknown => return true,
            Grams::Loaded(g) => g,
            Grams::InFooter { pos, len } => match load(*pos, *len) {
                Some(g) => {
                    read = g;
                    &read
                }
                None => return true,
            },
        };
        n.runs.iter().all(|r| g.may_contain(r)) && n.any_case.iter().all(|r| g.may_contain_any_case(r))
    }
}

thread_local! {
    /// Each encoding thread's scratch bitmap for gram filters (128 KiB, cleared
    /// as they are used).
    static GRAMS: std::cell::RefCell<GramBuilder> = std::cell::RefCell::new(GramBuilder::default());
}

thread_local! {
    /// Each encoding thread's zstd context and its level, kept between blocks (its tables are
    /// then allocated once instead of per block).
    static CCTX: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Frees this thread's zstd context (a compaction's, once it is done: a strong level's tables
/// are large).
pub fn release_encoder() {
    CCTX.with(|c| c.borrow_mut().take());
}

/// Runs `f` with this thread's zstd context at `level`.
fn with_cctx<T>(
    level: i32,
    f: impl FnOnce(&mut zstd::bulk::Compressor<'static>) -> std::io::Result<T>,
) -> std::io::Result<T> {
    CCTX.with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().is_none_or(|(l, _)| *l != level) {
            *c = Some((level, zstd::bulk::Compressor::new(level)?));
        }
        f(&mut c.as_mut().expect("set above").1)
    })
}

/// How a segment's blocks are written.
#[derive(Debug, Clone, Copy)]
pub struct Encoding {
    pub level: i32,
    /// Raw line bytes per block, about.
    pub block_bytes: usize,
    /// Whether blocks carry gram filters: a flush leaves them out when compaction will
    /// rewrite its blocks (and build them) anyway, the most CPU a flush spends after zstd.
    pub grams: bool,
}

/// A metadata set met while encoding, its hash and its place in the block's tally.
type MetaSeen<'a> = (&'a [(String, String)], u64, Option<usize>);

/// Encodes entries already sorted by timestamp into a compressed block.
#[cfg(test)]
pub fn encode<'a, I>(entries: I, level: i32) -> std::io::Result<(Vec<u8>, BlockMeta)>
where
    I: IntoIterator<Item = (i64, &'a str, &'a [(String, String)])>,
{
    let mut data = Vec::new();
    let meta = encode_into(entries, level, true, 0, &mut data)?;
    Ok((data, meta))
}

/// As [`encode`], the block written into `data` (cleared first; a buffer kept between blocks
/// keeps its memory), its lines' bytes about `text_bytes` (so their buffer is sized once),
/// with a gram filter if `with_grams` (else [`Grams::Unknown`]).
pub fn encode_into<'a, I>(
    entries: I,
    level: i32,
    with_grams: bool,
    text_bytes: usize,
    data: &mut Vec<u8>,
) -> std::io::Result<BlockMeta>
where
    I: IntoIterator<Item = (i64, &'a str, &'a [(String, String)])>,
{
    let entries = entries.into_iter();
    let n = entries.size_hint().0;
    let mut ts_col = Vec::with_capacity(n * 4);
    let mut len_col = Vec::with_capacity(n * 2);
    let mut lines = Vec::with_capacity(text_bytes);
    let mut meta_col = Vec::with_capacity(n);
    let (mut min_ts, mut max_ts, mut prev, mut count, mut raw) = (i64::MAX, i64::MIN, 0i64, 0u32, 0u64);
    let mut grams_cell = GRAMS.with(|g| g.take());
    let grams = &mut grams_cell;
    // The tokens met last (0 is empty): small enough to stay in the core's cache while the
    // block's filters are built.
    const RECENT_LOG2: u32 = 12;
    let mut recent = if with_grams { vec![0u64; 1 << RECENT_LOG2] } else { Vec::new() };
    let mut digests = crate::digest::Builder::default();
    let mut tally = crate::tally::Builder::new();
    // Entries mostly share a metadata set (or have none): its hash and place in the tally are
    // found once per run.
    let mut last_meta: Option<MetaSeen> = None;
    for (ts, line, meta) in entries {
        let (mh, set) = match last_meta {
            Some((m, h, set)) if m == meta => (h, set),
            _ => {
                let h = crate::digest::metadata_hash(meta);
                let set = tally.set_of(meta);
                last_meta = Some((meta, h, set));
                (h, set)
            }
        };
        digests.add(ts, crate::digest::line_hash(line.as_bytes(), mh));
        tally.add(ts, set, line.len() as u64);
        varint::put_i64(&mut ts_col, ts.wrapping_sub(prev));
        prev = ts;
        min_ts = min_ts.min(ts);
        max_ts = max_ts.max(ts);
        varint::put_u64(&mut len_col, line.len() as u64);
        lines.extend_from_slice(line.as_bytes());
        varint::put_u64(&mut meta_col, meta.len() as u64);
        for (k, v) in meta {
            varint::put_bytes(&mut meta_col, k.as_bytes());
            varint::put_bytes(&mut meta_col, v.as_bytes());
        }
        if with_grams {
            let lb = line.as_bytes();
            token_spans(lb, |st, end| {
                // A token met recently in this block (a field name, a level, a common word) has
                // set its bits already.
                let t = &lb[st..end];
                let key = token_key(lb, st, t.len());
                let seen = &mut recent[(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - RECENT_LOG2)) as usize];
                if *seen == key {
                    return;
                }
                *seen = key;
                grams.add_token(t);
            });
        }
        count += 1;
        raw += line.len() as u64;
    }
    // Two zstd frames: the small columns first (with their own checksum, so counting queries
    // can read them alone), then the lines.
    let mut cols = Vec::with_capacity(ts_col.len() + len_col.len() + meta_col.len() + 16);
    varint::put_u64(&mut cols, count as u64);
    varint::put_bytes(&mut cols, &ts_col);
    varint::put_bytes(&mut cols, &len_col);
    varint::put_bytes(&mut cols, &meta_col);
    // The lines are compressed straight into the block, after the columns.
    data.clear();
    with_cctx(level, |c| {
        let cols = c.compress(&cols)?;
        data.reserve(8 + cols.len() + zstd::zstd_safe::compress_bound(lines.len()));
        data.extend_from_slice(&(cols.len() as u32).to_le_bytes());
        data.extend_from_slice(&crc32fast::hash(&cols).to_le_bytes());
        data.extend_from_slice(&cols);
        let mut out = std::io::Cursor::new(&mut *data);
        out.set_position(8 + cols.len() as u64);
        c.compress_to_buffer(&lines, &mut out)?;
        Ok(())
    })?;
    let windows = digests.finish();
    let meta = BlockMeta {
        offset: 0,
        len: data.len() as u32,
        crc: crc32fast::hash(data),
        min_ts,
        max_ts,
        count,
        raw_bytes: raw,
        // Whole words are found by the gram filter too (all of a word's grams must be there),
        // so new blocks carry no token filter: a filter that holds everything, 8 bytes.
        filter: TokenFilter::everything(),
        grams: if with_grams { Grams::Loaded(grams_cell.finish()) } else { Grams::Unknown },
        sums: SumsAt::Loaded(Sums { tally: tally.finish(&windows), digests: Some(windows) }),
    };
    GRAMS.with(|g| g.replace(grams_cell));
    Ok(meta)
}

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("block checksum mismatch")]
    Checksum,
    #[error("block decompression failed: {0}")]
    Zstd(std::io::Error),
    /// The file could not be read (not damage: too many open files, permissions, I/O).
    #[error("segment file unreadable: {0}")]
    Io(std::io::Error),
    /// The block is only in the bucket, and the bucket could not be read, or no longer has the
    /// object (not damage). The message says which.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
}

/// The length of the column frame from a block's first 8 bytes (and its checksum).
pub fn columns_header(head: &[u8]) -> Result<(usize, u32), BlockError> {
    let h: [u8; 8] = head.get(..8).and_then(|h| h.try_into().ok()).ok_or(Corrupt(0))?;
    Ok((u32::from_le_bytes(h[..4].try_into().unwrap()) as usize, u32::from_le_bytes(h[4..].try_into().unwrap())))
}

struct Columns {
    ts: Vec<i64>,
    lens: Vec<u64>,
    metadata: Vec<Shared>,
}

/// One metadata set, shared by the entries that carry it.
pub type Shared = model::Metadata;

/// Decodes a column frame (`8 + len` bytes from the block's start) into runs: the entries in
/// `[start, end)` lying in one segment of `s.bounds` (and, `with_metadata`, carrying one
/// metadata set) become one `LineStat` with their count, their bytes and the newest time.
/// Without `with_metadata` the metadata column is not decoded at all.
pub fn decode_runs(
    head_and_columns: &[u8],
    s: &model::Summaries,
    start: i64,
    end: i64,
    with_metadata: bool,
) -> Result<Vec<model::LineStat>, BlockError> {
    let (clen, ccrc) = columns_header(head_and_columns)?;
    let plain = decompress_columns(head_and_columns.get(8..8 + clen).ok_or(Corrupt(0))?, ccrc)?;
    let (n, mut ts_r, mut len_r, mut meta_r) = column_parts(&plain)?;
    let bounds = &s.bounds[..];
    let mut out: Vec<model::LineStat> = Vec::new();
    // The distinct metadata sets met (raw bytes, decoded once) and, per set, the index in
    // `out` of its run in the current segment. Beyond `DISTINCT` sets, entries go one by one.
    const DISTINCT: usize = 32;
    let mut sets: Vec<(&[u8], Shared, usize)> = Vec::new();
    let mut open_from = 0usize;
    // The current segment and its upper bound (entries are in time order).
    let (mut seg, mut upper) = (usize::MAX, i64::MIN);
    let mut ts = 0i64;
    let mut last_raw: &[u8] = &[];
    // The set the entry before belonged to (most entries carry the one before's).
    let mut last_at = usize::MAX;
    for _ in 0..n {
        ts = ts.wrapping_add(ts_r.i64()?);
        let len = len_r.u64()?;
        // Known only when the entry before was counted in a set.
        let prev_at = std::mem::replace(&mut last_at, usize::MAX);
        let (raw, repeated) = if with_metadata { next_metadata(&mut meta_r, &mut last_raw)? } else { (&[][..], true) };
        if ts < start || ts >= end {
            continue;
        }
        if seg == usize::MAX || ts > upper {
            seg = bounds.partition_point(|&b| b < ts);
            upper = bounds.get(seg).copied().unwrap_or(i64::MAX);
            open_from = out.len();
        }
        let known = match sets.get(prev_at) {
            Some(_) if repeated => Some(prev_at),
            _ => sets.iter().position(|(prev, _, _)| crate::varint::short_eq(prev, raw)),
        };
        let at = match known {
            Some(i) => i,
            None => {
                let mut mr = Reader::new(raw);
                let nmeta = if raw.is_empty() { 0 } else { mr.u64()? as usize };
                let mut metadata = Vec::with_capacity(nmeta.min(128));
                for _ in 0..nmeta {
                    metadata.push((mr.str()?.to_string(), mr.str()?.to_string()));
                }
                let set = Shared::new(metadata);
                if sets.len() >= DISTINCT {
                    out.push(model::LineStat { ts, bytes: len, metadata: set, lines: 1 });
                    continue;
                }
                sets.push((raw, set, usize::MAX));
                sets.len() - 1
            }
        };
        last_at = at;
        let (_, set, run) = &mut sets[at];
        if *run == usize::MAX || *run < open_from {
            *run = out.len();
            out.push(model::LineStat { ts, bytes: 0, metadata: set.clone(), lines: 0 });
        }
        let st = &mut out[*run];
        st.ts = ts;
        st.bytes += len;
        st.lines += 1;
    }
    Ok(out)
}

/// An entry's metadata set in the metadata column, as raw bytes (its pair count, then each key
/// and value). When the bytes ahead repeat the entry before's set, as they mostly do, they are
/// skipped without being parsed (the encoding delimits itself: the same bytes read the same).
/// The second value says whether they repeat the entry before's.
#[inline(always)]
fn next_metadata<'a>(meta_r: &mut Reader<'a>, last: &mut &'a [u8]) -> Result<(&'a [u8], bool), Corrupt> {
    if !last.is_empty() && meta_r.skip_prefix(last) {
        return Ok((last, true));
    }
    let from = meta_r.position();
    let nmeta = meta_r.u64()? as usize;
    for _ in 0..2 * nmeta {
        meta_r.bytes()?;
    }
    *last = meta_r.slice(from);
    Ok((last, false))
}

/// The most a column frame may decompress to (a block's columns are far smaller).
const MAX_COLUMNS_BYTES: u64 = 256 << 20;

thread_local! {
    /// Each reading thread's zstd context, kept between blocks.
    static DCTX: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A column frame checked against its checksum and decompressed: into a buffer of the size its
/// header gives, with this thread's context.
fn decompress_columns(frame: &[u8], crc: u32) -> Result<Vec<u8>, BlockError> {
    if crc32fast::hash(frame) != crc {
        return Err(BlockError::Checksum);
    }
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n <= MAX_COLUMNS_BYTES => n as usize,
        // Frames written without their size (none are) or claiming too much.
        _ => return zstd::stream::decode_all(frame).map_err(BlockError::Zstd),
    };
    decompress(frame, size)
}

/// A zstd frame decompressed into a buffer of `capacity` bytes (an error if it needs more),
/// with this thread's context.
fn decompress(frame: &[u8], capacity: usize) -> Result<Vec<u8>, BlockError> {
    with_dctx(|d| d.decompress(frame, capacity))
}

/// Runs `f` with this thread's zstd context.
fn with_dctx<T>(f: impl FnOnce(&mut zstd::bulk::Decompressor<'static>) -> std::io::Result<T>) -> Result<T, BlockError> {
    DCTX.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::new().map_err(BlockError::Zstd)?);
        }
        f(d.as_mut().expect("set above")).map_err(BlockError::Zstd)
    })
}

/// The entry count and the readers of the timestamp, length and metadata columns.
fn column_parts(plain: &[u8]) -> Result<(usize, Reader<'_>, Reader<'_>, Reader<'_>), BlockError> {
    let mut r = Reader::new(plain);
    let n = r.u64()? as usize;
    Ok((n, Reader::new(r.bytes()?), Reader::new(r.bytes()?), Reader::new(r.bytes()?)))
}

fn decode_columns(frame: &[u8], crc: u32) -> Result<Columns, BlockError> {
    let plain = decompress_columns(frame, crc)?;
    let (n, mut ts_r, mut len_r, mut meta_r) = column_parts(&plain)?;
    let mut c = Columns {
        ts: Vec::with_capacity(n.min(1 << 20)),
        lens: Vec::with_capacity(n.min(1 << 20)),
        metadata: Vec::with_capacity(n.min(1 << 20)),
    };
    let mut ts = 0i64;
    // Entries mostly share a few metadata sets (`detected_level` takes a handful of values):
    // each distinct set is decoded once and shared; an entry's bytes are compared with the sets
    // seen before anything is decoded.
    const DISTINCT: usize = 32;
    let mut seen: Vec<(&[u8], Shared)> = Vec::new();
    let mut last_raw: &[u8] = &[];
    let mut last_at = usize::MAX;
    for _ in 0..n {
        ts = ts.wrapping_add(ts_r.i64()?);
        c.ts.push(ts);
        c.lens.push(len_r.u64()?);
        let prev_at = std::mem::replace(&mut last_at, usize::MAX);
        let (raw, repeated) = next_metadata(&mut meta_r, &mut last_raw)?;
        let known = match seen.get(prev_at) {
            Some(_) if repeated => Some(prev_at),
            _ => seen.iter().position(|(prev, _)| crate::varint::short_eq(prev, raw)),
        };
        match known {
            Some(i) => {
                last_at = i;
                c.metadata.push(seen[i].1.clone());
            }
            None => {
                let mut r = Reader::new(raw);
                let nmeta = r.u64()? as usize;
                let mut metadata = Vec::with_capacity(nmeta.min(128));
                for _ in 0..nmeta {
                    metadata.push((r.str()?.to_string(), r.str()?.to_string()));
                }
                let set = Shared::new(metadata);
                if seen.len() < DISTINCT {
                    seen.push((raw, set.clone()));
                    last_at = seen.len() - 1;
                }
                c.metadata.push(set);
            }
        }
    }
    Ok(c)
}

/// A whole block's columns and decompressed lines, its checksum checked first.
fn open(data: &[u8], meta: &BlockMeta) -> Result<(Columns, Vec<u8>), BlockError> {
    if crc32fast::hash(data) != meta.crc {
        return Err(BlockError::Checksum);
    }
    let (clen, ccrc) = columns_header(data)?;
    let cols_frame = data.get(8..8 + clen).ok_or(Corrupt(0))?;
    let c = decode_columns(cols_frame, ccrc)?;
    let lines = decompress_text(&data[8 + clen..], meta.raw_bytes as usize + 64)?;
    Ok((c, lines))
}

/// The most text a reading thread keeps between blocks (a block holds about 1 MiB).
const KEPT_TEXT_BYTES: usize = 2 << 20;

thread_local! {
    /// Each reading thread's buffer for a block's text, given back after the block is read, so
    /// that reading block after block does not map and fault in fresh pages each time.
    static TEXT: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A block's text frame decompressed into this thread's text buffer (at least `capacity` bytes;
/// give it back with [`keep_text`]).
fn decompress_text(frame: &[u8], capacity: usize) -> Result<Vec<u8>, BlockError> {
    let mut buf = TEXT.with(|t| t.take());
    buf.clear();
    buf.reserve(capacity);
    with_dctx(|d| d.decompress_to_buffer(frame, &mut buf))?;
    Ok(buf)
}

/// Gives a block's text buffer back to this thread, unless it grew large.
fn keep_text(buf: Vec<u8>) {
    if buf.capacity() <= KEPT_TEXT_BYTES {
        TEXT.with(|t| t.set(buf));
    }
}

/// The `LineStat`s of a whole block's entries whose raw line `keep` accepts (checksum first);
/// no line is allocated.
pub fn decode_stats_where(
    data: &[u8],
    meta: &BlockMeta,
    needle: Option<&dyn TextSearch>,
    keep: impl Fn(&[u8]) -> bool,
) -> Result<Vec<model::LineStat>, BlockError> {
    decode_map_where(
        data,
        meta,
        needle,
        |_, raw| keep(raw),
        |ts, raw, metadata, _| Ok(model::LineStat::one(ts, raw.len() as u64, metadata)),
    )
}

/// Decompresses a whole block (checksum first) and maps each entry `keep` accepts, judged on
/// its time and raw line before anything is made of it, with `f(ts, raw line, metadata, its
/// offset in the block's text)`.
pub fn decode_map_where<T>(
    data: &[u8],
    meta: &BlockMeta,
    needle: Option<&dyn TextSearch>,
    keep: impl Fn(i64, &[u8]) -> bool,
    mut f: impl FnMut(i64, &[u8], Shared, usize) -> Result<T, BlockError>,
) -> Result<Vec<T>, BlockError> {
    let (c, lines) = open(data, meta)?;
    let mut hits = needle.map(|f| Hits::new(f, &lines));
    let mut out = Vec::new();
    let mut pos = 0usize;
    for ((ts, len), metadata) in c.ts.into_iter().zip(c.lens).zip(c.metadata) {
        let end = pos.checked_add(len as usize).ok_or(Corrupt(pos))?;
        let raw = lines.get(pos..end).ok_or(Corrupt(pos))?;
        if hits.as_mut().is_none_or(|h| h.in_line(pos, end)) && keep(ts, raw) {
            out.push(f(ts, raw, metadata, pos)?);
        }
        pos = end;
    }
    keep_text(lines);
    Ok(out)
}

/// Where a needle occurs in a block's text (its lines end to end), found by searching the
/// whole text at once instead of each line apart: a rare needle costs one memmem pass, and a
/// line is looked at only if an occurrence starts in it. `in_line` is asked about the lines in
/// order; an occurrence that runs past its line's end belongs to no line, and the search then
/// resumes at the next line's start (so overlapping occurrences are not missed).
struct Hits<'a> {
    finder: &'a dyn TextSearch,
    text: &'a [u8],
    next: Option<usize>,
    done: bool,
}

impl<'a> Hits<'a> {
    fn new(finder: &'a dyn TextSearch, text: &'a [u8]) -> Self {
        Hits { finder, text, next: None, done: false }
    }

    /// Whether the line `text[start..end]` contains the needle.
    fn in_line(&mut self, start: usize, end: usize) -> bool {
        if self.done {
            return false;
        }
        if self.next.is_none_or(|h| h < start) {
            match self.text.get(start..).and_then(|t| self.finder.find(t)) {
                Some(i) => self.next = Some(start + i),
                None => {
                    self.done = true;
                    return false;
                }
            }
        }
        self.next.is_some_and(|h| h + self.finder.len() <= end)
    }
}

/// Decompresses and decodes a block, checking its checksum first, keeping only the entries
/// `keep` accepts, judged on their time and raw line before anything is allocated for them (a
/// query's time range and required substrings; `|_, _| true` for all).
pub fn decode_where(
    data: &[u8],
    meta: &BlockMeta,
    needle: Option<&dyn TextSearch>,
    keep: impl Fn(i64, &[u8]) -> bool,
) -> Result<Vec<Entry>, BlockError> {
    decode_map_where(data, meta, needle, keep, |ts, raw, metadata, pos| {
        let line = std::str::from_utf8(raw).map_err(|_| Corrupt(pos))?;
        Ok(Entry { ts, line: line.to_string(), metadata })
    })
}

/// Decodes only the column frame (`8 + len` bytes from the block's start): timestamps, line
/// lengths and metadata, without decompressing any line.
pub fn decode_stats(head_and_columns: &[u8]) -> Result<Vec<model::LineStat>, BlockError> {
    let (clen, ccrc) = columns_header(head_and_columns)?;
    let c = decode_columns(head_and_columns.get(8..8 + clen).ok_or(Corrupt(0))?, ccrc)?;
    Ok(c.ts
        .into_iter()
        .zip(c.lens)
        .zip(c.metadata)
        .map(|((ts, bytes), metadata)| model::LineStat::one(ts, bytes, metadata))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use xxhash_rust::xxh3::xxh3_64;

    #[test]
    fn runs_count_what_entries_count_per_segment() {
        let sets = [
            vec![("detected_level".to_string(), "error".to_string())],
            vec![],
            vec![("detected_level".to_string(), "info".to_string()), ("trace".to_string(), "x".to_string())],
        ];
        let lines: Vec<String> = (0..500).map(|i| format!("line {i} {}", "x".repeat(i % 13))).collect();
        type Row<'a> = (i64, &'a str, &'a [(String, String)]);
        let rows: Vec<Row> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| ((i as i64) * 7 + (i as i64 % 5), l.as_str(), &sets[i * 7 % 3][..]))
            .collect();
        let (data, m) = encode(rows.clone(), 3).unwrap();
        assert_eq!(m.count, 500);
        let head = &data[..8 + columns_header(&data).unwrap().0];
        let bounds = vec![-5, 100, 101, 999, 2000, 3400];
        let s = model::Summaries { bounds: std::sync::Arc::new(bounds.clone()), labels: None };
        let (start, end) = (50, 3300);
        let seg = |ts: i64| bounds.partition_point(|&b| b < ts);
        type Totals = std::collections::BTreeMap<(usize, Vec<(String, String)>), (u32, u64)>;
        for with_metadata in [false, true] {
            let runs = decode_runs(head, &s, start, end, with_metadata).unwrap();
            // What every entry says, summed per segment (and set).
            let mut want = Totals::new();
            for st in decode_stats(head).unwrap().into_iter().filter(|st| st.ts >= start && st.ts < end) {
                let md = if with_metadata { st.metadata.to_vec() } else { vec![] };
                let w = want.entry((seg(st.ts), md)).or_default();
                w.0 += 1;
                w.1 += st.bytes;
            }
            let got: Totals = runs.iter().map(|r| ((seg(r.ts), r.metadata.to_vec()), (r.lines, r.bytes))).collect();
            assert_eq!(runs.len(), got.len(), "one run per segment and set");
            assert_eq!(got, want);
            assert_eq!(want.len(), if with_metadata { 12 } else { 4 }, "{want:?}");
        }
    }

    /// Runs of repeated metadata sets (skipped without being parsed), more distinct sets than are
    /// remembered, and entries outside the window between repeats: every entry keeps its own set.
    #[test]
    fn repeated_metadata_sets_stay_with_their_entries() {
        let sets: Vec<Vec<(String, String)>> = (0..40)
            .map(|i| if i == 0 { vec![] } else { vec![("detected_level".to_string(), format!("l{i}"))] })
            .collect();
        let mut x = 11u64;
        let mut which = Vec::new();
        let mut cur = 0usize;
        for _ in 0..3000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if x >> 61 == 0 {
                cur = (x >> 20) as usize % sets.len();
            }
            which.push(cur);
        }
        type Row<'a> = (i64, &'a str, &'a [(String, String)]);
        let rows: Vec<Row> = which.iter().enumerate().map(|(i, &w)| (i as i64 * 3, "l", &sets[w][..])).collect();
        let (data, _) = encode(rows.clone(), 1).unwrap();
        let head = &data[..8 + columns_header(&data).unwrap().0];
        // Frames state their size, so readers decompress them into a buffer made once.
        let stated = zstd::zstd_safe::get_frame_content_size(&head[8..]).unwrap();
        assert_eq!(stated, Some(zstd::stream::decode_all(&head[8..]).unwrap().len() as u64));
        let stats = decode_stats(head).unwrap();
        assert_eq!(stats.len(), rows.len());
        for (st, row) in stats.iter().zip(&rows) {
            assert_eq!((st.ts, &st.metadata[..]), (row.0, row.2));
        }
        // Entries before and after the window; one segment per 100 ns.
        let bounds: Vec<i64> = (0..100).map(|k| k * 100).collect();
        let s = model::Summaries { bounds: std::sync::Arc::new(bounds.clone()), labels: None };
        let seg = |ts: i64| bounds.partition_point(|&b| b < ts);
        type Totals = std::collections::BTreeMap<(usize, Vec<(String, String)>), u32>;
        let mut want = Totals::new();
        let (start, end) = (200, 8000);
        for row in rows.iter().filter(|r| r.0 >= start && r.0 < end) {
            *want.entry((seg(row.0), row.2.to_vec())).or_default() += 1;
        }
        let mut got = Totals::new();
        for r in decode_runs(head, &s, start, end, true).unwrap() {
            *got.entry((seg(r.ts), r.metadata.to_vec())).or_default() += r.lines;
        }
        assert_eq!(got, want);
    }

    #[test]
    fn block_round_trip_and_filter() {
        let meta = vec![("trace_id".to_string(), "abc".to_string())];
        type Row<'a> = (i64, &'a str, &'a [(String, String)]);
        let rows: Vec<Row> = vec![
            (10, "GET /index.html 200 req-7f3a9c", &[]),
            (10, "second at same ts", &meta),
            (25, "ERROR failed: disk full", &[]),
        ];
        let (data, m) = encode(rows.clone(), 3).unwrap();
        assert_eq!((m.min_ts, m.max_ts, m.count), (10, 25, 3));
        let back = decode_where(&data, &m, None, |_, _| true).unwrap();
        let stats = decode_stats(&data).unwrap();
        assert_eq!(stats.iter().map(|s| (s.ts, s.bytes)).collect::<Vec<_>>(), vec![(10, 30), (10, 17), (25, 23)]);
        assert_eq!(*stats[1].metadata, meta);
        assert_eq!(back.len(), 3);
        assert_eq!(back[1].line, "second at same ts");
        assert_eq!(back[1].metadata, meta);
        assert_eq!(back[2].ts, 25);
        assert!(m.filter.may_contain(xxh3_64(b"disk")) && m.filter.may_contain(xxh3_64(b"absent")), "no token filter");
        let Grams::Loaded(grams) = &m.grams else { panic!("a new block's grams are in memory") };
        assert!(grams.may_contain(b"disk") && grams.may_contain(b"fail") && grams.may_contain(b"ailed"));
        let absent = (0..100).filter(|i| grams.may_contain(format!("zz{i}q").as_bytes())).count();
        assert!(absent < 10, "{absent} false positives of 100");
        let mut bad = data.clone();
        bad[0] ^= 1;
        assert!(matches!(decode_where(&bad, &m, None, |_, _| true), Err(BlockError::Checksum)));
    }

    #[test]
    fn needles_found_in_the_whole_text_are_the_lines_that_hold_them() {
        // Occurrences across line ends and overlapping ones, against a search of each line.
        let mut x = 3u64;
        for needle in ["aa", "aba", "abc", "a"] {
            let finder = memchr::memmem::Finder::new(needle);
            for _ in 0..300 {
                let mut lines = Vec::new();
                for _ in 0..(x % 9) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let len = (x >> 60) as usize;
                    lines.push((0..len).map(|i| b"abc"[((x >> (i * 2)) % 3) as usize]).collect::<Vec<u8>>());
                }
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let text: Vec<u8> = lines.concat();
                let mut hits = Hits::new(&finder, &text);
                let mut pos = 0;
                for l in &lines {
                    let want = finder.find(l).is_some();
                    assert_eq!(hits.in_line(pos, pos + l.len()), want, "{needle:?} in {l:?} of {lines:?}");
                    pos += l.len();
                }
            }
        }
    }
}
