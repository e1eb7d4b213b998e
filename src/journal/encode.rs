//! The stage before the writer: each batch's events become the rows the writer inserts (their
//! JSON written, the events dropped) on a thread of their own, so the one thread that must hold
//! the SQLite connection spends its time in SQLite. Jobs pass through in order.

use tokio::sync::mpsc;

use super::{Batch, Job, Row};
use crate::fyers::model::Event;

/// Turns jobs into rows until the journal's handles are gone, then lets the writer drain.
pub(super) fn run(mut jobs: mpsc::Receiver<Job>, writer: mpsc::Sender<Job>) {
    super::priority::background_priority();
    while let Some(mut job) = jobs.blocking_recv() {
        if let Job::Batch(batch) = &mut job {
            encode_batch(batch);
        }
        if writer.blocking_send(job).is_err() {
            return;
        }
    }
}

fn encode_batch(batch: &mut Batch) {
    batch.rows.reserve(batch.events.len());
    for event in batch.events.drain(..) {
        let mut data = Vec::with_capacity(768);
        let (kind, key) = encode(&event, &mut data);
        batch.rows.push(Row {
            kind,
            key: key.map(Into::into),
            // serde_json writes UTF-8 only.
            data: String::from_utf8(data).unwrap_or_else(|_| "{}".into()),
        });
    }
}

/// Writes an event's JSON into `buf`; returns its kind and key.
fn encode<'a>(event: &'a Event, buf: &mut Vec<u8>) -> (&'static str, Option<&'a str>) {
    // Serialising these plain structs cannot fail: every key is a string, every number finite or
    // written as null.
    match event {
        Event::Order(order) => {
            let _ = serde_json::to_writer(&mut *buf, &**order);
            ("orders", Some(order.id.as_str()))
        }
        Event::Trade(trade) => {
            let _ = serde_json::to_writer(&mut *buf, &**trade);
            ("trades", Some(trade.trade_number.as_str()))
        }
        Event::Position(position) => {
            let _ = serde_json::to_writer(&mut *buf, &**position);
            ("positions", Some(position.id.as_str()))
        }
        Event::General(general) => {
            let _ = serde_json::to_writer(&mut *buf, &general.raw);
            ("general", None)
        }
    }
}
