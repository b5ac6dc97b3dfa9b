//! The incident's timeline (大事记): the key events each module records as they happen — the
//! response opened and its level changed, task forces started, the first positive and each case,
//! zones drawn, changed and lifted, rounds started and finished, transfers arrived, checkpoints
//! set up, instructions issued and done — with the entries the headquarters types, in time order.
//! Several events of one kind in the same minute (eight task forces started together, a convoy of
//! buses arriving) read as one line.

use chrono::{DateTime, Duration, Timelike, Utc};

use crate::access::named_enum;
use crate::refusal::Refusal;

named_enum! {
    /// What happened.
    EventKind {
        IncidentOpened => "incident_opened", "启动应急响应";
        LevelChanged => "level_changed", "响应级别调整";
        TaskForces => "task_forces", "成立工作专班";
        FirstPositive => "first_positive", "发现首例阳性";
        Case => "case", "报告病例";
        Zone => "zone", "区域划定与调整";
        RoundStarted => "round_started", "核酸检测开始";
        RoundEnded => "round_ended", "核酸检测结束";
        Transfer => "transfer", "转运抵达";
        Checkpoints => "checkpoints", "设立卡口";
        InstructionIssued => "instruction_issued", "下达指令";
        InstructionDone => "instruction_done", "指令全部办结";
        ReportSigned => "report_signed", "签发日报";
        Entry => "entry", "指挥部记录";
    }
}

impl EventKind {
    /// Kinds whose events of one minute read as one line.
    fn gathers(self) -> bool {
        matches!(self, EventKind::TaskForces | EventKind::Checkpoints | EventKind::Transfer | EventKind::Case)
    }
}

/// One line of the timeline. Its words are the page's: `subject` names the record (a zone, a
/// case number, a title), `detail` carries a code or a note the kind needs (a zone act, a level's
/// reason), `n` a count where the kind has one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub subject: String,
    pub detail: String,
    pub n: i64,
    /// The page of the record, when it has one.
    pub link: Option<String>,
}

/// The events in time order (ties by kind, in the order above), with events of a gathering kind
/// in the same minute and with the same detail joined: subjects listed (a convoy's destination
/// once), counts added,
/// the link kept only when all pointed at one page.
pub fn merge(mut events: Vec<Event>) -> Vec<Event> {
    let rank = |k: EventKind| EventKind::ALL.iter().position(|x| *x == k).unwrap_or(usize::MAX);
    events.sort_by_key(|e| (e.at, rank(e.kind)));
    let minute = |t: DateTime<Utc>| t.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(t);
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for e in events {
        if let Some(last) = out.last_mut()
            && e.kind.gathers()
            && last.kind == e.kind
            && last.detail == e.detail
            && minute(last.at) == minute(e.at)
        {
            // A convoy names its destination once; each checkpoint or case by its own name.
            if e.kind != EventKind::Transfer || !last.subject.split('、').any(|s| s == e.subject) {
                last.subject.push('、');
                last.subject.push_str(&e.subject);
            }
            last.n += e.n;
            if last.link != e.link {
                last.link = None;
            }
            continue;
        }
        out.push(e);
    }
    out
}

/// An entry the headquarters types: one to 500 characters, at a time not in the future (five
/// minutes' grace for a clock behind) and within the last year.
pub fn check_entry(text: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<String, Refusal> {
    let t = text.trim();
    if t.is_empty() {
        return Err(crate::refusal!("refused.timeline.empty"));
    }
    if t.chars().count() > 500 {
        return Err(crate::refusal!("refused.timeline.long", max = 500));
    }
    if at > now + Duration::minutes(5) {
        return Err(crate::refusal!("refused.timeline.future"));
    }
    if at < now - Duration::days(365) {
        return Err(crate::refusal!("refused.timeline.old"));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 4, 12, h, m, s).unwrap()
    }

    fn e(t: DateTime<Utc>, kind: EventKind, subject: &str, link: Option<&str>) -> Event {
        Event { at: t, kind, subject: subject.into(), detail: String::new(), n: 1, link: link.map(str::to_string) }
    }

    #[test]
    fn events_of_one_minute_gather_into_one_line_and_the_rest_keep_their_order() {
        let events = vec![
            e(at(18, 0, 40), EventKind::TaskForces, "流调溯源专班", Some("/command")),
            e(at(18, 0, 10), EventKind::TaskForces, "核酸检测专班", Some("/command")),
            e(at(17, 30, 0), EventKind::IncidentOpened, "清徐县疫情处置", None),
            e(at(18, 0, 10), EventKind::LevelChanged, "I", None),
            e(at(18, 1, 0), EventKind::TaskForces, "宣传舆情专班", Some("/command")),
            e(at(13, 0, 0), EventKind::Transfer, "迎宾酒店", Some("/transfers/1")),
            e(at(13, 0, 30), EventKind::Transfer, "迎宾酒店", Some("/transfers/2")),
            e(at(13, 0, 50), EventKind::Zone, "东关村", None),
            e(at(13, 0, 55), EventKind::Zone, "西关村", None),
        ];
        let merged = merge(events);
        let lines: Vec<(EventKind, &str, i64, Option<&str>)> =
            merged.iter().map(|e| (e.kind, e.subject.as_str(), e.n, e.link.as_deref())).collect();
        assert_eq!(
            lines,
            vec![
                (EventKind::Transfer, "迎宾酒店", 2, None),
                (EventKind::Zone, "东关村", 1, None),
                (EventKind::Zone, "西关村", 1, None),
                (EventKind::IncidentOpened, "清徐县疫情处置", 1, None),
                (EventKind::LevelChanged, "I", 1, None),
                (EventKind::TaskForces, "核酸检测专班、流调溯源专班", 2, Some("/command")),
                (EventKind::TaskForces, "宣传舆情专班", 1, Some("/command")),
            ]
        );
    }

    #[test]
    fn a_typed_entry_says_something_and_is_not_in_the_future() {
        let now = at(12, 0, 0);
        assert_eq!(check_entry("  ", now, now).unwrap_err().kind, "refused.timeline.empty");
        assert_eq!(check_entry(&"字".repeat(501), now, now).unwrap_err().kind, "refused.timeline.long");
        assert_eq!(check_entry("x", now + Duration::minutes(6), now).unwrap_err().kind, "refused.timeline.future");
        assert!(check_entry("x", now + Duration::minutes(5), now).is_ok());
        assert_eq!(check_entry("x", now - Duration::days(366), now).unwrap_err().kind, "refused.timeline.old");
        assert_eq!(check_entry(" 指挥部召开会议 ", now, now).unwrap(), "指挥部召开会议");
    }
}
