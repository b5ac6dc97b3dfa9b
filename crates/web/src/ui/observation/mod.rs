//! Medical observation (医学观察): the orders with each one's schedule and release, the
//! community's home list with its door tests, and the rule sets in force.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod home;
mod labels;
mod order;
mod orders;
mod rulesets;

pub(in crate::ui) use labels::{blocker_text, category_label, stage_label, status_label};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/observation", get(orders::orders))
        .route("/observation/release", post(orders::release))
        .route("/observation/orders/{id}", get(order::order))
        .route("/observation/orders/{id}/status", post(order::move_order))
        .route("/observation/home", get(home::home))
        .route("/observation/home/tests", post(home::home_test))
        .route("/observation/home/start", post(home::start_home))
        .route("/rulesets", get(rulesets::rule_sets).post(rulesets::save_rule))
        .route("/rulesets/incidents/{id}", post(rulesets::set_incident_rule))
}
