//! The connection's rules as tables: each row is (time, input, the effects it must give), played in
//! order on one `Connection`. Time is made up; nothing here sleeps or opens a socket.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::*;
use crate::feed::Backoff;
use crate::fyers::model::EventKind::{self, General, Orders, Positions, Trades};
use crate::fyers::wire;

/// The protocol's timings, without jitter so delays are exact.
fn timing() -> Timing {
    Timing {
        ping_every: Duration::from_secs(10),
        dead_after: Duration::from_secs(30),
        ack_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(10),
        backoff: Backoff {
            jitter: 0.0,
            ..Backoff::SOCKET
        },
        resync_backoff: Backoff {
            jitter: 0.0,
            ..Backoff::REST
        },
        stable_after: Duration::from_secs(60),
    }
}

fn all() -> BTreeSet<EventKind> {
    EventKind::ALL.into()
}

fn kinds<const N: usize>(kinds: [EventKind; N]) -> BTreeSet<EventKind> {
    kinds.into()
}

fn secs(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

/// One row of a table: at `at` seconds, `input` gives exactly `effects`.
type Row = (f64, Input, Vec<Effect>);

/// Plays the rows on a connection that starts with every kind wanted, streaming.
fn play(rows: Vec<Row>) -> (Connection, Instant) {
    let start = Instant::now();
    let mut connection = Connection::new(timing(), all(), true, 7);
    play_on(&mut connection, start, rows);
    (connection, start)
}

fn play_on(connection: &mut Connection, start: Instant, rows: Vec<Row>) {
    for (index, (at, input, expected)) in rows.into_iter().enumerate() {
        let shown = format!("{input:?}");
        let effects = connection.handle(start + secs(at), input);
        assert_eq!(effects, expected, "row {index}: {shown} at {at} s");
    }
}

fn token() -> Input {
    Input::Token { expires_at: None }
}

fn frames(count: usize) -> Input {
    Input::Frames {
        count,
        acks: Vec::new(),
    }
}

fn ack() -> Input {
    Input::Frames {
        count: 1,
        acks: vec!["Successfully subscribed".to_owned()],
    }
}

fn request(request: Request) -> Input {
    Input::Request(request)
}

fn status(status: FeedStatus) -> Effect {
    Effect::Status(status)
}

fn connecting(attempt: u32) -> Effect {
    status(FeedStatus::Connecting { attempt })
}

fn reconnecting(attempt: u32, delay: f64, reason: &str) -> Effect {
    status(FeedStatus::Reconnecting {
        attempt,
        delay: secs(delay),
        reason: reason.to_owned(),
    })
}

fn subscriptions(wanted: BTreeSet<EventKind>, acknowledged: BTreeSet<EventKind>) -> Effect {
    Effect::Subscriptions { wanted, acknowledged }
}

fn subscribe(kinds: BTreeSet<EventKind>) -> Effect {
    Effect::Send(wire::subscription_message(&kinds, true))
}

fn unsubscribe(kinds: BTreeSet<EventKind>) -> Effect {
    Effect::Send(wire::subscription_message(&kinds, false))
}

fn fresh_session() -> Effect {
    Effect::Session {
        ending_soon: false,
        expired: false,
    }
}

fn resync(kinds: BTreeSet<EventKind>, generation: u64) -> Effect {
    Effect::Resync { kinds, generation }
}

fn merged(generation: u64, kinds: BTreeSet<EventKind>, rows: u64, changed: u64) -> Input {
    Input::Resynced {
        generation,
        kinds,
        outcome: ResyncOutcome::Merged { rows, changed },
    }
}

fn failed(generation: u64, kinds: BTreeSet<EventKind>, auth: bool) -> Input {
    Input::Resynced {
        generation,
        kinds,
        outcome: ResyncOutcome::Failed {
            error: "HTTP 503".to_owned(),
            auth,
        },
    }
}

/// What an opened socket gives: connected, nothing acknowledged yet, the subscribe message.
fn opened(reconnected: bool, wanted: BTreeSet<EventKind>) -> Vec<Effect> {
    vec![
        status(FeedStatus::Connected { reconnected }),
        subscriptions(wanted.clone(), kinds([])),
        subscribe(wanted),
    ]
}

/// What the acknowledgement of every kind gives: all acknowledged, and their resync.
fn acked(generation: u64) -> Vec<Effect> {
    vec![
        subscriptions(all(), all()),
        status(FeedStatus::Subscribed { kinds: all() }),
        resync(all(), generation),
    ]
}

/// A token, an open socket, the subscription acknowledged and the resync merged.
fn streaming() -> Vec<Row> {
    vec![
        (0.0, token(), vec![fresh_session(), connecting(0), Effect::Open]),
        (0.1, Input::Opened, opened(false, all())),
        (0.2, ack(), acked(1)),
        (
            0.5,
            merged(1, all(), 12, 3),
            vec![status(FeedStatus::Resynced { rows: 12, changed: 3 })],
        ),
    ]
}

/// What losing a streaming connection gives: the close, the acknowledged set emptied, the retry.
fn lost(attempt: u32, delay: f64, reason: &str) -> Vec<Effect> {
    vec![
        Effect::Close,
        subscriptions(all(), kinds([])),
        reconnecting(attempt, delay, reason),
    ]
}

#[test]
fn connects_subscribes_and_resyncs_once_the_subscription_is_acknowledged() {
    let (connection, start) = play(streaming());
    assert!(connection.is_open());
    assert_eq!(
        connection.next_deadline(),
        Some(start + secs(10.1)),
        "the next ping"
    );
}

#[test]
fn without_a_token_nothing_is_tried() {
    let start = Instant::now();
    let mut connection = Connection::new(timing(), all(), true, 7);
    play_on(
        &mut connection,
        start,
        vec![
            (0.0, request(Request::Connect), vec![]),
            (60.0, Input::Tick, vec![]),
        ],
    );
    assert_eq!(connection.next_deadline(), None);
}

#[test]
fn pings_on_time_and_a_silent_socket_is_dead() {
    let mut rows = streaming();
    rows.extend([
        (10.0, Input::Tick, vec![]),
        (10.1, Input::Tick, vec![Effect::Send("ping".to_owned())]),
        (10.2, frames(1), vec![]),
        (20.1, Input::Tick, vec![Effect::Send("ping".to_owned())]),
        (30.1, Input::Tick, vec![Effect::Send("ping".to_owned())]),
        // Last frame at 10.2 s: dead 30 s later, not before.
        (40.1, Input::Tick, vec![Effect::Send("ping".to_owned())]),
        (40.2, Input::Tick, lost(1, 1.0, "no frame or pong for 30 s")),
    ]);
    play(rows);
}

#[test]
fn every_frame_keeps_the_socket_alive() {
    let mut rows = streaming();
    for at in [5.0, 25.0, 45.0, 65.0] {
        rows.push((at, frames(3), vec![]));
    }
    rows.push((66.0, Input::Tick, vec![Effect::Send("ping".to_owned())]));
    let (connection, start) = play(rows);
    assert_eq!(
        connection.next_deadline(),
        Some(start + secs(76.0)),
        "the next ping, not death"
    );
}

#[test]
fn backoff_doubles_to_its_cap_and_resets_after_a_stable_connection() {
    let mut rows = vec![(0.0, token(), vec![fresh_session(), connecting(0), Effect::Open])];
    let refused = || Input::OpenFailed(SocketError::Connect("refused".to_owned()));
    let reason = "cannot reach the order socket: refused";
    let mut at = 0.0;
    for (attempt, delay) in [
        (1, 1.0),
        (2, 2.0),
        (3, 4.0),
        (4, 8.0),
        (5, 16.0),
        (6, 30.0),
        (7, 30.0),
    ] {
        rows.push((at, refused(), vec![reconnecting(attempt, delay, reason)]));
        rows.push((at + delay - 0.01, Input::Tick, vec![]));
        rows.push((at + delay, Input::Tick, vec![connecting(attempt), Effect::Open]));
        at += delay;
    }
    // Up for a minute, then lost: the count starts again.
    rows.extend([
        (at, Input::Opened, opened(true, all())),
        (at + 0.1, ack(), acked(1)),
        (
            at + 0.2,
            merged(1, all(), 0, 0),
            vec![status(FeedStatus::Resynced { rows: 0, changed: 0 })],
        ),
        (
            at + 61.0,
            Input::Closed {
                reason: "closed by the server".to_owned(),
            },
            lost(1, 1.0, "closed by the server"),
        ),
    ]);
    play(rows);
}

#[test]
fn a_connection_lost_soon_after_opening_keeps_backing_off() {
    let mut rows = streaming();
    rows.extend([
        (
            1.0,
            Input::Closed {
                reason: "reset".to_owned(),
            },
            lost(1, 1.0, "reset"),
        ),
        (2.0, Input::Tick, vec![connecting(1), Effect::Open]),
        (2.1, Input::Opened, opened(true, all())),
        // No acknowledgement yet, so nothing was acknowledged to take back.
        (
            3.0,
            Input::Closed {
                reason: "reset".to_owned(),
            },
            vec![Effect::Close, reconnecting(2, 2.0, "reset")],
        ),
    ]);
    play(rows);
}

#[test]
fn a_refused_token_stands_down_until_a_new_one() {
    let reason = SocketError::AuthRejected.to_string();
    let rows = vec![
        (0.0, token(), vec![fresh_session(), connecting(0), Effect::Open]),
        (
            0.1,
            Input::OpenFailed(SocketError::AuthRejected),
            vec![status(FeedStatus::AuthRejected {
                reason: reason.clone(),
            })],
        ),
        (3600.0, Input::Tick, vec![]),
        (3601.0, request(Request::Connect), vec![]),
        (3602.0, request(Request::Resync), vec![]),
        // Stopping does not hide why nothing streams.
        (3603.0, request(Request::Disconnect), vec![]),
        (3604.0, request(Request::Connect), vec![]),
        (
            3605.0,
            token(),
            vec![
                fresh_session(),
                status(FeedStatus::Disconnected {
                    reason: "new access token".to_owned(),
                }),
                connecting(0),
                Effect::Open,
            ],
        ),
    ];
    let (connection, _) = play(rows);
    assert_eq!(connection.next_deadline(), None, "no timer while opening");
}

#[test]
fn a_wrong_url_stops_instead_of_retrying() {
    let rows = vec![
        (0.0, token(), vec![fresh_session(), connecting(0), Effect::Open]),
        (
            0.1,
            Input::OpenFailed(SocketError::Http(404)),
            vec![status(FeedStatus::Disconnected {
                reason: SocketError::Http(404).to_string(),
            })],
        ),
        (60.0, Input::Tick, vec![]),
        (61.0, request(Request::Connect), vec![connecting(0), Effect::Open]),
    ];
    let (connection, _) = play(rows);
    assert!(connection.is_streaming());
}

#[test]
fn an_unacknowledged_subscription_ends_the_connection() {
    let rows = vec![
        (0.0, token(), vec![fresh_session(), connecting(0), Effect::Open]),
        (0.0, Input::Opened, opened(false, all())),
        (1.0, frames(5), vec![]),
        (4.9, Input::Tick, vec![]),
        (
            5.0,
            Input::Tick,
            vec![
                Effect::Close,
                reconnecting(1, 1.0, "subscription not acknowledged within 5 s"),
            ],
        ),
    ];
    play(rows);
}

#[test]
fn subscriptions_change_live_and_only_new_kinds_are_resynced() {
    let mut rows = streaming();
    rows.extend([
        (
            1.0,
            request(Request::SetSubscriptions(kinds([Orders]))),
            vec![
                subscriptions(kinds([Orders]), kinds([Orders])),
                unsubscribe(kinds([Trades, Positions, General])),
            ],
        ),
        // The server's answer to an unsubscribe is not awaited.
        (
            1.1,
            Input::Frames {
                count: 1,
                acks: vec!["Successfully unsubscribed".to_owned()],
            },
            vec![],
        ),
        (
            2.0,
            request(Request::SetSubscriptions(kinds([Orders, Trades]))),
            vec![
                subscriptions(kinds([Orders, Trades]), kinds([Orders])),
                subscribe(kinds([Trades])),
            ],
        ),
        (
            2.1,
            ack(),
            vec![
                subscriptions(kinds([Orders, Trades]), kinds([Orders, Trades])),
                status(FeedStatus::Subscribed {
                    kinds: kinds([Orders, Trades]),
                }),
                resync(kinds([Trades]), 1),
            ],
        ),
    ]);
    play(rows);
}

#[test]
fn resyncs_retry_with_backoff_and_manual_ones_are_spaced() {
    let mut rows = streaming();
    rows.extend([
        // 0.5 s after the last start: too soon.
        (1.0, request(Request::Resync), vec![]),
        (3.0, request(Request::Resync), vec![resync(all(), 1)]),
        (
            3.5,
            failed(1, all(), false),
            vec![Effect::ResyncFailed {
                error: "HTTP 503".to_owned(),
                retry_in: secs(2.0),
            }],
        ),
        // A retry is waiting: asking again adds nothing.
        (4.0, request(Request::Resync), vec![]),
        (5.4, Input::Tick, vec![]),
        (5.5, Input::Tick, vec![resync(all(), 1)]),
        (
            5.6,
            failed(1, all(), false),
            vec![Effect::ResyncFailed {
                error: "HTTP 503".to_owned(),
                retry_in: secs(4.0),
            }],
        ),
        (9.6, Input::Tick, vec![resync(all(), 1)]),
        (
            9.7,
            merged(1, all(), 4, 0),
            vec![status(FeedStatus::Resynced { rows: 4, changed: 0 })],
        ),
    ]);
    play(rows);
}

#[test]
fn a_resync_refused_for_the_token_ends_the_connection() {
    let mut rows = streaming();
    rows.extend([
        (3.0, request(Request::Resync), vec![resync(all(), 1)]),
        (
            3.1,
            failed(1, all(), true),
            vec![
                Effect::Close,
                subscriptions(all(), kinds([])),
                status(FeedStatus::AuthRejected {
                    reason: "HTTP 503".to_owned(),
                }),
            ],
        ),
        (100.0, Input::Tick, vec![]),
    ]);
    play(rows);
}

#[test]
fn a_new_token_reconnects_at_once_and_answers_about_the_old_one_are_moot() {
    let mut rows = streaming();
    rows.extend([
        (3.0, request(Request::Resync), vec![resync(all(), 1)]),
        (
            4.0,
            token(),
            vec![
                fresh_session(),
                Effect::Close,
                subscriptions(all(), kinds([])),
                connecting(0),
                Effect::Open,
            ],
        ),
        // The old token's resync: merged data stays, its refusal does not end the new connection.
        (4.1, failed(1, all(), true), vec![]),
        (4.2, Input::Opened, opened(false, all())),
        (4.3, ack(), acked(2)),
    ]);
    play(rows);
}

/// A connection streaming on a token whose `exp` (read with the local clock) is 20 minutes away.
fn streaming_until_twenty_minutes() -> (Connection, Instant, Vec<Row>) {
    let start = Instant::now();
    let connection = Connection::new(timing(), all(), true, 7);
    let expiring = Input::Token {
        expires_at: Some(start + secs(20.0 * 60.0)),
    };
    let mut rows = vec![(0.0, expiring, vec![fresh_session(), connecting(0), Effect::Open])];
    rows.extend(streaming().into_iter().skip(1));
    rows.extend([
        (299.0, frames(1), vec![]),
        (
            300.0,
            Input::Tick,
            vec![
                Effect::Session {
                    ending_soon: true,
                    expired: false,
                },
                status(FeedStatus::SessionEnding { left: secs(900.0) }),
                Effect::Send("ping".to_owned()),
            ],
        ),
    ]);
    (connection, start, rows)
}

fn expired() -> Effect {
    Effect::Session {
        ending_soon: true,
        expired: true,
    }
}

#[test]
fn a_token_the_server_never_refuses_ends_ten_minutes_after_its_exp() {
    let (mut connection, start, mut rows) = streaming_until_twenty_minutes();
    rows.extend([
        (1199.0, frames(1), vec![]),
        // Its `exp` by the local clock, which may be ahead: the stream goes on.
        (1200.0, Input::Tick, vec![Effect::Send("ping".to_owned())]),
        (1799.0, frames(1), vec![]),
        (
            1800.0,
            Input::Tick,
            vec![
                expired(),
                Effect::Close,
                subscriptions(all(), kinds([])),
                status(FeedStatus::SessionExpired),
            ],
        ),
        (1900.0, request(Request::Connect), vec![]),
        (2000.0, Input::Tick, vec![]),
    ]);
    play_on(&mut connection, start, rows);
    assert_eq!(connection.next_deadline(), None);
}

#[test]
fn a_local_clock_ahead_keeps_a_token_the_server_accepts_until_the_server_says_no() {
    let (mut connection, start, mut rows) = streaming_until_twenty_minutes();
    rows.extend([
        (1199.0, frames(1), vec![]),
        (1200.0, Input::Tick, vec![Effect::Send("ping".to_owned())]),
        (1300.0, frames(40), vec![]),
        // The server's clock gets there: it hangs up and refuses the token.
        (
            1400.0,
            Input::Closed {
                reason: "closed by the server".to_owned(),
            },
            lost(1, 1.0, "closed by the server"),
        ),
        (1401.0, Input::Tick, vec![connecting(1), Effect::Open]),
        (
            1401.1,
            Input::OpenFailed(SocketError::AuthRejected),
            vec![expired(), status(FeedStatus::SessionExpired)],
        ),
        (1500.0, request(Request::Connect), vec![]),
    ]);
    play_on(&mut connection, start, rows);
}

#[test]
fn a_token_long_dead_is_not_used_and_one_just_dead_is_tried_once() {
    let start = Instant::now();
    let mut connection = Connection::new(timing(), all(), true, 7);
    let token = |ago: f64| Input::Token {
        expires_at: Some(start + secs(1000.0 - ago)),
    };
    let rows = vec![
        (
            1000.0,
            token(601.0),
            vec![fresh_session(), expired(), status(FeedStatus::SessionExpired)],
        ),
        // A minute past its exp: the server may still take it (and the user is warned).
        (
            1001.0,
            token(60.0),
            vec![
                fresh_session(),
                Effect::Session {
                    ending_soon: true,
                    expired: false,
                },
                status(FeedStatus::SessionEnding { left: secs(0.0) }),
                connecting(0),
                Effect::Open,
            ],
        ),
        (
            1001.1,
            Input::OpenFailed(SocketError::AuthRejected),
            vec![expired(), status(FeedStatus::SessionExpired)],
        ),
    ];
    play_on(&mut connection, start, rows);
}

#[test]
fn stopping_closes_and_starting_connects_at_once() {
    let mut rows = streaming();
    rows.extend([
        (
            1.0,
            request(Request::Disconnect),
            vec![
                Effect::Close,
                subscriptions(all(), kinds([])),
                status(FeedStatus::Disconnected {
                    reason: "stream stopped".to_owned(),
                }),
            ],
        ),
        (100.0, Input::Tick, vec![]),
        (
            101.0,
            request(Request::Connect),
            vec![connecting(0), Effect::Open],
        ),
    ]);
    play(rows);
}

#[test]
fn connect_during_the_backoff_tries_at_once() {
    let mut rows = streaming();
    rows.extend([
        (
            1.0,
            Input::Closed {
                reason: "reset".to_owned(),
            },
            lost(1, 1.0, "reset"),
        ),
        (1.5, request(Request::Connect), vec![connecting(1), Effect::Open]),
    ]);
    play(rows);
}

#[test]
fn after_shutdown_nothing_happens() {
    let mut rows = streaming();
    rows.extend([
        (
            1.0,
            request(Request::Shutdown),
            vec![Effect::Close, subscriptions(all(), kinds([])), Effect::Stop],
        ),
        (2.0, frames(10), vec![]),
        (3.0, token(), vec![]),
        (4.0, request(Request::Connect), vec![]),
    ]);
    let (connection, _) = play(rows);
    assert_eq!(connection.next_deadline(), None);
}

#[test]
fn subscriptions_set_while_down_are_used_on_the_next_connection() {
    let start = Instant::now();
    let mut connection = Connection::new(timing(), all(), false, 7);
    let rows = vec![
        (0.0, token(), vec![fresh_session()]),
        (
            1.0,
            request(Request::SetSubscriptions(kinds([Trades]))),
            vec![subscriptions(kinds([Trades]), kinds([]))],
        ),
        (2.0, request(Request::Connect), vec![connecting(0), Effect::Open]),
        (2.1, Input::Opened, opened(false, kinds([Trades]))),
    ];
    play_on(&mut connection, start, rows);
}
