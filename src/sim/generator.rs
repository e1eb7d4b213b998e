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
    let period = config.rate.and_then(step_period);
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

/// The time between steps at `rate` steps a second: `None` (as fast as the readers go) for 0 or
/// any rate too fast to time, at most a day for rates too slow to mean anything else.
fn step_period(rate: f64) -> Option<Duration> {
    const LONGEST: Duration = Duration::from_secs(86_400);
    if rate.is_nan() || rate <= 0.0 {
        return None;
    }
    let period = Duration::try_from_secs_f64(1.0 / rate)
        .unwrap_or(LONGEST)
        .min(LONGEST);
    (!period.is_zero()).then_some(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_rate_gives_a_period_a_timer_takes() {
        let cases = [
            (4.0, Some(Duration::from_millis(250))),
            (0.0, None),
            (-1.0, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
            (1e30, None),
            (1e-320, Some(Duration::from_secs(86_400))),
            (1e-6, Some(Duration::from_secs(86_400))),
        ];
        for (rate, period) in cases {
            assert_eq!(step_period(rate), period, "{rate}");
        }
    }
}
