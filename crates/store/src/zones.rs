//! Zones: drawn, extended, tightened, downgraded and lifted by the commander, each act audited
//! and kept in the zone's history; the people living inside, the vulnerable counted; and the
//! facts each zone's countdown ([`cordon_domain::zones::countdown`]) is computed from. The rules
//! decide ([`cordon_domain::zones::decide`]); this module reads and writes.

use std::collections::HashMap;

use chrono::{DateTime, Months, NaiveDate, Utc};
use cordon_domain::person::Tags;
use cordon_domain::zones::{
    AreaTestFact, Ask, Countdown, LastContact, Scheme, ZoneAct, ZoneFacts, ZoneKind, ZoneRules, check_drawable, countdown, decide,
};
use cordon_domain::{AreaCode, local_date};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Param, PersonCursor, PersonPage, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// What a zone covers: whole areas (villages, communities, or larger), buildings and households,
/// and the cases it is drawn for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extent {
    pub areas: Vec<AreaCode>,
    pub buildings: Vec<i64>,
    pub households: Vec<i64>,
    pub case_ids: Vec<i64>,
}

impl Extent {
    fn is_empty(&self) -> bool {
        self.areas.is_empty() && self.buildings.is_empty() && self.households.is_empty()
    }
}

/// A zone to draw. An empty name is made from its first places.
#[derive(Debug, Clone)]
pub struct NewZone {
    pub kind: ZoneKind,
    pub name: String,
    pub reason: String,
    pub extent: Extent,
    /// When headquarters drew it, for a zone entered later (补录); now when absent. Its count
    /// starts on that day ([`cordon_domain::zones::check_drawn_at`] bounds it).
    pub drawn_at: Option<DateTime<Utc>>,
}

/// A zone as stored, with its incident's rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Zone {
    pub id: i64,
    pub incident_id: i64,
    pub rule_set: String,
    pub area_code: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: ZoneKind,
    pub downgraded: bool,
    pub since: NaiveDate,
    pub reason: String,
    pub residents: i64,
    pub designated_at: DateTime<Utc>,
    pub designated_by: String,
    pub changed_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lifted_by: Option<String>,
}

const ZONE_SELECT: &str = "SELECT z.id, z.incident_id, i.rule_set, z.area_code, z.name, z.kind, z.downgraded, z.since, z.reason, \
     z.residents, z.designated_at, z.designated_by, z.changed_at, z.lifted_at, z.lifted_by FROM zones z JOIN incidents i ON i.id = z.incident_id";

/// One place of a zone's extent with how people name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// The area code, or the building's or household's id.
    pub key: String,
    pub area_code: String,
    pub name: String,
}

/// A zone's extent as shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Places {
    pub areas: Vec<Place>,
    pub buildings: Vec<Place>,
    pub households: Vec<Place>,
}

/// The people living inside a zone, with those needing door-to-door services counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Residents {
    pub total: i64,
    pub elderly: i64,
    pub bedridden: i64,
    pub disabled: i64,
    pub pregnant: i64,
    pub infant: i64,
}

/// One act in a zone's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ZoneChange {
    #[sqlx(try_from = "String")]
    pub act: ZoneAct,
    #[sqlx(try_from = "String")]
    pub kind: ZoneKind,
    pub note: Option<String>,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

/// Everything a zone's page shows.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneDetail {
    pub zone: Zone,
    pub scheme: Scheme,
    pub places: Places,
    /// The cases it was drawn or extended for: (id, number).
    pub cases: Vec<(i64, String)>,
    pub residents: Residents,
    pub history: Vec<ZoneChange>,
    /// `None` once lifted.
    pub countdown: Option<Countdown>,
    /// A stricter kind a new infection inside proposes (a controlled zone with a positive since
    /// it was drawn is to be sealed).
    pub proposed: Option<ZoneKind>,
}

/// What a zone's list shows of each: the zone and its countdown (none once lifted).
#[derive(Debug, Clone, Serialize)]
pub struct ZoneSummary {
    pub zone: Zone,
    pub scheme: Scheme,
    pub countdown: Option<Countdown>,
}

/// The strictest kind of the zones in force over the area of sampling site `st` (a zone drawn
/// over the site's village, township or county), or NULL: what a tube opened there is pooled
/// by ([`cordon_domain::zones::pool_zone`]). A macro so that it can be `concat!`ed into the
/// station's constant reads; it finds the zones by the ancestors' codes, through the index.
macro_rules! zone_in_force {
    () => {
        "(SELECT z.kind FROM zone_areas za JOIN zones z ON z.id = za.zone_id WHERE z.lifted_at IS NULL \
         AND za.area_code IN (substr(st.area_code, 1, 2), substr(st.area_code, 1, 4), substr(st.area_code, 1, 6), \
         substr(st.area_code, 1, 9), st.area_code) \
         ORDER BY CASE z.kind WHEN 'sealed' THEN 0 WHEN 'controlled' THEN 1 ELSE 2 END LIMIT 1)"
    };
}
pub(crate) use zone_in_force;

/// The people living in zone `$1`, by person id (areas by their subtree, buildings through their
/// households).
pub(crate) const INSIDE: &str = "SELECT p.id FROM zone_areas za JOIN persons p ON p.area_code >= za.area_code AND p.area_code < za.area_code || ':' \
     WHERE za.zone_id = $1 \
     UNION SELECT p.id FROM zone_buildings zb JOIN households h ON h.building_id = zb.building_id JOIN persons p ON p.household_id = h.id \
     WHERE zb.zone_id = $1 \
     UNION SELECT p.id FROM zone_households zh JOIN persons p ON p.household_id = zh.household_id WHERE zh.zone_id = $1";

/// [`INSIDE`] with each person's area: `(id, area_code)`, a person drawn in twice (their
/// village and their household) listed twice — its one use inserts with `ON CONFLICT DO NOTHING`,
/// which spares sorting 100,000 residents to drop duplicates.
pub(crate) const INSIDE_WITH_AREA: &str = "SELECT p.id, p.area_code FROM zone_areas za JOIN persons p \
     ON p.area_code >= za.area_code AND p.area_code < za.area_code || ':' WHERE za.zone_id = $1 \
     UNION ALL SELECT p.id, p.area_code FROM zone_buildings zb JOIN households h ON h.building_id = zb.building_id \
     JOIN persons p ON p.household_id = h.id WHERE zb.zone_id = $1 \
     UNION ALL SELECT p.id, p.area_code FROM zone_households zh JOIN persons p ON p.household_id = zh.household_id WHERE zh.zone_id = $1";

/// Marks everyone living in zone `$1` for their codes to be derived again.
pub(crate) fn mark_residents() -> String {
    format!("INSERT INTO code_dirty (person_id) SELECT id FROM ({INSIDE}) x")
}

/// What a zone act marked for the refresh: how many people live inside, and the zone's own mark
/// (`code_dirty_zones.seq`) when it is marked whole.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Marked {
    people: u64,
    mark: Option<i64>,
}

/// Marks zone `$zone` for its residents' codes to be derived again, in the act's transaction `$tx`
/// — for an act on a sealed or controlled zone (a precaution zone colours no code): the zone
/// itself when its residents are derived in one pass ([`crate::health_codes::CHUNK`] or fewer),
/// else each of them (derived a chunk at a time, so that no pass holds the writer long). Answers
/// a [`Marked`]: how many live inside, counted there and then up to one more than a chunk (the
/// zone's own count may predate an import), and the zone's mark when it is marked whole.
macro_rules! mark_zone {
    (@as $tx:expr, $zone:expr, $n:expr) => {{
        let n: i64 = $n;
        let mark = if n <= crate::health_codes::CHUNK {
            let (seq,): (i64,) = sqlx::query_as("INSERT INTO code_dirty_zones (zone_id) VALUES ($1) RETURNING seq")
                .bind($zone)
                .fetch_one(&mut *$tx)
                .await?;
            Some(seq)
        } else {
            sqlx::query(sqlx::AssertSqlSafe(mark_residents())).bind($zone).execute(&mut *$tx).await?;
            None
        };
        Marked { people: n.max(0) as u64, mark }
    }};
    // Right after the act counted the zone's residents into `zones.residents`.
    ($tx:expr, $zone:expr, counted) => {{
        let (n,): (i64,) = sqlx::query_as("SELECT residents FROM zones WHERE id = $1").bind($zone).fetch_one(&mut *$tx).await?;
        mark_zone!(@as $tx, $zone, n)
    }};
    ($tx:expr, $zone:expr) => {{
        let chunk = crate::health_codes::CHUNK;
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM (SELECT id FROM ({INSIDE}) x LIMIT {}) y", chunk + 1)))
            .bind($zone)
            .fetch_one(&mut *$tx)
            .await?;
        mark_zone!(@as $tx, $zone, n)
    }};
}

/// Whether the person row `p` lives in zone `z` (both SQL expressions): their village, township,
/// county… drawn, their household or their building.
pub(crate) fn lives_in(p: &str, z: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM zone_areas za WHERE za.zone_id = {z} AND za.area_code IN (substr({p}.area_code, 1, 2), \
         substr({p}.area_code, 1, 4), substr({p}.area_code, 1, 6), substr({p}.area_code, 1, 9), {p}.area_code)) \
         OR EXISTS (SELECT 1 FROM zone_households zh WHERE zh.zone_id = {z} AND zh.household_id = {p}.household_id) \
         OR EXISTS (SELECT 1 FROM zone_buildings zb JOIN households h ON h.building_id = zb.building_id \
         WHERE zb.zone_id = {z} AND h.id = {p}.household_id))"
    )
}

/// Whether a zone the person row `p` lives in is marked and not yet derived again.
pub(crate) fn in_marked_zone(p: &str) -> String {
    format!("EXISTS (SELECT 1 FROM code_dirty_zones dz WHERE {})", lives_in(p, "dz.zone_id"))
}

/// The smallest area holding all of `codes`.
fn common_area(codes: &[AreaCode]) -> Option<AreaCode> {
    let mut it = codes.iter();
    let mut common = it.next()?.clone();
    for c in it {
        while !common.contains(c) {
            common = common.parent()?;
        }
    }
    Some(common)
}

/// The birth dates that make someone 80 or older (born on or before the first) or under 3 (born
/// after the second) on `today`.
fn age_bounds(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let years = |n: u32| today.checked_sub_months(Months::new(12 * n)).unwrap_or(today);
    (years(Tags::ELDERLY_AGE), years(Tags::INFANT_AGE))
}

impl Store {
    /// A zone by id.
    pub(crate) async fn zone(&self, id: i64) -> Result<Option<Zone>> {
        let sql = format!("{ZONE_SELECT} WHERE z.id = $1");
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Zone>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
    }

    /// The strictest zone in force where person `person_id` lives (their village, township or
    /// county drawn, their building or their household), if any.
    pub(crate) async fn zone_of_person(&self, person_id: i64) -> Result<Option<ZoneKind>> {
        Ok(match self.zone_id_of_person(person_id).await? {
            Some(id) => self.zone(id).await?.map(|z| z.kind),
            None => None,
        })
    }

    /// The id of [`Store::zone_of_person`]'s zone.
    pub(crate) async fn zone_id_of_person(&self, person_id: i64) -> Result<Option<i64>> {
        let row: Option<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT z.id FROM persons p JOIN zones z ON z.lifted_at IS NULL WHERE p.id = $1 AND (\
             EXISTS (SELECT 1 FROM zone_areas za WHERE za.zone_id = z.id AND za.area_code IN (substr(p.area_code, 1, 2), \
             substr(p.area_code, 1, 4), substr(p.area_code, 1, 6), substr(p.area_code, 1, 9), p.area_code)) \
             OR EXISTS (SELECT 1 FROM zone_households zh WHERE zh.zone_id = z.id AND zh.household_id = p.household_id) \
             OR EXISTS (SELECT 1 FROM zone_buildings zb JOIN households h ON h.building_id = zb.building_id \
             WHERE zb.zone_id = z.id AND h.id = p.household_id)) \
             ORDER BY CASE z.kind WHEN 'sealed' THEN 0 WHEN 'controlled' THEN 1 ELSE 2 END, z.id LIMIT 1",
        ).bind(person_id).fetch_optional(pool).await?);
        Ok(row.map(|(id,)| id))
    }

    /// The zones whose area is one of `codes` or lies under one of `under`, newest first, `limit`
    /// after id `before`; lifted ones only when asked.
    pub(crate) async fn zones_in(
        &self,
        codes: &[String],
        under: &[AreaCode],
        lifted: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Zone>> {
        let mut params = Vec::new();
        let mut places: Vec<String> = crate::in_areas("z.area_code", under, &mut params).into_iter().collect();
        if !codes.is_empty() {
            let marks: Vec<String> = codes
                .iter()
                .map(|c| {
                    params.push(Param::Text(c.clone()));
                    format!("${}", params.len())
                })
                .collect();
            places.push(format!("z.area_code IN ({})", marks.join(", ")));
        }
        if places.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = format!("{ZONE_SELECT} WHERE ({})", places.join(" OR "));
        if !lifted {
            sql.push_str(" AND z.lifted_at IS NULL");
        }
        if let Some(b) = before {
            params.push(Param::Int(b));
            sql.push_str(&format!(" AND z.id < ${}", params.len()));
        }
        sql.push_str(&format!(" ORDER BY z.id DESC LIMIT {}", limit.clamp(1, 500)));
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Zone>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// The zone rules of an incident's rule set.
    async fn zone_rules(&self, rule_set: &str) -> Result<ZoneRules> {
        Ok(self.rule_set(rule_set).await?.zones)
    }

    /// Each place of `extent` with its area and name; a place not in the register is refused.
    async fn places_of(&self, extent: &Extent) -> Result<Places> {
        let mut out = Places::default();
        let codes: Vec<&AreaCode> = extent.areas.iter().collect();
        let names = self.area_names(&codes).await?;
        for code in &extent.areas {
            let name = names.get(code.as_str()).ok_or_else(|| refused!("refused.area_unregistered", area = code))?;
            out.areas.push(Place { key: code.to_string(), area_code: code.to_string(), name: name.clone() });
        }
        for (table, ids, label, into) in [
            ("buildings", &extent.buildings, "name", &mut out.buildings),
            ("households", &extent.households, "address", &mut out.households),
        ] {
            if ids.is_empty() {
                continue;
            }
            let params: Vec<Param> = ids.iter().map(|i| Param::Int(*i)).collect();
            let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
            let sql = format!("SELECT id, area_code, {label} FROM {table} WHERE id IN ({})", marks.join(", "));
            let rows: Vec<(i64, String, String)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            let found: HashMap<i64, (String, String)> = rows.into_iter().map(|(id, a, n)| (id, (a, n))).collect();
            for id in ids {
                let (area_code, name) = found.get(id).cloned().ok_or_else(|| {
                    if table == "buildings" {
                        missing!("refused.zone.no_building", id = id)
                    } else {
                        missing!("refused.zone.no_household", id = id)
                    }
                })?;
                into.push(Place { key: id.to_string(), area_code, name });
            }
        }
        Ok(out)
    }

    /// The cases named by `ids` in an incident: (id, number); an unknown one is refused.
    async fn cases_named(&self, incident_id: i64, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<(i64, String)> = with_read_pool!(self, pool =>
                sqlx::query_as("SELECT id, external_id FROM cases WHERE id = $1 AND incident_id = $2").bind(id).bind(incident_id).fetch_optional(pool).await?);
            out.push(row.ok_or_else(|| missing!("refused.zone.no_case", id = id))?);
        }
        Ok(out)
    }

    /// Checks a zone's extent and answers its places and the smallest area holding them all.
    pub(crate) async fn resolve_extent(&self, extent: &Extent) -> Result<(Places, AreaCode)> {
        if extent.is_empty() {
            return Err(refused!("refused.zone.no_extent"));
        }
        let places = self.places_of(extent).await?;
        let codes: Vec<AreaCode> = places
            .areas
            .iter()
            .chain(&places.buildings)
            .chain(&places.households)
            .map(|p| AreaCode::parse(&p.area_code).map_err(StoreError::corrupt))
            .collect::<Result<_>>()?;
        let scope = common_area(&codes).ok_or_else(|| refused!("refused.zone.across_provinces"))?;
        Ok((places, scope))
    }

    /// Draws a zone at `at` under the rules of the incident holding its area.
    pub(crate) async fn designate_zone(&self, actor: &Actor, new: &NewZone, at: DateTime<Utc>) -> Result<Zone> {
        let reason = new.reason.trim();
        if reason.is_empty() {
            return Err(refused!("refused.zone.no_reason"));
        }
        let drawn = new.drawn_at.unwrap_or(at);
        cordon_domain::zones::check_drawn_at(drawn, at)?;
        // A phone's clock a little ahead is taken as now.
        let drawn = drawn.min(at);
        let (places, scope) = self.resolve_extent(&new.extent).await?;
        let incident_id = self.incident_for(actor, &scope).await?;
        let rule_set: (String,) = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT rule_set FROM incidents WHERE id = $1").bind(incident_id).fetch_one(pool).await?);
        let rules = self.zone_rules(&rule_set.0).await?;
        check_drawable(&rules, new.kind).map_err(|e| StoreError::from(e.refusal(rules.scheme)))?;
        let cases = self.cases_named(incident_id, &new.extent.case_ids).await?;
        let name = match new.name.trim() {
            "" => {
                let all: Vec<&Place> = places.areas.iter().chain(&places.buildings).chain(&places.households).collect();
                if all.len() == 1 { all[0].name.clone() } else { format!("{}等{}处", all[0].name, all.len()) }
            }
            n => n.to_string(),
        };
        let since = local_date(drawn);
        let change = Change::new("designate", "zone", &name).area(scope.as_str()).after(serde_json::json!({
            "kind": new.kind, "reason": reason, "drawn_at": new.drawn_at, "areas": new.extent.areas.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "buildings": new.extent.buildings, "households": new.extent.households, "cases": new.extent.case_ids,
        }));
        let mut marked = Marked::default();
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO zones (incident_id, area_code, name, kind, downgraded, since, reason, residents, designated_at, designated_by, changed_at) \
                 VALUES ($1, $2, $3, $4, FALSE, $5, $6, 0, $7, $8, $9) RETURNING id",
            )
            // Drawn when headquarters drew it; changed (what an act is checked against, and what
            // a later infection inside is compared with) when it was entered: the cases it was
            // drawn for, typed in after the announcement, do not propose tightening it.
            .bind(incident_id).bind(scope.as_str()).bind(&name).bind(new.kind.as_str()).bind(since).bind(reason).bind(drawn).bind(&actor.name).bind(at)
            .fetch_one(&mut *tx).await?;
            for (sql, params) in extent_writes(id, &new.extent, &cases) {
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params.iter()).execute(&mut *tx).await?;
            }
            if new.kind != ZoneKind::Precaution {
                marked = mark_zone!(tx, id, counted);
            }
            sqlx::query("INSERT INTO zone_changes (zone_id, act, kind, note, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id).bind(ZoneAct::Designate.as_str()).bind(new.kind.as_str()).bind(reason).bind(drawn).bind(&actor.name)
                .execute(&mut *tx).await?;
            let change = Change { entity_id: Some(id.to_string()), ..change.clone() };
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        self.codes_after_act(marked, at).await;
        self.zone(id).await?.ok_or_else(|| StoreError::Task(format!("zone {id} not found after it was drawn")))
    }

    /// Adds places and cases to a zone in force; its count starts again today, so that no new
    /// place is released before a full quiet period of its own.
    pub(crate) async fn extend_zone(&self, actor: &Actor, zone: &Zone, extent: &Extent, note: &str, at: DateTime<Utc>) -> Result<Zone> {
        if zone.lifted_at.is_some() {
            return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.zone.lifted")));
        }
        let (_, scope) = self.resolve_extent(extent).await?;
        let zone_area = AreaCode::parse(&zone.area_code).map_err(StoreError::corrupt)?;
        let scope = common_area(&[zone_area, scope]).ok_or_else(|| refused!("refused.zone.across_provinces"))?;
        let cases = self.cases_named(zone.incident_id, &extent.case_ids).await?;
        let change = Change::new("extend", "zone", zone.id).area(scope.as_str()).after(serde_json::json!({
            "areas": extent.areas.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "buildings": extent.buildings, "households": extent.households, "cases": extent.case_ids, "note": note,
        }));
        let note = Some(note.trim()).filter(|n| !n.is_empty());
        let mut marked = Marked::default();
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE zones SET area_code = $1, changed_at = $2, since = $5 WHERE id = $3 AND changed_at = $4 AND lifted_at IS NULL",
            )
            .bind(scope.as_str()).bind(at).bind(zone.id).bind(zone.changed_at).bind(local_date(at)).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.zone.changed")));
            }
            for (sql, params) in extent_writes(zone.id, extent, &cases) {
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params.iter()).execute(&mut *tx).await?;
            }
            if zone.kind != ZoneKind::Precaution {
                marked = mark_zone!(tx, zone.id, counted);
            }
            sqlx::query("INSERT INTO zone_changes (zone_id, act, kind, note, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(zone.id).bind(ZoneAct::Extend.as_str()).bind(zone.kind.as_str()).bind(note).bind(at).bind(&actor.name)
                .execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.codes_after_act(marked, at).await;
        self.zone(zone.id).await?.ok_or_else(|| StoreError::Task(format!("zone {} gone", zone.id)))
    }

    /// Tightens, downgrades or lifts a zone in force at `at`, as the rules decide from its facts.
    /// `seen` is the zone's `changed_at` as the commander read it: an act on a zone changed since
    /// (a resubmitted form, a retried request) is refused rather than applied twice.
    pub(crate) async fn act_on_zone(
        &self,
        actor: &Actor,
        zone: &Zone,
        ask: Ask,
        note: &str,
        seen: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<Zone> {
        if zone.lifted_at.is_some() {
            return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.zone.lifted")));
        }
        if seen.is_some_and(|t| t != zone.changed_at) {
            return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.zone.changed")));
        }
        let today = local_date(at);
        let rules = self.zone_rules(&zone.rule_set).await?;
        let facts = self.zone_facts(zone).await?;
        let after = decide(&rules, &facts, ask, today).map_err(|e| StoreError::from(e.refusal(rules.scheme)))?;
        let act = match ask {
            Ask::Downgrade => ZoneAct::Downgrade,
            Ask::Tighten(_) => ZoneAct::Tighten,
            Ask::Lift => ZoneAct::Lift,
        };
        let change = Change::new(act.as_str(), "zone", zone.id)
            .area(&zone.area_code)
            .before(serde_json::json!({"kind": zone.kind, "downgraded": zone.downgraded, "since": zone.since}))
            .after(serde_json::json!({"kind": after.kind, "downgraded": after.downgraded, "since": after.since, "lifted": after.lifted, "note": note}));
        let note = Some(note.trim()).filter(|n| !n.is_empty());
        let (lifted_at, lifted_by) = if after.lifted { (Some(at), Some(actor.name.as_str())) } else { (None, None) };
        let mut marked = Marked::default();
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE zones SET kind = $1, downgraded = $2, since = $3, changed_at = $4, lifted_at = $5, lifted_by = $6 \
                 WHERE id = $7 AND changed_at = $8 AND lifted_at IS NULL",
            )
            .bind(after.kind.as_str()).bind(after.downgraded).bind(after.since).bind(at).bind(lifted_at).bind(lifted_by)
            .bind(zone.id).bind(zone.changed_at).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.zone.changed")));
            }
            if zone.kind != ZoneKind::Precaution || after.kind != ZoneKind::Precaution {
                marked = mark_zone!(tx, zone.id);
            }
            sqlx::query("INSERT INTO zone_changes (zone_id, act, kind, note, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(zone.id).bind(act.as_str()).bind(after.kind.as_str()).bind(note).bind(at).bind(&actor.name)
                .execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.codes_after_act(marked, at).await;
        self.zone(zone.id).await?.ok_or_else(|| StoreError::Task(format!("zone {} gone", zone.id)))
    }

    /// Marks the people of an incident's sealed and controlled zones in force, for their codes
    /// to be derived again (the incident's rules, which name the zones, changed).
    pub(crate) async fn mark_incident_zones(&self, incident_id: i64) -> Result<()> {
        let zones: Vec<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id FROM zones WHERE incident_id = $1 AND lifted_at IS NULL AND kind <> 'precaution'",
        ).bind(incident_id).fetch_all(pool).await?);
        if zones.is_empty() {
            return Ok(());
        }
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (id,) in &zones {
                mark_zone!(tx, *id);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Derives the codes of the people a zone act marked, so that they and the counts read right
    /// at once — its own mark only (other acts' marks are the background refresh's: a small act
    /// that took them would derive a county's worth inside its request), up to
    /// [`crate::health_codes::AT_ONCE`] people; more are derived in the background (a person's code
    /// reads right meanwhile, derived from the records). The act has committed: a refresh that
    /// fails is logged and its marks stay for the background refresh, rather than failing an act
    /// that is done. While another refresh runs, the act does not wait for it: its mark is taken
    /// by the next.
    async fn codes_after_act(&self, marked: Marked, at: DateTime<Utc>) {
        if marked.people > crate::health_codes::AT_ONCE {
            // A county's worth: derived in the background; read meanwhile from the records.
            let store = self.clone();
            tokio::spawn(async move {
                if let Err(e) = store.refresh_marked(at).await {
                    tracing::warn!("health codes not refreshed after a zone act: {e}");
                }
            });
        } else if let Some(mark) = marked.mark
            && let Err(e) = self.refresh_zone_mark_unless_busy(mark, at).await
        {
            tracing::warn!("health codes not refreshed after a zone act: {e}");
        }
    }

    /// What the countdown of a zone in force needs to know.
    pub async fn zone_facts(&self, zone: &Zone) -> Result<ZoneFacts> {
        Ok(self.zone_facts_recorded(zone).await?.0)
    }

    /// [`Store::zone_facts`], and when the last infection inside was recorded (a new one since the
    /// zone's last change proposes a stricter kind).
    async fn zone_facts_recorded(&self, zone: &Zone) -> Result<(ZoneFacts, Option<DateTime<Utc>>)> {
        // The last infection inside: a case (dated by its sample, else its report, else when it
        // was entered) or positive person living in it, or a case it was drawn for.
        let sql = format!(
            "WITH inside(id) AS ({INSIDE}) SELECT MAX(COALESCE(c.sample_date, c.report_date)), \
             MAX(CASE WHEN c.sample_date IS NULL AND c.report_date IS NULL THEN c.created_at END), MAX(c.created_at) \
             FROM cases c WHERE (c.person_id IN (SELECT id FROM inside) OR c.id IN (SELECT case_id FROM zone_cases WHERE zone_id = $1)) \
             AND c.classification <> 'suspected'"
        );
        type CaseDays = (Option<NaiveDate>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let (case_day, undated, case_recorded): CaseDays = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(zone.id).fetch_one(pool).await?);
        let sql =
            format!("WITH inside(id) AS ({INSIDE}) SELECT MAX(found_at) FROM positive_persons WHERE person_id IN (SELECT id FROM inside)");
        let (found,): (Option<DateTime<Utc>>,) = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(zone.id).fetch_one(pool).await?);
        let last_infection = [case_day, undated.map(local_date), found.map(local_date)].into_iter().flatten().max();
        let last_recorded = case_recorded.max(found);
        // Each round of the incident: everyone inside sampled or accounted for, and every sample
        // negative (a pooled tube's member released by a negative re-test counts); dated by the
        // last sample taken inside (a round may run over days), else by its start.
        type RoundRow = (DateTime<Utc>, Option<DateTime<Utc>>, i64, i64, i64);
        let sql = format!(
            "WITH inside(id) AS ({INSIDE}) SELECT r.starts_at, \
             (SELECT MAX(s.sampled_at) FROM inside i JOIN samples s ON s.round_id = r.id AND s.person_id = i.id AND s.kind = 'round'), \
             (SELECT COUNT(*) FROM inside), \
             (SELECT COUNT(*) FROM inside i WHERE EXISTS (SELECT 1 FROM samples s WHERE s.round_id = r.id AND s.person_id = i.id AND s.kind = 'round') \
              OR EXISTS (SELECT 1 FROM round_exemptions e WHERE e.round_id = r.id AND e.person_id = i.id)), \
             (SELECT COUNT(*) FROM inside i JOIN samples s ON s.round_id = r.id AND s.person_id = i.id AND s.kind = 'round' JOIN tubes t ON t.id = s.tube_id \
              WHERE (t.result IS NULL OR t.result <> 'negative') \
              AND NOT EXISTS (SELECT 1 FROM recalls rc WHERE rc.round_id = r.id AND rc.person_id = i.id AND rc.status = 'negative')) \
             FROM testing_rounds r WHERE r.incident_id = $2 AND r.starts_at >= $3 ORDER BY r.starts_at DESC LIMIT 60"
        );
        let from = zone.since.and_hms_opt(0, 0, 0).map(|t| t.and_utc() - chrono::Duration::days(1)).unwrap_or(zone.designated_at);
        let rounds: Vec<RoundRow> = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(zone.id).bind(zone.incident_id).bind(from).fetch_all(pool).await?);
        let tests = rounds
            .into_iter()
            .map(|(starts_at, last_sample, total, covered, not_negative)| AreaTestFact {
                day: local_date(last_sample.unwrap_or(starts_at)),
                // Nobody registered inside (a park, a market): nobody to miss.
                complete: covered >= total,
                all_negative: not_negative == 0,
            })
            .collect();
        // The last close contact of the incident traced from someone living inside or from a case
        // it was drawn for, and their latest negative test.
        let sql = format!(
            "WITH inside(id) AS ({INSIDE}) SELECT e.contact_person_id, e.last_at FROM exposures e \
             WHERE e.incident_id = $2 AND (e.source_person_id IN (SELECT id FROM inside) \
             OR e.case_id IN (SELECT case_id FROM zone_cases WHERE zone_id = $1)) \
             AND e.degree = 'close' AND e.status IN ('confirmed', 'handed_over') AND e.last_at IS NOT NULL ORDER BY e.last_at DESC LIMIT 1"
        );
        let contact: Option<(i64, DateTime<Utc>)> = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(zone.id).bind(zone.incident_id).fetch_optional(pool).await?);
        let last_contact = match contact {
            None => None,
            Some((person, last_at)) => {
                let (negative_on,): (Option<NaiveDate>,) = with_read_pool!(self, pool => sqlx::query_as(
                    "SELECT MAX(t.taken_on) FROM observation_tests t JOIN observation_orders o ON o.id = t.order_id \
                     WHERE o.person_id = $1 AND o.incident_id = $2 AND t.outcome = 'negative'",
                ).bind(person).bind(zone.incident_id).fetch_one(pool).await?);
                Some(LastContact { exposed: local_date(last_at), negative_on })
            }
        };
        let higher = self.stricter_in_county(zone).await?;
        let facts = ZoneFacts {
            kind: zone.kind,
            downgraded: zone.downgraded,
            since: zone.since,
            last_infection,
            tests,
            last_contact,
            higher_zones_in_county: higher,
        };
        Ok((facts, last_recorded))
    }

    /// Sealed or controlled zones in force in the zone's county, whatever incident drew them.
    async fn stricter_in_county(&self, zone: &Zone) -> Result<u32> {
        let county: String = zone.area_code.chars().take(6).collect();
        let (higher,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM zones WHERE substr(area_code, 1, 6) = $1 AND lifted_at IS NULL AND kind IN ('sealed', 'controlled') AND id <> $2",
        ).bind(&county).bind(zone.id).fetch_one(pool).await?);
        Ok(u32::try_from(higher).unwrap_or(u32::MAX))
    }

    /// The countdown of a zone in force on `today`, and the kind a new infection inside proposes.
    pub(crate) async fn zone_countdown(&self, zone: &Zone, today: NaiveDate) -> Result<(Scheme, Option<Countdown>, Option<ZoneKind>)> {
        let rules = self.zone_rules(&zone.rule_set).await?;
        if zone.lifted_at.is_some() {
            return Ok((rules.scheme, None, None));
        }
        // A zone with no step down (precaution, or a kind its rules no longer draw) waits on the
        // county only: its residents' infections and tests are not read.
        let (facts, recorded) = if rules.step(zone.kind, zone.downgraded).is_none() {
            let facts = ZoneFacts {
                kind: zone.kind,
                downgraded: zone.downgraded,
                since: zone.since,
                last_infection: None,
                tests: Vec::new(),
                last_contact: None,
                higher_zones_in_county: self.stricter_in_county(zone).await?,
            };
            (facts, None)
        } else {
            self.zone_facts_recorded(zone).await?
        };
        // Only an infection recorded since the zone took its kind proposes a stricter one (not the
        // cases it was drawn for).
        let infected_since = recorded.is_some_and(|t| t > zone.changed_at);
        let proposed = if infected_since { cordon_domain::zones::on_positive(&rules, zone.kind) } else { None };
        Ok((rules.scheme, Some(countdown(&rules, &facts, today)), proposed))
    }

    /// The people living in a zone, counted, with those who need services at the door.
    pub(crate) async fn zone_residents(&self, zone_id: i64, today: NaiveDate) -> Result<Residents> {
        let (elderly_by, infant_after) = age_bounds(today);
        let sql = format!(
            "WITH inside(id) AS ({INSIDE}) SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN p.birth_date <= $2 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN (p.tags & 1) <> 0 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN (p.tags & 2) <> 0 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN (p.tags & 4) <> 0 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN p.birth_date > $3 THEN 1 ELSE 0 END), 0) \
             FROM inside i JOIN persons p ON p.id = i.id"
        );
        let (total, elderly, bedridden, disabled, pregnant, infant): (i64, i64, i64, i64, i64, i64) = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(zone_id).bind(elderly_by).bind(infant_after).fetch_one(pool).await?);
        Ok(Residents { total, elderly, bedridden, disabled, pregnant, infant })
    }

    /// The people living in a zone and registered in `scope`, a page at a time by (area code, id);
    /// with `vulnerable`, only
    /// those who need services at the door (80 and over, under 3, bedridden, disabled, pregnant).
    pub(crate) async fn zone_people(
        &self,
        zone_id: i64,
        scope: &[AreaCode],
        vulnerable: bool,
        after: Option<&PersonCursor>,
        limit: u32,
        today: NaiveDate,
    ) -> Result<PersonPage> {
        let mut params = vec![Param::Int(zone_id)];
        let Some(in_scope) = crate::in_areas("p.area_code", scope, &mut params) else {
            return Ok(PersonPage { items: Vec::new(), next: None });
        };
        let mut sql = format!("{} WHERE p.id IN ({INSIDE}) AND {in_scope}", crate::people::PERSON_SELECT);
        if vulnerable {
            let (elderly_by, infant_after) = age_bounds(today);
            params.push(Param::Date(elderly_by));
            params.push(Param::Date(infant_after));
            let n = params.len();
            sql.push_str(&format!(" AND ((p.tags & 7) <> 0 OR p.birth_date <= ${} OR p.birth_date > ${n})", n - 1));
        }
        self.page_persons(sql, params, after, limit).await
    }

    /// A zone's places with their names, its cases and its history.
    pub(crate) async fn zone_record(&self, zone_id: i64) -> Result<(Places, Vec<(i64, String)>, Vec<ZoneChange>)> {
        let areas: Vec<(String,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT area_code FROM zone_areas WHERE zone_id = $1 ORDER BY area_code").bind(zone_id).fetch_all(pool).await?);
        let buildings: Vec<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT building_id FROM zone_buildings WHERE zone_id = $1 ORDER BY building_id").bind(zone_id).fetch_all(pool).await?);
        let households: Vec<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT household_id FROM zone_households WHERE zone_id = $1 ORDER BY household_id").bind(zone_id).fetch_all(pool).await?);
        let extent = Extent {
            areas: areas.into_iter().map(|(c,)| AreaCode::parse(&c).map_err(StoreError::corrupt)).collect::<Result<_>>()?,
            buildings: buildings.into_iter().map(|(b,)| b).collect(),
            households: households.into_iter().map(|(h,)| h).collect(),
            case_ids: Vec::new(),
        };
        let places = self.places_of(&extent).await?;
        let cases: Vec<(i64, String)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT c.id, c.external_id FROM zone_cases zc JOIN cases c ON c.id = zc.case_id WHERE zc.zone_id = $1 ORDER BY c.id",
        ).bind(zone_id).fetch_all(pool).await?);
        let history: Vec<ZoneChange> = with_read_pool!(self, pool => sqlx::query_as::<_, ZoneChange>(
            "SELECT act, kind, note, changed_at, changed_by FROM zone_changes WHERE zone_id = $1 ORDER BY id",
        ).bind(zone_id).fetch_all(pool).await?);
        Ok((places, cases, history))
    }
}

/// The statements that add a zone's new places and cases (those it has already are skipped) and
/// count the people now living inside, run in the caller's transaction.
fn extent_writes(id: i64, extent: &Extent, cases: &[(i64, String)]) -> Vec<(String, Vec<Param>)> {
    let mut out = Vec::new();
    let mut rows = |table: &str, column: &str, values: Vec<Param>| {
        if values.is_empty() {
            return;
        }
        let marks: Vec<String> = (0..values.len()).map(|n| format!("($1, ${})", n + 2)).collect();
        let mut params = vec![Param::Int(id)];
        params.extend(values);
        out.push((format!("INSERT INTO {table} (zone_id, {column}) VALUES {} ON CONFLICT DO NOTHING", marks.join(", ")), params));
    };
    rows("zone_areas", "area_code", extent.areas.iter().map(|a| Param::Text(a.to_string())).collect());
    rows("zone_buildings", "building_id", extent.buildings.iter().map(|b| Param::Int(*b)).collect());
    rows("zone_households", "household_id", extent.households.iter().map(|h| Param::Int(*h)).collect());
    rows("zone_cases", "case_id", cases.iter().map(|(c, _)| Param::Int(*c)).collect());
    out.push((format!("UPDATE zones SET residents = (SELECT COUNT(*) FROM ({INSIDE}) x) WHERE id = $1"), vec![Param::Int(id)]));
    out
}
