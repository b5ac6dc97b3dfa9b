//! Administration: the role × permission matrix, and the audit log.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) mod audit;
mod roles;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit::list))
        .route("/admin/roles", get(roles::roles))
        .route("/admin/roles/{role}", post(roles::save_role))
}
