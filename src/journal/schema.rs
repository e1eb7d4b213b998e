//! The journal's tables, versioned with `PRAGMA user_version` and migrated forward on open.
//! README.md documents them for users who read the file with their own tools.

use rusqlite::Connection;

use super::JournalError;

/// Each entry takes the schema from the version before it to its own (index + 1).
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "
    CREATE TABLE days (
        day TEXT PRIMARY KEY,            -- the trading day, YYYY-MM-DD (06:00 to 06:00 IST)
        first_ms INTEGER NOT NULL,       -- first thing journaled that day (Unix ms)
        last_ms INTEGER NOT NULL         -- last thing journaled that day
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,          -- rises in the order events were applied
        batch INTEGER NOT NULL,          -- events applied together share a batch
        day TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('socket', 'resync')),
        kind TEXT NOT NULL CHECK (kind IN ('orders', 'trades', 'positions', 'general')),
        key TEXT,                        -- order id, trade number, position id (none for general)
        data TEXT NOT NULL               -- JSON: the record with the SDK's friendly keys, or the
                                         -- general message exactly as received
    );
    CREATE INDEX events_by_day ON events (day);
    CREATE TABLE connection (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        state TEXT NOT NULL,             -- connecting, connected, reconnecting, resynced, ...
        note TEXT NOT NULL,              -- the line the connection log shows
        data TEXT NOT NULL               -- JSON: the status as headless prints it
    );
    CREATE INDEX connection_by_day ON connection (day);
    CREATE TABLE bad_frames (
        id INTEGER PRIMARY KEY,
        batch INTEGER NOT NULL,
        day TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        error TEXT NOT NULL,
        frame TEXT NOT NULL,             -- the frame's first 2 KiB
        len INTEGER NOT NULL             -- the frame's whole length in bytes
    );
    CREATE INDEX bad_frames_by_day ON bad_frames (day);
    CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        from_ms INTEGER NOT NULL,
        to_ms INTEGER NOT NULL,
        events INTEGER NOT NULL,         -- events applied but not journaled
        reason TEXT NOT NULL
    );
    ",
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to `VERSION`, each step in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), JournalError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > VERSION {
        return Err(JournalError::TooNew {
            found,
            known: VERSION,
        });
    }
    if found == 0 {
        // Must precede the first table: lets retention give space back to the disk.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
