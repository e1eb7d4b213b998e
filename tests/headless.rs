//! `orderwatch` as a user runs it: the real binary, its stdout, stderr and exit code.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{day, start_sim};
use orderwatch::fyers::model::Event;
use orderwatch::sim::{DayConfig, Fault, Sim, SimConfig};
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

/// Each run journals into a data dir of its own (no test sees another's day).
fn command(args: &[&str]) -> Command {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let data_dir = std::env::temp_dir().join(format!("orderwatch-headless-{}-{run}", std::process::id()));
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("ORDERWATCH_DATA_DIR", data_dir)
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
fn run(command: Command) -> Run {
    run_with_input(command, None)
}

/// The same, with `input` on its standard input.
fn run_with_input(mut command: Command, input: Option<&str>) -> Run {
    let started = Instant::now();
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("the binary starts");
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        use std::io::Write;
        stdin
            .write_all(input.as_bytes())
            .expect("the child reads its input");
    }
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait_bounded(&mut child, started);
    let elapsed = started.elapsed();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        hung(&stdout, &stderr)
    };
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

/// A running child whose stdout lines arrive one by one, for tests that act mid-stream. Dropping it
/// kills the child.
struct Live {
    child: Option<Child>,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
    started: Instant,
}

impl Live {
    fn spawn(mut command: Command) -> Self {
        let started = Instant::now();
        let mut child = command.spawn().expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let stderr = drain(child.stderr.take().unwrap());
        #[allow(clippy::disallowed_methods, reason = "a test's few lines")]
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child: Some(child),
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
            started,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn tail(&self) -> String {
        let from = self.seen.len().saturating_sub(10);
        self.seen[from..].join("\n")
    }

    /// Reads stdout until a line matches; fails after `timeout`.
    async fn wait_for(&mut self, what: &str, timeout: Duration, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    let value: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|err| panic!("stdout line is not JSON ({err}): {line}"));
                    self.seen.push(line);
                    if matches(&value) {
                        return value;
                    }
                }
                Ok(None) => panic!("stdout ended before {what}; last lines:\n{}", self.tail()),
                Err(_) => panic!("no {what} within {timeout:?}; last lines:\n{}", self.tail()),
            }
        }
    }

    async fn wait_state(&mut self, state: &str) -> Value {
        let what = format!("{state:?} status line");
        self.wait_for(&what, Duration::from_secs(10), |line| {
            line["type"] == "status" && line["status"]["state"] == state
        })
        .await
    }

    /// Waits for the child to exit (killing it past [`HANG`]) and collects everything it wrote.
    async fn finish(mut self) -> Run {
        let mut child = self.child.take().expect("the child");
        let started = self.started;
        let status = tokio::task::spawn_blocking(move || wait_bounded(&mut child, started))
            .await
            .expect("the waiting thread");
        let elapsed = started.elapsed();
        while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(5), self.lines.recv()).await {
            self.seen.push(line);
        }
        let stderr = self.stderr.take().expect("stderr");
        let stderr = tokio::task::spawn_blocking(move || stderr.join().unwrap_or_default())
            .await
            .unwrap_or_default();
        let mut stdout = self.seen.join("\n");
        stdout.push('\n');
        let Some(status) = status else {
            hung(&stdout, &stderr)
        };
        Run {
            status,
            stdout,
            stderr,
            elapsed,
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An event line (`OnOrders`…), not a status, journal or restore line.
fn is_data(line: &Value) -> bool {
    line["type"].as_str().is_some_and(|kind| kind.starts_with("On"))
}

/// Headless mode against `sim`, with `extra` arguments.
fn headless_on(sim: &Sim, extra: &[&str]) -> Command {
    let auth = sim.authorization();
    let (socket_url, rest_url) = (sim.socket_url(), sim.rest_url());
    let mut args = vec![
        "headless",
        "--socket-url",
        &socket_url,
        "--rest-url",
        &rest_url,
        "--access-token",
        auth.expose(),
    ];
    args.extend_from_slice(extra);
    command(&args)
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
    // The demo's token is minted inside the process; every simulator token starts with this JWT
    // header (base64url of {"alg":"HS256","typ":"JWT"}), so no token may show at all.
    run.assert_hides("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_loses_nothing() {
    let sim = start_sim(day(9, 3_000, Some(1_000.0))).await;
    let mut live = Live::spawn(headless_on(&sim, &["--idle-exit", "3"]));
    // Subscribed and resynced (an empty book): the day may start.
    live.wait_state("resynced").await;
    sim.handle().resume();
    for _ in 0..100 {
        live.wait_for("data", Duration::from_secs(10), is_data).await;
    }
    sim.handle().inject(Fault::DropConnections);
    live.wait_state("reconnecting").await;
    live.wait_state("connected").await;
    live.wait_state("resynced").await;
    tokio::time::timeout(Duration::from_secs(20), sim.handle().finished())
        .await
        .expect("the day ends");
    let run = live.finish().await;
    assert_eq!(run.code(), Some(0), "{run}");
    let summary = run.summary();
    assert_eq!(summary["reconnects"], 1, "{summary}");
    assert_eq!(summary["bad_frames"], 0, "{summary}");

    // The last word on every order, trade and position equals the exchange's.
    let mut orders = std::collections::HashMap::new();
    let mut trades = std::collections::HashSet::new();
    let mut positions = std::collections::HashMap::new();
    for line in run.data_lines() {
        let data = &line["data"];
        match line["type"].as_str() {
            Some("OnOrders") => {
                let order = &data["orders"];
                orders.insert(order["id"].as_str().unwrap().to_owned(), order["status"].clone());
            }
            Some("OnTrades") => {
                trades.insert(data["trades"]["tradeNumber"].as_str().unwrap().to_owned());
            }
            Some("OnPositions") => {
                let position = &data["positions"];
                positions.insert(
                    position["id"].as_str().unwrap().to_owned(),
                    position["netQty"].clone(),
                );
            }
            _ => {}
        }
    }
    let book = sim.handle().book();
    assert_eq!(orders.len(), book.orders.len(), "orders seen vs the book");
    let mut differing = Vec::new();
    for order in book.orders.values() {
        let truth = Event::Order(Box::new(order.clone())).to_sdk_json()["orders"]["status"].clone();
        if orders.get(order.id.as_str()) != Some(&truth) {
            differing.push(format!(
                "{}: {:?} vs {truth}",
                order.id,
                orders.get(order.id.as_str())
            ));
        }
    }
    assert!(
        differing.is_empty(),
        "orders whose last line is not the truth: {differing:?}"
    );
    let book_trades: std::collections::HashSet<String> = book.trades.keys().map(|k| k.to_string()).collect();
    assert_eq!(trades, book_trades, "trades seen vs the book");
    assert_eq!(
        positions.len(),
        book.positions.len(),
        "positions seen vs the book"
    );
    for position in book.positions.values() {
        let truth = Event::Position(Box::new(position.clone())).to_sdk_json()["positions"]["netQty"].clone();
        assert_eq!(
            positions.get(position.id.as_str()),
            Some(&truth),
            "position {}",
            position.id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_mid_stream_exits_3() {
    let sim = start_sim(SimConfig {
        start_paused: false,
        steps: None,
        ..day(10, 0, Some(200.0))
    })
    .await;
    let mut live = Live::spawn(headless_on(&sim, &[]));
    live.wait_for("data", Duration::from_secs(10), is_data).await;
    sim.handle().inject(Fault::ExpireToken);
    let run = live.finish().await;
    assert_eq!(run.code(), Some(3), "{run}");
    assert!(run.elapsed < Duration::from_secs(15), "{run}");
    assert!(run.stderr.to_ascii_lowercase().contains("token"), "{run}");
    assert!(run.states().iter().any(|s| s == "auth_rejected"), "{run}");
    run.assert_hides(&token_of(&sim));
    // The refusal stops all attempts: the first connection and one refused retry at most.
    let upgrades = sim
        .handle()
        .stats()
        .upgrades
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(upgrades <= 2, "{upgrades} upgrades");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_are_counted_and_skipped() {
    let sim = start_sim(day(11, 600, Some(600.0))).await;
    let mut live = Live::spawn(headless_on(&sim, &["--idle-exit", "2"]));
    live.wait_state("resynced").await;
    sim.handle().inject(Fault::Malformed(6));
    sim.handle().inject(Fault::Oversized(1));
    sim.handle().resume();
    tokio::time::timeout(Duration::from_secs(20), sim.handle().finished())
        .await
        .expect("the day ends");
    let run = live.finish().await;
    assert_eq!(run.code(), Some(0), "{run}");
    let summary = run.summary();
    assert_eq!(summary["bad_frames"], 7, "{summary}");
    assert_eq!(summary["reconnects"], 0, "{summary}");
    let data = run.data_lines();
    assert!(
        data.len() > 100,
        "the frames after the bad ones still arrive: {run}"
    );
    for line in &data {
        assert_data_line(line);
        let order_id = line["data"]["orders"]["id"].as_str().unwrap_or_default();
        assert!(
            !order_id.contains("OVERSIZED") && order_id != "25122400099999",
            "a bad frame became an event: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_exits_0_with_the_summary() {
    let mut live = Live::spawn(command(&["headless", "--demo"]));
    live.wait_state("connected").await;
    live.wait_for("data", Duration::from_secs(10), is_data).await;
    let pid = live.pid().to_string();
    let sent = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let run = live.finish().await;
    assert_eq!(run.code(), Some(0), "{run}");
    assert!(run.elapsed < Duration::from_secs(10), "{run}");
    let summary = run.summary();
    assert!(summary["events"].is_object(), "{summary}");
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let started = Instant::now();
    let mut child = command(&["headless", "--demo", "--rate", "0"])
        .spawn()
        .expect("the binary starts");
    let stderr = drain(child.stderr.take().unwrap());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    assert!(first.starts_with('{'), "{first}");
    // Like `orderwatch headless | head -1`: the reader goes away.
    drop(stdout);
    let status = wait_bounded(&mut child, started);
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        hung(&first, &stderr)
    };
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let summary: Value = serde_json::from_str(stderr.lines().last().unwrap_or_default())
        .unwrap_or_else(|err| panic!("no summary ({err}): {stderr}"));
    assert!(summary["events"].is_object(), "{summary}");
}

/// README: the token is "never printed or logged" - at any log level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_not_logged_even_at_trace_level() {
    let sim = quiet_sim().await;
    let mut command = headless_on(&sim, &["--idle-exit", "1"]);
    command.env("ORDERWATCH_LOG", "trace");
    let run = run_async(command).await;
    assert_eq!(run.code(), Some(0), "{run}");
    run.assert_hides(&token_of(&sim));
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
    #[allow(clippy::disallowed_methods, reason = "a test's few lines")]
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

#[test]
fn a_failed_feed_exits_1_with_the_reason() {
    let run = run_args(&[
        "headless",
        "--demo",
        "--rate",
        "0",
        "--exit-after",
        "1000000",
        "--fault-feed-panic-after",
        "5",
    ]);
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(
        run.stderr.contains("orderwatch: the feed failed: fault injected"),
        "stderr does not say why: {run}"
    );
    let last = run.lines().pop().unwrap_or_default();
    assert_eq!(last["status"]["state"], "failed", "{run}");
    assert!(
        last["status"]["restart_in_ms"].is_null(),
        "headless does not restart: {run}"
    );
    assert!(
        !run.data_lines().is_empty(),
        "what came before the failure was written: {run}"
    );
}

/// Values from the command line are checked where they come in: a clear message and exit 2, never
/// a panic deep inside (these three used to panic).
#[test]
fn out_of_range_numbers_are_bad_arguments() {
    for (args, says) in [
        (&["headless", "--demo", "--idle-exit", "1e20"][..], "out of range"),
        (&["headless", "--demo", "--idle-exit", "0"][..], "out of range"),
        (&["headless", "--demo", "--idle-exit", "NaN"][..], "out of range"),
        (&["headless", "--demo", "--rate", "inf"][..], "out of range"),
        (&["headless", "--demo", "--rate", "1e-320"][..], "out of range"),
        (&["headless", "--demo", "--rate=-4"][..], "out of range"),
        (&["headless", "--demo", "--rate", "fast"][..], "not a number"),
        (&["sim", "--rate", "inf"][..], "out of range"),
    ] {
        let run = run_args(args);
        assert_eq!(run.code(), Some(2), "{args:?}: {run}");
        assert!(run.stderr.contains(says), "{args:?}: {run}");
        assert!(!run.stderr.contains("panicked"), "{args:?}: {run}");
    }
}

/// A token need not be on the command line, where every local user can read it: a file, or
/// standard input with `--access-token -`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_can_come_from_a_file_or_standard_input() {
    let sim = quiet_sim().await;
    let token = sim.authorization().expose().to_owned();
    let (socket_url, rest_url) = (sim.socket_url(), sim.rest_url());
    let dir = std::env::temp_dir().join(format!("orderwatch-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let base = [
        "headless",
        "--socket-url",
        &socket_url,
        "--rest-url",
        &rest_url,
        "--idle-exit",
        "1",
    ];
    let from_file = command(&[&base[..], &["--access-token-file", file.to_str().unwrap()]].concat());
    let from_stdin = command(&[&base[..], &["--access-token", "-"]].concat());
    let token_line = format!("{token}\n");
    let runs =
        tokio::task::spawn_blocking(move || [run(from_file), run_with_input(from_stdin, Some(&token_line))])
            .await
            .unwrap();
    for run in runs {
        assert_eq!(run.code(), Some(0), "{run}");
        assert!(run.states().iter().any(|s| s == "connected"), "{run}");
        run.assert_hides(&token_of(&sim));
    }
    // A missing or empty file is a bad argument that says which file.
    std::fs::write(&file, "  \n").unwrap();
    for path in [file.clone(), dir.join("absent")] {
        let run = run_args(&["headless", "--access-token-file", path.to_str().unwrap()]);
        assert_eq!(run.code(), Some(2), "{run}");
        assert!(
            run.stderr.contains("empty") || run.stderr.contains("absent"),
            "{run}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader that stops reading for a while stops nothing else: the socket keeps being read and
/// pinged (no reconnect), and when it reads again every line is there, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_stops_neither_the_pings_nor_the_stream() {
    const ALERTS: usize = 3_000;
    let sim = quiet_sim().await;
    let mut command = headless_on(&sim, &["--idle-exit", "12", "--events", "OnGeneral"]);
    let mut child = command.spawn().expect("the binary starts");
    let stderr = drain(child.stderr.take().unwrap());
    let stats = sim.handle();
    wait_for_subscribe(&sim).await;
    // About 400 kB of lines: far more than a pipe holds while nobody reads it.
    sim.handle()
        .replay((0..ALERTS).map(common::price_alert).collect());
    let pings = || stats.stats().pings.load(std::sync::atomic::Ordering::SeqCst);
    let before = pings();
    let pinged = common::wait_until(Duration::from_secs(15), || pings() > before).await;
    assert!(pinged, "no ping while standard output was blocked");
    assert_eq!(
        stats.stats().upgrades.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "no reconnect"
    );
    // Now read: everything comes out, in order, and the run ends on its idle timer.
    let stdout = drain(child.stdout.take().unwrap());
    let status = tokio::task::spawn_blocking(move || wait_bounded(&mut child, Instant::now()))
        .await
        .unwrap()
        .expect("headless ends");
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "{status}: {stderr}");
    let ids: Vec<usize> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["type"] == "OnGeneral")
        .map(|line| {
            line["data"]["pricealerts"]["alert_id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, (0..ALERTS).collect::<Vec<_>>());
}

/// A reader that never reads again ends the run with a clear error, not a silent loss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stopped_for_good_ends_the_run_with_an_error() {
    let sim = quiet_sim().await;
    let mut command = headless_on(&sim, &["--events", "OnGeneral", "--output-stall", "2"]);
    let mut child = command.spawn().expect("the binary starts");
    let stderr = drain(child.stderr.take().unwrap());
    let _stdout = child.stdout.take();
    wait_for_subscribe(&sim).await;
    sim.handle().replay((0..3_000).map(common::price_alert).collect());
    let status = tokio::task::spawn_blocking(move || wait_bounded(&mut child, Instant::now()))
        .await
        .unwrap()
        .expect("headless ends by itself");
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("standard output is not being read"), "{stderr}");
}

/// Waits until headless has sent its subscribe message to `sim`.
async fn wait_for_subscribe(sim: &Sim) {
    let handle = sim.handle();
    let subscribed = common::wait_until(Duration::from_secs(10), || {
        handle
            .stats()
            .subscribe_messages
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0
    })
    .await;
    assert!(subscribed, "headless did not subscribe");
}
