//! Tokens: the words of a line (maximal runs of letters, digits, `_` and non-ASCII bytes), the
//! keys a block's encoder dedups them by, the whole words a needle proves a line holds, and the
//! token Bloom filter earlier releases wrote per block.

use xxhash_rust::xxh3::xxh3_64;

use crate::varint::{self, Corrupt, Reader};

mod scan;

use scan::is_token_byte;
pub(crate) use scan::{LEVEL_INITIALS, level_word_spans, token_spans};

/// Calls `f` with every token of `s`: maximal runs of letters, digits, `_` and non-ASCII bytes.
pub fn for_each_token(s: &[u8], mut f: impl FnMut(&[u8])) {
    token_spans(s, |st, end| f(&s[st..end]));
}

/// A key for the token `s[st..st + len]` (never 0): a token of up to 8 bytes is its own key (no
/// token holds a 0 byte, so the zero padding is unambiguous), read as one word where the text
/// goes on far enough; a longer one its hash.
#[inline]
pub(crate) fn token_key(s: &[u8], st: usize, len: usize) -> u64 {
    debug_assert!(len > 0);
    if len > 8 {
        return xxh3_64(&s[st..st + len]) | 1;
    }
    match s.get(st..st + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")) & (u64::MAX >> (64 - 8 * len)),
        None => {
            let mut b = [0u8; 8];
            b[..len].copy_from_slice(&s[st..st + len]);
            u64::from_le_bytes(b)
        }
    }
}

/// The tokens a line must contain whole if it contains `needle`: the runs of the needle that
/// have a separator on both sides inside the needle. (The first and last runs may be parts of
/// longer words in the line, so they prove nothing.)
pub fn required_tokens(needle: &str) -> Vec<u64> {
    let b = needle.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if is_token_byte(b[i]) {
            let st = i;
            while i < b.len() && is_token_byte(b[i]) {
                i += 1;
            }
            if st > 0 && i < b.len() {
                out.push(xxh3_64(&b[st..i]));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// A Bloom filter over token hashes, about 10 bits a token, 5 probes (about 1% false positives),
/// as earlier releases wrote it for each block; still read and honoured. Blocks written now
/// carry [`TokenFilter::everything`]: their gram filter finds whole words as well.
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    bits: Vec<u64>,
}

const PROBES: u64 = 5;

impl TokenFilter {
    /// A filter that holds every token (blocks written without one).
    pub fn everything() -> Self {
        TokenFilter { bits: vec![u64::MAX] }
    }

    pub fn build(hashes: &[u64]) -> Self {
        if hashes.is_empty() {
            return TokenFilter { bits: Vec::new() };
        }
        let nbits = (hashes.len() * 10).next_power_of_two().max(64);
        let mut bits = vec![0u64; nbits / 64];
        let mask = nbits as u64 - 1;
        for &h in hashes {
            let (h1, h2) = (h, (h >> 32) | 1);
            for i in 0..PROBES {
                let bit = h1.wrapping_add(i.wrapping_mul(h2)) & mask;
                bits[(bit / 64) as usize] |= 1 << (bit % 64);
            }
        }
        TokenFilter { bits }
    }

    /// False only if the token is certainly absent. An empty filter (no tokens) contains nothing.
    pub fn may_contain(&self, h: u64) -> bool {
        if self.bits.is_empty() {
            return false;
        }
        let mask = (self.bits.len() * 64) as u64 - 1;
        let h2 = (h >> 32) | 1;
        (0..PROBES).all(|i| {
            let bit = h.wrapping_add(i.wrapping_mul(h2)) & mask;
            self.bits[(bit / 64) as usize] & (1 << (bit % 64)) != 0
        })
    }

    pub fn encode(&self, buf: &mut Vec<u8>) {
        varint::put_u64(buf, self.bits.len() as u64);
        for w in &self.bits {
            buf.extend_from_slice(&w.to_le_bytes());
        }
    }

    pub fn decode(r: &mut Reader) -> Result<Self, Corrupt> {
        let n = r.u64()? as usize;
        let raw = r.take(n.checked_mul(8).ok_or(Corrupt(0))?)?;
        if n != 0 && !n.is_power_of_two() {
            return Err(Corrupt(0));
        }
        Ok(TokenFilter { bits: raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect() })
    }

    pub fn size_bytes(&self) -> usize {
        self.bits.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_keys_are_the_bytes_padded_or_a_hash() {
        let s = b"ab cdefghij xyzxyzxyz q";
        let padded = |t: &[u8]| {
            let mut b = [0u8; 8];
            b[..t.len()].copy_from_slice(t);
            u64::from_le_bytes(b)
        };
        let mut keys = Vec::new();
        token_spans(s, |st, end| keys.push((&s[st..end], token_key(s, st, end - st))));
        assert_eq!(keys.len(), 4);
        assert_eq!(keys[0].1, padded(b"ab"), "read as a word, masked");
        assert_eq!(keys[1].1, padded(b"cdefghij"));
        assert_eq!(keys[2].1, xxh3_64(b"xyzxyzxyz") | 1);
        assert_eq!(keys[3].1, padded(b"q"), "at the end: copied");
    }

    #[test]
    fn needle_tokens() {
        assert_eq!(required_tokens("rare-token").len(), 0);
        assert_eq!(required_tokens("a rare-token b"), vec![xxh3_64(b"rare"), xxh3_64(b"token")]);
        assert_eq!(required_tokens(" disk ").len(), 1);
    }
}
