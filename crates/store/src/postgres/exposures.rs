//! A confirmed batch of a case's contacts on PostgreSQL in three round trips after the case's
//! read: the transaction begun with the audit lock taken; what is known of each contact and the
//! audit chain's head in one read; every row in one statement — the contacts, the household
//! members and roster team-mates of the close ones proposed as secondary contacts, the audit
//! event — and the commit. A batch with a contact outside the caller's jurisdiction (an
//! assistance request each) takes the portable path (`exposures`).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::access::Jurisdiction;
use cordon_domain::cases::exposure::{Degree, secondary_span};
use sqlx::PgPool;

use crate::Result;
use crate::audit::{Actor, Chain, INSERT_AUDIT_HEAD, INSERT_AUDIT_ROW_PARAMS, LAST_HASH};
use crate::cases::Case;
use crate::exposures::{KNOWN, NewExposure, Recorded, batch_change, check_batch};

/// A confirmed batch: the case, its person, the contacts as given and one row per contact and
/// kind ([`crate::exposures::last_word`]).
pub(crate) struct Batch<'a> {
    pub(crate) actor: &'a Actor,
    pub(crate) case: &'a Case,
    pub(crate) source: i64,
    pub(crate) new: &'a [NewExposure],
    pub(crate) rows: &'a [&'a NewExposure],
    pub(crate) jurisdiction: &'a Jurisdiction,
}

/// [`KNOWN`] for the persons `$3` beside the chain's head (one row of NULLs when none is known).
/// The statements built once.
static KNOWN_AND_HEAD: LazyLock<String> = LazyLock::new(known_sql);
static BATCH: LazyLock<String> = LazyLock::new(batch_sql);

fn known_sql() -> String {
    format!(
        "SELECT h.head, kn.* FROM (SELECT ({LAST_HASH}) AS head) h \
         LEFT JOIN ({KNOWN} WHERE p.id = ANY($3)) AS kn ON true"
    )
}

/// The batch in one statement (`$1` incident, `$2` case, `$3` its person, `$4` when, `$5` by
/// whom; the rows as arrays `$6`…`$12`; the close rows' secondary spans `$13`…`$16`; the audit
/// event from `$17`). The secondary contacts are proposed from the close rows as the portable
/// path proposes them; a statement sees the database as it was before it, so those named in the
/// batch and the household members proposed in it are left out of the team-mates by name
/// rather than by the rows just written.
fn batch_sql() -> String {
    let audit = crate::values_placeholders(1, INSERT_AUDIT_ROW_PARAMS, 16);
    format!(
        "WITH v AS (SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[]) \
           AS v (person, kind, degree, first_at, last_at, area, note)), \
         ins AS (INSERT INTO exposures (incident_id, case_id, source_person_id, contact_person_id, kind, degree, first_at, last_at, status, \
           area_code, note, created_at, created_by, decided_at, decided_by) \
           SELECT $1, $2, $3, v.person, v.kind, v.degree, v.first_at, v.last_at, 'confirmed', v.area, v.note, $4, $5, $4, $5 FROM v \
           ON CONFLICT (case_id, source_person_id, contact_person_id, kind) DO UPDATE SET degree = excluded.degree, \
           first_at = excluded.first_at, last_at = excluded.last_at, status = CASE WHEN exposures.status = 'handed_over' \
           THEN exposures.status ELSE excluded.status END, note = excluded.note, decided_at = excluded.decided_at, decided_by = excluded.decided_by \
           RETURNING id, contact_person_id, kind), \
         closes AS (SELECT ins.id, ins.contact_person_id AS person, s.from_at, s.until_at FROM ins \
           JOIN unnest($13::bigint[], $14::text[], $15::timestamptz[], $16::timestamptz[]) AS s (person, kind, from_at, until_at) \
           ON s.person = ins.contact_person_id AND s.kind = ins.kind), \
         households AS (INSERT INTO exposures (incident_id, case_id, source_person_id, contact_person_id, via_exposure_id, kind, degree, \
           first_at, last_at, status, area_code, created_at, created_by) \
           SELECT $1, $2, c.id, m.id, cl.id, 'household', 'secondary', cl.from_at, cl.until_at, 'proposed', m.area_code, $4, $5 \
           FROM closes cl JOIN persons c ON c.id = cl.person JOIN persons m ON m.household_id = c.household_id \
           WHERE m.id <> c.id AND m.id <> $3 \
             AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.incident_id = $1 AND k.person_id = m.id) \
           ON CONFLICT (case_id, source_person_id, contact_person_id, kind) DO NOTHING RETURNING contact_person_id), \
         teams AS (INSERT INTO exposures (incident_id, case_id, source_person_id, contact_person_id, via_exposure_id, kind, degree, \
           first_at, last_at, status, area_code, created_at, created_by) \
           SELECT $1, $2, w.source, w.person, w.via, 'work', 'secondary', w.first_at, w.last_at, 'proposed', w.area_code, $4, $5 \
           FROM (SELECT cl.person AS source, p.id AS person, cl.id AS via, cl.from_at AS first_at, cl.until_at AS last_at, p.area_code, \
                   ROW_NUMBER() OVER (PARTITION BY p.id ORDER BY cl.id) AS pick \
                 FROM closes cl JOIN workplace_members c ON c.person_id = cl.person {} \
                 JOIN persons p ON p.id = m.person_id \
                 WHERE m.person_id <> cl.person AND m.person_id <> $3 \
                   AND m.person_id NOT IN (SELECT person FROM v) AND m.person_id NOT IN (SELECT contact_person_id FROM households) \
                   AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.incident_id = $1 AND k.person_id = m.person_id) \
                   AND NOT EXISTS (SELECT 1 FROM exposures e WHERE e.case_id = $2 \
                                   AND e.contact_person_id = m.person_id AND e.status <> 'dismissed')) w \
           WHERE w.pick = 1 \
           ON CONFLICT (case_id, source_person_id, contact_person_id, kind) DO NOTHING RETURNING 1), \
         audited AS ({INSERT_AUDIT_HEAD} VALUES {audit}) \
         SELECT (SELECT COUNT(*) FROM households) + (SELECT COUNT(*) FROM teams)",
        crate::workplaces::same_team!()
    )
}

type KnownRow = (Option<String>, Option<i64>, Option<String>, Option<String>);

/// [`crate::Store::record_exposures`] of a confirmed batch: none (nothing written) when a contact
/// lives outside the jurisdiction.
pub(crate) async fn record_confirmed(pool: &PgPool, batch: Batch<'_>) -> Result<Option<Recorded>> {
    let Batch { actor, case, source, new, rows, jurisdiction } = batch;
    let mut tx = pool.begin_with(super::BEGIN_LOCKED).await?;
    let persons: Vec<i64> = new.iter().map(|n| n.contact_person_id).collect();
    let read: Vec<KnownRow> = sqlx::query_as(sqlx::AssertSqlSafe(KNOWN_AND_HEAD.as_str()))
        .bind(case.incident_id)
        .bind(case.id)
        .bind(&persons)
        .fetch_all(&mut *tx)
        .await?;
    let head = read.first().and_then(|r| r.0.clone());
    let known: HashMap<i64, (String, Option<String>)> =
        read.into_iter().filter_map(|(_, id, area, number)| Some((id?, (area?, number)))).collect();
    check_batch(new, &known, source, true)?;
    let inside = |person: i64| AreaCode::parse(&known[&person].0).is_ok_and(|a| jurisdiction.contains(&a));
    if !rows.iter().all(|n| inside(n.contact_person_id)) {
        return Ok(None);
    }
    let now = Utc::now();
    let mut columns = Columns::default();
    for n in rows {
        let degree = n.degree.unwrap_or(Degree::Close);
        columns.person.push(n.contact_person_id);
        columns.kind.push(n.kind.as_str());
        columns.degree.push(degree.as_str());
        columns.first_at.push(n.first_at);
        columns.last_at.push(n.last_at);
        columns.area.push(known[&n.contact_person_id].0.as_str());
        columns.note.push(n.note.as_deref());
        if degree == Degree::Close {
            let (from, until) = secondary_span(n.first_at.or(n.last_at).unwrap_or(now), None, now);
            columns.close_person.push(n.contact_person_id);
            columns.close_kind.push(n.kind.as_str());
            columns.close_from.push(from);
            columns.close_until.push(until);
        }
    }
    let audit = Chain::onto(head).seal(actor, &batch_change(case, new, true));
    let query = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(BATCH.as_str()))
        .bind(case.incident_id)
        .bind(case.id)
        .bind(source)
        .bind(now)
        .bind(&actor.name)
        .bind(&columns.person)
        .bind(&columns.kind)
        .bind(&columns.degree)
        .bind(&columns.first_at)
        .bind(&columns.last_at)
        .bind(&columns.area)
        .bind(&columns.note)
        .bind(&columns.close_person)
        .bind(&columns.close_kind)
        .bind(&columns.close_from)
        .bind(&columns.close_until);
    let (proposed,) = crate::bind_all(query, audit.iter()).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(Some(Recorded { exposures: new.len() as u64, secondaries_proposed: proposed as u64, assist_requests: 0 }))
}

/// The batch's rows as the columns `unnest` takes.
#[derive(Default)]
struct Columns<'a> {
    person: Vec<i64>,
    kind: Vec<&'a str>,
    degree: Vec<&'a str>,
    first_at: Vec<Option<DateTime<Utc>>>,
    last_at: Vec<Option<DateTime<Utc>>>,
    area: Vec<&'a str>,
    note: Vec<Option<&'a str>>,
    close_person: Vec<i64>,
    close_kind: Vec<&'a str>,
    close_from: Vec<DateTime<Utc>>,
    close_until: Vec<DateTime<Utc>>,
}
