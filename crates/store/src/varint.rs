//! Little helpers to write and read the store's binary formats: LEB128 varints and
//! length-prefixed strings.

pub fn put_u64(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub fn put_i64(buf: &mut Vec<u8>, v: i64) {
    put_u64(buf, ((v << 1) ^ (v >> 63)) as u64);
}

pub fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_u64(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

/// Whether two slices of the same length are equal: eight bytes at a time, without a call to
/// `memcmp` (whose cost dominates for the few dozen bytes of a metadata set).
#[inline]
pub fn short_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("eight bytes"));
    let n = a.len();
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    // Whole words, then the last eight bytes (overlapping the words before).
    (0..n / 8).all(|i| word(a, i * 8) == word(b, i * 8)) && word(a, n - 8) == word(b, n - 8)
}

/// A cursor over an encoded buffer; every read fails cleanly on truncated or bad input.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("corrupt encoding at byte {0}")]
pub struct Corrupt(pub usize);

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes from `start` to the current position.
    pub fn slice(&self, start: usize) -> &'a [u8] {
        &self.buf[start..self.pos]
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
    pub fn u64(&mut self) -> Result<u64, Corrupt> {
        // Most values (deltas, lengths, counts) fit in one byte.
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(b as u64);
        }
        self.u64_long()
    }

    #[inline(never)]
    fn u64_long(&mut self) -> Result<u64, Corrupt> {
        // Ten bytes ahead (a varint's most): no bounds check per byte.
        if let Some(ahead) = self.buf.get(self.pos..self.pos + 10) {
            let ahead: &[u8; 10] = ahead.try_into().expect("ten bytes");
            let mut v: u64 = 0;
            for (i, &b) in ahead.iter().enumerate() {
                v |= ((b & 0x7f) as u64) << (7 * i);
                if b < 0x80 {
                    if i == 9 && b > 1 {
                        break; // beyond 64 bits
                    }
                    self.pos += i + 1;
                    return Ok(v);
                }
            }
            return Err(Corrupt(self.pos + 10));
        }
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let b = *self.buf.get(self.pos).ok_or(Corrupt(self.pos))?;
            self.pos += 1;
            if shift >= 64 {
                return Err(Corrupt(self.pos));
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    #[inline]
    pub fn i64(&mut self) -> Result<i64, Corrupt> {
        let u = self.u64()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub fn u32(&mut self) -> Result<u32, Corrupt> {
        u32::try_from(self.u64()?).map_err(|_| Corrupt(self.pos))
    }

    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8], Corrupt> {
        let n = self.u64()? as usize;
        self.take(n)
    }

    /// Moves past `prefix` when the bytes ahead start with it.
    #[inline]
    pub fn skip_prefix(&mut self, prefix: &[u8]) -> bool {
        let ahead = self.buf.get(self.pos..self.pos + prefix.len()).is_some_and(|b| short_eq(b, prefix));
        if ahead {
            self.pos += prefix.len();
        }
        ahead
    }

    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        let end = self.pos.checked_add(n).ok_or(Corrupt(self.pos))?;
        let s = self.buf.get(self.pos..end).ok_or(Corrupt(self.pos))?;
        self.pos = end;
        Ok(s)
    }

    pub fn str(&mut self) -> Result<&'a str, Corrupt> {
        let p = self.pos;
        std::str::from_utf8(self.bytes()?).map_err(|_| Corrupt(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut b = Vec::new();
        for v in [0i64, 1, -1, i64::MAX, i64::MIN, 1_700_000_000_000_000_000] {
            put_i64(&mut b, v);
        }
        put_bytes(&mut b, b"hello");
        let mut r = Reader::new(&b);
        for v in [0i64, 1, -1, i64::MAX, i64::MIN, 1_700_000_000_000_000_000] {
            assert_eq!(r.i64().unwrap(), v);
        }
        assert_eq!(r.str().unwrap(), "hello");
        assert!(r.is_empty());
        assert!(Reader::new(&[0x80]).u64().is_err());
        // One byte and several around the boundary; an empty reader fails.
        let mut b = Vec::new();
        for v in [0u64, 127, 128, 300, u64::MAX] {
            put_u64(&mut b, v);
        }
        let mut r = Reader::new(&b);
        for v in [0u64, 127, 128, 300, u64::MAX] {
            assert_eq!(r.u64().unwrap(), v);
        }
        assert!(r.u64().is_err());
        // A prefix is skipped only when it is what comes next.
        let mut r = Reader::new(b"abcabd");
        assert!(r.skip_prefix(b"abc") && r.position() == 3);
        assert!(!r.skip_prefix(b"abc") && r.position() == 3);
        assert!(!r.skip_prefix(b"abdx") && r.skip_prefix(b"abd") && r.is_empty());
        assert!(r.skip_prefix(b"") && !r.skip_prefix(b"a"));
        let long = b"0123456789abcdefghij";
        assert!(
            short_eq(long, long) && !short_eq(long, b"0123456789abcdefghiJ") && !short_eq(b"012345678", b"012345679")
        );
        assert!(!short_eq(b"ab", b"abc") && short_eq(b"", b""));
    }
}
