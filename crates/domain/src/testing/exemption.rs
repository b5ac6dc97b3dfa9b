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

/// Where the record already places a resident, as far as a round's exemption cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whereabouts {
    /// Nothing on record places them: any reason the community gives stands.
    Unrecorded,
    /// In a quarantine site (checked in, or on the way to it).
    Site,
    /// Admitted to a hospital.
    Hospital,
}

/// Whether a reason agrees with the record: someone in a site is accounted for as in quarantine,
/// someone in hospital as in hospital. A reason that contradicts the record (外出未归 for someone
/// in room 104) is refused, naming the one that fits.
pub fn fits(reason: ExemptionReason, known: Whereabouts) -> Result<(), crate::refusal::Refusal> {
    let needed = match known {
        Whereabouts::Unrecorded => return Ok(()),
        Whereabouts::Site => ExemptionReason::Quarantine,
        Whereabouts::Hospital => ExemptionReason::Hospital,
    };
    if reason == needed {
        Ok(())
    } else {
        Err(crate::refusal!("refused.exemption_contradicts")
            .with("given", crate::refusal::term("exemption", reason.as_str()))
            .with("fits", crate::refusal::term("exemption", needed.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_must_agree_with_where_the_record_places_someone() {
        use ExemptionReason::*;
        assert!(ExemptionReason::ALL.iter().all(|r| fits(*r, Whereabouts::Unrecorded).is_ok()));
        assert!(fits(Quarantine, Whereabouts::Site).is_ok() && fits(Hospital, Whereabouts::Hospital).is_ok());
        let refused = fits(Away, Whereabouts::Site).unwrap_err();
        assert_eq!(refused.kind, "refused.exemption_contradicts");
        assert!(fits(HomeSampled, Whereabouts::Hospital).is_err());
    }

    #[test]
    fn reasons_read_their_names_and_refuse_others() {
        for r in ExemptionReason::ALL {
            assert_eq!(r.as_str().parse::<ExemptionReason>(), Ok(*r));
        }
        assert_eq!(ExemptionReason::Hospital.label_zh(), "住院");
        assert!("vacation".parse::<ExemptionReason>().unwrap_err().contains("away"));
    }
}
