//! Transfer dispatch (转运调度): the board of open transfers with their clocks, and the
//! dispatcher's acts on it.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod actions;
mod board;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dispatch", get(board::board))
        .route("/dispatch/sites/{id}", post(actions::plan_site))
        .route("/dispatch/cases/{id}", post(actions::plan_case))
        .route("/dispatch/transfers/{id}", post(actions::advance))
        .route("/dispatch/transfers/{id}/vehicle", post(actions::assign_vehicle))
        .route("/dispatch/vehicles", post(actions::add_vehicle))
        .route("/dispatch/hospitals", post(actions::add_hospital))
}
