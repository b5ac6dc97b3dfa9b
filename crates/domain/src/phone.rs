//! Mainland mobile numbers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("must be 11 digits starting with 1, got {0:?}")]
    Format(String),
}

/// An 11-digit mainland mobile number starting with 1 (a leading +86 or 86 is dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

text_newtype!(Phone, PhoneError);

impl From<PhoneError> for crate::refusal::Refusal {
    fn from(PhoneError::Format(given): PhoneError) -> Self {
        crate::refusal!("refused.phone", phone = given)
    }
}

impl Phone {
    pub fn parse(s: &str) -> Result<Self, PhoneError> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits.strip_prefix("+86").or_else(|| digits.strip_prefix("0086")).unwrap_or(&digits);
        let digits = if digits.len() == 13 && digits.starts_with("86") { &digits[2..] } else { digits };
        let ok =
            digits.len() == 11 && digits.bytes().all(|b| b.is_ascii_digit()) && digits.starts_with('1') && digits.as_bytes()[1] >= b'3';
        if ok { Ok(Phone(digits.to_string())) } else { Err(PhoneError::Format(s.trim().to_string())) }
    }
    /// Masked for lists: `138****5678`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// A contact number as a site head, a driver or a unit writes it: a mobile number, or a landline
/// with its area code (`0351-5123456`, `(0351)5123456`). Answers it as written, trimmed; letters,
/// too few or too many digits are refused.
pub fn contact_phone(s: &str) -> Result<String, PhoneError> {
    let s = s.trim();
    if Phone::parse(s).is_ok() {
        return Ok(s.to_string());
    }
    // An extension after the number (`0351-5123456-801`, `转801`) is kept as written.
    let number = s.split(['转', '#']).next().unwrap_or(s);
    let parts: Vec<&str> = number.split('-').collect();
    let number = match parts.as_slice() {
        [area, local, ext] if !ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_digit()) => format!("{area}-{local}"),
        _ => number.to_string(),
    };
    let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '（' | '）')).collect();
    // A landline with the country code drops it and gains the trunk 0 (`+86 351 5123456`).
    let digits = match digits.strip_prefix("+86").or_else(|| digits.strip_prefix("0086")) {
        Some(rest) => format!("0{rest}"),
        None => digits,
    };
    let landline = digits.starts_with('0')
        && !digits.starts_with("00")
        && (10..=12).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().skip(1).any(|b| b != b'0');
    if landline { Ok(s.to_string()) } else { Err(PhoneError::Format(s.to_string())) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_spellings_and_masks() {
        for s in ["13812345678", "+86 138 1234 5678", "138-1234-5678", "8613812345678"] {
            assert_eq!(Phone::parse(s).unwrap().as_str(), "13812345678", "{s}");
        }
        assert_eq!(Phone::parse("13812345678").unwrap().masked(), "138****5678");
    }

    #[test]
    fn rejects_landlines_and_short_numbers() {
        assert!(Phone::parse("03515551234").is_err());
        assert!(Phone::parse("1381234567").is_err());
        assert!(Phone::parse("12812345678").is_err());
    }

    proptest! {
        #[test]
        fn valid_numbers_round_trip(n in "1[3-9][0-9]{9}") {
            let p = Phone::parse(&n).unwrap();
            prop_assert_eq!(p.as_str(), n.as_str());
        }
    }

    #[test]
    fn a_contact_number_is_a_mobile_or_a_landline_with_its_area_code() {
        for ok in
            ["13800138000", "0351-5123456", "(0351)5123456", "010 12345678", "+86 138 0013 8000", "+86 351 5123456", "0351-5123456-801"]
        {
            assert_eq!(contact_phone(ok).as_deref(), Ok(ok.trim()), "{ok}");
        }
        for bad in ["12ab", "5123456", "0351-51234567890", "abc", "", "0000000000"] {
            assert!(contact_phone(bad).is_err(), "{bad}");
        }
    }
}
