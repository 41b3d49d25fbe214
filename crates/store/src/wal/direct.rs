//! Records written straight to the device (`O_DIRECT`), past the page cache.
//!
//! Buffered, each record was copied into the page cache (the largest single cost of ingest's
//! kernel time, about 8 % of its CPU), kept there as dirty pages until the group commit synced
//! them, and dropped again when the segment was deleted after a flush. Direct writes go from
//! this process's buffer to the device: a record is staged in a block-aligned buffer and
//! written out in whole blocks as it fills; the last, partial block stays staged (and is
//! written again, grown, by the next record), the part of it past the record padded with
//! zeros. A segment therefore ends in zeros, which its reader takes as its end.
//!
//! A record's header is written last (see [`super::WalWriter::append`]): the blocks holding it
//! that were written out already are kept aside, and written again once the header is known.

use std::io;

/// The unit of direct I/O: offsets, lengths and buffer addresses are multiples of it (4 KiB
/// covers every logical block size in common use).
pub const BLOCK: usize = 4096;
/// Bytes staged before whole blocks are written out.
const STAGE: usize = 256 << 10;

/// A zeroed buffer whose start is block-aligned, as direct I/O requires.
struct Aligned {
    raw: Vec<u8>,
    off: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Self {
        let raw = vec![0u8; len + BLOCK];
        let off = raw.as_ptr().align_offset(BLOCK);
        Aligned { raw, off, len }
    }

    fn get(&self) -> &[u8] {
        &self.raw[self.off..self.off + self.len]
    }

    fn get_mut(&mut self) -> &mut [u8] {
        &mut self.raw[self.off..self.off + self.len]
    }
}

/// The staging of one segment's direct writes.
pub struct Staged {
    buf: Aligned,
    /// The segment offset of the buffer's first byte (a multiple of [`BLOCK`]).
    base: u64,
    /// Bytes staged: the segment's `[base, base + len)`.
    len: usize,
    /// Where the record being written starts.
    start: u64,
    /// Copies of the blocks holding the record's header that were written out already, and
    /// their offsets.
    header: Aligned,
    header_at: [Option<u64>; 2],
}

impl Default for Staged {
    fn default() -> Self {
        Staged {
            buf: Aligned::new(STAGE),
            base: 0,
            len: 0,
            start: 0,
            header: Aligned::new(2 * BLOCK),
            header_at: [None; 2],
        }
    }
}

/// Rounds `n` down to a whole number of blocks.
fn whole_blocks(n: u64) -> u64 {
    n & !(BLOCK as u64 - 1)
}

impl Staged {
    /// Writes a block of zeros at the start of a new, empty segment `file`: whether the
    /// filesystem takes direct writes (some take the flag at open and refuse the write).
    pub fn probe(&self, file: &std::fs::File) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        debug_assert_eq!(self.len, 0);
        file.write_all_at(&self.header.get()[..BLOCK], 0)
    }

    /// The segment's length so far: where the next record starts.
    pub fn end(&self) -> u64 {
        self.base + self.len as u64
    }

    /// Starts a record at the segment's end.
    pub fn begin(&mut self) {
        debug_assert!(self.len < BLOCK, "only a partial block stays staged between records");
        self.start = self.end();
        self.header_at = [None; 2];
    }

    /// Appends `bytes` to the record, writing whole blocks out through `write_at` as the
    /// buffer fills.
    pub fn write(
        &mut self,
        mut bytes: &[u8],
        write_at: &mut impl FnMut(&[u8], u64) -> io::Result<()>,
    ) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = (STAGE - self.len).min(bytes.len());
            self.buf.get_mut()[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
            if self.len == STAGE {
                self.write_out(STAGE, write_at)?;
            }
        }
        Ok(())
    }

    /// Writes the first `upto` staged bytes (whole blocks) out and unstages them, keeping
    /// copies of the header's blocks among them.
    fn write_out(&mut self, upto: usize, write_at: &mut impl FnMut(&[u8], u64) -> io::Result<()>) -> io::Result<()> {
        write_at(&self.buf.get()[..upto], self.base)?;
        for (slot, at) in [whole_blocks(self.start), whole_blocks(self.start + 7)].into_iter().enumerate() {
            if slot == 1 && at == whole_blocks(self.start) {
                break;
            }
            if at >= self.base && at < self.base + upto as u64 {
                let from = (at - self.base) as usize;
                let block = &self.buf.get()[from..from + BLOCK];
                self.header.get_mut()[slot * BLOCK..(slot + 1) * BLOCK].copy_from_slice(block);
                self.header_at[slot] = Some(at);
            }
        }
        self.buf.get_mut().copy_within(upto..self.len, 0);
        self.base += upto as u64;
        self.len -= upto;
        Ok(())
    }

    /// Ends the record: puts `header` over its first 8 bytes, writes what is staged (its last
    /// block padded with zeros) and then the header's blocks written out before, if any.
    pub fn finish(
        &mut self,
        header: [u8; 8],
        write_at: &mut impl FnMut(&[u8], u64) -> io::Result<()>,
    ) -> io::Result<()> {
        for (i, b) in header.into_iter().enumerate() {
            let at = self.start + i as u64;
            if at >= self.base {
                self.buf.get_mut()[(at - self.base) as usize] = b;
            } else {
                let slot = usize::from(whole_blocks(at) != whole_blocks(self.start));
                let block_at = self.header_at[slot].expect("a header byte no longer staged was kept aside");
                self.header.get_mut()[slot * BLOCK + (at - block_at) as usize] = b;
            }
        }
        let padded = self.len.next_multiple_of(BLOCK);
        let len = self.len;
        self.buf.get_mut()[len..padded].fill(0);
        write_at(&self.buf.get()[..padded], self.base)?;
        for (slot, at) in self.header_at.into_iter().enumerate() {
            if let Some(at) = at {
                write_at(&self.header.get()[slot * BLOCK..(slot + 1) * BLOCK], at)?;
            }
        }
        // The last, partial block stays staged for the next record.
        let whole = len - len % BLOCK;
        self.buf.get_mut().copy_within(whole..len, 0);
        self.base += whole as u64;
        self.len -= whole;
        Ok(())
    }

    /// Forgets the record being written after a failure (its bytes in the file are cut off
    /// by the caller): what stays staged is the segment's partial last block before it. The
    /// blocks written out from the buffer held the record's bytes from its start on, and
    /// the bytes of the block before its start are still in the header's copies or staged.
    pub fn abort(&mut self) {
        let block = whole_blocks(self.start);
        let keep = (self.start - block) as usize;
        if block < self.base {
            // The start's block was written out: its copy holds the bytes before the start.
            let copy = self.header.get()[..keep].to_vec();
            self.buf.get_mut()[..keep].copy_from_slice(&copy);
        }
        self.base = block;
        self.len = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment in memory, written only in whole aligned blocks from aligned buffers (as the
    /// kernel requires of direct I/O), failing once it would grow past `limit` bytes.
    struct Device {
        bytes: Vec<u8>,
        limit: usize,
    }

    impl Device {
        fn write_at(&mut self, b: &[u8], at: u64) -> io::Result<()> {
            assert_eq!(at % BLOCK as u64, 0, "offset aligned");
            assert_eq!(b.len() % BLOCK, 0, "length aligned");
            assert_eq!(b.as_ptr() as usize % BLOCK, 0, "buffer aligned");
            let end = at as usize + b.len();
            if end > self.limit {
                return Err(io::Error::other("no space left"));
            }
            if self.bytes.len() < end {
                self.bytes.resize(end, 0);
            }
            self.bytes[at as usize..end].copy_from_slice(b);
            Ok(())
        }
    }

    /// A record of `len` bytes in pieces of `piece`, its header written last over a marker.
    fn record(s: &mut Staged, dev: &mut Device, seed: u8, len: usize, piece: usize) -> io::Result<Vec<u8>> {
        let body: Vec<u8> = (0..len).map(|i| seed.wrapping_add((i * 7 % 251) as u8) | 1).collect();
        let mut w = |b: &[u8], at: u64| dev.write_at(b, at);
        s.begin();
        s.write(&[0xEE; 8], &mut w)?;
        for p in body.chunks(piece.max(1)) {
            s.write(p, &mut w)?;
        }
        let header = [seed, 1, 2, 3, 4, 5, 6, seed];
        s.finish(header, &mut w)?;
        let mut whole = header.to_vec();
        whole.extend(body);
        Ok(whole)
    }

    /// Records of every size around the block and the stage, headers across block ends and
    /// across what was written out: the device holds the records end to end, then zeros.
    #[test]
    fn records_land_end_to_end_in_whole_blocks() {
        let sizes = [0usize, 1, 4080, 4083, 4087, 4088, 4095, 70_000, STAGE - 3, STAGE + 5000, 3 * STAGE + 11, 17];
        for piece in [1000usize, 64 << 10, 1 << 20] {
            let mut s = Staged::default();
            let mut dev = Device { bytes: Vec::new(), limit: usize::MAX };
            let mut want = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                want.extend(record(&mut s, &mut dev, i as u8 * 13, n, piece).unwrap());
                assert_eq!(s.end(), want.len() as u64);
                assert_eq!(&dev.bytes[..want.len()], &want[..], "record {i} of {n} bytes in pieces of {piece}");
                assert!(dev.bytes[want.len()..].iter().all(|&b| b == 0), "zeros after the end");
                assert_eq!(dev.bytes.len(), want.len().next_multiple_of(BLOCK));
            }
        }
    }

    /// A write that fails half-way: once the file is cut back to the record's start, the next
    /// record follows the ones before as if the failed one had never been.
    #[test]
    fn a_failed_record_leaves_the_ones_before_intact() {
        for (first, failing) in [(4090usize, 3 * STAGE), (100, 10_000), (STAGE + 4093, 2 * STAGE), (0, 5000)] {
            for limit_after in [0usize, BLOCK, STAGE, STAGE + 2 * BLOCK] {
                let mut s = Staged::default();
                let mut dev = Device { bytes: Vec::new(), limit: usize::MAX };
                let mut want = record(&mut s, &mut dev, 1, first, 64 << 10).unwrap();
                dev.limit = want.len().next_multiple_of(BLOCK) + limit_after;
                if (want.len() + 8 + failing).next_multiple_of(BLOCK) <= dev.limit {
                    continue; // it fits
                }
                assert!(record(&mut s, &mut dev, 2, failing, 64 << 10).is_err());
                // What the caller does: cut the file back to the record's start.
                dev.bytes.truncate(want.len());
                s.abort();
                assert_eq!(s.end(), want.len() as u64);
                dev.limit = usize::MAX;
                want.extend(record(&mut s, &mut dev, 3, 9000, 64 << 10).unwrap());
                assert_eq!(&dev.bytes[..want.len()], &want[..], "first {first}, failing {failing}, room {limit_after}");
            }
        }
    }
}
