//! The simulator's network face: the order-socket upgrade and connections, the REST calls, and the
//! fault-injection endpoints, over real loopback sockets.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

use super::exchange::{Control, Fault, LogFrame, Shared};
use super::login::{self, Verdict};
use crate::fyers::model::{EventKind, Order, Trade};

type AppState = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/trade/v3", get(upgrade))
        .route("/api/v3/profile", get(profile))
        .route("/api/v3/orders", get(orders))
        .route("/api/v3/tradebook", get(tradebook))
        .route("/api/v3/positions", get(positions))
        .route("/api/v3/logout", post(logout))
        .route("/api/v3/generate-authcode", get(login::generate_authcode))
        .route("/api/v3/validate-authcode", post(login::validate_authcode))
        .route(
            "/api/v3/validate-refresh-token",
            post(login::validate_refresh_token),
        )
        .route("/hsm/v1-5/prod", get(super::market::upgrade))
        .route("/data/symbol-token", post(super::market::symbol_token))
        .route("/sim/fault/{kind}", post(fault))
        .route("/sim/stats", get(stats))
        .with_state(shared)
}

fn auth_header(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|value| value.to_str().ok())
}

/// What an `authorization` header is worth now.
fn verdict(shared: &Shared, header: Option<&str>) -> Verdict {
    shared.login.check(header)
}

async fn upgrade(State(shared): AppState, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    shared.stats.upgrades.fetch_add(1, Ordering::SeqCst);
    let header = auth_header(&headers).map(str::to_owned);
    match (verdict(&shared, header.as_deref()), header) {
        (Verdict::Alive { exp }, Some(header)) => {
            ws.on_upgrade(move |socket| connection(socket, shared, header, exp))
        }
        _ => {
            shared.stats.upgrades_refused.fetch_add(1, Ordering::SeqCst);
            (StatusCode::FORBIDDEN, "Forbidden").into_response()
        }
    }
}

/// Unregisters a connection however it ends.
struct Reader<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.shared.readers.lock().remove(&self.id);
        self.shared.stats.connections_open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves one socket for as long as the token in `header` (dying at `exp`) stays alive.
async fn connection(socket: WebSocket, shared: Arc<Shared>, header: String, exp: i64) {
    let id = shared.next_reader.fetch_add(1, Ordering::SeqCst);
    let mut log_end = shared.log_end.subscribe();
    // Live only: what happened before this connection is for REST to tell.
    let mut cursor = *log_end.borrow_and_update();
    shared.readers.lock().insert(id, cursor);
    shared.stats.connections_open.fetch_add(1, Ordering::SeqCst);
    let _reader = Reader { shared: &shared, id };
    let mut control = shared.control.subscribe();
    let (mut tx, mut rx) = socket.split();
    let mut subscribed: HashSet<&'static str> = HashSet::new();
    let mut stalled_until: Option<Instant> = None;
    let mut chunk = Vec::with_capacity(1024);
    // A real token dies mid-stream at its `exp`: the server hangs up, and reconnects get 403.
    let expiry = tokio::time::sleep_until(login::deadline(exp));
    tokio::pin!(expiry);
    let alive = |shared: &Shared| verdict(shared, Some(&header));
    loop {
        let stalled = stalled_until.is_some_and(|until| Instant::now() < until);
        let behind = !stalled && cursor < *log_end.borrow();
        tokio::select! {
            message = rx.next() => match message {
                Some(Ok(Message::Text(text))) if !stalled => {
                    if let Some(reply) = answer(&shared, &text, &mut subscribed)
                        && tx.send(Message::Text(reply)).await.is_err()
                    {
                        return;
                    }
                }
                // The close handshake, as a real server does it: what was sent before it still
                // reaches the client, and nothing more is sent.
                Some(Ok(Message::Close(_))) => {
                    let _ = tx.flush().await;
                    return;
                }
                Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            changed = log_end.changed(), if !behind => if changed.is_err() { return },
            _ = std::future::ready(()), if behind => {
                chunk.clear();
                let read = shared.exchange.lock().read_log(cursor, 1024, &mut chunk);
                // Fell out of the log: too slow to serve; the client must reconnect and resync.
                let Ok(next) = read else { return };
                cursor = next;
                let mut sent = 0;
                for entry in chunk.drain(..) {
                    if entry.slist.is_some_and(|slist| !subscribed.contains(slist)) {
                        continue;
                    }
                    sent += 1;
                    let message = match entry.frame {
                        LogFrame::Text(text) => Message::Text(text),
                        LogFrame::Binary(bytes) => Message::Binary(bytes),
                    };
                    if tx.feed(message).await.is_err() {
                        return;
                    }
                }
                if tx.flush().await.is_err() {
                    return;
                }
                shared.stats.frames_sent.fetch_add(sent, Ordering::SeqCst);
                shared.readers.lock().insert(id, cursor);
            }
            control = control.recv() => match control {
                Ok(Control::Drop) | Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                Ok(Control::Stall(duration)) => stalled_until = Some(Instant::now() + duration),
                // A missed message may have been a recheck: look at the token anyway.
                Ok(Control::Recheck) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if !matches!(alive(&shared), Verdict::Alive { .. }) {
                        return;
                    }
                }
            },
            _ = tokio::time::sleep_until(stalled_until.unwrap_or_else(Instant::now).into()), if stalled => {
                stalled_until = None;
            }
            () = &mut expiry => match alive(&shared) {
                Verdict::Alive { exp } => expiry.as_mut().reset(login::deadline(exp)),
                Verdict::Dead | Verdict::Unknown => return,
            },
        }
    }
}

/// The server's answer to a client text frame, exactly as the real one answers.
fn answer(shared: &Shared, text: &str, subscribed: &mut HashSet<&'static str>) -> Option<Utf8Bytes> {
    if text == "ping" {
        shared.stats.pings.fetch_add(1, Ordering::Relaxed);
        return Some(Utf8Bytes::from_static("pong"));
    }
    let request: Value = serde_json::from_str(text).ok()?;
    let slist = request.get("SLIST").and_then(Value::as_array);
    let (Some("SUB_ORD"), Some(slist), Some(sub)) = (
        request.get("T").and_then(Value::as_str),
        slist,
        request.get("SUB_T").and_then(Value::as_i64),
    ) else {
        let error = json!({"s": "error", "code": -50, "message": "Invalid parameters"});
        return Some(error.to_string().into());
    };
    shared.stats.subscribe_messages.fetch_add(1, Ordering::Relaxed);
    let names = slist.iter().filter_map(Value::as_str).filter_map(|name| {
        EventKind::from_slist(name)?
            .slist()
            .iter()
            .copied()
            .find(|known| *known == name)
    });
    let message = if sub == 1 {
        subscribed.extend(names);
        "Successfully subscribed"
    } else {
        for name in names {
            subscribed.remove(name);
        }
        "Successfully unsubscribed"
    };
    Some(
        json!({"code": 1605, "message": message, "s": "ok"})
            .to_string()
            .into(),
    )
}

/// Availability and rate limit for any REST call, the login calls included: `Some` is the refusal
/// to send.
pub(super) fn gate(shared: &Shared) -> Option<Response> {
    shared.stats.rest_calls.fetch_add(1, Ordering::SeqCst);
    if shared.rest_down.load(Ordering::SeqCst) {
        return Some((StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response());
    }
    if !shared.rate.lock().admit(Instant::now()) {
        let body = json!({"s": "error", "code": -429, "message": "request limit reached"});
        return Some((StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response());
    }
    None
}

/// The gate, then the token: `Some` is the refusal to send.
fn refusal(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    if let Some(refused) = gate(shared) {
        return Some(refused);
    }
    let body = match verdict(shared, auth_header(headers)) {
        Verdict::Alive { .. } => return None,
        Verdict::Dead => {
            json!({"s": "error", "code": -8, "message": "Your token has expired. Please generate a token"})
        }
        Verdict::Unknown => json!({"s": "error", "code": -16, "message": "Could not authenticate the user"}),
    };
    Some((StatusCode::UNAUTHORIZED, axum::Json(body)).into_response())
}

fn ok(mut body: Value) -> Response {
    body["s"] = "ok".into();
    body["code"] = 200.into();
    body["message"] = "".into();
    axum::Json(body).into_response()
}

/// A REST row: friendly keys, without the socket-only keys the books do not carry.
fn row(value: impl serde::Serialize, drop: &[&str]) -> Value {
    let mut value = serde_json::to_value(value).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        for key in drop {
            object.remove(*key);
        }
    }
    value
}

async fn profile(State(shared): AppState, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&shared, &headers) {
        return refused;
    }
    ok(json!({"data": {
        "name": "Demo Trader", "display_name": "DEMO", "fy_id": shared.client_id,
        "email_id": "demo@example.com", "pan": "XXXXX0000X", "mobile_number": "99XXXXXX00",
        "totp": false, "pwd_to_expire": 90,
    }}))
}

#[derive(serde::Deserialize)]
struct OrderQuery {
    id: Option<String>,
    order_tag: Option<String>,
}

async fn orders(State(shared): AppState, headers: HeaderMap, Query(query): Query<OrderQuery>) -> Response {
    if let Some(refused) = refusal(&shared, &headers) {
        return refused;
    }
    let book = shared.book();
    let rows: Vec<OrderRow> = book
        .orders
        .values()
        .filter(|order| query.id.as_deref().is_none_or(|id| order.id == id))
        .filter(|order| {
            query
                .order_tag
                .as_deref()
                .is_none_or(|tag| order.order_tag.as_deref() == Some(tag))
        })
        .enumerate()
        .map(|(index, order)| OrderRow {
            order_num_status: format!("{}:{}", order.id, order.status().code()),
            order: Order {
                update_time_epoch_oms: None,
                time_epoch_oms: None,
                report_type: None,
                status_msg: None,
                ..order.clone()
            },
            sl_no: index + 1,
            disclosed_qty: 0,
        })
        .collect();
    book_answer("orderBook", rows)
}

async fn tradebook(State(shared): AppState, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&shared, &headers) {
        return refused;
    }
    let book = shared.book();
    let rows: Vec<TradeRow> = book
        .trades
        .values()
        .enumerate()
        .map(|(index, trade)| TradeRow {
            trade: Trade {
                fill_time_epoch: None,
                symbol_desc: None,
                ..trade.clone()
            },
            row: index + 1,
        })
        .collect();
    book_answer("tradeBook", rows)
}

/// An order-book row as the REST API lists it: the order without the socket-only keys, and the
/// book's own fields. Written straight to JSON (a day's book is some 60 MB of it).
#[derive(serde::Serialize)]
struct OrderRow {
    #[serde(flatten)]
    order: Order,
    #[serde(rename = "slNo")]
    sl_no: usize,
    #[serde(rename = "orderNumStatus")]
    order_num_status: String,
    #[serde(rename = "disclosedQty")]
    disclosed_qty: i64,
}

#[derive(serde::Serialize)]
struct TradeRow {
    #[serde(flatten)]
    trade: Trade,
    row: usize,
}

/// `{"s":"ok","code":200,"message":"","<key>":[rows]}`, serialised once.
fn book_answer<T: serde::Serialize>(key: &'static str, rows: Vec<T>) -> Response {
    #[derive(serde::Serialize)]
    struct Answer<T> {
        s: &'static str,
        code: i64,
        message: &'static str,
        #[serde(flatten)]
        rows: std::collections::BTreeMap<&'static str, Vec<T>>,
    }
    axum::Json(Answer {
        s: "ok",
        code: 200,
        message: "",
        rows: [(key, rows)].into(),
    })
    .into_response()
}

async fn positions(State(shared): AppState, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&shared, &headers) {
        return refused;
    }
    let book = shared.book();
    let rows: Vec<Value> = book
        .positions
        .values()
        .map(|position| row(position, &[]))
        .collect();
    let sum = |f: fn(&crate::fyers::model::Position) -> Option<f64>| {
        let total: f64 = book.positions.values().filter_map(f).sum();
        (total * 100.0).round() / 100.0
    };
    let open = book
        .positions
        .values()
        .filter(|p| p.net_qty.unwrap_or(0) != 0)
        .count();
    let overall = json!({
        "count_total": rows.len(), "count_open": open, "pl_total": sum(|p| p.pl),
        "pl_realized": sum(|p| p.realized_profit), "pl_unrealized": sum(|p| p.unrealized_profit),
    });
    ok(json!({ "netPositions": rows, "overall": overall }))
}

async fn logout(State(shared): AppState, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&shared, &headers) {
        return refused;
    }
    // Only this session ends: the user's other tokens (other devices, other apps) stay alive.
    shared.login.log_out(auth_header(&headers));
    let _ = shared.control.send(Control::Recheck);
    ok(json!({}))
}

#[derive(serde::Deserialize)]
struct FaultQuery {
    n: Option<usize>,
    secs: Option<f64>,
}

/// `POST /sim/fault/{drop|stall|malformed|oversized|duplicate|reorder|expire|rest-down|rest-up|renew}`.
async fn fault(
    State(shared): AppState,
    Path(kind): Path<String>,
    Query(query): Query<FaultQuery>,
) -> Response {
    let n = query.n.unwrap_or(1);
    let secs = query
        .secs
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .unwrap_or(40.0);
    let fault = match kind.as_str() {
        "drop" => Fault::DropConnections,
        "stall" => Fault::Stall(std::time::Duration::from_secs_f64(secs)),
        "malformed" => Fault::Malformed(n),
        "oversized" => Fault::Oversized(n.min(10)),
        "duplicate" => Fault::Duplicate(n),
        "reorder" => Fault::Reorder(n),
        "expire" => Fault::ExpireToken,
        "rest-down" => Fault::RestDown(true),
        "rest-up" => Fault::RestDown(false),
        "renew" => {
            shared.login.revive_all();
            return (StatusCode::OK, "token valid again\n").into_response();
        }
        other => return (StatusCode::NOT_FOUND, format!("unknown fault {other}\n")).into_response(),
    };
    shared.inject(fault.clone());
    (StatusCode::OK, format!("injected {fault:?}\n")).into_response()
}

async fn stats(State(shared): AppState) -> Response {
    let s = &shared.stats;
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::SeqCst);
    let exchange = shared.exchange.lock();
    let body = json!({
        "steps": exchange.day.steps(), "frames": exchange.log_end(),
        "upgrades": load(&s.upgrades), "upgrades_refused": load(&s.upgrades_refused),
        "connections_open": load(&s.connections_open), "rest_calls": load(&s.rest_calls),
        "logins": load(&s.logins), "refreshes": load(&s.refreshes),
    });
    axum::Json(body).into_response()
}

pub(super) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let app = router(shared);
    if let Err(err) = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await {
        tracing::error!(%err, "simulator server stopped");
    }
}
