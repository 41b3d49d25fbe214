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
/// grams are collected in, then mapped onto the filter, with a summary of which of its words
/// hold a bit: a block cut small (a quiet stream's share of a flush) costs what it sets, not a
/// pass over the whole bitmap. Allocated at the first bit; cleared by [`Scratch::fold`].
#[derive(Default)]
pub struct Scratch {
    words: Vec<u64>,
    /// Bit `i` set when `words[i]` may be non-zero.
    touched: Vec<u64>,
}

impl Scratch {
    #[inline(always)]
    pub fn set(&mut self, s: u64) {
        if self.words.is_empty() {
            self.words = vec![0; MAX_WORDS];
            self.touched = vec![0; MAX_WORDS / 64];
        }
        let w = (s / 64) as usize;
        self.words[w] |= 1 << (s % 64);
        self.touched[w / 64] |= 1 << (w % 64);
    }

    /// Calls `f` with the index of each word that may hold a bit, in order.
    fn each_touched(&self, mut f: impl FnMut(usize)) {
        for (t, &m) in self.touched.iter().enumerate() {
            let mut m = m;
            while m != 0 {
                f(t * 64 + m.trailing_zeros() as usize);
                m &= m - 1;
            }
        }
    }

    /// Bits set so far.
    pub fn count(&self) -> u64 {
        let mut n = 0;
        self.each_touched(|i| n += self.words[i].count_ones() as u64);
        n
    }

    /// The slots set, as a filter of `bits` bits (a multiple of 64): slot `s` at `s % bits`.
    /// The scratch is empty again.
    pub fn fold(&mut self, bits: u64) -> Vec<u64> {
        let words = (bits / 64).max(1) as usize;
        let n = Modulus::new(words as u32 * 64);
        let mut out = vec![0u64; words];
        let mut touched = std::mem::take(&mut self.touched);
        let scratch = &mut self.words;
        for (t, m) in touched.iter_mut().enumerate() {
            let mut m = std::mem::take(m);
            while m != 0 {
                let i = t * 64 + m.trailing_zeros() as usize;
                m &= m - 1;
                let mut w = std::mem::take(&mut scratch[i]);
                while w != 0 {
                    let s = n.of(i as u32 * 64 + w.trailing_zeros());
                    out[(s / 64) as usize] |= 1 << (s % 64);
                    w &= w - 1;
                }
            }
        }
        self.touched = touched;
        out
    }
}

/// `x % d` for 32-bit values by a multiplication (Lemire, Kaser and Kurz, "Faster remainder by
/// direct computation", 2019): a fold maps every distinct gram of a block, and a division per
/// gram was most of the fold's time.
#[derive(Clone, Copy)]
struct Modulus {
    d: u32,
    m: u64,
}

impl Modulus {
    fn new(d: u32) -> Modulus {
        Modulus { d, m: (u64::MAX / d as u64).wrapping_add(1) }
    }

    #[inline]
    fn of(self, x: u32) -> u64 {
        let low = self.m.wrapping_mul(x as u64);
        ((low as u128 * self.d as u128) >> 64) as u64
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

    /// Passes over an encoded filter, checking its shape: how many bytes its bits take, or
    /// `None` for [`GramFilter::everything`] (a block written without a filter).
    pub fn skip(r: &mut Reader) -> Result<Option<usize>, Corrupt> {
        let n = r.u64()? as usize;
        if n > MAX_WORDS {
            return Err(Corrupt(0));
        }
        let raw = r.take(n * 8)?;
        Ok(if Self::everything_bits(raw) { None } else { Some(n * 8) })
    }

    /// Whether this is [`GramFilter::everything`], which proves nothing.
    pub fn is_everything(&self) -> bool {
        self.bits.len() as u64 == MIN_BITS / 64 && self.bits.iter().all(|w| *w == u64::MAX)
    }

    fn everything_bits(raw: &[u8]) -> bool {
        raw.len() as u64 == MIN_BITS / 8 && raw.iter().all(|b| *b == 0xff)
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
    fn the_fold_is_the_remainder() {
        for d in [512u32, 576, 640, 4160, 1 << 22, (1 << 22) - 64, 123_456 * 64] {
            let m = Modulus::new(d);
            let mut x = 3u64;
            for s in (0..1u32 << 22).step_by(997).chain([0, 1, d - 1, d, d + 1, (1 << 22) - 1]) {
                assert_eq!(m.of(s), (s % d) as u64, "{s} % {d}");
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                let r = (x >> 40) as u32;
                assert_eq!(m.of(r), (r % d) as u64, "{r} % {d}");
            }
        }
        // Folding a scratch sets exactly the remainders of its slots, and leaves it empty.
        let mut sc = Scratch::default();
        let slots = [5u64, 70, 4095, 4096, 700_001, (1 << 22) - 1];
        for s in slots {
            sc.set(s);
        }
        assert_eq!(sc.count(), slots.len() as u64);
        let out = sc.fold(640);
        let mut want = vec![0u64; 10];
        for s in slots {
            want[((s % 640) / 64) as usize] |= 1 << ((s % 640) % 64);
        }
        assert_eq!(out, want);
        assert_eq!(sc.count(), 0);
        assert_eq!(sc.fold(640), vec![0u64; 10]);
    }

    #[test]
    fn needle_runs() {
        assert_eq!(runs("req=Kq7v-ab"), vec![b"Kq7v".to_vec()]);
        assert!(runs("a-b-c").is_empty());
    }
}
