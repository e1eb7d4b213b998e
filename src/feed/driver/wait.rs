//! The driver's waiting: a batch of frames off the socket, a deadline, a token's end on the
//! monotonic clock.

use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::{MAX_BATCH, Stream};

/// Takes every frame already waiting (at least one, at most `MAX_BATCH`), and how the socket ended
/// if it did. Cancel-safe: nothing is taken before the first frame arrives, nothing awaited after.
pub(super) async fn read_batch(stream: Option<&mut Stream>) -> (Vec<Message>, Option<String>) {
    let Some(stream) = stream else {
        return std::future::pending().await;
    };
    let mut messages = Vec::new();
    let mut end = None;
    let mut next = Some(stream.next().await);
    while let Some(message) = next.take() {
        match message {
            Some(Ok(message)) => messages.push(message),
            Some(Err(err)) => end = Some(format!("socket error: {err}")),
            None => end = Some("closed by the server".to_owned()),
        }
        if end.is_none() && messages.len() < MAX_BATCH {
            next = stream.next().now_or_never();
        }
    }
    (messages, end)
}

pub(super) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// When a token whose JWT says `exp_secs` dies, on the monotonic clock: an absurd `exp` (far past
/// or far future) saturates instead of overflowing; one too far to say is `None` (never).
pub(super) fn expiry_instant(now: Instant, now_ms: i64, exp_secs: i64) -> Option<Instant> {
    let left_ms = exp_secs.saturating_mul(1000).saturating_sub(now_ms);
    now.checked_add(Duration::from_millis(left_ms.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_exp_gives_an_instant_or_never() {
        let now = Instant::now();
        let now_ms = 1_796_000_000_000;
        let cases = [
            (1_796_000_060, Some(Duration::from_secs(60))),
            (1_795_000_000, Some(Duration::ZERO)),
            (0, Some(Duration::ZERO)),
            (i64::MIN, Some(Duration::ZERO)),
        ];
        for (exp, left) in cases {
            assert_eq!(expiry_instant(now, now_ms, exp).map(|at| at - now), left, "{exp}");
        }
        // Far future: whatever the platform's Instant can hold, no panic.
        let _ = expiry_instant(now, now_ms, i64::MAX);
        let _ = expiry_instant(now, i64::MIN, i64::MAX);
    }
}
