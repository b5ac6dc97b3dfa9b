//! What a tube's lab result means: classification from Ct values, what follows (recall of a
//! pool's members, or a positive person), and whether a second result may be accepted.

use serde::{Deserialize, Serialize};

use super::pooling::PoolSize;
use crate::access::named_enum;

named_enum! {
    /// Where a recall of a pooled tube's member stands: open until a single-tube re-test closes
    /// it negative or positive.
    RecallStatus {
        Open => "open", "待复核";
        Negative => "negative", "复核阴性";
        Positive => "positive", "复核阳性";
    }
}

/// A tube's result as labs report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeResult {
    Negative,
    /// A single tube with SARS-CoV-2 RNA.
    Positive,
    /// A pooled tube with a signal (混管可疑阳性): every member is recalled.
    PooledSuspect,
    /// No valid result; the tube must be sampled again.
    Invalid,
}

impl TubeResult {
    pub const ALL: [TubeResult; 4] = [TubeResult::Negative, TubeResult::Positive, TubeResult::PooledSuspect, TubeResult::Invalid];

    pub fn as_str(self) -> &'static str {
        match self {
            TubeResult::Negative => "negative",
            TubeResult::Positive => "positive",
            TubeResult::PooledSuspect => "pooled_suspect",
            TubeResult::Invalid => "invalid",
        }
    }
}

impl std::str::FromStr for TubeResult {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        // Lab systems add the sign in brackets (阴性(-)) or write 未检出 / 检出 (not detected /
        // detected); English exports capitalize.
        let s = s.trim();
        let bare = s.trim_end_matches(['(', ')', '（', '）', '-', '+', ' ']);
        Ok(match if bare.is_empty() { s } else { bare }.to_lowercase().as_str() {
            "negative" | "阴性" | "n" | "未检出" | "not detected" => TubeResult::Negative,
            "positive" | "阳性" | "p" | "检出" | "detected" => TubeResult::Positive,
            "pooled_suspect" | "混管可疑阳性" | "混管阳性" => TubeResult::PooledSuspect,
            "invalid" | "无效" | "复检" => TubeResult::Invalid,
            _ => {
                return Err(format!("unknown result {s:?} (negative/阴性, positive/阳性, pooled_suspect/混管可疑阳性, invalid/无效)"));
            }
        })
    }
}

/// Cycle-threshold values of the two targets; absent means not detected.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CtValues {
    pub orf1ab: Option<f32>,
    pub n: Option<f32>,
}

/// The Ct below which a target counts as detected (parameter of the rule set; 35 by default).
pub const DEFAULT_CT_THRESHOLD: f32 = 35.0;

/// Classifies Ct values for a tube of `pool`: any target under the threshold is a signal —
/// positive for a single tube, pooled-suspect for a pool.
pub fn classify(ct: CtValues, threshold: f32, pool: PoolSize) -> TubeResult {
    let signal = [ct.orf1ab, ct.n].into_iter().flatten().any(|v| v < threshold);
    match (signal, pool.is_single()) {
        (false, _) => TubeResult::Negative,
        (true, true) => TubeResult::Positive,
        (true, false) => TubeResult::PooledSuspect,
    }
}

/// Hours a recalled person has to be re-sampled alone (a parameter; the platform shows the clock).
pub const DEFAULT_RECALL_HOURS: i64 = 6;

/// What must happen after a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    Nothing,
    /// Every member: controlled in place and re-sampled alone at home.
    RecallMembers,
    /// The one person sampled is a positive person for investigation.
    PositivePerson,
    /// Sample the tube's members again.
    Resample,
}

pub fn follow_up(result: TubeResult, pool: PoolSize) -> FollowUp {
    match result {
        TubeResult::Negative => FollowUp::Nothing,
        TubeResult::Invalid => FollowUp::Resample,
        TubeResult::Positive if pool.is_single() => FollowUp::PositivePerson,
        TubeResult::Positive | TubeResult::PooledSuspect => FollowUp::RecallMembers,
    }
}

/// Whether a result arriving for a tube that already has one is a harmless repeat (accepted,
/// changes nothing) or a conflict (refused and reported, never overwriting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondResult {
    Repeat,
    Conflict,
}

pub fn second_result(existing: TubeResult, incoming: TubeResult) -> SecondResult {
    if existing == incoming { SecondResult::Repeat } else { SecondResult::Conflict }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_under_the_threshold_is_a_signal() {
        let pool = PoolSize::People(10);
        let single = PoolSize::People(1);
        let ct = |o, n| CtValues { orf1ab: o, n };
        assert_eq!(classify(ct(None, None), 35.0, pool), TubeResult::Negative);
        assert_eq!(classify(ct(Some(36.0), Some(38.0)), 35.0, pool), TubeResult::Negative);
        assert_eq!(classify(ct(Some(35.0), None), 35.0, single), TubeResult::Negative, "35 itself is not under");
        assert_eq!(classify(ct(Some(28.4), None), 35.0, pool), TubeResult::PooledSuspect);
        assert_eq!(classify(ct(None, Some(31.0)), 35.0, single), TubeResult::Positive);
        assert_eq!(classify(ct(None, Some(31.0)), 35.0, PoolSize::Household), TubeResult::PooledSuspect);
    }

    #[test]
    fn results_are_read_the_ways_lab_systems_write_them() {
        for (written, meant) in [
            ("阴性", TubeResult::Negative),
            ("阴性(-)", TubeResult::Negative),
            ("阴性（-）", TubeResult::Negative),
            ("未检出", TubeResult::Negative),
            ("Negative", TubeResult::Negative),
            ("阳性(+)", TubeResult::Positive),
            ("POSITIVE", TubeResult::Positive),
            ("混管可疑阳性", TubeResult::PooledSuspect),
            (" 无效 ", TubeResult::Invalid),
        ] {
            assert_eq!(written.parse::<TubeResult>(), Ok(meant), "{written}");
        }
        for wrong in ["-", "阴", "negativ", ""] {
            assert!(wrong.parse::<TubeResult>().is_err(), "{wrong}");
        }
    }

    #[test]
    fn follow_ups() {
        assert_eq!(follow_up(TubeResult::PooledSuspect, PoolSize::People(10)), FollowUp::RecallMembers);
        assert_eq!(follow_up(TubeResult::Positive, PoolSize::People(20)), FollowUp::RecallMembers);
        assert_eq!(follow_up(TubeResult::Positive, PoolSize::People(1)), FollowUp::PositivePerson);
        assert_eq!(follow_up(TubeResult::Invalid, PoolSize::People(10)), FollowUp::Resample);
        assert_eq!(follow_up(TubeResult::Negative, PoolSize::People(10)), FollowUp::Nothing);
    }

    #[test]
    fn a_second_result_never_overwrites() {
        assert_eq!(second_result(TubeResult::Negative, TubeResult::Negative), SecondResult::Repeat);
        assert_eq!(second_result(TubeResult::Negative, TubeResult::Positive), SecondResult::Conflict);
        assert_eq!("混管可疑阳性".parse::<TubeResult>().unwrap(), TubeResult::PooledSuspect);
        assert!("maybe".parse::<TubeResult>().is_err());
    }
}
