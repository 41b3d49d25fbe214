//! The `.remote` marker: written beside a segment once its upload is confirmed, it holds the
//! segment's size and its tail (footer, footer length, checksum, magic), so the segment is
//! served from its footer after the `.seg` file is evicted, and at start without the bucket.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

const MAGIC: &[u8; 8] = b"BITREM01";

/// The tail of a segment file: everything from its footer to its end.
pub fn read_tail(path: &Path) -> io::Result<(u64, Vec<u8>)> {
    let f = File::open(path)?;
    let size = f.metadata()?.len();
    let mut trailer = [0u8; 16];
    if size < 16 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "segment shorter than its trailer"));
    }
    f.read_exact_at(&mut trailer, size - 16)?;
    let flen = tail_len(&trailer, size)?;
    let mut tail = vec![0u8; flen as usize];
    f.read_exact_at(&mut tail, size - flen)?;
    Ok((size, tail))
}

/// From a segment's last 16 bytes and its size: how many bytes its tail (footer and trailer) has.
pub fn tail_len(trailer: &[u8; 16], size: u64) -> io::Result<u64> {
    let flen = u32::from_le_bytes(trailer[..4].try_into().unwrap()) as u64 + 16;
    if flen > size {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "segment footer longer than the segment"));
    }
    Ok(flen)
}

/// Writes the marker (synced, renamed into place).
pub fn write(path: &Path, size: u64, tail: &[u8]) -> io::Result<()> {
    let mut data = Vec::with_capacity(tail.len() + 16);
    data.extend_from_slice(MAGIC);
    data.extend_from_slice(&size.to_le_bytes());
    data.extend_from_slice(tail);
    let tmp = crate::segment::tmp_path(path);
    fs::write(&tmp, &data)?;
    File::open(&tmp)?.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        crate::wal::sync_dir(dir);
    }
    Ok(())
}

/// Reads a marker: the segment's size and tail.
pub fn read(path: &Path) -> io::Result<(u64, Vec<u8>)> {
    let data = fs::read(path)?;
    if data.len() < 16 || &data[..8] != MAGIC {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a segment marker"));
    }
    let size = u64::from_le_bytes(data[8..16].try_into().unwrap());
    Ok((size, data[16..].to_vec()))
}
