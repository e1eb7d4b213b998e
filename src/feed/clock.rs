//! The session clock: when the access token dies, read from its JWT, and what the feed does 15
//! minutes before (warn) and at that moment (stop, with no retries until a new token).

use std::time::{Duration, Instant};

use super::{Command, Feed, SESSION_EXPIRED, Tap};
use crate::fyers::auth::Authorization;
use crate::fyers::login::token_expiry;
use crate::store::{ConnectionState, SessionInfo, now_ms};

impl Feed {
    /// A new token: new REST client, new session clock.
    pub(super) async fn set_authorization(&mut self, auth: Authorization) {
        self.config.auth = Some(auth);
        self.rest = None;
        if matches!(self.store.read().connection, ConnectionState::AuthRejected { .. }) {
            self.set_state(ConnectionState::Disconnected, "new access token")
                .await;
        }
        self.arm_session_clock().await;
    }

    /// Reads when the token dies and wakes the feed 15 minutes before and at that moment.
    pub(super) async fn arm_session_clock(&mut self) {
        if let Some(clock) = self.clock.take() {
            clock.abort();
        }
        let expires_at = self
            .config
            .auth
            .as_ref()
            .and_then(|auth| token_expiry(auth.access_token().expose()));
        self.store.write().session = SessionInfo {
            expires_at,
            ..SessionInfo::default()
        };
        let Some(expires_at) = expires_at else { return };
        let left = Duration::from_millis((expires_at * 1000 - now_ms()).max(0) as u64);
        let now = Instant::now();
        let moments = [left.saturating_sub(SessionInfo::ENDING_SOON), left].map(|after| now + after);
        let commands = self.weak_commands.clone();
        self.clock = Some(
            tokio::spawn(async move {
                for moment in moments {
                    tokio::time::sleep_until(moment.into()).await;
                    let Some(commands) = commands.upgrade() else {
                        return;
                    };
                    let _ = commands.send(Command::SessionClock).await;
                }
            })
            .abort_handle(),
        );
        self.check_session_outside().await;
    }

    /// Brings the session flags up to the clock. True when the token has died: the caller stops
    /// the stream and nothing is attempted until a new token comes.
    pub(super) async fn session_clock(&mut self) -> bool {
        let now_secs = now_ms().div_euclid(1000);
        let (ending_soon, expired, newly_expired) = {
            let mut store = self.store.write();
            let session = &mut store.session;
            let Some(left) = session.remaining_secs(now_secs) else {
                return false;
            };
            let newly_expired = left <= 0 && !session.expired;
            session.ending_soon = left <= SessionInfo::ENDING_SOON.as_secs() as i64;
            session.expired = left <= 0;
            (session.ending_soon, session.expired, newly_expired)
        };
        (self.repaint)();
        if let Some(tap) = &self.tap
            && ending_soon
            && !expired
        {
            let _ = tap
                .send(Tap::Status(serde_json::json!({"state": "session_ending"})))
                .await;
        }
        if newly_expired {
            tracing::warn!("the Fyers session has expired");
        }
        expired
    }

    /// Outside a session, an expired token stops the stream at once.
    pub(super) async fn check_session_outside(&mut self) {
        let rejected = matches!(self.store.read().connection, ConnectionState::AuthRejected { .. });
        if self.session_clock().await && !rejected {
            self.set_state(
                ConnectionState::AuthRejected {
                    reason: SESSION_EXPIRED.to_owned(),
                },
                SESSION_EXPIRED,
            )
            .await;
        }
    }
}
