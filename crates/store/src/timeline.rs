//! The incident's timeline, read from where each module records its events as they happen — the
//! incident and its level changes, task forces, positives and cases, zone changes, rounds,
//! transfers, checkpoints, instructions — and the entries the headquarters types
//! (`timeline_entries`). Each source is one indexed query over the incident and the window;
//! `domain::timeline::merge` puts them in order.

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::command::RecipientState;
use cordon_domain::timeline::{self as rules, Event, EventKind};

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::command::Incident;
use crate::{Result, Store, StoreError, with_read_pool, with_write_pool};

/// The most lines a timeline answers.
pub const MAX_EVENTS: usize = 2000;

fn event(at: DateTime<Utc>, kind: EventKind, subject: impl Into<String>, detail: impl Into<String>, n: i64, link: Option<String>) -> Event {
    Event { at, kind, subject: subject.into(), detail: detail.into(), n, link }
}

impl Store {
    /// The timeline of `incident` between `from` and `to` (the whole incident when absent), as
    /// it stands at `now`.
    pub(crate) async fn timeline(
        &self,
        incident: &Incident,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>> {
        let from = from.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let to = to.unwrap_or(now).min(now + chrono::Duration::minutes(5));
        let within = |t: DateTime<Utc>| t >= from && t < to;
        let id = incident.id;
        let mut out = Vec::new();
        if within(incident.started_at) {
            out.push(event(incident.started_at, EventKind::IncidentOpened, &incident.name, "", 1, Some("/command".into())));
        }
        let levels: Vec<(String, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT level, reason, changed_at FROM incident_levels WHERE incident_id = $1 AND changed_at >= $2 AND changed_at < $3")
            .bind(id).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(levels.into_iter().map(|(l, reason, at)| event(at, EventKind::LevelChanged, l, reason, 1, Some("/command".into()))));
        let tfs: Vec<(String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT name, created_at FROM task_forces WHERE incident_id = $1 AND created_at >= $2 AND created_at < $3")
            .bind(id).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(tfs.into_iter().map(|(name, at)| event(at, EventKind::TaskForces, name, "", 1, Some("/command".into()))));

        // The first positive in the incident's area, and each case reported.
        let area = AreaCode::parse(&incident.area_code).map_err(StoreError::corrupt)?;
        let (lo, hi) = area.subtree_range();
        let first: Option<(Option<DateTime<Utc>>,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT MIN(found_at) FROM positive_persons WHERE area_code >= $1 AND area_code < $2")
            .bind(&lo).bind(&hi).fetch_optional(pool).await?);
        if let Some((Some(at),)) = first
            && within(at)
        {
            out.push(event(at, EventKind::FirstPositive, "", "", 1, Some("/results".into())));
        }
        let cases: Vec<(i64, String, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, external_id, classification, created_at FROM cases WHERE incident_id = $1 AND created_at >= $2 AND created_at < $3")
            .bind(id).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(
            cases.into_iter().map(|(cid, number, class, at)| event(at, EventKind::Case, number, class, 1, Some(format!("/cases/{cid}")))),
        );

        let zones: Vec<(i64, String, String, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT z.id, z.name, c.act, c.kind, c.changed_at FROM zone_changes c JOIN zones z ON z.id = c.zone_id \
             WHERE z.incident_id = $1 AND c.changed_at >= $2 AND c.changed_at < $3")
            .bind(id).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(
            zones.into_iter().map(|(zid, name, act, kind, at)| {
                event(at, EventKind::Zone, name, format!("{act}:{kind}"), 1, Some(format!("/zones/{zid}")))
            }),
        );

        let rounds: Vec<(i64, String, DateTime<Utc>, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, name, starts_at, target_end_at FROM testing_rounds WHERE incident_id = $1")
            .bind(id).fetch_all(pool).await?);
        for (rid, name, starts, ends) in rounds {
            let link = Some(format!("/coverage?round={rid}"));
            if within(starts) {
                out.push(event(starts, EventKind::RoundStarted, &name, "", 0, link.clone()));
            }
            if ends <= now && within(ends) {
                // The round's maintained coverage counts, not its samples.
                let (n,): (Option<i64>,) = with_read_pool!(self, pool =>
                    sqlx::query_as("SELECT CAST(SUM(sampled) AS BIGINT) FROM round_area_counts WHERE round_id = $1").bind(rid).fetch_one(pool).await?);
                let n = n.unwrap_or(0);
                out.push(event(ends, EventKind::RoundEnded, name, "", n, link));
            }
        }

        let transfers: Vec<(String, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT to_place, kind, arrived_at FROM transfers WHERE incident_id = $1 AND arrived_at >= $2 AND arrived_at < $3")
            .bind(id).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(transfers.into_iter().map(|(place, kind, at)| event(at, EventKind::Transfer, place, kind, 1, Some("/dispatch".into()))));

        let checkpoints: Vec<(String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT name, created_at FROM checkpoints WHERE area_code >= $1 AND area_code < $2 AND created_at >= $3 AND created_at < $4")
            .bind(&lo).bind(&hi).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(checkpoints.into_iter().map(|(name, at)| event(at, EventKind::Checkpoints, name, "", 1, Some("/checkpoints".into()))));

        let issued: Vec<(i64, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, title, issued_at FROM instructions WHERE incident_id = $1 AND issued_at >= $2 AND issued_at < $3")
            .bind(id).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(
            issued
                .into_iter()
                .map(|(iid, title, at)| event(at, EventKind::InstructionIssued, title, "", 1, Some(format!("/instructions/{iid}")))),
        );
        // Done: every recipient (but those reassigned) verified; at the last verification.
        let sql = format!(
            "SELECT i.id, i.title, MAX(r.closed_at) FROM instructions i JOIN instruction_recipients r ON r.instruction_id = i.id \
             WHERE i.incident_id = $1 GROUP BY i.id, i.title \
             HAVING SUM(CASE WHEN r.state IN {} THEN 0 ELSE 1 END) = 0",
            crate::sql_set(&[RecipientState::Verified, RecipientState::Reassigned])
        );
        let done: Vec<(i64, String, Option<DateTime<Utc>>)> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(pool).await?);
        out.extend(done.into_iter().filter_map(|(iid, title, at)| {
            at.filter(|t| within(*t)).map(|at| event(at, EventKind::InstructionDone, title, "", 1, Some(format!("/instructions/{iid}"))))
        }));

        // Each signed version of a daily report of the incident's area or below.
        let signed: Vec<(String, String, chrono::NaiveDate, i32, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT d.area_code, a.name, d.day, d.version, d.signed_at FROM daily_reports d JOIN areas a ON a.code = d.area_code \
             WHERE d.area_code >= $1 AND d.area_code < $2 AND d.signed_at >= $3 AND d.signed_at < $4")
            .bind(&lo).bind(&hi).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(signed.into_iter().map(|(area, name, day, version, at)| {
            let link = Some(format!("/reports/daily?date={day}&area={area}"));
            event(at, EventKind::ReportSigned, day.to_string(), name, i64::from(version), link)
        }));

        let entries: Vec<(String, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT e.text, COALESCE(u.display_name, e.recorded_by), e.at FROM timeline_entries e \
             LEFT JOIN users u ON u.username = e.recorded_by WHERE e.incident_id = $1 AND e.at >= $2 AND e.at < $3")
            .bind(id).bind(from).bind(to).fetch_all(pool).await?);
        out.extend(entries.into_iter().map(|(text, by, at)| event(at, EventKind::Entry, text, by, 1, None)));

        // The latest lines when there are more than a page can hold (the page says so and asks
        // for a day).
        let mut merged = rules::merge(out);
        if merged.len() > MAX_EVENTS {
            merged.drain(..merged.len() - MAX_EVENTS);
        }
        Ok(merged)
    }

    /// Types an entry into the incident's timeline at `at` (now when absent).
    pub(crate) async fn add_timeline_entry(
        &self,
        actor: &Actor,
        incident: &Incident,
        at: Option<DateTime<Utc>>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Event> {
        let at = at.unwrap_or(now);
        let text = rules::check_entry(text, at, now)?;
        let change =
            Change::new("add_entry", "incident", incident.id).area(&incident.area_code).after(serde_json::json!({"at": at, "text": text}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO timeline_entries (incident_id, at, text, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5)")
                .bind(incident.id).bind(at).bind(&text).bind(now).bind(&actor.name).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        // Said as the timeline says it: by the name people know the account by.
        let by = self.user_by_name(&actor.name).await?.map_or_else(|| actor.name.clone(), |u| u.display_name);
        Ok(event(at, EventKind::Entry, text, by, 1, None))
    }
}
