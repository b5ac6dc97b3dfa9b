//! The investigation clock and queue: core facts within 4 hours of a case, the preliminary
//! report within 24; tasks go to the next free investigator of the team in turn.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::access::named_enum;

/// Hours to the core facts (identity, movements, contact list).
pub const CORE_HOURS: i64 = 4;
/// Hours to the preliminary investigation report.
pub const REPORT_HOURS: i64 = 24;

named_enum! {
    /// One investigator's part of an investigation: the phone interview, or the site visit that
    /// goes with it.
    Part {
        Phone => "phone", "电话流调";
        Site => "site", "现场流调";
    }
}

/// Where a deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Clock {
    /// Still running: minutes left.
    Running { minutes_left: i64 },
    /// Past due and not done: minutes over.
    Overdue { minutes_over: i64 },
    /// Done, `late` when after the deadline.
    Done { late: bool },
}

impl Clock {
    pub fn at(due: DateTime<Utc>, done: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Clock {
        match done {
            Some(d) => Clock::Done { late: d > due },
            None if now <= due => Clock::Running { minutes_left: (due - now).num_minutes() },
            None => Clock::Overdue { minutes_over: (now - due).num_minutes() },
        }
    }

    pub fn is_overdue(self) -> bool {
        matches!(self, Clock::Overdue { .. })
    }
}

/// The two deadlines of an investigation opened at `opened`.
pub fn deadlines(opened: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (opened + Duration::hours(CORE_HOURS), opened + Duration::hours(REPORT_HOURS))
}

/// An investigator as the rotation sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: i64,
    /// Open tasks in hand.
    pub open_tasks: u32,
    pub last_assigned: Option<DateTime<Utc>>,
}

/// The next investigator in turn (接单轮转): the free one who has waited longest since their last
/// task (never assigned first); when nobody is free, the one with fewest open tasks, then the
/// longest wait.
pub fn next_in_turn(team: &[Candidate]) -> Option<i64> {
    team.iter().min_by_key(|c| (c.open_tasks, c.last_assigned, c.user_id)).map(|c| c.user_id)
}

/// Who a new investigation goes to on its own (自动派单): the next in turn among those with no
/// open task; nobody while everyone is busy — it waits on the board for a lead to assign it.
pub fn next_free_in_turn(team: &[Candidate]) -> Option<i64> {
    let free: Vec<Candidate> = team.iter().copied().filter(|c| c.open_tasks == 0).collect();
    next_in_turn(&free)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2022-04-13T20:00:00+08:00").unwrap().with_timezone(&Utc) + Duration::minutes(h)
    }

    #[test]
    fn clocks_run_then_overrun_and_remember_lateness() {
        let (core, report) = deadlines(t(0));
        assert_eq!((core - t(0)).num_hours(), 4);
        assert_eq!((report - t(0)).num_hours(), 24);
        assert_eq!(Clock::at(core, None, t(180)), Clock::Running { minutes_left: 60 });
        assert_eq!(Clock::at(core, None, t(250)), Clock::Overdue { minutes_over: 10 });
        assert!(Clock::at(core, None, t(250)).is_overdue());
        assert_eq!(Clock::at(core, Some(t(239)), t(500)), Clock::Done { late: false });
        assert_eq!(Clock::at(core, Some(t(241)), t(500)), Clock::Done { late: true });
    }

    #[test]
    fn the_free_investigator_who_waited_longest_is_next() {
        let team = [
            Candidate { user_id: 1, open_tasks: 1, last_assigned: Some(t(0)) },
            Candidate { user_id: 2, open_tasks: 0, last_assigned: Some(t(30)) },
            Candidate { user_id: 3, open_tasks: 0, last_assigned: Some(t(10)) },
        ];
        assert_eq!(next_in_turn(&team), Some(3));
        let fresh = [team[1], Candidate { user_id: 9, open_tasks: 0, last_assigned: None }];
        assert_eq!(next_in_turn(&fresh), Some(9), "never assigned goes first");
        let busy = [
            Candidate { user_id: 1, open_tasks: 2, last_assigned: Some(t(0)) },
            Candidate { user_id: 2, open_tasks: 1, last_assigned: Some(t(5)) },
        ];
        assert_eq!(next_in_turn(&busy), Some(2));
        assert_eq!(next_in_turn(&[]), None);
        assert_eq!(next_free_in_turn(&team), Some(3), "the busy one is passed over");
        assert_eq!(next_free_in_turn(&busy), None, "a new investigation waits while everyone is busy");
    }
}
