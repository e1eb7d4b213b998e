//! Reading the journal back: a day's batches in the order they were applied, the days kept, and a
//! store rebuilt from them. Reads open their own connection (WAL: they never block the writer).

use std::path::Path;

use chrono::NaiveDate;
use rusqlite::{Connection, OpenFlags, params};

use super::JournalError;
use super::writer::day_key;
use crate::fyers::model::{Event, GeneralEvent};
use crate::store::{BadFrame, Origin, Store};

/// One batch as it was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedBatch {
    pub origin: Origin,
    pub received_ms: i64,
    pub events: Vec<Event>,
    pub bad: Vec<BadFrame>,
}

/// A trading day as the journal has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorded {
    pub day: Option<NaiveDate>,
    pub batches: Vec<RecordedBatch>,
    /// The connection log: (Unix ms, line).
    pub notes: Vec<(i64, String)>,
    /// Rows that could not be read back (edited by hand, or damaged): skipped, counted.
    pub unreadable: u64,
    /// Events applied that day but never journaled (the gaps' total).
    pub gaps: u64,
}

impl Recorded {
    pub fn events(&self) -> usize {
        self.batches.iter().map(|batch| batch.events.len()).sum()
    }
}

fn open_read(path: &Path) -> Result<Connection, JournalError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > super::schema::VERSION {
        return Err(JournalError::TooNew {
            found: version,
            known: super::schema::VERSION,
        });
    }
    Ok(conn)
}

/// The days in the journal, newest first, with their event counts.
pub fn days(path: &Path) -> Result<Vec<(NaiveDate, u64)>, JournalError> {
    let conn = open_read(path)?;
    let mut query = conn.prepare(
        "SELECT d.day, (SELECT count(*) FROM events e WHERE e.day = d.day) FROM days d ORDER BY d.day DESC",
    )?;
    let rows = query.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
    let mut days = Vec::new();
    for row in rows {
        let (day, events) = row?;
        if let Ok(day) = day.parse::<NaiveDate>() {
            days.push((day, events.max(0) as u64));
        }
    }
    Ok(days)
}

/// Everything journaled on `day`, in the order it was applied.
pub fn load_day(path: &Path, day: NaiveDate) -> Result<Recorded, JournalError> {
    let conn = open_read(path)?;
    let key = day_key(day);
    let mut recorded = Recorded {
        day: Some(day),
        ..Recorded::default()
    };
    let mut bad_frames = conn
        .prepare("SELECT batch, received_ms, error, frame, len FROM bad_frames WHERE day = ?1 ORDER BY id")?;
    let mut bad: Vec<(i64, BadFrame)> = bad_frames
        .query_map(params![key], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                BadFrame {
                    received_ms: row.get(1)?,
                    error: row.get(2)?,
                    payload: row.get(3)?,
                    len: row.get::<_, i64>(4)?.max(0) as usize,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    bad.reverse();
    let mut events =
        conn.prepare("SELECT batch, received_ms, source, kind, data FROM events WHERE day = ?1 ORDER BY id")?;
    let mut rows = events.query(params![key])?;
    let mut current: Option<(i64, RecordedBatch)> = None;
    while let Some(row) = rows.next()? {
        let batch: i64 = row.get(0)?;
        let received_ms: i64 = row.get(1)?;
        let source: String = row.get(2)?;
        let kind: String = row.get(3)?;
        let data: String = row.get(4)?;
        let origin = if source == "resync" {
            Origin::Resync
        } else {
            Origin::Socket
        };
        if current.as_ref().is_none_or(|(number, _)| *number != batch) {
            if let Some((number, done)) = current.take() {
                recorded.batches.push(with_bad_frames(number, done, &mut bad));
            }
            take_bad_before(batch, &mut bad, &mut recorded.batches);
            current = Some((
                batch,
                RecordedBatch {
                    origin,
                    received_ms,
                    events: Vec::new(),
                    bad: Vec::new(),
                },
            ));
        }
        match decode(&kind, &data) {
            Some(event) => {
                if let Some((_, batch)) = current.as_mut() {
                    batch.events.push(event);
                }
            }
            None => recorded.unreadable += 1,
        }
    }
    if let Some((number, done)) = current.take() {
        recorded.batches.push(with_bad_frames(number, done, &mut bad));
    }
    take_bad_before(i64::MAX, &mut bad, &mut recorded.batches);
    let mut notes = conn.prepare("SELECT at_ms, note FROM connection WHERE day = ?1 ORDER BY id")?;
    recorded.notes = notes
        .query_map(params![key], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    recorded.gaps = conn
        .query_row(
            "SELECT ifnull(sum(events), 0) FROM gaps WHERE day = ?1",
            params![key],
            |row| row.get::<_, i64>(0),
        )?
        .max(0) as u64;
    Ok(recorded)
}

/// `bad` is in reverse order: its last entries are the oldest.
fn with_bad_frames(number: i64, mut batch: RecordedBatch, bad: &mut Vec<(i64, BadFrame)>) -> RecordedBatch {
    while bad.last().is_some_and(|(of, _)| *of == number) {
        if let Some((_, frame)) = bad.pop() {
            batch.bad.push(frame);
        }
    }
    batch
}

/// Batches that held only bad frames, before batch `number`.
fn take_bad_before(number: i64, bad: &mut Vec<(i64, BadFrame)>, batches: &mut Vec<RecordedBatch>) {
    while let Some(&(of, _)) = bad.last().filter(|(of, _)| *of < number) {
        let mut batch = RecordedBatch {
            origin: Origin::Socket,
            received_ms: 0,
            events: Vec::new(),
            bad: Vec::new(),
        };
        while bad.last().is_some_and(|(this, _)| *this == of) {
            if let Some((_, frame)) = bad.pop() {
                batch.received_ms = frame.received_ms;
                batch.bad.push(frame);
            }
        }
        batches.push(batch);
    }
}

/// An event from its journal row; `None` if the row is not what this build writes.
fn decode(kind: &str, data: &str) -> Option<Event> {
    Some(match kind {
        "orders" => Event::Order(Box::new(serde_json::from_str(data).ok()?)),
        "trades" => Event::Trade(Box::new(serde_json::from_str(data).ok()?)),
        "positions" => Event::Position(Box::new(serde_json::from_str(data).ok()?)),
        "general" => Event::General(GeneralEvent::from_frame(serde_json::from_str(data).ok()?)),
        _ => return None,
    })
}

/// Rebuilds `store` from a recorded day: every batch replayed as it was applied, then the
/// connection log. What was restored does not count as new.
pub fn restore(store: &mut Store, recorded: Recorded) {
    if let Some(day) = recorded.day {
        store.start_day(day);
    }
    for batch in recorded.batches {
        store.replay_batch(batch.events, batch.bad, batch.origin, batch.received_ms);
    }
    for (at_ms, note) in recorded.notes {
        store.replay_note(at_ms, note);
    }
    store.mark_all_seen();
}
