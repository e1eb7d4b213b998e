//! Repaints while streaming: an applied batch asks for a frame no sooner than `MIN_GAP` after the
//! last one, a price tick no sooner than `PRICE_GAP`, so a stream of many small batches costs at
//! most ~10 frames a second and prices alone at most 4 (user input still repaints at once: egui
//! handles that). A request that an earlier-due frame already covers asks for nothing more. And
//! the frames actually drawn, for Diagnostics.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The least time between two frames a batch asks for.
pub const MIN_GAP: Duration = Duration::from_millis(100);
/// The least time between two frames price ticks ask for: a moving price is worth fewer frames
/// than an order changing (under software rendering each frame costs ~15 ms of CPU).
pub const PRICE_GAP: Duration = Duration::from_millis(250);

/// How far back the frame rate looks.
const WINDOW: Duration = Duration::from_secs(10);

/// Paces the feed's repaint requests; called from the feed's threads.
pub struct Pacer {
    ctx: egui::Context,
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    /// When the last frame asked for was due, once that time has come.
    last: Option<Instant>,
    /// A frame asked for and not yet due: it will show whatever changes before it.
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
        self.ask(MIN_GAP);
    }

    /// Prices moved: a frame once `PRICE_GAP` has passed since the last one.
    pub fn request_prices(&self) {
        self.ask(PRICE_GAP);
    }

    fn ask(&self, gap: Duration) {
        let now = Instant::now();
        let mut slots = self.slots.lock();
        match plan(&mut slots, now, gap) {
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
    /// A frame is already due in time and will show it.
    Coming,
}

fn plan(slots: &mut Slots, now: Instant, gap: Duration) -> Plan {
    if let Some(due) = slots.pending.filter(|due| *due <= now) {
        slots.last = Some(due);
        slots.pending = None;
    }
    let wanted = slots.last.map_or(now, |last| now.max(last + gap));
    match slots.pending {
        Some(due) if due <= wanted => Plan::Coming,
        _ if wanted <= now => {
            slots.last = Some(now);
            slots.pending = None;
            Plan::Now
        }
        // Sooner than the frame pending (if any): egui keeps the soonest request, and that frame
        // shows this change too.
        _ => {
            slots.pending = Some(wanted);
            Plan::After(wanted - now)
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
        let batch = |slots: &mut Slots, ms| plan(slots, at(ms), MIN_GAP);
        assert_eq!(batch(&mut slots, 0), Plan::Now);
        assert_eq!(batch(&mut slots, 50), Plan::After(Duration::from_millis(50)));
        assert_eq!(batch(&mut slots, 80), Plan::Coming);
        // After the frame due at 100, the next slot is 200, not 120 + 100.
        assert_eq!(batch(&mut slots, 120), Plan::After(Duration::from_millis(80)));
        assert_eq!(batch(&mut slots, 199), Plan::Coming);
        // Quiet for a while: the next batch draws at once.
        assert_eq!(batch(&mut slots, 900), Plan::Now);
        assert_eq!(batch(&mut slots, 1000), Plan::Now);
    }

    #[test]
    fn prices_wait_longer_and_an_order_batch_brings_their_frame_forward() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let ms = Duration::from_millis;
        let mut slots = Slots::default();
        assert_eq!(plan(&mut slots, at(0), MIN_GAP), Plan::Now);
        // A tick right after: its frame waits for 250 ms after the last.
        assert_eq!(plan(&mut slots, at(10), PRICE_GAP), Plan::After(ms(240)));
        assert_eq!(plan(&mut slots, at(20), PRICE_GAP), Plan::Coming);
        // An order batch wants a frame at 100: sooner, so asked for; it shows the tick too.
        assert_eq!(plan(&mut slots, at(60), MIN_GAP), Plan::After(ms(40)));
        assert_eq!(plan(&mut slots, at(90), PRICE_GAP), Plan::Coming);
        // After the frame at 100, ticks alone draw at 350, 600, ...: four a second.
        assert_eq!(plan(&mut slots, at(110), PRICE_GAP), Plan::After(ms(240)));
        assert_eq!(plan(&mut slots, at(400), PRICE_GAP), Plan::After(ms(200)));
        assert_eq!(plan(&mut slots, at(500), PRICE_GAP), Plan::Coming);
        // Quiet: a tick draws at once.
        assert_eq!(plan(&mut slots, at(2000), PRICE_GAP), Plan::Now);
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
