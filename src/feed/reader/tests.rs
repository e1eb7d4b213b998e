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
    assert!(parsed.end.is_none());
}

#[test]
fn a_batch_split_over_the_threads_keeps_its_order() {
    let messages: Vec<Message> = (0..5_000).map(|id| Message::text(order_frame(id))).collect();
    let parsed = parse_messages(&messages);
    let expected: Vec<String> = (0..5_000).map(|id| id.to_string()).collect();
    assert_eq!(ids(&parsed), expected);
}

#[test]
fn batches_parsed_in_the_background_come_back_whole_with_how_the_socket_ended() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let receivers: Vec<_> = (0..8)
        .map(|batch| {
            let messages = (0..600)
                .map(|n| Message::text(order_frame(batch * 600 + n)))
                .collect();
            let end = (batch == 7).then(|| "closed by the server".to_owned());
            parse_in_background(messages, end)
        })
        .collect();
    let mut all = Vec::new();
    for (batch, receiver) in receivers.into_iter().enumerate() {
        let parsed = runtime.block_on(receiver).unwrap();
        assert_eq!(parsed.frames, 600);
        assert_eq!(parsed.end.is_some(), batch == 7);
        all.extend(ids(&parsed));
    }
    let expected: Vec<String> = (0..4_800).map(|id| id.to_string()).collect();
    assert_eq!(all, expected);
}
