//! Exposures and contacts: an investigator records who met the case (or confirms venue
//! candidates); each close contact's household, and their team on a workplace roster, are
//! proposed at once as secondary contacts; a
//! contact living outside the caller's jurisdiction raises an assistance request (协查函) to
//! their county; a confirmed batch is handed over as observation orders awaiting transfer.

use crate::term;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::access::Jurisdiction;
use cordon_domain::cases::exposure::{AssistStatus, Degree, ExposureKind, ExposureStatus, assist_recipient, secondary_span};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::cases::Case;
use crate::observation::{ScheduleColumns, schedule_for};
use crate::{Param, Result, Store, StoreError, bind_all, list_placeholders, with_read_pool, with_write_pool};
use cordon_domain::observation::{Category, Status};

/// An exposure to record for a case.
#[derive(Debug, Clone)]
pub struct NewExposure {
    pub contact_person_id: i64,
    pub kind: ExposureKind,
    /// `None`: what the rule gives someone who met a case (close).
    pub degree: Option<Degree>,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// What recording exposures did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub exposures: u64,
    /// Household members and roster co-workers of close contacts proposed as secondary
    /// contacts.
    pub secondaries_proposed: u64,
    /// Assistance requests raised for contacts outside the jurisdiction.
    pub assist_requests: u64,
}

/// One person reached from a case, by every path that was not dismissed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub person_id: i64,
    pub name: String,
    pub area_code: String,
    /// The gravest degree over the person's paths.
    pub degree: Degree,
    /// How many paths reach the person (a contact met twice keeps both).
    pub paths: usize,
    pub kinds: Vec<String>,
    /// The furthest any path got (proposed, confirmed or handed over).
    pub status: ExposureStatus,
    pub last_at: Option<DateTime<Utc>>,
    /// Exposure ids of the paths, for confirming or dismissing them.
    pub exposure_ids: Vec<i64>,
}

/// Where a person already stands in an incident, shown beside them when they are offered as
/// someone's contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Standing {
    /// A case of the incident, by its number: not a contact of another case.
    Case { number: String },
    /// A contact of another case of the incident, by that case's number.
    Contact { number: String, degree: Degree },
}

/// Secondary contacts a roster proposed for a case, by the workplace and team they share with
/// a close contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterProposal {
    pub workplace: String,
    /// The team; empty when the roster names none and the whole workplace is proposed.
    pub unit: String,
    pub people: u64,
}

/// What a hand-over did, person by person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HandOver {
    /// People now with an observation order: waiting for a transfer, or (those in `at_home`)
    /// on their community's home list.
    pub ordered: Vec<i64>,
    /// Of `ordered`, those whose plan starts at home.
    pub at_home: Vec<i64>,
    /// People already under an order of this incident.
    pub already: Vec<i64>,
    /// People not handed over, with the reason.
    pub refused: Vec<(i64, crate::Refusal)>,
}

/// An assistance request (协查函) to another county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AssistRequest {
    pub id: i64,
    pub exposure_id: i64,
    pub to_area: String,
    pub from_area: String,
    pub facts: String,
    #[sqlx(try_from = "String")]
    pub status: AssistStatus,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answer: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PathRow {
    id: i64,
    contact_person_id: i64,
    name: String,
    area_code: String,
    kind: String,
    #[sqlx(try_from = "String")]
    degree: Degree,
    #[sqlx(try_from = "String")]
    status: ExposureStatus,
    first_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
}

/// Where an assistance request about someone living in `area` goes (the rule is the domain's).
fn assist_target(area: &str, case_area: &str) -> String {
    match (AreaCode::parse(area), AreaCode::parse(case_area)) {
        (Ok(a), Ok(c)) => assist_recipient(&a, &c).to_string(),
        _ => area.to_string(),
    }
}

/// Each contact's area and the number of their case in the incident (`$1`), other than the
/// case recording them (`$2`), if any; the caller adds which persons.
pub(crate) const KNOWN: &str = "SELECT p.id, p.area_code, (SELECT k.external_id FROM cases k WHERE k.incident_id = $1 AND k.id <> $2 \
     AND k.person_id = p.id ORDER BY k.id DESC LIMIT 1) FROM persons p";

/// The refusals of a batch of contacts, given what is `known` of each ([`KNOWN`]): a case of the
/// incident named as a contact (when confirming), a person not on the register, the case's own
/// person.
pub(crate) fn check_batch(new: &[NewExposure], known: &HashMap<i64, (String, Option<String>)>, source: i64, confirmed: bool) -> Result<()> {
    if confirmed && let Some(number) = new.iter().find_map(|n| known.get(&n.contact_person_id).and_then(|k| k.1.as_ref())) {
        return Err(refused!("refused.contact_is_case", number = number));
    }
    for n in new {
        if !known.contains_key(&n.contact_person_id) {
            return Err(refused!("refused.no_person", person_id = n.contact_person_id));
        }
        if n.contact_person_id == source {
            return Err(refused!("refused.case_own_contact"));
        }
    }
    Ok(())
}

/// One row per contact and kind, the batch's last word kept (what storing them one by one with
/// the upsert left).
pub(crate) fn last_word(new: &[NewExposure]) -> Vec<&NewExposure> {
    let mut rows: Vec<&NewExposure> = Vec::with_capacity(new.len());
    let mut at: HashMap<(i64, &str), usize> = HashMap::new();
    for n in new {
        match at.entry((n.contact_person_id, n.kind.as_str())) {
            std::collections::hash_map::Entry::Occupied(o) => rows[*o.get()] = n,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(rows.len());
                rows.push(n);
            }
        }
    }
    rows
}

/// A batch's audit event.
pub(crate) fn batch_change(case: &Case, new: &[NewExposure], confirmed: bool) -> Change {
    Change::new(if confirmed { "record" } else { "dismiss" }, "exposures", &case.external_id).area(&case.area_code).after(serde_json::json!(
        new.iter()
            .map(|n| serde_json::json!({"person": n.contact_person_id, "kind": n.kind.as_str(), "degree": n.degree.unwrap_or(Degree::Close).as_str()}))
            .collect::<Vec<_>>()
    ))
}

impl Store {
    /// Records exposures of `case` confirmed by the investigator, and what follows each; or,
    /// with `confirmed` false, candidates they dismissed (nothing follows, and they are not
    /// proposed again).
    pub(crate) async fn record_exposures(
        &self,
        actor: &Actor,
        case: &Case,
        new: &[NewExposure],
        jurisdiction: &Jurisdiction,
        confirmed: bool,
    ) -> Result<Recorded> {
        let status = if confirmed { "confirmed" } else { "dismissed" };
        let source = case.person_id.ok_or_else(|| refused!("refused.case_without_person", case = case.external_id))?;
        let rows = last_word(new);
        // A confirmed batch inside the jurisdiction is one statement on PostgreSQL.
        if confirmed && let crate::Backend::Postgres(b) = &*self.backend {
            let batch = crate::postgres::exposures::Batch { actor, case, source, new, rows: &rows, jurisdiction };
            if let Some(done) = crate::postgres::exposures::record_confirmed(&b.pool, batch).await? {
                return Ok(done);
            }
        }
        // Each contact's area, and the number of the case they are in this incident, if any:
        // a case of the incident is not another case's contact (its link is an infector link),
        // so a batch naming one changes nothing and says who.
        let mut known: HashMap<i64, (String, Option<String>)> = HashMap::new();
        for chunk in new.chunks(500) {
            let sql = format!("{KNOWN} WHERE p.id IN ({})", list_placeholders(2, chunk.len()));
            let mut params = vec![Param::Int(case.incident_id), Param::Int(case.id)];
            params.extend(chunk.iter().map(|n| Param::Int(n.contact_person_id)));
            let rows: Vec<(i64, String, Option<String>)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            known.extend(rows.into_iter().map(|(id, area, number)| (id, (area, number))));
        }
        check_batch(new, &known, source, confirmed)?;
        let now = Utc::now();
        let change = batch_change(case, new, confirmed);
        let mut out = Recorded { exposures: new.len() as u64, ..Default::default() };
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // The batch in one statement per 500 rows; what each row was stored as.
            let mut stored: HashMap<(i64, String), i64> = HashMap::with_capacity(rows.len());
            for chunk in rows.chunks(500) {
                let mut params = vec![
                    Param::Int(case.incident_id), Param::Int(case.id), Param::Int(source), Param::Text(status.into()),
                    Param::Time(now), Param::Text(actor.name.clone()),
                ];
                let mut values = Vec::with_capacity(chunk.len());
                for n in chunk {
                    let b = params.len();
                    values.push(format!(
                        "($1, $2, $3, ${}, ${}, ${}, ${}, ${}, $4, ${}, ${}, $5, $6, $5, $6)",
                        b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7
                    ));
                    params.extend([
                        Param::Int(n.contact_person_id),
                        Param::Text(n.kind.as_str().into()),
                        Param::Text(n.degree.unwrap_or(Degree::Close).as_str().into()),
                        Param::OptTime(n.first_at),
                        Param::OptTime(n.last_at),
                        Param::Text(known[&n.contact_person_id].0.clone()),
                        Param::OptText(n.note.clone()),
                    ]);
                }
                let sql = format!(
                    "INSERT INTO exposures (incident_id, case_id, source_person_id, contact_person_id, kind, degree, first_at, last_at, status, \
                     area_code, note, created_at, created_by, decided_at, decided_by) VALUES {} \
                     ON CONFLICT (case_id, source_person_id, contact_person_id, kind) DO UPDATE SET degree = excluded.degree, \
                     first_at = excluded.first_at, last_at = excluded.last_at, status = CASE WHEN exposures.status = 'handed_over' \
                     THEN exposures.status ELSE excluded.status END, note = excluded.note, decided_at = excluded.decided_at, decided_by = excluded.decided_by \
                     RETURNING id, contact_person_id, kind",
                    values.join(", ")
                );
                let got: Vec<(i64, i64, String)> =
                    bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&mut *tx).await?;
                stored.extend(got.into_iter().map(|(id, person, kind)| ((person, kind), id)));
            }
            let mut closes: Vec<(i64, &NewExposure)> = Vec::new();
            for n in rows.iter().filter(|_| confirmed) {
                let id = stored[&(n.contact_person_id, n.kind.as_str().to_string())];
                let degree = n.degree.unwrap_or(Degree::Close);
                if degree == Degree::Close {
                    closes.push((id, n));
                }
                let area = &known[&n.contact_person_id].0;
                let outside = AreaCode::parse(area).map(|a| !jurisdiction.contains(&a)).unwrap_or(true);
                if outside {
                    let facts = serde_json::json!({
                        "case": case.external_id, "person_id": n.contact_person_id, "kind": n.kind.as_str(), "degree": degree.as_str(),
                        "first_at": n.first_at, "last_at": n.last_at, "area_code": area,
                    });
                    out.assist_requests += sqlx::query(
                        "INSERT INTO assist_requests (exposure_id, to_area, from_area, facts, status, created_at) VALUES ($1, $2, $3, $4, 'open', $5) \
                         ON CONFLICT (exposure_id) DO NOTHING",
                    )
                    .bind(id).bind(assist_target(area, &case.area_code)).bind(&case.area_code).bind(facts.to_string()).bind(now)
                    .execute(&mut *tx).await?.rows_affected();
                }
            }
            // Once the whole batch is in: each close contact's household, and the co-workers of
            // their team on a workplace roster who are nobody's contact of this case yet (a
            // team is proposed once, through the first of its close contacts, not once per
            // team-mate), are proposed as secondary contacts — a statement each for the batch.
            for chunk in closes.chunks(500) {
                let mut params = vec![Param::Int(case.incident_id), Param::Int(case.id), Param::Time(now), Param::Text(actor.name.clone()), Param::Int(source)];
                for (id, n) in chunk {
                    let (from, until) = secondary_span(n.first_at.or(n.last_at).unwrap_or(now), None, now);
                    params.extend([Param::Int(n.contact_person_id), Param::Int(*id), Param::Time(from), Param::Time(until)]);
                }
                let values = crate::values_placeholders(chunk.len(), 4, 5);
                let households = format!(
                    "INSERT INTO exposures (incident_id, case_id, source_person_id, contact_person_id, via_exposure_id, kind, degree, first_at, last_at, \
                     status, area_code, created_at, created_by) \
                     SELECT $1, $2, c.id, m.id, v.column2, 'household', 'secondary', v.column3, v.column4, 'proposed', m.area_code, $3, $4 \
                     FROM (VALUES {values}) AS v JOIN persons c ON c.id = v.column1 JOIN persons m ON m.household_id = c.household_id \
                     WHERE m.id <> c.id AND m.id <> $5 \
                       AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.incident_id = $1 AND k.person_id = m.id) \
                     ON CONFLICT (case_id, source_person_id, contact_person_id, kind) DO NOTHING"
                );
                out.secondaries_proposed +=
                    bind_all(sqlx::query(sqlx::AssertSqlSafe(households.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
                let teams = format!(
                    "INSERT INTO exposures (incident_id, case_id, source_person_id, contact_person_id, via_exposure_id, kind, degree, first_at, last_at, \
                     status, area_code, created_at, created_by) \
                     SELECT $1, $2, w.source, w.person, w.via, 'work', 'secondary', w.first_at, w.last_at, 'proposed', w.area_code, $3, $4 \
                     FROM (SELECT v.column1 AS source, p.id AS person, v.column2 AS via, v.column3 AS first_at, v.column4 AS last_at, p.area_code, \
                             ROW_NUMBER() OVER (PARTITION BY p.id ORDER BY v.column2) AS pick \
                           FROM (VALUES {values}) AS v JOIN workplace_members c ON c.person_id = v.column1 {} \
                           JOIN persons p ON p.id = m.person_id \
                           WHERE m.person_id <> v.column1 AND m.person_id <> $5 \
                             AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.incident_id = $1 AND k.person_id = m.person_id) \
                             AND NOT EXISTS (SELECT 1 FROM exposures e WHERE e.case_id = $2 \
                                             AND e.contact_person_id = m.person_id AND e.status <> 'dismissed')) w \
                     WHERE w.pick = 1 \
                     ON CONFLICT (case_id, source_person_id, contact_person_id, kind) DO NOTHING",
                    crate::workplaces::same_team!()
                );
                out.secondaries_proposed +=
                    bind_all(sqlx::query(sqlx::AssertSqlSafe(teams.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(out)
    }

    /// Confirms or dismisses proposed exposures of a case (secondary contacts proposed from
    /// households); returns how many changed.
    pub(crate) async fn decide_exposures(&self, actor: &Actor, case: &Case, ids: &[i64], confirm: bool) -> Result<u64> {
        let status = if confirm { "confirmed" } else { "dismissed" };
        let change = Change::new(if confirm { "confirm" } else { "dismiss" }, "exposures", &case.external_id)
            .area(&case.area_code)
            .after(serde_json::json!({"exposures": ids}));
        let mut n = 0;
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in ids.chunks(500) {
                let sql = format!(
                    "UPDATE exposures SET status = $1, decided_at = $2, decided_by = $3 WHERE case_id = $4 AND status IN ('proposed', 'confirmed') AND id IN ({})",
                    list_placeholders(4, chunk.len())
                );
                let mut params = vec![Param::Text(status.into()), Param::Time(Utc::now()), Param::Text(actor.name.clone()), Param::Int(case.id)];
                params.extend(chunk.iter().map(|i| Param::Int(*i)));
                n += bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
            }
            if n > 0 {
                tx.append(actor, &change).await?;
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    async fn paths(&self, case_id: i64, with_dismissed: bool) -> Result<Vec<PathRow>> {
        let filter = if with_dismissed { "" } else { " AND e.status <> 'dismissed'" };
        let sql = format!(
            "SELECT e.id, e.contact_person_id, p.name, e.area_code, e.kind, e.degree, e.status, e.first_at, e.last_at \
             FROM exposures e JOIN persons p ON p.id = e.contact_person_id WHERE e.case_id = $1{filter} ORDER BY e.id"
        );
        Ok(with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(case_id).fetch_all(pool).await?))
    }

    /// Everyone a case's exposures reach (dismissed paths left out), gravest degree first.
    pub(crate) async fn contacts(&self, case_id: i64) -> Result<Vec<Contact>> {
        let mut by_person: BTreeMap<i64, Contact> = BTreeMap::new();
        for p in self.paths(case_id, false).await? {
            let c = by_person.entry(p.contact_person_id).or_insert_with(|| Contact {
                person_id: p.contact_person_id,
                name: p.name.clone(),
                area_code: p.area_code.clone(),
                degree: p.degree,
                paths: 0,
                kinds: vec![],
                status: p.status,
                last_at: None,
                exposure_ids: vec![],
            });
            c.degree = c.degree.higher(p.degree);
            c.paths += 1;
            if !c.kinds.contains(&p.kind) {
                c.kinds.push(p.kind.clone());
            }
            c.status = c.status.furthest(p.status);
            c.last_at = c.last_at.max(p.last_at.or(p.first_at));
            c.exposure_ids.push(p.id);
        }
        let mut out: Vec<Contact> = by_person.into_values().collect();
        out.sort_by_key(|c| (c.degree, c.person_id));
        Ok(out)
    }

    /// Where each of `people` already stands in an incident, but for `case_id` itself: a case
    /// (by its number), or a contact of another case not dismissed (the gravest degree, by that
    /// case's number). A case counts before a contact.
    pub(crate) async fn standings(&self, incident_id: i64, case_id: i64, people: &[i64]) -> Result<HashMap<i64, Standing>> {
        let mut out: HashMap<i64, Standing> = HashMap::new();
        for chunk in people.chunks(500) {
            let list = list_placeholders(2, chunk.len());
            let mut params = vec![Param::Int(incident_id), Param::Int(case_id)];
            params.extend(chunk.iter().map(|p| Param::Int(*p)));
            let contacts = format!(
                "SELECT e.contact_person_id, k.external_id, e.degree FROM exposures e JOIN cases k ON k.id = e.case_id \
                 WHERE e.incident_id = $1 AND e.case_id <> $2 AND e.status <> 'dismissed' AND e.contact_person_id IN ({list}) \
                 ORDER BY k.id"
            );
            let rows: Vec<(i64, String, String)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(contacts.as_str())), params.iter()).fetch_all(pool).await?);
            for (person, number, degree) in rows {
                let Ok(degree) = degree.parse::<Degree>() else { continue };
                let graver = match out.get(&person) {
                    Some(Standing::Contact { degree: d, .. }) => degree.higher(*d) == degree && degree != *d,
                    _ => true,
                };
                if graver {
                    out.insert(person, Standing::Contact { number, degree });
                }
            }
            let cases = format!(
                "SELECT person_id, external_id FROM cases WHERE incident_id = $1 AND id <> $2 AND person_id IN ({list}) ORDER BY id DESC"
            );
            let rows: Vec<(i64, String)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(cases.as_str())), params.iter()).fetch_all(pool).await?);
            for (person, number) in rows {
                out.insert(person, Standing::Case { number });
            }
        }
        Ok(out)
    }

    /// Why a case has the roster's secondary contacts it has waiting: for each workplace and
    /// team of the close contacts they came through, how many are proposed — a roster that
    /// names no teams proposes the whole workplace (`unit` empty).
    pub(crate) async fn roster_proposals(&self, case_id: i64) -> Result<Vec<RosterProposal>> {
        let rows: Vec<(String, String, i64)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT w.name, c.unit, COUNT(DISTINCT e.contact_person_id) FROM exposures e \
             JOIN workplace_members c ON c.person_id = e.source_person_id \
             JOIN workplace_members m ON m.person_id = e.contact_person_id AND m.workplace_id = c.workplace_id \
             JOIN workplaces w ON w.id = c.workplace_id \
             WHERE e.case_id = $1 AND e.kind = 'work' AND e.degree = 'secondary' AND e.status = 'proposed' \
             GROUP BY w.name, c.unit ORDER BY 3 DESC, 1, 2",
        ).bind(case_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(workplace, unit, people)| RosterProposal { workplace, unit, people: people as u64 }).collect())
    }

    /// Everyone recorded as having met the case itself (confirmed or dismissed), not through a
    /// contact: candidates leave them out. Someone proposed as a contact's secondary stays a
    /// candidate, since meeting the case makes them a close contact.
    pub(crate) async fn met_directly(&self, case_id: i64) -> Result<std::collections::HashSet<i64>> {
        let rows: Vec<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT contact_person_id FROM exposures WHERE case_id = $1 AND via_exposure_id IS NULL",
        ).bind(case_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// Hands a batch of confirmed close and secondary contacts over as observation orders
    /// awaiting transfer (一批确认、一批移交), in one transaction.
    pub(crate) async fn hand_over(&self, actor: &Actor, case: &Case, people: &[i64], rule_set: &str) -> Result<HandOver> {
        let contacts = self.contacts(case.id).await?;
        let rule = self.rule_set(rule_set).await?;
        let mut out = HandOver::default();
        let mut orders: Vec<(&Contact, Category, DateTime<Utc>, ScheduleColumns, Status)> = Vec::new();
        let now = Utc::now();
        let today = cordon_domain::local_date(now);
        // A contact who has become a case since is handled as a case, not quarantined as a
        // contact (their own order, if any, ended as a case when the case was made).
        let standings = self.standings(case.incident_id, case.id, people).await?;
        for person in people {
            let Some(c) = contacts.iter().find(|c| c.person_id == *person) else {
                out.refused.push((*person, refusal!("refused.not_a_contact")));
                continue;
            };
            if let Some(Standing::Case { number }) = standings.get(person) {
                out.refused.push((*person, refusal!("refused.hand_over_is_case", name = c.name, number = number)));
                continue;
            }
            let Some(category) = c.degree.observation_category().and_then(|c| c.parse::<Category>().ok()) else {
                out.refused.push((
                    *person,
                    refusal!("refused.contact_health_monitoring_only", name = c.name, degree = term("contacts.degree", c.degree)),
                ));
                continue;
            };
            if c.status == ExposureStatus::Proposed {
                out.refused.push((*person, refusal!("refused.contact_still_proposed", name = c.name)));
                continue;
            }
            let last = c.last_at.unwrap_or(now);
            let Some(schedule) = schedule_for(&rule, category, last, today, &[]) else {
                out.refused.push((
                    *person,
                    refusal!(
                        "refused.rule_set_skips_category",
                        name = c.name,
                        category = term("obs.category", category.as_str()),
                        rule = rule.name
                    ),
                ));
                continue;
            };
            let Some(entry) = schedule.entry() else {
                out.refused.push((*person, refusal!("refused.observation_period_over", name = c.name, day = schedule.release_on)));
                continue;
            };
            // A plan that starts in a site waits for a transfer; one that starts at home waits
            // on the community's home list.
            orders.push((c, category, last, ScheduleColumns::of(&schedule), Status::waiting_for(entry)));
        }
        let change = Change::new("hand_over", "contacts", &case.external_id).area(&case.area_code).after(serde_json::json!({
            "people": orders.iter().map(|(c, cat, _, _, _)| serde_json::json!({"person": c.person_id, "category": cat.as_str()})).collect::<Vec<_>>(),
        }));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (c, category, last, cols, status) in &orders {
                // A secondary contact's release waits for the close contact they met.
                let added = sqlx::query(
                    "INSERT INTO observation_orders (incident_id, person_id, category, last_exposure_at, rule_set, status, area_code, created_at, created_by, \
                     found_on, release_on, centralized_until, test_dates, via_person_id, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $14, $6, $7, $8, $9, $10, $11, $12, \
                     (SELECT MIN(source_person_id) FROM exposures WHERE case_id = $13 AND contact_person_id = $2 AND degree = 'secondary' AND $3 = 'secondary_contact'), $7) \
                     ON CONFLICT (incident_id, person_id) DO NOTHING",
                )
                .bind(case.incident_id).bind(c.person_id).bind(category.as_str()).bind(*last).bind(&rule.name).bind(&c.area_code).bind(now).bind(&actor.name)
                .bind(today).bind(cols.release_on).bind(cols.centralized_until).bind(&cols.test_dates).bind(case.id).bind(status.as_str())
                .execute(&mut *tx).await?.rows_affected();
                if added == 1 {
                    out.ordered.push(c.person_id);
                    if *status == Status::AwaitingHome {
                        out.at_home.push(c.person_id);
                    }
                } else {
                    out.already.push(c.person_id);
                }
                sqlx::query("UPDATE exposures SET status = 'handed_over' WHERE case_id = $1 AND contact_person_id = $2 AND status = 'confirmed'")
                    .bind(case.id).bind(c.person_id).execute(&mut *tx).await?;
            }
            if !orders.is_empty() {
                tx.append(actor, &change).await?;
            }
            tx.commit().await?;
        });
        Ok(out)
    }

    pub(crate) async fn assist_request(&self, id: i64) -> Result<Option<AssistRequest>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, exposure_id, to_area, from_area, facts, status, created_at, answered_at, answer FROM assist_requests WHERE id = $1",
        ).bind(id).fetch_optional(pool).await?))
    }

    /// Records the other jurisdiction's answer (found, controlled where, or why not); answering
    /// again replaces the text but keeps the first time.
    pub(crate) async fn answer_assist_request(&self, actor: &Actor, request: &AssistRequest, answer: &str) -> Result<AssistRequest> {
        let answer = answer.trim();
        if answer.is_empty() {
            return Err(refused!("refused.answer_needs_text"));
        }
        let change =
            Change::new("answer", "assist_request", request.id).area(&request.to_area).after(serde_json::json!({"answer": answer}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE assist_requests SET status = 'answered', answer = $1, answered_at = COALESCE(answered_at, $2) WHERE id = $3")
                .bind(answer).bind(Utc::now()).bind(request.id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.assist_request(request.id).await?.ok_or_else(|| StoreError::Task("request vanished".into()))
    }

    /// Assistance requests sent from or to areas in `scope`, open first.
    pub(crate) async fn assist_requests(&self, scope: &[AreaCode]) -> Result<Vec<AssistRequest>> {
        let mut params = Vec::new();
        let Some(from) = crate::in_areas("from_area", scope, &mut params) else { return Ok(vec![]) };
        let to = crate::in_areas("to_area", scope, &mut params).unwrap_or_default();
        let sql = format!(
            "SELECT id, exposure_id, to_area, from_area, facts, status, created_at, answered_at, answer FROM assist_requests \
             WHERE {from} OR {to} ORDER BY status DESC, created_at DESC LIMIT 1000"
        );
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, AssistRequest>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }
}
