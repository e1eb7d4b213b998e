//! The health of the stream, as data: connection state, subscriptions, counters, bad frames.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::fyers::model::EventKind;

/// The connection as the feed last reported it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ConnectionState {
    /// Not streaming, by choice.
    #[default]
    Disconnected,
    Connecting,
    Connected {
        since: Instant,
    },
    Reconnecting {
        attempt: u32,
        next_at: Instant,
        reason: String,
    },
    /// The server refused the token: no further attempts until a new one is given.
    AuthRejected {
        reason: String,
    },
    /// The feed itself failed (a bug): it is restarted at `restart_at`, or not at all.
    Failed {
        reason: String,
        restart_at: Option<Instant>,
    },
}

impl ConnectionState {
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected { .. })
    }

    /// Not streaming because the user stopped it (or never started it).
    pub fn is_stopped(&self) -> bool {
        matches!(self, Self::Disconnected)
    }

    /// Idle for good until the user acts (stopped, or the token refused): the window stops its
    /// once-a-second tick, so nothing on screen may count time.
    pub fn is_at_rest(&self) -> bool {
        matches!(self, Self::Disconnected | Self::AuthRejected { .. })
    }

    /// A short label: "connected", "reconnecting"…
    pub fn label(&self) -> &'static str {
        match self {
            Self::Disconnected => "disconnected",
            Self::Connecting => "connecting",
            Self::Connected { .. } => "connected",
            Self::Reconnecting { .. } => "reconnecting",
            Self::AuthRejected { .. } => "auth_rejected",
            Self::Failed { .. } => "failed",
        }
    }
}

/// What the feed says about its connection, in the order it happens. It travels the tap in band
/// with the events (headless, notifications) and is recorded in the store (window, tray), so every
/// consumer sees the same truth.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedStatus {
    /// Opening the socket; `attempt` 0 is the first try, later ones follow a lost connection.
    Connecting { attempt: u32 },
    /// The socket is open; `reconnected` after a lost connection.
    Connected { reconnected: bool },
    /// The server acknowledged a subscription: these kinds now stream.
    Subscribed { kinds: BTreeSet<EventKind> },
    /// The connection was lost; the next attempt is `delay` away.
    Reconnecting {
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    /// Not streaming: stopped by the user, or by an error retrying cannot mend.
    Disconnected { reason: String },
    /// The server refused the token: nothing more is tried until a new one is given.
    AuthRejected { reason: String },
    /// The REST books were merged: rows read and rows that changed the store.
    Resynced { rows: u64, changed: u64 },
    /// The token dies in `left`.
    SessionEnding { left: Duration },
    /// The token has died: the stream stopped, nothing is tried until a new login.
    SessionExpired,
    /// The feed itself failed (a bug, caught); restarted after `restart_in`, or not at all.
    Failed {
        reason: String,
        restart_in: Option<Duration>,
    },
}

/// Why the stream stopped when the token's time ran out.
pub const SESSION_EXPIRED: &str = "the session has expired (Fyers tokens last one trading day)";

impl FeedStatus {
    /// The status as one JSON object: the `status` of headless status lines, made here only.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Self::Connecting { attempt } => json!({"state": "connecting", "attempt": attempt}),
            Self::Connected { reconnected } => json!({"state": "connected", "reconnected": reconnected}),
            Self::Subscribed { kinds } => {
                let names: Vec<&str> = kinds.iter().map(|kind| kind.sdk_name()).collect();
                json!({"state": "subscribed", "event_types": names})
            }
            Self::Reconnecting {
                attempt,
                delay,
                reason,
            } => json!({
                "state": "reconnecting", "attempt": attempt,
                "next_in_ms": delay.as_millis() as u64, "reason": reason,
            }),
            Self::Disconnected { reason } => json!({"state": "disconnected", "reason": reason}),
            Self::AuthRejected { reason } => json!({"state": "auth_rejected", "reason": reason}),
            Self::Resynced { rows, changed } => {
                json!({"state": "resynced", "rows": rows, "changed": changed})
            }
            Self::SessionEnding { left } => {
                json!({"state": "session_ending", "expires_in_s": left.as_secs()})
            }
            // For scripts an expired session is a refused login with its own reason.
            Self::SessionExpired => {
                json!({"state": "auth_rejected", "reason": SESSION_EXPIRED, "expired": true})
            }
            Self::Failed { reason, restart_in } => json!({
                "state": "failed", "reason": reason,
                "restart_in_ms": restart_in.map(|delay| delay.as_millis() as u64),
            }),
        }
    }

    /// The line this status adds to the connection log ("" adds none).
    pub fn note(&self) -> String {
        match self {
            Self::Connecting { .. } => "connecting".to_owned(),
            Self::Connected { reconnected: true } => "reconnected".to_owned(),
            Self::Connected { reconnected: false } => "connected".to_owned(),
            Self::Subscribed { kinds } => {
                let names: Vec<&str> = kinds.iter().map(|kind| kind.sdk_name()).collect();
                format!("subscribed to {}", names.join(", "))
            }
            Self::Reconnecting {
                attempt,
                delay,
                reason,
            } => format!(
                "connection lost ({reason}); retry {attempt} in {:.1} s",
                delay.as_secs_f64()
            ),
            Self::Disconnected { reason } | Self::AuthRejected { reason } => reason.clone(),
            Self::Resynced { .. } => String::new(),
            Self::SessionEnding { left } => {
                format!("the session ends in {} min", left.as_secs().div_ceil(60))
            }
            Self::SessionExpired => SESSION_EXPIRED.to_owned(),
            Self::Failed { reason, restart_in } => match restart_in {
                Some(delay) => format!(
                    "the feed failed ({reason}); restarting in {:.1} s",
                    delay.as_secs_f64()
                ),
                None => format!("the feed failed ({reason})"),
            },
        }
    }

    /// The connection state this status leaves, if it changes it.
    pub fn connection(&self, now: Instant) -> Option<ConnectionState> {
        Some(match self {
            Self::Connecting { .. } => ConnectionState::Connecting,
            Self::Connected { .. } => ConnectionState::Connected { since: now },
            Self::Reconnecting {
                attempt,
                delay,
                reason,
            } => ConnectionState::Reconnecting {
                attempt: *attempt,
                next_at: now + *delay,
                reason: reason.clone(),
            },
            Self::Disconnected { .. } => ConnectionState::Disconnected,
            Self::AuthRejected { reason } => ConnectionState::AuthRejected {
                reason: reason.clone(),
            },
            Self::SessionExpired => ConnectionState::AuthRejected {
                reason: SESSION_EXPIRED.to_owned(),
            },
            Self::Failed { reason, restart_in } => ConnectionState::Failed {
                reason: reason.clone(),
                restart_at: restart_in.map(|delay| now + delay),
            },
            Self::Subscribed { .. } | Self::Resynced { .. } | Self::SessionEnding { .. } => return None,
        })
    }
}

/// The login the stream runs on: who, and until when.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionInfo {
    /// When the access token dies (epoch seconds), if it says.
    pub expires_at: Option<i64>,
    /// The account, once `/profile` answered for this token.
    pub profile: Option<crate::fyers::rest::Profile>,
    /// Less than `ENDING_SOON` left: warn (banner, notification).
    pub ending_soon: bool,
    /// The token's time is up: no more attempts until a new login.
    pub expired: bool,
}

impl SessionInfo {
    /// How long before expiry the user is warned.
    pub const ENDING_SOON: Duration = Duration::from_secs(15 * 60);

    /// Seconds left at `now_secs` (negative once expired).
    pub fn remaining_secs(&self, now_secs: i64) -> Option<i64> {
        self.expires_at.map(|at| at.saturating_sub(now_secs))
    }
}

/// What the connection subscribes to (`wanted`: the union of what the window and the programs on
/// the local API ask for, each kept apart), and what the server has acknowledged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscriptions {
    pub wanted: BTreeSet<EventKind>,
    pub acknowledged: BTreeSet<EventKind>,
    /// Asked for by the window (or headless).
    pub window: BTreeSet<EventKind>,
    /// Asked for over the local API (`POST /api/order-stream/subscribe`).
    pub api: BTreeSet<EventKind>,
}

impl Subscriptions {
    /// Asked for but not acknowledged yet.
    pub fn is_pending(&self, kind: EventKind) -> bool {
        self.wanted.contains(&kind) != self.acknowledged.contains(&kind)
    }
}

/// Count of one event type: all received, and new since its tab was last viewed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCount {
    pub total: u64,
    pub unseen: u64,
}

/// A frame that could not be read, kept for inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct BadFrame {
    pub received_ms: i64,
    pub error: String,
    /// The start of the payload (at most `BAD_FRAME_KEEP_BYTES`).
    pub payload: String,
    pub len: usize,
}

pub const BAD_FRAME_KEEP_BYTES: usize = 2048;

impl BadFrame {
    pub fn new(received_ms: i64, error: String, payload: &str) -> Self {
        let mut end = payload.len().min(BAD_FRAME_KEEP_BYTES);
        while !payload.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            received_ms,
            error,
            payload: payload[..end].to_owned(),
            len: payload.len(),
        }
    }
}

/// The outcome of the last merge of REST snapshots.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResyncStatus {
    pub last_ok_ms: Option<i64>,
    /// Rows read and rows that changed the store, at the last success.
    pub rows: u64,
    pub changed: u64,
    /// Set while resync is failing; cleared by the next success.
    pub error: Option<String>,
    pub failures: u64,
}

/// Frames per second over the last few seconds.
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    /// (whole second since `origin`, frames in it), newest last.
    buckets: VecDeque<(u64, u64)>,
    origin: Option<Instant>,
}

impl RateMeter {
    const WINDOW_SECS: u64 = 5;

    pub fn record(&mut self, now: Instant, frames: u64) {
        let origin = *self.origin.get_or_insert(now);
        let second = now.duration_since(origin).as_secs();
        match self.buckets.back_mut() {
            Some((last, count)) if *last == second => *count += frames,
            _ => self.buckets.push_back((second, frames)),
        }
        while self
            .buckets
            .front()
            .is_some_and(|(s, _)| *s + Self::WINDOW_SECS < second)
        {
            self.buckets.pop_front();
        }
    }

    /// Average over the last complete seconds of the window.
    pub fn per_second(&self, now: Instant) -> f64 {
        let Some(origin) = self.origin else { return 0.0 };
        let current = now.duration_since(origin).as_secs();
        let from = current.saturating_sub(Self::WINDOW_SECS);
        let frames: u64 = self
            .buckets
            .iter()
            .filter(|(s, _)| *s >= from && *s < current)
            .map(|(_, c)| c)
            .sum();
        let span = (current - from).max(1);
        frames as f64 / span as f64
    }
}

/// A line of the reconnect log.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionNote {
    pub at_ms: i64,
    pub text: String,
}

/// How long ago something happened, from a stored unix-millisecond time.
pub fn age(now_ms: i64, then_ms: i64) -> Duration {
    Duration::from_millis(now_ms.saturating_sub(then_ms).max(0) as u64)
}
