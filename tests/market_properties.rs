//! The market-data parser on generated frames: every frame the encoder writes reads back the
//! same; any cut of it reads as the entries before the cut, or an error; arbitrary bytes and
//! arbitrary entries (any ids, any values, any scaling) never panic the parser or the topic map.
//! `PROPTEST_CASES` sets the number of cases (4,000 by default).

use orderwatch::fyers::market::Decoder;
use orderwatch::fyers::market::hsm::{self, Entry, ServerFrame};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4_000)
}

const TOPICS: [&str; 4] = [
    "sf|nse_cm|3045",
    "if|nse_cm|Nifty 50",
    "dp|nse_cm|3045",
    "xx|odd|1",
];

fn value() -> impl Strategy<Value = i32> {
    prop_oneof![Just(hsm::NO_VALUE), Just(0), any::<i32>(), 1..10_000_000i32]
}

fn entry() -> impl Strategy<Value = Entry> {
    let id = (0u8..4, 0u8..4).prop_map(|(a, b)| [a, b]);
    prop_oneof![
        (
            id.clone(),
            0usize..4,
            prop::collection::vec(value(), 0..40),
            any::<u16>(),
            any::<u8>(),
            ".{0,8}"
        )
            .prop_map(
                |(topic_id, topic, values, multiplier, precision, symbol)| Entry::Snapshot {
                    topic_id,
                    topic: TOPICS[topic].into(),
                    values,
                    multiplier,
                    precision,
                    exchange: "NSE".into(),
                    token: "3045".into(),
                    symbol,
                }
            ),
        (id.clone(), prop::collection::vec(value(), 0..40))
            .prop_map(|(topic_id, values)| Entry::Update { topic_id, values }),
        (id, value()).prop_map(|(topic_id, ltp)| Entry::Ltp { topic_id, ltp }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn data_frames_read_back_and_cut_frames_keep_what_came_before(
        number in any::<u32>(),
        entries in prop::collection::vec(entry(), 0..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = hsm::data(number, &entries);
        let read = hsm::parse(&bytes).unwrap();
        prop_assert_eq!(read, ServerFrame::Data { number, entries: entries.clone(), fault: None });
        let at = cut.index(bytes.len());
        match hsm::parse(&bytes[..at]) {
            Ok(ServerFrame::Data { entries: got, fault, .. }) => {
                prop_assert!(got.len() <= entries.len());
                prop_assert_eq!(&got[..], &entries[..got.len()]);
                prop_assert!(fault.is_some() || got.len() == entries.len());
            }
            Ok(other) => prop_assert!(false, "a cut data frame read as {:?}", other),
            Err(_) => prop_assert!(at < 9, "only a cut header is refused whole"),
        }
    }

    #[test]
    fn any_bytes_and_any_entries_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        kind in prop::sample::select(vec![1u8, 4, 5, 6, 7, 8, 11, 12, 51, 99]),
        entries in prop::collection::vec(entry(), 0..20),
        lite in any::<bool>(),
    ) {
        let _ = hsm::parse(&bytes);
        let mut typed = bytes.clone();
        if typed.len() >= 3 {
            typed[2] = kind;
        }
        let _ = hsm::parse(&typed);
        let mut decoder = Decoder::new(lite);
        for topic in TOPICS {
            decoder.subscribe(topic, "NSE:SBIN-EQ");
        }
        for entry in &entries {
            let applied = decoder.apply(entry);
            if let Some(id) = decoder.emits(applied) {
                let record = decoder.record(id);
                prop_assert!(record.is_some());
            }
        }
        for topic in decoder.topics() {
            if let Some(ltp) = topic.ltp() {
                prop_assert!(!ltp.is_nan());
            }
        }
    }
}
