//! The scoped door to the hotline. The centre (`hotline.write`) takes calls, dispatches them,
//! adds a unit (加派), supervises (督办), calls the caller back, closes and reopens tickets of the
//! jurisdiction; a unit — a community worker (`community.write`) of the village or township a
//! ticket was sent to or added to — signs for it, sends it back with a reason or reports it
//! handled. Reading tickets, the boards and the counts needs `hotline.read` (the operator, the
//! community worker, the commander, the observer). The caller's phone is shown in full only to
//! those who call back or go to the door.

use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::hotline::TicketAct;

use super::Scoped;
use crate::hotline::{Act, Board, ExtraUnit, LimitRow, NewTicket, Taken, Ticket, TicketCount, TicketEvent};
use crate::{Result, StoreError};

/// The centre's acts.
const CENTRE: Permission = Permission::HotlineWrite;
/// A unit's acts on the tickets sent to it.
const UNIT: Permission = Permission::CommunityWrite;
/// Who reads tickets: the centre, the units, the command.
const READ: &[Permission] = &[Permission::HotlineRead];
/// Who sees a caller's phone in full.
const REVEAL: &[Permission] = &[Permission::HotlineWrite, Permission::CommunityWrite, Permission::PersonsReveal];

/// A ticket with its history and the units added to it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TicketDetail {
    pub ticket: Ticket,
    pub events: Vec<TicketEvent>,
    pub units: Vec<ExtraUnit>,
}

/// A phone as a list shows it to those who do not call: `138****5678`, or the last four digits.
fn masked(phone: &str) -> String {
    match cordon_domain::phone::Phone::parse(phone) {
        Ok(p) => p.masked(),
        Err(_) => {
            let tail: String = phone.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            format!("****{tail}")
        }
    }
}

impl Scoped {
    fn sees_phone(&self) -> bool {
        REVEAL.iter().any(|p| self.principal.can(*p))
    }

    fn shown(&self, mut t: Ticket) -> Ticket {
        if !self.sees_phone() {
            t.phone = masked(&t.phone);
        }
        t
    }

    fn within(&self, code: &str) -> bool {
        AreaCode::parse(code).is_ok_and(|c| self.principal.user.jurisdiction.contains(&c))
    }

    /// A ticket the caller may read: of an area of the jurisdiction, or sent or added to a unit
    /// of it.
    async fn ticket_inside(&self, id: i64) -> Result<(Ticket, Vec<ExtraUnit>)> {
        let t = self.store.ticket(id).await?.ok_or_else(|| missing!("refused.hotline.none", id = id))?;
        let units = self.store.ticket_units(id).await?;
        let ours = self.within(&t.area_code)
            || t.unit_area.as_deref().is_some_and(|u| self.within(u))
            || units.iter().any(|u| self.within(&u.unit_area));
        if !ours {
            self.inside(&AreaCode::parse(&t.area_code).map_err(StoreError::corrupt)?)?;
        }
        Ok((t, units))
    }

    /// Takes a call in an area of the jurisdiction (a repeat call joins its open ticket). A
    /// client id that names a ticket outside the jurisdiction is refused as outside it.
    pub async fn take_call(&self, new: &NewTicket) -> Result<Taken> {
        self.require(CENTRE)?;
        self.inside(&new.area_code)?;
        let taken = self.store.take_call(&self.actor, new, Utc::now()).await?;
        self.inside(&AreaCode::parse(&taken.ticket.area_code).map_err(StoreError::corrupt)?)?;
        Ok(Taken { ticket: self.shown(taken.ticket), joined: taken.joined })
    }

    pub async fn ticket(&self, id: i64) -> Result<TicketDetail> {
        self.require_any(READ)?;
        let (t, units) = self.ticket_inside(id).await?;
        let events = self.store.ticket_events(id).await?;
        Ok(TicketDetail { ticket: self.shown(t), events, units })
    }

    /// Does an act on a ticket: the centre's acts need `hotline.write` and the ticket's area in
    /// the jurisdiction (a unit dispatched or added to inside it too); a unit's acts need
    /// `community.write` and the unit answering it in the jurisdiction.
    pub async fn act_on_ticket(&self, id: i64, act: &Act) -> Result<Ticket> {
        self.require_any(READ)?;
        let (t, _) = self.ticket_inside(id).await?;
        match act.kind() {
            TicketAct::Sign | TicketAct::SendBack | TicketAct::Handle => {
                self.require(UNIT)?;
                let unit = t.unit_area.as_deref().unwrap_or(&t.area_code);
                self.inside(&AreaCode::parse(unit).map_err(StoreError::corrupt)?)?;
            }
            _ => {
                self.require(CENTRE)?;
                self.inside(&AreaCode::parse(&t.area_code).map_err(StoreError::corrupt)?)?;
                if let Act::Dispatch { unit } | Act::AddUnit { unit, .. } = act {
                    self.inside(unit)?;
                }
            }
        }
        self.store.act_on_ticket(&self.actor, &t, act, Utc::now()).await.map(|t| self.shown(t))
    }

    /// An added unit (加派) signs for its part, or reports it handled with what was done.
    pub async fn act_as_added_unit(&self, id: i64, unit: &AreaCode, handled: Option<&str>) -> Result<()> {
        self.require(UNIT)?;
        self.inside(unit)?;
        let (t, _) = self.ticket_inside(id).await?;
        self.store.act_as_added_unit(&self.actor, &t, unit.as_str(), handled, Utc::now()).await
    }

    /// The open tickets, the soonest due first: the centre's board for the centre and the
    /// command, a unit's for a community worker.
    pub async fn ticket_board(&self, limit: i64) -> Result<(Board, Vec<Ticket>)> {
        self.require_any(READ)?;
        let board = if self.principal.can(CENTRE) || !self.principal.can(UNIT) { Board::Centre } else { Board::Unit };
        let list = self.store.ticket_board(self.principal.user.jurisdiction.areas(), board, limit.clamp(1, 500)).await?;
        Ok((board, list.into_iter().map(|t| self.shown(t)).collect()))
    }

    /// Every ticket of the jurisdiction's areas, the newest first, paged by id.
    pub async fn tickets_recent(&self, before: Option<i64>, limit: i64) -> Result<Vec<Ticket>> {
        self.require_any(READ)?;
        let list = self.store.tickets_recent(self.principal.user.jurisdiction.areas(), before, limit.clamp(1, 500)).await?;
        Ok(list.into_iter().map(|t| self.shown(t)).collect())
    }

    /// The tickets accepted on a day, by category and status (the kept counts).
    pub async fn ticket_counts(&self, day: chrono::NaiveDate) -> Result<Vec<TicketCount>> {
        self.require_any(READ)?;
        self.store.ticket_counts(self.principal.user.jurisdiction.areas(), day).await
    }

    pub async fn hotline_limits(&self) -> Result<Vec<LimitRow>> {
        self.require_any(READ)?;
        self.store.all_hotline_limits().await
    }

    /// Sets the clocks of a category and urgency, for every ticket: the command, or a centre
    /// over a whole county (a township's operator does not set the county's clocks).
    pub async fn set_hotline_limits(&self, row: &LimitRow) -> Result<()> {
        self.require_any(&[Permission::CommandWrite, CENTRE])?;
        if !self.may_set_limits() {
            return Err(refused!("refused.hotline.limits_county"));
        }
        self.store.set_hotline_limits(&self.actor, row).await
    }

    /// Whether the caller sets the clocks: the command, or a centre over a whole county.
    pub fn may_set_limits(&self) -> bool {
        let p = &self.principal;
        p.can(Permission::CommandWrite) || (p.can(CENTRE) && p.user.jurisdiction.areas().iter().all(|a| a.as_str().len() <= 6))
    }

    /// Raises a supply request for a supplies ticket's caller, at the ticket's address, and
    /// names each in the other.
    pub async fn raise_supply_request(
        &self,
        id: i64,
        lines: Vec<(i64, i64)>,
        needed_by: chrono::DateTime<Utc>,
        priority: cordon_domain::supplies::Priority,
    ) -> Result<crate::supplies::Request> {
        self.require_any(READ)?;
        self.require_any(&[CENTRE, UNIT])?;
        let (t, _) = self.ticket_inside(id).await?;
        if t.category != cordon_domain::hotline::TicketCategory::Supplies {
            return Err(refused!("refused.hotline.not_supplies"));
        }
        if let Some(r) = t.supply_request_id {
            return Err(refused!("refused.hotline.request_raised", request = r));
        }
        if !t.status.open() {
            return Err(StoreError::from(
                cordon_domain::refusal::Refusal::conflict("refused.hotline.cannot")
                    .with("act", cordon_domain::refusal::term("ticket.act", TicketAct::Handle))
                    .with("status", cordon_domain::refusal::term("ticket.status", t.status)),
            ));
        }
        let area = AreaCode::parse(&t.area_code).map_err(StoreError::corrupt)?;
        let new = crate::supplies::NewRequest {
            area_code: area,
            requester_kind: cordon_domain::supplies::RequesterKind::Household,
            requester_id: None,
            // A request's place is at most 100 characters; the ticket keeps the whole address.
            place: t.address.chars().take(100).collect(),
            contact: format!("{} {}", t.caller, t.phone).trim().to_string(),
            priority,
            needed_by,
            note: format!("热线工单 #{}：{}", t.id, t.content.chars().take(200).collect::<String>()),
            lines,
        };
        let request = self.create_supply_request(&new).await?;
        self.store.link_ticket_request(&self.actor, &t, request.id).await?;
        Ok(request)
    }

    /// Sends a car for a medical-need ticket: a transfer to a hospital serving the jurisdiction,
    /// planned on the dispatch board under the current incident.
    pub async fn raise_ticket_transfer(&self, id: i64, hospital_id: i64) -> Result<i64> {
        self.require_any(READ)?;
        self.require_any(&[CENTRE, UNIT])?;
        let (t, _) = self.ticket_inside(id).await?;
        if !cordon_domain::hotline::needs_care(t.category) {
            return Err(refused!("refused.hotline.not_care"));
        }
        if let Some(transfer) = t.transfer_id {
            return Err(refused!("refused.hotline.transfer_raised", transfer = transfer));
        }
        if !t.status.open() {
            return Err(StoreError::from(
                cordon_domain::refusal::Refusal::conflict("refused.hotline.cannot")
                    .with("act", cordon_domain::refusal::term("ticket.act", TicketAct::RaiseTransfer))
                    .with("status", cordon_domain::refusal::term("ticket.status", t.status)),
            ));
        }
        let j = &self.principal.user.jurisdiction;
        let hospital = self
            .store
            .hospitals()
            .await?
            .into_iter()
            .find(|h| h.id == hospital_id && AreaCode::parse(&h.area_code).is_ok_and(|a| j.served_from(&a)))
            .ok_or_else(|| missing!("refused.no_hospital_in_jurisdiction", id = hospital_id))?;
        let incident = self.current_incident().await?.ok_or_else(|| refused!("refused.hotline.no_response"))?;
        self.store.raise_ticket_transfer(&self.actor, &t, &hospital, incident, Utc::now()).await
    }

    /// The hospitals a ticket's car may go to: those serving the jurisdiction.
    pub async fn care_hospitals(&self) -> Result<Vec<crate::transfers::Hospital>> {
        self.require_any(READ)?;
        let j = &self.principal.user.jurisdiction;
        Ok(self.store.hospitals().await?.into_iter().filter(|h| AreaCode::parse(&h.area_code).is_ok_and(|a| j.served_from(&a))).collect())
    }
}
