//! The command (指挥部): the incident's response level with its changes and its task forces, and
//! the instructions board — who has signed for an order, who is working on it, who is overdue —
//! with the form that gives one to task forces, townships and communities (every community of a
//! township in one go) and persons, and each recipient's acts.

use askama::Template;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use cordon_domain::access::Permission;
use cordon_domain::command::{Act, Clock, RecipientState, ResponseLevel, TaskForceKind};
use cordon_store::command::{ActAsk, InstructionFilter, NewInstruction, RecipientAsk};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::format::{local, percent};
use crate::i18n::Tr;
use crate::ui::form::{Form, Path, Query, checked, local_input};
use crate::ui::{NoticeQuery, UserBadge, failure, form_refused, render};

mod clocks;
mod daily;
pub(crate) mod screen;
mod timeline;

pub(crate) use timeline::say as say_timeline;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/command", get(command_page))
        .route("/command/open", post(open_incident))
        .route("/command/{incident}/level", post(set_level))
        .route("/command/{incident}/task-forces", post(create_task_force))
        .route("/command/{incident}/task-forces/defaults", post(default_task_forces))
        .route("/task-forces/{id}/members", post(add_member))
        .route("/task-forces/{id}/members/{user}/remove", post(remove_member))
        .route("/timeline", get(timeline::page).post(timeline::add))
        .route("/clocks", get(clocks::page))
        .route("/screen", get(screen::page))
        .route("/reports/daily", get(daily::page))
        .route("/reports/daily/records", get(daily::records))
        .route("/reports/daily/sign", post(daily::sign))
        .route("/reports/daily.xlsx", get(daily::xlsx))
        .route("/instructions", get(board).post(issue))
        .route("/instructions/notices/read", post(read_notices))
        .route("/instructions/{id}", get(detail))
        .route("/instructions/{id}/receive-all", post(receive_all))
        .route("/instructions/{id}/recipients/{rid}/{act}", post(act))
}

fn back(to: &str, t: Tr, key: &str, args: &[(&str, &str)]) -> Response {
    Redirect::to(&format!("{to}?notice={}", percent(&t.fill(key, args)))).into_response()
}

/// An account as the forms offer it: 演示指挥长（demo_commander）.
fn account_label(a: &cordon_store::scoped::Account) -> (i64, String) {
    (a.id, format!("{}（{}）", a.display_name, a.username))
}

/// An instant as a datetime-local input's value, on the local clock.
fn input_value(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&cordon_domain::local_offset()).format("%Y-%m-%dT%H:%M").to_string()
}

/// A task force as the command page lists it.
pub struct TaskForceRow {
    id: i64,
    name: String,
    kind: String,
    lead: String,
    /// (user id, name, is lead)
    members: Vec<(i64, String, bool)>,
    /// The accounts that may still join: (id, "name (username)").
    joinable: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "command.html")]
struct CommandPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    incident: Option<(i64, String, String)>,
    level: Option<String>,
    /// (level label, reason, when, by)
    levels: Vec<(String, String, String, String)>,
    task_forces: Vec<TaskForceRow>,
    can_write: bool,
    /// (value, label, the level now)
    level_choices: Vec<(&'static str, String, bool)>,
    kinds: Vec<(&'static str, String)>,
    /// (id, "name (username)")
    accounts: Vec<(i64, String)>,
    /// The jurisdiction's first area, offered when opening an incident.
    home_area: String,
}

async fn command_page(t: Tr, caller: Caller, Query(q): Query<NoticeQuery>) -> Response {
    let can_write = caller.0.principal().can(Permission::CommandWrite);
    let loaded = async {
        let Some(id) = caller.0.current_incident().await? else { return Ok(None) };
        let c = caller.0.command(id).await?;
        let accounts = if can_write { caller.0.accounts(id).await? } else { Vec::new() };
        Ok::<_, cordon_store::StoreError>(Some((c, accounts)))
    };
    let (command, accounts) = match loaded.await {
        Ok(Some((c, a))) => (Some(c), a),
        Ok(None) => (None, Vec::new()),
        Err(e) => return failure(t, &caller, e),
    };
    let level_label = |l: ResponseLevel| t.get(&format!("response_level.{}", l.as_str())).to_string();
    let current_level = command.as_ref().and_then(|c| c.incident.level);
    let page = CommandPage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        incident: command.as_ref().map(|c| (c.incident.id, c.incident.name.clone(), local(c.incident.started_at))),
        level: command.as_ref().and_then(|c| c.incident.level).map(level_label),
        levels: command
            .as_ref()
            .map(|c| c.levels.iter().map(|l| (level_label(l.level), l.reason.clone(), local(l.changed_at), l.changed_by.clone())).collect())
            .unwrap_or_default(),
        task_forces: command
            .map(|c| {
                c.task_forces
                    .into_iter()
                    .map(|tf| TaskForceRow {
                        id: tf.id,
                        name: tf.name,
                        kind: t.get(&format!("task_force.kind.{}", tf.kind.as_str())).to_string(),
                        lead: tf.lead.as_ref().map(|l| l.display_name.clone()).unwrap_or_default(),
                        members: tf
                            .members
                            .iter()
                            .map(|m| (m.user_id, m.display_name.clone(), tf.lead.as_ref().is_some_and(|l| l.user_id == m.user_id)))
                            .collect(),
                        joinable: accounts.iter().filter(|a| !tf.members.iter().any(|m| m.user_id == a.id)).map(account_label).collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        can_write,
        level_choices: ResponseLevel::ALL.iter().map(|l| (l.as_str(), level_label(*l), current_level == Some(*l))).collect(),
        kinds: TaskForceKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("task_force.kind.{}", k.as_str())).to_string())).collect(),
        accounts: accounts.iter().map(account_label).collect(),
        home_area: caller.0.principal().user.jurisdiction.areas().first().map(|a| a.as_str().to_string()).unwrap_or_default(),
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
pub struct OpenForm {
    name: String,
    area: String,
    #[serde(default)]
    started: String,
    level: Option<ResponseLevel>,
}

async fn open_incident(t: Tr, caller: Caller, Form(f): Form<OpenForm>) -> Response {
    let started = match f.started.trim() {
        "" => None,
        s => match local_input(s) {
            Some(at) => Some(at),
            None => return form_refused(t, Some(&caller), t.get("command.bad_started")),
        },
    };
    let done = async {
        let area = crate::ui::zones::place(&caller, &f.area).await?;
        caller.0.open_incident(&f.name, &area, started, f.level).await
    };
    match done.await {
        Ok(c) => back("/command", t, "command.opened", &[("name", &c.incident.name)]),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct LevelForm {
    level: ResponseLevel,
    reason: String,
    #[serde(default, deserialize_with = "checked")]
    confirm: bool,
}

async fn set_level(t: Tr, caller: Caller, Path(incident): Path<i64>, Form(f): Form<LevelForm>) -> Response {
    if !f.confirm {
        return form_refused(t, Some(&caller), t.get("command.level_confirm_needed"));
    }
    match caller.0.set_level(incident, f.level, &f.reason).await {
        Ok(_) => back("/command", t, "command.level_set", &[("level", t.get(&format!("response_level.{}", f.level.as_str())))]),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct TaskForceForm {
    kind: TaskForceKind,
    #[serde(default)]
    name: String,
    lead: Option<i64>,
}

async fn create_task_force(t: Tr, caller: Caller, Path(incident): Path<i64>, Form(f): Form<TaskForceForm>) -> Response {
    match caller.0.create_task_force(incident, f.kind, &f.name, f.lead).await {
        Ok(tf) => back("/command", t, "command.task_force_made", &[("name", &tf.name)]),
        Err(e) => failure(t, &caller, e),
    }
}

async fn default_task_forces(t: Tr, caller: Caller, Path(incident): Path<i64>) -> Response {
    match caller.0.start_default_task_forces(incident).await {
        Ok(n) => back("/command", t, "command.defaults_made", &[("n", &n.to_string())]),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct MemberForm {
    user_id: i64,
    #[serde(default, deserialize_with = "checked")]
    lead: bool,
}

async fn add_member(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<MemberForm>) -> Response {
    match caller.0.add_to_task_force(id, f.user_id, f.lead).await {
        Ok(tf) => back("/command", t, "command.member_added", &[("name", &tf.name)]),
        Err(e) => failure(t, &caller, e),
    }
}

async fn remove_member(t: Tr, caller: Caller, Path((id, user)): Path<(i64, i64)>) -> Response {
    match caller.0.remove_from_task_force(id, user).await {
        Ok(tf) => back("/command", t, "command.member_removed", &[("name", &tf.name)]),
        Err(e) => failure(t, &caller, e),
    }
}

/// An instruction as the board lists it.
pub struct BoardRow {
    id: i64,
    title: String,
    from: String,
    issued_at: String,
    deadline: String,
    recipients: i64,
    /// (state, label, count) for each state with any
    states: Vec<(&'static str, String, i64)>,
    overdue: i64,
    due_soon: i64,
}

/// A notice as the board shows it.
pub struct NoticeRow {
    instruction_id: i64,
    kind: &'static str,
    label: String,
    title: String,
    recipient: String,
    when: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "instructions.html")]
struct BoardPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    notices: Vec<NoticeRow>,
    unread: i64,
    rows: Vec<BoardRow>,
    next: Option<String>,
    /// On an older page: the way back to the newest.
    paged: bool,
    /// The filter as asked: mine, overdue (the task force is marked in `task_forces`).
    mine: bool,
    overdue: bool,
    sees_all: bool,
    /// The incident's task forces: (id, name, chosen in the filter).
    task_forces: Vec<(i64, String, bool)>,
    /// May issue: as the headquarters (None first) or for the task forces it leads.
    issue_as: Vec<(String, String)>,
    accounts: Vec<(i64, String)>,
    /// The default deadline offered: now plus four hours, as a datetime-local value.
    default_deadline: String,
}

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    notice: Option<String>,
    task_force: Option<String>,
    #[serde(default, deserialize_with = "checked")]
    mine: bool,
    #[serde(default, deserialize_with = "checked")]
    overdue: bool,
    before: Option<i64>,
}

async fn board(t: Tr, caller: Caller, Query(q): Query<BoardQuery>) -> Response {
    let p = caller.0.principal();
    let commands = p.can(Permission::CommandWrite);
    let sees_all = commands || p.can(Permission::ReportsRead);
    let task_force = match q.task_force.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => match s.parse::<i64>() {
            Ok(i) => Some(i),
            Err(_) => return form_refused(t, Some(&caller), t.get("instr.bad_task_force")),
        },
    };
    let loaded = async {
        let incident = caller.0.current_incident().await?;
        let filter = InstructionFilter {
            incident_id: incident,
            task_force_id: task_force,
            mine: q.mine.then(|| (0, Vec::new())),
            overdue: q.overdue,
            before: q.before,
            limit: 50,
        };
        let list = caller.0.instructions(filter).await?;
        let notices = caller.0.notices(20).await?;
        let unread = caller.0.unread_notices().await?;
        let (tfs, led, accounts) = match incident {
            Some(i) => {
                let tfs = caller.0.command(i).await?.task_forces;
                let led = caller.0.led_task_forces(i).await?;
                let accounts = if commands || !led.is_empty() { caller.0.accounts(i).await? } else { Vec::new() };
                (tfs, led, accounts)
            }
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        Ok::<_, cordon_store::StoreError>((list, notices, unread, tfs, led, accounts))
    };
    let (list, notices, unread, tfs, led, accounts) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let next = (list.len() == 50).then(|| list.last().map(|i| i.id)).flatten().map(|b| {
        let mut s = format!("/instructions?before={b}");
        if let Some(tf) = task_force {
            s.push_str(&format!("&task_force={tf}"));
        }
        if q.mine {
            s.push_str("&mine=1");
        }
        if q.overdue {
            s.push_str("&overdue=1");
        }
        s
    });
    let rows = list
        .into_iter()
        .map(|s| BoardRow {
            id: s.id,
            title: s.title,
            from: s.task_force.unwrap_or_else(|| t.get("instr.from_hq").to_string()),
            issued_at: local(s.issued_at),
            deadline: local(s.deadline),
            recipients: s.recipients,
            states: s
                .by_state
                .iter()
                .filter(|(st, n)| **n > 0 && **st != RecipientState::Reassigned)
                .map(|(st, n)| (st.as_str(), t.get(&format!("instr.state.{}", st.as_str())).to_string(), *n))
                .collect(),
            overdue: s.overdue,
            due_soon: s.due_soon,
        })
        .collect();
    let mut issue_as = Vec::new();
    if commands {
        issue_as.push((String::new(), t.get("instr.from_hq").to_string()));
    }
    issue_as.extend(led.into_iter().map(|tf| (tf.id.to_string(), tf.name)));
    let page = BoardPage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        notices: notices
            .into_iter()
            .map(|n| NoticeRow {
                instruction_id: n.instruction_id,
                kind: n.kind.as_str(),
                label: t.get(&format!("notice.kind.{}", n.kind.as_str())).to_string(),
                title: n.title,
                recipient: n.recipient,
                when: local(n.created_at),
                unread: n.read_at.is_none(),
            })
            .collect(),
        unread,
        rows,
        next,
        paged: q.before.is_some(),
        mine: q.mine,
        overdue: q.overdue,
        sees_all,
        task_forces: tfs.into_iter().map(|tf| (tf.id, tf.name, task_force == Some(tf.id))).collect(),
        issue_as,
        accounts: accounts.iter().map(account_label).collect(),
        default_deadline: input_value(Utc::now() + chrono::Duration::hours(4)),
    };
    render(&page)
}

/// The issue form: several checkboxes and selects of one name arrive as repeated fields.
#[derive(Debug, Deserialize)]
pub struct IssueForm {
    title: String,
    #[serde(default)]
    body: String,
    deadline: String,
    #[serde(default)]
    issue_as: String,
    #[serde(default)]
    task_forces: Vec<i64>,
    /// Townships or communities by name or code, separated by commas.
    #[serde(default)]
    areas: String,
    /// Every village or community under the areas typed, instead of the areas themselves.
    #[serde(default, deserialize_with = "checked")]
    children: bool,
    #[serde(default)]
    users: Vec<i64>,
}

async fn issue(t: Tr, caller: Caller, Form(f): Form<IssueForm>) -> Response {
    let Some(deadline) = local_input(&f.deadline) else {
        return form_refused(t, Some(&caller), t.get("instr.bad_deadline"));
    };
    let task_force_id = match f.issue_as.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(i) => Some(i),
            Err(_) => return form_refused(t, Some(&caller), t.get("instr.bad_issue_as")),
        },
    };
    let made = async {
        let Some(incident_id) = caller.0.current_incident().await? else {
            return Err(cordon_store::StoreError::from(cordon_domain::refusal!("refused.incident.none", id = 0)));
        };
        let mut recipients: Vec<RecipientAsk> = f.task_forces.iter().map(|i| RecipientAsk::TaskForce(*i)).collect();
        recipients.extend(f.users.iter().map(|u| RecipientAsk::User(*u)));
        for token in f.areas.split([',', '，', '、', ';', '；', ' ', '\n', '\r', '\t']).map(str::trim).filter(|p| !p.is_empty()) {
            let area = crate::ui::zones::place(&caller, token).await?;
            if f.children {
                let under = caller.0.area_children(&area).await?;
                if under.is_empty() {
                    return Err(cordon_domain::refusal!("refused.instr.no_children", area = token).into());
                }
                for a in under {
                    recipients.push(RecipientAsk::Area(
                        cordon_domain::AreaCode::parse(&a.code).map_err(|e| cordon_store::StoreError::Corrupt(e.to_string()))?,
                    ));
                }
            } else {
                recipients.push(RecipientAsk::Area(area));
            }
        }
        let new = NewInstruction { incident_id, title: f.title.clone(), body: f.body.clone(), deadline, task_force_id, recipients };
        caller.0.issue_instruction(&new).await
    };
    match made.await {
        Ok(s) => Redirect::to(&format!(
            "/instructions/{}?notice={}",
            s.id,
            percent(&t.fill("instr.issued", &[("title", &s.title), ("n", &s.recipients.to_string())]))
        ))
        .into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

async fn read_notices(t: Tr, caller: Caller) -> Response {
    match caller.0.read_notices().await {
        Ok(n) => back("/instructions", t, "notice.read", &[("n", &n.to_string())]),
        Err(e) => failure(t, &caller, e),
    }
}

/// One recipient as the instruction's page shows it.
pub struct RecipientRow {
    id: i64,
    name: String,
    kind: String,
    state: &'static str,
    state_label: String,
    clock: &'static str,
    clock_label: String,
    deadline: String,
    report: String,
    escalated: bool,
    /// (act label, note, when, by)
    events: Vec<(String, String, String, String)>,
    /// The caller acts for it: the acts open to them now.
    may_receive: bool,
    may_work: bool,
    /// The issuer's acts open now.
    may_verify: bool,
    may_reassign: bool,
    deadline_past: bool,
    /// Why it was sent back, while it is.
    back_reason: String,
    /// Whom it went to, when reassigned.
    successor: String,
    /// What was just done to it, said in its row.
    acted: Option<String>,
    has_acts: bool,
}

#[derive(Template)]
#[template(path = "instruction.html")]
struct DetailPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    id: i64,
    title: String,
    body: String,
    from: String,
    issued_by: String,
    issued_at: String,
    deadline: String,
    recipients: i64,
    overdue: i64,
    /// (state, label, count)
    states: Vec<(&'static str, String, i64)>,
    rows: Vec<RecipientRow>,
    /// How many the caller may sign for now, and the button that signs for them all.
    to_receive: usize,
    receive_all_label: String,
    /// For a reassignment: the task forces and accounts.
    task_forces: Vec<(i64, String)>,
    accounts: Vec<(i64, String)>,
    default_deadline: String,
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    notice: Option<String>,
    /// The recipient just acted on: its notice is said in its row, where the person is looking.
    at: Option<i64>,
}

async fn detail(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<DetailQuery>) -> Response {
    let loaded = async {
        let v = caller.0.instruction(id).await?;
        // Opened: its notices are read.
        caller.0.read_notices_of(id).await?;
        let (tfs, accounts) = if v.may_verify {
            let tfs = caller.0.command(v.instruction.summary.incident_id).await?.task_forces;
            (tfs, caller.0.accounts(v.instruction.summary.incident_id).await.unwrap_or_default())
        } else {
            (Vec::new(), Vec::new())
        };
        Ok::<_, cordon_store::StoreError>((v, tfs, accounts))
    };
    let (v, tfs, accounts) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let now = Utc::now();
    let s = &v.instruction.summary;
    let rows = v
        .instruction
        .recipients
        .iter()
        .map(|r| {
            let mine = v.acting_for.contains(&r.id);
            RecipientRow {
                id: r.id,
                name: r.label.clone(),
                kind: t.get(&format!("instr.kind.{}", r.kind.as_str())).to_string(),
                state: r.state.as_str(),
                state_label: t.get(&format!("instr.state.{}", r.state.as_str())).to_string(),
                clock: r.clock.as_str(),
                clock_label: t.get(&format!("instr.clock.{}", r.clock.as_str())).to_string(),
                deadline: local(r.deadline),
                report: r.report.clone().unwrap_or_default(),
                escalated: r.escalated_at.is_some() && r.clock == Clock::Overdue,
                events: r
                    .events
                    .iter()
                    .map(|e| {
                        (
                            t.get(&format!("instr.act.{}", e.act.as_str())).to_string(),
                            e.note.clone().unwrap_or_default(),
                            local(e.at),
                            e.by_name.clone(),
                        )
                    })
                    .collect(),
                may_receive: mine && r.state == RecipientState::Issued,
                may_work: mine && matches!(r.state, RecipientState::Received | RecipientState::InProgress | RecipientState::SentBack),
                may_verify: v.may_verify && r.state == RecipientState::Done,
                may_reassign: v.may_verify && r.state.is_open(),
                deadline_past: r.deadline <= now,
                back_reason: if r.state == RecipientState::SentBack {
                    r.events.iter().rev().find(|e| e.act == Act::SendBack).and_then(|e| e.note.clone()).unwrap_or_default()
                } else {
                    String::new()
                },
                successor: v
                    .instruction
                    .recipients
                    .iter()
                    .find(|n| n.replaces_id == Some(r.id))
                    .map(|n| n.label.clone())
                    .unwrap_or_default(),
                acted: if q.at == Some(r.id) { q.notice.clone() } else { None },
                has_acts: (mine && r.state.is_open()) || (v.may_verify && (r.state == RecipientState::Done || r.state.is_open())),
            }
        })
        .collect();
    let to_receive = v.instruction.recipients.iter().filter(|r| r.state == RecipientState::Issued && v.acting_for.contains(&r.id)).count();
    let page = DetailPage {
        t,
        user: UserBadge::of(&caller),
        // Said at the top unless said in the row acted on.
        notice: if q.at.is_some_and(|a| v.instruction.recipients.iter().any(|r| r.id == a)) { None } else { q.notice.clone() },
        to_receive,
        receive_all_label: t.fill("instr.receive_all", &[("n", &to_receive.to_string())]),
        id: s.id,
        title: s.title.clone(),
        body: v.instruction.body.clone(),
        from: s.task_force.clone().unwrap_or_else(|| t.get("instr.from_hq").to_string()),
        issued_by: s.issued_by.clone(),
        issued_at: local(s.issued_at),
        deadline: local(s.deadline),
        recipients: s.recipients,
        overdue: s.overdue,
        states: s
            .by_state
            .iter()
            .filter(|(st, n)| **n > 0 && **st != RecipientState::Reassigned)
            .map(|(st, n)| (st.as_str(), t.get(&format!("instr.state.{}", st.as_str())).to_string(), *n))
            .collect(),
        rows,
        task_forces: tfs.into_iter().map(|tf| (tf.id, tf.name)).collect(),
        accounts: accounts.iter().map(account_label).collect(),
        default_deadline: input_value(now + chrono::Duration::hours(4)),
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    deadline: String,
    /// A reassignment's new recipient: `tf:ID` or `user:ID`.
    #[serde(default)]
    to: String,
    /// Or a township or village by name or code.
    #[serde(default)]
    to_area: String,
}

async fn act(t: Tr, caller: Caller, Path((id, rid, act)): Path<(i64, i64, String)>, Form(f): Form<ActForm>) -> Response {
    let act = match act.replace('-', "_").parse::<Act>() {
        Ok(a) if a != Act::Escalate => a,
        _ => return form_refused(t, Some(&caller), t.get("instr.bad_act")),
    };
    let deadline = match f.deadline.trim() {
        "" => None,
        d => match local_input(d) {
            Some(d) => Some(d),
            None => return form_refused(t, Some(&caller), t.get("instr.bad_deadline")),
        },
    };
    let done = async {
        let to = match (f.to.trim(), f.to_area.trim()) {
            ("", "") => None,
            ("", area) => Some(RecipientAsk::Area(crate::ui::zones::place(&caller, area).await?)),
            (_, area) if !area.is_empty() => return Err(cordon_domain::refusal!("refused.instr.reassign_two").into()),
            (s, _) => match (s.strip_prefix("tf:"), s.strip_prefix("user:")) {
                (Some(n), _) => Some(RecipientAsk::TaskForce(n.parse().map_err(|_| cordon_domain::refusal!("refused.instr.reassign_to"))?)),
                (_, Some(n)) => Some(RecipientAsk::User(n.parse().map_err(|_| cordon_domain::refusal!("refused.instr.reassign_to"))?)),
                _ => return Err(cordon_domain::refusal!("refused.instr.reassign_to").into()),
            },
        };
        let ask = ActAsk { act, text: f.note.clone(), deadline, to };
        caller.0.act_on_instruction(id, rid, &ask).await
    };
    match done.await {
        // Back where the person was in a long list of recipients.
        Ok(_) => Redirect::to(&format!(
            "/instructions/{id}?at={rid}&notice={}#r{rid}",
            percent(&t.fill("instr.acted", &[("act", t.get(&format!("instr.act.{}", act.as_str())))]))
        ))
        .into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

/// Signs at once for every recipient of an instruction the caller acts for and has not yet signed
/// for (a township's worker, for each of its villages).
async fn receive_all(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    match caller.0.receive_all(id).await {
        Ok(n) => back(&format!("/instructions/{id}"), t, "instr.received_all", &[("n", &n.to_string())]),
        Err(e) => failure(t, &caller, e),
    }
}
