//! The driver's REST side: starting a resync the core asked for, and merging what it brought
//! into the store (as the one writer) before telling the core how it went.

use std::collections::BTreeSet;

use super::Driver;

use crate::feed::connection::{Input, ResyncOutcome};
use crate::feed::resync::{Snapshot, fetch};
use crate::fyers::model::Event;
use crate::fyers::model::EventKind;
use crate::fyers::rest::{RestClient, RestError};
use crate::store::{BadFrame, Origin, now_ms};

/// Snapshot rows merged (and tapped) at a time.
const SNAPSHOT_CHUNK: usize = 4096;

/// A REST resync's answer: under which token, for which kinds, and what came back.
pub(super) struct ResyncDone {
    generation: u64,
    kinds: std::collections::BTreeSet<EventKind>,
    mark: u64,
    result: Result<Snapshot, RestError>,
}

impl Driver<'_> {
    fn rest_client(&mut self) -> Option<RestClient> {
        if self.rest.is_none() {
            let auth = self.shared.config.auth.clone()?;
            match RestClient::new(&self.shared.config.rest_url, auth) {
                Ok(client) => self.rest = Some(client),
                Err(err) => tracing::error!(%err, "cannot build the REST client"),
            }
        }
        self.rest.clone()
    }

    pub(super) fn start_resync(&mut self, kinds: BTreeSet<EventKind>, generation: u64) {
        let done = self.resyncs.0.clone();
        let (mark, want_profile) = {
            let store = self.shared.store.read();
            (store.resync_mark(), store.session.profile.is_none())
        };
        let Some(rest) = self.rest_client() else {
            let result = Err(RestError::Transport("no REST client".to_owned()));
            let _ = done.try_send(ResyncDone {
                generation,
                kinds,
                mark,
                result,
            });
            return;
        };
        tokio::spawn(async move {
            let result = fetch(&rest, &kinds, want_profile).await;
            let _ = done
                .send(ResyncDone {
                    generation,
                    kinds,
                    mark,
                    result,
                })
                .await;
        });
    }

    /// Merges a resync's snapshot (or not) and tells the core how it went.
    pub(super) async fn merge(&mut self, done: ResyncDone) -> Input {
        let ResyncDone {
            generation,
            kinds,
            mark,
            result,
        } = done;
        let outcome = match result {
            Err(err) => ResyncOutcome::Failed {
                error: err.to_string(),
                auth: err.is_auth(),
            },
            Ok(snapshot) => {
                let (rows, changed) = self.apply_snapshot(snapshot, mark).await;
                ResyncOutcome::Merged { rows, changed }
            }
        };
        Input::Resynced {
            generation,
            kinds,
            outcome,
        }
    }

    /// Merges a snapshot a chunk at a time, each under one write lock, and taps what each chunk
    /// changed before the next: a big day's books are never copied whole for the tap.
    async fn apply_snapshot(&mut self, snapshot: Snapshot, mark: u64) -> (u64, u64) {
        let received_ms = now_ms();
        let rows = snapshot.events.len() as u64;
        let mut bad: Vec<BadFrame> = snapshot
            .bad_rows
            .into_iter()
            .map(|error| BadFrame::new(received_ms, error, ""))
            .collect();
        let mut changed = 0u64;
        let mut events = snapshot.events.into_iter().peekable();
        while events.peek().is_some() || !bad.is_empty() {
            let chunk: Vec<Event> = events.by_ref().take(SNAPSHOT_CHUNK).collect();
            self.roll_day();
            let copy = self.wants_copy().then(|| chunk.clone());
            let bad_copy = self.journal_bad(&bad);
            let report = self
                .shared
                .store
                .write()
                .apply_snapshot(chunk, std::mem::take(&mut bad), mark);
            changed += report.changed() as u64;
            self.publish(copy, bad_copy, &report, Origin::Resync).await;
        }
        {
            let mut store = self.shared.store.write();
            store.resync.last_ok_ms = Some(received_ms);
            store.resync.rows = rows;
            store.resync.changed = changed;
            store.resync.error = None;
            if let Some(profile) = snapshot.profile {
                store.session.profile = Some(profile);
            }
        }
        (self.shared.repaint)();
        tracing::info!(rows, changed, "resynced from REST");
        (rows, changed)
    }
}
