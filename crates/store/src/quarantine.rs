//! Quarantine sites (集中隔离点): buildings, floors and rooms with beds; the occupancy board;
//! rooms assigned in bulk for a batch (single rooms, or a household together where the site
//! allows it); check-in and check-out; twice-daily health checks; the day's sampling list and
//! the single-tube tests taken from it, whose results come back through the mass-testing
//! result paths.

use crate::term;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::observation::{RoomStatus, SiteKind, Status};
use cordon_domain::{AreaCode, Barcode, local_date};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::observation::{ORDER_COLUMNS, Order, OrderFilter};
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

#[derive(Debug, Clone)]
pub struct NewQuarantineSite {
    pub name: String,
    pub kind: SiteKind,
    pub area_code: AreaCode,
    pub address: String,
    pub head_name: String,
    pub head_phone: Option<String>,
    pub staff: u32,
    pub households_share: bool,
}

/// A site with its occupancy (the board's row).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SiteBoard {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: SiteKind,
    pub area_code: String,
    pub address: String,
    pub head_name: String,
    pub head_phone: Option<String>,
    pub staff: i32,
    pub households_share: bool,
    pub rooms: i64,
    pub beds: i64,
    /// Beds taken: people checked in and people given a room still on their way.
    pub occupants: i64,
    /// People checked in (in centralized quarantine at the site).
    pub checked_in: i64,
    pub free_rooms: i64,
    pub cleaning_rooms: i64,
    pub out_of_use_rooms: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Room {
    pub id: i64,
    pub site_id: i64,
    pub building: String,
    pub floor: i32,
    pub number: String,
    pub beds: i32,
    pub occupants: i32,
    #[sqlx(try_from = "String")]
    pub status: RoomStatus,
}

/// What a bulk room assignment did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Assigned {
    /// (order, room number)
    pub assigned: Vec<(i64, String)>,
    pub refused: Vec<(i64, crate::Refusal)>,
}

/// One person on the day's sampling list of a site.
#[derive(Debug, Clone, Serialize)]
pub struct ToSample {
    pub order: Order,
    pub room: Option<String>,
    pub floor: Option<i32>,
    /// 双采双检 today.
    pub double: bool,
    /// The tube already taken today, if any.
    pub taken: Option<String>,
    /// A test is planned today (a site's list holds only those; the home list everyone).
    pub due: bool,
    /// Where the door is: the household's address (the home list only).
    pub address: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HealthCheck {
    pub order_id: i64,
    pub checked_on: NaiveDate,
    pub slot: String,
    pub temperature: f32,
    pub symptoms: String,
    pub recorded_at: DateTime<Utc>,
}

/// What a positive in a site does to the others: who restarts their period.
#[derive(Debug, Clone, Serialize)]
pub struct Restart {
    pub positive_order: i64,
    pub floor: i32,
    pub environmental: bool,
    pub affected: Vec<Order>,
}

const BOARD_COLUMNS: &str = "s.id, s.name, s.kind, s.area_code, s.address, s.head_name, s.head_phone, s.staff, s.households_share, \
     COUNT(r.id) AS rooms, COALESCE(SUM(r.beds), 0) AS beds, COALESCE(SUM(r.occupants), 0) AS occupants, \
     (SELECT COUNT(*) FROM observation_orders o WHERE o.site_id = s.id AND o.status = 'centralized') AS checked_in, \
     COALESCE(SUM(CASE WHEN r.status = 'free' THEN 1 ELSE 0 END), 0) AS free_rooms, \
     COALESCE(SUM(CASE WHEN r.status = 'cleaning' THEN 1 ELSE 0 END), 0) AS cleaning_rooms, \
     COALESCE(SUM(CASE WHEN r.status = 'out_of_use' THEN 1 ELSE 0 END), 0) AS out_of_use_rooms";

impl Store {
    pub(crate) async fn create_quarantine_site(&self, actor: &Actor, new: &NewQuarantineSite) -> Result<SiteBoard> {
        let name = new.name.trim();
        if name.is_empty() || new.head_name.trim().is_empty() {
            return Err(refused!("refused.quarantine_site_needs_name"));
        }
        if let Some(p) = new.head_phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            cordon_domain::phone::contact_phone(p).map_err(|_| refused!("refused.contact_phone", phone = p))?;
        }
        let change = Change::new("create", "quarantine_site", name).area(new.area_code.as_str()).after(serde_json::json!({
            "name": name, "kind": new.kind, "address": new.address, "head": new.head_name, "staff": new.staff,
        }));
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO quarantine_sites (name, kind, area_code, address, head_name, head_phone, staff, households_share, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (area_code, name) DO NOTHING RETURNING id",
            )
            .bind(name).bind(new.kind.as_str()).bind(new.area_code.as_str()).bind(new.address.trim()).bind(new.head_name.trim())
            .bind(new.head_phone.as_deref().map(str::trim).filter(|p| !p.is_empty())).bind(new.staff as i32).bind(new.households_share).bind(Utc::now())
            .fetch_optional(&mut *tx).await?;
            let Some((id,)) = row else {
                return Err(refused!("refused.quarantine_site_name_taken", name = name));
            };
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        self.quarantine_site(id).await?.ok_or_else(|| StoreError::Task("site vanished".into()))
    }

    pub(crate) async fn quarantine_site(&self, id: i64) -> Result<Option<SiteBoard>> {
        let sql = format!(
            "SELECT {BOARD_COLUMNS} FROM quarantine_sites s LEFT JOIN rooms r ON r.site_id = s.id WHERE s.id = $1 \
             GROUP BY s.id, s.name, s.kind, s.area_code, s.address, s.head_name, s.head_phone, s.staff, s.households_share"
        );
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, SiteBoard>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?))
    }

    /// The occupancy board: every site in `scope` with its rooms and beds, fullest last.
    pub(crate) async fn quarantine_board(&self, scope: &[AreaCode]) -> Result<Vec<SiteBoard>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("s.area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!(
            "SELECT {BOARD_COLUMNS} FROM quarantine_sites s LEFT JOIN rooms r ON r.site_id = s.id WHERE {inside} \
             GROUP BY s.id, s.name, s.kind, s.area_code, s.address, s.head_name, s.head_phone, s.staff, s.households_share ORDER BY s.name"
        );
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, SiteBoard>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// Adds the rooms of a building: `rooms_per_floor` rooms on each floor from `first_floor`
    /// to `last_floor`, numbered floor then room ("305"), each with `beds` beds. Rooms that
    /// exist already are left as they are.
    pub(crate) async fn add_rooms(
        &self,
        actor: &Actor,
        site: &SiteBoard,
        building: &str,
        floors: (i32, i32),
        rooms_per_floor: u32,
        beds: u32,
    ) -> Result<u64> {
        let building = building.trim();
        if building.is_empty()
            || floors.0 > floors.1
            || !(1..=200).contains(&rooms_per_floor)
            || !(1..=10).contains(&beds)
            || floors.1 - floors.0 > 100
        {
            return Err(refused!("refused.building_invalid"));
        }
        let mut rows = Vec::new();
        for floor in floors.0..=floors.1 {
            for n in 1..=rooms_per_floor {
                rows.push((floor, format!("{floor}{n:02}")));
            }
        }
        let change = Change::new("add_rooms", "quarantine_site", site.id).area(&site.area_code).after(serde_json::json!({
            "building": building, "floors": [floors.0, floors.1], "rooms_per_floor": rooms_per_floor, "beds": beds,
        }));
        let added = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut added = 0;
            for chunk in rows.chunks(200) {
                let mut params = Vec::with_capacity(chunk.len() * 5);
                for (floor, number) in chunk {
                    params.extend([Param::Int(site.id), Param::Text(building.into()), Param::Int(i64::from(*floor)), Param::Text(number.clone()), Param::Int(i64::from(beds))]);
                }
                let sql = format!(
                    "INSERT INTO rooms (site_id, building, floor, number, beds, occupants, status) SELECT v.column1, v.column2, v.column3, v.column4, v.column5, 0, 'free' \
                     FROM (VALUES {}) AS v WHERE true ON CONFLICT (site_id, building, number) DO NOTHING",
                    crate::values_placeholders(chunk.len(), 5, 0)
                );
                added += bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
            added
        });
        Ok(added)
    }

    pub(crate) async fn rooms(&self, site_id: i64) -> Result<Vec<Room>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Room>(
            "SELECT id, site_id, building, floor, number, beds, occupants, status FROM rooms WHERE site_id = $1 ORDER BY building, floor, number",
        ).bind(site_id).fetch_all(pool).await?))
    }

    pub(crate) async fn room(&self, room_id: i64) -> Result<Option<Room>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Room>(
            "SELECT id, site_id, building, floor, number, beds, occupants, status FROM rooms WHERE id = $1",
        ).bind(room_id).fetch_optional(pool).await?))
    }

    /// Marks a room cleaned (free again), or out of use, or back in use.
    pub(crate) async fn set_room_status(&self, actor: &Actor, site: &SiteBoard, room: &Room, to: RoomStatus) -> Result<()> {
        if !room.status.may_become(to) {
            return Err(refused!(
                "refused.room_cannot_become",
                number = room.number,
                from = term("room_status", room.status),
                to = term("room_status", to)
            ));
        }
        let change = Change::new("room_status", "room", room.id)
            .area(&site.area_code)
            .before(serde_json::json!({"status": room.status.as_str()}))
            .after(serde_json::json!({"status": to}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE rooms SET status = $1 WHERE id = $2 AND status = $3 AND occupants = 0")
                .bind(to.as_str()).bind(room.id).bind(room.status.as_str()).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(refused!("refused.room_changed", room = room.number));
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Assigns rooms to a batch of orders at once: free rooms in building, floor and number
    /// order, one person a room — or, where the site lets households share, the members of one
    /// household together while beds last. People already in a room keep it.
    pub(crate) async fn assign_rooms(&self, actor: &Actor, site: &SiteBoard, orders: &[Order]) -> Result<Assigned> {
        let mut out = Assigned::default();
        let mut todo: Vec<&Order> = Vec::new();
        for o in orders {
            match o.status {
                _ if o.room_id.is_some() => out.refused.push((o.id, refusal!("refused.has_room_already", name = o.name))),
                s if s.waits_for_room() => todo.push(o),
                _ => {
                    out.refused.push((o.id, refusal!("refused.not_waiting_for_room", name = o.name, status = term("obs.status", o.status))))
                }
            }
        }
        if todo.is_empty() {
            return Ok(out);
        }
        let mut households: HashMap<i64, Option<i64>> = HashMap::new();
        for chunk in todo.chunks(1000) {
            let sql = format!("SELECT id, household_id FROM persons WHERE id IN ({})", crate::list_placeholders(0, chunk.len()));
            let params: Vec<Param> = chunk.iter().map(|o| Param::Int(o.person_id)).collect();
            let rows: Vec<(i64, Option<i64>)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            households.extend(rows);
        }
        let mut free: std::collections::VecDeque<Room> = with_read_pool!(self, pool => sqlx::query_as::<_, Room>(
            "SELECT id, site_id, building, floor, number, beds, occupants, status FROM rooms WHERE site_id = $1 AND status = 'free' \
             ORDER BY building, floor, number",
        ).bind(site.id).fetch_all(pool).await?)
        .into();
        // Group by household where sharing is allowed; otherwise each alone.
        let mut groups: Vec<Vec<&Order>> = Vec::new();
        let mut by_household: HashMap<i64, usize> = HashMap::new();
        for o in todo {
            match households.get(&o.person_id).copied().flatten().filter(|_| site.households_share) {
                Some(h) => match by_household.get(&h) {
                    Some(&g) => groups[g].push(o),
                    None => {
                        by_household.insert(h, groups.len());
                        groups.push(vec![o]);
                    }
                },
                None => groups.push(vec![o]),
            }
        }
        let mut plan: Vec<(&Order, Room)> = Vec::new();
        for group in groups {
            let mut rest = group.as_slice();
            while !rest.is_empty() {
                let Some(room) = free.pop_front() else {
                    out.refused.extend(rest.iter().map(|o| (o.id, refusal!("refused.no_free_room", name = o.name))));
                    break;
                };
                let take = rest.len().min(room.beds.max(1) as usize);
                for o in &rest[..take] {
                    plan.push((o, room.clone()));
                }
                rest = &rest[take..];
            }
        }
        let now = Utc::now();
        let change = Change::new("assign_rooms", "quarantine_site", site.id).area(&site.area_code).after(serde_json::json!({
            "rooms": plan.iter().map(|(o, r)| serde_json::json!([o.id, o.person_id, r.number])).collect::<Vec<_>>(),
        }));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (o, room) in &plan {
                let n = sqlx::query("UPDATE rooms SET occupants = occupants + 1, status = 'occupied' WHERE id = $1 AND occupants < beds AND status IN ('free', 'occupied')")
                    .bind(room.id).execute(&mut *tx).await?.rows_affected();
                let m = sqlx::query("UPDATE observation_orders SET site_id = $1, room_id = $2, updated_at = $3, status = $5 WHERE id = $4 AND room_id IS NULL AND status = $6")
                    .bind(site.id).bind(room.id).bind(now).bind(o.id).bind(o.status.given_room().as_str()).bind(o.status.as_str())
                    .execute(&mut *tx).await?.rows_affected();
                if n == 0 || m == 0 {
                    return Err(refused!("refused.room_or_order_changed", room = room.number, id = o.id));
                }
                sqlx::query("INSERT INTO room_stays (room_id, site_id, order_id, person_id, assigned_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(room.id).bind(site.id).bind(o.id).bind(o.person_id).bind(now).execute(&mut *tx).await?;
            }
            if !plan.is_empty() {
                tx.append(actor, &change).await?;
            }
            tx.commit().await?;
        });
        out.assigned = plan.into_iter().map(|(o, r)| (o.id, r.number)).collect();
        Ok(out)
    }

    /// The person arrives at the site: their stay starts and the order is in centralized
    /// quarantine.
    pub(crate) async fn check_in(&self, actor: &Actor, site: &SiteBoard, order: &Order) -> Result<Order> {
        if order.site_id != Some(site.id) || order.room_id.is_none() {
            return Err(refused!("refused.no_room_at_site", name = order.name, site = site.name));
        }
        let from = order.status;
        if !from.may_become(Status::Centralized) && from != Status::AwaitingTransfer {
            return Err(refused!("refused.cannot_check_in", name = order.name, from = term("obs.status", from.as_str())));
        }
        let now = Utc::now();
        let change = Change::new("check_in", "observation_order", order.id)
            .area(&order.area_code)
            .after(serde_json::json!({"site": site.id, "room": order.room_id}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE room_stays SET checked_in_at = $1 WHERE order_id = $2 AND room_id = $3 AND checked_in_at IS NULL")
                .bind(now).bind(order.id).bind(order.room_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE observation_orders SET status = 'centralized', updated_at = $1 WHERE id = $2")
                .bind(now).bind(order.id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.order(order.id).await?.ok_or_else(|| StoreError::Task("order vanished".into()))
    }

    /// The person leaves the site — home for the home stage, released, or to hospital as a
    /// case — and the room waits for cleaning once empty.
    pub(crate) async fn check_out(&self, actor: &Actor, order: &Order, to: Status) -> Result<Order> {
        let Some(room_id) = order.room_id else { return Err(refused!("refused.no_room", name = order.name)) };
        let from = order.status;
        if from != to && !from.may_become(to) {
            return Err(refused!(
                "refused.cannot_become",
                name = order.name,
                from = term("obs.status", from.as_str()),
                to = term("obs.status", to.as_str())
            ));
        }
        let room = self.room(room_id).await?.ok_or_else(|| refused!("refused.no_room", name = order.name))?;
        let emptied = room.status.after_check_out(room.occupants.max(0) as u32);
        let now = Utc::now();
        let change = Change::new("check_out", "observation_order", order.id)
            .area(&order.area_code)
            .after(serde_json::json!({"room": room_id, "status": to.as_str()}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE room_stays SET checked_out_at = $1 WHERE order_id = $2 AND room_id = $3 AND checked_out_at IS NULL")
                .bind(now).bind(order.id).bind(room_id).execute(&mut *tx).await?;
            // Only if nobody moved in or out meanwhile: the room's next status follows from it.
            let left = sqlx::query("UPDATE rooms SET occupants = occupants - 1, status = $1 WHERE id = $2 AND occupants = $3 AND occupants > 0")
                .bind(emptied.as_str()).bind(room_id).bind(room.occupants).execute(&mut *tx).await?.rows_affected();
            if left == 0 {
                return Err(refused!("refused.room_changed", room = room.number));
            }
            // Someone who stayed at the site goes home point to point (点对点闭环): a transfer
            // for the dispatcher, who picks the vehicle. Their home stage starts when the ride
            // arrives; until then they are in transit. A release is a release at the door.
            let ride = if from == Status::Centralized { order.site_id } else { None };
            let (now_status, then_status) = match ride {
                Some(_) => cordon_domain::observation::leaving_site(to),
                None => (to, None),
            };
            let then_status = then_status.map(Status::as_str);
            sqlx::query("UPDATE observation_orders SET status = $1, room_id = NULL, updated_at = $2, released_at = CASE WHEN $1 = 'released' THEN $2 ELSE released_at END WHERE id = $3")
                .bind(now_status.as_str()).bind(now).bind(order.id).execute(&mut *tx).await?;
            if let Some(site) = ride {
                let deadline = cordon_domain::transfer::TransferKind::ReleaseHome.deadline(now);
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO transfers (incident_id, kind, vehicle_id, escort, from_place, to_place, to_site_id, area_code, status, deadline, created_at, created_by) \
                     SELECT $1, 'release_home', NULL, NULL, s.name, '', NULL, s.area_code, 'planned', $2, $3, $4 FROM quarantine_sites s WHERE s.id = $5 RETURNING id",
                )
                .bind(order.incident_id).bind(deadline).bind(now).bind(&actor.name).bind(site).fetch_one(&mut *tx).await?;
                sqlx::query("INSERT INTO transfer_people (transfer_id, person_id, order_id, then_status) VALUES ($1, $2, $3, $4)")
                    .bind(id).bind(order.person_id).bind(order.id).bind(then_status).execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.order(order.id).await?.ok_or_else(|| StoreError::Task("order vanished".into()))
    }

    /// Orders with a room at a site, by room.
    pub(crate) async fn site_people(&self, site_id: i64) -> Result<Vec<(Order, Room)>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM observation_orders o JOIN persons p ON p.id = o.person_id WHERE o.site_id = $1 AND o.room_id IS NOT NULL"
        );
        let orders: Vec<Order> =
            with_read_pool!(self, pool => sqlx::query_as::<_, Order>(sqlx::AssertSqlSafe(sql)).bind(site_id).fetch_all(pool).await?);
        let rooms: HashMap<i64, Room> = self.rooms(site_id).await?.into_iter().map(|r| (r.id, r)).collect();
        let mut out: Vec<(Order, Room)> = orders
            .into_iter()
            .filter_map(|o| {
                let r = rooms.get(&o.room_id?)?.clone();
                Some((o, r))
            })
            .collect();
        out.sort_by(|a, b| (&a.1.building, a.1.floor, &a.1.number, a.0.id).cmp(&(&b.1.building, b.1.floor, &b.1.number, b.0.id)));
        Ok(out)
    }

    /// The people of one floor of a site (`floor`: building and floor), or those whose room
    /// number is `q` or whose name starts with it, by room; both empty: everyone.
    pub(crate) async fn site_people_on(&self, site_id: i64, floor: Option<(&str, i32)>, q: &str) -> Result<Vec<(Order, Room)>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM observation_orders o JOIN persons p ON p.id = o.person_id JOIN rooms r ON r.id = o.room_id \
             WHERE o.site_id = $1 AND ($2 = '' OR (r.building = $2 AND r.floor = $3)) AND ($4 = '' OR r.number = $4 OR lower(p.name) LIKE $5 ESCAPE '\\') \
             ORDER BY r.building, r.floor, r.number, o.id"
        );
        let (building, level) = floor.unwrap_or(("", 0));
        let q = q.trim();
        // The name's beginning, matched alike on both backends: lower-cased, LIKE's own
        // characters escaped.
        let prefix = format!("{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let orders: Vec<Order> = with_read_pool!(self, pool => sqlx::query_as::<_, Order>(sqlx::AssertSqlSafe(sql))
            .bind(site_id).bind(building).bind(level).bind(q).bind(&prefix).fetch_all(pool).await?);
        let rooms: HashMap<i64, Room> = self.rooms(site_id).await?.into_iter().map(|r| (r.id, r)).collect();
        Ok(orders
            .into_iter()
            .filter_map(|o| {
                let r = rooms.get(&o.room_id?)?.clone();
                Some((o, r))
            })
            .collect())
    }

    /// A site's floors that hold people: building, floor and how many, in order.
    pub(crate) async fn site_floors(&self, site_id: i64) -> Result<Vec<(String, i32, i64)>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, (String, i32, i64)>(
            "SELECT r.building, r.floor, COUNT(*) FROM observation_orders o JOIN rooms r ON r.id = o.room_id \
             WHERE o.site_id = $1 GROUP BY r.building, r.floor ORDER BY r.building, r.floor",
        ).bind(site_id).fetch_all(pool).await?))
    }

    /// Records a temperature and symptoms (morning or evening); recording the same slot again
    /// replaces it.
    pub(crate) async fn record_health_check(
        &self,
        actor: &Actor,
        order: &Order,
        on: NaiveDate,
        slot: &str,
        temperature: f32,
        symptoms: &str,
    ) -> Result<HealthCheck> {
        if !matches!(slot, "morning" | "evening") {
            return Err(refused!("refused.slot_invalid", slot = slot));
        }
        cordon_domain::observation::check_temperature(temperature)?;
        let now = Utc::now();
        with_write_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO health_checks (order_id, checked_on, slot, temperature, symptoms, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (order_id, checked_on, slot) DO UPDATE SET temperature = excluded.temperature, symptoms = excluded.symptoms, \
                 recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by",
            )
            .bind(order.id).bind(on).bind(slot).bind(temperature).bind(symptoms.trim()).bind(now).bind(&actor.name)
            .execute(pool).await?;
        });
        Ok(HealthCheck {
            order_id: order.id,
            checked_on: on,
            slot: slot.into(),
            temperature,
            symptoms: symptoms.trim().into(),
            recorded_at: now,
        })
    }

    /// The health checks of a site's people on a day.
    pub(crate) async fn health_checks(&self, site_id: i64, on: NaiveDate) -> Result<Vec<HealthCheck>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, HealthCheck>(
            "SELECT h.order_id, h.checked_on, h.slot, h.temperature, h.symptoms, h.recorded_at FROM health_checks h \
             JOIN observation_orders o ON o.id = h.order_id WHERE o.site_id = $1 AND h.checked_on = $2 ORDER BY h.order_id, h.slot",
        ).bind(site_id).bind(on).fetch_all(pool).await?))
    }

    /// Who at a site is to be tested on `day`, by room, with the tube already taken if any.
    pub(crate) async fn sampling_list(&self, site_id: i64, day: NaiveDate) -> Result<Vec<ToSample>> {
        let key = day.format("%F").to_string();
        let taken: HashMap<i64, String> = {
            let rows: Vec<(i64, Option<String>)> = with_read_pool!(self, pool => sqlx::query_as(
                "SELECT t.order_id, tb.barcode FROM observation_tests t JOIN observation_orders o ON o.id = t.order_id \
                 LEFT JOIN tubes tb ON tb.id = t.tube_id WHERE o.site_id = $1 AND t.taken_on = $2",
            ).bind(site_id).bind(day).fetch_all(pool).await?);
            rows.into_iter().map(|(o, b)| (o, b.unwrap_or_default())).collect()
        };
        let mut out = Vec::new();
        // Someone who turned positive (or left) is no longer sampled as observed.
        for (order, room) in self.site_people(site_id).await?.into_iter().filter(|(o, _)| !o.status.is_final()) {
            let Some(entry) = order.test_dates.split(',').find(|d| d.trim_end_matches('*') == key) else { continue };
            let double = entry.ends_with('*');
            let taken = taken.get(&order.id).cloned();
            out.push(ToSample { order, room: Some(room.number), floor: Some(room.floor), double, taken, due: true, address: None });
        }
        Ok(out)
    }

    /// The people observed at home in `scope`, by area, with the test planned for `day` and
    /// the tube taken at their door that day, if any: the community's list (居家观察名单).
    pub(crate) async fn home_list(&self, scope: &[AreaCode], day: NaiveDate) -> Result<Vec<ToSample>> {
        let orders = self.orders(scope, &OrderFilter { at_home: true, ..Default::default() }).await?;
        let mut taken: HashMap<i64, String> = HashMap::new();
        let mut addresses: HashMap<i64, String> = HashMap::new();
        for chunk in orders.chunks(500) {
            let sql = format!(
                "SELECT o.id, h.address FROM observation_orders o JOIN persons p ON p.id = o.person_id \
                 JOIN households h ON h.id = p.household_id WHERE o.id IN ({})",
                crate::list_placeholders(0, chunk.len())
            );
            let params: Vec<Param> = chunk.iter().map(|o| Param::Int(o.id)).collect();
            let rows: Vec<(i64, String)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            addresses.extend(rows);
            let sql = format!(
                "SELECT t.order_id, tb.barcode FROM observation_tests t LEFT JOIN tubes tb ON tb.id = t.tube_id \
                 WHERE t.taken_on = $1 AND t.order_id IN ({})",
                crate::list_placeholders(1, chunk.len())
            );
            let params: Vec<Param> = std::iter::once(Param::Date(day)).chain(chunk.iter().map(|o| Param::Int(o.id))).collect();
            let rows: Vec<(i64, Option<String>)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            taken.extend(rows.into_iter().map(|(o, b)| (o, b.unwrap_or_default())));
        }
        let key = day.format("%F").to_string();
        Ok(orders
            .into_iter()
            .map(|order| {
                let entry = order.test_dates.split(',').find(|d| d.trim_end_matches('*') == key);
                let (due, double) = (entry.is_some(), entry.is_some_and(|d| d.ends_with('*')));
                ToSample {
                    taken: taken.remove(&order.id),
                    address: addresses.remove(&order.id),
                    order,
                    room: None,
                    floor: None,
                    double,
                    due,
                }
            })
            .collect())
    }

    /// The standing single-tube round of an incident's observation tests and its sampling site
    /// for `site_name` in `area`, created on first use.
    async fn observation_sampling_site(&self, incident_id: i64, site_name: &str, area: &str) -> Result<(i64, i64)> {
        const ROUND: &str = "隔离观察人员单管检测";
        let found: Option<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id FROM testing_rounds WHERE incident_id = $1 AND name = $2 ORDER BY id LIMIT 1",
        ).bind(incident_id).bind(ROUND).fetch_optional(pool).await?);
        let round_id = match found {
            Some((id,)) => id,
            None => {
                let single = cordon_domain::testing::pooling::PoolSize::People(1);
                let policy = cordon_domain::testing::pooling::PoolPolicy { sealed: single, controlled: single, other: single };
                let policy = serde_json::to_string(&policy).map_err(|e| StoreError::Task(e.to_string()))?;
                let now = Utc::now();
                let (id,): (i64,) = with_write_pool!(self, pool => sqlx::query_as(
                    "INSERT INTO testing_rounds (incident_id, name, starts_at, target_end_at, pool_policy, created_at) VALUES ($1, $2, $3, $4, $5, $3) RETURNING id",
                ).bind(incident_id).bind(ROUND).bind(now).bind(now + chrono::Duration::days(365)).bind(&policy).fetch_one(pool).await?);
                id
            }
        };
        let site: Option<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id FROM sampling_sites WHERE round_id = $1 AND name = $2 AND area_code = $3",
        ).bind(round_id).bind(site_name).bind(area).fetch_optional(pool).await?);
        let site_id = match site {
            Some((id,)) => id,
            None => {
                let (id,): (i64,) = with_write_pool!(self, pool => sqlx::query_as(
                    "INSERT INTO sampling_sites (round_id, area_code, name, address, stations) VALUES ($1, $2, $3, $3, 1) RETURNING id",
                ).bind(round_id).bind(area).bind(site_name).fetch_one(pool).await?);
                id
            }
        };
        Ok((round_id, site_id))
    }

    /// Takes today's single-tube test of a person under observation: a sealed one-person tube
    /// in the incident's observation round, its sample, and the pending test of the order —
    /// one transaction (on SQLite a request of the one writer, committed with those beside it).
    /// The lab's result comes back through the ordinary result paths.
    pub(crate) async fn take_observation_test(
        &self,
        actor: &Actor,
        order: &Order,
        site_name: &str,
        area: &str,
        barcode: &Barcode,
    ) -> Result<()> {
        let (round_id, site_id) = self.observation_sampling_site(order.incident_id, site_name, area).await?;
        let now = Utc::now();
        let today = local_date(now);
        let test = DoorTest {
            round_id,
            site_id,
            area: area.to_string(),
            barcode: barcode.clone(),
            incident_id: order.incident_id,
            order_id: order.id,
            person_id: order.person_id,
            person_area: order.area_code.clone(),
            name: order.name.clone(),
            now,
            today,
            actor: actor.clone(),
            change: Change::new("observation_test", "observation_order", order.id)
                .area(&order.area_code)
                .after(serde_json::json!({"barcode": barcode.as_str(), "on": today})),
        };
        match &*self.backend {
            crate::Backend::Sqlite(b) => b.writer.write(move |c| crate::sqlite::observation::take_test(c, &test)).await,
            crate::Backend::Postgres(b) => {
                let mut tx = b.pool.begin().await?;
                let used: Option<(String, DateTime<Utc>)> =
                    sqlx::query_as(TEST_BARCODE_USED).bind(test.barcode.as_str()).bind(test.incident_id).fetch_optional(&mut *tx).await?;
                if let Some((site, at)) = used {
                    return Err(test.used(site, at));
                }
                let tube: Option<(i64,)> = sqlx::query_as(TEST_TUBE)
                    .bind(test.round_id)
                    .bind(test.barcode.as_str())
                    .bind(test.site_id)
                    .bind(&test.area)
                    .bind(&test.actor.name)
                    .bind(test.now)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((tube_id,)) = tube else { return Err(test.tube_used()) };
                sqlx::query(TEST_SAMPLE)
                    .bind(test.round_id)
                    .bind(tube_id)
                    .bind(test.person_id)
                    .bind(&test.person_area)
                    .bind(test.now)
                    .execute(&mut *tx)
                    .await?;
                let added = sqlx::query(TEST_PENDING)
                    .bind(test.order_id)
                    .bind(test.today)
                    .bind(test.now)
                    .bind(tube_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if added == 0 {
                    return Err(test.tested_today());
                }
                tx.append(&test.actor, &test.change).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Who restarts their period after a positive at a site: the same floor and the rule set's
    /// floors above and below, or everyone after a positive environmental sample.
    pub(crate) async fn restart_preview(&self, positive: &Order, environmental: bool) -> Result<Restart> {
        let site = positive.site_id.ok_or_else(|| refused!("refused.not_at_site", name = positive.name))?;
        let room = match positive.room_id {
            Some(r) => self.room(r).await?,
            None => None,
        };
        let floor = room.map(|r| r.floor).unwrap_or(0);
        let rule = self.rule_set(&positive.rule_set).await?;
        let affected: Vec<Order> = self
            .site_people(site)
            .await?
            .into_iter()
            .filter(|(o, r)| {
                o.id != positive.id
                    && !o.status.is_final()
                    && cordon_domain::observation::schedule::restart_applies(floor, r.floor, rule.site_restart_floors, environmental)
            })
            .map(|(o, _)| o)
            .collect();
        Ok(Restart { positive_order: positive.id, floor, environmental, affected })
    }

    /// Restarts the periods listed by [`Store::restart_preview`]: their last exposure becomes
    /// the positive's last time at the site (now), and their schedules are recomputed.
    pub(crate) async fn apply_restart(&self, actor: &Actor, restart: &Restart, site_area: &str) -> Result<u64> {
        let now = Utc::now();
        let ids: Vec<i64> = restart.affected.iter().map(|o| o.id).collect();
        let change = Change::new("restart", "quarantine_site", restart.positive_order).area(site_area).after(serde_json::json!({
            "floor": restart.floor, "environmental": restart.environmental, "orders": ids,
        }));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in ids.chunks(500) {
                let sql = format!(
                    "UPDATE observation_orders SET last_exposure_at = $1, updated_at = $1 WHERE last_exposure_at < $1 AND id IN ({})",
                    crate::list_placeholders(1, chunk.len())
                );
                let params: Vec<Param> = chunk.iter().map(|i| Param::Int(*i)).collect();
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(now), params.iter()).execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.recompute_orders(&ids).await?;
        Ok(ids.len() as u64)
    }
}

/// A door or site test to take (see [`Store::take_observation_test`]).
pub(crate) struct DoorTest {
    pub(crate) round_id: i64,
    pub(crate) site_id: i64,
    /// The sampling site's area.
    pub(crate) area: String,
    pub(crate) barcode: Barcode,
    pub(crate) incident_id: i64,
    pub(crate) order_id: i64,
    pub(crate) person_id: i64,
    pub(crate) person_area: String,
    pub(crate) name: String,
    pub(crate) now: DateTime<Utc>,
    pub(crate) today: NaiveDate,
    pub(crate) actor: Actor,
    pub(crate) change: Change,
}

impl DoorTest {
    /// A barcode is one tube in the whole incident, as at the station: a tube of the mass round
    /// (or of another day's door test) is refused with where it was used.
    pub(crate) fn used(&self, site: String, at: DateTime<Utc>) -> StoreError {
        crate::station::refuse::barcode_used_in_incident(&self.barcode, site, crate::station::shanghai(at)).into()
    }

    pub(crate) fn tube_used(&self) -> StoreError {
        refused!("refused.tube_used", barcode = self.barcode)
    }

    pub(crate) fn tested_today(&self) -> StoreError {
        refused!("refused.already_tested_today", name = self.name)
    }
}

/// Where a barcode was used in an incident (`$1` barcode, `$2` incident).
pub(crate) const TEST_BARCODE_USED: &str = "SELECT s.name, t.opened_at FROM tubes t JOIN testing_rounds r ON r.id = t.round_id \
     JOIN sampling_sites s ON s.id = t.site_id WHERE t.barcode = $1 AND r.incident_id = $2 LIMIT 1";
/// A door test's sealed one-person tube (`$1` round, `$2` barcode, `$3` site, `$4` area, `$5`
/// collector, `$6` at); no row when the round holds the barcode.
pub(crate) const TEST_TUBE: &str = "INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, members, collector, opened_at, sealed_at, purpose) \
     VALUES ($1, $2, $3, $4, 'people', 1, 1, $5, $6, $6, 'observation') ON CONFLICT (round_id, barcode) DO NOTHING RETURNING id";
/// Its sample (`$1` round, `$2` tube, `$3` person, `$4` the person's area, `$5` at).
pub(crate) const TEST_SAMPLE: &str = "INSERT INTO samples (round_id, tube_id, person_id, area_code, sampled_at, client_id, kind) \
     VALUES ($1, $2, $3, $4, $5, NULL, 'observation')";
/// The order's pending test of the day (`$1` order, `$2` day, `$3` at, `$4` tube); none when
/// the day has one.
pub(crate) const TEST_PENDING: &str = "INSERT INTO observation_tests (order_id, taken_on, taken_at, tube_id, outcome) VALUES ($1, $2, $3, $4, 'pending') \
     ON CONFLICT (order_id, taken_on) DO NOTHING";
