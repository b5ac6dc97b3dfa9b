//! The scoped door to health codes: a person's code with its reasons, and the look-up a
//! checkpoint makes by identity number.

use chrono::Utc;
use cordon_domain::access::Permission;

use super::Scoped;
use crate::{Result, StoreError};

impl Scoped {
    /// A person's health code with its reasons (`persons.read`, the person in the jurisdiction).
    pub async fn health_code(&self, person_id: i64) -> Result<cordon_domain::health_code::HealthCode> {
        self.require(Permission::PersonsRead)?;
        self.person_inside(person_id).await?;
        self.store.health_code(person_id, Utc::now()).await
    }

    /// The code of whoever holds identity number `id_number`, as a checkpoint scans it: people of
    /// the jurisdiction with every reason (`persons.read`); for a checkpoint officer
    /// (`checkpoint.write`) anyone else in the register too, their reasons by kind only (not
    /// their case or dates). `None` for a number not in the register.
    pub async fn health_code_by_id_number(
        &self,
        id_number: &str,
    ) -> Result<Option<(crate::Person, cordon_domain::health_code::HealthCode)>> {
        self.require_any(&[Permission::CheckpointWrite, Permission::PersonsRead])?;
        let Some((person, mut code)) = self.store.person_with_code(id_number, Utc::now()).await? else {
            return Ok(None);
        };
        let inside = match self.inside(&cordon_domain::AreaCode::parse(&person.area_code).map_err(StoreError::corrupt)?) {
            Ok(()) => true,
            Err(StoreError::Forbidden(_)) if self.principal.can(Permission::CheckpointWrite) => false,
            Err(e) => return Err(e),
        };
        if !inside {
            // Someone from elsewhere: the colour and what kind of reason, not their case or dates.
            for r in &mut code.reasons {
                r.zh = r.code.label_zh().to_string();
                r.en = r.code.as_str().replace('_', " ");
                r.since = None;
                r.until = None;
            }
        }
        Ok(Some((person, code)))
    }

    /// Sets a person's code by hand (`command.write`, the person in the jurisdiction): a reason and
    /// an expiry within 14 days, audited; the derived reasons stay beneath it.
    pub async fn override_code(
        &self,
        person_id: i64,
        over: &cordon_domain::health_code::Override,
    ) -> Result<cordon_domain::health_code::HealthCode> {
        self.require(Permission::CommandWrite)?;
        let person = self.person_inside(person_id).await?;
        let now = Utc::now();
        self.store.override_code(&self.actor, &person, over, now).await?;
        self.store.health_code(person_id, now).await
    }

    /// People by colour in each area below `parent` (`persons.read`, the area in the
    /// jurisdiction).
    pub async fn code_counts(&self, parent: &cordon_domain::AreaCode) -> Result<Vec<crate::health_codes::ColourCount>> {
        self.require(Permission::PersonsRead)?;
        self.inside(parent)?;
        self.store.code_counts(parent).await
    }

    /// The red or yellow people of area `under` (`persons.read`, the area in the jurisdiction),
    /// a page after key `after`.
    pub async fn coded_people(
        &self,
        under: &cordon_domain::AreaCode,
        colour: cordon_domain::health_code::Colour,
        after: Option<&crate::PersonCursor>,
        limit: u32,
    ) -> Result<(Vec<crate::health_codes::CodedPerson>, Option<crate::PersonCursor>)> {
        self.require(Permission::PersonsRead)?;
        self.inside(under)?;
        self.store.coded_people(under, colour, after, limit).await
    }

    /// The changes of a person's colour, newest first (`persons.read`, the person in the
    /// jurisdiction).
    pub async fn code_changes(&self, person_id: i64) -> Result<Vec<crate::health_codes::CodeChange>> {
        self.require(Permission::PersonsRead)?;
        self.person_inside(person_id).await?;
        self.store.code_changes(person_id, 20).await
    }
}
