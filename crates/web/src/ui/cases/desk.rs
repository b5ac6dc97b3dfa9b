//! The investigators' desk: positives to make cases of, the queue with its clocks, taking a
//! task, and a case recorded by hand.

use crate::ui::form::Query;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin};
use cordon_domain::cases::investigation::Part;
use cordon_store::cases::NewCase;
use serde::Deserialize;

use super::rows::{QueueRow, queue_row};
use crate::auth::Caller;
use crate::format::{local, percent, today};
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{UserBadge, failure, message, render};

pub struct PositiveRow {
    id: i64,
    person_id: i64,
    name: String,
    area_code: String,
    barcode: String,
    found: String,
}

#[derive(Template)]
#[template(path = "tracing.html")]
struct DeskPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    notice: Option<String>,
    positives: Vec<PositiveRow>,
    queue: Vec<QueueRow>,
    overdue: usize,
    overdue_text: String,
    how_found: Vec<(&'static str, String)>,
    classes: Vec<(&'static str, String)>,
    default_area: String,
}

#[derive(Deserialize)]
pub struct DeskQuery {
    made: Option<String>,
    taken: Option<String>,
}

/// The investigators' desk.
pub async fn desk(t: Tr, caller: Caller, Query(q): Query<DeskQuery>) -> Response {
    let scope = &caller.0;
    let (positives, queue) = match tokio::try_join!(scope.positives(true), scope.investigation_queue()) {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let notice = match (q.made, q.taken) {
        (Some(n), _) => Some(t.fill("tracing.made", &[("number", &n)])),
        (_, Some(n)) => Some(t.fill("tracing.taken", &[("number", &n)])),
        _ => None,
    };
    let queue: Vec<QueueRow> = queue.into_iter().map(|i| queue_row(&t, i)).collect();
    let page = DeskPage {
        t,
        user: UserBadge::of(&caller),
        can_write: scope.principal().can(Permission::TracingWrite),
        notice,
        overdue: queue.iter().filter(|r| r.overdue).count(),
        overdue_text: t.fill("tracing.overdue_count", &[("n", &queue.iter().filter(|r| r.overdue).count().to_string())]),
        positives: positives
            .into_iter()
            .map(|p| PositiveRow {
                id: p.id,
                person_id: p.person_id,
                name: p.name,
                area_code: p.area_code,
                barcode: p.barcode,
                found: local(p.found_at),
            })
            .collect(),
        queue,
        how_found: HowFound::ALL.iter().map(|h| (h.as_str(), t.get(&format!("case.found.{}", h.as_str())).to_string())).collect(),
        classes: CaseClass::ALL.iter().map(|c| (c.as_str(), t.get(&format!("case.class.{}", c.as_str())).to_string())).collect(),
        default_area: scope.principal().user.jurisdiction.areas().first().map(|a| a.to_string()).unwrap_or_default(),
    };
    render(&page)
}

/// 一键转病例: a positive made a case; its investigation opens.
pub async fn case_from_positive(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    match caller.0.case_from_positive(id, CaseClass::Asymptomatic, None).await {
        Ok(case) => Redirect::to(&format!("/tracing?made={}", percent(&case.external_id))).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct NewCaseForm {
    area_code: String,
    how_found: HowFound,
    classification: CaseClass,
    onset: Option<String>,
    number: Option<String>,
}

/// A case recorded by hand (fever clinic, found in quarantine, imported).
pub async fn create_case(t: Tr, caller: Caller, Form(f): Form<NewCaseForm>) -> Response {
    let bad = |key: &str| message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("error.failed"), t.get(key));
    let Ok(area_code) = AreaCode::parse(f.area_code.trim()) else { return bad("area.bad_code_detail") };
    let onset = match f.onset.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => return bad("case.bad_date"),
        },
    };
    let how_found = f.how_found;
    let new = NewCase {
        external_id: f.number.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        person_id: None,
        positive_id: None,
        area_code,
        classification: f.classification,
        severity: None,
        origin: if how_found == HowFound::Imported { Origin::Imported } else { Origin::Local },
        how_found,
        onset_date: onset,
        sample_date: None,
        report_date: Some(today()),
        place: CasePlace::Home,
        label: None,
        infectors: vec![],
    };
    match caller.0.create_case(new).await {
        Ok(case) => Redirect::to(&format!("/cases/{}", case.id)).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct TakeForm {
    part: Part,
    back: Option<String>,
}

/// 接单: the caller takes the phone interview or the site visit.
pub async fn take(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<TakeForm>) -> Response {
    let part = f.part;
    match caller.0.take_investigation(id, part).await {
        Ok(inv) if f.back.as_deref() == Some("case") => Redirect::to(&format!("/cases/{}", inv.case_id)).into_response(),
        Ok(inv) => Redirect::to(&format!("/tracing?taken={}", percent(&inv.case_number))).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
