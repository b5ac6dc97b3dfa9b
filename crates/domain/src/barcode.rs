//! Sample tube barcodes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("must be 8–20 characters, got {0}")]
    Length(usize),
    #[error("may contain only digits and letters")]
    Characters,
}

impl From<BarcodeError> for crate::refusal::Refusal {
    /// What a sampler is told: the barcode as scanned and what is wrong with it.
    fn from(e: BarcodeError) -> Self {
        match e {
            BarcodeError::Length(n) => crate::refusal!("refused.barcode_length", n = n),
            BarcodeError::Characters => crate::refusal!("refused.barcode_characters"),
        }
    }
}

/// A printed tube barcode: 8–20 ASCII digits or letters, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

text_newtype!(Barcode, BarcodeError);

impl Barcode {
    pub fn parse(s: &str) -> Result<Self, BarcodeError> {
        let s = s.trim();
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(BarcodeError::Characters);
        }
        if !(8..=20).contains(&s.len()) {
            return Err(BarcodeError::Length(s.len()));
        }
        Ok(Barcode(s.to_ascii_uppercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds_and_characters() {
        assert_eq!(Barcode::parse("1234567"), Err(BarcodeError::Length(7)));
        assert_eq!(Barcode::parse("123456789012345678901"), Err(BarcodeError::Length(21)));
        assert_eq!(Barcode::parse("1234-5678"), Err(BarcodeError::Characters));
        assert_eq!(Barcode::parse(" qx20220413 ").unwrap().as_str(), "QX20220413");
    }

    proptest! {
        #[test]
        fn alphanumeric_of_valid_length_parses(s in "[0-9A-Za-z]{8,20}") {
            let b = Barcode::parse(&s).unwrap();
            prop_assert_eq!(b.as_str(), s.to_ascii_uppercase());
        }
    }
}
