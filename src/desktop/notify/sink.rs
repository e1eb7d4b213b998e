//! Showing notifications on the desktop through the OS's notification service (a notification
//! server on D-Bus on Linux). Every call here blocks: run it off the async runtime.

use super::{Notification, Sink};

const APP_NAME: &str = "Orderwatch";
/// The icon's theme name, installed with the desktop entry.
const ICON: &str = "orderwatch";

/// The desktop's notification service.
#[derive(Debug, Default)]
pub struct DesktopSink {
    /// Whether the server reads markup in bodies; then `&` and `<` must be escaped.
    #[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
    markup: Option<bool>,
}

impl DesktopSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Shows `body` as plain text, whatever the server does with markup.
    fn show_text(
        &mut self,
        summary: &str,
        body: &str,
        urgent: bool,
        sound: Option<&str>,
    ) -> Result<(), String> {
        #[cfg(all(unix, not(target_os = "macos")))]
        let body = if self.reads_markup() {
            escape_markup(body)
        } else {
            body.to_owned()
        };
        send(summary, &body, urgent, sound)
    }

    /// Asked on the first notification, not at start (the server may start after us), and again
    /// until the server answers.
    #[cfg(all(unix, not(target_os = "macos")))]
    fn reads_markup(&mut self) -> bool {
        if let Some(markup) = self.markup {
            return markup;
        }
        match notify_rust::get_capabilities() {
            Ok(capabilities) => *self
                .markup
                .insert(capabilities.iter().any(|capability| capability == "body-markup")),
            Err(_) => false,
        }
    }
}

impl Sink for DesktopSink {
    fn show(&mut self, notification: &Notification) -> Result<(), String> {
        self.show_text(
            &notification.summary,
            &notification.body,
            notification.urgent,
            notification.sound,
        )
    }
}

/// Shows one message now, for one-off news ("Orderwatch is still running in the tray").
/// Blocks until the notification service answers.
pub fn show_once(summary: &str, body: &str) -> Result<(), String> {
    DesktopSink::new().show_text(summary, body, false, None)
}

fn send(summary: &str, body: &str, urgent: bool, sound: Option<&str>) -> Result<(), String> {
    let mut notification = notify_rust::Notification::new();
    notification
        .appname(APP_NAME)
        .summary(summary)
        .body(body)
        .icon(ICON);
    #[cfg(any(all(unix, not(target_os = "macos")), target_os = "windows"))]
    notification.urgency(if urgent {
        notify_rust::Urgency::Critical
    } else {
        notify_rust::Urgency::Normal
    });
    #[cfg(not(any(all(unix, not(target_os = "macos")), target_os = "windows")))]
    let _ = urgent;
    #[cfg(all(unix, not(target_os = "macos")))]
    if let Some(sound) = sound {
        notification.sound_name(sound);
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    let _ = sound;
    notification
        .show()
        .map(drop)
        .map_err(|err| format!("cannot show a desktop notification: {err}"))
}

/// Bodies are plain text; a server that reads markup would swallow `<…>` and choke on `&`.
#[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
pub(super) fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}
