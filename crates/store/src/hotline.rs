//! The citizen hotline: tickets accepted and dispatched to the unit of their area, each act on
//! them guarded on the status it was read in, their history, the units added to them (加派),
//! the clocks the headquarters configured, and the counts per day, township, category and status
//! kept in each act's transaction for the boards and the daily report. The domain decides
//! (`cordon_domain::hotline`); this reads and writes.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::hotline::{self as rules, Channel, Limits, Satisfaction, TicketAct, TicketCategory, TicketStatus, Urgency};
use cordon_domain::refusal::Refusal;
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Result, Store, StoreError, with_read_pool, with_write_pool};

/// A call as the operator takes it down.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub channel: Channel,
    pub category: TicketCategory,
    pub urgency: Urgency,
    pub caller: String,
    pub phone: String,
    pub address: String,
    /// The area the address resolved to.
    pub area_code: AreaCode,
    /// What the caller needs, in their words.
    pub content: String,
    /// Makes a retry safe: the same id answers the ticket already taken.
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Ticket {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    #[sqlx(try_from = "String")]
    pub category: TicketCategory,
    #[sqlx(try_from = "String")]
    pub urgency: Urgency,
    pub caller: String,
    pub phone: String,
    pub address: String,
    pub area_code: String,
    pub unit_area: Option<String>,
    pub content: String,
    #[sqlx(try_from = "String")]
    pub status: TicketStatus,
    pub step_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub calls: i64,
    pub last_call_at: DateTime<Utc>,
    pub accepted_at: DateTime<Utc>,
    pub accepted_by: String,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub handled_by: Option<String>,
    pub result: String,
    pub called_back_at: Option<DateTime<Utc>>,
    pub called_back_by: Option<String>,
    pub satisfaction: Option<String>,
    pub callback_note: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub supervised_at: Option<DateTime<Utc>>,
    pub supervised_by: Option<String>,
    pub supervise_note: String,
    pub return_reason: String,
    pub reopened: i64,
    pub supply_request_id: Option<i64>,
    pub transfer_id: Option<i64>,
}

impl Ticket {
    /// Its step's clock has run out at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        rules::is_overdue(self.due_at, now)
    }

    /// What the caller said when called back.
    pub fn satisfaction(&self) -> Option<Satisfaction> {
        self.satisfaction.as_deref().and_then(|s| s.parse().ok())
    }
}

const TICKET_COLUMNS: &str = "id, channel, category, urgency, caller, phone, address, area_code, unit_area, content, status, step_at, \
     due_at, calls, last_call_at, accepted_at, accepted_by, dispatched_at, signed_at, signed_by, handled_at, handled_by, result, \
     called_back_at, called_back_by, satisfaction, callback_note, closed_at, closed_by, supervised_at, supervised_by, supervise_note, \
     return_reason, reopened, supply_request_id, transfer_id";

/// A unit added to a ticket (加派), with its own part signed for and handled.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExtraUnit {
    pub ticket_id: i64,
    pub unit_area: String,
    pub note: String,
    pub added_at: DateTime<Utc>,
    pub added_by: String,
    pub due_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub handled_by: Option<String>,
    pub result: String,
}

/// One act in a ticket's history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TicketEvent {
    pub id: i64,
    pub ticket_id: i64,
    #[sqlx(try_from = "String")]
    pub act: TicketAct,
    #[sqlx(try_from = "String")]
    pub status: TicketStatus,
    pub unit_area: Option<String>,
    pub note: String,
    pub at: DateTime<Utc>,
    pub actor: String,
}

/// A call taken: the ticket, and whether the call joined one already open (a repeat call).
#[derive(Debug, Clone, Serialize)]
pub struct Taken {
    pub ticket: Ticket,
    pub joined: bool,
}

/// What an act on a ticket carries.
#[derive(Debug, Clone)]
pub enum Act {
    /// To a unit (a village or township), by the centre.
    Dispatch {
        unit: AreaCode,
    },
    Sign,
    SendBack {
        reason: String,
    },
    Handle {
        result: String,
    },
    CallBack {
        satisfaction: Satisfaction,
        note: String,
    },
    Close,
    Reopen {
        reason: String,
    },
    AddUnit {
        unit: AreaCode,
        note: String,
    },
    Supervise {
        note: String,
    },
}

impl Act {
    pub fn kind(&self) -> TicketAct {
        match self {
            Act::Dispatch { .. } => TicketAct::Dispatch,
            Act::Sign => TicketAct::Sign,
            Act::SendBack { .. } => TicketAct::SendBack,
            Act::Handle { .. } => TicketAct::Handle,
            Act::CallBack { .. } => TicketAct::CallBack,
            Act::Close => TicketAct::Close,
            Act::Reopen { .. } => TicketAct::Reopen,
            Act::AddUnit { .. } => TicketAct::AddUnit,
            Act::Supervise { .. } => TicketAct::Supervise,
        }
    }
}

/// A clock as configured, or the default.
#[derive(Debug, Clone, Serialize)]
pub struct LimitRow {
    pub category: TicketCategory,
    pub urgency: Urgency,
    pub sign_minutes: i64,
    pub handle_minutes: i64,
    pub callback_minutes: i64,
    /// Set by the headquarters (the default otherwise).
    pub configured: bool,
}

/// How many tickets of a day stand in each category and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TicketCount {
    #[sqlx(try_from = "String")]
    pub category: TicketCategory,
    #[sqlx(try_from = "String")]
    pub status: TicketStatus,
    pub n: i64,
}

/// Which board: the centre's (every ticket of the areas) or a unit's (the tickets it answers,
/// its own or added to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    Centre,
    Unit,
}

/// The township a ticket is counted under: its area's first nine digits (the area itself when
/// above a township).
fn township(area: &str) -> &str {
    &area[..area.len().min(9)]
}

fn trimmed(text: &str, max: usize, kind: &'static str) -> Result<String> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(StoreError::from(Refusal::new(kind).with("max", max)));
    }
    Ok(t.to_string())
}

/// Moves a day's count from one status to another (either side may be none) in `tx`.
macro_rules! recount {
    ($tx:expr, $day:expr, $township:expr, $category:expr, $from:expr, $to:expr) => {{
        if let Some(from) = $from {
            sqlx::query("UPDATE hotline_counts SET n = n - 1 WHERE day = $1 AND township = $2 AND category = $3 AND status = $4")
                .bind($day)
                .bind($township)
                .bind($category.as_str())
                .bind(TicketStatus::as_str(from))
                .execute(&mut *$tx)
                .await?;
        }
        if let Some(to) = $to {
            sqlx::query(
                "INSERT INTO hotline_counts (day, township, category, status, n) VALUES ($1, $2, $3, $4, 1) \
                 ON CONFLICT (day, township, category, status) DO UPDATE SET n = hotline_counts.n + 1",
            )
            .bind($day)
            .bind($township)
            .bind($category.as_str())
            .bind(TicketStatus::as_str(to))
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

const INSERT_EVENT: &str =
    "INSERT INTO hotline_events (ticket_id, act, status, unit_area, note, at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7)";

impl Store {
    /// The clocks of a category and urgency: as configured, else the defaults.
    pub(crate) async fn hotline_limits(&self, category: TicketCategory, urgency: Urgency) -> Result<Limits> {
        let row: Option<(i64, i64, i64)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT sign_minutes, handle_minutes, callback_minutes FROM hotline_limits WHERE category = $1 AND urgency = $2")
            .bind(category.as_str()).bind(urgency.as_str()).fetch_optional(pool).await?);
        Ok(match row {
            Some((s, h, c)) => Limits { sign: Duration::minutes(s), handle: Duration::minutes(h), callback: Duration::minutes(c) },
            None => rules::default_limits(category, urgency),
        })
    }

    /// Every category and urgency with its clocks.
    pub(crate) async fn all_hotline_limits(&self) -> Result<Vec<LimitRow>> {
        let set: Vec<(String, String, i64, i64, i64)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT category, urgency, sign_minutes, handle_minutes, callback_minutes FROM hotline_limits").fetch_all(pool).await?);
        let mut out = Vec::new();
        for c in TicketCategory::ALL {
            for u in Urgency::ALL {
                let row = set.iter().find(|r| r.0 == c.as_str() && r.1 == u.as_str());
                let d = rules::default_limits(*c, *u);
                out.push(match row {
                    Some(r) => LimitRow {
                        category: *c,
                        urgency: *u,
                        sign_minutes: r.2,
                        handle_minutes: r.3,
                        callback_minutes: r.4,
                        configured: true,
                    },
                    None => LimitRow {
                        category: *c,
                        urgency: *u,
                        sign_minutes: d.sign.num_minutes(),
                        handle_minutes: d.handle.num_minutes(),
                        callback_minutes: d.callback.num_minutes(),
                        configured: false,
                    },
                });
            }
        }
        Ok(out)
    }

    /// Sets the clocks of a category and urgency (tickets taken from now on run on them).
    pub(crate) async fn set_hotline_limits(&self, actor: &Actor, row: &LimitRow) -> Result<()> {
        for m in [row.sign_minutes, row.handle_minutes, row.callback_minutes] {
            rules::check_limit_minutes(m)?;
        }
        let now = Utc::now();
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO hotline_limits (category, urgency, sign_minutes, handle_minutes, callback_minutes, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (category, urgency) DO UPDATE SET sign_minutes = excluded.sign_minutes, \
                 handle_minutes = excluded.handle_minutes, callback_minutes = excluded.callback_minutes, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by")
                .bind(row.category.as_str()).bind(row.urgency.as_str()).bind(row.sign_minutes).bind(row.handle_minutes)
                .bind(row.callback_minutes).bind(now).bind(&actor.name).execute(&mut *tx).await?;
            tx.append(actor, &Change::new("set_limits", "hotline", 0).after(serde_json::json!({
                "category": row.category, "urgency": row.urgency, "sign_minutes": row.sign_minutes,
                "handle_minutes": row.handle_minutes, "callback_minutes": row.callback_minutes }))).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Takes a call: a new ticket dispatched at once to the unit of its area (the centre
    /// dispatches one above a township by hand), or — the same phone and category within a day,
    /// the ticket still open — the call joins that ticket. A client id sent again answers the
    /// ticket it made. Taken at `now` (the demo seeds a day's calls at their times; every
    /// request goes through the scoped door, at the present).
    pub async fn take_call(&self, actor: &Actor, new: &NewTicket, now: DateTime<Utc>) -> Result<Taken> {
        // A mobile as its eleven digits (+86 139 1234 5678 is 13912345678), a landline as
        // written: a repeat call is found however the number was typed.
        let phone = match cordon_domain::phone::Phone::parse(&new.phone) {
            Ok(p) => p.as_str().to_string(),
            Err(_) => cordon_domain::phone::contact_phone(&new.phone).map_err(Refusal::from)?,
        };
        let caller = trimmed(&new.caller, 100, "refused.hotline.caller_long")?;
        let address = rules::check_text("address", &new.address)?;
        let content = rules::check_text("content", &new.content)?;
        let client_id = new.client_id.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        if client_id.as_ref().is_some_and(|c| c.len() > 100) {
            return Err(refused!("refused.hotline.bad_client_id"));
        }
        if let Some(taken) = self.taken_before(client_id.as_deref()).await? {
            return Ok(taken);
        }
        if self.area(&new.area_code).await?.is_none() {
            return Err(refused!("refused.area_unregistered", area = new.area_code));
        }
        // A repeat call joins the open ticket of the same phone and category of the last day.
        let since = now - Duration::hours(rules::REPEAT_WINDOW_HOURS);
        let open: Option<(i64, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, status, accepted_at FROM hotline_tickets WHERE phone = $1 AND category = $2 AND area_code = $3 \
             AND accepted_at >= $4 AND status <> 'closed' ORDER BY id DESC LIMIT 1")
            .bind(&phone).bind(new.category.as_str()).bind(new.area_code.as_str()).bind(since).fetch_optional(pool).await?);
        if let Some((id, status, accepted_at)) = open {
            let status: TicketStatus = status.parse().map_err(StoreError::Task)?;
            if rules::joins(status, accepted_at, now) {
                let joined: Result<()> = with_write_pool!(self, pool => {
                    async {
                        let mut tx = pool.begin_write().await?;
                        sqlx::query("UPDATE hotline_tickets SET calls = calls + 1, last_call_at = $2 WHERE id = $1")
                            .bind(id).bind(now).execute(&mut *tx).await?;
                        sqlx::query("INSERT INTO hotline_events (ticket_id, act, status, unit_area, note, at, actor, client_id) \
                             VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)")
                            .bind(id).bind(TicketAct::Repeat.as_str()).bind(status.as_str()).bind(&content).bind(now).bind(&actor.name)
                            .bind(&client_id).execute(&mut *tx).await?;
                        tx.append(actor, &Change::new("repeat", "hotline_ticket", id).area(new.area_code.as_str())
                            .after(serde_json::json!({ "content": content }))).await?;
                        tx.commit().await?;
                        Ok(())
                    }.await
                });
                // The same call sent twice at once: the second finds the first.
                if let Err(e) = joined {
                    return match self.taken_before(client_id.as_deref()).await? {
                        Some(taken) if e.refusal().is_some_and(|r| r.kind == "refused.duplicate") => Ok(taken),
                        _ => Err(e),
                    };
                }
                let ticket = self.ticket(id).await?.ok_or_else(|| StoreError::Task("ticket gone".into()))?;
                return Ok(Taken { ticket, joined: true });
            }
        }
        let limits = self.hotline_limits(new.category, new.urgency).await?;
        let unit = rules::unit_for(&new.area_code);
        let status = if unit.is_some() { TicketStatus::Dispatched } else { TicketStatus::Accepted };
        let due = rules::due_at(status, now, &limits);
        let day = cordon_domain::local_date(now);
        let area = new.area_code.as_str();
        let inserted: Result<i64> = with_write_pool!(self, pool => { async {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO hotline_tickets (channel, category, urgency, caller, phone, address, area_code, unit_area, content, status, \
                 step_at, due_at, last_call_at, accepted_at, accepted_by, dispatched_at, client_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11, $11, $13, $14, $15) RETURNING id")
                .bind(new.channel.as_str()).bind(new.category.as_str()).bind(new.urgency.as_str()).bind(&caller).bind(&phone)
                .bind(&address).bind(area).bind(unit.as_ref().map(|u| u.as_str().to_string())).bind(&content)
                .bind(status.as_str()).bind(now).bind(due).bind(&actor.name).bind(unit.as_ref().map(|_| now)).bind(&client_id)
                .fetch_one(&mut *tx).await?;
            sqlx::query(INSERT_EVENT).bind(id).bind(TicketAct::Accept.as_str()).bind(TicketStatus::Accepted.as_str())
                .bind(None::<String>).bind("").bind(now).bind(&actor.name).execute(&mut *tx).await?;
            if let Some(u) = &unit {
                sqlx::query(INSERT_EVENT).bind(id).bind(TicketAct::Dispatch.as_str()).bind(status.as_str())
                    .bind(Some(u.as_str().to_string())).bind("").bind(now).bind(&actor.name).execute(&mut *tx).await?;
            }
            recount!(tx, day, township(area), new.category, None::<TicketStatus>, Some(status));
            tx.append(actor, &Change::new("accept", "hotline_ticket", id).area(area).after(serde_json::json!({
                "channel": new.channel, "category": new.category, "urgency": new.urgency, "unit": unit.as_ref().map(|u| u.as_str()),
                "status": status }))).await?;
            tx.commit().await?;
            Ok(id)
        }.await });
        let id = match inserted {
            Ok(id) => id,
            // The same call sent twice at once: the second finds the first's ticket.
            Err(e) => {
                return match self.taken_before(client_id.as_deref()).await? {
                    Some(taken) if e.refusal().is_some_and(|r| r.kind == "refused.duplicate") => Ok(taken),
                    _ => Err(e),
                };
            }
        };
        Ok(Taken { ticket: self.ticket(id).await?.ok_or_else(|| StoreError::Task("ticket gone".into()))?, joined: false })
    }

    /// The call a client id took already: the ticket it made, or the ticket it joined.
    async fn taken_before(&self, client_id: Option<&str>) -> Result<Option<Taken>> {
        let Some(cid) = client_id else { return Ok(None) };
        let made: Option<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id FROM hotline_tickets WHERE client_id = $1").bind(cid).fetch_optional(pool).await?);
        let joined: Option<(i64,)> = match made {
            Some(_) => None,
            None => with_read_pool!(self, pool =>
                sqlx::query_as("SELECT ticket_id FROM hotline_events WHERE client_id = $1").bind(cid).fetch_optional(pool).await?),
        };
        let Some((id, joined)) = made.map(|(id,)| (id, false)).or(joined.map(|(id,)| (id, true))) else { return Ok(None) };
        let ticket = self.ticket(id).await?.ok_or_else(|| StoreError::Task("ticket gone".into()))?;
        Ok(Some(Taken { ticket, joined }))
    }

    pub(crate) async fn ticket(&self, id: i64) -> Result<Option<Ticket>> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM hotline_tickets WHERE id = $1");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
    }

    pub(crate) async fn ticket_events(&self, id: i64) -> Result<Vec<TicketEvent>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, TicketEvent>(
            "SELECT id, ticket_id, act, status, unit_area, note, at, actor FROM hotline_events WHERE ticket_id = $1 ORDER BY id")
            .bind(id).fetch_all(pool).await?))
    }

    pub(crate) async fn ticket_units(&self, id: i64) -> Result<Vec<ExtraUnit>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, ExtraUnit>(
            "SELECT ticket_id, unit_area, note, added_at, added_by, due_at, signed_at, signed_by, handled_at, handled_by, result \
             FROM hotline_ticket_units WHERE ticket_id = $1 ORDER BY added_at")
            .bind(id).fetch_all(pool).await?))
    }

    /// Does `act` to a ticket read in `t.status` at `now`: guarded on that status, its step's
    /// clock started again, the day's counts moved, its history and the audit log written. (The
    /// demo works its first day's tickets at their times; every request goes through the scoped
    /// door, at the present.)
    pub async fn act_on_ticket(&self, actor: &Actor, t: &Ticket, act: &Act, now: DateTime<Utc>) -> Result<Ticket> {
        use crate::Param;
        let to = rules::next(t.status, act.kind())?;
        let limits = self.hotline_limits(t.category, t.urgency).await?;
        // The step's clock starts again when the status moves (and on a second dispatch).
        let restarts = to != t.status || matches!(act, Act::Dispatch { .. });
        let (step_at, due) = if restarts { (now, rules::due_at(to, now, &limits)) } else { (t.step_at, t.due_at) };
        let mut params = vec![
            Param::Int(t.id),
            Param::Text(t.status.as_str().to_string()),
            Param::Text(to.as_str().to_string()),
            Param::Time(step_at),
            Param::OptTime(due),
            Param::Time(t.step_at),
        ];
        let mut sets: Vec<String> = vec!["status = $3".into(), "step_at = $4".into(), "due_at = $5".into()];
        let mut set = |column: &str, value: Param| {
            params.push(value);
            sets.push(format!("{column} = ${}", params.len()));
        };
        let by = || Param::Text(actor.name.clone());
        // What its history says, and the unit it concerns.
        let (note, unit): (String, Option<String>) = match act {
            Act::Dispatch { unit } | Act::AddUnit { unit, .. } => {
                if rules::unit_for(unit).is_none() {
                    return Err(refused!("refused.hotline.unit_level", area = unit.as_str().to_string()));
                }
                if self.area(unit).await?.is_none() {
                    return Err(refused!("refused.area_unregistered", area = unit.as_str().to_string()));
                }
                if let Act::AddUnit { note, .. } = act {
                    let taken = self.ticket_units(t.id).await?.iter().any(|u| u.unit_area == unit.as_str());
                    if t.unit_area.as_deref() == Some(unit.as_str()) || taken {
                        return Err(refused!("refused.hotline.unit_twice", area = unit.as_str().to_string()));
                    }
                    (trimmed(note, rules::TEXT_MAX, "refused.hotline.text_long")?, Some(unit.as_str().to_string()))
                } else {
                    set("unit_area", Param::Text(unit.as_str().to_string()));
                    set("dispatched_at", Param::Time(now));
                    // The reason it was sent back stays in its history, not on the ticket.
                    set("return_reason", Param::Text(String::new()));
                    (String::new(), Some(unit.as_str().to_string()))
                }
            }
            Act::Sign => {
                set("signed_at", Param::Time(now));
                set("signed_by", by());
                (String::new(), t.unit_area.clone())
            }
            Act::SendBack { reason } => {
                let reason = rules::check_text("reason", reason)?;
                set("return_reason", Param::Text(reason.clone()));
                (reason, t.unit_area.clone())
            }
            Act::Handle { result } => {
                let result = rules::check_text("result", result)?;
                set("handled_at", Param::Time(now));
                set("handled_by", by());
                set("result", Param::Text(result.clone()));
                (result, t.unit_area.clone())
            }
            Act::CallBack { satisfaction, note } => {
                let note = trimmed(note, rules::TEXT_MAX, "refused.hotline.text_long")?;
                set("called_back_at", Param::Time(now));
                set("called_back_by", by());
                set("satisfaction", Param::Text(satisfaction.as_str().to_string()));
                set("callback_note", Param::Text(note.clone()));
                (note, None)
            }
            Act::Close => {
                set("closed_at", Param::Time(now));
                set("closed_by", by());
                (String::new(), None)
            }
            Act::Reopen { reason } => {
                for column in ["signed_at", "signed_by", "handled_at", "handled_by", "closed_at", "closed_by"] {
                    sets.push(format!("{column} = NULL"));
                }
                sets.push("reopened = reopened + 1".into());
                sets.push("return_reason = ''".into());
                (rules::check_text("reason", reason)?, t.unit_area.clone())
            }
            Act::Supervise { note } => {
                let note = rules::check_text("note", note)?;
                set("supervised_at", Param::Time(now));
                set("supervised_by", by());
                set("supervise_note", Param::Text(note.clone()));
                (note, None)
            }
        };
        // Guarded on the status and the step read: a ticket dispatched elsewhere meanwhile (its
        // step begun again) is not acted on by the unit it left.
        let sql = format!("UPDATE hotline_tickets SET {} WHERE id = $1 AND status = $2 AND step_at = $6", sets.join(", "));
        let day = cordon_domain::local_date(t.accepted_at);
        let kind = act.kind();
        let (from, moved_to) = if to != t.status { (Some(t.status), Some(to)) } else { (None, None) };
        let extra_due = now + limits.sign;
        let satisfaction = match act {
            Act::CallBack { satisfaction, .. } => Some(*satisfaction),
            _ => None,
        };
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?;
            if moved.rows_affected() != 1 {
                return Err(StoreError::from(Refusal::conflict("refused.hotline.moved")));
            }
            if let Act::AddUnit { unit, .. } = act {
                sqlx::query("INSERT INTO hotline_ticket_units (ticket_id, unit_area, note, added_at, added_by, due_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(t.id).bind(unit.as_str()).bind(&note).bind(now).bind(&actor.name).bind(extra_due).execute(&mut *tx).await?;
            }
            sqlx::query(INSERT_EVENT).bind(t.id).bind(kind.as_str()).bind(to.as_str()).bind(&unit).bind(&note).bind(now)
                .bind(&actor.name).execute(&mut *tx).await?;
            recount!(tx, day, township(&t.area_code), t.category, from, moved_to);
            tx.append(actor, &Change::new(kind.as_str(), "hotline_ticket", t.id).area(&t.area_code)
                .before(serde_json::json!({ "status": t.status }))
                .after(serde_json::json!({ "status": to, "unit": unit, "note": note, "satisfaction": satisfaction }))).await?;
            tx.commit().await?;
        });
        self.ticket(t.id).await?.ok_or_else(|| StoreError::Task("ticket gone".into()))
    }

    /// An added unit signs for its part of a ticket, or reports it handled.
    pub(crate) async fn act_as_added_unit(
        &self,
        actor: &Actor,
        t: &Ticket,
        unit: &str,
        handled: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let units = self.ticket_units(t.id).await?;
        let Some(part) = units.iter().find(|u| u.unit_area == unit) else {
            return Err(missing!("refused.hotline.not_added", area = unit.to_string()));
        };
        if !t.status.open() {
            return Err(StoreError::from(
                Refusal::conflict("refused.hotline.cannot")
                    .with(
                        "act",
                        cordon_domain::refusal::term("ticket.act", if handled.is_some() { TicketAct::Handle } else { TicketAct::Sign }),
                    )
                    .with("status", cordon_domain::refusal::term("ticket.status", t.status)),
            ));
        }
        let limits = self.hotline_limits(t.category, t.urgency).await?;
        let (sql, act, note, due) = match handled {
            None if part.signed_at.is_none() => (
                "UPDATE hotline_ticket_units SET signed_at = $3, signed_by = $4, due_at = $6 WHERE ticket_id = $1 AND unit_area = $2 AND signed_at IS NULL",
                TicketAct::Sign,
                String::new(),
                Some(now + limits.handle),
            ),
            Some(result) if part.signed_at.is_some() && part.handled_at.is_none() => (
                "UPDATE hotline_ticket_units SET handled_at = $3, handled_by = $4, result = $5, due_at = $6 WHERE ticket_id = $1 AND unit_area = $2 \
                 AND handled_at IS NULL",
                TicketAct::Handle,
                rules::check_text("result", result)?,
                None,
            ),
            _ => return Err(StoreError::from(Refusal::conflict("refused.hotline.part_done"))),
        };
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query(sql).bind(t.id).bind(unit).bind(now).bind(&actor.name).bind(&note).bind(due).execute(&mut *tx).await?;
            if moved.rows_affected() != 1 {
                return Err(StoreError::from(Refusal::conflict("refused.hotline.moved")));
            }
            sqlx::query(INSERT_EVENT).bind(t.id).bind(act.as_str()).bind(t.status.as_str()).bind(Some(unit.to_string())).bind(&note)
                .bind(now).bind(&actor.name).execute(&mut *tx).await?;
            tx.append(actor, &Change::new(act.as_str(), "hotline_ticket", t.id).area(&t.area_code)
                .after(serde_json::json!({ "added_unit": unit, "note": note }))).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// A board: the open tickets of `scope` — the centre's by the ticket's area, a unit's by the
    /// unit answering it or added to it — the soonest due (the overdue) first.
    pub(crate) async fn ticket_board(&self, scope: &[AreaCode], board: Board, limit: i64) -> Result<Vec<Ticket>> {
        let mut params = Vec::new();
        let column = if board == Board::Centre { "area_code" } else { "unit_area" };
        let Some(inside) = crate::in_areas(column, scope, &mut params) else { return Ok(Vec::new()) };
        let added = match board {
            Board::Centre => String::new(),
            Board::Unit => {
                let Some(units) = crate::in_areas("u.unit_area", scope, &mut params) else { return Ok(Vec::new()) };
                format!(" OR id IN (SELECT u.ticket_id FROM hotline_ticket_units u WHERE u.handled_at IS NULL AND {units})")
            }
        };
        params.push(crate::Param::Int(limit));
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM hotline_tickets WHERE status <> 'closed' AND ({inside}{added}) ORDER BY due_at, id LIMIT ${}",
            params.len()
        );
        Ok(with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// Every ticket of `scope` by its area, the newest first, `before` an id.
    pub(crate) async fn tickets_recent(&self, scope: &[AreaCode], before: Option<i64>, limit: i64) -> Result<Vec<Ticket>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("area_code", scope, &mut params) else { return Ok(Vec::new()) };
        params.push(crate::Param::Int(before.unwrap_or(i64::MAX)));
        let before = params.len();
        params.push(crate::Param::Int(limit));
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM hotline_tickets WHERE {inside} AND id < ${before} ORDER BY id DESC LIMIT ${}",
            params.len()
        );
        Ok(with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// The tickets accepted on `day` in `scope`, by category and where they stand: the kept
    /// counts, summed over the townships.
    pub(crate) async fn ticket_counts(&self, scope: &[AreaCode], day: NaiveDate) -> Result<Vec<TicketCount>> {
        let mut params = vec![crate::Param::Date(day)];
        // A jurisdiction below a township counts its township's tickets by their unit instead.
        let Some(inside) = crate::in_areas("township", &township_scope(scope), &mut params) else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT category, status, CAST(SUM(n) AS BIGINT) AS n FROM hotline_counts WHERE day = $1 AND {inside} AND n > 0 GROUP BY category, status ORDER BY category, status"
        );
        let rows: Vec<(String, String, i64)> = with_read_pool!(self, pool =>
            crate::bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(c, s, n)| {
                Ok(TicketCount { category: c.parse().map_err(StoreError::Task)?, status: s.parse().map_err(StoreError::Task)?, n })
            })
            .collect()
    }

    /// Marks the supply request a ticket raised.
    pub(crate) async fn link_ticket_request(&self, actor: &Actor, t: &Ticket, request: i64) -> Result<()> {
        let now = Utc::now();
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let linked = sqlx::query("UPDATE hotline_tickets SET supply_request_id = $2 WHERE id = $1 AND supply_request_id IS NULL")
                .bind(t.id).bind(request).execute(&mut *tx).await?;
            if linked.rows_affected() != 1 {
                return Err(StoreError::from(Refusal::conflict("refused.hotline.moved")));
            }
            sqlx::query("UPDATE supply_requests SET ticket_id = $2 WHERE id = $1").bind(request).bind(t.id).execute(&mut *tx).await?;
            sqlx::query(INSERT_EVENT).bind(t.id).bind(TicketAct::RaiseRequest.as_str()).bind(t.status.as_str()).bind(t.unit_area.clone())
                .bind(format!("REQ-{request}")).bind(now).bind(&actor.name).execute(&mut *tx).await?;
            tx.append(actor, &Change::new("raise_request", "hotline_ticket", t.id).area(&t.area_code)
                .after(serde_json::json!({ "supply_request": request }))).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}

impl Store {
    /// Raises a transfer to `hospital` for a medical-need ticket: planned on the dispatch board
    /// of the ticket's area (a vehicle assigned there), from the caller's address, due within
    /// the kind's hours; the ticket names it, once.
    pub(crate) async fn raise_ticket_transfer(
        &self,
        actor: &Actor,
        t: &Ticket,
        hospital: &crate::transfers::Hospital,
        incident_id: i64,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let kind = cordon_domain::transfer::TransferKind::MedicalTrip;
        let deadline = kind.deadline(now);
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO transfers (incident_id, kind, from_place, to_place, to_hospital_id, area_code, status, deadline, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'planned', $7, $8, $9) RETURNING id")
                .bind(incident_id).bind(kind.as_str()).bind(t.address.chars().take(200).collect::<String>()).bind(&hospital.name)
                .bind(hospital.id).bind(&t.area_code).bind(deadline).bind(now).bind(&actor.name)
                .fetch_one(&mut *tx).await?;
            let linked = sqlx::query("UPDATE hotline_tickets SET transfer_id = $2 WHERE id = $1 AND transfer_id IS NULL")
                .bind(t.id).bind(id).execute(&mut *tx).await?;
            if linked.rows_affected() != 1 {
                return Err(StoreError::from(Refusal::conflict("refused.hotline.moved")));
            }
            sqlx::query(INSERT_EVENT).bind(t.id).bind(TicketAct::RaiseTransfer.as_str()).bind(t.status.as_str()).bind(t.unit_area.clone())
                .bind(format!("{} · #{id}", hospital.name)).bind(now).bind(&actor.name).execute(&mut *tx).await?;
            tx.append(actor, &Change::new("plan", "transfer", id).area(&t.area_code).after(serde_json::json!({
                "kind": kind, "ticket": t.id, "hospital": hospital.name }))).await?;
            tx.append(actor, &Change::new("raise_transfer", "hotline_ticket", t.id).area(&t.area_code)
                .after(serde_json::json!({ "transfer": id }))).await?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }
}

/// The township prefixes a jurisdiction's counts are read under: each area cut to at most
/// nine digits (a village's worker reads its township's counts).
fn township_scope(scope: &[AreaCode]) -> Vec<AreaCode> {
    scope.iter().filter_map(|a| AreaCode::parse(township(a.as_str())).ok()).collect()
}
