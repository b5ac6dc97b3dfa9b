//! A round's coverage ("no household, no person missed"): the page with its dashboard, and the
//! missing list's exemptions.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod exemptions;
mod page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/coverage", get(page::page))
        .route("/coverage/rounds/{id}/exemptions", post(exemptions::exempt))
        .route("/coverage/rounds/{id}/exemptions/{person}/undo", post(exemptions::unexempt))
}
