//! The scoped door to medical observation: rule sets, observation orders and their schedules,
//! quarantine sites with rooms, health checks and the day's tests.

use crate::term;
use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::observation::{Blocker, RuleSet, Schedule, StageKind, Status, after_site};
use cordon_domain::transfer::TransferStatus;
use cordon_domain::{AreaCode, Barcode, local_date};
use serde::Serialize;

use super::Scoped;
use crate::observation::{HomeStart, Order, OrderFilter, RecomputeSummary, Release, RuleSetEntry};
use crate::quarantine::{Assigned, HealthCheck, NewQuarantineSite, Restart, Room, SiteBoard, ToSample};
use crate::transfers::{Hospital, NewHospital, NewVehicle, Planned, Transfer, Vehicle};
use crate::treatment::Stay;
use crate::{Result, StoreError};
use cordon_domain::cases::case::Severity;
use cordon_domain::testing::result::CtValues;
use cordon_domain::treatment::{Discharge, HospitalTest};

/// An incident as the rule-set page shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: i64,
    pub name: String,
    pub area_code: String,
    pub rule_set: String,
}

fn area(code: &str) -> Result<AreaCode> {
    AreaCode::parse(code).map_err(|e| StoreError::Task(format!("stored area code {code:?}: {e}")))
}

impl Scoped {
    pub async fn rule_sets(&self) -> Result<Vec<RuleSetEntry>> {
        self.require(Permission::QuarantineRead)?;
        self.store.rule_sets().await
    }

    pub async fn rule_set(&self, name: &str) -> Result<RuleSet> {
        self.require(Permission::QuarantineRead)?;
        self.store.rule_set(name).await
    }

    /// Saves an edited copy of a rule set (`command.write`); orders under it are recomputed.
    pub async fn save_rule_set(&self, rule: &RuleSet, copied_from: &str) -> Result<RecomputeSummary> {
        self.require(Permission::CommandWrite)?;
        self.store.save_rule_set(&self.actor, rule, copied_from).await
    }

    /// The incidents whose area lies in the jurisdiction or contains it.
    pub async fn incidents(&self) -> Result<Vec<IncidentRow>> {
        self.require(Permission::QuarantineRead)?;
        let all: Vec<IncidentRow> = crate::with_read_pool!(self.store, pool => sqlx::query_as::<_, IncidentRow>(
            "SELECT id, name, area_code, rule_set FROM incidents ORDER BY started_at DESC, id DESC",
        ).fetch_all(pool).await?);
        let j = &self.principal.user.jurisdiction;
        Ok(all
            .into_iter()
            .filter(|i| AreaCode::parse(&i.area_code).is_ok_and(|a| j.contains(&a) || j.areas().iter().any(|mine| a.contains(mine))))
            .collect())
    }

    /// Puts a rule set in force for an incident (`command.write`, the incident's area in the
    /// jurisdiction) and recomputes every open schedule.
    pub async fn set_incident_rule_set(&self, incident_id: i64, name: &str) -> Result<RecomputeSummary> {
        self.require(Permission::CommandWrite)?;
        let incident = self.incidents().await?.into_iter().find(|i| i.id == incident_id);
        let incident = incident.ok_or_else(|| missing!("refused.no_incident", incident_id = incident_id))?;
        self.inside(&area(&incident.area_code)?)?;
        self.store.set_incident_rule_set(&self.actor, incident_id, name).await
    }

    pub async fn observation_orders(&self, filter: &OrderFilter) -> Result<Vec<Order>> {
        self.require(Permission::QuarantineRead)?;
        self.store.orders(self.principal.user.jurisdiction.areas(), filter).await
    }

    /// An order of a person living in the jurisdiction, or staying at one of its sites.
    pub async fn observation_order(&self, id: i64) -> Result<Option<Order>> {
        self.require(Permission::QuarantineRead)?;
        let Some(order) = self.store.order(id).await? else { return Ok(None) };
        if self.inside(&area(&order.area_code)?).is_err() {
            let site = match order.site_id {
                Some(s) => self.store.quarantine_site(s).await?,
                None => None,
            };
            match site {
                Some(s) => self.inside(&area(&s.area_code)?)?,
                None => self.inside(&area(&order.area_code)?)?,
            }
        }
        Ok(Some(order))
    }

    /// Orders by id in two reads, kept when [`Scoped::observation_order`] would show them (the
    /// person lives in the jurisdiction, or stays at one of its sites); the others with why.
    async fn orders_in_scope(&self, ids: &[i64]) -> Result<(Vec<Order>, Vec<(i64, crate::Refusal)>)> {
        self.require(Permission::QuarantineRead)?;
        let mut found = self.store.orders_by_ids(ids).await?;
        // In the order asked: a batch fills rooms and seats in that order.
        found.sort_by_key(|o| ids.iter().position(|i| *i == o.id));
        let sites: std::collections::HashSet<i64> = self.quarantine_board().await?.iter().map(|s| s.id).collect();
        let j = &self.principal.user.jurisdiction;
        let mut keep = Vec::with_capacity(found.len());
        let mut missing: Vec<(i64, crate::Refusal)> =
            ids.iter().filter(|id| !found.iter().any(|o| o.id == **id)).map(|id| (*id, refusal!("refused.no_order", id = id))).collect();
        for o in found {
            let visible = AreaCode::parse(&o.area_code).is_ok_and(|a| j.contains(&a)) || o.site_id.is_some_and(|s| sites.contains(&s));
            if visible { keep.push(o) } else { missing.push((o.id, refusal!("refused.order_outside_jurisdiction", id = o.id))) }
        }
        Ok((keep, missing))
    }

    fn order_or_fail(order: Option<Order>, id: i64) -> Result<Order> {
        order.ok_or_else(|| missing!("refused.no_order", id = id))
    }

    /// The outcomes of the tests taken by the close contact a secondary contact's release waits
    /// for, oldest first (none when that person has no order).
    pub async fn close_contact_tests(&self, order: &Order) -> Result<Option<Vec<cordon_domain::observation::Outcome>>> {
        self.require(Permission::QuarantineRead)?;
        let Some(via) = order.via_person_id else { return Ok(None) };
        let Some(close) = self.store.order_of_person(order.incident_id, via).await? else { return Ok(None) };
        Ok(Some(self.store.order_tests(close.id).await?.into_iter().map(|t| t.outcome).collect()))
    }

    pub async fn order_schedule(&self, id: i64) -> Result<(Order, Option<Schedule>)> {
        let order = Self::order_or_fail(self.observation_order(id).await?, id)?;
        let schedule = self.store.order_schedule(&order).await?;
        Ok((order, schedule))
    }

    /// Moves an order: into transit is the dispatcher's (`transfer.write`), everything else the
    /// quarantine staff's (`quarantine.write`).
    pub async fn set_order_status(&self, id: i64, to: Status) -> Result<Order> {
        self.require(if to == Status::InTransit { Permission::TransferWrite } else { Permission::QuarantineWrite })?;
        if to == Status::Case {
            return Err(refused!("refused.order_case_by_record"));
        }
        let order = Self::order_or_fail(self.observation_order(id).await?, id)?;
        if to == Status::Released {
            let blockers = self.release_blockers(&order).await?;
            if !blockers.is_empty() {
                return Err(refused!("refused.not_releasable_yet", name = order.name, n = blockers.len()));
            }
        }
        // Leaving a site's room checks the person out of it.
        if order.room_id.is_some() && !matches!(to, Status::Centralized | Status::InTransit) {
            return self.store.check_out(&self.actor, &order, to).await;
        }
        self.store.set_order_status(&self.actor, &order, to).await
    }

    /// What stands before the person's release today (nothing: they may go).
    pub async fn release_blockers(&self, order: &Order) -> Result<Vec<Blocker>> {
        self.require(Permission::QuarantineRead)?;
        let today = cordon_domain::local_date(Utc::now());
        Ok(self.store.release_blockers(std::slice::from_ref(order), today).await?.remove(&order.id).unwrap_or_default())
    }

    /// Releases a batch (解除隔离): those whose period is over with every test negative go —
    /// out of their room with a ride home when at a site; the others stay, with what holds
    /// them.
    pub async fn release_orders(&self, ids: &[i64]) -> Result<Release> {
        self.require_any(&[Permission::QuarantineWrite, Permission::CommunityWrite])?;
        // The community releases people at home; a site's people are the site's to release.
        let sites = self.principal.can(Permission::QuarantineWrite);
        let (orders, refused) = self.orders_in_scope(ids).await?;
        let today = cordon_domain::local_date(Utc::now());
        let mut blockers = self.store.release_blockers(&orders, today).await?;
        let mut out = Release { refused, ..Release::default() };
        let mut at_home = Vec::new();
        for order in orders {
            let holds = blockers.remove(&order.id).unwrap_or_default();
            if order.room_id.is_some() && !sites {
                out.refused.push((order.id, refusal!("refused.release_at_site", name = order.name)));
            } else if !order.status.may_become(Status::Released) {
                out.refused
                    .push((order.id, refusal!("refused.order_in_status", name = order.name, status = term("obs.status", order.status))));
            } else if !holds.is_empty() {
                out.not_yet.push((order, holds));
            } else if order.room_id.is_some() {
                // Leaving a room: the room goes to cleaning and the ride home is planned.
                out.released.push(self.store.check_out(&self.actor, &order, Status::Released).await?);
            } else {
                at_home.push(order);
            }
        }
        // Everyone else in one transaction, however many go home free today.
        out.released.extend(self.store.release_without_room(&self.actor, &at_home).await?);
        Ok(out)
    }

    /// Starts home quarantine for a batch waiting on the community's home list (开始居家隔离):
    /// each goes into the stage their schedule puts today in.
    pub async fn start_home_observation(&self, ids: &[i64]) -> Result<HomeStart> {
        self.require_any(&[Permission::QuarantineWrite, Permission::CommunityWrite])?;
        let (orders, refused) = self.orders_in_scope(ids).await?;
        let mut out = self.store.start_home(&self.actor, orders, cordon_domain::local_date(Utc::now())).await?;
        out.refused.splice(0..0, refused);
        Ok(out)
    }

    pub async fn create_quarantine_site(&self, new: &NewQuarantineSite) -> Result<SiteBoard> {
        self.require(Permission::QuarantineWrite)?;
        self.inside(&new.area_code)?;
        self.store.create_quarantine_site(&self.actor, new).await
    }

    /// The occupancy board of the jurisdiction's sites.
    pub async fn quarantine_board(&self) -> Result<Vec<SiteBoard>> {
        self.require(Permission::QuarantineRead)?;
        self.store.quarantine_board(self.principal.user.jurisdiction.areas()).await
    }

    pub async fn quarantine_site(&self, id: i64) -> Result<SiteBoard> {
        self.require(Permission::QuarantineRead)?;
        let site = self.store.quarantine_site(id).await?.ok_or_else(|| missing!("refused.no_quarantine_site", id = id))?;
        self.inside(&area(&site.area_code)?)?;
        Ok(site)
    }

    pub async fn add_rooms(&self, site_id: i64, building: &str, floors: (i32, i32), rooms_per_floor: u32, beds: u32) -> Result<u64> {
        self.require(Permission::QuarantineWrite)?;
        let site = self.quarantine_site(site_id).await?;
        self.store.add_rooms(&self.actor, &site, building, floors, rooms_per_floor, beds).await
    }

    pub async fn rooms(&self, site_id: i64) -> Result<Vec<Room>> {
        self.quarantine_site(site_id).await?;
        self.store.rooms(site_id).await
    }

    pub async fn set_room_status(&self, site_id: i64, room_id: i64, to: cordon_domain::observation::RoomStatus) -> Result<()> {
        self.require(Permission::QuarantineWrite)?;
        let site = self.quarantine_site(site_id).await?;
        let room = self.store.room(room_id).await?.filter(|r| r.site_id == site_id);
        let room = room.ok_or_else(|| refused!("refused.no_room_id_at_site", room_id = room_id))?;
        self.store.set_room_status(&self.actor, &site, &room, to).await
    }

    /// Assigns rooms at a site to a batch of orders (by id).
    pub async fn assign_rooms(&self, site_id: i64, order_ids: &[i64]) -> Result<Assigned> {
        self.require(Permission::QuarantineWrite)?;
        let site = self.quarantine_site(site_id).await?;
        let (orders, missing) = self.orders_in_scope(order_ids).await?;
        let mut out = self.store.assign_rooms(&self.actor, &site, &orders).await?;
        out.refused.extend(missing);
        Ok(out)
    }

    pub async fn site_people(&self, site_id: i64) -> Result<Vec<(Order, Room)>> {
        self.quarantine_site(site_id).await?;
        self.store.site_people(site_id).await
    }

    /// One floor's people (`floor`), or those found by room number or name (`q`), by room.
    pub async fn site_people_on(&self, site_id: i64, floor: Option<(&str, i32)>, q: &str) -> Result<Vec<(Order, Room)>> {
        self.quarantine_site(site_id).await?;
        self.store.site_people_on(site_id, floor, q).await
    }

    /// The site's floors holding people, with how many each.
    pub async fn site_floors(&self, site_id: i64) -> Result<Vec<(String, i32, i64)>> {
        self.quarantine_site(site_id).await?;
        self.store.site_floors(site_id).await
    }

    /// For each order, where the person goes on leaving the site on `today` (`after_site`): the
    /// next stage of their plan, or none for release. An order under a rule set no longer known
    /// has no next stage.
    pub async fn after_site(&self, orders: &[&Order], today: NaiveDate) -> Result<HashMap<i64, Option<StageKind>>> {
        self.require(Permission::QuarantineRead)?;
        let mut rules: HashMap<&str, Option<RuleSet>> = HashMap::new();
        let mut out = HashMap::new();
        for o in orders {
            if !rules.contains_key(o.rule_set.as_str()) {
                let rule = match self.store.rule_set(&o.rule_set).await {
                    Ok(r) => Some(r),
                    Err(e) if e.is_refusal() => None,
                    Err(e) => return Err(e),
                };
                rules.insert(o.rule_set.as_str(), rule);
            }
            let plan = rules[o.rule_set.as_str()].as_ref().zip(Some(o.category)).and_then(|(r, c)| r.plan(c));
            let next = plan.and_then(|p| after_site(p, local_date(o.last_exposure_at), today, o.release_on));
            out.insert(o.id, next);
        }
        Ok(out)
    }

    async fn order_at_site(&self, site_id: i64, order_id: i64) -> Result<(SiteBoard, Order)> {
        self.require(Permission::QuarantineWrite)?;
        let site = self.quarantine_site(site_id).await?;
        let order = self.store.order(order_id).await?.filter(|o| o.site_id == Some(site_id));
        let order = order.ok_or_else(|| refused!("refused.order_no_room_at_site", order_id = order_id, site = site.name))?;
        Ok((site, order))
    }

    pub async fn check_in(&self, site_id: i64, order_id: i64) -> Result<Order> {
        let (site, order) = self.order_at_site(site_id, order_id).await?;
        self.store.check_in(&self.actor, &site, &order).await
    }

    /// Checks a person out: home for the next stage, or released.
    pub async fn check_out(&self, site_id: i64, order_id: i64, to: Status) -> Result<Order> {
        let (_, order) = self.order_at_site(site_id, order_id).await?;
        if !matches!(to, Status::HomeQuarantine | Status::HomeMonitoring | Status::Released) {
            return Err(refused!("refused.check_out_where", to = term("obs.status", to.as_str())));
        }
        self.store.check_out(&self.actor, &order, to).await
    }

    pub async fn record_health_check(
        &self,
        site_id: i64,
        order_id: i64,
        slot: &str,
        temperature: f32,
        symptoms: &str,
    ) -> Result<HealthCheck> {
        let (_, order) = self.order_at_site(site_id, order_id).await?;
        let today = cordon_domain::local_date(Utc::now());
        self.store.record_health_check(&self.actor, &order, today, slot, temperature, symptoms).await
    }

    pub async fn health_checks(&self, site_id: i64, on: NaiveDate) -> Result<Vec<HealthCheck>> {
        self.quarantine_site(site_id).await?;
        self.store.health_checks(site_id, on).await
    }

    pub async fn sampling_list(&self, site_id: i64, day: NaiveDate) -> Result<Vec<ToSample>> {
        self.quarantine_site(site_id).await?;
        self.store.sampling_list(site_id, day).await
    }

    /// Takes today's single-tube test of a person at the site.
    pub async fn take_observation_test(&self, site_id: i64, order_id: i64, barcode: &Barcode) -> Result<()> {
        let (site, order) = self.order_at_site(site_id, order_id).await?;
        self.store.take_observation_test(&self.actor, &order, &site.name, &site.area_code, barcode).await
    }

    /// The people observed at home in the jurisdiction, with the day's tests.
    pub async fn home_list(&self, day: NaiveDate) -> Result<Vec<ToSample>> {
        self.require(Permission::QuarantineRead)?;
        self.store.home_list(self.principal.user.jurisdiction.areas(), day).await
    }

    /// Takes today's single-tube test of a person observed at home, at their door (上门采样).
    pub async fn take_home_test(&self, order_id: i64, barcode: &Barcode) -> Result<()> {
        self.require_any(&[Permission::QuarantineWrite, Permission::CommunityWrite])?;
        let order = Self::order_or_fail(self.observation_order(order_id).await?, order_id)?;
        if !matches!(order.status, Status::HomeQuarantine | Status::HomeMonitoring) {
            return Err(refused!("refused.not_at_home", name = order.name));
        }
        self.store.take_observation_test(&self.actor, &order, "居家上门采样", &order.area_code, barcode).await
    }

    /// Who would restart their period after a positive in the site (nothing changes yet).
    pub async fn restart_preview(&self, site_id: i64, positive_order: i64, environmental: bool) -> Result<Restart> {
        let (_, order) = self.order_at_site(site_id, positive_order).await?;
        self.store.restart_preview(&order, environmental).await
    }

    /// Restarts those periods, as previewed.
    pub async fn apply_restart(&self, site_id: i64, positive_order: i64, environmental: bool) -> Result<Restart> {
        let (site, order) = self.order_at_site(site_id, positive_order).await?;
        let restart = self.store.restart_preview(&order, environmental).await?;
        self.store.apply_restart(&self.actor, &restart, &site.area_code).await?;
        Ok(restart)
    }

    pub async fn add_vehicle(&self, v: &NewVehicle) -> Result<i64> {
        self.require(Permission::TransferWrite)?;
        self.inside(&v.area_code)?;
        self.store.add_vehicle(&self.actor, v).await
    }

    pub async fn vehicles(&self) -> Result<Vec<Vehicle>> {
        self.require(Permission::QuarantineRead)?;
        self.store.vehicles(self.principal.user.jurisdiction.areas()).await
    }

    pub async fn add_hospital(&self, h: &NewHospital) -> Result<i64> {
        self.require(Permission::TransferWrite)?;
        self.inside(&h.area_code)?;
        self.store.add_hospital(&self.actor, h).await
    }

    /// The hospitals that serve the jurisdiction: inside it, or at a level above it.
    pub async fn hospitals(&self) -> Result<Vec<Hospital>> {
        self.require_any(&[Permission::QuarantineRead, Permission::TreatmentWrite])?;
        let j = &self.principal.user.jurisdiction;
        Ok(self.store.hospitals().await?.into_iter().filter(|h| AreaCode::parse(&h.area_code).is_ok_and(|a| j.served_from(&a))).collect())
    }

    /// One hospital that serves the jurisdiction, else refused.
    async fn hospital_serving(&self, id: i64) -> Result<Hospital> {
        self.hospitals().await?.into_iter().find(|h| h.id == id).ok_or_else(|| refused!("refused.no_hospital_in_jurisdiction", id = id))
    }

    async fn vehicles_by_id(&self, ids: &[i64]) -> Result<Vec<Vehicle>> {
        let all = self.vehicles().await?;
        ids.iter().map(|id| all.iter().find(|v| v.id == *id).cloned().ok_or_else(|| missing!("refused.no_vehicle", id = id))).collect()
    }

    /// Plans the transfer of people with rooms at a site onto the given vehicles.
    pub async fn plan_site_transfers(&self, site_id: i64, order_ids: &[i64], vehicle_ids: &[i64], escort: &str) -> Result<Planned> {
        self.require(Permission::TransferWrite)?;
        let site = self.quarantine_site(site_id).await?;
        let vehicles = self.vehicles_by_id(vehicle_ids).await?;
        let (orders, missing) = self.orders_in_scope(order_ids).await?;
        let mut out = self.store.plan_site_transfers(&self.actor, &site, &orders, &vehicles, escort).await?;
        out.left.extend(missing);
        Ok(out)
    }

    /// Plans a positive case's transfer to hospital.
    pub async fn plan_case_transfer(&self, case_id: i64, hospital_id: i64, vehicle_id: i64, escort: &str) -> Result<i64> {
        self.require(Permission::TransferWrite)?;
        let case = self.store.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.inside(&area(&case.area_code)?)?;
        let hospital = self.hospital_serving(hospital_id).await?;
        let vehicle = self.vehicles_by_id(&[vehicle_id]).await?.remove(0);
        self.store.plan_case_transfer(&self.actor, &case, &hospital, &vehicle, escort).await
    }

    pub async fn dispatch_board(&self) -> Result<Vec<Transfer>> {
        self.require(Permission::QuarantineRead)?;
        self.store.dispatch_board(self.principal.user.jurisdiction.areas()).await
    }

    pub async fn cases_to_hospital(&self) -> Result<Vec<(i64, String, String, String, chrono::DateTime<Utc>, String)>> {
        self.require(Permission::QuarantineRead)?;
        self.store.cases_to_hospital(self.principal.user.jurisdiction.areas()).await
    }

    pub async fn transfer(&self, id: i64) -> Result<(Transfer, Vec<(i64, String, Option<i64>, Option<i64>)>)> {
        self.require(Permission::QuarantineRead)?;
        let t = self.store.transfer(id).await?.ok_or_else(|| missing!("refused.no_transfer", id = id))?;
        self.inside(&area(&t.area_code)?)?;
        let people = self.store.transfer_people(id).await?;
        Ok((t, people))
    }

    /// Puts a vehicle on a planned transfer that has none (a release home).
    pub async fn assign_vehicle(&self, id: i64, vehicle_id: i64, escort: &str) -> Result<Transfer> {
        self.require(Permission::TransferWrite)?;
        let (t, _) = self.transfer(id).await?;
        let vehicle = self.vehicles_by_id(&[vehicle_id]).await?.remove(0);
        self.store.assign_vehicle(&self.actor, &t, &vehicle, escort).await?;
        Ok(self.transfer(id).await?.0)
    }

    pub async fn advance_transfer(&self, id: i64, to: TransferStatus) -> Result<Transfer> {
        self.require(Permission::TransferWrite)?;
        let (t, _) = self.transfer(id).await?;
        self.store.advance_transfer(&self.actor, &t, to).await
    }

    /// Hospital stays in the jurisdiction: in hospital, under monitoring after discharge, deaths.
    pub async fn stays(&self) -> Result<Vec<Stay>> {
        self.require_any(&[Permission::QuarantineRead, Permission::TreatmentWrite])?;
        self.store.stays(self.principal.user.jurisdiction.areas(), cordon_domain::local_date(Utc::now())).await
    }

    pub async fn stay(&self, id: i64) -> Result<Stay> {
        self.require_any(&[Permission::QuarantineRead, Permission::TreatmentWrite])?;
        let stay = self.store.stay(id).await?.ok_or_else(|| missing!("refused.no_hospital_stay", id = id))?;
        self.inside(&area(&stay.area_code)?)?;
        Ok(stay)
    }

    /// Every stay of the jurisdiction with its tests, severity log and the discharge rule's
    /// verdict, in three queries.
    #[allow(clippy::type_complexity)]
    pub async fn stay_records(&self) -> Result<Vec<(Stay, Vec<HospitalTest>, Vec<(chrono::DateTime<Utc>, String, String)>, Discharge)>> {
        let stays = self.stays().await?;
        let ids: Vec<i64> = stays.iter().map(|s| s.id).collect();
        let (mut tests, mut logs) = self.store.stay_histories(&ids).await?;
        Ok(stays
            .into_iter()
            .map(|s| {
                let t = tests.remove(&s.id).unwrap_or_default();
                let rule = cordon_domain::treatment::discharge(&t, None);
                let log = logs.remove(&s.id).unwrap_or_default();
                (s, t, log, rule)
            })
            .collect())
    }

    pub async fn orders_on_open_transfers(&self) -> Result<std::collections::HashSet<i64>> {
        self.require(Permission::QuarantineRead)?;
        self.store.orders_on_open_transfers().await
    }

    /// A stay's tests, severity log and what the discharge rule says now.
    pub async fn stay_record(&self, id: i64) -> Result<(Stay, Vec<HospitalTest>, Vec<(chrono::DateTime<Utc>, String, String)>, Discharge)> {
        let stay = self.stay(id).await?;
        let tests = self.store.hospital_tests(id).await?;
        let log = self.store.severity_log(id).await?;
        let rule = cordon_domain::treatment::discharge(&tests, None);
        Ok((stay, tests, log, rule))
    }

    /// Admits a case of the jurisdiction by hand (`treatment.write`, the ward's acts).
    pub async fn admit(&self, case_id: i64, hospital_id: i64) -> Result<i64> {
        self.require(Permission::TreatmentWrite)?;
        let case = self.store.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.inside(&area(&case.area_code)?)?;
        self.hospital_serving(hospital_id).await?;
        self.store.admit(&self.actor, case_id, hospital_id).await
    }

    /// Records a clinical type; on an asymptomatic infection, its conversion to confirmed.
    /// Answers the case's new classification when it was converted.
    pub async fn change_severity(&self, id: i64, severity: Severity, note: &str) -> Result<Option<cordon_domain::cases::case::CaseClass>> {
        self.require(Permission::TreatmentWrite)?;
        let stay = self.stay(id).await?;
        self.store.change_severity(&self.actor, &stay, severity, note).await
    }

    pub async fn record_hospital_test(&self, id: i64, at: chrono::DateTime<Utc>, ct: CtValues) -> Result<()> {
        self.require(Permission::TreatmentWrite)?;
        let stay = self.stay(id).await?;
        self.store.record_hospital_test(&self.actor, &stay, at, ct).await
    }

    pub async fn discharge(&self, id: i64) -> Result<NaiveDate> {
        self.require(Permission::TreatmentWrite)?;
        let stay = self.stay(id).await?;
        self.store.discharge(&self.actor, &stay).await
    }

    /// Records a death at `at` with its cause (`treatment::death` says what is refused).
    pub async fn record_death(&self, id: i64, at: chrono::DateTime<Utc>, cause: &str) -> Result<()> {
        self.require(Permission::TreatmentWrite)?;
        let stay = self.stay(id).await?;
        self.store.record_death(&self.actor, &stay, at, cause).await
    }
}
