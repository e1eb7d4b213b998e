//! The JSON that leaves Orderwatch for other programs, made here only: a headless line and a
//! local API WebSocket message are the same text, `{"type":"OnOrders","data":{...}}` with the
//! data exactly as the official SDK hands its callback (and `"source":"resync"` for rows a REST
//! merge brought in). Written straight from the records, with no `serde_json::Value` between.

use serde::Serialize;

use crate::fyers::model::Event;
use crate::store::Origin;

/// One applied event as a line (no newline).
pub fn event_line(event: &Event, origin: Origin) -> String {
    let mut out = Vec::with_capacity(640);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(event.kind().sdk_name().as_bytes());
    out.extend_from_slice(b"\",\"data\":");
    let written = match event {
        Event::Order(order) => wrapped(&mut out, "orders", order),
        Event::Trade(trade) => wrapped(&mut out, "trades", trade),
        Event::Position(position) => wrapped(&mut out, "positions", position),
        Event::General(general) => serde_json::to_writer(&mut out, &general.raw),
    };
    if written.is_err() {
        // Not reachable (every key is a string), but never worth a panic: the slower, sure path.
        let mut line = serde_json::json!({"type": event.kind().sdk_name(), "data": event.to_sdk_json()});
        if origin == Origin::Resync {
            line["source"] = "resync".into();
        }
        return line.to_string();
    }
    if origin == Origin::Resync {
        out.extend_from_slice(b",\"source\":\"resync\"");
    }
    out.push(b'}');
    // serde_json writes UTF-8 only, and the rest is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// An event's record with the friendly keys, as the REST lists of the local API give it.
pub fn write_record(out: &mut Vec<u8>, event: &Event) -> serde_json::Result<()> {
    match event {
        Event::Order(order) => serde_json::to_writer(out, order),
        Event::Trade(trade) => serde_json::to_writer(out, trade),
        Event::Position(position) => serde_json::to_writer(out, position),
        Event::General(general) => serde_json::to_writer(out, &general.raw),
    }
}

fn wrapped(out: &mut Vec<u8>, key: &str, record: &impl Serialize) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"s\":\"ok\",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    serde_json::to_writer(&mut *out, record)?;
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fyers::wire::{Frame, parse_text};

    /// The fast path writes exactly what the `Value` path (the SDK's shape) does.
    #[test]
    fn lines_are_the_sdk_json() {
        let frames = [
            r#"{"s":"ok","orders":{"id":"26120100001","symbol":"NSE:SBIN-EQ","status":6,"qty":10,"limitPrice":801.5,"orderDateTime":"01-Dec-2026 09:15:00","message":"é \"quoted\""}}"#,
            r#"{"s":"ok","trades":{"tradeNumber":"T1","orderNumber":"26120100001","symbol":"NSE:SBIN-EQ","tradedQty":10,"tradePrice":801.5}}"#,
            r#"{"s":"ok","positions":{"id":"NSE:SBIN-EQ-INTRADAY","symbol":"NSE:SBIN-EQ","netQty":10,"realized_profit":0.5}}"#,
            r#"{"s":"ok","pricealerts":{"symbol":"NSE:SBIN-EQ","value":801}}"#,
        ];
        for frame in frames {
            let Ok(Frame::Event(event)) = parse_text(frame) else {
                panic!("not an event: {frame}");
            };
            let event = &event;
            for origin in [Origin::Socket, Origin::Resync] {
                let mut expected =
                    serde_json::json!({"type": event.kind().sdk_name(), "data": event.to_sdk_json()});
                if origin == Origin::Resync {
                    expected["source"] = "resync".into();
                }
                assert_eq!(event_line(event, origin), expected.to_string());
            }
        }
    }
}
