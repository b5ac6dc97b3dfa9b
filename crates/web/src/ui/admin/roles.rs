//! Administration: the role × permission matrix, kept as data and changed here (audited).

use std::collections::BTreeSet;

use crate::ui::form::Path;
use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::{Permission, Role};
use serde::Deserialize;

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{UserBadge, failure, message, render};

pub struct RoleRow {
    role: &'static str,
    label: &'static str,
    cells: Vec<(&'static str, bool)>,
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage {
    t: Tr,
    user: Option<UserBadge>,
    saved: bool,
    /// (identifier, label) of every permission, in column order.
    permissions: Vec<(&'static str, &'static str)>,
    rows: Vec<RoleRow>,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn roles(t: Tr, caller: Caller, Query(q): Query<SavedQuery>) -> Response {
    let roles = match caller.0.roles().await {
        Ok(r) => r,
        Err(e) => return failure(t, &caller, e),
    };
    let rows = roles
        .iter()
        .map(|(role, perms)| RoleRow {
            role: role.as_str(),
            label: t.get(&format!("role.{}", role.as_str())),
            cells: Permission::ALL.iter().map(|p| (p.as_str(), perms.contains(p))).collect(),
        })
        .collect();
    render(&RolesPage {
        t,
        user: UserBadge::of(&caller),
        saved: q.saved.is_some(),
        permissions: Permission::ALL.iter().map(|p| (p.as_str(), t.get(&format!("permission.{}", p.as_str())))).collect(),
        rows,
    })
}

#[derive(Deserialize)]
pub struct RoleForm {
    /// The permissions ticked; none means none.
    #[serde(default)]
    p: Vec<Permission>,
}

/// Saves one role's row of checkboxes (`p=…` repeated; none checked means no permissions).
pub async fn save_role(t: Tr, caller: Caller, Path(role): Path<String>, Form(f): Form<RoleForm>) -> Response {
    let Ok(role) = role.parse::<Role>() else {
        return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("error.record_not_found"), &format!("role {role}"));
    };
    let chosen: BTreeSet<Permission> = f.p.into_iter().collect();
    match caller.0.set_role_permissions(role, &chosen).await {
        Ok(()) => Redirect::to("/admin/roles?saved=1").into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
