//! The scoped door to checkpoints: the commander registers them in the jurisdiction
//! (`command.write`); a checkpoint officer (`checkpoint.write`) logs passages at the
//! jurisdiction's checkpoints; whoever reads areas sees the checkpoints and their day.

use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;

use super::Scoped;
use crate::checkpoints::{Checkpoint, LoggedPassage, NewCheckpoint, Passage, PassageAsk, PassageLog};
use crate::{Result, StoreError};

impl Scoped {
    pub async fn create_checkpoint(&self, new: &NewCheckpoint) -> Result<Checkpoint> {
        self.require(Permission::CommandWrite)?;
        self.inside(&new.area_code)?;
        if let Some(z) = new.zone_id {
            // A zone of the jurisdiction, in force.
            let zone = self.visible_zone(z).await?;
            if zone.lifted_at.is_some() {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.zone.lifted")));
            }
        }
        self.store.create_checkpoint(&self.actor, new).await
    }

    /// The jurisdiction's checkpoints.
    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        self.require(Permission::AreasRead)?;
        self.store.checkpoints_in(self.principal.user.jurisdiction.areas()).await
    }

    /// A checkpoint of the jurisdiction.
    pub async fn checkpoint(&self, id: i64) -> Result<Checkpoint> {
        self.require(Permission::AreasRead)?;
        let cp = self.store.checkpoint_by_id(id).await?.ok_or_else(|| missing!("refused.checkpoint.none", id = id))?;
        self.inside(&AreaCode::parse(&cp.area_code).map_err(StoreError::corrupt)?)?;
        Ok(cp)
    }

    /// Decides and logs one passage at a checkpoint of the jurisdiction.
    pub async fn record_passage(&self, id: i64, ask: &PassageAsk) -> Result<Passage> {
        self.require(Permission::CheckpointWrite)?;
        let cp = self.checkpoint(id).await?;
        self.store.record_passage(&self.actor, &cp, ask, Utc::now()).await
    }

    /// A checkpoint's day: counts by decision and the latest passages.
    pub async fn passages_today(&self, id: i64) -> Result<PassageLog> {
        let cp = self.checkpoint(id).await?;
        self.store.passages_today(cp.id, Utc::now(), 30).await
    }

    /// One passage of a checkpoint of the jurisdiction, as logged.
    pub async fn logged_passage(&self, checkpoint_id: i64, id: i64) -> Result<Option<LoggedPassage>> {
        let cp = self.checkpoint(checkpoint_id).await?;
        self.store.logged_passage(cp.id, id).await
    }
}
