//! The background side: a tokio task reads the feed's taps and wakes for the notifier's
//! deadlines; a thread of its own shows the notifications, since showing blocks on D-Bus.

use std::sync::Arc;
use std::sync::mpsc as sync_mpsc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use tokio::sync::mpsc;

use super::{COALESCE_WINDOW, Notification, Notifier, Sink};
use crate::config::NotificationSettings;
use crate::feed::Tap;

/// Notifications waiting for the desktop, at most; beyond that the server is stuck and new ones
/// are dropped rather than piling up.
const QUEUED: usize = 64;
/// A broken notification service is logged at most this often.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(600);

/// Starts the notifications on the current tokio runtime, with the usual coalescing window.
/// Ends when the feed drops its end of `taps`, after showing what was still held back.
pub fn spawn(
    taps: mpsc::Receiver<Tap>,
    settings: Arc<RwLock<NotificationSettings>>,
    sink: Box<dyn Sink>,
) -> tokio::task::JoinHandle<()> {
    spawn_notifier(Notifier::new(COALESCE_WINDOW), taps, settings, sink)
}

/// [`spawn`] with a notifier of the caller's making (another window, for tests).
pub fn spawn_notifier(
    notifier: Notifier,
    taps: mpsc::Receiver<Tap>,
    settings: Arc<RwLock<NotificationSettings>>,
    sink: Box<dyn Sink>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(notifier, taps, settings, sink))
}

async fn run(
    mut notifier: Notifier,
    mut taps: mpsc::Receiver<Tap>,
    settings: Arc<RwLock<NotificationSettings>>,
    sink: Box<dyn Sink>,
) {
    let mut desktop = Desktop::start(sink);
    loop {
        let deadline = notifier.next_deadline();
        tokio::select! {
            tap = taps.recv() => {
                let Some(tap) = tap else { break };
                let now = Instant::now();
                notifier.observe(&tap, now);
                // The feed waits on this channel: take everything already there in one go.
                while let Ok(tap) = taps.try_recv() {
                    notifier.observe(&tap, now);
                }
            }
            () = sleep_until(deadline), if deadline.is_some() => {}
        }
        let settings = settings.read().clone();
        for notification in notifier.due(Instant::now(), &settings) {
            desktop.show(with_sound(notification, &settings));
        }
    }
    let settings = settings.read().clone();
    for notification in notifier.flush(&settings) {
        desktop.show(with_sound(notification, &settings));
    }
    desktop.finish().await;
}

fn with_sound(mut notification: Notification, settings: &NotificationSettings) -> Notification {
    if settings.sounds {
        notification.sound = notification.kind.sound();
    }
    notification
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// The thread that shows notifications, and the queue to it.
struct Desktop {
    queue: Option<sync_mpsc::SyncSender<Notification>>,
    thread: Option<std::thread::JoinHandle<()>>,
    dropped: Rate,
}

impl Desktop {
    fn start(sink: Box<dyn Sink>) -> Self {
        let (queue, notifications) = sync_mpsc::sync_channel(QUEUED);
        let started = std::thread::Builder::new()
            .name("notifications".into())
            .spawn(move || show_all(sink, notifications));
        match started {
            Ok(thread) => Self {
                queue: Some(queue),
                thread: Some(thread),
                dropped: Rate::default(),
            },
            Err(err) => {
                // The taps must still be drained (the feed waits on them): go on without a desktop.
                tracing::error!(%err, "cannot start the notification thread; no desktop notifications");
                Self {
                    queue: None,
                    thread: None,
                    dropped: Rate::default(),
                }
            }
        }
    }

    /// Never blocks: a stuck notification server costs notifications, not the feed.
    fn show(&mut self, notification: Notification) {
        let Some(queue) = &self.queue else { return };
        match queue.try_send(notification) {
            Ok(()) => {}
            Err(sync_mpsc::TrySendError::Full(notification)) => {
                if let Some(dropped) = self.dropped.count(Instant::now()) {
                    tracing::warn!(
                        dropped,
                        summary = %notification.summary,
                        "the notification service is not keeping up; notifications dropped"
                    );
                }
            }
            Err(sync_mpsc::TrySendError::Disconnected(_)) => {
                tracing::error!("the notification thread has stopped; no more desktop notifications");
                self.queue = None;
            }
        }
    }

    /// Waits for the queued notifications to be shown.
    async fn finish(mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("the notification thread ended abnormally");
            }
        }
    }
}

/// The notification thread: shows each in turn until the queue closes.
fn show_all(mut sink: Box<dyn Sink>, notifications: sync_mpsc::Receiver<Notification>) {
    let mut failures = Rate::default();
    let mut failing = false;
    for notification in notifications {
        match sink.show(&notification) {
            Ok(()) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("desktop notifications are shown again");
                    failures = Rate::default();
                }
            }
            Err(err) => {
                failing = true;
                if let Some(failed) = failures.count(Instant::now()) {
                    tracing::warn!(%err, failed, "desktop notifications cannot be shown");
                }
            }
        }
    }
}

/// Counts occurrences and says when to log: the first, then at most every `FAILURE_LOG_EVERY`,
/// with how many happened since the last log.
#[derive(Debug, Default)]
struct Rate {
    unlogged: u64,
    logged_at: Option<Instant>,
}

impl Rate {
    fn count(&mut self, now: Instant) -> Option<u64> {
        self.unlogged += 1;
        let due = self
            .logged_at
            .is_none_or(|at| now.saturating_duration_since(at) >= FAILURE_LOG_EVERY);
        due.then(|| {
            self.logged_at = Some(now);
            std::mem::take(&mut self.unlogged)
        })
    }
}
