//! Mainland resident identity numbers (GB 11643-1999): 6-digit area, 8-digit birth date,
//! 3-digit sequence (odd for men), and an ISO 7064 MOD 11-2 check character.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A person's sex, as the resident id's 17th digit gives it (odd: male) and as files write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub const ALL: &'static [Sex] = &[Sex::Male, Sex::Female];

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

impl std::str::FromStr for Sex {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "male" | "m" | "男" | "1" => Ok(Sex::Male),
            "female" | "f" | "女" | "2" => Ok(Sex::Female),
            other => Err(format!("unknown sex {other:?} (use 男/女 or male/female)")),
        }
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Why a string is not a valid resident id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("must be 18 characters, got {0}")]
    Length(usize),
    #[error("the first 17 characters must be digits and the last a digit or X")]
    Characters,
    #[error("area prefix {0} is not a valid 6-digit division code")]
    AreaPrefix(String),
    #[error("birth date {0} does not exist")]
    ImpossibleDate(String),
    #[error("birth date {0} is in the future")]
    FutureDate(NaiveDate),
    #[error("check character should be {expected}, got {got}")]
    CheckDigit { expected: char, got: char },
}

impl From<ResidentIdError> for crate::refusal::Refusal {
    /// What a person at a desk is told: which part of the number is wrong, never the number
    /// itself nor the check character it should have (an id is personal data).
    fn from(e: ResidentIdError) -> Self {
        match e {
            ResidentIdError::Length(n) => crate::refusal!("refused.id.length", n = n),
            ResidentIdError::Characters => crate::refusal!("refused.id.characters"),
            ResidentIdError::AreaPrefix(_) => crate::refusal!("refused.id.area_prefix"),
            ResidentIdError::ImpossibleDate(_) | ResidentIdError::FutureDate(_) => crate::refusal!("refused.id.birth_date"),
            ResidentIdError::CheckDigit { .. } => crate::refusal!("refused.id.check_digit"),
        }
    }
}

/// A document number in a list that may hold passports too: one written as a resident id is (18
/// characters, the first 17 digits) must be a valid one, so that a mistyped id is said as such
/// rather than as a person nobody registered; anything else is left to the register to find.
pub fn check_if_resident(number: &str) -> Result<(), crate::refusal::Refusal> {
    let b = number.trim().as_bytes();
    if b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) {
        ResidentId::parse(number.trim()).map(|_| ()).map_err(Into::into)
    } else {
        Ok(())
    }
}

/// A GB 11643 resident identity number, valid by construction (stored upper-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResidentId(String);

text_newtype!(ResidentId, ResidentIdError);

/// The check character for the first 17 digits of a resident id.
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize] as char
}

impl ResidentId {
    /// Parses and validates against today's date (birth dates may not be in the future).
    pub fn parse(s: &str) -> Result<Self, ResidentIdError> {
        Self::parse_on(s, crate::local_date(chrono::Utc::now()))
    }

    /// Parses and validates, treating `today` as the latest possible birth date.
    pub fn parse_on(s: &str, today: NaiveDate) -> Result<Self, ResidentIdError> {
        let s = s.trim();
        let n = s.chars().count();
        if n != 18 {
            return Err(ResidentIdError::Length(n));
        }
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x') {
            return Err(ResidentIdError::Characters);
        }
        let area = &s[..6];
        if area.starts_with('0') || &area[2..4] == "00" && &area[4..] != "00" {
            return Err(ResidentIdError::AreaPrefix(area.to_string()));
        }
        let (y, m, d) = (&s[6..10], &s[10..12], &s[12..14]);
        let date = NaiveDate::from_ymd_opt(y.parse().unwrap_or(0), m.parse().unwrap_or(0), d.parse().unwrap_or(0))
            .filter(|d| d.year() >= 1880)
            .ok_or_else(|| ResidentIdError::ImpossibleDate(format!("{y}-{m}-{d}")))?;
        if date > today {
            return Err(ResidentIdError::FutureDate(date));
        }
        let expected = check_char(&b[..17]);
        let got = (b[17] as char).to_ascii_uppercase();
        if expected != got {
            return Err(ResidentIdError::CheckDigit { expected, got });
        }
        Ok(ResidentId(s.to_ascii_uppercase()))
    }

    /// Builds an id from its parts, computing the check character.
    pub fn from_parts(area6: &str, birth: NaiveDate, sequence: u16) -> Result<Self, ResidentIdError> {
        let first17 = format!("{area6}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
        let c = check_char(first17.as_bytes());
        Self::parse_on(&format!("{first17}{c}"), birth)
    }

    /// The 6-digit area of registration.
    pub fn area_prefix(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("validated at construction")
    }

    /// Sex from the parity of the sequence code (odd = male).
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// The last four characters, which people quote on the phone.
    pub fn tail4(&self) -> &str {
        &self.0[14..]
    }

    /// Masked for lists: `1401**********1234`.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn accepts_the_standard_example_and_derives_sex_and_birth() {
        let id = ResidentId::parse_on("11010519491231002X", today()).unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.area_prefix(), "110105");
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(id.tail4(), "002X");
    }

    #[test]
    fn lower_case_x_is_normalised() {
        assert_eq!(ResidentId::parse_on("11010519491231002x", today()).unwrap().as_str(), "11010519491231002X");
    }

    #[test]
    fn a_list_number_written_as_a_resident_id_must_be_one() {
        assert_eq!(check_if_resident("110105194912310021").map_err(|r| r.kind), Err("refused.id.check_digit"));
        assert_eq!(check_if_resident("11010519491231002X"), Ok(()));
        assert_eq!(check_if_resident("E12345678"), Ok(()), "a passport is the register's to find");
    }

    #[test]
    fn rejects_wrong_check_digit_naming_the_expected_one() {
        assert_eq!(ResidentId::parse_on("110105194912310021", today()), Err(ResidentIdError::CheckDigit { expected: 'X', got: '1' }));
    }

    #[test]
    fn a_wrong_number_is_told_by_its_part_without_the_number_or_the_right_check_character() {
        let r = crate::refusal::Refusal::from(ResidentId::parse_on("110105194912310021", today()).unwrap_err());
        assert_eq!((r.kind, r.args.len()), ("refused.id.check_digit", 0));
        let r = crate::refusal::Refusal::from(ResidentId::parse_on("1101051949", today()).unwrap_err());
        assert_eq!((r.kind, r.arg("n")), ("refused.id.length", Some("10")));
    }

    #[test]
    fn rejects_impossible_dates() {
        let first17 = "14012119900230001";
        let id = format!("{first17}{}", check_char(first17.as_bytes()));
        assert_eq!(ResidentId::parse_on(&id, today()), Err(ResidentIdError::ImpossibleDate("1990-02-30".into())));
    }

    #[test]
    fn rejects_future_birth_dates() {
        let first17 = "14012120300101001";
        let id = format!("{first17}{}", check_char(first17.as_bytes()));
        assert!(matches!(ResidentId::parse_on(&id, today()), Err(ResidentIdError::FutureDate(_))));
    }

    #[test]
    fn rejects_wrong_length_and_characters() {
        assert_eq!(ResidentId::parse_on("1101051949123100", today()), Err(ResidentIdError::Length(16)));
        assert_eq!(ResidentId::parse_on("1101051949123100A2", today()), Err(ResidentIdError::Characters));
        assert_eq!(ResidentId::parse_on("11010519491231002Ｘ", today()), Err(ResidentIdError::Characters));
    }

    proptest! {
        #[test]
        fn built_ids_round_trip(days in 0i64..45_000, seq in 0u16..1000, area in 110_000u32..660_000) {
            let birth = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let area = format!("{area}");
            prop_assume!(&area[2..4] != "00");
            let id = ResidentId::from_parts(&area, birth, seq).unwrap();
            prop_assert_eq!(id.birth_date(), birth);
            prop_assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
            prop_assert_eq!(ResidentId::parse_on(id.as_str(), today()).unwrap(), id);
        }

        #[test]
        fn any_single_digit_change_is_caught(days in 0i64..40_000, seq in 0u16..1000, pos in 0usize..17, delta in 1u8..10) {
            let birth = NaiveDate::from_ymd_opt(1910, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let id = ResidentId::from_parts("140121", birth, seq).unwrap();
            let mut bytes = id.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(ResidentId::parse_on(&changed, today()).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = ResidentId::parse_on(&s, today());
        }
    }
}
