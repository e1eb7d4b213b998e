//! What the order socket delivers: the four event types of the SDK, general messages kept as
//! received, and one parsed frame as an `Event`.

use super::model::{Order, Position, Trade};

/// What a general message is about, from its top-level key. Fyers does not document the inner
/// shapes, so the frame itself is kept as received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GeneralKind {
    PriceAlert,
    Edis,
    Login,
    /// `"s": "error"` frames from the server.
    Error,
    Other(String),
}

impl GeneralKind {
    pub fn label(&self) -> &str {
        match self {
            Self::PriceAlert => "Price alert",
            Self::Edis => "eDIS",
            Self::Login => "Login",
            Self::Error => "Error",
            Self::Other(key) => key,
        }
    }
}

/// A general message: price alert, eDIS, login notice, server error, or anything unknown.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneralEvent {
    pub kind: GeneralKind,
    /// The frame's JSON object exactly as received.
    pub raw: serde_json::Map<String, serde_json::Value>,
}

impl GeneralEvent {
    pub fn from_frame(raw: serde_json::Map<String, serde_json::Value>) -> Self {
        let kind = if raw.get("s").and_then(|s| s.as_str()) == Some("error") {
            GeneralKind::Error
        } else if raw.contains_key("pricealerts") {
            GeneralKind::PriceAlert
        } else if raw.contains_key("edis") {
            GeneralKind::Edis
        } else if raw.contains_key("login") {
            GeneralKind::Login
        } else {
            let key = raw
                .keys()
                .find(|k| k.as_str() != "s")
                .cloned()
                .unwrap_or_default();
            GeneralKind::Other(key)
        };
        Self { kind, raw }
    }

    /// The object inside the frame (`{"s":"ok","login":{...}}` → the `login` object), if any.
    pub fn body(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.raw
            .iter()
            .find(|(k, _)| k.as_str() != "s")
            .and_then(|(_, v)| v.as_object())
    }

    fn body_str(&self, key: &str) -> Option<&str> {
        self.body()?.get(key)?.as_str()
    }

    /// A one-line human summary: the alert's name, the notice's message, or the frame's message.
    pub fn summary(&self) -> String {
        if let Some(name) = self.body_str("name") {
            return name.to_owned();
        }
        if let Some(message) = self
            .body_str("message")
            .or_else(|| self.raw.get("message")?.as_str())
        {
            return match self.body_str("symbol") {
                Some(symbol) => format!("{symbol}: {message}"),
                None => message.to_owned(),
            };
        }
        serde_json::Value::Object(self.raw.clone()).to_string()
    }

    pub fn time_epoch(&self) -> Option<i64> {
        self.body()?.get("time_epoch")?.as_i64()
    }
}

/// The four user-facing event types of the SDK and their socket subscription names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    Orders,
    Trades,
    Positions,
    General,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [Self::Orders, Self::Trades, Self::Positions, Self::General];

    /// The SDK's name, used on the command line and in headless output.
    pub fn sdk_name(self) -> &'static str {
        match self {
            Self::Orders => "OnOrders",
            Self::Trades => "OnTrades",
            Self::Positions => "OnPositions",
            Self::General => "OnGeneral",
        }
    }

    pub fn from_sdk_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.sdk_name().eq_ignore_ascii_case(name.trim()))
    }

    /// The `SLIST` values that subscribe to this kind.
    pub fn slist(self) -> &'static [&'static str] {
        match self {
            Self::Orders => &["orders"],
            Self::Trades => &["trades"],
            Self::Positions => &["positions"],
            Self::General => &["edis", "pricealerts", "login"],
        }
    }

    /// The kind an `SLIST` value belongs to.
    pub fn from_slist(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.slist().contains(&value))
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One parsed server frame.
#[derive(Debug, Clone, PartialEq)]
// Boxed: a batch of events is moved through a few vectors on its way into the store, and an
// order is almost 700 bytes.
pub enum Event {
    Order(Box<Order>),
    Trade(Box<Trade>),
    Position(Box<Position>),
    General(GeneralEvent),
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Order(_) => EventKind::Orders,
            Self::Trade(_) => EventKind::Trades,
            Self::Position(_) => EventKind::Positions,
            Self::General(_) => EventKind::General,
        }
    }

    /// Exactly what the official SDK hands its callback for this frame:
    /// `{"s":"ok","orders":{...friendly keys...}}`, or a general frame as received.
    pub fn to_sdk_json(&self) -> serde_json::Value {
        fn wrap(key: &str, body: serde_json::Value) -> serde_json::Value {
            let mut frame = serde_json::Map::with_capacity(2);
            frame.insert("s".into(), "ok".into());
            frame.insert(key.into(), body);
            serde_json::Value::Object(frame)
        }
        // Serialising these plain structs into a Value cannot fail: every key is a string.
        let body = |value: Result<serde_json::Value, serde_json::Error>| value.unwrap_or_default();
        match self {
            Self::Order(order) => wrap("orders", body(serde_json::to_value(order))),
            Self::Trade(trade) => wrap("trades", body(serde_json::to_value(trade))),
            Self::Position(position) => wrap("positions", body(serde_json::to_value(position))),
            Self::General(general) => serde_json::Value::Object(general.raw.clone()),
        }
    }
}
