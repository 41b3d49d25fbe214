//! Gram filters: which short substrings of its words a block holds, so that a search for a
//! word or for a literal that is only part of one (the middle of a trace id, the prefix of a
//! UUID) can skip the block without decompressing it.
//!
//! Every window of every token (see [`crate::tokens::for_each_token`]) sets two bits of a
//! scratch bitmap of 2^22 bits (a gram's slots) while the block is encoded; the block's filter
//! then has [`BITS_PER_GRAM`] bits per distinct gram (3 per slot set), rounded up to a multiple
//! of 64, and a slot `s` is its bit `s % n` (segments of format 4 and earlier hold filters whose
//! size is a power of two, looked up the same way). A literal's runs of word bytes are
//! substrings of the line's words, so every window of each run must have its bits set in a
//! block that contains the literal: one window absent proves the block cannot match. With two
//! probes at 6 bits per distinct gram, a gram that is absent is reported present with a
//! probability of about 8 % (segments of format 5 and earlier set one slot per gram at 8 bits:
//! 12 %).
//!
//! Grams are of ASCII-lowercased bytes, so that a case-insensitive search (`|~ "(?i)..."`,
//! what Grafana's "match case" switch turned off sends) prunes as well, and a word written in
//! several cases costs one gram. Which gram a window at position `i` of a token sets depends
//! only on the bytes from `i` on ([`each_gram`]): the 4 bytes at `i`, unless all four are hex
//! digits and one is a letter (hex has only 65,536 four-digit combinations: a block of request
//! ids or hashes holds nearly all of them, and the prefix of a UUID would prune nothing); then
//! the 5 bytes at `i` (a million combinations), or nothing at the end of the token. Decimal
//! windows stay 4 bytes: numbers are everywhere, and their 10,000 four-digit grams cost little
//! where five-digit ones would cost ten times as much. A needle's run is a substring of
//! the token it is found in, so each of its windows meets the same bytes in the token and looks
//! up the gram the token set. Segments of footer version 5 and earlier hold filters of every
//! 4-byte window as written ([`Scheme::Quads`]).

use crate::varint::{self, Corrupt, Reader};

/// log2 of the largest filter in bits: a gram's slot is this many bits of its hash, and a
/// filter of `n` bits holds it at `slot % n`.
const SLOT_LOG2: u32 = 22;
/// The largest filter segments hold.
const MAX_WORDS: usize = (1 << SLOT_LOG2) / 64;
/// A filter has this many bits per distinct gram (rounded up to a multiple of 64).
pub const BITS_PER_GRAM: u64 = 6;
/// The shortest filter.
const MIN_BITS: u64 = 512;

/// A gram's slot: a 4-byte gram is below 2^32, a 5-byte one above (no token byte is 0).
#[inline]
fn slot(gram: u64) -> u64 {
    (gram ^ 0x5bd1_e995).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_LOG2)
}

/// A gram's second slot ([`Scheme::Folded`]), from an independent hash.
#[inline]
fn slot2(gram: u64) -> u64 {
    (gram ^ 0x2545_f491_4f6c_dd1d).wrapping_mul(0xD6E8_FEB8_6659_FD93) >> (64 - SLOT_LOG2)
}

/// Which windows a filter's grams are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// Every 4-byte window as written (segments of footer version 5 and earlier).
    Quads,
    /// ASCII-lowercased 4-byte windows, or 5-byte ones where the first four bytes are hex digits.
    #[default]
    Folded,
}

/// A byte with ASCII letters lowercased, without a branch.
#[inline(always)]
fn fold(b: u8) -> u8 {
    b | ((b.wrapping_sub(b'A') < 26) as u8) << 5
}

/// Whether a folded byte is a hex digit.
#[inline(always)]
fn is_hex(b: u8) -> bool {
    b.wrapping_sub(b'0') < 10 || is_hex_letter(b)
}

/// Whether a folded byte is a hex digit that is not a decimal one.
#[inline(always)]
fn is_hex_letter(b: u8) -> bool {
    b.wrapping_sub(b'a') < 6
}

/// Calls `f` with the gram of each window of `run` (a token, or a needle's run of word bytes)
/// under `scheme`, in order, until `f` returns false; returns false if it did.
#[inline(always)]
fn each_gram(run: &[u8], scheme: Scheme, mut f: impl FnMut(u64) -> bool) -> bool {
    if run.len() < 4 {
        return true;
    }
    let mut g = u32::from_le_bytes([run[0], run[1], run[2], run[3]]);
    if scheme == Scheme::Quads {
        if !f(g as u64) {
            return false;
        }
        for &b in &run[4..] {
            g = (g >> 8) | ((b as u32) << 24);
            if !f(g as u64) {
                return false;
            }
        }
        return true;
    }
    let head = [fold(run[0]), fold(run[1]), fold(run[2]), fold(run[3])];
    g = u32::from_le_bytes(head);
    // Bit k of `hex` says whether the window's byte k is a hex digit, of `letter` whether it is
    // one of `a` to `f`.
    let mut hex = head.iter().enumerate().fold(0u32, |m, (k, &b)| m | ((is_hex(b) as u32) << k));
    let mut letter = head.iter().enumerate().fold(0u32, |m, (k, &b)| m | ((is_hex_letter(b) as u32) << k));
    for i in 0..=run.len() - 4 {
        if i > 0 {
            let b = fold(run[i + 3]);
            g = (g >> 8) | ((b as u32) << 24);
            hex = (hex >> 1) | ((is_hex(b) as u32) << 3);
            letter = (letter >> 1) | ((is_hex_letter(b) as u32) << 3);
        }
        let gram = if hex != 0b1111 || letter == 0 {
            g as u64
        } else if let Some(&next) = run.get(i + 4) {
            g as u64 | (fold(next) as u64) << 32
        } else {
            break;
        };
        if !f(gram) {
            return false;
        }
    }
    true
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
    /// Adds the gram of every window of a token ([`Scheme::Folded`]).
    #[inline]
    pub fn add_token(&mut self, t: &[u8]) {
        self.add(t, Scheme::Folded);
    }

    #[inline(always)]
    fn add(&mut self, t: &[u8], scheme: Scheme) {
        let scratch = &mut self.scratch;
        each_gram(t, scheme, |g| {
            scratch.set(slot(g));
            if scheme == Scheme::Folded {
                scratch.set(slot2(g));
            }
            true
        });
    }

    /// The block's filter; the builder is empty again.
    pub fn finish(&mut self) -> GramFilter {
        self.finish_as(Scheme::Folded)
    }

    fn finish_as(&mut self, scheme: Scheme) -> GramFilter {
        let set = self.scratch.count();
        if set == 0 {
            return GramFilter { bits: Vec::new(), scheme };
        }
        let per_gram = if scheme == Scheme::Quads { 1 } else { 2 };
        let bits =
            (set * BITS_PER_GRAM / per_gram).div_ceil(64).saturating_mul(64).clamp(MIN_BITS, MAX_WORDS as u64 * 64);
        GramFilter { bits: self.scratch.fold(bits), scheme }
    }
}

/// A block's grams. Folding keeps a slot's low bits, so a gram's bit is its scratch slot
/// modulo the filter's size.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GramFilter {
    bits: Vec<u64>,
    scheme: Scheme,
}

impl GramFilter {
    /// A filter that holds every gram (for blocks whose grams are unknown).
    pub fn everything() -> GramFilter {
        GramFilter { bits: vec![u64::MAX; (MIN_BITS / 64) as usize], scheme: Scheme::Folded }
    }

    /// Which windows its grams are.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    fn has(&self, g: u64) -> bool {
        let n = (self.bits.len() * 64) as u64;
        let bit = |s: u64| {
            let s = s % n;
            self.bits[(s / 64) as usize] & (1 << (s % 64)) != 0
        };
        bit(slot(g)) && (self.scheme == Scheme::Quads || bit(slot2(g)))
    }

    /// False only if no word of the block contains `run` (a run of word bytes; one without a
    /// gram, shorter than 4 bytes or 4 hex digits, proves nothing and passes). An empty filter
    /// holds no word.
    pub fn may_contain(&self, run: &[u8]) -> bool {
        each_gram(run, self.scheme, |g| !self.bits.is_empty() && self.has(g))
    }

    /// [`GramFilter::may_contain`] for a run in any case of its ASCII letters: only filters of
    /// folded grams can tell.
    pub fn may_contain_any_case(&self, run: &[u8]) -> bool {
        self.scheme == Scheme::Quads || self.may_contain(run)
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

    /// A filter of `scheme` from the bits [`GramFilter::skip`] passed over.
    pub fn from_bits(raw: &[u8], scheme: Scheme) -> GramFilter {
        GramFilter { bits: raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect(), scheme }
    }

    pub fn decode(r: &mut Reader, scheme: Scheme) -> Result<Self, Corrupt> {
        let n = r.u64()? as usize;
        if n > MAX_WORDS {
            return Err(Corrupt(0));
        }
        Ok(Self::from_bits(r.take(n * 8)?, scheme))
    }

    pub fn size_bytes(&self) -> usize {
        self.bits.len() * 8
    }
}

/// The runs of word bytes of a literal that may be long enough to look up (4 bytes or more).
pub fn runs(needle: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    crate::tokens::for_each_token(needle, |t| {
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
        assert_eq!(GramFilter::decode(&mut Reader::new(&buf), Scheme::Folded).unwrap(), g);
    }

    /// Every substring of 4 bytes or more of a token is found in a filter holding it, whatever
    /// mix of hex digits and other bytes it is, under either scheme.
    #[test]
    fn no_part_of_a_word_is_ever_missed() {
        let mut x = 9u64;
        let alphabet = b"0123456789abcdefABCDEFxyz_Q\xc3\xa9";
        let tokens: Vec<Vec<u8>> = (0..300)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let len = 1 + (x >> 59) as usize;
                (0..len).map(|k| alphabet[((x >> (k * 2 % 56)) as usize + k * 7) % alphabet.len()]).collect()
            })
            .chain([b"deadbeef".to_vec(), b"id3f2a9c1e".to_vec(), b"cafe".to_vec(), b"added".to_vec()])
            .collect();
        for scheme in [Scheme::Quads, Scheme::Folded] {
            let mut b = GramBuilder::default();
            for t in &tokens {
                b.add(t, scheme);
            }
            let f = b.finish_as(scheme);
            for t in &tokens {
                for st in 0..t.len() {
                    for end in st + 1..=t.len() {
                        let part = &t[st..end];
                        assert!(f.may_contain(part), "{scheme:?}: {part:?} in {t:?}");
                        for other in [part.to_ascii_uppercase(), part.to_ascii_lowercase()] {
                            assert!(f.may_contain_any_case(&other), "{scheme:?}: {other:?} in {t:?}");
                        }
                    }
                }
            }
            if scheme == Scheme::Folded {
                assert!(f.may_contain(b"DEADBEEF") && f.may_contain(b"iD3F2a9"), "folded");
            }
        }
    }

    /// A block of 10,000 request ids (a megabyte of access log) holds most 4-hex-digit grams, so
    /// only 5-digit ones let the prefix of an id it lacks prune it.
    #[test]
    fn hex_prefixes_prune_blocks_of_hex_ids() {
        let mut x = 5u64;
        let mut hex = |n: usize| -> String {
            (0..n)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    char::from(b"0123456789abcdef"[(x >> 60) as usize])
                })
                .collect()
        };
        let ids: Vec<String> = (0..10_000).map(|_| hex(16)).collect();
        let absent: Vec<String> = (0..1000).map(|_| hex(6)).filter(|p| !ids.iter().any(|i| i.contains(p))).collect();
        assert!(absent.len() > 900);
        let mut filters = Vec::new();
        for scheme in [Scheme::Quads, Scheme::Folded] {
            let mut b = GramBuilder::default();
            for id in &ids {
                b.add(format!("request_id{id}").as_bytes(), scheme);
            }
            let f = b.finish_as(scheme);
            for id in &ids {
                assert!(f.may_contain(&id.as_bytes()[..6]) && f.may_contain(&id.as_bytes()[5..13]));
            }
            let passing = absent.iter().filter(|p| f.may_contain(p.as_bytes())).count() as f64 / absent.len() as f64;
            filters.push((passing, f.size_bytes()));
        }
        let [(quads, quads_bytes), (fives, fives_bytes)] = filters[..] else { unreachable!() };
        assert!(quads > 0.6, "4-digit grams let only {:.0} % through", quads * 100.0);
        // A window of four decimal digits is a 4-byte gram, which such a block holds: a prefix
        // whose first two windows are decimal (2 % of them) proves nothing.
        assert!(fives < 0.15, "5-digit grams let {:.1} % through", fives * 100.0);
        assert!(fives_bytes < quads_bytes * 3, "{fives_bytes} vs {quads_bytes} bytes");
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
        assert_eq!(runs(b"req=Kq7v-ab"), vec![b"Kq7v".to_vec()]);
        assert!(runs(b"a-b-c").is_empty());
    }
}
