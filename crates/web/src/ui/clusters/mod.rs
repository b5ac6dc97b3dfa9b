//! Clusters (聚集性疫情) with their transmission chains, and assistance requests (协查函) between
//! jurisdictions.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod assist;
mod cluster;
mod list;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clusters", get(list::clusters))
        .route("/clusters/{id}", get(cluster::cluster))
        .route("/assist", get(assist::assist))
        .route("/assist/{id}/answer", post(assist::answer_assist))
}
