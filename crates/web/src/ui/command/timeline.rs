//! The incident's timeline (大事记): what each module recorded, in time order, with the entries the
//! headquarters types; filtered by day and kind, and printable.

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::timeline::{Event, EventKind};
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;
use crate::ui::form::{Form, Query, local_input};
use crate::ui::{UserBadge, failure, form_refused, render};

/// One line as the page shows it.
pub struct Line {
    when: String,
    kind: &'static str,
    label: String,
    text: String,
    link: Option<String>,
}

/// An event in the page's words.
pub(crate) fn say(t: Tr, e: &Event) -> String {
    let n = e.n.to_string();
    match e.kind {
        EventKind::LevelChanged => {
            t.fill("timeline.say.level_changed", &[("level", t.get(&format!("response_level.{}", e.subject))), ("reason", &e.detail)])
        }
        EventKind::Case => {
            let class = t.try_get(&format!("case.class.{}", e.detail)).unwrap_or(&e.detail);
            if e.n > 1 {
                t.fill("timeline.say.cases", &[("numbers", &e.subject), ("n", &n)])
            } else {
                t.fill("timeline.say.case", &[("number", &e.subject), ("class", class)])
            }
        }
        EventKind::Zone => {
            let act = e.detail.split(':').next().unwrap_or_default();
            let act = t.try_get(&format!("zones.act.{act}")).unwrap_or(act);
            t.fill("timeline.say.zone", &[("act", act), ("name", &e.subject)])
        }
        EventKind::Entry => t.fill("timeline.say.entry", &[("text", &e.subject), ("by", &e.detail)]),
        EventKind::IncidentOpened => t.fill("timeline.say.incident_opened", &[("name", &e.subject)]),
        EventKind::TaskForces => t.fill("timeline.say.task_forces", &[("names", &e.subject), ("n", &n)]),
        EventKind::FirstPositive => t.get("timeline.say.first_positive").to_string(),
        EventKind::RoundStarted => t.fill("timeline.say.round_started", &[("name", &e.subject)]),
        EventKind::RoundEnded => t.fill("timeline.say.round_ended", &[("name", &e.subject), ("n", &n)]),
        EventKind::Transfer => t.fill("timeline.say.transfer", &[("place", &e.subject), ("n", &n)]),
        EventKind::Checkpoints => t.fill("timeline.say.checkpoints", &[("names", &e.subject), ("n", &n)]),
        EventKind::InstructionIssued => t.fill("timeline.say.instruction_issued", &[("title", &e.subject)]),
        EventKind::InstructionDone => t.fill("timeline.say.instruction_done", &[("title", &e.subject)]),
        EventKind::ReportSigned => t.fill("timeline.say.report_signed", &[("area", &e.detail), ("date", &e.subject), ("version", &n)]),
    }
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    incident: Option<(i64, String)>,
    lines: Vec<Line>,
    date: String,
    /// (value, label, chosen)
    kinds: Vec<(&'static str, String, bool)>,
    can_write: bool,
    now: String,
    /// More lines than a page holds: the latest shown, a day asked for.
    truncated: bool,
}

#[derive(Debug, Deserialize)]
pub struct TimelineQuery {
    notice: Option<String>,
    #[serde(default)]
    date: String,
    #[serde(default)]
    kind: String,
}

pub(super) async fn page(t: Tr, caller: Caller, Query(q): Query<TimelineQuery>) -> Response {
    let day = match q.date.trim() {
        "" => None,
        d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => return form_refused(t, Some(&caller), t.get("timeline.bad_date")),
        },
    };
    let kind = q.kind.parse::<EventKind>().ok();
    let window = day.map(|d| {
        let from = cordon_domain::from_local(d.and_hms_opt(0, 0, 0).unwrap_or_default());
        (from, from + chrono::Duration::days(1))
    });
    let loaded = async {
        let Some(id) = caller.0.current_incident().await? else { return Ok(None) };
        let c = caller.0.command(id).await?;
        let events = caller.0.timeline(id, window.map(|w| w.0), window.map(|w| w.1)).await?;
        Ok::<_, cordon_store::StoreError>(Some((c.incident, events)))
    };
    let (incident, events) = match loaded.await {
        Ok(Some((i, e))) => (Some((i.id, i.name)), e),
        Ok(None) => (None, Vec::new()),
        Err(e) => return failure(t, &caller, e),
    };
    let truncated = events.len() >= cordon_store::timeline::MAX_EVENTS;
    let lines = events
        .iter()
        .filter(|e| kind.is_none_or(|k| k == e.kind))
        .map(|e| Line {
            when: cordon_domain::local_minute(e.at),
            kind: e.kind.as_str(),
            label: t.get(&format!("timeline.kind.{}", e.kind.as_str())).to_string(),
            text: say(t, e),
            link: e.link.clone(),
        })
        .collect();
    render(&TimelinePage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        incident,
        lines,
        date: day.map(|d| d.to_string()).unwrap_or_default(),
        kinds: EventKind::ALL
            .iter()
            .map(|k| (k.as_str(), t.get(&format!("timeline.kind.{}", k.as_str())).to_string(), kind == Some(*k)))
            .collect(),
        can_write: caller.0.principal().can(Permission::CommandWrite),
        now: super::input_value(Utc::now()),
        truncated,
    })
}

#[derive(Debug, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    at: String,
    text: String,
}

pub(super) async fn add(t: Tr, caller: Caller, Form(f): Form<EntryForm>) -> Response {
    let at = match f.at.trim() {
        "" => None,
        s => match local_input(s) {
            Some(at) => Some(at),
            None => return form_refused(t, Some(&caller), t.get("timeline.bad_time")),
        },
    };
    let done = async {
        let Some(id) = caller.0.current_incident().await? else {
            return Err(cordon_store::StoreError::from(cordon_domain::refusal!("refused.incident.none", id = 0)));
        };
        caller.0.add_timeline_entry(id, at, &f.text).await
    };
    match done.await {
        Ok(_) => Redirect::to(&format!("/timeline?notice={}", percent(t.get("timeline.added")))).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
