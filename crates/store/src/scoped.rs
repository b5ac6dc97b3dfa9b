//! The only door from a request into place-bound data: a handle bound to one caller's
//! permissions and jurisdiction. Its methods take no area filter that could widen the scope —
//! every query it runs is restricted to the caller's areas, and a look outside answers
//! [`StoreError::Forbidden`] with the reason.

use std::io::Read;

mod cases;
mod checkpoints;
mod command;
mod daily;
mod health_codes;
mod hotline;
mod observation;
mod supplies;
pub use hotline::TicketDetail;
pub use supplies::RequestDetail;
mod zones;

pub use command::{Account, InstructionView};
pub use daily::{DailyReport, ReportAsk};
pub use observation::IncidentRow;

use chrono::NaiveDate;
use cordon_domain::AreaCode;
use cordon_domain::access::{Permission, Role};

use crate::accounts::Principal;
use crate::audit::{Actor, AuditEvent, AuditFilter, Change};
use crate::import::{ImportObserver, ImportSummary, import_persons_within};
use cordon_domain::testing::sizing::{SizingPlan, SizingRules};

use cordon_domain::Barcode;
use cordon_domain::testing::pooling::SamplingGroup;

use crate::batch::{BatchOutcome, BatchTube};
use crate::coverage::{Coverage, Exemption, Progress};
use crate::recalls::Recall;
use crate::results::{Lab, NewLab, ResultInput, ResultOutcome};
use crate::sites::{AreaHistory, HomeVisit};
use crate::station::{Scanned, Tube};
use crate::testing::{NewRound, NewSite, Round, Site};
use crate::transport::{Batch, BatchDetail, NewBatch, TubeFlow};
use crate::{Area, Denied, Person, PersonCursor, PersonFilter, PersonPage, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use cordon_domain::testing::exemption::ExemptionReason;
use cordon_domain::testing::slots::Slot;

/// A store handle for one caller.
pub struct Scoped {
    store: Store,
    principal: Principal,
    actor: Actor,
}

impl Store {
    /// The handle through which `principal`'s requests reach data; `actor` says where they came from.
    pub fn scoped(&self, principal: Principal, actor: Actor) -> Scoped {
        Scoped { store: self.clone(), principal, actor }
    }
}

impl Scoped {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Fails with the reason unless the caller's role has `p`.
    /// Requires one of `ps` (the first named in the refusal).
    pub fn require_any(&self, ps: &[Permission]) -> Result<()> {
        match ps.iter().find(|p| self.principal.can(**p)) {
            Some(_) => Ok(()),
            None => self.require(ps[0]),
        }
    }

    pub fn require(&self, p: Permission) -> Result<()> {
        if self.principal.can(p) {
            Ok(())
        } else {
            Err(StoreError::Forbidden(Denied::MissingPermission { role: self.principal.user.role, permission: p }))
        }
    }

    fn inside(&self, code: &AreaCode) -> Result<()> {
        outside(&self.principal.user.jurisdiction, code)
    }

    /// The areas of the caller's jurisdiction (their home pages).
    pub async fn home_areas(&self) -> Result<Vec<Area>> {
        self.require(Permission::AreasRead)?;
        let mut out = Vec::new();
        for a in self.principal.user.jurisdiction.areas() {
            if let Some(area) = self.store.area(a).await? {
                out.push(area);
            }
        }
        Ok(out)
    }

    pub async fn area(&self, code: &AreaCode) -> Result<Option<Area>> {
        self.require(Permission::AreasRead)?;
        self.inside(code)?;
        self.store.area(code).await
    }

    /// The names of areas of the jurisdiction, by code, in one read.
    pub async fn area_names(&self, codes: &[&AreaCode]) -> Result<std::collections::HashMap<String, String>> {
        self.require(Permission::AreasRead)?;
        for code in codes {
            self.inside(code)?;
        }
        self.store.area_names(codes).await
    }

    /// The areas of the jurisdiction registered under this exact name, by code (several when a
    /// village's name repeats across townships).
    pub async fn areas_named(&self, name: &str) -> Result<Vec<AreaCode>> {
        self.require_any(&[Permission::AreasRead, Permission::UsersManage])?;
        let j = &self.principal.user.jurisdiction;
        Ok(self.store.areas_named(name).await?.into_iter().filter(|c| j.contains(c)).collect())
    }

    /// How people name the places `codes` stand for: a village or community with its township
    /// (清源镇东关村), a township or county by its own name. Any signed-in user may read them —
    /// place names are public — and a code outside the register is left out.
    pub async fn place_names<'a>(&self, codes: impl IntoIterator<Item = &'a str>) -> Result<std::collections::HashMap<String, String>> {
        let mut wanted: Vec<AreaCode> = codes.into_iter().filter_map(|c| AreaCode::parse(c).ok()).collect();
        wanted.sort();
        wanted.dedup();
        let mut ask: Vec<AreaCode> = wanted.clone();
        ask.extend(wanted.iter().filter(|c| c.level() == cordon_domain::AreaLevel::Village).filter_map(|c| c.parent()));
        ask.sort();
        ask.dedup();
        let names = self.store.area_names(&ask.iter().collect::<Vec<_>>()).await?;
        Ok(wanted
            .iter()
            .filter_map(|c| {
                let own = names.get(c.as_str())?;
                let township = c.parent().filter(|_| c.level() == cordon_domain::AreaLevel::Village).and_then(|p| names.get(p.as_str()));
                Some((c.to_string(), township.map_or_else(|| own.clone(), |t| format!("{t}{own}"))))
            })
            .collect())
    }

    pub async fn area_children(&self, code: &AreaCode) -> Result<Vec<Area>> {
        self.require(Permission::AreasRead)?;
        self.inside(code)?;
        self.store.area_children(code).await
    }

    pub async fn area_subtree(&self, code: &AreaCode) -> Result<Vec<Area>> {
        self.require(Permission::AreasRead)?;
        self.inside(code)?;
        self.store.area_subtree(code).await
    }

    /// The chain of areas above `code` that are inside the jurisdiction, top first (breadcrumbs).
    pub async fn ancestors(&self, code: &AreaCode) -> Result<Vec<Area>> {
        self.inside(code)?;
        let mut out = Vec::new();
        let mut cur = code.parent();
        while let Some(c) = cur {
            if !self.principal.user.jurisdiction.contains(&c) {
                break;
            }
            if let Some(a) = self.store.area(&c).await? {
                out.push(a);
            }
            cur = c.parent();
        }
        out.reverse();
        Ok(out)
    }

    /// People in `area` (default: the whole jurisdiction), filtered and paged by key.
    pub async fn list_persons(
        &self,
        area: Option<&AreaCode>,
        filter: &PersonFilter,
        after: Option<&PersonCursor>,
        limit: u32,
        today: NaiveDate,
    ) -> Result<PersonPage> {
        self.require(Permission::PersonsRead)?;
        let scope = match area {
            Some(a) => {
                self.inside(a)?;
                vec![a.clone()]
            }
            None => self.principal.user.jurisdiction.areas().to_vec(),
        };
        self.store.list_persons(&scope, filter, after, limit, today).await
    }

    /// One person, or `Forbidden` when they are registered outside the jurisdiction.
    pub async fn person(&self, id: i64) -> Result<Option<Person>> {
        self.require(Permission::PersonsRead)?;
        match self.store.person_by_id(id).await? {
            Some(p) => {
                let area = AreaCode::parse(&p.area_code).map_err(StoreError::corrupt)?;
                self.inside(&area)?;
                Ok(Some(p))
            }
            None => Ok(None),
        }
    }

    /// What a person of the jurisdiction is now: case, contact, under observation, recalled —
    /// only cases of the caller's areas named, and where someone is held only for those who
    /// read the sites.
    pub async fn person_now(&self, person: &Person) -> Result<crate::PersonNow> {
        self.require(Permission::PersonsRead)?;
        self.inside(&AreaCode::parse(&person.area_code).map_err(StoreError::corrupt)?)?;
        let mut now = self.store.person_now(person.id).await?;
        let j = &self.principal.user.jurisdiction;
        let inside = |code: &str| AreaCode::parse(code).is_ok_and(|a| j.contains(&a));
        now.cases.retain(|c| inside(&c.area_code));
        now.contacts.retain(|c| inside(&c.area_code));
        if !self.principal.can(Permission::QuarantineRead) {
            for o in &mut now.orders {
                (o.site, o.room) = (None, None);
            }
        }
        Ok(now)
    }

    /// The person's household members inside the jurisdiction (the person excluded).
    pub async fn household_of(&self, person: &Person) -> Result<Vec<Person>> {
        self.require(Permission::PersonsRead)?;
        let Some(h) = person.household_id else { return Ok(vec![]) };
        let j = &self.principal.user.jurisdiction;
        Ok(self
            .store
            .household_members(h)
            .await?
            .into_iter()
            .filter(|m| m.id != person.id && AreaCode::parse(&m.area_code).is_ok_and(|a| j.contains(&a)))
            .collect())
    }

    /// Registers a person met on the spot (needs `persons.write`, in an area of the jurisdiction).
    /// An identity number already registered answers that person with `false`, changing nothing.
    pub async fn register_person(&self, new: &cordon_domain::NewPerson) -> Result<(Person, bool)> {
        self.require(Permission::PersonsWrite)?;
        self.register_met(new).await
    }

    /// The person a case recorded by hand is about: found by their resident id, or — not in the
    /// register yet — registered on the spot from what the desk gathered, as at a station (so an
    /// investigator needs no `persons.write` for it). Without that, an unknown id is refused.
    pub async fn case_person(&self, id: &cordon_domain::ResidentId, on_the_spot: Option<cordon_domain::NewPerson>) -> Result<Person> {
        self.require(Permission::TracingWrite)?;
        if let Some(p) = self.store.person_by_document(id.as_str()).await? {
            self.inside(&AreaCode::parse(&p.area_code).map_err(StoreError::corrupt)?)?;
            return Ok(p);
        }
        match on_the_spot {
            Some(new) => self.register_met(&new).await.map(|(p, _)| p),
            None => Err(refused!("refused.case_person_unregistered", who = id.masked())),
        }
    }

    /// Registers a person met on the spot in an area of the jurisdiction, for the caller's
    /// permission checked by the act it serves.
    async fn register_met(&self, new: &cordon_domain::NewPerson) -> Result<(Person, bool)> {
        self.inside(&new.area_code)?;
        new.may_register_on_the_spot()?;
        let (person, created) = self.store.register_person(&self.actor, new).await?;
        let area = AreaCode::parse(&person.area_code).map_err(StoreError::corrupt)?;
        if !self.principal.user.jurisdiction.contains(&area) {
            return Err(refused!("refused.registered_elsewhere", who = person.document.masked()));
        }
        Ok((person, created))
    }

    /// One person with nothing masked; the look itself is recorded in the audit trail.
    pub async fn reveal_person(&self, id: i64) -> Result<Option<Person>> {
        self.require(Permission::PersonsReveal)?;
        let Some(p) = self.person(id).await? else { return Ok(None) };
        self.store.record(&self.actor, &Change::new("reveal", "person", id).area(&p.area_code)).await?;
        Ok(Some(p))
    }

    /// What audit events read by this caller are about, by name (see `Store::audit_subjects`).
    pub async fn audit_subjects(&self, events: &[AuditEvent]) -> Result<std::collections::HashMap<(String, String), String>> {
        self.require(Permission::AuditRead)?;
        self.store.audit_subjects(events).await
    }

    /// Audit events in the jurisdiction, newest first. Events tied to no area (accounts, roles)
    /// are shown only to those who manage users.
    pub async fn audit_events(&self, filter: &AuditFilter, limit: u32) -> Result<Vec<AuditEvent>> {
        self.require(Permission::AuditRead)?;
        if let Some(a) = &filter.area {
            self.inside(a)?;
            return self.store.audit_events(filter, limit).await;
        }
        let see_unplaced = self.principal.can(Permission::UsersManage);
        let j = self.principal.user.jurisdiction.clone();
        let mut out = Vec::new();
        let mut page_filter = filter.clone();
        // Page through until `limit` events in scope are found (events out of scope are skipped).
        loop {
            let batch = self.store.audit_events(&page_filter, 500).await?;
            let done = batch.len() < 500;
            page_filter.before_id = batch.last().map(|e| e.id);
            for e in batch {
                let visible = match e.area_code.as_deref().and_then(|a| AreaCode::parse(a).ok()) {
                    Some(a) => j.contains(&a),
                    None => see_unplaced,
                };
                if visible {
                    out.push(e);
                    if out.len() >= limit as usize {
                        return Ok(out);
                    }
                }
            }
            if done {
                return Ok(out);
            }
        }
    }

    /// Every role's permissions as the store holds them (needs `users.manage`).
    pub async fn roles(&self) -> Result<Vec<(Role, std::collections::BTreeSet<Permission>)>> {
        self.require(Permission::UsersManage)?;
        let mut out = Vec::new();
        for r in Role::ALL {
            out.push((*r, self.store.role_permissions(*r).await?));
        }
        Ok(out)
    }

    /// Replaces a role's permissions (needs `users.manage`; audited).
    pub async fn set_role_permissions(&self, role: Role, permissions: &std::collections::BTreeSet<Permission>) -> Result<()> {
        self.require(Permission::UsersManage)?;
        // Someone must still be able to manage accounts afterwards.
        if !permissions.contains(&Permission::UsersManage) && self.store.managers_left(None, Some(role)).await? == 0 {
            return Err(refused!("refused.last_manager"));
        }
        self.store.set_role_permissions(&self.actor, role, permissions).await
    }

    /// Every account (needs `users.manage`).
    pub async fn users(&self) -> Result<Vec<crate::accounts::User>> {
        self.require(Permission::UsersManage)?;
        self.store.users().await
    }

    /// One account by its user name (needs `users.manage`).
    pub async fn user(&self, username: &str) -> Result<Option<crate::accounts::User>> {
        self.require(Permission::UsersManage)?;
        self.store.user_by_name(username).await
    }

    /// Every API token, never its secret (needs `users.manage`).
    pub async fn api_tokens(&self) -> Result<Vec<crate::accounts::ApiToken>> {
        self.require(Permission::UsersManage)?;
        self.store.api_tokens().await
    }

    /// Areas given to an account must be registered ones.
    async fn registered_areas(&self, areas: &[AreaCode]) -> Result<()> {
        for a in areas {
            if self.store.area(a).await?.is_none() {
                return Err(refused!("refused.area_unregistered", area = a.as_str()));
            }
        }
        Ok(())
    }

    /// An administrator does not lock themselves out: their own account is neither disabled nor
    /// given another role here (another administrator does it).
    fn not_own_account(&self, username: &str) -> Result<()> {
        if self.principal.user.username == username { Err(refused!("refused.own_account")) } else { Ok(()) }
    }

    /// Creates an account (needs `users.manage`; audited).
    pub async fn create_user(&self, new: crate::accounts::NewUser) -> Result<crate::accounts::User> {
        self.require(Permission::UsersManage)?;
        self.registered_areas(&new.areas).await?;
        self.store.create_user(&self.actor, new).await
    }

    /// Changes an account's name as shown, role and areas (needs `users.manage`; audited).
    pub async fn update_user(&self, username: &str, change: crate::accounts::UserChange) -> Result<crate::accounts::User> {
        self.require(Permission::UsersManage)?;
        if self.principal.user.username == username && change.role != self.principal.user.role {
            return Err(refused!("refused.own_account"));
        }
        self.registered_areas(&change.areas).await?;
        // The last account that manages accounts keeps a role that does.
        if let Some(user) = self.store.user_by_name(username).await? {
            let keeps = self.store.role_permissions(change.role).await?.contains(&Permission::UsersManage);
            if !user.disabled && !keeps && self.store.managers_left(Some(user.id), None).await? == 0 {
                return Err(refused!("refused.last_manager"));
            }
        }
        self.store.update_user(&self.actor, username, change).await
    }

    /// Sets a new password for an account, ending its sessions (needs `users.manage`; audited).
    pub async fn reset_password(&self, username: &str, password: &str) -> Result<()> {
        self.require(Permission::UsersManage)?;
        self.store.set_password(&self.actor, username, password).await
    }

    /// Disables or enables an account (needs `users.manage`; audited); never one's own.
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<bool> {
        self.require(Permission::UsersManage)?;
        self.not_own_account(username)?;
        let user = if disabled { self.store.user_by_name(username).await? } else { None };
        if let Some(user) = user
            && self.store.managers_left(Some(user.id), None).await? == 0
        {
            return Err(refused!("refused.last_manager"));
        }
        self.store.set_user_disabled(&self.actor, username, disabled).await
    }

    /// Makes a bearer token acting as `username`; its secret is answered once (needs
    /// `users.manage`; audited).
    pub async fn create_api_token(&self, username: &str, name: &str) -> Result<(i64, String)> {
        self.require(Permission::UsersManage)?;
        if name.trim().is_empty() {
            return Err(refused!("refused.token_needs_name"));
        }
        self.store.create_api_token(&self.actor, username, name.trim()).await
    }

    /// Revokes one of `username`'s tokens (needs `users.manage`; audited); false when it was not
    /// live. A token of another account is not this account's to revoke.
    pub async fn revoke_api_token(&self, username: &str, id: i64) -> Result<bool> {
        self.require(Permission::UsersManage)?;
        if self.store.api_token_owner(id).await?.as_deref() != Some(username) {
            return Err(refused!("refused.no_token", id = id));
        }
        self.store.revoke_api_token(&self.actor, id).await
    }

    /// Whether a round reaches into the jurisdiction (one of its areas overlaps it).
    fn sees_round(&self, round: &Round) -> bool {
        let j = &self.principal.user.jurisdiction;
        round.areas.iter().filter_map(|a| AreaCode::parse(&a.area_code).ok()).any(|a| j.contains(&a) || !j.within(&a).is_empty())
    }

    /// Plans a testing round over areas of the jurisdiction (under the incident covering the
    /// first area, created when there is none). Needs `testing.write`, or `command.write` (the
    /// commander confirming a suggested round).
    pub async fn create_round(&self, new: NewRound) -> Result<Round> {
        if !self.principal.can(Permission::CommandWrite) {
            self.require(Permission::TestingWrite)?;
        }
        for (a, _) in &new.areas {
            self.inside(a)?;
        }
        self.store.create_round(&self.actor, new).await
    }

    /// Rounds that reach into the jurisdiction, newest first. Needs `testing.read`.
    pub async fn rounds(&self) -> Result<Vec<Round>> {
        self.require(Permission::TestingRead)?;
        Ok(self.store.rounds().await?.into_iter().filter(|r| self.sees_round(r)).collect())
    }

    pub async fn round(&self, id: i64) -> Result<Option<Round>> {
        self.require(Permission::TestingRead)?;
        match self.store.round(id).await? {
            Some(r) if self.sees_round(&r) => Ok(Some(r)),
            Some(r) => {
                let yours = self.principal.user.jurisdiction.areas().iter().map(|a| a.to_string()).collect();
                let area = r.areas.first().map(|a| a.area_code.clone()).unwrap_or_default();
                Err(StoreError::Forbidden(Denied::OutsideJurisdiction { area, yours }))
            }
            None => Ok(None),
        }
    }

    /// Adds a sampling site to a round, in an area of both the round and the jurisdiction.
    pub async fn create_site(&self, new: NewSite) -> Result<Site> {
        self.require(Permission::TestingWrite)?;
        self.inside(&new.area_code)?;
        let round = self.round(new.round_id).await?.ok_or_else(|| missing!("refused.no_round", round = new.round_id))?;
        if !round.covers(&new.area_code) {
            return Err(refused!("refused.area_not_in_round", area = new.area_code, round = round.name));
        }
        self.store.create_site(&self.actor, new).await
    }

    /// A round's sites inside the jurisdiction.
    pub async fn sites(&self, round_id: i64) -> Result<Vec<Site>> {
        self.require(Permission::TestingRead)?;
        self.store.sites(round_id, self.principal.user.jurisdiction.areas()).await
    }

    /// Sites, stations, samplers and sampling groups the round needs for the people registered
    /// in its areas inside the jurisdiction, to finish by its target end.
    pub async fn round_sizing(&self, round_id: i64) -> Result<Option<SizingPlan>> {
        let Some(round) = self.round(round_id).await? else { return Ok(None) };
        let mut population = 0i64;
        for a in round.areas.iter().filter_map(|a| AreaCode::parse(&a.area_code).ok()) {
            for part in self.principal.user.jurisdiction.within(&a).areas() {
                population += self.store.area(part).await?.map(|x| x.population).unwrap_or(0);
            }
        }
        let hours = ((round.target_end_at - round.starts_at).num_minutes() as f64 / 60.0).ceil().max(1.0) as u32;
        Ok(Some(SizingRules::default().plan(population.max(0) as u32, hours)))
    }

    /// The check of a stored area against the caller's jurisdiction, for a write that reads the
    /// area in the same go as it writes.
    fn inside_check(&self) -> impl Fn(&str) -> Result<()> + Send + Sync + 'static {
        let jurisdiction = self.principal.user.jurisdiction.clone();
        move |area: &str| outside(&jurisdiction, &AreaCode::parse(area).map_err(StoreError::corrupt)?)
    }

    /// The site of a round, if it is inside the jurisdiction.
    async fn site_inside(&self, round_id: i64, site_id: i64) -> Result<Site> {
        let round = self.round(round_id).await?.ok_or_else(|| missing!("refused.no_round", round = round_id))?;
        let sites = self.store.sites(round.id, self.principal.user.jurisdiction.areas()).await?;
        match sites.into_iter().find(|s| s.id == site_id) {
            Some(s) => Ok(s),
            None => Err(refused!("refused.no_site_in_round", site_id = site_id, round_id = round_id)),
        }
    }

    /// Opens a tube at a site of the jurisdiction (needs `testing.write`).
    pub async fn open_tube(
        &self,
        round_id: i64,
        site_id: i64,
        barcode: &Barcode,
        group: SamplingGroup,
        station: Option<u32>,
    ) -> Result<Tube> {
        self.require(Permission::TestingWrite)?;
        let ask = crate::station::OpenAsk {
            round_id,
            site_id,
            barcode: barcode.to_string(),
            group,
            station,
            collector: Some(self.principal.user.username.clone()),
        };
        // The site's area is checked as the opening reads it, in the same go.
        self.store.open_tube(ask, self.inside_check()).await
    }

    /// Scans a person into a tube of a site in the jurisdiction (needs `testing.write`). People
    /// are sampled where they are, so the person may live anywhere.
    pub async fn scan(&self, round_id: i64, barcode: &Barcode, person_id: i64, client_id: Option<&str>) -> Result<Scanned> {
        self.require(Permission::TestingWrite)?;
        // Checked on the tube as the scan reads it, in the same go.
        self.store.scan(round_id, barcode, person_id, client_id, self.inside_check()).await
    }

    /// The register id of the person with this resident id, for station scans (needs
    /// `testing.write`; answers only the id).
    pub async fn person_id_by_resident_id(&self, id: &cordon_domain::ResidentId) -> Result<Option<i64>> {
        self.require(Permission::TestingWrite)?;
        Ok(self.store.person_by_document(id.as_str()).await?.map(|p| p.id))
    }

    /// Registers many tubes with their members (station devices, integrations). Every site must
    /// be in the jurisdiction. Needs `testing.write`.
    pub async fn register_batch(&self, round_id: i64, tubes: Vec<BatchTube>, client_id: Option<&str>) -> Result<Vec<BatchOutcome>> {
        self.require(Permission::TestingWrite)?;
        let round = self.round(round_id).await?.ok_or_else(|| missing!("refused.no_round", round = round_id))?;
        let sites = self.store.sites(round.id, self.principal.user.jurisdiction.areas()).await?;
        if let Some(t) = tubes.iter().find(|t| !sites.iter().any(|s| s.id == t.site_id)) {
            return Err(refused!("refused.tube_no_site_in_round", tube = t.barcode, site = t.site_id, round_id = round_id));
        }
        self.store.register_batch(round, tubes, Some(&self.principal.user.username), client_id).await
    }

    /// Register ids of people by resident id (station batches send what the cards say).
    pub async fn person_ids_by_resident_ids(&self, ids: &[cordon_domain::ResidentId]) -> Result<std::collections::HashMap<String, i64>> {
        self.require(Permission::TestingWrite)?;
        self.store.person_ids_by_documents(&ids.iter().map(|i| i.to_string()).collect::<Vec<_>>()).await
    }

    /// Adds a lab in the jurisdiction (needs `testing.write`).
    pub async fn create_lab(&self, new: NewLab) -> Result<Lab> {
        self.require(Permission::TestingWrite)?;
        self.inside(&new.area_code)?;
        self.store.create_lab(&self.actor, new).await
    }

    /// Labs (needs `testing.read` or `lab.write`).
    pub async fn labs(&self) -> Result<Vec<Lab>> {
        if !self.principal.can(Permission::LabWrite) {
            self.require(Permission::TestingRead)?;
        }
        self.store.labs().await
    }

    /// The labs, the caller's own first: the one whose box they signed for last (a results
    /// page then opens on the lab the person works at, not the first by name).
    pub async fn labs_mine_first(&self) -> Result<Vec<Lab>> {
        let mut labs = self.labs().await?;
        if let Some(mine) = self.store.lab_received_by(&self.principal.user.username).await? {
            labs.sort_by_key(|l| l.id != mine);
        }
        Ok(labs)
    }

    /// Records a lab's result for a tube sampled in the jurisdiction (needs `lab.write`).
    pub async fn record_result(&self, lab_id: i64, input: &ResultInput) -> Result<ResultOutcome> {
        self.require(Permission::LabWrite)?;
        if let Some(Some((_, area))) = self.store.result_tubes(std::slice::from_ref(input)).await?.pop() {
            self.inside(&AreaCode::parse(&area).map_err(StoreError::corrupt)?)?;
        }
        self.store.record_result(&self.actor, lab_id, input).await
    }

    /// Records many results of a lab in one transaction (needs `lab.write`); a tube sampled
    /// outside the jurisdiction is refused with the reason, the others recorded.
    pub async fn record_results(&self, lab_id: i64, inputs: &[ResultInput]) -> Result<Vec<ResultOutcome>> {
        self.require(Permission::LabWrite)?;
        self.store.record_results(&self.actor, lab_id, inputs, Some(&self.principal.user.jurisdiction)).await
    }

    /// The recalls one pooled tube caused, for its members in the jurisdiction (needs `testing.read`).
    pub async fn tube_recalls(&self, round_id: i64, barcode: &Barcode) -> Result<Vec<Recall>> {
        self.require(Permission::TestingRead)?;
        self.store.tube_recalls(round_id, barcode.as_str(), self.principal.user.jurisdiction.areas()).await
    }

    /// Open recalls of people in the jurisdiction, the most urgent first (needs `testing.read`).
    pub async fn open_recalls(&self) -> Result<Vec<Recall>> {
        self.require(Permission::TestingRead)?;
        self.store.open_recalls(self.principal.user.jurisdiction.areas()).await
    }

    /// Coverage of a round in `area` and those of its sub-areas the round covers (needs
    /// `testing.read`, area inside the jurisdiction). The page and the API both show this.
    pub async fn coverage(&self, round_id: i64, area: &AreaCode) -> Result<Option<Coverage>> {
        self.require(Permission::TestingRead)?;
        self.inside(area)?;
        let Some(round) = self.round(round_id).await? else { return Ok(None) };
        self.store.coverage(&round, area).await
    }

    /// Marks a person of the jurisdiction as accounted for without a sample in a round (needs
    /// `testing.write`).
    pub async fn exempt(&self, round_id: i64, person_id: i64, reason: ExemptionReason, note: Option<&str>) -> Result<Exemption> {
        self.require(Permission::TestingWrite)?;
        self.round(round_id).await?.ok_or_else(|| missing!("refused.no_round", round = round_id))?;
        self.person_inside(person_id).await?;
        self.store.exempt(&self.actor, round_id, person_id, reason, note).await
    }

    /// Takes back an exemption of a person of the jurisdiction (needs `testing.write`).
    pub async fn unexempt(&self, round_id: i64, person_id: i64) -> Result<bool> {
        self.require(Permission::TestingWrite)?;
        self.round(round_id).await?.ok_or_else(|| missing!("refused.no_round", round = round_id))?;
        self.person_inside(person_id).await?;
        self.store.unexempt(&self.actor, round_id, person_id).await
    }

    /// A round's exemptions in `area` (inside the jurisdiction; needs `testing.read` and `persons.read`).
    pub async fn exemptions(&self, round_id: i64, area: &AreaCode) -> Result<Vec<Exemption>> {
        self.require(Permission::TestingRead)?;
        self.require(Permission::PersonsRead)?;
        self.inside(area)?;
        self.store.exemptions(round_id, Some(std::slice::from_ref(area)), None).await
    }

    /// A round's progress in `area` split by its sub-areas `parts` (needs `testing.read`, area
    /// inside the jurisdiction).
    pub async fn progress(&self, round_id: i64, area: &AreaCode, parts: &[String]) -> Result<Progress> {
        self.require(Permission::TestingRead)?;
        self.inside(area)?;
        self.round(round_id).await?.ok_or_else(|| missing!("refused.no_round", round = round_id))?;
        self.store.progress(round_id, area, parts).await
    }

    /// A round's site inside the jurisdiction (needs `testing.read`).
    pub async fn site(&self, round_id: i64, site_id: i64) -> Result<Site> {
        self.require(Permission::TestingRead)?;
        self.site_inside(round_id, site_id).await
    }

    /// Plans a site's staggered slots over its opening window (needs `testing.write`).
    pub async fn plan_slots(&self, round_id: i64, site_id: i64, opens: DateTime<Utc>, closes: DateTime<Utc>) -> Result<Vec<Slot>> {
        self.require(Permission::TestingWrite)?;
        let site = self.site_inside(round_id, site_id).await?;
        self.store.plan_slots(&self.actor, &site, opens, closes).await
    }

    /// A site's slots and opening window (needs `testing.read`).
    pub async fn slots(&self, round_id: i64, site_id: i64) -> Result<(Vec<Slot>, Option<crate::sites::Window>)> {
        self.require(Permission::TestingRead)?;
        let site = self.site_inside(round_id, site_id).await?;
        self.store.slots(site.id).await
    }

    /// The people the site's door-to-door team samples at home (needs `testing.read` and
    /// `persons.read`).
    pub async fn door_to_door(&self, round_id: i64, site_id: i64, today: NaiveDate) -> Result<Vec<(Person, HomeVisit)>> {
        self.require(Permission::TestingRead)?;
        self.require(Permission::PersonsRead)?;
        let site = self.site_inside(round_id, site_id).await?;
        let area = AreaCode::parse(&site.area_code).map_err(StoreError::corrupt)?;
        self.store.door_to_door(round_id, &area, today).await
    }

    /// The testing history of the caller's areas and their townships, for the frequency
    /// suggestion (needs `testing.read`).
    pub async fn testing_history(&self, recent_rounds: u32) -> Result<Vec<AreaHistory>> {
        self.require(Permission::TestingRead)?;
        let mut areas = Vec::new();
        for home in self.principal.user.jurisdiction.areas() {
            let children = self.store.area_children(home).await?;
            if children.is_empty() || home.level() == cordon_domain::AreaLevel::Township {
                if let Some(a) = self.store.area(home).await? {
                    areas.push((a.code, a.name));
                }
            } else {
                areas.extend(children.into_iter().map(|a| (a.code, a.name)));
            }
        }
        self.store.testing_history(&areas, recent_rounds).await
    }

    /// A person registered in the jurisdiction, or why not.
    async fn person_inside(&self, person_id: i64) -> Result<Person> {
        let p = self.store.person_by_id(person_id).await?.ok_or_else(|| missing!("refused.no_person", person_id = person_id))?;
        self.inside(&AreaCode::parse(&p.area_code).map_err(StoreError::corrupt)?)?;
        Ok(p)
    }

    /// The people of `area` not yet sampled in the round, for the community worker's list.
    pub async fn missing(&self, round_id: i64, area: &AreaCode, after: Option<&PersonCursor>, limit: u32) -> Result<PersonPage> {
        self.require(Permission::PersonsRead)?;
        self.require(Permission::TestingRead)?;
        self.inside(area)?;
        self.round(round_id).await?.ok_or_else(|| missing!("refused.no_round", round = round_id))?;
        self.store.missing(round_id, area, after, limit).await
    }

    /// Seals a tube on demand (needs `testing.write`).
    pub async fn close_tube(&self, round_id: i64, barcode: &Barcode) -> Result<Tube> {
        self.require(Permission::TestingWrite)?;
        if let Some(t) = self.store.tube(round_id, barcode).await? {
            self.inside(&AreaCode::parse(&t.area_code).map_err(StoreError::corrupt)?)?;
        }
        self.store.close_tube(round_id, barcode).await
    }

    /// Sends a box of sealed tubes from a site of the jurisdiction to a lab (needs `testing.write`).
    pub async fn dispatch(&self, new: NewBatch) -> Result<Batch> {
        self.require(Permission::TestingWrite)?;
        self.site_inside(new.round_id, new.site_id).await?;
        self.store.dispatch(&self.actor, new).await
    }

    /// The batch if it left a site of the jurisdiction.
    async fn batch_inside(&self, id: i64) -> Result<Option<Batch>> {
        match self.store.batch(id).await? {
            Some(b) => {
                self.inside(&AreaCode::parse(&b.area_code).map_err(StoreError::corrupt)?)?;
                Ok(Some(b))
            }
            None => Ok(None),
        }
    }

    /// Records the barcodes a lab scanned out of a box sent from the jurisdiction (needs `lab.write`).
    pub async fn receive(&self, batch_id: i64, scanned: &[String]) -> Result<Option<BatchDetail>> {
        self.require(Permission::LabWrite)?;
        if self.batch_inside(batch_id).await?.is_none() {
            return Ok(None);
        }
        self.store.receive(&self.actor, batch_id, scanned).await
    }

    /// A batch with its received, missing and extra barcodes (needs `testing.read`).
    pub async fn batch_detail(&self, batch_id: i64) -> Result<Option<BatchDetail>> {
        self.require(Permission::TestingRead)?;
        if self.batch_inside(batch_id).await?.is_none() {
            return Ok(None);
        }
        self.store.batch_detail(batch_id).await
    }

    /// A round's batches from sites of the jurisdiction, newest first (needs `testing.read`).
    pub async fn batches(&self, round_id: i64) -> Result<Vec<Batch>> {
        self.require(Permission::TestingRead)?;
        self.round(round_id).await?.ok_or_else(|| missing!("refused.no_round", round = round_id))?;
        self.store.batches(round_id, self.principal.user.jurisdiction.areas()).await
    }

    /// The round's tubes in the jurisdiction by stage, and lab turnaround per site and lab.
    pub async fn tube_flow(&self, round_id: i64) -> Result<TubeFlow> {
        self.require(Permission::TestingRead)?;
        self.round(round_id).await?.ok_or_else(|| missing!("refused.no_round", round = round_id))?;
        self.store.tube_flow(round_id, self.principal.user.jurisdiction.areas()).await
    }

    /// The id of a user by name, for audit filters (needs `audit.read`).
    /// Who did something, as colleagues know them: display names by sign-in name, for any
    /// signed-in user (a box's sender, a receipt's signer).
    pub async fn display_names(&self, usernames: &[&str]) -> Result<std::collections::HashMap<String, String>> {
        self.store.display_names(usernames).await
    }

    pub async fn user_id_by_name(&self, username: &str) -> Result<Option<i64>> {
        self.require(Permission::AuditRead)?;
        Ok(self.store.user_by_name(username).await?.map(|u| u.id))
    }

    /// Imports people; rows registered outside the jurisdiction are reported, not stored.
    pub async fn import_persons<R: Read + Send + 'static>(
        &self,
        input: R,
        observer: &mut (dyn ImportObserver + Send),
    ) -> Result<ImportSummary> {
        self.require(Permission::PersonsImport)?;
        let summary = import_persons_within(&self.store, input, observer, Some(self.principal.user.jurisdiction.clone())).await?;
        let change = Change::new("import", "persons", format!("{} rows", summary.rows)).after(serde_json::json!({
            "rows": summary.rows, "inserted": summary.inserted, "invalid_rows": summary.invalid_rows,
            "corrected_rows": summary.corrected_rows,
        }));
        self.store.record(&self.actor, &change).await?;
        Ok(summary)
    }
}

/// Refuses an area outside `jurisdiction`, naming the caller's areas.
fn outside(jurisdiction: &cordon_domain::access::Jurisdiction, code: &AreaCode) -> Result<()> {
    if jurisdiction.contains(code) {
        Ok(())
    } else {
        let yours = jurisdiction.areas().iter().map(|a| a.to_string()).collect();
        Err(StoreError::Forbidden(Denied::OutsideJurisdiction { area: code.to_string(), yours }))
    }
}
