//! The fast reader's values: numbers checked against the JSON grammar and read in the same pass,
//! and each field kind's reader (text, integer, double, boolean), with the compact common case
//! inline and everything else left to the general path.

use compact_str::CompactString;

use super::Cursor;
use super::scan::{POWERS_OF_TEN, digits};

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
