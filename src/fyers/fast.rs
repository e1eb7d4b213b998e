//! The hot path: a single-pass reader for the common shape of data frames (one `orders`, `trades`
//! or `positions` object, plain strings, plain numbers) that writes straight into the typed
//! structs. Anything else — escapes, a general frame, a wrong type, a missing id, odd JSON —
//! returns `None` and the frame goes through serde, so results and errors are serde's exactly;
//! tests hold the two paths equal.

use std::sync::atomic::{AtomicU8, Ordering};

use compact_str::CompactString;

use super::model::Event;

mod fields;
use fields::{OrderField, PositionField, TradeField};

/// A byte cursor over one frame.
pub(super) struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let rest = self.bytes.get(start..)?;
        let len = string_end(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.at = start + len + 1;
        // Cut at ASCII quotes of a valid UTF-8 input: char boundaries, so this never fails.
        self.text.get(start..start + len)
    }

    /// A JSON number token, checked against the JSON grammar: (text, is an integer).
    fn number(&mut self) -> Option<(&'a str, bool)> {
        self.skip_ws();
        let start = self.at;
        let digits = |cursor: &mut Self| {
            let from = cursor.at;
            while cursor.bytes.get(cursor.at).is_some_and(u8::is_ascii_digit) {
                cursor.at += 1;
            }
            cursor.at - from
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let first = *self.bytes.get(self.at)?;
        let int_digits = digits(self);
        if int_digits == 0 || (first == b'0' && int_digits > 1) {
            return None;
        }
        // serde_json reads `-0` as the float -0.0.
        let mut integer = !(first == b'0' && start != self.at - 1);
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            integer = false;
            if digits(self) == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        Some((self.text.get(start..self.at)?, integer))
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        self.skip_ws();
        let found = self.bytes.get(self.at..self.at + word.len()) == Some(word);
        if found {
            self.at += word.len();
        }
        found
    }

    /// `null` → `Some(None)`; otherwise parses with `value`.
    fn nullable<T>(&mut self, value: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").then_some(None);
        }
        value(self).map(Some)
    }

    fn text(&mut self) -> Option<Option<CompactString>> {
        self.nullable(|cursor| cursor.string().map(CompactString::from))
    }

    fn int(&mut self) -> Option<Option<i64>> {
        self.nullable(|cursor| match cursor.number()? {
            (text, true) => parse_int(text),
            (_, false) => None,
        })
    }

    fn float(&mut self) -> Option<Option<f64>> {
        self.nullable(|cursor| match cursor.number()? {
            // serde turns an integer into f64 the same way.
            (text, true) => parse_int(text).map(|int| int as f64),
            // serde refuses numbers out of f64's range; so does this, by leaving them to serde.
            (text, false) => text.parse::<f64>().ok().filter(|float| float.is_finite()),
        })
    }

    fn boolean(&mut self) -> Option<Option<bool>> {
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

    /// Skips any value (an unknown key's), nested or not.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        if depth > 64 {
            return None;
        }
        let (close, keyed) = match self.peek()? {
            b'{' => (b'}', true),
            b'[' => (b']', false),
            b'"' => return self.string().map(drop),
            b't' => return self.literal(b"true").then_some(()),
            b'f' => return self.literal(b"false").then_some(()),
            b'n' => return self.literal(b"null").then_some(()),
            _ => return self.number().map(drop),
        };
        self.at += 1;
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            if keyed {
                self.string()?;
                self.eat(b':')?;
            }
            self.skip_value(depth + 1)?;
            match self.peek()? {
                b',' => self.at += 1,
                byte if byte == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// The first `"`, `\\` or control byte, eight bytes at a time.
fn string_end(bytes: &[u8]) -> Option<usize> {
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

/// A grammar-checked JSON integer; `None` past i64 (serde then reads a float: a type error).
fn parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        digits => (false, digits),
    };
    if digits.len() > 18 {
        return text.parse().ok();
    }
    let magnitude = digits
        .iter()
        .fold(0i64, |acc, digit| acc * 10 + i64::from(digit - b'0'));
    Some(if negative { -magnitude } else { magnitude })
}

/// One struct's field table: names (raw and friendly) → field number, and the setter.
pub(super) struct Fields<T: 'static> {
    names: &'static [(&'static str, u8)],
    set: fn(&mut T, u8, &mut Cursor) -> Option<()>,
    /// Fields that must be present (serde's non-`Option` fields).
    required: u64,
}

/// The field that followed each field last time, per struct kind: servers send keys in a fixed
/// order, so nearly every key is found with one comparison. Only a hint: a race costs a scan.
static NEXT: [[AtomicU8; 128]; 3] = [const { [const { AtomicU8::new(u8::MAX) }; 128] }; 3];

/// No field before the first key.
const START: usize = 127;

/// The key's position in `fields.names`.
fn lookup<T>(fields: &Fields<T>, table: usize, previous: usize, key: &str) -> Option<usize> {
    let predicted = NEXT[table][previous].load(Ordering::Relaxed) as usize;
    if fields.names.get(predicted).is_some_and(|(name, _)| *name == key) {
        return Some(predicted);
    }
    let position = fields.names.iter().position(|(name, _)| *name == key)?;
    NEXT[table][previous].store(position as u8, Ordering::Relaxed);
    Some(position)
}

/// Reads one object into `T`; `None` for anything serde should judge.
fn object<T: Default>(cursor: &mut Cursor, fields: &Fields<T>, table: usize) -> Option<T> {
    let mut value = T::default();
    let mut seen = 0u64;
    let mut previous = START;
    cursor.eat(b'{')?;
    if cursor.peek()? == b'}' {
        cursor.at += 1;
    } else {
        loop {
            let key = cursor.string()?;
            cursor.eat(b':')?;
            match lookup(fields, table, previous, key) {
                Some(position) => {
                    let field = fields.names[position].1;
                    let bit = 1u64 << field;
                    if seen & bit != 0 {
                        return None; // serde: duplicate field
                    }
                    seen |= bit;
                    (fields.set)(&mut value, field, cursor)?;
                    previous = position;
                }
                None => cursor.skip_value(0)?,
            }
            match cursor.peek()? {
                b',' => cursor.at += 1,
                b'}' => {
                    cursor.at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (seen & fields.required == fields.required).then_some(value)
}

/// The data event of a common frame, or `None` to leave the frame to serde.
pub fn data_frame(text: &str) -> Option<Event> {
    let mut cursor = Cursor {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut event = None;
    cursor.eat(b'{')?;
    if cursor.peek()? == b'}' {
        return None;
    }
    loop {
        let key = cursor.string()?;
        cursor.eat(b':')?;
        let parsed = match key {
            "orders" => Event::Order(Box::new(object(&mut cursor, &OrderField::TABLE, 0)?)),
            "trades" => Event::Trade(Box::new(object(&mut cursor, &TradeField::TABLE, 1)?)),
            "positions" => Event::Position(Box::new(object(&mut cursor, &PositionField::TABLE, 2)?)),
            _ => {
                cursor.skip_value(0)?;
                match cursor.peek()? {
                    b',' => {
                        cursor.at += 1;
                        continue;
                    }
                    b'}' => break,
                    _ => return None,
                }
            }
        };
        // Two data keys: serde's precedence decides.
        if event.replace(parsed).is_some() {
            return None;
        }
        match cursor.peek()? {
            b',' => cursor.at += 1,
            b'}' => break,
            _ => return None,
        }
    }
    cursor.at += 1;
    cursor.skip_ws();
    if cursor.at != text.len() {
        return None;
    }
    event
}

#[cfg(test)]
mod tests;
