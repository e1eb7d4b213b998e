//! What `GET /status`, the `data` of `/connect` and the WebSocket's `status` messages say, read
//! from the store.

use serde_json::{Value, json};

use crate::fyers::model::EventKind;
use crate::store::{ConnectionState, Store};

/// How many records each REST list holds now.
pub fn data_counts(store: &Store) -> Value {
    json!({
        "orders": store.orders.len(),
        "trades": store.trades().len(),
        "positions": store.positions().len(),
        "general": store.general().len(),
    })
}

/// The connection's state, subscriptions and counters.
pub fn status(store: &Store) -> Value {
    let names = |kinds: &std::collections::BTreeSet<EventKind>| -> Vec<&'static str> {
        kinds.iter().map(|kind| kind.sdk_name()).collect()
    };
    let reason = match &store.connection {
        ConnectionState::Reconnecting { reason, .. }
        | ConnectionState::AuthRejected { reason }
        | ConnectionState::Failed { reason, .. } => Some(reason.as_str()),
        _ => None,
    };
    let subscriptions = &store.subscriptions;
    json!({
        "connected": store.connection.is_connected(),
        "state": store.connection.label(),
        "reason": reason,
        "subscribed_types": names(&subscriptions.wanted),
        "acknowledged_types": names(&subscriptions.acknowledged),
        "api_types": names(&subscriptions.api),
        "data_counts": data_counts(store),
        "last_message_time": store.last_message_ms().map(|ms| ms as f64 / 1000.0),
        "reconnects": store.reconnects(),
        "frames": store.frames(),
        "bad_frames": store.bad_frames(),
        "trading_day": store.day().map(|day| day.to_string()),
        "session_expires_at": store.session.expires_at,
        "session_expired": store.session.expired,
    })
}

/// Why nothing can be streamed on this token, if so: a refused or expired session.
pub fn refused(store: &Store) -> Option<String> {
    match &store.connection {
        ConnectionState::AuthRejected { reason } => Some(reason.clone()),
        _ if store.session.expired => Some(crate::store::SESSION_EXPIRED.to_owned()),
        _ => None,
    }
}
