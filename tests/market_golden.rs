//! The market-data parser against the official SDK's (fyers-apiv3 3.2.0): the same bytes must
//! give the same callbacks with the same values. The bytes are in `tests/data/market/cases.json`:
//! frames captured from the simulator's market-data socket over loopback, plus hand-built frames
//! for what the simulator does not send (full mode, index and depth topics, "no value" markers,
//! identical updates, unknown ids, cut frames, replies, custom messages). The SDK's callbacks for
//! them are in `sdk.jsonl`, written once by `sdk_golden.py` (see its docstring).
//!
//! To make the cases again (then run the script again):
//! `cargo test --test market_golden -- --ignored write_cases`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use orderwatch::fyers::market::Decoder;
use orderwatch::fyers::market::hsm::{self, Entry, NO_VALUE, ServerFrame};
use orderwatch::fyers::market::topics::hsm_key;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Serialize, Deserialize)]
struct Case {
    name: String,
    lite: bool,
    topics: BTreeMap<String, String>,
    frames: Vec<String>,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/market")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// What the SDK's callbacks would receive for `frames`, by our parser.
fn ours(case: &Case) -> Vec<Value> {
    let mut decoder = Decoder::new(case.lite);
    for (topic, symbol) in &case.topics {
        decoder.subscribe(topic, symbol);
    }
    let mut out = Vec::new();
    let message = |data: Value| json!({"on": "message", "data": data});
    let error = |data: Value| json!({"on": "error", "data": data});
    for frame in &case.frames {
        let Ok(frame) = hsm::parse(&unhex(frame)) else {
            continue;
        };
        match frame {
            ServerFrame::Data { entries, .. } => {
                for entry in &entries {
                    let applied = decoder.apply(entry);
                    if let Some(id) = decoder.emits(applied) {
                        out.push(message(decoder.record(id).unwrap()));
                    }
                }
            }
            ServerFrame::Auth { ok: true, .. } => out.push(message(
                json!({"type":"cn","code":200,"message":"Authentication done","s":"ok"}),
            )),
            ServerFrame::Auth { ok: false, .. } => out.push(error(
                json!({"type":"cn","code":11001,"message":"Authentication failed","s":"error"}),
            )),
            ServerFrame::Reply { kind, ok } => {
                let (kind_name, done, code, failed) = match kind {
                    hsm::TYPE_SUBSCRIBE => ("sub", "Subscribed", 11011, "subscription failed"),
                    hsm::TYPE_UNSUBSCRIBE => ("unsub", "Unsubscribed", 11012, "unsubscription failed"),
                    hsm::TYPE_MODE if case.lite => ("lit", "Lite Mode On", 12001, "Mode change failed"),
                    hsm::TYPE_MODE => ("ful", "Full Mode On", 12001, "Mode change failed"),
                    _ => continue,
                };
                out.push(match (ok, kind) {
                    (true, _) => message(json!({"type": kind_name, "code": 200, "message": done, "s": "ok"})),
                    (false, hsm::TYPE_MODE) => error(json!({"code": code, "message": failed, "s": "error"})),
                    (false, _) => {
                        error(json!({"type": kind_name, "code": code, "message": failed, "s": "error"}))
                    }
                });
            }
            ServerFrame::Custom {
                code,
                message: text,
                ref_type,
            } => {
                let kind = match ref_type {
                    1 => "cn",
                    4 => "sub",
                    5 => "unsub",
                    7 => "cp",
                    8 => "cr",
                    _ => "msg",
                };
                out.push(error(
                    json!({"type": kind, "code": code, "message": text, "s": "error"}),
                ));
            }
            ServerFrame::Other(_) => {}
        }
    }
    out
}

/// Same JSON, numbers compared as numbers of the same kind (an SDK float stays a float).
fn same(ours: &Value, sdk: &Value) -> bool {
    match (ours, sdk) {
        (Value::Number(a), Value::Number(b)) => a.is_f64() == b.is_f64() && a.as_f64() == b.as_f64(),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| same(value, other)))
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        _ => ours == sdk,
    }
}

#[test]
fn our_parser_gives_what_the_sdk_gives_for_the_same_bytes() {
    let cases: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(data_dir().join("cases.json")).expect("cases"))
            .unwrap();
    let sdk = std::fs::read_to_string(data_dir().join("sdk.jsonl")).expect("sdk output");
    let sdk: Vec<Value> = sdk
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(cases.len(), sdk.len(), "one SDK line per case");
    let mut compared = 0;
    for (case, sdk) in cases.iter().zip(&sdk) {
        assert_eq!(sdk["name"], case.name.as_str());
        let expected = sdk["events"].as_array().unwrap();
        let got = ours(case);
        assert!(
            got.len() == expected.len() && got.iter().zip(expected).all(|(a, b)| same(a, b)),
            "case {}: ours\n{}\nthe SDK's\n{}",
            case.name,
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(expected).unwrap()
        );
        compared += got.len();
    }
    assert!(
        compared >= 40,
        "the cases exercise the parser ({compared} callbacks)"
    );
}

// ---- making the cases ----

fn snapshot(id: u16, topic: &str, values: Vec<i32>, multiplier: u16, precision: u8) -> Entry {
    Entry::Snapshot {
        topic_id: id.to_be_bytes(),
        topic: topic.into(),
        values,
        multiplier,
        precision,
        exchange: "NSE".into(),
        token: topic.rsplit('|').next().unwrap_or("").into(),
        symbol: "X".into(),
    }
}

fn hand_built() -> Vec<Case> {
    let sbin = "sf|nse_cm|3045";
    let nifty = "if|nse_cm|Nifty 50";
    let depth = "dp|nse_cm|3045";
    let topics = BTreeMap::from([
        (sbin.to_owned(), "NSE:SBIN-EQ".to_owned()),
        (nifty.to_owned(), "NSE:NIFTY50-INDEX".to_owned()),
        (depth.to_owned(), "NSE:SBIN-EQ".to_owned()),
    ]);
    // MARKET_DATA.md §6's scrip values.
    let scrip = vec![
        81245, 12345678, 1766547934, 1766547935, 150, 200, 81240, 81250, 25, 456789, 567890, 81012, 0, 80500,
        81800, 91200, 60010, 73120, 89360, 80750, 80630,
    ];
    let index = vec![2503125, 2500000, 1766547935, 2510000, 2490000, 2495055];
    let depth_values: Vec<i32> = (0..30)
        .map(|i| if i < 10 { 81200 + i * 5 } else { 100 + i })
        .collect();
    let mut partial = scrip.clone();
    partial[12] = NO_VALUE;
    partial[15] = NO_VALUE;
    let frames = |lite: bool| {
        let mut frames = vec![
            hsm::status_reply(hsm::TYPE_AUTH, "K", Some(3)),
            hsm::status_reply(hsm::TYPE_MODE, "K", None),
            hsm::status_reply(hsm::TYPE_SUBSCRIBE, "K", None),
            hsm::data(
                1,
                &[
                    snapshot(1, sbin, partial.clone(), 1, 2),
                    snapshot(2, nifty, index.clone(), 1, 2),
                    snapshot(3, depth, depth_values.clone(), 1, 2),
                ],
            ),
            // An update: ltp moves, the volume is "unchanged", the time moves.
            hsm::data(
                2,
                &[Entry::Update {
                    topic_id: 1u16.to_be_bytes(),
                    values: vec![81300, NO_VALUE, 1766547940],
                }],
            ),
            // An identical update: no callback.
            hsm::data(
                3,
                &[Entry::Update {
                    topic_id: 1u16.to_be_bytes(),
                    values: vec![81300],
                }],
            ),
            // An update for an unknown id (skipped cleanly; an `L` entry for one would make the
            // SDK misread the rest), then LTP entries, the index's a tie (0.125 → 0.12).
            hsm::data(
                4,
                &[
                    Entry::Update {
                        topic_id: 9u16.to_be_bytes(),
                        values: vec![1, 2],
                    },
                    Entry::Ltp {
                        topic_id: 2u16.to_be_bytes(),
                        ltp: 2503125,
                    },
                    Entry::Ltp {
                        topic_id: 1u16.to_be_bytes(),
                        ltp: 81255,
                    },
                    Entry::Ltp {
                        topic_id: 2u16.to_be_bytes(),
                        ltp: 2503130,
                    },
                ],
            ),
            // The volume alone changes: in lite mode the record is the same price again.
            hsm::data(
                5,
                &[Entry::Update {
                    topic_id: 1u16.to_be_bytes(),
                    values: vec![NO_VALUE, 12345999],
                }],
            ),
            // Depth moves.
            hsm::data(
                6,
                &[Entry::Update {
                    topic_id: 3u16.to_be_bytes(),
                    values: vec![81190, NO_VALUE, 81215],
                }],
            ),
            hsm::custom(
                51001,
                "Symbol limit exceeded for Standard plan",
                hsm::TYPE_SUBSCRIBE,
            ),
            hsm::status_reply(hsm::TYPE_SUBSCRIBE, "E", None),
            hsm::status_reply(hsm::TYPE_UNSUBSCRIBE, "K", None),
        ];
        // A frame cut inside its second entry: the first still counts.
        let mut cut = hsm::data(
            7,
            &[
                Entry::Ltp {
                    topic_id: 1u16.to_be_bytes(),
                    ltp: 81400,
                },
                Entry::Update {
                    topic_id: 1u16.to_be_bytes(),
                    values: vec![81500, 1, 2, 3],
                },
            ],
        );
        cut.truncate(cut.len() - 6);
        frames.push(cut);
        // A multiplier and a precision other than 1 and 2 (a currency-like scrip), on a new id.
        frames.push(hsm::data(
            8,
            &[snapshot(
                4,
                "sf|nse_cm|1594",
                vec![15480025, NO_VALUE, NO_VALUE],
                4,
                4,
            )],
        ));
        frames.push(hsm::status_reply(hsm::TYPE_AUTH, "E", None));
        let _ = lite;
        frames
    };
    let mut topics_more = topics.clone();
    topics_more.insert("sf|nse_cm|1594".into(), "NSE:INFY-EQ".into());
    vec![
        Case {
            name: "hand-built, full mode".into(),
            lite: false,
            topics: topics_more.clone(),
            frames: frames(false).iter().map(|f| hex(f)).collect(),
        },
        Case {
            name: "hand-built, lite mode".into(),
            lite: true,
            topics: topics_more,
            frames: frames(true).iter().map(|f| hex(f)).collect(),
        },
    ]
}

/// Frames the simulator sends a lite-mode client that follows three symbols while the day runs.
async fn captured() -> Case {
    let sim = common::start_sim(common::day(7, 100_000, None)).await;
    let token = sim.authorization();
    let key = hsm_key(token.expose(), 0).expect("the simulator's tokens carry an hsm_key");
    let (mut socket, _) = tokio_tungstenite::connect_async(sim.market_url()).await.unwrap();
    let topics = BTreeMap::from([
        ("sf|nse_cm|3045".to_owned(), "NSE:SBIN-EQ".to_owned()),
        ("sf|nse_cm|2885".to_owned(), "NSE:RELIANCE-EQ".to_owned()),
        ("sf|nse_fo|2175".to_owned(), "NSE:NIFTY25DECFUT".to_owned()),
    ]);
    let names: Vec<&str> = topics.keys().map(String::as_str).collect();
    for frame in [
        hsm::ping(),
        hsm::auth(&key),
        hsm::mode(hsm::CHANNEL, true),
        hsm::subscription(&names, hsm::CHANNEL, false),
    ] {
        socket.send(Message::binary(frame)).await.unwrap();
    }
    let mut frames = Vec::new();
    // The day moves on every 50 ms whether or not a tick came (a quiet spell sends nothing).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while frames.len() < 25 && tokio::time::Instant::now() < deadline {
        sim.handle().advance(40);
        match tokio::time::timeout(Duration::from_millis(50), socket.next()).await {
            Ok(Some(Ok(Message::Binary(bytes)))) => frames.push(hex(&bytes)),
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(None | Some(Err(_))) => break,
        }
    }
    assert!(
        frames.len() >= 10,
        "the simulator streamed prices ({} frames: {frames:?})",
        frames.len()
    );
    Case {
        name: "captured from the simulator, lite mode".into(),
        lite: true,
        topics,
        frames,
    }
}

#[test]
#[ignore = "writes tests/data/market/cases.json; run by hand, then run sdk_golden.py"]
fn write_cases() {
    let mut cases = hand_built();
    cases.push(common::runtime().block_on(captured()));
    let text = serde_json::to_string_pretty(&cases).unwrap();
    std::fs::write(data_dir().join("cases.json"), text + "\n").unwrap();
}
