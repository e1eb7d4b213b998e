//! The frames of the market-data socket ("HSM" v1.5, MARKET_DATA.md): what the client sends,
//! byte for byte as the official SDK sends it, what the server sends (the simulator writes these
//! too), and a parser for the latter that returns an error value for anything malformed.
//!
//! Integers are big-endian except the topic id of data entries, which is an opaque 2-byte key
//! (kept as the two bytes). Length prefixes of received frames are never trusted: one WebSocket
//! message is one frame.

/// The channel the SDK (and so we) subscribe on.
pub const CHANNEL: u8 = 11;
/// Topics one subscribe frame carries at most (the SDK's chunk).
pub const TOPICS_PER_FRAME: usize = 1500;
/// Topics one connection may hold at most.
pub const MAX_TOPICS: usize = 5000;
/// The value that means "no value / unchanged" in data entries.
pub const NO_VALUE: i32 = i32::MIN;
/// What we call ourselves in the auth frame (the SDK sends `PythonSDK-3.2.0`).
pub const SOURCE: &str = concat!("Orderwatch-", env!("CARGO_PKG_VERSION"));

pub const TYPE_AUTH: u8 = 1;
pub const TYPE_ACK: u8 = 3;
pub const TYPE_SUBSCRIBE: u8 = 4;
pub const TYPE_UNSUBSCRIBE: u8 = 5;
pub const TYPE_DATA: u8 = 6;
pub const TYPE_PAUSE: u8 = 7;
pub const TYPE_RESUME: u8 = 8;
pub const TYPE_PING: u8 = 11;
pub const TYPE_MODE: u8 = 12;
pub const TYPE_CUSTOM: u8 = 51;

/// Scrip (`sf`) values in positional order.
pub const SCRIP_FIELDS: [&str; 21] = [
    "ltp",
    "vol_traded_today",
    "last_traded_time",
    "exch_feed_time",
    "bid_size",
    "ask_size",
    "bid_price",
    "ask_price",
    "last_traded_qty",
    "tot_buy_qty",
    "tot_sell_qty",
    "avg_trade_price",
    "OI",
    "low_price",
    "high_price",
    "Yhigh",
    "Ylow",
    "lower_ckt",
    "upper_ckt",
    "open_price",
    "prev_close_price",
];
/// Index (`if`) values in positional order.
pub const INDEX_FIELDS: [&str; 6] = [
    "ltp",
    "prev_close_price",
    "exch_feed_time",
    "high_price",
    "low_price",
    "open_price",
];
/// Depth (`dp`) values: five levels of bid/ask price, size and order count.
#[rustfmt::skip]
pub const DEPTH_FIELDS: [&str; 30] = [
    "bid_price1", "bid_price2", "bid_price3", "bid_price4", "bid_price5",
    "ask_price1", "ask_price2", "ask_price3", "ask_price4", "ask_price5",
    "bid_size1", "bid_size2", "bid_size3", "bid_size4", "bid_size5",
    "ask_size1", "ask_size2", "ask_size3", "ask_size4", "ask_size5",
    "bid_order1", "bid_order2", "bid_order3", "bid_order4", "bid_order5",
    "ask_order1", "ask_order2", "ask_order3", "ask_order4", "ask_order5",
];

/// What kind of topic a name is, from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKind {
    Scrip,
    Index,
    Depth,
}

impl TopicKind {
    pub fn of(topic: &str) -> Option<Self> {
        match topic.get(..2)? {
            "sf" => Some(Self::Scrip),
            "if" => Some(Self::Index),
            "dp" => Some(Self::Depth),
            _ => None,
        }
    }

    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Scrip => &SCRIP_FIELDS,
            Self::Index => &INDEX_FIELDS,
            Self::Depth => &DEPTH_FIELDS,
        }
    }

    /// The SDK's `type` value.
    pub fn code(self) -> &'static str {
        match self {
            Self::Scrip => "sf",
            Self::Index => "if",
            Self::Depth => "dp",
        }
    }

    /// Whether the value at `index` is a price (scaled by precision and multiplier).
    pub fn is_price(self, index: usize) -> bool {
        match self {
            Self::Scrip => matches!(index, 0 | 6 | 7 | 11 | 13 | 14 | 19 | 20),
            Self::Index => matches!(index, 0 | 1 | 3 | 4 | 5),
            Self::Depth => index < 10,
        }
    }
}

/// A price as the SDK scales it: one division by 10^precision × multiplier.
pub fn scale(raw: i32, precision: u8, multiplier: u16) -> f64 {
    f64::from(raw) / (10f64.powi(i32::from(precision)) * f64::from(multiplier))
}

// ---- client → server ----

fn field(out: &mut Vec<u8>, id: u8, value: &[u8]) {
    out.push(id);
    out.extend_from_slice(&(value.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(&value[..value.len().min(usize::from(u16::MAX))]);
}

/// The keep-alive, `00 01 0b`.
pub fn ping() -> Vec<u8> {
    vec![0, 1, TYPE_PING]
}

/// Auth with the token's `hsm_key`, mode `P`, the constant 1, and our source name.
pub fn auth(hsm_key: &str) -> Vec<u8> {
    let mut out = vec![0, 0, TYPE_AUTH, 4];
    field(&mut out, 1, hsm_key.as_bytes());
    field(&mut out, 2, b"P");
    field(&mut out, 3, &[1]);
    field(&mut out, 4, SOURCE.as_bytes());
    let len = (out.len() - 2) as u16;
    out[..2].copy_from_slice(&len.to_be_bytes());
    out
}

fn channel_mask(channel: u8) -> [u8; 8] {
    (1u64 << channel.min(63)).to_be_bytes()
}

/// Lite (`L`: LTP only) or full (`F`) mode for a channel.
pub fn mode(channel: u8, lite: bool) -> Vec<u8> {
    let mut out = vec![0, 0, TYPE_MODE, 2];
    field(&mut out, 1, &channel_mask(channel));
    field(&mut out, 2, if lite { b"L" } else { b"F" });
    out
}

/// Subscribe (`unsubscribe` false) or unsubscribe topics on a channel. At most
/// [`TOPICS_PER_FRAME`] topics; names longer than 255 bytes are cut (none are).
pub fn subscription(topics: &[&str], channel: u8, unsubscribe: bool) -> Vec<u8> {
    let mut block = Vec::with_capacity(2 + topics.len() * 16);
    block.extend_from_slice(&(topics.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    for topic in topics {
        let bytes = &topic.as_bytes()[..topic.len().min(255)];
        block.push(bytes.len() as u8);
        block.extend_from_slice(bytes);
    }
    let kind = if unsubscribe {
        TYPE_UNSUBSCRIBE
    } else {
        TYPE_SUBSCRIBE
    };
    let mut out = vec![0, 0, kind, 2];
    field(&mut out, 1, &block);
    field(&mut out, 2, &[channel]);
    let len = (out.len() - 2) as u16;
    out[..2].copy_from_slice(&len.to_be_bytes());
    out
}

/// Acknowledges data frame `number`.
pub fn ack(number: u32) -> Vec<u8> {
    let mut out = vec![0, 9, TYPE_ACK, 1];
    field(&mut out, 1, &number.to_be_bytes());
    out
}

// ---- server → client: writing (for the simulator and tests) ----

/// A status reply (`K` is success) to a request of `kind` (auth, subscribe, mode...). Auth replies
/// carry the ack cadence.
pub fn status_reply(kind: u8, status: &str, ack_count: Option<u32>) -> Vec<u8> {
    let mut out = vec![0, 0, kind, if ack_count.is_some() { 2 } else { 1 }];
    field(&mut out, 1, status.as_bytes());
    if let Some(count) = ack_count {
        field(&mut out, 2, &count.to_be_bytes());
    }
    let len = (out.len() - 2) as u16;
    out[..2].copy_from_slice(&len.to_be_bytes());
    out
}

/// A custom message (type 51): a code, a text, and the request type it relates to.
pub fn custom(code: i32, message: &str, ref_type: u8) -> Vec<u8> {
    let mut out = vec![0, 0, TYPE_CUSTOM, 3];
    field(&mut out, 1, &code.to_be_bytes());
    field(&mut out, 2, message.as_bytes());
    field(&mut out, 3, &[ref_type]);
    let len = (out.len() - 2) as u16;
    out[..2].copy_from_slice(&len.to_be_bytes());
    out
}

/// One entry of a data frame, as the server sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A topic's whole record: names the topic for its id, and sets the scaling.
    Snapshot {
        topic_id: [u8; 2],
        topic: String,
        values: Vec<i32>,
        multiplier: u16,
        precision: u8,
        exchange: String,
        token: String,
        symbol: String,
    },
    /// Positional values; [`NO_VALUE`] leaves one unchanged.
    Update { topic_id: [u8; 2], values: Vec<i32> },
    /// The last traded price alone.
    Ltp { topic_id: [u8; 2], ltp: i32 },
}

fn short_string(out: &mut Vec<u8>, text: &str) {
    let bytes = &text.as_bytes()[..text.len().min(255)];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

/// A data frame (type 6) numbered `number`.
pub fn data(number: u32, entries: &[Entry]) -> Vec<u8> {
    let mut out = vec![0, 0, TYPE_DATA];
    out.extend_from_slice(&number.to_be_bytes());
    out.extend_from_slice(&(entries.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    for entry in entries {
        match entry {
            Entry::Snapshot {
                topic_id,
                topic,
                values,
                multiplier,
                precision,
                exchange,
                token,
                symbol,
            } => {
                out.push(b'S');
                out.extend_from_slice(topic_id);
                short_string(&mut out, topic);
                out.push(values.len().min(255) as u8);
                for value in values.iter().take(255) {
                    out.extend_from_slice(&value.to_be_bytes());
                }
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&multiplier.to_be_bytes());
                out.push(*precision);
                for text in [exchange, token, symbol] {
                    short_string(&mut out, text);
                }
            }
            Entry::Update { topic_id, values } => {
                out.push(b'U');
                out.extend_from_slice(topic_id);
                out.push(values.len().min(255) as u8);
                for value in values.iter().take(255) {
                    out.extend_from_slice(&value.to_be_bytes());
                }
            }
            Entry::Ltp { topic_id, ltp } => {
                out.push(b'L');
                out.extend_from_slice(topic_id);
                out.extend_from_slice(&ltp.to_be_bytes());
            }
        }
    }
    let len = (out.len() - 2).min(usize::from(u16::MAX)) as u16;
    out[..2].copy_from_slice(&len.to_be_bytes());
    out
}

pub use super::parse::{HsmError, ServerFrame, parse};
