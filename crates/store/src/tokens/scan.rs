//! Finding the runs of word bytes in a text, 64 bytes at a time.
//!
//! The text is classified into a mask of word bytes (SSE2 on x86-64, 16 bytes per step) and the
//! runs are read off the mask with bit operations: no branch per byte, whose mispredictions at
//! every word's edge were most of the cost of a byte-at-a-time loop.
//!
//! Two classes of word bytes: a token's (letters, digits, `_` and non-ASCII bytes: the gram
//! filters' words) and a `\b` word's (the same without non-ASCII bytes: level discovery's words).

/// Whether `b` is a token byte: a letter, a digit, `_` or a non-ASCII byte.
pub(crate) fn is_token_byte(b: u8) -> bool {
    is_word_byte::<true>(b)
}

#[inline]
fn is_word_byte<const NON_ASCII: bool>(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || (NON_ASCII && b >= 0x80)
}

/// Calls `f` with the start and end of every token of `s` (maximal runs of letters, digits, `_`
/// and non-ASCII bytes).
#[inline]
pub(crate) fn token_spans(s: &[u8], mut f: impl FnMut(usize, usize)) {
    spans::<true>(s, |st, end| {
        f(st, end);
        true
    })
}

/// Calls `f` with the start and end of each ASCII word of `s` (maximal runs of ASCII letters,
/// digits and `_`, as `\b` bounds them), in order, until it returns false (what
/// [`level_word_spans`] is checked against).
#[cfg(test)]
fn word_spans(s: &[u8], f: impl FnMut(usize, usize) -> bool) {
    spans::<false>(s, f)
}

/// The first letters of the level words discovery looks for (`crate::discover`), in lower case.
pub(crate) const LEVEL_INITIALS: [u8; 7] = *b"cdefitw";

#[inline]
fn is_level_initial(b: u8) -> bool {
    LEVEL_INITIALS.contains(&(b | 0x20))
}

/// As [`word_spans`], but only the words whose first byte is one of [`LEVEL_INITIALS`] in
/// either case: the others are skipped by their bits, without a call or a look at their bytes
/// (most of a line's words, where level discovery's scan spent its time).
#[inline]
pub(crate) fn level_word_spans(s: &[u8], mut f: impl FnMut(usize, usize) -> bool) {
    let n = s.len();
    let mut base = 0;
    // Whether the byte before `base` is a word byte (a word going on from the last chunk).
    let mut inside = false;
    while base < n {
        let len = (n - base).min(64);
        let chunk = &s[base..base + len];
        let m = mask::<false>(chunk);
        let starts = m & !((m << 1) | inside as u64);
        let mut cand = starts & initials(chunk);
        while cand != 0 {
            let st = cand.trailing_zeros() as usize;
            cand &= cand - 1;
            // Bits past `len` are 0: the run ends in this chunk unless it reaches its end.
            let ones = (!(m >> st)).trailing_zeros() as usize;
            let mut end = base + st + ones;
            if st + ones == 64 {
                while end < n && is_word_byte::<false>(s[end]) {
                    end += 1;
                }
            }
            if !f(base + st, end) {
                return;
            }
        }
        inside = m >> 63 == 1;
        base += 64;
    }
}

/// Bit `j` set when `chunk[j]` is one of [`LEVEL_INITIALS`] in either case.
#[inline]
fn initials(chunk: &[u8]) -> u64 {
    let mut m = 0u64;
    let mut j = 0;
    #[cfg(target_arch = "x86_64")]
    while j + 16 <= chunk.len() {
        let part: &[u8; 16] = chunk[j..j + 16].try_into().expect("16 bytes");
        m |= (sse2::initials16(part) as u64) << j;
        j += 16;
    }
    while j < chunk.len() {
        m |= (is_level_initial(chunk[j]) as u64) << j;
        j += 1;
    }
    m
}

/// Calls `f` with each run's start and end until it returns false.
#[inline]
fn spans<const NON_ASCII: bool>(s: &[u8], mut f: impl FnMut(usize, usize) -> bool) {
    let n = s.len();
    // Where the run going on from the previous chunk into this one starts.
    let mut open: Option<usize> = None;
    let mut base = 0;
    while base < n {
        let len = (n - base).min(64);
        let mut m = mask::<NON_ASCII>(&s[base..base + len]);
        if let Some(st) = open {
            // Bits past `len` are 0, so the run of ones from bit 0 ends by `len`.
            let ones = (!m).trailing_zeros() as usize;
            if ones == 64 {
                base += 64;
                continue;
            }
            if !f(st, base + ones) {
                return;
            }
            open = None;
            m &= u64::MAX << ones;
        }
        while m != 0 {
            let st = m.trailing_zeros() as usize;
            let end = st + (!(m >> st)).trailing_zeros() as usize;
            if end == 64 {
                open = Some(base + st);
                break;
            }
            if !f(base + st, base + end) {
                return;
            }
            m &= u64::MAX << end;
        }
        base += 64;
    }
    if let Some(st) = open {
        f(st, n);
    }
}

/// Bit `j` set when `chunk[j]` is a word byte (`chunk` holds at most 64 bytes).
#[inline]
fn mask<const NON_ASCII: bool>(chunk: &[u8]) -> u64 {
    debug_assert!(chunk.len() <= 64);
    let mut m = 0u64;
    let mut j = 0;
    #[cfg(target_arch = "x86_64")]
    while j + 16 <= chunk.len() {
        let part: &[u8; 16] = chunk[j..j + 16].try_into().expect("16 bytes");
        m |= (sse2::mask16::<NON_ASCII>(part) as u64) << j;
        j += 16;
    }
    while j < chunk.len() {
        m |= (is_word_byte::<NON_ASCII>(chunk[j]) as u64) << j;
        j += 1;
    }
    m
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// Bit `j` set when `b[j]` is a letter, a digit, `_` (or, with `NON_ASCII`, a byte above
    /// 0x7f).
    #[inline]
    pub fn mask16<const NON_ASCII: bool>(b: &[u8; 16]) -> u32 {
        // SAFETY: SSE2 is part of x86-64; the load is unaligned and reads exactly `b`.
        unsafe {
            let v = _mm_loadu_si128(b.as_ptr().cast());
            // `x` in `[lo, lo + k)` as a signed compare: (x - lo - 128) < (k - 128).
            let in_range = |x: __m128i, lo: u8, k: u8| {
                let shifted = _mm_sub_epi8(x, _mm_set1_epi8(lo.wrapping_add(128) as i8));
                _mm_cmplt_epi8(shifted, _mm_set1_epi8(k.wrapping_sub(128) as i8))
            };
            let digit = in_range(v, b'0', 10);
            let letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', 26);
            let under = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
            let mut any = _mm_or_si128(_mm_or_si128(digit, letter), under);
            if NON_ASCII {
                // Non-ASCII bytes have their top bit set, which is what movemask reads.
                any = _mm_or_si128(any, v);
            }
            _mm_movemask_epi8(any) as u32
        }
    }

    /// Bit `j` set when `b[j]` is `c`, `d`, `e`, `f`, `i`, `t` or `w` in either case.
    #[inline]
    pub fn initials16(b: &[u8; 16]) -> u32 {
        const _: () = assert!(matches!(super::LEVEL_INITIALS, [b'c', b'd', b'e', b'f', b'i', b't', b'w']));
        // SAFETY: SSE2 is part of x86-64; the load is unaligned and reads exactly `b`.
        unsafe {
            let v = _mm_or_si128(_mm_loadu_si128(b.as_ptr().cast()), _mm_set1_epi8(0x20));
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            // c..=f as a signed compare: (x - 'c' - 128) < (4 - 128).
            let shifted = _mm_sub_epi8(v, _mm_set1_epi8(b'c'.wrapping_add(128) as i8));
            let cdef = _mm_cmplt_epi8(shifted, _mm_set1_epi8(4u8.wrapping_sub(128) as i8));
            let any = _mm_or_si128(_mm_or_si128(cdef, eq(b'i')), _mm_or_si128(eq(b't'), eq(b'w')));
            _mm_movemask_epi8(any) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs found a byte at a time: what `spans` must find.
    fn spans_byte_by_byte<const NON_ASCII: bool>(s: &[u8]) -> Vec<(usize, usize)> {
        let (mut out, mut i) = (Vec::new(), 0);
        while i < s.len() {
            while i < s.len() && !is_word_byte::<NON_ASCII>(s[i]) {
                i += 1;
            }
            let st = i;
            while i < s.len() && is_word_byte::<NON_ASCII>(s[i]) {
                i += 1;
            }
            if i > st {
                out.push((st, i));
            }
        }
        out
    }

    fn both_agree(text: &[u8]) {
        let mut got = Vec::new();
        token_spans(text, |a, e| got.push((a, e)));
        assert_eq!(got, spans_byte_by_byte::<true>(text), "tokens of {text:?}");
        got.clear();
        word_spans(text, |a, e| {
            got.push((a, e));
            true
        });
        assert_eq!(got, spans_byte_by_byte::<false>(text), "words of {text:?}");
        got.clear();
        level_word_spans(text, |a, e| {
            got.push((a, e));
            true
        });
        let want: Vec<_> =
            spans_byte_by_byte::<false>(text).into_iter().filter(|&(a, _)| is_level_initial(text[a])).collect();
        assert_eq!(got, want, "level words of {text:?}");
    }

    #[test]
    fn runs_found_by_the_mask_are_those_found_byte_by_byte() {
        // Every byte value alone, and at every place of a 16-byte group.
        for b in 0..=255u8 {
            both_agree(&[b]);
            for at in 0..16 {
                let mut t = [b'a'; 40];
                t[at] = b;
                t[at + 17] = b;
                both_agree(&t);
            }
        }
        // Texts of every length up to 300 bytes (runs across 16- and 64-byte edges, a run
        // filling whole chunks, text ending inside a run), over alphabets of every density.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"aZ09_ -=.:/\"{}[]\x00\x7f\x80\xc3\xa9\xff@`cDeFiTwC\xe3\xc4";
        for len in 0..300 {
            for density in [1u64, 4, 12, 15] {
                let text: Vec<u8> = (0..len)
                    .map(|_| {
                        let r = next();
                        let pick = if r % 16 < density { 5 } else { alphabet.len() };
                        alphabet[(r >> 8) as usize % pick]
                    })
                    .collect();
                both_agree(&text);
            }
        }
        // Stopping: only the runs up to the one `f` refuses.
        let mut got = Vec::new();
        word_spans(b"one two three four", |a, e| {
            got.push((a, e));
            got.len() < 2
        });
        assert_eq!(got, vec![(0, 3), (4, 7)]);
        let long = vec![b'x'; 200];
        let mut got = Vec::new();
        token_spans(&long, |a, e| got.push((a, e)));
        assert_eq!(got, vec![(0, 200)]);
    }
}
