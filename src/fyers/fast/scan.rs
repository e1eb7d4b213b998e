//! The fast reader's byte scanning: where a string ends, digit values, equal short byte strings.
//! Kept apart from the reader: these know bytes, not JSON.

/// The first `"`, `\\` or control byte: sixteen bytes at a time (`first_special16`), then the
/// tail eight at a time. Most strings end in the first sixteen.
#[inline]
pub(super) fn string_end(bytes: &[u8]) -> Option<usize> {
    let (chunks, tail) = bytes.as_chunks::<16>();
    for (index, chunk) in chunks.iter().enumerate() {
        if let Some(found) = first_special16(chunk) {
            return Some(index * 16 + found);
        }
    }
    string_end_swar(tail).map(|found| chunks.len() * 16 + found)
}

/// The first `"`, `\\` or control byte among sixteen: one SSE2 comparison, no loop, for the short
/// strings (ids, symbols, tags) that make up most of a frame.
#[inline(always)]
pub(super) fn first_special16(window: &[u8; 16]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of the x86-64 baseline, and `window` is sixteen readable bytes,
        // exactly what the unaligned load reads.
        let hits = unsafe {
            let word = _mm_loadu_si128(window.as_ptr().cast());
            let quote = _mm_cmpeq_epi8(word, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(word, _mm_set1_epi8(b'\\' as i8));
            // Unsigned: a byte is a control character when max(byte, 0x1f) is 0x1f.
            let control = _mm_cmpeq_epi8(_mm_max_epu8(word, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
        };
        (hits != 0).then(|| hits.trailing_zeros() as usize)
    }
    #[cfg(not(target_arch = "x86_64"))]
    string_end_swar(window)
}

/// The first `"`, `\\` or control byte, eight bytes at a time.
fn string_end_swar(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let Ok(chunk) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let word = u64::from_le_bytes(chunk);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        // The classic "has a zero byte" / "has a byte below n" tests; the lowest hit is exact.
        let hits = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH;
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = bytes.get(at..)?;
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|found| at + found)
}

/// The run of ASCII digits at `start`: how many, and `value` with them appended (wrapping past
/// u64: callers use the value only for runs short enough to fit).
#[inline(always)]
pub(super) fn digits(bytes: &[u8], start: usize, mut value: u64) -> (usize, u64) {
    let mut at = start;
    while let Some(digit) = bytes
        .get(at)
        .map(|byte| byte.wrapping_sub(b'0'))
        .filter(|digit| *digit < 10)
    {
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        at += 1;
    }
    (at - start, value)
}

/// The powers of ten a double holds exactly.
pub(super) const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// A short byte string (a key with its quotes and colon) held as three masked little-endian
/// words: matching it in place is three loads and compares, with no loop and no branch on its
/// length. Longer ones, and places within 24 bytes of the end, are compared by `same`.
pub(super) struct Pattern {
    text: &'static [u8],
    words: [u64; 3],
    masks: [u64; 3],
}

impl Pattern {
    pub(super) const fn new(text: &'static str) -> Self {
        let text = text.as_bytes();
        let mut words = [0; 3];
        let mut masks = [0; 3];
        let mut at = 0;
        while at < text.len() && text.len() <= 24 {
            words[at / 8] |= (text[at] as u64) << (8 * (at % 8));
            masks[at / 8] |= 0xff << (8 * (at % 8));
            at += 1;
        }
        Self { text, words, masks }
    }

    pub(super) fn len(&self) -> usize {
        self.text.len()
    }

    /// Does `bytes` hold this pattern at `at`?
    #[inline(always)]
    pub(super) fn is_at(&self, bytes: &[u8], at: usize) -> bool {
        let window = bytes.get(at..).and_then(|rest| rest.first_chunk::<24>());
        if let (Some(window), true) = (window, self.text.len() <= 24) {
            let (words, _) = window.as_chunks::<8>();
            let mut diff = 0;
            for ((word, expected), mask) in words.iter().zip(self.words).zip(self.masks) {
                diff |= (u64::from_le_bytes(*word) ^ expected) & mask;
            }
            return diff == 0;
        }
        bytes
            .get(at..at + self.text.len())
            .is_some_and(|input| same(input, self.text))
    }
}

/// Equal byte strings, compared a word at a time: keys are short, and a call to `memcmp` per key
/// costs more than the comparison.
#[inline(always)]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
        bytes
            .get(at..at + N)
            .and_then(|chunk| <[u8; N]>::try_from(chunk).ok())
    }
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 4 {
        return a == b;
    }
    if len < 8 {
        // Two overlapping four-byte words cover it.
        return word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, len - 4) == word::<4>(b, len - 4);
    }
    let mut at = 0;
    while at + 8 < len {
        if word::<8>(a, at) != word::<8>(b, at) {
            return false;
        }
        at += 8;
    }
    // The last eight bytes, overlapping what was compared.
    word::<8>(a, len - 8) == word::<8>(b, len - 8)
}
