//! The scoped door to investigation data: cases, clusters and line lists.

use std::io::Read;

use cordon_domain::AreaCode;
use cordon_domain::access::Permission;

use super::Scoped;
use crate::cases::{Case, Cluster, ClusterDetail, ClusterFilter, NewCase};
use crate::import::ImportObserver;
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
        let infector = self.case(infector_id).await?.ok_or_else(|| StoreError::Invalid(format!("no case {infector_id}")))?;
        let case = self.case(case_id).await?.ok_or_else(|| StoreError::Invalid(format!("no case {case_id}")))?;
        self.store.link_cases(&self.actor, &infector, &case, "investigation").await
    }

    /// Clusters in the jurisdiction, largest first.
    pub async fn clusters(&self, filter: &ClusterFilter) -> Result<Vec<Cluster>> {
        self.require(Permission::TracingRead)?;
        self.store.clusters(self.principal.user.jurisdiction.areas(), filter).await
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

fn area(code: &str) -> Result<AreaCode> {
    AreaCode::parse(code).map_err(|e| StoreError::Task(format!("stored area code {code:?}: {e}")))
}
