//! One connection's life: subscribe, keep alive, read frames in batches, resync after each ack.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::ingest::Applied;
use super::reader;
use super::resync::{Resync, ResyncResult};
use super::{Command, Feed, Tap};
use crate::fyers::model::EventKind;
use crate::fyers::socket::Socket;
use crate::fyers::wire;
use crate::store::Origin;

/// Bad frames are logged at most this often (they are all counted and kept in the store).
const BAD_FRAME_LOG_EVERY: Duration = Duration::from_secs(10);

pub(super) enum SessionEnd {
    Stopped,
    Shutdown,
    AuthRejected(String),
    /// A new token: connect again at once.
    Reconnect,
    Lost(String),
}

type Sink = SplitSink<Socket, Message>;

/// A subscribe message waiting for its acknowledgement.
struct PendingAck {
    deadline: Instant,
    /// The subscription set once acknowledged.
    target: BTreeSet<EventKind>,
    /// Kinds to pull from REST once acknowledged, so nothing from before the ack is missed.
    resync: BTreeSet<EventKind>,
}

async fn close(sink: &mut Sink) {
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}

impl Feed {
    pub(super) async fn session(&mut self, socket: Socket) -> SessionEnd {
        let (mut sink, stream) = socket.split();
        let inlet = self.ingest.inlet(self.tap.is_some());
        let (mut reads, _reader) = reader::spawn(stream, inlet);
        let timing = self.config.timing;
        let mut acks = VecDeque::new();
        let mut resync = Resync::default();
        let (resync_tx, mut resync_rx) = mpsc::channel::<ResyncResult>(4);
        let wanted = {
            let mut store = self.store.write();
            store.subscriptions.acknowledged.clear();
            store.subscriptions.wanted.clone()
        };
        if let Err(reason) = self.subscribe(&mut sink, &mut acks, &wanted, &wanted).await {
            return SessionEnd::Lost(reason);
        }
        let mut last_frame = Instant::now();
        let mut ping =
            tokio::time::interval_at((Instant::now() + timing.ping_every).into(), timing.ping_every);
        loop {
            let ack_deadline = acks.front().map(|ack: &PendingAck| ack.deadline);
            let dead_at = last_frame + timing.dead_after;
            let retry_at = resync.retry_at;
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    None | Some(Command::Shutdown) => {
                        close(&mut sink).await;
                        return SessionEnd::Shutdown;
                    }
                    Some(Command::Disconnect) => {
                        close(&mut sink).await;
                        return SessionEnd::Stopped;
                    }
                    Some(Command::SetAuthorization(auth)) => {
                        self.set_authorization(auth).await;
                        close(&mut sink).await;
                        return SessionEnd::Reconnect;
                    }
                    Some(Command::SetSubscriptions(kinds)) => {
                        if let Err(reason) = self.change_subscriptions(&mut sink, &mut acks, kinds).await {
                            return SessionEnd::Lost(reason);
                        }
                    }
                    Some(Command::Resync) => {
                        let wanted = self.store.read().subscriptions.wanted.clone();
                        resync.ask(wanted);
                    }
                    Some(Command::MarkSeen(kind)) => self.mark_seen(kind),
                    Some(Command::SessionClock) => {
                        if self.session_clock().await {
                            close(&mut sink).await;
                            return SessionEnd::AuthRejected(super::SESSION_EXPIRED.to_owned());
                        }
                    }
                    Some(Command::Connect) => {}
                },
                read = reads.recv() => {
                    let Some(parsing) = read else {
                        return SessionEnd::Lost("the socket reader stopped".to_owned());
                    };
                    // Awaited here, not in the select: a batch being parsed is never dropped.
                    let Ok(mut applied) = parsing.await else {
                        return SessionEnd::Lost("the frame parser stopped".to_owned());
                    };
                    let end = applied.end.take();
                    if applied.frames > 0 {
                        last_frame = Instant::now();
                        let acked = self.process(applied, &mut acks).await;
                        resync.queued.extend(acked);
                    }
                    if let Some(reason) = end {
                        return SessionEnd::Lost(reason);
                    }
                }
                _ = ping.tick() => {
                    if let Err(err) = sink.send(Message::text("ping")).await {
                        return SessionEnd::Lost(format!("cannot send ping: {err}"));
                    }
                }
                _ = tokio::time::sleep_until(dead_at.into()) => {
                    close(&mut sink).await;
                    return SessionEnd::Lost(format!("no frame or pong for {} s", timing.dead_after.as_secs()));
                }
                _ = tokio::time::sleep_until(ack_deadline.unwrap_or_else(far_future).into()), if ack_deadline.is_some() => {
                    close(&mut sink).await;
                    let secs = timing.ack_timeout.as_secs_f64();
                    return SessionEnd::Lost(format!("subscription not acknowledged within {secs} s"));
                }
                Some((kinds, mark, result)) = resync_rx.recv() => {
                    resync.in_flight = false;
                    if let Err(end) = self.resynced(&mut resync, kinds, mark, result).await {
                        close(&mut sink).await;
                        return end;
                    }
                }
                _ = tokio::time::sleep_until(retry_at.unwrap_or_else(far_future).into()), if retry_at.is_some() => {
                    resync.retry_at = None;
                }
            }
            self.start_resync(&mut resync, &resync_tx);
        }
    }

    async fn subscribe(
        &mut self,
        sink: &mut Sink,
        acks: &mut VecDeque<PendingAck>,
        added: &BTreeSet<EventKind>,
        target: &BTreeSet<EventKind>,
    ) -> Result<(), String> {
        if added.is_empty() {
            return Ok(());
        }
        let message = wire::subscription_message(added, true);
        sink.send(Message::text(message))
            .await
            .map_err(|err| format!("cannot subscribe: {err}"))?;
        let deadline = Instant::now() + self.config.timing.ack_timeout;
        acks.push_back(PendingAck {
            deadline,
            target: target.clone(),
            resync: added.clone(),
        });
        Ok(())
    }

    async fn change_subscriptions(
        &mut self,
        sink: &mut Sink,
        acks: &mut VecDeque<PendingAck>,
        kinds: BTreeSet<EventKind>,
    ) -> Result<(), String> {
        let current = self.store.read().subscriptions.wanted.clone();
        let removed: BTreeSet<_> = current.difference(&kinds).copied().collect();
        let added: BTreeSet<_> = kinds.difference(&current).copied().collect();
        {
            let mut store = self.store.write();
            store.subscriptions.wanted = kinds.clone();
            // Unsubscribing takes effect at once; the server's answer to it is not awaited.
            store
                .subscriptions
                .acknowledged
                .retain(|kind| !removed.contains(kind));
        }
        (self.repaint)();
        if !removed.is_empty() {
            let message = wire::subscription_message(&removed, false);
            sink.send(Message::text(message))
                .await
                .map_err(|err| format!("cannot unsubscribe: {err}"))?;
        }
        self.subscribe(sink, acks, &added, &kinds).await
    }

    /// Takes in a batch the ingest applied: its acknowledgements, its bad frames, the UI and the
    /// tap. Returns the kinds whose subscription was just acknowledged.
    async fn process(&mut self, applied: Applied, acks: &mut VecDeque<PendingAck>) -> BTreeSet<EventKind> {
        let mut acknowledged = None;
        let mut to_resync = BTreeSet::new();
        for message in &applied.acks {
            // Answers to unsubscribe messages are not awaited.
            if message.to_ascii_lowercase().contains("unsub") {
                continue;
            }
            if let Some(ack) = acks.pop_front() {
                to_resync.extend(ack.resync);
                acknowledged = Some(ack.target);
            }
        }
        if let Some(error) = &applied.last_error {
            self.log_bad_frames(applied.bad_frames, error);
        }
        if let Some(target) = acknowledged {
            let mut store = self.store.write();
            let wanted = store.subscriptions.wanted.clone();
            store.subscriptions.acknowledged = target.intersection(&wanted).copied().collect();
        }
        (self.repaint)();
        if let (Some(tap), Some(events)) = (&self.tap, applied.tapped) {
            // The stream carries what the store took: no duplicate trades, no regressions.
            if !events.is_empty() {
                let _ = tap
                    .send(Tap::Events {
                        events,
                        origin: Origin::Socket,
                    })
                    .await;
            }
        }
        to_resync
    }

    fn log_bad_frames(&mut self, count: usize, last_error: &str) {
        self.bad_frames_unlogged += count as u64;
        let due = self
            .bad_frames_logged_at
            .is_none_or(|at| at.elapsed() >= BAD_FRAME_LOG_EVERY);
        if due {
            tracing::warn!(count = self.bad_frames_unlogged, error = %last_error, "skipped bad frames");
            self.bad_frames_unlogged = 0;
            self.bad_frames_logged_at = Some(Instant::now());
        }
    }
}
