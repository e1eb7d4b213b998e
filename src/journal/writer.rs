//! The writer thread: owns the one writing connection, turns queued jobs into transactions, and
//! keeps trying what it holds when the disk refuses.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rusqlite::{Connection, Transaction, params};
use tokio::sync::mpsc;

use super::checkpoint::{self, Checkpointer};
use super::{Batch, Job, JournalError, JournalOptions, Row, Shared, schema};
use crate::store::{Origin, now_ms, trading_day};

/// Jobs taken into one transaction at most: a journal that fell behind catches up in big steps.
const JOBS_PER_TRANSACTION: usize = 256;

/// Tries left for a failing write once every handle is gone (the app is closing).
const TRIES_WHEN_CLOSING: u32 = 3;

/// Opens the database for writing: WAL (readers never block the writer), `synchronous = NORMAL`
/// (a commit survives the process being killed; only an OS crash may lose the last ones).
pub(super) fn open(path: &Path, options: &JournalOptions) -> Result<Connection, JournalError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // 16 KiB pages (an event is about 600 bytes of JSON): less overhead per row. Takes effect only
    // on a new file, before WAL mode is set.
    conn.execute_batch("PRAGMA page_size = 16384")?;
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Checkpoints (the only fsyncs under NORMAL) are the checkpoint thread's, not this
    // connection's; a log that was checkpointed whole shrinks back to 64 MiB. A 64 MiB page cache.
    let _: i64 = conn.query_row("PRAGMA wal_autocheckpoint = 0", [], |row| row.get(0))?;
    let _: i64 = conn.query_row("PRAGMA journal_size_limit = 67108864", [], |row| row.get(0))?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    schema::migrate(&mut conn)?;
    if let Some(pages) = options.max_pages {
        let _: i64 = conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| row.get(0))?;
    }
    Ok(conn)
}

/// A trading day as the journal writes it.
pub(super) fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

pub(super) fn source_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Socket => "socket",
        Origin::Resync => "resync",
    }
}

pub(super) struct Writer {
    conn: Connection,
    path: PathBuf,
    shared: Arc<Shared>,
    options: JournalOptions,
    /// `None`: no checkpoint thread could start, and this connection checkpoints as it writes.
    checkpointer: Option<Checkpointer>,
    /// The last day written, to notice a new one (the day count changes).
    last_day: Option<NaiveDate>,
    size_checked_at: Option<Instant>,
}

impl Writer {
    pub(super) fn new(conn: Connection, path: PathBuf, shared: Arc<Shared>, options: JournalOptions) -> Self {
        let checkpointer = match Checkpointer::start(&path, options.checkpoint_every_bytes) {
            Ok(checkpointer) => Some(checkpointer),
            Err(err) => {
                tracing::warn!(%err, "no journal checkpoint thread; the writer checkpoints as it goes");
                let _ = conn.query_row("PRAGMA wal_autocheckpoint = 4096", [], |row| row.get::<_, i64>(0));
                None
            }
        };
        Self {
            conn,
            path,
            shared,
            options,
            checkpointer,
            last_day: None,
            size_checked_at: None,
        }
    }

    /// The highest batch number already in the file: new batches number on from it.
    pub(super) fn last_batch(&self) -> u64 {
        self.conn
            .query_row(
                // The newest rows by id (no scan of the whole file): batches rise with ids.
                "SELECT max(ifnull((SELECT batch FROM events ORDER BY id DESC LIMIT 1), 0),
                            ifnull((SELECT batch FROM bad_frames ORDER BY id DESC LIMIT 1), 0))",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_or(0, |batch| batch.max(0) as u64)
    }

    pub(super) fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        super::priority::background_priority();
        self.refresh_health(true);
        while let Some(first) = jobs.blocking_recv() {
            let mut taken = vec![first];
            while taken.len() < JOBS_PER_TRANSACTION {
                match jobs.try_recv() {
                    Ok(job) => taken.push(job),
                    Err(_) => break,
                }
            }
            self.write_all(taken, &jobs);
            if jobs.is_empty()
                && let Some(checkpointer) = &mut self.checkpointer
            {
                checkpointer.idle();
            }
        }
    }

    /// Writes the jobs in one transaction, trying again until it works (or the app closes).
    fn write_all(&mut self, jobs: Vec<Job>, queue: &mpsc::Receiver<Job>) {
        let mut tries_left = TRIES_WHEN_CLOSING;
        loop {
            match self.write(&jobs) {
                Ok(()) => break,
                Err(err) => {
                    let error = err.to_string();
                    tracing::warn!(%error, "the journal cannot write; retrying");
                    self.shared
                        .health
                        .send_modify(|health| health.error = Some(error.clone()));
                    if queue.is_closed() {
                        tries_left -= 1;
                        if tries_left == 0 {
                            tracing::error!(%error, "the journal gave up writing as Orderwatch closed");
                            break;
                        }
                    }
                    std::thread::sleep(self.options.retry_every);
                }
            }
        }
        let mut committed = None;
        let mut weight = 0;
        let mut retained = false;
        let mut flushes = Vec::new();
        for job in jobs {
            match job {
                Job::Batch(batch) => {
                    committed = Some(batch.seq);
                    weight += batch.weight();
                }
                Job::Flush(done) => flushes.push(done),
                Job::Retain(_) => retained = true,
                Job::Status { .. } => {}
            }
        }
        self.shared.queued_events.fetch_sub(weight, Ordering::AcqRel);
        if retained && let Err(err) = self.conn.execute_batch("PRAGMA incremental_vacuum") {
            tracing::warn!(%err, "the journal could not give freed space back");
        }
        self.shared.health.send_modify(|health| {
            health.error = None;
            if let Some(seq) = committed {
                health.committed = health.committed.max(seq);
            }
        });
        self.refresh_health(retained);
        for done in flushes {
            let _ = done.try_send(());
        }
    }

    fn write(&mut self, jobs: &[Job]) -> rusqlite::Result<()> {
        let started = Instant::now();
        let tx = self.conn.transaction()?;
        let mut new_day = None;
        let mut bytes = 0;
        for job in jobs {
            match job {
                Job::Batch(batch) => {
                    bytes += write_batch(&tx, batch)?;
                    touch_day(&tx, batch.day, batch.received_ms)?;
                    if self.last_day != Some(batch.day) {
                        new_day = Some(batch.day);
                    }
                }
                Job::Status { day, at_ms, status } => {
                    let json = status.to_json();
                    let state = json["state"].as_str().unwrap_or("other").to_owned();
                    tx.prepare_cached(
                        "INSERT INTO connection (day, at_ms, state, note, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        day_key(*day),
                        at_ms,
                        state,
                        status.note(),
                        json.to_string()
                    ])?;
                    touch_day(&tx, *day, *at_ms)?;
                }
                Job::Retain(days) => retain(&tx, *days)?,
                Job::Flush(_) => {}
            }
        }
        let gap = record_gap(&tx, &self.shared)?;
        if let Some(pause) = self.options.slow_writes {
            std::thread::sleep(pause.saturating_sub(started.elapsed()));
        }
        tx.commit()?;
        if let Some(checkpointer) = &mut self.checkpointer {
            checkpointer.wrote(bytes);
        }
        // Only what the gap row counted: more may have been turned away meanwhile.
        self.shared.dropped.fetch_sub(gap, Ordering::AcqRel);
        if new_day.is_some() {
            self.last_day = new_day;
            self.size_checked_at = None;
        }
        Ok(())
    }
}

/// Events the queue turned away since the last gap, as one row saying so.
fn record_gap(tx: &Transaction<'_>, shared: &Shared) -> rusqlite::Result<u64> {
    let events = shared.dropped.load(Ordering::Acquire);
    if events == 0 {
        return Ok(0);
    }
    let from_ms = shared.dropped_since_ms.load(Ordering::Acquire) as i64;
    tx.prepare_cached("INSERT INTO gaps (day, from_ms, to_ms, events, reason) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![
            day_key(
                NaiveDate::from_num_days_from_ce_opt(shared.dropped_day.load(Ordering::Acquire))
                    .unwrap_or_else(|| trading_day(from_ms))
            ),
            from_ms,
            now_ms(),
            events as i64,
            "the journal's queue was full (the disk was too slow or refused writes)"
        ])?;
    Ok(events)
}

impl Writer {
    /// The file's size (at most once a second) and the day count (when it may have changed).
    fn refresh_health(&mut self, count_days: bool) {
        let due = self
            .size_checked_at
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
        if !due && !count_days {
            return;
        }
        self.size_checked_at = Some(Instant::now());
        let size = |path: &Path| std::fs::metadata(path).map_or(0, |meta| meta.len());
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let log = size(Path::new(&wal));
        if log > checkpoint::LOG_CAP_BYTES
            && self.checkpointer.is_some()
            && let Err(err) = checkpoint::passive(&self.conn)
        {
            tracing::warn!(%err, "the journal could not checkpoint its log");
        }
        let bytes = size(&self.path) + log;
        let days = (count_days || self.last_day.is_some())
            .then(|| {
                self.conn
                    .query_row("SELECT count(*) FROM days", [], |row| row.get::<_, i64>(0))
                    .ok()
            })
            .flatten();
        self.shared.health.send_modify(|health| {
            health.bytes = bytes;
            if let Some(days) = days {
                health.days = days.max(0) as u64;
            }
        });
    }
}

/// Rows per multi-row INSERT: SQLite's per-statement cost is paid once for each group.
const ROWS_PER_INSERT: usize = 32;

/// `OR ROLLBACK`: a failing row undoes the whole transaction (which the writer tries again whole)
/// rather than only its statement, so SQLite keeps no statement journal: that journal copied
/// every page a multi-row INSERT touched to a temporary file.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT OR ROLLBACK INTO events (batch, day, received_ms, source, kind, key, data) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?)");
    }
    sql
}

/// Inserts an encoded batch's rows; returns the bytes of JSON written.
fn write_batch(tx: &Transaction<'_>, batch: &Batch) -> rusqlite::Result<usize> {
    let day = day_key(batch.day);
    let source = source_name(batch.origin);
    let mut bytes = 0;
    for group in batch.rows.chunks(ROWS_PER_INSERT) {
        let mut insert = tx.prepare_cached(&insert_sql(group.len()))?;
        for (row, Row { kind, key, data }) in group.iter().enumerate() {
            bytes += data.len();
            let key = key.as_deref();
            let data = data.as_str();
            let at = row * 7;
            insert.raw_bind_parameter(at + 1, batch.seq as i64)?;
            insert.raw_bind_parameter(at + 2, &day)?;
            insert.raw_bind_parameter(at + 3, batch.received_ms)?;
            insert.raw_bind_parameter(at + 4, source)?;
            insert.raw_bind_parameter(at + 5, *kind)?;
            insert.raw_bind_parameter(at + 6, key)?;
            insert.raw_bind_parameter(at + 7, data)?;
        }
        insert.raw_execute()?;
    }
    if !batch.bad.is_empty() {
        let mut insert = tx.prepare_cached(
            "INSERT INTO bad_frames (batch, day, received_ms, error, frame, len) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for bad in &batch.bad {
            insert.execute(params![
                batch.seq as i64,
                day,
                bad.received_ms,
                bad.error,
                bad.payload,
                bad.len as i64
            ])?;
        }
    }
    Ok(bytes)
}

fn touch_day(tx: &Transaction<'_>, day: NaiveDate, at_ms: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO days (day, first_ms, last_ms) VALUES (?1, ?2, ?2)
         ON CONFLICT (day) DO UPDATE SET first_ms = min(first_ms, excluded.first_ms),
                                         last_ms = max(last_ms, excluded.last_ms)",
    )?
    .execute(params![day_key(day), at_ms])?;
    Ok(())
}

/// Deletes whole days older than the newest `days` days.
fn retain(tx: &Transaction<'_>, days: u32) -> rusqlite::Result<()> {
    let cutoff: Option<String> = tx
        .query_row(
            "SELECT day FROM days ORDER BY day DESC LIMIT 1 OFFSET ?1",
            params![i64::from(days) - 1],
            |row| row.get(0),
        )
        .ok();
    let Some(cutoff) = cutoff else {
        return Ok(());
    };
    for table in ["events", "connection", "bad_frames", "gaps", "days"] {
        tx.execute(&format!("DELETE FROM {table} WHERE day < ?1"), params![cutoff])?;
    }
    Ok(())
}
