//! The window's local API: the server `orderwatch serve` runs, started and stopped from Settings,
//! always on 127.0.0.1, serving whichever monitor is showing (none on the first-run screen). Its key
//! comes from `ORDERWATCH_API_KEY`, else the keychain (made there on first use); without a keychain
//! it lives only as long as the window. Keychain calls and binding run on the runtime, never in a
//! frame.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use poll_promise::Promise;

use super::DesktopApp;
use crate::api::{self, ApiConfig, ApiKey, ApiServer, Attachment, Stream};
use crate::feed::{FeedHandle, SharedStore, Tap};
use crate::secrets::Vault;
use crate::ui::settings::{ApiView, ApiWork};

/// Where the key in use came from, as Settings says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    Keychain,
    Environment,
    /// No keychain: a new key each time the window starts.
    Window,
}

impl KeySource {
    fn describe(self) -> &'static str {
        match self {
            Self::Keychain => "Kept in the keychain.",
            Self::Environment => "Given by ORDERWATCH_API_KEY; change it there.",
            Self::Window => "No keychain: this key lasts until Orderwatch quits.",
        }
    }
}

/// What a start or a regeneration came back with.
struct Started {
    server: Option<ApiServer>,
    key: ApiKey,
    source: KeySource,
}

enum ServerState {
    Off,
    /// Stopping the old server (if any), getting the key, binding.
    Working(Promise<Result<Started, String>>),
    Running(ApiServer),
}

pub(super) struct LocalApi {
    /// The stream the server serves; the monitor sets it, the first-run screen clears it.
    pub(super) attachment: Attachment,
    state: ServerState,
    key: Option<(ApiKey, KeySource)>,
    problem: Option<String>,
    /// The origins as the user types them.
    origins_text: String,
    /// The last server being stopped; a new one waits for it to let go of the port.
    stopping: Option<tokio::task::JoinHandle<()>>,
}

impl LocalApi {
    pub(super) fn new(origins: &[String]) -> Self {
        Self {
            attachment: Attachment::default(),
            state: ServerState::Off,
            key: None,
            problem: None,
            origins_text: origins.join(" "),
            stopping: None,
        }
    }

    /// The address it listens on, while it does (tests, Settings).
    pub fn addr(&self) -> Option<SocketAddr> {
        match &self.state {
            ServerState::Running(server) => Some(server.addr()),
            _ => None,
        }
    }

    /// What Settings shows of the API.
    pub(super) fn view(&mut self) -> ApiView<'_> {
        let (listening, working) = match &self.state {
            ServerState::Running(server) => (Some(server.addr()), false),
            ServerState::Working(_) => (None, true),
            ServerState::Off => (None, false),
        };
        ApiView {
            listening,
            working,
            clients: self.attachment.clients(),
            key: self.key.as_ref().map(|(key, _)| key.expose()),
            key_note: self.key.as_ref().map(|(_, source)| source.describe()),
            key_fixed: self
                .key
                .as_ref()
                .is_some_and(|(_, source)| *source == KeySource::Environment),
            problem: self.problem.as_deref(),
            origins_text: &mut self.origins_text,
        }
    }
}

/// A monitor's stream, as the API serves it: the hub sees every batch the feed applies and passes
/// it on to `next` (the notifier).
pub(super) fn tap_for(
    store: &SharedStore,
    next: Option<tokio::sync::mpsc::Sender<Tap>>,
) -> (api::Hub, tokio::sync::mpsc::Sender<Tap>) {
    let hub = api::hub_for(store.clone(), api::DEFAULT_CLIENT_QUEUE);
    let tap = api::tap_through(hub.clone(), next);
    (hub, tap)
}

pub(super) fn stream(store: SharedStore, feed: FeedHandle, hub: api::Hub) -> Stream {
    // The window's own subscription is the feed's `subscriptions`; programs add theirs.
    Stream::new(store, feed, hub, BTreeSet::new())
}

impl DesktopApp {
    /// Starts the server when Settings says so and it is not running (at start, or on the toggle).
    pub(super) fn api_follow_settings(&mut self) {
        let wanted = self.settings.api.enabled;
        match (&self.api.state, wanted) {
            (ServerState::Off, true) => self.api_start_with(true, false),
            (ServerState::Running(_), false) => self.api_stop(),
            _ => {}
        }
    }

    /// Picks up a finished start or regeneration.
    pub(super) fn api_poll(&mut self) {
        let ServerState::Working(promise) = &self.api.state else {
            return;
        };
        if promise.ready().is_none() {
            return;
        }
        let ServerState::Working(promise) = std::mem::replace(&mut self.api.state, ServerState::Off) else {
            return;
        };
        match promise.block_and_take() {
            Ok(started) => {
                self.api.problem = None;
                self.api.key = Some((started.key, started.source));
                if let Some(server) = started.server {
                    self.api.state = ServerState::Running(server);
                }
            }
            Err(problem) => {
                tracing::warn!(%problem, "the local API did not start");
                self.api.problem = Some(problem);
                // Off until the user tries again, or it would retry every frame.
                self.settings.api.enabled = false;
                self.save_settings();
            }
        }
        // Turned off while it was starting.
        self.api_follow_settings();
    }

    /// Stops the old server if any, then (with `serve`) binds a new one; `fresh` makes a new key.
    fn api_start_with(&mut self, serve: bool, fresh: bool) {
        if matches!(self.api.state, ServerState::Working(_)) {
            // One at a time: `api_poll` follows the settings again when this one is done.
            return;
        }
        let old = match std::mem::replace(&mut self.api.state, ServerState::Off) {
            ServerState::Running(server) => Some(server),
            _ => None,
        };
        let listen = SocketAddr::from(([127, 0, 0, 1], self.settings.api.port));
        let allowed_origins = self.settings.api.allowed_origins.clone();
        let vault = self.services.vault.clone().ok();
        let kept = self.api.key.clone().filter(|_| !fresh);
        let attachment = self.api.attachment.clone();
        let stopping = self.api.stopping.take();
        let promise = self.spawn(async move {
            if let Some(old) = old {
                old.stop().await;
            }
            if let Some(stopping) = stopping {
                let _ = stopping.await;
            }
            let (key, source) = match kept {
                Some(kept) => kept,
                None => api_key(vault, fresh).await?,
            };
            let server = if serve {
                let config = ApiConfig {
                    listen,
                    allow_remote: false,
                    allowed_origins,
                    key: key.clone(),
                };
                Some(
                    ApiServer::start(config, attachment)
                        .await
                        .map_err(|err| err.to_string())?,
                )
            } else {
                None
            };
            Ok(Started { server, key, source })
        });
        self.api.state = ServerState::Working(promise);
    }

    fn api_stop(&mut self) {
        if let ServerState::Running(server) = std::mem::replace(&mut self.api.state, ServerState::Off) {
            let _runtime = self.services.runtime.enter();
            self.api.stopping = Some(tokio::spawn(server.stop()));
        }
    }

    /// On quit: the server stops and its clients are told so before the runtime goes.
    pub(super) fn api_shutdown(&mut self) {
        let server = match std::mem::replace(&mut self.api.state, ServerState::Off) {
            ServerState::Running(server) => Some(server),
            _ => None,
        };
        let stopping = self.api.stopping.take();
        self.services.runtime.block_on(async move {
            if let Some(server) = server {
                server.stop().await;
            }
            if let Some(stopping) = stopping {
                let _ = stopping.await;
            }
        });
    }

    /// A new key: programs using the old one are refused from now on (a running server restarts
    /// with the new key, which also closes their streams).
    fn api_regenerate(&mut self) {
        let serve = matches!(self.api.state, ServerState::Running(_));
        self.api_start_with(serve, true);
    }

    /// Carries out what Settings asked of the API this frame.
    pub(super) fn api_work(&mut self, work: ApiWork) {
        if work.origins {
            self.settings.api.allowed_origins = self
                .api
                .origins_text
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if work.regenerate {
            self.api_regenerate();
        }
        if work.toggled {
            self.api.problem = None;
        }
        self.api_follow_settings();
    }
}

/// The key to serve with: the environment's, else the keychain's (made on first use, or made anew
/// with `fresh`), else one for this window only.
async fn api_key(vault: Option<Vault>, fresh: bool) -> Result<(ApiKey, KeySource), String> {
    if let Some(given) = ApiKey::from_env() {
        let key = given.map_err(|err| format!("{}: {err}", api::API_KEY_ENV))?;
        return Ok((key, KeySource::Environment));
    }
    // No keychain, or one that forgets at exit: say so, rather than "kept in the keychain".
    let Some(vault) = vault else {
        return Ok((ApiKey::generate(), KeySource::Window));
    };
    let source = match vault.kind() {
        crate::secrets::VaultKind::Keychain => KeySource::Keychain,
        _ => KeySource::Window,
    };
    // The OS keychain may block: not on the runtime's threads.
    let found = tokio::task::spawn_blocking(move || ApiKey::from_vault_or_new(&vault, fresh)).await;
    match found {
        Ok(Ok(key)) => Ok((key, source)),
        Ok(Err(err)) => Err(format!("The API key could not be kept in the keychain: {err}")),
        Err(_) => Err("The keychain call did not finish.".to_owned()),
    }
}
