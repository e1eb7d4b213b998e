//! A small Fyers exchange on loopback: the order socket and REST API of PROTOCOL.md, a seeded
//! trading day, and faults on request. Tests, the demo and the benchmarks all talk to it.

pub mod book;
pub mod day;
mod exchange;
mod generator;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use parking_lot::Mutex;
use tokio::sync::{broadcast, watch};

pub use book::Book;
pub use day::{Day, DayConfig};
pub use exchange::{Fault, SimConfig, SimStats};

use crate::fyers::auth::Authorization;
use exchange::{Exchange, RateLimit, Shared};

/// A running simulator. Dropping it stops the server and the day.
pub struct Sim {
    handle: SimHandle,
    addr: SocketAddr,
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
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            exchange: Mutex::new(Exchange::new(Day::new(config.day.clone()))),
            log_end: watch::Sender::new(0),
            control: broadcast::Sender::new(16),
            token_valid: AtomicBool::new(true),
            rest_down: AtomicBool::new(false),
            generating: watch::Sender::new(!config.start_paused),
            finished: watch::Sender::new(false),
            readers: Mutex::new(Default::default()),
            next_reader: AtomicU64::new(0),
            rate: Mutex::new(RateLimit::new()),
            stats: SimStats::default(),
            authorization: format!("{}:{}", config.app_id, config.access_token),
            client_id: config.day.client_id.clone(),
        });
        let tasks = vec![
            tokio::spawn(server::serve(listener, shared.clone())),
            tokio::spawn(generator::generate(shared.clone(), config)),
        ];
        Ok(Self {
            handle: SimHandle { shared },
            addr,
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

    /// The `APP_ID:TOKEN` the simulator accepts.
    pub fn authorization(&self) -> Authorization {
        // The simulator's own credentials always have the right shape.
        Authorization::parse(&self.handle.shared.authorization).unwrap_or_else(|_| unreachable!())
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

    /// The token is accepted again (after `Fault::ExpireToken` or a logout).
    pub fn renew_token(&self) {
        self.shared
            .token_valid
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The day's truth so far.
    pub fn book(&self) -> Book {
        self.shared.book()
    }

    pub fn steps(&self) -> u64 {
        self.shared.exchange.lock().day.steps()
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
