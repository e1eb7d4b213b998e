//! A connection's view of its topics: the names it subscribed (topic → the user's symbol), and
//! for each topic id the server named in a snapshot, the values so far and their scaling.
//! Updates carry only the id, so the map is the only way to know what they price.
//!
//! [`Decoder::record`] gives a topic's record exactly as the official SDK hands it to its
//! callback (same keys, same scaled values, same rounding), which the golden tests compare.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::hsm::{Entry, NO_VALUE, TopicKind, scale};

/// One topic the server described.
#[derive(Debug, Clone)]
pub struct Topic {
    pub name: String,
    /// The user's Fyers symbol, e.g. `NSE:SBIN-EQ`.
    pub symbol: String,
    pub kind: TopicKind,
    multiplier: u16,
    precision: u8,
    /// By position in the kind's field list; `None`: never received.
    values: Vec<Option<i32>>,
}

impl Topic {
    fn price(&self, index: usize) -> Option<f64> {
        let raw = (*self.values.get(index)?)?;
        Some(scale(raw, self.precision, self.multiplier))
    }

    /// The last traded price, scaled (scrip and index topics).
    pub fn ltp(&self) -> Option<f64> {
        match self.kind {
            TopicKind::Depth => None,
            _ => self.price(0),
        }
    }

    /// Sets the positional values that carry one; true when any changed.
    fn merge(&mut self, values: &[i32]) -> bool {
        let mut changed = false;
        for (slot, value) in self.values.iter_mut().zip(values) {
            if *value != NO_VALUE && *slot != Some(*value) {
                *slot = Some(*value);
                changed = true;
            }
        }
        changed
    }
}

/// What one entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The topic's record changed (the SDK would call back); `ltp` says whether its price did.
    Changed { topic_id: [u8; 2], ltp: bool },
    /// Nothing changed (an identical update), or the topic id is unknown.
    Unchanged,
    /// A snapshot for a topic this connection never subscribed: ignored.
    NotSubscribed,
}

#[derive(Debug, Default)]
pub struct Decoder {
    lite: bool,
    names: HashMap<String, String>,
    topics: HashMap<[u8; 2], Topic>,
}

impl Decoder {
    pub fn new(lite: bool) -> Self {
        Self {
            lite,
            ..Self::default()
        }
    }

    /// `topic` now stands for `symbol`; its snapshot will be accepted.
    pub fn subscribe(&mut self, topic: &str, symbol: &str) {
        self.names.insert(topic.to_owned(), symbol.to_owned());
    }

    /// Forgets a topic: its snapshots and updates are ignored from now on.
    pub fn unsubscribe(&mut self, topic: &str) {
        self.names.remove(topic);
        self.topics.retain(|_, known| known.name != topic);
    }

    /// A new connection: the server numbers topics afresh, the subscriptions stay.
    pub fn reset_topics(&mut self) {
        self.topics.clear();
    }

    pub fn topic(&self, topic_id: [u8; 2]) -> Option<&Topic> {
        self.topics.get(&topic_id)
    }

    pub fn topics(&self) -> impl Iterator<Item = &Topic> {
        self.topics.values()
    }

    pub fn apply(&mut self, entry: &Entry) -> Applied {
        match entry {
            Entry::Snapshot {
                topic_id,
                topic,
                values,
                multiplier,
                precision,
                ..
            } => {
                let (Some(symbol), Some(kind)) = (self.names.get(topic), TopicKind::of(topic)) else {
                    return Applied::NotSubscribed;
                };
                let mut fresh = Topic {
                    name: topic.clone(),
                    symbol: symbol.clone(),
                    kind,
                    // A multiplier of 0 would divide by zero: read it as 1.
                    multiplier: (*multiplier).max(1),
                    precision: *precision,
                    values: vec![None; kind.fields().len()],
                };
                fresh.merge(values);
                // The same id may have named another topic before: the snapshot replaces it.
                self.topics
                    .retain(|id, known| id == topic_id || known.name != *topic);
                self.topics.insert(*topic_id, fresh);
                Applied::Changed {
                    topic_id: *topic_id,
                    ltp: true,
                }
            }
            Entry::Update { topic_id, values } => match self.topics.get_mut(topic_id) {
                Some(known) => {
                    let before = known.values.first().copied().flatten();
                    if known.merge(values) {
                        let ltp = known.values.first().copied().flatten() != before;
                        Applied::Changed {
                            topic_id: *topic_id,
                            ltp,
                        }
                    } else {
                        Applied::Unchanged
                    }
                }
                None => Applied::Unchanged,
            },
            Entry::Ltp { topic_id, ltp } => match self.topics.get_mut(topic_id) {
                Some(known)
                    if known.kind != TopicKind::Depth
                        && *ltp != NO_VALUE
                        && known.values[0].is_some_and(|old| old != *ltp) =>
                {
                    known.values[0] = Some(*ltp);
                    Applied::Changed {
                        topic_id: *topic_id,
                        ltp: true,
                    }
                }
                _ => Applied::Unchanged,
            },
        }
    }

    /// Whether the SDK would hand `applied`'s record to its callback (lite mode sends only scrip
    /// and index records that have a price).
    pub fn emits(&self, applied: Applied) -> Option<[u8; 2]> {
        let Applied::Changed { topic_id, .. } = applied else {
            return None;
        };
        let topic = self.topics.get(&topic_id)?;
        let delivered = !self.lite || topic.ltp().is_some();
        delivered.then_some(topic_id)
    }

    /// The topic's record as the SDK's callback receives it.
    pub fn record(&self, topic_id: [u8; 2]) -> Option<Value> {
        let topic = self.topics.get(&topic_id)?;
        if self.lite {
            let ltp = topic.ltp()?;
            return Some(json!({"ltp": ltp, "symbol": topic.symbol, "type": topic.kind.code()}));
        }
        let mut record = Map::new();
        for (index, name) in topic.kind.fields().iter().enumerate() {
            let Some(raw) = topic.values[index] else { continue };
            let value = match (topic.kind, *name) {
                (TopicKind::Scrip, "OI" | "Yhigh" | "Ylow") => continue,
                // The SDK always reports the circuit limits as 0.
                (TopicKind::Scrip, "lower_ckt" | "upper_ckt") => json!(0),
                (kind, _) if kind.is_price(index) => json!(scale(raw, topic.precision, topic.multiplier)),
                _ => json!(raw),
            };
            record.insert((*name).to_owned(), value);
        }
        record.insert("type".into(), json!(topic.kind.code()));
        record.insert("symbol".into(), json!(topic.symbol));
        if topic.kind == TopicKind::Scrip {
            for name in ["lower_ckt", "upper_ckt"] {
                record.entry(name).or_insert(json!(0));
            }
        }
        let digits = match topic.kind {
            TopicKind::Scrip => Some(4),
            TopicKind::Index => Some(2),
            TopicKind::Depth => None,
        };
        let close_at = match topic.kind {
            TopicKind::Scrip => 20,
            _ => 1,
        };
        if let (Some(digits), Some(ltp), Some(close)) = (digits, topic.price(0), topic.price(close_at))
            && close != 0.0
        {
            let change = py_round(ltp - close, digits);
            record.insert("ch".into(), json!(change));
            record.insert("chp".into(), json!(py_round(change / close * 100.0, digits)));
        }
        Some(Value::Object(record))
    }
}

/// Python's `round(x, digits)`: the exact binary value rounded half to even. Rust's formatting
/// rounds the same way, so the decimal it writes is the one Python picks.
pub fn py_round(x: f64, digits: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.digits$}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_rounding_on_exact_ties() {
        // MARKET_DATA.md §5.6: 0.125 rounds to 0.12, not 0.13.
        assert_eq!(py_round(0.125, 2), 0.12);
        assert_eq!(py_round(0.375, 2), 0.38);
        assert_eq!(py_round(6.149_999_999_999_977, 4), 6.15);
    }

    #[test]
    fn updates_for_unknown_ids_and_identical_values_change_nothing() {
        let mut decoder = Decoder::new(true);
        decoder.subscribe("sf|nse_cm|3045", "NSE:SBIN-EQ");
        let id = [0, 1];
        let snapshot = Entry::Snapshot {
            topic_id: id,
            topic: "sf|nse_cm|3045".into(),
            values: vec![81245],
            multiplier: 1,
            precision: 2,
            exchange: "NSE".into(),
            token: "3045".into(),
            symbol: "SBIN-EQ".into(),
        };
        assert!(matches!(decoder.apply(&snapshot), Applied::Changed { .. }));
        let same = Entry::Update {
            topic_id: id,
            values: vec![81245],
        };
        assert_eq!(decoder.apply(&same), Applied::Unchanged);
        let unknown = Entry::Ltp {
            topic_id: [9, 9],
            ltp: 1,
        };
        assert_eq!(decoder.apply(&unknown), Applied::Unchanged);
        let moved = Entry::Ltp {
            topic_id: id,
            ltp: 81300,
        };
        assert_eq!(
            decoder.apply(&moved),
            Applied::Changed {
                topic_id: id,
                ltp: true
            }
        );
        assert_eq!(decoder.topic(id).and_then(Topic::ltp), Some(813.0));
    }
}
