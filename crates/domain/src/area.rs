//! Administrative division codes (GB/T 2260) extended downward to townships (9 digits) and
//! villages or communities (12 digits). Codes nest by prefix, so a subtree is one key range.

use serde::{Deserialize, Serialize};

/// The level of an area in the division hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    Province,
    City,
    County,
    Township,
    Village,
}

impl AreaLevel {
    pub const ALL: &'static [AreaLevel] =
        &[AreaLevel::Province, AreaLevel::City, AreaLevel::County, AreaLevel::Township, AreaLevel::Village];

    /// How many digits a code of this level has.
    pub fn code_len(self) -> usize {
        match self {
            AreaLevel::Province => 2,
            AreaLevel::City => 4,
            AreaLevel::County => 6,
            AreaLevel::Township => 9,
            AreaLevel::Village => 12,
        }
    }

    pub fn from_code_len(len: usize) -> Option<Self> {
        Some(match len {
            2 => AreaLevel::Province,
            4 => AreaLevel::City,
            6 => AreaLevel::County,
            9 => AreaLevel::Township,
            12 => AreaLevel::Village,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Province => "province",
            AreaLevel::City => "city",
            AreaLevel::County => "county",
            AreaLevel::Township => "township",
            AreaLevel::Village => "village",
        }
    }

    /// The Chinese word shown in the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            AreaLevel::Province => "省",
            AreaLevel::City => "市",
            AreaLevel::County => "县区",
            AreaLevel::Township => "乡镇街道",
            AreaLevel::Village => "村社区",
        }
    }

    pub fn child(self) -> Option<Self> {
        match self {
            AreaLevel::Province => Some(AreaLevel::City),
            AreaLevel::City => Some(AreaLevel::County),
            AreaLevel::County => Some(AreaLevel::Township),
            AreaLevel::Township => Some(AreaLevel::Village),
            AreaLevel::Village => None,
        }
    }
}

impl std::str::FromStr for AreaLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [AreaLevel::Province, AreaLevel::City, AreaLevel::County, AreaLevel::Township, AreaLevel::Village]
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown area level {s}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaCodeError {
    #[error("must be 2, 4, 6, 9 or 12 digits, got {0} characters")]
    Length(usize),
    #[error("must contain digits only")]
    NotDigits,
    #[error("province part cannot be 00")]
    ZeroProvince,
}

/// An area code of 2, 4, 6, 9 or 12 digits, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

text_newtype!(AreaCode, AreaCodeError);

impl AreaCode {
    pub fn parse(s: &str) -> Result<Self, AreaCodeError> {
        let s = s.trim();
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AreaCodeError::NotDigits);
        }
        if AreaLevel::from_code_len(s.len()).is_none() {
            return Err(AreaCodeError::Length(s.chars().count()));
        }
        if s.starts_with("00") {
            return Err(AreaCodeError::ZeroProvince);
        }
        Ok(AreaCode(s.to_string()))
    }

    pub fn level(&self) -> AreaLevel {
        AreaLevel::from_code_len(self.0.len()).expect("validated at construction")
    }

    /// The enclosing area, or `None` for a province.
    pub fn parent(&self) -> Option<AreaCode> {
        let len = match self.level() {
            AreaLevel::Province => return None,
            AreaLevel::City => 2,
            AreaLevel::County => 4,
            AreaLevel::Township => 6,
            AreaLevel::Village => 9,
        };
        Some(AreaCode(self.0[..len].to_string()))
    }

    /// Whether `other` is this area or lies inside it.
    pub fn contains(&self, other: &AreaCode) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The smallest area holding both (itself when `other` lies inside it); `None` across provinces.
    pub fn common_ancestor(&self, other: &AreaCode) -> Option<AreaCode> {
        let mut a = Some(self.clone());
        while let Some(code) = a {
            if code.contains(other) {
                return Some(code);
            }
            a = code.parent();
        }
        None
    }

    /// The half-open key range `[lo, hi)` that holds this area and everything under it when codes
    /// are compared bytewise (`':'` sorts right after `'9'`).
    pub fn subtree_range(&self) -> (String, String) {
        (self.0.clone(), format!("{}:", self.0))
    }

    /// The code of the `n`-th child (1-based) at the next level, e.g. township 001 of a county.
    pub fn child(&self, n: u32) -> Option<AreaCode> {
        let width = self.level().child()?.code_len() - self.0.len();
        let code = format!("{}{:0width$}", self.0, n, width = width);
        (code.len() == self.0.len() + width).then_some(AreaCode(code))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_common_ancestor_is_the_smallest_area_holding_both() {
        let a = |c: &str| AreaCode::parse(c).unwrap();
        assert_eq!(a("140121100201").common_ancestor(&a("140121100202")), Some(a("140121100")));
        assert_eq!(a("140121100201").common_ancestor(&a("140121100201")), Some(a("140121100201")));
        assert_eq!(a("140121100").common_ancestor(&a("140121101214")), Some(a("140121")));
        assert_eq!(a("14").common_ancestor(&a("140121")), Some(a("14")));
        assert_eq!(a("140121").common_ancestor(&a("110105")), None);
    }

    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    #[test]
    fn levels_and_parents_follow_the_code_length() {
        let village = code("140121100201");
        assert_eq!(village.level(), AreaLevel::Village);
        let chain: Vec<String> = std::iter::successors(Some(village), |c| c.parent()).map(|c| c.as_str().to_string()).collect();
        assert_eq!(chain, ["140121100201", "140121100", "140121", "1401", "14"]);
    }

    #[test]
    fn contains_is_prefix_nesting() {
        assert!(code("140121").contains(&code("140121100201")));
        assert!(code("140121").contains(&code("140121")));
        assert!(!code("140121100").contains(&code("140121101001")));
        assert!(!code("140121100201").contains(&code("140121")));
    }

    #[test]
    fn rejects_bad_codes_with_a_reason() {
        assert_eq!(AreaCode::parse("1401211"), Err(AreaCodeError::Length(7)));
        assert_eq!(AreaCode::parse("14012a"), Err(AreaCodeError::NotDigits));
        assert_eq!(AreaCode::parse("000000"), Err(AreaCodeError::ZeroProvince));
    }

    #[test]
    fn child_codes_are_padded_to_the_next_level() {
        assert_eq!(code("140121").child(1).unwrap().as_str(), "140121001");
        assert_eq!(code("140121100").child(201).unwrap().as_str(), "140121100201");
        assert!(code("140121100201").child(1).is_none());
        assert!(code("140121").child(1000).is_none());
    }

    proptest! {
        #[test]
        fn subtree_range_holds_exactly_the_descendants(a in "[1-6][0-9]{5}", b in "[1-6][0-9]{5}([0-9]{3}([0-9]{3})?)?") {
            let (a, b) = (code(&a), code(&b));
            let (lo, hi) = a.subtree_range();
            let in_range = b.as_str() >= lo.as_str() && b.as_str() < hi.as_str();
            prop_assert_eq!(in_range, a.contains(&b));
        }

        #[test]
        fn parent_contains_child(c in "[1-6][0-9]{5}([0-9]{3}([0-9]{3})?)?") {
            let c = code(&c);
            if let Some(p) = c.parent() {
                prop_assert!(p.contains(&c));
                prop_assert!(p.level() < c.level());
            }
        }
    }
}
