//! The tray icon: the stream's state at a glance (a badge drawn on the app icon, a tooltip) and a
//! menu to show the window, start or stop the stream, mute notifications and quit.
//!
//! On Linux and the BSDs the icon is a StatusNotifierItem served over D-Bus by tray-icon's `ksni`
//! backend: no GTK and no event loop, but each change is a blocking round trip to its D-Bus
//! thread, so [`Tray`] keeps the icon on a thread of its own and the UI only hands it the latest
//! state. Windows and macOS want the icon on the thread that runs the event loop, so there the
//! same code runs on the caller's (main) thread.

mod badge;
mod events;
mod native;
#[cfg(test)]
mod tests;

use crate::feed::Command;
use crate::format::{group_indian, rupees};
use crate::store::{ConnectionState, Store};

/// The stream as the tray shows it: each has its own badge shape and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TrayStatus {
    /// Connected and receiving.
    Streaming,
    /// Connecting, or reconnecting after a drop.
    Reconnecting,
    /// Not streaming, by choice.
    #[default]
    Stopped,
    /// The server refused the token, or its time is up: a new login is needed.
    SessionExpired,
}

impl TrayStatus {
    pub const ALL: [Self; 4] = [
        Self::Streaming,
        Self::Reconnecting,
        Self::Stopped,
        Self::SessionExpired,
    ];

    /// The word the tooltip uses.
    pub fn label(self) -> &'static str {
        match self {
            Self::Streaming => "streaming",
            Self::Reconnecting => "reconnecting",
            Self::Stopped => "stopped",
            Self::SessionExpired => "session expired",
        }
    }

    /// Whether a stream is running or trying to, i.e. whether "Stop stream" has anything to stop.
    pub fn stream_running(self) -> bool {
        matches!(self, Self::Streaming | Self::Reconnecting)
    }
}

/// Everything the tray shows. Build it each frame with [`TrayState::from_store`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrayState {
    pub status: TrayStatus,
    pub open_orders: u64,
    pub total_pnl: f64,
    pub window_visible: bool,
    pub muted: bool,
}

impl TrayState {
    pub fn from_store(store: &Store, window_visible: bool, muted: bool) -> Self {
        // An expired session outranks the socket's state: the socket may not have noticed yet.
        let status = if store.session.expired {
            TrayStatus::SessionExpired
        } else {
            match store.connection {
                ConnectionState::Connected { .. } => TrayStatus::Streaming,
                ConnectionState::Connecting
                | ConnectionState::Reconnecting { .. }
                | ConnectionState::Failed {
                    restart_at: Some(_), ..
                } => TrayStatus::Reconnecting,
                ConnectionState::Disconnected | ConnectionState::Failed { restart_at: None, .. } => {
                    TrayStatus::Stopped
                }
                ConnectionState::AuthRejected { .. } => TrayStatus::SessionExpired,
            }
        };
        let aggregates = store.aggregates();
        Self {
            status,
            open_orders: aggregates.orders.open,
            total_pnl: aggregates.total_pnl,
            window_visible,
            muted,
        }
    }

    /// "streaming · 12 open orders · P&L ₹1,235.00". P&L is rounded to the rupee so the text (and
    /// the D-Bus traffic it causes) does not change with every tick.
    pub fn summary(&self) -> String {
        let orders = match self.open_orders {
            1 => "1 open order".to_owned(),
            count => format!("{} open orders", group_indian(count)),
        };
        format!(
            "{} · {orders} · P&L {}",
            self.status.label(),
            rupees(self.total_pnl.round())
        )
    }

    /// The whole tooltip: "Orderwatch — streaming · 12 open orders · P&L ₹1,235.00".
    pub fn tooltip(&self) -> String {
        format!("{APP_NAME} — {}", self.summary())
    }

    /// The window item's label: what clicking it would do.
    pub fn window_label(&self) -> &'static str {
        TrayAction::window(self.window_visible).label()
    }

    /// The stream item's label: what clicking it would do.
    pub fn stream_label(&self) -> &'static str {
        TrayAction::stream(self.status).label()
    }

    /// The menu as it reads top to bottom (separators left out).
    pub fn menu_labels(&self) -> [&'static str; 4] {
        [
            self.window_label(),
            self.stream_label(),
            TrayAction::ToggleMute.label(),
            TrayAction::Quit.label(),
        ]
    }

    /// What the tray would show differently; compared each frame, so no allocation.
    fn shown(&self) -> Shown {
        Shown {
            status: self.status,
            open_orders: self.open_orders,
            pnl_rupees: self.total_pnl.is_finite().then(|| self.total_pnl.round() as i64),
            window_visible: self.window_visible,
            muted: self.muted,
        }
    }
}

const APP_NAME: &str = "Orderwatch";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shown {
    status: TrayStatus,
    open_orders: u64,
    pnl_rupees: Option<i64>,
    window_visible: bool,
    muted: bool,
}

/// What the user asked for from the tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrayAction {
    ShowWindow,
    HideWindow,
    StartStream,
    StopStream,
    ToggleMute,
    Quit,
}

impl TrayAction {
    pub const ALL: [Self; 6] = [
        Self::ShowWindow,
        Self::HideWindow,
        Self::StartStream,
        Self::StopStream,
        Self::ToggleMute,
        Self::Quit,
    ];

    /// The feed command this action means, if it is one the feed handles.
    pub fn command(self) -> Option<Command> {
        match self {
            Self::StartStream => Some(Command::Connect),
            Self::StopStream => Some(Command::Disconnect),
            Self::ShowWindow | Self::HideWindow | Self::ToggleMute | Self::Quit => None,
        }
    }

    /// The menu label of the item that asks for this action.
    pub fn label(self) -> &'static str {
        match self {
            Self::ShowWindow => "Show window",
            Self::HideWindow => "Hide window",
            Self::StartStream => "Start stream",
            Self::StopStream => "Stop stream",
            Self::ToggleMute => "Mute notifications",
            Self::Quit => "Quit",
        }
    }

    /// The window item on offer.
    fn window(window_visible: bool) -> Self {
        if window_visible {
            Self::HideWindow
        } else {
            Self::ShowWindow
        }
    }

    /// The stream item on offer. An expired session offers "Start stream" too: after a new login
    /// it is what the user wants, and before one the feed reports the refusal again.
    fn stream(status: TrayStatus) -> Self {
        if status.stream_running() {
            Self::StopStream
        } else {
            Self::StartStream
        }
    }
}

/// The tray icon and its menu. Create it on the UI thread (on macOS, once the event loop runs:
/// inside eframe's app creator), then call [`Tray::update`] and [`Tray::actions`] once a frame.
pub struct Tray {
    number: u64,
    driver: native::Driver,
    /// What was last handed to the icon; `None` makes the next `update` send whatever it gets.
    shown: Option<Shown>,
    /// The mute item was clicked: its check mark flipped itself, so the next update re-asserts
    /// `muted` even if the app did not change it.
    recheck_mute: bool,
}

impl Tray {
    /// Puts the icon in the tray. Fails with a plain message when there is no tray to put it in
    /// (on Linux: no D-Bus session bus).
    ///
    /// On Linux a missing tray *host* (no `org.kde.StatusNotifierWatcher` yet, e.g. the panel
    /// starts after us at login) is not an error: the item stays on the bus and registers when a
    /// watcher appears, as tray-icon's backend is built to do.
    pub fn new(state: &TrayState) -> Result<Self, String> {
        let number = events::register();
        match native::Driver::start(number, state) {
            Ok(driver) => Ok(Self {
                number,
                driver,
                shown: Some(state.shown()),
                recheck_mute: false,
            }),
            Err(message) => {
                events::unregister(number);
                Err(message)
            }
        }
    }

    /// Shows `state`. Cheap when nothing visible changed; otherwise it never blocks on the desktop
    /// (on Linux the icon's thread applies it).
    pub fn update(&mut self, state: &TrayState) {
        let shown = state.shown();
        if self.shown == Some(shown) && !self.recheck_mute {
            return;
        }
        self.shown = Some(shown);
        self.driver.show(state, std::mem::take(&mut self.recheck_mute));
    }

    /// Menu clicks (and, outside macOS, a left click on the icon as "Show window") since the last
    /// call, oldest first. Never blocks.
    pub fn actions(&mut self) -> Vec<TrayAction> {
        let actions = events::take(self.number);
        if actions.contains(&TrayAction::ToggleMute) {
            self.recheck_mute = true;
        }
        actions
    }

    /// `wake` is called whenever a click is waiting for [`Tray::actions`], so a hidden, idle
    /// window can answer at once: pass `move || ctx.request_repaint()`. It runs on the tray
    /// library's thread (on Linux, inside its D-Bus handler), so it must be quick and not block.
    pub fn set_waker(&mut self, wake: impl Fn() + Send + Sync + 'static) {
        events::set_waker(self.number, std::sync::Arc::new(wake));
    }
}

impl Drop for Tray {
    fn drop(&mut self) {
        events::unregister(self.number);
    }
}

/// Is a tray host (a panel that shows StatusNotifierItems) on the session bus? The icon waits for
/// one to appear, but a window hidden without one could not be brought back, so the window is
/// minimised instead. Blocks for one D-Bus round trip.
#[cfg(target_os = "linux")]
pub fn host_available() -> bool {
    let Ok(connection) = zbus::blocking::Connection::session() else {
        return false;
    };
    zbus::blocking::Proxy::new(
        &connection,
        "org.kde.StatusNotifierWatcher",
        "/StatusNotifierWatcher",
        "org.kde.StatusNotifierWatcher",
    )
    .and_then(|watcher| watcher.get_property::<bool>("IsStatusNotifierHostRegistered"))
    .unwrap_or(false)
}

/// Windows and macOS always have a place for the icon.
#[cfg(not(target_os = "linux"))]
pub fn host_available() -> bool {
    true
}
