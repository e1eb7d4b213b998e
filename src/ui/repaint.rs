//! Repaints while streaming: an applied batch asks for a frame no sooner than `MIN_GAP` after the
//! last one it asked for, so a stream of many small batches costs at most ~10 frames a second
//! (user input still repaints at once: egui handles that). And the frames actually drawn, for
//! Diagnostics.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The least time between two frames a batch asks for.
pub const MIN_GAP: Duration = Duration::from_millis(100);

/// How far back the frame rate looks.
const WINDOW: Duration = Duration::from_secs(10);

/// Paces the feed's repaint requests; called from the feed's thread.
pub struct Pacer {
    ctx: egui::Context,
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    /// The earliest a new frame may be asked for at once.
    next: Option<Instant>,
    /// A frame already asked for, due then: it will show this batch too.
    pending: Option<Instant>,
}

impl Pacer {
    pub fn new(ctx: egui::Context) -> Self {
        Self {
            ctx,
            slots: Mutex::default(),
        }
    }

    /// A batch was applied: a frame now, or in the next free slot.
    pub fn request(&self) {
        let now = Instant::now();
        let mut slots = self.slots.lock();
        match plan(&mut slots, now) {
            Plan::Now => self.ctx.request_repaint(),
            Plan::After(wait) => self.ctx.request_repaint_after(wait),
            Plan::Coming => {}
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Plan {
    Now,
    After(Duration),
    /// A frame is already due and will show it.
    Coming,
}

fn plan(slots: &mut Slots, now: Instant) -> Plan {
    if slots.pending.is_some_and(|due| now < due) {
        return Plan::Coming;
    }
    slots.pending = None;
    match slots.next {
        Some(next) if now < next => {
            slots.pending = Some(next);
            slots.next = Some(next + MIN_GAP);
            Plan::After(next - now)
        }
        _ => {
            slots.next = Some(now + MIN_GAP);
            Plan::Now
        }
    }
}

/// When frames were drawn, over the last ten seconds.
#[derive(Debug, Default)]
pub struct FrameRate {
    drawn: VecDeque<Instant>,
}

impl FrameRate {
    pub fn frame(&mut self, now: Instant) {
        self.drawn.push_back(now);
        while self
            .drawn
            .front()
            .is_some_and(|first| now.duration_since(*first) > WINDOW)
        {
            self.drawn.pop_front();
        }
    }

    /// Frames per second over the last ten seconds (or since the first frame, if sooner).
    pub fn per_second(&self, now: Instant) -> f64 {
        let Some(first) = self.drawn.front() else {
            return 0.0;
        };
        let span = now.duration_since(*first).max(Duration::from_secs(1)).min(WINDOW);
        self.drawn.len() as f64 / span.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_close_together_share_a_frame_and_frames_keep_their_gap() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut slots = Slots::default();
        assert_eq!(plan(&mut slots, at(0)), Plan::Now);
        assert_eq!(plan(&mut slots, at(50)), Plan::After(Duration::from_millis(50)));
        assert_eq!(plan(&mut slots, at(80)), Plan::Coming);
        // After the frame due at 100, the next slot is 200, not 120 + 100.
        assert_eq!(plan(&mut slots, at(120)), Plan::After(Duration::from_millis(80)));
        assert_eq!(plan(&mut slots, at(199)), Plan::Coming);
        // Quiet for a while: the next batch draws at once.
        assert_eq!(plan(&mut slots, at(900)), Plan::Now);
        assert_eq!(plan(&mut slots, at(1000)), Plan::Now);
    }

    #[test]
    fn the_frame_rate_counts_the_last_ten_seconds() {
        let start = Instant::now();
        let mut rate = FrameRate::default();
        assert_eq!(rate.per_second(start), 0.0);
        for tenth in 0..200 {
            rate.frame(start + Duration::from_millis(tenth * 100));
        }
        let now = start + Duration::from_millis(19_900);
        assert!(
            (rate.per_second(now) - 10.0).abs() < 0.2,
            "{}",
            rate.per_second(now)
        );
    }
}
