use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::fyers::model::Event;

fn order_frame(id: usize) -> String {
    format!(r#"{{"s":"ok","orders":{{"id":"{id}","qty":{id},"org_ord_status":6}}}}"#)
}

fn ids(parsed: &Parsed) -> Vec<String> {
    parsed
        .events
        .iter()
        .map(|event| match event {
            Event::Order(order) => order.id.to_string(),
            other => panic!("not an order: {other:?}"),
        })
        .collect()
}

#[test]
fn a_mixed_batch_sorts_into_events_bad_frames_and_acks() {
    let messages = vec![
        Message::text(order_frame(1)),
        Message::text("pong"),
        Message::text(r#"{"code":1605,"message":"Successfully subscribed","s":"ok"}"#),
        Message::binary(vec![0xde, 0xad]),
        Message::Ping(Vec::new().into()),
        Message::text("not json"),
        Message::text(order_frame(2)),
    ];
    let parsed = parse_messages(&messages);
    assert_eq!(ids(&parsed), ["1", "2"]);
    assert_eq!(parsed.acks, ["Successfully subscribed"]);
    assert_eq!(parsed.frames, 7, "every frame counts as read");
    let bad: Vec<(&str, usize)> = parsed
        .bad
        .iter()
        .map(|bad| (bad.payload.as_str(), bad.len))
        .collect();
    assert_eq!(bad, [("<binary>", 2), ("not json", 8)]);
}
