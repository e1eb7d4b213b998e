//! Raw order-socket frames ⇄ typed events, the SDK's key maps, and the subscribe messages.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::model::{Event, EventKind, GeneralEvent, Order, Position, Trade};

/// A frame larger than this is refused unparsed: no real order frame comes close.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// The subscribe acknowledgement code (`{"code":1605,"message":"Successfully subscribed","s":"ok"}`).
pub const SUBSCRIBE_ACK_CODE: i64 = 1605;

/// Why a frame could not be read. The frame is skipped and counted; the stream goes on.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("frame of {len} bytes is over the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge { len: usize },
    #[error("binary frame of {len} bytes; the order socket only sends text")]
    Binary { len: usize },
    #[error("frame is not a JSON object")]
    NotObject,
    #[error("bad frame: {0}")]
    Json(#[from] serde_json::Error),
}

/// What one server frame means to the client.
// Nearly every frame is an event: boxing it would cost an allocation per frame for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Event(Event),
    /// The answer to our `ping`.
    Pong,
    /// The answer to a subscribe or unsubscribe message.
    Ack {
        message: String,
    },
}

/// The data keys, tried in the SDK's order; everything else in the frame is ignored.
#[derive(Deserialize)]
struct DataFrame {
    orders: Option<Order>,
    positions: Option<Position>,
    trades: Option<Trade>,
}

/// Reads one text frame.
pub fn parse_text(text: &str) -> Result<Frame, WireError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(WireError::TooLarge { len: text.len() });
    }
    if text == "pong" {
        return Ok(Frame::Pong);
    }
    let data: DataFrame = match serde_json::from_str(text) {
        Ok(data) => data,
        Err(err) if err.is_data() && !text.trim_start().starts_with('{') => return Err(WireError::NotObject),
        Err(err) => return Err(err.into()),
    };
    if let Some(order) = data.orders {
        return Ok(Frame::Event(Event::Order(Box::new(order))));
    }
    if let Some(position) = data.positions {
        return Ok(Frame::Event(Event::Position(Box::new(position))));
    }
    if let Some(trade) = data.trades {
        return Ok(Frame::Event(Event::Trade(Box::new(trade))));
    }
    let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)?;
    if raw.get("code").and_then(|c| c.as_i64()) == Some(SUBSCRIBE_ACK_CODE) {
        let message = raw.get("message").and_then(|m| m.as_str()).unwrap_or_default();
        return Ok(Frame::Ack {
            message: message.to_owned(),
        });
    }
    Ok(Frame::Event(Event::General(GeneralEvent::from_frame(raw))))
}

/// Reads one binary frame: always an error, but a counted one rather than a dropped connection.
pub fn parse_binary(bytes: &[u8]) -> Result<Frame, WireError> {
    Err(WireError::Binary { len: bytes.len() })
}

/// The `SUB_ORD` message for a set of event types, as a flat `SLIST`.
pub fn subscription_message(kinds: &BTreeSet<EventKind>, subscribe: bool) -> String {
    let slist: Vec<&str> = kinds
        .iter()
        .flat_map(|kind| kind.slist().iter().copied())
        .collect();
    serde_json::json!({ "T": "SUB_ORD", "SLIST": slist, "SUB_T": if subscribe { 1 } else { -1 } }).to_string()
}

/// Renames a friendly object's keys to the server's raw names (keys outside the map stay).
fn to_raw_keys(friendly: serde_json::Value, keys: &[(&str, &str)]) -> serde_json::Value {
    let serde_json::Value::Object(object) = friendly else {
        return friendly;
    };
    let renamed = object
        .into_iter()
        .map(|(key, value)| {
            let raw = keys
                .iter()
                .find(|(_, f)| *f == key)
                .map_or(key, |(raw, _)| (*raw).to_owned());
            (raw, value)
        })
        .collect();
    serde_json::Value::Object(renamed)
}

/// The frame a Fyers server sends for this event, with raw key names.
pub fn to_raw_frame(event: &Event) -> String {
    let frame = match event.to_sdk_json() {
        serde_json::Value::Object(mut frame) => {
            for (key, map) in [
                ("orders", Order::KEYS),
                ("trades", Trade::KEYS),
                ("positions", Position::KEYS),
            ] {
                if let Some(body) = frame.remove(key) {
                    frame.insert(key.to_owned(), to_raw_keys(body, map));
                }
            }
            serde_json::Value::Object(frame)
        }
        other => other,
    };
    frame.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fyers::model::{GeneralKind, OrderStatus, Side};

    const RAW_ORDER: &str = r#"{"orders":{"client_id":"XP0001","exchange":10,"fy_token":"10100000001628","id":"23121800292158","id_fyers":"df013f50-6925-4e2d-ba0f-0becf1229298","instrument":0,"lot_size":1,"offline_flag":false,"oms_flag":"K:1","ord_source":"W","ord_status":20,"ord_type":2,"ordertag":"2:Untagged","org_ord_status":4,"pan":"XXXXX0000X","precision":2,"price_multiplier":1,"product_type":"CNC","qty":1,"qty_multiplier":1,"qty_remaining":1,"report_type":"New Ack","segment":10,"status_msg":"New Ack","symbol":"NSE:BECTORFOOD-EQ","symbol_desc":"MRS BECTORS FOOD SPE LTD","symbol_exch":"BECTORFOOD","tick_size":0.05,"time_epoch_oms":1702887690,"time_exch":"NA","time_oms":"18-Dec-2023 13:51:30","tran_side":1,"update_time_epoch_oms":1702887690,"update_time_exch":"01-Jan-1970 05:30:00","validity":"DAY"},"s":"ok"}"#;

    #[test]
    fn documented_raw_order_frame() {
        let Frame::Event(Event::Order(order)) = parse_text(RAW_ORDER).unwrap() else {
            panic!("not an order")
        };
        assert_eq!(order.id, "23121800292158");
        assert_eq!(order.status, Some(OrderStatus::Transit));
        assert_eq!(order.side, Some(Side::Buy));
        assert_eq!(order.update_time_epoch_oms, Some(1702887690));
        let sdk = Event::Order(order).to_sdk_json();
        assert_eq!(sdk["orders"]["status"], 4);
        assert_eq!(sdk["orders"]["orderDateTime"], "18-Dec-2023 13:51:30");
        assert_eq!(sdk["orders"]["description"], "MRS BECTORS FOOD SPE LTD");
        assert!(
            sdk["orders"].get("pan").is_none(),
            "unmapped raw keys are dropped"
        );
    }

    #[test]
    fn raw_frames_round_trip() {
        let Frame::Event(event) = parse_text(RAW_ORDER).unwrap() else {
            panic!("not an event")
        };
        let raw = to_raw_frame(&event);
        assert!(raw.contains("\"org_ord_status\":4"), "{raw}");
        assert_eq!(parse_text(&raw).unwrap(), Frame::Event(event));
    }

    #[test]
    fn control_frames() {
        assert_eq!(parse_text("pong").unwrap(), Frame::Pong);
        let ack = parse_text(r#"{"code": 1605, "message": "Successfully subscribed", "s": "ok"}"#).unwrap();
        assert_eq!(
            ack,
            Frame::Ack {
                message: "Successfully subscribed".into()
            }
        );
    }

    #[test]
    fn unknown_top_level_keys_are_general() {
        let Frame::Event(Event::General(general)) = parse_text(r#"{"s":"ok","margin":{"x":1}}"#).unwrap()
        else {
            panic!("not general")
        };
        assert_eq!(general.kind, GeneralKind::Other("margin".into()));
        assert_eq!(general.raw["margin"]["x"], 1);
    }

    #[test]
    fn malformed_frames_are_errors() {
        let cases = [
            ("not json", "ping?"),
            ("truncated", r#"{"s":"ok","orders":{"id":"1""#),
            ("array", "[1,2,3]"),
            ("wrong type", r#"{"s":"ok","orders":{"id":"1","qty":"ten"}}"#),
            ("missing id", r#"{"s":"ok","orders":{"qty":1}}"#),
            ("orders not an object", r#"{"s":"ok","orders":"x"}"#),
            ("missing trade number", r#"{"s":"ok","trades":{"id":"1"}}"#),
        ];
        for (name, text) in cases {
            assert!(parse_text(text).is_err(), "{name} should fail");
        }
        let big = format!(r#"{{"s":"ok","pad":"{}"}}"#, "x".repeat(MAX_FRAME_BYTES));
        assert!(matches!(parse_text(&big), Err(WireError::TooLarge { .. })));
        assert!(matches!(
            parse_binary(&[1, 2, 3]),
            Err(WireError::Binary { len: 3 })
        ));
    }

    /// Every cut and every one-character change of real frames reads as an event or an error.
    #[test]
    fn mutated_frames_never_panic() {
        let sample = include_str!("../../tests/data/sample-day.raw.jsonl");
        let replacements = [
            "\"", "\\", "{", "}", "[", "]", ",", ":", "0", "-", ".", "e", " ", "n", "\u{1}", "é",
        ];
        for text in sample.lines().step_by(97).take(12) {
            for cut in 0..text.len() {
                if text.is_char_boundary(cut) {
                    let _ = parse_text(&text[..cut]);
                }
            }
            for (at, old) in text.char_indices() {
                for replacement in replacements {
                    let mutated = format!("{}{replacement}{}", &text[..at], &text[at + old.len_utf8()..]);
                    let _ = parse_text(&mutated);
                }
            }
        }
    }

    #[test]
    fn raw_and_friendly_keys_are_each_declared_once() {
        for keys in [Order::KEYS, Trade::KEYS, Position::KEYS] {
            let raw: BTreeSet<_> = keys.iter().map(|(raw, _)| raw).collect();
            let friendly: BTreeSet<_> = keys.iter().map(|(_, friendly)| friendly).collect();
            assert_eq!(raw.len(), keys.len(), "a raw key twice");
            assert_eq!(friendly.len(), keys.len(), "a friendly key twice");
        }
        assert!(Order::KEYS.contains(&("org_ord_status", "status")));
        assert!(Trade::KEYS.contains(&("id_fill", "tradeNumber")));
        assert!(Position::KEYS.contains(&("pl_total", "pl")));
    }

    #[test]
    fn subscription_messages_are_flat() {
        let kinds: BTreeSet<_> = [EventKind::Orders, EventKind::General].into();
        let message: serde_json::Value = serde_json::from_str(&subscription_message(&kinds, true)).unwrap();
        assert_eq!(
            message,
            serde_json::json!({"T":"SUB_ORD","SLIST":["orders","edis","pricealerts","login"],"SUB_T":1})
        );
        let off: serde_json::Value =
            serde_json::from_str(&subscription_message(&[EventKind::Trades].into(), false)).unwrap();
        assert_eq!(off["SUB_T"], -1);
        assert_eq!(off["SLIST"], serde_json::json!(["trades"]));
    }
}
