use super::*;
use crate::fyers::wire::{Frame, parse_with_serde};

const SAMPLE: &str = include_str!("../../../tests/data/sample-day.raw.jsonl");

/// Whatever the fast path accepts, serde reads identically.
fn agrees(text: &str) -> bool {
    match data_frame(text) {
        None => true,
        Some(event) => matches!(parse_with_serde(text), Ok(Frame::Event(serde)) if serde == event),
    }
}

#[test]
fn reads_every_sample_data_frame_as_serde_does() {
    let mut fast = 0;
    for (line, text) in SAMPLE.lines().enumerate() {
        let serde = parse_with_serde(text).unwrap();
        match data_frame(text) {
            Some(event) => {
                assert_eq!(Frame::Event(event), serde, "line {line}");
                fast += 1;
            }
            None => assert!(
                matches!(serde, Frame::Event(crate::fyers::model::Event::General(_))),
                "line {line}"
            ),
        }
    }
    assert_eq!(fast, 1989, "every data frame takes the fast path");
}

#[test]
fn never_accepts_what_serde_would_read_differently() {
    let frames: Vec<&str> = SAMPLE
        .lines()
        .filter(|l| !l.contains("pricealerts"))
        .take(40)
        .step_by(13)
        .collect();
    let replacements = [
        "\"", "\\", "{", "}", "[", "]", ",", ":", "0", "1", "-", ".", "e", " ", "n", "x", "\u{1}", "é",
    ];
    for text in &frames {
        for cut in 0..text.len() {
            assert!(agrees(&text[..cut]), "truncated at {cut}: {}", &text[..cut]);
        }
        for (at, _) in text.char_indices() {
            for replacement in replacements {
                let mut mutated = String::with_capacity(text.len() + 2);
                mutated.push_str(&text[..at]);
                mutated.push_str(replacement);
                mutated.push_str(&text[at + text[at..].chars().next().map_or(0, char::len_utf8)..]);
                assert!(agrees(&mutated), "{mutated}");
            }
        }
    }
}

#[test]
fn edge_cases() {
    let cases = [
        (r#"{"orders":{"id":"1","qty":null,"price_limit":5}}"#, true),
        (r#"{"orders":{"id":"1","qty":5.0}}"#, false),
        (r#"{"orders":{"id":"1","symbol":"A\"B"}}"#, false),
        (r#"{"orders":{"id":"1","id":"2"}}"#, false),
        (
            r#"{"orders":{"id":"1","qty_remaining":1,"remainingQuantity":1}}"#,
            false,
        ),
        (r#"{"orders":{"qty":1}}"#, false),
        (r#"{"orders":{"id":"1"},"trades":{"id_fill":"2"}}"#, false),
        (r#"{"orders":{"id":"1"}} x"#, false),
        (
            r#"{"orders":{"id":"1","extra":{"a":[1,{"b":null}],"c":"d"}},"s":"ok"}"#,
            true,
        ),
        (
            r#" { "s" : "ok" , "trades" : { "id_fill" : "9" , "qty_traded" : -0 } } "#,
            false,
        ),
        (
            r#" { "s" : "ok" , "trades" : { "id_fill" : "9" , "trade_price" : -0 } } "#,
            true,
        ),
        (r#"{"orders":{"id":"1","qty":01}}"#, false),
        (r#"{"orders":{"id":"1","price_limit":1e400}}"#, false),
        (r#"{"s":"ok","login":{"x":1}}"#, false),
    ];
    for (text, fast) in cases {
        assert_eq!(data_frame(text).is_some(), fast, "{text}");
        assert!(agrees(text), "{text}");
    }
}

#[test]
fn string_end_finds_the_first_special_byte() {
    for text in [
        "",
        "abc",
        "abcdefgh",
        "abcdefghij\"",
        "a\\b",
        "é\"",
        "\u{1}",
        "0123456789abcdef\"x",
    ] {
        let expected = text.bytes().position(|b| b == b'"' || b == b'\\' || b < 0x20);
        assert_eq!(string_end(text.as_bytes()), expected, "{text:?}");
    }
    let long: String = "x".repeat(20) + "\u{1f}" + "\"";
    assert_eq!(string_end(long.as_bytes()), Some(20));
    // Every position of the sixteen- and eight-byte steps and the tail, each special byte, and
    // bytes that are not special though they look it to a signed comparison (0x7f, UTF-8).
    for len in 0..48 {
        for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
            for at in 0..len {
                let mut bytes = "é".repeat(len).into_bytes();
                bytes.truncate(len);
                bytes
                    .iter_mut()
                    .filter(|byte| **byte < 0x80)
                    .for_each(|byte| *byte = 0x7f);
                bytes[at] = special;
                assert_eq!(string_end(&bytes), Some(at), "{len} bytes, {special:#x} at {at}");
            }
        }
        let plain = vec![b' '; len];
        assert_eq!(string_end(&plain), None, "{len} spaces");
    }
}

/// The fast path's number reading, bit for bit against serde's (with `float_roundtrip`).
#[test]
fn numbers_read_exactly_as_serde_reads_them() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let mut numbers: Vec<String> = [
        "0",
        "-0",
        "0.0",
        "-0.0",
        "5",
        "-5",
        "1e5",
        "1E-5",
        "2.5e+3",
        "0.1",
        "0.2",
        "0.30000000000000004",
        "1519.2",
        "7.6",
        "15.25",
        "99999.95",
        "123456789012345678",
        "-123456789012345678",
        "1234567890123456789",
        "12345678901234567890",
        "9223372036854775807",
        "9223372036854775808",
        "9007199254740992",
        "9007199254740993",
        "9007199254740993.0",
        "900719925474099.3",
        "1234567890123456.7",
        "0.0000000000000000000001",
        "0.00000000000000000000001",
        "123456789.123456789",
        "1.7976931348623157e308",
        "4.9e-324",
        "1e400",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for _ in 0..20_000 {
        let whole: u64 = match rng.random_range(0..4) {
            0 => rng.random_range(0..100),
            1 => rng.random_range(0..100_000),
            2 => rng.random_range(0..10_000_000_000_000),
            _ => rng.random(),
        };
        let decimals = rng.random_range(0..=12);
        let fraction: u64 = rng.random_range(0..10u64.pow(decimals));
        let sign = if rng.random_bool(0.2) { "-" } else { "" };
        numbers.push(match decimals {
            0 => format!("{sign}{whole}"),
            _ => format!("{sign}{whole}.{fraction:0width$}", width = decimals as usize),
        });
    }
    let mut fast = 0;
    for number in &numbers {
        let text = format!(r#"{{"orders":{{"id":"1","price_limit":{number},"qty":{number}}}}}"#);
        let serde = parse_with_serde(&text);
        match data_frame(&text) {
            None => {}
            Some(Event::Order(order)) => {
                fast += 1;
                let Ok(Frame::Event(Event::Order(expected))) = serde else {
                    panic!("{text}: the fast path read what serde refuses")
                };
                assert_eq!(order.qty, expected.qty, "{text}");
                assert_eq!(
                    order.limit_price.map(f64::to_bits),
                    expected.limit_price.map(f64::to_bits),
                    "{text}"
                );
            }
            Some(other) => panic!("{text}: {other:?}"),
        }
        // A price alone takes the fast path whenever it is a plain decimal of 15 digits or fewer.
        let digits = number.bytes().filter(u8::is_ascii_digit).count();
        let price = format!(r#"{{"orders":{{"id":"1","price_limit":{number}}}}}"#);
        let Some(Event::Order(order)) = data_frame(&price) else {
            assert!(
                digits > 15 || number.contains(['e', 'E']),
                "{price} left to serde"
            );
            continue;
        };
        let Ok(Frame::Event(Event::Order(expected))) = parse_with_serde(&price) else {
            panic!("{price}: the fast path read what serde refuses")
        };
        assert_eq!(
            order.limit_price.map(f64::to_bits),
            expected.limit_price.map(f64::to_bits),
            "{price}"
        );
    }
    // About one number in thirteen is an integer, which both fields take.
    assert!(fast > 1_000, "integers take the fast path: {fast}");
}

#[test]
fn field_tables_fit_the_prediction_table() {
    // Positions index the 128-entry table and must stay clear of START.
    assert!(OrderField::TABLE.names.len() < START);
    assert!(TradeField::TABLE.names.len() < START);
    assert!(PositionField::TABLE.names.len() < START);
}

/// Text fields of every length up to past the inline limit, with each special byte at each place,
/// both far from the end of the frame (the in-place 16-byte path) and right at it (the general
/// path): read exactly as serde reads them, and plain ones always by the fast path.
#[test]
fn text_fields_of_every_length_read_as_serde_does() {
    let padding = r#","symbol_desc":"RELIANCE INDUSTRIES LTD","ordertag":"2:Untagged","report_type":"NEW""#;
    for len in 0..=40 {
        let plain: String = "aé0:-".chars().cycle().take(len).collect();
        let mut texts = vec![plain.clone()];
        for at in 0..plain.len() {
            if !plain.is_char_boundary(at) {
                continue;
            }
            for special in ["\"", "\\\\", "\\n", "\u{1}", "\n"] {
                let mut text = plain.clone();
                text.insert_str(at, special);
                texts.push(text);
            }
        }
        for text in &texts {
            for tail in [padding, ""] {
                for key in ["id", "symbol", "oms_msg"] {
                    let frame = format!(r#"{{"orders":{{"id":"1","{key}":"{text}"{tail}}}}}"#);
                    let frame = frame.replacen(r#""id":"1","id":"#, r#""id":"#, 1);
                    assert!(agrees(&frame), "{frame}");
                    if *text == plain {
                        let Some(Event::Order(order)) = data_frame(&frame) else {
                            panic!("{frame} left to serde");
                        };
                        let read = match key {
                            "id" => Some(order.id.clone()),
                            "symbol" => order.symbol.clone(),
                            _ => order.message.clone(),
                        };
                        assert_eq!(read.as_deref(), Some(plain.as_str()), "{frame}");
                    }
                }
            }
        }
    }
}

#[test]
fn patterns_match_exactly_their_bytes() {
    for len in 1..=30 {
        let key: String = "abcdefghijklmnopqrstuvwxyz0123".chars().take(len).collect();
        let pattern = Pattern::new(Box::leak(key.clone().into_boxed_str()));
        assert_eq!(pattern.len(), len);
        for padding in [0, 1, 8, 23, 24, 40] {
            let mut input = format!("..{key}").into_bytes();
            input.extend(std::iter::repeat_n(b'~', padding));
            assert!(pattern.is_at(&input, 2), "{key} + {padding}");
            assert!(!pattern.is_at(&input, 1), "{key} + {padding} at 1");
            for at in 0..len {
                let mut changed = input.clone();
                changed[2 + at] ^= 0x20;
                assert!(
                    !pattern.is_at(&changed, 2),
                    "{key}: byte {at} changed, {padding} after"
                );
            }
            input.truncate(2 + len - 1);
            assert!(!pattern.is_at(&input, 2), "{key} cut short");
        }
    }
}

/// A frame as Fyers sends it, with the keys Orderwatch does not keep (`lot_size`, `pan`,
/// `tick_size`…): skipped keys are learned and predicted like the fields, and reading stays
/// exactly serde's, frame after frame and once the table of learned keys is full.
#[test]
fn frames_with_keys_we_skip_read_as_serde_does() {
    let real = r#"{"orders":{"client_id":"XP0001","exchange":10,"fy_token":"10100000001628","id":"23121800292158","id_fyers":"df013f50-6925-4e2d-ba0f-0becf1229298","instrument":0,"lot_size":1,"offline_flag":false,"oms_flag":"K:1","ord_source":"W","ord_status":20,"ord_type":2,"ordertag":"2:Untagged","org_ord_status":4,"pan":"XXXXX0000X","precision":2,"price_multiplier":1,"product_type":"CNC","qty":1,"qty_multiplier":1,"qty_remaining":1,"report_type":"New Ack","segment":10,"status_msg":"New Ack","symbol":"NSE:BECTORFOOD-EQ","symbol_desc":"MRS BECTORS FOOD SPE LTD","symbol_exch":"BECTORFOOD","tick_size":0.05,"time_epoch_oms":1702887690,"time_exch":"NA","time_oms":"18-Dec-2023 13:51:30","tran_side":1,"update_time_epoch_oms":1702887690,"update_time_exch":"01-Jan-1970 05:30:00","validity":"DAY"},"s":"ok"}"#;
    for _ in 0..3 {
        assert!(data_frame(real).is_some(), "the fast path reads it");
        assert!(agrees(real));
    }
    // The same keys, now one of them a key of the struct's in an unexpected place, and a known
    // key spelled like a learned one but longer.
    let moved = real.replace(r#""pan":"XXXXX0000X""#, r#""qty_filled":3"#);
    let longer = real.replace(r#""lot_size":1"#, r#""lot_size_x":1"#);
    for text in [&moved, &longer, &real.to_owned()] {
        assert!(data_frame(text).is_some(), "{text}");
        assert!(agrees(text), "{text}");
    }
    // More unknown keys than there are positions to learn, each seen twice; then the real frame.
    let many: String = (0..300).map(|n| format!(r#""extra_{n}":{n},"#)).collect();
    let crowded = format!(r#"{{"orders":{{{many}{many}"id":"1","qty":2}}}}"#);
    for text in [crowded.as_str(), real, crowded.as_str()] {
        assert!(data_frame(text).is_some(), "{text}");
        assert!(agrees(text), "{text}");
    }
    // A key longer than is worth learning.
    let long_key = format!(r#"{{"orders":{{"{}":1,"id":"1"}}}}"#, "k".repeat(100));
    assert!(agrees(&long_key) && data_frame(&long_key).is_some());
}

/// Streams mix shapes of frame; the key seen before last is the second guess. Whatever the guesses
/// hold (a name, a learned key, a key this frame lacks), every frame reads as serde reads it.
#[test]
fn frames_of_alternating_shapes_read_as_serde_does() {
    let frame = |middle: &str| {
        format!(
            r#"{{"orders":{{"client_id":"XP0001","id":"1",{middle}"id_exchange":"","qty":5,"org_ord_status":6,"symbol":"NSE:SBIN-EQ"}},"s":"ok"}}"#
        )
    };
    let shapes = [
        frame(""),
        frame(r#""id_parent":"0","#),
        frame(r#""lot_size":1,"#),
        frame(r#""id_parent":"0","lot_size":1,"#),
        frame(r#""lot_size":1,"id_parent":"0","#),
    ];
    let order = [
        0, 1, 0, 1, 2, 0, 2, 1, 3, 4, 3, 0, 4, 2, 1, 1, 0, 3, 3, 4, 4, 2, 2, 0,
    ];
    for (step, &shape) in order.iter().enumerate() {
        let text = &shapes[shape];
        let Some(event) = data_frame(text) else {
            panic!("step {step}: shape {shape} left the fast path");
        };
        assert!(
            matches!(parse_with_serde(text), Ok(Frame::Event(serde)) if serde == event),
            "step {step}: shape {shape}"
        );
    }
}
