use axum::Json;
use axum::extract::Query;
use chrono::{DateTime, Utc};
use cordon_domain::access::Permission;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::ui::admin::audit::AuditQuery;

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    /// create, update, revoke, reveal, login, import …
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: Option<String>,
    /// JSON of the record before the change, when there was one.
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

/// Audit events in the caller's jurisdiction, newest first (100 per page; pass the last id as
/// `before` for older ones). Requires `audit.read`. Events are append-only: there is no way to
/// change or delete them.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = [AuditEventView]), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AuditRead.as_str()))))]
pub async fn list_audit(caller: Caller, Query(q): Query<AuditQuery>) -> ApiResult<Json<Vec<AuditEventView>>> {
    let filter = q.filter(&caller).await.map_err(|(field, reason)| ApiError::bad_request(field, reason))?;
    let events = caller.0.audit_events(&filter, 100).await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| AuditEventView {
                id: e.id,
                at: e.at,
                actor_id: e.actor_id,
                actor_name: e.actor_name,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                area_code: e.area_code,
                before: e.before_json,
                after: e.after_json,
                request_id: e.request_id,
                client_addr: e.client_addr,
            })
            .collect(),
    ))
}
