//! Closed-loop transfers (闭环转运): vehicles and hospitals, transfer orders planned in batches
//! that fill the vehicles, their dispatch, pick-up and arrival, and the dispatch board with
//! every open transfer's clock, overdue first.

use crate::term;
use chrono::{DateTime, Duration, Utc};
use cordon_domain::AreaCode;
use cordon_domain::observation::Status;
use cordon_domain::transfer::{TransferKind, TransferStatus, VehicleKind, fill_vehicles};
use serde::Serialize;

use crate::audit::{Actor, Append, Change};

/// The name of the quarantine site a case (`c`) was found in, '' when it was not found in one.
const SITE_OF_CASE: &str = "COALESCE((SELECT s.name FROM observation_orders o JOIN quarantine_sites s ON s.id = o.site_id \
     WHERE c.place = 'quarantine_site' AND o.person_id = c.person_id AND o.status = 'case' ORDER BY o.id DESC LIMIT 1), '')";
use crate::BeginWrite as _;
use crate::observation::Order;
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

#[derive(Debug, Clone)]
pub struct NewVehicle {
    pub plate: String,
    pub kind: VehicleKind,
    pub seats: u32,
    pub area_code: AreaCode,
    pub driver: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Vehicle {
    pub id: i64,
    pub plate: String,
    #[sqlx(try_from = "String")]
    pub kind: VehicleKind,
    pub seats: i32,
    pub area_code: String,
    pub driver: Option<String>,
    pub phone: Option<String>,
    /// On an open transfer now.
    pub busy: bool,
}

#[derive(Debug, Clone)]
pub struct NewHospital {
    pub name: String,
    pub kind: cordon_domain::treatment::HospitalKind,
    pub area_code: AreaCode,
    pub beds: u32,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Hospital {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: cordon_domain::treatment::HospitalKind,
    pub area_code: String,
    pub beds: i32,
}

/// A transfer with what the board shows of it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Transfer {
    pub id: i64,
    pub incident_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: TransferKind,
    pub vehicle_id: Option<i64>,
    pub plate: Option<String>,
    pub escort: Option<String>,
    /// Where the transfer starts and ends; empty for the people's own place (their home, or
    /// where they are now), which each face names from the kind (`dispatch.own_place.<kind>`).
    pub from_place: String,
    pub to_place: String,
    pub to_site_id: Option<i64>,
    pub to_hospital_id: Option<i64>,
    pub area_code: String,
    #[sqlx(try_from = "String")]
    pub status: TransferStatus,
    pub deadline: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub people: i64,
}

impl Transfer {
    /// Open and past its deadline at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.deadline < now
    }
}

const TRANSFER_COLUMNS: &str = "t.id, t.incident_id, t.kind, t.vehicle_id, v.plate, t.escort, t.from_place, t.to_place, t.to_site_id, \
     t.to_hospital_id, t.area_code, t.status, t.deadline, t.created_at, t.dispatched_at, t.picked_up_at, t.arrived_at, \
     (SELECT COUNT(*) FROM transfer_people tp WHERE tp.transfer_id = t.id) AS people";

/// What planning a batch did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Planned {
    pub transfers: Vec<i64>,
    /// Orders left without a seat, or refused, with the reason.
    pub left: Vec<(i64, crate::Refusal)>,
}

/// The refusal for a vehicle already on another transfer.
fn busy(vehicle: &Vehicle) -> StoreError {
    refused!("refused.vehicle_busy", plate = vehicle.plate)
}

/// `('planned', 'dispatched', 'picked_up')`: the transfers still under way, as the domain says.
fn open_statuses() -> String {
    crate::sql_set(&TransferStatus::OPEN)
}

impl Store {
    pub(crate) async fn add_vehicle(&self, actor: &Actor, v: &NewVehicle) -> Result<i64> {
        if !(1..=80).contains(&v.seats) {
            return Err(refused!("refused.vehicle_invalid"));
        }
        let plate = cordon_domain::transfer::plate(&v.plate)?;
        let plate = plate.as_str();
        let phone = v.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
        if let Some(p) = phone {
            cordon_domain::phone::contact_phone(p).map_err(|_| refused!("refused.contact_phone", phone = p))?;
        }
        let change = Change::new("create", "vehicle", plate)
            .area(v.area_code.as_str())
            .after(serde_json::json!({"kind": v.kind.as_str(), "seats": v.seats}));
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO vehicles (plate, kind, seats, area_code, driver, phone) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (plate) DO NOTHING RETURNING id",
            )
            .bind(plate).bind(v.kind.as_str()).bind(v.seats as i32).bind(v.area_code.as_str()).bind(v.driver.as_deref()).bind(phone)
            .fetch_optional(&mut *tx).await?;
            let Some((id,)) = row else { return Err(refused!("refused.vehicle_taken", plate = plate)) };
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    pub(crate) async fn vehicles(&self, scope: &[AreaCode]) -> Result<Vec<Vehicle>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("v.area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!(
            "SELECT v.id, v.plate, v.kind, v.seats, v.area_code, v.driver, v.phone, \
             EXISTS (SELECT 1 FROM transfers t WHERE t.vehicle_id = v.id AND t.status IN {open}) AS busy \
             FROM vehicles v WHERE {inside} ORDER BY v.kind, v.plate",
            open = open_statuses()
        );
        Ok(
            with_read_pool!(self, pool => bind_all(sqlx::query_as::<_, Vehicle>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?),
        )
    }

    pub(crate) async fn add_hospital(&self, actor: &Actor, h: &NewHospital) -> Result<i64> {
        let name = h.name.trim();
        if name.is_empty() {
            return Err(refused!("refused.hospital_needs_name"));
        }
        let change = Change::new("create", "hospital", name)
            .area(h.area_code.as_str())
            .after(serde_json::json!({"kind": h.kind.as_str(), "beds": h.beds}));
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO hospitals (name, kind, area_code, beds) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING id",
            )
            .bind(name).bind(h.kind.as_str()).bind(h.area_code.as_str()).bind(h.beds as i32)
            .fetch_optional(&mut *tx).await?;
            let Some((id,)) = row else { return Err(refused!("refused.hospital_taken", name = name)) };
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    pub(crate) async fn hospitals(&self) -> Result<Vec<Hospital>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Hospital>(
            "SELECT id, name, kind, area_code, beds FROM hospitals ORDER BY kind, name",
        ).fetch_all(pool).await?))
    }

    /// Plans the transfer of people with a room at a site: they fill the given vehicles in
    /// order (seats less one for the escort), one transfer per vehicle, each due 12 hours after
    /// the earliest of its people was handed over.
    pub(crate) async fn plan_site_transfers(
        &self,
        actor: &Actor,
        site: &crate::quarantine::SiteBoard,
        orders: &[Order],
        vehicles: &[Vehicle],
        escort: &str,
    ) -> Result<Planned> {
        let kinds: Vec<VehicleKind> = vehicles.iter().map(|v| v.kind).collect();
        cordon_domain::transfer::contact_ride(orders.len(), &kinds)?;
        let mut out = Planned::default();
        let open = self.orders_on_open_transfers().await?;
        let mut riders: Vec<&Order> = Vec::new();
        for o in orders {
            if o.site_id != Some(site.id) || o.room_id.is_none() {
                out.left.push((o.id, refusal!("refused.no_room_at_site", name = o.name, site = site.name)));
            } else if o.status != Status::AwaitingTransfer {
                out.left.push((o.id, refusal!("refused.not_waiting_for_transfer", name = o.name)));
            } else if open.contains(&o.id) {
                out.left.push((o.id, refusal!("refused.on_transfer_already", name = o.name)));
            } else {
                riders.push(o);
            }
        }
        let free: Vec<&Vehicle> = vehicles.iter().filter(|v| !v.busy).collect();
        let seats: Vec<u32> = free.iter().map(|v| v.seats.max(1) as u32).collect();
        let (loads, _) = fill_vehicles(riders.len(), &seats);
        let now = Utc::now();
        let incident = riders.first().map(|o| o.incident_id);
        let mut next = 0;
        let mut plan: Vec<(&Vehicle, &[&Order])> = Vec::new();
        for (v, n) in free.iter().zip(&loads) {
            plan.push((v, &riders[next..next + n]));
            next += n;
        }
        for o in &riders[next..] {
            out.left.push((o.id, refusal!("refused.no_free_seat", name = o.name)));
        }
        let Some(incident) = incident else { return Ok(out) };
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (vehicle, people) in &plan {
                // The clock runs from the first of them handed over.
                let deadline = TransferKind::ContactToSite.deadline(people.iter().map(|o| o.created_at).min().unwrap_or(now));
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO transfers (incident_id, kind, vehicle_id, escort, from_place, to_place, to_site_id, area_code, status, deadline, created_at, created_by) \
                     VALUES ($1, 'contact_to_site', $2, $3, $4, $5, $6, $7, 'planned', $8, $9, $10) RETURNING id",
                )
                .bind(incident).bind(vehicle.id).bind(Some(escort.trim()).filter(|e| !e.is_empty())).bind("")
                .bind(&site.name).bind(site.id).bind(&site.area_code).bind(deadline).bind(now).bind(&actor.name)
                .fetch_one(&mut *tx).await?;
                for o in people.iter() {
                    sqlx::query("INSERT INTO transfer_people (transfer_id, person_id, order_id) VALUES ($1, $2, $3)")
                        .bind(id).bind(o.person_id).bind(o.id).execute(&mut *tx).await?;
                }
                let change = Change::new("plan", "transfer", id).area(&site.area_code).after(serde_json::json!({
                    "vehicle": vehicle.plate, "to": site.name, "orders": people.iter().map(|o| o.id).collect::<Vec<_>>(),
                }));
                tx.append(actor, &change).await?;
                out.transfers.push(id);
            }
            tx.commit().await?;
        });
        Ok(out)
    }

    /// A positive case to hospital: one vehicle, due two hours after the case was recorded.
    pub(crate) async fn plan_case_transfer(
        &self,
        actor: &Actor,
        case: &crate::cases::Case,
        hospital: &Hospital,
        vehicle: &Vehicle,
        escort: &str,
    ) -> Result<i64> {
        let Some(person) = case.person_id else {
            return Err(refused!("refused.case_names_no_person", case = case.external_id));
        };
        if vehicle.busy {
            return Err(busy(vehicle));
        }
        let sql = format!(
            "SELECT t.id FROM transfer_people tp JOIN transfers t ON t.id = tp.transfer_id WHERE tp.case_id = $1 AND t.status IN {}",
            open_statuses()
        );
        let open: Option<(i64,)> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(case.id).fetch_optional(pool).await?);
        if let Some((id,)) = open {
            return Ok(id);
        }
        cordon_domain::transfer::case_ride(vehicle.kind, escort)?;
        let pickup = self.case_pickup(case.id).await?;
        let now = Utc::now();
        let deadline = TransferKind::PositiveToHospital.deadline(case.created_at);
        // Audited under the transfer's own id (known once inserted), the case named inside.
        let change = |id: i64| {
            Change::new("plan", "transfer", id).area(&case.area_code).after(
                serde_json::json!({"case": case.id, "case_number": case.external_id, "hospital": hospital.name, "vehicle": vehicle.plate}),
            )
        };
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO transfers (incident_id, kind, vehicle_id, escort, from_place, to_place, to_hospital_id, area_code, status, deadline, created_at, created_by) \
                 VALUES ($1, 'positive_to_hospital', $2, $3, $4, $5, $6, $7, 'planned', $8, $9, $10) RETURNING id",
            )
            .bind(case.incident_id).bind(vehicle.id).bind(Some(escort.trim()).filter(|e| !e.is_empty())).bind(&pickup)
            .bind(&hospital.name).bind(hospital.id).bind(&case.area_code).bind(deadline).bind(now).bind(&actor.name)
            .fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO transfer_people (transfer_id, person_id, case_id) VALUES ($1, $2, $3)")
                .bind(id).bind(person).bind(case.id).execute(&mut *tx).await?;
            tx.append(actor, &change(id)).await?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    pub(crate) async fn transfer(&self, id: i64) -> Result<Option<Transfer>> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM transfers t LEFT JOIN vehicles v ON v.id = t.vehicle_id WHERE t.id = $1");
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Transfer>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?))
    }

    /// The dispatch board: open transfers in `scope`, the most overdue first, then the ones
    /// arrived in the last 24 hours.
    pub(crate) async fn dispatch_board(&self, scope: &[AreaCode]) -> Result<Vec<Transfer>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("t.area_code", scope, &mut params) else { return Ok(vec![]) };
        params.push(Param::Time(Utc::now() - Duration::hours(24)));
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers t LEFT JOIN vehicles v ON v.id = t.vehicle_id WHERE {inside} \
             AND (t.status IN {open} OR t.arrived_at >= ${}) \
             ORDER BY CASE WHEN t.status IN {open} THEN 0 ELSE 1 END, t.deadline, t.id LIMIT 2000",
            params.len(),
            open = open_statuses()
        );
        Ok(
            with_read_pool!(self, pool => bind_all(sqlx::query_as::<_, Transfer>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?),
        )
    }

    /// The people of a transfer: (person, name, order, case).
    pub(crate) async fn transfer_people(&self, id: i64) -> Result<Vec<(i64, String, Option<i64>, Option<i64>)>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as(
            "SELECT tp.person_id, p.name, tp.order_id, tp.case_id FROM transfer_people tp JOIN persons p ON p.id = tp.person_id \
             WHERE tp.transfer_id = $1 ORDER BY p.name",
        ).bind(id).fetch_all(pool).await?))
    }

    /// Moves a transfer on: dispatched, picked up (its contacts are in transit, its case in
    /// transfer), arrived (a case is in hospital), or cancelled.
    pub(crate) async fn advance_transfer(&self, actor: &Actor, t: &Transfer, to: TransferStatus) -> Result<Transfer> {
        let from = t.status;
        if to == TransferStatus::Dispatched && t.vehicle_id.is_none() {
            return Err(refused!("refused.transfer_without_vehicle", id = t.id));
        }
        if !from.may_become(to) {
            return Err(refused!(
                "refused.transfer_cannot_become",
                from = term("dispatch.status", from.as_str()),
                to = term("dispatch.status", to.as_str())
            ));
        }
        let now = Utc::now();
        let column = match to {
            TransferStatus::Dispatched => "dispatched_at",
            TransferStatus::PickedUp => "picked_up_at",
            TransferStatus::Arrived => "arrived_at",
            _ => "created_at",
        };
        let change = Change::new("status", "transfer", t.id)
            .area(&t.area_code)
            .before(serde_json::json!({"status": from.as_str()}))
            .after(serde_json::json!({"status": to.as_str()}));
        let hospital_place = match t.to_hospital_id {
            Some(h) => self.hospitals().await?.into_iter().find(|x| x.id == h).map(|x| x.kind.case_place().as_str()),
            None => None,
        };
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let set_time = if to == TransferStatus::Cancelled { String::new() } else { format!(", {column} = $3") };
            let sql = format!("UPDATE transfers SET status = $1{set_time} WHERE id = $2 AND status = $4");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to.as_str()).bind(t.id);
            q = q.bind(now).bind(from.as_str());
            if q.execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(refused!("refused.transfer_changed", id = t.id));
            }
            match to {
                TransferStatus::PickedUp => {
                    sqlx::query("UPDATE observation_orders SET status = 'in_transit', updated_at = $1 WHERE status = 'awaiting_transfer' \
                                 AND id IN (SELECT order_id FROM transfer_people WHERE transfer_id = $2)")
                        .bind(now).bind(t.id).execute(&mut *tx).await?;
                    sqlx::query("UPDATE cases SET place = 'in_transfer' WHERE id IN (SELECT case_id FROM transfer_people WHERE transfer_id = $1)")
                        .bind(t.id).execute(&mut *tx).await?;
                }
                // Home at last (or the ride called off: they went home another way): the home
                // stage a check-out chose starts.
                TransferStatus::Arrived | TransferStatus::Cancelled => {
                    sqlx::query(
                        "UPDATE observation_orders SET status = (SELECT tp.then_status FROM transfer_people tp \
                         WHERE tp.transfer_id = $2 AND tp.order_id = observation_orders.id), updated_at = $1 \
                         WHERE status = 'in_transit' AND id IN (SELECT order_id FROM transfer_people WHERE transfer_id = $2 AND then_status IS NOT NULL)",
                    )
                    .bind(now).bind(t.id).execute(&mut *tx).await?;
                }
                _ => {}
            }
            if to == TransferStatus::Arrived && let Some(place) = hospital_place {
                sqlx::query("UPDATE cases SET place = $1 WHERE id IN (SELECT case_id FROM transfer_people WHERE transfer_id = $2)")
                    .bind(place).bind(t.id).execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        // A case delivered to hospital is admitted there.
        if let (TransferStatus::Arrived, Some(hospital)) = (to, t.to_hospital_id) {
            for (_, _, _, case) in self.transfer_people(t.id).await? {
                if let Some(case) = case {
                    self.admit(actor, case, hospital).await?;
                }
            }
        }
        self.transfer(t.id).await?.ok_or_else(|| StoreError::Task("transfer vanished".into()))
    }

    /// Cases in `scope` still at home or in a quarantine site with no transfer to hospital
    /// planned: (case id, number, person name, area, recorded at), oldest first.
    pub(crate) async fn cases_to_hospital(&self, scope: &[AreaCode]) -> Result<Vec<(i64, String, String, String, DateTime<Utc>, String)>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("c.area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!(
            "SELECT c.id, c.external_id, p.name, c.area_code, c.created_at, {SITE_OF_CASE} AS site FROM cases c JOIN persons p ON p.id = c.person_id \
             WHERE {inside} AND c.place IN ('home', 'quarantine_site') \
             AND NOT EXISTS (SELECT 1 FROM transfer_people tp JOIN transfers t ON t.id = tp.transfer_id WHERE tp.case_id = c.id AND t.status <> 'cancelled') \
             ORDER BY c.created_at LIMIT 500"
        );
        Ok(with_read_pool!(self, pool => bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// Where a case is picked up: the quarantine site it was found in (its name), else its
    /// own place (stored empty, as the board says it).
    pub(crate) async fn case_pickup(&self, case_id: i64) -> Result<String> {
        let sql = format!("SELECT {SITE_OF_CASE} FROM cases c WHERE c.id = $1");
        let (site,): (String,) =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(case_id).fetch_one(pool).await?);
        Ok(site)
    }

    /// The orders riding an open transfer now.
    pub(crate) async fn orders_on_open_transfers(&self) -> Result<std::collections::HashSet<i64>> {
        let sql = format!(
            "SELECT tp.order_id FROM transfer_people tp JOIN transfers t ON t.id = tp.transfer_id \
             WHERE t.status IN {} AND tp.order_id IS NOT NULL",
            open_statuses()
        );
        let rows: Vec<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(o,)| o).collect())
    }

    /// Puts a free vehicle on a planned transfer that has none (a release home).
    pub(crate) async fn assign_vehicle(&self, actor: &Actor, t: &Transfer, vehicle: &Vehicle, escort: &str) -> Result<()> {
        if t.status != TransferStatus::Planned {
            return Err(refused!("refused.transfer_under_way", id = t.id));
        }
        if vehicle.busy {
            return Err(busy(vehicle));
        }
        let change = Change::new("vehicle", "transfer", t.id).area(&t.area_code).after(serde_json::json!({"vehicle": vehicle.plate}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE transfers SET vehicle_id = $1, escort = COALESCE($2, escort) WHERE id = $3 AND status = 'planned'")
                .bind(vehicle.id).bind(Some(escort.trim()).filter(|e| !e.is_empty())).bind(t.id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
