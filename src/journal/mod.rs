//! The journal: every trading day on disk, in one SQLite database (WAL) a user can open with any
//! SQLite tool. The feed records each applied batch here; on start the day is rebuilt from it;
//! history and export read it.
//!
//! Writes happen on the journal's own threads (encode, write, checkpoint; at background priority),
//! never under the store's lock: the feed hands each batch over through a bounded queue and goes
//! on. A journal that falls behind (a slow or full disk) keeps retrying what it holds; what does
//! not fit in the queue is counted, shown (banner, headless line) and recorded as a gap once
//! writing works again. Nothing is dropped silently.

mod checkpoint;
mod encode;
mod export;
mod health;
mod priority;
mod read;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};

use crate::fyers::model::Event;
use crate::store::{BadFrame, FeedStatus, Origin};

pub use export::{ExportError, Rows, Table, export_csv, history_store_config, write_csv};
pub use health::Health;
pub use read::{Recorded, RecordedBatch, days, load_day, restore};
pub use schema::VERSION as SCHEMA_VERSION;

/// The database's file name inside the data dir.
pub const FILE_NAME: &str = "journal.sqlite3";
/// The demo's own journal, so simulated days never mix with the account's.
pub const DEMO_FILE_NAME: &str = "demo-journal.sqlite3";

/// Days kept unless the user says otherwise.
pub const DEFAULT_KEEP_DAYS: u32 = 90;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("journal: cannot use {path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("the journal was written by a newer Orderwatch (schema {found}; this one knows up to {known})")]
    TooNew { found: i64, known: i64 },
    #[error("no data directory: set ORDERWATCH_DATA_DIR or give --data-dir")]
    NoDataDir,
    #[error("the journal has stopped")]
    Stopped,
}

/// Where Orderwatch keeps its data: `$ORDERWATCH_DATA_DIR`, else the platform's data dir
/// (`~/.local/share/orderwatch` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ORDERWATCH_DATA_DIR").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("in", "Orderwatch", "orderwatch").map(|dirs| dirs.data_dir().to_path_buf())
}

/// The journal file for a data dir, the demo's or the account's.
pub fn journal_path(data_dir: &Path, demo: bool) -> PathBuf {
    data_dir.join(if demo { DEMO_FILE_NAME } else { FILE_NAME })
}

/// Opens the journal of a data dir (`None`: the default one): the account's, or the demo's. The
/// demo's simulator plays a new day on every run, so its journal starts afresh each time too.
pub fn open_in(data_dir: Option<&Path>, demo: bool, keep_days: u32) -> Result<Journal, JournalError> {
    let dir = match data_dir {
        Some(dir) => dir.to_path_buf(),
        None => default_data_dir().ok_or(JournalError::NoDataDir)?,
    };
    let path = journal_path(&dir, demo);
    if demo {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(JournalError::Dir {
                        path: file.into(),
                        source,
                    });
                }
            }
        }
    }
    let options = JournalOptions {
        keep_days,
        ..JournalOptions::default()
    };
    Journal::open(&path, options)
}

/// How the journal behaves; the defaults suit a trading day, tests shrink them.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    pub keep_days: u32,
    /// Events waiting to be written at most; beyond it, batches are counted as not journaled.
    pub max_queued_events: usize,
    /// How long to wait before trying a failed write again.
    pub retry_every: Duration,
    /// Tests: a database this many pages big at most (a full disk, for real: SQLITE_FULL).
    pub max_pages: Option<u64>,
    /// Tests: each transaction takes at least this long (a slow disk).
    pub slow_writes: Option<Duration>,
    /// JSON written between checkpoints (which run on their own thread).
    pub checkpoint_every_bytes: usize,
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self {
            keep_days: DEFAULT_KEEP_DAYS,
            max_queued_events: 262_144,
            retry_every: Duration::from_millis(500),
            max_pages: None,
            slow_writes: None,
            checkpoint_every_bytes: 16 << 20,
        }
    }
}

/// What goes to the writer thread.
#[derive(Debug)]
enum Job {
    Batch(Batch),
    Status {
        day: NaiveDate,
        at_ms: i64,
        status: FeedStatus,
    },
    /// Retention: keep this many days (the current one included).
    Retain(u32),
    /// Answered once everything before it is on disk.
    Flush(std::sync::mpsc::SyncSender<()>),
}

#[derive(Debug)]
struct Batch {
    seq: u64,
    day: NaiveDate,
    received_ms: i64,
    origin: Origin,
    /// Until the encoder has made them `rows`.
    events: Vec<Event>,
    rows: Vec<Row>,
    bad: Vec<BadFrame>,
}

impl Batch {
    fn weight(&self) -> usize {
        self.events.len() + self.rows.len() + self.bad.len()
    }
}

/// An event as the `events` table takes it.
#[derive(Debug)]
struct Row {
    kind: &'static str,
    key: Option<crate::fyers::model::Text>,
    data: String,
}

/// What the writer and the handles share.
#[derive(Debug)]
struct Shared {
    health: watch::Sender<Health>,
    queued_events: AtomicUsize,
    /// Events turned away since the writer last recorded a gap, and when the first was.
    dropped: AtomicU64,
    dropped_since_ms: AtomicU64,
    /// The trading day of the first of them (days since 0001-01-01).
    dropped_day: AtomicI32,
}

/// A handle on the open journal; clones share the one writer.
#[derive(Debug, Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    jobs: mpsc::Sender<Job>,
    shared: Arc<Shared>,
    next_seq: AtomicU64,
    max_queued_events: usize,
    keep_days: AtomicU32,
    /// The encoder's and the writer's, in the order they finish.
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Journal {
    /// Opens (creating, migrating) the journal at `path` and starts its writer thread.
    pub fn open(path: &Path, options: JournalOptions) -> Result<Self, JournalError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| JournalError::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = writer::open(path, &options)?;
        let (jobs, receiver) = mpsc::channel(4096);
        let shared = Arc::new(Shared {
            health: watch::Sender::new(Health::default()),
            queued_events: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
            dropped_since_ms: AtomicU64::new(0),
            dropped_day: AtomicI32::new(0),
        });
        let writer = writer::Writer::new(conn, path.to_path_buf(), shared.clone(), options.clone());
        let next_seq = writer.last_batch();
        let spawn_failed = |source| JournalError::Dir {
            path: path.to_path_buf(),
            source,
        };
        let (encoded, to_write) = mpsc::channel(256);
        let writer = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || writer.run(to_write))
            .map_err(spawn_failed)?;
        let encoder = std::thread::Builder::new()
            .name("journal-encode".into())
            .spawn(move || encode::run(receiver, encoded))
            .map_err(spawn_failed)?;
        let journal = Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                jobs,
                shared,
                next_seq: AtomicU64::new(next_seq),
                max_queued_events: options.max_queued_events,
                keep_days: AtomicU32::new(options.keep_days),
                threads: Mutex::new(vec![encoder, writer]),
            }),
        };
        journal.retain(options.keep_days);
        Ok(journal)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Hands a batch to the writer without waiting; its number, or `None` if it did not fit
    /// (counted, and recorded as a gap).
    pub fn record(
        &self,
        day: NaiveDate,
        received_ms: i64,
        origin: Origin,
        events: Vec<Event>,
        bad: Vec<BadFrame>,
    ) -> Option<u64> {
        let weight = events.len() + bad.len();
        if weight == 0 {
            return None;
        }
        let shared = &self.inner.shared;
        let queued = shared.queued_events.load(Ordering::Acquire);
        let fits = queued == 0 || queued + weight <= self.inner.max_queued_events;
        let seq = self.inner.next_seq.load(Ordering::Relaxed) + 1;
        let batch = Batch {
            seq,
            day,
            received_ms,
            origin,
            events,
            rows: Vec::new(),
            bad,
        };
        let sent = fits && {
            shared.queued_events.fetch_add(weight, Ordering::AcqRel);
            match self.inner.jobs.try_send(Job::Batch(batch)) {
                Ok(()) => true,
                Err(_) => {
                    shared.queued_events.fetch_sub(weight, Ordering::AcqRel);
                    false
                }
            }
        };
        if sent {
            self.inner.next_seq.store(seq, Ordering::Relaxed);
            return Some(seq);
        }
        if shared.dropped.fetch_add(weight as u64, Ordering::AcqRel) == 0 {
            shared
                .dropped_since_ms
                .store(received_ms.max(0) as u64, Ordering::Release);
            shared
                .dropped_day
                .store(day.num_days_from_ce(), Ordering::Release);
        }
        shared
            .health
            .send_modify(|health| health.dropped += weight as u64);
        None
    }

    /// Records what the connection did. Dropped (and counted) only when the queue is full.
    pub fn record_status(&self, day: NaiveDate, at_ms: i64, status: &FeedStatus) {
        let job = Job::Status {
            day,
            at_ms,
            status: status.clone(),
        };
        if self.inner.jobs.try_send(job).is_err() {
            self.inner.shared.health.send_modify(|health| health.dropped += 1);
        }
    }

    /// Keeps `days` trading days (at least one) from now on, deleting older ones whole.
    pub fn retain(&self, days: u32) {
        let days = days.max(1);
        self.inner.keep_days.store(days, Ordering::Relaxed);
        let _ = self.inner.jobs.try_send(Job::Retain(days));
    }

    /// Keeps `days` from the next new day (or start) on: a slip of the mouse in Settings deletes
    /// nothing at once.
    pub fn set_keep_days(&self, days: u32) {
        self.inner.keep_days.store(days.max(1), Ordering::Relaxed);
    }

    /// Applies the retention last set (at a new day).
    pub fn retain_as_set(&self) {
        self.retain(self.keep_days());
    }

    pub fn keep_days(&self) -> u32 {
        self.inner.keep_days.load(Ordering::Relaxed)
    }

    /// Follows the journal's health.
    pub fn health(&self) -> watch::Receiver<Health> {
        self.inner.shared.health.subscribe()
    }

    /// Waits until batch `seq` is on disk, or writing is failing (which is reported, not waited
    /// out: the caller goes on, the gap is recorded).
    pub async fn committed(&self, seq: u64) -> Health {
        let mut health = self.health();
        let result = health
            .wait_for(|health| health.committed >= seq || health.is_failing())
            .await
            .map(|health| health.clone());
        result.unwrap_or_else(|_| self.inner.shared.health.borrow().clone())
    }

    /// Blocks until everything handed over so far is on disk (or `timeout` passes). For shutdown
    /// and tests; never on the UI thread.
    pub fn flush(&self, timeout: Duration) -> Result<(), JournalError> {
        let deadline = std::time::Instant::now() + timeout;
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        let mut job = Job::Flush(done);
        // Not `blocking_send`: this may be called from a runtime's thread (tests, shutdown).
        loop {
            match self.inner.jobs.try_send(job) {
                Ok(()) => break,
                Err(mpsc::error::TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                    job = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return Err(JournalError::Stopped),
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        wait.recv_timeout(left).map_err(|_| JournalError::Stopped)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The queue's sender is dropped with `self`; the encoder, then the writer, drain what is
        // left and end.
        let (jobs, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.jobs, jobs));
        for thread in self.threads.get_mut().drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;
