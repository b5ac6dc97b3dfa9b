//! The health code (健康码), derived from the records and never typed: a colour with every reason
//! for it — what it is, since when, and what turns it back ("红码：密切接触者，集中隔离至4月26日").
//! Red forbids, yellow restricts, green passes ("红码禁止、黄码限制、绿码通行"; domain-rules §4).
//! Red: a case until discharged, a close contact, anyone in centralized quarantine, anyone living
//! in a sealed (high-risk) zone. Yellow: a secondary contact, home health monitoring (after
//! quarantine or discharge), a controlled (medium-risk) zone, a pooled-positive member awaiting
//! the re-test, a fever recorded, a missed round of one's area. Green otherwise. An override
//! needs a reason and an expiry.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::access::named_enum;
use crate::observation::{Category, Status};
use crate::testing::pooling::ZoneKind;
use crate::zones::Scheme;

named_enum! {
    /// A health code's colour.
    Colour {
        Green => "green", "绿码";
        Yellow => "yellow", "黄码";
        Red => "red", "红码";
    }
}

impl Colour {
    fn rank(self) -> u8 {
        match self {
            Colour::Green => 0,
            Colour::Yellow => 1,
            Colour::Red => 2,
        }
    }
}

named_enum! {
    /// Why a code is not green.
    ReasonCode {
        Case => "case", "病例";
        CloseContact => "close_contact", "密切接触者";
        CentralizedQuarantine => "centralized_quarantine", "集中隔离";
        SealedZone => "sealed_zone", "封控区（高风险区）";
        SecondaryContact => "secondary_contact", "密接的密接";
        HomeMonitoring => "home_monitoring", "居家健康监测";
        ControlledZone => "controlled_zone", "管控区（中风险区）";
        AwaitingRetest => "awaiting_retest", "混管阳性待复核";
        Fever => "fever", "发热";
        OverdueTest => "overdue_test", "未按时核酸检测";
        Override => "override", "人工赋码";
    }
}

/// One reason for a colour: its code and colour, the sentence in Chinese and English, since when,
/// and until when if a date can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub colour: Colour,
    pub zh: String,
    pub en: String,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// A person's code: the strictest colour of its reasons (green with none), reddest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCode {
    pub colour: Colour,
    pub reasons: Vec<Reason>,
}

/// A case of the person's: its number, the day it was found, and its discharge if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFact {
    pub number: String,
    pub since: NaiveDate,
    pub discharged_on: Option<NaiveDate>,
    /// The last day of health monitoring the ward set at discharge, if it did.
    pub monitoring_until: Option<NaiveDate>,
}

/// The person's open observation order: who they are to the case, where it stands, since when,
/// and its release day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFact {
    pub category: Category,
    pub status: Status,
    pub since: NaiveDate,
    pub release_on: Option<NaiveDate>,
}

/// The strictest zone in force where the person lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFact {
    pub kind: ZoneKind,
    pub scheme: Scheme,
    pub name: String,
    pub since: NaiveDate,
    /// The earliest day it can step down, when its countdown can tell.
    pub earliest: Option<NaiveDate>,
}

/// Everything a code is derived from, as of one day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeFacts {
    pub case: Option<CaseFact>,
    pub order: Option<OrderFact>,
    pub zone: Option<ZoneFact>,
    /// An open recall of a pooled-positive tube: (since, re-test deadline).
    pub recall: Option<(NaiveDate, NaiveDate)>,
    /// The day of a fever recorded (≥ 37.3 °C) in the last 14 days.
    pub fever: Option<NaiveDate>,
    /// A round of the person's area they were neither sampled in nor accounted for: (its name,
    /// the day it ended).
    pub missed_round: Option<(String, NaiveDate)>,
}

impl CodeFacts {
    /// The first day after `today` on which [`derive`] would give another code from these same
    /// facts — the end of monitoring after discharge, a fever's 14 days past — if any: a code
    /// stored today is good until then unless the facts change.
    pub fn changes_on(&self, today: NaiveDate) -> Option<NaiveDate> {
        let monitoring = self.case.as_ref().and_then(|c| {
            let out = c.discharged_on?;
            let last = c.monitoring_until.unwrap_or(out + Duration::days(AFTER_DISCHARGE_DAYS - 1));
            (today <= last).then(|| last + Duration::days(1))
        });
        let fever = self.fever.map(|d| d + Duration::days(14)).filter(|d| *d > today);
        monitoring.into_iter().chain(fever).min()
    }
}

/// Days of home health monitoring after discharge when the ward set no last day (DOMAIN.md:
/// "then 7 days home health monitoring"), the day of discharge the first.
pub const AFTER_DISCHARGE_DAYS: i64 = 7;

/// A round of one's area missed counts against the code for this many days after it ended; a
/// round since overtakes it ([`CodeFacts::missed_round`] is the latest such round).
pub const MISSED_ROUND_DAYS: i64 = 7;

/// 4月26日 / Apr 26.
fn zh_day(d: NaiveDate) -> String {
    format!("{}月{}日", d.month(), d.day())
}

fn en_day(d: NaiveDate) -> String {
    d.format("%b %-d").to_string()
}

fn reason(code: ReasonCode, colour: Colour, zh: String, en: String, since: Option<NaiveDate>, until: Option<NaiveDate>) -> Reason {
    Reason { code, colour, zh, en, since, until }
}

/// The code the facts give on `today`.
pub fn derive(f: &CodeFacts, today: NaiveDate) -> HealthCode {
    use Colour::{Red, Yellow};
    let mut reasons = Vec::new();
    if let Some(c) = &f.case {
        match c.discharged_on {
            None => reasons.push(reason(
                ReasonCode::Case,
                Red,
                format!("病例{}，治疗中", c.number),
                format!("case {}, under treatment", c.number),
                Some(c.since),
                None,
            )),
            Some(out) if today <= c.monitoring_until.unwrap_or(out + Duration::days(AFTER_DISCHARGE_DAYS - 1)) => {
                let until = c.monitoring_until.unwrap_or(out + Duration::days(AFTER_DISCHARGE_DAYS - 1));
                reasons.push(reason(
                    ReasonCode::HomeMonitoring,
                    Yellow,
                    format!("出院后居家健康监测至{}", zh_day(until)),
                    format!("home health monitoring after discharge until {}", en_day(until)),
                    Some(out),
                    Some(until),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(o) = &f.order {
        let until = o.release_on;
        let to = |d: Option<NaiveDate>| {
            (d.map(|d| format!("至{}", zh_day(d))).unwrap_or_default(), d.map(|d| format!(" until {}", en_day(d))).unwrap_or_default())
        };
        let (zh_to, en_to) = to(until);
        let who_zh = o.category.label_zh();
        match (o.category, o.status) {
            (_, Status::Released | Status::Case) => {}
            (_, Status::Centralized) => reasons.push(reason(
                ReasonCode::CentralizedQuarantine,
                Red,
                format!("{who_zh}，集中隔离{zh_to}"),
                format!("{}, in centralized quarantine{en_to}", o.category.as_str().replace('_', " ")),
                Some(o.since),
                until,
            )),
            (_, Status::HomeMonitoring) => reasons.push(reason(
                ReasonCode::HomeMonitoring,
                Yellow,
                format!("居家健康监测{zh_to}"),
                format!("home health monitoring{en_to}"),
                Some(o.since),
                until,
            )),
            (Category::SecondaryContact, _) => reasons.push(reason(
                ReasonCode::SecondaryContact,
                Yellow,
                format!("密接的密接，居家隔离{zh_to}"),
                format!("secondary contact, at home{en_to}"),
                Some(o.since),
                until,
            )),
            (Category::CloseContact | Category::HighRiskArea | Category::Inbound, _) => reasons.push(reason(
                ReasonCode::CloseContact,
                Red,
                format!("{who_zh}，隔离医学观察{zh_to}"),
                format!("{}, under quarantine{en_to}", o.category.as_str().replace('_', " ")),
                Some(o.since),
                until,
            )),
            (Category::MediumRiskArea, _) => reasons.push(reason(
                ReasonCode::HomeMonitoring,
                Yellow,
                format!("{who_zh}，居家观察{zh_to}"),
                format!("from a medium-risk area, at home{en_to}"),
                Some(o.since),
                until,
            )),
        }
    }
    if let Some(z) = &f.zone {
        let (kind_zh, kind_en) = z.scheme.kind_label(z.kind);
        let (zh_to, en_to) = match z.earliest {
            Some(d) => (format!("，最早{}可降级", zh_day(d)), format!(", stepping down on {} at the earliest", en_day(d))),
            None => (String::new(), String::new()),
        };
        let (code, colour) = match z.kind {
            ZoneKind::Sealed => (ReasonCode::SealedZone, Some(Red)),
            ZoneKind::Controlled => (ReasonCode::ControlledZone, Some(Yellow)),
            ZoneKind::Precaution => (ReasonCode::ControlledZone, None),
        };
        if let Some(colour) = colour {
            reasons.push(reason(
                code,
                colour,
                format!("居住在{kind_zh}{}{zh_to}", z.name),
                format!("lives in the {kind_en} {}{en_to}", z.name),
                Some(z.since),
                z.earliest,
            ));
        }
    }
    if let Some((since, deadline)) = f.recall {
        reasons.push(reason(
            ReasonCode::AwaitingRetest,
            Yellow,
            format!("混管阳性，待单管复核（{}前）", zh_day(deadline)),
            format!("in a positive pool, awaiting the single re-test (by {})", en_day(deadline)),
            Some(since),
            Some(deadline),
        ));
    }
    if let Some(day) = f.fever.filter(|d| *d + Duration::days(14) > today) {
        reasons.push(reason(
            ReasonCode::Fever,
            Yellow,
            format!("{}发热", zh_day(day)),
            format!("fever recorded on {}", en_day(day)),
            Some(day),
            Some(day + Duration::days(14)),
        ));
    }
    if let Some((round, ended)) = &f.missed_round {
        reasons.push(reason(
            ReasonCode::OverdueTest,
            Yellow,
            format!("未参加{round}核酸检测"),
            format!("missed the round {round}"),
            Some(*ended),
            None,
        ));
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.colour.rank()));
    let colour = reasons.first().map_or(Colour::Green, |r| r.colour);
    HealthCode { colour, reasons }
}

/// A colour set by hand over the derived one: by whom, why and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub colour: Colour,
    pub reason: String,
    pub until: DateTime<Utc>,
    /// When it was set: the day its reason is said to hold since.
    pub set_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OverrideError {
    #[error("an override needs its reason")]
    NoReason,
    #[error("an override ends after it starts and within {0} days")]
    BadExpiry(i64),
}

/// The longest an override lasts before it is looked at again.
pub const OVERRIDE_MOST_DAYS: i64 = 14;

impl Override {
    /// Checks an override asked at `now`: a reason, and an expiry in the next 14 days.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), OverrideError> {
        if self.reason.trim().is_empty() {
            return Err(OverrideError::NoReason);
        }
        if self.until <= now || self.until > now + Duration::days(OVERRIDE_MOST_DAYS) {
            return Err(OverrideError::BadExpiry(OVERRIDE_MOST_DAYS));
        }
        Ok(())
    }
}

/// The code shown at `now`: the override while it lasts (said first, the derived reasons kept
/// beneath it), else the derived code.
pub fn shown(derived: HealthCode, over: Option<&Override>, now: DateTime<Utc>) -> HealthCode {
    match over.filter(|o| o.until > now) {
        None => derived,
        Some(o) => {
            let until = crate::local_date(o.until);
            let mut reasons = vec![reason(
                ReasonCode::Override,
                o.colour,
                format!("人工赋码：{}（至{}）", o.reason.trim(), zh_day(until)),
                format!("set by hand: {} (until {})", o.reason.trim(), en_day(until)),
                Some(crate::local_date(o.set_at)),
                Some(until),
            )];
            reasons.extend(derived.reasons);
            HealthCode { colour: o.colour, reasons }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2022, month, day).unwrap()
    }

    fn order(category: Category, status: Status) -> OrderFact {
        OrderFact { category, status, since: d(4, 13), release_on: Some(d(4, 26)) }
    }

    #[test]
    fn a_close_contact_in_a_site_is_red_until_release_and_says_so() {
        let f = CodeFacts { order: Some(order(Category::CloseContact, Status::Centralized)), ..Default::default() };
        let code = derive(&f, d(4, 14));
        assert_eq!(code.colour, Colour::Red);
        assert_eq!(code.reasons[0].zh, "密切接触者，集中隔离至4月26日");
        assert_eq!(code.reasons[0].en, "close contact, in centralized quarantine until Apr 26");
        assert_eq!((code.reasons[0].since, code.reasons[0].until), (Some(d(4, 13)), Some(d(4, 26))));
        // Waiting for the bus: still red, as a close contact.
        let waiting = CodeFacts { order: Some(order(Category::CloseContact, Status::AwaitingTransfer)), ..Default::default() };
        assert_eq!(derive(&waiting, d(4, 14)).reasons[0].code, ReasonCode::CloseContact);
        // Home monitoring after the site: yellow; released: green.
        let home = CodeFacts { order: Some(order(Category::CloseContact, Status::HomeMonitoring)), ..Default::default() };
        assert_eq!(derive(&home, d(4, 24)).colour, Colour::Yellow);
        let free = CodeFacts { order: Some(order(Category::CloseContact, Status::Released)), ..Default::default() };
        assert_eq!(derive(&free, d(4, 27)), HealthCode { colour: Colour::Green, reasons: vec![] });
    }

    #[test]
    fn each_fact_gives_its_colour() {
        use ReasonCode::*;
        let zone = |kind| ZoneFact { kind, scheme: Scheme::RiskAreas, name: "东关村".into(), since: d(4, 13), earliest: Some(d(4, 20)) };
        let table: Vec<(CodeFacts, Colour, Option<ReasonCode>)> = vec![
            (CodeFacts::default(), Colour::Green, None),
            (
                CodeFacts {
                    case: Some(CaseFact { number: "清徐-1".into(), since: d(4, 13), discharged_on: None, monitoring_until: None }),
                    ..Default::default()
                },
                Colour::Red,
                Some(Case),
            ),
            (
                CodeFacts { order: Some(order(Category::SecondaryContact, Status::HomeQuarantine)), ..Default::default() },
                Colour::Yellow,
                Some(SecondaryContact),
            ),
            (
                CodeFacts { order: Some(order(Category::SecondaryContact, Status::Centralized)), ..Default::default() },
                Colour::Red,
                Some(CentralizedQuarantine),
            ),
            (CodeFacts { zone: Some(zone(ZoneKind::Sealed)), ..Default::default() }, Colour::Red, Some(SealedZone)),
            (CodeFacts { zone: Some(zone(ZoneKind::Controlled)), ..Default::default() }, Colour::Yellow, Some(ControlledZone)),
            (CodeFacts { zone: Some(zone(ZoneKind::Precaution)), ..Default::default() }, Colour::Green, None),
            (CodeFacts { recall: Some((d(4, 13), d(4, 14))), ..Default::default() }, Colour::Yellow, Some(AwaitingRetest)),
            (CodeFacts { fever: Some(d(4, 10)), ..Default::default() }, Colour::Yellow, Some(Fever)),
            (CodeFacts { fever: Some(d(3, 20)), ..Default::default() }, Colour::Green, None),
            (CodeFacts { missed_round: Some(("第二轮".into(), d(4, 13))), ..Default::default() }, Colour::Yellow, Some(OverdueTest)),
        ];
        for (facts, colour, first) in table {
            let code = derive(&facts, d(4, 15));
            assert_eq!((code.colour, code.reasons.first().map(|r| r.code)), (colour, first), "{facts:?}");
        }
        assert_eq!(
            derive(&CodeFacts { zone: Some(zone(ZoneKind::Sealed)), ..Default::default() }, d(4, 15)).reasons[0].zh,
            "居住在高风险区东关村，最早4月20日可降级"
        );
    }

    #[test]
    fn a_discharged_case_is_yellow_for_seven_days_then_green() {
        let f = CodeFacts {
            case: Some(CaseFact { number: "清徐-1".into(), since: d(4, 13), discharged_on: Some(d(4, 25)), monitoring_until: None }),
            ..Default::default()
        };
        let code = derive(&f, d(4, 26));
        assert_eq!((code.colour, code.reasons[0].until), (Colour::Yellow, Some(d(5, 1))));
        assert_eq!(derive(&f, d(5, 1)).colour, Colour::Yellow, "the last day of monitoring");
        assert_eq!(derive(&f, d(5, 2)).colour, Colour::Green);
        // The ward's own last day wins.
        let set = CodeFacts { case: Some(CaseFact { monitoring_until: Some(d(5, 3)), ..f.case.clone().unwrap() }), ..Default::default() };
        assert_eq!(derive(&set, d(5, 3)).colour, Colour::Yellow);
    }

    #[test]
    fn an_override_needs_a_reason_and_a_near_expiry_and_shows_over_the_derived_reasons() {
        let now = Utc::now();
        let over =
            |reason: &str, days| Override { colour: Colour::Green, reason: reason.into(), until: now + Duration::days(days), set_at: now };
        assert_eq!(over(" ", 1).check(now), Err(OverrideError::NoReason));
        assert_eq!(over("误判", 0).check(now), Err(OverrideError::BadExpiry(14)));
        assert_eq!(over("误判", 30).check(now), Err(OverrideError::BadExpiry(14)));
        assert!(over("误判，已核实", 3).check(now).is_ok());
        let derived = derive(&CodeFacts { fever: Some(crate::local_date(now)), ..Default::default() }, crate::local_date(now));
        let shown_now = shown(derived.clone(), Some(&over("体温复测正常", 3)), now);
        assert_eq!((shown_now.colour, shown_now.reasons[0].code, shown_now.reasons.len()), (Colour::Green, ReasonCode::Override, 2));
        // Expired: the derived code again.
        assert_eq!(shown(derived.clone(), Some(&over("体温复测正常", 3)), now + Duration::days(4)), derived);
    }

    fn facts() -> impl Strategy<Value = CodeFacts> {
        let category = prop::sample::select(Category::ALL.to_vec());
        let status = prop::sample::select(Status::ALL.to_vec());
        let kind = prop::sample::select(ZoneKind::ALL.to_vec());
        (
            prop::option::of((0u32..20, prop::option::of(0u32..20))),
            prop::option::of((category, status)),
            prop::option::of(kind),
            any::<bool>(),
            prop::option::of(0u32..30),
            any::<bool>(),
        )
            .prop_map(|(case, order, zone, recall, fever, missed)| CodeFacts {
                case: case.map(|(s, out)| CaseFact {
                    number: "1".into(),
                    since: d(4, 1) + Duration::days(s.into()),
                    discharged_on: out.map(|o| d(4, 10) + Duration::days(o.into())),
                    monitoring_until: None,
                }),
                order: order.map(|(c, s)| OrderFact { category: c, status: s, since: d(4, 2), release_on: Some(d(4, 20)) }),
                zone: zone.map(|k| ZoneFact { kind: k, scheme: Scheme::Zones2021, name: "x".into(), since: d(4, 3), earliest: None }),
                recall: recall.then_some((d(4, 5), d(4, 6))),
                fever: fever.map(|n| d(4, 1) + Duration::days(n.into())),
                missed_round: missed.then(|| ("r".into(), d(4, 4))),
            })
    }

    proptest! {
        #[test]
        fn the_colour_is_the_strictest_reason_and_green_only_without_one(f in facts(), day in 0i64..40) {
            let code = derive(&f, d(4, 1) + Duration::days(day));
            let strictest = code.reasons.iter().map(|r| r.colour).max_by_key(|c| c.rank()).unwrap_or(Colour::Green);
            prop_assert_eq!(code.colour, strictest);
            prop_assert_eq!(code.colour == Colour::Green, code.reasons.is_empty());
            prop_assert!(code.reasons.iter().all(|r| !r.zh.is_empty() && !r.en.is_empty()), "every reason said in both languages");
            // A sealed zone or an undischarged case is always red.
            let sealed = f.zone.as_ref().is_some_and(|z| z.kind == ZoneKind::Sealed);
            let ill = f.case.as_ref().is_some_and(|c| c.discharged_on.is_none());
            if sealed || ill {
                prop_assert_eq!(code.colour, Colour::Red);
            }
        }

        #[test]
        fn a_code_holds_until_the_day_its_facts_say_it_changes(f in facts(), day in 0i64..40, later in 1i64..40) {
            let today = d(4, 1) + Duration::days(day);
            let code = derive(&f, today);
            let then = today + Duration::days(later);
            match f.changes_on(today) {
                // Stored today, it is still right on every day before the change.
                Some(change) if then >= change => prop_assert_ne!(derive(&f, change), code.clone(), "it changes on the day it says"),
                _ => prop_assert_eq!(derive(&f, then), code),
            }
        }
    }
}
