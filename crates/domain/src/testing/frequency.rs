//! How often an area is tested after the first rounds (2nd-edition guide): areas with a case in
//! the last 3 rounds, quarantine sites, and areas with a sealed or controlled zone in force daily;
//! a case in the last 14 days every other day; otherwise every 5 days. A suggestion the commander
//! confirms.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Daily,
    EveryOtherDay,
    Every5Days,
}

impl Frequency {
    pub fn interval_days(self) -> u32 {
        match self {
            Frequency::Daily => 1,
            Frequency::EveryOtherDay => 2,
            Frequency::Every5Days => 5,
        }
    }
}

/// What is known of an area when planning the next rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AreaTestingHistory {
    /// Whether any of the last rounds (see [`FrequencyRules::recent_rounds`]) found a case here.
    pub case_in_recent_rounds: bool,
    /// Days since the last case found here, if any.
    pub days_since_last_case: Option<u32>,
    pub is_quarantine_site: bool,
    /// The strictest zone in force over the area or inside it.
    #[serde(default)]
    pub zone: Option<crate::testing::pooling::ZoneKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrequencyRules {
    pub recent_rounds: u32,
    pub recent_case_days: u32,
}

impl Default for FrequencyRules {
    fn default() -> Self {
        FrequencyRules { recent_rounds: 3, recent_case_days: 14 }
    }
}

impl FrequencyRules {
    pub fn suggest(&self, h: &AreaTestingHistory) -> Frequency {
        use crate::testing::pooling::ZoneKind;
        let zoned = matches!(h.zone, Some(ZoneKind::Sealed | ZoneKind::Controlled));
        if h.is_quarantine_site || h.case_in_recent_rounds || zoned {
            Frequency::Daily
        } else if h.days_since_last_case.is_some_and(|d| d <= self.recent_case_days) {
            Frequency::EveryOtherDay
        } else {
            Frequency::Every5Days
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_follow_the_second_edition() {
        let r = FrequencyRules::default();
        let h = |recent, days, site| AreaTestingHistory {
            case_in_recent_rounds: recent,
            days_since_last_case: days,
            is_quarantine_site: site,
            zone: None,
        };
        assert_eq!(r.suggest(&h(true, Some(1), false)), Frequency::Daily);
        assert_eq!(r.suggest(&h(false, None, true)), Frequency::Daily);
        assert_eq!(r.suggest(&h(false, Some(10), false)), Frequency::EveryOtherDay);
        assert_eq!(r.suggest(&h(false, Some(14), false)), Frequency::EveryOtherDay);
        assert_eq!(r.suggest(&h(false, Some(15), false)), Frequency::Every5Days);
        assert_eq!(r.suggest(&h(false, None, false)), Frequency::Every5Days);
        assert_eq!(Frequency::EveryOtherDay.interval_days(), 2);
        // A sealed or controlled zone in the area: daily; a precaution zone changes nothing.
        use crate::testing::pooling::ZoneKind;
        assert_eq!(r.suggest(&AreaTestingHistory { zone: Some(ZoneKind::Controlled), ..h(false, None, false) }), Frequency::Daily);
        assert_eq!(r.suggest(&AreaTestingHistory { zone: Some(ZoneKind::Precaution), ..h(false, None, false) }), Frequency::Every5Days);
    }
}
