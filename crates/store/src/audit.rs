//! The audit trail: one append-only event for every change and every look at unmasked personal
//! data, written in the same transaction as the change. The schema refuses updates and deletes.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Param, Result, Store, bind_all, with_read_pool, with_write_pool};

/// Who acted, from where (kept on every event).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl Actor {
    /// An actor that is not a signed-in user: the CLI, the demo generator, a migration.
    pub fn system(name: &str) -> Actor {
        Actor { name: name.to_string(), ..Default::default() }
    }
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub area_code: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    pub fn new(action: &str, entity: &str, entity_id: impl ToString) -> Change {
        Change { action: action.into(), entity: entity.into(), entity_id: Some(entity_id.to_string()), ..Default::default() }
    }
    pub fn area(mut self, code: &str) -> Change {
        self.area_code = Some(code.to_string());
        self
    }
    pub fn before(mut self, v: serde_json::Value) -> Change {
        self.before = Some(v);
        self
    }
    pub fn after(mut self, v: serde_json::Value) -> Change {
        self.after = Some(v);
        self
    }
}

pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_events (at, actor_id, actor_name, action, entity, entity_id, \
     area_code, before_json, after_json, request_id, client_addr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// [`INSERT_AUDIT`] without its values, for multi-row inserts of [`INSERT_AUDIT_ROW_PARAMS`]
/// parameters per event.
pub(crate) const INSERT_AUDIT_HEAD: &str = "INSERT INTO audit_events (at, actor_id, actor_name, action, entity, entity_id, \
     area_code, before_json, after_json, request_id, client_addr)";
pub(crate) const INSERT_AUDIT_ROW_PARAMS: usize = 11;

/// The bind parameters of [`INSERT_AUDIT`] for one event, so that callers can run it inside
/// their own transaction on either backend.
pub(crate) fn audit_params(actor: &Actor, change: &Change) -> Vec<Param> {
    vec![
        Param::Time(Utc::now()),
        Param::OptInt(actor.user_id),
        Param::Text(actor.name.clone()),
        Param::Text(change.action.clone()),
        Param::Text(change.entity.clone()),
        Param::OptText(change.entity_id.clone()),
        Param::OptText(change.area_code.clone()),
        Param::OptText(change.before.as_ref().map(|v| v.to_string())),
        Param::OptText(change.after.as_ref().map(|v| v.to_string())),
        Param::OptText(actor.request_id.clone()),
        Param::OptText(actor.client_addr.clone()),
    ]
}

/// One stored event.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub area_code: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

/// Filters on the audit list; all that are set must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Events tagged with an area inside this one.
    pub area: Option<cordon_domain::AreaCode>,
    /// Only events with an id below this (paging, newest first).
    pub before_id: Option<i64>,
}

impl Store {
    /// Records an event that has no other change to share a transaction with (a look at data).
    pub async fn record(&self, actor: &Actor, change: &Change) -> Result<()> {
        let params = audit_params(actor, change);
        with_write_pool!(self, pool => { bind_all(sqlx::query(INSERT_AUDIT), params.iter()).execute(pool).await?; });
        Ok(())
    }

    /// What the events are about, by name, for a log a person reads: the person an observation
    /// order is for, a person's or user's name, a case's number and person, a site's, round's,
    /// hospital's or lab's name, a room with its site, a vehicle's plate, a tube's barcode, a
    /// box's label — keyed by (entity, entity id); and who acted, by display name, as
    /// ("user", actor id); an exemption by its person, a line list by its incident, a sign-in by
    /// its account. Events about other kinds name themselves.
    pub async fn audit_subjects(&self, events: &[AuditEvent]) -> Result<std::collections::HashMap<(String, String), String>> {
        const NAMED: [(&str, &str); 17] = [
            ("observation_order", "SELECT o.id, p.name FROM observation_orders o JOIN persons p ON p.id = o.person_id WHERE o.id IN"),
            (
                "case",
                "SELECT c.id, c.external_id || COALESCE(' · ' || p.name, '') FROM cases c LEFT JOIN persons p ON p.id = c.person_id \
                 WHERE c.id IN",
            ),
            ("investigation", "SELECT i.id, c.external_id FROM investigations i JOIN cases c ON c.id = i.case_id WHERE i.id IN"),
            ("transfer", "SELECT id, from_place || ' → ' || to_place FROM transfers WHERE id IN"),
            ("testing_round", "SELECT id, name FROM testing_rounds WHERE id IN"),
            ("sampling_site", "SELECT id, name FROM sampling_sites WHERE id IN"),
            ("transport_batch", "SELECT id, label FROM transport_batches WHERE id IN"),
            ("hospital", "SELECT id, name FROM hospitals WHERE id IN"),
            ("vehicle", "SELECT id, plate FROM vehicles WHERE id IN"),
            ("incident", "SELECT id, name FROM incidents WHERE id IN"),
            ("lab", "SELECT id, name FROM labs WHERE id IN"),
            ("api_token", "SELECT id, name FROM api_tokens WHERE id IN"),
            ("person", "SELECT id, name FROM persons WHERE id IN"),
            ("user", "SELECT id, display_name FROM users WHERE id IN"),
            ("quarantine_site", "SELECT id, name FROM quarantine_sites WHERE id IN"),
            ("room", "SELECT r.id, s.name || ' ' || r.number FROM rooms r JOIN quarantine_sites s ON s.id = r.site_id WHERE r.id IN"),
            ("tube", "SELECT id, barcode FROM tubes WHERE id IN"),
        ];
        // Which named record each event is about; and who acted, as a user.
        let about = |e: &AuditEvent| {
            let id = e.entity_id.as_deref()?;
            Some(match e.entity.as_str() {
                // A site's restart is recorded under the positive's order: named by the person.
                "quarantine_site" if e.action == "restart" => ("observation_order", id.parse().ok()?),
                "round_person" => ("person", id.split_once('/')?.1.parse().ok()?),
                "linelist" => ("incident", id.parse().ok()?),
                "session" => ("user", id.parse().ok()?),
                entity => (NAMED.iter().find(|(k, _)| *k == entity)?.0, id.parse().ok()?),
            })
        };
        let mut wanted: Vec<(&str, i64)> = events.iter().filter_map(about).collect();
        wanted.extend(events.iter().filter_map(|e| e.actor_id).map(|id| ("user", id)));
        let mut names = std::collections::HashMap::new();
        for (kind, select) in NAMED {
            let mut ids: Vec<i64> = wanted.iter().filter(|(k, _)| *k == kind).map(|(_, id)| *id).collect();
            ids.sort_unstable();
            ids.dedup();
            for chunk in ids.chunks(500) {
                let sql = format!("{select} ({})", crate::list_placeholders(0, chunk.len()));
                let params: Vec<Param> = chunk.iter().map(|i| Param::Int(*i)).collect();
                let rows: Vec<(i64, String)> = with_read_pool!(self, pool =>
                    bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
                names.extend(rows.into_iter().map(|(id, name)| ((kind, id), name)));
            }
        }
        let mut out = std::collections::HashMap::new();
        for e in events {
            if let (Some(name), Some(entity_id)) = (about(e).and_then(|k| names.get(&k)), &e.entity_id) {
                out.insert((e.entity.clone(), entity_id.clone()), name.clone());
            }
            if let Some(name) = e.actor_id.and_then(|id| names.get(&("user", id))) {
                out.insert(("user".to_string(), e.actor_id.unwrap_or_default().to_string()), name.clone());
            }
        }
        Ok(out)
    }

    /// Events matching `filter`, newest first.
    pub async fn audit_events(&self, filter: &AuditFilter, limit: u32) -> Result<Vec<AuditEvent>> {
        let mut sql = String::from(
            "SELECT id, at, actor_id, actor_name, action, entity, entity_id, area_code, before_json, after_json, \
             request_id, client_addr FROM audit_events WHERE 1 = 1",
        );
        let mut params = Vec::new();
        let mut push = |clause: &str, p: Param| {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        };
        if let Some(a) = filter.actor_id {
            push(" AND actor_id = ?", Param::Int(a));
        }
        if let Some(e) = &filter.entity {
            push(" AND entity = ?", Param::Text(e.clone()));
        }
        if let Some(e) = &filter.entity_id {
            push(" AND entity_id = ?", Param::Text(e.clone()));
        }
        if let Some(t) = filter.since {
            push(" AND at >= ?", Param::Time(t));
        }
        if let Some(t) = filter.until {
            push(" AND at < ?", Param::Time(t));
        }
        if let Some(area) = &filter.area {
            let (lo, hi) = area.subtree_range();
            push(" AND area_code >= ?", Param::Text(lo));
            push(" AND area_code < ?", Param::Text(hi));
        }
        if let Some(b) = filter.before_id {
            push(" AND id < ?", Param::Int(b));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit.clamp(1, 1000)));
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, AuditEvent>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }
}
