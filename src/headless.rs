//! `orderwatch headless`: no window; one JSON line per event on stdout, for scripts and servers.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use serde_json::json;
use tokio::sync::mpsc;

use crate::feed::{self, FeedConfig, Tap};
use crate::fyers::model::EventKind;
use crate::store::{FeedStatus, Origin, SESSION_EXPIRED, Store};

#[derive(Debug, Clone, Default)]
pub struct HeadlessOptions {
    /// Stop after this many data events (status lines do not count).
    pub exit_after: Option<u64>,
    /// Stop when no data event came for this long.
    pub idle_exit: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("{0}")]
    AuthRejected(String),
    #[error("cannot stream: {0}")]
    Unreachable(String),
    #[error("the feed failed: {0}")]
    Failed(String),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// Why the stream ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    ExitAfter,
    Idle,
    Interrupted,
    OutputClosed,
}

/// What the run did, printed to stderr as one JSON line on exit.
#[derive(Debug, Clone)]
pub struct Summary {
    pub finish: Option<Finish>,
    pub events: [u64; 4],
    pub bad_frames: u64,
    pub reconnects: u64,
    pub frames: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn to_json(&self) -> serde_json::Value {
        let events: serde_json::Map<String, serde_json::Value> = EventKind::ALL
            .iter()
            .map(|kind| (kind.sdk_name().to_owned(), self.events[kind.index()].into()))
            .collect();
        let seconds = self.elapsed.as_secs_f64();
        let frames_per_s = if seconds > 0.0 {
            (self.frames as f64 / seconds * 10.0).round() / 10.0
        } else {
            0.0
        };
        json!({
            "events": events, "bad_frames": self.bad_frames, "reconnects": self.reconnects,
            "frames": self.frames, "frames_per_s": frames_per_s, "elapsed_s": (seconds * 1000.0).round() / 1000.0,
        })
    }
}

/// Streams until told to stop; `out` gets the JSON lines.
pub async fn run(
    mut config: FeedConfig,
    options: HeadlessOptions,
    out: &mut dyn Write,
) -> (Summary, Result<Finish, HeadlessError>) {
    let store = Arc::new(RwLock::new(Store::default()));
    let (tap_tx, mut tap) = mpsc::channel(1024);
    // Headless says why a failed feed stopped and exits; a script or service manager restarts it.
    config.restart_on_failure = false;
    let (handle, task) = feed::spawn(config, store.clone(), Box::new(|| {}), Some(tap_tx));
    let started = Instant::now();
    let mut events = [0u64; 4];
    let mut ever_connected = false;
    let mut last_data = Instant::now();
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let result = loop {
        let idle_at = options.idle_exit.map(|idle| last_data + idle);
        let tapped = tokio::select! {
            tapped = tap.recv() => tapped,
            _ = &mut interrupt => break Ok(Finish::Interrupted),
            _ = tokio::time::sleep_until(idle_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)).into()), if idle_at.is_some() => {
                break Ok(Finish::Idle);
            }
        };
        let Some(tapped) = tapped else {
            break Err(HeadlessError::Unreachable("the feed stopped".into()));
        };
        match write_tap(
            tapped,
            out,
            &mut events,
            &mut last_data,
            &mut ever_connected,
            options.exit_after,
        ) {
            Ok(None) => {}
            Ok(Some(finish)) => break Ok(finish),
            Err(err) => break Err(err),
        }
    };
    let _ = handle.command(feed::Command::Shutdown).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    let store = store.read();
    let summary = Summary {
        finish: result.as_ref().ok().copied(),
        events,
        bad_frames: store.bad_frames(),
        reconnects: store.reconnects(),
        frames: store.frames(),
        elapsed: started.elapsed(),
    };
    (summary, result)
}

fn write_tap(
    tapped: Tap,
    out: &mut dyn Write,
    events: &mut [u64; 4],
    last_data: &mut Instant,
    ever_connected: &mut bool,
    exit_after: Option<u64>,
) -> Result<Option<Finish>, HeadlessError> {
    let written = match tapped {
        Tap::Status(status) => {
            let line = json!({"type": "status", "status": status.to_json()});
            let refused = match status {
                FeedStatus::Connected { .. } => {
                    *ever_connected = true;
                    None
                }
                FeedStatus::AuthRejected { reason } => Some(HeadlessError::AuthRejected(reason)),
                FeedStatus::SessionExpired => Some(HeadlessError::AuthRejected(SESSION_EXPIRED.to_owned())),
                FeedStatus::Failed { reason, .. } => Some(HeadlessError::Failed(reason)),
                FeedStatus::Reconnecting { reason, .. } if !*ever_connected => {
                    return Err(HeadlessError::Unreachable(reason));
                }
                FeedStatus::Disconnected { reason } => return Err(HeadlessError::Unreachable(reason)),
                _ => None,
            };
            if let Some(err) = refused {
                writeln!(out, "{line}").and_then(|()| out.flush()).ok();
                return Err(err);
            }
            writeln!(out, "{line}")
        }
        Tap::Events {
            events: batch,
            origin,
        } => {
            *last_data = Instant::now();
            let mut result = Ok(());
            for event in batch {
                let kind = event.kind();
                let mut line = json!({"type": kind.sdk_name(), "data": event.to_sdk_json()});
                if origin == Origin::Resync {
                    line["source"] = "resync".into();
                }
                result = writeln!(out, "{line}");
                events[kind.index()] += 1;
                if result.is_err() || exit_after.is_some_and(|limit| events.iter().sum::<u64>() >= limit) {
                    break;
                }
            }
            result
        }
    };
    match written.and_then(|()| out.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Some(Finish::OutputClosed)),
        Err(err) => return Err(err.into()),
        Ok(()) => {}
    }
    if exit_after.is_some_and(|limit| events.iter().sum::<u64>() >= limit) {
        return Ok(Some(Finish::ExitAfter));
    }
    Ok(None)
}

/// Reads `OnOrders,OnTrades,...` (case-insensitive).
pub fn parse_events(list: &str) -> Result<BTreeSet<EventKind>, String> {
    list.split(',')
        .filter(|name| !name.trim().is_empty())
        .map(|name| {
            EventKind::from_sdk_name(name).ok_or_else(|| {
                format!("unknown event type {name:?}; use OnOrders, OnTrades, OnPositions, OnGeneral")
            })
        })
        .collect()
}
