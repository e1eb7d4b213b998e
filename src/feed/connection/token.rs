//! The access token's life as the connection sees it: a new token, the warning 15 minutes before
//! it dies, and the end of the stream when it does.

use std::time::{Duration, Instant};

use super::{Connection, Effect, Effects, End, Phase};
use crate::store::{FeedStatus, SessionInfo};

/// The access token as far as the connection cares.
#[derive(Debug, Default)]
pub(super) struct Token {
    pub(super) present: bool,
    /// Bumped by each new token, so a late answer about an old one is not taken for the new one.
    pub(super) generation: u64,
    pub(super) expires_at: Option<Instant>,
    /// The server refused it: nothing is tried until a new one comes.
    pub(super) refused: bool,
    pub(super) ending_warned: bool,
    pub(super) expired: bool,
}

impl Connection {
    pub(super) fn new_token(&mut self, now: Instant, expires_at: Option<Instant>, effects: &mut Effects) {
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

    /// The token's clock: a warning 15 minutes before its `exp`, and the end of the stream when
    /// the server refuses it after that, or `EXPIRY_MARGIN` after `exp` if it never does. The
    /// local clock may be ahead of the server's: it alone does not end a token that still works.
    pub(super) fn check_clock(&mut self, now: Instant, effects: &mut Effects) {
        let Some(expires_at) = self.token.expires_at else {
            return;
        };
        if !self.token.expired && now >= expires_at + EXPIRY_MARGIN {
            self.expire(now, effects);
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
}

/// How long past its `exp` (by the local clock) a token the server still accepts is used.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(10 * 60);

impl Connection {
    /// The token is dead: the stream stops and nothing is tried until a new one comes.
    fn expire(&mut self, now: Instant, effects: &mut Effects) {
        self.token.expired = true;
        self.token.ending_warned = true;
        effects.push(Effect::Session {
            ending_soon: true,
            expired: true,
        });
        if !self.token.refused {
            self.end(now, End::Expired, effects);
        }
    }

    /// The server refused the token (403, REST -8…): past its `exp` that is its expiry.
    pub(super) fn refused(&mut self, now: Instant, reason: String, effects: &mut Effects) {
        if self.token.expires_at.is_some_and(|at| now >= at) {
            self.expire(now, effects);
        } else {
            self.end(now, End::Refused(reason), effects);
        }
    }
}

pub(super) fn ending_soon_at(expires_at: Instant) -> Instant {
    expires_at
        .checked_sub(SessionInfo::ENDING_SOON)
        .unwrap_or(expires_at)
}
