//! Gram filters: which 4-byte substrings of its words a block holds, so that a search for a
//! word or for a literal that is only part of one (the middle of a trace id, the prefix of a
//! UUID) can skip the block without decompressing it.
//!
//! Every 4-byte window of every token (see [`crate::tokens::for_each_token`]) sets one bit of a
//! scratch bitmap of 2^22 bits (a gram's slot) while the block is encoded; the block's filter
//! then has [`BITS_PER_GRAM`] bits per distinct slot, rounded up to a multiple of 64, and a slot
//! `s` is its bit `s % n` (segments of format 4 and earlier hold filters whose size is a power
//! of two, looked up the same way). A literal's runs of word bytes are substrings of the line's
//! words, so every 4-byte window of each run must have its bit set in a block that contains the
//! literal: one window absent proves the block cannot match. With one probe at 8 bits per
//! distinct gram, a gram that is absent is reported present with a probability of about 12 %;
//! a needle of n bytes has n - 3 windows, so a block without any of them survives with a
//! probability of about 0.12^(n-3).

use crate::varint::{self, Corrupt, Reader};

/// log2 of the largest filter in bits: a gram's slot is this many bits of its hash, and a
/// filter of `n` bits holds it at `slot % n`.
const SLOT_LOG2: u32 = 22;
/// The largest filter segments hold.
const MAX_WORDS: usize = (1 << SLOT_LOG2) / 64;
/// A filter has this many bits per distinct gram (rounded up to a multiple of 64).
pub const BITS_PER_GRAM: u64 = 8;
/// The shortest filter.
const MIN_BITS: u64 = 512;

#[inline]
fn slot(gram: u32) -> u64 {
    ((gram as u64) ^ 0x5bd1_e995).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_LOG2)
}

/// A bitmap of every slot (2^22 bits, 512 KiB: it stays in a core's L2 cache) that a block's
/// grams are collected in, then mapped onto the filter. Allocated at the first bit; cleared by
/// [`Scratch::fold`].
#[derive(Default)]
pub struct Scratch {
    words: Vec<u64>,
}

impl Scratch {
    #[inline]
    pub fn set(&mut self, s: u64) {
        if self.words.is_empty() {
            self.words = vec![0; MAX_WORDS];
        }
        self.words[(s / 64) as usize] |= 1 << (s % 64);
    }

    /// Bits set so far.
    pub fn count(&self) -> u64 {
        self.words.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// The slots set, as a filter of `bits` bits (a multiple of 64): slot `s` at `s % bits`.
    /// The scratch is empty again.
    pub fn fold(&mut self, bits: u64) -> Vec<u64> {
        let words = (bits / 64).max(1) as usize;
        let n = words as u64 * 64;
        let mut out = vec![0u64; words];
        for (i, w) in self.words.iter_mut().enumerate() {
            let mut m = std::mem::take(w);
            while m != 0 {
                let s = (i as u64 * 64 + m.trailing_zeros() as u64) % n;
                out[(s / 64) as usize] |= 1 << (s % 64);
                m &= m - 1;
            }
        }
        out
    }
}

/// Collects a block's grams.
#[derive(Default)]
pub struct GramBuilder {
    scratch: Scratch,
}

impl GramBuilder {
    /// Adds every 4-byte window of a token.
    #[inline]
    pub fn add_token(&mut self, t: &[u8]) {
        if t.len() < 4 {
            return;
        }
        let mut g = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        self.scratch.set(slot(g));
        for &b in &t[4..] {
            g = (g >> 8) | ((b as u32) << 24);
            self.scratch.set(slot(g));
        }
    }

    /// The block's filter; the builder is empty again.
    pub fn finish(&mut self) -> GramFilter {
        let set = self.scratch.count();
        if set == 0 {
            return GramFilter { bits: Vec::new() };
        }
        let bits = (set * BITS_PER_GRAM).div_ceil(64).saturating_mul(64).clamp(MIN_BITS, MAX_WORDS as u64 * 64);
        GramFilter { bits: self.scratch.fold(bits) }
    }
}

/// A block's grams. Folding keeps a slot's low bits, so a gram's bit is its scratch slot
/// modulo the filter's size.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GramFilter {
    bits: Vec<u64>,
}

impl GramFilter {
    /// A filter that holds every gram (for blocks whose grams are unknown).
    pub fn everything() -> GramFilter {
        GramFilter { bits: vec![u64::MAX; (MIN_BITS / 64) as usize] }
    }

    fn has(&self, g: u32) -> bool {
        let n = (self.bits.len() * 64) as u64;
        let s = slot(g) % n;
        self.bits[(s / 64) as usize] & (1 << (s % 64)) != 0
    }

    /// False only if no word of the block contains `run` (a run of word bytes, at least 4
    /// long; shorter runs prove nothing and pass). An empty filter holds no word.
    pub fn may_contain(&self, run: &[u8]) -> bool {
        if run.len() < 4 {
            return true;
        }
        if self.bits.is_empty() {
            return false;
        }
        let mut g = u32::from_le_bytes([run[0], run[1], run[2], run[3]]);
        if !self.has(g) {
            return false;
        }
        for &b in &run[4..] {
            g = (g >> 8) | ((b as u32) << 24);
            if !self.has(g) {
                return false;
            }
        }
        true
    }

    pub fn encode(&self, buf: &mut Vec<u8>) {
        varint::put_u64(buf, self.bits.len() as u64);
        for w in &self.bits {
            buf.extend_from_slice(&w.to_le_bytes());
        }
    }

    /// Passes over an encoded filter, checking its shape: how many bytes its bits take.
    pub fn skip(r: &mut Reader) -> Result<usize, Corrupt> {
        let n = r.u64()? as usize;
        if n > MAX_WORDS {
            return Err(Corrupt(0));
        }
        r.take(n * 8)?;
        Ok(n * 8)
    }

    /// A filter from the bits [`GramFilter::skip`] passed over.
    pub fn from_bits(raw: &[u8]) -> GramFilter {
        GramFilter { bits: raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect() }
    }

    pub fn decode(r: &mut Reader) -> Result<Self, Corrupt> {
        let n = r.u64()? as usize;
        if n > MAX_WORDS {
            return Err(Corrupt(0));
        }
        let raw = r.take(n * 8)?;
        Ok(GramFilter { bits: raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect() })
    }

    pub fn size_bytes(&self) -> usize {
        self.bits.len() * 8
    }
}

/// The runs of word bytes of a literal that are long enough to look up (4 bytes or more).
pub fn runs(needle: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    crate::tokens::for_each_token(needle.as_bytes(), |t| {
        if t.len() >= 4 {
            out.push(t.to_vec());
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_words_are_found_and_absent_ones_mostly_not() {
        let mut b = GramBuilder::default();
        let mut words = Vec::new();
        let mut x = 1u64;
        for _ in 0..5000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let w = format!("trace{:016x}", x);
            b.add_token(w.as_bytes());
            words.push(w);
        }
        let f = b.finish();
        assert!(f.size_bytes() >= 5000 && f.size_bytes() <= 1 << 19, "{} bytes", f.size_bytes());
        for w in &words {
            assert!(f.may_contain(w.as_bytes()));
            assert!(f.may_contain(&w.as_bytes()[7..15]), "the middle of a word");
            assert!(f.may_contain(&w.as_bytes()[..6]), "its prefix");
        }
        let absent = (0..1000).filter(|i| f.may_contain(format!("zq{i:04}xy").as_bytes())).count();
        assert!(absent < 20, "{absent} of 1000 absent needles pass");
        assert!(f.may_contain(b"ab"), "too short to prove anything");
        // The builder is reusable: a new block starts empty.
        b.add_token(b"hello");
        let g = b.finish();
        assert!(g.may_contain(b"hell") && g.may_contain(b"ello") && !g.may_contain(b"trace"));
        let mut buf = Vec::new();
        g.encode(&mut buf);
        assert_eq!(GramFilter::decode(&mut Reader::new(&buf)).unwrap(), g);
    }

    #[test]
    fn needle_runs() {
        assert_eq!(runs("req=Kq7v-ab"), vec![b"Kq7v".to_vec()]);
        assert!(runs("a-b-c").is_empty());
    }
}
