//! The scoped door to checkpoints: the commander registers them in the jurisdiction
//! (`command.write`); a checkpoint officer (`checkpoint.write`) logs passages at the
//! jurisdiction's checkpoints; whoever reads areas sees the checkpoints and their day.

use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;

use super::Scoped;
use crate::checkpoints::{
    Arrival, Checkpoint, Hours, LoggedPassage, NewArrival, NewCheckpoint, NewShift, Passage, PassageAsk, PassageLog, Shift,
};
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

    /// The arrival registered from a passage of a checkpoint of the jurisdiction, if any.
    /// Needs `persons.read`: it names the person and their order.
    pub async fn arrival_of_passage(&self, checkpoint_id: i64, passage_id: i64) -> Result<Option<crate::checkpoints::ArrivalNote>> {
        self.require(Permission::PersonsRead)?;
        let cp = self.checkpoint(checkpoint_id).await?;
        self.store.arrival_of_passage(cp.id, passage_id).await
    }

    /// Adds a duty shift to a checkpoint of the jurisdiction (`checkpoint.write` — the post's
    /// lead — or `command.write`).
    pub async fn add_shift(&self, id: i64, new: &NewShift) -> Result<Shift> {
        self.require_any(&[Permission::CheckpointWrite, Permission::CommandWrite])?;
        let cp = self.checkpoint(id).await?;
        self.store.add_shift(&self.actor, &cp, new).await
    }

    /// Takes a shift not yet ended off the roster of a checkpoint of the jurisdiction (as
    /// [`Scoped::add_shift`] may).
    pub async fn remove_shift(&self, id: i64, shift_id: i64) -> Result<Shift> {
        self.require_any(&[Permission::CheckpointWrite, Permission::CommandWrite])?;
        let cp = self.checkpoint(id).await?;
        self.store.remove_shift(&self.actor, &cp, shift_id, Utc::now()).await
    }

    /// A checkpoint's shifts from twelve hours ago on: who was, is and will be on duty.
    pub async fn shifts(&self, id: i64) -> Result<Vec<Shift>> {
        let cp = self.checkpoint(id).await?;
        self.store.shifts(cp.id, Utc::now() - chrono::Duration::hours(12)).await
    }

    /// Registers an arrival a passage found not in the register (`checkpoint.write`; the place
    /// they are going in the jurisdiction): in the register, and from a risk area under the
    /// observation the rules give.
    pub async fn register_arrival(&self, id: i64, passage_id: i64, new: &NewArrival) -> Result<Arrival> {
        self.require(Permission::CheckpointWrite)?;
        let cp = self.checkpoint(id).await?;
        self.inside(&new.area_code)?;
        self.store.register_arrival(&self.actor, &cp, passage_id, new).await
    }

    /// A checkpoint's day by the hour, and the arrivals registered.
    pub async fn passages_by_hour(&self, id: i64) -> Result<Hours> {
        let cp = self.checkpoint(id).await?;
        self.store.passages_by_hour(cp.id, Utc::now()).await
    }
}
