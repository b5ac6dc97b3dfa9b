//! Lab results: the lab's page for uploading a lab system's export.

use axum::Router;
use axum::routing::get;

use crate::AppState;

mod page;

pub fn router() -> Router<AppState> {
    Router::new().route("/results", get(page::page))
}
