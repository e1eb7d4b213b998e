//! The local API over real loopback sockets: the simulator as Fyers, the real feed and store, the
//! API server, and a real HTTP client (reqwest) and WebSocket client (tokio-tungstenite).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{day, feed_config, start_sim, wait_until};
use futures_util::{SinkExt, StreamExt};
use orderwatch::api::serve::{ServeOptions, Serving, start};
use orderwatch::api::{ApiConfig, ApiKey};
use orderwatch::fyers::model::EventKind;
use orderwatch::sim::Sim;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

const WAIT: Duration = Duration::from_secs(20);
const ALLOWED_ORIGIN: &str = "http://localhost:3000";

struct Api {
    serving: Serving,
    sim: Sim,
    key: ApiKey,
    http: reqwest::Client,
}

type Ws = WebSocketStream<TcpStream>;

impl Api {
    async fn start(steps: u64, rate: Option<f64>, connect: bool, client_queue: usize) -> Self {
        let sim = start_sim(day(7, steps, rate)).await;
        let key = ApiKey::generate();
        let mut api = ApiConfig::new(key.clone());
        api.listen = ([127, 0, 0, 1], 0).into();
        api.allowed_origins = vec![ALLOWED_ORIGIN.into()];
        let options = ServeOptions {
            connect,
            client_queue,
            ..ServeOptions::new(api)
        };
        let serving = start(feed_config(&sim), options).await.expect("the API starts");
        Self {
            serving,
            sim,
            key,
            http: common::http_client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/api/order-stream{path}", self.serving.server.addr())
    }

    async fn call(&self, post: bool, path: &str) -> (StatusCode, Value) {
        let request = if post {
            self.http.post(self.url(path))
        } else {
            self.http.get(self.url(path))
        };
        let response = request
            .bearer_auth(self.key.expose())
            .send()
            .await
            .expect("the API answers");
        read(response).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(false, path).await
    }

    async fn post(&self, path: &str) -> (StatusCode, Value) {
        self.call(true, path).await
    }

    /// A WebSocket client; `recv_buffer` shrinks its socket's receive buffer (a slow reader).
    async fn ws(&self, query: &str, recv_buffer: Option<u32>) -> Ws {
        let url = format!(
            "ws://{}/api/order-stream/stream{query}",
            self.serving.server.addr()
        );
        let mut request = url.into_client_request().expect("a request");
        if !query.contains("api_key") {
            let bearer = HeaderValue::from_str(&format!("Bearer {}", self.key.expose())).expect("a header");
            request.headers_mut().insert("authorization", bearer);
        }
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size).expect("a small buffer");
        }
        let tcp = socket
            .connect(self.serving.server.addr())
            .await
            .expect("connects");
        let (ws, _) = tokio_tungstenite::client_async(request, tcp)
            .await
            .expect("upgrades");
        ws
    }

    /// Waits for the store to hold the simulator's truth (the day played and applied).
    async fn converged(&self) {
        let (store, handle) = (self.serving.stream.store.clone(), self.sim.handle());
        let converged = wait_until(WAIT, || {
            common::differences(&store.read(), &handle.book()).is_empty()
        })
        .await;
        assert!(
            converged,
            "{:?}",
            common::differences(&store.read(), &handle.book())
        );
    }

    async fn wait_connected(&self) {
        let store = self.serving.stream.store.clone();
        let connected = wait_until(WAIT, || {
            let store = store.read();
            store.connection.is_connected() && !store.subscriptions.acknowledged.is_empty()
        })
        .await;
        assert!(connected, "the feed never connected");
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"));
    (status, body)
}

/// The next text message as JSON (pings are skipped); `None` at a close, with its frame.
async fn next_json(ws: &mut Ws) -> Result<Value, Option<tungstenite::protocol::CloseFrame>> {
    loop {
        let message = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time");
        match message {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).expect("JSON")),
            Some(Ok(Message::Close(frame))) => return Err(frame),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

/// The answer to the client's last request: broadcast statuses (connection changes, which carry
/// an `event`) are skipped.
async fn answer_to(ws: &mut Ws) -> Value {
    loop {
        let message = next_json(ws).await.expect("an answer");
        if message["type"] != "status" || message["data"].get("event").is_none() {
            return message;
        }
    }
}

async fn send(ws: &mut Ws, request: Value) {
    ws.send(Message::text(request.to_string())).await.expect("sent");
}

/// Every data message until the stream has been quiet for a second (status messages left out).
async fn drain(ws: &mut Ws) -> Vec<Value> {
    let mut got = Vec::new();
    while let Ok(message) = tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
        match message {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).expect("JSON");
                if message["type"] != "status" {
                    got.push(message);
                }
            }
            Some(Ok(_)) => {}
            other => panic!("the stream ended: {other:?}"),
        }
    }
    got
}

/// The latest state of each record a client received, by id, as the REST lists give them.
fn latest(messages: &[Value], body: &str, id: &str) -> BTreeMap<String, Value> {
    messages
        .iter()
        .map(|message| {
            let record = message["data"][body].clone();
            (record[id].as_str().expect("an id").to_owned(), record)
        })
        .collect()
}

#[tokio::test]
async fn the_contract_call_by_call() {
    let api = Api::start(120, None, false, 1024).await;

    // Not streaming yet: the status says so.
    let (code, status) = api.get("/status").await;
    assert_eq!(code, StatusCode::OK, "{status}");
    assert_eq!(status["status"], "success");
    assert_eq!(status["data"]["connected"], false);
    assert_eq!(status["data"]["reconnects"], 0);
    assert!(status["data"]["last_message_time"].is_null());

    let (code, connected) = api.post("/connect").await;
    assert_eq!(code, StatusCode::OK, "{connected}");
    assert_eq!(connected["status"], "success");
    assert_eq!(connected["data"]["connected"], true);
    assert_eq!(
        connected["data"]["subscribed_types"],
        json!(["OnOrders", "OnTrades", "OnPositions", "OnGeneral"])
    );
    assert_eq!(
        connected["data"]["data_counts"],
        json!({"orders": 0, "trades": 0, "positions": 0, "general": 0})
    );

    // The API's subscription is its own: dropping trades and general leaves orders and positions.
    let (code, answer) = api
        .post("/unsubscribe?event_types=OnTrades&event_types=OnGeneral")
        .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({"status": "success", "message": "Unsubscribed from 2 event types", "event_types": ["OnTrades", "OnGeneral"]})
    );
    let (code, answer) = api
        .post("/subscribe?event_types=OnOrders&event_types=OnTrades")
        .await;
    assert_eq!(code, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({"status": "success", "message": "Subscribed to 2 event types", "event_types": ["OnOrders", "OnTrades"]})
    );
    let store = api.serving.stream.store.clone();
    let acknowledged = wait_until(WAIT, || {
        store.read().subscriptions.acknowledged
            == [EventKind::Orders, EventKind::Trades, EventKind::Positions].into()
    })
    .await;
    assert!(acknowledged, "{:?}", store.read().subscriptions);
    let (_, status) = api.get("/status").await;
    assert_eq!(
        status["data"]["subscribed_types"],
        json!(["OnOrders", "OnTrades", "OnPositions"])
    );
    assert_eq!(status["data"]["state"], "connected");

    // Bad parameters are 400s that say what to send.
    for bad in [
        "/subscribe",
        "/subscribe?event_types=OnQuotes",
        "/unsubscribe?event_types=",
    ] {
        let (code, answer) = api.post(bad).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert_eq!(answer["status"], "error");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|message| message.contains("event_types") || message.contains("OnQuotes")),
            "{answer}"
        );
    }

    api.sim.handle().resume();
    api.sim.handle().finished().await;
    api.converged().await;

    // The lists read the store: every order, newest first, in the friendly keys.
    let (code, orders) = api.get("/orders").await;
    assert_eq!(code, StatusCode::OK);
    let held = store.read().orders.len();
    assert!(held > 5, "the day made orders");
    assert_eq!(orders["count"], held);
    let rows = orders["data"].as_array().expect("a list");
    assert_eq!(rows.len(), held);
    for row in rows {
        let id = row["id"].as_str().expect("friendly id");
        let entry_json =
            serde_json::to_value(&*store.read().orders.get(id).expect("held").order).expect("json");
        assert_eq!(row, &entry_json, "order {id} is the store's latest state");
        assert!(row.get("qty_filled").is_none(), "no raw keys");
    }
    let (_, limited) = api.get("/orders?limit=3").await;
    assert_eq!(limited["count"], 3);
    assert_eq!(
        limited["data"].as_array().map(|rows| rows[..3].to_vec()),
        Some(rows[..3].to_vec())
    );
    let (_, future) = api.get("/orders?since=99999999999").await;
    assert_eq!(future, json!({"status": "success", "count": 0, "data": []}));
    let (_, all_since) = api.get("/orders?since=0").await;
    assert_eq!(all_since["count"], held);

    let (code, trades) = api.get("/trades").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(trades["count"], store.read().trades().len());
    assert!(
        trades["data"][0]["tradeNumber"].is_string() || trades["data"][0]["id"].is_string(),
        "{trades}"
    );
    let (_, positions) = api.get("/positions").await;
    assert_eq!(positions["count"], store.read().positions().len());
    let (_, general) = api.get("/general").await;
    assert_eq!(general["count"], store.read().general().len());
    let (_, status) = api.get("/status").await;
    assert_eq!(status["data"]["data_counts"]["orders"], held);
    assert!(
        status["data"]["last_message_time"]
            .as_f64()
            .is_some_and(|at| at > 1.7e9)
    );

    for bad in [
        "/orders?limit=0",
        "/orders?limit=ten",
        "/trades?since=yesterday",
        "/general?since=-1",
    ] {
        let (code, answer) = api.get(bad).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert_eq!(answer["status"], "error");
    }
    let (code, answer) = api.get("/quotes").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(answer["status"], "error");

    let (code, disconnected) = api.post("/disconnect").await;
    assert_eq!(code, StatusCode::OK, "{disconnected}");
    assert_eq!(disconnected["data"]["connected"], false);
    assert_eq!(
        disconnected["data"]["data_counts"]["orders"], held,
        "the day stays readable"
    );

    // An expired session: subscribing cannot work, and says so with a 409.
    api.sim.handle().expire_tokens_now();
    let (code, _) = api.post("/connect").await;
    assert_eq!(code, StatusCode::CONFLICT);
    let (code, answer) = api.post("/subscribe?event_types=OnOrders").await;
    assert_eq!(code, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|message| message.contains("cannot subscribe"))
    );
    api.serving.stop().await;
}

#[tokio::test]
async fn every_request_needs_the_key() {
    let api = Api::start(10, None, true, 1024).await;
    let url = api.url("/status");
    let refused = |response: reqwest::Response| async move { read(response).await };

    let (code, answer) = refused(api.http.get(&url).send().await.expect("answers")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["status"], "error");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|message| message.contains("no API key"))
    );
    let wrong = ApiKey::generate();
    let (code, answer) = refused(
        api.http
            .get(&url)
            .bearer_auth(wrong.expose())
            .send()
            .await
            .expect("answers"),
    )
    .await;
    assert_eq!(
        (code, answer["message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong API key"))
    );
    // The query parameter is for browsers' WebSockets only.
    let in_query = format!("{url}?api_key={}", api.key.expose());
    let (code, _) = refused(api.http.get(&in_query).send().await.expect("answers")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (code, _) = refused(
        api.http
            .get(&url)
            .header("x-api-key", api.key.expose())
            .send()
            .await
            .expect("answers"),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = api.get("/status").await;
    assert_eq!(code, StatusCode::OK);

    // The WebSocket: no key is a refused upgrade; the key in the query is let in.
    let ws_url = format!("ws://{}/api/order-stream/stream", api.serving.server.addr());
    match tokio_tungstenite::connect_async(ws_url.as_str()).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("a WebSocket with no key was not refused: {:?}", other.map(|_| ())),
    }
    let mut ws = api.ws(&format!("?api_key={}", api.key.expose()), None).await;
    let first = next_json(&mut ws).await.expect("a status first");
    assert_eq!(first["type"], "status");
    assert_eq!(first["data"]["client_types"], json!([]));
    api.serving.stop().await;
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let api = Api::start(10, None, true, 1024).await;
    let url = api.url("/status");
    let send =
        |request: reqwest::RequestBuilder| async move { read(request.send().await.expect("answers")).await };

    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host.
    let (code, answer) = send(
        api.http
            .get(&url)
            .bearer_auth(api.key.expose())
            .header("host", "evil.example:8001"),
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|message| message.contains("Host"))
    );
    let (code, _) = send(
        api.http
            .get(&url)
            .bearer_auth(api.key.expose())
            .header("host", "localhost:8001"),
    )
    .await;
    assert_eq!(code, StatusCode::OK);

    // A browser page from an origin the user did not list, even with the key.
    let (code, answer) = send(
        api.http
            .get(&url)
            .bearer_auth(api.key.expose())
            .header("origin", "http://evil.example"),
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{answer}");
    let response = api
        .http
        .get(&url)
        .bearer_auth(api.key.expose())
        .header("origin", ALLOWED_ORIGIN)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|value| value.to_str().ok()),
        Some(ALLOWED_ORIGIN)
    );
    // The browser's preflight, which carries no key, is answered for the listed origin only.
    let preflight = |origin: &'static str| {
        api.http
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight(ALLOWED_ORIGIN).await.expect("answers");
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .and_then(|value| value.to_str().ok()),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        preflight("http://evil.example").await.expect("answers").status(),
        StatusCode::FORBIDDEN
    );

    // The WebSocket too.
    let ws_url = format!(
        "ws://{}/api/order-stream/stream?api_key={}",
        api.serving.server.addr(),
        api.key.expose()
    );
    let mut request = ws_url.into_client_request().expect("a request");
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_static("http://evil.example"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!(
            "a foreign origin's WebSocket was not refused: {:?}",
            other.map(|_| ())
        ),
    }
    api.serving.stop().await;
}

#[tokio::test]
async fn each_client_gets_exactly_its_kinds() {
    let api = Api::start(400, None, true, 16_384).await;
    api.wait_connected().await;
    let mut orders = api.ws("", None).await;
    let mut trades = api.ws("?event_types=OnTrades", None).await;
    for (ws, kinds) in [(&mut orders, json!([])), (&mut trades, json!(["OnTrades"]))] {
        let first = next_json(ws).await.expect("a status first");
        assert_eq!(first["type"], "status", "{first}");
        assert_eq!(first["data"]["connected"], true);
        assert_eq!(first["data"]["client_types"], kinds);
    }
    send(
        &mut orders,
        json!({"action": "subscribe", "event_types": ["OnOrders", "OnPositions"]}),
    )
    .await;
    let answer = answer_to(&mut orders).await;
    assert_eq!(answer["data"]["client_types"], json!(["OnOrders", "OnPositions"]));
    send(
        &mut orders,
        json!({"action": "unsubscribe", "event_types": ["OnPositions"]}),
    )
    .await;
    let answer = answer_to(&mut orders).await;
    assert_eq!(answer["data"]["client_types"], json!(["OnOrders"]));
    // A client's filter is its own: Fyers still sends everything the API asked for.
    assert_eq!(
        api.serving.stream.store.read().subscriptions.wanted,
        EventKind::ALL.into()
    );
    for (bad, says) in [
        (json!({"action": "dance"}), "unknown action"),
        (
            json!({"action": "subscribe", "event_types": ["OnQuotes"]}),
            "unknown event type",
        ),
        (json!({"action": "subscribe"}), "needs event_types"),
    ] {
        send(&mut orders, bad).await;
        let answer = answer_to(&mut orders).await;
        assert_eq!(answer["type"], "error");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|message| message.contains(says)),
            "{answer}"
        );
    }
    orders.send(Message::text("not json")).await.expect("sent");
    assert_eq!(answer_to(&mut orders).await["type"], "error");
    send(&mut orders, json!({"action": "get_status"})).await;
    let answer = answer_to(&mut orders).await;
    assert_eq!(
        (answer["type"].as_str(), answer["data"]["clients"].as_u64()),
        (Some("status"), Some(2))
    );

    api.sim.handle().resume();
    api.sim.handle().finished().await;
    let store = api.serving.stream.store.clone();
    api.converged().await;
    let (order_count, trade_count) = {
        let store = store.read();
        (store.orders.len(), store.trades().len())
    };
    let got_orders = drain(&mut orders).await;
    let got_trades = drain(&mut trades).await;
    assert!(
        got_orders.iter().all(|message| message["type"] == "OnOrders"),
        "only orders"
    );
    assert!(
        got_trades.iter().all(|message| message["type"] == "OnTrades"),
        "only trades"
    );
    assert_eq!(
        latest(&got_orders, "orders", "id").len(),
        order_count,
        "every order"
    );
    // The same truth: each order's last message is the store's latest state, each trade once.
    for (id, order) in latest(&got_orders, "orders", "id") {
        let held = serde_json::to_value(&*store.read().orders.get(&id).expect("held").order).expect("json");
        assert_eq!(order, held, "order {id}");
    }
    assert_eq!(got_trades.len(), trade_count, "each trade once");
    api.serving.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_and_the_others_keep_up() {
    // About 10,000 events a second: 6,500 steps a second of 1.5 events.
    let api = Api::start(30_000, Some(6_500.0), true, 4096).await;
    api.wait_connected().await;
    let mut fast = api
        .ws("?event_types=OnOrders,OnTrades,OnPositions,OnGeneral", None)
        .await;
    let mut slow = api
        .ws("?event_types=OnOrders,OnTrades,OnPositions,OnGeneral", Some(4096))
        .await;
    for ws in [&mut fast, &mut slow] {
        assert_eq!(next_json(ws).await.expect("status")["type"], "status");
    }
    let started = std::time::Instant::now();
    api.sim.handle().resume();
    let hub = api.serving.stream.hub.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The fast client reads everything while the slow one reads nothing; once the day is over and
    // applied, a second with nothing more means it has read it all.
    let reader = tokio::spawn({
        let done = done.clone();
        async move {
            let mut orders = Vec::new();
            let mut events = 0u64;
            loop {
                let quiet = if done.load(std::sync::atomic::Ordering::SeqCst) {
                    Duration::from_secs(1)
                } else {
                    WAIT
                };
                let Ok(message) = tokio::time::timeout(quiet, fast.next()).await else {
                    assert!(
                        done.load(std::sync::atomic::Ordering::SeqCst),
                        "the fast client starved"
                    );
                    return (orders, events, fast);
                };
                let message = match message {
                    Some(Ok(Message::Text(text))) => serde_json::from_str::<Value>(&text).expect("JSON"),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    other => panic!("the fast client was closed: {other:?}"),
                };
                match message["type"].as_str() {
                    Some("OnOrders") => {
                        orders.push(message);
                        events += 1;
                    }
                    Some("status") => {}
                    _ => events += 1,
                }
            }
        }
    });
    let behind = wait_until(WAIT, || hub.fell_behind() >= 1).await;
    assert!(behind, "the slow client was never closed");
    // Back to reading: what was sent before the close, then the close with its reason.
    let close = loop {
        match next_json(&mut slow).await {
            Ok(_) => continue,
            Err(frame) => break frame.expect("a close frame"),
        }
    };
    assert_eq!(close.code, CloseCode::Again);
    assert!(close.reason.contains("fell behind"), "{}", close.reason);
    assert!(close.reason.contains("REST"), "{}", close.reason);

    api.sim.handle().finished().await;
    let elapsed = started.elapsed();
    let store = api.serving.stream.store.clone();
    api.converged().await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let wanted_orders = store.read().orders.len();
    let (orders, events, _fast) = tokio::time::timeout(WAIT, reader)
        .await
        .expect("in time")
        .expect("read");
    let latest = latest(&orders, "orders", "id");
    assert_eq!(latest.len(), wanted_orders, "the fast client saw every order");
    for (id, order) in latest {
        let state = serde_json::to_value(&*store.read().orders.get(&id).expect("held").order).expect("json");
        assert_eq!(order, state, "order {id}");
    }
    let rate = events as f64 / elapsed.as_secs_f64();
    println!("{events} events in {elapsed:?}: {rate:.0} events/s to the fast client");
    assert_eq!(hub.fell_behind(), 1, "only the slow client");
    assert_eq!(hub.clients(), 1);
    api.serving.stop().await;
}

/// `orderwatch serve` as a user runs it: the demo behind the API, found from its one stdout line.
#[tokio::test]
async fn orderwatch_serve_serves_and_refuses_the_network() {
    use std::io::BufRead;
    const BIN: &str = env!("CARGO_BIN_EXE_orderwatch");
    let dirs = tempfile::tempdir().expect("a temp dir");
    let key = ApiKey::generate();
    let command = |args: &[&str]| {
        let mut command = std::process::Command::new(BIN);
        command
            .args(args)
            .env("ORDERWATCH_API_KEY", key.expose())
            .env("ORDERWATCH_DATA_DIR", dirs.path().join("data"))
            .env("ORDERWATCH_CONFIG_DIR", dirs.path().join("config"))
            .env("ORDERWATCH_KEYCHAIN", "session")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    };
    let refused = command(&["serve", "--demo", "--listen", "0.0.0.0:0"])
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("not a loopback address") && stderr.contains("--allow-remote"),
        "{stderr}"
    );

    let mut child = command(&["serve", "--demo", "--rate", "50", "--listen", "127.0.0.1:0"])
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("read")
    .expect("a line");
    let listening: Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(listening["type"], "listening");
    let base = listening["url"].as_str().expect("a url").to_owned();
    let http = common::http_client();
    let store_has_orders = async {
        loop {
            let response = http
                .get(format!("{base}/orders?limit=1"))
                .bearer_auth(key.expose())
                .send()
                .await;
            if let Ok(response) = response {
                let (code, body) = read(response).await;
                assert_eq!(code, StatusCode::OK, "{body}");
                if body["count"] == 1 {
                    return body;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let orders = tokio::time::timeout(WAIT, store_has_orders)
        .await
        .expect("the demo streams");
    assert!(orders["data"][0]["id"].is_string());
    let response = http
        .get(format!("{base}/status"))
        .bearer_auth(key.expose())
        .send()
        .await
        .expect("answers");
    let (_, status) = read(response).await;
    assert_eq!(status["data"]["connected"], true, "{status}");
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("waits")
        .expect("exits");
    assert!(
        output.status.success(),
        "SIGTERM is a clean stop: {:?}",
        output.status
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains(key.expose()),
        "the key is never logged: {stderr}"
    );
}
