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
pub mod cases;
pub mod header;
pub mod observation;
pub mod person;
pub mod person_row;
pub mod phone;
pub mod refusal;
pub mod resident_id;
pub mod testing;
pub mod transfer;
pub mod treatment;

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

/// A wall-clock time of the local calendar as an instant.
pub fn from_local(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    // A fixed offset has neither gaps nor folds: every local time is exactly one instant.
    local_offset().from_local_datetime(&t).single().expect("a fixed offset maps every time").with_timezone(&chrono::Utc)
}

#[cfg(test)]
mod local_time_tests {
    #[test]
    fn local_days_turn_at_shanghai_midnight() {
        let t = chrono::DateTime::parse_from_rfc3339("2022-04-12T16:30:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(super::local_date(t).to_string(), "2022-04-13");
        let wall = chrono::NaiveDate::from_ymd_opt(2022, 4, 13).unwrap().and_hms_opt(0, 30, 0).unwrap();
        assert_eq!(super::from_local(wall), t);
    }
}
