//! The REST calls of `/api/order-stream/*`: connect, disconnect, subscribe, unsubscribe, status,
//! and the four lists, read from the store.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::status::{data_counts, refused};
use super::{ApiError, AppState, Stream};
use crate::feed::Command;
use crate::fyers::model::{Event, EventKind};
use crate::lines::write_record;
use crate::store::{ConnectionState, Store};

/// How long `/connect` waits for the socket to open.
const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// How long `/disconnect` waits for it to close.
const DISCONNECT_WAIT: Duration = Duration::from_secs(3);
/// The most rows a list gives at once.
const MAX_LIMIT: usize = 1_000_000;

type Answer = Result<Response, ApiError>;

pub(super) fn stream_of(state: &AppState) -> Result<Stream, ApiError> {
    state.attachment.get().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no account is logged in: log in to Fyers in the Orderwatch window",
        )
    })
}

async fn send(stream: &Stream, command: Command) -> Result<(), ApiError> {
    stream
        .feed
        .command(command)
        .await
        .map_err(|err| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string()))
}

/// The `data` of connect and disconnect.
fn connection_data(store: &Store) -> Value {
    let kinds: Vec<&str> = store
        .subscriptions
        .wanted
        .iter()
        .map(|kind| kind.sdk_name())
        .collect();
    json!({
        "connected": store.connection.is_connected(),
        "subscribed_types": kinds,
        "data_counts": data_counts(store),
    })
}

/// Waits until `done` says the store is where it should be, or `wait` is up.
async fn wait_for(stream: &Stream, wait: Duration, done: impl Fn(&Store) -> bool) -> bool {
    let until = Instant::now() + wait;
    loop {
        if done(&stream.store.read()) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(super) async fn connect(State(state): State<AppState>) -> Answer {
    let stream = stream_of(&state)?;
    if let Some(reason) = refused(&stream.store.read()) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("cannot connect: {reason}"),
        ));
    }
    send(&stream, Command::Connect).await?;
    let settled = |store: &Store| {
        store.connection.is_connected()
            || refused(store).is_some()
            || matches!(store.connection, ConnectionState::Failed { restart_at: None, .. })
    };
    if !wait_for(&stream, CONNECT_WAIT, settled).await {
        let store = stream.store.read();
        let why = super::status::status(&store)["reason"]
            .as_str()
            .unwrap_or("no answer yet")
            .to_owned();
        return Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "not connected after {} s ({why}); the stream keeps trying",
                CONNECT_WAIT.as_secs()
            ),
        ));
    }
    let store = stream.store.read();
    if let Some(reason) = refused(&store) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("cannot connect: {reason}"),
        ));
    }
    if let ConnectionState::Failed { reason, .. } = &store.connection {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the feed failed: {reason}"),
        ));
    }
    Ok(success(
        json!({"status": "success", "data": connection_data(&store)}),
    ))
}

pub(super) async fn disconnect(State(state): State<AppState>) -> Answer {
    let stream = stream_of(&state)?;
    send(&stream, Command::Disconnect).await?;
    wait_for(&stream, DISCONNECT_WAIT, |store| !store.connection.is_connected()).await;
    let store = stream.store.read();
    Ok(success(
        json!({"status": "success", "data": connection_data(&store)}),
    ))
}

pub(super) async fn subscribe(State(state): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    change_subscriptions(&state, query.as_deref(), true).await
}

pub(super) async fn unsubscribe(State(state): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    change_subscriptions(&state, query.as_deref(), false).await
}

/// Adds or removes the API's kinds; the connection streams them joined with the window's.
async fn change_subscriptions(state: &AppState, query: Option<&str>, subscribe: bool) -> Answer {
    let kinds = event_types(query)?;
    let stream = stream_of(state)?;
    if let Some(reason) = refused(&stream.store.read()) {
        let verb = if subscribe { "subscribe" } else { "unsubscribe" };
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("cannot {verb}: {reason}"),
        ));
    }
    let asked = {
        let mut asked = stream.api_subscriptions.lock();
        for kind in &kinds {
            if subscribe {
                asked.insert(*kind);
            } else {
                asked.remove(kind);
            }
        }
        asked.clone()
    };
    send(&stream, Command::SetApiSubscriptions(asked)).await?;
    let names: Vec<&str> = kinds.iter().map(|kind| kind.sdk_name()).collect();
    let message = if subscribe {
        format!("Subscribed to {} event types", names.len())
    } else {
        format!("Unsubscribed from {} event types", names.len())
    };
    Ok(success(
        json!({"status": "success", "message": message, "event_types": names}),
    ))
}

pub(super) async fn status(State(state): State<AppState>) -> Answer {
    let stream = stream_of(&state)?;
    let mut data = stream.hub.status();
    data["clients"] = stream.hub.clients().into();
    Ok(success(json!({"status": "success", "data": data})))
}

/// `event_types=OnOrders&event_types=OnTrades` (or comma separated in one).
pub(super) fn event_types(query: Option<&str>) -> Result<BTreeSet<EventKind>, ApiError> {
    let mut kinds = BTreeSet::new();
    let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes());
    for (_, value) in pairs.filter(|(name, _)| name == "event_types") {
        for one in value.split(',').map(str::trim).filter(|one| !one.is_empty()) {
            let kind = EventKind::from_sdk_name(one).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown event type {one:?}: use OnOrders, OnTrades, OnPositions or OnGeneral"
                ))
            })?;
            kinds.insert(kind);
        }
    }
    if kinds.is_empty() {
        return Err(ApiError::bad_request(
            "give event_types, e.g. ?event_types=OnOrders&event_types=OnTrades",
        ));
    }
    Ok(kinds)
}

/// `?limit=` and `?since=` of the lists.
struct Window {
    limit: usize,
    /// Unix milliseconds.
    since_ms: Option<i64>,
}

fn window(query: Option<&str>) -> Result<Window, ApiError> {
    let mut window = Window {
        limit: MAX_LIMIT,
        since_ms: None,
    };
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "limit" => {
                window.limit = value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "limit={value:?}: give a whole number from 1 to {MAX_LIMIT}"
                        ))
                    })?;
            }
            "since" => {
                let seconds = value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| seconds.is_finite() && *seconds >= 0.0 && *seconds < 1e11)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "since={value:?}: give a time in epoch seconds, e.g. 1764560100"
                        ))
                    })?;
                window.since_ms = Some((seconds * 1000.0).round() as i64);
            }
            _ => {}
        }
    }
    Ok(window)
}

/// A list's records, newest first (by when Orderwatch last received each), as events.
fn rows(store: &Store, kind: EventKind, window: &Window) -> Vec<Event> {
    let mut dated: Vec<(i64, u64, Event)> = Vec::new();
    let keep = |at: i64| window.since_ms.is_none_or(|since| at >= since);
    match kind {
        EventKind::Orders => {
            for entry in store.orders.entries() {
                let at = entry
                    .history
                    .back()
                    .map_or(entry.first_seen_ms, |update| update.received_ms);
                if keep(at) {
                    dated.push((at, entry.first_seq, Event::Order(entry.order.clone())));
                }
            }
        }
        EventKind::Trades => {
            for (seq, entry) in store.trades().enumerate() {
                if keep(entry.received_ms) {
                    dated.push((
                        entry.received_ms,
                        seq as u64,
                        Event::Trade(Box::new(entry.trade.clone())),
                    ));
                }
            }
        }
        EventKind::Positions => {
            for (seq, entry) in store.positions().enumerate() {
                if keep(entry.updated_ms) {
                    dated.push((
                        entry.updated_ms,
                        seq as u64,
                        Event::Position(Box::new(entry.position.clone())),
                    ));
                }
            }
        }
        EventKind::General => {
            for entry in store.general() {
                if keep(entry.received_ms) {
                    dated.push((entry.received_ms, entry.seq, Event::General(entry.event.clone())));
                }
            }
        }
    }
    dated.sort_unstable_by_key(|(at, seq, _)| std::cmp::Reverse((*at, *seq)));
    dated.truncate(window.limit);
    dated.into_iter().map(|(_, _, event)| event).collect()
}

/// `{"status":"success","count":N,"data":[...]}`, copied out under the read lock and written after
/// it, on a blocking thread (a big day is tens of megabytes).
async fn list(state: AppState, query: Option<String>, kind: EventKind) -> Answer {
    let window = window(query.as_deref())?;
    let stream = stream_of(&state)?;
    let body = tokio::task::spawn_blocking(move || {
        let events = rows(&stream.store.read(), kind, &window);
        let mut out = Vec::with_capacity(64 + events.len() * 512);
        out.extend_from_slice(
            format!("{{\"status\":\"success\",\"count\":{},\"data\":[", events.len()).as_bytes(),
        );
        for (index, event) in events.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_record(&mut out, event)?;
        }
        out.extend_from_slice(b"]}");
        Ok::<_, serde_json::Error>(out)
    })
    .await;
    match body {
        Ok(Ok(body)) => Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response()),
        Ok(Err(err)) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the list: {err}"),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is stopping",
        )),
    }
}

pub(super) async fn orders(State(state): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    list(state, query, EventKind::Orders).await
}

pub(super) async fn trades(State(state): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    list(state, query, EventKind::Trades).await
}

pub(super) async fn positions(State(state): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    list(state, query, EventKind::Positions).await
}

pub(super) async fn general(State(state): State<AppState>, RawQuery(query): RawQuery) -> Answer {
    list(state, query, EventKind::General).await
}

fn success(body: Value) -> Response {
    Json(body).into_response()
}
