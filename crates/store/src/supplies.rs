//! Supplies: items, warehouses, the books (`stock_balances`), movements, requests and deliveries.
//! Every change of stock is a [`MoveRow`] written by [`Store::write_plan`]: on SQLite through the
//! one writer (`sqlite/supplies.rs`), on PostgreSQL in one transaction here. Taking stock out is
//! one guarded statement (`quantity >= wanted`), so a balance never goes below zero however many
//! write at once; a movement that would take it there is refused with what is on hand and changes
//! nothing. The domain decides (`cordon_domain::supplies`); this reads, plans and writes.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::refusal::Refusal;
use cordon_domain::supplies::{
    self as rules, DeliveryStatus, Ends, Handover, ItemCategory, Line, MovementKind, Priority, ReceiptSource, RequestStatus, RequesterKind,
    WarehouseLevel,
};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Result, Store, StoreError, with_read_pool, with_write_pool};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub category: ItemCategory,
    pub unit: String,
    pub tracks_batches: bool,
}

#[derive(Debug, Clone)]
pub struct NewItem {
    pub name: String,
    pub category: ItemCategory,
    pub unit: String,
    pub tracks_batches: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Warehouse {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub level: WarehouseLevel,
    pub area_code: String,
}

#[derive(Debug, Clone)]
pub struct NewWarehouse {
    pub name: String,
    pub level: WarehouseLevel,
    pub area_code: AreaCode,
}

/// One movement as asked. For a stock-take, `quantity` is the count.
#[derive(Debug, Clone)]
pub struct NewMovement {
    pub kind: MovementKind,
    pub item_id: i64,
    pub batch: String,
    pub expires_on: Option<NaiveDate>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub quantity: i64,
    pub source: Option<ReceiptSource>,
    pub reference: String,
    pub note: String,
    /// The sender's id for it: sent again, it is answered as stored and not moved twice.
    pub client_id: Option<String>,
}

/// A movement stored (or found stored under its client id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// Its place in the batch asked.
    pub index: usize,
    pub id: i64,
    pub repeated: bool,
}

/// What a batch of movements did: each stored one, each refused one with why.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MovementReport {
    pub stored: Vec<Moved>,
    pub refused: Vec<(usize, Refusal)>,
}

/// The most lines one request may hold.
pub const MAX_LINES: usize = 100;

/// A movement's row, planned and checked, in [`INSERT_MOVEMENT`]'s order.
#[derive(Debug, Clone)]
pub(crate) struct MoveRow {
    pub(crate) index: usize,
    pub(crate) kind: MovementKind,
    pub(crate) item_id: i64,
    pub(crate) batch: String,
    pub(crate) expires_on: Option<NaiveDate>,
    pub(crate) from: Option<i64>,
    pub(crate) to: Option<i64>,
    /// Moved; for a stock-take the count (the difference is worked out against the books).
    pub(crate) quantity: i64,
    pub(crate) source: Option<&'static str>,
    pub(crate) reference: String,
    pub(crate) note: String,
    pub(crate) request_id: Option<i64>,
    pub(crate) moved_at: DateTime<Utc>,
    pub(crate) recorded_by: String,
    pub(crate) client_id: Option<String>,
    /// For the refusal's words.
    pub(crate) item_name: String,
    pub(crate) unit: String,
}

pub(crate) const TAKE: &str = "UPDATE stock_balances SET quantity = quantity - $4 \
     WHERE warehouse_id = $1 AND item_id = $2 AND batch = $3 AND quantity >= $4 RETURNING expires_on";
pub(crate) const ON_HAND: &str = "SELECT quantity FROM stock_balances WHERE warehouse_id = $1 AND item_id = $2 AND batch = $3";
pub(crate) const PUT: &str = "INSERT INTO stock_balances (warehouse_id, item_id, batch, expires_on, quantity) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (warehouse_id, item_id, batch) DO UPDATE SET quantity = stock_balances.quantity + excluded.quantity, \
     expires_on = COALESCE(stock_balances.expires_on, excluded.expires_on)";
/// A stock-take makes sure the balance's row exists (zero when new), reads it locked (on
/// PostgreSQL `FOR UPDATE`; SQLite's one writer already orders every write), then sets the count.
pub(crate) const ENSURE_ROW: &str = "INSERT INTO stock_balances (warehouse_id, item_id, batch, quantity) VALUES ($1, $2, $3, 0) \
     ON CONFLICT (warehouse_id, item_id, batch) DO NOTHING";
const ON_HAND_LOCKED: &str = "SELECT quantity FROM stock_balances WHERE warehouse_id = $1 AND item_id = $2 AND batch = $3 FOR UPDATE";
pub(crate) const SET_COUNTED: &str = "UPDATE stock_balances SET quantity = $4 WHERE warehouse_id = $1 AND item_id = $2 AND batch = $3";
pub(crate) const BY_CLIENT: &str = "SELECT id FROM stock_movements WHERE client_id = $1";
pub(crate) const INSERT_MOVEMENT: &str = "INSERT INTO stock_movements (kind, item_id, batch, expires_on, from_warehouse, to_warehouse, \
     quantity, counted, source, reference, request_id, delivery_id, note, moved_at, recorded_by, client_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id";
pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO deliveries (request_id, warehouse_id, area_code, place, status, courier, created_at, created_by) \
     VALUES ($1, $2, $3, $4, 'planned', $5, $6, $7) RETURNING id";
/// A line's issued count moved on only from what was read.
pub(crate) const LINE_ISSUED: &str = "UPDATE supply_request_lines SET issued = $4 WHERE request_id = $1 AND item_id = $2 AND issued = $3";
pub(crate) const REQUEST_STATUS: &str = "UPDATE supply_requests SET status = $3 WHERE id = $1 AND status = $2";

/// Several changes written together: a delivery (whose id the movements take), the movements,
/// the request lines' issued counts and the request's status, and the audit event. `whole`: any
/// refusal refuses all (an issue against a request); else each movement stands alone (a batch).
#[derive(Debug, Clone)]
pub(crate) struct WritePlan {
    pub(crate) delivery: Option<DeliveryRow>,
    pub(crate) moves: Vec<MoveRow>,
    /// (request, item, issued as read, issued after)
    pub(crate) lines: Vec<(i64, i64, i64, i64)>,
    /// (request, status as read, status after)
    pub(crate) status: Option<(i64, &'static str, &'static str)>,
    pub(crate) whole: bool,
    pub(crate) change: Change,
}

#[derive(Debug, Clone)]
pub(crate) struct DeliveryRow {
    pub(crate) request_id: i64,
    pub(crate) warehouse_id: i64,
    pub(crate) area_code: String,
    pub(crate) place: String,
    pub(crate) courier: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) created_by: String,
}

/// What a plan wrote.
#[derive(Debug, Clone, Default)]
pub(crate) struct Written {
    pub(crate) delivery_id: Option<i64>,
    pub(crate) report: MovementReport,
}

/// The refusal of a movement the books do not allow: what is on hand, or (when there is enough
/// after all) that the stock moved meanwhile.
pub(crate) fn short(row: &MoveRow, on_hand: i64) -> Refusal {
    rules::take(on_hand, row.quantity, &row.item_name, &row.unit).err().unwrap_or_else(|| Refusal::conflict("refused.stock.moved"))
}

/// An item's balance in one warehouse, its batches summed.
#[derive(Debug, Clone, Serialize)]
pub struct Balance {
    pub warehouse_id: i64,
    pub warehouse: String,
    pub area_code: String,
    pub item_id: i64,
    pub item: String,
    pub category: ItemCategory,
    pub unit: String,
    pub quantity: i64,
    pub batches: i64,
    pub earliest_expiry: Option<NaiveDate>,
    /// Issued and transferred out over the last [`rules::COVER_WINDOW_DAYS`] days.
    pub used: i64,
    pub days_of_cover: Option<f64>,
    pub short: bool,
}

/// A movement as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Movement {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: MovementKind,
    pub item_id: i64,
    pub item: String,
    pub unit: String,
    pub batch: String,
    pub from_warehouse: Option<i64>,
    pub to_warehouse: Option<i64>,
    pub quantity: i64,
    pub counted: Option<i64>,
    pub source: Option<String>,
    pub reference: String,
    pub request_id: Option<i64>,
    pub delivery_id: Option<i64>,
    pub note: String,
    pub moved_at: DateTime<Utc>,
    pub recorded_by: String,
}

/// A request for supplies with its lines.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub area_code: AreaCode,
    pub requester_kind: RequesterKind,
    pub requester_id: Option<i64>,
    pub place: String,
    pub contact: String,
    pub priority: Priority,
    pub needed_by: DateTime<Utc>,
    pub note: String,
    /// (item, quantity)
    pub lines: Vec<(i64, i64)>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Request {
    pub id: i64,
    pub area_code: String,
    #[sqlx(try_from = "String")]
    pub requester_kind: RequesterKind,
    pub requester_id: Option<i64>,
    pub place: String,
    pub contact: String,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    pub needed_by: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub status: RequestStatus,
    pub note: String,
    pub warehouse_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    /// Why it was rejected ('' otherwise).
    pub decision_note: String,
}

impl Request {
    /// Past its needed-by time and not yet met.
    pub fn late(&self, now: DateTime<Utc>) -> bool {
        rules::is_late(self.needed_by, self.status, now)
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestLine {
    pub item_id: i64,
    pub item: String,
    pub unit: String,
    pub requested: i64,
    pub approved: i64,
    pub issued: i64,
}

impl RequestLine {
    pub fn owed(&self) -> i64 {
        self.line().owed()
    }
    fn line(&self) -> Line {
        Line { requested: self.requested, approved: self.approved, issued: self.issued }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub request_id: i64,
    pub warehouse_id: i64,
    pub area_code: String,
    pub place: String,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub courier: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub out_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub received_by: String,
    pub contactless: bool,
    pub proof: String,
    pub delivered_by: Option<String>,
}

const REQUEST_SELECT: &str = "SELECT id, area_code, requester_kind, requester_id, place, contact, priority, needed_by, status, note, \
     warehouse_id, created_at, created_by, decided_at, decided_by, decision_note FROM supply_requests";
const DELIVERY_SELECT: &str = "SELECT id, request_id, warehouse_id, area_code, place, status, courier, created_at, created_by, out_at, \
     delivered_at, received_by, contactless, proof, delivered_by FROM deliveries";

fn check_name(name: &str, kind: &'static str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(StoreError::from(Refusal::new(kind)));
    }
    Ok(n.to_string())
}

fn check_note(text: &str) -> Result<String> {
    let t = text.trim();
    if t.chars().count() > 500 {
        return Err(refused!("refused.supply.note_long", max = 500));
    }
    Ok(t.to_string())
}

impl Store {
    pub(crate) async fn create_item(&self, actor: &Actor, new: &NewItem) -> Result<Item> {
        let name = check_name(&new.name, "refused.stock.item_name")?;
        let unit = check_name(&new.unit, "refused.stock.unit")?;
        let now = Utc::now();
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO supply_items (name, category, unit, tracks_batches, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(&name).bind(new.category.as_str()).bind(&unit).bind(new.tracks_batches).bind(now).bind(&actor.name)
                .fetch_one(&mut *tx).await?;
            tx.append(actor, &Change::new("create", "supply_item", id).after(serde_json::json!({
                "name": name, "category": new.category, "unit": unit, "tracks_batches": new.tracks_batches }))).await?;
            tx.commit().await?;
            id
        });
        Ok(Item { id, name, category: new.category, unit, tracks_batches: new.tracks_batches })
    }

    /// Every item, by category and name.
    pub async fn supply_items(&self) -> Result<Vec<Item>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Item>(
            "SELECT id, name, category, unit, tracks_batches FROM supply_items ORDER BY category, name LIMIT 2000").fetch_all(pool).await?))
    }

    pub(crate) async fn create_warehouse(&self, actor: &Actor, new: &NewWarehouse) -> Result<Warehouse> {
        let name = check_name(&new.name, "refused.stock.warehouse_name")?;
        if self.area(&new.area_code).await?.is_none() {
            return Err(refused!("refused.area_unregistered", area = new.area_code));
        }
        let now = Utc::now();
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO warehouses (name, level, area_code, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(&name).bind(new.level.as_str()).bind(new.area_code.as_str()).bind(now).bind(&actor.name)
                .fetch_one(&mut *tx).await?;
            tx.append(actor, &Change::new("create", "warehouse", id).area(new.area_code.as_str())
                .after(serde_json::json!({ "name": name, "level": new.level }))).await?;
            tx.commit().await?;
            id
        });
        Ok(Warehouse { id, name, level: new.level, area_code: new.area_code.to_string() })
    }

    pub(crate) async fn warehouse_by_id(&self, id: i64) -> Result<Option<Warehouse>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Warehouse>(
            "SELECT id, name, level, area_code FROM warehouses WHERE id = $1").bind(id).fetch_optional(pool).await?))
    }

    /// The warehouses among `ids` (those that exist).
    pub(crate) async fn warehouses_by_id(&self, ids: &[i64]) -> Result<Vec<Warehouse>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT id, name, level, area_code FROM warehouses WHERE id IN ({})", crate::list_placeholders(0, ids.len()));
        Ok(with_read_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, Warehouse>(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids { q = q.bind(*id); }
            q.fetch_all(pool).await?
        }))
    }

    /// The warehouses in `scope`, by area and name.
    pub(crate) async fn warehouses_in(&self, scope: &[AreaCode]) -> Result<Vec<Warehouse>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("area_code", scope, &mut params) else { return Ok(Vec::new()) };
        let sql = format!("SELECT id, name, level, area_code FROM warehouses WHERE {inside} ORDER BY area_code, name LIMIT 1000");
        Ok(with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as::<_, Warehouse>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    async fn items_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, Item>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, name, category, unit, tracks_batches FROM supply_items WHERE id IN ({})",
            crate::list_placeholders(0, ids.len())
        );
        let rows: Vec<Item> = with_read_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, Item>(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids { q = q.bind(*id); }
            q.fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|i| (i.id, i)).collect())
    }

    /// Checks each movement against the rules and the items and warehouses it names (all of
    /// them in `warehouses`, the caller's); answers the rows to write and the refused.
    pub(crate) async fn plan_movements(
        &self,
        actor: &Actor,
        asks: &[NewMovement],
        warehouses: &HashMap<i64, Warehouse>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<MoveRow>, Vec<(usize, Refusal)>)> {
        let mut ids: Vec<i64> = asks.iter().map(|m| m.item_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let items = self.items_by_id(&ids).await?;
        let today = cordon_domain::local_date(now);
        let mut rows = Vec::with_capacity(asks.len());
        let mut refused = Vec::new();
        for (index, ask) in asks.iter().enumerate() {
            match plan_one(index, ask, &items, warehouses, today) {
                Ok(mut row) => {
                    row.moved_at = now;
                    row.recorded_by.clone_from(&actor.name);
                    rows.push(row);
                }
                Err(r) => refused.push((index, r)),
            }
        }
        Ok((rows, refused))
    }

    /// Stores a batch of movements (each refused one reported, the rest stored) with one audit
    /// event naming them.
    pub(crate) async fn record_movements(
        &self,
        actor: &Actor,
        asks: &[NewMovement],
        warehouses: &HashMap<i64, Warehouse>,
        now: DateTime<Utc>,
    ) -> Result<MovementReport> {
        let (rows, mut refused) = self.plan_movements(actor, asks, warehouses, now).await?;
        let shared = shared_area(&rows, warehouses);
        let mut change = Change::new("record", "stock_movements", 0)
            .after(serde_json::json!({ "asked": asks.len(), "refused_before_writing": refused.len() }));
        if !shared.is_empty() {
            change = change.area(&shared);
        }
        let plan = WritePlan { delivery: None, moves: rows, lines: Vec::new(), status: None, whole: false, change };
        let mut report = if plan.moves.is_empty() { MovementReport::default() } else { self.write_plan(actor, plan).await?.report };
        report.refused.append(&mut refused);
        report.refused.sort_by_key(|(i, _)| *i);
        Ok(report)
    }

    /// Writes a plan on the backend's path.
    pub(crate) async fn write_plan(&self, actor: &Actor, plan: WritePlan) -> Result<Written> {
        match &*self.backend {
            crate::Backend::Sqlite(b) => {
                let actor = actor.clone();
                b.writer.write(move |c| crate::sqlite::supplies::write_plan(c, &actor, plan)).await
            }
            crate::Backend::Postgres(b) => write_plan_pg(&b.pool, actor, plan).await,
        }
    }

    /// The balances of the warehouses in `scope` (or the one warehouse), item by item, with days
    /// of cover from the last days' issues.
    pub(crate) async fn balances(&self, scope: &[AreaCode], warehouse: Option<i64>, now: DateTime<Utc>) -> Result<Vec<Balance>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("w.area_code", scope, &mut params) else { return Ok(Vec::new()) };
        let one = match warehouse {
            Some(id) => {
                params.push(crate::Param::Int(id));
                format!(" AND w.id = ${}", params.len())
            }
            None => String::new(),
        };
        params.push(crate::Param::Time(now - Duration::days(rules::COVER_WINDOW_DAYS)));
        let since = params.len();
        let sql = format!(
            "SELECT w.id, w.name, w.area_code, i.id, i.name, i.category, i.unit, CAST(SUM(b.quantity) AS BIGINT), SUM(CASE WHEN b.quantity > 0 THEN 1 ELSE 0 END), MIN(CASE WHEN b.quantity > 0 THEN b.expires_on END), \
             (SELECT CAST(COALESCE(SUM(m.quantity), 0) AS BIGINT) FROM stock_movements m WHERE m.from_warehouse = w.id AND m.kind IN ('issue', 'transfer') \
              AND m.moved_at >= ${since} AND m.item_id = i.id) \
             FROM stock_balances b JOIN warehouses w ON w.id = b.warehouse_id JOIN supply_items i ON i.id = b.item_id \
             WHERE {inside}{one} GROUP BY w.id, w.name, w.area_code, i.id, i.name, i.category, i.unit \
             ORDER BY w.area_code, w.name, i.category, i.name LIMIT 5000"
        );
        type Row = (i64, String, String, i64, String, String, String, i64, i64, Option<NaiveDate>, i64);
        let rows: Vec<Row> = with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(wid, wname, area, iid, iname, cat, unit, quantity, batches, expiry, used)| {
                let cover = rules::days_of_cover(quantity, used);
                Ok(Balance {
                    warehouse_id: wid,
                    warehouse: wname,
                    area_code: area,
                    item_id: iid,
                    item: iname,
                    category: cat.parse().map_err(StoreError::corrupt)?,
                    unit,
                    quantity,
                    batches,
                    earliest_expiry: expiry,
                    used,
                    days_of_cover: cover,
                    short: rules::cover_short(cover, rules::COVER_WARNING_DAYS),
                })
            })
            .collect()
    }

    /// A warehouse's movements, newest first, paged by id (`before`).
    pub(crate) async fn movements_of(&self, warehouse: i64, before: Option<i64>, limit: i64) -> Result<Vec<Movement>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Movement>(
            "SELECT m.id, m.kind, m.item_id, i.name AS item, i.unit, m.batch, m.from_warehouse, m.to_warehouse, m.quantity, m.counted, \
             m.source, m.reference, m.request_id, m.delivery_id, m.note, m.moved_at, m.recorded_by \
             FROM stock_movements m JOIN supply_items i ON i.id = m.item_id \
             WHERE (m.from_warehouse = $1 OR m.to_warehouse = $1) AND m.id < $2 ORDER BY m.id DESC LIMIT $3")
            .bind(warehouse).bind(before.unwrap_or(i64::MAX)).bind(limit).fetch_all(pool).await?))
    }

    pub(crate) async fn create_request(&self, actor: &Actor, new: &NewRequest, now: DateTime<Utc>) -> Result<Request> {
        let place = check_name(&new.place, "refused.supply.no_place")?;
        let contact = check_note(&new.contact)?;
        let note = check_note(&new.note)?;
        rules::check_needed_by(new.needed_by, now)?;
        if new.lines.is_empty() {
            return Err(refused!("refused.supply.no_lines"));
        }
        if new.lines.len() > MAX_LINES {
            return Err(refused!("refused.supply.lines_many", max = MAX_LINES));
        }
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<i64> = new.lines.iter().map(|l| l.0).collect();
        let items = self.items_by_id(&ids).await?;
        for (item, q) in &new.lines {
            rules::check_quantity(*q)?;
            if !items.contains_key(item) {
                return Err(missing!("refused.stock.no_item", id = item));
            }
            if !seen.insert(*item) {
                return Err(refused!("refused.supply.line_twice", item = items[item].name.clone()));
            }
        }
        if self.area(&new.area_code).await?.is_none() {
            return Err(refused!("refused.area_unregistered", area = new.area_code));
        }
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO supply_requests (area_code, requester_kind, requester_id, place, contact, priority, needed_by, status, note, \
                 created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $9, $10) RETURNING id")
                .bind(new.area_code.as_str()).bind(new.requester_kind.as_str()).bind(new.requester_id).bind(&place).bind(&contact)
                .bind(new.priority.as_str()).bind(new.needed_by).bind(&note).bind(now).bind(&actor.name)
                .fetch_one(&mut *tx).await?;
            for (item, q) in &new.lines {
                sqlx::query("INSERT INTO supply_request_lines (request_id, item_id, requested) VALUES ($1, $2, $3)")
                    .bind(id).bind(*item).bind(*q).execute(&mut *tx).await?;
            }
            tx.append(actor, &Change::new("create", "supply_request", id).area(new.area_code.as_str()).after(serde_json::json!({
                "requester_kind": new.requester_kind, "place": place, "priority": new.priority, "needed_by": new.needed_by,
                "lines": new.lines }))).await?;
            tx.commit().await?;
            id
        });
        self.request_by_id(id).await?.ok_or_else(|| StoreError::Task(format!("request {id} gone")))
    }

    pub(crate) async fn request_by_id(&self, id: i64) -> Result<Option<Request>> {
        let sql = format!("{REQUEST_SELECT} WHERE id = $1");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Request>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
    }

    pub(crate) async fn request_lines(&self, id: i64) -> Result<Vec<RequestLine>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, RequestLine>(
            "SELECT l.item_id, i.name AS item, i.unit, l.requested, l.approved, l.issued FROM supply_request_lines l \
             JOIN supply_items i ON i.id = l.item_id WHERE l.request_id = $1 ORDER BY i.category, i.name")
            .bind(id).fetch_all(pool).await?))
    }

    /// The requests in `scope` with the given statuses (all when empty), the most urgent and
    /// the nearest needed-by first; paged by id.
    pub(crate) async fn requests_in(&self, scope: &[AreaCode], statuses: &[RequestStatus], limit: i64) -> Result<Vec<Request>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("area_code", scope, &mut params) else { return Ok(Vec::new()) };
        let status = if statuses.is_empty() {
            String::new()
        } else {
            let start = params.len();
            params.extend(statuses.iter().map(|s| crate::Param::Text(s.as_str().to_string())));
            format!(" AND status IN ({})", crate::list_placeholders(start, statuses.len()))
        };
        params.push(crate::Param::Int(limit));
        let sql = format!(
            "{REQUEST_SELECT} WHERE {inside}{status} ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, needed_by, id LIMIT ${}",
            params.len()
        );
        Ok(with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as::<_, Request>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// The requests in `scope` of every status, the newest first, `before` an id (paged by id).
    pub(crate) async fn requests_recent(&self, scope: &[AreaCode], before: Option<i64>, limit: i64) -> Result<Vec<Request>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("area_code", scope, &mut params) else { return Ok(Vec::new()) };
        params.push(crate::Param::Int(before.unwrap_or(i64::MAX)));
        let before = params.len();
        params.push(crate::Param::Int(limit));
        let sql = format!("{REQUEST_SELECT} WHERE {inside} AND id < ${before} ORDER BY id DESC LIMIT ${}", params.len());
        Ok(with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as::<_, Request>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// Approves a submitted request line by line from `warehouse`, or approves it again (other
    /// quantities, another warehouse) while nothing of it is issued.
    pub(crate) async fn approve_request(
        &self,
        actor: &Actor,
        req: &Request,
        warehouse: &Warehouse,
        approvals: &[(i64, i64)],
        now: DateTime<Utc>,
    ) -> Result<Request> {
        rules::may_approve(req.status)?;
        let lines = self.request_lines(req.id).await?;
        let mut after = Vec::with_capacity(lines.len());
        for l in &lines {
            let approved = approvals.iter().find(|(i, _)| *i == l.item_id).map_or(l.requested, |(_, q)| *q);
            after.push((l.item_id, rules::check_approved(l.requested, approved)?));
        }
        if let Some((item, _)) = approvals.iter().find(|(i, _)| !lines.iter().any(|l| l.item_id == *i)) {
            return Err(refused!("refused.supply.not_a_line", item = item));
        }
        // Nothing approved is a rejection, which says why (reject_request).
        if after.iter().all(|(_, a)| *a == 0) {
            return Err(refused!("refused.supply.approve_nothing"));
        }
        let status = rules::status_after(&after.iter().map(|(_, a)| Line { requested: *a, approved: *a, issued: 0 }).collect::<Vec<_>>());
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Guarded on the status read: approved again only while nothing was issued meanwhile.
            let moved = sqlx::query("UPDATE supply_requests SET status = $2, warehouse_id = $3, decided_at = $4, decided_by = $5, \
                 decision_note = '' WHERE id = $1 AND status = $6")
                .bind(req.id).bind(status.as_str()).bind(warehouse.id).bind(now).bind(&actor.name).bind(req.status.as_str())
                .execute(&mut *tx).await?;
            if moved.rows_affected() != 1 {
                return Err(StoreError::from(Refusal::conflict("refused.supply.moved")));
            }
            for (item, approved) in &after {
                sqlx::query("UPDATE supply_request_lines SET approved = $3 WHERE request_id = $1 AND item_id = $2")
                    .bind(req.id).bind(*item).bind(*approved).execute(&mut *tx).await?;
            }
            tx.append(actor, &Change::new("approve", "supply_request", req.id).area(&req.area_code).after(serde_json::json!({
                "status": status, "warehouse_id": warehouse.id, "approved": after }))).await?;
            tx.commit().await?;
        });
        self.request_by_id(req.id).await?.ok_or_else(|| StoreError::Task("request gone".into()))
    }

    /// Rejects a request nothing of which is issued, with the reason said to the requester.
    pub(crate) async fn reject_request(&self, actor: &Actor, req: &Request, reason: &str, now: DateTime<Utc>) -> Result<Request> {
        let reason = rules::check_reject(req.status, reason)?;
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query("UPDATE supply_requests SET status = 'rejected', warehouse_id = NULL, decided_at = $2, decided_by = $3, \
                 decision_note = $4 WHERE id = $1 AND status = $5")
                .bind(req.id).bind(now).bind(&actor.name).bind(&reason).bind(req.status.as_str()).execute(&mut *tx).await?;
            if moved.rows_affected() != 1 {
                return Err(StoreError::from(Refusal::conflict("refused.supply.moved")));
            }
            sqlx::query("UPDATE supply_request_lines SET approved = 0 WHERE request_id = $1").bind(req.id).execute(&mut *tx).await?;
            tx.append(actor, &Change::new("reject", "supply_request", req.id).area(&req.area_code)
                .before(serde_json::json!({ "status": req.status }))
                .after(serde_json::json!({ "status": RequestStatus::Rejected, "reason": reason }))).await?;
            tx.commit().await?;
        });
        self.request_by_id(req.id).await?.ok_or_else(|| StoreError::Task("request gone".into()))
    }

    /// Issues what is owed on an approved request from its warehouse — what is on hand when less,
    /// the earliest expiry first — as one delivery to the requester's place. Refused when nothing
    /// owed is on hand.
    pub(crate) async fn issue_request(
        &self,
        actor: &Actor,
        req: &Request,
        courier: &str,
        now: DateTime<Utc>,
    ) -> Result<(Delivery, Vec<RequestLine>)> {
        rules::may_issue(req.status)?;
        let courier = check_note(courier)?;
        let warehouse = req.warehouse_id.ok_or_else(|| StoreError::Task("approved request without its warehouse".into()))?;
        let lines = self.request_lines(req.id).await?;
        let mut moves = Vec::new();
        let mut line_updates = Vec::new();
        let mut after = Vec::new();
        for l in &lines {
            let mut issued = 0;
            if l.owed() > 0 {
                let batches: Vec<(String, Option<NaiveDate>, i64)> = with_read_pool!(self, pool => sqlx::query_as(
                    "SELECT batch, expires_on, quantity FROM stock_balances WHERE warehouse_id = $1 AND item_id = $2 AND quantity > 0 \
                     AND (expires_on IS NULL OR expires_on >= $3) ORDER BY expires_on IS NULL, expires_on, batch")
                    .bind(warehouse).bind(l.item_id).bind(cordon_domain::local_date(now)).fetch_all(pool).await?);
                for (batch, expires_on, on_hand) in batches {
                    let take = rules::allocate(l.owed() - issued, on_hand);
                    if take == 0 {
                        break;
                    }
                    issued += take;
                    moves.push(MoveRow {
                        index: moves.len(),
                        kind: MovementKind::Issue,
                        item_id: l.item_id,
                        batch,
                        expires_on,
                        from: Some(warehouse),
                        to: None,
                        quantity: take,
                        source: None,
                        reference: format!("REQ-{}", req.id),
                        note: String::new(),
                        request_id: Some(req.id),
                        moved_at: now,
                        recorded_by: actor.name.clone(),
                        client_id: None,
                        item_name: l.item.clone(),
                        unit: l.unit.clone(),
                    });
                }
            }
            // Every line is guarded, moved or not: the status is worked out from all of them.
            line_updates.push((req.id, l.item_id, l.issued, l.issued + issued));
            after.push(Line { requested: l.requested, approved: l.approved, issued: l.issued + issued });
        }
        if moves.is_empty() {
            return Err(refused!("refused.supply.nothing_on_hand"));
        }
        let status = rules::status_after(&after);
        let plan = WritePlan {
            delivery: Some(DeliveryRow {
                request_id: req.id,
                warehouse_id: warehouse,
                area_code: req.area_code.clone(),
                place: req.place.clone(),
                courier,
                created_at: now,
                created_by: actor.name.clone(),
            }),
            change: Change::new("issue", "supply_request", req.id).area(&req.area_code).after(serde_json::json!({
                "status": status,
                "issued": moves.iter().map(|m| serde_json::json!({"item_id": m.item_id, "batch": m.batch, "quantity": m.quantity})).collect::<Vec<_>>(),
            })),
            moves,
            lines: line_updates,
            status: Some((req.id, req.status.as_str(), status.as_str())),
            whole: true,
        };
        let written = self.write_plan(actor, plan).await?;
        let id = written.delivery_id.ok_or_else(|| StoreError::Task("a delivery was not written".into()))?;
        let delivery = self.delivery_by_id(id).await?.ok_or_else(|| StoreError::Task("delivery gone".into()))?;
        Ok((delivery, self.request_lines(req.id).await?))
    }

    pub(crate) async fn delivery_by_id(&self, id: i64) -> Result<Option<Delivery>> {
        let sql = format!("{DELIVERY_SELECT} WHERE id = $1");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
    }

    pub(crate) async fn deliveries_of(&self, request_id: i64) -> Result<Vec<Delivery>> {
        let sql = format!("{DELIVERY_SELECT} WHERE request_id = $1 ORDER BY id");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(sql.as_str())).bind(request_id).fetch_all(pool).await?))
    }

    /// The deliveries in `scope` not yet delivered, and those delivered in the last 24 hours.
    pub(crate) async fn deliveries_in(&self, scope: &[AreaCode], now: DateTime<Utc>) -> Result<Vec<Delivery>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("area_code", scope, &mut params) else { return Ok(Vec::new()) };
        params.push(crate::Param::Time(now - Duration::hours(24)));
        let sql = format!(
            "{DELIVERY_SELECT} WHERE {inside} AND (status <> 'delivered' OR delivered_at >= ${}) \
             ORDER BY CASE status WHEN 'delivered' THEN 1 ELSE 0 END, created_at LIMIT 500",
            params.len()
        );
        Ok(with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// What a delivery carries: its issue movements.
    pub(crate) async fn delivery_items(&self, id: i64) -> Result<Vec<Movement>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Movement>(
            "SELECT m.id, m.kind, m.item_id, i.name AS item, i.unit, m.batch, m.from_warehouse, m.to_warehouse, m.quantity, m.counted, \
             m.source, m.reference, m.request_id, m.delivery_id, m.note, m.moved_at, m.recorded_by \
             FROM stock_movements m JOIN supply_items i ON i.id = m.item_id WHERE m.delivery_id = $1 ORDER BY m.id")
            .bind(id).fetch_all(pool).await?))
    }

    /// Moves a delivery on: out (on the way) or delivered with its handover. The request is
    /// delivered when everything approved was issued and every delivery of it has arrived.
    pub(crate) async fn advance_delivery(
        &self,
        actor: &Actor,
        d: &Delivery,
        to: DeliveryStatus,
        handover: Option<&Handover>,
        now: DateTime<Utc>,
    ) -> Result<Delivery> {
        rules::may_advance(d.status, to)?;
        let h = match (to, handover) {
            (DeliveryStatus::Delivered, Some(h)) => Some(rules::check_handover(h)?),
            (DeliveryStatus::Delivered, None) => return Err(refused!("refused.delivery.no_receiver")),
            _ => None,
        };
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // The request's row first: two of its deliveries arriving at once take turns, so the
            // later one sees the earlier delivered and marks the request met.
            sqlx::query("UPDATE supply_requests SET status = status WHERE id = $1").bind(d.request_id).execute(&mut *tx).await?;
            let moved = match &h {
                None => sqlx::query("UPDATE deliveries SET status = $2, out_at = $3 WHERE id = $1 AND status = $4")
                    .bind(d.id).bind(to.as_str()).bind(now).bind(d.status.as_str()).execute(&mut *tx).await?,
                Some(h) => sqlx::query("UPDATE deliveries SET status = 'delivered', delivered_at = $2, received_by = $3, contactless = $4, \
                     proof = $5, delivered_by = $6, out_at = COALESCE(out_at, $2) WHERE id = $1 AND status = $7")
                    .bind(d.id).bind(now).bind(&h.received_by).bind(h.contactless).bind(&h.proof).bind(&actor.name).bind(d.status.as_str())
                    .execute(&mut *tx).await?,
            };
            if moved.rows_affected() != 1 {
                return Err(StoreError::from(Refusal::conflict("refused.supply.moved")));
            }
            if h.is_some() {
                // Everything issued and every delivery there: the request is met.
                sqlx::query("UPDATE supply_requests SET status = 'delivered' WHERE id = $1 AND status = 'issued' \
                     AND NOT EXISTS (SELECT 1 FROM deliveries WHERE request_id = $1 AND status <> 'delivered')")
                    .bind(d.request_id).execute(&mut *tx).await?;
            }
            tx.append(actor, &Change::new("advance", "delivery", d.id).area(&d.area_code).before(serde_json::json!({"status": d.status}))
                .after(serde_json::json!({"status": to, "received_by": h.as_ref().map(|h| &h.received_by),
                    "contactless": h.as_ref().map(|h| h.contactless), "proof": h.as_ref().map(|h| &h.proof)}))).await?;
            tx.commit().await?;
        });
        self.delivery_by_id(d.id).await?.ok_or_else(|| StoreError::Task("delivery gone".into()))
    }
}

/// The area a batch's event is filed under: the one every warehouse it names lies in (a
/// township's, or the county's for a batch across townships).
fn shared_area(rows: &[MoveRow], warehouses: &HashMap<i64, Warehouse>) -> String {
    let codes: Vec<&str> =
        rows.iter().flat_map(|r| [r.from, r.to]).flatten().filter_map(|w| warehouses.get(&w)).map(|w| w.area_code.as_str()).collect();
    let Some(first) = codes.first() else { return String::new() };
    let common = codes.iter().map(|c| c.bytes().zip(first.bytes()).take_while(|(a, b)| a == b).count()).min().unwrap_or(0);
    [12, 9, 6, 4, 2].into_iter().find(|n| common >= *n).map_or(String::new(), |n| first[..n].to_string())
}

/// The plan's audit event with the movements it wrote.
/// A batch's event is the first movement's (the rest named beside it); an issue's names its
/// delivery.
pub(crate) fn with_ids(mut change: Change, ids: &[i64], delivery_id: Option<i64>) -> Change {
    let mut after = change.after.take().unwrap_or_else(|| serde_json::json!({}));
    after["movement_ids"] = serde_json::json!(ids);
    if let Some(d) = delivery_id {
        after["delivery_id"] = serde_json::json!(d);
    }
    if change.entity == "stock_movements"
        && let Some(first) = ids.first()
    {
        change.entity_id = Some(first.to_string());
    }
    change.after(after)
}

/// Checks one asked movement into its row (time and actor filled by the caller).
fn plan_one(
    index: usize,
    ask: &NewMovement,
    items: &HashMap<i64, Item>,
    warehouses: &HashMap<i64, Warehouse>,
    today: NaiveDate,
) -> std::result::Result<MoveRow, Refusal> {
    let item = items.get(&ask.item_id).ok_or_else(|| cordon_domain::refusal!("refused.stock.no_item", id = ask.item_id))?;
    let ends = rules::check_ends(ask.kind, Ends { from: ask.from, to: ask.to })?;
    for w in [ends.from, ends.to].into_iter().flatten() {
        if !warehouses.contains_key(&w) {
            return Err(cordon_domain::refusal!("refused.stock.no_warehouse", id = w));
        }
    }
    let quantity = if ask.kind == MovementKind::Stocktake {
        rules::stocktake_delta(0, ask.quantity)?;
        ask.quantity
    } else {
        rules::check_quantity(ask.quantity)?
    };
    let batch = ask.batch.trim().to_string();
    if !item.tracks_batches && !batch.is_empty() {
        return Err(cordon_domain::refusal!("refused.stock.no_batches"));
    }
    if ask.kind == MovementKind::Receipt {
        rules::check_batch(item.tracks_batches, &batch, ask.expires_on, today)?;
    } else if ask.source.is_some() || ask.expires_on.is_some() {
        return Err(cordon_domain::refusal!("refused.stock.receipt_only"));
    } else if item.tracks_batches && batch.is_empty() {
        return Err(cordon_domain::refusal!("refused.stock.batch_needed"));
    }
    let source = match (ask.kind, ask.source) {
        (MovementKind::Receipt, Some(s)) => Some(s.as_str()),
        (MovementKind::Receipt, None) => return Err(cordon_domain::refusal!("refused.stock.no_source")),
        _ => None,
    };
    let text = |t: &str| {
        let t = t.trim();
        if t.chars().count() > 200 { Err(cordon_domain::refusal!("refused.supply.note_long", max = 200)) } else { Ok(t.to_string()) }
    };
    let client_id = ask.client_id.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    if client_id.as_ref().is_some_and(|c| c.len() > 100) {
        return Err(cordon_domain::refusal!("refused.stock.bad_client_id"));
    }
    Ok(MoveRow {
        index,
        kind: ask.kind,
        item_id: item.id,
        batch,
        expires_on: if ask.kind == MovementKind::Receipt { ask.expires_on } else { None },
        from: ends.from,
        to: ends.to,
        quantity,
        source,
        reference: text(&ask.reference)?,
        note: text(&ask.note)?,
        request_id: None,
        moved_at: DateTime::<Utc>::MIN_UTC,
        recorded_by: String::new(),
        client_id,
        item_name: item.name.clone(),
        unit: item.unit.clone(),
    })
}

/// The PostgreSQL side of [`Store::write_plan`]: one transaction. A movement is refused only
/// before its first change (the guarded take changes nothing when short), so a refused one
/// leaves nothing behind; a whole plan is refused as a whole.
async fn write_plan_pg(pool: &sqlx::PgPool, actor: &Actor, plan: WritePlan) -> Result<Written> {
    // Two writers locking the same balances in opposite orders (a transfer each way) deadlock;
    // PostgreSQL breaks it by failing one, which is written again from the start.
    let mut tries = 0;
    loop {
        match write_plan_pg_once(pool, actor, plan.clone()).await {
            Err(StoreError::Database(e))
                if tries < 3 && e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "40P01" || c == "40001") =>
            {
                tries += 1;
            }
            other => return other,
        }
    }
}

async fn write_plan_pg_once(pool: &sqlx::PgPool, actor: &Actor, plan: WritePlan) -> Result<Written> {
    let mut tx = pool.begin().await?;
    let mut out = Written::default();
    if let Some(d) = &plan.delivery {
        let (id,): (i64,) = sqlx::query_as(INSERT_DELIVERY)
            .bind(d.request_id)
            .bind(d.warehouse_id)
            .bind(&d.area_code)
            .bind(&d.place)
            .bind(&d.courier)
            .bind(d.created_at)
            .bind(&d.created_by)
            .fetch_one(&mut *tx)
            .await?;
        out.delivery_id = Some(id);
    }
    let mut ids = Vec::with_capacity(plan.moves.len());
    for row in &plan.moves {
        if let Some(cid) = &row.client_id {
            // The same movement sent twice at once: the second waits for the first and finds it.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(cid).execute(&mut *tx).await?;
            let done: Option<(i64,)> = sqlx::query_as(BY_CLIENT).bind(cid).fetch_optional(&mut *tx).await?;
            if let Some((id,)) = done {
                out.report.stored.push(Moved { index: row.index, id, repeated: true });
                continue;
            }
        }
        match apply_pg(&mut tx, row, out.delivery_id).await? {
            Ok(id) => {
                ids.push(id);
                out.report.stored.push(Moved { index: row.index, id, repeated: false });
            }
            Err(r) if plan.whole => return Err(StoreError::from(r)),
            Err(r) => out.report.refused.push((row.index, r)),
        }
    }
    for (request, item, was, now) in &plan.lines {
        let moved = sqlx::query(LINE_ISSUED).bind(request).bind(item).bind(was).bind(now).execute(&mut *tx).await?;
        if moved.rows_affected() != 1 {
            return Err(StoreError::from(Refusal::conflict("refused.supply.moved")));
        }
    }
    if let Some((request, was, now)) = plan.status {
        let moved = sqlx::query(REQUEST_STATUS).bind(request).bind(was).bind(now).execute(&mut *tx).await?;
        if moved.rows_affected() != 1 {
            return Err(StoreError::from(Refusal::conflict("refused.supply.moved")));
        }
    }
    if !ids.is_empty() || plan.delivery.is_some() {
        tx.append(actor, &with_ids(plan.change, &ids, out.delivery_id)).await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// One movement on PostgreSQL: the books' change then the row; the refusal, nothing changed, when
/// the books do not allow it.
async fn apply_pg(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    row: &MoveRow,
    delivery_id: Option<i64>,
) -> Result<std::result::Result<i64, Refusal>> {
    let (mut quantity, mut counted, mut expires_on) = (row.quantity, None, row.expires_on);
    if let Some(from) = row.from {
        if row.kind == MovementKind::Stocktake {
            sqlx::query(ENSURE_ROW).bind(from).bind(row.item_id).bind(&row.batch).execute(&mut **tx).await?;
            let (on_hand,): (i64,) =
                sqlx::query_as(ON_HAND_LOCKED).bind(from).bind(row.item_id).bind(&row.batch).fetch_one(&mut **tx).await?;
            let delta = match rules::stocktake_delta(on_hand, row.quantity) {
                Ok(d) => d,
                Err(r) => return Ok(Err(r)),
            };
            sqlx::query(SET_COUNTED).bind(from).bind(row.item_id).bind(&row.batch).bind(row.quantity).execute(&mut **tx).await?;
            counted = Some(row.quantity);
            quantity = delta;
        } else {
            let took: Option<(Option<NaiveDate>,)> =
                sqlx::query_as(TAKE).bind(from).bind(row.item_id).bind(&row.batch).bind(row.quantity).fetch_optional(&mut **tx).await?;
            match took {
                Some((e,)) => expires_on = e,
                None => {
                    let on_hand: Option<(i64,)> =
                        sqlx::query_as(ON_HAND).bind(from).bind(row.item_id).bind(&row.batch).fetch_optional(&mut **tx).await?;
                    return Ok(Err(short(row, on_hand.map_or(0, |(q,)| q))));
                }
            }
        }
    }
    if let Some(to) = row.to {
        sqlx::query(PUT).bind(to).bind(row.item_id).bind(&row.batch).bind(expires_on).bind(row.quantity).execute(&mut **tx).await?;
    }
    let (id,): (i64,) = sqlx::query_as(INSERT_MOVEMENT)
        .bind(row.kind.as_str())
        .bind(row.item_id)
        .bind(&row.batch)
        .bind(expires_on)
        .bind(row.from)
        .bind(row.to)
        .bind(quantity)
        .bind(counted)
        .bind(row.source)
        .bind(&row.reference)
        .bind(row.request_id)
        .bind(delivery_id)
        .bind(&row.note)
        .bind(row.moved_at)
        .bind(&row.recorded_by)
        .bind(&row.client_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Ok(id))
}

/// What a truck's manifest did: rows read, movements stored, and each refused row with its line.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ManifestReport {
    pub rows: u64,
    pub stored: u64,
    /// Rows received already by an earlier upload of the same manifest (same warehouse, number
    /// and line), not received twice.
    pub unchanged: u64,
    pub problems: Vec<crate::import::RowError>,
    /// The file's encoding as detected.
    pub encoding: &'static str,
}

/// The largest manifest read (a truck's list is a few hundred rows).
pub const MANIFEST_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The columns of a manifest: item name and quantity, and optionally batch, expiry and unit.
struct ManifestColumns {
    item: usize,
    quantity: usize,
    batch: Option<usize>,
    expires_on: Option<usize>,
    unit: Option<usize>,
}

impl ManifestColumns {
    fn from_headers(h: &csv::StringRecord) -> Option<ManifestColumns> {
        let find = |names: &[&str]| cordon_domain::header::position(h, names);
        Some(ManifestColumns {
            item: find(&["item", "name", "物资名称", "品名", "名称", "物资"])?,
            quantity: find(&["quantity", "数量", "实收数量", "到货数量"])?,
            batch: find(&["batch", "批号", "生产批号"]),
            expires_on: find(&["expires_on", "expiry", "有效期", "有效期至", "失效日期"]),
            unit: find(&["unit", "单位"]),
        })
    }
}

/// A manifest as read: its encoding, each good row's receipt with its line, the bad rows, and
/// how many rows it holds.
pub(crate) struct ManifestRead {
    pub(crate) encoding: &'static str,
    pub(crate) rows: Vec<(u64, NewMovement)>,
    pub(crate) problems: Vec<crate::import::RowError>,
    pub(crate) count: u64,
}

/// A whole number as a spreadsheet writes it: digits, or digits in groups of three with commas
/// (12,000 — never 1,5).
fn thousands(text: &str) -> std::result::Result<i64, std::num::ParseIntError> {
    let mut groups = text.split(',');
    let head = groups.next().unwrap_or("");
    let rest: Vec<&str> = groups.collect();
    if rest.iter().any(|g| g.len() != 3) || (!rest.is_empty() && (head.is_empty() || head.len() > 3)) {
        return "x".parse::<i64>();
    }
    text.replace(',', "").parse::<i64>()
}

/// The client id of a manifest's row: the warehouse, the manifest's number, the item and batch
/// and which of that item and batch's rows it is — not its line, so a manifest sent again with a
/// row added or taken out receives none twice, and not its quantity, so a quantity changed since
/// is not received again beside the first (a count is corrected by a stock-take).
fn manifest_row_id(warehouse: i64, reference: &str, nth: usize, m: &NewMovement) -> String {
    use sha2::Digest;
    let key = format!("{warehouse}\u{1f}{reference}\u{1f}{}\u{1f}{}\u{1f}{nth}", m.item_id, m.batch);
    let digest = sha2::Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("manifest:{hex}")
}

/// Reads a manifest: each row a receipt into `warehouse` (its source and the manifest's
/// reference given), or the row's refusal with its line. Items are named as in the catalogue.
/// Each row carries a client id from the manifest's number, item and batch ([`manifest_row_id`]).
pub(crate) fn read_manifest(
    bytes: Vec<u8>,
    items: &[Item],
    warehouse: i64,
    source: ReceiptSource,
    reference: &str,
) -> Result<ManifestRead> {
    use crate::import::RowError;
    let text = crate::decode::utf8_text(std::io::Cursor::new(bytes))?;
    let (encoding, crlf) = (text.encoding.as_str(), text.crlf);
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(text.reader);
    let headers = csv.headers().map_err(|e| refused!("row.unreadable", reason = e))?.clone();
    let cols = ManifestColumns::from_headers(&headers).ok_or_else(|| refused!("refused.manifest.columns", encoding = encoding))?;
    let by_name: HashMap<&str, &Item> = items.iter().map(|i| (i.name.as_str(), i)).collect();
    let (mut rows, mut problems, mut count) = (Vec::new(), Vec::new(), 0u64);
    let mut seen: HashMap<(i64, String), usize> = HashMap::new();
    for record in csv.records() {
        count += 1;
        let r = match record {
            Ok(r) => r,
            Err(e) => {
                let line = crate::decode::seen_line(e.position(), crlf, count + 1);
                problems.push(RowError { line, field: None, reason: crate::import::unreadable(&e), then: None });
                continue;
            }
        };
        let line = crate::decode::seen_line(r.position(), crlf, count + 1);
        let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map(str::trim).unwrap_or("");
        let fail = |field: &'static str, reason: Refusal| RowError { line, field: Some(field), reason, then: None };
        if r.iter().all(|f| f.trim().is_empty()) {
            count -= 1;
            continue;
        }
        let name = get(Some(cols.item));
        let Some(item) = by_name.get(name) else {
            problems.push(fail("item", cordon_domain::refusal!("refused.manifest.unknown_item", item = name)));
            continue;
        };
        let quantity = match thousands(get(Some(cols.quantity))) {
            Ok(q) => q,
            Err(_) => {
                problems.push(fail("quantity", cordon_domain::refusal!("refused.manifest.quantity", value = get(Some(cols.quantity)))));
                continue;
            }
        };
        let unit = get(cols.unit);
        if !unit.is_empty() && unit != item.unit {
            problems.push(fail(
                "item_unit",
                cordon_domain::refusal!("refused.manifest.unit", item = name, unit = unit, expected = item.unit.clone()),
            ));
            continue;
        }
        let expires_on = match get(cols.expires_on) {
            "" => None,
            v => match cordon_domain::person_row::parse_date(v) {
                Ok(d) => Some(d),
                Err(_) => {
                    problems.push(fail("expires_on", cordon_domain::refusal!("row.date", value = v)));
                    continue;
                }
            },
        };
        let mut receipt = NewMovement {
            kind: MovementKind::Receipt,
            item_id: item.id,
            batch: get(cols.batch).to_string(),
            expires_on,
            from: None,
            to: Some(warehouse),
            quantity,
            source: Some(source),
            reference: reference.to_string(),
            note: String::new(),
            client_id: None,
        };
        let nth = seen.entry((receipt.item_id, receipt.batch.clone())).or_insert(0);
        *nth += 1;
        receipt.client_id = Some(manifest_row_id(warehouse, reference, *nth, &receipt));
        rows.push((line, receipt));
    }
    Ok(ManifestRead { encoding, rows, problems, count })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_manifest_quantity_takes_commas_only_as_thousands() {
        assert_eq!(super::thousands("12,000"), Ok(12_000));
        assert_eq!(super::thousands("1,234,567"), Ok(1_234_567));
        assert_eq!(super::thousands("500"), Ok(500));
        assert!(super::thousands("1,5").is_err());
        assert!(super::thousands(",500").is_err());
        assert!(super::thousands("1234,000").is_err());
    }
}
