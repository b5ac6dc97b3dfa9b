//! Rule sets as data: for each category of person under medical observation, the stages they
//! serve (centralized quarantine, home quarantine, home health monitoring), how many days each
//! lasts and on which of its days they are tested, counted from the last exposure. The three
//! national rule sets of DOMAIN.md are built in; an admin copies one and edits the copy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::access::named_enum;

named_enum! {
    /// Who is observed, which decides the plan they follow.
    Category {
        CloseContact => "close_contact", "密切接触者";
        SecondaryContact => "secondary_contact", "密接的密接";
        HighRiskArea => "high_risk_area", "高风险区旅居";
        MediumRiskArea => "medium_risk_area", "中风险区旅居";
        Inbound => "inbound", "入境人员";
    }
}

named_enum! {
    /// Where a stage is served: 集中隔离医学观察 in a quarantine site; 居家隔离医学观察 at home,
    /// not going out; 居家健康监测 at home, reporting health daily.
    StageKind {
        Centralized => "centralized", "集中隔离";
        HomeQuarantine => "home_quarantine", "居家隔离";
        HomeMonitoring => "home_monitoring", "居家健康监测";
    }
}

/// One stage of a plan: its length and its test days, numbered from the stage's own first day
/// ("home monitoring day 3").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub kind: StageKind,
    pub days: u32,
    pub test_days: Vec<u32>,
}

/// What one category serves, stage after stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub stages: Vec<Stage>,
    /// 双采双检: the last test of the first stage is taken twice, tested by two labs.
    #[serde(default)]
    pub double_test_at_release: bool,
}

impl Plan {
    pub fn total_days(&self) -> u32 {
        self.stages.iter().map(|s| s.days).sum()
    }
}

/// A named rule set. Categories it has no plan for are not observed under it (the 20 measures
/// no longer identify secondary contacts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    pub name: String,
    pub title: String,
    pub plans: BTreeMap<Category, Plan>,
    /// A secondary contact is released only once this many of their close contact's first tests
    /// are negative (2 in both the 8th and 9th editions; 0 for none).
    pub secondary_needs_close_tests: u32,
    /// A positive found in a quarantine site restarts the period of everyone on its floor and
    /// this many floors above and below.
    pub site_restart_floors: u32,
    /// How zones are named and step down (rule sets saved before zones came get the 9th
    /// protocol's).
    #[serde(default)]
    pub zones: crate::zones::ZoneRules,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    #[error("unknown rule set {0:?}")]
    UnknownRuleSet(String),
    #[error("a rule set name is 2–40 letters, digits, '-' or '_'; {0:?} is not")]
    BadName(String),
    #[error("{0}: a plan needs at least one stage")]
    NoStages(Category),
    #[error("{category}: stage {stage} lasts {days} days; a stage lasts 1 to 60 days")]
    BadLength { category: Category, stage: StageKind, days: u32 },
    #[error("{category}: stage {stage} tests on day {day}, outside its {days} days")]
    TestDayOutside { category: Category, stage: StageKind, day: u32, days: u32 },
    #[error("{category}: stage {stage} lists its test days out of order or twice")]
    TestDaysUnordered { category: Category, stage: StageKind },
    #[error("{0}: the same stage follows itself")]
    RepeatedStage(Category),
    #[error("test days: {0:?} is not a list of day numbers such as \"1,2,3,5,7\"")]
    BadDayList(String),
}

impl From<RuleError> for crate::refusal::Refusal {
    /// What the editor of a rule set is told, the category and stage named in the page's words.
    fn from(e: RuleError) -> Self {
        use crate::refusal::term;
        let (cat, stg) = (|c: Category| term("obs.category", c), |s: StageKind| term("obs.stage", s));
        match e {
            RuleError::UnknownRuleSet(name) => crate::refusal!("refused.no_rule_set", name = name),
            RuleError::BadName(name) => crate::refusal!("refused.rule.bad_name", name = name),
            RuleError::NoStages(c) => crate::refusal!("refused.rule.no_stages", category = cat(c)),
            RuleError::BadLength { category, stage, days } => {
                crate::refusal!("refused.rule.bad_length", category = cat(category), stage = stg(stage), days = days)
            }
            RuleError::TestDayOutside { category, stage, day, days } => {
                crate::refusal!("refused.rule.test_day_outside", category = cat(category), stage = stg(stage), day = day, days = days)
            }
            RuleError::TestDaysUnordered { category, stage } => {
                crate::refusal!("refused.rule.test_days_unordered", category = cat(category), stage = stg(stage))
            }
            RuleError::RepeatedStage(c) => crate::refusal!("refused.rule.repeated_stage", category = cat(c)),
            RuleError::BadDayList(text) => crate::refusal!("refused.rule.bad_day_list", text = text),
        }
    }
}

fn stage(kind: StageKind, days: u32, test_days: &[u32]) -> Stage {
    Stage { kind, days, test_days: test_days.to_vec() }
}

use StageKind::{Centralized, HomeMonitoring, HomeQuarantine};

impl RuleSet {
    /// The names of the built-in rule sets, the default first.
    pub const BUILT_IN: [&'static str; 3] = ["protocol-9", "protocol-8", "measures-20"];
    pub const DEFAULT: &'static str = "protocol-9";

    /// A built-in rule set by name.
    pub fn built_in(name: &str) -> Result<RuleSet, RuleError> {
        let plan = |stages: Vec<Stage>| Plan { stages, double_test_at_release: false };
        let (title, plans, secondary_needs_close_tests) = match name {
            "protocol-8" => (
                "防控方案第八版（2021）",
                vec![
                    (
                        Category::CloseContact,
                        Plan {
                            stages: vec![stage(Centralized, 14, &[1, 4, 7, 14]), stage(HomeMonitoring, 7, &[2, 7])],
                            double_test_at_release: true,
                        },
                    ),
                    (Category::SecondaryContact, plan(vec![stage(Centralized, 7, &[1, 4, 7])])),
                    (Category::HighRiskArea, plan(vec![stage(Centralized, 14, &[1, 4, 7, 14]), stage(HomeMonitoring, 7, &[2, 7])])),
                    (Category::MediumRiskArea, plan(vec![stage(HomeQuarantine, 14, &[1, 4, 7, 14])])),
                    (Category::Inbound, plan(vec![stage(Centralized, 14, &[1, 4, 7, 14]), stage(HomeMonitoring, 7, &[2, 7])])),
                ],
                2,
            ),
            "protocol-9" => (
                "防控方案第九版（2022年6月）",
                vec![
                    (Category::CloseContact, plan(vec![stage(Centralized, 7, &[1, 2, 3, 5, 7]), stage(HomeMonitoring, 3, &[3])])),
                    (Category::SecondaryContact, plan(vec![stage(HomeQuarantine, 7, &[1, 4, 7])])),
                    (Category::HighRiskArea, plan(vec![stage(Centralized, 7, &[1, 2, 3, 5, 7])])),
                    (Category::MediumRiskArea, plan(vec![stage(HomeQuarantine, 7, &[1, 4, 7])])),
                    (Category::Inbound, plan(vec![stage(Centralized, 7, &[1, 2, 3, 5, 7]), stage(HomeMonitoring, 3, &[3])])),
                ],
                2,
            ),
            "measures-20" => (
                "二十条优化措施（2022年11月）",
                vec![
                    (Category::CloseContact, plan(vec![stage(Centralized, 5, &[1, 2, 3, 5]), stage(HomeQuarantine, 3, &[1, 3])])),
                    (Category::HighRiskArea, plan(vec![stage(HomeQuarantine, 7, &[1, 3, 5, 7])])),
                    (Category::Inbound, plan(vec![stage(Centralized, 5, &[1, 2, 3, 5]), stage(HomeQuarantine, 3, &[1, 3])])),
                ],
                0,
            ),
            other => return Err(RuleError::UnknownRuleSet(other.into())),
        };
        Ok(RuleSet {
            name: name.into(),
            title: title.into(),
            plans: plans.into_iter().collect(),
            secondary_needs_close_tests,
            site_restart_floors: 1,
            zones: crate::zones::ZoneRules::built_in(name).unwrap_or_default(),
        })
    }

    pub fn plan(&self, category: Category) -> Option<&Plan> {
        self.plans.get(&category)
    }

    /// Checks an edited rule set: a sound name, at least one stage per plan, stages of 1 to 60
    /// days, test days inside their stage in increasing order, no stage following itself.
    pub fn validate(&self) -> Result<(), RuleError> {
        let name_ok =
            (2..=40).contains(&self.name.chars().count()) && self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(RuleError::BadName(self.name.clone()));
        }
        for (&category, plan) in &self.plans {
            if plan.stages.is_empty() {
                return Err(RuleError::NoStages(category));
            }
            for (i, s) in plan.stages.iter().enumerate() {
                if !(1..=60).contains(&s.days) {
                    return Err(RuleError::BadLength { category, stage: s.kind, days: s.days });
                }
                if let Some(&day) = s.test_days.iter().find(|&&d| d == 0 || d > s.days) {
                    return Err(RuleError::TestDayOutside { category, stage: s.kind, day, days: s.days });
                }
                if s.test_days.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(RuleError::TestDaysUnordered { category, stage: s.kind });
                }
                if i > 0 && plan.stages[i - 1].kind == s.kind {
                    return Err(RuleError::RepeatedStage(category));
                }
            }
        }
        Ok(())
    }
}

/// Parses a list of day numbers as an editor types it: "1, 2, 3, 5, 7" (also with 、 or ，).
pub fn parse_days(text: &str) -> Result<Vec<u32>, RuleError> {
    text.split([',', '，', '、', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().map_err(|_| RuleError::BadDayList(text.into())))
        .collect()
}

/// Writes day numbers the way [`parse_days`] reads them.
pub fn format_days(days: &[u32]) -> String {
    days.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_edit_names_category_and_stage_as_terms_the_page_labels() {
        let mut r = RuleSet::built_in("protocol-9").unwrap();
        r.name = "qingxu-10".into();
        r.plans.get_mut(&Category::CloseContact).unwrap().stages[0].test_days = vec![1, 2, 30];
        let refusal = crate::refusal::Refusal::from(r.validate().unwrap_err());
        assert_eq!(refusal.kind, "refused.rule.test_day_outside");
        let label = |k: &str| match k {
            "obs.category.close_contact" => Some("密切接触者"),
            "obs.stage.centralized" => Some("集中隔离"),
            _ => None,
        };
        assert_eq!(refusal.fill("{category} · {stage}：{day}/{days}", label), "密切接触者 · 集中隔离：30/7");
    }

    /// DOMAIN.md's table, rule set by rule set.
    #[test]
    fn built_in_rule_sets_follow_domain_table() {
        let days = |r: &RuleSet, c: Category| {
            r.plan(c).map(|p| p.stages.iter().map(|s| (s.kind, s.days, s.test_days.clone())).collect::<Vec<_>>())
        };
        let p8 = RuleSet::built_in("protocol-8").unwrap();
        assert_eq!(days(&p8, Category::CloseContact), Some(vec![(Centralized, 14, vec![1, 4, 7, 14]), (HomeMonitoring, 7, vec![2, 7])]));
        assert!(p8.plan(Category::CloseContact).unwrap().double_test_at_release);
        assert_eq!(days(&p8, Category::SecondaryContact), Some(vec![(Centralized, 7, vec![1, 4, 7])]));
        let p9 = RuleSet::built_in("protocol-9").unwrap();
        assert_eq!(days(&p9, Category::CloseContact), Some(vec![(Centralized, 7, vec![1, 2, 3, 5, 7]), (HomeMonitoring, 3, vec![3])]));
        assert!(!p9.plan(Category::CloseContact).unwrap().double_test_at_release);
        assert_eq!(days(&p9, Category::SecondaryContact), Some(vec![(HomeQuarantine, 7, vec![1, 4, 7])]));
        assert_eq!(days(&p9, Category::HighRiskArea), Some(vec![(Centralized, 7, vec![1, 2, 3, 5, 7])]));
        assert_eq!(days(&p9, Category::MediumRiskArea), Some(vec![(HomeQuarantine, 7, vec![1, 4, 7])]));
        assert_eq!(p9.secondary_needs_close_tests, 2);
        let m20 = RuleSet::built_in("measures-20").unwrap();
        assert_eq!(days(&m20, Category::CloseContact), Some(vec![(Centralized, 5, vec![1, 2, 3, 5]), (HomeQuarantine, 3, vec![1, 3])]));
        assert_eq!(days(&m20, Category::SecondaryContact), None);
        for name in RuleSet::BUILT_IN {
            RuleSet::built_in(name).unwrap().validate().unwrap();
        }
        assert!(matches!(RuleSet::built_in("protocol-7"), Err(RuleError::UnknownRuleSet(_))));
    }

    #[test]
    fn an_edited_copy_is_checked() {
        let mut r = RuleSet::built_in("protocol-9").unwrap();
        r.name = "太原-2022".into();
        assert!(matches!(r.validate(), Err(RuleError::BadName(_))));
        r.name = "taiyuan-2022".into();
        r.validate().unwrap();
        r.plans.get_mut(&Category::CloseContact).unwrap().stages[0].test_days = vec![1, 3, 9];
        assert!(matches!(r.validate(), Err(RuleError::TestDayOutside { day: 9, days: 7, .. })));
        r.plans.get_mut(&Category::CloseContact).unwrap().stages[0].test_days = vec![3, 1];
        assert!(matches!(r.validate(), Err(RuleError::TestDaysUnordered { .. })));
        r.plans.get_mut(&Category::CloseContact).unwrap().stages[0] = stage(Centralized, 0, &[]);
        assert!(matches!(r.validate(), Err(RuleError::BadLength { days: 0, .. })));
        r.plans.get_mut(&Category::CloseContact).unwrap().stages = vec![stage(Centralized, 7, &[]), stage(Centralized, 7, &[])];
        assert!(matches!(r.validate(), Err(RuleError::RepeatedStage(Category::CloseContact))));
    }

    #[test]
    fn day_lists_read_as_typed() {
        assert_eq!(parse_days("1, 2，3、5 7").unwrap(), vec![1, 2, 3, 5, 7]);
        assert_eq!(parse_days("").unwrap(), Vec::<u32>::new());
        assert!(parse_days("1,两").is_err());
        assert_eq!(format_days(&[1, 4, 7]), "1,4,7");
        assert_eq!("secondary_contact".parse::<Category>().unwrap(), Category::SecondaryContact);
        assert_eq!("home_monitoring".parse::<StageKind>().unwrap(), HomeMonitoring);
    }
}
