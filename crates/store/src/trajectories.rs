//! A case's trajectory (活动轨迹): time-stamped places over the look-back window, entered by the
//! investigator or taken from the case's own place-code scans.

use chrono::{DateTime, TimeZone, Utc};
use cordon_domain::cases::case::PlaceKind;
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::cases::Case;
use crate::{Result, Store, with_read_pool, with_write_pool};

/// One place the case was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TrajectoryEntry {
    pub id: i64,
    pub case_id: i64,
    pub from_at: DateTime<Utc>,
    pub until_at: Option<DateTime<Utc>>,
    #[sqlx(try_from = "String")]
    pub kind: PlaceKind,
    pub place: String,
    pub venue_id: Option<i64>,
    pub detail: Option<String>,
}

/// A place to add.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub from_at: DateTime<Utc>,
    pub until_at: Option<DateTime<Utc>>,
    pub kind: PlaceKind,
    pub place: String,
    pub detail: Option<String>,
}

impl Store {
    /// The case's places, in time order.
    pub(crate) async fn trajectory(&self, case_id: i64) -> Result<Vec<TrajectoryEntry>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, case_id, from_at, until_at, kind, place, venue_id, detail FROM trajectory_entries WHERE case_id = $1 ORDER BY from_at, id",
        ).bind(case_id).fetch_all(pool).await?))
    }

    /// Adds places entered by the investigator.
    pub(crate) async fn add_trajectory(&self, actor: &Actor, case: &Case, entries: &[NewEntry]) -> Result<()> {
        for e in entries {
            if e.place.trim().is_empty() {
                return Err(refused!("refused.place_needs_name"));
            }
            if e.until_at.is_some_and(|u| u <= e.from_at) {
                return Err(refused!("refused.place_ends_before_start", place = e.place.trim()));
            }
        }
        let now = Utc::now();
        let change = Change::new("trajectory", "case", &case.external_id).area(&case.area_code).after(serde_json::json!(
            entries
                .iter()
                .map(|e| serde_json::json!({"from": e.from_at, "until": e.until_at, "kind": e.kind.as_str(), "place": e.place.trim()}))
                .collect::<Vec<_>>()
        ));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for e in entries {
                sqlx::query(
                    "INSERT INTO trajectory_entries (case_id, from_at, until_at, kind, place, detail, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(case.id).bind(e.from_at).bind(e.until_at).bind(e.kind.as_str()).bind(e.place.trim()).bind(&e.detail).bind(now).bind(&actor.name)
                .execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Copies the case's own scans inside `window` into its trajectory (each scan once);
    /// returns how many places were added.
    pub(crate) async fn trajectory_from_checkins(&self, actor: &Actor, case: &Case, window: (DateTime<Utc>, DateTime<Utc>)) -> Result<u64> {
        let Some(person) = case.person_id else { return Ok(0) };
        let scans = self.checkins_of(person, window.0.timestamp(), window.1.timestamp()).await?;
        let known = self.trajectory(case.id).await?;
        let time = |s: i64| Utc.timestamp_opt(s, 0).single().unwrap_or_default();
        let fresh: Vec<_> =
            scans.iter().filter(|c| !known.iter().any(|k| k.venue_id == Some(c.venue_id) && k.from_at == time(c.at))).collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        let change = Change::new("trajectory", "case", &case.external_id)
            .area(&case.area_code)
            .after(serde_json::json!({"from_checkins": fresh.len()}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for c in &fresh {
                sqlx::query(
                    "INSERT INTO trajectory_entries (case_id, from_at, until_at, kind, place, venue_id, detail, created_at, created_by) \
                     SELECT $1, $2, $3, 'venue', v.name, v.id, v.address, $4, $5 FROM venues v WHERE v.id = $6",
                )
                .bind(case.id).bind(time(c.at)).bind(c.left.map(time)).bind(now).bind(&actor.name).bind(c.venue_id)
                .execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(fresh.len() as u64)
    }
}
