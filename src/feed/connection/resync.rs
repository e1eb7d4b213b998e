//! REST resyncs: queued by acknowledgements and by the user, one at a time, spaced, and retried
//! with backoff when they fail.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Connection, Effect, Effects, Phase, ResyncOutcome};
use crate::fyers::model::EventKind;
use crate::store::FeedStatus;

/// Manual resyncs closer together than this are dropped: Fyers blocks clients that poll.
pub const MIN_RESYNC_SPACING: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub(super) struct Resync {
    pub(super) in_flight: bool,
    pub(super) queued: BTreeSet<EventKind>,
    pub(super) retry_at: Option<Instant>,
    failures: u32,
    pub(super) last_started: Option<Instant>,
}

impl Connection {
    /// The user asked for a resync: queued unless one started moments ago or a retry is waiting.
    pub(super) fn ask_resync(&mut self, now: Instant) {
        let recent = self
            .resync
            .last_started
            .is_some_and(|at| now.saturating_duration_since(at) < MIN_RESYNC_SPACING);
        if self.is_open() && !recent && self.resync.retry_at.is_none() {
            self.resync.queued.extend(self.wanted.iter().copied());
        }
    }

    pub(super) fn resynced(
        &mut self,
        now: Instant,
        generation: u64,
        kinds: BTreeSet<EventKind>,
        outcome: ResyncOutcome,
        effects: &mut Effects,
    ) {
        self.resync.in_flight = false;
        if generation != self.token.generation {
            // About a token that has been replaced: its data was merged, its verdict is moot.
            return;
        }
        match outcome {
            ResyncOutcome::Merged { rows, changed } => {
                self.resync.failures = 0;
                effects.push(Effect::Status(FeedStatus::Resynced { rows, changed }));
            }
            ResyncOutcome::Failed { error, auth: true } => {
                if matches!(self.phase, Phase::Open { .. }) {
                    self.refused(now, error, effects);
                }
            }
            ResyncOutcome::Failed { error, auth: false } => {
                self.resync.failures = self.resync.failures.saturating_add(1);
                let retry_in = self
                    .timing
                    .resync_backoff
                    .delay(self.resync.failures, &mut self.rng);
                self.resync.retry_at = Some(now + retry_in);
                self.resync.queued.extend(kinds);
                effects.push(Effect::ResyncFailed { error, retry_in });
            }
        }
    }

    pub(super) fn start_resync(&mut self, now: Instant, effects: &mut Effects) {
        let open = self.is_open();
        let resync = &mut self.resync;
        if !open || resync.in_flight || resync.retry_at.is_some() || resync.queued.is_empty() {
            return;
        }
        resync.in_flight = true;
        resync.last_started = Some(now);
        effects.push(Effect::Resync {
            kinds: std::mem::take(&mut resync.queued),
            generation: self.token.generation,
        });
    }
}
