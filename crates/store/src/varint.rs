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

    pub fn u64(&mut self) -> Result<u64, Corrupt> {
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

    pub fn i64(&mut self) -> Result<i64, Corrupt> {
        let u = self.u64()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub fn u32(&mut self) -> Result<u32, Corrupt> {
        u32::try_from(self.u64()?).map_err(|_| Corrupt(self.pos))
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], Corrupt> {
        let n = self.u64()? as usize;
        self.take(n)
    }

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
    }
}
