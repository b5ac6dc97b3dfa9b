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
}
