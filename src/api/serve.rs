//! `orderwatch serve`: the stream behind the local API, with no window. The feed, the store, the
//! journal and the API are the window's; the Fyers subscription is what the programs ask for
//! (`--events` to start with, then `POST /subscribe` and `/unsubscribe`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

use super::{ApiConfig, ApiServer, Attachment, StartError, Stream, hub_for, tap_through};
use crate::feed::{self, Command, FeedConfig};
use crate::fyers::model::EventKind;
use crate::store::Store;

pub struct ServeOptions {
    pub api: ApiConfig,
    /// The Fyers subscription to start with, as if a program had asked for it.
    pub events: BTreeSet<EventKind>,
    /// Events a client's queue holds before it counts as fallen behind.
    pub client_queue: usize,
    /// Connect at once (`orderwatch serve`), or wait for `POST /connect`.
    pub connect: bool,
}

impl ServeOptions {
    pub fn new(api: ApiConfig) -> Self {
        Self {
            api,
            events: EventKind::ALL.into(),
            client_queue: super::DEFAULT_CLIENT_QUEUE,
            connect: true,
        }
    }
}

/// A feed and the API serving it.
pub struct Serving {
    pub server: ApiServer,
    pub stream: Stream,
    task: tokio::task::JoinHandle<()>,
    journal: Option<crate::journal::Journal>,
}

/// Starts the feed and the API on the current runtime.
pub async fn start(mut config: FeedConfig, options: ServeOptions) -> Result<Serving, StartError> {
    config.subscriptions = BTreeSet::new();
    config.api_subscriptions = options.events.clone();
    config.autostart = options.connect;
    // A server keeps serving: a failed feed (a bug, caught) is started again.
    config.restart_on_failure = true;
    let journal = config.journal.clone();
    let store = Arc::new(RwLock::new(Store::default()));
    let hub = hub_for(store.clone(), options.client_queue);
    let tap = tap_through(hub.clone(), None);
    let (feed, task) = feed::spawn(config, store.clone(), Box::new(|| {}), Some(tap));
    let stream = Stream::new(store, feed.clone(), hub, options.events);
    match ApiServer::start(options.api, Attachment::new(Some(stream.clone()))).await {
        Ok(server) => Ok(Serving {
            server,
            stream,
            task,
            journal,
        }),
        Err(err) => {
            let _ = feed.command(Command::Shutdown).await;
            Err(err)
        }
    }
}

impl Serving {
    /// Stops the API, then the feed, and leaves the journal written.
    pub async fn stop(self) {
        self.server.stop().await;
        let _ = self.stream.feed.command(Command::Shutdown).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.task).await;
        if let Some(journal) = self.journal {
            let flushed = tokio::task::spawn_blocking(move || journal.flush(Duration::from_secs(5))).await;
            if !matches!(flushed, Ok(Ok(()))) {
                tracing::warn!("the journal did not finish writing before exit");
            }
        }
    }
}

/// Serves until Ctrl-C or SIGTERM. `started` is told the address once it listens.
pub async fn run(
    config: FeedConfig,
    options: ServeOptions,
    started: impl FnOnce(std::net::SocketAddr),
) -> Result<(), StartError> {
    let serving = start(config, options).await?;
    started(serving.server.addr());
    stopped().await;
    serving.stop().await;
    Ok(())
}

/// Ctrl-C, or (Unix) SIGTERM from a service manager.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
