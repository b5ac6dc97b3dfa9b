//! Checkpoints and their passage log. A passage reads what the checkpoint decides from (the
//! person's health code, the zone it guards and whether they live in it, the county's zones, a
//! negative test in 48 hours), lets the domain decide (`checkpoints::decide`) and writes the
//! passage through the one writer on SQLite.

use chrono::{DateTime, Duration, Utc};
use cordon_domain::checkpoints::{CheckpointKind, Decision, Direction, PassageFacts, Why, decide};
use cordon_domain::health_code::HealthCode;
use cordon_domain::{AreaCode, local_date};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Result, Store, StoreError, with_read_pool, with_write_pool};

/// A checkpoint to register.
#[derive(Debug, Clone)]
pub struct NewCheckpoint {
    pub name: String,
    pub kind: CheckpointKind,
    pub area_code: AreaCode,
    pub zone_id: Option<i64>,
    pub leaves_county: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Checkpoint {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: CheckpointKind,
    pub area_code: String,
    pub zone_id: Option<i64>,
    pub leaves_county: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

const CHECKPOINT_SELECT: &str = "SELECT id, name, kind, area_code, zone_id, leaves_county, created_at, created_by FROM checkpoints";

/// One person passing, as the officer's page or a scanner sends it.
#[derive(Debug, Clone)]
pub struct PassageAsk {
    pub id_number: String,
    pub plate: Option<String>,
    pub direction: Direction,
    pub medical_exit: bool,
    /// A negative test certificate within 48 hours shown at the booth (a test taken elsewhere).
    pub negative_certificate: bool,
}

/// What the checkpoint decided for one passage, with the person's code when they are in the
/// register.
#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    pub id: i64,
    pub decision: Decision,
    pub reasons: Vec<Why>,
    pub person: Option<crate::Person>,
    pub code: Option<HealthCode>,
    pub passed_at: DateTime<Utc>,
}

/// The passage's row, written by the one writer on SQLite.
pub(crate) const INSERT_PASSAGE: &str = "INSERT INTO passages (checkpoint_id, area_code, person_id, id_number, plate, direction, \
     medical_exit, colour, decision, reasons, passed_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";

/// The values of one passage row, in [`INSERT_PASSAGE`]'s order.
pub(crate) struct PassageRow {
    pub(crate) checkpoint_id: i64,
    pub(crate) area_code: String,
    pub(crate) person_id: Option<i64>,
    pub(crate) id_number: String,
    pub(crate) plate: Option<String>,
    pub(crate) direction: &'static str,
    pub(crate) medical_exit: bool,
    pub(crate) colour: Option<&'static str>,
    pub(crate) decision: &'static str,
    pub(crate) reasons: String,
    pub(crate) passed_at: DateTime<Utc>,
    pub(crate) recorded_by: String,
}

impl Store {
    pub(crate) async fn create_checkpoint(&self, actor: &Actor, new: &NewCheckpoint) -> Result<Checkpoint> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(refused!("refused.checkpoint.no_name"));
        }
        if self.area(&new.area_code).await?.is_none() {
            return Err(refused!("refused.area_unregistered", area = new.area_code));
        }
        if let Some(z) = new.zone_id
            && self.zone(z).await?.is_none()
        {
            return Err(missing!("refused.zone.none", id = z));
        }
        let now = Utc::now();
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM checkpoints WHERE area_code = $1 AND name = $2")
                .bind(new.area_code.as_str()).bind(name).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.checkpoint.name_taken").with("name", name)));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO checkpoints (name, kind, area_code, zone_id, leaves_county, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(name).bind(new.kind.as_str()).bind(new.area_code.as_str()).bind(new.zone_id).bind(new.leaves_county).bind(now).bind(&actor.name)
            .fetch_one(&mut *tx).await?;
            let change = Change::new("create", "checkpoint", id).area(new.area_code.as_str()).after(serde_json::json!({
                "name": name, "kind": new.kind, "zone_id": new.zone_id, "leaves_county": new.leaves_county,
            }));
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        self.checkpoint_by_id(id).await?.ok_or_else(|| StoreError::Task(format!("checkpoint {id} gone")))
    }

    pub(crate) async fn checkpoint_by_id(&self, id: i64) -> Result<Option<Checkpoint>> {
        let sql = format!("{CHECKPOINT_SELECT} WHERE id = $1");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Checkpoint>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
    }

    /// The checkpoints in `scope`, by area and name.
    pub(crate) async fn checkpoints_in(&self, scope: &[AreaCode]) -> Result<Vec<Checkpoint>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("area_code", scope, &mut params) else { return Ok(Vec::new()) };
        let sql = format!("{CHECKPOINT_SELECT} WHERE {inside} ORDER BY area_code, name LIMIT 1000");
        Ok(with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as::<_, Checkpoint>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// Decides and logs one passage at checkpoint `cp` at `now`.
    pub(crate) async fn record_passage(&self, actor: &Actor, cp: &Checkpoint, ask: &PassageAsk, now: DateTime<Utc>) -> Result<Passage> {
        let number = ask.id_number.trim().to_uppercase();
        if number.is_empty() || number.len() > 40 {
            return Err(refused!("refused.checkpoint.bad_id_number"));
        }
        let person_id = self.person_ids_by_documents(std::slice::from_ref(&number)).await?.get(&number).copied();
        let (person, code) = match person_id {
            Some(id) => (self.person_by_id(id).await?, Some(self.health_code(id, now).await?)),
            None => (None, None),
        };
        // The zone it guards, while in force, and whether they live in it.
        let guards = match cp.zone_id {
            Some(z) => match self.zone(z).await? {
                Some(zone) if zone.lifted_at.is_none() => {
                    let inside = match person_id {
                        Some(p) => self.lives_in_zone(z, p).await?,
                        None => false,
                    };
                    Some((zone.kind, inside))
                }
                _ => None,
            },
            None => None,
        };
        let county: String = cp.area_code.chars().take(6).collect();
        let (zones_in_county,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM zones WHERE substr(area_code, 1, 6) = $1 AND lifted_at IS NULL",
        ).bind(&county).fetch_one(pool).await?);
        let negative_within_48h = ask.negative_certificate
            || match person_id {
                None => false,
                Some(p) => {
                    let (n,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(
                    "SELECT COUNT(*) FROM samples s JOIN tubes t ON t.id = s.tube_id \
                     WHERE s.person_id = $1 AND s.sampled_at >= $2 AND t.result = 'negative'",
                ).bind(p).bind(now - Duration::hours(48)).fetch_one(pool).await?);
                    n > 0
                }
            };
        let facts = PassageFacts {
            code: code.as_ref().map(|c| c.colour),
            direction: ask.direction,
            guards,
            medical_exit: ask.medical_exit,
            leaves_county: cp.leaves_county,
            county_in_precaution: zones_in_county > 0,
            negative_within_48h,
        };
        let (decision, reasons) = decide(&facts);
        let row = PassageRow {
            checkpoint_id: cp.id,
            area_code: cp.area_code.clone(),
            person_id,
            id_number: number,
            plate: ask.plate.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_string),
            direction: ask.direction.as_str(),
            medical_exit: ask.medical_exit,
            colour: code.as_ref().map(|c| c.colour.as_str()),
            decision: decision.as_str(),
            reasons: reasons.iter().map(|w| w.code.as_str()).collect::<Vec<_>>().join(","),
            passed_at: now,
            recorded_by: actor.name.clone(),
        };
        let id = match &*self.backend {
            crate::Backend::Sqlite(b) => b.writer.write(move |c| crate::sqlite::checkpoints::insert_passage(c, &row)).await?,
            crate::Backend::Postgres(b) => {
                let (id,): (i64,) = sqlx::query_as(INSERT_PASSAGE)
                    .bind(row.checkpoint_id)
                    .bind(&row.area_code)
                    .bind(row.person_id)
                    .bind(&row.id_number)
                    .bind(&row.plate)
                    .bind(row.direction)
                    .bind(row.medical_exit)
                    .bind(row.colour)
                    .bind(row.decision)
                    .bind(&row.reasons)
                    .bind(row.passed_at)
                    .bind(&row.recorded_by)
                    .fetch_one(&b.pool)
                    .await?;
                id
            }
        };
        Ok(Passage { id, decision, reasons, person, code, passed_at: now })
    }

    /// Whether person `person_id` lives in zone `zone_id`: their area, building or household
    /// drawn into it (the person's own few rows, not the zone's whole population).
    pub(crate) async fn lives_in_zone(&self, zone_id: i64, person_id: i64) -> Result<bool> {
        let (n,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM persons p WHERE p.id = $2 AND (\
             EXISTS (SELECT 1 FROM zone_areas za WHERE za.zone_id = $1 AND za.area_code IN (substr(p.area_code, 1, 2), \
             substr(p.area_code, 1, 4), substr(p.area_code, 1, 6), substr(p.area_code, 1, 9), p.area_code)) \
             OR EXISTS (SELECT 1 FROM zone_households zh WHERE zh.zone_id = $1 AND zh.household_id = p.household_id) \
             OR EXISTS (SELECT 1 FROM zone_buildings zb JOIN households h ON h.building_id = zb.building_id \
             WHERE zb.zone_id = $1 AND h.id = p.household_id))",
        ).bind(zone_id).bind(person_id).fetch_one(pool).await?);
        Ok(n > 0)
    }

    /// One passage of a checkpoint as logged: its decision, reason codes, the code's colour and
    /// the person's name when they are in the register.
    pub(crate) async fn logged_passage(&self, checkpoint_id: i64, id: i64) -> Result<Option<LoggedPassage>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, LoggedPassage>(
            "SELECT x.decision, x.reasons, x.colour, p.name FROM passages x LEFT JOIN persons p ON p.id = x.person_id \
             WHERE x.checkpoint_id = $1 AND x.id = $2",
        ).bind(checkpoint_id).bind(id).fetch_optional(pool).await?))
    }

    /// A checkpoint's passages of the local day `on`: (passed, registered, refused) and the last
    /// `limit` of them, newest first: (time, decision, reasons, id number as scanned).
    pub(crate) async fn passages_today(&self, checkpoint_id: i64, now: DateTime<Utc>, limit: u32) -> Result<PassageLog> {
        let day = local_date(now);
        let start = day.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(cordon_domain::local_offset()).single());
        let start = start.map(|t| t.with_timezone(&Utc)).unwrap_or(now - Duration::days(1));
        let counts: Vec<(String, i64)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT decision, COUNT(*) FROM passages WHERE checkpoint_id = $1 AND passed_at >= $2 GROUP BY decision",
        ).bind(checkpoint_id).bind(start).fetch_all(pool).await?);
        let get = |d: Decision| counts.iter().find(|(k, _)| k == d.as_str()).map_or(0, |(_, n)| *n);
        let recent: Vec<(DateTime<Utc>, String, String, String)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT passed_at, decision, reasons, id_number FROM passages WHERE checkpoint_id = $1 ORDER BY id DESC LIMIT $2",
        ).bind(checkpoint_id).bind(i64::from(limit)).fetch_all(pool).await?);
        Ok(PassageLog { passed: get(Decision::Pass), registered: get(Decision::Register), refused: get(Decision::Refuse), recent })
    }
}

/// A passage as logged.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoggedPassage {
    pub decision: String,
    /// Reason codes joined by ','.
    pub reasons: String,
    pub colour: Option<String>,
    pub name: Option<String>,
}

/// A checkpoint's day: counts by decision, and the latest passages.
#[derive(Debug, Clone, Serialize)]
pub struct PassageLog {
    pub passed: i64,
    pub registered: i64,
    pub refused: i64,
    /// (time, decision, reason codes joined by ',', id number as scanned), newest first.
    pub recent: Vec<(DateTime<Utc>, String, String, String)>,
}
