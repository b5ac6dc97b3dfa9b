//! Where a case was: places entered by hand, or copied from its own place-code scans.

use crate::ui::form::Path;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::cases::case::PlaceKind;
use serde::Deserialize;

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::form::{Form, local_input};
use crate::ui::{failure, form_refused};

#[derive(Deserialize)]
pub struct PlaceForm {
    from: String,
    until: Option<String>,
    kind: PlaceKind,
    place: String,
    detail: Option<String>,
}

/// A place the case was, entered by hand.
pub async fn add_place(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<PlaceForm>) -> Response {
    let Some(from_at) = local_input(&f.from) else {
        return form_refused(t, Some(&caller), t.get("place.bad_time"));
    };
    let until_at = match f.until.as_deref().filter(|u| !u.trim().is_empty()) {
        None => None,
        Some(u) => match local_input(u) {
            Some(u) => Some(u),
            None => return form_refused(t, Some(&caller), t.get("place.bad_time")),
        },
    };
    let entry = cordon_store::trajectories::NewEntry {
        from_at,
        until_at,
        kind: f.kind,
        place: f.place,
        detail: f.detail.filter(|d| !d.trim().is_empty()),
    };
    match caller.0.add_trajectory(id, &[entry]).await {
        Ok(()) => Redirect::to(&format!("/cases/{id}#trajectory")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

/// The case's own place-code scans copied into its trajectory.
pub async fn places_from_checkins(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    match caller.0.trajectory_from_checkins(id).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}#trajectory")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
