//! What is subscribed: the subscribe and unsubscribe messages, their acknowledgements, and the
//! kinds each acknowledgement sends to the REST resync.

use std::collections::BTreeSet;
use std::time::Instant;

use super::{Connection, Effect, Effects, Phase};
use crate::fyers::model::EventKind;
use crate::fyers::wire;
use crate::store::FeedStatus;

/// A subscribe message waiting for its acknowledgement.
#[derive(Debug)]
pub(super) struct PendingAck {
    pub(super) deadline: Instant,
    /// The subscription set once acknowledged.
    target: BTreeSet<EventKind>,
    /// Kinds to pull from REST once acknowledged, so nothing from before the ack is missed.
    resync: BTreeSet<EventKind>,
}

impl Connection {
    pub(super) fn frames(&mut self, now: Instant, count: usize, acks: &[String], effects: &mut Effects) {
        let Phase::Open { last_frame, .. } = &mut self.phase else {
            return;
        };
        if count > 0 {
            *last_frame = now;
        }
        let mut target = None;
        for message in acks {
            // Answers to unsubscribe messages are not awaited.
            if message.to_ascii_lowercase().contains("unsub") {
                continue;
            }
            if let Some(ack) = self.acks.pop_front() {
                self.resync.queued.extend(ack.resync);
                target = Some(ack.target);
            }
        }
        if let Some(target) = target {
            self.acknowledged = target.intersection(&self.wanted).copied().collect();
            effects.push(self.subscriptions());
            effects.push(Effect::Status(FeedStatus::Subscribed {
                kinds: self.acknowledged.clone(),
            }));
        }
    }

    pub(super) fn subscriptions(&self) -> Effect {
        Effect::Subscriptions {
            wanted: self.wanted.clone(),
            acknowledged: self.acknowledged.clone(),
        }
    }

    pub(super) fn subscribe(
        &mut self,
        now: Instant,
        added: &BTreeSet<EventKind>,
        target: &BTreeSet<EventKind>,
        effects: &mut Effects,
    ) {
        if added.is_empty() {
            return;
        }
        effects.push(Effect::Send(wire::subscription_message(added, true)));
        self.acks.push_back(PendingAck {
            deadline: now + self.timing.ack_timeout,
            target: target.clone(),
            resync: added.clone(),
        });
    }

    pub(super) fn set_subscriptions(
        &mut self,
        now: Instant,
        kinds: BTreeSet<EventKind>,
        effects: &mut Effects,
    ) {
        if !self.is_open() {
            self.wanted = kinds;
            self.acknowledged.clear();
            effects.push(self.subscriptions());
            return;
        }
        let removed: BTreeSet<_> = self.wanted.difference(&kinds).copied().collect();
        let added: BTreeSet<_> = kinds.difference(&self.wanted).copied().collect();
        self.wanted = kinds.clone();
        // Unsubscribing takes effect at once; the server's answer to it is not awaited.
        self.acknowledged.retain(|kind| !removed.contains(kind));
        effects.push(self.subscriptions());
        if !removed.is_empty() {
            effects.push(Effect::Send(wire::subscription_message(&removed, false)));
        }
        self.subscribe(now, &added, &kinds, effects);
    }
}
