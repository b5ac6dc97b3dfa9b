//! The headquarters as a command: its response level, its task forces (专班) and the instructions
//! (指令) it gives. An instruction goes to one or many recipients — a task force, a township or
//! community, a person — each with its own clock: received (签收), in progress, done with a
//! report, then verified by the issuer or sent back. A recipient past its deadline is escalated
//! (督办) once, to the issuer and the recipient's lead. The rules here are pure: the store asks
//! them and writes what they decide.

use chrono::{DateTime, Duration, Utc};

use crate::access::named_enum;
use crate::refusal::Refusal;

named_enum! {
    /// The emergency response level of an incident (一级 is the highest).
    ResponseLevel {
        I => "I", "一级";
        II => "II", "二级";
        III => "III", "三级";
        IV => "IV", "四级";
    }
}

named_enum! {
    /// What a task force works on. The usual set comes first; `Other` is any group the
    /// headquarters adds.
    TaskForceKind {
        Testing => "testing", "核酸检测专班";
        Tracing => "tracing", "流调溯源专班";
        TransferQuarantine => "transfer_quarantine", "转运隔离专班";
        Treatment => "treatment", "医疗救治专班";
        ZonesTraffic => "zones_traffic", "封控管控与交通专班";
        Logistics => "logistics", "物资保障专班";
        CommunityHotline => "community_hotline", "社区防控与热线专班";
        Publicity => "publicity", "宣传舆情专班";
        Other => "other", "其他工作组";
    }
}

/// The task forces an incident starts with (Qingxu started fourteen within half an hour; these
/// are the ones every county had). Each is named by its kind's label until renamed.
pub const DEFAULT_TASK_FORCES: &[TaskForceKind] = &[
    TaskForceKind::Testing,
    TaskForceKind::Tracing,
    TaskForceKind::TransferQuarantine,
    TaskForceKind::Treatment,
    TaskForceKind::ZonesTraffic,
    TaskForceKind::Logistics,
    TaskForceKind::CommunityHotline,
    TaskForceKind::Publicity,
];

named_enum! {
    /// Where one recipient of an instruction stands.
    RecipientState {
        Issued => "issued", "待签收";
        Received => "received", "已签收";
        InProgress => "in_progress", "办理中";
        Done => "done", "已办结待核验";
        Verified => "verified", "已核验";
        SentBack => "sent_back", "已退回";
        Reassigned => "reassigned", "已改派";
    }
}

named_enum! {
    /// What is done to one recipient of an instruction.
    Act {
        Receive => "receive", "签收";
        Progress => "progress", "报进展";
        Done => "done", "办结";
        Verify => "verify", "核验";
        SendBack => "send_back", "退回";
        Reassign => "reassign", "改派";
        Escalate => "escalate", "督办";
    }
}

named_enum! {
    /// Who is told of what.
    NoticeKind {
        Assigned => "assigned", "新指令";
        Done => "done", "已办结待核验";
        SentBack => "sent_back", "被退回";
        Escalated => "escalated", "逾期督办";
    }
}

named_enum! {
    /// What a recipient of an instruction is.
    RecipientKind {
        TaskForce => "task_force", "专班";
        Area => "area", "乡镇/社区";
        User => "user", "个人";
    }
}

impl RecipientState {
    /// Still on the recipient's desk: its clock runs.
    pub fn is_open(self) -> bool {
        matches!(self, RecipientState::Issued | RecipientState::Received | RecipientState::InProgress | RecipientState::SentBack)
    }

    /// Who acts next: the recipient while open, the issuer when done, nobody after.
    pub fn awaits_issuer(self) -> bool {
        self == RecipientState::Done
    }
}

/// The state `act` takes a recipient in `from` to, or why it may not. Progress and done need
/// the instruction received first; only a done one is verified or sent back; a closed one
/// (verified, reassigned) takes nothing more.
pub fn next_state(from: RecipientState, act: Act) -> Result<RecipientState, Refusal> {
    use RecipientState as S;
    let to = match (act, from) {
        (Act::Receive, S::Issued) => S::Received,
        (Act::Progress, S::Received | S::InProgress | S::SentBack) => S::InProgress,
        (Act::Done, S::Received | S::InProgress | S::SentBack) => S::Done,
        (Act::Verify, S::Done) => S::Verified,
        (Act::SendBack, S::Done) => S::SentBack,
        (Act::Reassign, s) if s.is_open() => S::Reassigned,
        (Act::Escalate, s) if s.is_open() => s,
        (Act::Progress | Act::Done, S::Issued) => {
            return Err(crate::refusal!("refused.instr.receive_first"));
        }
        (act, from) => {
            return Err(Refusal::conflict("refused.instr.bad_act")
                .with("act", crate::refusal::term("instr.act", act))
                .with("state", crate::refusal::term("instr.state", from)));
        }
    };
    Ok(to)
}

/// The longest an instruction may run.
pub const MAX_DAYS: i64 = 90;

/// A deadline given at issue or on a reassignment: later than now — so that nobody is told of a
/// new instruction and of its being overdue at the same moment — and within [`MAX_DAYS`].
pub fn check_deadline(deadline: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Refusal> {
    if deadline <= now {
        return Err(crate::refusal!("refused.instr.deadline_past"));
    }
    if deadline - now > Duration::days(MAX_DAYS) {
        return Err(crate::refusal!("refused.instr.deadline_far", days = MAX_DAYS));
    }
    Ok(())
}

/// The deadline a recipient sent back works to: the one given, checked as at issue, or the one it
/// had while that is still ahead. One already past needs a new one — a recipient is not handed
/// back work that is overdue the moment it arrives.
pub fn send_back_deadline(current: DateTime<Utc>, given: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Refusal> {
    match given {
        Some(d) => check_deadline(d, now).map(|()| d),
        None if current > now => Ok(current),
        None => Err(crate::refusal!("refused.instr.new_deadline")),
    }
}

/// The text an act needs: a completion report for done, a reason for sending back or reassigning,
/// a note for progress. Trimmed; at most 2,000 characters.
pub fn check_text(act: Act, text: &str) -> Result<Option<String>, Refusal> {
    let t = text.trim();
    if t.chars().count() > 2000 {
        return Err(crate::refusal!("refused.instr.text_long", max = 2000));
    }
    let needed = matches!(act, Act::Done | Act::SendBack | Act::Progress | Act::Reassign);
    match (t.is_empty(), needed) {
        (true, true) => Err(crate::refusal!("refused.instr.text_needed", act = crate::refusal::term("instr.act", act))),
        (true, false) => Ok(None),
        (false, _) => Ok(Some(t.to_string())),
    }
}

/// An instruction's title: one line, 1–100 characters.
pub fn check_title(title: &str) -> Result<String, Refusal> {
    let t = title.trim();
    if t.is_empty() {
        return Err(crate::refusal!("refused.instr.no_title"));
    }
    if t.chars().count() > 100 || t.contains('\n') {
        return Err(crate::refusal!("refused.instr.title_long", max = 100));
    }
    Ok(t.to_string())
}

/// The most recipients one instruction fans out to (every community of a large county).
pub const MAX_RECIPIENTS: usize = 1000;

/// How long before its deadline an open recipient counts as due soon.
pub const DUE_SOON: Duration = Duration::hours(1);

/// Where a recipient's clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Open, more than [`DUE_SOON`] to go.
    Running,
    /// Open, its deadline within [`DUE_SOON`].
    DueSoon,
    /// Open past its deadline.
    Overdue,
    /// Reported done by the deadline.
    DoneOnTime,
    /// Reported done after it.
    DoneLate,
    /// Reassigned: the clock went to the new recipient.
    Closed,
}

impl Clock {
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Running => "running",
            Clock::DueSoon => "due_soon",
            Clock::Overdue => "overdue",
            Clock::DoneOnTime => "done_on_time",
            Clock::DoneLate => "done_late",
            Clock::Closed => "closed",
        }
    }
}

/// A recipient's clock at `now`: an open one runs to its deadline; a done or verified one
/// stopped when it was reported done.
pub fn clock(state: RecipientState, deadline: DateTime<Utc>, done_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Clock {
    if state == RecipientState::Reassigned {
        return Clock::Closed;
    }
    if !state.is_open() {
        return match done_at {
            Some(d) if d > deadline => Clock::DoneLate,
            _ => Clock::DoneOnTime,
        };
    }
    if now > deadline {
        Clock::Overdue
    } else if deadline - now <= DUE_SOON {
        Clock::DueSoon
    } else {
        Clock::Running
    }
}

/// Whether the escalation pass escalates a recipient now: open, past its deadline, not yet
/// escalated for this deadline (a recipient sent back with a new deadline can be escalated
/// again once that one passes).
pub fn escalate_now(state: RecipientState, deadline: DateTime<Utc>, escalated_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    state.is_open() && now > deadline && escalated_at.is_none_or(|e| e < deadline)
}

/// Whether an account working in `jurisdiction` acts for the area recipient `area`: one of its
/// areas, at township level or below, is that area, lies inside it or holds it. A township's own
/// team and its villages' workers act for the township, a township's worker for each of its
/// villages; the county's staff, who give the orders, do not sign for a township.
pub fn acts_for_area<'a>(jurisdiction: impl IntoIterator<Item = &'a str>, area: &str) -> bool {
    jurisdiction.into_iter().any(|j| j.len() > COUNTY_CODE_LEN && (j.starts_with(area) || area.starts_with(j)))
}

/// The length of a county's area code: accounts at this level or above command, they do not
/// act for an area.
pub const COUNTY_CODE_LEN: usize = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 4, 13, h, m, 0).unwrap()
    }

    #[test]
    fn a_recipient_moves_only_as_the_clock_of_an_instruction_allows() {
        use Act::*;
        use RecipientState as S;
        let table = [
            (S::Issued, Receive, Ok(S::Received)),
            (S::Issued, Progress, Err("refused.instr.receive_first")),
            (S::Issued, Done, Err("refused.instr.receive_first")),
            (S::Issued, Verify, Err("refused.instr.bad_act")),
            (S::Received, Receive, Err("refused.instr.bad_act")),
            (S::Received, Progress, Ok(S::InProgress)),
            (S::Received, Done, Ok(S::Done)),
            (S::InProgress, Progress, Ok(S::InProgress)),
            (S::InProgress, Done, Ok(S::Done)),
            (S::InProgress, Verify, Err("refused.instr.bad_act")),
            (S::Done, Verify, Ok(S::Verified)),
            (S::Done, SendBack, Ok(S::SentBack)),
            (S::Done, Progress, Err("refused.instr.bad_act")),
            (S::Done, Reassign, Err("refused.instr.bad_act")),
            (S::SentBack, Progress, Ok(S::InProgress)),
            (S::SentBack, Done, Ok(S::Done)),
            (S::SentBack, Reassign, Ok(S::Reassigned)),
            (S::Issued, Reassign, Ok(S::Reassigned)),
            (S::Verified, SendBack, Err("refused.instr.bad_act")),
            (S::Verified, Reassign, Err("refused.instr.bad_act")),
            (S::Reassigned, Receive, Err("refused.instr.bad_act")),
            (S::Reassigned, Escalate, Err("refused.instr.bad_act")),
            (S::InProgress, Escalate, Ok(S::InProgress)),
        ];
        for (from, act, want) in table {
            let got = next_state(from, act).map_err(|r| r.kind);
            assert_eq!(got, want, "{from} {act}");
        }
    }

    #[test]
    fn a_deadline_is_ahead_and_within_ninety_days() {
        let now = at(10, 0);
        assert_eq!(check_deadline(at(10, 0), now).unwrap_err().kind, "refused.instr.deadline_past");
        assert_eq!(check_deadline(at(9, 0), now).unwrap_err().kind, "refused.instr.deadline_past");
        assert!(check_deadline(at(10, 1), now).is_ok());
        assert!(check_deadline(now + Duration::days(90), now).is_ok());
        assert_eq!(check_deadline(now + Duration::days(91), now).unwrap_err().kind, "refused.instr.deadline_far");
    }

    #[test]
    fn one_sent_back_past_its_deadline_needs_a_new_one() {
        let now = at(12, 0);
        assert_eq!(send_back_deadline(at(14, 0), None, now).unwrap(), at(14, 0));
        assert_eq!(send_back_deadline(at(11, 0), None, now).unwrap_err().kind, "refused.instr.new_deadline");
        assert_eq!(send_back_deadline(at(11, 0), Some(at(13, 0)), now).unwrap(), at(13, 0));
        assert_eq!(send_back_deadline(at(14, 0), Some(at(11, 30)), now).unwrap_err().kind, "refused.instr.deadline_past");
    }

    #[test]
    fn done_and_send_back_say_why_and_receive_needs_nothing() {
        assert_eq!(check_text(Act::Done, "  ").unwrap_err().kind, "refused.instr.text_needed");
        assert_eq!(check_text(Act::SendBack, "").unwrap_err().kind, "refused.instr.text_needed");
        assert_eq!(check_text(Act::Progress, "\n").unwrap_err().kind, "refused.instr.text_needed");
        assert_eq!(check_text(Act::Reassign, " ").unwrap_err().kind, "refused.instr.text_needed");
        assert_eq!(check_text(Act::Receive, " ").unwrap(), None);
        assert_eq!(check_text(Act::Done, " 已完成 ").unwrap().as_deref(), Some("已完成"));
        assert_eq!(check_text(Act::Done, &"字".repeat(2001)).unwrap_err().kind, "refused.instr.text_long");
        assert!(check_text(Act::Done, &"字".repeat(2000)).is_ok());
        assert_eq!(check_title(" ").unwrap_err().kind, "refused.instr.no_title");
        assert_eq!(check_title("a\nb").unwrap_err().kind, "refused.instr.title_long");
        assert_eq!(check_title(" 全员核酸 ").unwrap(), "全员核酸");
    }

    #[test]
    fn the_clock_runs_while_open_and_stops_when_reported_done() {
        let deadline = at(12, 0);
        use RecipientState as S;
        assert_eq!(clock(S::Issued, deadline, None, at(10, 59)), Clock::Running);
        assert_eq!(clock(S::Received, deadline, None, at(11, 0)), Clock::DueSoon);
        assert_eq!(clock(S::InProgress, deadline, None, at(12, 0)), Clock::DueSoon);
        assert_eq!(clock(S::InProgress, deadline, None, at(12, 1)), Clock::Overdue);
        assert_eq!(clock(S::SentBack, deadline, Some(at(11, 0)), at(13, 0)), Clock::Overdue);
        assert_eq!(clock(S::Done, deadline, Some(at(11, 0)), at(13, 0)), Clock::DoneOnTime);
        assert_eq!(clock(S::Verified, deadline, Some(at(12, 30)), at(13, 0)), Clock::DoneLate);
        assert_eq!(clock(S::Reassigned, deadline, None, at(13, 0)), Clock::Closed);
    }

    #[test]
    fn an_overdue_recipient_is_escalated_once_per_deadline() {
        let deadline = at(12, 0);
        use RecipientState as S;
        assert!(!escalate_now(S::Received, deadline, None, at(12, 0)));
        assert!(escalate_now(S::Received, deadline, None, at(12, 1)));
        assert!(!escalate_now(S::Received, deadline, Some(at(12, 1)), at(13, 0)));
        assert!(!escalate_now(S::Done, deadline, None, at(13, 0)));
        assert!(!escalate_now(S::Reassigned, deadline, None, at(13, 0)));
        // Sent back with a new deadline, escalated before the old one passed: again after the new.
        assert!(escalate_now(S::SentBack, at(15, 0), Some(at(12, 1)), at(15, 1)));
    }

    #[test]
    fn a_township_is_signed_for_by_its_own_team_and_its_villages_not_the_county() {
        let township = "130102001";
        assert!(acts_for_area(["130102001"], township));
        assert!(acts_for_area(["130102001203"], township));
        assert!(!acts_for_area(["130102"], township));
        assert!(!acts_for_area(["13"], township));
        assert!(!acts_for_area(["130102002", "130103"], township));
        // A township's worker signs for its villages, not for another township's.
        assert!(acts_for_area(["130102001"], "130102001203"));
        assert!(!acts_for_area(["130102002"], "130102001203"));
        assert!(!acts_for_area(["130102001204"], "130102001203"));
    }
}
