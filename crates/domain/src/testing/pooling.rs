//! Pooled sampling (混采): which pool size applies where, and Dorfman's arithmetic behind it.

use serde::{Deserialize, Serialize};

/// Zone kinds that set the pool size (2021–mid 2022 names; the 9th edition's high/medium/low
/// risk areas map onto them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    Sealed,
    Controlled,
    Precaution,
}

impl ZoneKind {
    pub const ALL: &'static [ZoneKind] = &[ZoneKind::Sealed, ZoneKind::Controlled, ZoneKind::Precaution];

    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::Sealed => "sealed",
            ZoneKind::Controlled => "controlled",
            ZoneKind::Precaution => "precaution",
        }
    }
}

impl std::fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for ZoneKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl std::str::FromStr for ZoneKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "sealed" | "封控区" | "high_risk" | "高风险区" => ZoneKind::Sealed,
            "controlled" | "管控区" | "medium_risk" | "中风险区" => ZoneKind::Controlled,
            "precaution" | "防范区" | "low_risk" | "低风险区" => ZoneKind::Precaution,
            other => return Err(format!("unknown zone kind {other:?} (sealed, controlled, precaution)")),
        })
    }
}

/// Who is being sampled, beyond where they live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplingGroup {
    Resident,
    /// People in centralized quarantine.
    QuarantineSite,
    /// Listed key groups (medical staff, cold-chain workers …).
    KeyGroup,
    /// Members of a positive pool re-sampled alone (单采复核), inside the same round.
    Retest,
}

impl SamplingGroup {
    /// Re-test tubes hold re-samples: they do not count as the round's own sample of a person.
    pub fn is_retest(self) -> bool {
        self == SamplingGroup::Retest
    }
}

/// How many swabs go into one tube.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "size")]
pub enum PoolSize {
    /// N people per tube (1 = single tube).
    People(u8),
    /// One tube per household, whatever its size (sealed areas).
    Household,
}

impl PoolSize {
    /// Pool sizes the rules allow for people: 1, 5, 10 or 20 (labs may not re-pool).
    pub fn people(n: u8) -> Result<PoolSize, String> {
        if matches!(n, 1 | 5 | 10 | 20) { Ok(PoolSize::People(n)) } else { Err(format!("pool size {n} is not allowed (1, 5, 10 or 20)")) }
    }

    /// The most swabs a tube of this kind may take (a household tube takes the household).
    pub fn capacity(self, household_size: usize) -> usize {
        match self {
            PoolSize::People(n) => usize::from(n),
            PoolSize::Household => household_size.max(1),
        }
    }

    pub fn is_single(self) -> bool {
        self == PoolSize::People(1)
    }
}

/// The pool-size policy of a testing round (DOMAIN: sealed → 1 or per household, controlled → 10,
/// others → 20; quarantine sites and key groups → single tubes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolPolicy {
    pub sealed: PoolSize,
    pub controlled: PoolSize,
    pub other: PoolSize,
}

impl Default for PoolPolicy {
    fn default() -> Self {
        PoolPolicy { sealed: PoolSize::People(1), controlled: PoolSize::People(10), other: PoolSize::People(20) }
    }
}

impl PoolPolicy {
    /// The pool size for a person in `zone` (none = outside any zone) belonging to `group`.
    pub fn pool_size(&self, zone: Option<ZoneKind>, group: SamplingGroup) -> PoolSize {
        match group {
            SamplingGroup::QuarantineSite | SamplingGroup::KeyGroup | SamplingGroup::Retest => PoolSize::People(1),
            SamplingGroup::Resident => match zone {
                Some(ZoneKind::Sealed) => self.sealed,
                Some(ZoneKind::Controlled) => self.controlled,
                Some(ZoneKind::Precaution) | None => self.other,
            },
        }
    }
}

/// Dorfman: expected tests per person with pools of `k` at prevalence `p`:
/// `1/k + 1 − (1 − p)^k` (one pooled test, plus k single re-tests when the pool is positive).
pub fn expected_tests_per_person(k: u32, p: f64) -> f64 {
    if k <= 1 {
        return 1.0;
    }
    1.0 / f64::from(k) + 1.0 - (1.0 - p).powi(k as i32)
}

/// The pool size up to `max_k` that needs the fewest tests per person at prevalence `p`.
pub fn optimal_pool_size(p: f64, max_k: u32) -> u32 {
    (1..=max_k.max(1)).min_by(|a, b| expected_tests_per_person(*a, p).total_cmp(&expected_tests_per_person(*b, p))).unwrap_or(1)
}

/// The prevalence above which pools of `k` cost more tests than single tubes.
pub fn break_even_prevalence(k: u32) -> f64 {
    1.0 - (1.0 / f64::from(k.max(2))).powf(1.0 / f64::from(k.max(2)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn policy_follows_the_zone_and_the_group() {
        let p = PoolPolicy::default();
        assert_eq!(p.pool_size(Some(ZoneKind::Sealed), SamplingGroup::Resident), PoolSize::People(1));
        assert_eq!(p.pool_size(Some(ZoneKind::Controlled), SamplingGroup::Resident), PoolSize::People(10));
        assert_eq!(p.pool_size(Some(ZoneKind::Precaution), SamplingGroup::Resident), PoolSize::People(20));
        assert_eq!(p.pool_size(None, SamplingGroup::Resident), PoolSize::People(20));
        assert_eq!(p.pool_size(None, SamplingGroup::QuarantineSite), PoolSize::People(1));
        assert_eq!(p.pool_size(Some(ZoneKind::Controlled), SamplingGroup::KeyGroup), PoolSize::People(1));
        assert_eq!(p.pool_size(Some(ZoneKind::Precaution), SamplingGroup::Retest), PoolSize::People(1));
        let household = PoolPolicy { sealed: PoolSize::Household, ..p };
        assert_eq!(household.pool_size(Some(ZoneKind::Sealed), SamplingGroup::Resident).capacity(4), 4);
    }

    #[test]
    fn only_allowed_pool_sizes() {
        assert!(PoolSize::people(10).is_ok());
        assert!(PoolSize::people(7).unwrap_err().contains("not allowed"));
    }

    #[test]
    fn optimal_pool_sizes_match_the_known_values() {
        assert_eq!(optimal_pool_size(0.001, 64), 32);
        assert_eq!(optimal_pool_size(0.01, 64), 11);
        assert_eq!(optimal_pool_size(0.05, 64), 5);
    }

    #[test]
    fn ten_pools_stop_saving_tests_near_twenty_point_six_percent() {
        let p = break_even_prevalence(10);
        assert!((p - 0.2057).abs() < 0.0005, "{p}");
        assert!(expected_tests_per_person(10, p - 0.01) < 1.0);
        assert!(expected_tests_per_person(10, p + 0.01) > 1.0);
    }

    proptest! {
        #[test]
        fn pools_save_tests_below_break_even(k in 2u32..40, share in 0.0f64..0.95) {
            let p = break_even_prevalence(k) * share;
            prop_assert!(expected_tests_per_person(k, p) <= 1.0 + 1e-12);
        }
    }
}
