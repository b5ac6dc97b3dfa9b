//! Treatment (医疗救治): hospital stays with severity over time, tests with Ct values, discharge
//! when the rule holds, and monitoring after it.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod actions;
mod page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/treatment", get(page::page))
        .route("/treatment/stays/{id}/tests", post(actions::test))
        .route("/treatment/stays/{id}/severity", post(actions::severity))
        .route("/treatment/stays/{id}/discharge", post(actions::discharge))
        .route("/treatment/stays/{id}/death", post(actions::death))
}
