use super::*;
use crate::fyers::model::{Order, OrderStatus};

fn order(id: &str, status: OrderStatus, filled: i64, time: i64) -> Event {
    Event::Order(Box::new(Order {
        id: id.into(),
        status: Some(status),
        filled_qty: Some(filled),
        update_time_epoch_oms: Some(time),
        ..Order::default()
    }))
}

fn trade(number: &str, value: f64) -> Event {
    Event::Trade(Box::new(Trade {
        trade_number: number.into(),
        trade_value: Some(value),
        ..Trade::default()
    }))
}

fn position(id: &str, net: i64, realized: f64, unrealized: f64) -> Event {
    Event::Position(Box::new(Position {
        id: id.into(),
        net_qty: Some(net),
        realized_profit: Some(realized),
        unrealized_profit: Some(unrealized),
        pl: Some(realized + unrealized),
        ..Position::default()
    }))
}

#[test]
fn a_batch_applies_in_order_and_counts() {
    let mut store = Store::default();
    let report = store.apply_batch(
        vec![
            order("1", OrderStatus::Transit, 0, 1),
            order("1", OrderStatus::Filled, 5, 2),
            trade("t1", 500.0),
            trade("t1", 500.0),
            position("p", 5, 0.0, 12.5),
            position("q", 0, -2.5, 0.0),
        ],
        vec![BadFrame::new(0, "bad".into(), "{")],
        Origin::Socket,
    );
    use Outcome::*;
    assert_eq!(report.outcomes, vec![New, Updated, New, Duplicate, New, New]);
    assert_eq!(report.bad_frames, 1);
    assert_eq!(store.version(), 1);
    assert_eq!(store.count(EventKind::Orders), KindCount { total: 2, unseen: 2 });
    assert_eq!(store.count(EventKind::Trades).total, 2);
    assert_eq!(store.trades().len(), 1, "duplicate trades are dropped");
    assert_eq!(store.duplicates(), 1);
    assert_eq!(store.bad_frames(), 1);
    assert_eq!(store.frames(), 7);
    let aggregates = store.aggregates();
    assert_eq!(aggregates.orders.filled, 1);
    assert_eq!(aggregates.traded_value, 500.0);
    assert_eq!(aggregates.realized_pnl, -2.5);
    assert_eq!(aggregates.unrealized_pnl, 12.5);
    assert_eq!(aggregates.total_pnl, 10.0);
    assert_eq!(aggregates.open_positions, 1);
    store.mark_seen(EventKind::Orders);
    assert_eq!(store.count(EventKind::Orders), KindCount { total: 2, unseen: 0 });
}

#[test]
fn resync_counts_only_what_changed() {
    let mut store = Store::default();
    store.apply_batch(
        vec![order("1", OrderStatus::Pending, 0, 1)],
        vec![],
        Origin::Socket,
    );
    let report = store.apply_batch(
        vec![
            order("1", OrderStatus::Pending, 0, 1),
            order("2", OrderStatus::Filled, 3, 1),
        ],
        vec![],
        Origin::Resync,
    );
    assert_eq!(report.changed(), 1);
    assert_eq!(store.count(EventKind::Orders).total, 2);
    assert_eq!(store.frames(), 1, "resync rows are not socket frames");
}

#[test]
fn general_messages_are_a_bounded_ring() {
    let mut store = Store::new(StoreConfig {
        max_general: 3,
        ..StoreConfig::default()
    });
    let events = (0..5)
        .map(|n| {
            let raw = serde_json::json!({"s": "ok", "login": {"message": format!("login {n}")}});
            let serde_json::Value::Object(raw) = raw else {
                unreachable!()
            };
            Event::General(GeneralEvent::from_frame(raw))
        })
        .collect();
    store.apply_batch(events, vec![], Origin::Socket);
    let kept: Vec<String> = store.general().map(|entry| entry.event.summary()).collect();
    assert_eq!(kept, ["login 2", "login 3", "login 4"]);
    assert_eq!(store.count(EventKind::General).total, 5);
}

#[test]
fn bad_frames_keep_a_bounded_prefix() {
    let mut store = Store::new(StoreConfig {
        max_bad_frames_kept: 2,
        ..StoreConfig::default()
    });
    let huge = "é".repeat(5_000);
    let bad = (0..3)
        .map(|n| BadFrame::new(n, format!("error {n}"), &huge))
        .collect();
    store.apply_batch(vec![], bad, Origin::Socket);
    assert_eq!(store.bad_frames(), 3);
    let kept: Vec<_> = store.recent_bad_frames().collect();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[1].error, "error 2");
    assert!(kept[1].payload.len() <= status::BAD_FRAME_KEEP_BYTES);
    assert_eq!(kept[1].len, huge.len());
}

#[test]
fn trades_are_capped_oldest_first() {
    let mut store = Store::new(StoreConfig {
        max_trades: 100,
        ..StoreConfig::default()
    });
    let trades = (0..150).map(|n| trade(&format!("t{n}"), 1.0)).collect();
    store.apply_batch(trades, vec![], Origin::Socket);
    assert!(store.trades().len() <= 100);
    let key = |number: &str| TradeKey {
        order_number: Text::default(),
        trade_number: number.into(),
    };
    assert!(store.trade(&key("t149")).is_some());
    assert!(store.trade(&key("t0")).is_none());
}

#[test]
fn reconnects_count_lost_connections() {
    let mut store = Store::default();
    let at = Instant::now();
    let reconnecting = |attempt| ConnectionState::Reconnecting {
        attempt,
        next_at: at,
        reason: "x".into(),
    };
    for attempt in 1..=3 {
        store.set_connection(reconnecting(attempt), "cannot connect");
    }
    assert_eq!(store.reconnects(), 0, "never connected: nothing was lost");
    for attempt in 4..=5 {
        store.set_connection(ConnectionState::Connected { since: at }, "back");
        store.set_connection(reconnecting(attempt), "");
    }
    assert_eq!(store.reconnects(), 2);
    assert_eq!(store.connection_log().len(), 5);
}

#[test]
fn a_snapshot_never_undoes_what_the_socket_said_during_the_resync() {
    let mut store = Store::default();
    store.apply_batch(vec![position("p", 5, 0.0, 1.0)], vec![], Origin::Socket);
    let mark = store.resync_mark();
    // While the REST call is out, the socket moves the position on.
    store.apply_batch(vec![position("p", 7, 0.0, 2.0)], vec![], Origin::Socket);
    let report = store.apply_snapshot(
        vec![position("p", 5, 0.0, 1.0), position("q", 1, 0.0, 0.0)],
        vec![],
        mark,
    );
    assert_eq!(report.outcomes, vec![Outcome::Superseded, Outcome::New]);
    assert_eq!(store.position("p").unwrap().position.net_qty, Some(7));
}

#[test]
fn pnl_history_has_a_point_per_second() {
    let mut store = Store::default();
    store.apply_batch(vec![position("p", 1, 0.0, 5.0)], vec![], Origin::Socket);
    store.apply_batch(
        vec![position("p", 1, 0.0, 7.0), position("q", 1, 1.0, 0.0)],
        vec![],
        Origin::Socket,
    );
    let points: Vec<f64> = store.pnl_history().map(|point| point.total).collect();
    // Both batches land in the same second (or the next): the last total is what counts.
    assert_eq!(points.last(), Some(&8.0));
    assert!(points.len() <= 2);
}

#[test]
fn fills_of_two_orders_with_one_trade_number_are_two_trades() {
    let mut store = Store::default();
    let fill = |order: &str| {
        Event::Trade(Box::new(Trade {
            trade_number: "25010100001".into(),
            order_number: Some(order.into()),
            trade_value: Some(100.0),
            ..Trade::default()
        }))
    };
    let report = store.apply_batch(vec![fill("A"), fill("B"), fill("A")], vec![], Origin::Socket);
    assert_eq!(report.outcomes, [Outcome::New, Outcome::New, Outcome::Duplicate]);
    assert_eq!(store.trades().len(), 2);
    assert!((store.aggregates().traded_value - 200.0).abs() < 1e-9);
}

#[test]
fn an_evicted_trade_is_not_counted_again_by_a_resync() {
    let mut store = Store::new(StoreConfig {
        max_trades: 100,
        ..StoreConfig::default()
    });
    let trades: Vec<Event> = (0..300).map(|n| trade(&format!("t{n}"), 10.0)).collect();
    store.apply_batch(trades.clone(), vec![], Origin::Socket);
    let value = store.aggregates().traded_value;
    assert!((value - 3000.0).abs() < 1e-6, "{value}");
    let mark = store.resync_mark();
    let report = store.apply_snapshot(trades, vec![], mark);
    assert!(
        report
            .outcomes
            .iter()
            .all(|outcome| *outcome == Outcome::Duplicate)
    );
    assert!((store.aggregates().traded_value - value).abs() < 1e-9);
    assert!(store.trades().len() <= 100);
}
