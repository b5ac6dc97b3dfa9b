//! Cases and their investigation (流调): the investigators' desk, a case's page with its
//! trajectory, contacts and hand-over, and the preliminary report.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod case;
mod contacts;
mod desk;
mod report;
mod rows;
mod trajectory;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tracing", get(desk::desk))
        .route("/tracing/positives/{id}/case", post(desk::case_from_positive))
        .route("/tracing/cases", post(desk::create_case))
        .route("/tracing/investigations/{id}/take", post(desk::take))
        .route("/cases/{id}", get(case::case_page))
        .route("/cases/{id}/progress", post(case::progress))
        .route("/cases/{id}/infectors", post(case::add_infector))
        .route("/cases/{id}/candidates", post(contacts::decide_candidates))
        .route("/cases/{id}/contacts", post(contacts::add_contact))
        .route("/cases/{id}/contacts/actions", post(contacts::contacts_action))
        .route("/cases/{id}/trajectory", post(trajectory::add_place))
        .route("/cases/{id}/trajectory/checkins", post(trajectory::places_from_checkins))
        .route("/cases/{id}/report", get(report::report))
}
