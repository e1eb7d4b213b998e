//! The local API: the order stream as a service for the trader's own programs, on
//! `http://127.0.0.1:8001/api/order-stream/*` (REST and a WebSocket), in the window and in
//! `orderwatch serve`. It reads the same store and the same tap as the window, headless and the
//! notifier: one Fyers connection, many readers.
//!
//! - `guard`: Host (DNS rebinding), Origin (CORS) and the API key, before any route;
//! - `rest`: the REST calls; `ws`: the WebSocket; `status`: what status answers say;
//! - `hub`: the fan-out from the feed's tap to each WebSocket client's bounded queue;
//! - `key`: the API key.

mod guard;
pub mod hub;
pub mod key;
mod rest;
pub mod serve;
pub mod status;
mod ws;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

use crate::feed::{FeedHandle, SharedStore, Tap};
use crate::fyers::model::EventKind;

pub use hub::{DEFAULT_CLIENT_QUEUE, Hub, relay};
pub use key::{API_KEY_ENV, ApiKey, KeyError};

/// Where the API listens unless told otherwise.
pub const DEFAULT_PORT: u16 = 8001;

/// The routes' common prefix.
pub const BASE_PATH: &str = "/api/order-stream";

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Listening on a non-loopback address was asked for on purpose (`--allow-remote`).
    pub allow_remote: bool,
    /// Browser origins (`http://localhost:3000`) allowed to call the API.
    pub allowed_origins: Vec<String>,
    pub key: ApiKey,
}

impl ApiConfig {
    pub fn new(key: ApiKey) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            allow_remote: false,
            allowed_origins: Vec::new(),
            key,
        }
    }
}

/// One feed and its store, as the API serves them.
#[derive(Clone)]
pub struct Stream {
    pub store: SharedStore,
    pub feed: FeedHandle,
    pub hub: Hub,
    /// What `POST /subscribe` asked for, kept here so two calls at once cannot lose each other's.
    api_subscriptions: Arc<Mutex<BTreeSet<EventKind>>>,
}

impl Stream {
    /// `api_subscriptions`: what the feed was started with for the API.
    pub fn new(
        store: SharedStore,
        feed: FeedHandle,
        hub: Hub,
        api_subscriptions: BTreeSet<EventKind>,
    ) -> Self {
        Self {
            store,
            feed,
            hub,
            api_subscriptions: Arc::new(Mutex::new(api_subscriptions)),
        }
    }
}

/// A hub for a store, with the API's status messages.
pub fn hub_for(store: SharedStore, client_queue: usize) -> Hub {
    Hub::new(store, client_queue, status::status)
}

/// The tap a feed should get so the hub sees everything it applies; `next` (the notifier) gets it
/// after. Spawns the relay on the current runtime.
pub fn tap_through(hub: Hub, next: Option<mpsc::Sender<Tap>>) -> mpsc::Sender<Tap> {
    let (taps, received) = mpsc::channel(1024);
    tokio::spawn(relay(received, hub, next));
    taps
}

/// The stream the server serves, swapped as the window logs in and out (`None`: no account).
#[derive(Clone, Default)]
pub struct Attachment(Arc<RwLock<Option<Stream>>>);

impl Attachment {
    pub fn new(stream: Option<Stream>) -> Self {
        Self(Arc::new(RwLock::new(stream)))
    }

    /// Serves `stream` from now on; the old stream's clients are closed.
    pub fn set(&self, stream: Option<Stream>) {
        let same = |old: &Stream| stream.as_ref().is_some_and(|new| new.hub.same(&old.hub));
        let old = std::mem::replace(&mut *self.0.write(), stream.clone());
        if let Some(old) = old.filter(|old| !same(old)) {
            old.hub.close_all("the account changed");
        }
    }

    pub fn get(&self) -> Option<Stream> {
        self.0.read().clone()
    }

    /// WebSocket clients connected now.
    pub fn clients(&self) -> usize {
        self.0.read().as_ref().map_or(0, |stream| stream.hub.clients())
    }
}

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    attachment: Attachment,
    guard: Arc<guard::Guard>,
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "{0} is not a loopback address: the API would be open to the network. Give --allow-remote to mean it, or listen on 127.0.0.1"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: SocketAddr, error: std::io::Error },
    #[error("{0}")]
    Origin(String),
}

/// A running server; dropping it stops it and closes its clients.
pub struct ApiServer {
    addr: SocketAddr,
    attachment: Attachment,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ApiServer {
    /// Binds and serves on the current runtime.
    pub async fn start(config: ApiConfig, attachment: Attachment) -> Result<Self, StartError> {
        if !config.listen.ip().is_loopback() {
            if !config.allow_remote {
                return Err(StartError::NotLoopback(config.listen));
            }
            tracing::warn!(listen = %config.listen, "the local API is open to the network (--allow-remote)");
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|error| StartError::Bind {
                addr: config.listen,
                error,
            })?;
        let addr = listener.local_addr().map_err(|error| StartError::Bind {
            addr: config.listen,
            error,
        })?;
        let guard = guard::Guard::new(&config).map_err(StartError::Origin)?;
        let state = AppState {
            attachment: attachment.clone(),
            guard: Arc::new(guard),
        };
        let router = router(state);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(err) = served {
                tracing::warn!(%err, "the local API stopped");
            }
        });
        tracing::info!(%addr, "the local API is listening");
        Ok(Self {
            addr,
            attachment,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn clients(&self) -> usize {
        self.attachment.clients()
    }

    /// Stops listening, closes the clients and waits (briefly) for the server to end.
    pub async fn stop(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
        }
    }

    fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            if let Some(stream) = self.attachment.get() {
                stream.hub.close_all("the server is stopping");
            }
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

fn router(state: AppState) -> Router {
    use axum::routing::{get, post};
    let routes = Router::new()
        .route("/connect", post(rest::connect))
        .route("/disconnect", post(rest::disconnect))
        .route("/subscribe", post(rest::subscribe))
        .route("/unsubscribe", post(rest::unsubscribe))
        .route("/status", get(rest::status))
        .route("/orders", get(rest::orders))
        .route("/trades", get(rest::trades))
        .route("/positions", get(rest::positions))
        .route("/general", get(rest::general))
        .route("/stream", get(ws::stream));
    let guarded = Router::new()
        .nest(BASE_PATH, routes)
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such call: see the README's API reference",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::authorise,
        ));
    let guarded = match state.guard.cors() {
        Some(cors) => guarded.layer(cors),
        None => guarded,
    };
    guarded
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::host_and_origin,
        ))
        .with_state(state)
}

/// `{"status":"error","message":"..."}` with its HTTP code.
#[derive(Debug)]
pub(crate) struct ApiError {
    code: StatusCode,
    message: String,
}

impl ApiError {
    fn new(code: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"status": "error", "message": self.message});
        (self.code, axum::Json(body)).into_response()
    }
}
