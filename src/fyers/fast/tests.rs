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
}

#[test]
fn field_tables_fit_the_prediction_table() {
    assert!(OrderField::TABLE.names.len() < START);
    assert!(TradeField::TABLE.names.len() < START);
    assert!(PositionField::TABLE.names.len() < START);
}
