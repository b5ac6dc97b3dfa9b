//! The citizen hotline (热线 / 12345): a ticket's channel, category and urgency, the unit it is
//! dispatched to, its steps 受理 → 派单 → 签收 → 处置 → 回访 → 结案 with a clock on each, the
//! acts that move it (send back, 加派, 督办, callback, reopen) and when a call joins an open
//! ticket instead of making a new one.

use chrono::{DateTime, Duration, Utc};

use crate::access::named_enum;
use crate::area::{AreaCode, AreaLevel};
use crate::refusal::{Refusal, term};

named_enum! {
    /// How the call came in.
    Channel {
        Phone => "phone", "电话";
        Wechat => "wechat", "微信";
        Web => "web", "网页";
    }
}

named_enum! {
    /// What the caller needs.
    TicketCategory {
        Supplies => "supplies", "生活物资";
        Medical => "medical", "就医需求";
        GreenChannel => "green_channel", "绿色通道（孕产妇、透析、放化疗）";
        Travel => "travel", "出行与通行";
        Quarantine => "quarantine", "隔离政策咨询";
        Complaint => "complaint", "投诉";
        Other => "other", "其他";
    }
}

named_enum! {
    Urgency {
        Urgent => "urgent", "紧急";
        Normal => "normal", "一般";
    }
}

named_enum! {
    /// Where a ticket stands: each status is the step it waits for.
    TicketStatus {
        Accepted => "accepted", "待派单";
        Dispatched => "dispatched", "待签收";
        Signed => "signed", "处置中";
        Returned => "returned", "被退回";
        Handled => "handled", "待回访";
        CalledBack => "called_back", "待结案";
        Closed => "closed", "已结案";
    }
}

named_enum! {
    /// What the caller said when called back.
    Satisfaction {
        Satisfied => "satisfied", "满意";
        Basic => "basic", "基本满意";
        Dissatisfied => "dissatisfied", "不满意";
        Unreachable => "unreachable", "未接通";
    }
}

named_enum! {
    /// Something done to a ticket, as its history and the audit log name it.
    TicketAct {
        Accept => "accept", "受理";
        Dispatch => "dispatch", "派单";
        Sign => "sign", "签收";
        SendBack => "send_back", "退回";
        Handle => "handle", "处置";
        CallBack => "call_back", "回访";
        Close => "close", "结案";
        Reopen => "reopen", "重新办理";
        AddUnit => "add_unit", "加派";
        Supervise => "supervise", "督办";
        Repeat => "repeat", "重复来电";
        RaiseRequest => "raise_request", "生成物资申请";
        RaiseTransfer => "raise_transfer", "派车送医";
    }
}

impl TicketStatus {
    /// Still to be worked on (not closed).
    pub fn open(self) -> bool {
        self != TicketStatus::Closed
    }
}

/// The clocks of a ticket's steps: to sign for it once dispatched (and to dispatch it once
/// accepted or sent back), to handle it once signed, to call the caller back once handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub sign: Duration,
    pub handle: Duration,
    pub callback: Duration,
}

/// The default clocks by category and urgency: an urgent medical need (or green channel) is
/// signed for within 30 minutes and handled within 2 hours; any other urgent call within an hour
/// and 6 hours; a normal need for supplies or care within 2 hours and a day; the rest within 4
/// hours and 3 days. The caller is called back within 4 hours of an urgent ticket's handling, a
/// day otherwise. The headquarters may configure other hours per category and urgency.
pub fn default_limits(category: TicketCategory, urgency: Urgency) -> Limits {
    use TicketCategory::*;
    let care = matches!(category, Medical | GreenChannel);
    let minutes = |sign, handle, callback| Limits {
        sign: Duration::minutes(sign),
        handle: Duration::minutes(handle),
        callback: Duration::minutes(callback),
    };
    match (urgency, care || category == Supplies) {
        (Urgency::Urgent, _) if care => minutes(30, 120, 240),
        (Urgency::Urgent, _) => minutes(60, 360, 240),
        (Urgency::Normal, true) => minutes(120, 1440, 1440),
        (Urgency::Normal, false) => minutes(240, 4320, 1440),
    }
}

/// The longest a configured clock may be: 30 days.
pub const LIMIT_MAX_MINUTES: i64 = 30 * 24 * 60;

/// A configured clock in minutes: at least 5, at most [`LIMIT_MAX_MINUTES`].
pub fn check_limit_minutes(minutes: i64) -> Result<Duration, Refusal> {
    if !(5..=LIMIT_MAX_MINUTES).contains(&minutes) {
        return Err(crate::refusal!("refused.hotline.limit_range", max = LIMIT_MAX_MINUTES / 60));
    }
    Ok(Duration::minutes(minutes))
}

/// When the step a ticket in `status` waits for is due, the step having begun at `since`; none
/// once closed.
pub fn due_at(status: TicketStatus, since: DateTime<Utc>, limits: &Limits) -> Option<DateTime<Utc>> {
    use TicketStatus::*;
    match status {
        Accepted | Dispatched | Returned => Some(since + limits.sign),
        Signed => Some(since + limits.handle),
        Handled => Some(since + limits.callback),
        // Closing once called back is the centre's at once: a short clock of its own.
        CalledBack => Some(since + limits.sign),
        Closed => None,
    }
}

/// Whether a ticket is overdue: its step's clock has run out.
pub fn is_overdue(due_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    due_at.is_some_and(|d| d < now)
}

/// The unit a ticket goes to for an area: the village or community itself, a township for its
/// own area; above a township, nobody yet (the centre dispatches it by hand).
pub fn unit_for(area: &AreaCode) -> Option<AreaCode> {
    match area.level() {
        AreaLevel::Village | AreaLevel::Township => Some(area.clone()),
        _ => None,
    }
}

/// The status a ticket in `from` moves to by `act`, or why it cannot. Adding a unit,
/// supervising and a repeat call leave the status as it is.
pub fn next(from: TicketStatus, act: TicketAct) -> Result<TicketStatus, Refusal> {
    use TicketAct as A;
    use TicketStatus::*;
    let to = match (act, from) {
        (A::Dispatch, Accepted | Returned | Dispatched) => Some(Dispatched),
        (A::Sign, Dispatched) => Some(Signed),
        (A::SendBack, Dispatched | Signed) => Some(Returned),
        (A::Handle, Signed) => Some(Handled),
        (A::CallBack, Handled) => Some(CalledBack),
        (A::Close, CalledBack) => Some(Closed),
        (A::Reopen, Handled | CalledBack | Closed) => Some(Dispatched),
        (A::AddUnit | A::Supervise | A::Repeat | A::RaiseRequest | A::RaiseTransfer, s) if s.open() => Some(s),
        _ => None,
    };
    to.ok_or_else(|| {
        Refusal::conflict("refused.hotline.cannot").with("act", term("ticket.act", act)).with("status", term("ticket.status", from))
    })
}

/// Whether a ticket of `category` may raise a transfer to hospital on the dispatch board: a
/// medical need or the green channel.
pub fn needs_care(category: TicketCategory) -> bool {
    matches!(category, TicketCategory::Medical | TicketCategory::GreenChannel)
}

/// The longest text on a ticket: what the caller said, a result, a reason.
pub const TEXT_MAX: usize = 2000;

/// A text an act needs (a reason to send back or reopen, what was done, what the caller
/// needs): said, and at most [`TEXT_MAX`] characters.
pub fn check_text(what: &'static str, text: &str) -> Result<String, Refusal> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Refusal::new("refused.hotline.text_needed").with("what", term("ticket.text", what)));
    }
    if t.chars().count() > TEXT_MAX {
        return Err(crate::refusal!("refused.hotline.text_long", max = TEXT_MAX));
    }
    Ok(t.to_string())
}

/// How long a repeat call joins the open ticket of the same phone and category.
pub const REPEAT_WINDOW_HOURS: i64 = 24;

/// Whether a call now joins a ticket of the same phone and category accepted at `accepted_at`,
/// in `status`: while the ticket is open and was accepted within the last 24 hours.
pub fn joins(status: TicketStatus, accepted_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status.open() && now - accepted_at <= Duration::hours(REPEAT_WINDOW_HOURS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_urgent_medical_need_is_signed_for_within_30_minutes_and_the_rest_by_their_hours() {
        let urgent_care = default_limits(TicketCategory::GreenChannel, Urgency::Urgent);
        assert_eq!((urgent_care.sign, urgent_care.handle), (Duration::minutes(30), Duration::hours(2)));
        assert_eq!(default_limits(TicketCategory::Medical, Urgency::Urgent), urgent_care);
        assert_eq!(default_limits(TicketCategory::Complaint, Urgency::Urgent).sign, Duration::hours(1));
        assert_eq!(default_limits(TicketCategory::Supplies, Urgency::Normal).handle, Duration::hours(24));
        assert_eq!(default_limits(TicketCategory::Travel, Urgency::Normal).handle, Duration::days(3));
        let dispatched = at("2022-04-13T14:00:00Z");
        let due = due_at(TicketStatus::Dispatched, dispatched, &urgent_care);
        assert_eq!(due, Some(at("2022-04-13T14:30:00Z")));
        assert!(!is_overdue(due, at("2022-04-13T14:29:00Z")));
        assert!(is_overdue(due, at("2022-04-13T14:31:00Z")));
        assert_eq!(due_at(TicketStatus::Signed, dispatched, &urgent_care), Some(at("2022-04-13T16:00:00Z")));
        assert_eq!(due_at(TicketStatus::Closed, dispatched, &urgent_care), None);
        assert!(!is_overdue(None, dispatched));
        assert!(check_limit_minutes(4).is_err());
        assert_eq!(check_limit_minutes(90), Ok(Duration::minutes(90)));
        assert!(check_limit_minutes(LIMIT_MAX_MINUTES + 1).is_err());
    }

    #[test]
    fn a_ticket_goes_to_its_village_or_township_and_above_that_to_the_centre() {
        let code = |s| AreaCode::parse(s).unwrap();
        assert_eq!(unit_for(&code("140121100201")), Some(code("140121100201")));
        assert_eq!(unit_for(&code("140121100")), Some(code("140121100")));
        assert_eq!(unit_for(&code("140121")), None);
    }

    #[test]
    fn a_ticket_moves_step_by_step_and_can_be_sent_back_and_reopened() {
        use TicketAct as A;
        use TicketStatus::*;
        let mut s = Accepted;
        for (act, to) in [(A::Dispatch, Dispatched), (A::Sign, Signed), (A::Handle, Handled), (A::CallBack, CalledBack), (A::Close, Closed)]
        {
            s = next(s, act).unwrap();
            assert_eq!(s, to);
        }
        assert_eq!(next(Closed, A::Reopen), Ok(Dispatched));
        assert_eq!(next(Dispatched, A::SendBack), Ok(Returned));
        assert_eq!(next(Returned, A::Dispatch), Ok(Dispatched));
        assert_eq!(next(Signed, A::AddUnit), Ok(Signed));
        let no = next(Dispatched, A::Handle).unwrap_err();
        assert_eq!((no.kind, no.class), ("refused.hotline.cannot", crate::refusal::Class::Conflict));
        assert!(next(Closed, A::Supervise).is_err());
        assert!(next(Handled, A::SendBack).is_err());
        assert!(next(Closed, A::Close).is_err());
    }

    #[test]
    fn a_repeat_call_joins_an_open_ticket_of_the_last_day() {
        let accepted = at("2022-04-13T08:00:00Z");
        assert!(joins(TicketStatus::Signed, accepted, at("2022-04-14T07:59:00Z")));
        assert!(!joins(TicketStatus::Signed, accepted, at("2022-04-14T08:01:00Z")));
        assert!(!joins(TicketStatus::Closed, accepted, at("2022-04-13T09:00:00Z")));
    }

    #[test]
    fn an_act_says_what_it_needs() {
        assert_eq!(check_text("reason", "  非本辖区住户 "), Ok("非本辖区住户".to_string()));
        assert_eq!(check_text("reason", " ").unwrap_err().kind, "refused.hotline.text_needed");
        assert_eq!(check_text("result", &"字".repeat(TEXT_MAX + 1)).unwrap_err().kind, "refused.hotline.text_long");
    }
}
