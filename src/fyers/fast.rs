//! The hot path: a single-pass reader for the common shape of data frames (one `orders`, `trades`
//! or `positions` object, plain strings, plain numbers) that writes straight into the typed
//! structs. Anything else — escapes, a general frame, a wrong type, a missing id, odd JSON —
//! returns `None` and the frame goes through serde, so results and errors are serde's exactly;
//! tests hold the two paths equal.

use std::sync::atomic::{AtomicU8, Ordering};

use compact_str::CompactString;

use super::model::{
    Event, Exchange, Order, OrderSource, OrderStatus, OrderType, Position, PositionSide, ProductType,
    Segment, Side, Trade, Validity,
};

/// A byte cursor over one frame.
struct Cursor<'a> {
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
struct Fields<T: 'static> {
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

/// Generates a struct's field table from `field: kind ["raw", "friendly"]` lines.
macro_rules! fields {
    ($name:ident: $ty:ty { $($field:ident: $kind:ident [$($key:literal),+]),+ $(,)? } required [$($req:ident),*]) => {
        #[allow(non_camel_case_types, dead_code)]
        #[repr(u8)]
        enum $name { $($field),+ }

        impl $name {
            const TABLE: Fields<$ty> = Fields {
                names: &[$($(($key, $name::$field as u8)),+),+],
                set: |value: &mut $ty, field: u8, cursor: &mut Cursor| {
                    $(if field == $name::$field as u8 {
                        value.$field = fields!(@read $kind, cursor);
                        return Some(());
                    })+
                    None
                },
                required: 0 $(| (1u64 << ($name::$req as u8)))*,
            };
        }
    };
    (@read text, $c:ident) => { $c.text()? };
    (@read id, $c:ident) => { $c.string().map(CompactString::from)? };
    (@read int, $c:ident) => { $c.int()? };
    (@read float, $c:ident) => { $c.float()? };
    (@read bool, $c:ident) => { $c.boolean()? };
    (@read status, $c:ident) => { $c.int()?.map(OrderStatus::from_code) };
    (@read order_type, $c:ident) => { $c.int()?.map(OrderType::from_code) };
    (@read side, $c:ident) => { $c.int()?.map(Side::from_code) };
    (@read position_side, $c:ident) => { $c.int()?.map(PositionSide::from_code) };
    (@read exchange, $c:ident) => { $c.int()?.map(Exchange::from_code) };
    (@read segment, $c:ident) => { $c.int()?.map(Segment::from_code) };
    (@read product, $c:ident) => { $c.nullable(|c| c.string().map(ProductType::from_code))? };
    (@read source, $c:ident) => { $c.nullable(|c| c.string().map(OrderSource::from_code))? };
    (@read validity, $c:ident) => { $c.nullable(|c| c.string().map(Validity::from_code))? };
}

fields!(OrderField: Order {
    client_id: text ["client_id", "clientId"],
    id: id ["id"],
    parent_id: text ["id_parent", "parentId"],
    exchange_order_id: text ["id_exchange", "exchOrdId"],
    qty: int ["qty"],
    remaining_qty: int ["qty_remaining", "remainingQuantity"],
    filled_qty: int ["qty_filled", "filledQty"],
    limit_price: float ["price_limit", "limitPrice"],
    stop_price: float ["price_stop", "stopPrice"],
    traded_price: float ["price_traded", "tradedPrice"],
    order_type: order_type ["ord_type", "type"],
    fy_token: text ["fy_token", "fyToken"],
    exchange: exchange ["exchange"],
    segment: segment ["segment"],
    symbol: text ["symbol"],
    instrument: int ["instrument"],
    message: text ["oms_msg", "message"],
    offline_order: bool ["offline_flag", "offlineOrder"],
    order_date_time: text ["time_oms", "orderDateTime"],
    validity: validity ["validity", "orderValidity"],
    product_type: product ["product_type", "productType"],
    side: side ["tran_side", "side"],
    status: status ["org_ord_status", "status"],
    source: source ["ord_source", "source"],
    exchange_symbol: text ["symbol_exch", "ex_sym"],
    description: text ["symbol_desc", "description"],
    order_tag: text ["ordertag", "orderTag"],
    take_profit: float ["take_profit", "takeProfit"],
    stop_loss: float ["stop_loss", "stopLoss"],
    leg_type: int ["leg_type", "legType"],
    id_fyers: text ["id_fyers"],
    update_time_epoch_oms: int ["update_time_epoch_oms"],
    time_epoch_oms: int ["time_epoch_oms"],
    report_type: text ["report_type"],
    status_msg: text ["status_msg"],
} required [id]);

fields!(TradeField: Trade {
    trade_number: id ["id_fill", "tradeNumber"],
    order_number: text ["id", "orderNumber"],
    traded_qty: int ["qty_traded", "tradedQty"],
    trade_price: float ["price_traded", "tradePrice"],
    trade_value: float ["traded_val", "tradeValue"],
    product_type: product ["product_type", "productType"],
    client_id: text ["client_id", "clientId"],
    exchange_order_no: text ["id_exchange", "exchangeOrderNo"],
    order_type: order_type ["ord_type", "orderType"],
    side: side ["tran_side", "side"],
    symbol: text ["symbol"],
    order_date_time: text ["fill_time", "orderDateTime"],
    fy_token: text ["fy_token", "fyToken"],
    exchange: exchange ["exchange"],
    segment: segment ["segment"],
    order_tag: text ["ordertag", "orderTag"],
    id_fyers: text ["id_fyers"],
    fill_time_epoch: int ["fill_time_epoch"],
    symbol_desc: text ["symbol_desc"],
} required [trade_number]);

fields!(PositionField: Position {
    symbol: text ["symbol"],
    id: id ["id"],
    buy_avg: float ["buy_avg", "buyAvg"],
    buy_qty: int ["buy_qty", "buyQty"],
    buy_val: float ["buy_val", "buyVal"],
    sell_avg: float ["sell_avg", "sellAvg"],
    sell_qty: int ["sell_qty", "sellQty"],
    sell_val: float ["sell_val", "sellVal"],
    net_avg: float ["net_avg", "netAvg"],
    net_qty: int ["net_qty", "netQty"],
    side: position_side ["tran_side", "side"],
    qty: int ["qty"],
    product_type: product ["product_type", "productType"],
    realized_profit: float ["pl_realized", "realized_profit"],
    rbi_ref_rate: float ["rbirefrate", "rbiRefRate"],
    fy_token: text ["fy_token", "fyToken"],
    exchange: exchange ["exchange"],
    segment: segment ["segment"],
    day_buy_qty: int ["day_buy_qty", "dayBuyQty"],
    day_sell_qty: int ["day_sell_qty", "daySellQty"],
    cf_buy_qty: int ["cf_buy_qty", "cfBuyQty"],
    cf_sell_qty: int ["cf_sell_qty", "cfSellQty"],
    qty_multiplier: float ["qty_multiplier", "qtyMulti_com"],
    pl: float ["pl_total", "pl"],
    cross_currency: text ["cross_curr_flag", "crossCurrency"],
    unrealized_profit: float ["pl_unrealized", "unrealized_profit"],
    take_profit: float ["take_profit", "takeProfit"],
    stop_loss: float ["stop_loss", "stopLoss"],
    leg_type: int ["leg_type", "legType"],
    id_fyers: text ["id_fyers"],
    ltp: float ["ltp"],
} required [id]);

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
