//! The icon itself, on tray-icon and muda: built from a `TrayState`, changed only where the state
//! changed, and on the StatusNotifierItem backend kept on a thread of its own.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};
use tray_icon::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use super::badge::{self, Rgba};
use super::{APP_NAME, TrayAction, TrayState, TrayStatus, events};

/// Where tray-icon (with the `ksni` feature) serves a StatusNotifierItem over D-Bus.
const STATUS_NOTIFIER: bool = cfg!(any(
    target_os = "linux",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd"
));

const APP_ICON_PNG: &[u8] = include_bytes!("../../../assets/icons/orderwatch-64.png");

/// Connecting to the session bus and registering with the watcher take milliseconds; a bus that
/// takes longer is not answering, and the app should go on without a tray.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Taking the icon down is a D-Bus round trip; a stuck bus must not hang the app's exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the icon lives.
pub(super) enum Driver {
    /// On the caller's thread: Windows and macOS want it on the event loop's thread.
    Here(Box<Native>),
    /// On a thread of its own: on the StatusNotifierItem backend every change blocks on D-Bus.
    Thread(Worker),
}

impl Driver {
    pub(super) fn start(tray: u64, state: &TrayState) -> Result<Self, String> {
        if STATUS_NOTIFIER {
            Worker::start(tray, state).map(Self::Thread)
        } else {
            Native::new(tray, state).map(|native| Self::Here(Box::new(native)))
        }
    }

    pub(super) fn show(&mut self, state: &TrayState, recheck_mute: bool) {
        match self {
            Self::Here(native) => native.apply(state, recheck_mute),
            Self::Thread(worker) => worker.show(state, recheck_mute),
        }
    }
}

/// The icon's thread, and the one-slot mailbox the UI leaves the latest state in: the UI never
/// waits, and the thread never works through states that are already out of date.
pub(super) struct Worker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// Disconnects when the thread ends, however it ends.
    ended: mpsc::Receiver<()>,
    reported_stopped: bool,
}

#[derive(Default)]
struct Shared {
    slot: Mutex<Slot>,
    wake: Condvar,
}

#[derive(Default)]
struct Slot {
    next: Option<TrayState>,
    recheck_mute: bool,
    stop: bool,
}

impl Worker {
    fn start(tray: u64, state: &TrayState) -> Result<Self, String> {
        let shared = Arc::new(Shared::default());
        let (ready_tx, ready) = mpsc::sync_channel(1);
        let (ended_tx, ended) = mpsc::sync_channel::<()>(0);
        let thread = thread::Builder::new()
            .name("orderwatch-tray".into())
            .spawn({
                let shared = shared.clone();
                let state = state.clone();
                move || {
                    let _ended = ended_tx;
                    let mut native = match Native::new(tray, &state) {
                        Ok(native) => native,
                        Err(message) => {
                            let _ = ready_tx.send(Err(message));
                            return;
                        }
                    };
                    // `start` gave up waiting: take the icon down rather than leave it orphaned.
                    if ready_tx.send(Ok(())).is_err() {
                        return;
                    }
                    run(&shared, &mut native);
                }
            })
            .map_err(|err| format!("could not start the tray icon's thread: {err}"))?;
        let mut worker = Self {
            shared,
            thread: Some(thread),
            ended,
            reported_stopped: false,
        };
        match ready.recv_timeout(START_TIMEOUT) {
            Ok(Ok(())) => Ok(worker),
            Ok(Err(message)) => Err(message),
            Err(RecvTimeoutError::Timeout) => {
                // Let the thread finish on its own; it sees `stop` (or the closed `ready`) and ends.
                worker.shared.slot.lock().stop = true;
                worker.thread = None;
                Err(format!(
                    "no tray icon: the D-Bus session bus did not answer within {} s",
                    START_TIMEOUT.as_secs()
                ))
            }
            Err(RecvTimeoutError::Disconnected) => {
                Err("no tray icon: its thread stopped while starting".to_owned())
            }
        }
    }

    fn show(&mut self, state: &TrayState, recheck_mute: bool) {
        if !self.reported_stopped && self.thread.as_ref().is_some_and(JoinHandle::is_finished) {
            self.reported_stopped = true;
            tracing::warn!("the tray icon's thread has stopped; the icon no longer follows the stream");
        }
        {
            let mut slot = self.shared.slot.lock();
            slot.next = Some(state.clone());
            slot.recheck_mute |= recheck_mute;
        }
        self.shared.wake.notify_one();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shared.slot.lock().stop = true;
        self.shared.wake.notify_one();
        let Some(thread) = self.thread.take() else {
            return;
        };
        match self.ended.recv_timeout(STOP_TIMEOUT) {
            Err(RecvTimeoutError::Timeout) => {
                tracing::warn!("the tray icon did not go away within {STOP_TIMEOUT:?}; leaving it");
            }
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                if thread.join().is_err() {
                    tracing::warn!("the tray icon's thread panicked");
                }
            }
        }
    }
}

fn run(shared: &Shared, native: &mut Native) {
    let mut slot = shared.slot.lock();
    while !slot.stop {
        match slot.next.take() {
            Some(state) => {
                let recheck_mute = std::mem::take(&mut slot.recheck_mute);
                MutexGuard::unlocked(&mut slot, || native.apply(&state, recheck_mute));
            }
            None => shared.wake.wait(&mut slot),
        }
    }
}

/// The tray-icon objects. Each window and stream action has its own item and only the one on
/// offer is in the menu, so a click always means what its label said, even when the state
/// changed between the host drawing the menu and the user clicking.
pub(super) struct Native {
    // First, so it drops first: the D-Bus service stops before the menu it reads goes away.
    icon: TrayIcon,
    menu: Menu,
    items: Items,
    base: Rgba,
    applied: TrayState,
    tooltip: String,
}

struct Items {
    show_window: MenuItem,
    hide_window: MenuItem,
    start_stream: MenuItem,
    stop_stream: MenuItem,
    mute: CheckMenuItem,
    quit: MenuItem,
}

impl Items {
    fn new(tray: u64, muted: bool) -> Self {
        let item =
            |action: TrayAction| MenuItem::with_id(events::menu_id(tray, action), action.label(), true, None);
        let mute = TrayAction::ToggleMute;
        Self {
            show_window: item(TrayAction::ShowWindow),
            hide_window: item(TrayAction::HideWindow),
            start_stream: item(TrayAction::StartStream),
            stop_stream: item(TrayAction::StopStream),
            mute: CheckMenuItem::with_id(events::menu_id(tray, mute), mute.label(), true, muted, None),
            quit: item(TrayAction::Quit),
        }
    }

    fn window(&self, window_visible: bool) -> &MenuItem {
        match TrayAction::window(window_visible) {
            TrayAction::HideWindow => &self.hide_window,
            _ => &self.show_window,
        }
    }

    fn stream(&self, status: TrayStatus) -> &MenuItem {
        match TrayAction::stream(status) {
            TrayAction::StopStream => &self.stop_stream,
            _ => &self.start_stream,
        }
    }
}

/// Menu positions of the items that swap (separators count).
const WINDOW_POSITION: usize = 0;
const STREAM_POSITION: usize = 1;

impl Native {
    fn new(tray: u64, state: &TrayState) -> Result<Self, String> {
        let decoded = eframe::icon_data::from_png_bytes(APP_ICON_PNG)
            .map_err(|err| format!("no tray icon: the app icon does not decode ({err})"))?;
        let base = Rgba {
            rgba: decoded.rgba,
            width: decoded.width,
            height: decoded.height,
        };
        let items = Items::new(tray, state.muted);
        let menu = Menu::new();
        menu.append_items(&[
            items.window(state.window_visible),
            items.stream(state.status),
            &PredefinedMenuItem::separator(),
            &items.mute,
            &PredefinedMenuItem::separator(),
            &items.quit,
        ])
        .map_err(|err| format!("no tray icon: its menu could not be built ({err})"))?;
        let tooltip = tooltip_text(state);
        let mut builder = TrayIconBuilder::new()
            .with_id(events::icon_id(tray))
            .with_menu(Box::new(menu.clone()))
            .with_icon(icon(&base, state.status)?)
            .with_tooltip(&tooltip);
        // On macOS the title is text beside the icon in the menu bar; StatusNotifierItem hosts
        // use it as the item's name and the tooltip's heading.
        if STATUS_NOTIFIER {
            builder = builder.with_title(APP_NAME);
        }
        let icon = builder.build().map_err(|err| {
            if STATUS_NOTIFIER {
                format!("no tray icon: it needs a D-Bus session bus ({err})")
            } else {
                format!("no tray icon: {err}")
            }
        })?;
        Ok(Self {
            icon,
            menu,
            items,
            base,
            applied: state.clone(),
            tooltip,
        })
    }

    fn apply(&mut self, state: &TrayState, recheck_mute: bool) {
        let before = std::mem::replace(&mut self.applied, state.clone());
        if state.status != before.status {
            match icon(&self.base, state.status) {
                Ok(icon) => {
                    if let Err(err) = self.icon.set_icon(Some(icon)) {
                        tracing::warn!(%err, "could not change the tray icon");
                    }
                }
                Err(message) => tracing::warn!("{message}"),
            }
        }
        let tooltip = tooltip_text(state);
        if tooltip != self.tooltip {
            if let Err(err) = self.icon.set_tooltip(Some(&tooltip)) {
                tracing::warn!(%err, "could not change the tray tooltip");
            }
            self.tooltip = tooltip;
        }
        if state.window_visible != before.window_visible {
            self.swap(
                WINDOW_POSITION,
                self.items.window(before.window_visible),
                self.items.window(state.window_visible),
            );
        }
        if state.status.stream_running() != before.status.stream_running() {
            self.swap(
                STREAM_POSITION,
                self.items.stream(before.status),
                self.items.stream(state.status),
            );
        }
        // Only when needed: without GTK, muda touches the check item's (thread-bound) platform
        // cell from the D-Bus thread when it is clicked, so the fewer writes here the better.
        // A click reaches us only after that write is done, so a recheck after one is safe.
        if state.muted != before.muted || recheck_mute {
            self.items.mute.set_checked(state.muted);
        }
    }

    /// Replaces `out` by `into` at `position`. Inserting first means a host that reads the menu
    /// in between sees both items for a moment rather than neither.
    fn swap(&self, position: usize, out: &MenuItem, into: &MenuItem) {
        if let Err(err) = self.menu.insert(into, position) {
            tracing::warn!(%err, label = into.text(), "could not change the tray menu");
            return;
        }
        if let Err(err) = self.menu.remove(out) {
            tracing::warn!(%err, label = out.text(), "could not change the tray menu");
        }
    }
}

fn icon(base: &Rgba, status: TrayStatus) -> Result<Icon, String> {
    let image = badge::render(base, status);
    Icon::from_rgba(image.rgba, image.width, image.height)
        .map_err(|err| format!("no tray icon: the badged icon is not valid ({err})"))
}

/// StatusNotifierItem hosts show the title ("Orderwatch") above the tooltip text, so there the
/// text leaves it out; elsewhere the tooltip is all there is.
fn tooltip_text(state: &TrayState) -> String {
    if STATUS_NOTIFIER {
        state.summary()
    } else {
        state.tooltip()
    }
}
