//! The socket's reading side. A task takes every frame already waiting off the wire and hands the
//! batch to the ingest, which parses it on the pool and applies it in its turn; the session gets
//! the replies in the order read. So reading the next batch, parsing the ones in flight (on every
//! core) and applying the last one under the store's lock all overlap instead of taking turns.

use futures_util::stream::SplitStream;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot};

use super::ingest::{Applied, Inlet};
use crate::fyers::socket::Socket;

/// Frames taken from the socket per batch, and per write lock, at most.
pub(super) const MAX_BATCH: usize = 4096;

/// Batches the reader may have in flight (parsing, waiting for their turn, or applied and not yet
/// seen by the session); past that the reader waits, the kernel's socket buffer fills and the
/// server is pushed back. At most 8 × 4,096 frames (some 25 MB of order frames) wait in the feed.
/// In alternating runs from the simulator over loopback, 16 was 3–25% faster than 4 (with 4 the
/// pool ran dry while a batch was applied); 8 is between the two in memory.
pub const READS_AHEAD: usize = 8;

/// Reads the socket until it ends or the session drops the receiver, handing each batch to the
/// ingest through `inlet`. The returned guard stops the task and closes the inlet when the session
/// ends, however it ends. The replies come out in the order read.
pub(super) fn spawn(
    mut stream: SplitStream<Socket>,
    inlet: Inlet,
) -> (mpsc::Receiver<oneshot::Receiver<Applied>>, ReaderGuard) {
    let closing = inlet.clone();
    let (tx, rx) = mpsc::channel(READS_AHEAD);
    let task = tokio::spawn(async move {
        loop {
            let mut messages = Vec::new();
            let mut end = None;
            let mut next = Some(stream.next().await);
            while let Some(message) = next.take() {
                match message {
                    Some(Ok(message)) => messages.push(message),
                    Some(Err(err)) => end = Some(format!("socket error: {err}")),
                    None => end = Some("closed by the server".to_owned()),
                }
                if end.is_none() && messages.len() < MAX_BATCH {
                    next = stream.next().now_or_never();
                }
            }
            let ended = end.is_some();
            if tx.send(inlet.submit(messages, end)).await.is_err() || ended {
                return;
            }
        }
    });
    let guard = ReaderGuard {
        task: task.abort_handle(),
        inlet: closing,
    };
    (rx, guard)
}

/// Ends the reader, and its batches not applied yet, when the session ends.
pub(super) struct ReaderGuard {
    task: tokio::task::AbortHandle,
    inlet: Inlet,
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        self.task.abort();
        self.inlet.close();
    }
}
