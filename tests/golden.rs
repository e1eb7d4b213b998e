//! Every sample frame parses, and serialises to exactly what the official SDK hands its callback.

use std::path::PathBuf;

use orderwatch::fyers::model::Event;
use orderwatch::fyers::wire::{Frame, parse_text};
use serde_json::Value;

fn frames_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Every key/value of `expected` appears identically (same JSON type) in `actual`.
fn assert_superset(actual: &Value, expected: &Value, line: usize) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            for (key, value) in expected {
                let Some(ours) = actual.get(key) else {
                    panic!("line {line}: key {key} missing")
                };
                assert_superset(ours, value, line);
            }
        }
        (Value::Number(a), Value::Number(e)) => {
            assert_eq!(
                a.is_f64(),
                e.is_f64(),
                "line {line}: number type differs: {a} vs {e}"
            );
            assert_eq!(a, e, "line {line}");
        }
        _ => assert_eq!(actual, expected, "line {line}"),
    }
}

#[test]
fn every_sample_frame_matches_the_sdk() {
    let raw = std::fs::read_to_string(frames_dir().join("sample-day.raw.jsonl")).expect("sample frames");
    let sdk = std::fs::read_to_string(frames_dir().join("sample-day.sdk.jsonl")).expect("sdk output");
    let (mut count, mut general) = (0, 0);
    for (line, (raw, sdk)) in raw.lines().zip(sdk.lines()).enumerate() {
        let expected: Value = serde_json::from_str(sdk).unwrap();
        let Frame::Event(event) = parse_text(raw).unwrap_or_else(|e| panic!("line {line}: {e}")) else {
            panic!("line {line}: not an event")
        };
        let kind = match &event {
            Event::Order(_) => "orders",
            Event::Trade(_) => "trades",
            Event::Position(_) => "positions",
            Event::General(_) => "general",
        };
        assert_eq!(kind, expected["kind"], "line {line}: classified differently");
        let ours = event.to_sdk_json();
        assert_superset(&ours, &expected["data"], line);
        if kind == "general" {
            assert_eq!(
                ours, expected["data"],
                "line {line}: general frames pass through unchanged"
            );
            general += 1;
        }
        count += 1;
    }
    assert_eq!(count, 2000);
    assert_eq!(general, 11);
}
