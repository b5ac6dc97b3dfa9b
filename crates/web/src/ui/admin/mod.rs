//! Administration: accounts, the role × permission matrix, and the audit log.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) mod audit;
mod roles;
mod users;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit::list))
        .route("/admin/roles", get(roles::roles))
        .route("/admin/roles/{role}", post(roles::save_role))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{name}", get(users::show).post(users::update))
        .route("/admin/users/{name}/password", post(users::password))
        .route("/admin/users/{name}/disable", post(users::disable))
        .route("/admin/users/{name}/tokens", post(users::create_token))
        .route("/admin/users/{name}/tokens/{id}/revoke", post(users::revoke_token))
}
