//! Segment files: what one flush cuts from the heads, for every tenant and stream, written once
//! and never changed. Blocks first, then a footer that indexes them (per stream: tenant, labels
//! and block metadata with token filters), its length, checksum and a magic number. A segment is
//! written to a temporary name, synced and renamed: a crash leaves either all of it or none.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use model::{Entry, Labels};

use crate::block::{self, BlockError, BlockMeta, TokenFilter};
use crate::head::Head;
use crate::varint::{self, Corrupt, Reader};

const MAGIC: &[u8; 8] = b"BITSEG01";
const MAGIC_END: &[u8; 8] = b"BITSEGF1";

/// One stream's blocks inside a segment.
#[derive(Debug)]
pub struct SegStream {
    pub tenant: String,
    pub labels: Labels,
    pub blocks: Vec<BlockMeta>,
}

/// An open segment file and its footer.
#[derive(Debug)]
pub struct Segment {
    pub path: PathBuf,
    pub id: u64,
    /// Every WAL segment numbered up to this one is contained in this segment or an older one.
    pub wal_upto: u64,
    pub min_ts: i64,
    pub max_ts: i64,
    pub file_bytes: u64,
    pub streams: Vec<SegStream>,
    file: File,
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

/// Writes the given heads as a segment under `root/<day of min ts>/`.
pub fn write(
    root: &Path,
    id: u64,
    wal_upto: u64,
    heads: &[(&str, &Labels, &Head)],
    block_bytes: usize,
    level: i32,
) -> Result<Segment, SegmentError> {
    let min_ts = heads.iter().filter_map(|(_, _, h)| h.min_ts()).min().unwrap_or(0);
    let dir = root.join(day_of(min_ts));
    fs::create_dir_all(&dir)?;
    let path = dir.join(file_name(id));
    let tmp = dir.join(format!("{}.tmp", file_name(id)));
    let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
    w.write_all(MAGIC)?;
    let mut offset = MAGIC.len() as u64;
    let mut footer = Vec::new();
    varint::put_u64(&mut footer, wal_upto);
    varint::put_u64(&mut footer, heads.len() as u64);
    for (tenant, labels, head) in heads {
        let mut metas = Vec::new();
        let mut rows = head.rows().peekable();
        while rows.peek().is_some() {
            let mut size = 0usize;
            let chunk: Vec<_> = std::iter::from_fn(|| {
                if size >= block_bytes {
                    return None;
                }
                let r = rows.next()?;
                size += r.1.len() + 16;
                Some(r)
            })
            .collect();
            let (data, mut meta) = block::encode(chunk, level)?;
            meta.offset = offset;
            w.write_all(&data)?;
            offset += data.len() as u64;
            metas.push(meta);
        }
        varint::put_bytes(&mut footer, tenant.as_bytes());
        varint::put_bytes(&mut footer, labels.to_string().as_bytes());
        varint::put_u64(&mut footer, metas.len() as u64);
        for m in &metas {
            varint::put_u64(&mut footer, m.offset);
            varint::put_u64(&mut footer, m.len as u64);
            varint::put_u64(&mut footer, m.crc as u64);
            varint::put_i64(&mut footer, m.min_ts);
            varint::put_i64(&mut footer, m.max_ts);
            varint::put_u64(&mut footer, m.count as u64);
            varint::put_u64(&mut footer, m.raw_bytes);
            m.filter.encode(&mut footer);
        }
    }
    w.write_all(&footer)?;
    w.write_all(&(footer.len() as u32).to_le_bytes())?;
    w.write_all(&crc32fast::hash(&footer).to_le_bytes())?;
    w.write_all(MAGIC_END)?;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, &path)?;
    crate::wal::sync_dir(&dir);
    open(&path, id)
}

/// Opens a segment and reads its footer.
pub fn open(path: &Path, id: u64) -> Result<Segment, SegmentError> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size < 8 + 16 {
        return Err(SegmentError::Magic);
    }
    let mut tail = [0u8; 16];
    file.read_exact_at(&mut tail, size - 16)?;
    if &tail[8..] != MAGIC_END {
        return Err(SegmentError::Magic);
    }
    let flen = u32::from_le_bytes(tail[..4].try_into().unwrap()) as u64;
    let fcrc = u32::from_le_bytes(tail[4..8].try_into().unwrap());
    if flen + 16 + 8 > size {
        return Err(SegmentError::Corrupt(Corrupt(0)));
    }
    let mut footer = vec![0u8; flen as usize];
    file.read_exact_at(&mut footer, size - 16 - flen)?;
    if crc32fast::hash(&footer) != fcrc {
        return Err(SegmentError::Checksum);
    }
    let mut r = Reader::new(&footer);
    let wal_upto = r.u64()?;
    let n = r.u64()? as usize;
    let mut streams = Vec::with_capacity(n.min(1 << 16));
    let (mut min_ts, mut max_ts) = (i64::MAX, i64::MIN);
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
            };
            min_ts = min_ts.min(m.min_ts);
            max_ts = max_ts.max(m.max_ts);
            blocks.push(m);
        }
        streams.push(SegStream { tenant, labels, blocks });
    }
    Ok(Segment { path: path.to_path_buf(), id, wal_upto, min_ts, max_ts, file_bytes: size, streams, file })
}

impl Segment {
    /// Reads and decodes only a block's timestamps, line lengths and metadata.
    pub fn read_block_stats(&self, m: &BlockMeta) -> Result<Vec<model::LineStat>, BlockError> {
        let mut head = [0u8; 8];
        self.file.read_exact_at(&mut head, m.offset).map_err(BlockError::Zstd)?;
        let (clen, _) = block::columns_header(&head)?;
        if clen + 8 > m.len as usize {
            return Err(BlockError::Checksum);
        }
        let mut data = vec![0u8; 8 + clen];
        self.file.read_exact_at(&mut data, m.offset).map_err(BlockError::Zstd)?;
        block::decode_stats(&data)
    }

    /// Reads and decodes one block.
    pub fn read_block(&self, m: &BlockMeta) -> Result<Vec<Entry>, BlockError> {
        let mut data = vec![0u8; m.len as usize];
        self.file.read_exact_at(&mut data, m.offset).map_err(BlockError::Zstd)?;
        block::decode(&data, m)
    }
}
