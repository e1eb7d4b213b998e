//! A small Fyers exchange on loopback: the order socket and REST API of PROTOCOL.md, a seeded
//! trading day, and faults on request. Tests, the demo and the benchmarks all talk to it.

pub mod book;
pub mod day;
mod exchange;
mod generator;
mod login;
mod market;
pub mod replay;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{broadcast, watch};

pub use book::Book;
pub use day::{Day, DayConfig};
pub use exchange::{Fault, SimConfig, SimStats};

use crate::fyers::auth::Authorization;
use exchange::{RateLimit, Shared, Venue};
use login::{LoginConfig, Registry};

/// A running simulator. Dropping it stops the server and the day.
pub struct Sim {
    handle: SimHandle,
    addr: SocketAddr,
    /// The access token issued at start.
    authorization: Authorization,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Controls a running simulator: faults, the day's truth, counters.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl Sim {
    /// Binds `addr` (port 0 picks a free one) and starts serving on the current tokio runtime.
    pub async fn start(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        // Every `APP_ID:TOKEN` the simulator hands out must be a valid header.
        let app_id = &config.app_id;
        if app_id.is_empty() || !app_id.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            let problem = format!("the simulator's app id {app_id:?} cannot go in an authorization header");
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, problem));
        }
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            exchange: Mutex::new(Venue::new(Day::new(config.day.clone()))),
            log_end: watch::Sender::new(0),
            control: broadcast::Sender::new(16),
            rest_down: AtomicBool::new(false),
            generating: watch::Sender::new(!config.start_paused),
            finished: watch::Sender::new(false),
            readers: Mutex::new(Default::default()),
            next_reader: AtomicU64::new(0),
            rate: Mutex::new(RateLimit::new()),
            stats: SimStats::default(),
            login: Registry::new(LoginConfig {
                app_id: config.app_id.clone(),
                secret_key: config.secret_key.clone(),
                pin: config.pin.clone(),
                client_id: config.day.client_id.clone(),
                token_lifetime: config.token_lifetime,
            }),
            client_id: config.day.client_id.clone(),
            market_garbage: std::sync::atomic::AtomicUsize::new(0),
        });
        let handle = SimHandle { shared };
        let authorization = handle.issue_token(config.token_lifetime);
        let tasks = vec![
            tokio::spawn(server::serve(listener, handle.shared.clone())),
            tokio::spawn(generator::generate(handle.shared.clone(), config)),
        ];
        Ok(Self {
            handle,
            addr,
            authorization,
            tasks,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn socket_url(&self) -> String {
        format!("ws://{}/trade/v3", self.addr)
    }

    pub fn rest_url(&self) -> String {
        format!("http://{}/api/v3", self.addr)
    }

    /// The market-data socket (`wss://socket.fyers.in/hsm/v1-5/prod` for real).
    pub fn market_url(&self) -> String {
        format!("ws://{}/hsm/v1-5/prod", self.addr)
    }

    /// The data API's base (`https://api-t1.fyers.in/data` for real): `/symbol-token` below it.
    pub fn data_url(&self) -> String {
        format!("http://{}/data", self.addr)
    }

    /// The `APP_ID:TOKEN` issued at start, living `SimConfig::token_lifetime`.
    pub fn authorization(&self) -> Authorization {
        self.authorization.clone()
    }

    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let _ = self.handle.shared.control.send(exchange::Control::Drop);
    }
}

impl SimHandle {
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Sends prepared raw frames to every connection, in order, as fast as they read.
    pub fn replay(&self, frames: Vec<String>) {
        let end = {
            let mut exchange = self.shared.exchange.lock();
            exchange.replay(frames);
            exchange.log_end()
        };
        self.shared.log_end.send_replace(end);
    }

    /// Starts (or continues) generating the day.
    pub fn resume(&self) {
        self.shared.generating.send_replace(true);
    }

    pub fn pause(&self) {
        self.shared.generating.send_replace(false);
    }

    /// Tokens are accepted again after `Fault::ExpireToken`. Tokens that expired or were logged
    /// out stay dead, as real ones do: log in again or `issue_token`.
    pub fn renew_token(&self) {
        self.shared.login.revive_all();
    }

    pub fn app_id(&self) -> &str {
        &self.shared.login.config().app_id
    }

    pub fn secret_key(&self) -> &str {
        &self.shared.login.config().secret_key
    }

    pub fn pin(&self) -> &str {
        &self.shared.login.config().pin
    }

    /// How long the access tokens of a login or refresh live.
    pub fn token_lifetime(&self) -> Duration {
        self.shared.login.config().token_lifetime
    }

    /// A new access token living `lifetime` (whole seconds), as if the user had logged in.
    pub fn issue_token(&self, lifetime: Duration) -> Authorization {
        let token = self.shared.login.issue_access(lifetime);
        // `Sim::start` checked the app id, and tokens are base64url and dots.
        Authorization::new(self.app_id(), &token).unwrap_or_else(|_| unreachable!("a valid header"))
    }

    /// Every access token issued so far expires now: sockets close, upgrades get 403, REST -8.
    /// Refresh tokens keep working, so a client can get a new access token.
    pub fn expire_tokens_now(&self) {
        self.shared.login.expire_all_now();
        let _ = self.shared.control.send(exchange::Control::Recheck);
    }

    /// The day's truth so far.
    pub fn book(&self) -> Book {
        self.shared.book()
    }

    pub fn steps(&self) -> u64 {
        self.shared.exchange.lock().day.steps()
    }

    /// A symbol's last traded price in the day's truth (what the market-data socket streams).
    pub fn ltp(&self, symbol: &str) -> Option<f64> {
        let index = book::instrument_index(symbol)?;
        self.shared.exchange.lock().day.ltp(index)
    }

    /// Topics the newest market-data connection follows, and market-data connections open.
    pub fn market_topics(&self) -> (u64, u64) {
        let stats = &self.shared.stats;
        (
            stats.market_topics.load(std::sync::atomic::Ordering::SeqCst),
            stats
                .market_connections_open
                .load(std::sync::atomic::Ordering::SeqCst),
        )
    }

    pub fn market_upgrades(&self) -> u64 {
        self.shared
            .stats
            .market_upgrades
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Plays `steps` steps of the day at once, on the virtual clock, as if time had passed.
    pub fn advance(&self, steps: u64) {
        let end = {
            let mut exchange = self.shared.exchange.lock();
            for _ in 0..steps {
                let events = exchange.day.step(None);
                exchange.publish(&events);
            }
            exchange.log_end()
        };
        self.shared.log_end.send_replace(end);
    }

    /// Publishes `frames` on the socket and applies `truth` to the books REST serves, at once.
    pub(crate) fn publish_with_truth(
        &self,
        frames: &[crate::fyers::model::Event],
        truth: &[crate::fyers::model::Event],
    ) {
        let end = {
            let mut exchange = self.shared.exchange.lock();
            for event in truth {
                exchange.day.book_mut().apply(event);
            }
            exchange.publish(frames);
            exchange.log_end()
        };
        self.shared.log_end.send_replace(end);
    }

    /// How far the slowest connection is behind the newest frame (`None`: no connection).
    pub(crate) fn slowest_lag(&self) -> Option<u64> {
        let slowest = self.shared.slowest_reader()?;
        Some(self.shared.log_end.borrow().saturating_sub(slowest))
    }

    /// Marks the day over (a replay has played everything).
    pub(crate) fn finish(&self) {
        self.shared.generating.send_replace(false);
        self.shared.finished.send_replace(true);
    }

    /// The next trading day: the books start empty and the day is generated afresh from
    /// `config` (its own orders and positions); the socket's connections go on.
    pub fn new_day(&self, config: DayConfig) {
        self.shared.exchange.lock().day = Day::new(config);
    }

    /// Frames published so far.
    pub fn frames(&self) -> u64 {
        *self.shared.log_end.borrow()
    }

    pub fn stats(&self) -> &SimStats {
        &self.shared.stats
    }

    /// Waits until a day with a step limit has ended.
    pub async fn finished(&self) {
        let mut finished = self.shared.finished.subscribe();
        let _ = finished.wait_for(|finished| *finished).await;
    }
}
