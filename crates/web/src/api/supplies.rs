//! Supplies over HTTP: the item catalogue, warehouses and their balances, stock movements (a
//! batch, or a truck's manifest as CSV), requests approved and issued, deliveries to the door.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::refusal::Refusal;
use cordon_domain::supplies::{
    DeliveryStatus, Handover, ItemCategory, MovementKind, Priority, ReceiptSource, RequestStatus, RequesterKind, WarehouseLevel,
};
use cordon_store::supplies::{
    Balance, Delivery, Item, MovementReport, NewItem, NewMovement, NewRequest, NewWarehouse, Request, RequestLine, Warehouse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use crate::api::imports::ImportRowError;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

/// Reads a text field as a domain enum, or a 400 naming the field and the value.
pub(crate) fn parse_enum<E: std::str::FromStr>(field: &str, value: &str) -> ApiResult<E> {
    value.parse::<E>().map_err(|_| ApiError::bad_field(field, cordon_domain::refusal!("refused.supply.unknown_value", value = value)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplyItemView {
    pub id: i64,
    pub name: String,
    #[schema(schema_with = crate::api::enums::supply_category)]
    pub category: String,
    pub unit: String,
    /// Kept by batch (with an expiry): received, moved and issued by its batch.
    pub tracks_batches: bool,
}

impl From<Item> for SupplyItemView {
    fn from(i: Item) -> Self {
        SupplyItemView { id: i.id, name: i.name, category: i.category.to_string(), unit: i.unit, tracks_batches: i.tracks_batches }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSupplyItemInput {
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(schema_with = crate::api::enums::supply_category)]
    pub category: String,
    #[schema(max_length = 100)]
    pub unit: String,
    #[serde(default)]
    pub tracks_batches: bool,
}

/// The item catalogue. Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/supply-items", tag = "supplies",
    responses((status = 200, body = [SupplyItemView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn list_items(caller: Caller) -> ApiResult<Json<Vec<SupplyItemView>>> {
    Ok(Json(caller.0.supply_items().await?.into_iter().map(SupplyItemView::from).collect()))
}

/// Adds an item to the catalogue (its name unique). Requires `supplies.write`.
#[utoipa::path(post, path = "/api/v1/supply-items", tag = "supplies", request_body = NewSupplyItemInput,
    responses((status = 201, body = SupplyItemView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn create_item(caller: Caller, Json(input): Json<NewSupplyItemInput>) -> ApiResult<(StatusCode, Json<SupplyItemView>)> {
    let category: ItemCategory = parse_enum("category", &input.category)?;
    let new = NewItem { name: input.name, category, unit: input.unit, tracks_batches: input.tracks_batches };
    Ok((StatusCode::CREATED, Json(caller.0.create_supply_item(&new).await?.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseView {
    pub id: i64,
    pub name: String,
    #[schema(schema_with = crate::api::enums::warehouse_level)]
    pub level: String,
    pub area_code: String,
}

impl From<Warehouse> for WarehouseView {
    fn from(w: Warehouse) -> Self {
        WarehouseView { id: w.id, name: w.name, level: w.level.to_string(), area_code: w.area_code }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWarehouseInput {
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(schema_with = crate::api::enums::warehouse_level)]
    pub level: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
}

/// The warehouses of the caller's jurisdiction. Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/warehouses", tag = "supplies",
    responses((status = 200, body = [WarehouseView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn list_warehouses(caller: Caller) -> ApiResult<Json<Vec<WarehouseView>>> {
    Ok(Json(caller.0.warehouses().await?.into_iter().map(WarehouseView::from).collect()))
}

/// Sets up a warehouse in the jurisdiction (its name unique in its area). Requires
/// `supplies.write`.
#[utoipa::path(post, path = "/api/v1/warehouses", tag = "supplies", request_body = NewWarehouseInput,
    responses((status = 201, body = WarehouseView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn create_warehouse(caller: Caller, Json(input): Json<NewWarehouseInput>) -> ApiResult<(StatusCode, Json<WarehouseView>)> {
    let level: WarehouseLevel = parse_enum("level", &input.level)?;
    let new = NewWarehouse { name: input.name, level, area_code: parse_area("area_code", &input.area_code)? };
    Ok((StatusCode::CREATED, Json(caller.0.create_warehouse(&new).await?.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    pub warehouse_id: i64,
    pub warehouse: String,
    pub item_id: i64,
    pub item: String,
    #[schema(schema_with = crate::api::enums::supply_category)]
    pub category: String,
    pub unit: String,
    /// On hand, every batch together.
    pub quantity: i64,
    pub earliest_expiry: Option<NaiveDate>,
    /// Issued and transferred out over the last three days.
    pub used_last_3_days: i64,
    /// How long what is on hand lasts at that rate; null when none was used.
    pub days_of_cover: Option<f64>,
    /// Fewer than three days of cover.
    pub short: bool,
}

impl From<Balance> for BalanceView {
    fn from(b: Balance) -> Self {
        BalanceView {
            warehouse_id: b.warehouse_id,
            warehouse: b.warehouse,
            item_id: b.item_id,
            item: b.item,
            category: b.category.to_string(),
            unit: b.unit,
            quantity: b.quantity,
            earliest_expiry: b.earliest_expiry,
            used_last_3_days: b.used,
            days_of_cover: b.days_of_cover.map(|d| (d * 10.0).round() / 10.0),
            short: b.short,
        }
    }
}

/// What each warehouse of the jurisdiction holds, item by item, with days of cover. Requires
/// `areas.read`.
#[utoipa::path(get, path = "/api/v1/warehouses/{id}/balances", tag = "supplies", params(("id" = i64, Path, description = "Warehouse id")),
    responses((status = 200, body = [BalanceView]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn balances(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Vec<BalanceView>>> {
    Ok(Json(caller.0.stock_balances(Some(id)).await?.into_iter().map(BalanceView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementView {
    pub id: i64,
    #[schema(schema_with = crate::api::enums::movement_kind)]
    pub kind: String,
    pub item_id: i64,
    pub item: String,
    pub unit: String,
    pub batch: String,
    pub from_warehouse: Option<i64>,
    pub to_warehouse: Option<i64>,
    /// Moved; for a stock-take the count less the books (negative for a loss).
    pub quantity: i64,
    /// A stock-take's count.
    pub counted: Option<i64>,
    pub source: Option<String>,
    pub reference: String,
    pub request_id: Option<i64>,
    pub delivery_id: Option<i64>,
    pub note: String,
    pub moved_at: DateTime<Utc>,
    pub recorded_by: String,
}

impl From<cordon_store::supplies::Movement> for MovementView {
    fn from(m: cordon_store::supplies::Movement) -> Self {
        MovementView {
            id: m.id,
            kind: m.kind.to_string(),
            item_id: m.item_id,
            item: m.item,
            unit: m.unit,
            batch: m.batch,
            from_warehouse: m.from_warehouse,
            to_warehouse: m.to_warehouse,
            quantity: m.quantity,
            counted: m.counted,
            source: m.source,
            reference: m.reference,
            request_id: m.request_id,
            delivery_id: m.delivery_id,
            note: m.note,
            moved_at: m.moved_at,
            recorded_by: m.recorded_by,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MovementsQuery {
    /// Movements older than this id (the next page).
    pub before: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

/// A warehouse's movements in and out, newest first, paged by id. Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/warehouses/{id}/movements", tag = "supplies", params(("id" = i64, Path, description = "Warehouse id"), MovementsQuery),
    responses((status = 200, body = [MovementView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn movements(caller: Caller, Path(id): Path<i64>, Query(q): Query<MovementsQuery>) -> ApiResult<Json<Vec<MovementView>>> {
    let limit = super::page_limit(q.limit, 100, 500)?;
    Ok(Json(caller.0.stock_movements(id, q.before, i64::from(limit)).await?.into_iter().map(MovementView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MovementInput {
    #[schema(schema_with = crate::api::enums::movement_kind)]
    pub kind: String,
    pub item_id: i64,
    /// The batch, for an item kept by batch.
    #[serde(default)]
    #[schema(max_length = 60)]
    pub batch: String,
    /// A receipt's expiry date (YYYY-MM-DD).
    pub expires_on: Option<NaiveDate>,
    /// The warehouse stock leaves: an issue's, a transfer's, a stock-take's own.
    pub from_warehouse: Option<i64>,
    /// The warehouse stock enters: a receipt's, a transfer's.
    pub to_warehouse: Option<i64>,
    /// Moved; for a stock-take, the count.
    pub quantity: i64,
    /// A receipt's source.
    #[schema(schema_with = crate::api::enums::receipt_source_or_null)]
    pub source: Option<String>,
    /// The document it came with (a manifest's or an order's number).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reference: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: String,
    /// The sender's id for it: sent again, it is answered as stored and not moved twice.
    #[schema(max_length = 100)]
    pub client_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MovementsInput {
    /// At most 10,000.
    pub movements: Vec<MovementInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredMovementView {
    /// Its place in the batch sent.
    pub index: usize,
    pub id: i64,
    /// Stored before under its client id; not moved again.
    pub repeated: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefusedMovementView {
    pub index: usize,
    /// Why, in English.
    pub detail: String,
    /// The same as a kind with its values (`refused.stock.short` names `on_hand`).
    #[schema(value_type = Object)]
    pub refusal: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementReportView {
    pub stored: Vec<StoredMovementView>,
    pub refused: Vec<RefusedMovementView>,
}

fn refused_view(index: usize, r: &Refusal) -> RefusedMovementView {
    RefusedMovementView { index, detail: crate::i18n::in_english(r), refusal: serde_json::to_value(r).unwrap_or_default() }
}

impl From<MovementReport> for MovementReportView {
    fn from(r: MovementReport) -> Self {
        MovementReportView {
            stored: r.stored.into_iter().map(|m| StoredMovementView { index: m.index, id: m.id, repeated: m.repeated }).collect(),
            refused: r.refused.iter().map(|(i, why)| refused_view(*i, why)).collect(),
        }
    }
}

/// Records stock movements — receipts, issues, transfers between warehouses, stock-takes —
/// between warehouses of the jurisdiction. Each is checked alone: one that would take a balance
/// below zero is refused with what is on hand (`refused.stock.short`) and changes nothing; the
/// rest are stored. Requires `supplies.write`.
#[utoipa::path(post, path = "/api/v1/stock-movements", tag = "supplies", request_body = MovementsInput,
    responses((status = 200, body = MovementReportView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn record_movements(caller: Caller, Json(input): Json<MovementsInput>) -> ApiResult<Json<MovementReportView>> {
    let mut asks = Vec::with_capacity(input.movements.len());
    for (i, m) in input.movements.into_iter().enumerate() {
        let kind: MovementKind = parse_enum(&format!("movements[{i}].kind"), &m.kind)?;
        let source = m.source.as_deref().map(|s| parse_enum::<ReceiptSource>(&format!("movements[{i}].source"), s)).transpose()?;
        asks.push(NewMovement {
            kind,
            item_id: m.item_id,
            batch: m.batch,
            expires_on: m.expires_on,
            from: m.from_warehouse,
            to: m.to_warehouse,
            quantity: m.quantity,
            source,
            reference: m.reference,
            note: m.note,
            client_id: m.client_id,
        });
    }
    Ok(Json(caller.0.record_movements(&asks).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ManifestQuery {
    /// Where the truck's load came from.
    #[param(schema_with = crate::api::enums::receipt_source)]
    pub source: String,
    /// The manifest's number (waybill or transfer order); the same number uploaded again
    /// receives nothing twice.
    #[param(min_length = 1, max_length = 200)]
    pub reference: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ManifestReportView {
    /// UTF-8 or GB18030 (GBK), as detected.
    pub encoding: String,
    /// Rows in the file (the header and blank lines not counted).
    pub rows: u64,
    /// Received into stock.
    pub stored: u64,
    /// Received already by an earlier upload of the same manifest number, not received twice.
    pub unchanged: u64,
    /// Each row refused, with its line and why.
    pub problems: Vec<ImportRowError>,
}

/// Receives a truck's manifest into a warehouse of the jurisdiction: a CSV (UTF-8, with or
/// without BOM, or GBK; CRLF or LF) with 物资名称/item and 数量/quantity columns, optionally
/// 单位/unit, 批号/batch and 有效期至/expires_on. Each good row is received; each bad one is
/// reported with its line. Requires `supplies.write`.
#[utoipa::path(post, path = "/api/v1/warehouses/{id}/manifest", tag = "supplies", params(("id" = i64, Path, description = "Warehouse id"), ManifestQuery),
    request_body(content = String, content_type = "text/csv", description = "物资名称,数量,单位,批号,有效期至"),
    responses((status = 200, body = ManifestReportView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn manifest(
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ManifestQuery>,
    body: axum::body::Body,
) -> ApiResult<Json<ManifestReportView>> {
    let source: ReceiptSource = parse_enum("source", &q.source)?;
    let max = cordon_store::supplies::MANIFEST_MAX_BYTES;
    let bytes = axum::body::to_bytes(body, max + 1).await.map_err(|_| {
        ApiError::from(cordon_store::StoreError::from(cordon_domain::refusal!("refused.manifest.large", max = max / 1024 / 1024)))
    })?;
    let r = caller.0.import_manifest(id, source, &q.reference, bytes.to_vec()).await?;
    Ok(Json(ManifestReportView {
        encoding: r.encoding.to_string(),
        rows: r.rows,
        stored: r.stored,
        unchanged: r.unchanged,
        problems: r.problems.iter().map(ImportRowError::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestLineView {
    pub item_id: i64,
    pub item: String,
    pub unit: String,
    pub requested: i64,
    pub approved: i64,
    pub issued: i64,
    /// Approved and not yet issued.
    pub owed: i64,
}

impl From<RequestLine> for RequestLineView {
    fn from(l: RequestLine) -> Self {
        RequestLineView {
            owed: l.owed(),
            item_id: l.item_id,
            item: l.item,
            unit: l.unit,
            requested: l.requested,
            approved: l.approved,
            issued: l.issued,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplyRequestView {
    pub id: i64,
    pub area_code: String,
    #[schema(schema_with = crate::api::enums::requester_kind)]
    pub requester_kind: String,
    pub requester_id: Option<i64>,
    /// Where it goes.
    pub place: String,
    pub contact: String,
    #[schema(schema_with = crate::api::enums::supply_priority)]
    pub priority: String,
    pub needed_by: DateTime<Utc>,
    /// Past its needed-by time and not yet met.
    pub late: bool,
    #[schema(schema_with = crate::api::enums::supply_request_status)]
    pub status: String,
    pub note: String,
    /// The warehouse it is issued from, once approved.
    pub warehouse_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    /// Why it was rejected ('' otherwise).
    pub decision_note: String,
}

impl From<Request> for SupplyRequestView {
    fn from(r: Request) -> Self {
        SupplyRequestView {
            late: r.late(Utc::now()),
            id: r.id,
            area_code: r.area_code,
            requester_kind: r.requester_kind.to_string(),
            requester_id: r.requester_id,
            place: r.place,
            contact: r.contact,
            priority: r.priority.to_string(),
            needed_by: r.needed_by,
            status: r.status.to_string(),
            note: r.note,
            warehouse_id: r.warehouse_id,
            created_at: r.created_at,
            created_by: r.created_by,
            decided_at: r.decided_at,
            decided_by: r.decided_by,
            decision_note: r.decision_note,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub request_id: i64,
    pub warehouse_id: i64,
    pub area_code: String,
    pub place: String,
    #[schema(schema_with = crate::api::enums::delivery_status)]
    pub status: String,
    pub courier: String,
    pub created_at: DateTime<Utc>,
    pub out_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Who took it, handed over in person.
    pub received_by: String,
    /// Left at a sealed door without contact, with `proof`.
    pub contactless: bool,
    pub proof: String,
    pub delivered_by: Option<String>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.id,
            request_id: d.request_id,
            warehouse_id: d.warehouse_id,
            area_code: d.area_code,
            place: d.place,
            status: d.status.to_string(),
            courier: d.courier,
            created_at: d.created_at,
            out_at: d.out_at,
            delivered_at: d.delivered_at,
            received_by: d.received_by,
            contactless: d.contactless,
            proof: d.proof,
            delivered_by: d.delivered_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplyRequestDetailView {
    pub request: SupplyRequestView,
    pub lines: Vec<RequestLineView>,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestLineInput {
    pub item_id: i64,
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSupplyRequestInput {
    /// The area it goes to (a village for a household).
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    #[schema(schema_with = crate::api::enums::requester_kind)]
    pub requester_kind: String,
    /// The quarantine site, sampling site, zone or household asking, by its id.
    pub requester_id: Option<i64>,
    #[schema(max_length = 100)]
    pub place: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub contact: String,
    #[schema(schema_with = crate::api::enums::supply_priority)]
    pub priority: String,
    /// Ahead, within 30 days.
    pub needed_by: DateTime<Utc>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
    pub lines: Vec<RequestLineInput>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestsQuery {
    /// Only requests in this status.
    #[param(schema_with = crate::api::enums::supply_request_status)]
    pub status: Option<String>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

/// The jurisdiction's supply requests, the most urgent and the nearest needed-by first.
/// Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/supply-requests", tag = "supplies", params(RequestsQuery),
    responses((status = 200, body = [SupplyRequestView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn list_requests(caller: Caller, Query(q): Query<RequestsQuery>) -> ApiResult<Json<Vec<SupplyRequestView>>> {
    let limit = super::page_limit(q.limit, 100, 500)?;
    let statuses: Vec<RequestStatus> = q.status.as_deref().map(|s| parse_enum("status", s)).transpose()?.into_iter().collect();
    Ok(Json(caller.0.supply_requests(&statuses, i64::from(limit)).await?.into_iter().map(SupplyRequestView::from).collect()))
}

/// Asks for supplies for a place of the jurisdiction: a quarantine site, a sampling site, a
/// zone or a sealed household. Requires `supplies.write`, `community.write`, `quarantine.write`
/// or `hotline.write`.
#[utoipa::path(post, path = "/api/v1/supply-requests", tag = "supplies", request_body = NewSupplyRequestInput,
    responses((status = 201, body = SupplyRequestView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn create_request(caller: Caller, Json(input): Json<NewSupplyRequestInput>) -> ApiResult<(StatusCode, Json<SupplyRequestView>)> {
    let new = NewRequest {
        area_code: parse_area("area_code", &input.area_code)?,
        requester_kind: parse_enum::<RequesterKind>("requester_kind", &input.requester_kind)?,
        requester_id: input.requester_id,
        place: input.place,
        contact: input.contact,
        priority: parse_enum::<Priority>("priority", &input.priority)?,
        needed_by: input.needed_by,
        note: input.note,
        lines: input.lines.iter().map(|l| (l.item_id, l.quantity)).collect(),
    };
    Ok((StatusCode::CREATED, Json(caller.0.create_supply_request(&new).await?.into())))
}

/// A request of the jurisdiction with its lines (requested, approved, issued, owed) and its
/// deliveries. Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/supply-requests/{id}", tag = "supplies", params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = SupplyRequestDetailView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn request_detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<SupplyRequestDetailView>> {
    let d = caller.0.supply_request(id).await?;
    Ok(Json(SupplyRequestDetailView {
        request: d.request.into(),
        lines: d.lines.into_iter().map(RequestLineView::from).collect(),
        deliveries: d.deliveries.into_iter().map(DeliveryView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ApproveInput {
    /// The warehouse of the jurisdiction it is issued from.
    pub warehouse_id: i64,
    /// Lines approved for less than asked (0 strikes one); a line not named is approved whole.
    #[serde(default)]
    pub lines: Vec<RequestLineInput>,
}

/// Approves a submitted request, line by line (at least one line above 0), or approves it
/// again — other quantities, another warehouse — while nothing of it is issued. Requires
/// `supplies.write`.
#[utoipa::path(post, path = "/api/v1/supply-requests/{id}/approve", tag = "supplies", params(("id" = i64, Path, description = "Request id")),
    request_body = ApproveInput,
    responses((status = 200, body = SupplyRequestView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn approve_request(caller: Caller, Path(id): Path<i64>, Json(input): Json<ApproveInput>) -> ApiResult<Json<SupplyRequestView>> {
    let approvals: Vec<(i64, i64)> = input.lines.iter().map(|l| (l.item_id, l.quantity)).collect();
    Ok(Json(caller.0.approve_supply_request(id, input.warehouse_id, &approvals).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectInput {
    /// Why, said to whoever asked.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Rejects a request nothing of which is issued, with the reason. Requires `supplies.write`.
#[utoipa::path(post, path = "/api/v1/supply-requests/{id}/reject", tag = "supplies", params(("id" = i64, Path, description = "Request id")),
    request_body = RejectInput,
    responses((status = 200, body = SupplyRequestView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn reject_request(caller: Caller, Path(id): Path<i64>, Json(input): Json<RejectInput>) -> ApiResult<Json<SupplyRequestView>> {
    Ok(Json(caller.0.reject_supply_request(id, &input.reason).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IssueInput {
    /// Who takes it to the door.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub courier: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedView {
    pub delivery: DeliveryView,
    pub lines: Vec<RequestLineView>,
}

/// Issues what is owed on an approved request from its warehouse as one delivery — what is on
/// hand when less, the earliest expiry first; the rest stays owed. Requires `supplies.write`.
#[utoipa::path(post, path = "/api/v1/supply-requests/{id}/issue", tag = "supplies", params(("id" = i64, Path, description = "Request id")),
    request_body = IssueInput,
    responses((status = 201, body = IssuedView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn issue_request(
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<IssueInput>,
) -> ApiResult<(StatusCode, Json<IssuedView>)> {
    let (delivery, lines) = caller.0.issue_supply_request(id, &input.courier).await?;
    Ok((StatusCode::CREATED, Json(IssuedView { delivery: delivery.into(), lines: lines.into_iter().map(RequestLineView::from).collect() })))
}

/// The jurisdiction's deliveries under way, and those delivered in the last 24 hours. Requires
/// `areas.read`.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "supplies",
    responses((status = 200, body = [DeliveryView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn list_deliveries(caller: Caller) -> ApiResult<Json<Vec<DeliveryView>>> {
    Ok(Json(caller.0.deliveries().await?.into_iter().map(DeliveryView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeliveryStatusInput {
    /// on_the_way or delivered
    #[schema(schema_with = crate::api::enums::delivery_status)]
    pub status: String,
    /// Who took it (for one handed over).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub received_by: String,
    /// Left at a sealed door without contact; `proof` then says how.
    #[serde(default)]
    pub contactless: bool,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub proof: String,
}

/// Moves a delivery of the jurisdiction on: on the way, or delivered with who received it or
/// the proof of a contactless drop. Requires `supplies.write` or `community.write`.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/status", tag = "supplies", params(("id" = i64, Path, description = "Delivery id")),
    request_body = DeliveryStatusInput,
    responses((status = 200, body = DeliveryView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::SuppliesWrite.as_str()))))]
pub async fn advance_delivery(
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<DeliveryStatusInput>,
) -> ApiResult<Json<DeliveryView>> {
    let to: DeliveryStatus = parse_enum("status", &input.status)?;
    let handover = Handover { received_by: input.received_by, contactless: input.contactless, proof: input.proof };
    Ok(Json(caller.0.advance_delivery(id, to, (to == DeliveryStatus::Delivered).then_some(&handover)).await?.into()))
}
