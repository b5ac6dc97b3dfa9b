//! People on the missing list accounted for (away, in quarantine, in hospital, sampled at
//! home), and taken back.

use crate::ui::form::Path;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::testing::exemption::ExemptionReason;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{failure, said};

#[derive(Deserialize)]
pub struct ExemptForm {
    person_id: i64,
    reason: String,
    note: Option<String>,
    area: String,
}

fn back(round: i64, area: &str, error: Option<&str>) -> Response {
    let mut to = format!("/coverage?round={round}&area={}", percent(area));
    if let Some(e) = error {
        to.push_str(&format!("&error={}", percent(e)));
    }
    Redirect::to(&to).into_response()
}

/// Marks a missing person as accounted for, back to the list.
pub async fn exempt(t: Tr, caller: Caller, Path(round): Path<i64>, Form(f): Form<ExemptForm>) -> Response {
    let Ok(reason) = f.reason.parse::<ExemptionReason>() else { return back(round, &f.area, Some(t.get("coverage.bad_reason"))) };
    match caller.0.exempt(round, f.person_id, reason, f.note.as_deref()).await {
        Ok(_) => back(round, &f.area, None),
        Err(e) if e.is_refusal() => back(round, &f.area, Some(&said(t, &e))),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct UndoForm {
    area: String,
}

/// Takes an exemption back: the person is on the missing list again.
pub async fn unexempt(t: Tr, caller: Caller, Path((round, person)): Path<(i64, i64)>, Form(f): Form<UndoForm>) -> Response {
    match caller.0.unexempt(round, person).await {
        Ok(_) => back(round, &f.area, None),
        Err(e) => failure(t, &caller, e),
    }
}
