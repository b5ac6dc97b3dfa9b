//! Treatment rules: which hospital a case goes to, and when a case may be discharged.
//!
//! Mild cases go to a shelter hospital (方舱医院); moderate and above, or a mild case with a
//! high-risk condition, to the designated hospital (定点医院). Discharge needs two tests with
//! Ct ≥ 35 at least 24 hours apart (9th edition), then 7 days of health monitoring at home.

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::access::named_enum;
use crate::cases::case::Severity;
use crate::testing::result::{CtValues, DEFAULT_CT_THRESHOLD};

named_enum! {
    /// Where a case is treated.
    HospitalKind {
        Designated => "designated", "定点医院";
        Shelter => "shelter", "方舱医院";
    }
}

impl HospitalKind {
    /// Where a case arrived at a hospital of this kind is, on its record.
    pub fn case_place(self) -> crate::cases::case::CasePlace {
        match self {
            HospitalKind::Designated => crate::cases::case::CasePlace::Hospital,
            HospitalKind::Shelter => crate::cases::case::CasePlace::ShelterHospital,
        }
    }
}

named_enum! {
    /// Where a hospital stay stands.
    StayStatus {
        Admitted => "admitted", "在院";
        Discharged => "discharged", "已出院";
        Died => "died", "死亡";
    }
}

/// Whether an admitted case is too grave for the hospital it is in: the rule would send a case
/// of its severity to the designated hospital, and it is in a shelter hospital.
pub fn needs_designated(status: StayStatus, kind: HospitalKind, severity: Severity) -> bool {
    status == StayStatus::Admitted && kind == HospitalKind::Shelter && hospital_for(severity, false) == HospitalKind::Designated
}

/// The hospital a case of `severity` goes to; `high_risk` (elderly with underlying disease,
/// pregnant, …) sends even a mild case to the designated hospital.
pub fn hospital_for(severity: Severity, high_risk: bool) -> HospitalKind {
    match severity {
        Severity::Mild if !high_risk => HospitalKind::Shelter,
        _ => HospitalKind::Designated,
    }
}

/// Days of home health monitoring after discharge.
pub const POST_DISCHARGE_MONITORING_DAYS: u32 = 7;
/// The least time between the two discharge tests.
pub const DISCHARGE_TEST_GAP_HOURS: i64 = 24;

/// One test taken in hospital.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HospitalTest {
    pub at: DateTime<Utc>,
    pub ct: CtValues,
}

impl HospitalTest {
    /// Both targets at Ct ≥ 35 or not detected.
    pub fn qualifies(&self, threshold: f32) -> bool {
        [self.ct.orf1ab, self.ct.n].into_iter().flatten().all(|v| v >= threshold)
    }
}

impl HospitalTest {
    /// A ward test as the form has it: Ct values as typed (empty: that target not detected), or
    /// a tick for 未检出. A form with neither is no test; one with both contradicts itself.
    pub fn read_ct(orf1ab: &str, n: &str, not_detected: bool) -> Result<CtValues, crate::refusal::Refusal> {
        let ct = |s: &str| -> Result<Option<f32>, crate::refusal::Refusal> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            let plain = s.chars().all(|c| c.is_ascii_digit() || c == '.');
            s.parse::<f32>().ok().filter(|_| plain).map(Some).ok_or_else(|| crate::refusal!("treatment.ct_not_number", value = s))
        };
        let values = CtValues { orf1ab: ct(orf1ab)?, n: ct(n)? };
        match (values.orf1ab.is_none() && values.n.is_none(), not_detected) {
            (true, false) => Err(crate::refusal!("treatment.test_needs_result")),
            (false, true) => Err(crate::refusal!("treatment.test_both_results")),
            _ => Ok(values),
        }
    }
}

/// What the discharge rule says about a case's tests.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discharge {
    /// Two qualifying tests far enough apart, with no failing test after the first.
    Allowed { first: DateTime<Utc>, second: DateTime<Utc> },
    /// No qualifying test since the last one under the threshold.
    NeedsTwoTests,
    /// One qualifying test; the second may be taken from `from` on.
    NeedsSecondTest { first: DateTime<Utc>, from: DateTime<Utc> },
}

/// Applies the discharge rule: counting only the tests after the last test under the
/// threshold, the earliest qualifying test and a later one at least 24 hours after it.
pub fn discharge(tests: &[HospitalTest], threshold: Option<f32>) -> Discharge {
    let threshold = threshold.unwrap_or(DEFAULT_CT_THRESHOLD);
    let mut sorted: Vec<&HospitalTest> = tests.iter().collect();
    sorted.sort_by_key(|t| t.at);
    // Counting starts after the last failing test — strictly after it, so a failing test taken
    // at the same moment as a passing one still counts against it.
    let last_failure = sorted.iter().filter(|t| !t.qualifies(threshold)).map(|t| t.at).max();
    let since = last_failure.map_or(0, |f| sorted.partition_point(|t| t.at <= f));
    let run = &sorted[since..];
    let Some(first) = run.first() else { return Discharge::NeedsTwoTests };
    let from = first.at + Duration::hours(DISCHARGE_TEST_GAP_HOURS);
    match run.iter().find(|t| t.at >= from) {
        Some(second) => Discharge::Allowed { first: first.at, second: second.at },
        None => Discharge::NeedsSecondTest { first: first.at, from },
    }
}

/// Whether a hospital test may be recorded: Ct values a machine reads (0–50), never in the
/// future (a mistyped year would otherwise count towards discharge). (A test before the
/// admission is accepted while admissions are recorded at the moment they are entered: a ward
/// entering its course afterwards records earlier tests.)
pub fn hospital_test(ct: CtValues, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), crate::refusal::Refusal> {
    if [ct.orf1ab, ct.n].into_iter().flatten().any(|v| !(0.0..=50.0).contains(&v)) {
        return Err(crate::refusal!("refused.ct_invalid"));
    }
    if at > now {
        return Err(crate::refusal!("refused.test_in_future"));
    }
    Ok(())
}

/// The start of the minute `at` falls in: times are typed to the minute, so the minute of an
/// admission itself is not before it.
fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp() - at.timestamp().rem_euclid(60), 0).unwrap_or(at)
}

/// Whether a death may be recorded as told: a cause is named, and the time lies between the
/// admission and now (a death is recorded after it happened, never before the person came in).
pub fn death(at: DateTime<Utc>, cause: &str, admitted_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), crate::refusal::Refusal> {
    if cause.trim().is_empty() {
        return Err(crate::refusal!("refused.death_needs_cause"));
    }
    if at > now {
        return Err(crate::refusal!("refused.death_in_future"));
    }
    if at < minute_of(admitted_at) {
        return Err(crate::refusal!("refused.death_before_admission"));
    }
    Ok(())
}

/// The last day of home health monitoring after a discharge on `discharged_on`.
pub fn monitoring_until(discharged_on: NaiveDate) -> NaiveDate {
    discharged_on.checked_add_days(Days::new(u64::from(POST_DISCHARGE_MONITORING_DAYS))).expect("a date in range")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ward_test_is_ct_values_or_a_tick_for_not_detected_never_neither_or_both() {
        let kind = |r: Result<CtValues, crate::refusal::Refusal>| r.map_err(|e| e.kind);
        assert_eq!(kind(HospitalTest::read_ct(" 32.5 ", "", false)), Ok(CtValues { orf1ab: Some(32.5), n: None }));
        assert_eq!(kind(HospitalTest::read_ct("", "", true)), Ok(CtValues { orf1ab: None, n: None }));
        assert_eq!(kind(HospitalTest::read_ct("", "", false)), Err("treatment.test_needs_result"));
        assert_eq!(kind(HospitalTest::read_ct("30", "", true)), Err("treatment.test_both_results"));
        for typed in ["abc", "1e1", "-3", "3O"] {
            assert_eq!(kind(HospitalTest::read_ct(typed, "", false)), Err("treatment.ct_not_number"), "{typed}");
        }
    }

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_moderate_case_in_a_shelter_hospital_needs_the_designated_one() {
        use HospitalKind::*;
        assert!(needs_designated(StayStatus::Admitted, Shelter, Severity::Moderate));
        assert!(!needs_designated(StayStatus::Admitted, Shelter, Severity::Mild));
        assert!(!needs_designated(StayStatus::Admitted, Designated, Severity::Critical));
        assert!(!needs_designated(StayStatus::Discharged, Shelter, Severity::Severe), "only while admitted");
    }

    #[test]
    fn a_case_arrived_at_a_shelter_hospital_is_there_on_its_record() {
        use crate::cases::case::CasePlace;
        assert_eq!(HospitalKind::Shelter.case_place(), CasePlace::ShelterHospital);
        assert_eq!(HospitalKind::Designated.case_place(), CasePlace::Hospital);
    }

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2022-04-20T08:00:00Z").unwrap().with_timezone(&Utc) + Duration::hours(h)
    }

    fn test(h: i64, orf1ab: Option<f32>, n: Option<f32>) -> HospitalTest {
        HospitalTest { at: t(h), ct: CtValues { orf1ab, n } }
    }

    #[test]
    fn mild_cases_go_to_the_shelter_hospital() {
        assert_eq!(hospital_for(Severity::Mild, false), HospitalKind::Shelter);
        assert_eq!(hospital_for(Severity::Mild, true), HospitalKind::Designated);
        assert_eq!(hospital_for(Severity::Moderate, false), HospitalKind::Designated);
        assert_eq!(hospital_for(Severity::Critical, false), HospitalKind::Designated);
    }

    #[test]
    fn two_tests_at_ct_35_a_day_apart() {
        assert_eq!(discharge(&[], None), Discharge::NeedsTwoTests);
        assert_eq!(discharge(&[test(0, Some(28.0), Some(30.0))], None), Discharge::NeedsTwoTests);
        // 35 itself qualifies; a missing target was not detected.
        let one = [test(0, Some(35.0), None)];
        assert_eq!(discharge(&one, None), Discharge::NeedsSecondTest { first: t(0), from: t(24) });
        let close = [test(0, Some(36.0), Some(37.0)), test(20, None, None)];
        assert_eq!(discharge(&close, None), Discharge::NeedsSecondTest { first: t(0), from: t(24) });
        let ok = [test(0, Some(36.0), Some(37.0)), test(20, None, None), test(24, Some(38.0), None)];
        assert_eq!(discharge(&ok, None), Discharge::Allowed { first: t(0), second: t(24) });
        // A test under the threshold in between starts the count again.
        let relapse = [test(0, Some(36.0), None), test(12, Some(33.0), None), test(30, Some(36.0), None)];
        assert_eq!(discharge(&relapse, None), Discharge::NeedsSecondTest { first: t(30), from: t(54) });
        // Two tests at the same moment, one failing: the failing one counts.
        let tie = [test(68, None, Some(20.0)), test(68, None, None), test(92, None, None)];
        assert_eq!(discharge(&tie, None), Discharge::NeedsSecondTest { first: t(92), from: t(116) });
        // Order of entry does not matter.
        let shuffled = [test(24, Some(38.0), None), test(0, Some(36.0), Some(37.0))];
        assert_eq!(discharge(&shuffled, None), Discharge::Allowed { first: t(0), second: t(24) });
        assert_eq!(monitoring_until("2022-05-01".parse().unwrap()).to_string(), "2022-05-08");
    }

    proptest! {
        /// Whenever discharge is allowed, the two named tests are at least 24 h apart and every
        /// test from the first on (the two included) qualifies.
        #[test]
        fn allowed_discharge_always_holds_the_rule(tests in proptest::collection::vec((0i64..200, proptest::option::of(20f32..40.0), proptest::option::of(20f32..40.0)), 0..8)) {
            let tests: Vec<HospitalTest> = tests.into_iter().map(|(h, a, b)| test(h, a, b)).collect();
            if let Discharge::Allowed { first, second } = discharge(&tests, None) {
                prop_assert!(second - first >= Duration::hours(24));
                prop_assert!(tests.iter().filter(|x| x.at >= first).all(|x| x.qualifies(35.0)));
            }
        }
    }

    #[test]
    fn a_death_names_its_cause_and_lies_between_admission_and_now() {
        let admitted = DateTime::parse_from_rfc3339("2022-04-14T10:00:00+08:00").unwrap().to_utc();
        let now = admitted + Duration::days(3);
        assert!(death(now - Duration::hours(1), "呼吸衰竭", admitted, now).is_ok());
        let seconds_in = admitted + Duration::milliseconds(50_500);
        assert!(death(admitted, "呼吸衰竭", seconds_in, now).is_ok(), "the minute of admission, typed to the minute");
        assert_eq!(death(now, " ", admitted, now).unwrap_err().kind, "refused.death_needs_cause");
        assert_eq!(death(now + Duration::minutes(5), "呼吸衰竭", admitted, now).unwrap_err().kind, "refused.death_in_future");
        assert_eq!(death(admitted - Duration::hours(1), "呼吸衰竭", admitted, now).unwrap_err().kind, "refused.death_before_admission");
    }

    #[test]
    fn a_hospital_test_is_never_in_the_future_and_has_ct_values_a_machine_reads() {
        let now = DateTime::parse_from_rfc3339("2022-04-14T10:00:00+08:00").unwrap().to_utc();
        let ct = CtValues { orf1ab: Some(32.0), n: None };
        let kind = |ct, at| hospital_test(ct, at, now).map_err(|r| r.kind);
        assert_eq!(kind(ct, now - Duration::hours(30)), Ok(()));
        assert_eq!(kind(ct, now + Duration::days(3000)), Err("refused.test_in_future"));
        assert_eq!(kind(CtValues { orf1ab: Some(320.0), n: None }, now), Err("refused.ct_invalid"));
    }
}
