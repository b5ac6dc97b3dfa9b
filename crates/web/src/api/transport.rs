//! Transport over HTTP: boxes of sealed tubes sent from a site to a lab, the lab's receipt check,
//! and where a round's tubes are with the labs' turnaround.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use cordon_domain::access::Permission;

use chrono::{DateTime, Utc};
use cordon_domain::Barcode;
use cordon_domain::testing::transport::Turnaround;
use cordon_store::transport::{Batch, BatchDetail, NewBatch, TubeFlow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBatchInput {
    pub site_id: i64,
    pub lab_id: i64,
    /// The box's label (转运箱号); sending the same box again answers the same batch.
    pub label: String,
    /// The tubes in the box; absent: every sealed tube of the site not yet sent.
    pub barcodes: Option<Vec<String>>,
    /// When the box left, as the transport sheet says; absent: now. Never later than now.
    pub departed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    pub id: i64,
    pub round_id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub lab_id: i64,
    pub lab_name: String,
    pub label: String,
    pub tubes: i32,
    pub received: i64,
    /// Sent but not found at the lab's receipt; 0 while the box is on the road.
    pub missing: i64,
    /// Scanned at the lab but not in the box.
    pub extra: i64,
    pub departed_at: DateTime<Utc>,
    pub departed_by: String,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
}

impl From<Batch> for BatchView {
    fn from(b: Batch) -> Self {
        BatchView {
            missing: b.missing(),
            id: b.id,
            round_id: b.round_id,
            site_id: b.site_id,
            site_name: b.site_name,
            lab_id: b.lab_id,
            lab_name: b.lab_name,
            label: b.label,
            tubes: b.tubes,
            received: b.received,
            extra: b.extra,
            departed_at: b.departed_at,
            departed_by: b.departed_by,
            received_at: b.received_at,
            received_by: b.received_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchDetailView {
    #[serde(flatten)]
    pub batch: BatchView,
    /// In the box while it is on the road (not yet received).
    pub in_box_barcodes: Vec<String>,
    pub received_barcodes: Vec<String>,
    pub missing_barcodes: Vec<String>,
    pub extra_barcodes: Vec<String>,
}

impl From<BatchDetail> for BatchDetailView {
    fn from(d: BatchDetail) -> Self {
        BatchDetailView {
            batch: d.batch.into(),
            in_box_barcodes: d.in_box,
            received_barcodes: d.received,
            missing_barcodes: d.missing,
            extra_barcodes: d.extra,
        }
    }
}

fn barcodes(field: &str, list: &[String]) -> ApiResult<Vec<String>> {
    list.iter().map(|s| Barcode::parse(s).map(String::from).map_err(|e| ApiError::bad_request(field, format!("{s:?}: {e}")))).collect()
}

/// Sends a box of sealed tubes from a site to a lab. Every tube that cannot go (unknown, still
/// open, from another site, already in another box) is listed and nothing changes. Requires
/// `testing.write`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/batches", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    request_body = NewBatchInput,
    responses((status = 201, body = BatchView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn dispatch(caller: Caller, Path(id): Path<i64>, Json(input): Json<NewBatchInput>) -> ApiResult<(StatusCode, Json<BatchView>)> {
    let codes = input.barcodes.as_deref().map(|b| barcodes("barcodes", b)).transpose()?;
    let new = NewBatch {
        round_id: id,
        site_id: input.site_id,
        lab_id: input.lab_id,
        label: input.label,
        barcodes: codes,
        departed_at: input.departed_at,
    };
    Ok((StatusCode::CREATED, Json(caller.0.dispatch(new).await?.into())))
}

/// A round's boxes from sites of the caller's jurisdiction, newest first. Requires `testing.read`.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/batches", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    responses((status = 200, body = [BatchView]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn list_batches(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Vec<BatchView>>> {
    Ok(Json(caller.0.batches(id).await?.into_iter().map(BatchView::from).collect()))
}

/// One box with the barcodes received, missing and extra. Requires `testing.read`.
#[utoipa::path(get, path = "/api/v1/batches/{id}", tag = "testing", params(("id" = i64, Path, description = "Batch id")),
    responses((status = 200, body = BatchDetailView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn batch_detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<BatchDetailView>> {
    let detail = caller.0.batch_detail(id).await?.ok_or_else(|| ApiError::not_found(format!("no box {id}")))?;
    Ok(Json(detail.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReceiptInput {
    /// The barcodes scanned out of the box. Receipts add up; scanning one again changes nothing.
    pub barcodes: Vec<String>,
}

/// Records the tubes a lab scanned out of a box and answers what is missing and what was not
/// in it. Requires `lab.write`.
#[utoipa::path(post, path = "/api/v1/batches/{id}/receipt", tag = "testing", params(("id" = i64, Path, description = "Batch id")),
    request_body = ReceiptInput,
    responses((status = 200, body = BatchDetailView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::LabWrite.as_str()))))]
pub async fn receive(caller: Caller, Path(id): Path<i64>, Json(input): Json<ReceiptInput>) -> ApiResult<Json<BatchDetailView>> {
    let codes = barcodes("barcodes", &input.barcodes)?;
    let detail = caller.0.receive(id, &codes).await?.ok_or_else(|| ApiError::not_found(format!("no box {id}")))?;
    Ok(Json(detail.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TurnaroundView {
    /// The site's or the lab's name.
    pub name: String,
    pub tubes: usize,
    /// Sealed → resulted, in minutes.
    pub p50_minutes: Option<i64>,
    pub p90_minutes: Option<i64>,
    pub max_minutes: Option<i64>,
    /// Tubes over the routine 12-hour target.
    pub over_target: usize,
}

fn turnaround_views(rows: Vec<(String, Turnaround)>) -> Vec<TurnaroundView> {
    rows.into_iter()
        .map(|(name, t)| TurnaroundView {
            name,
            tubes: t.tubes,
            p50_minutes: t.p50,
            p90_minutes: t.p90,
            max_minutes: t.max,
            over_target: t.over_target,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TubeFlowView {
    pub open: i64,
    pub sealed: i64,
    pub departed: i64,
    pub received: i64,
    pub resulted: i64,
    pub by_site: Vec<TurnaroundView>,
    pub by_lab: Vec<TurnaroundView>,
}

impl From<TubeFlow> for TubeFlowView {
    fn from(f: TubeFlow) -> Self {
        TubeFlowView {
            open: f.open,
            sealed: f.sealed,
            departed: f.departed,
            received: f.received,
            resulted: f.resulted,
            by_site: turnaround_views(f.by_site),
            by_lab: turnaround_views(f.by_lab),
        }
    }
}

/// Where a round's tubes are (open, sealed, on the road, at the lab, resulted) and the lab
/// turnaround per site and per lab. Requires `testing.read`.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/flow", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    responses((status = 200, body = TubeFlowView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn tube_flow(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<TubeFlowView>> {
    Ok(Json(caller.0.tube_flow(id).await?.into()))
}
