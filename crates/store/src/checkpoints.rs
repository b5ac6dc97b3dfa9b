//! Checkpoints and their passage log. A passage reads what the checkpoint decides from (the
//! person's health code, the zone it guards and whether they live in it, the county's zones, a
//! negative test in 48 hours), lets the domain decide (`checkpoints::decide`) and writes the
//! passage through the one writer on SQLite.

use chrono::{DateTime, Duration, Utc};
use cordon_domain::checkpoints::{
    CheckpointKind, Decision, Direction, OriginRisk, PassageFacts, ShiftError, Why, arrival_category, check_shift, decide,
};
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
    /// The sending phone's id for this passage: sent again (a queue replayed after a signal
    /// loss), it is logged once and answered as first decided.
    pub client_id: Option<String>,
    /// When the person passed, for a passage the phone kept while offline (the officer decided
    /// by hand): logged at that time, its 48-hour test window counted back from it, and the
    /// time it reached the server kept beside it. Now when absent.
    pub passed_at: Option<DateTime<Utc>>,
    /// Kept on the phone while offline (the officer decided by hand): logged as such however
    /// soon it was sent.
    pub kept_offline: bool,
    /// What the officer did at the booth with a passage kept offline, checked by hand; logged
    /// beside the rules' decision (only with `kept_offline`).
    pub by_hand: Option<Decision>,
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
    /// What the officer did at the booth, for a passage kept offline and checked by hand.
    pub by_hand: Option<Decision>,
}

/// The passage's row, written by the one writer on SQLite.
pub(crate) const INSERT_PASSAGE: &str = "INSERT INTO passages (checkpoint_id, area_code, person_id, id_number, plate, direction, \
     medical_exit, colour, decision, reasons, passed_at, recorded_by, client_id, received_at, by_hand) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (checkpoint_id, client_id) WHERE client_id IS NOT NULL DO NOTHING RETURNING id";

/// What a passage is decided on beside the person's code, read in one statement: binds the
/// zone the checkpoint guards ($1, or null), the person ($2, or null), the county's code ($3)
/// and the 48 hours before the passage ($4 to $5). Answers the guarded zone's kind while in
/// force, whether the person lives in it, the zones in force in the county, and whether the
/// person tested negative in the window.
const PASSAGE_FACTS: &str = "SELECT (SELECT kind FROM zones WHERE id = $1 AND lifted_at IS NULL), \
     EXISTS (SELECT 1 FROM persons p WHERE p.id = $2 AND (\
     EXISTS (SELECT 1 FROM zone_areas za WHERE za.zone_id = $1 AND za.area_code IN (substr(p.area_code, 1, 2), \
     substr(p.area_code, 1, 4), substr(p.area_code, 1, 6), substr(p.area_code, 1, 9), p.area_code)) \
     OR EXISTS (SELECT 1 FROM zone_households zh WHERE zh.zone_id = $1 AND zh.household_id = p.household_id) \
     OR EXISTS (SELECT 1 FROM zone_buildings zb JOIN households h ON h.building_id = zb.building_id \
     WHERE zb.zone_id = $1 AND h.id = p.household_id))), \
     (SELECT COUNT(*) FROM zones WHERE substr(area_code, 1, 6) = $3 AND lifted_at IS NULL), \
     EXISTS (SELECT 1 FROM samples s JOIN tubes t ON t.id = s.tube_id \
     WHERE s.person_id = $2 AND s.sampled_at >= $4 AND s.sampled_at <= $5 AND t.result = 'negative')";

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
    pub(crate) client_id: Option<String>,
    /// When a passage kept offline reached the server; `None` for one logged as it happened.
    pub(crate) received_at: Option<DateTime<Utc>>,
    /// What the officer did at the booth with a passage kept offline.
    pub(crate) by_hand: Option<&'static str>,
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
        cordon_domain::checkpoints::check_document_number(&number)?;
        cordon_domain::checkpoints::check_by_hand(ask.kept_offline, ask.by_hand)?;
        let client_id = ask.client_id.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        if let Some(cid) = &client_id {
            if cid.len() > 100 {
                return Err(refused!("refused.checkpoint.bad_client_id"));
            }
            if let Some(done) = self.passage_by_client(cp.id, cid, &number).await? {
                return Ok(done);
            }
        }
        let at = ask.passed_at.unwrap_or(now);
        cordon_domain::checkpoints::check_passed_at(at, now)?;
        let at = at.min(now);
        // Kept on the phone (or sent more than a minute after it happened): logged at its time,
        // received now.
        let received_at = cordon_domain::checkpoints::was_kept(ask.kept_offline, at, now).then_some(now);
        let (person, code) = match self.person_with_code(&number, now).await? {
            Some((p, c)) => (Some(p), Some(c)),
            None => (None, None),
        };
        let person_id = person.as_ref().map(|p| p.id);
        // In one statement: the zone it guards while in force and whether they live in it, how
        // many zones are in force in the county, and a negative test of theirs in the 48 hours
        // before they passed.
        type Around = (Option<String>, bool, i64, bool);
        let (guarded, inside, zones_in_county, tested): Around = with_read_pool!(self, pool => sqlx::query_as(PASSAGE_FACTS)
            .bind(cp.zone_id).bind(person_id).bind(cp.area_code.chars().take(6).collect::<String>())
            .bind(at - Duration::hours(48)).bind(at).fetch_one(pool).await?);
        let guards = match guarded {
            Some(kind) => Some((kind.parse::<cordon_domain::zones::ZoneKind>().map_err(StoreError::corrupt)?, inside)),
            None => None,
        };
        let negative_within_48h = ask.negative_certificate || tested;
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
            passed_at: at,
            recorded_by: actor.name.clone(),
            client_id,
            received_at,
            by_hand: ask.by_hand.map(|d| d.as_str()),
        };
        let client = row.client_id.clone();
        let number = row.id_number.clone();
        let id = match &*self.backend {
            crate::Backend::Sqlite(b) => b.writer.write_decided(move |c| crate::sqlite::checkpoints::insert_passage(c, &row)).await?,
            crate::Backend::Postgres(b) => {
                let id: Option<(i64,)> = sqlx::query_as(INSERT_PASSAGE)
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
                    .bind(&row.client_id)
                    .bind(row.received_at)
                    .bind(row.by_hand)
                    .fetch_optional(&b.pool)
                    .await?;
                id.map(|(id,)| id)
            }
        };
        match (id, client) {
            (Some(id), _) => Ok(Passage { id, decision, reasons, person, code, passed_at: at, by_hand: ask.by_hand }),
            // The same passage sent twice at once: the first one logged answers both.
            (None, Some(cid)) => {
                self.passage_by_client(cp.id, &cid, &number).await?.ok_or_else(|| StoreError::Task("a passage vanished".into()))
            }
            (None, None) => Err(StoreError::Task("a passage was not logged".into())),
        }
    }

    /// The passage checkpoint `checkpoint_id` logged under the phone's id `client_id`, as first
    /// decided (its reasons by kind), if any; the same id sent with another number is a conflict.
    async fn passage_by_client(&self, checkpoint_id: i64, client_id: &str, number: &str) -> Result<Option<Passage>> {
        type Row = (i64, Option<i64>, String, Option<String>, String, String, DateTime<Utc>, Option<String>);
        let row: Option<Row> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, person_id, id_number, colour, decision, reasons, passed_at, by_hand FROM passages WHERE checkpoint_id = $1 AND client_id = $2",
        ).bind(checkpoint_id).bind(client_id).fetch_optional(pool).await?);
        let Some((id, person_id, logged_number, colour, decision, reasons, passed_at, by_hand)) = row else { return Ok(None) };
        if logged_number != number {
            return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.checkpoint.client_id_reused")));
        }
        let decision: Decision = decision.parse().map_err(StoreError::corrupt)?;
        let reasons = reasons
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| {
                let code: cordon_domain::checkpoints::DecisionCode = r.parse().map_err(StoreError::corrupt)?;
                Ok(Why { code, decision, zh: code.label_zh().to_string(), en: code.as_str().replace('_', " ") })
            })
            .collect::<Result<Vec<_>>>()?;
        let person = match person_id {
            Some(p) => self.person_by_id(p).await?,
            None => None,
        };
        // The colour as it was then; its reasons are the person's page's to tell.
        let code = match colour {
            Some(c) => Some(HealthCode { colour: c.parse().map_err(StoreError::corrupt)?, reasons: Vec::new() }),
            None => None,
        };
        let by_hand = by_hand.map(|d| d.parse()).transpose().map_err(StoreError::corrupt)?;
        Ok(Some(Passage { id, decision, reasons, person, code, passed_at, by_hand }))
    }

    /// One passage of a checkpoint as logged: its decision, reason codes, the code's colour and
    /// the person's name when they are in the register.
    pub(crate) async fn logged_passage(&self, checkpoint_id: i64, id: i64) -> Result<Option<LoggedPassage>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, LoggedPassage>(
            "SELECT x.id, x.person_id, x.direction, EXISTS (SELECT 1 FROM arrivals a WHERE a.passage_id = x.id) AS arrival, \
             x.decision, x.reasons, x.colour, p.name FROM passages x LEFT JOIN persons p ON p.id = x.person_id \
             WHERE x.checkpoint_id = $1 AND x.id = $2",
        ).bind(checkpoint_id).bind(id).fetch_optional(pool).await?))
    }

    /// The arrival registered from passage `passage_id` of checkpoint `checkpoint_id`: the
    /// person's name, the risk of where they came from, and their order's status if they got one.
    pub(crate) async fn arrival_of_passage(&self, checkpoint_id: i64, passage_id: i64) -> Result<Option<ArrivalNote>> {
        type Row = (String, String, Option<String>);
        let row: Option<Row> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT p.name, a.from_risk, o.status FROM arrivals a JOIN persons p ON p.id = a.person_id \
             LEFT JOIN observation_orders o ON o.id = a.order_id WHERE a.checkpoint_id = $1 AND a.passage_id = $2",
        ).bind(checkpoint_id).bind(passage_id).fetch_optional(pool).await?);
        let Some((name, risk, status)) = row else { return Ok(None) };
        Ok(Some(ArrivalNote {
            name,
            from_risk: risk.parse().map_err(StoreError::corrupt)?,
            status: status.map(|s| s.parse()).transpose().map_err(StoreError::corrupt)?,
        }))
    }

    /// A checkpoint's passages of the local day `on`: (passed, registered, refused) and the last
    /// `limit` of them, newest first: (time, decision, reasons, id number as scanned).
    pub(crate) async fn passages_today(&self, checkpoint_id: i64, now: DateTime<Utc>, limit: u32) -> Result<PassageLog> {
        let day = local_date(now);
        let start = day.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(cordon_domain::local_offset()).single());
        let start = start.map(|t| t.with_timezone(&Utc)).unwrap_or(now - Duration::days(1));
        let counts: Vec<(String, Option<String>, i64)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT decision, by_hand, COUNT(*) FROM passages WHERE checkpoint_id = $1 AND passed_at >= $2 GROUP BY decision, by_hand",
        ).bind(checkpoint_id).bind(start).fetch_all(pool).await?);
        let get = |d: Decision| counts.iter().filter(|(k, _, _)| k == d.as_str()).map(|(_, _, n)| *n).sum();
        // Kept offline and decided at the booth otherwise than the rules decide.
        let mut differs = 0;
        for (decision, by_hand, n) in &counts {
            if differs_by_hand(decision, by_hand.as_deref())? {
                differs += n;
            }
        }
        let mut recent: Vec<RecentPassage> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT passed_at, decision, reasons, id_number, received_at, by_hand FROM passages WHERE checkpoint_id = $1 ORDER BY id DESC LIMIT $2",
        ).bind(checkpoint_id).bind(i64::from(limit)).fetch_all(pool).await?);
        for p in &mut recent {
            p.differs = differs_by_hand(&p.decision, p.by_hand.as_deref())?;
        }
        Ok(PassageLog { passed: get(Decision::Pass), registered: get(Decision::Register), refused: get(Decision::Refuse), differs, recent })
    }
}

/// Whether a logged passage's hand decision (if any) parts from its decision, as stored.
fn differs_by_hand(decision: &str, by_hand: Option<&str>) -> Result<bool> {
    let Some(by_hand) = by_hand else { return Ok(false) };
    let (by_hand, decision): (Decision, Decision) =
        (by_hand.parse().map_err(StoreError::corrupt)?, decision.parse().map_err(StoreError::corrupt)?);
    Ok(cordon_domain::checkpoints::by_hand_differs(by_hand, decision))
}

/// A passage in a checkpoint's log.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RecentPassage {
    pub passed_at: DateTime<Utc>,
    pub decision: String,
    /// Reason codes joined by ','.
    pub reasons: String,
    /// As scanned or typed.
    pub id_number: String,
    /// When it reached the server, if the phone kept it offline.
    pub received_at: Option<DateTime<Utc>>,
    /// What the officer did at the booth with a passage kept offline.
    pub by_hand: Option<String>,
    /// Whether that parts from the rules' decision (`checkpoints::by_hand_differs`).
    #[sqlx(skip)]
    pub differs: bool,
}

/// A passage as logged.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoggedPassage {
    pub id: i64,
    pub person_id: Option<i64>,
    pub direction: String,
    /// Whether an arrival was registered from it.
    pub arrival: bool,
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
    /// Passages kept offline that the officer decided at the booth otherwise than the rules do.
    pub differs: i64,
    /// The last passages, newest first.
    pub recent: Vec<RecentPassage>,
}

/// A duty shift to add to a checkpoint's roster.
#[derive(Debug, Clone)]
pub struct NewShift {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub lead: String,
    pub phone: Option<String>,
    /// Everyone on duty, as typed.
    pub staff: String,
}

/// A duty shift as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Shift {
    pub id: i64,
    pub checkpoint_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub lead: String,
    pub phone: Option<String>,
    pub staff: String,
}

/// An arrival from outside the county to register, from a passage that found them not in the
/// register.
#[derive(Debug, Clone)]
pub struct NewArrival {
    pub name: String,
    pub phone: Option<String>,
    /// Where they came from, as they say it.
    pub from_place: String,
    pub from_risk: OriginRisk,
    /// The village or community they are going to.
    pub area_code: AreaCode,
    pub address: Option<String>,
}

/// An arrival as registered: the person now in the register and the order given, if any.
#[derive(Debug, Clone, Serialize)]
pub struct Arrival {
    pub id: i64,
    pub passage_id: i64,
    pub person_id: i64,
    pub from_risk: OriginRisk,
    /// The observation order given for a risk area: its id and status.
    pub order: Option<(i64, cordon_domain::observation::Status)>,
}

/// An arrival as the checkpoint's page tells it after registering them.
#[derive(Debug, Clone)]
pub struct ArrivalNote {
    pub name: String,
    pub from_risk: OriginRisk,
    /// Their observation order's status, when they got one.
    pub status: Option<cordon_domain::observation::Status>,
}

/// A checkpoint's day by the hour (local): passed, registered, refused, and arrivals registered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Hours {
    /// (hour 0–23, passed, registered, refused), only hours with passages.
    pub hours: Vec<(u32, i64, i64, i64)>,
    pub arrivals: i64,
}

impl Store {
    /// Adds a duty shift to checkpoint `cp`'s roster, checked by the domain, audited.
    pub(crate) async fn add_shift(&self, actor: &Actor, cp: &Checkpoint, new: &NewShift) -> Result<Shift> {
        check_shift(new.starts_at, new.ends_at, &new.lead).map_err(|e| match e {
            ShiftError::NoLead => refused!("refused.shift.no_lead"),
            ShiftError::EndsBeforeStart => refused!("refused.shift.ends_before_start"),
            ShiftError::TooLong => refused!("refused.shift.too_long", hours = cordon_domain::checkpoints::SHIFT_MOST_HOURS),
        })?;
        let phone = new.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let change = Change::new("add_shift", "checkpoint", cp.id).area(&cp.area_code).after(serde_json::json!({
            "starts_at": new.starts_at, "ends_at": new.ends_at, "lead": new.lead.trim(), "staff": new.staff.trim(),
        }));
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // The audit chain's lock first (on PostgreSQL): two shifts added at once are checked
            // against each other, not both against the roster before either.
            tx.append(actor, &change).await?;
            type Row = (i64, DateTime<Utc>, DateTime<Utc>, String);
            let near: Vec<Row> = sqlx::query_as(
                "SELECT id, starts_at, ends_at, lead FROM checkpoint_shifts WHERE checkpoint_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id",
            )
            .bind(cp.id).bind(new.starts_at).bind(new.ends_at).fetch_all(&mut *tx).await?;
            let spans: Vec<_> = near.iter().map(|(id, s, e, _)| (*id, *s, *e)).collect();
            if let Some(other) = cordon_domain::checkpoints::overlapping(new.starts_at, new.ends_at, &spans) {
                let (_, s, e, lead) = near.iter().find(|r| r.0 == other).cloned().unwrap_or_default();
                let shown = |t: DateTime<Utc>| t.with_timezone(&cordon_domain::local_offset()).format("%m-%d %H:%M").to_string();
                return Err(refused!("refused.shift.overlaps", lead = lead, from = shown(s), to = shown(e)));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO checkpoint_shifts (checkpoint_id, starts_at, ends_at, lead, phone, staff, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(cp.id).bind(new.starts_at).bind(new.ends_at).bind(new.lead.trim()).bind(phone).bind(new.staff.trim())
            .bind(Utc::now()).bind(&actor.name).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            id
        });
        Ok(Shift {
            id,
            checkpoint_id: cp.id,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            lead: new.lead.trim().to_string(),
            phone: phone.map(str::to_string),
            staff: new.staff.trim().to_string(),
        })
    }

    /// Takes shift `shift_id` off checkpoint `cp`'s roster (typed wrong, or the team changed):
    /// one not yet started is removed, one under way is ended now (the roster keeps who was on
    /// duty until then), one ended stays. Audited with what it was; answers it as it was.
    pub(crate) async fn remove_shift(&self, actor: &Actor, cp: &Checkpoint, shift_id: i64, now: DateTime<Utc>) -> Result<Shift> {
        let shift: Option<Shift> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, checkpoint_id, starts_at, ends_at, lead, phone, staff FROM checkpoint_shifts WHERE id = $1 AND checkpoint_id = $2",
        ).bind(shift_id).bind(cp.id).fetch_optional(pool).await?);
        let shift =
            shift.ok_or_else(|| StoreError::from(cordon_domain::refusal::Refusal::missing("refused.shift.none").with("id", shift_id)))?;
        if shift.ends_at <= now {
            return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.shift.ended")));
        }
        let started = shift.starts_at <= now;
        let act = if started { "end_shift" } else { "remove_shift" };
        let change = Change::new(act, "checkpoint", cp.id).area(&cp.area_code).before(serde_json::json!({
            "shift": shift.id, "starts_at": shift.starts_at, "ends_at": shift.ends_at, "lead": shift.lead, "staff": shift.staff,
        }));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = if started {
                sqlx::query("UPDATE checkpoint_shifts SET ends_at = $3 WHERE id = $1 AND checkpoint_id = $2 AND ends_at > $3")
                    .bind(shift.id).bind(cp.id).bind(now).execute(&mut *tx).await?
            } else {
                sqlx::query("DELETE FROM checkpoint_shifts WHERE id = $1 AND checkpoint_id = $2")
                    .bind(shift.id).bind(cp.id).execute(&mut *tx).await?
            };
            if done.rows_affected() == 0 {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::missing("refused.shift.none").with("id", shift_id)));
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(shift)
    }

    /// Checkpoint `id`'s shifts that end after `since`, by start.
    pub(crate) async fn shifts(&self, id: i64, since: DateTime<Utc>) -> Result<Vec<Shift>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Shift>(
            "SELECT id, checkpoint_id, starts_at, ends_at, lead, phone, staff FROM checkpoint_shifts \
             WHERE checkpoint_id = $1 AND ends_at > $2 ORDER BY starts_at, id LIMIT 50",
        ).bind(id).bind(since).fetch_all(pool).await?))
    }

    /// Registers an arrival found not in the register by passage `passage_id` of checkpoint
    /// `cp`: the person put in the register under the number scanned (a resident id), the
    /// passage then names them, and, from a risk area, the observation order the incident's
    /// rules give such a traveller, waiting where its plan starts. Audited.
    pub(crate) async fn register_arrival(&self, actor: &Actor, cp: &Checkpoint, passage_id: i64, a: &NewArrival) -> Result<Arrival> {
        let row: Option<(Option<i64>, String, String)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT person_id, id_number, direction FROM passages WHERE id = $1 AND checkpoint_id = $2",
        ).bind(passage_id).bind(cp.id).fetch_optional(pool).await?);
        let Some((person, number, direction)) = row else {
            return Err(missing!("refused.checkpoint.no_passage", id = passage_id));
        };
        if person.is_some() || direction != Direction::In.as_str() {
            return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.arrival.not_an_arrival")));
        }
        let resident =
            cordon_domain::ResidentId::parse(&number).map_err(|_| refused!("refused.arrival.resident_id_only", number = number))?;
        let name = cordon_domain::person::PersonName::parse(&a.name).map_err(|_| refused!("refused.arrival.no_name"))?;
        let phone = match a.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(cordon_domain::Phone::parse(p).map_err(|_| refused!("refused.arrival.bad_phone", phone = p))?),
            None => None,
        };
        let from = a.from_place.trim();
        if from.is_empty() {
            return Err(refused!("refused.arrival.no_origin"));
        }
        if self.area(&a.area_code).await?.is_none() {
            return Err(refused!("refused.area_unregistered", area = a.area_code));
        }
        let new = cordon_domain::NewPerson {
            sex: resident.sex(),
            birth_date: resident.birth_date(),
            document: cordon_domain::person::IdDocument::Resident(resident),
            name,
            phone,
            area_code: a.area_code.clone(),
            address: a.address.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
            tags: Default::default(),
        };
        new.may_register_on_the_spot().map_err(StoreError::from)?;
        let now = Utc::now();
        // From a risk area: the order the incident's rules give such a traveller, from today —
        // worked out before anything is written, so that a plan the rules lack registers nobody.
        let mut order = None;
        if let Some(category) = arrival_category(a.from_risk) {
            let incident = self.incident_for(actor, &a.area_code).await?;
            let rule = self.rule_set(&self.incident_rule_set(incident).await?).await?;
            let today = local_date(now);
            let schedule = crate::observation::schedule_for(&rule, category, now, today, &[]).ok_or_else(|| {
                refused!("refused.arrival.no_plan", category = cordon_domain::refusal::term("obs.category", category.as_str()))
            })?;
            let entry = schedule.entry().ok_or_else(|| refused!("refused.arrival.no_plan", category = category.as_str()))?;
            let cols = crate::observation::ScheduleColumns::of(&schedule);
            let status = cordon_domain::observation::Status::waiting_for(entry);
            order = Some((incident, rule.name.clone(), category, cols, status));
        }
        let (registered, created) = self.register_person(actor, &new).await?;
        // Registered meanwhile (or by an earlier try of this form): only as the same arrival, here.
        if !created && registered.area_code != a.area_code.as_str() {
            return Err(StoreError::from(
                cordon_domain::refusal::Refusal::conflict("refused.registered_elsewhere").with("who", registered.document.masked()),
            ));
        }
        let change = Change::new("register_arrival", "checkpoint", cp.id).area(a.area_code.as_str()).after(serde_json::json!({
            "passage": passage_id, "person": registered.id, "from": from, "risk": a.from_risk,
            "order": order.as_ref().map(|(_, _, c, _, s)| serde_json::json!({"category": c.as_str(), "status": s.as_str()})),
        }));
        let (id, order_id) = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let taken = sqlx::query("UPDATE passages SET person_id = $1 WHERE id = $2 AND person_id IS NULL")
                .bind(registered.id).bind(passage_id).execute(&mut *tx).await?;
            if taken.rows_affected() == 0 {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.arrival.not_an_arrival")));
            }
            let mut order_id = None;
            if let Some((incident, rule, category, cols, status)) = &order {
                let row: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO observation_orders (incident_id, person_id, category, last_exposure_at, rule_set, status, area_code, created_at, \
                     created_by, found_on, release_on, centralized_until, test_dates, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $4, $8, $9, $10, $11, $12, $4) ON CONFLICT (incident_id, person_id) DO NOTHING RETURNING id",
                )
                .bind(incident).bind(registered.id).bind(category.as_str()).bind(now).bind(rule).bind(status.as_str())
                .bind(a.area_code.as_str()).bind(&actor.name).bind(local_date(now)).bind(cols.release_on).bind(cols.centralized_until)
                .bind(&cols.test_dates).fetch_optional(&mut *tx).await?;
                order_id = row.map(|(id,)| id);
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO arrivals (passage_id, checkpoint_id, person_id, from_place, from_risk, area_code, order_id, registered_at, registered_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(passage_id).bind(cp.id).bind(registered.id).bind(from).bind(a.from_risk.as_str()).bind(a.area_code.as_str())
            .bind(order_id).bind(now).bind(&actor.name).fetch_one(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
            (id, order_id)
        });
        Ok(Arrival {
            id,
            passage_id,
            person_id: registered.id,
            from_risk: a.from_risk,
            order: order_id.zip(order.map(|(_, _, _, _, s)| s)),
        })
    }

    /// Checkpoint `id`'s local day of `now` by the hour, and the arrivals registered.
    pub(crate) async fn passages_by_hour(&self, id: i64, now: DateTime<Utc>) -> Result<Hours> {
        let start = cordon_domain::from_local(local_date(now).and_time(chrono::NaiveTime::MIN));
        // Grouped by the local hour in the database: the day's rows stay there.
        let offset = i64::from(cordon_domain::local_offset().local_minus_utc() / 3600);
        let hour = match self.kind() {
            crate::BackendKind::Sqlite => format!("CAST(strftime('%H', passed_at, '{offset:+} hours') AS INTEGER)"),
            crate::BackendKind::Postgres => {
                format!("CAST(EXTRACT(HOUR FROM (passed_at AT TIME ZONE 'UTC') + INTERVAL '{offset} hours') AS INTEGER)")
            }
        };
        let sql = format!(
            "SELECT {hour} AS h, decision, COUNT(*) FROM passages WHERE checkpoint_id = $1 AND passed_at >= $2 GROUP BY h, decision ORDER BY h"
        );
        let rows: Vec<(i32, String, i64)> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(start).fetch_all(pool).await?);
        let mut out = Hours::default();
        for (hour, decision, n) in rows {
            let hour = u32::try_from(hour).map_err(StoreError::corrupt)?;
            if out.hours.last().is_none_or(|h| h.0 != hour) {
                out.hours.push((hour, 0, 0, 0));
            }
            let h = out.hours.last_mut().expect("pushed");
            match decision.parse::<Decision>().map_err(StoreError::corrupt)? {
                Decision::Pass => h.1 += n,
                Decision::Register => h.2 += n,
                Decision::Refuse => h.3 += n,
            }
        }
        let (arrivals,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM arrivals WHERE checkpoint_id = $1 AND registered_at >= $2",
        ).bind(id).bind(start).fetch_one(pool).await?);
        out.arrivals = arrivals;
        Ok(out)
    }
}
