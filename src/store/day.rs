//! The trading day: which day a moment belongs to, and that day's session hours.
//!
//! A trading day runs from 06:00 IST to 06:00 IST the next morning. Fyers' access tokens die at
//! about 06:00 IST, so one token serves exactly one trading day; nothing trades between 00:00 and
//! 06:00 (MCX's evening session ends by 23:55), so a late commodity fill stays with the day it
//! happened on; and every morning's login, however early, opens the new day before the 09:15 open.

use chrono::NaiveDate;

use crate::fyers::model::IST_OFFSET_SECS;

/// When a trading day starts, in seconds after midnight IST.
pub const DAY_STARTS_IST_SECS: i64 = 6 * 3600;

/// Equity market hours in seconds after midnight IST: 09:15 to 15:30.
pub const SESSION_IST_SECS: (i64, i64) = (9 * 3600 + 15 * 60, 15 * 3600 + 30 * 60);

/// The trading day of a Unix time in milliseconds.
pub fn trading_day(at_ms: i64) -> NaiveDate {
    let secs = at_ms.div_euclid(1000) + IST_OFFSET_SECS - DAY_STARTS_IST_SECS;
    let days = secs.div_euclid(86_400);
    // 1970-01-01 plus whole days; a clock far outside chrono's range gives its earliest day.
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .zip(chrono::TimeDelta::try_days(days))
        .and_then(|(epoch, days)| epoch.checked_add_signed(days))
        .unwrap_or(NaiveDate::MIN)
}

/// Midnight IST at the start of `day`'s date, in Unix milliseconds.
fn ist_midnight_ms(day: NaiveDate) -> i64 {
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |time| time.and_utc().timestamp());
    (midnight - IST_OFFSET_SECS) * 1000
}

/// When `day` starts and ends (06:00 IST to 06:00 IST), in Unix milliseconds.
pub fn day_bounds_ms(day: NaiveDate) -> (i64, i64) {
    let start = ist_midnight_ms(day) + DAY_STARTS_IST_SECS * 1000;
    (start, start + 86_400_000)
}

/// The equity session of `day` (09:15 to 15:30 IST), in Unix milliseconds: the P&L chart's axis.
pub fn session_ms(day: NaiveDate) -> (i64, i64) {
    let midnight = ist_midnight_ms(day);
    (
        midnight + SESSION_IST_SECS.0 * 1000,
        midnight + SESSION_IST_SECS.1 * 1000,
    )
}

/// How a day is written for people: `01-Dec-2026`.
pub fn day_label(day: NaiveDate) -> String {
    day.format("%d-%b-%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ist(date: &str, time: &str) -> i64 {
        let at = chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S")
            .unwrap_or_else(|err| panic!("{date} {time}: {err}"));
        (at.and_utc().timestamp() - IST_OFFSET_SECS) * 1000
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    #[test]
    fn the_day_turns_at_six_in_the_morning_ist() {
        let cases = [
            ("2026-12-01", "05:59:59", "2026-11-30"),
            ("2026-12-01", "06:00:00", "2026-12-01"),
            ("2026-12-01", "09:15:00", "2026-12-01"),
            ("2026-12-01", "23:55:00", "2026-12-01"),
            ("2026-12-02", "00:30:00", "2026-12-01"),
            ("2026-12-02", "06:00:00", "2026-12-02"),
            ("2024-03-01", "05:00:00", "2024-02-29"),
        ];
        for (day, time, expected) in cases {
            assert_eq!(trading_day(ist(day, time)), date(expected), "{day} {time} IST");
        }
    }

    #[test]
    fn bounds_and_session_are_in_ist() {
        let day = date("2026-12-01");
        let (start, end) = day_bounds_ms(day);
        assert_eq!(start, ist("2026-12-01", "06:00:00"));
        assert_eq!(end, ist("2026-12-02", "06:00:00"));
        assert_eq!(trading_day(start), day);
        assert_eq!(trading_day(end - 1), day);
        assert_eq!(trading_day(end), date("2026-12-02"));
        assert_eq!(
            session_ms(day),
            (ist("2026-12-01", "09:15:00"), ist("2026-12-01", "15:30:00"))
        );
        assert_eq!(day_label(day), "01-Dec-2026");
    }

    #[test]
    fn any_clock_value_gives_a_day() {
        for at_ms in [i64::MIN, -1, 0, i64::MAX] {
            let _ = trading_day(at_ms);
        }
    }
}
