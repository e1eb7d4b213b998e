//! The fast reader's values: numbers checked against the JSON grammar and read in the same pass,
//! and each field kind's reader (text, integer, double, boolean), with the compact common case
//! inline and everything else left to the general path.

use compact_str::CompactString;

use super::Cursor;
use super::scan::{POWERS_OF_TEN, digits, first_special16};

impl<'a> Cursor<'a> {
    /// A JSON number, checked against the JSON grammar and read in the same pass. Plain decimals
    /// (at most 19 digits, no exponent) are computed exactly here; the rest is left to `str::parse`.
    pub(super) fn number(&mut self) -> Option<Number<'a>> {
        self.skip_ws();
        let bytes = self.bytes;
        let start = self.at;
        let mut at = start;
        let negative = bytes.get(at) == Some(&b'-');
        at += usize::from(negative);
        let first = *bytes.get(at)?;
        let (int_digits, mut mantissa) = digits(bytes, at, 0);
        at += int_digits;
        if int_digits == 0 || (first == b'0' && int_digits > 1) {
            return None;
        }
        let mut fraction = 0;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            (fraction, mantissa) = digits(bytes, at, mantissa);
            at += fraction;
            if fraction == 0 {
                return None;
            }
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            exponent = true;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            let (exponent_digits, _) = digits(bytes, at, 0);
            at += exponent_digits;
            if exponent_digits == 0 {
                return None;
            }
        }
        self.at = at;
        let digits = int_digits + fraction;
        // serde_json reads `-0` as the float -0.0.
        let integer = fraction == 0 && !exponent && !(negative && first == b'0');
        if integer && digits <= 18 {
            let magnitude = mantissa as i64;
            return Some(Number::Int(if negative { -magnitude } else { magnitude }));
        }
        // Clinger's fast path: an exact mantissa divided by an exact power of ten is one correctly
        // rounded operation, the same double `str::parse` (and serde's float_roundtrip) gives.
        if !integer && !exponent && digits <= 19 && mantissa <= 1 << 53 && fraction < POWERS_OF_TEN.len() {
            let magnitude = mantissa as f64 / POWERS_OF_TEN[fraction];
            return Some(Number::Float(if negative { -magnitude } else { magnitude }));
        }
        let text = self.text.get(start..at)?;
        Some(Number::Text { text, integer })
    }

    /// `null` → `Some(None)`; otherwise parses with `value`.
    #[inline(always)]
    pub(super) fn nullable<T>(&mut self, value: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").then_some(None);
        }
        value(self).map(Some)
    }

    /// A string value: a quote right here goes straight to the string reader; `null`, white
    /// space and anything odd take the general path.
    #[inline(always)]
    pub(super) fn text(&mut self) -> Option<Option<CompactString>> {
        if self.bytes.get(self.at) == Some(&b'"') {
            return self.string().map(|text| Some(CompactString::from(text)));
        }
        self.nullable(|cursor| cursor.string().map(CompactString::from))
    }

    /// A string value written straight into its field. The common case — a quote right here and at
    /// most 23 plain bytes (ids, symbols, times, tags) — is found with one or two 16-byte scans and
    /// copied in fixed-size pieces into the field's inline buffer. `CompactString::from` instead
    /// calls `memcpy` with a varying length and then moves a 24-byte value it wrote byte by byte,
    /// a store-forwarding stall: it was the reader's costliest line. Anything else takes `text`.
    #[inline(always)]
    pub(super) fn text_into(&mut self, slot: &mut Option<CompactString>) -> Option<()> {
        if self.short_string_into(slot.insert(CompactString::const_new(""))) {
            return Some(());
        }
        self.text_general(slot)
    }

    /// A string value that may not be null, written straight into its field as `text_into` does.
    #[inline(always)]
    pub(super) fn id_into(&mut self, slot: &mut CompactString) -> Option<()> {
        if !self.short_string_into(slot) {
            *slot = CompactString::from(self.string()?);
        }
        Some(())
    }

    /// The fast case of `text_into`: writes the string into `text` (empty and inline) and moves
    /// past it, or returns false having consumed nothing.
    #[inline(always)]
    fn short_string_into(&mut self, text: &mut CompactString) -> bool {
        /// Longest string kept inline: the 24th byte of the buffer is CompactString's tag.
        const INLINE: usize = 23;
        let at = self.at;
        let window = self
            .bytes
            .get(at..)
            .and_then(|rest| rest.first_chunk::<33>())
            .filter(|window| window[0] == b'"');
        let Some((_, window)) = window.and_then(|window| window.split_first()) else {
            return false;
        };
        let (low, high) = window.split_at(16);
        let (Ok(low), Ok(high)) = (<&[u8; 16]>::try_from(low), <&[u8; 16]>::try_from(high)) else {
            return false;
        };
        let len = match first_special16(low) {
            Some(len) => len,
            None => 16 + first_special16(high).unwrap_or(16),
        };
        if len > INLINE || window[len] != b'"' || text.is_heap_allocated() || !text.is_empty() {
            return false;
        }
        // SAFETY: an empty inline CompactString's `as_mut_bytes` is its 24-byte buffer. Only bytes
        // 0..=22 are written (the 24th is the tag) and `len` ≤ 23 fits. The first `len` bytes are
        // those between two ASCII quotes of a `&str`: valid UTF-8. Bytes past `len` are not part
        // of the string.
        unsafe {
            let buffer = text.as_mut_bytes();
            let (Some(head), Some(tail)) = (buffer.get_mut(..16), window.get(len.saturating_sub(16)..len))
            else {
                return false;
            };
            head.copy_from_slice(low);
            if len > 16 {
                let Some(end) = buffer.get_mut(len - 16..len) else {
                    return false;
                };
                end.copy_from_slice(tail);
            }
            text.set_len(len);
        }
        self.at = at + len + 2;
        true
    }

    /// Strings near the end of the frame, long, escaped or null: kept out of line so each text
    /// field's inlined code stays small.
    #[inline(never)]
    fn text_general(&mut self, slot: &mut Option<CompactString>) -> Option<()> {
        *slot = self.text()?;
        Some(())
    }

    /// An integer value. The common case (up to 18 digits, not `-0`, no fraction or exponent) is
    /// read inline; the rest by the general path, which judges it exactly as serde does. (Inlining
    /// the general `number` instead cost 10% more instructions per frame.)
    #[inline(always)]
    pub(super) fn int(&mut self) -> Option<Option<i64>> {
        let bytes = self.bytes;
        let negative = bytes.get(self.at) == Some(&b'-');
        let first = self.at + usize::from(negative);
        let (count, magnitude) = digits(bytes, first, 0);
        let at = first + count;
        let plain = match count {
            0 => false,
            1 => !(negative && magnitude == 0),
            _ => count <= 18 && bytes.get(first) != Some(&b'0'),
        };
        if plain && !matches!(bytes.get(at), Some(b'.' | b'e' | b'E')) {
            self.at = at;
            // At most 18 digits: the magnitude fits an i64.
            let magnitude = magnitude as i64;
            return Some(Some(if negative { -magnitude } else { magnitude }));
        }
        self.int_general()
    }

    #[inline(never)]
    fn int_general(&mut self) -> Option<Option<i64>> {
        self.nullable(|cursor| match cursor.number()? {
            Number::Int(int) => Some(int),
            // Past i64 serde reads a u64 or a float: a type error either way, or a fit it judges.
            Number::Text { text, integer: true } => text.parse().ok(),
            Number::Float(_) | Number::Text { .. } => None,
        })
    }

    /// A number value as a double. The common case (`-?digits(.digits)?`, at most 15 significant
    /// digits, no leading zeros) is read inline with the exact-division fast path; the rest by the
    /// general path.
    #[inline(always)]
    pub(super) fn float(&mut self) -> Option<Option<f64>> {
        let bytes = self.bytes;
        let negative = bytes.get(self.at) == Some(&b'-');
        let first = self.at + usize::from(negative);
        let (whole, mut mantissa) = digits(bytes, first, 0);
        let mut at = first + whole;
        let mut fraction = 0;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            (fraction, mantissa) = digits(bytes, at, mantissa);
            at += fraction;
        }
        let leading_zero = whole > 1 && bytes.get(first) == Some(&b'0');
        // serde reads `-0` as -0.0 and `-0.0` likewise; both are plain here.
        let plain = whole >= 1
            && !leading_zero
            && (fraction > 0 || bytes.get(at - 1) != Some(&b'.'))
            && whole + fraction <= 15
            && !matches!(bytes.get(at), Some(b'.' | b'e' | b'E'));
        if plain {
            self.at = at;
            let magnitude = mantissa as f64 / POWERS_OF_TEN[fraction];
            return Some(Some(if negative { -magnitude } else { magnitude }));
        }
        self.float_general()
    }

    #[inline(never)]
    fn float_general(&mut self) -> Option<Option<f64>> {
        self.nullable(|cursor| match cursor.number()? {
            // serde turns an integer into f64 the same way.
            Number::Int(int) => Some(int as f64),
            Number::Float(float) => Some(float),
            Number::Text { text, integer: true } => text.parse::<i64>().ok().map(|int| int as f64),
            // serde refuses numbers out of f64's range; so does this, by leaving them to serde.
            Number::Text { text, integer: false } => {
                text.parse::<f64>().ok().filter(|float| float.is_finite())
            }
        })
    }

    pub(super) fn boolean(&mut self) -> Option<Option<bool>> {
        self.nullable(|cursor| {
            if cursor.literal(b"true") {
                Some(true)
            } else if cursor.literal(b"false") {
                Some(false)
            } else {
                None
            }
        })
    }
}

/// A number as read: exact already, or text for `str::parse`.
pub(super) enum Number<'a> {
    Int(i64),
    Float(f64),
    Text { text: &'a str, integer: bool },
}
