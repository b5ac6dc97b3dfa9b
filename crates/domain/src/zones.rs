//! Zones and when each may change. A zone is sealed, controlled or precaution (封控区 / 管控区 /
//! 防范区, the 2021 scheme) — shown as high, medium or low risk (高 / 中 / 低风险区) under the 9th
//! protocol and the 20 measures, which map onto them (domain-rules §2.4). How a zone steps down
//! is data of the rule set ([`ZoneRules`]); [`countdown`] tells, for one zone on one day, every
//! condition of its next step, met or not, and the earliest day it can change. The product
//! proposes; the commander confirms.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::access::named_enum;
use crate::refusal::Refusal;
pub use crate::testing::pooling::ZoneKind;

named_enum! {
    /// How an incident names its zones.
    Scheme {
        Zones2021 => "zones_2021", "封控区、管控区、防范区";
        RiskAreas => "risk_areas", "高、中、低风险区";
    }
}

impl Scheme {
    /// A kind as this scheme names it: (Chinese, English).
    pub fn kind_label(self, kind: ZoneKind) -> (&'static str, &'static str) {
        match (self, kind) {
            (Scheme::Zones2021, ZoneKind::Sealed) => ("封控区", "sealed zone"),
            (Scheme::Zones2021, ZoneKind::Controlled) => ("管控区", "controlled zone"),
            (Scheme::Zones2021, ZoneKind::Precaution) => ("防范区", "precaution zone"),
            (Scheme::RiskAreas, ZoneKind::Sealed) => ("高风险区", "high-risk area"),
            (Scheme::RiskAreas, ZoneKind::Controlled) => ("中风险区", "medium-risk area"),
            (Scheme::RiskAreas, ZoneKind::Precaution) => ("低风险区", "low-risk area"),
        }
    }
}

/// How strict a kind is (sealed 2, controlled 1, precaution 0): a zone only ever steps down.
pub fn rank(kind: ZoneKind) -> u8 {
    match kind {
        ZoneKind::Sealed => 2,
        ZoneKind::Controlled => 1,
        ZoneKind::Precaution => 0,
    }
}

/// Which of two zones over the same person colours their code: the stricter, and between zones as
/// strict the older (the smaller id). Smaller is stronger: sort by it, strongest first.
pub fn precedence(kind: ZoneKind, id: i64) -> (std::cmp::Reverse<u8>, i64) {
    (std::cmp::Reverse(rank(kind)), id)
}

/// The area test a step asks for: everyone living in the zone sampled or accounted for, and all
/// negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum AreaTest {
    /// On this day of the quiet period or later (9th protocol: day 7).
    OnDay { day: u32 },
    /// Within this many days before the change (2021 scheme: 2; the 20 measures: 1, "24 h"),
    /// counted in days as tests are dated: a test on the day itself or on one of the days
    /// before.
    Within { days: u32 },
}

/// One way down: a zone of kind `from` (drawn as such, or downgraded into it) becomes `to`
/// once every condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiftStep {
    pub from: ZoneKind,
    /// Whether the step is for a zone downgraded into `from` ("then low after 3 more days")
    /// rather than drawn as `from`.
    #[serde(default)]
    pub downgraded: bool,
    /// Consecutive days with no new infection inside, counted from the day the zone took its
    /// kind or from the last infection inside, whichever is later.
    pub quiet_days: u32,
    pub test: Option<AreaTest>,
    /// The last close contact traced from the zone must be more than this many days past their
    /// last exposure, and have tested negative (2021 scheme: 14).
    pub last_contact_days: Option<u32>,
    pub to: ZoneKind,
}

/// The zone rules of a rule set: the scheme its zones are named in and the steps down. A
/// precaution zone is lifted when no sealed or controlled zone is left in the county, under
/// every scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRules {
    pub scheme: Scheme,
    pub steps: Vec<LiftStep>,
}

impl Default for ZoneRules {
    fn default() -> Self {
        ZoneRules::protocol_9()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ZoneRuleError {
    #[error("a {0} zone has no step down in these rules")]
    NoStep(ZoneKind),
    #[error("a step from {from} must lead to a less strict kind, not {to}")]
    NotDown { from: ZoneKind, to: ZoneKind },
    #[error("a step from {0} needs 1 to 60 quiet days")]
    BadQuietDays(ZoneKind),
    #[error("a step from {0} asks for its area test outside its quiet days (day 1 to the last) or more than 7 days before")]
    BadTestDay(ZoneKind),
    #[error("two steps from {0} for the same kind of zone")]
    Duplicate(ZoneKind),
    #[error("a step from {0} asks the last close contact to be 1 to 60 days past exposure")]
    BadContactDays(ZoneKind),
}

impl ZoneRules {
    /// The zone rules of a built-in rule set (`protocol-9`, `protocol-8`, `measures-20`);
    /// `None` for another name.
    pub fn built_in(rule_set: &str) -> Option<ZoneRules> {
        Some(match rule_set {
            "protocol-9" => ZoneRules::protocol_9(),
            "protocol-8" => {
                // 2021 scheme: 14 days, the last close contact past 14 days and negative, everyone
                // negative in the 2 days before; sealed and controlled alike.
                let step = |from| LiftStep {
                    from,
                    downgraded: false,
                    quiet_days: 14,
                    test: Some(AreaTest::Within { days: 2 }),
                    last_contact_days: Some(14),
                    to: ZoneKind::Precaution,
                };
                ZoneRules { scheme: Scheme::Zones2021, steps: vec![step(ZoneKind::Sealed), step(ZoneKind::Controlled)] }
            }
            // November 2022: high and low only; 5 days, one area test within 24 h before.
            "measures-20" => ZoneRules {
                scheme: Scheme::RiskAreas,
                steps: vec![LiftStep {
                    from: ZoneKind::Sealed,
                    downgraded: false,
                    quiet_days: 5,
                    test: Some(AreaTest::Within { days: 1 }),
                    last_contact_days: None,
                    to: ZoneKind::Precaution,
                }],
            },
            _ => return None,
        })
    }

    /// June 2022: high → medium after 7 quiet days and an all-negative test on day 7, then low
    /// after 3 more; a medium area drawn as such → low after 7 days and the test on day 7.
    fn protocol_9() -> ZoneRules {
        let day_7 = Some(AreaTest::OnDay { day: 7 });
        ZoneRules {
            scheme: Scheme::RiskAreas,
            steps: vec![
                LiftStep {
                    from: ZoneKind::Sealed,
                    downgraded: false,
                    quiet_days: 7,
                    test: day_7,
                    last_contact_days: None,
                    to: ZoneKind::Controlled,
                },
                LiftStep {
                    from: ZoneKind::Controlled,
                    downgraded: true,
                    quiet_days: 3,
                    test: None,
                    last_contact_days: None,
                    to: ZoneKind::Precaution,
                },
                LiftStep {
                    from: ZoneKind::Controlled,
                    downgraded: false,
                    quiet_days: 7,
                    test: day_7,
                    last_contact_days: None,
                    to: ZoneKind::Precaution,
                },
            ],
        }
    }

    /// The kinds a zone can be drawn as under these rules (the 20 measures have no medium).
    pub fn drawable(&self) -> Vec<ZoneKind> {
        ZoneKind::ALL
            .iter()
            .copied()
            .filter(|&k| k == ZoneKind::Precaution || self.steps.iter().any(|s| s.from == k && !s.downgraded))
            .collect()
    }

    /// The step a zone takes next: the one for how it came to its kind, else the one for a zone
    /// drawn so. `None` for a precaution zone (it waits on the county).
    pub fn step(&self, kind: ZoneKind, downgraded: bool) -> Option<&LiftStep> {
        let find = |d: bool| self.steps.iter().find(|s| s.from == kind && s.downgraded == d);
        find(downgraded).or_else(|| find(false))
    }

    /// Checks edited rules: every step leads down, 1 to 60 quiet days, an area test inside them,
    /// one step per kind and origin, and a way down for every kind a step leads to.
    pub fn validate(&self) -> Result<(), ZoneRuleError> {
        for (i, s) in self.steps.iter().enumerate() {
            if rank(s.to) >= rank(s.from) {
                return Err(ZoneRuleError::NotDown { from: s.from, to: s.to });
            }
            if !(1..=60).contains(&s.quiet_days) {
                return Err(ZoneRuleError::BadQuietDays(s.from));
            }
            let test_ok = match s.test {
                None => true,
                Some(AreaTest::OnDay { day }) => (1..=s.quiet_days).contains(&day),
                Some(AreaTest::Within { days }) => days <= 7,
            };
            if !test_ok {
                return Err(ZoneRuleError::BadTestDay(s.from));
            }
            if s.last_contact_days.is_some_and(|n| !(1..=60).contains(&n)) {
                return Err(ZoneRuleError::BadContactDays(s.from));
            }
            if self.steps[..i].iter().any(|o| o.from == s.from && o.downgraded == s.downgraded) {
                return Err(ZoneRuleError::Duplicate(s.from));
            }
            if s.to != ZoneKind::Precaution && self.step(s.to, true).is_none() {
                return Err(ZoneRuleError::NoStep(s.to));
            }
        }
        Ok(())
    }
}

/// What a zone is and what happened in it, as of the day asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFacts {
    pub kind: ZoneKind,
    /// Whether it came to its kind by a downgrade rather than being drawn so.
    pub downgraded: bool,
    /// The day its count starts: the day it was drawn or, after a downgrade, the day the step
    /// down fell due ("then 3 more days" follow on from the 7, however late the commander
    /// confirmed).
    pub since: NaiveDate,
    /// The day of the last new infection inside (a case or positive living in it or found in
    /// it), if any.
    pub last_infection: Option<NaiveDate>,
    /// Area tests of the zone, from the rounds' coverage.
    pub tests: Vec<AreaTestFact>,
    /// The last close contact traced from the zone, if any.
    pub last_contact: Option<LastContact>,
    /// Sealed or controlled zones in force in the county (a precaution zone waits for none).
    pub higher_zones_in_county: u32,
}

/// One area test of a zone: its day, whether everyone living inside was sampled or accounted
/// for, and whether every result came back negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaTestFact {
    pub day: NaiveDate,
    pub complete: bool,
    pub all_negative: bool,
}

/// The last close contact traced from a zone: their last exposure, and the day of their latest
/// negative test, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastContact {
    pub exposed: NaiveDate,
    pub negative_on: Option<NaiveDate>,
}

named_enum! {
    /// A condition of a zone's next step.
    ConditionCode {
        QuietDays => "quiet_days", "无新增感染";
        AreaTest => "area_test", "全员核酸阴性";
        LastContact => "last_contact", "末例密接期满";
        CountyClear => "county_clear", "县内无中高风险";
        NoStep => "no_step", "规则无降级";
    }
}

/// One condition of the next step, met or not on the day asked about, with the day it falls due
/// (when it can be told) and the sentence shown for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub code: ConditionCode,
    pub met: bool,
    pub due: Option<NaiveDate>,
    pub zh: String,
    pub en: String,
}

/// A zone's countdown: what it becomes next (`None`: lifted), each condition, whether all hold
/// today, and the earliest day it can change if nothing new happens (`None` when that waits on
/// something no date can tell, such as other zones of the county).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Countdown {
    pub to: Option<ZoneKind>,
    pub conditions: Vec<Condition>,
    pub ready: bool,
    pub earliest: Option<NaiveDate>,
}

fn days(n: u32) -> Duration {
    Duration::days(i64::from(n))
}

/// The countdown of a zone on `today` under `rules`.
pub fn countdown(rules: &ZoneRules, zone: &ZoneFacts, today: NaiveDate) -> Countdown {
    let mut conditions = Vec::new();
    let to = match rules.step(zone.kind, zone.downgraded) {
        None if zone.kind != ZoneKind::Precaution => {
            // A kind these rules cannot draw (a medium area kept when the rule set changed to
            // the 20 measures): nothing to count down; the commander redraws it.
            let (zh, en) = rules.scheme.kind_label(zone.kind);
            conditions.push(Condition {
                code: ConditionCode::NoStep,
                met: false,
                due: None,
                zh: format!("本规则没有{zh}的降级条件，请重新划定"),
                en: format!("these rules have no way down for a {en}: draw it again"),
            });
            None
        }
        None => {
            let (zh, en) = match rules.scheme {
                Scheme::Zones2021 => ("县内已无封控区、管控区", "no sealed or controlled zone left in the county"),
                Scheme::RiskAreas => ("县内已无中、高风险区", "no high- or medium-risk area left in the county"),
            };
            let left = zone.higher_zones_in_county;
            conditions.push(Condition {
                code: ConditionCode::CountyClear,
                met: left == 0,
                due: (left == 0).then_some(today),
                zh: if left == 0 { zh.to_string() } else { format!("{zh}（尚有{left}个）") },
                en: if left == 0 { en.to_string() } else { format!("{en} ({left} left)") },
            });
            None
        }
        Some(step) => {
            // The count starts when the zone took its kind, or again at the last infection inside.
            let start = zone.last_infection.map_or(zone.since, |d| d.max(zone.since));
            let quiet = (today - start).num_days().max(0);
            let quiet_due = start + days(step.quiet_days);
            conditions.push(Condition {
                code: ConditionCode::QuietDays,
                met: quiet >= i64::from(step.quiet_days),
                due: Some(quiet_due),
                zh: format!("连续{}天无新增感染（已{quiet}天）", step.quiet_days),
                en: format!("{} consecutive days with no new infection ({quiet} so far)", step.quiet_days),
            });
            if let Some(test) = step.test {
                let passed = |t: &&AreaTestFact| t.complete && t.all_negative && t.day <= today;
                let (met, due, zh, en) = match test {
                    AreaTest::OnDay { day } => {
                        let from = start + days(day);
                        (
                            zone.tests.iter().filter(passed).any(|t| t.day >= from),
                            from,
                            format!("第{day}天全员核酸检测阴性"),
                            format!("everyone tested negative on day {day}"),
                        )
                    }
                    AreaTest::Within { days: within } => {
                        let window = today - days(within);
                        let (zh, en) = if within <= 1 {
                            ("解除前24小时内全员核酸检测阴性".to_string(), "everyone tested negative in the 24 hours before".to_string())
                        } else {
                            (format!("解除前{within}天内全员核酸检测阴性"), format!("everyone tested negative in the {within} days before"))
                        };
                        (zone.tests.iter().filter(passed).any(|t| t.day >= window && t.day >= start), quiet_due, zh, en)
                    }
                };
                conditions.push(Condition { code: ConditionCode::AreaTest, met, due: Some(due), zh, en });
            }
            if let Some(n) = step.last_contact_days {
                // "More than 14 days past the last exposure", tested negative at its end.
                let (met, due) = match zone.last_contact {
                    None => (true, None),
                    Some(c) => {
                        let due = c.exposed + days(n + 1);
                        let negative = c.negative_on.is_some_and(|t| t >= c.exposed + days(n) && t <= today);
                        (today >= due && negative, Some(due))
                    }
                };
                conditions.push(Condition {
                    code: ConditionCode::LastContact,
                    met,
                    due,
                    zh: format!("末例密接末次暴露已超过{n}天且核酸阴性"),
                    en: format!("the last close contact is more than {n} days past exposure and tested negative"),
                });
            }
            Some(step.to)
        }
    };
    let ready = conditions.iter().all(|c| c.met);
    // An unmet condition without a date (the county) leaves the day open; one whose date has
    // passed (a test to take, a contact to test negative) can still be met today.
    let open = conditions.iter().any(|c| !c.met && c.due.is_none());
    let earliest = if open { None } else { Some(conditions.iter().filter_map(|c| c.due).fold(today, NaiveDate::max)) };
    Countdown { to, conditions, ready, earliest }
}

/// What a new positive inside a zone proposes: a controlled zone is to be sealed ("a positive
/// inside turns it sealed"); elsewhere the count starts again and nothing else changes.
pub fn on_positive(rules: &ZoneRules, kind: ZoneKind) -> Option<ZoneKind> {
    (kind == ZoneKind::Controlled && rules.drawable().contains(&ZoneKind::Sealed)).then_some(ZoneKind::Sealed)
}

named_enum! {
    /// An act on a zone, as its history records it.
    ZoneAct {
        Designate => "designate", "划定";
        Extend => "extend", "扩大范围";
        Tighten => "tighten", "升级";
        Downgrade => "downgrade", "降级";
        Lift => "lift", "解除";
    }
}

/// What the commander asks of a zone in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Its next step down, once every condition holds.
    Downgrade,
    /// A stricter kind, from today (a positive inside a controlled zone).
    Tighten(ZoneKind),
    /// The end of a precaution zone, once no stricter zone is left in the county.
    Lift,
}

/// What a zone is after an act: its kind, how it came to it, the day its count starts, and
/// whether it is lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub kind: ZoneKind,
    pub downgraded: bool,
    pub since: NaiveDate,
    pub lifted: bool,
}

/// Why an act on a zone is refused; nothing changes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ActError {
    #[error("not every condition holds: {0:?}")]
    NotReady(Vec<ConditionCode>),
    #[error("{to} is not stricter than {from}")]
    NotStricter { from: ZoneKind, to: ZoneKind },
    #[error("these rules do not draw a {0} zone")]
    NotDrawable(ZoneKind),
    #[error("a {0} zone steps down before it is lifted")]
    StepDownFirst(ZoneKind),
    #[error("a precaution zone is lifted, not downgraded")]
    UseLift,
}

impl ActError {
    /// The refusal a page or the API shows, kinds named as `scheme` names them.
    pub fn refusal(&self, scheme: Scheme) -> crate::refusal::Refusal {
        use crate::refusal::term;
        let kind = |k: ZoneKind| term(scheme.kind_group(), k);
        match self {
            ActError::NotReady(codes) => crate::refusal!(
                "refused.zone.not_ready",
                condition = term("zones.condition", codes.first().copied().unwrap_or(ConditionCode::NoStep)),
                unmet = codes.len()
            ),
            ActError::NotStricter { from, to } => crate::refusal!("refused.zone.not_stricter", from = kind(*from), to = kind(*to)),
            ActError::NotDrawable(k) => crate::refusal!("refused.zone.not_drawable", kind = kind(*k)),
            ActError::StepDownFirst(k) => crate::refusal!("refused.zone.step_down_first", kind = kind(*k)),
            ActError::UseLift => crate::refusal!("refused.zone.use_lift"),
        }
    }
}

impl Scheme {
    /// The locale group that labels kinds as this scheme names them (`zones.kind_2021.sealed`
    /// reads 封控区, `zones.kind_risk.sealed` 高风险区).
    pub fn kind_group(self) -> &'static str {
        match self {
            Scheme::Zones2021 => "zones.kind_2021",
            Scheme::RiskAreas => "zones.kind_risk",
        }
    }
}

/// The kinds stricter than `kind`, strictest first: what a zone can be tightened to.
pub fn stricter(kind: ZoneKind) -> impl Iterator<Item = ZoneKind> {
    ZoneKind::ALL.iter().copied().filter(move |k| rank(*k) > rank(kind))
}

/// Whether these rules let a zone be drawn as `kind`.
pub fn check_drawable(rules: &ZoneRules, kind: ZoneKind) -> Result<(), ActError> {
    if rules.drawable().contains(&kind) { Ok(()) } else { Err(ActError::NotDrawable(kind)) }
}

/// How far back a zone drawn earlier may be entered (补录): headquarters announces its zones, and
/// they are often typed in hours or days later, or when the platform takes over a response
/// already running. A month covers any zone still in force under the 9th protocol's fourteen days.
pub const BACKFILL_DAYS: i64 = 30;

/// Whether a zone may be entered as drawn at `drawn_at` (announced earlier, typed in now): not in
/// the future (a phone's clock a few minutes ahead is allowed) and not more than
/// [`BACKFILL_DAYS`] back. Its count starts on that day.
pub fn check_drawn_at(drawn_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Refusal> {
    if drawn_at > now + Duration::minutes(5) {
        return Err(crate::refusal!("refused.zone.drawn_later", at = crate::local_minute(drawn_at)));
    }
    if drawn_at < now - Duration::days(BACKFILL_DAYS) {
        return Err(crate::refusal!("refused.zone.drawn_too_early", at = crate::local_minute(drawn_at), days = BACKFILL_DAYS));
    }
    Ok(())
}

/// What `ask` makes of a zone on `today`, or why it is refused. A downgrade or a lift needs
/// every condition of the countdown; a downgraded zone's count starts on the day its step fell
/// due, however late the commander confirmed it.
pub fn decide(rules: &ZoneRules, zone: &ZoneFacts, ask: Ask, today: NaiveDate) -> Result<After, ActError> {
    let ready = |cd: &Countdown| -> Result<(), ActError> {
        if cd.ready { Ok(()) } else { Err(ActError::NotReady(cd.conditions.iter().filter(|c| !c.met).map(|c| c.code).collect())) }
    };
    match ask {
        Ask::Tighten(to) => {
            if rank(to) <= rank(zone.kind) {
                return Err(ActError::NotStricter { from: zone.kind, to });
            }
            check_drawable(rules, to)?;
            Ok(After { kind: to, downgraded: false, since: today, lifted: false })
        }
        Ask::Downgrade => {
            if zone.kind == ZoneKind::Precaution {
                return Err(ActError::UseLift);
            }
            let cd = countdown(rules, zone, today);
            ready(&cd)?;
            let to = cd.to.ok_or(ActError::NotReady(vec![ConditionCode::NoStep]))?;
            let fell_due = cd.conditions.iter().filter_map(|c| c.due).max().unwrap_or(today).min(today);
            Ok(After { kind: to, downgraded: true, since: fell_due, lifted: false })
        }
        Ask::Lift => {
            if zone.kind != ZoneKind::Precaution {
                return Err(ActError::StepDownFirst(zone.kind));
            }
            ready(&countdown(rules, zone, today))?;
            Ok(After { kind: zone.kind, downgraded: zone.downgraded, since: zone.since, lifted: true })
        }
    }
}

/// The zone a sampling pool follows at a site: the stricter of the kind the round's planner
/// typed for its area and the strictest zone in force over the site's area ("sealed → single
/// tubes, controlled → 10, others 20"); a pool is never looser than the zone it is taken in.
pub fn pool_zone(typed: Option<ZoneKind>, in_force: Option<ZoneKind>) -> Option<ZoneKind> {
    match (typed, in_force) {
        (Some(a), Some(b)) => Some(if rank(a) >= rank(b) { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stricter_zone_colours_a_code_then_the_older() {
        let mut zones = [(ZoneKind::Controlled, 1), (ZoneKind::Sealed, 9), (ZoneKind::Precaution, 0), (ZoneKind::Sealed, 4)];
        zones.sort_by_key(|(k, id)| precedence(*k, *id));
        assert_eq!(zones, [(ZoneKind::Sealed, 4), (ZoneKind::Sealed, 9), (ZoneKind::Controlled, 1), (ZoneKind::Precaution, 0)]);
    }
    use proptest::prelude::*;

    fn d(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2022, month, day).unwrap()
    }

    fn zone(kind: ZoneKind, since: NaiveDate) -> ZoneFacts {
        ZoneFacts { kind, downgraded: false, since, last_infection: None, tests: vec![], last_contact: None, higher_zones_in_county: 0 }
    }

    fn negative(day: NaiveDate) -> AreaTestFact {
        AreaTestFact { day, complete: true, all_negative: true }
    }

    fn met(c: &Countdown) -> Vec<(&'static str, bool)> {
        c.conditions.iter().map(|c| (c.code.as_str(), c.met)).collect()
    }

    #[test]
    fn protocol_9_high_goes_medium_after_seven_quiet_days_and_a_negative_test_on_day_seven() {
        let rules = ZoneRules::built_in("protocol-9").unwrap();
        let mut z = zone(ZoneKind::Sealed, d(4, 13));
        // (today, tests, ready, earliest)
        let table: [(NaiveDate, Vec<AreaTestFact>, bool, Option<NaiveDate>); 7] = [
            (d(4, 14), vec![], false, Some(d(4, 20))),
            (d(4, 19), vec![negative(d(4, 19))], false, Some(d(4, 20))),
            // Day 7 reached, the day-6 test does not count.
            (d(4, 20), vec![negative(d(4, 19))], false, Some(d(4, 20))),
            (d(4, 20), vec![negative(d(4, 20))], true, Some(d(4, 20))),
            // A test that missed someone, or found a positive tube, is not the test.
            (d(4, 21), vec![AreaTestFact { day: d(4, 20), complete: false, all_negative: true }], false, Some(d(4, 21))),
            (d(4, 21), vec![AreaTestFact { day: d(4, 20), complete: true, all_negative: false }], false, Some(d(4, 21))),
            (d(4, 22), vec![negative(d(4, 21))], true, Some(d(4, 22))),
        ];
        for (today, tests, ready, earliest) in table {
            z.tests = tests;
            let c = countdown(&rules, &z, today);
            assert_eq!((c.ready, c.earliest, c.to), (ready, earliest, Some(ZoneKind::Controlled)), "{today}: {:?}", met(&c));
        }
        // Downgraded to medium on the 20th: low after 3 more quiet days, no test.
        let mut medium = zone(ZoneKind::Controlled, d(4, 20));
        medium.downgraded = true;
        let c = countdown(&rules, &medium, d(4, 22));
        assert_eq!((c.ready, c.earliest, c.to), (false, Some(d(4, 23)), Some(ZoneKind::Precaution)));
        assert_eq!(met(&c), [("quiet_days", false)]);
        assert!(countdown(&rules, &medium, d(4, 23)).ready);
        // Drawn as medium: 7 days and the test, like high.
        let drawn = zone(ZoneKind::Controlled, d(4, 20));
        assert_eq!(met(&countdown(&rules, &drawn, d(4, 23))), [("quiet_days", false), ("area_test", false)]);
    }

    #[test]
    fn the_commander_downgrades_only_a_ready_zone_and_its_next_count_starts_when_the_step_fell_due() {
        let rules = ZoneRules::built_in("protocol-9").unwrap();
        let mut z = zone(ZoneKind::Sealed, d(4, 13));
        // Day 5: quiet days and the test both unmet; nothing changes.
        let refused = decide(&rules, &z, Ask::Downgrade, d(4, 18)).unwrap_err();
        assert_eq!(refused, ActError::NotReady(vec![ConditionCode::QuietDays, ConditionCode::AreaTest]));
        let r = refused.refusal(Scheme::RiskAreas);
        assert_eq!((r.kind, r.arg("condition"), r.arg("unmet")), ("refused.zone.not_ready", Some("quiet_days"), Some("2")));
        // Ready on the 20th, confirmed on the 22nd: medium from the 20th, low on the 23rd.
        z.tests = vec![negative(d(4, 20))];
        let after = decide(&rules, &z, Ask::Downgrade, d(4, 22)).unwrap();
        assert_eq!(after, After { kind: ZoneKind::Controlled, downgraded: true, since: d(4, 20), lifted: false });
        let medium = ZoneFacts { kind: after.kind, downgraded: true, since: after.since, ..zone(ZoneKind::Controlled, d(4, 20)) };
        let low = decide(&rules, &medium, Ask::Downgrade, d(4, 23)).unwrap();
        assert_eq!((low.kind, low.since), (ZoneKind::Precaution, d(4, 23)));
        // A low-risk area is lifted, not downgraded, and only once the county is clear.
        let mut low = ZoneFacts { kind: low.kind, since: low.since, ..medium };
        assert_eq!(decide(&rules, &low, Ask::Downgrade, d(4, 23)), Err(ActError::UseLift));
        low.higher_zones_in_county = 1;
        assert_eq!(decide(&rules, &low, Ask::Lift, d(4, 23)), Err(ActError::NotReady(vec![ConditionCode::CountyClear])));
        low.higher_zones_in_county = 0;
        assert!(decide(&rules, &low, Ask::Lift, d(4, 23)).unwrap().lifted);
        // A sealed zone is never lifted in one act.
        assert_eq!(decide(&rules, &z, Ask::Lift, d(4, 22)), Err(ActError::StepDownFirst(ZoneKind::Sealed)));
    }

    #[test]
    fn a_zone_is_entered_as_drawn_up_to_a_month_back_and_never_ahead() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2022, 4, 13, 8, 0, 0).unwrap();
        assert_eq!(check_drawn_at(now - Duration::hours(2), now), Ok(()), "announced at 14:00, typed at 16:00");
        assert_eq!(check_drawn_at(now + Duration::minutes(4), now), Ok(()), "a clock a little ahead");
        assert_eq!(check_drawn_at(now - Duration::days(BACKFILL_DAYS), now), Ok(()));
        let later = check_drawn_at(now + Duration::hours(1), now).unwrap_err();
        assert_eq!((later.kind, later.arg("at")), ("refused.zone.drawn_later", Some("2022-04-13 17:00")));
        let early = check_drawn_at(now - Duration::days(BACKFILL_DAYS) - Duration::minutes(1), now).unwrap_err();
        assert_eq!((early.kind, early.arg("days")), ("refused.zone.drawn_too_early", Some("30")));
    }

    #[test]
    fn a_zone_is_tightened_only_to_a_stricter_kind_its_rules_draw() {
        let p9 = ZoneRules::built_in("protocol-9").unwrap();
        let medium = zone(ZoneKind::Controlled, d(4, 13));
        let sealed = decide(&p9, &medium, Ask::Tighten(ZoneKind::Sealed), d(4, 15)).unwrap();
        assert_eq!(sealed, After { kind: ZoneKind::Sealed, downgraded: false, since: d(4, 15), lifted: false });
        assert_eq!(
            decide(&p9, &medium, Ask::Tighten(ZoneKind::Precaution), d(4, 15)),
            Err(ActError::NotStricter { from: ZoneKind::Controlled, to: ZoneKind::Precaution })
        );
        // The 20 measures draw no medium-risk area.
        let m20 = ZoneRules::built_in("measures-20").unwrap();
        let low = zone(ZoneKind::Precaution, d(11, 11));
        assert_eq!(decide(&m20, &low, Ask::Tighten(ZoneKind::Controlled), d(11, 12)), Err(ActError::NotDrawable(ZoneKind::Controlled)));
        assert_eq!(check_drawable(&m20, ZoneKind::Controlled), Err(ActError::NotDrawable(ZoneKind::Controlled)));
        assert_eq!(stricter(ZoneKind::Precaution).collect::<Vec<_>>(), [ZoneKind::Sealed, ZoneKind::Controlled]);
        assert_eq!(stricter(ZoneKind::Sealed).count(), 0);
        let r = ActError::NotDrawable(ZoneKind::Controlled).refusal(m20.scheme);
        assert_eq!(r.args[0].1, crate::refusal::term("zones.kind_risk", "controlled"));
    }

    #[test]
    fn a_pool_follows_the_stricter_of_the_typed_kind_and_the_zone_in_force() {
        use ZoneKind::*;
        assert_eq!(pool_zone(None, None), None);
        assert_eq!(pool_zone(None, Some(Sealed)), Some(Sealed), "drawn, not typed");
        assert_eq!(pool_zone(Some(Controlled), None), Some(Controlled));
        assert_eq!(pool_zone(Some(Precaution), Some(Sealed)), Some(Sealed), "never looser than the zone");
        assert_eq!(pool_zone(Some(Sealed), Some(Controlled)), Some(Sealed));
    }

    #[test]
    fn a_new_infection_inside_starts_the_count_again() {
        let rules = ZoneRules::built_in("protocol-9").unwrap();
        let mut z = zone(ZoneKind::Sealed, d(4, 13));
        z.tests = vec![negative(d(4, 20))];
        z.last_infection = Some(d(4, 16));
        let c = countdown(&rules, &z, d(4, 20));
        assert!(!c.ready);
        assert_eq!(c.earliest, Some(d(4, 23)));
        assert_eq!(c.conditions[0].zh, "连续7天无新增感染（已4天）");
        // The test of the 20th was day 4 of the new count; one on the 23rd closes it.
        z.tests.push(negative(d(4, 23)));
        assert!(countdown(&rules, &z, d(4, 23)).ready);
        // An infection before the zone was drawn changes nothing.
        z.last_infection = Some(d(4, 10));
        z.tests = vec![negative(d(4, 20))];
        assert!(countdown(&rules, &z, d(4, 20)).ready);
    }

    #[test]
    fn the_2021_scheme_asks_fourteen_days_the_last_contact_and_a_test_in_the_two_days_before() {
        let rules = ZoneRules::built_in("protocol-8").unwrap();
        assert_eq!(rules.scheme.kind_label(ZoneKind::Sealed), ("封控区", "sealed zone"));
        let mut z = zone(ZoneKind::Sealed, d(4, 13));
        z.last_contact = Some(LastContact { exposed: d(4, 14), negative_on: Some(d(4, 28)) });
        z.tests = vec![negative(d(4, 26))];
        // Quiet since the 13th: the 27th; the contact exposed on the 14th: past 14 days on the 29th.
        let c = countdown(&rules, &z, d(4, 27));
        assert_eq!(met(&c), [("quiet_days", true), ("area_test", true), ("last_contact", false)]);
        assert_eq!(c.earliest, Some(d(4, 29)));
        // On the 29th the test of the 26th is three days old: not within the two days before.
        let c = countdown(&rules, &z, d(4, 29));
        assert_eq!(met(&c), [("quiet_days", true), ("area_test", false), ("last_contact", true)]);
        z.tests.push(negative(d(4, 28)));
        let c = countdown(&rules, &z, d(4, 29));
        assert!(c.ready);
        assert_eq!(c.to, Some(ZoneKind::Precaution));
        // A contact not yet negative past their day (or negative only early in their
        // observation): it can change the day they test negative.
        for negative_on in [None, Some(d(4, 20))] {
            z.last_contact = Some(LastContact { exposed: d(4, 14), negative_on });
            let c = countdown(&rules, &z, d(4, 30));
            assert_eq!((c.ready, c.earliest), (false, Some(d(4, 30))), "{negative_on:?}");
        }
        // Controlled zones follow the same three conditions.
        assert_eq!(rules.step(ZoneKind::Controlled, false).unwrap().quiet_days, 14);
    }

    #[test]
    fn the_20_measures_lift_a_high_area_after_five_days_with_a_test_in_the_24_hours_before() {
        let rules = ZoneRules::built_in("measures-20").unwrap();
        assert_eq!(rules.drawable(), [ZoneKind::Sealed, ZoneKind::Precaution]);
        let mut z = zone(ZoneKind::Sealed, d(11, 20));
        z.tests = vec![negative(d(11, 24))];
        let c = countdown(&rules, &z, d(11, 25));
        assert_eq!((c.ready, c.to), (true, Some(ZoneKind::Precaution)));
        assert_eq!(c.conditions[1].zh, "解除前24小时内全员核酸检测阴性");
        assert!(!countdown(&rules, &z, d(11, 26)).ready, "the test is two days old");
        assert!(!countdown(&rules, &z, d(11, 24)).ready, "four quiet days");
        // A medium area kept from another rule set has no way down here.
        let c = countdown(&rules, &zone(ZoneKind::Controlled, d(11, 20)), d(12, 20));
        assert_eq!((c.ready, c.earliest, c.to), (false, None, None));
        assert_eq!(c.conditions[0].code, ConditionCode::NoStep);
        assert_eq!(c.conditions[0].zh, "本规则没有中风险区的降级条件，请重新划定");
    }

    #[test]
    fn a_precaution_zone_waits_for_the_county() {
        for name in ["protocol-9", "protocol-8", "measures-20"] {
            let rules = ZoneRules::built_in(name).unwrap();
            let mut z = zone(ZoneKind::Precaution, d(4, 13));
            z.higher_zones_in_county = 2;
            let c = countdown(&rules, &z, d(4, 30));
            assert_eq!((c.ready, c.earliest, c.to), (false, None, None), "{name}");
            assert!(c.conditions[0].en.ends_with("(2 left)"));
            z.higher_zones_in_county = 0;
            let c = countdown(&rules, &z, d(4, 30));
            assert_eq!((c.ready, c.earliest, c.to), (true, Some(d(4, 30)), None), "{name}");
        }
    }

    #[test]
    fn a_positive_in_a_controlled_zone_proposes_sealing_it() {
        let rules = ZoneRules::built_in("protocol-9").unwrap();
        assert_eq!(on_positive(&rules, ZoneKind::Controlled), Some(ZoneKind::Sealed));
        assert_eq!(on_positive(&rules, ZoneKind::Sealed), None);
        assert_eq!(on_positive(&rules, ZoneKind::Precaution), None);
    }

    #[test]
    fn the_built_in_rules_are_valid_and_edits_are_checked() {
        for name in ["protocol-9", "protocol-8", "measures-20"] {
            assert_eq!(ZoneRules::built_in(name).unwrap().validate(), Ok(()), "{name}");
        }
        assert_eq!(ZoneRules::built_in("protocol-7"), None);
        let mut r = ZoneRules::default();
        r.steps[0].to = ZoneKind::Sealed;
        assert_eq!(r.validate(), Err(ZoneRuleError::NotDown { from: ZoneKind::Sealed, to: ZoneKind::Sealed }));
        let mut r = ZoneRules::default();
        r.steps[0].test = Some(AreaTest::OnDay { day: 8 });
        assert_eq!(r.validate(), Err(ZoneRuleError::BadTestDay(ZoneKind::Sealed)));
        let mut r = ZoneRules::default();
        r.steps[2].quiet_days = 0;
        assert_eq!(r.validate(), Err(ZoneRuleError::BadQuietDays(ZoneKind::Controlled)));
        let mut r = ZoneRules::default();
        r.steps.retain(|s| s.from == ZoneKind::Sealed);
        assert_eq!(r.validate(), Err(ZoneRuleError::NoStep(ZoneKind::Controlled)));
        let mut r = ZoneRules::built_in("protocol-8").unwrap();
        r.steps[0].last_contact_days = Some(0);
        assert_eq!(r.validate(), Err(ZoneRuleError::BadContactDays(ZoneKind::Sealed)));
        let mut r = ZoneRules::default();
        r.steps.push(r.steps[0].clone());
        assert_eq!(r.validate(), Err(ZoneRuleError::Duplicate(ZoneKind::Sealed)));
    }

    fn facts() -> impl Strategy<Value = (String, ZoneFacts, NaiveDate)> {
        let rule = prop_oneof![Just("protocol-9"), Just("protocol-8"), Just("measures-20")];
        let kind = prop_oneof![Just(ZoneKind::Sealed), Just(ZoneKind::Controlled), Just(ZoneKind::Precaution)];
        let test = (0u32..40, any::<bool>(), any::<bool>()).prop_map(|(day, complete, all_negative)| (day, complete, all_negative));
        (
            rule,
            kind,
            any::<bool>(),
            proptest::option::of(0u32..40),
            proptest::collection::vec(test, 0..5),
            proptest::option::of((0u32..40, any::<bool>())),
            0u32..3,
            0u32..45,
        )
            .prop_map(|(rule, kind, downgraded, infection, tests, contact, higher, today)| {
                let base = d(4, 1);
                let at = |n: u32| base + days(n);
                let z = ZoneFacts {
                    kind,
                    downgraded,
                    since: base,
                    last_infection: infection.map(at),
                    tests: tests
                        .into_iter()
                        .map(|(n, complete, all_negative)| AreaTestFact { day: at(n), complete, all_negative })
                        .collect(),
                    last_contact: contact.map(|(n, negative)| LastContact { exposed: at(n), negative_on: negative.then(|| at(n + 14)) }),
                    higher_zones_in_county: higher,
                };
                (rule.to_string(), z, at(today))
            })
    }

    proptest! {
        #[test]
        fn a_zone_is_ready_only_when_every_condition_holds((rule, z, today) in facts()) {
            let rules = ZoneRules::built_in(&rule).unwrap();
            let c = countdown(&rules, &z, today);
            prop_assert_eq!(c.ready, c.conditions.iter().all(|c| c.met));
            if c.ready {
                prop_assert_eq!(c.earliest, Some(today));
            }
            // With a clean area test every day, the contact negative and the county clear, only
            // time is left: the zone is ready on its earliest day and not the day before.
            let mut clean = z.clone();
            clean.tests = (0..90).map(|n| negative(z.since + Duration::days(n))).collect();
            clean.higher_zones_in_county = 0;
            let n = rules.step(z.kind, z.downgraded).and_then(|s| s.last_contact_days).unwrap_or(0);
            if let Some(c) = clean.last_contact.as_mut() {
                c.negative_on = Some(c.exposed + days(n));
            }
            let Some(e) = countdown(&rules, &clean, today).earliest else {
                // Only a kind these rules have no step for leaves no day.
                prop_assert!(rules.step(z.kind, z.downgraded).is_none() && z.kind != ZoneKind::Precaution);
                return Ok(());
            };
            prop_assert!(e >= today);
            prop_assert!(countdown(&rules, &clean, e).ready, "not ready on its earliest day {}", e);
            if e > today {
                prop_assert!(!countdown(&rules, &clean, e - Duration::days(1)).ready);
            }
        }

        #[test]
        fn a_zone_never_steps_down_or_lifts_while_a_condition_fails((rule, z, today) in facts()) {
            let rules = ZoneRules::built_in(&rule).unwrap();
            let c = countdown(&rules, &z, today);
            for ask in [Ask::Downgrade, Ask::Lift] {
                if let Ok(after) = decide(&rules, &z, ask, today) {
                    prop_assert!(c.ready, "{:?} allowed with {:?}", ask, c.conditions);
                    prop_assert!(after.since <= today);
                    prop_assert_eq!(after.lifted, ask == Ask::Lift);
                    prop_assert!(after.lifted || rank(after.kind) < rank(z.kind));
                }
            }
        }

        #[test]
        fn a_new_positive_always_resets_the_count((rule, z, today) in facts(), back in 0i64..40) {
            let rules = ZoneRules::built_in(&rule).unwrap();
            let Some(step) = rules.step(z.kind, z.downgraded) else { return Ok(()) };
            let day = (today - Duration::days(back)).max(z.since);
            let mut after = z.clone();
            after.last_infection = Some(after.last_infection.map_or(day, |d| d.max(day)));
            let c = countdown(&rules, &after, today);
            let until = day + days(step.quiet_days);
            if today < until {
                prop_assert!(!c.ready);
            }
            prop_assert!(c.earliest.is_none_or(|e| e >= until));
            // No area test taken before the infection counts after it.
            if step.test.is_some() {
                after.tests.retain(|t| t.day < day);
                let c = countdown(&rules, &after, today);
                prop_assert!(c.conditions.iter().any(|c| c.code == ConditionCode::AreaTest && !c.met));
            }
        }
    }
}
