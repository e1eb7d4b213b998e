use super::*;

fn order(id: &str, status: OrderStatus, filled: i64, time: Option<i64>) -> Order {
    Order {
        id: id.into(),
        status: Some(status),
        filled_qty: Some(filled),
        qty: Some(10),
        remaining_qty: Some(10 - filled),
        update_time_epoch_oms: time,
        ..Order::default()
    }
}

use OrderStatus::*;

#[test]
fn transitions_table() {
    // (held, update, expected to replace)
    let cases = [
        (
            order("1", Transit, 0, Some(1)),
            order("1", Pending, 0, Some(1)),
            true,
        ),
        (
            order("1", Pending, 0, Some(1)),
            order("1", Transit, 0, Some(1)),
            false,
        ),
        (
            order("1", Pending, 0, Some(2)),
            order("1", Pending, 4, Some(3)),
            true,
        ),
        (
            order("1", Pending, 4, Some(3)),
            order("1", Pending, 2, Some(4)),
            false,
        ),
        (
            order("1", Filled, 10, Some(5)),
            order("1", Pending, 4, Some(4)),
            false,
        ),
        (
            order("1", Cancelled, 0, Some(5)),
            order("1", Pending, 0, Some(5)),
            false,
        ),
        (
            order("1", Pending, 0, Some(5)),
            order("1", Cancelled, 0, Some(5)),
            true,
        ),
        (
            order("1", Pending, 0, Some(5)),
            order("1", Pending, 0, Some(4)),
            false,
        ),
        // A REST row has no time: arrival order, but still never backwards.
        (
            order("1", Pending, 2, Some(5)),
            order("1", Filled, 10, None),
            true,
        ),
        (
            order("1", Filled, 10, Some(5)),
            order("1", Pending, 2, None),
            false,
        ),
    ];
    for (index, (held, update, expected)) in cases.iter().enumerate() {
        assert_eq!(supersedes(held, update), *expected, "case {index}");
    }
}

#[test]
fn stale_updates_go_to_history_only() {
    let mut book = OrderBook::new(100, 8);
    assert_eq!(
        book.apply(order("1", Transit, 0, Some(1)), Origin::Socket, 0, 1),
        Outcome::New
    );
    assert_eq!(
        book.apply(order("1", Filled, 10, Some(3)), Origin::Socket, 0, 1),
        Outcome::Updated
    );
    assert_eq!(
        book.apply(order("1", Pending, 0, Some(2)), Origin::Socket, 0, 1),
        Outcome::Stale
    );
    assert_eq!(
        book.apply(order("1", Filled, 10, Some(3)), Origin::Socket, 0, 1),
        Outcome::Duplicate
    );
    let entry = book.get("1").unwrap();
    assert_eq!(entry.order.status, Some(Filled));
    assert_eq!(entry.history.len(), 3);
    assert!(!entry.history[2].applied);
    assert_eq!(
        book.counts(),
        OrderCounts {
            filled: 1,
            ..OrderCounts::default()
        }
    );
}

#[test]
fn rest_rows_inherit_socket_timing() {
    let mut book = OrderBook::new(100, 8);
    let mut socket = order("1", Pending, 0, Some(7));
    socket.report_type = Some("NEW_ACK".into());
    book.apply(socket.clone(), Origin::Socket, 0, 1);
    let rest = order("1", Pending, 0, None);
    assert_eq!(book.apply(rest, Origin::Resync, 0, 1), Outcome::Duplicate);
    assert_eq!(*book.get("1").unwrap().order, socket);
}

#[test]
fn resync_rows_yield_to_socket_updates_made_during_the_resync() {
    let mut book = OrderBook::new(100, 8);
    book.apply(order("1", Pending, 0, Some(1)), Origin::Socket, 0, 5);
    let mut modified = order("1", Pending, 0, Some(1));
    modified.limit_price = Some(10.0);
    // The resync began at batch 4; the socket updated the order at batch 5.
    assert_eq!(
        book.apply(modified.clone(), Origin::Resync, 0, 4),
        Outcome::Superseded
    );
    assert_eq!(book.apply(modified, Origin::Resync, 0, 5), Outcome::Updated);
}

#[test]
fn history_is_capped() {
    let mut book = OrderBook::new(100, 3);
    for time in 0..10 {
        book.apply(order("1", Pending, time, Some(time)), Origin::Socket, 0, 1);
    }
    let entry = book.get("1").unwrap();
    assert_eq!(entry.history.len(), 3);
    assert_eq!(entry.updates, 10);
    assert_eq!(entry.history.back().unwrap().filled_qty, Some(9));
}

#[test]
fn eviction_drops_oldest_finished_orders_first() {
    let mut book = OrderBook::new(100, 4);
    for id in 0..100 {
        let status = if id % 2 == 0 { Filled } else { Pending };
        book.apply(order(&id.to_string(), status, 0, Some(1)), Origin::Socket, 0, 1);
    }
    book.apply(order("100", Pending, 0, Some(1)), Origin::Socket, 0, 1);
    // Trimmed to 95 (a twentieth below the cap): the six oldest filled orders go.
    assert_eq!(book.len(), 95);
    assert_eq!(book.evicted(), 6);
    assert!(
        (0..12).step_by(2).all(|id| book.get(&id.to_string()).is_none()),
        "oldest filled orders go first"
    );
    assert!(book.get("1").is_some() && book.get("12").is_some() && book.get("100").is_some());
    assert_eq!(book.counts().filled + book.counts().open, book.len() as u64);
}
