//! Labels of observation statuses, categories, stages and release blockers, in the page's language.

use chrono::NaiveDate;
use cordon_domain::observation::Blocker;

use crate::format::month_day;
use crate::i18n::Tr;

pub(in crate::ui) fn status_label(t: Tr, s: impl std::fmt::Display) -> String {
    t.get(&format!("obs.status.{s}")).to_string()
}

pub(in crate::ui) fn category_label(t: Tr, c: impl std::fmt::Display) -> String {
    t.get(&format!("obs.category.{c}")).to_string()
}

/// A rule set as people call it: a built-in one by its title in the page's language
/// (防控方案第九版), a local copy by the name its editor gave it.
pub(in crate::ui) fn rule_set_label(t: Tr, name: &str) -> String {
    t.try_get(&format!("rules.title.{name}")).map_or_else(|| name.to_string(), str::to_string)
}

pub(in crate::ui) fn stage_label(t: Tr, s: impl std::fmt::Display) -> String {
    t.get(&format!("obs.stage.{s}")).to_string()
}

pub(in crate::ui) fn blocker_text(t: Tr, b: &Blocker) -> String {
    let d = |d: &NaiveDate| month_day(*d);
    match b {
        Blocker::PeriodRunning { release_on } => t.fill("obs.blocker.period", &[("day", &d(release_on))]),
        Blocker::TestMissing { on } => t.fill("obs.blocker.missing", &[("day", &d(on))]),
        Blocker::ResultPending { on } => t.fill("obs.blocker.pending", &[("day", &d(on))]),
        Blocker::Positive { on } => t.fill("obs.blocker.positive", &[("day", &d(on))]),
        Blocker::CloseContactTests { needs, negative } => {
            t.fill("obs.blocker.close_contact", &[("needs", &needs.to_string()), ("negative", &negative.to_string())])
        }
    }
}
