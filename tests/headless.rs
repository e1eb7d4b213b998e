//! `orderwatch` as a user runs it: the real binary, its stdout, stderr and exit code.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{day, start_sim};
use orderwatch::sim::{DayConfig, Sim, SimConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_orderwatch");
/// A run that takes longer than this is a hang: the child is killed and the test fails.
const HANG: Duration = Duration::from_secs(30);
const DATA_TYPES: [&str; 4] = ["OnOrders", "OnTrades", "OnPositions", "OnGeneral"];

/// Raw order keys whose SDK (friendly) name differs: none of them may reach headless output.
const RAW_ORDER_KEYS: [&str; 24] = [
    "client_id",
    "id_parent",
    "id_exchange",
    "qty_remaining",
    "qty_filled",
    "price_limit",
    "price_stop",
    "price_traded",
    "ord_type",
    "fy_token",
    "oms_msg",
    "offline_flag",
    "time_oms",
    "validity",
    "product_type",
    "tran_side",
    "org_ord_status",
    "ord_source",
    "symbol_exch",
    "symbol_desc",
    "ordertag",
    "take_profit",
    "stop_loss",
    "leg_type",
];

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.status.code()
    }

    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|err| panic!("stdout line is not JSON ({err}): {line}"))
            })
            .collect()
    }

    fn data_lines(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["type"] != "status")
            .collect()
    }

    fn states(&self) -> Vec<String> {
        self.lines()
            .iter()
            .filter(|line| line["type"] == "status")
            .map(|line| line["status"]["state"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The JSON summary: stderr's last line.
    fn summary(&self) -> Value {
        let last = self.stderr.lines().last().unwrap_or_default();
        serde_json::from_str(last)
            .unwrap_or_else(|err| panic!("stderr's last line is not JSON ({err}): {self}"))
    }

    /// Neither stream contains `secret`.
    fn assert_hides(&self, secret: &str) {
        assert!(!self.stdout.contains(secret), "stdout shows the token: {self}");
        assert!(!self.stderr.contains(secret), "stderr shows the token: {self}");
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.stdout.lines().take(20).collect::<Vec<_>>().join("\n");
        write!(
            f,
            "exit {:?} after {:?}\n--- stdout (first 20 lines of {}) ---\n{head}\n--- stderr ---\n{}",
            self.status,
            self.elapsed,
            self.stdout.lines().count(),
            self.stderr
        )
    }
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("ORDERWATCH_ACCESS_TOKEN")
        .env_remove("ORDERWATCH_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for the child to exit; one that runs past [`HANG`] (counted from `started`) is killed.
fn wait_bounded(child: &mut Child, started: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("waiting on the child") {
            return Some(status);
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn hung(stdout: &str, stderr: &str) -> ! {
    panic!("orderwatch hung for {HANG:?} and was killed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")
}

/// Runs the command to its end; a run longer than [`HANG`] is killed and fails the test.
fn run(mut command: Command) -> Run {
    let started = Instant::now();
    let mut child = command.spawn().expect("the binary starts");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait_bounded(&mut child, started);
    let elapsed = started.elapsed();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else { hung(&stdout, &stderr) };
    Run {
        status,
        stdout,
        stderr,
        elapsed,
    }
}

fn run_args(args: &[&str]) -> Run {
    run(command(args))
}

/// Runs the binary off the async runtime, so an in-process simulator keeps serving meanwhile.
async fn run_async(command: Command) -> Run {
    tokio::task::spawn_blocking(move || run(command))
        .await
        .expect("the runner thread")
}

/// An in-process simulator that generates nothing.
async fn quiet_sim() -> Sim {
    start_sim(day(7, 1_000, None)).await
}

/// The secret half of `APP_ID:TOKEN`.
fn token_of(sim: &Sim) -> String {
    let auth = sim.authorization();
    auth.expose().split_once(':').unwrap().1.to_owned()
}

fn assert_data_line(line: &Value) {
    let kind = line["type"].as_str().unwrap_or_default();
    let data = line["data"]
        .as_object()
        .unwrap_or_else(|| panic!("data is not an object: {line}"));
    assert_eq!(data.get("s").and_then(Value::as_str), Some("ok"), "{line}");
    let has = |key: &str| data.get(key).is_some_and(Value::is_object);
    match kind {
        "OnOrders" => assert!(has("orders"), "{line}"),
        "OnTrades" => assert!(has("trades"), "{line}"),
        "OnPositions" => assert!(has("positions"), "{line}"),
        "OnGeneral" => assert!(["edis", "pricealerts", "login"].into_iter().any(has), "{line}"),
        other => panic!("unknown line type {other:?}: {line}"),
    }
}

#[test]
fn demo_streams_exactly_the_asked_number_of_events() {
    let run = run_args(&["headless", "--demo", "--rate", "0", "--exit-after", "300"]);
    assert_eq!(run.code(), Some(0), "{run}");
    let lines = run.lines();
    for line in &lines {
        let kind = line["type"].as_str().unwrap_or_else(|| panic!("no type: {line}"));
        assert!(kind == "status" || DATA_TYPES.contains(&kind), "{line}");
    }
    let data = run.data_lines();
    assert_eq!(data.len(), 300, "{run}");
    for line in &data {
        assert_data_line(line);
    }

    let orders: Vec<&Value> = data
        .iter()
        .filter(|line| line["type"] == "OnOrders")
        .map(|line| &line["data"]["orders"])
        .collect();
    assert!(!orders.is_empty(), "300 events of a day include orders");
    for order in &orders {
        for key in [
            "id",
            "status",
            "orderDateTime",
            "symbol",
            "side",
            "qty",
            "type",
            "productType",
        ] {
            assert!(order.get(key).is_some(), "order lacks {key}: {order}");
        }
        for raw in RAW_ORDER_KEYS.iter().chain(&["ord_status"]) {
            assert!(
                order.get(raw).is_none(),
                "raw key {raw} in headless output: {order}"
            );
        }
    }
    assert!(
        orders.iter().any(|order| order.get("filledQty").is_some()),
        "some order carries filledQty"
    );
    for trade in data.iter().filter(|line| line["type"] == "OnTrades") {
        let trade = &trade["data"]["trades"];
        assert!(
            trade.get("tradeNumber").is_some() && trade.get("id_fill").is_none(),
            "{trade}"
        );
    }

    let states = run.states();
    assert!(
        states.iter().any(|state| state == "connected"),
        "states: {states:?}"
    );

    let summary = run.summary();
    let events = summary["events"]
        .as_object()
        .unwrap_or_else(|| panic!("{summary}"));
    let total: u64 = events.values().map(|count| count.as_u64().unwrap()).sum();
    assert_eq!(total, 300, "{summary}");
    for kind in DATA_TYPES {
        let counted = data.iter().filter(|line| line["type"] == kind).count() as u64;
        assert_eq!(events[kind].as_u64(), Some(counted), "{kind}: {summary}");
    }
    for key in ["bad_frames", "reconnects"] {
        assert_eq!(summary[key].as_u64(), Some(0), "{key}: {summary}");
    }
    assert!(summary["frames_per_s"].is_number(), "{summary}");
    run.assert_hides(&SimConfig::default().access_token);
}

#[test]
fn events_filter_keeps_only_orders() {
    let run = run_args(&[
        "headless",
        "--demo",
        "--rate",
        "0",
        "--exit-after",
        "100",
        "--events",
        "OnOrders",
    ]);
    assert_eq!(run.code(), Some(0), "{run}");
    let data = run.data_lines();
    assert_eq!(data.len(), 100, "{run}");
    for line in &data {
        assert_eq!(line["type"], "OnOrders", "{line}");
        assert_data_line(line);
    }
    let summary = run.summary();
    assert_eq!(summary["events"]["OnOrders"], 100, "{summary}");
}

#[test]
fn an_unknown_event_type_is_a_bad_argument() {
    let run = run_args(&["headless", "--demo", "--events", "OnOrders,OnBogus"]);
    assert_eq!(run.code(), Some(2), "{run}");
    assert!(run.stderr.contains("OnBogus"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_exit_ends_a_quiet_stream() {
    let sim = quiet_sim().await;
    let auth = sim.authorization();
    let mut command = command(&[
        "headless",
        "--socket-url",
        &sim.socket_url(),
        "--rest-url",
        &sim.rest_url(),
        "--access-token",
        auth.expose(),
        "--idle-exit",
        "1",
    ]);
    command.env("ORDERWATCH_LOG", "debug");
    let run = run_async(command).await;
    assert_eq!(run.code(), Some(0), "{run}");
    assert!(run.elapsed < Duration::from_secs(6), "{run}");
    assert!(run.data_lines().is_empty(), "{run}");
    assert!(run.states().iter().any(|s| s == "connected"), "{run}");
    let summary = run.summary();
    assert_eq!(summary["bad_frames"], 0, "{summary}");
    // Even with debug logging, the token never shows.
    run.assert_hides(&token_of(&sim));
    assert!(
        sim.handle()
            .stats()
            .upgrades
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_exits_3_without_showing_it() {
    const SECRET: &str = "eyJhbGciOiJIUzI1NiJ9.SECRET-WRONG-TOKEN";
    let sim = quiet_sim().await;
    let token = format!("SIMAPP1234-100:{SECRET}");
    let mut command = command(&[
        "headless",
        "--socket-url",
        &sim.socket_url(),
        "--rest-url",
        &sim.rest_url(),
        "--access-token",
        &token,
    ]);
    command.env("ORDERWATCH_LOG", "debug");
    let run = run_async(command).await;
    assert_eq!(run.code(), Some(3), "{run}");
    assert!(run.elapsed < Duration::from_secs(10), "{run}");
    let message = run.stderr.to_ascii_lowercase();
    assert!(
        message.contains("token"),
        "stderr does not mention the token: {run}"
    );
    assert!(run.states().iter().any(|s| s == "auth_rejected"), "{run}");
    run.assert_hides(SECRET);
    // One attempt, no retry storm.
    let upgrades = sim
        .handle()
        .stats()
        .upgrades
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(upgrades, 1, "{run}");
}

#[test]
fn an_unreachable_server_exits_1_with_a_message() {
    let run = run_args(&[
        "headless",
        "--socket-url",
        "ws://127.0.0.1:1/trade/v3",
        "--rest-url",
        "http://127.0.0.1:1/api/v3",
        "--access-token",
        "APP-100:unreachable-secret",
    ]);
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(run.elapsed < Duration::from_secs(15), "{run}");
    let last = run.stderr.lines().last().unwrap_or_default().to_ascii_lowercase();
    assert!(
        last.contains("cannot") || last.contains("unreachable") || last.contains("refused"),
        "no clear message as stderr's last line: {run}"
    );
    run.assert_hides("unreachable-secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_socket_path_exits_1() {
    let sim = quiet_sim().await;
    let auth = sim.authorization();
    let url = format!("ws://{}/trade/v2", sim.addr());
    let run = run_async(command(&[
        "headless",
        "--socket-url",
        &url,
        "--rest-url",
        &sim.rest_url(),
        "--access-token",
        auth.expose(),
    ]))
    .await;
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(run.stderr.contains("404"), "{run}");
    run.assert_hides(&token_of(&sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_does_not_need_rest() {
    let sim = start_sim(SimConfig {
        day: DayConfig {
            seed: 8,
            ..DayConfig::default()
        },
        rate: Some(400.0),
        steps: None,
        realtime_clock: false,
        start_paused: false,
        ..SimConfig::default()
    })
    .await;
    let auth = sim.authorization();
    let run = run_async(command(&[
        "headless",
        "--socket-url",
        &sim.socket_url(),
        "--rest-url",
        "http://127.0.0.1:1/api/v3",
        "--access-token",
        auth.expose(),
        "--exit-after",
        "50",
    ]))
    .await;
    assert_eq!(run.code(), Some(0), "{run}");
    let data = run.data_lines();
    assert_eq!(data.len(), 50, "{run}");
    for line in &data {
        assert_data_line(line);
        assert!(line.get("source").is_none(), "nothing can come from REST: {line}");
    }
    assert_eq!(
        run.summary()["events"]
            .as_object()
            .map(|e| e.values().filter_map(Value::as_u64).sum::<u64>()),
        Some(50)
    );
    run.assert_hides(&token_of(&sim));
}

#[test]
fn a_missing_token_is_a_bad_argument() {
    let run = run_args(&["headless", "--socket-url", "ws://127.0.0.1:1/trade/v3"]);
    assert_eq!(run.code(), Some(2), "{run}");
    assert!(run.stderr.contains("--access-token"), "{run}");
    assert!(run.stderr.contains("ORDERWATCH_ACCESS_TOKEN"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");

    // A token without the APP_ID: part is a bad argument too, and is not echoed.
    let run = run_args(&["headless", "--access-token", "justatoken-SECRET"]);
    assert_eq!(run.code(), Some(2), "{run}");
    assert!(run.stderr.contains("APP_ID:ACCESS_TOKEN"), "{run}");
    run.assert_hides("justatoken-SECRET");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_can_come_from_the_environment() {
    let sim = quiet_sim().await;
    let auth = sim.authorization();
    let mut command = command(&[
        "headless",
        "--socket-url",
        &sim.socket_url(),
        "--rest-url",
        &sim.rest_url(),
        "--idle-exit",
        "1",
    ]);
    command.env("ORDERWATCH_ACCESS_TOKEN", auth.expose());
    let run = run_async(command).await;
    assert_eq!(run.code(), Some(0), "{run}");
    assert!(run.states().iter().any(|s| s == "connected"), "{run}");
    run.assert_hides(&token_of(&sim));

    // A wrong token from the environment is refused like one from the flag.
    let mut command = self::command(&[
        "headless",
        "--socket-url",
        &sim.socket_url(),
        "--rest-url",
        &sim.rest_url(),
    ]);
    command.env("ORDERWATCH_ACCESS_TOKEN", "SIMAPP1234-100:env-wrong-SECRET");
    let run = run_async(command).await;
    assert_eq!(run.code(), Some(3), "{run}");
    run.assert_hides("env-wrong-SECRET");
}

#[test]
fn version_names_the_commit() {
    let run = run_args(&["--version"]);
    assert_eq!(run.code(), Some(0), "{run}");
    let line = run.stdout.trim();
    assert!(line.contains(env!("CARGO_PKG_VERSION")), "{run}");
    let commit = line
        .split("commit ")
        .nth(1)
        .map(|rest| rest.trim_end_matches(')').trim())
        .unwrap_or_default();
    assert!(!commit.is_empty(), "no commit in {line:?}");
}

/// Kills the child however the test ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_mode_on_port_0_prints_working_urls_and_token() {
    let mut child = KillOnDrop(
        command(&["sim", "--addr", "127.0.0.1:0", "--seed", "3", "--rate", "50"])
            .spawn()
            .expect("the simulator starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let stderr = drain(child.0.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lines.iter().any(|line: &String| line.contains("access token")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => {
                drop(child);
                panic!(
                    "the simulator did not print its token in time: {lines:?}\n{}",
                    stderr.join().unwrap_or_default()
                );
            }
        }
    }
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|line| line.trim().strip_prefix(name).map(|rest| rest.trim().to_owned()))
            .unwrap_or_else(|| panic!("no {name:?} line: {lines:?}"))
    };
    let socket_url = field("socket URL:");
    let rest_url = field("REST URL:");
    let token = field("access token:");
    assert!(
        socket_url.starts_with("ws://127.0.0.1:") && socket_url.ends_with("/trade/v3"),
        "{socket_url}"
    );
    assert!(!socket_url.contains(":0/"), "the real port, not 0: {socket_url}");
    assert!(
        rest_url.starts_with("http://127.0.0.1:") && rest_url.ends_with("/api/v3"),
        "{rest_url}"
    );
    assert!(token.contains(':'), "APP_ID:TOKEN: {token}");

    // What it printed works.
    orderwatch::fyers::auth::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let profile: Value = client
        .get(format!("{rest_url}/profile"))
        .header("authorization", &token)
        .send()
        .await
        .expect("the printed REST URL answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(profile["s"], "ok", "{profile}");
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(socket_url.as_str())
            .unwrap();
    request
        .headers_mut()
        .insert("authorization", token.parse().unwrap());
    let connected = tokio::time::timeout(Duration::from_secs(5), tokio_tungstenite::connect_async(request))
        .await
        .expect("the printed socket URL answers in time");
    assert!(
        connected.is_ok(),
        "the printed socket URL and token connect: {connected:?}"
    );

    drop(child);
}
