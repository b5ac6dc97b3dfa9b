//! The preliminary investigation report (初步流调报告): one printable page per case.

use crate::ui::form::Path;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use cordon_domain::cases::exposure::Degree;
use cordon_store::StoreError;
use cordon_store::cases::Case;

use super::rows::{ContactRow, PlaceRow, contact_rows, place_rows, queue_row};
use crate::auth::Caller;
use crate::format::local;
use crate::i18n::Tr;
use crate::ui::{Places, UserBadge, failure, message, render};

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    t: Tr,
    user: Option<UserBadge>,
    case: Case,
    /// Where the case lives, by name.
    case_place: String,
    person: Option<(String, String, String)>,
    classification: String,
    how_found: String,
    place: String,
    places: Vec<PlaceRow>,
    counts: Vec<(String, usize)>,
    contacts: Vec<ContactRow>,
    source: String,
    investigators: String,
    core: String,
    report: String,
    printed: String,
}

/// The preliminary investigation report (初步流调报告): one printable page per case.
pub async fn report(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    let scope = &caller.0;
    let loaded = async {
        let Some(case) = scope.case(id).await? else { return Ok(None) };
        let person = match case.person_id {
            Some(p) => scope.person(p).await?,
            None => None,
        };
        let inv = scope.investigation_of_case(id).await?;
        let places = scope.trajectory(id).await?;
        let contacts = scope.contacts(id).await?;
        scope.record_report_view(&case).await?;
        Ok::<_, StoreError>(Some((case, person, inv, places, contacts)))
    };
    let (case, person, inv, places, contacts) = match loaded.await {
        Ok(Some(x)) => x,
        Ok(None) => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("case.none"), t.get("case.none")),
        Err(e) => return failure(t, &caller, e),
    };
    let counts = Degree::ALL
        .iter()
        .map(|d| (t.get(&format!("contacts.degree.{}", d.as_str())).to_string(), contacts.iter().filter(|c| c.degree == *d).count()))
        .collect();
    let codes = std::iter::once(case.area_code.as_str()).chain(contacts.iter().map(|c| c.area_code.as_str()));
    let names = match Places::of(&caller, codes).await {
        Ok(n) => n,
        Err(e) => return failure(t, &caller, e),
    };
    let now = Utc::now();
    let row = inv.as_ref().map(|i| queue_row(&t, &names, i.clone()));
    let page = ReportPage {
        person: person.map(|p| (p.name, p.document.masked(), p.address.unwrap_or_default())),
        classification: t.get(&format!("case.class.{}", case.classification)).to_string(),
        how_found: t.get(&format!("case.found.{}", case.how_found)).to_string(),
        place: t.get(&format!("case.place.{}", case.place)).to_string(),
        places: place_rows(&t, places),
        counts,
        contacts: contact_rows(&t, &names, contacts),
        source: inv.as_ref().and_then(|i| i.source_hypothesis.clone()).unwrap_or_else(|| t.get("report.no_source").to_string()),
        investigators: inv
            .as_ref()
            .map(|i| i.assignments.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>().join("、"))
            .unwrap_or_default(),
        core: row.as_ref().map(|r| r.core.text.clone()).unwrap_or_default(),
        report: row.as_ref().map(|r| r.report.text.clone()).unwrap_or_default(),
        printed: local(now),
        user: UserBadge::of(&caller),
        case_place: names.name(&case.area_code),
        case,
        t,
    };
    render(&page)
}
