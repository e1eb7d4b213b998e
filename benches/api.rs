//! The local API under load: one stream of 50,000 events/s from the simulator over loopback, with
//! no WebSocket clients and with 50, each reading every event. A round is one second of the stream
//! (500 frames every 10 ms) and ends when the store has applied it and every client has received
//! it. Throughput is the stream's events per second through the store; latency is from the moment
//! the applied batch reaches the API's hub (the feed hands it over right after the store's apply)
//! to a client reading it off its socket. Targets: p99 ≤ 5 ms, and with clients ≥ 80 % of the
//! throughput without. The clients run on their own runtime, as other programs would.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use orderwatch::api::{self, ApiConfig, ApiKey, ApiServer, Attachment, Hub, Stream};
use orderwatch::feed::{self, FeedConfig, FeedHandle, Tap};
use orderwatch::fyers::model::EventKind;
use orderwatch::fyers::wire;
use orderwatch::sim::{Day, DayConfig, Sim, SimConfig};
use orderwatch::store::Store;
use parking_lot::{Mutex, RwLock};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const RATE: usize = 50_000;
const TICK: Duration = Duration::from_millis(10);
const PER_TICK: usize = RATE / 100;
const CLIENTS: usize = 50;

/// One second of a simulated day's raw frames; ids made unique per round.
fn second_of_frames(day: &mut Day, round: u64) -> Vec<String> {
    let mut frames = Vec::with_capacity(RATE);
    while frames.len() < RATE {
        frames.extend(day.step(None).iter().map(wire::to_raw_frame));
    }
    frames.truncate(RATE);
    let id = format!(r#""id":"r{round}-"#);
    let fill = format!(r#""id_fill":"r{round}-"#);
    frames
        .iter()
        .map(|frame| frame.replace(r#""id":""#, &id).replace(r#""id_fill":""#, &fill))
        .collect()
}

/// When each applied event reached the hub, in order, as nanoseconds since `base`.
struct Stamps {
    base: Instant,
    at: Mutex<Vec<u64>>,
}

/// The feed, the store, the hub (behind a relay that stamps each batch) and the API server.
struct Rig {
    sim: Sim,
    store: Arc<RwLock<Store>>,
    feed: FeedHandle,
    server: Option<ApiServer>,
    hub: Hub,
    stamps: Arc<Stamps>,
}

fn rig(runtime: &tokio::runtime::Runtime) -> Rig {
    let config = SimConfig {
        start_paused: true,
        rate: None,
        realtime_clock: false,
        ..SimConfig::default()
    };
    let sim = runtime
        .block_on(Sim::start(config, ([127, 0, 0, 1], 0).into()))
        .expect("the simulator starts");
    let store = Arc::new(RwLock::new(Store::default()));
    let stamps = Arc::new(Stamps {
        base: Instant::now(),
        at: Mutex::new(Vec::with_capacity(RATE * 4)),
    });
    let key = ApiKey::parse("bench-key-bench-key-bench-key").expect("a key");
    let (feed, server, hub) = runtime.block_on(async {
        // A client queue as big as a round: a client that reads more slowly than the stream
        // shows as latency here, not as a kick.
        let hub = api::hub_for(store.clone(), RATE * 2);
        let (taps, received) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(stamp_and_publish(received, hub.clone(), stamps.clone()));
        let config = FeedConfig::new(&sim.socket_url(), &sim.rest_url(), Some(sim.authorization()));
        let (feed, _task) = feed::spawn(config, store.clone(), Box::new(|| {}), Some(taps));
        let stream = Stream::new(store.clone(), feed.clone(), hub.clone(), BTreeSet::new());
        let mut config = ApiConfig::new(key);
        config.listen = ([127, 0, 0, 1], 0).into();
        let server = ApiServer::start(config, Attachment::new(Some(stream)))
            .await
            .expect("the API starts");
        (feed, server, hub)
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.read().subscriptions.acknowledged.len() < EventKind::ALL.len() {
        assert!(Instant::now() < deadline, "the feed did not subscribe");
        std::thread::sleep(Duration::from_millis(10));
    }
    Rig {
        sim,
        store,
        feed,
        server: Some(server),
        hub,
        stamps,
    }
}

async fn stamp_and_publish(mut taps: tokio::sync::mpsc::Receiver<Tap>, hub: Hub, stamps: Arc<Stamps>) {
    while let Some(tap) = taps.recv().await {
        if let Tap::Events { events, .. } = &tap {
            let now = stamps.base.elapsed().as_nanos() as u64;
            stamps.at.lock().extend(std::iter::repeat_n(now, events.len()));
        }
        hub.publish(&tap);
    }
}

/// A program reading the stream: when each event arrived, in order.
struct Client {
    arrived: Arc<Mutex<Vec<u64>>>,
}

async fn client(
    url: String,
    base: Instant,
    arrived: Arc<Mutex<Vec<u64>>>,
    total: Arc<AtomicU64>,
    ready: Arc<AtomicU64>,
) {
    // tungstenite zeroes its whole read buffer (128 KiB by default) before every read: a reader
    // that gets a few KiB per read spent more on that than on the messages. 16 KiB is what a
    // program reading this stream would choose.
    let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), false)
        .await
        .expect("the client connects");
    while let Some(Ok(message)) = socket.next().await {
        let Message::Text(text) = message else { continue };
        if text.starts_with(r#"{"type":"status""#) {
            ready.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let now = base.elapsed().as_nanos() as u64;
        arrived.lock().push(now);
        total.fetch_add(1, Ordering::Relaxed);
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at] as f64 / 1e6
}

fn stream(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let clients_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("api");
    group.throughput(Throughput::Elements(RATE as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(12));
    group.warm_up_time(Duration::from_secs(1));
    let mut day = Day::new(DayConfig::default());
    let mut round = 0;
    let clients_wanted = std::env::var("API_BENCH_CLIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CLIENTS);
    for clients in [0, clients_wanted] {
        let rig = rig(&runtime);
        let addr = rig.server.as_ref().map(ApiServer::addr).expect("a server");
        let url = format!(
            "ws://{addr}/api/order-stream/stream?event_types=OnOrders,OnTrades,OnPositions,OnGeneral&api_key=bench-key-bench-key-bench-key"
        );
        let total = Arc::new(AtomicU64::new(0));
        let ready = Arc::new(AtomicU64::new(0));
        let readers: Vec<Client> = (0..clients)
            .map(|_| {
                let arrived = Arc::new(Mutex::new(Vec::with_capacity(RATE * 2)));
                clients_runtime.spawn(client(
                    url.clone(),
                    rig.stamps.base,
                    arrived.clone(),
                    total.clone(),
                    ready.clone(),
                ));
                Client { arrived }
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while ready.load(Ordering::Relaxed) < clients as u64 {
            assert!(Instant::now() < deadline, "the clients did not connect");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Nothing has flowed since the clients joined: stamps and arrivals line up from here.
        rig.stamps.at.lock().clear();
        let mut latencies: Vec<u64> = Vec::new();
        let handle = rig.sim.handle();
        let name = format!("stream_50k_per_s/{clients}_clients");
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iterations {
                    round += 1;
                    let frames = second_of_frames(&mut day, round);
                    let applied = rig.store.read().frames() + frames.len() as u64;
                    let received_before = total.load(Ordering::Relaxed);
                    let started = Instant::now();
                    let mut next = started;
                    for chunk in frames.chunks(PER_TICK) {
                        handle.replay(chunk.to_vec());
                        next += TICK;
                        std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    }
                    // Sleep between looks: a spinning watcher would take one of the two cores.
                    // Every frame applied, then every event the hub published (a frame that
                    // changed nothing publishes none) received by every client, twice in a row.
                    let deadline = Instant::now() + Duration::from_secs(120);
                    let mut applied_in = None;
                    let mut settled = 0;
                    let mut finished = Duration::ZERO;
                    while settled < 2 {
                        let published = rig.stamps.at.lock().len() as u64;
                        let received = total.load(Ordering::Relaxed) - received_before;
                        assert!(
                            Instant::now() < deadline,
                            "the round never finished: {received} of {} received",
                            published * clients as u64
                        );
                        if applied_in.is_none() && rig.store.read().frames() >= applied {
                            applied_in = Some(started.elapsed());
                        }
                        let done = applied_in.is_some()
                            && received == published * clients as u64
                            && readers
                                .iter()
                                .all(|reader| reader.arrived.lock().len() as u64 == published);
                        if done && settled == 0 {
                            finished = started.elapsed();
                        }
                        settled = if done { settled + 1 } else { 0 };
                        std::thread::sleep(Duration::from_millis(if done { 5 } else { 1 }));
                    }
                    elapsed += finished;
                    if std::env::var_os("API_BENCH_VERBOSE").is_some() {
                        eprintln!(
                            "round {round}: applied in {:?}, received by all in {:?}",
                            applied_in.unwrap_or_default(),
                            finished
                        );
                    }
                    let stamps = std::mem::take(&mut *rig.stamps.at.lock());
                    for reader in &readers {
                        let arrived = std::mem::take(&mut *reader.arrived.lock());
                        assert_eq!(
                            arrived.len(),
                            stamps.len(),
                            "a client missed events ({} fell behind)",
                            rig.hub.fell_behind()
                        );
                        latencies.extend(
                            arrived
                                .iter()
                                .zip(&stamps)
                                .map(|(arrived, stamped)| arrived.saturating_sub(*stamped)),
                        );
                    }
                }
                elapsed
            })
        });
        if clients > 0 {
            latencies.sort_unstable();
            eprintln!(
                "api: {clients} clients, {} events received: latency p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms; {} fell behind",
                latencies.len(),
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
                percentile(&latencies, 0.999),
                percentile(&latencies, 1.0),
                rig.hub.fell_behind(),
            );
            assert_eq!(rig.hub.fell_behind(), 0, "no client fell behind");
        }
        let Rig {
            sim, feed, server, ..
        } = rig;
        runtime.block_on(async {
            if let Some(server) = server {
                server.stop().await;
            }
            let _ = feed.command(feed::Command::Shutdown).await;
        });
        drop(sim);
    }
    group.finish();
}

criterion_group!(benches, stream);
criterion_main!(benches);
