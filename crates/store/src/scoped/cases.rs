//! The scoped door to investigation data: cases, clusters and line lists.

use std::io::Read;

use cordon_domain::AreaCode;
use cordon_domain::access::Permission;

use super::Scoped;
use chrono::{NaiveDate, Utc};
use cordon_domain::cases::case::CaseClass;
use cordon_domain::cases::investigation::Part;

use crate::cases::{Case, Cluster, ClusterDetail, ClusterFilter, NewCase, Positive};
use crate::import::ImportObserver;
use crate::investigations::Investigation;
use crate::linelist::{LinelistSummary, LinelistTarget, import_linelist};
use crate::{Result, StoreError};

impl Scoped {
    /// Records a case in the caller's jurisdiction.
    pub async fn create_case(&self, new: NewCase) -> Result<Case> {
        self.require(Permission::TracingWrite)?;
        self.inside(&new.area_code)?;
        self.store.create_case(&self.actor, new).await
    }

    /// A case in the caller's jurisdiction.
    pub async fn case(&self, id: i64) -> Result<Option<Case>> {
        self.require(Permission::TracingRead)?;
        let Some(case) = self.store.case(id).await? else { return Ok(None) };
        self.inside(&area(&case.area_code)?)?;
        Ok(Some(case))
    }

    /// A case by its number within an incident.
    pub async fn case_by_number(&self, incident_id: i64, number: &str) -> Result<Option<Case>> {
        self.require(Permission::TracingRead)?;
        let Some(case) = self.store.case_by_number(incident_id, number).await? else { return Ok(None) };
        self.inside(&area(&case.area_code)?)?;
        Ok(Some(case))
    }

    /// Records that one case infected another; both must be in the jurisdiction.
    pub async fn link_cases(&self, infector_id: i64, case_id: i64) -> Result<()> {
        self.require(Permission::TracingWrite)?;
        let infector = self.case(infector_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = infector_id))?;
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.store.link_cases(&self.actor, &infector, &case, "investigation").await
    }

    /// Clusters in the jurisdiction, largest first.
    pub async fn clusters(&self, filter: &ClusterFilter) -> Result<Vec<Cluster>> {
        self.require(Permission::TracingRead)?;
        self.store.clusters(self.principal.user.jurisdiction.areas(), filter).await
    }

    /// The cluster a case is in, with its size and shape (one read of the maintained row).
    pub async fn cluster_of_case(&self, case_id: i64) -> Result<Option<Cluster>> {
        let Some(case) = self.case(case_id).await? else { return Ok(None) };
        match case.cluster_id {
            Some(c) => self.store.cluster(c).await,
            None => Ok(None),
        }
    }

    /// A cluster with its cases and links.
    pub async fn cluster_detail(&self, id: i64) -> Result<Option<ClusterDetail>> {
        self.require(Permission::TracingRead)?;
        let Some(cluster) = self.store.cluster(id).await? else { return Ok(None) };
        self.inside(&area(&cluster.area_code)?)?;
        self.store.cluster_detail(id).await
    }

    /// Imports a line list; rows outside the jurisdiction are refused row by row.
    pub async fn import_linelist<R: Read + Send + 'static>(
        &self,
        input: R,
        target: &LinelistTarget,
        observer: &mut (dyn ImportObserver + Send),
    ) -> Result<LinelistSummary> {
        self.require(Permission::TracingWrite)?;
        self.inside(&target.area)?;
        import_linelist(&self.store, &self.actor, input, target, observer, Some(self.principal.user.jurisdiction.clone())).await
    }
}

impl Scoped {
    /// Mass-testing positives in the jurisdiction; `waiting`: only those not yet a case.
    pub async fn positives(&self, waiting: bool) -> Result<Vec<Positive>> {
        self.require(Permission::TracingRead)?;
        self.store.positives(self.principal.user.jurisdiction.areas(), waiting).await
    }

    /// Makes a case of a positive (one action; again answers the same case) and opens its
    /// investigation.
    pub async fn case_from_positive(&self, positive_id: i64, classification: CaseClass, onset: Option<NaiveDate>) -> Result<Case> {
        self.require(Permission::TracingWrite)?;
        let p = self.store.positive(positive_id).await?.ok_or_else(|| refused!("refused.no_positive", positive_id = positive_id))?;
        self.inside(&area(&p.area_code)?)?;
        self.store.case_from_positive(&self.actor, &p, classification, onset).await
    }

    /// Open investigations in the jurisdiction, overdue first.
    pub async fn investigation_queue(&self) -> Result<Vec<Investigation>> {
        self.require(Permission::TracingRead)?;
        self.store.investigation_queue(self.principal.user.jurisdiction.areas(), Utc::now()).await
    }

    pub async fn investigation(&self, id: i64) -> Result<Option<Investigation>> {
        self.require(Permission::TracingRead)?;
        let Some(inv) = self.store.investigation(id).await? else { return Ok(None) };
        self.inside(&area(&inv.area_code)?)?;
        Ok(Some(inv))
    }

    pub async fn investigation_of_case(&self, case_id: i64) -> Result<Option<Investigation>> {
        self.require(Permission::TracingRead)?;
        let Some(inv) = self.store.investigation_of_case(case_id).await? else { return Ok(None) };
        self.inside(&area(&inv.area_code)?)?;
        Ok(Some(inv))
    }

    async fn open(&self, id: i64) -> Result<Investigation> {
        self.require(Permission::TracingWrite)?;
        self.investigation(id).await?.ok_or_else(|| missing!("refused.no_investigation", id = id))
    }

    /// The caller takes a part (接单): the phone interview, or the site visit beside another
    /// investigator's call.
    pub async fn take_investigation(&self, id: i64, part: Part) -> Result<Investigation> {
        let inv = self.open(id).await?;
        self.store.assign_part(&self.actor, &inv, part, self.principal.user.id).await
    }

    /// Gives a part to an investigator: `user_id`, or the next in turn of the case's area.
    pub async fn assign_investigation(&self, id: i64, part: Part, user_id: Option<i64>) -> Result<Investigation> {
        let inv = self.open(id).await?;
        let user = match user_id {
            Some(u) => u,
            None => self
                .store
                .next_investigator(&inv.area_code)
                .await?
                .ok_or_else(|| refused!("refused.no_investigator_in_area", area = inv.area_code))?,
        };
        self.store.assign_part(&self.actor, &inv, part, user).await
    }

    /// Marks the core facts (identity, movements, contact list) gathered.
    pub async fn core_done(&self, id: i64) -> Result<Investigation> {
        let inv = self.open(id).await?;
        self.store.complete_investigation(&self.actor, &inv, None).await
    }

    /// Files the preliminary report with the source hypothesis.
    pub async fn file_report(&self, id: i64, source_hypothesis: &str) -> Result<Investigation> {
        let inv = self.open(id).await?;
        if source_hypothesis.trim().is_empty() {
            return Err(refused!("refused.report_needs_source"));
        }
        self.store.complete_investigation(&self.actor, &inv, Some(source_hypothesis)).await
    }
}

impl Scoped {
    /// Registers venues in the jurisdiction (a known code keeps its row).
    pub async fn register_venues(&self, venues: &[crate::checkins::NewVenue]) -> Result<u64> {
        self.require(Permission::TracingWrite)?;
        for v in venues {
            self.inside(&v.area_code)?;
        }
        self.store.upsert_venues(venues).await
    }

    /// Imports venues of the jurisdiction from a file (`tracing.write`); rows outside it are
    /// refused with their line.
    pub async fn import_venues<R: Read + Send + 'static>(
        &self,
        input: R,
        observer: &mut (dyn ImportObserver + Send),
    ) -> Result<crate::checkins::VenueSummary> {
        self.require(Permission::TracingWrite)?;
        crate::checkins::import_venues(&self.store, input, Some(&self.principal.user.jurisdiction), observer).await
    }

    /// Imports place-code scans (they come from the health-code platform, city-wide).
    pub async fn import_checkins<R: Read + Send + 'static>(
        &self,
        input: R,
        observer: &mut (dyn ImportObserver + Send),
    ) -> Result<crate::checkins::CheckinSummary> {
        self.require(Permission::TracingWrite)?;
        crate::checkins::import_checkins(&self.store, input, observer).await
    }

    /// Imports workplace rosters; the workplaces are registered in `area` (in the jurisdiction).
    pub async fn import_roster<R: Read + Send + 'static>(
        &self,
        input: R,
        area: &cordon_domain::AreaCode,
        observer: &mut (dyn ImportObserver + Send),
    ) -> Result<crate::workplaces::RosterSummary> {
        self.require(Permission::TracingWrite)?;
        self.inside(area)?;
        crate::workplaces::import_roster(&self.store, &self.actor, input, area, observer).await
    }

    /// For a case with a person: their co-workers on a roster (their team, when it names
    /// teams), less those already recorded for the case.
    pub async fn roster_candidates(&self, case_id: i64) -> Result<Vec<crate::workplaces::Colleague>> {
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        let person = case.person_id.ok_or_else(|| refused!("refused.case_without_person", case = case.external_id))?;
        let reached = self.store.met_directly(case_id).await?;
        let mut found = self.store.colleagues(person).await?;
        found.retain(|c| !reached.contains(&c.person_id));
        let mut standings = self.store.standings(case.incident_id, case.id, &found.iter().map(|c| c.person_id).collect::<Vec<_>>()).await?;
        for c in &mut found {
            c.standing = standings.remove(&c.person_id);
        }
        Ok(found)
    }

    /// For a case with a person: who shared a venue with them inside the look-back window,
    /// longest overlap first, for the investigator to confirm or dismiss.
    pub async fn venue_candidates(
        &self,
        case_id: i64,
        lookback: &cordon_domain::cases::exposure::Lookback,
    ) -> Result<Vec<crate::checkins::Candidate>> {
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        let person = case.person_id.ok_or_else(|| refused!("refused.case_without_person", case = case.external_id))?;
        let dates = crate::checkins::case_dates(&case);
        let Some(window) = lookback.window(&dates, Utc::now(), &cordon_domain::local_offset()) else { return Ok(vec![]) };
        let reached = self.store.met_directly(case_id).await?;
        let mut found = self.store.venue_candidates(person, window, lookback).await?;
        found.retain(|c| !reached.contains(&c.person_id));
        let mut standings = self.store.standings(case.incident_id, case.id, &found.iter().map(|c| c.person_id).collect::<Vec<_>>()).await?;
        for c in &mut found {
            c.standing = standings.remove(&c.person_id);
        }
        Ok(found)
    }

    /// Records exposures of a case (confirmed): close contacts' households are proposed as
    /// secondary contacts, contacts living outside the jurisdiction raise assistance requests.
    pub async fn record_exposures(&self, case_id: i64, new: &[crate::exposures::NewExposure]) -> Result<crate::exposures::Recorded> {
        self.require(Permission::TracingWrite)?;
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.store.record_exposures(&self.actor, &case, new, &self.principal.user.jurisdiction, true).await
    }

    /// Dismisses venue candidates (or other people) for a case: recorded as dismissed, never
    /// proposed again.
    pub async fn dismiss_candidates(&self, case_id: i64, new: &[crate::exposures::NewExposure]) -> Result<u64> {
        self.require(Permission::TracingWrite)?;
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        Ok(self.store.record_exposures(&self.actor, &case, new, &self.principal.user.jurisdiction, false).await?.exposures)
    }

    /// Confirms or dismisses proposed paths of a case.
    pub async fn decide_exposures(&self, case_id: i64, ids: &[i64], confirm: bool) -> Result<u64> {
        self.require(Permission::TracingWrite)?;
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.store.decide_exposures(&self.actor, &case, ids, confirm).await
    }

    /// Why the roster proposed the secondary contacts still waiting for a decision.
    pub async fn roster_proposals(&self, case_id: i64) -> Result<Vec<crate::exposures::RosterProposal>> {
        self.require(Permission::TracingRead)?;
        self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.store.roster_proposals(case_id).await
    }

    /// Everyone a case's exposures reach, gravest degree first.
    pub async fn contacts(&self, case_id: i64) -> Result<Vec<crate::exposures::Contact>> {
        self.require(Permission::TracingRead)?;
        self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.store.contacts(case_id).await
    }

    /// Hands a batch of confirmed contacts over as observation orders awaiting transfer.
    pub async fn hand_over(&self, case_id: i64, people: &[i64]) -> Result<crate::exposures::HandOver> {
        self.require(Permission::TracingWrite)?;
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        let rule_set = self.store.incident_rule_set(case.incident_id).await?;
        self.store.hand_over(&self.actor, &case, people, &rule_set).await
    }

    /// The id of the person with this resident id or passport number, wherever they live (a
    /// contact may live anywhere).
    pub async fn person_id_by_document(&self, number: &str) -> Result<Option<i64>> {
        self.require(Permission::TracingWrite)?;
        Ok(self.store.person_ids_by_documents(&[number.to_string()]).await?.into_values().next())
    }

    /// The case's places, in time order.
    pub async fn trajectory(&self, case_id: i64) -> Result<Vec<crate::trajectories::TrajectoryEntry>> {
        self.require(Permission::TracingRead)?;
        self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.store.trajectory(case_id).await
    }

    /// Adds places the investigator entered.
    pub async fn add_trajectory(&self, case_id: i64, entries: &[crate::trajectories::NewEntry]) -> Result<()> {
        self.require(Permission::TracingWrite)?;
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        self.store.add_trajectory(&self.actor, &case, entries).await
    }

    /// Copies the case's own place-code scans in the look-back window into its trajectory.
    pub async fn trajectory_from_checkins(&self, case_id: i64) -> Result<u64> {
        self.require(Permission::TracingWrite)?;
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        let lookback = cordon_domain::cases::exposure::Lookback::default();
        let Some(window) = lookback.window(&crate::checkins::case_dates(&case), Utc::now(), &cordon_domain::local_offset()) else {
            return Ok(0);
        };
        self.store.trajectory_from_checkins(&self.actor, &case, window).await
    }

    /// Leaves the audit event of someone reading a case's report (it names the person).
    pub async fn record_report_view(&self, case: &Case) -> Result<()> {
        self.require(Permission::TracingRead)?;
        let change = crate::audit::Change::new("read_report", "case", &case.external_id).area(&case.area_code);
        self.store.record(&self.actor, &change).await
    }

    /// Answers an assistance request sent to the jurisdiction.
    pub async fn answer_assist_request(&self, id: i64, answer: &str) -> Result<crate::exposures::AssistRequest> {
        self.require(Permission::TracingWrite)?;
        let request = self.store.assist_request(id).await?.ok_or_else(|| missing!("refused.no_assist_request", id = id))?;
        self.inside(&area(&request.to_area)?)?;
        self.store.answer_assist_request(&self.actor, &request, answer).await
    }

    /// Assistance requests sent from or to the jurisdiction.
    pub async fn assist_requests(&self) -> Result<Vec<crate::exposures::AssistRequest>> {
        self.require(Permission::TracingRead)?;
        self.store.assist_requests(self.principal.user.jurisdiction.areas()).await
    }
}

fn area(code: &str) -> Result<AreaCode> {
    AreaCode::parse(code).map_err(|e| StoreError::Task(format!("stored area code {code:?}: {e}")))
}
