//! The connection's logic as a plain state machine: no tokio, no sockets, no clock. The driver
//! (`driver.rs`) feeds it what happened ([`Input`], with the time) and carries out what it decides
//! ([`Effect`]); [`Connection::next_deadline`] says when to come back if nothing happens. So every
//! rule (backoff, stall detection, the 403 stand-down, the subscribe acknowledgement, resync
//! scheduling, the token's life) is tested as a table of inputs and effects, with no timing.

mod io;
mod resync;
mod subscriptions;
mod token;

use std::collections::{BTreeSet, VecDeque};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::Timing;
use crate::fyers::model::EventKind;
use crate::fyers::socket::SocketError;
use crate::store::FeedStatus;

pub use io::{Effect, Input, Request, ResyncOutcome};
pub use resync::MIN_RESYNC_SPACING;
use resync::Resync;
use subscriptions::PendingAck;
pub use token::EXPIRY_MARGIN;
use token::{Token, ending_soon_at};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Not streaming: by choice, for want of a usable token, or shut down.
    Idle,
    Opening,
    Open {
        since: Instant,
        last_frame: Instant,
        next_ping: Instant,
    },
    /// Lost; the next attempt is at `until`.
    Waiting {
        until: Instant,
    },
    Stopped,
}

/// How a connection ended.
enum End {
    Lost(String),
    Stopped,
    Refused(String),
    Expired,
    /// A new token: open again at once.
    Renewed,
    Shutdown,
}

/// One order-socket connection's life, kept up across reconnects and tokens.
#[derive(Debug)]
pub struct Connection {
    timing: Timing,
    rng: SmallRng,
    streaming: bool,
    phase: Phase,
    /// Attempts since the last stable connection.
    attempt: u32,
    token: Token,
    wanted: BTreeSet<EventKind>,
    acknowledged: BTreeSet<EventKind>,
    acks: VecDeque<PendingAck>,
    resync: Resync,
}

type Effects = Vec<Effect>;

impl Connection {
    /// `streaming`: connect as soon as a usable token is there. `seed` drives the backoff's jitter.
    pub fn new(timing: Timing, wanted: BTreeSet<EventKind>, streaming: bool, seed: u64) -> Self {
        Self {
            timing,
            rng: SmallRng::seed_from_u64(seed),
            streaming,
            phase: Phase::Idle,
            attempt: 0,
            token: Token::default(),
            wanted,
            acknowledged: BTreeSet::new(),
            acks: VecDeque::new(),
            resync: Resync::default(),
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open { .. })
    }

    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    pub fn wanted(&self) -> &BTreeSet<EventKind> {
        &self.wanted
    }

    /// Takes in one thing that happened at `now`; returns what to do about it, in order.
    pub fn handle(&mut self, now: Instant, input: Input) -> Effects {
        let mut effects = Vec::new();
        if self.phase == Phase::Stopped {
            return effects;
        }
        match input {
            Input::Request(request) => self.request(now, request, &mut effects),
            Input::Token { expires_at } => self.new_token(now, expires_at, &mut effects),
            Input::Opened => self.opened(now, &mut effects),
            Input::OpenFailed(err) => self.open_failed(now, err, &mut effects),
            Input::Frames { count, acks } => self.frames(now, count, &acks, &mut effects),
            Input::Closed { reason } | Input::SendFailed { reason } => {
                if matches!(self.phase, Phase::Open { .. }) {
                    self.end(now, End::Lost(reason), &mut effects);
                }
            }
            Input::Resynced {
                generation,
                kinds,
                outcome,
            } => self.resynced(now, generation, kinds, outcome, &mut effects),
            Input::Tick => self.tick(now, &mut effects),
        }
        self.start_resync(now, &mut effects);
        effects
    }

    /// When to call `handle(Tick)` if nothing else happens first.
    pub fn next_deadline(&self) -> Option<Instant> {
        let token = &self.token;
        let clock = [
            token
                .expires_at
                .filter(|_| !token.expired)
                .map(|at| at + EXPIRY_MARGIN),
            token
                .expires_at
                .filter(|_| !token.ending_warned)
                .map(ending_soon_at),
        ];
        let phase = match self.phase {
            Phase::Waiting { until } => vec![until],
            Phase::Open {
                last_frame,
                next_ping,
                ..
            } => {
                let mut at = vec![last_frame + self.timing.dead_after, next_ping];
                at.extend(self.acks.front().map(|ack| ack.deadline));
                at.extend(self.resync.retry_at);
                at
            }
            Phase::Idle | Phase::Opening | Phase::Stopped => Vec::new(),
        };
        clock.into_iter().flatten().chain(phase).min()
    }

    fn can_open(&self) -> bool {
        let token = &self.token;
        self.streaming && token.present && !token.refused && !token.expired
    }

    fn open(&mut self, effects: &mut Effects) {
        self.phase = Phase::Opening;
        effects.push(Effect::Status(FeedStatus::Connecting {
            attempt: self.attempt,
        }));
        effects.push(Effect::Open);
    }

    fn request(&mut self, now: Instant, request: Request, effects: &mut Effects) {
        match request {
            Request::Connect => {
                self.streaming = true;
                if matches!(self.phase, Phase::Idle | Phase::Waiting { .. }) && self.can_open() {
                    self.open(effects);
                }
            }
            Request::Disconnect => {
                self.streaming = false;
                // A refused or dead token stays what the user sees: stopping does not mend it.
                if !(self.token.refused || self.token.expired) {
                    self.end(now, End::Stopped, effects);
                }
            }
            Request::SetSubscriptions(kinds) => self.set_subscriptions(now, kinds, effects),
            Request::Resync => self.ask_resync(now),
            Request::Shutdown => self.end(now, End::Shutdown, effects),
        }
    }

    fn opened(&mut self, now: Instant, effects: &mut Effects) {
        if self.phase != Phase::Opening {
            effects.push(Effect::Close);
            return;
        }
        self.phase = Phase::Open {
            since: now,
            last_frame: now,
            next_ping: now + self.timing.ping_every,
        };
        effects.push(Effect::Status(FeedStatus::Connected {
            reconnected: self.attempt > 0,
        }));
        self.acknowledged.clear();
        effects.push(self.subscriptions());
        let wanted = self.wanted.clone();
        self.subscribe(now, &wanted, &wanted, effects);
    }

    fn open_failed(&mut self, now: Instant, err: SocketError, effects: &mut Effects) {
        if self.phase != Phase::Opening {
            return;
        }
        // The attempt is over: there is nothing to close.
        self.phase = Phase::Idle;
        let reason = err.to_string();
        if err.is_auth() {
            self.refused(now, reason, effects);
        } else if !err.is_retryable() {
            self.streaming = false;
            self.attempt = 0;
            effects.push(Effect::Status(FeedStatus::Disconnected { reason }));
        } else {
            self.end(now, End::Lost(reason), effects);
        }
    }

    fn tick(&mut self, now: Instant, effects: &mut Effects) {
        self.check_clock(now, effects);
        match self.phase {
            Phase::Waiting { until } if now >= until => {
                if self.can_open() {
                    self.open(effects);
                } else {
                    self.phase = Phase::Idle;
                }
            }
            Phase::Open {
                last_frame,
                next_ping,
                ..
            } => {
                let timing = self.timing;
                if now >= last_frame + timing.dead_after {
                    let secs = timing.dead_after.as_secs_f64();
                    self.end(now, End::Lost(format!("no frame or pong for {secs} s")), effects);
                } else if self.acks.front().is_some_and(|ack| now >= ack.deadline) {
                    let secs = timing.ack_timeout.as_secs_f64();
                    let reason = format!("subscription not acknowledged within {secs} s");
                    self.end(now, End::Lost(reason), effects);
                } else if now >= next_ping {
                    if let Phase::Open { next_ping, .. } = &mut self.phase {
                        *next_ping = now + timing.ping_every;
                    }
                    effects.push(Effect::Send("ping".to_owned()));
                }
            }
            _ => {}
        }
        if self.resync.retry_at.is_some_and(|at| now >= at) {
            self.resync.retry_at = None;
        }
    }

    /// Ends the connection (if any) and moves to what comes after `end`.
    fn end(&mut self, now: Instant, end: End, effects: &mut Effects) {
        let since = match self.phase {
            Phase::Open { since, .. } => Some(since),
            _ => None,
        };
        if matches!(self.phase, Phase::Open { .. } | Phase::Opening) {
            effects.push(Effect::Close);
        }
        self.acks.clear();
        if !self.acknowledged.is_empty() {
            self.acknowledged.clear();
            effects.push(self.subscriptions());
        }
        self.phase = Phase::Idle;
        match end {
            End::Lost(reason) => {
                let stable = since
                    .is_some_and(|since| now.saturating_duration_since(since) >= self.timing.stable_after);
                if stable {
                    self.attempt = 0;
                }
                self.attempt = self.attempt.saturating_add(1);
                let delay = self.timing.backoff.delay(self.attempt, &mut self.rng);
                self.phase = Phase::Waiting { until: now + delay };
                effects.push(Effect::Status(FeedStatus::Reconnecting {
                    attempt: self.attempt,
                    delay,
                    reason,
                }));
            }
            End::Stopped => {
                self.attempt = 0;
                effects.push(Effect::Status(FeedStatus::Disconnected {
                    reason: "stream stopped".to_owned(),
                }));
            }
            End::Refused(reason) => {
                self.token.refused = true;
                self.attempt = 0;
                effects.push(Effect::Status(FeedStatus::AuthRejected { reason }));
            }
            End::Expired => {
                self.attempt = 0;
                effects.push(Effect::Status(FeedStatus::SessionExpired));
            }
            End::Renewed => {
                self.attempt = 0;
                if self.can_open() {
                    self.open(effects);
                }
            }
            End::Shutdown => {
                self.phase = Phase::Stopped;
                effects.push(Effect::Stop);
            }
        }
    }
}

#[cfg(test)]
mod tests;
