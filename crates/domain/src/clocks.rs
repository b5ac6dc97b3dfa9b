//! Every time target of the platform as one list of clocks (时限): a positive to hospital in 2
//! hours, the core investigation in 4 and its report in 24, close contacts on their way to
//! quarantine in 12, a positive pool's members re-sampled in 6, a tube's result in 12, each
//! village of a testing round sampled by the round's deadline, each instruction by its deadline. An open item is overdue past its deadline and due soon within the
//! clock's warning window before it; the boards count both per clock and per township.

use chrono::{DateTime, Duration, Utc};

use crate::access::named_enum;

named_enum! {
    /// One time target.
    ClockKind {
        PositiveToHospital => "positive_to_hospital", "阳性转运（2小时）";
        CoreInvestigation => "core_investigation", "核心流调（4小时）";
        InvestigationReport => "investigation_report", "流调报告（24小时）";
        ContactsToQuarantine => "contacts_to_quarantine", "密接转运隔离（12小时）";
        PoolRecall => "pool_recall", "混管召回复核（6小时）";
        LabTurnaround => "lab_turnaround", "检测出结果（12小时）";
        RoundDeadline => "round_deadline", "核酸轮次按时完成";
        Instruction => "instruction", "指令办理";
    }
}

/// Hours from a tube sealed to its result (DOMAIN.md: routine ≤ 12 h).
pub const LAB_TURNAROUND_HOURS: i64 = 12;

impl ClockKind {
    /// How long before its deadline an open item counts as due soon: a quarter of the target,
    /// at least half an hour; an instruction's hour.
    pub fn warning(self) -> Duration {
        let target = match self {
            ClockKind::PositiveToHospital => Duration::hours(2),
            ClockKind::CoreInvestigation => Duration::hours(4),
            ClockKind::InvestigationReport => Duration::hours(24),
            ClockKind::ContactsToQuarantine => Duration::hours(12),
            ClockKind::PoolRecall => Duration::hours(6),
            ClockKind::LabTurnaround => Duration::hours(LAB_TURNAROUND_HOURS),
            // Each round sets its own deadline; warned as a six-hour round is (119,246 people
            // sampled in 6 hours).
            ClockKind::RoundDeadline => Duration::hours(6),
            ClockKind::Instruction => return crate::command::DUE_SOON,
        };
        (target / 4).max(Duration::minutes(30))
    }
}

/// Where one open item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Running,
    DueSoon,
    Overdue,
}

/// An open item's standing at `now` on `clock`.
pub fn due(clock: ClockKind, deadline: DateTime<Utc>, now: DateTime<Utc>) -> Due {
    if now > deadline {
        Due::Overdue
    } else if deadline - now <= clock.warning() {
        Due::DueSoon
    } else {
        Due::Running
    }
}

/// The two instants that split open items by deadline at `now`: before the first overdue,
/// up to the second due soon (what a count by index ranges asks).
pub fn thresholds(clock: ClockKind, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now, now + clock.warning())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_item_is_due_soon_within_a_quarter_of_its_target_and_overdue_past_it() {
        let now = Utc.with_ymd_and_hms(2022, 4, 13, 20, 0, 0).unwrap();
        let cases = [
            (ClockKind::PositiveToHospital, 31, Due::Running),
            (ClockKind::PositiveToHospital, 30, Due::DueSoon),
            (ClockKind::PositiveToHospital, 0, Due::DueSoon),
            (ClockKind::PositiveToHospital, -1, Due::Overdue),
            (ClockKind::InvestigationReport, 6 * 60, Due::DueSoon),
            (ClockKind::InvestigationReport, 6 * 60 + 1, Due::Running),
            (ClockKind::ContactsToQuarantine, 3 * 60, Due::DueSoon),
            (ClockKind::RoundDeadline, 90, Due::DueSoon),
            (ClockKind::RoundDeadline, 91, Due::Running),
            (ClockKind::Instruction, 61, Due::Running),
            (ClockKind::Instruction, 60, Due::DueSoon),
        ];
        for (clock, minutes, want) in cases {
            assert_eq!(due(clock, now + Duration::minutes(minutes), now), want, "{clock} {minutes}");
        }
        let (overdue_before, soon_until) = thresholds(ClockKind::PoolRecall, now);
        assert_eq!((overdue_before, soon_until - now), (now, Duration::minutes(90)));
    }
}
