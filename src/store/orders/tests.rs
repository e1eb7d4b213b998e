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
    // The cards count the day's orders: the evicted ones too.
    assert_eq!(book.counts().filled + book.counts().open, 101);
    assert_eq!(book.counts().filled, 50);
}

#[test]
fn an_evicted_order_does_not_come_back_from_a_late_frame_or_a_stale_row() {
    let mut book = OrderBook::new(10, 4);
    for id in 0..20 {
        book.apply(order(&id.to_string(), Filled, 5, Some(100)), Origin::Socket, 0, 1);
    }
    let evicted: Vec<String> = (0..20)
        .map(|id| id.to_string())
        .filter(|id| book.get(id).is_none())
        .collect();
    assert!(evicted.len() >= 10, "{evicted:?}");
    let counts = book.counts();
    assert_eq!(counts.filled, 20);
    for id in &evicted {
        // A late frame, an older REST row, and the same final state again.
        let cases = [
            (order(id, Pending, 0, Some(90)), Origin::Socket, Outcome::Stale),
            (order(id, Pending, 0, None), Origin::Resync, Outcome::Stale),
            (order(id, Filled, 5, None), Origin::Resync, Outcome::Duplicate),
            (
                order(id, Filled, 5, Some(100)),
                Origin::Socket,
                Outcome::Duplicate,
            ),
        ];
        for (update, origin, outcome) in cases {
            assert_eq!(book.apply(update, origin, 0, 2), outcome, "order {id}");
            assert!(book.get(id).is_none(), "order {id} came back");
        }
    }
    assert_eq!(book.counts(), counts, "nothing counted twice");
}

#[test]
fn an_evicted_open_order_that_moves_on_comes_back_counted_once() {
    let mut book = OrderBook::new(2, 4);
    for id in ["a", "b", "c"] {
        book.apply(order(id, Pending, 0, Some(100)), Origin::Socket, 0, 1);
    }
    assert!(book.get("a").is_none(), "all open: the oldest goes");
    assert_eq!(book.counts().open, 3);
    assert_eq!(
        book.apply(order("a", Filled, 7, Some(101)), Origin::Socket, 0, 2),
        Outcome::New
    );
    assert_eq!((book.counts().open, book.counts().filled), (2, 1), "counted once");
    // Finished now, it is the first to go again; its tombstone holds the new state.
    assert!(book.get("a").is_none() && book.get("b").is_some() && book.get("c").is_some());
    assert_eq!(
        book.apply(order("a", Pending, 0, Some(100)), Origin::Socket, 0, 3),
        Outcome::Stale
    );
    assert_eq!((book.counts().open, book.counts().filled), (2, 1));
}

#[test]
fn a_frame_without_a_filled_quantity_keeps_the_one_known() {
    let mut book = OrderBook::new(10, 4);
    book.apply(order("1", Pending, 5, Some(100)), Origin::Socket, 0, 1);
    let mut cancel = order("1", Cancelled, 0, Some(101));
    cancel.filled_qty = None;
    assert_eq!(book.apply(cancel, Origin::Socket, 0, 1), Outcome::Updated);
    let held = &book.get("1").unwrap().order;
    assert_eq!((held.status(), held.filled_qty), (Cancelled, Some(5)));
    // And the New Ack (no qty_filled) arriving late is stale, not a reset to 0.
    let mut ack = order("1", Transit, 0, Some(99));
    ack.filled_qty = None;
    assert_eq!(book.apply(ack, Origin::Socket, 0, 1), Outcome::Stale);
}
