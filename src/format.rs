//! How numbers and times read on screen: Indian digit grouping, rupees with two decimals, IST.

use chrono::{DateTime, FixedOffset, TimeZone};

use crate::fyers::model::IST_OFFSET_SECS;

/// India Standard Time, whatever the machine's zone (IST has no daylight saving).
pub fn ist() -> FixedOffset {
    // 5 h 30 min east of UTC is always a valid offset.
    FixedOffset::east_opt(IST_OFFSET_SECS as i32).unwrap_or_else(|| unreachable!())
}

/// Groups an integer's digits the Indian way: 1,23,45,678.
pub fn group_indian(value: u64) -> String {
    let digits = value.to_string();
    if digits.len() <= 3 {
        return digits;
    }
    let (head, last3) = digits.split_at(digits.len() - 3);
    let mut out = String::with_capacity(digits.len() + digits.len() / 2);
    let first = head.len() % 2;
    for (index, digit) in head.chars().enumerate() {
        if index > 0 && (index - first) % 2 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out.push(',');
    out.push_str(last3);
    out
}

/// Two decimals with Indian grouping after `symbol`; the minus goes in front (`-₹1,234.50`).
fn amount(value: f64, symbol: &str) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let paise = (value.abs() * 100.0).round() as u64;
    let sign = if value < 0.0 && paise > 0 { "-" } else { "" };
    format!("{sign}{symbol}{}.{:02}", group_indian(paise / 100), paise % 100)
}

/// `₹1,23,456.78`; negative amounts as `-₹1,234.50`.
pub fn rupees(value: f64) -> String {
    amount(value, "₹")
}

/// A price: two decimals with Indian grouping, no currency sign (tables show many).
pub fn price(value: f64) -> String {
    amount(value, "")
}

/// A signed quantity with grouping.
pub fn quantity(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{}", group_indian(value.unsigned_abs()))
}

pub fn ist_time(epoch_secs: i64) -> Option<DateTime<FixedOffset>> {
    ist().timestamp_opt(epoch_secs, 0).single()
}

/// `14:35:29` in IST.
pub fn clock(epoch_secs: i64) -> String {
    ist_time(epoch_secs).map_or_else(|| "—".to_owned(), |time| time.format("%H:%M:%S").to_string())
}

/// `24-Dec 14:35:29` in IST.
pub fn date_time(epoch_secs: i64) -> String {
    ist_time(epoch_secs).map_or_else(
        || "—".to_owned(),
        |time| time.format("%d-%b %H:%M:%S").to_string(),
    )
}

/// `2026-12-01T14:35:29.123+05:30`: a moment in IST, to the millisecond, for files.
pub fn iso_time(at_ms: i64) -> String {
    ist()
        .timestamp_millis_opt(at_ms)
        .single()
        .map_or_else(String::new, |time| {
            time.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
        })
}

/// `12 s`, `4 min 05 s`, `3 h 12 min`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// The text with its first letter in capitals (messages that start a sentence on screen).
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indian_grouping() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (12_345, "12,345"),
            (123_456, "1,23,456"),
            (1_234_567, "12,34,567"),
            (123_456_789, "12,34,56,789"),
        ];
        for (value, expected) in cases {
            assert_eq!(group_indian(value), expected);
        }
    }

    #[test]
    fn money() {
        assert_eq!(rupees(123_456.78), "₹1,23,456.78");
        assert_eq!(rupees(-1234.5), "-₹1,234.50");
        assert_eq!(rupees(-0.001), "₹0.00");
        assert_eq!(rupees(f64::NAN), "—");
        assert_eq!(price(61_886.85), "61,886.85");
        assert_eq!(quantity(-105), "-105");
        assert_eq!(quantity(100_000), "1,00,000");
    }

    #[test]
    fn times_are_ist_whatever_the_zone() {
        // 2025-12-24 09:15:00 IST
        assert_eq!(clock(1_766_547_900), "09:15:00");
        assert_eq!(date_time(1_766_547_900), "24-Dec 09:15:00");
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(245), "4 min 05 s");
        assert_eq!(duration(11_520), "3 h 12 min");
    }
}
