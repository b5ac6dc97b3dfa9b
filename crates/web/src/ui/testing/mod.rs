//! Mass testing (全员核酸): the rounds with their sites and sizing, a site's slots and home
//! visits, the sampling station, and the recall board.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod recalls;
mod rounds;
mod sites;
mod station;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/testing", get(rounds::rounds))
        .route("/testing/rounds", post(rounds::create_round))
        .route("/testing/rounds/{id}/sites", post(rounds::create_site))
        .route("/testing/rounds/{id}/sites/{site}", get(sites::page))
        .route("/testing/rounds/{id}/sites/{site}/slots", post(sites::plan_slots))
        .route("/testing/frequency", post(sites::confirm_frequency))
        .route("/station", get(station::station))
        .route("/recalls", get(recalls::recalls))
}
