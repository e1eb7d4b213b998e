//! `orderwatch sim --replay-date`: a journaled day played back through the simulator. Its socket
//! batches go out as frames, in the order they arrived, at a chosen rate; the REST books follow
//! the same truth the recording client kept (each event that changed its store, resync rows
//! included), so a client connecting mid-replay resyncs to the day as it stood then.

use std::time::{Duration, Instant};

use super::SimHandle;
use crate::fyers::model::Event;
use crate::journal::Recorded;
use crate::store::{Origin, Store};

/// Frames published at once when playing as fast as the readers keep up.
const CHUNK: usize = 1024;

/// How far ahead of the slowest reader a flat-out replay may run.
const MAX_AHEAD: u64 = 65_536;

/// Plays `recorded` at `rate` frames a second (`None`: as fast as connections read), then marks
/// the day finished. Returns the frames published.
pub async fn play(handle: SimHandle, recorded: Recorded, rate: Option<f64>) -> u64 {
    // The recording client's store, replayed alongside: what changed it is the truth REST shows.
    let mut replica = Store::new(crate::journal::history_store_config());
    let started = Instant::now();
    let mut sent = 0u64;
    for batch in recorded.batches {
        let copy = batch.events.clone();
        let report = replica.replay_batch(batch.events, batch.bad, batch.origin, batch.received_ms);
        let truth: Vec<Event> = copy
            .iter()
            .zip(&report.outcomes)
            .filter(|(_, outcome)| outcome.changed())
            .map(|(event, _)| event.clone())
            .collect();
        if batch.origin == Origin::Resync {
            handle.publish_with_truth(&[], &truth);
            continue;
        }
        // Frames go out in pieces at the rate; the truth moves with the batch they belong to.
        let mut truth = Some(truth);
        for piece in copy.chunks(CHUNK) {
            match rate {
                Some(rate) => {
                    let mut left = piece;
                    while !left.is_empty() {
                        let due_at = started + Duration::from_secs_f64(sent as f64 / rate);
                        tokio::time::sleep_until(due_at.into()).await;
                        let due = ((started.elapsed().as_secs_f64() * rate) as u64)
                            .saturating_sub(sent)
                            .max(1);
                        let (now, later) = left.split_at((due as usize).min(left.len()));
                        handle.publish_with_truth(now, &truth.take().unwrap_or_default());
                        sent += now.len() as u64;
                        left = later;
                    }
                }
                None => {
                    while handle.slowest_lag().is_none_or(|lag| lag > MAX_AHEAD) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    handle.publish_with_truth(piece, &truth.take().unwrap_or_default());
                    sent += piece.len() as u64;
                    tokio::task::yield_now().await;
                }
            }
        }
    }
    handle.finish();
    sent
}
