//! Gram filters: which 4-byte substrings of its words a block holds, so that a search for a
//! word or for a literal that is only part of one (the middle of a trace id, the prefix of a
//! UUID) can skip the block without decompressing it.
//!
//! Every 4-byte window of every token (see [`crate::tokens::for_each_token`]) sets one bit of a
//! scratch bitmap of 2^20 bits while the block is encoded; the bitmap is then folded (OR of its
//! halves, as often as it stays at least [`BITS_PER_GRAM`] bits per distinct gram) into the
//! block's filter. A literal's runs of word bytes are substrings of the line's words, so every
//! 4-byte window of each run must have its bit set in a block that contains the literal: one
//! window absent proves the block cannot match. With one probe at 8 to 16 bits per distinct
//! gram, a gram that is absent is reported present with a probability of 6 to 12 %; a needle of
//! n bytes has n - 3 windows, so a block without any of them survives with a probability of
//! about 0.1^(n-3).

use crate::varint::{self, Corrupt, Reader};

/// log2 of the largest filter in bits: a gram's slot is this many bits of its hash, and a
/// filter of `n` bits holds it at `slot % n`.
const SLOT_LOG2: u32 = 22;
/// The largest filter segments hold (earlier releases wrote filters up to 2^22 bits).
const MAX_WORDS: usize = (1 << SLOT_LOG2) / 64;
/// log2 of the scratch bitmap's size in bits: a slot is set at `slot % 2^SCRATCH_LOG2` (the
/// scratch is a filter folded once already), small enough to stay in a core's cache; a block
/// of more grams than an eighth of that gets a denser filter.
const SCRATCH_LOG2: u32 = 20;
const SCRATCH_WORDS: usize = (1 << SCRATCH_LOG2) / 64;
/// The filter keeps at least this many bits per distinct gram (before rounding up to a power of
/// two).
pub const BITS_PER_GRAM: u64 = 8;
/// The shortest filter.
const MIN_BITS: u64 = 512;

#[inline]
fn slot(gram: u32) -> u64 {
    ((gram as u64) ^ 0x5bd1_e995).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_LOG2)
}

/// A scratch bitmap of 2^20 bits that a block's filter is built in, then folded to the size its
/// number of set bits calls for: folding keeps the low bits of a bit's index, so a bit set at
/// `i` in the scratch is at `i % size` in the filter, and a lookup computes the same index with
/// the filter's size. Allocated at the first bit; cleared by [`Scratch::fold`].
#[derive(Default)]
pub struct Scratch {
    words: Vec<u64>,
}

impl Scratch {
    #[inline]
    pub fn set(&mut self, i: u64) {
        if self.words.is_empty() {
            self.words = vec![0; SCRATCH_WORDS];
        }
        let i = i & ((1 << SCRATCH_LOG2) - 1);
        self.words[(i / 64) as usize] |= 1 << (i % 64);
    }

    /// Bits set so far.
    pub fn count(&self) -> u64 {
        self.words.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// The bitmap folded to `bits` bits (a power of two, at most 2^20); the scratch is empty
    /// again.
    pub fn fold(&mut self, bits: u64) -> Vec<u64> {
        let words = (bits / 64).max(1) as usize;
        let mut out = vec![0u64; words];
        for (i, w) in self.words.iter_mut().enumerate() {
            out[i % words] |= *w;
            *w = 0;
        }
        out
    }

    /// The largest filter a scratch folds to.
    pub const MAX_BITS: u64 = 1 << SCRATCH_LOG2;
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
        let bits = (set * BITS_PER_GRAM).next_power_of_two().clamp(MIN_BITS, Scratch::MAX_BITS);
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
        if n != 0 && (!n.is_power_of_two() || n > MAX_WORDS) {
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
        if n != 0 && (!n.is_power_of_two() || n > MAX_WORDS) {
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
