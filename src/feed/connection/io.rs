//! The connection's vocabulary: what the driver tells it (`Input`) and what it asks the driver
//! to do (`Effect`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::fyers::model::EventKind;
use crate::fyers::socket::SocketError;
use crate::store::FeedStatus;

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
