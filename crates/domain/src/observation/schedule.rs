//! A person's observation schedule, computed from the plan of their category and their last
//! exposure: the dates of each stage, the test days and the release date.
//!
//! Days count from the last exposure: the local day of the last exposure is day 0, the next day
//! is day 1 of the first stage, and the period ends at the end of its last day. "7 days
//! centralized + 3 home monitoring" from an exposure on 12 April is centralized 13–19 April
//! (tests on 13, 14, 15, 17 and 19 April), home monitoring 20–22 April, released on 22 April.
//!
//! A contact found late serves only the remaining days ("缺几天补几天"): stages already over when
//! they were found are skipped, and tests due before then are not asked for. A recompute (new
//! last exposure, new rule set, new category) keeps every test already taken.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::rules::{Plan, StageKind};

/// The outcome of one test taken during observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Sampled, result not back yet.
    Pending,
    Negative,
    Positive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Negative => "negative",
            Outcome::Positive => "positive",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Pending, Outcome::Negative, Outcome::Positive].into_iter().find(|o| o.as_str() == s)
    }
}

/// A test already taken, on a local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taken {
    pub on: NaiveDate,
    pub outcome: Outcome,
}

/// One stage with its dates (both days included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageSpan {
    pub kind: StageKind,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Already over when the person was found: not served.
    pub skipped: bool,
}

/// A test day of the schedule, or a test taken outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSlot {
    pub on: NaiveDate,
    /// Days since the last exposure.
    pub day: i64,
    /// The stage the day falls in; none for a test taken before the first or after the last.
    pub stage: Option<StageKind>,
    /// The plan's test day (false for a test taken on a day the plan does not name).
    pub planned: bool,
    /// 双采双检: two swabs, two labs.
    pub double: bool,
    pub taken: Option<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The local day of the last exposure (day 0).
    pub day0: NaiveDate,
    pub stages: Vec<StageSpan>,
    pub tests: Vec<TestSlot>,
    /// The last day of the last stage: released at its end.
    pub release_on: NaiveDate,
}

fn plus(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(n))).expect("a date inside chrono's range")
}

impl Schedule {
    /// The schedule of `plan` for a person last exposed on `day0`, found (handed over) on
    /// `found_on`, with the tests in `taken` already done.
    pub fn compute(plan: &Plan, day0: NaiveDate, found_on: NaiveDate, taken: &[Taken]) -> Schedule {
        let mut stages = Vec::with_capacity(plan.stages.len());
        let mut tests: Vec<TestSlot> = Vec::new();
        let mut next = 1u32;
        for (i, s) in plan.stages.iter().enumerate() {
            let first = plus(day0, next);
            let last = plus(day0, next + s.days - 1);
            stages.push(StageSpan { kind: s.kind, first, last, skipped: last < found_on });
            let last_test = s.test_days.last().copied();
            for &d in &s.test_days {
                let on = plus(first, d - 1);
                if on >= found_on {
                    let double = plan.double_test_at_release && i == 0 && Some(d) == last_test;
                    let day = i64::from(next + d - 1);
                    tests.push(TestSlot { on, day, stage: Some(s.kind), planned: true, double, taken: None });
                }
            }
            next += s.days;
        }
        let release_on = plus(day0, next - 1);
        let mut schedule = Schedule { day0, stages, tests, release_on };
        for t in taken {
            match schedule.tests.iter_mut().find(|s| s.on == t.on && s.taken.is_none()) {
                Some(slot) => slot.taken = Some(t.outcome),
                None => {
                    let slot = TestSlot {
                        on: t.on,
                        day: (t.on - day0).num_days(),
                        stage: schedule.stage_on(t.on),
                        planned: false,
                        double: false,
                        taken: Some(t.outcome),
                    };
                    schedule.tests.push(slot);
                }
            }
        }
        schedule.tests.sort_by_key(|s| (s.on, !s.planned));
        schedule
    }

    /// Days since the last exposure.
    pub fn day_of(&self, on: NaiveDate) -> i64 {
        (on - self.day0).num_days()
    }

    /// The stage a day falls in (skipped stages included: it tells where the rule puts the day).
    pub fn stage_on(&self, on: NaiveDate) -> Option<StageKind> {
        self.stages.iter().find(|s| s.first <= on && on <= s.last).map(|s| s.kind)
    }

    /// The stage a person found on `found_on` starts in; none when the whole period was over.
    pub fn entry(&self) -> Option<StageKind> {
        self.stages.iter().find(|s| !s.skipped).map(|s| s.kind)
    }

    /// The stage a person is to serve on `today`: the one today falls in, or the first one to
    /// serve when the period has not begun (exposed today). None once the period is over.
    pub fn serving_on(&self, today: NaiveDate) -> Option<StageKind> {
        if today <= self.release_on && self.stages.iter().all(|s| today < s.first) {
            return self.entry();
        }
        self.stage_on(today)
    }

    /// The last day of centralized quarantine, if the plan has any that is served.
    pub fn centralized_until(&self) -> Option<NaiveDate> {
        self.stages.iter().find(|s| s.kind == StageKind::Centralized && !s.skipped).map(|s| s.last)
    }

    /// The stage that follows `kind` in the plan; none when `kind` is the last (release).
    pub fn stage_after(&self, kind: StageKind) -> Option<StageKind> {
        let i = self.stages.iter().position(|s| s.kind == kind)?;
        self.stages.get(i + 1).map(|s| s.kind)
    }

    /// Tests due on a day and not yet taken.
    pub fn due_on(&self, on: NaiveDate) -> Option<&TestSlot> {
        self.tests.iter().find(|t| t.on == on && t.planned && t.taken.is_none())
    }

    /// What still stands between the person and release on `today`: the period not over, a
    /// planned test not taken or not back, a positive result, and for a secondary contact the
    /// first tests of their close contact (`close_first`, oldest first) when `needs` of them
    /// must be negative.
    pub fn release_blockers(&self, today: NaiveDate, close_first: Option<&[Outcome]>, needs: u32) -> Vec<Blocker> {
        let mut out = Vec::new();
        if today < self.release_on {
            out.push(Blocker::PeriodRunning { release_on: self.release_on });
        }
        for t in &self.tests {
            match t.taken {
                Some(Outcome::Positive) => out.push(Blocker::Positive { on: t.on }),
                Some(Outcome::Pending) => out.push(Blocker::ResultPending { on: t.on }),
                None if t.planned && t.on <= today => out.push(Blocker::TestMissing { on: t.on }),
                _ => {}
            }
        }
        if needs > 0 {
            let negative =
                close_first.map(|c| c.iter().take(needs as usize).filter(|o| **o == Outcome::Negative).count() as u32).unwrap_or(0);
            if negative < needs {
                out.push(Blocker::CloseContactTests { needs, negative });
            }
        }
        out
    }
}

/// Why a person may not be released yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocker {
    PeriodRunning { release_on: NaiveDate },
    TestMissing { on: NaiveDate },
    ResultPending { on: NaiveDate },
    Positive { on: NaiveDate },
    CloseContactTests { needs: u32, negative: u32 },
}

/// How a recompute moved one schedule, for the summary shown after a rule-set change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Moved {
    /// Release date moved later (+) or earlier (−), in days.
    pub release_days: i64,
    /// The stage the person should be in today changed.
    pub stage_changed: bool,
}

impl Moved {
    pub fn between(old: &Schedule, new: &Schedule, today: NaiveDate) -> Moved {
        Moved { release_days: (new.release_on - old.release_on).num_days(), stage_changed: old.stage_on(today) != new.stage_on(today) }
    }
}

/// Whether a positive on `positive_floor` restarts the period of someone on `floor`: the same
/// floor and `floors` above and below, or everyone after a positive environmental sample.
pub fn restart_applies(positive_floor: i32, floor: i32, floors: u32, environmental: bool) -> bool {
    environmental || positive_floor.abs_diff(floor) <= floors
}

/// Where someone leaving a site's centralized stage goes: the plan's next stage (home quarantine
/// or home monitoring), or none — release — when the plan ends there or the release day has come.
pub fn after_site(plan: &Plan, day0: NaiveDate, today: NaiveDate, release_on: Option<NaiveDate>) -> Option<StageKind> {
    if release_on.is_none_or(|r| r <= today) {
        return None;
    }
    Schedule::compute(plan, day0, today, &[]).stage_after(StageKind::Centralized)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::observation::rules::{Category, RuleSet};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_close_contact_leaves_the_site_for_home_monitoring_until_the_release_day() {
        let rule = RuleSet::built_in("protocol-9").unwrap();
        let plan = rule.plan(Category::CloseContact).unwrap();
        let day0 = d("2022-04-12");
        let release = Schedule::compute(plan, day0, day0, &[]).release_on;
        assert_eq!(after_site(plan, day0, d("2022-04-19"), Some(release)), Some(StageKind::HomeMonitoring));
        assert_eq!(after_site(plan, day0, release, Some(release)), None, "on the release day: released");
        assert_eq!(after_site(plan, day0, d("2022-04-19"), None), None, "no release day known: released");
    }

    fn dates(s: &Schedule) -> Vec<String> {
        s.tests.iter().map(|t| t.on.format("%m-%d").to_string()).collect()
    }

    #[test]
    fn protocol_9_close_contact_serves_seven_plus_three() {
        let r = RuleSet::built_in("protocol-9").unwrap();
        let s = Schedule::compute(r.plan(Category::CloseContact).unwrap(), d("2022-04-12"), d("2022-04-13"), &[]);
        assert_eq!((s.stages[0].kind, s.stages[0].first, s.stages[0].last), (StageKind::Centralized, d("2022-04-13"), d("2022-04-19")));
        assert_eq!((s.stages[1].kind, s.stages[1].first, s.stages[1].last), (StageKind::HomeMonitoring, d("2022-04-20"), d("2022-04-22")));
        assert_eq!(dates(&s), ["04-13", "04-14", "04-15", "04-17", "04-19", "04-22"]);
        assert_eq!(s.tests.iter().map(|t| t.day).collect::<Vec<_>>(), [1, 2, 3, 5, 7, 10]);
        assert_eq!(s.release_on, d("2022-04-22"));
        assert_eq!(s.entry(), Some(StageKind::Centralized));
        assert_eq!(s.centralized_until(), Some(d("2022-04-19")));
        assert_eq!(s.stage_after(StageKind::Centralized), Some(StageKind::HomeMonitoring));
        assert_eq!(s.stage_after(StageKind::HomeMonitoring), None);
        assert!(s.tests.iter().all(|t| !t.double));
        assert_eq!(s.serving_on(d("2022-04-12")), Some(StageKind::Centralized), "exposed today: the first stage to serve");
        assert_eq!(s.serving_on(d("2022-04-20")), Some(StageKind::HomeMonitoring));
        assert_eq!(s.serving_on(d("2022-04-23")), None, "the period is over");
    }

    #[test]
    fn protocol_8_close_contact_double_tests_at_the_end_of_centralized() {
        let r = RuleSet::built_in("protocol-8").unwrap();
        let s = Schedule::compute(r.plan(Category::CloseContact).unwrap(), d("2021-08-01"), d("2021-08-01"), &[]);
        assert_eq!(s.tests.iter().map(|t| t.day).collect::<Vec<_>>(), [1, 4, 7, 14, 16, 21]);
        assert_eq!(s.tests.iter().filter(|t| t.double).map(|t| t.day).collect::<Vec<_>>(), [14]);
        assert_eq!(s.release_on, d("2021-08-22"));
        let sec = Schedule::compute(r.plan(Category::SecondaryContact).unwrap(), d("2021-08-01"), d("2021-08-02"), &[]);
        assert_eq!((sec.entry(), sec.release_on), (Some(StageKind::Centralized), d("2021-08-08")));
        assert_eq!(sec.tests.iter().map(|t| t.day).collect::<Vec<_>>(), [1, 4, 7]);
    }

    #[test]
    fn protocol_9_secondary_contact_is_home_quarantine_and_waits_for_the_close_contact() {
        let r = RuleSet::built_in("protocol-9").unwrap();
        let plan = r.plan(Category::SecondaryContact).unwrap();
        let taken: Vec<Taken> =
            ["2022-04-13", "2022-04-16", "2022-04-19"].iter().map(|x| Taken { on: d(x), outcome: Outcome::Negative }).collect();
        let s = Schedule::compute(plan, d("2022-04-12"), d("2022-04-13"), &taken);
        assert_eq!(s.entry(), Some(StageKind::HomeQuarantine));
        assert_eq!(s.release_on, d("2022-04-19"));
        let today = d("2022-04-19");
        let n = Outcome::Negative;
        assert_eq!(s.release_blockers(today, Some(&[n, n, n]), r.secondary_needs_close_tests), vec![]);
        assert_eq!(
            s.release_blockers(today, Some(&[n]), r.secondary_needs_close_tests),
            vec![Blocker::CloseContactTests { needs: 2, negative: 1 }]
        );
        assert_eq!(s.release_blockers(today, Some(&[n, Outcome::Positive]), 2), vec![Blocker::CloseContactTests { needs: 2, negative: 1 }]);
        let early = s.release_blockers(d("2022-04-18"), Some(&[n, n]), 2);
        assert_eq!(early, vec![Blocker::PeriodRunning { release_on: d("2022-04-19") }]);
    }

    #[test]
    fn measures_20_close_contact_and_its_home_days() {
        let r = RuleSet::built_in("measures-20").unwrap();
        let s = Schedule::compute(r.plan(Category::CloseContact).unwrap(), d("2022-11-12"), d("2022-11-12"), &[]);
        assert_eq!(s.tests.iter().map(|t| t.day).collect::<Vec<_>>(), [1, 2, 3, 5, 6, 8]);
        assert_eq!(s.stages[1].kind, StageKind::HomeQuarantine);
        assert_eq!(s.release_on, d("2022-11-20"));
    }

    #[test]
    fn a_contact_found_late_serves_only_the_remaining_days() {
        let r = RuleSet::built_in("protocol-9").unwrap();
        let plan = r.plan(Category::CloseContact).unwrap();
        let s = Schedule::compute(plan, d("2022-04-12"), d("2022-04-16"), &[]);
        assert_eq!(s.entry(), Some(StageKind::Centralized));
        assert_eq!(dates(&s), ["04-17", "04-19", "04-22"]);
        assert_eq!(s.release_on, d("2022-04-22"));
        // Past the centralized period: straight home.
        let s = Schedule::compute(plan, d("2022-04-12"), d("2022-04-20"), &[]);
        assert_eq!(s.entry(), Some(StageKind::HomeMonitoring));
        assert_eq!(s.centralized_until(), None);
        assert_eq!(dates(&s), ["04-22"]);
        // Past everything: nothing to serve.
        let s = Schedule::compute(plan, d("2022-04-12"), d("2022-04-23"), &[]);
        assert_eq!(s.entry(), None);
        assert!(s.tests.is_empty());
    }

    #[test]
    fn taken_tests_fill_their_day_or_stand_beside_the_plan() {
        let r = RuleSet::built_in("protocol-9").unwrap();
        let plan = r.plan(Category::CloseContact).unwrap();
        let taken = [Taken { on: d("2022-04-13"), outcome: Outcome::Negative }, Taken { on: d("2022-04-16"), outcome: Outcome::Pending }];
        let s = Schedule::compute(plan, d("2022-04-12"), d("2022-04-13"), &taken);
        assert_eq!(s.tests[0].taken, Some(Outcome::Negative));
        let extra = s.tests.iter().find(|t| t.on == d("2022-04-16")).unwrap();
        assert_eq!((extra.planned, extra.day, extra.stage), (false, 4, Some(StageKind::Centralized)));
        assert_eq!(s.due_on(d("2022-04-14")).map(|t| t.day), Some(2));
        assert_eq!(s.due_on(d("2022-04-13")), None);
        let blockers = s.release_blockers(d("2022-04-15"), None, 0);
        assert_eq!(
            blockers,
            vec![
                Blocker::PeriodRunning { release_on: d("2022-04-22") },
                Blocker::TestMissing { on: d("2022-04-14") },
                Blocker::TestMissing { on: d("2022-04-15") },
                Blocker::ResultPending { on: d("2022-04-16") },
            ]
        );
    }

    #[test]
    fn a_rule_set_change_reports_what_moved() {
        let p8 = RuleSet::built_in("protocol-8").unwrap();
        let p9 = RuleSet::built_in("protocol-9").unwrap();
        let old = Schedule::compute(p8.plan(Category::CloseContact).unwrap(), d("2022-06-20"), d("2022-06-21"), &[]);
        let new = Schedule::compute(p9.plan(Category::CloseContact).unwrap(), d("2022-06-20"), d("2022-06-21"), &[]);
        let moved = Moved::between(&old, &new, d("2022-06-28"));
        assert_eq!(moved, Moved { release_days: -11, stage_changed: true });
        assert_eq!(Moved::between(&old, &new, d("2022-06-22")), Moved { release_days: -11, stage_changed: false });
    }

    #[test]
    fn restarts_reach_the_neighbouring_floors() {
        assert!(restart_applies(5, 5, 1, false));
        assert!(restart_applies(5, 4, 1, false));
        assert!(restart_applies(5, 6, 1, false));
        assert!(!restart_applies(5, 7, 1, false));
        assert!(restart_applies(5, 12, 1, true));
        assert!(!restart_applies(5, 4, 0, false));
    }

    fn any_plan() -> impl Strategy<Value = Plan> {
        let stage = (0usize..3, 1u32..20).prop_flat_map(|(k, days)| (Just(k), Just(days), proptest::collection::btree_set(1..=days, 0..5)));
        (proptest::collection::vec(stage, 1..4), any::<bool>()).prop_map(|(stages, double)| {
            let mut out: Vec<crate::observation::rules::Stage> = Vec::new();
            for (k, days, tests) in stages {
                let kind = StageKind::ALL[k];
                if out.last().is_some_and(|s| s.kind == kind) {
                    continue;
                }
                out.push(crate::observation::rules::Stage { kind, days, test_days: tests.into_iter().collect() });
            }
            Plan { stages: out, double_test_at_release: double }
        })
    }

    proptest! {
        /// Release is never earlier than the plan's full length after the last exposure, however
        /// late the person was found and whatever tests were taken.
        #[test]
        fn release_never_earlier_than_the_rule(plan in any_plan(), found in 0u32..40, taken in proptest::collection::vec((0u32..40, 0usize..3), 0..8)) {
            let day0 = d("2022-04-01");
            let taken: Vec<Taken> = taken.into_iter().map(|(n, o)| Taken { on: plus(day0, n), outcome: [Outcome::Pending, Outcome::Negative, Outcome::Positive][o] }).collect();
            let s = Schedule::compute(&plan, day0, plus(day0, found), &taken);
            prop_assert_eq!(s.release_on, plus(day0, plan.total_days()));
            let running = Blocker::PeriodRunning { release_on: s.release_on };
            prop_assert!(s.release_blockers(plus(day0, plan.total_days() - 1), None, 0).contains(&running));
            prop_assert_eq!(s.entry().is_none(), plus(day0, found) > s.release_on);
        }

        /// A recompute — another plan, a later last exposure, found on another day — never
        /// loses a test already taken, and never asks for a planned test before the person
        /// was found.
        #[test]
        fn a_recompute_never_loses_a_taken_test(
            a in any_plan(), b in any_plan(), shift in 0u32..10, found in 0u32..30,
            taken in proptest::collection::btree_map(0u32..40, 0usize..3, 0..8),
        ) {
            let day0 = d("2022-04-01");
            let taken: Vec<Taken> = taken.into_iter().map(|(n, o)| Taken { on: plus(day0, n), outcome: [Outcome::Pending, Outcome::Negative, Outcome::Positive][o] }).collect();
            let first = Schedule::compute(&a, day0, plus(day0, found), &taken);
            let again = Schedule::compute(&b, plus(day0, shift), plus(day0, found), &taken);
            for s in [&first, &again] {
                for t in &taken {
                    prop_assert!(s.tests.iter().any(|slot| slot.on == t.on && slot.taken == Some(t.outcome)));
                }
                prop_assert_eq!(s.tests.iter().filter(|t| t.taken.is_some()).count(), taken.len());
                prop_assert!(s.tests.iter().filter(|t| t.taken.is_none()).all(|t| t.on >= plus(day0, found)));
                prop_assert!(s.tests.windows(2).all(|w| w[0].on <= w[1].on));
            }
        }
    }
}
