//! The frame parser on generated and mutated frames: any key order, missing and extra keys, wrong
//! types, strings and numbers of every length, escapes, unicode, truncation. A frame gives an event
//! whose SDK form holds exactly what the official SDK's key map gives (numbers by value), or an
//! error; never a panic. `PROPTEST_CASES` sets the number of cases (4,000 by default; the README
//! says how the long run is done).

use orderwatch::fyers::wire::{Frame, parse_text};
use proptest::prelude::*;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Float,
    Str,
    Bool,
}
use Kind::{Bool, Float, Int, Str};

/// The SDK's raw → friendly maps (its `map.json`, PROTOCOL.md §1) and each value's JSON type: the
/// oracle, written apart from the model on purpose.
const ORDERS: &[(&str, &str, Kind)] = &[
    ("client_id", "clientId", Str),
    ("id", "id", Str),
    ("id_parent", "parentId", Str),
    ("id_exchange", "exchOrdId", Str),
    ("qty", "qty", Int),
    ("qty_remaining", "remainingQuantity", Int),
    ("qty_filled", "filledQty", Int),
    ("price_limit", "limitPrice", Float),
    ("price_stop", "stopPrice", Float),
    ("price_traded", "tradedPrice", Float),
    ("ord_type", "type", Int),
    ("fy_token", "fyToken", Str),
    ("exchange", "exchange", Int),
    ("segment", "segment", Int),
    ("symbol", "symbol", Str),
    ("instrument", "instrument", Int),
    ("oms_msg", "message", Str),
    ("offline_flag", "offlineOrder", Bool),
    ("time_oms", "orderDateTime", Str),
    ("validity", "orderValidity", Str),
    ("product_type", "productType", Str),
    ("tran_side", "side", Int),
    ("org_ord_status", "status", Int),
    ("ord_source", "source", Str),
    ("symbol_exch", "ex_sym", Str),
    ("symbol_desc", "description", Str),
    ("ordertag", "orderTag", Str),
    ("take_profit", "takeProfit", Float),
    ("stop_loss", "stopLoss", Float),
    ("leg_type", "legType", Int),
    ("id_fyers", "id_fyers", Str),
];

const TRADES: &[(&str, &str, Kind)] = &[
    ("id_fill", "tradeNumber", Str),
    ("id", "orderNumber", Str),
    ("qty_traded", "tradedQty", Int),
    ("price_traded", "tradePrice", Float),
    ("traded_val", "tradeValue", Float),
    ("product_type", "productType", Str),
    ("client_id", "clientId", Str),
    ("id_exchange", "exchangeOrderNo", Str),
    ("ord_type", "orderType", Int),
    ("tran_side", "side", Int),
    ("symbol", "symbol", Str),
    ("fill_time", "orderDateTime", Str),
    ("fy_token", "fyToken", Str),
    ("exchange", "exchange", Int),
    ("segment", "segment", Int),
    ("ordertag", "orderTag", Str),
    ("id_fyers", "id_fyers", Str),
];

const POSITIONS: &[(&str, &str, Kind)] = &[
    ("symbol", "symbol", Str),
    ("id", "id", Str),
    ("buy_avg", "buyAvg", Float),
    ("buy_qty", "buyQty", Int),
    ("buy_val", "buyVal", Float),
    ("sell_avg", "sellAvg", Float),
    ("sell_qty", "sellQty", Int),
    ("sell_val", "sellVal", Float),
    ("net_avg", "netAvg", Float),
    ("net_qty", "netQty", Int),
    ("tran_side", "side", Int),
    ("qty", "qty", Int),
    ("product_type", "productType", Str),
    ("pl_realized", "realized_profit", Float),
    ("rbirefrate", "rbiRefRate", Float),
    ("fy_token", "fyToken", Str),
    ("exchange", "exchange", Int),
    ("segment", "segment", Int),
    ("day_buy_qty", "dayBuyQty", Int),
    ("day_sell_qty", "daySellQty", Int),
    ("cf_buy_qty", "cfBuyQty", Int),
    ("cf_sell_qty", "cfSellQty", Int),
    ("qty_multiplier", "qtyMulti_com", Float),
    ("pl_total", "pl", Float),
    ("cross_curr_flag", "crossCurrency", Str),
    ("pl_unrealized", "unrealized_profit", Float),
    ("take_profit", "takeProfit", Float),
    ("stop_loss", "stopLoss", Float),
    ("leg_type", "legType", Int),
    ("id_fyers", "id_fyers", Str),
];

/// Each field: raw key, friendly key, JSON type.
type Map = &'static [(&'static str, &'static str, Kind)];

/// (frame key, the map, the key every such frame must carry)
const SHAPES: [(&str, Map, &str); 3] = [
    ("orders", ORDERS, "id"),
    ("trades", TRADES, "id_fill"),
    ("positions", POSITIONS, "id"),
];

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(4_000)
}

fn value_of(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Int => prop_oneof![any::<i64>(), -10i64..10_000]
            .prop_map(Value::from)
            .boxed(),
        Float => prop_oneof![
            any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()),
            (-1_000_000i64..1_000_000).prop_map(|paise| paise as f64 / 100.0),
        ]
        .prop_map(Value::from)
        .boxed(),
        Str => prop_oneof![any::<String>(), "[A-Z0-9:_ -]{0,40}", ".{0,300}"]
            .prop_map(Value::from)
            .boxed(),
        Bool => any::<bool>().prop_map(Value::from).boxed(),
    }
}

/// Any JSON value, for wrong types and keys the maps do not know.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// One data frame: (frame key, its body's entries in the order sent, whether every value has the
/// type the map says and the required key is there).
fn frame() -> impl Strategy<Value = (usize, Vec<(String, Value)>, bool)> {
    (0..SHAPES.len()).prop_flat_map(|shape| {
        let (_, map, required) = SHAPES[shape];
        let fields: Vec<_> = map
            .iter()
            .map(|&(raw, _, kind)| {
                // Present or not; when present, of its type or (now and then) of any type.
                let value = prop_oneof![
                    8 => value_of(kind).prop_map(|value| (value, true)),
                    1 => any_value().prop_map(|value| (value, false)),
                ];
                let keep = if raw == required { 0.97 } else { 0.6 };
                prop::option::weighted(keep, value).prop_map(move |value| (raw, value))
            })
            .collect();
        let extras = prop::collection::vec(("[a-z_]{1,12}", any_value()), 0..4);
        (fields, extras, any::<u64>()).prop_map(move |(fields, extras, seed)| {
            let mut entries = Vec::new();
            let mut well_typed = true;
            let mut has_required = false;
            for (raw, value) in fields {
                if let Some((value, typed)) = value {
                    well_typed &= typed;
                    has_required |= raw == required;
                    entries.push((raw.to_owned(), value));
                }
            }
            for (key, value) in extras {
                // A key of the map, or an alias of one (its friendly name), would be a duplicate.
                let known = map
                    .iter()
                    .any(|&(raw, friendly, _)| key == raw || key == friendly);
                if !known && !entries.iter().any(|(k, _)| *k == key) {
                    entries.push((key, value));
                }
            }
            shuffle(&mut entries, seed);
            (shape, entries, well_typed && has_required)
        })
    })
}

fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        items.swap(i, (seed >> 33) as usize % (i + 1));
    }
}

fn text_of(shape: usize, entries: &[(String, Value)]) -> String {
    let body: Vec<String> = entries
        .iter()
        .map(|(key, value)| format!("{}:{}", Value::from(key.as_str()), value))
        .collect();
    format!(r#"{{"s":"ok","{}":{{{}}}}}"#, SHAPES[shape].0, body.join(","))
}

/// Numbers compare by value (the SDK hands a price of 5 or 5.0 alike); everything else exactly.
fn same(ours: &Value, sdk: &Value) -> bool {
    match (ours, sdk) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => a.as_f64() == b.as_f64(),
        },
        _ => ours == sdk,
    }
}

/// What the SDK's mapping makes of the body: each mapped raw key under its friendly name. A
/// `null` is read as "absent" by Orderwatch (it leaves the key out), so it is left out here too.
fn sdk_form(shape: usize, entries: &[(String, Value)]) -> Vec<(&'static str, Value)> {
    let map = SHAPES[shape].1;
    entries
        .iter()
        .filter(|(_, value)| !value.is_null())
        .filter_map(|(key, value)| {
            let &(_, friendly, _) = map.iter().find(|(raw, _, _)| raw == key)?;
            Some((friendly, value.clone()))
        })
        .collect()
}

fn check(shape: usize, entries: &[(String, Value)], well_typed: bool) -> Result<(), TestCaseError> {
    let text = text_of(shape, entries);
    let parsed = parse_text(&text);
    if well_typed {
        prop_assert!(
            parsed.is_ok(),
            "a well-formed frame was refused: {parsed:?}\n{text}"
        );
    }
    let Ok(Frame::Event(event)) = parsed else {
        return Ok(());
    };
    let ours = event.to_sdk_json();
    let body = &ours[SHAPES[shape].0];
    prop_assert!(body.is_object(), "classified as another kind: {ours}\n{text}");
    for (friendly, value) in sdk_form(shape, entries) {
        let mine = &body[friendly];
        prop_assert!(
            same(mine, &value),
            "{friendly}: ours {mine}, the SDK's {value}\n{text}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn a_frame_reads_as_the_sdk_maps_it_or_is_an_error((shape, entries, well_typed) in frame()) {
        check(shape, &entries, well_typed)?;
    }

    #[test]
    fn a_cut_or_changed_frame_is_an_event_or_an_error_never_a_panic(
        (shape, entries, _) in frame(),
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        with in prop_oneof![
            prop::sample::select(vec!["\"", "\\", "{", "}", ",", ":", "-", "é", "\u{1}"]).prop_map(str::to_owned),
            ".{1,3}",
        ],
    ) {
        let text = text_of(shape, &entries);
        let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        let _ = parse_text(&text[..boundaries[cut.index(boundaries.len())]]);
        let at = boundaries[at.index(boundaries.len() - 1)];
        let next = boundaries.iter().copied().find(|&i| i > at).unwrap_or(text.len());
        let changed = format!("{}{with}{}", &text[..at], &text[next..]);
        let _ = parse_text(&changed);
    }
}
