//! Cordon's domain: validated identifiers and the rules of an outbreak response, as pure code.
//! No I/O, no async, no SQL.

/// The conversions every validated text type shares: `Display`, `FromStr`, `TryFrom<String>`
/// (for serde), `Into<String>` and `as_str`, all through the type's own `parse`.
macro_rules! text_newtype {
    ($t:ident, $err:ty) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    };
}

pub mod access;
pub mod area;
pub mod barcode;
pub mod boundary;
pub mod cases;
pub mod checkpoints;
pub mod clocks;
pub mod command;
pub mod epi;
pub mod header;
pub mod health_code;
pub mod hotline;
pub mod observation;
pub mod person;
pub mod person_row;
pub mod phone;
pub mod refusal;
pub mod report;
pub mod resident_id;
pub mod screen;
pub mod supplies;
pub mod testing;
pub mod throttle;
pub mod timeline;
pub mod transfer;
pub mod treatment;
pub mod zones;

pub use area::{AreaCode, AreaLevel};
pub use barcode::Barcode;
pub use person::{IdDocument, NewPerson, PersonName, Sex, Tags, Vulnerability};
pub use phone::Phone;
pub use resident_id::ResidentId;

/// The local calendar's offset (Asia/Shanghai, no daylight saving): day counts and times shown.
pub fn local_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

/// The local calendar day of an instant.
pub fn local_date(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    t.with_timezone(&local_offset()).date_naive()
}

/// An instant as the local wall clock shows it to the minute (`2022-04-13 14:30`), as refusals
/// name times.
pub fn local_minute(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&local_offset()).format("%Y-%m-%d %H:%M").to_string()
}

/// A wall-clock time of the local calendar as an instant.
pub fn from_local(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    // A fixed offset has neither gaps nor folds: every local time is exactly one instant.
    local_offset().from_local_datetime(&t).single().expect("a fixed offset maps every time").with_timezone(&chrono::Utc)
}

/// The ways lab systems, spreadsheets and exports write a local time, tried in turn.
const LOCAL_TIME_FORMATS: [&str; 9] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S%.f",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y%m%d%H%M%S",
];

/// What [`parse_local_time`] reads, for a page's format note and an error.
pub const LOCAL_TIME_FORMS: &str = "2022-04-13 19:05:00, 2022-04-13 19:05, 2022/4/13 19:05, 2022-04-13T19:05:00, 2022年4月13日 19:05, 20220413190500, 2022-04-13T19:05:00+08:00";

/// A time as a file writes it: RFC 3339 with its offset, or a local wall-clock time (Beijing
/// time, as lab systems and spreadsheets write it) with or without seconds, with dashes,
/// slashes or 年月日, single-digit months and days and fractions of a second allowed.
pub fn parse_local_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    LOCAL_TIME_FORMATS.iter().find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok()).map(from_local)
}

#[cfg(test)]
mod local_time_tests {
    #[test]
    fn times_are_read_the_ways_lab_systems_and_spreadsheets_write_them() {
        let at = super::parse_local_time("2026-12-02 14:10:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-02T06:10:00+00:00", "Beijing time");
        for same in [
            "2026-12-02 14:10",
            "2026/12/02 14:10:00",
            "2026/12/2 14:10",
            "2026-12-02T14:10:00",
            "2026-12-02T14:10",
            "2026-12-02 14:10:00.000",
            "2026年12月2日 14:10",
            "20261202141000",
            "2026-12-02T14:10:00+08:00",
            " 2026-12-02 14:10 ",
        ] {
            assert_eq!(super::parse_local_time(same), Some(at), "{same}");
        }
        for wrong in ["2026-12-02", "14:10", "2026-13-02 14:10", "yesterday", ""] {
            assert_eq!(super::parse_local_time(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn local_days_turn_at_shanghai_midnight() {
        let t = chrono::DateTime::parse_from_rfc3339("2022-04-12T16:30:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(super::local_date(t).to_string(), "2022-04-13");
        let wall = chrono::NaiveDate::from_ymd_opt(2022, 4, 13).unwrap().and_hms_opt(0, 30, 0).unwrap();
        assert_eq!(super::from_local(wall), t);
    }
}
