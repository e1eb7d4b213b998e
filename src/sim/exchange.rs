//! The simulator's shared state: the day's truth, the log of frames every connection reads from,
//! the faults waiting to be injected, and the generator task that moves the day on.

use std::collections::VecDeque;

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use parking_lot::Mutex;
use tokio::sync::{broadcast, watch};

use super::book::Book;
use super::day::{Day, DayConfig};
use super::login::Registry;
use crate::fyers::model::Event;
use crate::fyers::wire;

/// Frames kept for connections to read; a connection that falls further behind is dropped (and
/// must resync, as with a real server that gives up on a slow client).
pub(super) const LOG_CAPACITY: usize = 262_144;
/// Steps generated per lock when running as fast as possible.
pub(super) const CHUNK_STEPS: usize = 256;

/// A fault to inject, as the real server or network might misbehave.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Close every open socket abruptly (no close frame).
    DropConnections,
    /// Send nothing, not even pongs, for this long; the sockets stay open.
    Stall(Duration),
    /// This many malformed frames (not JSON, wrong types, missing id, binary).
    Malformed(usize),
    /// This many frames over 1 MiB.
    Oversized(usize),
    /// Send each of the next this-many data frames twice.
    Duplicate(usize),
    /// Hold back each of the next this-many order frames until that order's following update has
    /// been sent, so the older update arrives after the newer one.
    Reorder(usize),
    /// The token expires: sockets close, upgrades get 403, REST answers -8.
    ExpireToken,
    /// REST calls fail with HTTP 503 (true) or work again (false).
    RestDown(bool),
}

/// What a connection must do now.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Control {
    Drop,
    Stall(Duration),
    /// Tokens were revoked or expired early: each connection checks its own is still alive.
    Recheck,
}

/// A frame in the log. `slist` is the subscription name it needs, or `None` for frames every
/// connection gets (injected garbage).
#[derive(Debug, Clone)]
pub(super) struct LogEntry {
    pub slist: Option<&'static str>,
    pub frame: LogFrame,
}

#[derive(Debug, Clone)]
pub(super) enum LogFrame {
    Text(Utf8Bytes),
    Binary(bytes::Bytes),
}

/// Counters tests read to check the client behaves.
#[derive(Debug, Default)]
pub struct SimStats {
    pub upgrades: AtomicU64,
    pub upgrades_refused: AtomicU64,
    pub connections_open: AtomicU64,
    pub rest_calls: AtomicU64,
    pub subscribe_messages: AtomicU64,
    pub pings: AtomicU64,
    /// Frames of the log written to connections (counted once the write is flushed).
    pub frames_sent: AtomicU64,
    /// Auth codes exchanged for tokens.
    pub logins: AtomicU64,
    /// Access tokens issued for a refresh token and PIN.
    pub refreshes: AtomicU64,
    /// The market-data socket: upgrades, connections open now, keep-alives, subscribe frames.
    pub market_upgrades: AtomicU64,
    pub market_connections_open: AtomicU64,
    pub market_pings: AtomicU64,
    pub market_subscribes: AtomicU64,
    pub market_topics: AtomicU64,
}

/// The simulated venue: the day being generated and the log of frames it sent.
pub(super) struct Venue {
    pub day: Day,
    /// `log[0]` is frame number `log_base`.
    log: VecDeque<LogEntry>,
    log_base: u64,
    duplicate_left: usize,
    reorder_left: usize,
    /// Held-back order frames: (order id, frame, steps waited).
    held: Vec<(String, LogEntry, u32)>,
}

pub(super) struct Shared {
    pub exchange: Mutex<Venue>,
    /// The log's end (one past the newest frame number); connections wait on it.
    pub log_end: watch::Sender<u64>,
    pub control: broadcast::Sender<Control>,
    pub rest_down: AtomicBool,
    pub generating: watch::Sender<bool>,
    /// True once a day with a step limit has ended.
    pub finished: watch::Sender<bool>,
    /// Each open connection's read position, by connection number.
    pub readers: Mutex<std::collections::HashMap<u64, u64>>,
    pub next_reader: AtomicU64,
    pub rate: Mutex<RateLimit>,
    pub stats: SimStats,
    /// Which tokens, refresh tokens and auth codes are alive.
    pub login: Registry,
    pub client_id: String,
    /// Malformed frames still to send on the market-data sockets.
    pub market_garbage: std::sync::atomic::AtomicUsize,
}

/// How the simulator runs its day.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub day: DayConfig,
    pub app_id: String,
    /// The app's secret key: `appIdHash` is the SHA-256 of `APP_ID:SECRET_KEY`.
    pub secret_key: String,
    /// The user's PIN, asked when a refresh token is exchanged.
    pub pin: String,
    /// How long an access token lives (its JWT `exp` is issue time plus this, whole seconds).
    pub token_lifetime: Duration,
    /// Steps per second; `None` runs as fast as the readers keep up.
    pub rate: Option<f64>,
    /// End the day after this many steps (`None`: never).
    pub steps: Option<u64>,
    /// Stamp events with the wall clock instead of a virtual one.
    pub realtime_clock: bool,
    /// Generate nothing until `SimHandle::resume` (tests connect first).
    pub start_paused: bool,
    /// Steps played at once on start, on the virtual clock, so a demo opens on a day under way.
    pub warmup_steps: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            day: DayConfig::default(),
            app_id: "SIMAPP1234-100".into(),
            secret_key: "SIMSECRET".into(),
            pin: "1234".into(),
            // Fyers issues a token per trading day.
            token_lifetime: Duration::from_secs(24 * 60 * 60),
            rate: Some(4.0),
            steps: None,
            realtime_clock: true,
            start_paused: false,
            warmup_steps: 0,
        }
    }
}

fn slist_of(event: &Event) -> &'static str {
    match event {
        Event::Order(_) => "orders",
        Event::Trade(_) => "trades",
        Event::Position(_) => "positions",
        Event::General(general) => match general.kind {
            crate::fyers::model::GeneralKind::PriceAlert => "pricealerts",
            crate::fyers::model::GeneralKind::Edis => "edis",
            _ => "login",
        },
    }
}

impl Venue {
    pub fn new(day: Day) -> Self {
        Self {
            day,
            log: VecDeque::new(),
            log_base: 0,
            duplicate_left: 0,
            reorder_left: 0,
            held: Vec::new(),
        }
    }

    pub fn log_end(&self) -> u64 {
        self.log_base + self.log.len() as u64
    }

    /// Copies up to `max` entries from frame number `from`; `Err` when `from` has been dropped.
    pub fn read_log(&self, from: u64, max: usize, out: &mut Vec<LogEntry>) -> Result<u64, ()> {
        if from < self.log_base {
            return Err(());
        }
        let start = (from - self.log_base) as usize;
        out.extend(self.log.iter().skip(start).take(max).cloned());
        Ok(from + out.len() as u64)
    }

    fn push(&mut self, entry: LogEntry) {
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
            self.log_base += 1;
        }
        self.log.push_back(entry);
    }

    /// Adds one step's events to the log, applying duplicate and reorder faults.
    pub(super) fn publish(&mut self, events: &[Event]) {
        for event in events {
            let entry = LogEntry {
                slist: Some(slist_of(event)),
                frame: LogFrame::Text(Utf8Bytes::from(wire::to_raw_frame(event))),
            };
            let order_id = match event {
                Event::Order(order) => Some(order.id.as_str()),
                _ => None,
            };
            let released = order_id.and_then(|id| self.held.iter().position(|(held, _, _)| held == id));
            if let (Some(id), true, None) = (order_id, self.reorder_left > 0, released) {
                self.reorder_left -= 1;
                self.held.push((id.to_owned(), entry, 0));
                continue;
            }
            self.push_with_duplicates(entry);
            if let Some(index) = released {
                let (_, older, _) = self.held.remove(index);
                self.push_with_duplicates(older);
            }
        }
        // An order that never updates again gets its held frame back after a while.
        for held in &mut self.held {
            held.2 += 1;
        }
        while let Some(index) = self.held.iter().position(|(_, _, waited)| *waited > 64) {
            let (_, entry, _) = self.held.remove(index);
            self.push_with_duplicates(entry);
        }
    }

    fn push_with_duplicates(&mut self, entry: LogEntry) {
        if self.duplicate_left > 0 {
            self.duplicate_left -= 1;
            self.push(entry.clone());
        }
        self.push(entry);
    }

    /// Queues a fault that lives in the frame stream.
    pub fn inject(&mut self, fault: &Fault) {
        match fault {
            Fault::Malformed(count) => {
                for n in 0..*count {
                    self.push(malformed(n));
                }
            }
            Fault::Oversized(count) => {
                for _ in 0..*count {
                    let pad = "x".repeat(wire::MAX_FRAME_BYTES + 1024);
                    let text = format!(r#"{{"s":"ok","orders":{{"id":"OVERSIZED","pad":"{pad}"}}}}"#);
                    self.push(LogEntry {
                        slist: None,
                        frame: LogFrame::Text(Utf8Bytes::from(text)),
                    });
                }
            }
            Fault::Duplicate(count) => self.duplicate_left += count,
            Fault::Reorder(count) => self.reorder_left += count,
            _ => {}
        }
    }

    /// Publishes prepared raw frames as they are (benchmarks, replays of captured days). Each is
    /// routed by the first data key it contains, without parsing: replay is for frames the caller
    /// made, and a garbled one goes to every connection.
    pub fn replay(&mut self, frames: Vec<String>) {
        const ROUTES: [(&str, &str); 6] = [
            ("\"orders\":", "orders"),
            ("\"positions\":", "positions"),
            ("\"trades\":", "trades"),
            ("\"pricealerts\":", "pricealerts"),
            ("\"edis\":", "edis"),
            ("\"login\":", "login"),
        ];
        for text in frames {
            let slist = ROUTES
                .iter()
                .find(|(key, _)| text.contains(key))
                .map(|(_, slist)| *slist);
            self.push(LogEntry {
                slist,
                frame: LogFrame::Text(Utf8Bytes::from(text)),
            });
        }
    }

    /// Flushes held-back frames (the day is over).
    pub(super) fn release_all(&mut self) {
        for (_, entry, _) in std::mem::take(&mut self.held) {
            self.push(entry);
        }
    }
}

/// A rotating choice of the garbage a broken server or proxy might send.
fn malformed(n: usize) -> LogEntry {
    const TEXTS: [&str; 5] = [
        "this is not json",
        r#"{"s":"ok","orders":{"id":"25122400099999","qty":"ten"}}"#,
        r#"{"s":"ok","orders":{"qty":5,"org_ord_status":2}}"#,
        r#"{"s":"ok","trades":{"id_fill":"1","qty_traded":"#,
        r#"["orders"]"#,
    ];
    let frame = if n % 6 == 5 {
        LogFrame::Binary(bytes::Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]))
    } else {
        LogFrame::Text(Utf8Bytes::from_static(TEXTS[n % 6]))
    };
    LogEntry { slist: None, frame }
}

/// Fyers' documented 10 requests a second, as a fixed one-second window.
#[derive(Debug)]
pub(super) struct RateLimit {
    window_start: Option<std::time::Instant>,
    count: u32,
}

impl RateLimit {
    pub const PER_SECOND: u32 = 10;

    pub fn new() -> Self {
        Self {
            window_start: None,
            count: 0,
        }
    }

    pub fn admit(&mut self, now: std::time::Instant) -> bool {
        match self.window_start {
            Some(start) if now.duration_since(start) < Duration::from_secs(1) => {}
            _ => {
                self.window_start = Some(now);
                self.count = 0;
            }
        }
        self.count += 1;
        self.count <= Self::PER_SECOND
    }
}

impl Shared {
    pub fn inject(&self, fault: Fault) {
        match fault {
            Fault::DropConnections => {
                let _ = self.control.send(Control::Drop);
            }
            Fault::Stall(duration) => {
                let _ = self.control.send(Control::Stall(duration));
            }
            Fault::ExpireToken => {
                self.login.kill_all();
                let _ = self.control.send(Control::Drop);
            }
            Fault::RestDown(down) => self.rest_down.store(down, std::sync::atomic::Ordering::SeqCst),
            stream_fault => {
                if let Fault::Malformed(count) = stream_fault {
                    self.market_garbage
                        .fetch_add(count, std::sync::atomic::Ordering::SeqCst);
                }
                let end = {
                    let mut exchange = self.exchange.lock();
                    exchange.inject(&stream_fault);
                    exchange.log_end()
                };
                self.log_end.send_replace(end);
            }
        }
    }

    pub fn slowest_reader(&self) -> Option<u64> {
        self.readers.lock().values().copied().min()
    }

    pub fn book(&self) -> Book {
        self.exchange.lock().day.book().clone()
    }
}
