//! The charges against worked examples (README), one trade at a time and for a day.
use super::*;

fn trade(
    order: &str,
    symbol: &str,
    segment: Segment,
    product: ProductType,
    side: Side,
    qty: i64,
    price: f64,
) -> Trade {
    Trade {
        trade_number: format!("{order}-{qty}").into(),
        order_number: Some(order.into()),
        symbol: Some(symbol.into()),
        segment: Some(segment),
        product_type: Some(product),
        side: Some(side),
        traded_qty: Some(qty),
        trade_price: Some(price),
        trade_value: Some(qty as f64 * price),
        ..Trade::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// Worked example 1 (README): an intraday round trip of 100 SBIN, bought at ₹800, sold at
/// ₹810. Turnover 80,000 + 81,000 = 1,61,000.
/// Brokerage: min(0.03% × 80,000 = 24, 20) + min(24.30, 20) = ₹40. STT: 0.025% × 81,000 =
/// ₹20.25. Exchange: 0.00297% × 1,61,000 = ₹4.7817. SEBI: ₹0.161. Stamp: 0.003% × 80,000 =
/// ₹2.40. GST: 18% × (40 + 4.7817 + 0.161) = ₹8.0897. Total ₹75.6824.
#[test]
fn worked_example_intraday_round_trip() {
    let trades = [
        trade(
            "1",
            "NSE:SBIN-EQ",
            Segment::CapitalMarket,
            ProductType::Intraday,
            Side::Buy,
            100,
            800.0,
        ),
        trade(
            "2",
            "NSE:SBIN-EQ",
            Segment::CapitalMarket,
            ProductType::Intraday,
            Side::Sell,
            100,
            810.0,
        ),
    ];
    let (charges, uncovered) = day_charges(&trades, &RateTable::default());
    assert_eq!(uncovered, 0);
    let mut book = ChargeBook::default();
    trades.iter().for_each(|trade| book.add(trade));
    assert!(close(book.charges().total(), charges.total()));
    assert!(close(charges.brokerage, 40.0), "{charges:?}");
    assert!(close(charges.stt, 20.25));
    assert!(close(charges.exchange, 4.7817));
    assert!(close(charges.sebi, 0.161));
    assert!(close(charges.stamp, 2.4));
    assert!(close(charges.gst, 8.089_686));
    assert!(close(charges.total(), 75.682_386), "{}", charges.total());
}

/// Worked example 2: one options order of 75 NIFTY 26000 CE bought at ₹100 in two fills
/// (50 + 25), sold at ₹120 in one. Turnover 7,500 + 9,000 = 16,500.
/// Brokerage: ₹20 flat per order × 2 = ₹40 (the two fills share one order). STT: 0.1% × 9,000
/// = ₹9. Exchange: 0.03503% × 16,500 = ₹5.77995. SEBI: ₹0.0165. Stamp: 0.003% × 7,500 =
/// ₹0.225. GST: 18% × (40 + 5.77995 + 0.0165) = ₹8.243361. Total ₹63.264811.
#[test]
fn worked_example_options_with_a_split_fill() {
    let ce = "NSE:NIFTY25DEC26000CE";
    let trades = [
        trade(
            "1",
            ce,
            Segment::Derivatives,
            ProductType::Intraday,
            Side::Buy,
            50,
            100.0,
        ),
        trade(
            "1",
            ce,
            Segment::Derivatives,
            ProductType::Intraday,
            Side::Buy,
            25,
            100.0,
        ),
        trade(
            "2",
            ce,
            Segment::Derivatives,
            ProductType::Intraday,
            Side::Sell,
            75,
            120.0,
        ),
    ];
    let (charges, _) = day_charges(&trades, &RateTable::default());
    let mut book = ChargeBook::default();
    trades.iter().for_each(|trade| book.add(trade));
    assert!(close(book.charges().total(), charges.total()));
    // Each trade's part (the split fill shares its order's ₹20 by turnover) adds up to the day's.
    let parts: f64 = trades.iter().filter_map(|trade| book.trade_charges(trade)).sum();
    assert!(close(parts, charges.total()), "{parts}");
    assert!(close(charges.brokerage, 40.0));
    assert!(close(charges.stt, 9.0));
    assert!(close(charges.exchange, 5.779_95));
    assert!(close(charges.stamp, 0.225));
    assert!(close(charges.total(), 63.264_811), "{}", charges.total());
}

/// Worked example 3: delivery buy of 10 TCS at ₹3,000 (turnover 30,000): brokerage min(0.3% =
/// 90, 20) = ₹20; STT 0.1% = ₹30; exchange ₹0.891; SEBI ₹0.03; stamp 0.015% = ₹4.50; GST 18% ×
/// 20.921 = ₹3.76578. Total ₹59.18678. A futures sell and an MCX trade classify as such.
#[test]
fn worked_example_delivery_and_classes() {
    let buy = trade(
        "1",
        "NSE:TCS-EQ",
        Segment::CapitalMarket,
        ProductType::Cnc,
        Side::Buy,
        10,
        3000.0,
    );
    let (charges, _) = day_charges([&buy], &RateTable::default());
    assert!(close(charges.total(), 59.186_78), "{}", charges.total());
    // The running book gives the same, one trade at a time.
    let mut book = ChargeBook::default();
    book.add(&buy);
    assert!(close(book.charges().total(), 59.186_78));
    let fut = trade(
        "2",
        "NSE:NIFTY25DECFUT",
        Segment::Derivatives,
        ProductType::Margin,
        Side::Sell,
        75,
        26_000.0,
    );
    assert_eq!(TradeClass::of(&fut), Some(TradeClass::Futures));
    let gold = trade(
        "3",
        "MCX:GOLD25DECFUT",
        Segment::Commodity,
        ProductType::Margin,
        Side::Buy,
        1,
        70_000.0,
    );
    assert_eq!(day_charges([&gold], &RateTable::default()).1, 1);
}
