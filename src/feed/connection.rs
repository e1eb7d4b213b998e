//! The connection's logic as a plain state machine: no tokio, no sockets, no clock. The driver
//! (`driver.rs`) feeds it what happened ([`Input`], with the time) and carries out what it decides
//! ([`Effect`]); [`Connection::next_deadline`] says when to come back if nothing happens. So every
//! rule (backoff, stall detection, the 403 stand-down, the subscribe acknowledgement, resync
//! scheduling, the token's life) is tested as a table of inputs and effects, with no timing.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::Timing;
use crate::fyers::model::EventKind;
use crate::fyers::socket::SocketError;
use crate::fyers::wire;
use crate::store::{FeedStatus, SessionInfo};

/// Manual resyncs closer together than this are dropped: Fyers blocks clients that poll.
pub const MIN_RESYNC_SPACING: Duration = Duration::from_secs(2);

/// What the user (or the app) asks of the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Stream, and keep reconnecting until told to stop.
    Connect,
    /// Stop streaming.
    Disconnect,
    /// Subscribe and unsubscribe live to reach this set.
    SetSubscriptions(BTreeSet<EventKind>),
    /// Merge the REST books now.
    Resync,
    Shutdown,
}

/// What happened, as the driver saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Request(Request),
    /// A new access token; `expires_at` is when it dies, if it says.
    Token {
        expires_at: Option<Instant>,
    },
    /// The socket's upgrade succeeded.
    Opened,
    OpenFailed(SocketError),
    /// A batch of frames was read and applied: how many, and the acknowledgement messages in it.
    Frames {
        count: usize,
        acks: Vec<String>,
    },
    /// The socket ended (closed by the server, or a read error).
    Closed {
        reason: String,
    },
    /// A frame could not be sent.
    SendFailed {
        reason: String,
    },
    /// A resync started under token `generation` ended.
    Resynced {
        generation: u64,
        kinds: BTreeSet<EventKind>,
        outcome: ResyncOutcome,
    },
    /// Time passed (the driver comes back at `next_deadline`).
    Tick,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResyncOutcome {
    /// The books were merged: rows read, rows that changed the store.
    Merged {
        rows: u64,
        changed: u64,
    },
    Failed {
        error: String,
        auth: bool,
    },
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Open the socket with the current token.
    Open,
    /// Send this text frame.
    Send(String),
    /// End the connection, or the attempt to open it; apply every frame the server already sent.
    Close,
    /// Pull these REST books and merge them.
    Resync {
        kinds: BTreeSet<EventKind>,
        generation: u64,
    },
    /// What is wanted and what the server acknowledged changed.
    Subscriptions {
        wanted: BTreeSet<EventKind>,
        acknowledged: BTreeSet<EventKind>,
    },
    /// A resync failed; it is retried in `retry_in`.
    ResyncFailed {
        error: String,
        retry_in: Duration,
    },
    /// The token's clock: less than 15 minutes left, or none.
    Session {
        ending_soon: bool,
        expired: bool,
    },
    Status(FeedStatus),
    /// The feed is done.
    Stop,
}

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

/// The access token as far as the connection cares.
#[derive(Debug, Default)]
struct Token {
    present: bool,
    /// Bumped by each new token, so a late answer about an old one is not taken for the new one.
    generation: u64,
    expires_at: Option<Instant>,
    /// The server refused it: nothing is tried until a new one comes.
    refused: bool,
    ending_warned: bool,
    expired: bool,
}

/// A subscribe message waiting for its acknowledgement.
#[derive(Debug)]
struct PendingAck {
    deadline: Instant,
    /// The subscription set once acknowledged.
    target: BTreeSet<EventKind>,
    /// Kinds to pull from REST once acknowledged, so nothing from before the ack is missed.
    resync: BTreeSet<EventKind>,
}

#[derive(Debug, Default)]
struct Resync {
    in_flight: bool,
    queued: BTreeSet<EventKind>,
    retry_at: Option<Instant>,
    failures: u32,
    last_started: Option<Instant>,
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
            token.expires_at.filter(|_| !token.expired),
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
            Request::Resync => {
                let recent = self
                    .resync
                    .last_started
                    .is_some_and(|at| now.saturating_duration_since(at) < MIN_RESYNC_SPACING);
                if self.is_open() && !recent && self.resync.retry_at.is_none() {
                    self.resync.queued.extend(self.wanted.iter().copied());
                }
            }
            Request::Shutdown => self.end(now, End::Shutdown, effects),
        }
    }

    fn new_token(&mut self, now: Instant, expires_at: Option<Instant>, effects: &mut Effects) {
        let was_refused = self.token.refused;
        self.token = Token {
            present: true,
            generation: self.token.generation + 1,
            expires_at,
            ..Token::default()
        };
        effects.push(Effect::Session {
            ending_soon: false,
            expired: false,
        });
        // A token that is already dead ends things here.
        self.check_clock(now, effects);
        if matches!(self.phase, Phase::Open { .. } | Phase::Opening) {
            self.end(now, End::Renewed, effects);
            return;
        }
        if was_refused && !self.token.expired {
            effects.push(Effect::Status(FeedStatus::Disconnected {
                reason: "new access token".to_owned(),
            }));
        }
        if matches!(self.phase, Phase::Idle | Phase::Waiting { .. }) && self.can_open() {
            self.attempt = 0;
            self.open(effects);
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
            self.end(now, End::Refused(reason), effects);
        } else if !err.is_retryable() {
            self.streaming = false;
            self.attempt = 0;
            effects.push(Effect::Status(FeedStatus::Disconnected { reason }));
        } else {
            self.end(now, End::Lost(reason), effects);
        }
    }

    fn frames(&mut self, now: Instant, count: usize, acks: &[String], effects: &mut Effects) {
        let Phase::Open { last_frame, .. } = &mut self.phase else {
            return;
        };
        if count > 0 {
            *last_frame = now;
        }
        let mut target = None;
        for message in acks {
            // Answers to unsubscribe messages are not awaited.
            if message.to_ascii_lowercase().contains("unsub") {
                continue;
            }
            if let Some(ack) = self.acks.pop_front() {
                self.resync.queued.extend(ack.resync);
                target = Some(ack.target);
            }
        }
        if let Some(target) = target {
            self.acknowledged = target.intersection(&self.wanted).copied().collect();
            effects.push(self.subscriptions());
            effects.push(Effect::Status(FeedStatus::Subscribed {
                kinds: self.acknowledged.clone(),
            }));
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

    /// The token's clock: a warning 15 minutes before it dies, and the end of the stream when it does.
    fn check_clock(&mut self, now: Instant, effects: &mut Effects) {
        let Some(expires_at) = self.token.expires_at else {
            return;
        };
        if !self.token.expired && now >= expires_at {
            self.token.expired = true;
            self.token.ending_warned = true;
            effects.push(Effect::Session {
                ending_soon: true,
                expired: true,
            });
            if self.token.refused {
                return;
            }
            self.end(now, End::Expired, effects);
        } else if !self.token.ending_warned && now >= ending_soon_at(expires_at) {
            self.token.ending_warned = true;
            effects.push(Effect::Session {
                ending_soon: true,
                expired: false,
            });
            let left = expires_at.saturating_duration_since(now);
            effects.push(Effect::Status(FeedStatus::SessionEnding { left }));
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

    fn subscriptions(&self) -> Effect {
        Effect::Subscriptions {
            wanted: self.wanted.clone(),
            acknowledged: self.acknowledged.clone(),
        }
    }

    fn subscribe(
        &mut self,
        now: Instant,
        added: &BTreeSet<EventKind>,
        target: &BTreeSet<EventKind>,
        effects: &mut Effects,
    ) {
        if added.is_empty() {
            return;
        }
        effects.push(Effect::Send(wire::subscription_message(added, true)));
        self.acks.push_back(PendingAck {
            deadline: now + self.timing.ack_timeout,
            target: target.clone(),
            resync: added.clone(),
        });
    }

    fn set_subscriptions(&mut self, now: Instant, kinds: BTreeSet<EventKind>, effects: &mut Effects) {
        if !self.is_open() {
            self.wanted = kinds;
            self.acknowledged.clear();
            effects.push(self.subscriptions());
            return;
        }
        let removed: BTreeSet<_> = self.wanted.difference(&kinds).copied().collect();
        let added: BTreeSet<_> = kinds.difference(&self.wanted).copied().collect();
        self.wanted = kinds.clone();
        // Unsubscribing takes effect at once; the server's answer to it is not awaited.
        self.acknowledged.retain(|kind| !removed.contains(kind));
        effects.push(self.subscriptions());
        if !removed.is_empty() {
            effects.push(Effect::Send(wire::subscription_message(&removed, false)));
        }
        self.subscribe(now, &added, &kinds, effects);
    }

    fn resynced(
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
                    self.end(now, End::Refused(error), effects);
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

    fn start_resync(&mut self, now: Instant, effects: &mut Effects) {
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

fn ending_soon_at(expires_at: Instant) -> Instant {
    expires_at
        .checked_sub(SessionInfo::ENDING_SOON)
        .unwrap_or(expires_at)
}

#[cfg(test)]
mod tests;
