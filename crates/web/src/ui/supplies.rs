//! Supplies (物资保障) on pages: the warehouses' stock with days of cover and the logistics
//! officer's forms (a movement, an item, a warehouse; a truck's manifest on the imports page);
//! the requests board with the form to ask for a sealed household, a site or a zone; a request
//! approved and issued; a delivery brought to the door from a phone, with its proof.

use askama::Template;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cordon_domain::access::Permission;
use cordon_domain::supplies::{
    DeliveryStatus, Handover, ItemCategory, MovementKind, Priority, ReceiptSource, RequesterKind, WarehouseLevel,
};
use cordon_store::supplies::{NewItem, NewMovement, NewRequest, NewWarehouse};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::format::{local, percent};
use crate::i18n::Tr;
use crate::ui::form::{Form, Path, Query, checked, local_input};
use crate::ui::{NoticeQuery, Places, UserBadge, failure, form_refused, options, render, said};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/supplies", get(stock))
        .route("/supplies/movements", post(record_movement))
        .route("/supplies/items", post(create_item))
        .route("/supplies/warehouses", post(create_warehouse))
        .route("/supplies/requests", get(requests).post(create_request))
        .route("/supplies/requests/{id}", get(request))
        .route("/supplies/requests/{id}/approve", post(approve))
        .route("/supplies/requests/{id}/reject", post(reject))
        .route("/supplies/requests/{id}/issue", post(issue))
        .route("/supplies/deliveries", get(deliveries))
        .route("/supplies/deliveries/{id}", get(delivery))
        .route("/supplies/deliveries/{id}/status", post(advance))
}

/// One item's balance in a warehouse, as the stock page shows it.
pub struct BalanceRow {
    item: String,
    category: String,
    quantity: String,
    expiry: String,
    used: String,
    cover: String,
    short: bool,
}

/// A warehouse with its balances.
pub struct WarehouseBlock {
    id: i64,
    name: String,
    level: String,
    place: String,
    rows: Vec<BalanceRow>,
}

#[derive(Template)]
#[template(path = "supplies.html")]
struct StockPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    notice: Option<String>,
    warehouses: Vec<WarehouseBlock>,
    /// (id, "name (unit)")
    items: Vec<(i64, String)>,
    kinds: Vec<(&'static str, String)>,
    sources: Vec<(&'static str, String)>,
    categories: Vec<(&'static str, String)>,
    levels: Vec<(&'static str, String)>,
}

async fn stock(t: Tr, caller: Caller, Query(q): Query<NoticeQuery>) -> Response {
    let loaded = async {
        let (warehouses, balances, items) =
            tokio::try_join!(caller.0.warehouses(), caller.0.stock_balances(None), caller.0.supply_items())?;
        let places = Places::of(&caller, warehouses.iter().map(|w| w.area_code.as_str())).await?;
        Ok::<_, cordon_store::StoreError>((warehouses, balances, items, places))
    };
    let (warehouses, balances, items, places) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let blocks = warehouses
        .into_iter()
        .map(|w| WarehouseBlock {
            rows: balances
                .iter()
                .filter(|b| b.warehouse_id == w.id)
                .map(|b| BalanceRow {
                    item: b.item.clone(),
                    category: t.get(&format!("supply.category.{}", b.category.as_str())).to_string(),
                    quantity: format!("{} {}", b.quantity, b.unit),
                    expiry: b.earliest_expiry.map(|d| d.to_string()).unwrap_or_default(),
                    used: format!("{} {}", b.used, b.unit),
                    cover: b.days_of_cover.map_or_else(|| "—".to_string(), |d| t.fill("supplies.days", &[("n", &format!("{d:.1}"))])),
                    short: b.short,
                })
                .collect(),
            id: w.id,
            level: t.get(&format!("supply.level.{}", w.level.as_str())).to_string(),
            place: places.name(&w.area_code),
            name: w.name,
        })
        .collect();
    render(&StockPage {
        t,
        user: UserBadge::of(&caller),
        can_write: caller.0.principal().can(Permission::SuppliesWrite),
        notice: q.notice,
        warehouses: blocks,
        items: items.into_iter().map(|i| (i.id, format!("{}（{}）", i.name, i.unit))).collect(),
        kinds: options(MovementKind::ALL, MovementKind::as_str, |k| t.get(&format!("stock.kind.{k}")).to_string()),
        sources: options(ReceiptSource::ALL, ReceiptSource::as_str, |k| t.get(&format!("stock.source.{k}")).to_string()),
        categories: options(ItemCategory::ALL, ItemCategory::as_str, |k| t.get(&format!("supply.category.{k}")).to_string()),
        levels: options(WarehouseLevel::ALL, WarehouseLevel::as_str, |k| t.get(&format!("supply.level.{k}")).to_string()),
    })
}

#[derive(Debug, Deserialize)]
pub struct MovementForm {
    kind: MovementKind,
    item_id: i64,
    /// The warehouse the movement is about: a receipt's into, the others' out of.
    warehouse: i64,
    /// A transfer's other warehouse.
    to_warehouse: Option<i64>,
    quantity: i64,
    #[serde(default)]
    batch: String,
    /// YYYY-MM-DD as the date picker sends it; empty for none.
    #[serde(default)]
    expires_on: String,
    /// A receipt's source; empty for the other kinds.
    #[serde(default)]
    receipt_source: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    note: String,
}

async fn record_movement(t: Tr, caller: Caller, Form(f): Form<MovementForm>) -> Response {
    let source = match f.receipt_source.trim() {
        "" => None,
        s => match ReceiptSource::from_text(s) {
            Some(s) => Some(s),
            None => return form_refused(t, Some(&caller), &t.refusal(&cordon_domain::refusal!("refused.supply.unknown_value", value = s))),
        },
    };
    let expires_on = match f.expires_on.trim() {
        "" => None,
        d => match cordon_domain::person_row::parse_date(d) {
            Ok(d) => Some(d),
            Err(_) => return form_refused(t, Some(&caller), &t.refusal(&cordon_domain::refusal!("row.date", value = d))),
        },
    };
    // A receipt goes into the warehouse chosen, the others are of it; a second warehouse is
    // passed on as it was chosen (the rules refuse it on anything but a transfer).
    let (from, to) = match f.kind {
        MovementKind::Receipt => (None, Some(f.warehouse)),
        _ => (Some(f.warehouse), f.to_warehouse),
    };
    if f.kind == MovementKind::Receipt && f.to_warehouse.is_some() {
        return form_refused(
            t,
            Some(&caller),
            &t.refusal(&cordon_domain::refusal!("refused.stock.ends", kind = cordon_domain::refusal::term("stock.kind", f.kind))),
        );
    }
    let ask = NewMovement {
        kind: f.kind,
        item_id: f.item_id,
        batch: f.batch,
        expires_on,
        from,
        to,
        quantity: f.quantity,
        source,
        reference: f.reference,
        note: f.note,
        client_id: None,
    };
    match caller.0.record_movements(&[ask]).await {
        Ok(r) => match r.refused.first() {
            Some((_, why)) => form_refused(t, Some(&caller), &t.refusal(why)),
            None => Redirect::to(&format!("/supplies?notice={}", percent(t.get("supplies.moved")))).into_response(),
        },
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ItemForm {
    name: String,
    category: ItemCategory,
    unit: String,
    #[serde(default, deserialize_with = "checked")]
    tracks_batches: bool,
}

async fn create_item(t: Tr, caller: Caller, Form(f): Form<ItemForm>) -> Response {
    let new = NewItem { name: f.name, category: f.category, unit: f.unit, tracks_batches: f.tracks_batches };
    match caller.0.create_supply_item(&new).await {
        Ok(i) => {
            Redirect::to(&format!("/supplies?notice={}", percent(&t.fill("supplies.item_added", &[("name", &i.name)])))).into_response()
        }
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct WarehouseForm {
    name: String,
    level: WarehouseLevel,
    place: String,
}

async fn create_warehouse(t: Tr, caller: Caller, Form(f): Form<WarehouseForm>) -> Response {
    let done = async {
        let area = crate::ui::zones::place(&caller, &f.place).await?;
        caller.0.create_warehouse(&NewWarehouse { name: f.name.clone(), level: f.level, area_code: area }).await
    };
    match done.await {
        Ok(w) => Redirect::to(&format!("/supplies?notice={}", percent(&t.fill("supplies.warehouse_added", &[("name", &w.name)]))))
            .into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

/// A request as the board lists it.
pub struct RequestRow {
    id: i64,
    place: String,
    area: String,
    requester: String,
    priority: String,
    urgent: bool,
    needed_by: String,
    late: bool,
    status: String,
    status_code: &'static str,
}

#[derive(Template)]
#[template(path = "supply_requests.html")]
struct RequestsPage {
    t: Tr,
    user: Option<UserBadge>,
    can_ask: bool,
    notice: Option<String>,
    /// Every request, not only the open ones.
    all: bool,
    /// The id the next page of every request starts before.
    earlier: Option<i64>,
    rows: Vec<RequestRow>,
    items: Vec<(i64, String)>,
    requesters: Vec<(&'static str, String)>,
    priorities: Vec<(&'static str, String)>,
    /// The default needed-by time offered: in four hours, as a datetime-local value.
    default_needed_by: String,
}

/// The requests board's address: the open ones, or `all=1` for every request, the newest
/// first, `before` an id.
#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    notice: Option<String>,
    #[serde(default)]
    all: String,
    before: Option<i64>,
}

/// Requests shown a page on the board of every request.
const ALL_PAGE: i64 = 100;

async fn requests(t: Tr, caller: Caller, Query(q): Query<BoardQuery>) -> Response {
    let all = !q.all.is_empty();
    let loaded = async {
        use cordon_domain::supplies::RequestStatus as S;
        // The open ones (a request met or rejected leaves it for the board of every request).
        let open = [S::Submitted, S::Approved, S::PartlyIssued, S::Issued];
        let list = async {
            if all { caller.0.recent_supply_requests(q.before, ALL_PAGE).await } else { caller.0.supply_requests(&open, 500).await }
        };
        let (list, items) = tokio::try_join!(list, caller.0.supply_items())?;
        let places = Places::of(&caller, list.iter().map(|r| r.area_code.as_str())).await?;
        Ok::<_, cordon_store::StoreError>((list, items, places))
    };
    let (list, items, places) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let now = chrono::Utc::now();
    let p = caller.0.principal();
    let can_ask = [Permission::SuppliesWrite, Permission::CommunityWrite, Permission::QuarantineWrite, Permission::HotlineWrite]
        .iter()
        .any(|x| p.can(*x));
    let mut rows: Vec<RequestRow> = list
        .into_iter()
        .map(|r| RequestRow {
            late: r.late(now),
            id: r.id,
            area: places.name(&r.area_code),
            requester: t.get(&format!("supply.requester.{}", r.requester_kind.as_str())).to_string(),
            priority: t.get(&format!("supply.priority.{}", r.priority.as_str())).to_string(),
            urgent: r.priority == Priority::Urgent,
            needed_by: local(r.needed_by),
            status: t.get(&format!("supply.status.{}", r.status.as_str())).to_string(),
            status_code: r.status.as_str(),
            place: r.place,
        })
        .collect();
    // Open ones: late first, then as the store ordered them (most urgent, nearest needed-by);
    // every request: the newest first, a page at a time.
    let earlier = (all && rows.len() as i64 == ALL_PAGE).then(|| rows.last().map(|r| r.id)).flatten();
    if !all {
        rows.sort_by_key(|r| !r.late);
    }
    render(&RequestsPage {
        t,
        user: UserBadge::of(&caller),
        can_ask,
        notice: q.notice,
        all,
        earlier,
        rows,
        items: items.into_iter().map(|i| (i.id, format!("{}（{}）", i.name, i.unit))).collect(),
        requesters: options(RequesterKind::ALL, RequesterKind::as_str, |k| t.get(&format!("supply.requester.{k}")).to_string()),
        priorities: options(Priority::ALL, Priority::as_str, |k| t.get(&format!("supply.priority.{k}")).to_string()),
        default_needed_by: (now + chrono::Duration::hours(4))
            .with_timezone(&cordon_domain::local_offset())
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
    })
}

#[derive(Debug, Deserialize)]
pub struct RequestForm {
    /// The area: a village's name or code.
    area: String,
    requester_kind: RequesterKind,
    place: String,
    #[serde(default)]
    contact: String,
    priority: Priority,
    needed_by: String,
    #[serde(default)]
    note: String,
    /// Up to three lines: item and quantity (an empty quantity leaves the line out).
    item_1: Option<i64>,
    quantity_1: Option<i64>,
    item_2: Option<i64>,
    quantity_2: Option<i64>,
    item_3: Option<i64>,
    quantity_3: Option<i64>,
}

async fn create_request(t: Tr, caller: Caller, Form(f): Form<RequestForm>) -> Response {
    let Some(needed_by) = local_input(&f.needed_by) else {
        return form_refused(t, Some(&caller), t.get("supplies.bad_needed_by"));
    };
    let pairs = [(f.item_1, f.quantity_1), (f.item_2, f.quantity_2), (f.item_3, f.quantity_3)];
    // A line with an item and no quantity, or a quantity and no item, is said, not dropped.
    if pairs.iter().any(|(i, q)| i.is_some() != q.is_some()) {
        return form_refused(t, Some(&caller), t.get("supplies.half_line"));
    }
    let lines: Vec<(i64, i64)> = pairs.into_iter().filter_map(|(i, q)| Some((i?, q?))).collect();
    let done = async {
        let area = crate::ui::zones::place(&caller, &f.area).await?;
        let new = NewRequest {
            area_code: area,
            requester_kind: f.requester_kind,
            requester_id: None,
            place: f.place.clone(),
            contact: f.contact.clone(),
            priority: f.priority,
            needed_by,
            note: f.note.clone(),
            lines,
        };
        caller.0.create_supply_request(&new).await
    };
    match done.await {
        Ok(r) => Redirect::to(&format!("/supplies/requests/{}?notice={}", r.id, percent(t.get("supplies.asked")))).into_response(),
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

/// A line of a request as its page shows it.
pub struct LineRow {
    item_id: i64,
    item: String,
    unit: String,
    requested: i64,
    approved: i64,
    issued: i64,
    owed: i64,
}

/// A delivery of a request, as listed.
pub struct DeliveryRow {
    id: i64,
    status: String,
    status_code: &'static str,
    courier: String,
    when: String,
}

#[derive(Template)]
#[template(path = "supply_request.html")]
struct RequestPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    id: i64,
    place: String,
    area: String,
    requester: String,
    contact: String,
    priority: String,
    needed_by: String,
    late: bool,
    status: String,
    status_code: &'static str,
    note: String,
    asked: String,
    decided: String,
    warehouse: String,
    lines: Vec<LineRow>,
    deliveries: Vec<DeliveryRow>,
    can_approve: bool,
    /// Approving again: the lines show what is approved now, not what was asked.
    reapproving: bool,
    can_reject: bool,
    can_issue: bool,
    warehouses: Vec<(i64, String)>,
    /// The warehouse the approval form offers: the one approved, else the store nearest the
    /// requester (the deepest whose area holds the request's).
    chosen_warehouse: i64,
    /// Why it was rejected.
    decision_note: String,
}

/// The warehouse nearest an area: the deepest whose area holds it, else the first.
fn nearest_warehouse(warehouses: &[cordon_store::supplies::Warehouse], area: &str) -> Option<i64> {
    warehouses
        .iter()
        .filter(|w| area.starts_with(w.area_code.as_str()))
        .max_by_key(|w| w.area_code.len())
        .or(warehouses.first())
        .map(|w| w.id)
}

async fn request(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<NoticeQuery>) -> Response {
    let loaded = async {
        let d = caller.0.supply_request(id).await?;
        let warehouses = caller.0.warehouses().await?;
        let places = Places::of(&caller, [d.request.area_code.as_str()]).await?;
        Ok::<_, cordon_store::StoreError>((d, warehouses, places))
    };
    let (d, warehouses, places) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let r = d.request;
    let writes = caller.0.principal().can(Permission::SuppliesWrite);
    let status = r.status;
    render(&RequestPage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        id: r.id,
        area: places.name(&r.area_code),
        requester: t.get(&format!("supply.requester.{}", r.requester_kind.as_str())).to_string(),
        priority: t.get(&format!("supply.priority.{}", r.priority.as_str())).to_string(),
        needed_by: local(r.needed_by),
        late: r.late(chrono::Utc::now()),
        status: t.get(&format!("supply.status.{}", status.as_str())).to_string(),
        status_code: status.as_str(),
        asked: format!("{} {}", local(r.created_at), r.created_by),
        decided: r.decided_at.map(|at| format!("{} {}", local(at), r.decided_by.clone().unwrap_or_default())).unwrap_or_default(),
        warehouse: r.warehouse_id.and_then(|w| warehouses.iter().find(|x| x.id == w)).map(|w| w.name.clone()).unwrap_or_default(),
        lines: d
            .lines
            .into_iter()
            .map(|l| LineRow {
                owed: l.owed(),
                item_id: l.item_id,
                item: l.item,
                unit: l.unit,
                requested: l.requested,
                approved: l.approved,
                issued: l.issued,
            })
            .collect(),
        deliveries: d
            .deliveries
            .into_iter()
            .map(|x| DeliveryRow {
                id: x.id,
                status: t.get(&format!("delivery.status.{}", x.status.as_str())).to_string(),
                status_code: x.status.as_str(),
                courier: x.courier,
                when: local(x.delivered_at.unwrap_or(x.created_at)),
            })
            .collect(),
        can_approve: writes && cordon_domain::supplies::may_approve(status).is_ok(),
        reapproving: status == cordon_domain::supplies::RequestStatus::Approved,
        can_reject: writes && cordon_domain::supplies::check_reject(status, "-").is_ok(),
        can_issue: writes && cordon_domain::supplies::may_issue(status).is_ok(),
        chosen_warehouse: r.warehouse_id.or_else(|| nearest_warehouse(&warehouses, &r.area_code)).unwrap_or_default(),
        warehouses: warehouses.into_iter().map(|w| (w.id, w.name)).collect(),
        decision_note: r.decision_note,
        place: r.place,
        contact: r.contact,
        note: r.note,
    })
}

async fn approve(t: Tr, caller: Caller, Path(id): Path<i64>, axum::extract::RawForm(body): axum::extract::RawForm) -> Response {
    // The warehouse, and each line's approved quantity as `approved_<item>`.
    let mut warehouse = None;
    let mut approvals = Vec::new();
    let Ok(pairs) = serde_html_form::from_bytes::<Vec<(String, String)>>(&body) else {
        return form_refused(t, Some(&caller), t.get("form.bad"));
    };
    for (k, v) in &pairs {
        let v = v.trim();
        if k == "warehouse" {
            warehouse = v.parse::<i64>().ok();
        } else if let Some(item) = k.as_str().strip_prefix("approved_").and_then(|i| i.parse::<i64>().ok()) {
            match v.parse::<i64>() {
                Ok(q) => approvals.push((item, q)),
                Err(_) => return form_refused(t, Some(&caller), &t.fill("supplies.bad_quantity", &[("value", v)])),
            }
        }
    }
    let Some(warehouse) = warehouse else { return form_refused(t, Some(&caller), t.get("supplies.choose_warehouse")) };
    match caller.0.approve_supply_request(id, warehouse, &approvals).await {
        Ok(_) => Redirect::to(&format!("/supplies/requests/{id}?notice={}", percent(t.get("supplies.approved")))).into_response(),
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
    #[serde(default, deserialize_with = "checked")]
    confirm: bool,
}

/// Rejects a request with its reason, once the tick confirms it.
async fn reject(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<RejectForm>) -> Response {
    if !f.confirm {
        return form_refused(t, Some(&caller), t.get("supplies.reject_unconfirmed"));
    }
    match caller.0.reject_supply_request(id, &f.reason).await {
        Ok(_) => Redirect::to(&format!("/supplies/requests/{id}?notice={}", percent(t.get("supplies.rejected")))).into_response(),
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    courier: String,
}

async fn issue(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<IssueForm>) -> Response {
    match caller.0.issue_supply_request(id, &f.courier).await {
        Ok((d, _)) => Redirect::to(&format!("/supplies/deliveries/{}?notice={}", d.id, percent(t.get("supplies.issued")))).into_response(),
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

/// A delivery as the list shows it.
pub struct DeliveryListRow {
    id: i64,
    request_id: i64,
    place: String,
    area: String,
    status: String,
    status_code: &'static str,
    courier: String,
    created: String,
    delivered: String,
}

#[derive(Template)]
#[template(path = "supply_deliveries.html")]
struct DeliveriesPage {
    t: Tr,
    user: Option<UserBadge>,
    rows: Vec<DeliveryListRow>,
}

/// The jurisdiction's deliveries under way, then those delivered in the last day.
async fn deliveries(t: Tr, caller: Caller) -> Response {
    let loaded = async {
        let list = caller.0.deliveries().await?;
        let places = Places::of(&caller, list.iter().map(|d| d.area_code.as_str())).await?;
        Ok::<_, cordon_store::StoreError>((list, places))
    };
    let (list, places) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let rows = list
        .into_iter()
        .map(|d| DeliveryListRow {
            id: d.id,
            request_id: d.request_id,
            area: places.name(&d.area_code),
            status: t.get(&format!("delivery.status.{}", d.status.as_str())).to_string(),
            status_code: d.status.as_str(),
            created: local(d.created_at),
            delivered: d.delivered_at.map(local).unwrap_or_default(),
            courier: d.courier,
            place: d.place,
        })
        .collect();
    render(&DeliveriesPage { t, user: UserBadge::of(&caller), rows })
}

#[derive(Template)]
#[template(path = "delivery.html")]
struct DeliveryPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    id: i64,
    request_id: i64,
    place: String,
    area: String,
    status: String,
    status_code: &'static str,
    courier: String,
    /// (item, quantity with unit, batch)
    items: Vec<(String, String, String)>,
    can_deliver: bool,
    handed: String,
}

async fn delivery(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<NoticeQuery>) -> Response {
    let loaded = async {
        let (d, items) = caller.0.delivery(id).await?;
        let places = Places::of(&caller, [d.area_code.as_str()]).await?;
        Ok::<_, cordon_store::StoreError>((d, items, places))
    };
    let (d, items, places) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let p = caller.0.principal();
    let handed = match (d.status, d.contactless) {
        (DeliveryStatus::Delivered, true) => {
            t.fill("supplies.left_at_door", &[("proof", &d.proof), ("when", &d.delivered_at.map(local).unwrap_or_default())])
        }
        (DeliveryStatus::Delivered, false) => {
            t.fill("supplies.handed_to", &[("name", &d.received_by), ("when", &d.delivered_at.map(local).unwrap_or_default())])
        }
        _ => String::new(),
    };
    render(&DeliveryPage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        id: d.id,
        request_id: d.request_id,
        area: places.name(&d.area_code),
        status: t.get(&format!("delivery.status.{}", d.status.as_str())).to_string(),
        status_code: d.status.as_str(),
        can_deliver: (p.can(Permission::SuppliesWrite) || p.can(Permission::CommunityWrite)) && d.status != DeliveryStatus::Delivered,
        items: items.into_iter().map(|m| (m.item, format!("{} {}", m.quantity, m.unit), m.batch)).collect(),
        courier: d.courier,
        place: d.place,
        handed,
    })
}

#[derive(Debug, Deserialize)]
pub struct AdvanceForm {
    status: DeliveryStatus,
    #[serde(default)]
    received_by: String,
    #[serde(default, deserialize_with = "checked")]
    contactless: bool,
    #[serde(default)]
    proof: String,
}

async fn advance(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<AdvanceForm>) -> Response {
    let handover = Handover { received_by: f.received_by, contactless: f.contactless, proof: f.proof };
    let given = (f.status == DeliveryStatus::Delivered).then_some(&handover);
    match caller.0.advance_delivery(id, f.status, given).await {
        Ok(d) => Redirect::to(&format!(
            "/supplies/deliveries/{id}?notice={}",
            percent(&t.fill("supplies.delivery_now", &[("status", t.get(&format!("delivery.status.{}", d.status.as_str())))]))
        ))
        .into_response(),
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}
