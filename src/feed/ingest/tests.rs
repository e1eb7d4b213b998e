use std::sync::Arc;

use parking_lot::RwLock;
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::fyers::model::Event;
use crate::store::Store;

fn order_frame(id: usize, qty: usize) -> String {
    format!(r#"{{"s":"ok","orders":{{"id":"{id}","qty":{qty},"org_ord_status":6}}}}"#)
}

/// An update of the order every frame touches, told apart by `qty_remaining`, with no time.
fn shared_update(n: usize) -> String {
    format!(r#"{{"s":"ok","orders":{{"id":"7","qty":{n},"qty_remaining":{n},"org_ord_status":6}}}}"#)
}

fn replies(receivers: Vec<oneshot::Receiver<Applied>>) -> Vec<Applied> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    receivers
        .into_iter()
        .map(|receiver| runtime.block_on(receiver).unwrap())
        .collect()
}

/// Batches of very different sizes, so later ones are often parsed before earlier ones: the store
/// must still take them in the order read. Every frame is a new order, plus one order that every
/// frame updates without a time (so the last frame read must be the state held).
#[test]
fn batches_are_applied_in_the_order_read_whoever_parses_them_first() {
    let store = Arc::new(RwLock::new(Store::default()));
    let inlet = Ingest::new(store.clone()).inlet(false);
    let sizes = [3_000, 1, 700, 2, 2_500, 40, 1, 1_000, 3, 300, 2_000, 5];
    let mut next = 0;
    let mut receivers = Vec::new();
    for (batch, size) in sizes.iter().enumerate() {
        let mut messages = Vec::new();
        for _ in 0..*size {
            messages.push(Message::text(order_frame(1_000_000 + next, 1)));
            messages.push(Message::text(shared_update(next + 1)));
            next += 1;
        }
        let end = (batch == sizes.len() - 1).then(|| "closed by the server".to_owned());
        receivers.push(inlet.submit(messages, end));
    }
    let replies = replies(receivers);
    for (reply, size) in replies.iter().zip(sizes) {
        assert!(reply.applied);
        assert_eq!(reply.frames, 2 * size);
    }
    assert!(replies.iter().rev().skip(1).all(|reply| reply.end.is_none()));
    assert_eq!(
        replies.last().unwrap().end.as_deref(),
        Some("closed by the server")
    );
    let store = store.read();
    let ids: Vec<String> = store
        .orders
        .entries()
        .map(|entry| entry.order.id.to_string())
        .collect();
    let expected: Vec<String> = std::iter::once("1000000".to_owned())
        .chain(std::iter::once("7".to_owned()))
        .chain((1..next).map(|n| (1_000_000 + n).to_string()))
        .collect();
    assert_eq!(ids, expected, "orders first seen in the order read");
    let shared = store.orders.get("7").unwrap();
    assert_eq!(
        shared.order.qty,
        Some(next as i64),
        "the last frame read is the state held"
    );
    assert_eq!(shared.updates, next as u64);
    let remaining: Vec<i64> = shared
        .history
        .iter()
        .filter_map(|update| update.remaining_qty)
        .collect();
    assert!(!remaining.is_empty());
    assert!(
        remaining.windows(2).all(|pair| pair[0] + 1 == pair[1]),
        "the history in the order read: {remaining:?}"
    );
    assert_eq!(remaining.last(), Some(&(next as i64)));
    assert_eq!(store.frames(), 2 * next as u64);
}

#[test]
fn a_reply_carries_the_batch_acks_and_bad_frames() {
    let store = Arc::new(RwLock::new(Store::default()));
    let inlet = Ingest::new(store.clone()).inlet(false);
    let messages = vec![
        Message::text(order_frame(1, 1)),
        Message::text("pong"),
        Message::text(r#"{"code":1605,"message":"Successfully subscribed","s":"ok"}"#),
        Message::text("not json"),
        Message::binary(vec![0xde, 0xad]),
    ];
    let reply = replies(vec![inlet.submit(messages, None)]).remove(0);
    assert_eq!(reply.frames, 5);
    assert_eq!(reply.acks, ["Successfully subscribed"]);
    assert_eq!(reply.bad_frames, 2);
    assert!(reply.last_error.is_some());
    assert!(reply.tapped.is_none(), "no tap asked for");
    let store = store.read();
    assert_eq!(store.orders.len(), 1);
    assert_eq!(store.bad_frames(), 2);
}

#[test]
fn with_a_tap_the_reply_carries_what_changed_the_store() {
    let store = Arc::new(RwLock::new(Store::default()));
    let inlet = Ingest::new(store).inlet(true);
    let frame = order_frame(1, 5);
    let messages = vec![Message::text(frame.as_str()), Message::text(frame.as_str())];
    let reply = replies(vec![inlet.submit(messages, None)]).remove(0);
    let tapped = reply.tapped.unwrap();
    assert_eq!(tapped.len(), 1, "the repeat changed nothing: {tapped:?}");
    assert!(matches!(&tapped[0], Event::Order(order) if order.id == "1"));
}

/// A session that ended leaves its batches unapplied; the next connection's batches still apply,
/// and the replies still come, so nothing waits on them forever.
#[test]
fn a_closed_inlet_applies_nothing_more_and_the_next_one_carries_on() {
    let store = Arc::new(RwLock::new(Store::default()));
    let ingest = Ingest::new(store.clone());
    let first = ingest.inlet(false);
    let applied = replies(vec![first.submit(vec![Message::text(order_frame(1, 1))], None)]);
    assert!(applied[0].applied);
    first.close();
    let dropped = first.submit(vec![Message::text(order_frame(2, 1))], None);
    let second = ingest.inlet(false);
    let next = second.submit(vec![Message::text(order_frame(3, 1))], None);
    let replies = replies(vec![dropped, next]);
    assert_eq!((replies[0].applied, replies[0].frames), (false, 1));
    assert!(replies[1].applied);
    let store = store.read();
    let ids: Vec<&str> = store
        .orders
        .entries()
        .map(|entry| entry.order.id.as_str())
        .collect();
    assert_eq!(ids, ["1", "3"]);
}

#[test]
fn an_empty_batch_brings_only_how_the_socket_ended() {
    let store = Arc::new(RwLock::new(Store::default()));
    let inlet = Ingest::new(store.clone()).inlet(false);
    let version = store.read().version();
    let reply = replies(vec![
        inlet.submit(Vec::new(), Some("closed by the server".to_owned())),
    ])
    .remove(0);
    assert_eq!(reply.end.as_deref(), Some("closed by the server"));
    assert_eq!((reply.frames, reply.applied), (0, false));
    assert_eq!(
        store.read().version(),
        version,
        "nothing to apply, nothing changed"
    );
}
