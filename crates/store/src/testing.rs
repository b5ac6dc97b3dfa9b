//! Mass testing, first part: incidents, testing rounds over areas with their pool-size policy,
//! and sampling sites. Reached by users through [`crate::scoped::Scoped`].

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::testing::pooling::{PoolPolicy, ZoneKind};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// The rule set an incident runs under unless told otherwise (DOMAIN: protocol-9, June 2022).
pub const DEFAULT_RULE_SET: &str = "protocol-9";

/// A round's area and the zone kind that sets its pool size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundArea {
    pub area_code: String,
    pub zone: Option<ZoneKind>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Round {
    pub id: i64,
    pub incident_id: i64,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub target_end_at: DateTime<Utc>,
    pub policy: PoolPolicy,
    pub areas: Vec<RoundArea>,
}

impl Round {
    /// Whether the round covers `code` (it lies in one of the round's areas).
    pub fn covers(&self, code: &AreaCode) -> bool {
        self.areas.iter().any(|a| code.as_str().starts_with(&a.area_code))
    }

    /// Whether the area `code` and the round share ground: it lies inside one of the round's
    /// areas or contains one.
    pub fn overlaps(&self, code: &str) -> bool {
        cordon_domain::testing::coverage::shares_ground(code, self.areas.iter().map(|a| a.area_code.as_str()))
    }
}

/// A round to plan.
#[derive(Debug, Clone)]
pub struct NewRound {
    pub name: String,
    pub starts_at: DateTime<Utc>,
    /// Default: 24 hours after the start.
    pub target_end_at: Option<DateTime<Utc>>,
    pub areas: Vec<(AreaCode, Option<ZoneKind>)>,
    pub policy: PoolPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Site {
    pub id: i64,
    pub round_id: i64,
    pub area_code: String,
    pub name: String,
    pub address: String,
    pub stations: i32,
}

#[derive(Debug, Clone)]
pub struct NewSite {
    pub round_id: i64,
    pub area_code: AreaCode,
    pub name: String,
    pub address: String,
    pub stations: u32,
}

#[derive(sqlx::FromRow)]
struct RoundRow {
    id: i64,
    incident_id: i64,
    name: String,
    starts_at: DateTime<Utc>,
    target_end_at: DateTime<Utc>,
    pool_policy: String,
}

impl Store {
    /// The latest incident whose area contains `area`, or a new minimal one named after the
    /// area when there is none (a round always belongs to an incident).
    pub(crate) async fn incident_for(&self, actor: &Actor, area: &AreaCode) -> Result<i64> {
        let candidates: Vec<(i64, String)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id, area_code FROM incidents ORDER BY started_at DESC, id DESC").fetch_all(pool).await?);
        if let Some((id, _)) = candidates.iter().find(|(_, code)| area.as_str().starts_with(code.as_str())) {
            return Ok(*id);
        }
        // The incident covers the county (or the area itself when no county is registered).
        let county = AreaCode::parse(&area.as_str()[..area.as_str().len().min(6)]).ok().filter(|c| c.as_str().len() == 6);
        let (area, name) = match county {
            Some(c) => match self.area(&c).await? {
                Some(a) => (c, a.name),
                None => (area.clone(), String::new()),
            },
            None => (area.clone(), String::new()),
        };
        let name = if name.is_empty() {
            match self.area(&area).await? {
                Some(a) => a.name,
                None => return Err(refused!("refused.area_unregistered", area = area)),
            }
        } else {
            name
        };
        let name = format!("{name}疫情处置");
        let now = Utc::now();
        let change = Change::new("create", "incident", &name)
            .area(area.as_str())
            .after(serde_json::json!({"name": name, "rule_set": DEFAULT_RULE_SET}));
        Ok(with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO incidents (name, area_code, started_at, response_level, rule_set) VALUES ($1, $2, $3, NULL, $4) RETURNING id",
            )
            .bind(&name).bind(area.as_str()).bind(now).bind(DEFAULT_RULE_SET).fetch_one(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        }))
    }

    pub(crate) async fn create_round(&self, actor: &Actor, new: NewRound) -> Result<Round> {
        let first = new.areas.first().ok_or_else(|| refused!("refused.round_needs_area"))?;
        for (a, _) in &new.areas {
            if self.area(a).await?.is_none() {
                return Err(refused!("refused.area_unregistered", area = a));
            }
        }
        let incident_id = self.incident_for(actor, &first.0).await?;
        let target_end_at = new.target_end_at.unwrap_or(new.starts_at + chrono::Duration::hours(24));
        if target_end_at <= new.starts_at {
            return Err(refused!("refused.round_ends_before_start"));
        }
        let policy = serde_json::to_string(&new.policy).map_err(StoreError::corrupt)?;
        let now = Utc::now();
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO testing_rounds (incident_id, name, starts_at, target_end_at, pool_policy, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(incident_id).bind(&new.name).bind(new.starts_at).bind(target_end_at).bind(&policy).bind(now)
            .fetch_one(&mut *tx).await?;
            for (a, zone) in &new.areas {
                sqlx::query("INSERT INTO round_areas (round_id, area_code, zone_kind) VALUES ($1, $2, $3)")
                    .bind(id).bind(a.as_str()).bind(zone.map(|z| z.as_str())).execute(&mut *tx).await?;
            }
            let change = Change::new("create", "testing_round", id).area(first.0.as_str()).after(serde_json::json!({
                "name": new.name, "areas": new.areas.iter().map(|(a, z)| (a.as_str(), z.map(|z| z.as_str()))).collect::<Vec<_>>(),
            }));
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        self.round(id).await?.ok_or_else(|| StoreError::Task("round vanished after insert".into()))
    }

    async fn round_from_row(&self, r: RoundRow) -> Result<Round> {
        let areas: Vec<(String, Option<String>)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT area_code, zone_kind FROM round_areas WHERE round_id = $1 ORDER BY area_code").bind(r.id).fetch_all(pool).await?);
        Ok(Round {
            id: r.id,
            incident_id: r.incident_id,
            name: r.name,
            starts_at: r.starts_at,
            target_end_at: r.target_end_at,
            policy: serde_json::from_str(&r.pool_policy).map_err(StoreError::corrupt)?,
            areas: areas.into_iter().map(|(area_code, z)| RoundArea { area_code, zone: z.and_then(|z| z.parse().ok()) }).collect(),
        })
    }

    pub(crate) async fn round(&self, id: i64) -> Result<Option<Round>> {
        let row: Option<RoundRow> = with_read_pool!(self, pool => sqlx::query_as::<_, RoundRow>(
            "SELECT id, incident_id, name, starts_at, target_end_at, pool_policy FROM testing_rounds WHERE id = $1",
        ).bind(id).fetch_optional(pool).await?);
        match row {
            Some(r) => Ok(Some(self.round_from_row(r).await?)),
            None => Ok(None),
        }
    }

    /// Rounds, newest first.
    pub(crate) async fn rounds(&self) -> Result<Vec<Round>> {
        let rows: Vec<RoundRow> = with_read_pool!(self, pool => sqlx::query_as::<_, RoundRow>(
            "SELECT id, incident_id, name, starts_at, target_end_at, pool_policy FROM testing_rounds ORDER BY starts_at DESC, id DESC",
        ).fetch_all(pool).await?);
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.round_from_row(r).await?);
        }
        Ok(out)
    }

    pub(crate) async fn create_site(&self, actor: &Actor, new: NewSite) -> Result<Site> {
        if new.name.trim().is_empty() || new.address.trim().is_empty() {
            return Err(refused!("refused.site_needs_name"));
        }
        if new.stations == 0 || new.stations > 200 {
            return Err(refused!("refused.stations_invalid"));
        }
        let change = Change::new("create", "sampling_site", &new.name).area(new.area_code.as_str()).after(serde_json::json!({
            "round": new.round_id, "name": new.name, "address": new.address, "stations": new.stations,
        }));
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO sampling_sites (round_id, area_code, name, address, stations) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(new.round_id).bind(new.area_code.as_str()).bind(new.name.trim()).bind(new.address.trim()).bind(new.stations as i32)
            .fetch_one(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        Ok(Site {
            id,
            round_id: new.round_id,
            area_code: new.area_code.to_string(),
            name: new.name.trim().to_string(),
            address: new.address.trim().to_string(),
            stations: new.stations as i32,
        })
    }

    /// A round's sites inside `scope`, by area then name.
    pub(crate) async fn sites(&self, round_id: i64, scope: &[AreaCode]) -> Result<Vec<Site>> {
        let mut params = vec![Param::Int(round_id)];
        let Some(in_scope) = crate::in_areas("area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!(
            "SELECT id, round_id, area_code, name, address, stations FROM sampling_sites WHERE round_id = $1 AND {in_scope} ORDER BY area_code, name"
        );
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Site>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }
}
