//! The hot path: a single-pass reader for the common shape of data frames (one `orders`, `trades`
//! or `positions` object, plain strings, plain numbers) that writes straight into the typed
//! structs. Anything else — escapes, a general frame, a wrong type, a missing id, odd JSON —
//! returns `None` and the frame goes through serde, so results and errors are serde's exactly;
//! tests hold the two paths equal.

use std::cell::{Cell, RefCell};

use super::model::Event;

mod fields;
mod scan;
mod values;
use fields::{OrderField, PositionField, TradeField};
use scan::{Pattern, same, string_end};

/// A byte cursor over one frame.
pub(super) struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn skip_ws(&mut self) {
        // Servers send compact JSON: one comparison settles the common case.
        if self.bytes.get(self.at).is_some_and(|&byte| byte > b' ') {
            return;
        }
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.at).copied()
    }

    #[inline(always)]
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string without escapes or control characters.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        // Compact JSON has the quote right here; only otherwise is white space skipped.
        if self.bytes.get(self.at) == Some(&b'"') {
            self.at += 1;
        } else {
            self.eat(b'"')?;
        }
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

    fn literal(&mut self, word: &[u8]) -> bool {
        self.skip_ws();
        let found = self.bytes.get(self.at..self.at + word.len()) == Some(word);
        if found {
            self.at += word.len();
        }
        found
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

/// One struct's field table: names (raw and friendly) → field number. (Each field's reader is the
/// table's `set`.)
pub(super) struct Fields {
    names: &'static [Name],
    /// Fields that must be present (serde's non-`Option` fields).
    required: u64,
}

/// One key a struct answers to.
pub(super) struct Name {
    key: &'static str,
    /// The key as it appears in compact JSON, quotes and colon included: `"qty":`.
    quoted: Pattern,
    field: u8,
}

/// What followed each key: `Next[previous]` holds the positions of the keys that came after it
/// the last time and the time before (a name of the struct's, or past them a learned key it
/// skips), or `UNKNOWN`. Two, because a stream mixes a few shapes of frame (orders with and
/// without a parent, a take-profit or an id_fyers), and each shape changes what follows a key.
type Next = [[Cell<u8>; 2]; 128];

/// No prediction.
const UNKNOWN: u8 = u8::MAX;

thread_local! {
    /// Per struct kind, the field that followed each field last time: servers send keys in a
    /// fixed order, so nearly every key is found with one comparison. (Predicting by the key's
    /// ordinal instead was 20% slower: one key more or less in a frame shifts every prediction
    /// after it.) Per thread, because the parsing threads would otherwise fight over these cache
    /// lines whenever the shape changes.
    static NEXT: [Next; 3] = const { [const { [const { [const { Cell::new(UNKNOWN) }; 2] }; 128] }; 3] };
}

/// The `previous` of the first key: no field before it.
const START: usize = 127;

/// Keys a struct does not have (`"lot_size":`, `"pan":`…) seen in frames, per struct kind and
/// parsing thread, learned as they come with their quotes and colon. Each takes a prediction
/// position after the struct's own names, so a frame carrying keys we skip is still read with
/// one comparison per key; before, each such key was scanned and searched for among all the
/// names, in every frame.
type Learned = Vec<Box<[u8]>>;

/// Longest unknown key worth remembering.
const MAX_LEARNED_KEY_BYTES: usize = 64;

thread_local! {
    static LEARNED: [RefCell<Learned>; 3] = const { [const { RefCell::new(Vec::new()) }; 3] };
}

/// What a key is to the struct being read.
enum Key {
    /// The position of one of its names.
    Field(usize),
    /// A key it does not have, with its learned position if it has one.
    Skip(Option<usize>),
}

impl Cursor<'_> {
    /// Reads a key and its colon. The predicted key, quotes and colon, is matched in place.
    #[inline(always)]
    fn key(&mut self, fields: &Fields, next: &Next, learned: &mut Learned, previous: usize) -> Option<Key> {
        let slots = next.get(previous)?;
        let predicted = usize::from(slots[0].get());
        if let Some(name) = fields.names.get(predicted) {
            // The input holds exactly `"name":`: the key is the name (names have no escapes).
            if name.quoted.is_at(self.bytes, self.at) {
                self.at += name.quoted.len();
                return Some(Key::Field(predicted));
            }
        }
        self.unpredicted_key(fields, slots, learned)
    }

    /// A key that is not the predicted name: the predicted learned key, the key that came the
    /// time before, or one to look up. The key found is predicted next time, the one it replaces
    /// kept as the second guess. Out of line: the predicted path is the one to keep small.
    #[inline(never)]
    fn unpredicted_key(
        &mut self,
        fields: &Fields,
        slots: &[Cell<u8>; 2],
        learned: &mut Learned,
    ) -> Option<Key> {
        let [last, before] = slots;
        let predicted = usize::from(last.get());
        // A predicted name was tried already; a predicted learned key was not.
        if predicted >= fields.names.len()
            && let Some(key) = self.key_at(fields, learned, predicted)
        {
            return Some(key);
        }
        let remember = |position: usize| {
            before.set(last.get());
            last.set(position as u8);
        };
        let second = usize::from(before.get());
        if let Some(key) = self.key_at(fields, learned, second) {
            remember(second);
            return Some(key);
        }
        let key = self.string()?.as_bytes();
        if let Some(position) = fields
            .names
            .iter()
            .position(|name| same(name.key.as_bytes(), key))
        {
            remember(position);
            self.eat(b':')?;
            return Some(Key::Field(position));
        }
        let known = learned
            .iter()
            .position(|quoted| quoted.get(1..quoted.len().saturating_sub(2)) == Some(key));
        let position = match known {
            Some(index) => Some(fields.names.len() + index),
            None if fields.names.len() + learned.len() < START && key.len() <= MAX_LEARNED_KEY_BYTES => {
                learned.push([b"\"", key, b"\":"].concat().into_boxed_slice());
                Some(fields.names.len() + learned.len() - 1)
            }
            None => None,
        };
        if let Some(position) = position {
            remember(position);
        }
        self.eat(b':')?;
        Some(Key::Skip(position))
    }

    /// The key at prediction position `position` (a name, or a learned key), if the input holds
    /// it here exactly, quotes and colon included; then the cursor is past it. Inlined: real frames
    /// go through here for every key we skip.
    #[inline(always)]
    fn key_at(&mut self, fields: &Fields, learned: &Learned, position: usize) -> Option<Key> {
        if let Some(name) = fields.names.get(position) {
            if !name.quoted.is_at(self.bytes, self.at) {
                return None;
            }
            self.at += name.quoted.len();
            return Some(Key::Field(position));
        }
        let quoted = learned.get(position.checked_sub(fields.names.len())?)?;
        let input = self.bytes.get(self.at..self.at + quoted.len())?;
        if !same(input, quoted) {
            return None;
        }
        self.at += quoted.len();
        Some(Key::Skip(Some(position)))
    }
}

/// Reads one object into a boxed `T`, built in place; `None` for anything serde should judge.
fn object<T: Default>(
    cursor: &mut Cursor,
    fields: &Fields,
    set: impl Fn(&mut T, u8, &mut Cursor) -> Option<()>,
    table: usize,
) -> Option<Box<T>> {
    NEXT.with(|next| {
        LEARNED.with(|learned| {
            let mut learned = learned.get(table)?.try_borrow_mut().ok()?;
            read_object(cursor, fields, set, next.get(table)?, &mut learned)
        })
    })
}

fn read_object<T: Default>(
    cursor: &mut Cursor,
    fields: &Fields,
    set: impl Fn(&mut T, u8, &mut Cursor) -> Option<()>,
    next: &Next,
    learned: &mut Learned,
) -> Option<Box<T>> {
    let mut value = Box::<T>::default();
    let mut seen = 0u64;
    let mut previous = START;
    cursor.eat(b'{')?;
    if cursor.peek()? == b'}' {
        cursor.at += 1;
    } else {
        loop {
            match cursor.key(fields, next, learned, previous)? {
                Key::Field(position) => {
                    let field = fields.names[position].field;
                    let bit = 1u64 << field;
                    if seen & bit != 0 {
                        return None; // serde: duplicate field
                    }
                    seen |= bit;
                    previous = position;
                    set(&mut value, field, cursor)?;
                }
                Key::Skip(position) => {
                    if let Some(position) = position {
                        previous = position;
                    }
                    cursor.skip_value(0)?;
                }
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
            "orders" => Event::Order(object(&mut cursor, &OrderField::TABLE, OrderField::set, 0)?),
            "trades" => Event::Trade(object(&mut cursor, &TradeField::TABLE, TradeField::set, 1)?),
            "positions" => {
                Event::Position(object(&mut cursor, &PositionField::TABLE, PositionField::set, 2)?)
            }
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
