//! `orderwatch headless`: no window; one JSON line per event on stdout, for scripts and servers.

mod output;

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use serde_json::json;
use tokio::sync::mpsc;

use crate::feed::{self, FeedConfig, Tap};
use crate::fyers::model::EventKind;
use crate::journal::{Health, Journal};
use crate::store::{FeedStatus, SESSION_EXPIRED, Store};

use output::Output;
pub use output::{OutputError, OutputLimits};

#[derive(Debug, Clone, Default)]
pub struct HeadlessOptions {
    /// Stop after this many data events (status lines do not count).
    pub exit_after: Option<u64>,
    /// Stop when no data event came for this long.
    pub idle_exit: Option<Duration>,
    /// How long standard output may go unread.
    pub output: OutputLimits,
}

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("{0}")]
    AuthRejected(String),
    #[error("cannot stream: {0}")]
    Unreachable(String),
    #[error("the feed failed: {0}")]
    Failed(String),
    #[error("{0}")]
    Output(OutputError),
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

/// Streams until told to stop; `out` gets the JSON lines, written on a thread of their own.
pub async fn run(
    mut config: FeedConfig,
    options: HeadlessOptions,
    out: Box<dyn Write + Send>,
) -> (Summary, Result<Finish, HeadlessError>) {
    let store = Arc::new(RwLock::new(Store::default()));
    let started = Instant::now();
    let mut output = match Output::start(out, options.output) {
        Ok(output) => output,
        Err(err) => {
            return (
                summary(&store, None, [0; 4], started),
                Err(HeadlessError::Output(err)),
            );
        }
    };
    let (tap_tx, mut tap) = mpsc::channel(1024);
    let journal = config.journal.clone();
    let mut health = journal.as_ref().map(Journal::health);
    // Headless says why a failed feed stopped and exits; a script or service manager restarts it.
    config.restart_on_failure = false;
    let (handle, task) = feed::spawn(config, store.clone(), Box::new(|| {}), Some(tap_tx));
    let mut lines = Lines {
        output: &mut output,
        events: [0; 4],
        last_data: Instant::now(),
        ever_connected: false,
        exit_after: options.exit_after,
        journal: journal.clone(),
        journal_problem: None,
    };
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let mut watch = tokio::time::interval(Duration::from_secs(1));
    let result = loop {
        let idle_at = options.idle_exit.map(|idle| lines.last_data + idle);
        let tapped = tokio::select! {
            tapped = tap.recv() => tapped,
            _ = &mut interrupt => break Ok(Finish::Interrupted),
            _ = tokio::time::sleep_until(idle_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)).into()), if idle_at.is_some() => {
                break Ok(Finish::Idle);
            }
            _ = watch.tick() => match lines.output.check(Instant::now()) {
                Ok(()) => continue,
                Err(err) => break output_ended(err),
            },
            Some(Ok(())) = async { Some(health.as_mut()?.changed().await) }, if health.is_some() => {
                let now = health.as_mut().map(|health| health.borrow_and_update().clone());
                match lines.journal_health(now.unwrap_or_default()).await {
                    Ok(()) => continue,
                    Err(err) => break output_ended(err),
                }
            }
        };
        let Some(tapped) = tapped else {
            break Err(HeadlessError::Unreachable("the feed stopped".into()));
        };
        match lines.tap(tapped).await {
            Ok(None) => {}
            Ok(Some(finish)) => break Ok(finish),
            Err(err) => break Err(err),
        }
    };
    let events = lines.events;
    let _ = handle.command(feed::Command::Shutdown).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    // A clean exit leaves everything applied on disk.
    if let Some(journal) = journal {
        let flushed = tokio::task::spawn_blocking(move || journal.flush(Duration::from_secs(5))).await;
        if !matches!(flushed, Ok(Ok(()))) {
            tracing::warn!("the journal did not finish writing before exit");
        }
    }
    // What was queued is written out before the summary, unless the output is what failed.
    let written = output.finish().await;
    let result = match (result, written) {
        (Ok(Finish::OutputClosed), _) | (Ok(_), Err(OutputError::Closed)) => Ok(Finish::OutputClosed),
        (Ok(_), Err(err)) => Err(HeadlessError::Output(err)),
        (result, _) => result,
    };
    let finish = result.as_ref().ok().copied();
    (summary(&store, finish, events, started), result)
}

fn summary(store: &RwLock<Store>, finish: Option<Finish>, events: [u64; 4], started: Instant) -> Summary {
    let store = store.read();
    Summary {
        finish,
        events,
        bad_frames: store.bad_frames(),
        reconnects: store.reconnects(),
        frames: store.frames(),
        elapsed: started.elapsed(),
    }
}

/// A closed output ends the run quietly; any other failure is the run's error.
fn output_ended(err: OutputError) -> Result<Finish, HeadlessError> {
    match err {
        OutputError::Closed => Ok(Finish::OutputClosed),
        err => Err(HeadlessError::Output(err)),
    }
}

/// Turns what the feed applied into lines.
struct Lines<'a> {
    output: &'a mut Output,
    events: [u64; 4],
    last_data: Instant,
    ever_connected: bool,
    exit_after: Option<u64>,
    journal: Option<Journal>,
    /// The journal problem last reported, so each is said once.
    journal_problem: Option<String>,
}

impl Lines<'_> {
    async fn tap(&mut self, tapped: Tap) -> Result<Option<Finish>, HeadlessError> {
        match tapped {
            Tap::Status(status) => return self.status(status).await,
            // Live P&L is for the window and its alerts; headless writes what was applied.
            Tap::Pnl(_) => return Ok(None),
            Tap::Restored(restored) => {
                let line = json!({
                    "type": "restored", "day": restored.day.to_string(), "events": restored.events,
                    "orders": restored.orders.len(),
                });
                return self.write(line.to_string()).await;
            }
            Tap::Events {
                events,
                origin,
                journaled,
            } => {
                self.last_data = Instant::now();
                // A line is printed only once its event is on disk: whatever a reader saw
                // survives a kill. A journal that cannot write is reported, not waited out.
                if let (Some(journal), Some(seq)) = (&self.journal, journaled) {
                    let health = journal.committed(seq).await;
                    if let Err(err) = self.journal_health(health).await {
                        return output_ended(err).map(Some);
                    }
                }
                for event in events {
                    let kind = event.kind();
                    if let Err(err) = self.output.line(crate::lines::event_line(&event, origin)).await {
                        return output_ended(err).map(Some);
                    }
                    self.events[kind.index()] += 1;
                    if self.done() {
                        return Ok(Some(Finish::ExitAfter));
                    }
                }
            }
        }
        Ok(None)
    }

    async fn write(&mut self, line: String) -> Result<Option<Finish>, HeadlessError> {
        match self.output.line(line).await {
            Ok(()) => Ok(None),
            Err(err) => output_ended(err).map(Some),
        }
    }

    /// Says so when the journal starts failing, changes why, or recovers.
    async fn journal_health(&mut self, health: Health) -> Result<(), OutputError> {
        let problem = health.problem();
        if problem == self.journal_problem {
            return Ok(());
        }
        let line = match &problem {
            Some(problem) => {
                tracing::warn!(%problem, "journal");
                json!({"type": "journal", "status": {
                    "state": "failing", "message": problem, "error": health.error, "dropped": health.dropped,
                }})
            }
            None => json!({"type": "journal", "status": {"state": "ok"}}),
        };
        self.journal_problem = problem;
        self.output.line(line.to_string()).await
    }

    fn done(&self) -> bool {
        self.exit_after
            .is_some_and(|limit| self.events.iter().sum::<u64>() >= limit)
    }

    async fn status(&mut self, status: FeedStatus) -> Result<Option<Finish>, HeadlessError> {
        let line = json!({"type": "status", "status": status.to_json()}).to_string();
        let refused = match status {
            FeedStatus::Connected { .. } => {
                self.ever_connected = true;
                None
            }
            FeedStatus::AuthRejected { reason } => Some(HeadlessError::AuthRejected(reason)),
            FeedStatus::SessionExpired => Some(HeadlessError::AuthRejected(SESSION_EXPIRED.to_owned())),
            FeedStatus::Failed { reason, .. } => Some(HeadlessError::Failed(reason)),
            FeedStatus::Reconnecting { reason, .. } if !self.ever_connected => {
                return Err(HeadlessError::Unreachable(reason));
            }
            FeedStatus::Disconnected { reason } => return Err(HeadlessError::Unreachable(reason)),
            _ => None,
        };
        let written = self.output.line(line).await;
        if let Some(err) = refused {
            return Err(err);
        }
        written.map(|()| None).or_else(|err| output_ended(err).map(Some))
    }
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
