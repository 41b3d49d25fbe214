//! The write-ahead log: numbered segment files of checksummed records, one record per accepted
//! push. A push is acknowledged only once its record is written (and, with `wal_fsync`, synced
//! by a group commit). Segments that a segment file covers are deleted after each flush.
//! Segments are written past the page cache where the filesystem allows it ([`direct`]).

mod direct;

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use model::{Entry, Labels};
use parking_lot::Mutex;

use crate::varint::{self, Corrupt, Reader};

/// One stream's accepted entries inside a record.
pub struct WalStream<'a> {
    pub labels: &'a Labels,
    pub entries: &'a [crate::incoming::Incoming<'a>],
}

/// Bytes of a record written at once: a push's record (megabytes) goes to the file in pieces,
/// never whole in memory (a fresh buffer of a record's size cost its page faults on every
/// push, and its megabytes at the peak of two pushes at once).
const PIECE: usize = 64 << 10;

/// The header a record carries while it is written: an empty payload with a checksum no empty
/// payload has, so that a crash half-way leaves a record every reader drops.
const WRITING: [u8; 8] = [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];

/// Writes one record's payload through `out`, in pieces of about [`PIECE`] bytes (a longer
/// line goes on its own).
fn write_payload(
    tenant: &str,
    streams: &[WalStream],
    mut out: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut p = Vec::with_capacity(PIECE + 1024);
    varint::put_bytes(&mut p, tenant.as_bytes());
    varint::put_u64(&mut p, streams.len() as u64);
    for s in streams {
        varint::put_bytes(&mut p, s.labels.to_string().as_bytes());
        varint::put_u64(&mut p, s.entries.len() as u64);
        for e in s.entries {
            varint::put_i64(&mut p, e.ts);
            if e.line.len() > PIECE {
                varint::put_u64(&mut p, e.line.len() as u64);
                out(&p)?;
                p.clear();
                out(e.line.as_bytes())?;
            } else {
                varint::put_bytes(&mut p, e.line.as_bytes());
            }
            varint::put_u64(&mut p, e.metadata.len() as u64);
            for (k, v) in e.metadata.iter() {
                varint::put_bytes(&mut p, k.as_bytes());
                varint::put_bytes(&mut p, v.as_bytes());
            }
            if p.len() >= PIECE {
                out(&p)?;
                p.clear();
            }
        }
    }
    out(&p)
}

/// Writes one record through `out`: a header marking it unfinished ([`WRITING`]), then its
/// payload in pieces. Returns its length and the header to put over the marker once it is all
/// written.
fn write_record(
    tenant: &str,
    streams: &[WalStream],
    mut out: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<(u64, [u8; 8])> {
    out(&WRITING)?;
    let mut crc = crc32fast::Hasher::new();
    let mut len = 0u64;
    write_payload(tenant, streams, |b| {
        crc.update(b);
        len += b.len() as u64;
        out(b)
    })?;
    let len32 = u32::try_from(len)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a WAL record over 4 GiB"))?;
    let mut header = [0u8; 8];
    header[..4].copy_from_slice(&len32.to_le_bytes());
    header[4..].copy_from_slice(&crc.finalize().to_le_bytes());
    Ok((8 + len, header))
}

/// One whole record (header and payload) in memory, as [`WalWriter::append`] writes it.
#[cfg(test)]
pub fn encode_record(tenant: &str, streams: &[WalStream]) -> Vec<u8> {
    let mut p = vec![0u8; 8];
    write_payload(tenant, streams, |b| {
        p.extend_from_slice(b);
        Ok(())
    })
    .expect("written to memory");
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
            // The padding of a segment's last block ends less than a header after the record.
            _ if header.iter().all(|&b| b == 0) => break,
            _ => {
                tracing::warn!(path = %path.display(), offset, "torn WAL record header at the end of the segment; dropped");
                break;
            }
        }
        if header == [0; 8] {
            // Zeros: the padding of a segment's last block, written directly (`direct.rs`).
            break;
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
    /// The staging of the current segment's writes when they go straight to the device.
    direct: Option<Box<direct::Staged>>,
    /// False once the filesystem refused direct I/O: later segments are written buffered.
    try_direct: bool,
    /// Where the next record starts.
    pub bytes_written: u64,
}

impl WalWriter {
    /// A writer that will create segment `seq` on its first append.
    pub fn new(dir: &Path, seq: u64) -> Self {
        WalWriter { dir: dir.to_path_buf(), seq, file: None, direct: None, try_direct: true, bytes_written: 0 }
    }

    fn open(&mut self) -> std::io::Result<Arc<File>> {
        if let Some(f) = &self.file {
            return Ok(f.clone());
        }
        // Written at explicit offsets (a record's header last, over its start): not in append mode,
        // where Linux writes every `pwrite` at the end. A segment is only ever written by the
        // writer that created it: one found non-empty (a number taken before a failure) is
        // passed over, as appending after its zero padding would hide the records behind it.
        let (file, direct) = loop {
            let path = segment_path(&self.dir, self.seq);
            let (file, direct) = open_segment(&path, self.try_direct)?;
            if file.metadata()?.len() == 0 {
                break (file, direct);
            }
            self.seq += 1;
        };
        self.try_direct = direct.is_some();
        sync_dir(&self.dir);
        let f = Arc::new(file);
        self.file = Some(f.clone());
        self.direct = direct;
        self.bytes_written = 0;
        Ok(f)
    }

    /// Appends one push's accepted streams as a whole record, or nothing: a write that fails
    /// half-way (a full disk) is cut off again, and if even that fails the next record goes to
    /// a new segment, so no record acknowledged later can sit behind a torn one. The payload
    /// is written in pieces after a header that marks it unfinished ([`WRITING`]), then the
    /// real header over it. Returns the record's bytes.
    pub fn append(&mut self, tenant: &str, streams: &[WalStream]) -> std::io::Result<u64> {
        let file = self.open()?;
        let start = self.bytes_written;
        let mut at = start;
        let written = if let Some(st) = self.direct.as_mut() {
            // The same bytes, staged and written in whole blocks.
            let mut write_at = |b: &[u8], at: u64| file.write_all_at(b, at);
            st.begin();
            (|| {
                let (len, header) = write_record(tenant, streams, |b| st.write(b, &mut write_at))?;
                at += len;
                st.finish(header, &mut write_at)
            })()
        } else {
            (|| {
                let (_, header) = write_record(tenant, streams, |b| {
                    file.write_all_at(b, at)?;
                    at += b.len() as u64;
                    Ok(())
                })?;
                file.write_all_at(&header, start)
            })()
        };
        if let Err(e) = written {
            if let Some(st) = self.direct.as_mut() {
                st.abort();
            }
            if let Err(t) = file.set_len(start) {
                tracing::warn!(seq = self.seq, error = %t, "could not cut a torn WAL record; starting a new WAL segment");
                self.file = None;
                self.direct = None;
                self.seq += 1;
                self.bytes_written = 0;
            }
            return Err(e);
        }
        self.bytes_written = at;
        Ok(at - start)
    }

    /// Syncs the current segment and starts the next one; returns the number of the closed one.
    pub fn rotate(&mut self) -> std::io::Result<u64> {
        if let Some(f) = &self.file {
            f.sync_data()?;
        }
        let old = self.seq;
        let try_direct = self.try_direct;
        *self = WalWriter::new(&self.dir, old + 1);
        self.try_direct = try_direct;
        Ok(old)
    }

    /// The current segment's file, if it was created.
    pub fn file(&self) -> Option<Arc<File>> {
        self.file.clone()
    }
}

/// Opens (creating it) a segment's file, for direct I/O if `direct` and the filesystem takes
/// it: the open is refused (tmpfs) or the first block written is (a filesystem that takes the
/// flag but not the alignment), and the file is then opened buffered. A file found non-empty
/// is returned as it is, for the caller to pass over.
fn open_segment(path: &Path, direct: bool) -> std::io::Result<(File, Option<Box<direct::Staged>>)> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = |flags: i32| OpenOptions::new().create(true).write(true).truncate(false).custom_flags(flags).open(path);
    if direct {
        match open(libc::O_DIRECT) {
            Ok(f) if f.metadata()?.len() > 0 => return Ok((f, None)),
            Ok(f) => {
                let staged = Box::<direct::Staged>::default();
                match staged.probe(&f) {
                    Ok(()) => {
                        f.set_len(0)?;
                        return Ok((f, Some(staged)));
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                        tracing::info!(path = %path.display(), "the WAL's filesystem refuses direct I/O; writing through the page cache");
                        f.set_len(0)?;
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                tracing::info!(path = %path.display(), "the WAL's filesystem refuses direct I/O; writing through the page cache");
            }
            Err(e) => return Err(e),
        }
    }
    Ok((open(0)?, None))
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

#[cfg(test)]
mod tests {
    use super::*;

    type Streams = Vec<(Labels, Vec<Entry>)>;

    fn streams() -> Streams {
        let a = Labels::from_pairs([("app", "a")]).unwrap();
        let b = Labels::from_pairs([("app", "b"), ("stream", "stderr")]).unwrap();
        // Enough lines for many pieces, one line longer than a piece, metadata on some.
        let mut ea: Vec<Entry> =
            (0..5_000).map(|i| Entry::new(i, format!("GET /x n={i} {}", "y".repeat(i as usize % 40)))).collect();
        ea[1234].line = "z".repeat(PIECE * 2 + 17);
        ea[4000].metadata = model::Metadata::new(vec![("trace_id".into(), "4bf92f35".into())]);
        let eb = vec![Entry::with_metadata(7, "é ünïcode", vec![("detected_level".into(), "warn".into())])];
        vec![(a, ea), (b, eb)]
    }

    fn incoming(s: &Streams) -> Vec<(Labels, Vec<crate::incoming::Incoming<'static>>)> {
        s.iter().map(|(l, e)| (l.clone(), e.iter().cloned().map(Into::into).collect())).collect()
    }

    fn read_all(path: &Path) -> Vec<(String, Streams)> {
        let mut out = Vec::new();
        read_segment(path, |r| out.push((r.tenant, r.streams))).unwrap();
        out
    }

    /// Records written in pieces are the records encoded whole, byte for byte, and read back
    /// as they were pushed.
    #[test]
    fn records_written_in_pieces_read_back_whole() {
        let s = streams();
        let inc = incoming(&s);
        let ws: Vec<WalStream> = inc.iter().map(|(l, e)| WalStream { labels: l, entries: e }).collect();
        // Straight to the device (the filesystems of this project's machines take direct I/O),
        // and through the page cache, as where the filesystem refuses it.
        for direct in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let mut w = WalWriter::new(dir.path(), 1);
            w.try_direct = direct;
            let n1 = w.append("t1", &ws).unwrap();
            assert_eq!(w.direct.is_some(), direct, "direct I/O taken on {}", dir.path().display());
            let n2 = w.append("t2", &ws[1..]).unwrap();
            let n3 = w.append("t3", &ws[1..]).unwrap();
            let mut whole = encode_record("t1", &ws);
            assert_eq!(n1, whole.len() as u64);
            whole.extend(encode_record("t2", &ws[1..]));
            whole.extend(encode_record("t3", &ws[1..]));
            assert_eq!(n1 + n2 + n3, whole.len() as u64);
            assert_eq!(w.bytes_written, whole.len() as u64);
            let path = segment_path(dir.path(), 1);
            let file = fs::read(&path).unwrap();
            assert_eq!(&file[..whole.len()], &whole[..]);
            // Written straight to the device, the last block is padded with zeros.
            let padded = if direct { whole.len().next_multiple_of(direct::BLOCK) } else { whole.len() };
            assert_eq!(file.len(), padded);
            assert!(file[whole.len()..].iter().all(|&b| b == 0));
            let got = read_all(&path);
            assert_eq!(got.len(), 3);
            assert_eq!((got[0].0.as_str(), &got[0].1), ("t1", &s));
            assert_eq!((got[1].0.as_str(), &got[1].1[..]), ("t2", &s[1..]));
            assert_eq!((got[2].0.as_str(), &got[2].1[..]), ("t3", &s[1..]));
        }
    }

    /// A segment's zero padding, shorter or longer than a header, ends it.
    #[test]
    fn zeros_after_the_last_record_end_the_segment() {
        let s = streams();
        let inc = incoming(&s);
        let ws: Vec<WalStream> = inc.iter().map(|(l, e)| WalStream { labels: l, entries: e }).collect();
        let rec = encode_record("t1", &ws[1..]);
        for zeros in [0usize, 3, 8, 4000] {
            let dir = tempfile::tempdir().unwrap();
            let path = segment_path(dir.path(), 1);
            let mut bytes = rec.clone();
            bytes.extend(vec![0u8; zeros]);
            fs::write(&path, &bytes).unwrap();
            assert_eq!(read_all(&path).len(), 1, "{zeros} zeros");
            bytes.extend_from_slice(&rec);
            fs::write(&path, &bytes).unwrap();
            let want = if zeros == 0 { 2 } else { 1 };
            assert_eq!(read_all(&path).len(), want, "nothing is read behind {zeros} zeros");
        }
    }

    /// A crash while a record is written leaves its unfinished header: the record is dropped,
    /// whether its payload was cut or whole, and the records before it are read.
    #[test]
    fn a_record_left_unfinished_is_dropped() {
        let s = streams();
        let inc = incoming(&s);
        let ws: Vec<WalStream> = inc.iter().map(|(l, e)| WalStream { labels: l, entries: e }).collect();
        let first = encode_record("t1", &ws[1..]);
        let second = encode_record("t1", &ws);
        for cut in [8, 100, second.len() / 2, second.len()] {
            let dir = tempfile::tempdir().unwrap();
            let path = segment_path(dir.path(), 1);
            let mut bytes = first.clone();
            bytes.extend_from_slice(&WRITING);
            bytes.extend_from_slice(&second[8..cut]);
            fs::write(&path, &bytes).unwrap();
            let got = read_all(&path);
            assert_eq!(got.len(), 1, "cut at {cut}");
            assert_eq!(got[0].1, s[1..]);
        }
    }
}
