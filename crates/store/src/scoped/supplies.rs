//! The scoped door to supplies. Logistics (`supplies.write`) keeps the items, the warehouses of
//! the jurisdiction and their stock, approves and issues requests; everyone working in the
//! jurisdiction (`areas.read`) reads it; a community worker (`community.write`), a site head
//! (`quarantine.write`) and the hotline (`hotline.write`) ask for supplies for places of the
//! jurisdiction; a community worker or logistics brings a delivery to the door.

use std::collections::HashMap;

use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::supplies::{DeliveryStatus, Handover, RequestStatus};

use super::Scoped;
use crate::supplies::{
    Balance, Delivery, Item, Movement, MovementReport, NewItem, NewMovement, NewRequest, NewWarehouse, Request, RequestLine, Warehouse,
};
use crate::{Result, StoreError};

/// Who reads supplies: everyone working in the jurisdiction (stock, requests and deliveries
/// are the whole headquarters' business).
const READ: Permission = Permission::AreasRead;
/// Who asks for supplies.
const ASK: &[Permission] = &[Permission::SuppliesWrite, Permission::CommunityWrite, Permission::QuarantineWrite, Permission::HotlineWrite];
/// Who brings a delivery.
const DELIVER: &[Permission] = &[Permission::SuppliesWrite, Permission::CommunityWrite];

/// A request with its lines and deliveries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestDetail {
    pub request: Request,
    pub lines: Vec<RequestLine>,
    pub deliveries: Vec<Delivery>,
}

impl Scoped {
    fn inside_text(&self, code: &str) -> Result<()> {
        self.inside(&AreaCode::parse(code).map_err(StoreError::corrupt)?)
    }

    pub async fn supply_items(&self) -> Result<Vec<Item>> {
        self.require(READ)?;
        self.store.supply_items().await
    }

    pub async fn create_supply_item(&self, new: &NewItem) -> Result<Item> {
        self.require(Permission::SuppliesWrite)?;
        self.store.create_item(&self.actor, new).await
    }

    pub async fn warehouses(&self) -> Result<Vec<Warehouse>> {
        self.require(READ)?;
        self.store.warehouses_in(self.principal.user.jurisdiction.areas()).await
    }

    pub async fn warehouse(&self, id: i64) -> Result<Warehouse> {
        self.require(READ)?;
        let w = self.store.warehouse_by_id(id).await?.ok_or_else(|| missing!("refused.stock.no_warehouse", id = id))?;
        self.inside_text(&w.area_code)?;
        Ok(w)
    }

    pub async fn create_warehouse(&self, new: &NewWarehouse) -> Result<Warehouse> {
        self.require(Permission::SuppliesWrite)?;
        self.inside(&new.area_code)?;
        self.store.create_warehouse(&self.actor, new).await
    }

    /// Records movements between warehouses of the jurisdiction: each refused one reported (a
    /// warehouse outside it is one the caller does not have), the rest stored.
    pub async fn record_movements(&self, asks: &[NewMovement]) -> Result<MovementReport> {
        self.require(Permission::SuppliesWrite)?;
        if asks.len() > 10_000 {
            return Err(refused!("refused.stock.batch_large", max = 10_000));
        }
        // Only the warehouses the movements name, those of the jurisdiction kept: one outside it
        // is one the caller does not have.
        let mut ids: Vec<i64> = asks.iter().flat_map(|m| [m.from, m.to]).flatten().collect();
        ids.sort_unstable();
        ids.dedup();
        let jurisdiction = &self.principal.user.jurisdiction;
        let warehouses: HashMap<i64, Warehouse> = self
            .store
            .warehouses_by_id(&ids)
            .await?
            .into_iter()
            .filter(|w| AreaCode::parse(&w.area_code).is_ok_and(|a| super::outside(jurisdiction, &a).is_ok()))
            .map(|w| (w.id, w))
            .collect();
        self.store.record_movements(&self.actor, asks, &warehouses, Utc::now()).await
    }

    /// The balances of the jurisdiction's warehouses (or of one).
    pub async fn stock_balances(&self, warehouse: Option<i64>) -> Result<Vec<Balance>> {
        self.require(READ)?;
        if let Some(id) = warehouse {
            self.warehouse(id).await?;
        }
        self.store.balances(self.principal.user.jurisdiction.areas(), warehouse, Utc::now()).await
    }

    /// A warehouse's movements, newest first.
    pub async fn stock_movements(&self, warehouse: i64, before: Option<i64>, limit: i64) -> Result<Vec<Movement>> {
        self.require(READ)?;
        let w = self.warehouse(warehouse).await?;
        self.store.movements_of(w.id, before, limit.clamp(1, 500)).await
    }

    pub async fn create_supply_request(&self, new: &NewRequest) -> Result<Request> {
        self.require_any(ASK)?;
        self.inside(&new.area_code)?;
        self.store.create_request(&self.actor, new, Utc::now()).await
    }

    pub async fn supply_requests(&self, statuses: &[RequestStatus], limit: i64) -> Result<Vec<Request>> {
        self.require(READ)?;
        self.store.requests_in(self.principal.user.jurisdiction.areas(), statuses, limit.clamp(1, 500)).await
    }

    /// The jurisdiction's requests of every status, the newest first, paged by id.
    pub async fn recent_supply_requests(&self, before: Option<i64>, limit: i64) -> Result<Vec<Request>> {
        self.require(READ)?;
        self.store.requests_recent(self.principal.user.jurisdiction.areas(), before, limit.clamp(1, 500)).await
    }

    async fn request_inside(&self, id: i64) -> Result<Request> {
        let r = self.store.request_by_id(id).await?.ok_or_else(|| missing!("refused.supply.none", id = id))?;
        self.inside_text(&r.area_code)?;
        Ok(r)
    }

    pub async fn supply_request(&self, id: i64) -> Result<RequestDetail> {
        self.require(READ)?;
        let request = self.request_inside(id).await?;
        Ok(RequestDetail { lines: self.store.request_lines(id).await?, deliveries: self.store.deliveries_of(id).await?, request })
    }

    /// Approves a request of the jurisdiction, to be issued from one of its warehouses.
    pub async fn approve_supply_request(&self, id: i64, warehouse: i64, approvals: &[(i64, i64)]) -> Result<Request> {
        self.require(Permission::SuppliesWrite)?;
        let req = self.request_inside(id).await?;
        let w = self.warehouse(warehouse).await?;
        self.store.approve_request(&self.actor, &req, &w, approvals, Utc::now()).await
    }

    /// Rejects a request of the jurisdiction, nothing of it issued, saying why.
    pub async fn reject_supply_request(&self, id: i64, reason: &str) -> Result<Request> {
        self.require(Permission::SuppliesWrite)?;
        let req = self.request_inside(id).await?;
        self.store.reject_request(&self.actor, &req, reason, Utc::now()).await
    }

    /// Issues what is owed on an approved request of the jurisdiction as one delivery.
    pub async fn issue_supply_request(&self, id: i64, courier: &str) -> Result<(Delivery, Vec<RequestLine>)> {
        self.require(Permission::SuppliesWrite)?;
        let req = self.request_inside(id).await?;
        // Stock leaves the warehouse it was approved from: one of the caller's.
        if let Some(w) = req.warehouse_id {
            self.warehouse(w).await?;
        }
        self.store.issue_request(&self.actor, &req, courier, Utc::now()).await
    }

    /// The jurisdiction's deliveries under way and those of the last day.
    pub async fn deliveries(&self) -> Result<Vec<Delivery>> {
        self.require(READ)?;
        self.store.deliveries_in(self.principal.user.jurisdiction.areas(), Utc::now()).await
    }

    /// A delivery of the jurisdiction with what it carries.
    pub async fn delivery(&self, id: i64) -> Result<(Delivery, Vec<Movement>)> {
        self.require(READ)?;
        let d = self.store.delivery_by_id(id).await?.ok_or_else(|| missing!("refused.delivery.none", id = id))?;
        self.inside_text(&d.area_code)?;
        let items = self.store.delivery_items(id).await?;
        Ok((d, items))
    }

    /// Moves a delivery of the jurisdiction on: out, or delivered with who received it or the
    /// proof of a contactless drop.
    pub async fn advance_delivery(&self, id: i64, to: DeliveryStatus, handover: Option<&Handover>) -> Result<Delivery> {
        self.require_any(DELIVER)?;
        let (d, _) = self.delivery(id).await?;
        self.store.advance_delivery(&self.actor, &d, to, handover, Utc::now()).await
    }
}

impl Scoped {
    /// Receives a truck's manifest (CSV) into a warehouse of the jurisdiction: the good rows
    /// stored as receipts, each bad one reported with its line.
    pub async fn import_manifest(
        &self,
        warehouse: i64,
        source: cordon_domain::supplies::ReceiptSource,
        reference: &str,
        bytes: Vec<u8>,
    ) -> Result<crate::supplies::ManifestReport> {
        self.require(Permission::SuppliesWrite)?;
        if bytes.len() > crate::supplies::MANIFEST_MAX_BYTES {
            return Err(refused!("refused.manifest.large", max = crate::supplies::MANIFEST_MAX_BYTES / 1024 / 1024));
        }
        let w = self.warehouse(warehouse).await?;
        let reference = reference.trim().to_string();
        // The manifest's number is what tells a second upload of it from the next truck's.
        if reference.is_empty() {
            return Err(refused!("refused.manifest.reference"));
        }
        let items = self.store.supply_items().await?;
        let crate::supplies::ManifestRead { encoding, rows, mut problems, count } =
            tokio::task::spawn_blocking(move || crate::supplies::read_manifest(bytes, &items, w.id, source, &reference))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??;
        let (lines, asks): (Vec<u64>, Vec<NewMovement>) = rows.into_iter().unzip();
        let report = self.record_movements(&asks).await?;
        for (index, reason) in report.refused {
            problems.push(crate::import::RowError { line: lines[index], field: None, reason, then: None });
        }
        problems.sort_by_key(|p| p.line);
        let unchanged = report.stored.iter().filter(|m| m.repeated).count() as u64;
        let stored = report.stored.len() as u64 - unchanged;
        Ok(crate::supplies::ManifestReport { rows: count, stored, unchanged, problems, encoding })
    }
}
