//! The simulator speaks the Fyers protocol of PROTOCOL.md, checked the way a raw client sees it: a
//! plain WebSocket client and a plain HTTP client, no orderwatch feed in between.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{day, http_client, start_sim, wait_until};
use futures_util::{SinkExt, StreamExt};
use orderwatch::fyers::model::Event;
use orderwatch::sim::{Day, DayConfig, Fault, Sim};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const ALL_SLIST: [&str; 6] = ["orders", "trades", "positions", "edis", "pricealerts", "login"];
const WAIT: Duration = Duration::from_secs(5);

/// A token of the right shape that the simulator does not accept.
const WRONG_AUTH: &str = "SIMAPP1234-100:not-the-sim-token";

// ---------------------------------------------------------------------------------------------
// A raw WebSocket client
// ---------------------------------------------------------------------------------------------

/// Upgrades on `path` with the `authorization` header (if any).
async fn open(sim: &Sim, path: &str, auth: Option<&str>) -> Result<Ws, WsError> {
    let url = format!("ws://{}{path}", sim.addr());
    let mut request = url.into_client_request().expect("a valid URL");
    if let Some(auth) = auth {
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(auth).expect("header value"),
        );
    }
    let (ws, response) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("the upgrade is answered in time")?;
    assert_eq!(
        response.status().as_u16(),
        101,
        "a WebSocket upgrade switches protocols"
    );
    Ok(ws)
}

async fn open_ok(sim: &Sim) -> Ws {
    open(sim, "/trade/v3", Some(sim.authorization().expose()))
        .await
        .expect("the upgrade with the right token succeeds")
}

/// The HTTP status an upgrade was refused with.
async fn refused_status(sim: &Sim, path: &str, auth: Option<&str>) -> u16 {
    match open(sim, path, auth).await {
        Ok(_) => panic!("the upgrade on {path} with {auth:?} was accepted"),
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(err) => panic!("the upgrade on {path} failed without an HTTP answer: {err}"),
    }
}

/// The next data message (WebSocket-level pings and pongs skipped), or `None` on timeout.
async fn next_message(ws: &mut Ws, timeout: Duration) -> Option<Option<Result<Message, WsError>>> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next()).await.ok()?;
        match message {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => return Some(other),
        }
    }
}

async fn next_text(ws: &mut Ws) -> String {
    match next_message(ws, WAIT).await {
        Some(Some(Ok(Message::Text(text)))) => text.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("the frame is sent");
}

fn subscription(slist: &[&str], sub: i64) -> String {
    json!({"T": "SUB_ORD", "SLIST": slist, "SUB_T": sub}).to_string()
}

/// Subscribes and checks the server's acknowledgement.
async fn subscribe(ws: &mut Ws, slist: &[&str]) {
    send_text(ws, &subscription(slist, 1)).await;
    let ack: Value = serde_json::from_str(&next_text(ws).await).expect("the ack is JSON");
    assert_eq!(
        ack,
        json!({"code": 1605, "message": "Successfully subscribed", "s": "ok"})
    );
}

/// Waits for the socket to end; returns how it ended.
async fn expect_closed(ws: &mut Ws) -> String {
    match next_message(ws, WAIT).await {
        None => panic!("the socket stayed open"),
        Some(None) => "end of stream".to_owned(),
        Some(Some(Err(err))) => format!("error: {err}"),
        Some(Some(Ok(Message::Close(frame)))) => format!("close frame {frame:?}"),
        Some(Some(Ok(other))) => panic!("expected the socket to close, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// A raw REST client
// ---------------------------------------------------------------------------------------------

/// `GET {rest_url}{path}`: the HTTP status and the JSON body.
async fn rest_get(client: &reqwest::Client, sim: &Sim, path: &str, auth: Option<&str>) -> (u16, Value) {
    let mut request = client.get(format!("{}{path}", sim.rest_url()));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.expect("the REST call is answered");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path}: body is not JSON ({err}): {text}"));
    (status, body)
}

fn assert_ok_body(path: &str, status: u16, body: &Value) {
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(body["s"], "ok", "{path}: {body}");
    assert_eq!(body["code"], 200, "{path}: {body}");
    assert!(body.get("message").is_some(), "{path}: no message: {body}");
}

fn assert_error_body(path: &str, status: u16, body: &Value, want_status: u16, want_code: i64) {
    assert_eq!(status, want_status, "{path}: {body}");
    assert_eq!(body["s"], "error", "{path}: {body}");
    assert_eq!(body["code"], want_code, "{path}: {body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{path}: no message: {body}"
    );
}

// ---------------------------------------------------------------------------------------------
// The order socket
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_needs_the_token_and_the_right_path() {
    let sim = start_sim(day(31, 100, None)).await;
    let stats = sim.handle();

    let ws = open_ok(&sim).await;
    assert_eq!(stats.stats().upgrades_refused.load(Ordering::SeqCst), 0);
    drop(ws);

    // Wrong token, missing token, a token without the app id: 403 and no WebSocket.
    assert_eq!(refused_status(&sim, "/trade/v3", Some(WRONG_AUTH)).await, 403);
    assert_eq!(refused_status(&sim, "/trade/v3", None).await, 403);
    assert_eq!(
        refused_status(&sim, "/trade/v3", Some("sim-access-token")).await,
        403
    );
    assert_eq!(stats.stats().upgrades_refused.load(Ordering::SeqCst), 3);

    // Wrong URL: 404, even with the right token.
    let auth = sim.authorization();
    for path in ["/trade/v2", "/trade/v3/x", "/", "/socket"] {
        assert_eq!(
            refused_status(&sim, path, Some(auth.expose())).await,
            404,
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_is_acknowledged_and_ping_gets_pong() {
    let sim = start_sim(day(32, 100, None)).await;
    let mut ws = open_ok(&sim).await;
    subscribe(&mut ws, &ALL_SLIST).await;
    // The exact acknowledgement text of the real server.
    send_text(&mut ws, &subscription(&["orders"], 1)).await;
    assert_eq!(
        next_text(&mut ws).await,
        r#"{"code":1605,"message":"Successfully subscribed","s":"ok"}"#
    );
    for _ in 0..3 {
        send_text(&mut ws, "ping").await;
        assert_eq!(next_text(&mut ws).await, "pong");
    }
    assert_eq!(sim.handle().stats().pings.load(Ordering::SeqCst), 3);
    assert_eq!(sim.handle().stats().subscribe_messages.load(Ordering::SeqCst), 2);

    // Unsubscribing is acknowledged as such.
    send_text(&mut ws, &subscription(&["trades"], -1)).await;
    let ack: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
    assert_eq!(ack["code"], 1605);
    assert_eq!(ack["s"], "ok");
    assert!(
        ack["message"]
            .as_str()
            .is_some_and(|m| m.to_ascii_lowercase().contains("unsubscribed")),
        "{ack}"
    );

    // A message that is not a subscription gets Fyers' error shape, and the socket stays up.
    send_text(&mut ws, r#"{"T":"NOPE"}"#).await;
    let error: Value = serde_json::from_str(&next_text(&mut ws).await).unwrap();
    assert_eq!(error["s"], "error", "{error}");
    assert_eq!(error["code"], -50, "{error}");
    send_text(&mut ws, "ping").await;
    assert_eq!(next_text(&mut ws).await, "pong");
}

/// Friendly order keys that must never appear on the wire, and raw keys a raw frame carries.
const FRIENDLY_ONLY_ORDER_KEYS: [&str; 9] = [
    "status",
    "remainingQuantity",
    "filledQty",
    "clientId",
    "orderDateTime",
    "side",
    "type",
    "fyToken",
    "productType",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_subscribed_orders_arrive_in_raw_key_names() {
    const SEED: u64 = 33;
    const STEPS: u64 = 1_500;
    let sim = start_sim(day(SEED, STEPS, None)).await;
    let mut ws = open_ok(&sim).await;
    subscribe(&mut ws, &["orders"]).await;
    sim.handle().resume();

    // The day's order frames, as the same seeded day produces them.
    let mut truth = Day::new(DayConfig {
        seed: SEED,
        ..DayConfig::default()
    });
    let mut expected = Vec::new();
    for _ in 0..STEPS {
        for event in truth.step(None) {
            if let Event::Order(order) = &event {
                let status = event.to_sdk_json()["orders"]["status"].clone();
                expected.push((order.id.to_string(), status));
            }
        }
    }
    assert!(
        expected.len() > 100,
        "a day of {STEPS} steps has many order updates"
    );

    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.len() < expected.len() {
        assert!(
            Instant::now() < deadline,
            "only {} of {} order frames",
            received.len(),
            expected.len()
        );
        let text = next_text(&mut ws).await;
        let frame: Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"));
        let object = frame
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {text}"));
        assert_eq!(frame["s"], "ok", "{text}");
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 2, "one data key and s: {text}");
        assert!(
            object.contains_key("orders"),
            "only orders were subscribed: {text}"
        );
        let order = frame["orders"].as_object().unwrap();
        for raw in [
            "org_ord_status",
            "qty_remaining",
            "id",
            "symbol",
            "tran_side",
            "time_oms",
        ] {
            assert!(order.contains_key(raw), "raw key {raw} missing: {text}");
        }
        for friendly in FRIENDLY_ONLY_ORDER_KEYS {
            assert!(
                !order.contains_key(friendly),
                "friendly key {friendly} on the wire: {text}"
            );
        }
        received.push((
            order["id"].as_str().unwrap().to_owned(),
            order["org_ord_status"].clone(),
        ));
    }
    assert_eq!(received, expected, "the day's order updates, in order");
    sim.handle().finished().await;
    // Nothing else follows: no trades, positions or notices leak through.
    match next_message(&mut ws, Duration::from_millis(500)).await {
        None => {}
        Some(other) => panic!("unexpected frame after the day: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_subscription_gets_its_own_frames() {
    let sim = start_sim(day(34, 2_000, None)).await;
    let mut trades = open_ok(&sim).await;
    subscribe(&mut trades, &["trades", "positions"]).await;
    let mut general = open_ok(&sim).await;
    subscribe(&mut general, &["edis", "pricealerts", "login"]).await;
    sim.handle().resume();
    tokio::time::timeout(Duration::from_secs(20), sim.handle().finished())
        .await
        .expect("the day ends");
    let book = sim.handle().book();

    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for (ws, allowed) in [
        (&mut trades, &["trades", "positions"][..]),
        (&mut general, &["edis", "pricealerts", "login"][..]),
    ] {
        while let Some(message) = next_message(ws, Duration::from_millis(500)).await {
            let Some(Ok(Message::Text(text))) = message else {
                panic!("unexpected {message:?}");
            };
            let frame: Value = serde_json::from_str(text.as_str()).unwrap();
            let key = frame
                .as_object()
                .unwrap()
                .keys()
                .find(|key| key.as_str() != "s")
                .cloned()
                .unwrap();
            assert!(
                allowed.contains(&key.as_str()),
                "{key} on a socket for {allowed:?}: {text}"
            );
            assert_eq!(frame["s"], "ok");
            if key == "trades" {
                let trade = &frame["trades"];
                for raw in ["id_fill", "qty_traded", "price_traded", "tran_side"] {
                    assert!(trade.get(raw).is_some(), "raw trade key {raw} missing: {text}");
                }
                for friendly in ["tradeNumber", "tradedQty", "tradePrice", "orderNumber"] {
                    assert!(trade.get(friendly).is_none(), "friendly key {friendly}: {text}");
                }
            }
            if key == "positions" {
                let position = &frame["positions"];
                assert!(position.get("net_qty").is_some(), "{text}");
                assert!(position.get("netQty").is_none(), "{text}");
            }
            *counts.entry(key).or_default() += 1;
        }
    }
    assert!(
        counts.get("trades").copied().unwrap_or(0) >= book.trades.len(),
        "{counts:?}"
    );
    assert!(
        counts.get("positions").copied().unwrap_or(0) >= book.positions.len(),
        "{counts:?}"
    );
    let notices: usize = ["edis", "pricealerts", "login"]
        .iter()
        .filter_map(|key| counts.get(*key))
        .sum();
    assert!(notices > 0, "a day of 2,000 steps has notices: {counts:?}");
}

// ---------------------------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_books_agree_with_the_exchange() {
    let sim = start_sim(day(35, 800, None)).await;
    sim.handle().resume();
    tokio::time::timeout(Duration::from_secs(20), sim.handle().finished())
        .await
        .expect("the day ends");
    let book = sim.handle().book();
    assert!(!book.orders.is_empty() && !book.trades.is_empty() && !book.positions.is_empty());
    let client = http_client();
    let auth = sim.authorization();
    let auth = Some(auth.expose());

    let (status, body) = rest_get(&client, &sim, "/profile", auth).await;
    assert_ok_body("/profile", status, &body);
    for key in ["name", "display_name", "fy_id", "email_id"] {
        assert!(body["data"].get(key).is_some(), "/profile lacks {key}: {body}");
    }
    assert_eq!(body["data"]["fy_id"], DayConfig::default().client_id.as_str());

    let (status, body) = rest_get(&client, &sim, "/orders", auth).await;
    assert_ok_body("/orders", status, &body);
    let orders = body["orderBook"].as_array().expect("orderBook is a list");
    assert_eq!(orders.len(), book.orders.len());
    for (index, row) in orders.iter().enumerate() {
        let id = row["id"].as_str().expect("an order id");
        let truth = book
            .orders
            .get(id)
            .unwrap_or_else(|| panic!("order {id} not in the book"));
        assert_eq!(row["slNo"], index + 1);
        assert_eq!(
            row["status"],
            Event::Order(Box::new(truth.clone())).to_sdk_json()["orders"]["status"],
            "{row}"
        );
        assert!(
            row.get("org_ord_status").is_none(),
            "REST rows use friendly keys: {row}"
        );
        assert!(
            row["orderNumStatus"].as_str().is_some_and(|s| s.starts_with(id)),
            "{row}"
        );
    }
    // `?id=` narrows the book to one order.
    let first_id = orders[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = rest_get(&client, &sim, &format!("/orders?id={first_id}"), auth).await;
    assert_ok_body("/orders?id=", status, &body);
    assert_eq!(body["orderBook"].as_array().map(Vec::len), Some(1), "{body}");

    let (status, body) = rest_get(&client, &sim, "/tradebook", auth).await;
    assert_ok_body("/tradebook", status, &body);
    let trades = body["tradeBook"].as_array().expect("tradeBook is a list");
    assert_eq!(trades.len(), book.trades.len());
    for row in trades {
        let number = row["tradeNumber"].as_str().expect("a trade number");
        assert!(book.trades.contains_key(number), "trade {number} not in the book");
        assert!(row.get("row").is_some() && row.get("id_fill").is_none(), "{row}");
    }

    let (status, body) = rest_get(&client, &sim, "/positions", auth).await;
    assert_ok_body("/positions", status, &body);
    let positions = body["netPositions"].as_array().expect("netPositions is a list");
    assert_eq!(positions.len(), book.positions.len());
    let overall = &body["overall"];
    assert_eq!(overall["count_total"], book.positions.len(), "{overall}");
    let open = book
        .positions
        .values()
        .filter(|p| p.net_qty.unwrap_or(0) != 0)
        .count();
    assert_eq!(overall["count_open"], open, "{overall}");
    for key in ["pl_total", "pl_realized", "pl_unrealized"] {
        assert!(overall[key].is_number(), "overall.{key}: {overall}");
    }
    for row in positions {
        let id = row["id"].as_str().expect("a position id");
        assert!(book.positions.contains_key(id), "position {id} not in the book");
        assert!(
            row.get("netQty").is_some() && row.get("net_qty").is_none(),
            "{row}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_refuses_a_wrong_token() {
    let sim = start_sim(day(36, 100, None)).await;
    let client = http_client();
    for path in ["/profile", "/orders", "/tradebook", "/positions"] {
        let (status, body) = rest_get(&client, &sim, path, Some(WRONG_AUTH)).await;
        assert_error_body(path, status, &body, 401, -16);
    }
    let (status, body) = rest_get(&client, &sim, "/profile", None).await;
    assert_error_body("/profile without a token", status, &body, 401, -16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_everywhere_until_renewed() {
    let sim = start_sim(day(37, 100, None)).await;
    let client = http_client();
    let auth = sim.authorization();
    let mut ws = open_ok(&sim).await;
    subscribe(&mut ws, &ALL_SLIST).await;

    sim.handle().inject(Fault::ExpireToken);
    let how = expect_closed(&mut ws).await;
    eprintln!("expired token closed the socket: {how}");
    let (status, body) = rest_get(&client, &sim, "/profile", Some(auth.expose())).await;
    assert_error_body("/profile after expiry", status, &body, 401, -8);
    let (status, body) = rest_get(&client, &sim, "/orders", Some(auth.expose())).await;
    assert_error_body("/orders after expiry", status, &body, 401, -8);
    assert_eq!(refused_status(&sim, "/trade/v3", Some(auth.expose())).await, 403);

    sim.handle().renew_token();
    let (status, body) = rest_get(&client, &sim, "/profile", Some(auth.expose())).await;
    assert_ok_body("/profile after renewal", status, &body);
    let mut ws = open_ok(&sim).await;
    subscribe(&mut ws, &["orders"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_token() {
    let sim = start_sim(day(38, 100, None)).await;
    let client = http_client();
    let auth = sim.authorization();
    let mut ws = open_ok(&sim).await;
    let response = client
        .post(format!("{}/logout", sim.rest_url()))
        .header("authorization", auth.expose())
        .send()
        .await
        .expect("logout is answered");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON body");
    assert_ok_body("/logout", status, &body);
    expect_closed(&mut ws).await;
    let (status, body) = rest_get(&client, &sim, "/profile", Some(auth.expose())).await;
    assert_error_body("/profile after logout", status, &body, 401, -8);
    assert_eq!(refused_status(&sim, "/trade/v3", Some(auth.expose())).await, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_ten_requests_a_second_are_rate_limited() {
    let sim = start_sim(day(39, 100, None)).await;
    let client = http_client();
    let auth = sim.authorization();
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..15 {
        let (status, body) = rest_get(&client, &sim, "/profile", Some(auth.expose())).await;
        if status == 429 {
            assert_error_body("/profile over the limit", status, &body, 429, -429);
        } else {
            assert_ok_body("/profile", status, &body);
        }
        statuses.push(status);
    }
    let elapsed = started.elapsed();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        limited > 0,
        "15 requests in {elapsed:?}, none limited: {statuses:?}"
    );
    if elapsed < Duration::from_millis(900) {
        assert_eq!((ok, limited), (10, 5), "{statuses:?}");
        assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    }
    // The next second admits requests again.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, body) = rest_get(&client, &sim, "/profile", Some(auth.expose())).await;
    assert_ok_body("/profile a second later", status, &body);
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_connections_closes_an_open_socket() {
    let sim = start_sim(day(40, 100, None)).await;
    let mut first = open_ok(&sim).await;
    let mut second = open_ok(&sim).await;
    subscribe(&mut first, &ALL_SLIST).await;
    subscribe(&mut second, &["orders"]).await;
    let stats = sim.handle();
    assert_eq!(stats.stats().connections_open.load(Ordering::SeqCst), 2);

    sim.handle().inject(Fault::DropConnections);
    let how = expect_closed(&mut first).await;
    eprintln!("DropConnections ended the first socket with: {how}");
    expect_closed(&mut second).await;
    let closed = wait_until(WAIT, || {
        stats.stats().connections_open.load(Ordering::SeqCst) == 0
    })
    .await;
    assert!(closed, "connections still open after the drop");

    // The server takes new connections at once.
    let mut again = open_ok(&sim).await;
    subscribe(&mut again, &ALL_SLIST).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_delivered_and_the_socket_survives() {
    const N: usize = 12;
    let sim = start_sim(day(41, 100, None)).await;
    let mut ws = open_ok(&sim).await;
    // Garbage reaches a connection whatever it subscribed to.
    subscribe(&mut ws, &["orders"]).await;
    sim.handle().inject(Fault::Malformed(N));

    let mut binary = 0;
    let mut not_json = 0;
    let mut not_a_frame = 0;
    for n in 0..N {
        match next_message(&mut ws, WAIT).await {
            Some(Some(Ok(Message::Binary(bytes)))) => {
                binary += 1;
                assert!(
                    orderwatch::fyers::wire::parse_binary(&bytes).is_err(),
                    "binary frame {n} parsed: {bytes:?}"
                );
            }
            Some(Some(Ok(Message::Text(text)))) => {
                if serde_json::from_str::<Value>(text.as_str()).is_err() {
                    not_json += 1;
                } else {
                    not_a_frame += 1;
                }
                assert!(
                    orderwatch::fyers::wire::parse_text(text.as_str()).is_err(),
                    "malformed frame {n} parses as a Fyers frame: {text}"
                );
            }
            other => panic!("malformed frame {n}: got {other:?}"),
        }
    }
    eprintln!(
        "{N} malformed frames: {binary} binary, {not_json} not JSON, {not_a_frame} JSON but not a frame"
    );
    assert!(binary >= 1, "one of every six is binary");
    assert!(not_json >= 1);
    // Exactly N: nothing more follows.
    match next_message(&mut ws, Duration::from_millis(300)).await {
        None => {}
        Some(other) => panic!("more than {N} frames: {other:?}"),
    }
    send_text(&mut ws, "ping").await;
    assert_eq!(next_text(&mut ws).await, "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_fault_endpoints_work() {
    let sim = start_sim(day(42, 100, None)).await;
    let client = http_client();
    let mut ws = open_ok(&sim).await;
    subscribe(&mut ws, &ALL_SLIST).await;
    let base = format!("http://{}", sim.addr());

    let response = client
        .post(format!("{base}/sim/fault/drop"))
        .send()
        .await
        .expect("the fault endpoint answers");
    assert_eq!(response.status().as_u16(), 200);
    expect_closed(&mut ws).await;

    // malformed?n=2 over HTTP delivers two frames to a new connection.
    let mut ws = open_ok(&sim).await;
    subscribe(&mut ws, &ALL_SLIST).await;
    let response = client
        .post(format!("{base}/sim/fault/malformed?n=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    for _ in 0..2 {
        let text = next_text(&mut ws).await;
        assert!(orderwatch::fyers::wire::parse_text(&text).is_err(), "{text}");
    }

    // expire and renew over HTTP.
    let auth = sim.authorization();
    let response = client
        .post(format!("{base}/sim/fault/expire"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(refused_status(&sim, "/trade/v3", Some(auth.expose())).await, 403);
    let response = client
        .post(format!("{base}/sim/fault/renew"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    drop(open_ok(&sim).await);

    // rest-down and rest-up.
    let response = client
        .post(format!("{base}/sim/fault/rest-down"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let down = client
        .get(format!("{}/profile", sim.rest_url()))
        .header("authorization", auth.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(down.status().as_u16(), 503);
    let response = client
        .post(format!("{base}/sim/fault/rest-up"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (status, body) = rest_get(&client, &sim, "/profile", Some(auth.expose())).await;
    assert_ok_body("/profile after rest-up", status, &body);

    // An unknown fault is a 404, and the stats endpoint reports what clients did.
    let response = client
        .post(format!("{base}/sim/fault/nonsense"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let stats: Value = client
        .get(format!("{base}/sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .expect("stats are JSON");
    for key in [
        "steps",
        "frames",
        "upgrades",
        "upgrades_refused",
        "connections_open",
        "rest_calls",
    ] {
        assert!(stats[key].is_u64(), "stats.{key}: {stats}");
    }
    assert!(stats["upgrades_refused"].as_u64() >= Some(1), "{stats}");
    assert!(stats["upgrades"].as_u64() >= Some(4), "{stats}");
}
