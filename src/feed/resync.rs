//! REST resyncs: after each acknowledged subscription the feed pulls the order book, trade book
//! and positions (the core decides when, the driver merges them with the never-regress rules).

use std::collections::BTreeSet;

use crate::fyers::model::{Event, EventKind};
use crate::fyers::rest::{Profile, RestClient, RestError, Rows};

pub(super) struct Snapshot {
    pub events: Vec<Event>,
    pub bad_rows: Vec<String>,
    /// The account, when it was asked for (once per token).
    pub profile: Option<Profile>,
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
pub(super) async fn fetch(
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
        snapshot.add(rest.orders().await?, Event::Order);
    }
    if kinds.contains(&EventKind::Trades) {
        snapshot.add(rest.trades().await?, Event::Trade);
    }
    if kinds.contains(&EventKind::Positions) {
        snapshot.add(rest.positions().await?, Event::Position);
    }
    Ok(snapshot)
}

impl Snapshot {
    fn add<T>(&mut self, rows: Rows<T>, event: fn(T) -> Event) {
        self.events.extend(rows.rows.into_iter().map(event));
        self.bad_rows.extend(rows.bad_rows);
    }
}
