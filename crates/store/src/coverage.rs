//! Coverage of a round — "no household, no person missed": for an area, who was expected
//! (the registered population, a maintained count), who was sampled, who is accounted for
//! otherwise (away, in quarantine, in hospital, sampled at home), and who is still missing.
//! Sampled and exempted counts are maintained per (round, area) in the transactions that
//! change them, so a county's coverage reads one row per village.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::testing::coverage::{Counts, area_totals};
use cordon_domain::testing::exemption::ExemptionReason;
use serde::Serialize;

use crate::BeginWrite as _;
use crate::Refusal;
use crate::audit::{Actor, Append, Change};
use crate::station::BUMP_COUNTS;
use crate::testing::Round;
use crate::{Param, PersonCursor, PersonPage, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// Expected, sampled and otherwise accounted-for people of one area in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaCoverage {
    pub area_code: String,
    pub name: String,
    pub expected: i64,
    pub sampled: i64,
    /// Accounted for without a sample (away, quarantine, hospital, sampled at home).
    pub exempted: i64,
}

impl AreaCoverage {
    pub fn missing(&self) -> i64 {
        (self.expected - self.sampled - self.exempted).max(0)
    }
}

/// A resident accounted for without a sample in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Exemption {
    pub person_id: i64,
    pub person_name: String,
    pub area_code: String,
    #[sqlx(try_from = "String")]
    pub reason: ExemptionReason,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

/// An area's coverage with its sub-areas'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub area: AreaCoverage,
    pub children: Vec<AreaCoverage>,
}

impl Store {
    /// Coverage of `area` and those of its direct sub-areas that `round` covers; the area's totals
    /// are over those sub-areas when the round leaves some out.
    pub(crate) async fn coverage(&self, round: &Round, area: &AreaCode) -> Result<Option<Coverage>> {
        let round_id = round.id;
        let Some(top) = self.area(area).await? else { return Ok(None) };
        let children = self.area_children(area).await?;
        let mut params = vec![Param::Int(round_id)];
        let in_scope = crate::in_areas("area_code", std::slice::from_ref(area), &mut params).expect("one area");
        // An area's counts may lie in several slots (see BUMP_COUNTS): summed here.
        let sql = format!(
            "SELECT area_code, CAST(SUM(sampled) AS BIGINT), CAST(SUM(exempted) AS BIGINT) FROM round_area_counts \
             WHERE round_id = $1 AND {in_scope} GROUP BY area_code"
        );
        let counts: Vec<(String, i64, i64)> = with_read_pool!(self, pool => bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let counts: BTreeMap<String, (i64, i64)> = counts.into_iter().map(|(a, s, e)| (a, (s, e))).collect();
        let line = |code: String, name: String, expected: i64| {
            let (sampled, exempted) = counts
                .range(code.clone()..)
                .take_while(|(c, _)| c.starts_with(&code))
                .fold((0, 0), |(s, e), (_, (s2, e2))| (s + s2, e + e2));
            AreaCoverage { area_code: code, name, expected, sampled, exempted }
        };
        let mut area = line(top.code, top.name, top.population);
        let children: Vec<(AreaCoverage, bool)> = children
            .into_iter()
            .map(|c| {
                let inside = round.overlaps(&c.code);
                (line(c.code, c.name, c.population), inside)
            })
            .collect();
        let counts = |c: &AreaCoverage| Counts { expected: c.expected, sampled: c.sampled, exempted: c.exempted };
        let totals = area_totals(counts(&area), &children.iter().map(|(c, inside)| (counts(c), *inside)).collect::<Vec<_>>());
        (area.expected, area.sampled, area.exempted) = (totals.expected, totals.sampled, totals.exempted);
        Ok(Some(Coverage { area, children: children.into_iter().filter(|(_, inside)| *inside).map(|(c, _)| c).collect() }))
    }

    /// People registered in `area` neither sampled in the round nor accounted for otherwise, by
    /// (area, id), paged by key.
    pub(crate) async fn missing(&self, round_id: i64, area: &AreaCode, after: Option<&PersonCursor>, limit: u32) -> Result<PersonPage> {
        self.list_persons_where(
            std::slice::from_ref(area),
            "NOT EXISTS (SELECT 1 FROM samples s WHERE s.round_id = ? AND s.person_id = p.id) \
             AND NOT EXISTS (SELECT 1 FROM round_exemptions e WHERE e.round_id = ? AND e.person_id = p.id)",
            Param::Int(round_id),
            after,
            limit,
        )
        .await
    }
}

impl Store {
    /// Marks a person as accounted for without a sample in the round. Marking them again changes
    /// only the reason and note; nothing is counted twice.
    pub(crate) async fn exempt(
        &self,
        actor: &Actor,
        round_id: i64,
        person_id: i64,
        reason: ExemptionReason,
        note: Option<&str>,
    ) -> Result<Exemption> {
        let person = self.person_by_id(person_id).await?.ok_or_else(|| missing!("refused.no_person", person_id = person_id))?;
        let sampled: Option<(String,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT t.barcode FROM samples s JOIN tubes t ON t.id = s.tube_id WHERE s.round_id + 0 = $1 AND s.person_id = $2 AND s.kind = 'round'")
                .bind(round_id).bind(person_id).fetch_optional(pool).await?);
        if let Some((barcode,)) = sampled {
            return Err(Refusal::conflict("refused.already_sampled_no_exemption")
                .with("name", person.name)
                .with("barcode", barcode)
                .into());
        }
        // The reason must agree with where the record places them (in a site, in hospital).
        use cordon_domain::testing::exemption::{Whereabouts, fits};
        let now = self.person_now(person_id).await?;
        let known = if now.cases.iter().any(|c| c.stay.as_deref() == Some("admitted")) {
            Whereabouts::Hospital
        } else if now.orders.iter().any(|o| {
            matches!(o.status, cordon_domain::observation::Status::Centralized | cordon_domain::observation::Status::InTransit)
                && o.site.is_some()
        }) {
            Whereabouts::Site
        } else {
            Whereabouts::Unrecorded
        };
        fits(reason, known).map_err(|r| StoreError::from(r.with("name", person.name.as_str())))?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let now = Utc::now();
        let change = Change::new("exempt", "round_person", format!("{round_id}/{person_id}"))
            .area(&person.area_code)
            .after(serde_json::json!({"reason": reason.as_str(), "note": note}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let added = sqlx::query(
                "INSERT INTO round_exemptions (round_id, person_id, area_code, reason, note, recorded_at, recorded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (round_id, person_id) DO NOTHING",
            )
            .bind(round_id).bind(person_id).bind(&person.area_code).bind(reason.as_str()).bind(note).bind(now).bind(&actor.name)
            .execute(&mut *tx).await?.rows_affected();
            if added == 1 {
                sqlx::query(BUMP_COUNTS).bind(round_id).bind(&person.area_code).bind(0i64).bind(1i64).execute(&mut *tx).await?;
            } else {
                sqlx::query("UPDATE round_exemptions SET reason = $1, note = $2, recorded_at = $3, recorded_by = $4 WHERE round_id = $5 AND person_id = $6")
                    .bind(reason.as_str()).bind(note).bind(now).bind(&actor.name).bind(round_id).bind(person_id)
                    .execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        let e =
            self.exemptions(round_id, None, Some(person_id)).await?.pop().ok_or_else(|| StoreError::Task("exemption vanished".into()))?;
        Ok(e)
    }

    /// Takes back an exemption (the person is missing again). True when there was one.
    pub(crate) async fn unexempt(&self, actor: &Actor, round_id: i64, person_id: i64) -> Result<bool> {
        let change = Change::new("unexempt", "round_person", format!("{round_id}/{person_id}"));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let dropped: Option<(String,)> = sqlx::query_as("DELETE FROM round_exemptions WHERE round_id = $1 AND person_id = $2 RETURNING area_code")
                .bind(round_id).bind(person_id).fetch_optional(&mut *tx).await?;
            let Some((area,)) = dropped else { return Ok(false) };
            sqlx::query(BUMP_COUNTS).bind(round_id).bind(&area).bind(0i64).bind(-1i64).execute(&mut *tx).await?;
            let change = change.area(&area);
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// Exemptions of a round in `scope` (`None`: every area, for internal callers only), or of
    /// one person.
    pub(crate) async fn exemptions(&self, round_id: i64, scope: Option<&[AreaCode]>, person: Option<i64>) -> Result<Vec<Exemption>> {
        let mut params = vec![Param::Int(round_id)];
        let mut sql = String::from(
            "SELECT e.person_id, p.name AS person_name, e.area_code, e.reason, e.note, e.recorded_at, e.recorded_by \
             FROM round_exemptions e JOIN persons p ON p.id = e.person_id WHERE e.round_id = $1",
        );
        if let Some(scope) = scope {
            let Some(cond) = crate::in_areas("e.area_code", scope, &mut params) else { return Ok(vec![]) };
            sql.push_str(&format!(" AND {cond}"));
        }
        if let Some(p) = person {
            params.push(Param::Int(p));
            sql.push_str(&format!(" AND e.person_id = ${}", params.len()));
        }
        sql.push_str(" ORDER BY e.area_code, e.person_id LIMIT 5000");
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Exemption>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }
}

/// People sampled per hour (hour start, people).
pub type Hourly = Vec<(DateTime<Utc>, i64)>;

/// How far a round has come in an area: sampling over time and what the labs found.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Progress {
    /// Per sub-area (or the area itself when it has none): people sampled in each hour since the
    /// round started, by when their tube was opened at the site, as (hour start, people).
    pub hourly: Vec<(String, Hourly)>,
    pub positive_tubes: i64,
    pub suspect_tubes: i64,
    pub open_recalls: i64,
    pub closed_recalls: i64,
    pub positive_persons: i64,
}

impl Store {
    /// The round's progress in `area`, split by the given sub-area codes (people count where
    /// they live, in the hour their swab was taken).
    pub(crate) async fn progress(&self, round_id: i64, area: &AreaCode, parts: &[String]) -> Result<Progress> {
        let mut params = vec![Param::Int(round_id)];
        let in_area = crate::in_areas("area_code", std::slice::from_ref(area), &mut params).expect("one area");
        let sql = format!("SELECT area_code, hour, sampled FROM round_hour_counts WHERE round_id = $1 AND {in_area}");
        let rows: Vec<(String, DateTime<Utc>, i64)> = with_read_pool!(self, pool => bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let mut hourly: BTreeMap<&str, BTreeMap<DateTime<Utc>, i64>> = parts.iter().map(|p| (p.as_str(), BTreeMap::new())).collect();
        for (code, hour, n) in &rows {
            let Some(part) = parts.iter().find(|p| code.starts_with(p.as_str())) else { continue };
            *hourly.entry(part.as_str()).or_default().entry(*hour).or_default() += n;
        }
        let sql = format!(
            "SELECT COALESCE(SUM(CASE WHEN result = 'positive' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN result = 'pooled_suspect' THEN 1 ELSE 0 END), 0) \
             FROM tubes WHERE round_id = $1 AND result IN ('positive', 'pooled_suspect') AND {in_area}"
        );
        let (positive_tubes, suspect_tubes): (i64, i64) = with_read_pool!(self, pool => bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_one(pool).await?);
        let sql = format!(
            "SELECT COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN status <> 'open' THEN 1 ELSE 0 END), 0) FROM recalls WHERE round_id = $1 AND {in_area}"
        );
        let (open_recalls, closed_recalls): (i64, i64) = with_read_pool!(self, pool => bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_one(pool).await?);
        let sql = format!("SELECT COUNT(*) FROM positive_persons WHERE round_id = $1 AND {in_area}");
        let (positive_persons,): (i64,) = with_read_pool!(self, pool => bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_one(pool).await?);
        Ok(Progress {
            hourly: parts.iter().map(|p| (p.clone(), hourly.remove(p.as_str()).unwrap_or_default().into_iter().collect())).collect(),
            positive_tubes,
            suspect_tubes,
            open_recalls,
            closed_recalls,
            positive_persons,
        })
    }
}
