//! Residents accounted for without a sample in a round (应检尽检 — "everyone who should be tested
//! is tested" counts these apart from the missing): the reasons a community worker records.

use crate::access::named_enum;

named_enum! {
    /// Why a registered resident has no sample in this round and is not missing.
    ExemptionReason {
        Away => "away", "外出未归";
        Quarantine => "quarantine", "集中隔离";
        Hospital => "hospital", "住院";
        HomeSampled => "home_sampled", "已上门采样";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_their_names_and_refuse_others() {
        for r in ExemptionReason::ALL {
            assert_eq!(r.as_str().parse::<ExemptionReason>(), Ok(*r));
        }
        assert_eq!(ExemptionReason::Hospital.label_zh(), "住院");
        assert!("vacation".parse::<ExemptionReason>().unwrap_err().contains("away"));
    }
}
