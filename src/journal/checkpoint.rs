//! Checkpoints on their own thread. A checkpoint copies the log (the `-wal` file) into the
//! database file and syncs both: on a slow disk that took the writer hundreds of milliseconds
//! every 64 MiB, while batches queued behind it. Here the writer only appends to the log and
//! nudges this thread; SQLite lets the two run at once (a passive checkpoint takes no writer lock).
//! A commit is as safe as before: it is in the log, which is what a restart reads first.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::JournalError;

/// A checkpoint at least this often while anything may be waiting in the log.
const EVERY: Duration = Duration::from_secs(5);

/// When the writer goes idle with at least this much unchecked in the log, or a second after the
/// last checkpoint: a burst is checkpointed as it ends, and the log then starts again from its
/// beginning, instead of growing while checkpoints chase a writer that never pauses for them.
const IDLE_BYTES: usize = 1 << 20;
const IDLE_GAP: Duration = Duration::from_secs(1);

/// Past this much log the writer checkpoints itself: the thread is not keeping up (or failing),
/// and the log must not grow without end.
pub(super) const LOG_CAP_BYTES: u64 = 256 << 20;

/// The writer's end: counts what it wrote and nudges the thread.
pub(super) struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    every_bytes: usize,
    written: usize,
    nudged_at: Instant,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path` (which the writer has created).
    pub(super) fn start(path: &Path, every_bytes: usize) -> Result<Self, JournalError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (nudge, nudged) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("journal-checkpoint".into())
            .spawn(move || run(&conn, &nudged))
            .map_err(|source| JournalError::Dir {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            nudge: Some(nudge),
            every_bytes: every_bytes.max(1),
            written: 0,
            nudged_at: Instant::now(),
            thread: Some(thread),
        })
    }

    /// `bytes` more are in the log; every `every_bytes` the thread is asked for a checkpoint.
    pub(super) fn wrote(&mut self, bytes: usize) {
        self.written += bytes;
        if self.written >= self.every_bytes {
            self.nudge();
        }
    }

    /// The writer has nothing queued: a good moment for a checkpoint.
    pub(super) fn idle(&mut self) {
        if self.written >= IDLE_BYTES || (self.written > 0 && self.nudged_at.elapsed() >= IDLE_GAP) {
            self.nudge();
        }
    }

    fn nudge(&mut self) {
        self.written = 0;
        self.nudged_at = Instant::now();
        if let Some(nudge) = &self.nudge {
            // Full: a nudge is already waiting, which covers this one too.
            let _ = nudge.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.nudge.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, nudged: &Receiver<()>) {
    super::priority::background_priority();
    loop {
        match nudged.recv_timeout(EVERY) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {
                if let Err(err) = passive(conn) {
                    // The log keeps everything meanwhile; the writer's cap bounds it.
                    tracing::warn!(%err, "the journal could not checkpoint; will try again");
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Copies what it can of the log into the database without waiting on the writer or readers.
pub(super) fn passive(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::journal::{FILE_NAME, Journal, JournalOptions, load_day};
    use crate::sim::{Day, DayConfig};
    use crate::store::{Origin, now_ms, trading_day};

    /// The writer's own connection never checkpoints (below the cap), so whatever reaches the
    /// database file itself was copied there by the checkpoint thread.
    #[test]
    fn a_burst_reaches_the_database_file_through_the_checkpoint_thread() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join(FILE_NAME);
        let options = JournalOptions {
            // Only the idle nudge and the timer: the burst below is far smaller.
            checkpoint_every_bytes: usize::MAX,
            ..JournalOptions::default()
        };
        let journal = Journal::open(&path, options).expect("the journal opens");
        let file_len = || std::fs::metadata(&path).map_or(0, |meta| meta.len());
        let empty = file_len();
        let mut day = Day::new(DayConfig::default());
        let today = trading_day(now_ms());
        let mut events = 0;
        // Over IDLE_BYTES of JSON, in many batches.
        while events < 4_000 {
            let batch = day.step(None);
            events += batch.len();
            journal.record(today, now_ms(), Origin::Socket, batch, vec![]);
        }
        journal
            .flush(Duration::from_secs(10))
            .expect("the journal flushes");
        let deadline = Instant::now() + Duration::from_secs(4);
        while file_len() < empty + (IDLE_BYTES as u64) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            file_len() >= empty + IDLE_BYTES as u64,
            "no checkpoint within 4 s of the flush: the database file is {} bytes, {} when empty",
            file_len(),
            empty
        );
        let recorded = load_day(&path, today).expect("the day reads back");
        let read: usize = recorded.batches.iter().map(|batch| batch.events.len()).sum();
        assert_eq!(read, events, "every event is there after the checkpoint");
    }
}
