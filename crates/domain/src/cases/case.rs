//! A case's classification, severity, how it was found and where it came from.

use crate::access::named_enum;

named_enum! {
    /// What a case is (确诊 / 无症状 / 疑似). An asymptomatic case may later convert to confirmed.
    CaseClass {
        Confirmed => "confirmed", "确诊病例";
        Asymptomatic => "asymptomatic", "无症状感染者";
        Suspected => "suspected", "疑似病例";
    }
}

named_enum! {
    /// Clinical severity; decides shelter hospital (mild) or designated hospital (moderate and up).
    Severity {
        Mild => "mild", "轻型";
        Moderate => "moderate", "普通型";
        Severe => "severe", "重型";
        Critical => "critical", "危重型";
    }
}

named_enum! {
    /// How a case came to light (the daily report splits new cases by it).
    HowFound {
        InQuarantine => "in_quarantine", "集中隔离中发现";
        InControlArea => "in_control_area", "封控管控区内发现";
        MassTesting => "mass_testing", "区域核酸筛查";
        CommunityScreening => "community_screening", "社区主动筛查";
        FeverClinic => "fever_clinic", "发热门诊";
        Imported => "imported", "境外输入";
        Other => "other", "其他";
    }
}

named_enum! {
    /// Whether the infection was acquired here or brought in.
    Origin {
        Local => "local", "本土";
        Imported => "imported", "输入";
    }
}

named_enum! {
    /// Where the case is now.
    CasePlace {
        Home => "home", "居家";
        InTransfer => "in_transfer", "转运中";
        QuarantineSite => "quarantine_site", "集中隔离点";
        Hospital => "hospital", "定点医院";
        ShelterHospital => "shelter_hospital", "方舱医院";
    }
}

named_enum! {
    /// What kind of place a trajectory entry is.
    PlaceKind {
        Home => "home", "住所";
        Work => "work", "工作单位";
        Shop => "shop", "商超市场";
        Vehicle => "vehicle", "交通工具";
        Venue => "venue", "公共场所";
        Medical => "medical", "医疗机构";
        Other => "other", "其他";
    }
}

impl CaseClass {
    /// Whether a case may change from `self` to `to`: an asymptomatic case converts to
    /// confirmed, a suspected case is confirmed or found asymptomatic; a confirmed case stays.
    pub fn may_become(self, to: CaseClass) -> bool {
        matches!(
            (self, to),
            (CaseClass::Asymptomatic, CaseClass::Confirmed)
                | (CaseClass::Suspected, CaseClass::Confirmed)
                | (CaseClass::Suspected, CaseClass::Asymptomatic)
        )
    }
}

/// What recording a clinical type on a case of `class` does. A clinical type belongs to a
/// confirmed case; giving one to an asymptomatic infection is its conversion to a confirmed
/// case (无症状感染者转为确诊病例, which the daily report counts), made in the same act; a
/// suspected case is confirmed first. `Ok(Some(class))` is the case's new classification.
pub fn with_severity(class: CaseClass) -> Result<Option<CaseClass>, crate::refusal::Refusal> {
    match class {
        CaseClass::Confirmed => Ok(None),
        CaseClass::Asymptomatic => Ok(Some(CaseClass::Confirmed)),
        CaseClass::Suspected => Err(crate::refusal!("refused.suspected_no_severity")),
    }
}

/// How a case reads clinically, the same on every page: a confirmed case by its clinical type
/// when one is known, otherwise by its classification (an asymptomatic infection has none).
pub fn clinical(class: CaseClass, severity: Option<Severity>) -> (CaseClass, Option<Severity>) {
    match class {
        CaseClass::Confirmed => (class, severity),
        _ => (class, None),
    }
}

/// Whether a new case names who it is: a person of the register, or — a case without one, from
/// a line list or reported from elsewhere — at least its case number. A case with neither cannot
/// be followed, and would still open a cluster and start an investigation's clocks.
pub fn identified(has_person: bool, number: Option<&str>) -> Result<(), crate::refusal::Refusal> {
    if has_person || number.is_some_and(|n| !n.trim().is_empty()) { Ok(()) } else { Err(crate::refusal!("refused.case_unidentified")) }
}

/// Whether an onset date may be recorded on `today`: never a day still to come (a mistyped year
/// would put the case out of every curve).
pub fn onset(onset: chrono::NaiveDate, today: chrono::NaiveDate) -> Result<(), crate::refusal::Refusal> {
    if onset > today { Err(crate::refusal!("refused.onset_in_future", onset = onset)) } else { Ok(()) }
}

/// How and where a positive result was found, from the person's open observation order and the
/// strictest zone in force where they live: in a site (集中隔离中发现, at the site), at home under
/// control or living in a sealed or controlled zone (封控管控区内发现), or by mass testing at home
/// (the 社会面 figure).
pub fn found_under(observed: Option<crate::observation::Status>, zone: Option<crate::testing::pooling::ZoneKind>) -> (HowFound, CasePlace) {
    use crate::observation::Status;
    use crate::testing::pooling::ZoneKind;
    match (observed, zone) {
        (Some(Status::Centralized), _) => (HowFound::InQuarantine, CasePlace::QuarantineSite),
        (Some(Status::HomeQuarantine | Status::HomeMonitoring), _) => (HowFound::InControlArea, CasePlace::Home),
        (_, Some(ZoneKind::Sealed | ZoneKind::Controlled)) => (HowFound::InControlArea, CasePlace::Home),
        _ => (HowFound::MassTesting, CasePlace::Home),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_positive_under_observation_is_found_where_the_person_is_held() {
        use crate::observation::Status;
        use crate::testing::pooling::ZoneKind;
        assert_eq!(found_under(Some(Status::Centralized), None), (HowFound::InQuarantine, CasePlace::QuarantineSite));
        assert_eq!(found_under(Some(Status::HomeMonitoring), None), (HowFound::InControlArea, CasePlace::Home));
        // Living in a sealed or controlled zone is found in a control area; a precaution zone is
        // the community (社会面).
        assert_eq!(found_under(None, Some(ZoneKind::Sealed)), (HowFound::InControlArea, CasePlace::Home));
        assert_eq!(found_under(None, Some(ZoneKind::Controlled)), (HowFound::InControlArea, CasePlace::Home));
        assert_eq!(found_under(None, Some(ZoneKind::Precaution)), (HowFound::MassTesting, CasePlace::Home));
        assert_eq!(found_under(Some(Status::Centralized), Some(ZoneKind::Sealed)).0, HowFound::InQuarantine);
        assert_eq!(found_under(None, None), (HowFound::MassTesting, CasePlace::Home));
    }

    use super::*;

    #[test]
    fn a_case_names_a_person_or_at_least_its_number() {
        assert!(identified(true, None).is_ok());
        assert!(identified(false, Some("清徐-7")).is_ok());
        assert_eq!(identified(false, None).unwrap_err().kind, "refused.case_unidentified");
        assert_eq!(identified(false, Some("  ")).unwrap_err().kind, "refused.case_unidentified");
    }

    #[test]
    fn an_onset_is_today_or_before() {
        let today = chrono::NaiveDate::from_ymd_opt(2022, 4, 13).unwrap();
        assert!(onset(today, today).is_ok());
        assert_eq!(onset(chrono::NaiveDate::from_ymd_opt(2031, 1, 1).unwrap(), today).unwrap_err().arg("onset"), Some("2031-01-01"));
    }

    #[test]
    fn a_clinical_type_on_an_asymptomatic_infection_converts_it_and_a_suspected_case_has_none() {
        assert_eq!(with_severity(CaseClass::Asymptomatic), Ok(Some(CaseClass::Confirmed)));
        assert_eq!(with_severity(CaseClass::Confirmed), Ok(None));
        assert_eq!(with_severity(CaseClass::Suspected).unwrap_err().kind, "refused.suspected_no_severity");
        assert_eq!(clinical(CaseClass::Asymptomatic, Some(Severity::Mild)), (CaseClass::Asymptomatic, None), "no type shown");
        assert_eq!(clinical(CaseClass::Confirmed, Some(Severity::Moderate)), (CaseClass::Confirmed, Some(Severity::Moderate)));
        for class in CaseClass::ALL {
            if let Ok(Some(to)) = with_severity(*class) {
                assert!(class.may_become(to), "a conversion the classification rule allows");
            }
        }
    }

    #[test]
    fn asymptomatic_converts_to_confirmed_but_never_back() {
        assert!(CaseClass::Asymptomatic.may_become(CaseClass::Confirmed));
        assert!(!CaseClass::Confirmed.may_become(CaseClass::Asymptomatic));
        assert!(!CaseClass::Confirmed.may_become(CaseClass::Confirmed));
        assert!(CaseClass::Suspected.may_become(CaseClass::Asymptomatic));
    }

    #[test]
    fn labels_read_in_either_language() {
        assert_eq!(HowFound::from_text("发热门诊"), Some(HowFound::FeverClinic));
        assert_eq!(HowFound::from_text(" fever_clinic "), Some(HowFound::FeverClinic));
        assert_eq!(Origin::from_text("输入"), Some(Origin::Imported));
        assert_eq!(Origin::from_text("abroad"), None);
    }
}
