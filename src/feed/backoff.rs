//! When to try again: exponential backoff with jitter, reset after a stable connection.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    /// Each delay is shortened by a random part of up to this fraction, so clients that lost the
    /// server together do not come back together.
    pub jitter: f64,
}

impl Backoff {
    /// The socket's policy: about 1 s, doubling, capped at 30 s.
    pub const SOCKET: Self = Self {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(30),
        jitter: 0.25,
    };
    /// REST resync: Fyers blocks clients over 200 requests a minute, so start slower.
    pub const REST: Self = Self {
        initial: Duration::from_secs(2),
        max: Duration::from_secs(60),
        jitter: 0.25,
    };

    /// The delay before attempt `attempt` (1 = the first retry), without jitter.
    pub fn base(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        self.initial.saturating_mul(1 << doublings).min(self.max)
    }

    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let cut = rng.random_range(0.0..=self.jitter.clamp(0.0, 1.0));
        self.base(attempt).mul_f64(1.0 - cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn doubles_to_the_cap() {
        let backoff = Backoff::SOCKET;
        let secs: Vec<u64> = (1..=8).map(|n| backoff.base(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff.base(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn jitter_only_shortens() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempt in 1..10 {
            let delay = Backoff::SOCKET.delay(attempt, &mut rng);
            assert!(delay <= Backoff::SOCKET.base(attempt));
            assert!(delay >= Backoff::SOCKET.base(attempt).mul_f64(0.75));
        }
    }
}
