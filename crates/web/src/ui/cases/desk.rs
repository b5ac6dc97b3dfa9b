//! The investigators' desk: positives to make cases of, the queue with its clocks, taking a
//! task, and a case recorded by hand.

use crate::ui::form::Path;
use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin};
use cordon_domain::cases::investigation::Part;
use cordon_domain::refusal::Refusal;
use cordon_domain::{NewPerson, PersonName, Phone, ResidentId, refusal};
use cordon_store::StoreError;
use cordon_store::cases::{Case, NewCase};
use serde::Deserialize;

use super::rows::{QueueRow, queue_row};
use crate::auth::Caller;
use crate::format::{local, percent, today};
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{Places, UserBadge, failure, render, said};

pub struct PositiveRow {
    id: i64,
    person_id: i64,
    name: String,
    area_code: String,
    place: String,
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
    /// Why the case form was refused, said above it with what was typed kept.
    error: Option<String>,
    form: NewCaseForm,
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
    let notice = match (q.made, q.taken) {
        (Some(n), _) => Some(t.fill("tracing.made", &[("number", &n)])),
        (_, Some(n)) => Some(t.fill("tracing.taken", &[("number", &n)])),
        _ => None,
    };
    desk_page(t, &caller, notice, None, NewCaseForm::default()).await
}

/// The desk with a notice, or with the case form's refusal and what was typed in it.
async fn desk_page(t: Tr, caller: &Caller, notice: Option<String>, error: Option<String>, form: NewCaseForm) -> Response {
    let scope = &caller.0;
    let (positives, queue) = match tokio::try_join!(scope.positives(true), scope.investigation_queue()) {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let codes = positives.iter().map(|p| p.area_code.as_str()).chain(queue.iter().map(|i| i.area_code.as_str()));
    let names = match Places::of(caller, codes).await {
        Ok(n) => n,
        Err(e) => return failure(t, caller, e),
    };
    let queue: Vec<QueueRow> = queue.into_iter().map(|i| queue_row(&t, &names, i)).collect();
    let page = DeskPage {
        t,
        user: UserBadge::of(caller),
        can_write: scope.principal().can(Permission::TracingWrite),
        notice,
        error,
        form,
        overdue: queue.iter().filter(|r| r.overdue).count(),
        overdue_text: t.fill("tracing.overdue_count", &[("n", &queue.iter().filter(|r| r.overdue).count().to_string())]),
        positives: positives
            .into_iter()
            .map(|p| PositiveRow {
                id: p.id,
                person_id: p.person_id,
                name: p.name,
                place: names.name(&p.area_code),
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

/// The hand-recorded case as typed; kept to show again when refused.
#[derive(Deserialize, Default)]
pub struct NewCaseForm {
    id_number: String,
    /// Name, phone and address register a person not yet in the register.
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    area_code: String,
    how_found: Option<HowFound>,
    classification: Option<CaseClass>,
    #[serde(default)]
    onset: String,
    #[serde(default)]
    number: String,
}

impl NewCaseForm {
    pub fn picked_how_found(&self) -> &str {
        self.how_found.map_or("", |h| h.as_str())
    }
    pub fn picked_class(&self) -> &str {
        self.classification.map_or("", |c| c.as_str())
    }
}

/// A case recorded by hand (fever clinic, found in quarantine, imported): about a person of the
/// register found by resident id, or registered here on the spot. A refusal shows on the desk
/// with what was typed; nothing is stored.
pub async fn create_case(t: Tr, caller: Caller, Form(f): Form<NewCaseForm>) -> Response {
    let asked = chrono::Utc::now();
    match record_by_hand(&caller, &f).await {
        // The person was a case already: that case opens, and says so.
        Ok(case) if case.created_at < asked => Redirect::to(&format!("/cases/{}?done=existing", case.id)).into_response(),
        Ok(case) => Redirect::to(&format!("/cases/{}", case.id)).into_response(),
        Err(e) if e.is_refusal() => {
            let error = Some(said(t, &e));
            (StatusCode::UNPROCESSABLE_ENTITY, desk_page(t, &caller, None, error, f).await).into_response()
        }
        Err(e) => failure(t, &caller, e),
    }
}

async fn record_by_hand(caller: &Caller, f: &NewCaseForm) -> Result<Case, StoreError> {
    let scope = &caller.0;
    let typed = f.id_number.trim();
    if typed.is_empty() {
        return Err(refusal!("refused.case_needs_id").into());
    }
    let id = ResidentId::parse(typed).map_err(Refusal::from)?;
    let onset = match f.onset.trim() {
        "" => None,
        s => Some(s.parse::<NaiveDate>().map_err(|_| refusal!("refused.case_bad_onset", onset = s))?),
    };
    if let Some(d) = onset {
        cordon_domain::cases::case::onset(d, today())?;
    }
    let on_the_spot = match f.name.trim() {
        "" => None,
        name => {
            let name = PersonName::parse(name).map_err(Refusal::from)?;
            let phone = match f.phone.trim() {
                "" => None,
                p => Some(Phone::parse(p).map_err(Refusal::from)?),
            };
            let area = AreaCode::parse(f.area_code.trim()).map_err(|_| refusal!("refused.area_code", code = f.area_code.trim()))?;
            let address = Some(f.address.trim().to_string()).filter(|a| !a.is_empty());
            Some(NewPerson::from_resident_id(id.clone(), name, phone, area, address))
        }
    };
    let person = scope.case_person(&id, on_the_spot).await?;
    let area_code = AreaCode::parse(&person.area_code).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let how_found = f.how_found.unwrap_or(HowFound::Other);
    let new = NewCase {
        external_id: Some(f.number.trim().to_string()).filter(|n| !n.is_empty()),
        person_id: Some(person.id),
        positive_id: None,
        area_code,
        classification: f.classification.unwrap_or(CaseClass::Confirmed),
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
    scope.create_case(new).await
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
