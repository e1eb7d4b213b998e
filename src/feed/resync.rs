//! REST resyncs: after each acknowledged subscription the feed pulls the order book, trade book
//! and positions and merges them with the never-regress rules, retrying with backoff on failure.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::session::SessionEnd;
use super::{Feed, Tap};
use crate::fyers::model::{Event, EventKind};
use crate::fyers::rest::{Profile, RestClient, RestError, Rows};
use crate::store::{BadFrame, Origin, now_ms};

/// Manual resyncs closer together than this are dropped: Fyers blocks clients that poll.
const MIN_RESYNC_SPACING: Duration = Duration::from_secs(2);

/// REST snapshots merged after a (re)connect or subscription change.
#[derive(Default)]
pub(super) struct Resync {
    pub(super) in_flight: bool,
    pub(super) queued: BTreeSet<EventKind>,
    pub(super) retry_at: Option<Instant>,
    failures: u32,
    last_started: Option<Instant>,
}

impl Resync {
    /// The user asked for a resync of these kinds: queued unless one started moments ago or a
    /// retry is already waiting.
    pub(super) fn ask(&mut self, kinds: BTreeSet<EventKind>) {
        let recent = self
            .last_started
            .is_some_and(|at| at.elapsed() < MIN_RESYNC_SPACING);
        if !recent && self.retry_at.is_none() {
            self.queued.extend(kinds);
        }
    }
}

pub(super) struct Snapshot {
    events: Vec<Event>,
    bad_rows: Vec<String>,
    /// The account, when it was asked for (once per token).
    profile: Option<Profile>,
}

pub(super) type ResyncResult = (BTreeSet<EventKind>, u64, Result<Snapshot, RestError>);

impl Feed {
    pub(super) fn start_resync(&mut self, resync: &mut Resync, results: &mpsc::Sender<ResyncResult>) {
        if resync.in_flight || resync.retry_at.is_some() || resync.queued.is_empty() {
            return;
        }
        let Some(rest) = self.rest_client() else { return };
        let kinds = std::mem::take(&mut resync.queued);
        resync.in_flight = true;
        resync.last_started = Some(Instant::now());
        let results = results.clone();
        let (mark, want_profile) = {
            let store = self.store.read();
            (store.resync_mark(), store.session.profile.is_none())
        };
        tokio::spawn(async move {
            let result = fetch(&rest, &kinds, want_profile).await;
            let _ = results.send((kinds, mark, result)).await;
        });
    }

    /// Merges a snapshot, or schedules a retry. An auth failure ends the session.
    pub(super) async fn resynced(
        &mut self,
        resync: &mut Resync,
        kinds: BTreeSet<EventKind>,
        mark: u64,
        result: Result<Snapshot, RestError>,
    ) -> Result<(), SessionEnd> {
        let snapshot = match result {
            Ok(snapshot) => snapshot,
            Err(err) if err.is_auth() => return Err(SessionEnd::AuthRejected(err.to_string())),
            Err(err) => {
                resync.failures += 1;
                let delay = self
                    .config
                    .timing
                    .resync_backoff
                    .delay(resync.failures, &mut self.rng);
                resync.retry_at = Some(Instant::now() + delay);
                resync.queued.extend(kinds);
                tracing::warn!(%err, retry_in_ms = delay.as_millis() as u64, "REST resync failed");
                let mut store = self.store.write();
                store.resync.error = Some(format!("{err}; retrying in {:.0} s", delay.as_secs_f64()));
                store.resync.failures += 1;
                drop(store);
                (self.repaint)();
                return Ok(());
            }
        };
        resync.failures = 0;
        let received_ms = now_ms();
        let rows = snapshot.events.len() as u64;
        let bad = snapshot
            .bad_rows
            .into_iter()
            .map(|error| BadFrame::new(received_ms, error, ""))
            .collect();
        let tapped = self.tap.as_ref().map(|_| snapshot.events.clone());
        let report = {
            let mut store = self.store.write();
            let report = store.apply_snapshot(snapshot.events, bad, mark);
            store.resync.last_ok_ms = Some(received_ms);
            store.resync.rows = rows;
            store.resync.changed = report.changed() as u64;
            store.resync.error = None;
            if let Some(profile) = snapshot.profile {
                store.session.profile = Some(profile);
            }
            report
        };
        (self.repaint)();
        tracing::info!(rows, changed = report.changed(), "resynced from REST");
        if let (Some(tap), Some(events)) = (&self.tap, tapped) {
            let changed = changed(events, &report.outcomes);
            let status = serde_json::json!({"state": "resynced", "rows": rows, "changed": changed.len()});
            if !changed.is_empty() {
                let _ = tap
                    .send(Tap::Events {
                        events: changed,
                        origin: Origin::Resync,
                    })
                    .await;
            }
            let _ = tap.send(Tap::Status(status)).await;
        }
        Ok(())
    }
}

/// The events that changed the store.
pub(super) fn changed(events: Vec<Event>, outcomes: &[crate::store::Outcome]) -> Vec<Event> {
    events
        .into_iter()
        .zip(outcomes)
        .filter(|(_, outcome)| outcome.changed())
        .map(|(event, _)| event)
        .collect()
}

/// Pulls the books for these kinds, one call after another (3 calls at most, far under the limits).
async fn fetch(
    rest: &RestClient,
    kinds: &BTreeSet<EventKind>,
    want_profile: bool,
) -> Result<Snapshot, RestError> {
    let mut snapshot = Snapshot {
        events: Vec::new(),
        bad_rows: Vec::new(),
        profile: None,
    };
    if want_profile {
        // Who the stream belongs to; not worth failing the books for, unless the token is bad.
        match rest.profile().await {
            Ok(profile) => snapshot.profile = Some(profile),
            Err(err) if err.is_auth() => return Err(err),
            Err(err) => tracing::warn!(%err, "cannot read the profile"),
        }
    }
    if kinds.contains(&EventKind::Orders) {
        snapshot.add(rest.orders().await?, |row| Event::Order(Box::new(row)));
    }
    if kinds.contains(&EventKind::Trades) {
        snapshot.add(rest.trades().await?, |row| Event::Trade(Box::new(row)));
    }
    if kinds.contains(&EventKind::Positions) {
        snapshot.add(rest.positions().await?, |row| Event::Position(Box::new(row)));
    }
    Ok(snapshot)
}

impl Snapshot {
    fn add<T>(&mut self, rows: Rows<T>, event: fn(T) -> Event) {
        self.events.extend(rows.rows.into_iter().map(event));
        self.bad_rows.extend(rows.bad_rows);
    }
}
