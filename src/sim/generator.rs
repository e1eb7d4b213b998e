//! The generator task: steps the simulated day at the configured rate (or as fast as the readers
//! keep up) and publishes its frames to the log every connection reads.

use std::sync::Arc;
use std::time::Duration;

use super::exchange::{CHUNK_STEPS, LOG_CAPACITY, Shared, SimConfig};

/// The generator: steps the day at the configured rate and publishes the frames.
pub(super) async fn generate(shared: Arc<Shared>, config: SimConfig) {
    if config.warmup_steps > 0 {
        let end = {
            let mut exchange = shared.exchange.lock();
            for _ in 0..config.warmup_steps {
                let events = exchange.day.step(None);
                exchange.publish(&events);
            }
            exchange.log_end()
        };
        shared.log_end.send_replace(end);
    }
    let mut generating = shared.generating.subscribe();
    let period = config
        .rate
        .filter(|rate| *rate > 0.0)
        .map(|rate| Duration::from_secs_f64(1.0 / rate));
    let mut ticker = period.map(|period| {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker
    });
    loop {
        if !*generating.borrow_and_update() {
            if generating.changed().await.is_err() {
                return;
            }
            continue;
        }
        match &mut ticker {
            Some(ticker) => {
                ticker.tick().await;
            }
            // As fast as possible, but never more than half a log ahead of the slowest reader.
            // With no one reading, an endless flat-out day would only fill memory: wait for a reader.
            None if config.steps.is_none() && shared.slowest_reader().is_none() => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            None => {
                let slowest = shared.slowest_reader();
                let ahead = slowest.map_or(0, |cursor| shared.log_end.borrow().saturating_sub(cursor));
                if ahead > (LOG_CAPACITY / 2) as u64 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
                tokio::task::yield_now().await;
            }
        }
        let steps = if ticker.is_some() { 1 } else { CHUNK_STEPS };
        let (end, finished) = {
            let mut exchange = shared.exchange.lock();
            let mut finished = false;
            for _ in 0..steps {
                if config.steps.is_some_and(|limit| exchange.day.steps() >= limit) {
                    exchange.release_all();
                    finished = true;
                    break;
                }
                let now = config.realtime_clock.then(|| chrono::Utc::now().timestamp());
                let events = exchange.day.step(now);
                exchange.publish(&events);
            }
            (exchange.log_end(), finished)
        };
        shared.log_end.send_replace(end);
        if finished {
            shared.generating.send_replace(false);
            shared.finished.send_replace(true);
            return;
        }
    }
}
