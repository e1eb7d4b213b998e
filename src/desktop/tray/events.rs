//! Where clicks go. muda (menu items) and tray-icon (the icon) report clicks through process-wide
//! hooks; this routes each to the tray it belongs to, by the tray's number carried in the ids,
//! and wakes that tray's UI, so a hidden, idle window still answers "Show window" at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};

use parking_lot::Mutex;
use tray_icon::menu::{MenuEvent, MenuId};
use tray_icon::{MouseButton, MouseButtonState, TrayIconEvent, TrayIconId};

use super::TrayAction;

pub(super) type Waker = Arc<dyn Fn() + Send + Sync>;

/// Clicks kept for a UI that is not reading them; more than a person clicks between two frames.
const MAX_WAITING: usize = 32;

const ID_PREFIX: &str = "orderwatch-tray-";

#[derive(Default)]
struct Inbox {
    actions: Vec<TrayAction>,
    wake: Option<Waker>,
}

static INBOXES: Mutex<BTreeMap<u64, Inbox>> = Mutex::new(BTreeMap::new());
static NEXT_NUMBER: AtomicU64 = AtomicU64::new(1);
static HOOKS: Once = Once::new();

/// A new tray's number, with an inbox ready before its icon exists so no click is lost.
pub(super) fn register() -> u64 {
    HOOKS.call_once(|| {
        // Each hook can be set once per process; if something else got there first, clicks stay
        // in the libraries' channels and `take` drains those instead.
        MenuEvent::set_event_handler(Some(on_menu_event));
        TrayIconEvent::set_event_handler(Some(on_icon_event));
    });
    let number = NEXT_NUMBER.fetch_add(1, Ordering::Relaxed);
    INBOXES.lock().insert(number, Inbox::default());
    number
}

pub(super) fn unregister(tray: u64) {
    INBOXES.lock().remove(&tray);
}

pub(super) fn set_waker(tray: u64, wake: Waker) {
    if let Some(inbox) = INBOXES.lock().get_mut(&tray) {
        inbox.wake = Some(wake);
    }
}

/// The clicks waiting for `tray`, oldest first.
pub(super) fn take(tray: u64) -> Vec<TrayAction> {
    for event in MenuEvent::receiver().try_iter() {
        deliver_menu(&event, false);
    }
    for event in TrayIconEvent::receiver().try_iter() {
        deliver_icon(&event, false);
    }
    INBOXES
        .lock()
        .get_mut(&tray)
        .map(|inbox| std::mem::take(&mut inbox.actions))
        .unwrap_or_default()
}

pub(super) fn menu_id(tray: u64, action: TrayAction) -> MenuId {
    MenuId::new(format!("{ID_PREFIX}{tray}/{}", item_name(action)))
}

pub(super) fn icon_id(tray: u64) -> TrayIconId {
    TrayIconId::new(format!("{ID_PREFIX}{tray}"))
}

fn item_name(action: TrayAction) -> &'static str {
    match action {
        TrayAction::ShowWindow => "show-window",
        TrayAction::HideWindow => "hide-window",
        TrayAction::StartStream => "start-stream",
        TrayAction::StopStream => "stop-stream",
        TrayAction::ToggleMute => "mute-notifications",
        TrayAction::Quit => "quit",
    }
}

/// The tray and action a menu id stands for; `None` for ids that are not ours.
pub(super) fn parse_menu_id(id: &str) -> Option<(u64, TrayAction)> {
    let (number, item) = id.strip_prefix(ID_PREFIX)?.split_once('/')?;
    let action = TrayAction::ALL
        .into_iter()
        .find(|action| item_name(*action) == item)?;
    Some((number.parse().ok()?, action))
}

fn on_menu_event(event: MenuEvent) {
    deliver_menu(&event, true);
}

fn on_icon_event(event: TrayIconEvent) {
    deliver_icon(&event, true);
}

fn deliver_menu(event: &MenuEvent, wake: bool) {
    match parse_menu_id(event.id.as_ref()) {
        Some((tray, action)) => deliver(tray, action, wake),
        None => tracing::debug!(id = event.id.as_ref(), "a menu click that is not the tray's"),
    }
}

/// A left click on the icon brings the window up (KDE's "Activate", a click on Windows). Not on
/// macOS: there a left click opens the menu, and showing the window as well would be a surprise.
fn deliver_icon(event: &TrayIconEvent, wake: bool) {
    if cfg!(target_os = "macos") {
        return;
    }
    if let TrayIconEvent::Click {
        id,
        button: MouseButton::Left,
        button_state: MouseButtonState::Up,
        ..
    } = event
        && let Some(tray) = id
            .as_ref()
            .strip_prefix(ID_PREFIX)
            .and_then(|number| number.parse().ok())
    {
        deliver(tray, TrayAction::ShowWindow, wake);
    }
}

fn deliver(tray: u64, action: TrayAction, wake: bool) {
    let waker = {
        let mut inboxes = INBOXES.lock();
        let Some(inbox) = inboxes.get_mut(&tray) else {
            return;
        };
        if inbox.actions.len() >= MAX_WAITING {
            tracing::warn!(?action, "tray clicks are not being read; dropping one");
            return;
        }
        inbox.actions.push(action);
        inbox.wake.clone()
    };
    // Outside the lock: the waker may do anything, including read the inbox.
    if wake && let Some(waker) = waker {
        waker();
    }
}
