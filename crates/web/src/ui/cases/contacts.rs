//! Contacts of a case: venue candidates confirmed or dismissed, a contact named by id number,
//! proposed contacts decided, a batch handed over to observation.

use crate::ui::form::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use cordon_domain::cases::exposure::{Degree, ExposureKind, Lookback};
use cordon_domain::refusal;
use cordon_store::StoreError;
use cordon_store::exposures::NewExposure;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;
use crate::ui::form::{Form, Ids};
use crate::ui::{failure, said};

#[derive(Deserialize)]
pub struct CandidatesForm {
    #[serde(default)]
    person: Ids,
    /// `close` (the default), `place_exposed` or `dismiss`.
    #[serde(rename = "as")]
    decision: Option<String>,
}

/// Venue candidates ticked on the case page: confirmed as close contacts or place-exposed,
/// or dismissed.
pub async fn decide_candidates(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<CandidatesForm>) -> Response {
    let chosen = f.person.0;
    let decision = f.decision.as_deref();
    let scope = &caller.0;
    let done = async {
        let found = scope.venue_candidates(id, &Lookback::default()).await?;
        let degree = if decision == Some("place_exposed") { Degree::PlaceExposed } else { Degree::Close };
        let mut new: Vec<NewExposure> = found
            .iter()
            .filter(|c| chosen.contains(&c.person_id))
            .map(|c| NewExposure {
                contact_person_id: c.person_id,
                kind: ExposureKind::Venue,
                degree: Some(degree),
                first_at: Some(c.first_at),
                last_at: Some(c.last_until),
                note: Some(c.venues.join("、")),
            })
            .collect();
        // Co-workers who shared no venue: worked with the case; the last exposure is taken as
        // now until the investigator learns the last shift they shared.
        let now = Utc::now();
        for c in scope.roster_candidates(id).await? {
            if chosen.contains(&c.person_id) && new.iter().all(|n| n.contact_person_id != c.person_id) {
                new.push(NewExposure {
                    contact_person_id: c.person_id,
                    kind: ExposureKind::Work,
                    degree: Some(degree),
                    first_at: None,
                    last_at: Some(now),
                    note: Some(format!("{} {}", c.workplace, c.unit).trim().to_string()),
                });
            }
        }
        match decision {
            Some("dismiss") => scope.dismiss_candidates(id, &new).await.map(|_| "dismissed"),
            _ => scope.record_exposures(id, &new).await.map(|_| "recorded"),
        }
    };
    match done.await {
        Ok(what) => Redirect::to(&format!("/cases/{id}?done={what}#contacts")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    id_number: String,
    kind: ExposureKind,
}

/// A contact named by the case (household, colleague, fellow diner…), by resident id.
pub async fn add_contact(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<ContactForm>) -> Response {
    let scope = &caller.0;
    let done = async {
        let typed = f.id_number.trim();
        if typed.is_empty() {
            return Err(StoreError::from(refusal!("refused.contact_needs_id")));
        }
        let rid = cordon_domain::ResidentId::parse(typed).map_err(cordon_domain::refusal::Refusal::from)?;
        let person = scope
            .person_id_by_document(rid.as_str())
            .await?
            .ok_or_else(|| StoreError::from(refusal!("contacts.unknown_person", id = rid.masked())))?;
        let kind = f.kind;
        let now = Utc::now();
        scope
            .record_exposures(
                id,
                &[NewExposure { contact_person_id: person, kind, degree: None, first_at: None, last_at: Some(now), note: None }],
            )
            .await
    };
    match done.await {
        Ok(_) => Redirect::to(&format!("/cases/{id}?done=recorded#contacts")).into_response(),
        Err(e) if e.is_refusal() => {
            let refused = Some((said(t, &e), f.id_number.trim().to_string()));
            (StatusCode::UNPROCESSABLE_ENTITY, super::case::case_view(t, &caller, id, Default::default(), refused).await).into_response()
        }
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct ContactsActionForm {
    /// `confirm` (the default), `dismiss` or `handover`.
    action: Option<String>,
    /// People ticked for hand-over.
    #[serde(default)]
    person: Ids,
    /// Proposed exposures ticked, a person's several in one box.
    #[serde(default)]
    exposures: Ids,
}

/// Proposed secondary contacts confirmed or dismissed, or a batch handed over.
pub async fn contacts_action(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<ContactsActionForm>) -> Response {
    let scope = &caller.0;
    if f.action.as_deref() == Some("handover") {
        // How many went, and who was held and why, said on the case page.
        return match scope.hand_over(id, &f.person.0).await {
            Ok(h) => {
                let mut held: Vec<String> = h.refused.iter().map(|(_, r)| t.refusal(r)).collect();
                // Proposed contacts are ticked to be confirmed, not handed over: say so rather
                // than report a hand-over of nobody.
                if !f.exposures.0.is_empty() {
                    held.push(t.get("contacts.confirm_first").to_string());
                } else if f.person.0.is_empty() {
                    held.push(t.get("contacts.none_ticked").to_string());
                }
                let mut to =
                    format!("/cases/{id}?done=handed_over&n={}&home={}&already={}", h.ordered.len(), h.at_home.len(), h.already.len());
                if !held.is_empty() {
                    to.push_str(&format!("&held={}", percent(&held.join("；"))));
                }
                Redirect::to(&format!("{to}#contacts")).into_response()
            }
            Err(e) => failure(t, &caller, e),
        };
    }
    let done = match f.action.as_deref() {
        Some("dismiss") => scope.decide_exposures(id, &f.exposures.0, false).await.map(|_| "dismissed"),
        _ => scope.decide_exposures(id, &f.exposures.0, true).await.map(|_| "confirmed"),
    };
    match done {
        Ok(what) => Redirect::to(&format!("/cases/{id}?done={what}#contacts")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
