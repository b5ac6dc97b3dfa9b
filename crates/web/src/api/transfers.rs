//! Transfers over HTTP: the dispatch board and a transfer moved on.

use crate::api::observation::StatusInput;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::i18n::{Lang, Tr};
use axum::Json;
use axum::extract::Path;
use chrono::{DateTime, Utc};
use cordon_domain::access::Permission;
use cordon_domain::transfer::{TransferKind, TransferStatus};
use cordon_store::transfers::Transfer;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    pub id: i64,
    /// positive_to_hospital, contact_to_site, release_home
    #[schema(schema_with = crate::api::enums::transfer_kind)]
    pub kind: String,
    pub plate: Option<String>,
    pub escort: Option<String>,
    pub from_place: String,
    pub to_place: String,
    /// planned, dispatched, picked_up, arrived, cancelled
    #[schema(schema_with = crate::api::enums::transfer_status)]
    pub status: String,
    pub deadline: DateTime<Utc>,
    pub overdue: bool,
    pub people: i64,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
}

impl From<Transfer> for TransferView {
    fn from(t: Transfer) -> Self {
        TransferView {
            overdue: t.overdue(Utc::now()),
            id: t.id,
            kind: t.kind.to_string(),
            plate: t.plate,
            escort: t.escort,
            from_place: own_place(t.from_place, t.kind),
            to_place: own_place(t.to_place, t.kind),
            status: t.status.to_string(),
            deadline: t.deadline,
            people: t.people,
            dispatched_at: t.dispatched_at,
            picked_up_at: t.picked_up_at,
            arrived_at: t.arrived_at,
        }
    }
}

/// The dispatch board: open transfers, nearest deadline first, then those arrived in the last
/// 24 hours. Requires `quarantine.read`.
#[utoipa::path(get, path = "/api/v1/transfers", tag = "observation",
    responses((status = 200, body = [TransferView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineRead.as_str()))))]
pub async fn list_transfers(caller: Caller) -> ApiResult<Json<Vec<TransferView>>> {
    Ok(Json(caller.0.dispatch_board().await?.into_iter().map(TransferView::from).collect()))
}

/// Moves a transfer on: dispatched, picked_up, arrived, or cancelled. Requires `transfer.write`.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/status", tag = "observation", params(("id" = i64, Path, description = "Transfer id")),
    request_body = StatusInput,
    responses((status = 200, body = TransferView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TransferWrite.as_str()))))]
pub async fn advance_transfer(caller: Caller, Path(id): Path<i64>, Json(input): Json<StatusInput>) -> ApiResult<Json<TransferView>> {
    let to = input.status.parse::<TransferStatus>().map_err(|e| ApiError::bad_request("status", e))?;
    Ok(Json(caller.0.advance_transfer(id, to).await?.into()))
}

/// The people's own place (stored empty) named in English from the kind.
fn own_place(stored: String, kind: TransferKind) -> String {
    if stored.is_empty() { Tr(Lang::En).get(&format!("dispatch.own_place.{kind}")).to_string() } else { stored }
}
