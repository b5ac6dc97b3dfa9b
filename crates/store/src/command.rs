//! The headquarters as a command: the incident's response level and its changes, its task forces
//! with their lead and members, and instructions (指令) fanned out to recipients — task forces,
//! townships or communities, persons — each with its own state and clock. Every act is asked of
//! `domain::command` first and written with its audit event and the notices it raises in one
//! transaction; a state changed meanwhile is a conflict, never overwritten.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::command::{self as rules, Act, Clock, NoticeKind, RecipientKind, RecipientState, ResponseLevel, TaskForceKind};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::accounts::User;
use crate::audit::{Actor, Append, Change};
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// An incident as its command page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub id: i64,
    pub name: String,
    pub area_code: String,
    pub started_at: DateTime<Utc>,
    pub level: Option<ResponseLevel>,
    pub rule_set: String,
}

/// One change of an incident's response level.
#[derive(Debug, Clone, Serialize)]
pub struct LevelChange {
    pub level: ResponseLevel,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

/// An account on a task force.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskForce {
    pub id: i64,
    pub incident_id: i64,
    pub name: String,
    pub kind: TaskForceKind,
    pub lead: Option<Member>,
    pub members: Vec<Member>,
}

/// The incident with its level's history and its task forces.
#[derive(Debug, Clone, Serialize)]
pub struct Command {
    pub incident: Incident,
    pub levels: Vec<LevelChange>,
    pub task_forces: Vec<TaskForce>,
}

/// Whom an instruction goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecipientAsk {
    TaskForce(i64),
    Area(AreaCode),
    User(i64),
}

impl RecipientAsk {
    fn kind(&self) -> RecipientKind {
        match self {
            RecipientAsk::TaskForce(_) => RecipientKind::TaskForce,
            RecipientAsk::Area(_) => RecipientKind::Area,
            RecipientAsk::User(_) => RecipientKind::User,
        }
    }
}

/// An instruction to issue.
#[derive(Debug, Clone)]
pub struct NewInstruction {
    pub incident_id: i64,
    pub title: String,
    pub body: String,
    pub deadline: DateTime<Utc>,
    /// The task force whose lead issues it; none for the headquarters.
    pub task_force_id: Option<i64>,
    pub recipients: Vec<RecipientAsk>,
}

/// An instruction in a list: who gave it, its deadline, and where its recipients stand.
#[derive(Debug, Clone, Serialize)]
pub struct InstructionSummary {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    pub task_force_id: Option<i64>,
    pub task_force: Option<String>,
    pub issued_by_id: Option<i64>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Recipients now (a reassigned one counts once, as its successor); apart from an
    /// instruction's list of them.
    #[serde(rename = "recipient_count")]
    pub recipients: i64,
    /// Recipients by state (`issued`, `received`, …), every state present.
    pub by_state: BTreeMap<RecipientState, i64>,
    /// Open recipients past their deadline.
    pub overdue: i64,
    /// Open recipients within an hour of it.
    pub due_soon: i64,
}

/// One act on a recipient, as logged.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    pub act: Act,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    pub by_name: String,
}

/// One recipient of an instruction with its clock and its acts.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    pub id: i64,
    pub instruction_id: i64,
    pub kind: RecipientKind,
    pub task_force_id: Option<i64>,
    pub area_code: Option<String>,
    pub user_id: Option<i64>,
    /// The task force's, area's or person's name.
    pub label: String,
    pub state: RecipientState,
    pub deadline: DateTime<Utc>,
    pub assigned_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub report: Option<String>,
    pub replaces_id: Option<i64>,
    /// When it last changed: an act writes only if it is still so.
    #[serde(skip)]
    pub updated_at: DateTime<Utc>,
    pub clock: Clock,
    pub events: Vec<Event>,
}

/// An instruction with every recipient.
#[derive(Debug, Clone, Serialize)]
pub struct Instruction {
    #[serde(flatten)]
    pub summary: InstructionSummary,
    pub body: String,
    pub recipients: Vec<Recipient>,
}

/// What a list of instructions holds.
#[derive(Debug, Clone, Default)]
pub struct InstructionFilter {
    pub incident_id: Option<i64>,
    /// Issued by this task force or sent to it.
    pub task_force_id: Option<i64>,
    /// Only those this account issued or acts for (with its jurisdiction's areas).
    pub mine: Option<(i64, Vec<AreaCode>)>,
    /// Only those with a recipient open past its deadline.
    pub overdue: bool,
    /// Ids below this one (the list pages by key, newest first).
    pub before: Option<i64>,
    pub limit: u32,
}

/// A notice for one account.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub id: i64,
    pub kind: NoticeKind,
    pub instruction_id: i64,
    pub recipient_id: i64,
    pub title: String,
    pub recipient: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// An act asked on one recipient.
#[derive(Debug, Clone)]
pub struct ActAsk {
    pub act: Act,
    pub text: String,
    /// A new deadline: on a send-back (needed when the old one has passed) or a reassignment.
    pub deadline: Option<DateTime<Utc>>,
    /// The new recipient of a reassignment.
    pub to: Option<RecipientAsk>,
}

/// Who is asking: the account, and whether it commands (`command.write`).
pub(crate) struct Asker<'a> {
    pub(crate) user: &'a User,
    pub(crate) commands: bool,
}

/// Whether `user`, leading or in the task forces `forces`, acts for the recipient: a person
/// themselves; a task force's lead and members; an area's accounts ([`rules::acts_for_area`]).
pub(crate) fn acts_for_with(user: &User, forces: &HashSet<i64>, r: &Recipient) -> bool {
    match (r.kind, r.user_id, r.task_force_id, &r.area_code) {
        (RecipientKind::User, Some(u), _, _) => u == user.id,
        (RecipientKind::TaskForce, _, Some(t), _) => forces.contains(&t),
        (RecipientKind::Area, _, _, Some(a)) => rules::acts_for_area(user.jurisdiction.areas().iter().map(|j| j.as_str()), a),
        _ => false,
    }
}

const RECIPIENT_SELECT: &str = "SELECT r.id, r.instruction_id, r.kind, r.task_force_id, r.area_code, r.user_id, \
     COALESCE(tf.name, a.name, u.display_name, ''), r.state, r.deadline, r.assigned_at, r.received_at, r.done_at, \
     r.escalated_at, r.report, r.replaces_id, r.updated_at \
     FROM instruction_recipients r LEFT JOIN task_forces tf ON tf.id = r.task_force_id \
     LEFT JOIN areas a ON a.code = r.area_code LEFT JOIN users u ON u.id = r.user_id";

type RecipientRow = (
    i64,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<i64>,
    DateTime<Utc>,
);

fn recipient_from(row: RecipientRow, now: DateTime<Utc>) -> Result<Recipient> {
    let (
        id,
        instruction_id,
        kind,
        task_force_id,
        area_code,
        user_id,
        label,
        state,
        deadline,
        assigned_at,
        received_at,
        done_at,
        escalated_at,
        report,
        replaces_id,
        updated_at,
    ) = row;
    let state: RecipientState = state.parse().map_err(StoreError::Corrupt)?;
    Ok(Recipient {
        id,
        instruction_id,
        kind: kind.parse().map_err(StoreError::Corrupt)?,
        task_force_id,
        area_code,
        user_id,
        label,
        state,
        deadline,
        assigned_at,
        received_at,
        done_at,
        escalated_at,
        report,
        replaces_id,
        updated_at,
        clock: rules::clock(state, deadline, done_at, now),
        events: Vec::new(),
    })
}

/// A notice, unless the account has one of the kind for the instruction unread already (one
/// notice however many villages it concerns; a unique index keeps it so under concurrency).
const INSERT_NOTICE: &str = "INSERT INTO notices (user_id, kind, instruction_id, recipient_id, created_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (user_id, kind, instruction_id) WHERE read_at IS NULL DO NOTHING";

/// An instruction's row, its issuer by the name people know them by (their account's display
/// name; the name it was issued under when the account is gone).
const SUMMARY_SELECT: &str = "SELECT i.id, i.incident_id, i.title, i.task_force_id, tf.name, i.issued_by_id, \
     COALESCE(iu.display_name, i.issued_by), i.issued_at, i.deadline FROM instructions i \
     LEFT JOIN task_forces tf ON tf.id = i.task_force_id LEFT JOIN users iu ON iu.id = i.issued_by_id";

/// An incident's row: id, name, area, start, level, rule set.
type IncidentRow = (i64, String, String, DateTime<Utc>, Option<String>, String);
/// A task force's row: id, name, kind, and its lead's id, user name and name.
type TaskForceRow = (i64, String, String, Option<i64>, Option<String>, Option<String>);
/// An act's row: recipient, act, note, when, by whom.
type EventRow = (i64, String, Option<String>, DateTime<Utc>, String);
/// A notice's row: id, kind, instruction, recipient, title, recipient's name, made, read.
type NoticeRow = (i64, String, i64, i64, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

type SummaryRow = (i64, i64, String, Option<i64>, Option<String>, Option<i64>, String, DateTime<Utc>, DateTime<Utc>);

fn summary_from(row: SummaryRow) -> InstructionSummary {
    let (id, incident_id, title, task_force_id, task_force, issued_by_id, issued_by, issued_at, deadline) = row;
    InstructionSummary {
        id,
        incident_id,
        title,
        task_force_id,
        task_force,
        issued_by_id,
        issued_by,
        issued_at,
        deadline,
        recipients: 0,
        by_state: RecipientState::ALL.iter().map(|s| (*s, 0)).collect(),
        overdue: 0,
        due_soon: 0,
    }
}

/// Whether an account works in an incident's area: one of its areas lies in it or holds it.
pub(crate) fn works_in(user: &User, area: &AreaCode) -> bool {
    user.jurisdiction.areas().iter().any(|j| area.contains(j) || j.contains(area))
}

impl Recipient {
    /// Whom it names, as an instruction asks it.
    fn ask(&self) -> Result<RecipientAsk> {
        match (self.kind, self.task_force_id, &self.area_code, self.user_id) {
            (RecipientKind::TaskForce, Some(t), _, _) => Ok(RecipientAsk::TaskForce(t)),
            (RecipientKind::Area, _, Some(a), _) => Ok(RecipientAsk::Area(AreaCode::parse(a).map_err(StoreError::corrupt)?)),
            (RecipientKind::User, _, _, Some(u)) => Ok(RecipientAsk::User(u)),
            _ => Err(StoreError::Corrupt(format!("instruction recipient {} names nobody", self.id))),
        }
    }
}

impl Store {
    /// Opens an incident over `area` (启动应急响应) at `started_at`, at a response level when
    /// one is given, under the default rule set.
    pub(crate) async fn open_incident(
        &self,
        actor: &Actor,
        name: &str,
        area: &AreaCode,
        started_at: DateTime<Utc>,
        level: Option<ResponseLevel>,
    ) -> Result<i64> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(refused!("refused.incident.name", max = 100));
        }
        if self.area(area).await?.is_none() {
            return Err(refused!("refused.area_unregistered", area = area));
        }
        let rule_set = crate::testing::DEFAULT_RULE_SET;
        let change = Change::new("open", "incident", name)
            .area(area.as_str())
            .after(serde_json::json!({"name": name, "started_at": started_at, "level": level, "rule_set": rule_set}));
        Ok(with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO incidents (name, area_code, started_at, response_level, rule_set) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(name).bind(area.as_str()).bind(started_at).bind(level.map(|l| l.as_str())).bind(rule_set)
                .fetch_one(&mut *tx).await?;
            if let Some(l) = level {
                sqlx::query("INSERT INTO incident_levels (incident_id, level, reason, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id).bind(l.as_str()).bind("启动应急响应").bind(started_at).bind(&actor.name)
                    .execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        }))
    }

    /// The incident with its level's changes and its task forces.
    pub(crate) async fn command(&self, incident_id: i64) -> Result<Command> {
        let row: Option<IncidentRow> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id, name, area_code, started_at, response_level, rule_set FROM incidents WHERE id = $1")
                .bind(incident_id).fetch_optional(pool).await?);
        let (id, name, area_code, started_at, level, rule_set) = row.ok_or_else(|| missing!("refused.incident.none", id = incident_id))?;
        let level = level.map(|l| l.parse::<ResponseLevel>()).transpose().map_err(StoreError::Corrupt)?;
        let incident = Incident { id, name, area_code, started_at, level, rule_set };
        let levels: Vec<(String, String, DateTime<Utc>, String)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT l.level, l.reason, l.changed_at, COALESCE(u.display_name, l.changed_by) FROM incident_levels l \
                 LEFT JOIN users u ON u.username = l.changed_by WHERE l.incident_id = $1 ORDER BY l.changed_at, l.id")
                .bind(incident_id).fetch_all(pool).await?);
        let levels = levels
            .into_iter()
            .map(|(l, reason, changed_at, changed_by)| {
                Ok(LevelChange { level: l.parse().map_err(StoreError::Corrupt)?, reason, changed_at, changed_by })
            })
            .collect::<Result<Vec<_>>>()?;
        let task_forces = self.task_forces(incident_id).await?;
        Ok(Command { incident, levels, task_forces })
    }

    /// An incident's task forces in the order they were made, with lead and members.
    pub(crate) async fn task_forces(&self, incident_id: i64) -> Result<Vec<TaskForce>> {
        let rows: Vec<TaskForceRow> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT tf.id, tf.name, tf.kind, tf.lead_user_id, u.username, u.display_name FROM task_forces tf \
                 LEFT JOIN users u ON u.id = tf.lead_user_id WHERE tf.incident_id = $1 ORDER BY tf.id")
                .bind(incident_id).fetch_all(pool).await?);
        let members: Vec<(i64, i64, String, String)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT m.task_force_id, u.id, u.username, u.display_name FROM task_force_members m \
                 JOIN task_forces tf ON tf.id = m.task_force_id JOIN users u ON u.id = m.user_id \
                 WHERE tf.incident_id = $1 ORDER BY m.task_force_id, u.username")
                .bind(incident_id).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(id, name, kind, lead_id, username, display_name)| {
                Ok(TaskForce {
                    id,
                    incident_id,
                    name,
                    kind: kind.parse().map_err(StoreError::Corrupt)?,
                    lead: match (lead_id, username, display_name) {
                        (Some(user_id), Some(username), Some(display_name)) => Some(Member { user_id, username, display_name }),
                        _ => None,
                    },
                    members: members
                        .iter()
                        .filter(|m| m.0 == id)
                        .map(|(_, user_id, username, display_name)| Member {
                            user_id: *user_id,
                            username: username.clone(),
                            display_name: display_name.clone(),
                        })
                        .collect(),
                })
            })
            .collect()
    }

    pub(crate) async fn task_force(&self, id: i64) -> Result<TaskForce> {
        let incident: Option<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT incident_id FROM task_forces WHERE id = $1").bind(id).fetch_optional(pool).await?);
        let (incident_id,) = incident.ok_or_else(|| missing!("refused.task_force.none", id = id))?;
        self.task_forces(incident_id).await?.into_iter().find(|t| t.id == id).ok_or_else(|| missing!("refused.task_force.none", id = id))
    }

    /// Changes an incident's response level, with the reason, kept in its history.
    pub(crate) async fn set_level(&self, actor: &Actor, incident: &Incident, level: ResponseLevel, reason: &str) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(refused!("refused.incident.level_reason"));
        }
        if incident.level == Some(level) {
            return Err(refused!("refused.incident.level_same", level = cordon_domain::refusal::term("response_level", level)));
        }
        let now = Utc::now();
        let change = Change::new("set_level", "incident", incident.id)
            .area(&incident.area_code)
            .before(serde_json::json!({"level": incident.level}))
            .after(serde_json::json!({"level": level, "reason": reason}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query("UPDATE incidents SET response_level = $1 WHERE id = $2 AND response_level IS NOT DISTINCT FROM $3")
                .bind(level.as_str()).bind(incident.id).bind(incident.level.map(|l| l.as_str()))
                .execute(&mut *tx).await?.rows_affected();
            if moved == 0 {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.incident.level_moved")));
            }
            sqlx::query("INSERT INTO incident_levels (incident_id, level, reason, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5)")
                .bind(incident.id).bind(level.as_str()).bind(reason).bind(now).bind(&actor.name)
                .execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Adds a task force to an incident; a name is unique within it.
    pub(crate) async fn create_task_force(
        &self,
        actor: &Actor,
        incident: &Incident,
        kind: TaskForceKind,
        name: &str,
        lead: Option<i64>,
    ) -> Result<TaskForce> {
        let name = name.trim();
        let name = if name.is_empty() { kind.label_zh() } else { name };
        if name.chars().count() > 60 {
            return Err(refused!("refused.task_force.name_long", max = 60));
        }
        if let Some(u) = lead {
            self.acting_user(u).await?;
        }
        let now = Utc::now();
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM task_forces WHERE incident_id = $1 AND name = $2")
                .bind(incident.id).bind(name).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.task_force.name_taken").with("name", name)));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO task_forces (incident_id, name, kind, lead_user_id, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(incident.id).bind(name).bind(kind.as_str()).bind(lead).bind(now).bind(&actor.name)
                .fetch_one(&mut *tx).await?;
            if let Some(u) = lead {
                sqlx::query("INSERT INTO task_force_members (task_force_id, user_id, added_at) VALUES ($1, $2, $3)")
                    .bind(id).bind(u).bind(now).execute(&mut *tx).await?;
            }
            let change = Change::new("create", "task_force", id).area(&incident.area_code)
                .after(serde_json::json!({"incident_id": incident.id, "name": name, "kind": kind, "lead_user_id": lead}));
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        self.task_force(id).await
    }

    /// Starts an incident's usual task forces (those of [`rules::DEFAULT_TASK_FORCES`] it has not
    /// got), answering how many were made.
    pub(crate) async fn start_default_task_forces(&self, actor: &Actor, incident: &Incident) -> Result<usize> {
        let have = self.task_forces(incident.id).await?;
        let mut made = 0;
        for kind in rules::DEFAULT_TASK_FORCES {
            if have.iter().any(|t| t.kind == *kind || t.name == kind.label_zh()) {
                continue;
            }
            self.create_task_force(actor, incident, *kind, "", None).await?;
            made += 1;
        }
        Ok(made)
    }

    /// Makes `user` the task force's lead (and a member), or adds them as a member.
    pub(crate) async fn add_to_task_force(
        &self,
        actor: &Actor,
        tf: &TaskForce,
        area: &str,
        user_id: i64,
        as_lead: bool,
    ) -> Result<TaskForce> {
        let user = self.acting_user(user_id).await?;
        if !as_lead && tf.members.iter().any(|m| m.user_id == user_id) {
            return Err(StoreError::from(
                cordon_domain::refusal::Refusal::conflict("refused.task_force.member_already").with("name", &user.display_name),
            ));
        }
        let now = Utc::now();
        let change = Change::new(if as_lead { "set_lead" } else { "add_member" }, "task_force", tf.id)
            .area(area)
            .before(serde_json::json!({"lead_user_id": tf.lead.as_ref().map(|l| l.user_id)}))
            .after(serde_json::json!({"user_id": user_id, "username": user.username}));
        let member = tf.members.iter().any(|m| m.user_id == user_id);
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if as_lead {
                sqlx::query("UPDATE task_forces SET lead_user_id = $1 WHERE id = $2").bind(user_id).bind(tf.id).execute(&mut *tx).await?;
            }
            if !member {
                sqlx::query("INSERT INTO task_force_members (task_force_id, user_id, added_at) VALUES ($1, $2, $3)")
                    .bind(tf.id).bind(user_id).bind(now).execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.task_force(tf.id).await
    }

    /// Takes a member off a task force (not its lead: name another lead first).
    pub(crate) async fn remove_from_task_force(&self, actor: &Actor, tf: &TaskForce, area: &str, user_id: i64) -> Result<TaskForce> {
        if tf.lead.as_ref().is_some_and(|l| l.user_id == user_id) {
            return Err(refused!("refused.task_force.lead_stays"));
        }
        let Some(m) = tf.members.iter().find(|m| m.user_id == user_id) else {
            return Err(missing!("refused.task_force.not_member", id = user_id));
        };
        let change = Change::new("remove_member", "task_force", tf.id)
            .area(area)
            .before(serde_json::json!({"user_id": user_id, "username": m.username}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM task_force_members WHERE task_force_id = $1 AND user_id = $2").bind(tf.id).bind(user_id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.task_force(tf.id).await
    }

    async fn enabled_user(&self, id: i64) -> Result<User> {
        match self.user_by_id(id).await? {
            Some(u) if !u.disabled => Ok(u),
            _ => Err(missing!("refused.user.none", id = id)),
        }
    }

    /// An enabled account that can act: a read-only one (the observer) neither joins a task
    /// force nor is sent an instruction.
    async fn acting_user(&self, id: i64) -> Result<User> {
        let u = self.enabled_user(id).await?;
        if cordon_domain::access::read_only(&self.role_permissions(u.role).await?) {
            return Err(refused!("refused.user.read_only", name = u.display_name));
        }
        Ok(u)
    }

    /// The accounts that act for a recipient: a person; a task force's lead and members; the
    /// accounts working in an area (their jurisdiction the area or inside it).
    async fn actors_of(&self, to: &RecipientAsk) -> Result<Vec<i64>> {
        let ids: Vec<(i64,)> = match to {
            RecipientAsk::User(u) => return Ok(vec![*u]),
            RecipientAsk::TaskForce(t) => with_read_pool!(self, pool => sqlx::query_as(
                "SELECT lead_user_id FROM task_forces WHERE id = $1 AND lead_user_id IS NOT NULL \
                 UNION SELECT user_id FROM task_force_members WHERE task_force_id = $1")
                .bind(*t).fetch_all(pool).await?),
            RecipientAsk::Area(a) => {
                // Inside the area, or holding it at township level or below.
                let (lo, hi) = a.subtree_range();
                let code = a.as_str();
                let above: Vec<String> = [9usize, 12].iter().filter(|l| **l < code.len()).map(|l| code[..*l].to_string()).collect();
                let above_a = above.first().cloned().unwrap_or_default();
                let above_b = above.get(1).cloned().unwrap_or_default();
                with_read_pool!(self, pool => sqlx::query_as(
                    "SELECT DISTINCT ua.user_id FROM user_areas ua JOIN users u ON u.id = ua.user_id \
                     WHERE NOT u.disabled AND ((ua.area_code >= $1 AND ua.area_code < $2) OR ua.area_code IN ($3, $4))")
                    .bind(lo).bind(hi).bind(above_a).bind(above_b).fetch_all(pool).await?)
            }
        };
        let mut ids: Vec<i64> = ids.into_iter().map(|(i,)| i).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Whether `user` acts for the recipient (see [`Store::actors_of`]).
    pub(crate) async fn acts_for(&self, user: &User, r: &Recipient) -> Result<bool> {
        let forces = match r.kind {
            RecipientKind::TaskForce => self.task_forces_of(user.id).await?,
            _ => HashSet::new(),
        };
        Ok(acts_for_with(user, &forces, r))
    }

    /// The task forces `user_id` leads or belongs to.
    pub(crate) async fn task_forces_of(&self, user_id: i64) -> Result<HashSet<i64>> {
        let rows: Vec<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id FROM task_forces WHERE lead_user_id = $1 UNION SELECT task_force_id FROM task_force_members WHERE user_id = $1")
            .bind(user_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Checks one recipient asked for: it exists, and answers its name.
    async fn check_recipient(&self, incident_id: i64, to: &RecipientAsk) -> Result<()> {
        match to {
            RecipientAsk::TaskForce(t) => {
                let tf = self.task_force(*t).await?;
                if tf.incident_id != incident_id {
                    return Err(refused!("refused.task_force.other_incident", id = t));
                }
            }
            RecipientAsk::Area(a) => {
                if self.area(a).await?.is_none() {
                    return Err(refused!("refused.area_unregistered", area = a));
                }
            }
            RecipientAsk::User(u) => {
                let user = self.acting_user(*u).await?;
                let (area,): (String,) = with_read_pool!(self, pool =>
                    sqlx::query_as("SELECT area_code FROM incidents WHERE id = $1").bind(incident_id).fetch_one(pool).await?);
                let area = AreaCode::parse(&area).map_err(StoreError::corrupt)?;
                if !works_in(&user, &area) {
                    return Err(refused!("refused.instr.user_elsewhere", name = user.display_name));
                }
            }
        }
        Ok(())
    }

    /// Issues an instruction to its recipients, each on the instruction's deadline, and tells
    /// each recipient's accounts.
    pub(crate) async fn issue_instruction(
        &self,
        actor: &Actor,
        asker: &Asker<'_>,
        new: &NewInstruction,
        now: DateTime<Utc>,
    ) -> Result<InstructionSummary> {
        let title = rules::check_title(&new.title)?;
        let body = new.body.trim().to_string();
        if body.chars().count() > 4000 {
            return Err(refused!("refused.instr.text_long", max = 4000));
        }
        rules::check_deadline(new.deadline, now)?;
        let mut to = new.recipients.clone();
        to.sort();
        to.dedup();
        if to.is_empty() {
            return Err(refused!("refused.instr.no_recipient"));
        }
        if to.len() > rules::MAX_RECIPIENTS {
            return Err(refused!("refused.instr.too_many", max = rules::MAX_RECIPIENTS));
        }
        let incident = self.command(new.incident_id).await?.incident;
        if let Some(t) = new.task_force_id {
            let tf = self.task_force(t).await?;
            if tf.incident_id != incident.id {
                return Err(refused!("refused.task_force.other_incident", id = t));
            }
            if !asker.commands && tf.lead.as_ref().is_none_or(|l| l.user_id != asker.user.id) {
                return Err(refused!("refused.instr.not_lead", task_force = tf.name));
            }
        } else if !asker.commands {
            return Err(refused!("refused.instr.not_commander"));
        }
        // Each account is told once of an instruction, however many of its recipients it acts
        // for (a township's worker, of each of its villages): at the first of them.
        let mut told = Vec::with_capacity(to.len());
        let mut seen = std::collections::HashSet::new();
        for r in &to {
            self.check_recipient(incident.id, r).await?;
            told.push(self.actors_of(r).await?.into_iter().filter(|u| seen.insert(*u)).collect::<Vec<_>>());
        }
        let change = Change::new("issue", "instruction", "new").area(&incident.area_code).after(serde_json::json!({
            "title": title, "deadline": new.deadline, "task_force_id": new.task_force_id, "recipients": to.len(),
        }));
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO instructions (incident_id, title, body, task_force_id, issued_by_id, issued_by, issued_at, deadline) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(incident.id).bind(&title).bind(&body).bind(new.task_force_id).bind(asker.user.id).bind(&actor.name).bind(now).bind(new.deadline)
                .fetch_one(&mut *tx).await?;
            for (r, users) in to.iter().zip(&told) {
                let (tf, area, user) = match r {
                    RecipientAsk::TaskForce(t) => (Some(*t), None, None),
                    RecipientAsk::Area(a) => (None, Some(a.as_str()), None),
                    RecipientAsk::User(u) => (None, None, Some(*u)),
                };
                let (rid,): (i64,) = sqlx::query_as(
                    "INSERT INTO instruction_recipients (instruction_id, kind, task_force_id, area_code, user_id, state, deadline, assigned_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id")
                    .bind(id).bind(r.kind().as_str()).bind(tf).bind(area).bind(user).bind(RecipientState::Issued.as_str()).bind(new.deadline).bind(now)
                    .fetch_one(&mut *tx).await?;
                for u in users {
                    sqlx::query(INSERT_NOTICE)
                        .bind(*u).bind(NoticeKind::Assigned.as_str()).bind(id).bind(rid).bind(now).execute(&mut *tx).await?;
                }
            }
            let change = Change { entity_id: Some(id.to_string()), ..change };
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        self.instruction_summary(id, now).await
    }

    pub(crate) async fn instruction_row(&self, id: i64) -> Result<(InstructionSummary, String)> {
        let sql = format!("{SUMMARY_SELECT} WHERE i.id = $1");
        let row: Option<SummaryRow> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?);
        let summary = summary_from(row.ok_or_else(|| missing!("refused.instr.none", id = id))?);
        let (body,): (String,) =
            with_read_pool!(self, pool => sqlx::query_as("SELECT body FROM instructions WHERE id = $1").bind(id).fetch_one(pool).await?);
        Ok((summary, body))
    }

    pub(crate) async fn instruction_summary(&self, id: i64, now: DateTime<Utc>) -> Result<InstructionSummary> {
        let (summary, _) = self.instruction_row(id).await?;
        let mut list = vec![summary];
        self.count_recipients(&mut list, now).await?;
        Ok(list.remove(0))
    }

    /// Fills in each instruction's recipients by state, overdue and due soon.
    async fn count_recipients(&self, list: &mut [InstructionSummary], now: DateTime<Utc>) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        let mut params = vec![Param::Time(now), Param::Time(now + rules::DUE_SOON)];
        let ids = crate::list_placeholders(params.len(), list.len());
        params.extend(list.iter().map(|s| Param::Int(s.id)));
        let sql = format!(
            "SELECT instruction_id, state, COUNT(*), SUM(CASE WHEN deadline < $1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN deadline >= $1 AND deadline <= $2 THEN 1 ELSE 0 END) \
             FROM instruction_recipients WHERE instruction_id IN ({ids}) GROUP BY instruction_id, state"
        );
        let rows: Vec<(i64, String, i64, i64, i64)> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        for (id, state, n, late, soon) in rows {
            let state: RecipientState = state.parse().map_err(StoreError::Corrupt)?;
            let Some(s) = list.iter_mut().find(|s| s.id == id) else { continue };
            *s.by_state.entry(state).or_default() += n;
            if state != RecipientState::Reassigned {
                s.recipients += n;
            }
            if state.is_open() {
                s.overdue += late;
                s.due_soon += soon;
            }
        }
        Ok(())
    }

    /// Instructions newest first, as `filter` asks, with their recipients counted.
    pub(crate) async fn instructions(&self, filter: &InstructionFilter, now: DateTime<Utc>) -> Result<Vec<InstructionSummary>> {
        let mut params = Vec::new();
        let mut conds = Vec::new();
        if let Some(i) = filter.incident_id {
            params.push(Param::Int(i));
            conds.push(format!("i.incident_id = ${}", params.len()));
        }
        if let Some(t) = filter.task_force_id {
            params.push(Param::Int(t));
            let n = params.len();
            conds.push(format!(
                "(i.task_force_id = ${n} OR EXISTS (SELECT 1 FROM instruction_recipients r WHERE r.instruction_id = i.id AND r.task_force_id = ${n}))"
            ));
        }
        if let Some((me, areas)) = &filter.mine {
            params.push(Param::Int(*me));
            let n = params.len();
            let mut mine = vec![
                format!("i.issued_by_id = ${n}"),
                format!("r.user_id = ${n}"),
                format!(
                    "r.task_force_id IN (SELECT id FROM task_forces WHERE lead_user_id = ${n} UNION SELECT task_force_id FROM task_force_members WHERE user_id = ${n})"
                ),
            ];
            // An area recipient is mine when one of my areas, at township level or below, is it,
            // lies inside it or holds it (`rules::acts_for_area`).
            for a in areas.iter().filter(|a| a.as_str().len() > rules::COUNTY_CODE_LEN) {
                let code = a.as_str();
                let mut prefixes = Vec::new();
                for len in [2usize, 4, 6, 9, 12] {
                    if len <= code.len() {
                        params.push(Param::Text(code[..len].to_string()));
                        prefixes.push(format!("${}", params.len()));
                    }
                }
                mine.push(format!("r.area_code IN ({})", prefixes.join(", ")));
                let (lo, hi) = a.subtree_range();
                params.push(Param::Text(lo));
                params.push(Param::Text(hi));
                mine.push(format!("(r.area_code >= ${} AND r.area_code < ${})", params.len() - 1, params.len()));
            }
            conds.push(format!(
                "(i.issued_by_id = ${n} OR EXISTS (SELECT 1 FROM instruction_recipients r WHERE r.instruction_id = i.id AND ({})))",
                mine[1..].join(" OR ")
            ));
        }
        if filter.overdue {
            params.push(Param::Time(now));
            conds.push(format!(
                "EXISTS (SELECT 1 FROM instruction_recipients r WHERE r.instruction_id = i.id AND r.state IN {} AND r.deadline < ${})",
                crate::sql_set(&[RecipientState::Issued, RecipientState::Received, RecipientState::InProgress, RecipientState::SentBack]),
                params.len()
            ));
        }
        if let Some(b) = filter.before {
            params.push(Param::Int(b));
            conds.push(format!("i.id < ${}", params.len()));
        }
        let cond = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
        let sql = format!("{SUMMARY_SELECT}{cond} ORDER BY i.id DESC LIMIT {}", filter.limit.clamp(1, 200));
        let rows: Vec<SummaryRow> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let mut list: Vec<InstructionSummary> = rows.into_iter().map(summary_from).collect();
        self.count_recipients(&mut list, now).await?;
        Ok(list)
    }

    /// An instruction's summary, its recipients counted, and its text.
    pub(crate) async fn instruction_head(&self, id: i64, now: DateTime<Utc>) -> Result<(InstructionSummary, String)> {
        let (summary, body) = self.instruction_row(id).await?;
        let mut list = vec![summary];
        self.count_recipients(&mut list, now).await?;
        Ok((list.remove(0), body))
    }

    /// An instruction's recipients with their acts: every one, or those `keep` holds (their acts
    /// alone read).
    pub(crate) async fn recipients_of(
        &self,
        id: i64,
        now: DateTime<Utc>,
        keep: Option<&(dyn Fn(&Recipient) -> bool + Sync)>,
    ) -> Result<Vec<Recipient>> {
        let sql = format!("{RECIPIENT_SELECT} WHERE r.instruction_id = $1 ORDER BY r.id");
        let rows: Vec<RecipientRow> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(pool).await?);
        let mut recipients = rows.into_iter().map(|r| recipient_from(r, now)).collect::<Result<Vec<_>>>()?;
        if let Some(keep) = keep {
            recipients.retain(|r| keep(r));
            if recipients.is_empty() {
                return Ok(recipients);
            }
        }
        let mut params = vec![Param::Int(id)];
        let only = match keep {
            None => String::new(),
            Some(_) => {
                let list = crate::list_placeholders(params.len(), recipients.len());
                params.extend(recipients.iter().map(|r| Param::Int(r.id)));
                format!(" AND e.recipient_id IN ({list})")
            }
        };
        let sql = format!(
            "SELECT e.recipient_id, e.act, e.note, e.at, COALESCE(eu.display_name, e.by_name) FROM instruction_events e \
             JOIN instruction_recipients r ON r.id = e.recipient_id LEFT JOIN users eu ON eu.username = e.by_name \
             WHERE r.instruction_id = $1{only} ORDER BY e.id"
        );
        let events: Vec<EventRow> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let at: HashMap<i64, usize> = recipients.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        for (rid, act, note, when, by_name) in events {
            if let Some(i) = at.get(&rid) {
                recipients[*i].events.push(Event { act: act.parse().map_err(StoreError::Corrupt)?, note, at: when, by_name });
            }
        }
        Ok(recipients)
    }

    /// The incident an instruction belongs to.
    pub(crate) async fn instruction_incident(&self, id: i64) -> Result<i64> {
        let row: Option<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT incident_id FROM instructions WHERE id = $1").bind(id).fetch_optional(pool).await?);
        Ok(row.ok_or_else(|| missing!("refused.instr.none", id = id))?.0)
    }

    pub(crate) async fn recipient(&self, instruction_id: i64, id: i64, now: DateTime<Utc>) -> Result<Recipient> {
        let sql = format!("{RECIPIENT_SELECT} WHERE r.id = $1 AND r.instruction_id = $2");
        let row: Option<RecipientRow> = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).bind(instruction_id).fetch_optional(pool).await?);
        recipient_from(row.ok_or_else(|| missing!("refused.instr.no_such_recipient", id = id))?, now)
    }

    /// One act on one recipient by `asker`: receive, progress and done by whoever acts for the
    /// recipient; verify, send back and reassign by the issuer or a commander. Answers the
    /// instruction as it stands after.
    pub(crate) async fn act_on(
        &self,
        actor: &Actor,
        asker: &Asker<'_>,
        instruction_id: i64,
        recipient_id: i64,
        ask: &ActAsk,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if ask.act == Act::Escalate {
            return Err(refused!("refused.instr.escalate_by_clock"));
        }
        let (summary, _) = self.instruction_row(instruction_id).await?;
        let r = self.recipient(instruction_id, recipient_id, now).await?;
        // Who may act comes first: the recipient's state is nobody else's business.
        let issuer_side = matches!(ask.act, Act::Verify | Act::SendBack | Act::Reassign);
        if issuer_side {
            let lead_of_issuer = match summary.task_force_id {
                Some(t) => self.lead_of(t).await? == Some(asker.user.id),
                None => false,
            };
            if !(asker.commands || summary.issued_by_id == Some(asker.user.id) || lead_of_issuer) {
                return Err(refused!("refused.instr.not_issuer"));
            }
        } else if !self.acts_for(asker.user, &r).await? {
            return Err(refused!("refused.instr.not_recipient"));
        }
        let to = rules::next_state(r.state, ask.act)?;
        let note = rules::check_text(ask.act, &ask.text)?;
        // The deadline the recipient works to after the act, and who is told what.
        let mut deadline = r.deadline;
        let mut told: Vec<(i64, NoticeKind)> = Vec::new();
        let mut successor: Option<(RecipientAsk, DateTime<Utc>, Vec<i64>)> = None;
        let this = r.ask()?;
        match ask.act {
            Act::Done => {
                if let Some(i) = summary.issued_by_id {
                    told.push((i, NoticeKind::Done));
                }
            }
            Act::SendBack => {
                deadline = rules::send_back_deadline(r.deadline, ask.deadline, now)?;
                told.extend(self.actors_of(&this).await?.into_iter().map(|u| (u, NoticeKind::SentBack)));
            }
            Act::Reassign => {
                let Some(new_to) = ask.to.clone() else { return Err(refused!("refused.instr.reassign_to")) };
                if new_to == this {
                    return Err(refused!("refused.instr.reassign_same"));
                }
                self.check_recipient(summary.incident_id, &new_to).await?;
                let d = match ask.deadline {
                    Some(d) => d,
                    None if r.deadline > now => r.deadline,
                    None => return Err(refused!("refused.instr.new_deadline")),
                };
                rules::check_deadline(d, now)?;
                let users = self.actors_of(&new_to).await?;
                successor = Some((new_to, d, users));
            }
            _ => {}
        }
        let change = Change::new(ask.act.as_str(), "instruction_recipient", r.id)
            .before(serde_json::json!({"state": r.state, "deadline": r.deadline}))
            .after(serde_json::json!({"state": to, "deadline": deadline, "note": note, "instruction_id": instruction_id}));
        // Each act sets only what it changes, and only if the recipient has not moved since it
        // was read (its state and when it last changed).
        let sets = match ask.act {
            Act::Receive => ", received_at = $3",
            Act::Done => ", done_at = $3, report = $4",
            Act::SendBack => ", done_at = NULL, deadline = $5",
            Act::Verify | Act::Reassign => ", closed_at = $3",
            _ => "",
        };
        let sql =
            format!("UPDATE instruction_recipients SET state = $1{sets}, updated_at = $3 WHERE id = $2 AND state = $6 AND updated_at = $7");
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(to.as_str()).bind(r.id).bind(now).bind(&note).bind(deadline).bind(r.state.as_str()).bind(r.updated_at)
                .execute(&mut *tx).await?.rows_affected();
            if moved == 0 {
                return Err(StoreError::from(cordon_domain::refusal::Refusal::conflict("refused.instr.moved")));
            }
            sqlx::query("INSERT INTO instruction_events (recipient_id, act, note, at, by_name) VALUES ($1, $2, $3, $4, $5)")
                .bind(r.id).bind(ask.act.as_str()).bind(&note).bind(now).bind(&actor.name).execute(&mut *tx).await?;
            // One unread notice of a kind per account and instruction: the issuer of a fan-out
            // is told once that completions wait, not once per village.
            for (u, kind) in &told {
                sqlx::query(INSERT_NOTICE)
                    .bind(*u).bind(kind.as_str()).bind(instruction_id).bind(r.id).bind(now).execute(&mut *tx).await?;
            }
            if let Some((new_to, d, users)) = &successor {
                let (tf, area, user) = match new_to {
                    RecipientAsk::TaskForce(t) => (Some(*t), None, None),
                    RecipientAsk::Area(a) => (None, Some(a.as_str()), None),
                    RecipientAsk::User(u) => (None, None, Some(*u)),
                };
                let (rid,): (i64,) = sqlx::query_as(
                    "INSERT INTO instruction_recipients (instruction_id, kind, task_force_id, area_code, user_id, state, deadline, assigned_at, replaces_id, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8) RETURNING id")
                    .bind(instruction_id).bind(new_to.kind().as_str()).bind(tf).bind(area).bind(user).bind(RecipientState::Issued.as_str())
                    .bind(*d).bind(now).bind(r.id)
                    .fetch_one(&mut *tx).await?;
                for u in users {
                    sqlx::query(INSERT_NOTICE)
                        .bind(*u).bind(NoticeKind::Assigned.as_str()).bind(instruction_id).bind(rid).bind(now).execute(&mut *tx).await?;
                }
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The lead of a task force, read alone (not the task force with its members).
    pub(crate) async fn lead_of(&self, task_force_id: i64) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT lead_user_id FROM task_forces WHERE id = $1").bind(task_force_id).fetch_optional(pool).await?);
        Ok(row.and_then(|(l,)| l))
    }

    /// Escalates (督办) every open recipient past its deadline not yet escalated for it: the
    /// issuer, the recipient's lead and the recipient's own accounts are told, once. Answers how
    /// many were escalated. Run by the server every minute; a test runs it at the time it likes.
    pub async fn escalate_overdue(&self, now: DateTime<Utc>) -> Result<usize> {
        let open =
            crate::sql_set(&[RecipientState::Issued, RecipientState::Received, RecipientState::InProgress, RecipientState::SentBack]);
        // Those not yet escalated for their deadline only: a fan-out of a thousand overdue is
        // worked through 500 a pass, never the same 500 again.
        let sql = format!(
            "{RECIPIENT_SELECT} WHERE r.state IN {open} AND r.deadline < $1 \
             AND (r.escalated_at IS NULL OR r.escalated_at < r.deadline) ORDER BY r.deadline LIMIT 500"
        );
        let rows: Vec<RecipientRow> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(now).fetch_all(pool).await?);
        let actor = Actor::system("督办");
        let mut done = 0;
        // A fan-out's overdue recipients share their instruction and leads: each read once a pass.
        let mut issuers: HashMap<i64, (Option<i64>, Option<i64>)> = HashMap::new();
        let mut leads: HashMap<i64, Option<i64>> = HashMap::new();
        for row in rows {
            let r = recipient_from(row, now)?;
            if !rules::escalate_now(r.state, r.deadline, r.escalated_at, now) {
                continue;
            }
            let (issued_by, issuing_force) = match issuers.get(&r.instruction_id) {
                Some(i) => *i,
                None => {
                    let (summary, _) = self.instruction_row(r.instruction_id).await?;
                    *issuers.entry(r.instruction_id).or_insert((summary.issued_by_id, summary.task_force_id))
                }
            };
            let mut users = self.actors_of(&r.ask()?).await?;
            users.extend(issued_by);
            // The recipient's lead: a task force's own lead, or the lead of the task force that
            // gave the instruction.
            if let Some(t) = r.task_force_id.or(issuing_force) {
                let lead = match leads.get(&t) {
                    Some(l) => *l,
                    None => *leads.entry(t).or_insert(self.lead_of(t).await?),
                };
                users.extend(lead);
            }
            users.sort_unstable();
            users.dedup();
            let change = Change::new("escalate", "instruction_recipient", r.id)
                .after(serde_json::json!({"instruction_id": r.instruction_id, "deadline": r.deadline, "told": users.len()}));
            let moved = with_write_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                let moved = sqlx::query(
                    "UPDATE instruction_recipients SET escalated_at = $1 WHERE id = $2 AND state = $3 AND deadline = $4 \
                     AND escalated_at IS NOT DISTINCT FROM $5")
                    .bind(now).bind(r.id).bind(r.state.as_str()).bind(r.deadline).bind(r.escalated_at)
                    .execute(&mut *tx).await?.rows_affected();
                if moved > 0 {
                    sqlx::query("INSERT INTO instruction_events (recipient_id, act, note, at, by_name) VALUES ($1, $2, NULL, $3, $4)")
                        .bind(r.id).bind(Act::Escalate.as_str()).bind(now).bind(&actor.name).execute(&mut *tx).await?;
                    for u in &users {
                        sqlx::query(INSERT_NOTICE)
                            .bind(*u).bind(NoticeKind::Escalated.as_str()).bind(r.instruction_id).bind(r.id).bind(now).execute(&mut *tx).await?;
                    }
                    tx.append(&actor, &change).await?;
                }
                tx.commit().await?;
                moved
            });
            done += moved as usize;
        }
        Ok(done)
    }

    /// Escalates the overdue every `every` in the background, for as long as the runtime runs.
    pub fn keep_escalating(&self, every: std::time::Duration) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match store.escalate_overdue(Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("instructions: {n} overdue recipients escalated"),
                    Err(e) => tracing::warn!("instructions not escalated: {e}"),
                }
            }
        });
    }

    /// An account's latest notices, newest first.
    pub(crate) async fn notices(&self, user_id: i64, limit: u32) -> Result<Vec<Notice>> {
        let rows: Vec<NoticeRow> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT n.id, n.kind, n.instruction_id, n.recipient_id, i.title, COALESCE(tf.name, a.name, u.display_name, ''), n.created_at, n.read_at \
             FROM notices n JOIN instructions i ON i.id = n.instruction_id JOIN instruction_recipients r ON r.id = n.recipient_id \
             LEFT JOIN task_forces tf ON tf.id = r.task_force_id LEFT JOIN areas a ON a.code = r.area_code LEFT JOIN users u ON u.id = r.user_id \
             WHERE n.user_id = $1 ORDER BY n.id DESC LIMIT $2")
            .bind(user_id).bind(i64::from(limit.clamp(1, 200))).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(id, kind, instruction_id, recipient_id, title, recipient, created_at, read_at)| {
                Ok(Notice {
                    id,
                    kind: kind.parse().map_err(StoreError::Corrupt)?,
                    instruction_id,
                    recipient_id,
                    title,
                    recipient,
                    created_at,
                    read_at,
                })
            })
            .collect()
    }

    /// Marks an account's notices read.
    pub(crate) async fn read_notices(&self, user_id: i64, now: DateTime<Utc>) -> Result<u64> {
        Ok(with_write_pool!(self, pool =>
            sqlx::query("UPDATE notices SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL").bind(now).bind(user_id).execute(pool).await?.rows_affected()))
    }

    /// Marks an account's notices of one instruction read.
    pub(crate) async fn read_notices_of(&self, user_id: i64, instruction_id: i64, now: DateTime<Utc>) -> Result<u64> {
        Ok(with_write_pool!(self, pool =>
            sqlx::query("UPDATE notices SET read_at = $1 WHERE user_id = $2 AND instruction_id = $3 AND read_at IS NULL")
                .bind(now).bind(user_id).bind(instruction_id).execute(pool).await?.rows_affected()))
    }

    /// How many notices an account has not read.
    pub(crate) async fn unread_notices(&self, user_id: i64) -> Result<i64> {
        let (n,): (i64,) = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT COUNT(*) FROM notices WHERE user_id = $1 AND read_at IS NULL").bind(user_id).fetch_one(pool).await?);
        Ok(n)
    }
}
