//! The audit trail: one append-only event for every change and every look at unmasked personal
//! data, written in the same transaction as the change. The schema refuses updates and deletes.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

use crate::BeginWrite as _;
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
     area_code, before_json, after_json, request_id, client_addr, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// [`INSERT_AUDIT`] without its values, for multi-row inserts of [`INSERT_AUDIT_ROW_PARAMS`]
/// parameters per event.
pub(crate) const INSERT_AUDIT_HEAD: &str = "INSERT INTO audit_events (at, actor_id, actor_name, action, entity, entity_id, \
     area_code, before_json, after_json, request_id, client_addr, hash)";
pub(crate) const INSERT_AUDIT_ROW_PARAMS: usize = 12;

/// The newest seal: each event is chained onto it. Events without one (written before the chain
/// began, or forged outside Cordon) are passed over here and reported by [`Store::verify_audit`].
pub(crate) const LAST_HASH: &str = "SELECT hash FROM audit_events WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1";

/// The hash of an event chained onto `prev` (the hash of the event before it, empty for the
/// first): SHA-256 over `prev` and every stored column but the id, as JSON, in hex.
#[allow(clippy::too_many_arguments)]
fn event_hash(prev: &str, at: DateTime<Utc>, actor_id: Option<i64>, actor_name: &str, change: [Option<&str>; 8]) -> String {
    use sha2::Digest;
    let text = serde_json::json!([prev, at.timestamp_micros(), actor_id, actor_name, change]).to_string();
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The chain being extended inside one write transaction: it holds the hash of the newest event,
/// and seals each new one onto it.
pub(crate) struct Chain {
    prev: String,
}

impl Chain {
    /// The bind parameters of [`INSERT_AUDIT`] for the next event, its seal the last.
    pub(crate) fn seal(&mut self, actor: &Actor, change: &Change) -> Vec<Param> {
        // Microseconds: what both databases keep, so that the stored event hashes the same.
        let at = Utc::now().trunc_subsecs(6);
        let before = change.before.as_ref().map(|v| v.to_string());
        let after = change.after.as_ref().map(|v| v.to_string());
        let hash = event_hash(
            &self.prev,
            at,
            actor.user_id,
            &actor.name,
            [
                Some(change.action.as_str()),
                Some(change.entity.as_str()),
                change.entity_id.as_deref(),
                change.area_code.as_deref(),
                before.as_deref(),
                after.as_deref(),
                actor.request_id.as_deref(),
                actor.client_addr.as_deref(),
            ],
        );
        self.prev = hash.clone();
        vec![
            Param::Time(at),
            Param::OptInt(actor.user_id),
            Param::Text(actor.name.clone()),
            Param::Text(change.action.clone()),
            Param::Text(change.entity.clone()),
            Param::OptText(change.entity_id.clone()),
            Param::OptText(change.area_code.clone()),
            Param::OptText(before),
            Param::OptText(after),
            Param::OptText(actor.request_id.clone()),
            Param::OptText(actor.client_addr.clone()),
            Param::Text(hash),
        ]
    }

    /// The chain on a SQLite connection of the sqlx pools, inside a write transaction (SQLite has
    /// one writer at a time, so nothing else extends the chain until it commits).
    pub(crate) async fn sqlite(conn: &mut sqlx::SqliteConnection) -> Result<Chain> {
        let prev: Option<String> = sqlx::query_scalar(LAST_HASH).fetch_optional(conn).await?;
        Ok(Chain { prev: prev.unwrap_or_default() })
    }

    /// The chain onto the newest seal `prev` ([`LAST_HASH`]) read by the caller, on PostgreSQL
    /// under the audit lock ([`AUDIT_LOCK`]) taken in an earlier statement of its transaction.
    pub(crate) fn onto(prev: Option<String>) -> Chain {
        Chain { prev: prev.unwrap_or_default() }
    }

    /// The chain on PostgreSQL, inside a transaction: it takes the audit lock first, held to the
    /// transaction's end, so that two transactions never chain onto the same event.
    pub(crate) async fn postgres(conn: &mut sqlx::PgConnection) -> Result<Chain> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK).execute(&mut *conn).await?;
        let prev: Option<String> = sqlx::query_scalar(LAST_HASH).fetch_optional(conn).await?;
        Ok(Chain { prev: prev.unwrap_or_default() })
    }

    /// The chain on a synchronous SQLite connection, inside its write transaction.
    pub(crate) fn rusqlite(conn: &rusqlite::Connection) -> rusqlite::Result<Chain> {
        use rusqlite::OptionalExtension;
        let prev: Option<String> = conn.query_row(LAST_HASH, [], |r| r.get(0)).optional()?;
        Ok(Chain { prev: prev.unwrap_or_default() })
    }
}

/// The key of the PostgreSQL advisory lock that orders the chain ("audit" in ASCII).
pub(crate) const AUDIT_LOCK: i64 = 0x0061_7564_6974;

/// Writing one event inside a caller's transaction, on either backend.
pub(crate) trait Append {
    /// Seals `change` onto the chain and stores it.
    async fn append(&mut self, actor: &Actor, change: &Change) -> Result<()>;
    /// The chain, to seal many events for a multi-row insert.
    async fn chain(&mut self) -> Result<Chain>;
}

impl Append for sqlx::SqliteConnection {
    async fn chain(&mut self) -> Result<Chain> {
        Chain::sqlite(self).await
    }
    async fn append(&mut self, actor: &Actor, change: &Change) -> Result<()> {
        let params = Chain::sqlite(self).await?.seal(actor, change);
        bind_all(sqlx::query(INSERT_AUDIT), params.iter()).execute(self).await?;
        Ok(())
    }
}

impl Append for sqlx::PgConnection {
    async fn chain(&mut self) -> Result<Chain> {
        Chain::postgres(self).await
    }
    async fn append(&mut self, actor: &Actor, change: &Change) -> Result<()> {
        let params = Chain::postgres(self).await?.seal(actor, change);
        bind_all(sqlx::query(INSERT_AUDIT), params.iter()).execute(self).await?;
        Ok(())
    }
}

/// Where [`Store::verify_audit`] found the chain broken.
#[derive(Debug, Clone, Serialize)]
pub struct ChainBreak {
    pub id: i64,
    /// None when the stored time does not read.
    pub at: Option<DateTime<Utc>>,
    pub action: String,
    pub entity: String,
    /// `unsealed` (no hash: written outside Cordon), `unreadable` (a value no Cordon writes) or
    /// `mismatch` (its hash does not follow from its contents and the event before it: changed,
    /// or an event before it removed or forged).
    pub kind: &'static str,
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChainCheck {
    /// Events read.
    pub events: u64,
    /// Events from before the chain began (a database older than the chain), never sealed.
    pub before_chain: u64,
    /// The first breaks, in order (at most [`ChainCheck::SHOWN`]).
    pub breaks: Vec<ChainBreak>,
    /// All breaks.
    pub broken: u64,
    /// The newest sealed event and its hash: note them down elsewhere (the daily report, a
    /// printout) and a later check shows that nothing was appended behind them by hand.
    pub head: Option<(i64, String)>,
}

impl ChainCheck {
    pub const SHOWN: usize = 20;
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
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            tx.append(actor, change).await?;
            tx.commit().await?;
        });
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

    /// Checks the audit chain from the first event to the last: every event must carry the hash
    /// of its contents chained onto the event before it. Reads by key, a page at a time.
    pub async fn verify_audit(&self) -> Result<ChainCheck> {
        /// A stored event as read for the check; `at` as the database gives it.
        #[derive(sqlx::FromRow)]
        struct Raw<T> {
            id: i64,
            at: T,
            actor_id: Option<i64>,
            actor_name: String,
            action: String,
            entity: String,
            entity_id: Option<String>,
            area_code: Option<String>,
            before_json: Option<String>,
            after_json: Option<String>,
            request_id: Option<String>,
            client_addr: Option<String>,
            hash: Option<String>,
        }
        impl<T> Raw<T> {
            /// The event with its time, or none when the time does not read (a row written by
            /// hand into SQLite, whose columns take any text).
            fn sealed(self, at: Option<DateTime<Utc>>) -> (Option<AuditEvent>, Option<String>, (i64, String, String)) {
                let head = (self.id, self.action.clone(), self.entity.clone());
                let event = at.map(|at| AuditEvent {
                    id: self.id,
                    at,
                    actor_id: self.actor_id,
                    actor_name: self.actor_name,
                    action: self.action,
                    entity: self.entity,
                    entity_id: self.entity_id,
                    area_code: self.area_code,
                    before_json: self.before_json,
                    after_json: self.after_json,
                    request_id: self.request_id,
                    client_addr: self.client_addr,
                });
                (event, self.hash, head)
            }
        }
        const PAGE: &str = "SELECT id, at, actor_id, actor_name, action, entity, entity_id, area_code, before_json, after_json, \
                            request_id, client_addr, hash FROM audit_events WHERE id > $1 ORDER BY id LIMIT 5000";
        let mut check = ChainCheck::default();
        // The hash of the newest sealed event; none until the chain begins.
        let mut prev: Option<String> = None;
        let mut after = 0i64;
        loop {
            let page: Vec<_> = match &*self.backend {
                crate::Backend::Sqlite(b) => sqlx::query_as::<_, Raw<String>>(PAGE)
                    .bind(after)
                    .fetch_all(&b.read)
                    .await?
                    .into_iter()
                    .map(|r| {
                        let at = crate::sqlite::parse_time(&r.at);
                        r.sealed(at)
                    })
                    .collect(),
                crate::Backend::Postgres(b) => sqlx::query_as::<_, Raw<DateTime<Utc>>>(PAGE)
                    .bind(after)
                    .fetch_all(&b.pool)
                    .await?
                    .into_iter()
                    .map(|r| {
                        let at = Some(r.at);
                        r.sealed(at)
                    })
                    .collect(),
            };
            let Some((_, _, (last, _, _))) = page.last() else { break };
            after = *last;
            for (event, hash, (id, action, entity)) in page {
                check.events += 1;
                let Some(e) = event else {
                    // Unreadable: written outside Cordon. Its hash, if any, still chains on.
                    if let Some(h) = hash {
                        prev = Some(h);
                    }
                    check.broken += 1;
                    if check.breaks.len() < ChainCheck::SHOWN {
                        check.breaks.push(ChainBreak { id, at: None, action, entity, kind: "unreadable" });
                    }
                    continue;
                };
                let kind = match (&hash, &prev) {
                    (None, None) => {
                        check.before_chain += 1;
                        continue;
                    }
                    (None, Some(_)) => "unsealed",
                    (Some(stored), before) => {
                        let expected = event_hash(
                            before.as_deref().unwrap_or_default(),
                            e.at,
                            e.actor_id,
                            &e.actor_name,
                            [
                                Some(e.action.as_str()),
                                Some(e.entity.as_str()),
                                e.entity_id.as_deref(),
                                e.area_code.as_deref(),
                                e.before_json.as_deref(),
                                e.after_json.as_deref(),
                                e.request_id.as_deref(),
                                e.client_addr.as_deref(),
                            ],
                        );
                        let ok = *stored == expected;
                        check.head = Some((e.id, stored.clone()));
                        prev = Some(stored.clone());
                        if ok {
                            continue;
                        }
                        "mismatch"
                    }
                };
                check.broken += 1;
                if check.breaks.len() < ChainCheck::SHOWN {
                    check.breaks.push(ChainBreak { id: e.id, at: Some(e.at), action: e.action, entity: e.entity, kind });
                }
            }
        }
        Ok(check)
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
