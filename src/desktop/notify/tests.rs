//! The notifier's rules, table-driven: order transitions, coalescing, resyncs, settings, the
//! stream's health and the login's life. Time is made up; nothing touches a desktop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde_json::json;

use super::wording;
use super::{Notification, Notifier, NotifyKind, STREAM_LOST_AFTER, Sink};
use crate::config::NotificationSettings;
use crate::feed::Tap;
use crate::fyers::model::{Event, GeneralEvent, Order, OrderStatus, Side, Trade};
use crate::store::{FeedStatus, Origin};

const WINDOW: Duration = Duration::from_secs(2);

fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds)
}

/// An order of `qty` at ₹800 with `filled` done, as the socket sends it.
fn order(id: &str, status: OrderStatus, filled: i64, qty: i64) -> Order {
    Order {
        id: id.into(),
        symbol: Some("NSE:SBIN-EQ".into()),
        side: Some(Side::Buy),
        qty: Some(qty),
        filled_qty: Some(filled),
        remaining_qty: Some(qty - filled),
        limit_price: Some(800.0),
        traded_price: (filled > 0).then_some(800.0),
        status: Some(status),
        ..Order::default()
    }
}

fn filled(id: &str, symbol: &str, qty: i64, price: f64) -> Order {
    Order {
        symbol: Some(symbol.into()),
        traded_price: Some(price),
        limit_price: Some(price),
        ..order(id, OrderStatus::Filled, qty, qty)
    }
}

fn rejected(id: &str, symbol: &str, reason: &str) -> Order {
    Order {
        symbol: Some(symbol.into()),
        message: Some(reason.into()),
        ..order(id, OrderStatus::Rejected, 0, 10)
    }
}

fn socket(orders: impl IntoIterator<Item = Order>) -> Tap {
    events(orders, Origin::Socket)
}

fn resync(orders: impl IntoIterator<Item = Order>) -> Tap {
    events(orders, Origin::Resync)
}

fn events(orders: impl IntoIterator<Item = Order>, origin: Origin) -> Tap {
    let events = orders
        .into_iter()
        .map(|order| Event::Order(Box::new(order)))
        .collect();
    Tap::Events {
        events,
        origin,
        journaled: None,
    }
}

fn status(status: FeedStatus) -> Tap {
    Tap::Status(status)
}

fn all_on() -> NotificationSettings {
    NotificationSettings {
        trade_executed: true,
        ..NotificationSettings::default()
    }
}

/// Calls `due` at every deadline up to `until`, as the task does; everything shown, in order.
fn run_until(notifier: &mut Notifier, until: Instant, settings: &NotificationSettings) -> Vec<Notification> {
    let mut shown = Vec::new();
    while let Some(deadline) = notifier.next_deadline().filter(|deadline| *deadline <= until) {
        shown.extend(notifier.due(deadline, settings));
    }
    shown
}

fn kinds(notifications: &[Notification]) -> Vec<NotifyKind> {
    notifications
        .iter()
        .map(|notification| notification.kind)
        .collect()
}

/// (what, known before (None: never seen), the update (status, filled of 10), notified)
type Transition = (
    &'static str,
    Option<(OrderStatus, i64)>,
    (OrderStatus, i64),
    Option<NotifyKind>,
);

/// What the feed said, and when.
type Script = Vec<(f64, Tap)>;

#[test]
fn order_transitions() {
    use NotifyKind::*;
    use OrderStatus::*;
    let cases: &[Transition] = &[
        ("first seen filled", None, (Filled, 10), Some(OrderFilled)),
        (
            "pending to filled",
            Some((Pending, 0)),
            (Filled, 10),
            Some(OrderFilled),
        ),
        (
            "part filled to filled",
            Some((Pending, 4)),
            (Filled, 10),
            Some(OrderFilled),
        ),
        ("filled again", Some((Filled, 10)), (Filled, 10), None),
        (
            "first part fill",
            Some((Pending, 0)),
            (Pending, 4),
            Some(OrderPartiallyFilled),
        ),
        (
            "another part fill",
            Some((Pending, 4)),
            (Pending, 7),
            Some(OrderPartiallyFilled),
        ),
        (
            "first seen part filled",
            None,
            (Pending, 4),
            Some(OrderPartiallyFilled),
        ),
        ("modified, no fill", Some((Pending, 4)), (Pending, 4), None),
        ("new order", None, (Pending, 0), None),
        ("acknowledged", Some((Transit, 0)), (Pending, 0), None),
        (
            "all filled but still pending",
            Some((Pending, 4)),
            (Pending, 10),
            None,
        ),
        (
            "rejected by RMS",
            Some((Transit, 0)),
            (Rejected, 0),
            Some(OrderRejected),
        ),
        ("rejected again", Some((Rejected, 0)), (Rejected, 0), None),
        (
            "cancelled",
            Some((Pending, 0)),
            (Cancelled, 0),
            Some(OrderCancelled),
        ),
        (
            "cancelled after a part fill",
            Some((Pending, 4)),
            (Cancelled, 4),
            Some(OrderCancelled),
        ),
        (
            "cancelled after filled (late)",
            Some((Filled, 10)),
            (Cancelled, 10),
            None,
        ),
        ("back to transit (late)", Some((Pending, 0)), (Transit, 0), None),
        ("expired", Some((Pending, 0)), (Expired, 0), None),
    ];
    let t0 = Instant::now();
    for (what, before, (after, after_filled), expected) in cases {
        let mut notifier = Notifier::new(WINDOW);
        if let Some((before, before_filled)) = before {
            notifier.observe(&resync([order("A", *before, *before_filled, 10)]), t0);
        }
        notifier.observe(&socket([order("A", *after, *after_filled, 10)]), t0);
        let shown = run_until(&mut notifier, t0 + WINDOW, &all_on());
        assert_eq!(
            kinds(&shown),
            expected.iter().copied().collect::<Vec<_>>(),
            "{what}"
        );
    }
}

#[test]
fn lone_notifications_read_like_the_order() {
    let margin = "RMS:Margin Shortfall:INR 12,345.60 Available:INR 1,02,410.25";
    let cases = [
        (
            filled("1", "NSE:RELIANCE-EQ", 10, 2950.0),
            "Order filled",
            "BUY 10 NSE:RELIANCE-EQ @ ₹2,950.00".to_owned(),
            false,
        ),
        (
            rejected("2", "NSE:RELIANCE-EQ", margin),
            "Order rejected",
            format!("BUY 10 NSE:RELIANCE-EQ @ ₹800.00\n{margin}"),
            true,
        ),
        (
            Order {
                message: Some("Cancelled by user".into()),
                side: Some(Side::Sell),
                ..order("3", OrderStatus::Cancelled, 4, 1500)
            },
            "Order cancelled",
            "SELL 1,500 NSE:SBIN-EQ @ ₹800.00 · 4 filled\nCancelled by user".to_owned(),
            false,
        ),
        (
            order("4", OrderStatus::Pending, 250, 1000),
            "Order partly filled",
            "BUY 250 of 1,000 NSE:SBIN-EQ @ ₹800.00".to_owned(),
            false,
        ),
    ];
    let t0 = Instant::now();
    for (order, summary, body, urgent) in cases {
        let mut notifier = Notifier::new(WINDOW);
        notifier.observe(&socket([order]), t0);
        let shown = run_until(&mut notifier, t0 + WINDOW, &all_on());
        assert_eq!(shown.len(), 1, "{summary}");
        assert_eq!(shown[0].summary, summary);
        assert_eq!(shown[0].body, body);
        assert_eq!(shown[0].urgent, urgent, "{summary}");
    }
}

#[test]
fn a_burst_of_fills_is_one_notification_with_the_total() {
    let t0 = Instant::now();
    let mut notifier = Notifier::new(WINDOW);
    let mut total = 0.0;
    for i in 0..40u32 {
        let (qty, price) = (i64::from(i) + 1, 100.25 * f64::from(i + 1));
        total += qty as f64 * price;
        let at = t0 + secs(f64::from(i) * 0.045);
        notifier.observe(
            &socket([filled(&format!("F{i}"), &format!("NSE:SYM{i}-EQ"), qty, price)]),
            at,
        );
        assert_eq!(
            notifier.next_deadline(),
            Some(t0 + WINDOW),
            "the window runs from the first"
        );
    }
    assert!(notifier.due(t0 + secs(1.99), &all_on()).is_empty());
    let shown = notifier.due(t0 + WINDOW, &all_on());
    assert_eq!(total, 2_219_535.0);
    assert_eq!(
        shown,
        [Notification::new(
            NotifyKind::OrderFilled,
            "40 orders filled",
            "₹22,19,535.00 traded · SYM0, SYM1, SYM2, +37 more"
        )]
    );
    assert_eq!(notifier.next_deadline(), None);
}

#[test]
fn fills_further_apart_than_the_window_come_alone() {
    let t0 = Instant::now();
    let mut notifier = Notifier::new(WINDOW);
    notifier.observe(&socket([filled("1", "NSE:TCS-EQ", 5, 4000.0)]), t0);
    notifier.observe(&socket([filled("2", "NSE:INFY-EQ", 5, 1500.0)]), t0 + secs(2.5));
    let first = notifier.due(t0 + WINDOW, &all_on());
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].body, "BUY 5 NSE:TCS-EQ @ ₹4,000.00");
    assert_eq!(notifier.next_deadline(), Some(t0 + secs(4.5)));
    let second = run_until(&mut notifier, t0 + secs(10.0), &all_on());
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].summary, "Order filled");
}

#[test]
fn bursts_of_each_kind_are_worded() {
    let t0 = Instant::now();
    let mut notifier = Notifier::new(WINDOW);
    let reasons = [
        "RMS:Blocked for Intraday / MIS product",
        "16283:Order price is out of circuit range",
    ];
    let mut orders: Vec<Order> = (0..5)
        .map(|i| rejected(&format!("R{i}"), &format!("NSE:R{i}-EQ"), reasons[i % 2]))
        .collect();
    orders.extend((0..3).map(|i| Order {
        symbol: Some(format!("NSE:C{i}-EQ").into()),
        ..order(&format!("C{i}"), OrderStatus::Cancelled, 0, 10)
    }));
    orders.extend((0..2).map(|i| order(&format!("P{i}"), OrderStatus::Pending, 5, 10)));
    notifier.observe(&socket(orders), t0);
    let trades = (0..3)
        .map(|i| {
            Event::Trade(Box::new(Trade {
                trade_number: format!("T{i}").into(),
                symbol: Some("NSE:TCS-EQ".into()),
                traded_qty: Some(2),
                trade_price: Some(4000.0),
                side: Some(Side::Sell),
                ..Trade::default()
            }))
        })
        .collect();
    notifier.observe(
        &Tap::Events {
            events: trades,
            origin: Origin::Socket,
            journaled: None,
        },
        t0,
    );
    let shown = run_until(&mut notifier, t0 + WINDOW, &all_on());
    let worded: Vec<(&str, &str)> = shown
        .iter()
        .map(|n| (n.summary.as_str(), n.body.as_str()))
        .collect();
    assert_eq!(
        worded,
        [
            (
                "5 orders rejected",
                "R0: RMS:Blocked for Intraday / MIS product\nR1: 16283:Order price is out of circuit range\n\
                 R2: RMS:Blocked for Intraday / MIS product\n+2 more"
            ),
            ("3 orders cancelled", "C0, C1, C2"),
            ("2 orders partly filled", "₹8,000.00 traded · SBIN"),
            ("3 trades executed", "₹24,000.00 traded · TCS"),
        ]
    );
    assert!(shown[0].urgent && !shown[1].urgent);
}

#[test]
fn price_alerts_are_notified_other_notices_are_not() {
    let general = |frame: serde_json::Value| {
        let serde_json::Value::Object(raw) = frame else {
            unreachable!()
        };
        Event::General(GeneralEvent::from_frame(raw))
    };
    let t0 = Instant::now();
    let mut notifier = Notifier::new(WINDOW);
    let events = vec![
        general(
            json!({"s": "ok", "pricealerts": {"name": "RELIANCE-EQ above 2950.5", "symbol": "NSE:RELIANCE-EQ"}}),
        ),
        general(json!({"s": "ok", "login": {"message": "Login successful"}})),
        general(json!({"s": "ok", "edis": {"message": "eDIS authorisation received from CDSL"}})),
    ];
    notifier.observe(
        &Tap::Events {
            events,
            origin: Origin::Socket,
            journaled: None,
        },
        t0,
    );
    let shown = run_until(&mut notifier, t0 + WINDOW, &all_on());
    assert_eq!(
        shown,
        [Notification::new(
            NotifyKind::PriceAlert,
            "Price alert",
            "RELIANCE-EQ above 2950.5"
        )]
    );
}

#[test]
fn a_resync_teaches_but_does_not_notify() {
    let t0 = Instant::now();
    let mut notifier = Notifier::new(WINDOW);
    notifier.observe(
        &resync([
            filled("A", "NSE:TCS-EQ", 5, 4000.0),
            order("B", OrderStatus::Pending, 3, 10),
        ]),
        t0,
    );
    assert_eq!(notifier.next_deadline(), None);
    // The same states live: already known, so nothing.
    notifier.observe(
        &socket([
            filled("A", "NSE:TCS-EQ", 5, 4000.0),
            order("B", OrderStatus::Pending, 3, 10),
        ]),
        t0,
    );
    assert_eq!(notifier.next_deadline(), None);
    // What is new after the resync is news.
    notifier.observe(&socket([order("B", OrderStatus::Filled, 10, 10)]), t0 + secs(1.0));
    let shown = run_until(&mut notifier, t0 + secs(5.0), &all_on());
    assert_eq!(kinds(&shown), [NotifyKind::OrderFilled]);
}

#[test]
fn kinds_switched_off_or_muted_show_nothing_but_still_learn() {
    type Switch = fn(&mut NotificationSettings);
    let cases: &[(&str, Switch, Order)] = &[
        (
            "fills",
            |s| s.order_filled = false,
            filled("A", "NSE:TCS-EQ", 5, 4000.0),
        ),
        (
            "part fills",
            |s| s.order_partially_filled = false,
            order("A", OrderStatus::Pending, 3, 10),
        ),
        (
            "rejections",
            |s| s.order_rejected = false,
            rejected("A", "NSE:TCS-EQ", "RMS"),
        ),
        (
            "cancellations",
            |s| s.order_cancelled = false,
            order("A", OrderStatus::Cancelled, 0, 10),
        ),
        ("muted", |s| s.muted = true, filled("A", "NSE:TCS-EQ", 5, 4000.0)),
    ];
    let t0 = Instant::now();
    for (what, switch_off, update) in cases {
        let mut off = all_on();
        switch_off(&mut off);
        let mut notifier = Notifier::new(WINDOW);
        notifier.observe(&socket([update.clone()]), t0);
        assert!(run_until(&mut notifier, t0 + WINDOW, &off).is_empty(), "{what}");
        // Switched back on, the same state again is not news: it was learnt while off.
        notifier.observe(&socket([update.clone()]), t0 + secs(3.0));
        assert!(
            run_until(&mut notifier, t0 + secs(6.0), &all_on()).is_empty(),
            "{what}"
        );
    }
    // Trades are off by default: every fill already notifies as an order.
    let mut notifier = Notifier::new(WINDOW);
    let trade = Event::Trade(Box::new(Trade {
        trade_number: "T1".into(),
        ..Trade::default()
    }));
    notifier.observe(
        &Tap::Events {
            events: vec![trade],
            origin: Origin::Socket,
            journaled: None,
        },
        t0,
    );
    assert!(run_until(&mut notifier, t0 + WINDOW, &NotificationSettings::default()).is_empty());
}

#[test]
fn the_stream_is_lost_after_thirty_seconds_and_restored_only_after() {
    let connected = || status(FeedStatus::Connected { reconnected: false });
    let reconnecting = || {
        status(FeedStatus::Reconnecting {
            attempt: 3,
            delay: Duration::from_millis(800),
            reason: "closed by the server".into(),
        })
    };
    let connecting = || status(FeedStatus::Connecting { attempt: 0 });
    let disconnected = || {
        status(FeedStatus::Disconnected {
            reason: "stream stopped".into(),
        })
    };
    // (what, taps at seconds, notified kinds by the end (60 s))
    let cases: Vec<(&str, Script, Vec<NotifyKind>)> = vec![
        (
            "down 45 s",
            vec![
                (0.0, connected()),
                (1.0, reconnecting()),
                (5.0, connecting()),
                (46.0, connected()),
            ],
            vec![NotifyKind::StreamLost, NotifyKind::StreamRestored],
        ),
        (
            "down 10 s",
            vec![(0.0, connected()), (1.0, reconnecting()), (11.0, connected())],
            vec![],
        ),
        (
            "never connected yet",
            vec![(0.0, connecting()), (1.0, reconnecting())],
            vec![],
        ),
        (
            "stopped by the user",
            vec![(0.0, connected()), (1.0, disconnected())],
            vec![],
        ),
        (
            "still down",
            vec![(0.0, connected()), (1.0, reconnecting())],
            vec![NotifyKind::StreamLost],
        ),
        (
            "lost, then stopped, then back",
            vec![
                (0.0, connected()),
                (1.0, reconnecting()),
                (40.0, disconnected()),
                (50.0, connecting()),
                (51.0, connected()),
            ],
            vec![NotifyKind::StreamLost, NotifyKind::StreamRestored],
        ),
    ];
    for (what, taps, expected) in cases {
        let t0 = Instant::now();
        let mut notifier = Notifier::new(WINDOW);
        let mut shown = Vec::new();
        for (at, tap) in taps {
            shown.extend(run_until(&mut notifier, t0 + secs(at), &all_on()));
            notifier.observe(&tap, t0 + secs(at));
        }
        shown.extend(run_until(&mut notifier, t0 + secs(60.0), &all_on()));
        assert_eq!(kinds(&shown), expected, "{what}");
    }
}

#[test]
fn stream_lost_wording_and_timing() {
    let t0 = Instant::now();
    let mut notifier = Notifier::new(WINDOW);
    notifier.observe(&status(FeedStatus::Connected { reconnected: false }), t0);
    notifier.observe(
        &status(FeedStatus::Reconnecting {
            attempt: 1,
            delay: secs(1.0),
            reason: "no frame or pong for 30 s".into(),
        }),
        t0 + secs(2.0),
    );
    assert_eq!(notifier.next_deadline(), Some(t0 + secs(2.0) + STREAM_LOST_AFTER));
    assert!(notifier.due(t0 + secs(31.9), &all_on()).is_empty());
    let lost = notifier.due(t0 + secs(32.0), &all_on());
    assert_eq!(
        lost,
        [Notification::new(
            NotifyKind::StreamLost,
            "Stream lost",
            "No connection to Fyers for 30 s (no frame or pong for 30 s). Still retrying."
        )]
    );
    assert!(lost[0].urgent);
    assert_eq!(notifier.next_deadline(), None, "lost is said once");
    notifier.observe(
        &status(FeedStatus::Connected { reconnected: false }),
        t0 + secs(77.0),
    );
    let restored = notifier.due(t0 + secs(77.0), &all_on());
    assert_eq!(restored[0].summary, "Stream restored");
    assert_eq!(
        restored[0].body,
        "Connected again after 1 min 15 s. Changes made meanwhile are in the window, not notified."
    );
}

#[test]
fn no_restored_when_the_loss_was_not_shown() {
    let t0 = Instant::now();
    let mut notifier = Notifier::new(WINDOW);
    let quiet = NotificationSettings {
        stream: false,
        ..all_on()
    };
    notifier.observe(&status(FeedStatus::Connected { reconnected: false }), t0);
    notifier.observe(
        &status(FeedStatus::Reconnecting {
            attempt: 1,
            delay: secs(1.0),
            reason: String::new(),
        }),
        t0,
    );
    assert!(run_until(&mut notifier, t0 + secs(40.0), &quiet).is_empty());
    notifier.observe(
        &status(FeedStatus::Connected { reconnected: false }),
        t0 + secs(41.0),
    );
    assert!(run_until(&mut notifier, t0 + secs(50.0), &all_on()).is_empty());
}

#[test]
fn the_session_ends_once_per_login() {
    use NotifyKind::{SessionEnding, SessionExpired};
    let ending = || status(FeedStatus::SessionEnding { left: secs(900.0) });
    let rejected = || status(FeedStatus::SessionExpired);
    // (what, taps at minutes, notified)
    let cases: Vec<(&str, Script, Vec<NotifyKind>)> = vec![
        (
            "repeated warning",
            vec![(0.0, ending()), (0.1, ending()), (5.0, ending())],
            vec![SessionEnding],
        ),
        (
            "warned, then expired",
            vec![(0.0, ending()), (15.0, rejected()), (15.1, rejected())],
            vec![SessionEnding, SessionExpired],
        ),
        (
            "a new login warns again",
            vec![
                (0.0, ending()),
                (15.0, rejected()),
                (
                    15.5,
                    status(FeedStatus::Disconnected {
                        reason: "stream stopped".into(),
                    }),
                ),
                (16.0, ending()),
            ],
            vec![SessionEnding, SessionExpired, SessionEnding],
        ),
        (
            "a new token a day later",
            vec![(0.0, ending()), (24.0 * 60.0, ending())],
            vec![SessionEnding, SessionEnding],
        ),
        (
            "rejected, tried again, rejected",
            vec![
                (0.0, rejected()),
                (
                    1.0,
                    status(FeedStatus::Disconnected {
                        reason: "stream stopped".into(),
                    }),
                ),
                (2.0, rejected()),
            ],
            vec![SessionExpired, SessionExpired],
        ),
    ];
    for (what, taps, expected) in cases {
        let t0 = Instant::now();
        let mut notifier = Notifier::new(WINDOW);
        let mut shown = Vec::new();
        for (minutes, tap) in taps {
            notifier.observe(&tap, t0 + secs(minutes * 60.0));
            shown.extend(run_until(&mut notifier, t0 + secs(minutes * 60.0), &all_on()));
        }
        assert_eq!(kinds(&shown), expected, "{what}");
    }
    let mut notifier = Notifier::new(WINDOW);
    let t0 = Instant::now();
    notifier.observe(&rejected(), t0);
    let expired = notifier.due(t0, &all_on());
    assert_eq!(expired[0].summary, "Session expired");
    assert_eq!(
        expired[0].body,
        "The session has expired (Fyers tokens last one trading day).\nLog in again to resume the stream."
    );
    assert!(expired[0].urgent);
    notifier.observe(&ending(), t0);
    let ending = notifier.due(t0, &all_on());
    assert_eq!(ending[0].summary, "Session ending soon");
    assert!(!ending[0].urgent);
    assert!(
        notifier
            .due(
                t0,
                &NotificationSettings {
                    session: false,
                    ..all_on()
                }
            )
            .is_empty()
    );
}

#[test]
fn order_memory_is_bounded_oldest_forgotten() {
    let t0 = Instant::now();
    let mut notifier = Notifier::with_order_memory(WINDOW, 2);
    notifier.observe(
        &resync(["A", "B", "C"].map(|id| filled(id, "NSE:TCS-EQ", 1, 1.0))),
        t0,
    );
    // C and B are remembered; A was forgotten, so its fill reads as news again.
    notifier.observe(
        &socket(["C", "B", "A"].map(|id| filled(id, "NSE:TCS-EQ", 1, 1.0))),
        t0,
    );
    let shown = run_until(&mut notifier, t0 + WINDOW, &all_on());
    assert_eq!(kinds(&shown), [NotifyKind::OrderFilled]);
    assert_eq!(shown[0].summary, "Order filled");
}

#[test]
fn flush_shows_what_is_held_back() {
    let t0 = Instant::now();
    let mut notifier = Notifier::new(WINDOW);
    notifier.observe(
        &socket([
            filled("A", "NSE:TCS-EQ", 1, 1.0),
            filled("B", "NSE:TCS-EQ", 1, 1.0),
        ]),
        t0,
    );
    assert_eq!(notifier.flush(&all_on())[0].summary, "2 orders filled");
    assert_eq!(notifier.next_deadline(), None);
}

#[test]
fn names_as_traders_say_them() {
    let cases = [
        ("NSE:RELIANCE-EQ", "RELIANCE"),
        ("NSE:M&M-EQ", "M&M"),
        ("BSE:SBIN-A", "SBIN"),
        ("NSE:NIFTY25DECFUT", "NIFTY25DECFUT"),
        ("NSE:BAJAJ-AUTO-EQ", "BAJAJ-AUTO"),
        ("NSE:BAJAJ-AUTO", "BAJAJ-AUTO"),
        ("MCX:CRUDEOIL25DEC6000CE", "CRUDEOIL25DEC6000CE"),
        ("PLAIN", "PLAIN"),
    ];
    for (symbol, name) in cases {
        assert_eq!(wording::short_name(symbol), name, "{symbol}");
    }
    assert_eq!(super::sink::escape_markup("M&M <b>"), "M&amp;M &lt;b&gt;");
}

/// Keeps what it is asked to show; fails when told to.
struct Recorder {
    shown: Arc<Mutex<Vec<Notification>>>,
    failing: bool,
}

impl Sink for Recorder {
    fn show(&mut self, notification: &Notification) -> Result<(), String> {
        if self.failing {
            return Err("no notification server".into());
        }
        self.shown.lock().push(notification.clone());
        Ok(())
    }
}

#[tokio::test]
async fn the_task_shows_what_is_due_and_flushes_at_the_end() {
    let shown = Arc::new(Mutex::new(Vec::new()));
    let sink = Box::new(Recorder {
        shown: shown.clone(),
        failing: false,
    });
    let (taps, receiver) = tokio::sync::mpsc::channel(1);
    let settings = Arc::new(RwLock::new(all_on()));
    let task = super::spawn_notifier(Notifier::new(Duration::from_millis(50)), receiver, settings, sink);
    // A small channel and many taps: the task must keep draining.
    for i in 0..500 {
        let tap = socket([filled(&format!("A{i}"), "NSE:TCS-EQ", 1, 10.0)]);
        tokio::time::timeout(Duration::from_secs(5), taps.send(tap))
            .await
            .unwrap()
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let total: usize = shown
        .lock()
        .iter()
        .map(|n| {
            n.summary
                .split(' ')
                .next()
                .unwrap()
                .replace(',', "")
                .parse::<usize>()
                .unwrap_or(1)
        })
        .sum();
    assert_eq!(total, 500, "{:?}", shown.lock());
    taps.send(socket([filled("last", "NSE:INFY-EQ", 1, 10.0)]))
        .await
        .unwrap();
    drop(taps);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.lock().last().unwrap().body, "BUY 1 NSE:INFY-EQ @ ₹10.00");
}

#[tokio::test]
async fn a_broken_desktop_does_not_stop_the_task() {
    let (taps, receiver) = tokio::sync::mpsc::channel(4);
    let sink = Box::new(Recorder {
        shown: Arc::default(),
        failing: true,
    });
    let settings = Arc::new(RwLock::new(all_on()));
    let task = super::spawn_notifier(Notifier::new(Duration::ZERO), receiver, settings, sink);
    for i in 0..50 {
        taps.send(socket([filled(&format!("A{i}"), "NSE:TCS-EQ", 1, 10.0)]))
            .await
            .unwrap();
    }
    drop(taps);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

/// Quantities and prices from the network are not trusted to be sane: the extremes of i64 and
/// f64 in fills make notifications (or none), never an overflow panic.
#[test]
fn hostile_fill_quantities_do_not_panic() {
    let mut notifier = Notifier::new(WINDOW);
    let t0 = Instant::now();
    let extremes = [i64::MIN, -1, 0, 1, i64::MAX];
    for (n, (filled, qty)) in extremes
        .iter()
        .flat_map(|filled| extremes.iter().map(move |qty| (*filled, *qty)))
        .enumerate()
    {
        let id = format!("x{}", n % 3);
        for status in [OrderStatus::Pending, OrderStatus::Filled, OrderStatus::Cancelled] {
            let order = Order {
                id: id.as_str().into(),
                qty: Some(qty),
                filled_qty: Some(filled),
                remaining_qty: Some(qty.wrapping_sub(filled)),
                traded_price: Some(if n % 2 == 0 { f64::MAX } else { f64::MIN_POSITIVE }),
                status: Some(status),
                ..Order::default()
            };
            notifier.observe(&socket([order]), t0);
        }
    }
    let shown = run_until(&mut notifier, t0 + WINDOW * 2, &NotificationSettings::default());
    assert!(!shown.is_empty());
}
