//! What a sampling site plans around: staggered slots for the grids or villages it serves, the
//! door-to-door list of people who must be sampled at home, and each area's testing history for
//! the frequency suggestion.

use chrono::{DateTime, Months, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::person::Tags;
use cordon_domain::testing::slots::{Part, Slot, stagger};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::testing::Site;
use crate::{Param, Person, Result, Store, StoreError, with_read_pool, with_write_pool};

/// Why someone is on a site's door-to-door list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HomeVisit {
    /// Bedridden, disabled or 80 and over, not yet sampled in the round.
    CannotCome,
    /// A member of a positive pool waiting for the single re-test at home.
    Recalled,
}

/// A testing history of one area, for the frequency suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaHistory {
    pub area_code: String,
    pub name: String,
    /// Positive people found here in the latest rounds.
    pub recent_positives: i64,
    pub last_positive_at: Option<DateTime<Utc>>,
    /// The strictest zone in force over the area or inside it.
    pub zone: Option<cordon_domain::testing::pooling::ZoneKind>,
}

/// When a site opens and closes.
pub type Window = (DateTime<Utc>, DateTime<Utc>);

impl Store {
    /// The parts a site serves with their head counts: the grids of its village, or the villages
    /// of its township.
    async fn site_parts(&self, site: &Site) -> Result<Vec<Part>> {
        let grids: Vec<(String, i64)> = with_read_pool!(self, pool =>
            sqlx::query_as(
                "SELECT g.name, COUNT(p.id) FROM grids g JOIN households h ON h.grid_id = g.id JOIN persons p ON p.household_id = h.id \
                 WHERE g.area_code = $1 GROUP BY g.id, g.name ORDER BY g.id",
            ).bind(&site.area_code).fetch_all(pool).await?);
        if !grids.is_empty() {
            return Ok(grids
                .into_iter()
                .map(|(label, n)| Part { area_code: site.area_code.clone(), label, people: n.max(0) as u32 })
                .collect());
        }
        let code = AreaCode::parse(&site.area_code).map_err(StoreError::corrupt)?;
        let children = self.area_children(&code).await?;
        if children.is_empty() {
            let area = self.area(&code).await?.ok_or_else(|| refused!("refused.area_unregistered", area = code))?;
            return Ok(vec![Part { area_code: area.code, label: area.name, people: area.population.max(0) as u32 }]);
        }
        Ok(children.into_iter().map(|a| Part { area_code: a.code, label: a.name, people: a.population.max(0) as u32 }).collect())
    }

    /// Replaces a site's slots with a staggered plan over `[opens, closes)`.
    pub(crate) async fn plan_slots(&self, actor: &Actor, site: &Site, opens: DateTime<Utc>, closes: DateTime<Utc>) -> Result<Vec<Slot>> {
        if closes <= opens {
            return Err(refused!("refused.site_closes_before_open"));
        }
        let parts = self.site_parts(site).await?;
        let slots = stagger(&parts, opens, closes);
        if slots.is_empty() {
            return Err(refused!("refused.parts_do_not_fit", parts = parts.len(), minutes = (closes - opens).num_minutes()));
        }
        let change = Change::new("plan_slots", "sampling_site", site.id)
            .area(&site.area_code)
            .after(serde_json::json!({"opens": opens, "closes": closes, "slots": slots.len()}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM site_slots WHERE site_id = $1").bind(site.id).execute(&mut *tx).await?;
            sqlx::query("UPDATE sampling_sites SET opens_at = $1, closes_at = $2 WHERE id = $3")
                .bind(opens).bind(closes).bind(site.id).execute(&mut *tx).await?;
            for s in &slots {
                sqlx::query("INSERT INTO site_slots (site_id, area_code, label, starts_at, ends_at, expected) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(site.id).bind(&s.area_code).bind(&s.label).bind(s.starts_at).bind(s.ends_at).bind(s.expected as i32)
                    .execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(slots)
    }

    /// A site's slots in time order, and its opening window if planned.
    pub(crate) async fn slots(&self, site_id: i64) -> Result<(Vec<Slot>, Option<Window>)> {
        type Row = (String, String, DateTime<Utc>, DateTime<Utc>, i32);
        let rows: Vec<Row> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT area_code, label, starts_at, ends_at, expected FROM site_slots WHERE site_id = $1 ORDER BY starts_at, id")
                .bind(site_id).fetch_all(pool).await?);
        type Opening = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let window: Option<Opening> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT opens_at, closes_at FROM sampling_sites WHERE id = $1").bind(site_id).fetch_optional(pool).await?);
        let window = match window {
            Some((Some(o), Some(c))) => Some((o, c)),
            _ => None,
        };
        let slots = rows
            .into_iter()
            .map(|(area_code, label, starts_at, ends_at, expected)| Slot {
                area_code,
                label,
                starts_at,
                ends_at,
                expected: expected.max(0) as u32,
            })
            .collect();
        Ok((slots, window))
    }

    /// The people of a site's area to be sampled at home in the round: those who cannot come
    /// (bedridden, disabled, 80 and over) and are not yet sampled or accounted for, and recalled
    /// members of a positive pool without a re-test yet.
    pub(crate) async fn door_to_door(&self, round_id: i64, area: &AreaCode, today: NaiveDate) -> Result<Vec<(Person, HomeVisit)>> {
        let born_by = today.checked_sub_months(Months::new(12 * Tags::ELDERLY_AGE)).unwrap_or(today);
        let cannot = self
            .list_persons_where_all(
                area,
                "((p.tags & 3) <> 0 OR p.birth_date <= $X1) \
                 AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.round_id = $X2 AND s.person_id = p.id AND s.kind = 'round') \
                 AND NOT EXISTS (SELECT 1 FROM round_exemptions e WHERE e.round_id = $X2 AND e.person_id = p.id)",
                vec![Param::Date(born_by), Param::Int(round_id)],
            )
            .await?;
        let recalled = self
            .list_persons_where_all(
                area,
                "EXISTS (SELECT 1 FROM recalls r WHERE r.round_id = $X1 AND r.person_id = p.id AND r.status = 'open' \
                 AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.round_id = r.round_id AND s.person_id = p.id AND s.kind = 'retest' \
                 AND s.sampled_at >= r.created_at))",
                vec![Param::Int(round_id)],
            )
            .await?;
        let listed: std::collections::HashSet<i64> = recalled.iter().map(|p| p.id).collect();
        let mut out: Vec<(Person, HomeVisit)> = recalled.into_iter().map(|p| (p, HomeVisit::Recalled)).collect();
        out.extend(cannot.into_iter().filter(|p| !listed.contains(&p.id)).map(|p| (p, HomeVisit::CannotCome)));
        Ok(out)
    }

    /// Testing history per area: positives found in the latest `recent` rounds, and when the
    /// last positive was found.
    pub(crate) async fn testing_history(&self, areas: &[(String, String)], recent: u32) -> Result<Vec<AreaHistory>> {
        let recent_rounds: Vec<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id FROM testing_rounds ORDER BY starts_at DESC, id DESC LIMIT {recent}")))
                .fetch_all(pool).await?);
        let list = recent_rounds.iter().map(|(id,)| id.to_string()).collect::<Vec<_>>().join(",");
        let mut out = Vec::with_capacity(areas.len());
        for (code, name) in areas {
            let area = AreaCode::parse(code).map_err(StoreError::corrupt)?;
            let (lo, hi) = area.subtree_range();
            let in_recent = if list.is_empty() { "1 = 0".to_string() } else { format!("round_id IN ({list})") };
            // The round ids are integers we read ourselves, so the list is safe to inline.
            let sql = format!(
                "SELECT COALESCE(SUM(CASE WHEN {in_recent} THEN 1 ELSE 0 END), 0), MAX(found_at) FROM positive_persons \
                 WHERE area_code >= $1 AND area_code < $2"
            );
            let (recent_positives, last_positive_at): (i64, Option<DateTime<Utc>>) = with_read_pool!(self, pool =>
                sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(&lo).bind(&hi).fetch_one(pool).await?);
            let zone: Option<(String,)> = with_read_pool!(self, pool => sqlx::query_as(
                "SELECT z.kind FROM zones z WHERE z.lifted_at IS NULL AND (\
                 EXISTS (SELECT 1 FROM zone_areas za WHERE za.zone_id = z.id AND ((za.area_code >= $1 AND za.area_code < $2) \
                 OR za.area_code IN (substr($1, 1, 2), substr($1, 1, 4), substr($1, 1, 6), substr($1, 1, 9)))) \
                 OR EXISTS (SELECT 1 FROM zone_households zh JOIN households h ON h.id = zh.household_id \
                 WHERE zh.zone_id = z.id AND h.area_code >= $1 AND h.area_code < $2) \
                 OR EXISTS (SELECT 1 FROM zone_buildings zb JOIN buildings b ON b.id = zb.building_id \
                 WHERE zb.zone_id = z.id AND b.area_code >= $1 AND b.area_code < $2)) \
                 ORDER BY CASE z.kind WHEN 'sealed' THEN 0 WHEN 'controlled' THEN 1 ELSE 2 END LIMIT 1",
            ).bind(&lo).bind(&hi).fetch_optional(pool).await?);
            let zone = zone.and_then(|(k,)| k.parse().ok());
            out.push(AreaHistory { area_code: code.clone(), name: name.clone(), recent_positives, last_positive_at, zone });
        }
        Ok(out)
    }
}
