//! The write-ahead log: numbered segment files of checksummed records, one record per accepted
//! push. A push is acknowledged only once its record is written (and, with `wal_fsync`, synced
//! by a group commit). Segments that a segment file covers are deleted after each flush.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Write};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use model::{Entry, Labels};
use parking_lot::Mutex;

use crate::varint::{self, Corrupt, Reader};

/// One stream's accepted entries inside a record.
pub struct WalStream<'a> {
    pub labels: &'a Labels,
    pub entries: &'a [Entry],
}

/// Encodes one record's payload.
pub fn encode_record(tenant: &str, streams: &[WalStream]) -> Vec<u8> {
    let labels: Vec<String> = streams.iter().map(|s| s.labels.to_string()).collect();
    // Sized once (a varint takes at most 10 bytes): no copying as it grows.
    let size = 8
        + 20
        + tenant.len()
        + streams
            .iter()
            .zip(&labels)
            .map(|(s, l)| {
                20 + l.len()
                    + s.entries
                        .iter()
                        .map(|e| {
                            30 + e.line.len() + e.metadata.iter().map(|(k, v)| 20 + k.len() + v.len()).sum::<usize>()
                        })
                        .sum::<usize>()
            })
            .sum::<usize>();
    let mut p = Vec::with_capacity(size);
    p.extend_from_slice(&[0u8; 8]); // room for the length and checksum
    varint::put_bytes(&mut p, tenant.as_bytes());
    varint::put_u64(&mut p, streams.len() as u64);
    for (s, l) in streams.iter().zip(&labels) {
        varint::put_bytes(&mut p, l.as_bytes());
        varint::put_u64(&mut p, s.entries.len() as u64);
        for e in s.entries {
            varint::put_i64(&mut p, e.ts);
            varint::put_bytes(&mut p, e.line.as_bytes());
            varint::put_u64(&mut p, e.metadata.len() as u64);
            for (k, v) in e.metadata.iter() {
                varint::put_bytes(&mut p, k.as_bytes());
                varint::put_bytes(&mut p, v.as_bytes());
            }
        }
    }
    let len = (p.len() - 8) as u32;
    let crc = crc32fast::hash(&p[8..]);
    p[..4].copy_from_slice(&len.to_le_bytes());
    p[4..8].copy_from_slice(&crc.to_le_bytes());
    p
}

/// A decoded record.
pub struct Record {
    pub tenant: String,
    pub streams: Vec<(Labels, Vec<Entry>)>,
}

fn decode_payload(p: &[u8]) -> Result<Record, Corrupt> {
    let mut r = Reader::new(p);
    let tenant = r.str()?.to_string();
    let n = r.u64()? as usize;
    let mut streams = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        let labels = model::parse_prom_labels(r.str()?).map_err(|_| Corrupt(0))?;
        let m = r.u64()? as usize;
        let mut entries = Vec::with_capacity(m.min(1 << 16));
        for _ in 0..m {
            let ts = r.i64()?;
            let line = r.str()?.to_string();
            let k = r.u64()? as usize;
            let mut metadata = Vec::with_capacity(k.min(128));
            for _ in 0..k {
                metadata.push((r.str()?.to_string(), r.str()?.to_string()));
            }
            entries.push(Entry::with_metadata(ts, line, metadata));
        }
        streams.push((labels, entries));
    }
    Ok(Record { tenant, streams })
}

pub fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.wal"))
}

/// The sequence numbers of the WAL segments in `dir`, ascending.
pub fn list_segments(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let name = e?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name.strip_suffix(".wal").and_then(|s| s.parse::<u64>().ok()) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Reads every whole record of a segment. A torn or damaged record ends the segment: it and
/// what follows are reported and dropped (they were never acknowledged if the tail was torn).
pub fn read_segment(path: &Path, mut f: impl FnMut(Record)) -> std::io::Result<u64> {
    let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut count = 0;
    let mut offset = 0u64;
    let mut header = [0u8; 8];
    loop {
        match read_full(&mut r, &mut header)? {
            0 => break,
            8 => {}
            _ => {
                tracing::warn!(path = %path.display(), offset, "torn WAL record header at the end of the segment; dropped");
                break;
            }
        }
        let len = u32::from_le_bytes(header[..4].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().unwrap());
        let mut payload = vec![0u8; len];
        if read_full(&mut r, &mut payload)? != len {
            tracing::warn!(path = %path.display(), offset, "torn WAL record at the end of the segment; dropped");
            break;
        }
        if crc32fast::hash(&payload) != crc {
            tracing::warn!(path = %path.display(), offset, "WAL record with a bad checksum; it and the rest of the segment are dropped");
            break;
        }
        match decode_payload(&payload) {
            Ok(rec) => f(rec),
            Err(e) => {
                tracing::warn!(path = %path.display(), offset, error = %e, "undecodable WAL record; it and the rest of the segment are dropped");
                break;
            }
        }
        offset += 8 + len as u64;
        count += 1;
    }
    Ok(count)
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The open segment that records are appended to. Its file is created by the first append, so
/// a store on a full disk can start (read-only) and begin writing once space is back.
pub struct WalWriter {
    dir: PathBuf,
    pub seq: u64,
    file: Option<Arc<File>>,
    /// The length of the current file: where the next record starts.
    pub bytes_written: u64,
}

impl WalWriter {
    /// A writer that will create segment `seq` on its first append.
    pub fn new(dir: &Path, seq: u64) -> Self {
        WalWriter { dir: dir.to_path_buf(), seq, file: None, bytes_written: 0 }
    }

    fn open(&mut self) -> std::io::Result<Arc<File>> {
        if let Some(f) = &self.file {
            return Ok(f.clone());
        }
        let file = OpenOptions::new().create(true).append(true).open(segment_path(&self.dir, self.seq))?;
        let len = file.metadata()?.len();
        sync_dir(&self.dir);
        let f = Arc::new(file);
        self.file = Some(f.clone());
        self.bytes_written = len;
        Ok(f)
    }

    /// Appends one whole record, or nothing: a write that fails half-way (a full disk) is cut
    /// off again, and if even that fails the next record goes to a new segment, so no record
    /// acknowledged later can sit behind a torn one.
    pub fn append(&mut self, record: &[u8]) -> std::io::Result<()> {
        let file = self.open()?;
        if let Err(e) = (&*file).write_all(record) {
            if let Err(t) = file.set_len(self.bytes_written) {
                tracing::warn!(seq = self.seq, error = %t, "could not cut a torn WAL record; starting a new WAL segment");
                self.file = None;
                self.seq += 1;
                self.bytes_written = 0;
            }
            return Err(e);
        }
        self.bytes_written += record.len() as u64;
        Ok(())
    }

    /// Syncs the current segment and starts the next one; returns the number of the closed one.
    pub fn rotate(&mut self) -> std::io::Result<u64> {
        if let Some(f) = &self.file {
            f.sync_data()?;
        }
        let old = self.seq;
        *self = WalWriter::new(&self.dir, old + 1);
        Ok(old)
    }

    /// The current segment's file, if it was created.
    pub fn file(&self) -> Option<Arc<File>> {
        self.file.clone()
    }
}

/// Group commit: many pushes waiting on one fsync.
#[derive(Default)]
pub struct Syncer {
    state: Mutex<(u64, u64)>,
}

impl Syncer {
    /// Makes sure everything written up to (`seq`, `upto`) is on disk. Concurrent callers share
    /// one `fdatasync`: whoever holds the lock syncs the current segment, which covers every
    /// earlier write (older segments were synced when they were rotated out).
    pub fn sync(
        &self,
        seq: u64,
        upto: u64,
        current: impl Fn() -> (u64, u64, Option<Arc<File>>),
    ) -> std::io::Result<()> {
        let mut st = self.state.lock();
        if *st >= (seq, upto) {
            return Ok(());
        }
        let (cur_seq, cur_bytes, file) = current();
        if let Some(file) = file {
            file.sync_data()?;
        }
        *st = (cur_seq, cur_bytes);
        Ok(())
    }
}

pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
