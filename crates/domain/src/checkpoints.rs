//! Checkpoints (卡口): "测温、验码、登记". What a checkpoint decides for one person passing — pass,
//! refuse, or pass once registered — from their health code, the zone the checkpoint guards (a
//! sealed zone lets out only an approved medical exit; nobody leaves a controlled one), and, for
//! leaving the county while it is in precaution, a negative test within 48 hours. Every decision
//! says why, in Chinese and English.

use serde::Serialize;

use crate::access::named_enum;
use crate::health_code::Colour;
use crate::testing::pooling::ZoneKind;

named_enum! {
    /// Where a checkpoint stands.
    CheckpointKind {
        Road => "road", "道路卡口";
        HighwayExit => "highway_exit", "高速出口";
        VillageEntrance => "village_entrance", "村口";
        ZoneBoundary => "zone_boundary", "区域边界";
        Station => "station", "车站";
    }
}

named_enum! {
    /// Which way a person passes.
    Direction {
        In => "in", "进入";
        Out => "out", "离开";
    }
}

named_enum! {
    /// What the checkpoint does.
    Decision {
        Pass => "pass", "通行";
        Register => "register", "登记后通行";
        Refuse => "refuse", "劝返";
    }
}

impl Decision {
    fn rank(self) -> u8 {
        match self {
            Decision::Pass => 0,
            Decision::Register => 1,
            Decision::Refuse => 2,
        }
    }
}

named_enum! {
    /// Why a checkpoint decided as it did.
    DecisionCode {
        GreenCode => "green_code", "绿码通行";
        RedCode => "red_code", "红码禁止通行";
        YellowCode => "yellow_code", "黄码登记";
        NotInRegister => "not_in_register", "来返人员登记";
        SealedZone => "sealed_zone", "封控区足不出户";
        ControlledZone => "controlled_zone", "管控区人不出区";
        MedicalExit => "medical_exit", "经批准的就医外出";
        NoRecentTest => "no_recent_test", "离县须48小时核酸阴性";
    }
}

/// One reason of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    pub code: DecisionCode,
    pub decision: Decision,
    pub zh: String,
    pub en: String,
}

/// What a checkpoint knows of one person passing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassageFacts {
    /// Their code, `None` when they are not in the register (arriving from outside).
    pub code: Option<Colour>,
    pub direction: Direction,
    /// The zone the checkpoint guards, if any, and whether the person lives inside it.
    pub guards: Option<(ZoneKind, bool)>,
    /// An approved medical exit (dialysis, a delivery, an emergency) presented.
    pub medical_exit: bool,
    /// Whether passing out here leaves the county (a highway exit, a station, the county road).
    pub leaves_county: bool,
    /// Whether the county is in precaution (a precaution or stricter zone in force).
    pub county_in_precaution: bool,
    /// A negative test within the last 48 hours.
    pub negative_within_48h: bool,
}

fn why(code: DecisionCode, decision: Decision, zh: &str, en: &str) -> Why {
    Why { code, decision, zh: zh.to_string(), en: en.to_string() }
}

/// The decision for one passage and every reason for it, the strictest first; a green code with
/// nothing against it passes.
pub fn decide(f: &PassageFacts) -> (Decision, Vec<Why>) {
    use Decision::*;
    let mut out = Vec::new();
    match f.code {
        None if f.direction == Direction::In => out.push(why(
            DecisionCode::NotInRegister,
            Register,
            "不在本地登记，来返人员当场登记",
            "not in the register: registered here on arrival",
        )),
        None => out.push(why(DecisionCode::NotInRegister, Register, "不在本地登记，当场登记", "not in the register: registered here")),
        Some(Colour::Red) if f.medical_exit => out.push(why(
            DecisionCode::MedicalExit,
            Register,
            "红码，凭就医审批登记后通行（闭环）",
            "red code, passing on an approved medical exit (closed loop)",
        )),
        Some(Colour::Red) => {
            out.push(why(DecisionCode::RedCode, Refuse, "红码禁止通行，就地管控并上报", "red code: no passage; held here and reported"))
        }
        Some(Colour::Yellow) => {
            out.push(why(DecisionCode::YellowCode, Register, "黄码，登记后通行", "yellow code: registered, then passes"))
        }
        Some(Colour::Green) => {}
    }
    if let Some((zone, lives_inside)) = f.guards {
        match (zone, f.direction, lives_inside) {
            (ZoneKind::Sealed | ZoneKind::Controlled, Direction::Out, true) if f.medical_exit => out.push(why(
                DecisionCode::MedicalExit,
                Register,
                "区域内居民，凭就医审批登记后外出（闭环）",
                "a resident leaving on an approved medical exit (closed loop)",
            )),
            (ZoneKind::Sealed, Direction::Out, true) => out.push(why(
                DecisionCode::SealedZone,
                Refuse,
                "封控区居民足不出户，不得外出",
                "sealed-zone residents stay at home: no exit",
            )),
            (ZoneKind::Controlled, Direction::Out, true) => out.push(why(
                DecisionCode::ControlledZone,
                Refuse,
                "管控区居民人不出区，不得外出",
                "controlled-zone residents stay inside the zone: no exit",
            )),
            // The sealed zone is closed: anyone else passing its gate either way is registered
            // (staff and services delivered to the door).
            (ZoneKind::Sealed, _, _) => out.push(why(
                DecisionCode::SealedZone,
                Register,
                "进出封控区，登记后通行（限工作人员与上门服务）",
                "passing a sealed zone's gate: registered (staff and door services only)",
            )),
            _ => {}
        }
    }
    if f.direction == Direction::Out && f.leaves_county && f.county_in_precaution && !f.negative_within_48h && !f.medical_exit {
        out.push(why(
            DecisionCode::NoRecentTest,
            Refuse,
            "离开本县须持48小时内核酸阴性证明",
            "leaving the county needs a negative test within 48 hours",
        ));
    }
    out.sort_by_key(|w| std::cmp::Reverse(w.decision.rank()));
    // One medical exit said once, whichever rule it answered.
    let mut seen = Vec::new();
    out.retain(|w| {
        let first = !seen.contains(&(w.code, w.decision));
        seen.push((w.code, w.decision));
        first
    });
    match out.first() {
        Some(w) => (w.decision, out),
        None => (Pass, vec![why(DecisionCode::GreenCode, Pass, "绿码通行", "green code: passes")]),
    }
}

named_enum! {
    /// The risk of the place an arrival comes from, as the bulletins of the day rate it.
    OriginRisk {
        High => "high", "高风险区";
        Medium => "medium", "中风险区";
        Low => "low", "低风险地区";
    }
}

/// The observation an arrival from outside the county is given (domain-rules §4: "来返人员"): a
/// traveller from a high- or medium-risk area is under the rule set's plan for such travellers
/// (quarantine or home health monitoring, as the rules of the incident say); from a low-risk
/// place, none — they are registered and pass.
pub fn arrival_category(risk: OriginRisk) -> Option<crate::observation::Category> {
    use crate::observation::Category;
    match risk {
        OriginRisk::High => Some(Category::HighRiskArea),
        OriginRisk::Medium => Some(Category::MediumRiskArea),
        OriginRisk::Low => None,
    }
}

/// The longest duty shift a checkpoint's roster takes.
pub const SHIFT_MOST_HOURS: i64 = 24;

/// Why a duty shift is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftError {
    /// It ends before it starts, or as it starts.
    EndsBeforeStart,
    /// Longer than [`SHIFT_MOST_HOURS`].
    TooLong,
    /// Nobody named to lead it.
    NoLead,
}

/// How long two shifts of one checkpoint may overlap: the handover (交接班).
pub const HANDOVER_MINUTES: i64 = 60;

/// The first of `others` (id, start, end) of the same checkpoint that a shift from `starts` to
/// `ends` overlaps by more than [`HANDOVER_MINUTES`], or lies within (or holds) whole: a
/// checkpoint has one team on duty at a time,
/// more people on a busy shift being that shift's staff.
pub fn overlapping(
    starts: chrono::DateTime<chrono::Utc>,
    ends: chrono::DateTime<chrono::Utc>,
    others: &[(i64, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)],
) -> Option<i64> {
    let handover = chrono::Duration::minutes(HANDOVER_MINUTES);
    others
        .iter()
        .find(|(_, s, e)| {
            let within = (starts >= *s && ends <= *e) || (*s >= starts && *e <= ends);
            ends.min(*e) - starts.max(*s) > handover || (within && starts < *e && *s < ends)
        })
        .map(|(id, _, _)| *id)
}

/// Checks a duty shift: a lead, an end after the start, at most a day.
pub fn check_shift(starts: chrono::DateTime<chrono::Utc>, ends: chrono::DateTime<chrono::Utc>, lead: &str) -> Result<(), ShiftError> {
    if lead.trim().is_empty() {
        return Err(ShiftError::NoLead);
    }
    if ends <= starts {
        return Err(ShiftError::EndsBeforeStart);
    }
    if ends - starts > chrono::Duration::hours(SHIFT_MOST_HOURS) {
        return Err(ShiftError::TooLong);
    }
    Ok(())
}

/// Whether a number typed or scanned at a checkpoint can be a document's: one of digits (an
/// `X` last allowed) is a resident identity card's and must read as one — eighteen characters,
/// a real birth date, the check digit right —, so that a digit dropped or mistyped is said at
/// once instead of passing as someone not in the register; another (a passport, a permit) needs
/// at least six letters and digits.
pub fn check_document_number(number: &str) -> Result<(), crate::refusal::Refusal> {
    let n = number.trim();
    let mut chars = n.chars();
    let last_x = n.ends_with(['X', 'x']);
    let digits = if last_x {
        chars.next_back();
        chars.as_str()
    } else {
        n
    };
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        if crate::ResidentId::parse(n).is_err() {
            return Err(crate::refusal!("refused.checkpoint.id_number_invalid", number = n));
        }
        return Ok(());
    }
    if n.chars().filter(|c| c.is_alphanumeric()).count() < 6 {
        return Err(crate::refusal!("refused.checkpoint.id_number_invalid", number = n));
    }
    Ok(())
}

/// How long a phone may keep a passage while the network is down: a passage sent later is
/// refused (the officer checks it again by hand).
pub const OFFLINE_MOST_HOURS: i64 = 48;

/// When a passage kept on a phone happened, on the server's clock: the phone says when the
/// person passed and when it sent the passage, both on its own clock, so its error cancels
/// (`now` minus the time it was kept). Without the sending time, the phone's time as it is.
pub fn phone_time(
    passed_at: chrono::DateTime<chrono::Utc>,
    sent_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    match sent_at {
        Some(sent) => now - (sent - passed_at).max(chrono::Duration::zero()),
        None => passed_at,
    }
}

/// Whether what the officer did at the booth with a passage kept offline (checked by hand, the
/// network down) parts from what the rules decide once it arrives: one let through whom the
/// rules turn back, or one turned back whom they let through (registering is letting through).
/// The log shows such a passage for the headquarters to look into.
pub fn by_hand_differs(by_hand: Decision, decided: Decision) -> bool {
    (by_hand == Decision::Refuse) != (decided == Decision::Refuse)
}

/// An officer's own decision is taken only with a passage kept offline: online, the rules decide
/// at once and the page shows it.
pub fn check_by_hand(kept_offline: bool, by_hand: Option<Decision>) -> Result<(), crate::refusal::Refusal> {
    match by_hand {
        Some(d) if !kept_offline => Err(crate::refusal!("refused.checkpoint.by_hand_online", decision = d.as_str())),
        _ => Ok(()),
    }
}

/// Whether a passage is logged as kept offline (decided by hand at the booth, by the rules only
/// when it arrived): the phone says so, or it arrives more than a minute after it happened.
pub fn was_kept(said_kept: bool, passed_at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
    said_kept || now - passed_at > chrono::Duration::minutes(1)
}

/// Whether a passage may be logged as having happened at `passed_at` (a phone's time, sent with a
/// passage kept while offline): not ahead of `now` beyond a phone clock's few minutes, not older
/// than [`OFFLINE_MOST_HOURS`].
pub fn check_passed_at(
    passed_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::refusal::Refusal> {
    if passed_at > now + chrono::Duration::minutes(5) {
        return Err(crate::refusal!("refused.checkpoint.passed_later", at = crate::local_minute(passed_at)));
    }
    if passed_at < now - chrono::Duration::hours(OFFLINE_MOST_HOURS) {
        return Err(crate::refusal!(
            "refused.checkpoint.passed_too_early",
            at = crate::local_minute(passed_at),
            hours = OFFLINE_MOST_HOURS
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_mistyped_identity_number_is_said_not_taken_for_a_stranger() {
        let good = crate::ResidentId::from_parts("140121", chrono::NaiveDate::from_ymd_opt(1986, 9, 1).unwrap(), 9).unwrap().to_string();
        assert_eq!(check_document_number(&good), Ok(()));
        let mut wrong_check = good.clone();
        let last = wrong_check.pop().unwrap();
        wrong_check.push(if last == '0' { '1' } else { '0' });
        for bad in ["12345", &good[..17], wrong_check.as_str(), "1401211986090100951", "ab1"] {
            assert_eq!(check_document_number(bad).unwrap_err().kind, "refused.checkpoint.id_number_invalid", "{bad}");
        }
        for other in ["E12345678", "H12345678", "PE1234567"] {
            assert_eq!(check_document_number(other), Ok(()), "{other}: a passport or a permit");
        }
    }

    #[test]
    fn a_phones_clock_error_cancels_out_of_a_kept_passage() {
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2022, 4, 13, 14, 0, 0).unwrap();
        let h = chrono::Duration::hours;
        // A phone ten minutes fast kept a passage for two hours.
        let (passed, sent) = (now - h(2) + chrono::Duration::minutes(10), now + chrono::Duration::minutes(10));
        assert_eq!(phone_time(passed, Some(sent), now), now - h(2));
        assert_eq!(phone_time(passed, None, now), passed, "no sending time: as the phone says");
        assert_eq!(phone_time(now, Some(now - h(1)), now), now, "sent before it passed: now");
    }

    #[test]
    fn the_officers_own_decision_parts_from_the_rules_only_across_refusal() {
        use Decision::*;
        let table = [
            (Pass, Pass, false),
            (Pass, Register, false),
            (Pass, Refuse, true),
            (Refuse, Refuse, false),
            (Refuse, Pass, true),
            (Refuse, Register, true),
            (Register, Refuse, true),
            (Register, Pass, false),
        ];
        for (by_hand, decided, differs) in table {
            assert_eq!(by_hand_differs(by_hand, decided), differs, "{by_hand:?} by hand, {decided:?} by the rules");
        }
        assert!(check_by_hand(true, Some(Refuse)).is_ok());
        assert!(check_by_hand(true, None).is_ok() && check_by_hand(false, None).is_ok());
        let online = check_by_hand(false, Some(Pass)).unwrap_err();
        assert_eq!(online.kind, "refused.checkpoint.by_hand_online");
    }

    #[test]
    fn a_passage_kept_offline_is_logged_at_its_time_up_to_two_days_back() {
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2022, 4, 13, 14, 0, 0).unwrap();
        assert_eq!(check_passed_at(now - chrono::Duration::hours(3), now), Ok(()));
        assert_eq!(check_passed_at(now + chrono::Duration::minutes(4), now), Ok(()), "a phone's clock a little ahead");
        assert_eq!(check_passed_at(now - chrono::Duration::hours(OFFLINE_MOST_HOURS), now), Ok(()));
        let ahead = check_passed_at(now + chrono::Duration::hours(1), now).unwrap_err();
        assert_eq!((ahead.kind, ahead.arg("at")), ("refused.checkpoint.passed_later", Some("2022-04-13 23:00")));
        let old = check_passed_at(now - chrono::Duration::hours(OFFLINE_MOST_HOURS + 1), now).unwrap_err();
        assert_eq!((old.kind, old.arg("hours")), ("refused.checkpoint.passed_too_early", Some("48")));
    }

    #[test]
    fn shifts_of_one_checkpoint_overlap_only_for_the_handover() {
        let h = |hour: i64| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2022, 4, 13, 0, 0, 0).unwrap() + chrono::Duration::hours(hour);
        let roster = [(1, h(0), h(8)), (2, h(8), h(16))];
        assert_eq!(overlapping(h(16), h(24), &roster), None, "the night shift after the day");
        assert_eq!(overlapping(h(15), h(23), &roster), None, "an hour's handover");
        assert_eq!(overlapping(h(14), h(22), &roster), Some(2), "two hours over the day shift");
        assert_eq!(overlapping(h(2), h(4), &roster), Some(1), "inside another");
        let half_hour = h(2) + chrono::Duration::minutes(30);
        assert_eq!(overlapping(h(2), half_hour, &roster), Some(1), "a short one inside another, however short");
        assert_eq!(overlapping(h(0), h(16), &roster), Some(1), "over both: the first named");
    }

    fn green_out() -> PassageFacts {
        PassageFacts {
            code: Some(Colour::Green),
            direction: Direction::Out,
            guards: None,
            medical_exit: false,
            leaves_county: false,
            county_in_precaution: false,
            negative_within_48h: false,
        }
    }

    #[test]
    fn each_rule_decides_and_says_why() {
        use Decision::*;
        let table: Vec<(PassageFacts, Decision, DecisionCode)> = vec![
            (green_out(), Pass, DecisionCode::GreenCode),
            (PassageFacts { code: Some(Colour::Red), ..green_out() }, Refuse, DecisionCode::RedCode),
            (PassageFacts { code: Some(Colour::Red), medical_exit: true, ..green_out() }, Register, DecisionCode::MedicalExit),
            (PassageFacts { code: Some(Colour::Yellow), ..green_out() }, Register, DecisionCode::YellowCode),
            (PassageFacts { code: None, direction: Direction::In, ..green_out() }, Register, DecisionCode::NotInRegister),
            // The sealed zone's gate: its residents do not go out; anyone else passing registers.
            (PassageFacts { guards: Some((ZoneKind::Sealed, true)), ..green_out() }, Refuse, DecisionCode::SealedZone),
            (
                PassageFacts { guards: Some((ZoneKind::Sealed, true)), medical_exit: true, ..green_out() },
                Register,
                DecisionCode::MedicalExit,
            ),
            (PassageFacts { guards: Some((ZoneKind::Sealed, false)), ..green_out() }, Register, DecisionCode::SealedZone),
            (
                PassageFacts { guards: Some((ZoneKind::Sealed, false)), direction: Direction::In, ..green_out() },
                Register,
                DecisionCode::SealedZone,
            ),
            (PassageFacts { guards: Some((ZoneKind::Controlled, true)), ..green_out() }, Refuse, DecisionCode::ControlledZone),
            (
                PassageFacts { guards: Some((ZoneKind::Controlled, true)), direction: Direction::In, ..green_out() },
                Pass,
                DecisionCode::GreenCode,
            ),
            // Leaving the county in precaution: the 48-hour test.
            (PassageFacts { leaves_county: true, county_in_precaution: true, ..green_out() }, Refuse, DecisionCode::NoRecentTest),
            (
                PassageFacts { leaves_county: true, county_in_precaution: true, negative_within_48h: true, ..green_out() },
                Pass,
                DecisionCode::GreenCode,
            ),
            (PassageFacts { leaves_county: true, ..green_out() }, Pass, DecisionCode::GreenCode),
        ];
        for (facts, decision, first) in table {
            let (d, whys) = decide(&facts);
            assert_eq!((d, whys[0].code), (decision, first), "{facts:?}: {whys:?}");
        }
        let (_, whys) = decide(&PassageFacts { code: Some(Colour::Red), guards: Some((ZoneKind::Sealed, true)), ..green_out() });
        assert_eq!(
            whys.iter().map(|w| w.zh.as_str()).collect::<Vec<_>>(),
            ["红码禁止通行，就地管控并上报", "封控区居民足不出户，不得外出"]
        );
        // A red code and a sealed home, both on a medical exit: the exit said once.
        let (d, whys) =
            decide(&PassageFacts { code: Some(Colour::Red), guards: Some((ZoneKind::Sealed, true)), medical_exit: true, ..green_out() });
        assert_eq!((d, whys.len()), (Decision::Register, 1), "{whys:?}");
    }

    fn facts() -> impl Strategy<Value = PassageFacts> {
        (
            prop::option::of(prop::sample::select(Colour::ALL.to_vec())),
            prop::sample::select(Direction::ALL.to_vec()),
            prop::option::of((prop::sample::select(ZoneKind::ALL.to_vec()), any::<bool>())),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(code, direction, guards, medical_exit, leaves_county, county_in_precaution, negative_within_48h)| {
                PassageFacts { code, direction, guards, medical_exit, leaves_county, county_in_precaution, negative_within_48h }
            })
    }

    proptest! {
        #[test]
        fn a_red_code_or_a_sealed_resident_never_simply_passes(f in facts()) {
            let (d, whys) = decide(&f);
            prop_assert!(!whys.is_empty());
            prop_assert_eq!(d, whys[0].decision);
            let red = f.code == Some(Colour::Red);
            let sealed_out = f.guards == Some((ZoneKind::Sealed, true)) && f.direction == Direction::Out;
            if red || sealed_out {
                prop_assert!(d != Decision::Pass);
                if !f.medical_exit {
                    prop_assert_eq!(d, Decision::Refuse);
                }
            }
            if f.code == Some(Colour::Green) && f.guards.is_none() && !(f.leaves_county && f.direction == Direction::Out) {
                prop_assert_eq!(d, Decision::Pass);
            }
        }
    }

    #[test]
    fn arrivals_from_risk_areas_are_observed_and_shifts_are_checked() {
        use crate::observation::Category;
        assert_eq!(arrival_category(OriginRisk::High), Some(Category::HighRiskArea));
        assert_eq!(arrival_category(OriginRisk::Medium), Some(Category::MediumRiskArea));
        assert_eq!(arrival_category(OriginRisk::Low), None);
        let at = chrono::Utc::now();
        let h = chrono::Duration::hours;
        assert_eq!(check_shift(at, at + h(8), "王队长"), Ok(()));
        assert_eq!(check_shift(at, at + h(24), "王队长"), Ok(()), "a day is allowed");
        assert_eq!(check_shift(at, at + h(25), "王队长"), Err(ShiftError::TooLong));
        assert_eq!(check_shift(at, at, "王队长"), Err(ShiftError::EndsBeforeStart));
        assert_eq!(check_shift(at, at + h(8), " "), Err(ShiftError::NoLead));
    }
}
