//! How pages and links write numbers, times and text: thousands, local times and days, spans of
//! minutes, percent-encoding. Every local time goes through `cordon_domain::local_offset`.

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::{local_date, local_offset};

/// `350123` → `350,123`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// An instant as local time, `11-24 19:05`.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&local_offset()).format("%m-%d %H:%M").to_string()
}

/// Today in the local calendar.
pub fn today() -> NaiveDate {
    local_date(Utc::now())
}

/// A day as `04-13`.
pub fn month_day(d: NaiveDate) -> String {
    d.format("%m-%d").to_string()
}

/// A day as `04-13`, or `—` when there is none.
pub fn day(d: Option<NaiveDate>) -> String {
    d.map(month_day).unwrap_or_else(|| "—".into())
}

/// A day as `2022-04-13`, or `—` when there is none.
pub fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
}

/// A stored phone number masked for a list (`139****0001`); nothing when there is none or it
/// does not read as a phone number.
pub fn masked_phone(phone: Option<&str>) -> String {
    phone.and_then(|p| cordon_domain::Phone::parse(p).ok()).map(|p| p.masked()).unwrap_or_default()
}

/// `3h05m` for a span of minutes.
pub fn span(minutes: i64) -> String {
    format!("{}h{:02}m", minutes / 60, minutes % 60)
}

/// Percent-encodes text for a query value or a path segment (UTF-8 bytes; unreserved characters
/// and `/` stay as they are).
pub fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(350_123), "350,123");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(-1200), "-1,200");
    }

    #[test]
    fn local_times_are_beijing_time() {
        let t = DateTime::parse_from_rfc3339("2022-04-13T17:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(local(t), "04-14 01:30");
    }

    #[test]
    fn percent_keeps_unreserved_and_encodes_the_rest_as_utf8() {
        assert_eq!(percent("清徐-1 a/b"), "%E6%B8%85%E5%BE%90-1%20a/b");
        assert_eq!(percent("a&b=c"), "a%26b%3Dc");
    }

    #[test]
    fn spans_and_days_read_as_written() {
        assert_eq!(span(185), "3h05m");
        assert_eq!(day(NaiveDate::from_ymd_opt(2022, 4, 13)), "04-13");
        assert_eq!(day(None), "—");
        assert_eq!(date(NaiveDate::from_ymd_opt(2022, 4, 13)), "2022-04-13");
    }
}
