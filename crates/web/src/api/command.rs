//! The command over HTTP: the incident's response level and task forces, instructions with a
//! clock per recipient and each act on a recipient as an operation, and the caller's notices.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use cordon_domain::access::Permission;
use cordon_domain::command::{Act, ResponseLevel, TaskForceKind};
use cordon_store::command::{
    ActAsk, Command, Instruction, InstructionFilter, InstructionSummary, Member, NewInstruction, Notice, Recipient, RecipientAsk, TaskForce,
};
use cordon_store::scoped::InstructionView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView { user_id: m.user_id, username: m.username, display_name: m.display_name }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskForceView {
    pub id: i64,
    pub incident_id: i64,
    pub name: String,
    #[schema(schema_with = crate::api::enums::task_force_kind)]
    pub kind: String,
    pub lead: Option<MemberView>,
    pub members: Vec<MemberView>,
}

impl From<TaskForce> for TaskForceView {
    fn from(t: TaskForce) -> Self {
        TaskForceView {
            id: t.id,
            incident_id: t.incident_id,
            name: t.name,
            kind: t.kind.to_string(),
            lead: t.lead.map(MemberView::from),
            members: t.members.into_iter().map(MemberView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelChangeView {
    #[schema(schema_with = crate::api::enums::response_level)]
    pub level: String,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommandView {
    pub incident_id: i64,
    pub name: String,
    pub area_code: String,
    pub started_at: DateTime<Utc>,
    /// I (highest) to IV; null before one is set.
    #[schema(schema_with = crate::api::enums::response_level_or_null)]
    pub level: Option<String>,
    pub levels: Vec<LevelChangeView>,
    pub task_forces: Vec<TaskForceView>,
}

impl From<Command> for CommandView {
    fn from(c: Command) -> Self {
        CommandView {
            incident_id: c.incident.id,
            name: c.incident.name,
            area_code: c.incident.area_code,
            started_at: c.incident.started_at,
            level: c.incident.level.map(|l| l.to_string()),
            levels: c
                .levels
                .into_iter()
                .map(|l| LevelChangeView {
                    level: l.level.to_string(),
                    reason: l.reason,
                    changed_at: l.changed_at,
                    changed_by: l.changed_by,
                })
                .collect(),
            task_forces: c.task_forces.into_iter().map(TaskForceView::from).collect(),
        }
    }
}

/// The incident as a command: its level with its changes and its task forces. Requires
/// `areas.read` (an incident over the jurisdiction).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/command", tag = "command", params(("id" = i64, Path)),
    responses((status = 200, body = CommandView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn command(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<CommandView>> {
    Ok(Json(caller.0.command(id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IncidentInput {
    #[schema(max_length = 100)]
    pub name: String,
    /// The area it covers: the county, most often.
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    /// When the response started; now when absent, never in the future.
    pub started_at: Option<DateTime<Utc>>,
    /// I (highest) to IV
    #[schema(schema_with = crate::api::enums::response_level_or_null)]
    pub level: Option<String>,
}

/// Opens an incident (启动应急响应) over an area of the jurisdiction. Requires `command.write`.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "command", request_body = IncidentInput,
    responses((status = 201, body = CommandView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn open_incident(caller: Caller, Json(input): Json<IncidentInput>) -> ApiResult<(StatusCode, Json<CommandView>)> {
    caller.0.require(Permission::CommandWrite)?;
    let area = parse_area("area_code", &input.area_code)?;
    let level = input
        .level
        .as_deref()
        .map(|l| {
            l.parse::<ResponseLevel>()
                .map_err(|_| ApiError::bad_field("level", cordon_domain::refusal!("refused.incident.unknown_level", level = l)))
        })
        .transpose()?;
    let c = caller.0.open_incident(&input.name, &area, input.started_at, level).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LevelInput {
    /// I (highest) to IV
    #[schema(schema_with = crate::api::enums::response_level)]
    pub level: String,
    /// Why the level changes (kept in its history).
    pub reason: String,
}

/// Changes the incident's response level, with the reason. Requires `command.write`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/level", tag = "command", params(("id" = i64, Path)), request_body = LevelInput,
    responses((status = 200, body = CommandView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn set_level(caller: Caller, Path(id): Path<i64>, Json(input): Json<LevelInput>) -> ApiResult<Json<CommandView>> {
    caller.0.require(Permission::CommandWrite)?;
    let level = input
        .level
        .parse::<ResponseLevel>()
        .map_err(|_| ApiError::bad_field("level", cordon_domain::refusal!("refused.incident.unknown_level", level = input.level)))?;
    Ok(Json(caller.0.set_level(id, level, &input.reason).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TaskForceInput {
    #[schema(schema_with = crate::api::enums::task_force_kind)]
    pub kind: String,
    /// Its name; the kind's name when empty.
    #[serde(default)]
    pub name: String,
    pub lead_user_id: Option<i64>,
}

/// Adds a task force to the incident. Requires `command.write`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/task-forces", tag = "command", params(("id" = i64, Path)), request_body = TaskForceInput,
    responses((status = 201, body = TaskForceView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn create_task_force(
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<TaskForceInput>,
) -> ApiResult<(StatusCode, Json<TaskForceView>)> {
    caller.0.require(Permission::CommandWrite)?;
    let kind = input
        .kind
        .parse::<TaskForceKind>()
        .map_err(|_| ApiError::bad_field("kind", cordon_domain::refusal!("refused.task_force.unknown_kind", kind = input.kind)))?;
    let tf = caller.0.create_task_force(id, kind, &input.name, input.lead_user_id).await?;
    Ok((StatusCode::CREATED, Json(tf.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberInput {
    pub user_id: i64,
    /// Makes them the lead (and a member).
    #[serde(default)]
    pub lead: bool,
}

/// Adds a member to a task force, or names its lead. Requires `command.write`.
#[utoipa::path(post, path = "/api/v1/task-forces/{id}/members", tag = "command", params(("id" = i64, Path)), request_body = MemberInput,
    responses((status = 200, body = TaskForceView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn add_member(caller: Caller, Path(id): Path<i64>, Json(input): Json<MemberInput>) -> ApiResult<Json<TaskForceView>> {
    caller.0.require(Permission::CommandWrite)?;
    Ok(Json(caller.0.add_to_task_force(id, input.user_id, input.lead).await?.into()))
}

/// Takes a member off a task force (not its lead). Requires `command.write`.
#[utoipa::path(delete, path = "/api/v1/task-forces/{id}/members/{user_id}", tag = "command",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = TaskForceView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn remove_member(caller: Caller, Path((id, user_id)): Path<(i64, i64)>) -> ApiResult<Json<TaskForceView>> {
    caller.0.require(Permission::CommandWrite)?;
    Ok(Json(caller.0.remove_from_task_force(id, user_id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RecipientInput {
    /// task_force, area or user
    #[schema(schema_with = crate::api::enums::recipient_kind)]
    pub kind: String,
    /// The task force's or the user's id.
    pub id: Option<i64>,
    /// The township's or community's code.
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: Option<String>,
}

impl RecipientInput {
    fn parse(&self, field: &str) -> ApiResult<RecipientAsk> {
        let id = |kind| self.id.ok_or_else(|| ApiError::bad_request(field, format!("a {kind} recipient names its id")));
        match self.kind.as_str() {
            "task_force" => Ok(RecipientAsk::TaskForce(id("task_force")?)),
            "user" => Ok(RecipientAsk::User(id("user")?)),
            "area" => match &self.area_code {
                Some(a) => Ok(RecipientAsk::Area(parse_area(field, a)?)),
                None => Err(ApiError::bad_request(field, "an area recipient names its area_code")),
            },
            other => Err(ApiError::bad_request(field, format!("recipient kind {other:?} is not task_force, area or user"))),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InstructionInput {
    /// The incident; the caller's current one when absent.
    pub incident_id: Option<i64>,
    #[schema(max_length = 100)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Each recipient's deadline: ahead of now, within 90 days.
    pub deadline: DateTime<Utc>,
    /// Issued for this task force by its lead; absent for the headquarters (`command.write`).
    pub task_force_id: Option<i64>,
    /// One to 1,000 recipients.
    pub recipients: Vec<RecipientInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StateCountView {
    #[schema(schema_with = crate::api::enums::recipient_state)]
    pub state: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstructionSummaryView {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    pub task_force_id: Option<i64>,
    pub task_force: Option<String>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Recipients now (a reassigned one counts once, as its successor).
    pub recipient_count: i64,
    pub by_state: Vec<StateCountView>,
    /// Open recipients past their deadline.
    pub overdue: i64,
    /// Open recipients within an hour of it.
    pub due_soon: i64,
}

impl From<InstructionSummary> for InstructionSummaryView {
    fn from(s: InstructionSummary) -> Self {
        InstructionSummaryView {
            id: s.id,
            incident_id: s.incident_id,
            title: s.title,
            task_force_id: s.task_force_id,
            task_force: s.task_force,
            issued_by: s.issued_by,
            issued_at: s.issued_at,
            deadline: s.deadline,
            recipient_count: s.recipients,
            by_state: s.by_state.into_iter().map(|(state, count)| StateCountView { state: state.to_string(), count }).collect(),
            overdue: s.overdue,
            due_soon: s.due_soon,
        }
    }
}

/// Issues an instruction to task forces, townships or communities and persons, each with its
/// own clock to the deadline; each is told. Requires `areas.read` and either `command.write`
/// or being the lead of the task force it names.
#[utoipa::path(post, path = "/api/v1/instructions", tag = "command", request_body = InstructionInput,
    responses((status = 201, body = InstructionSummaryView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn issue(caller: Caller, Json(input): Json<InstructionInput>) -> ApiResult<(StatusCode, Json<InstructionSummaryView>)> {
    caller.0.require(Permission::AreasRead)?;
    let incident_id = match input.incident_id {
        Some(i) => i,
        None => caller.0.current_incident().await?.ok_or_else(|| ApiError::not_found("no incident covers your jurisdiction"))?,
    };
    let recipients = input.recipients.iter().map(|r| r.parse("recipients")).collect::<ApiResult<Vec<_>>>()?;
    let new = NewInstruction {
        incident_id,
        title: input.title,
        body: input.body,
        deadline: input.deadline,
        task_force_id: input.task_force_id,
        recipients,
    };
    Ok((StatusCode::CREATED, Json(caller.0.issue_instruction(&new).await?.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InstructionQuery {
    /// Issued by this task force or sent to it.
    task_force_id: Option<i64>,
    /// Only those the caller gave or acts for.
    #[serde(default)]
    mine: bool,
    /// Only those with a recipient overdue.
    #[serde(default)]
    overdue: bool,
    /// The `next` of the previous page.
    before: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstructionPage {
    pub items: Vec<InstructionSummaryView>,
    /// Pass as `before` for the next page; null on the last.
    pub next: Option<i64>,
}

/// Instructions newest first, paged by key: every one for the headquarters (`command.write` or
/// `reports.read`), else those the caller gave or acts for. Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/instructions", tag = "command", params(InstructionQuery),
    responses((status = 200, body = InstructionPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn list(caller: Caller, Query(q): Query<InstructionQuery>) -> ApiResult<Json<InstructionPage>> {
    let limit = super::page_limit(q.limit, 50, 200)?;
    let filter = InstructionFilter {
        incident_id: None,
        task_force_id: q.task_force_id,
        mine: q.mine.then(|| (0, Vec::new())),
        overdue: q.overdue,
        before: q.before,
        limit,
    };
    let items = caller.0.instructions(filter).await?;
    let next = (items.len() == limit as usize).then(|| items.last().map(|i| i.id)).flatten();
    Ok(Json(InstructionPage { items: items.into_iter().map(InstructionSummaryView::from).collect(), next }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    #[schema(schema_with = crate::api::enums::instruction_act)]
    pub act: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    pub by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientView {
    pub id: i64,
    #[schema(schema_with = crate::api::enums::recipient_kind)]
    pub kind: String,
    pub task_force_id: Option<i64>,
    pub area_code: Option<String>,
    pub user_id: Option<i64>,
    /// The task force's, area's or person's name.
    pub name: String,
    #[schema(schema_with = crate::api::enums::recipient_state)]
    pub state: String,
    pub deadline: DateTime<Utc>,
    pub assigned_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    /// When it was escalated (督办) for being overdue.
    pub escalated_at: Option<DateTime<Utc>>,
    /// The completion report.
    pub report: Option<String>,
    /// The recipient it took over from on a reassignment.
    pub replaces_id: Option<i64>,
    #[schema(schema_with = crate::api::enums::instruction_clock)]
    pub clock: String,
    pub events: Vec<EventView>,
    /// The caller acts for it (receive, progress, done).
    pub yours: bool,
}

impl RecipientView {
    fn new(r: Recipient, yours: bool) -> Self {
        RecipientView {
            id: r.id,
            kind: r.kind.to_string(),
            task_force_id: r.task_force_id,
            area_code: r.area_code,
            user_id: r.user_id,
            name: r.label,
            state: r.state.to_string(),
            deadline: r.deadline,
            assigned_at: r.assigned_at,
            received_at: r.received_at,
            done_at: r.done_at,
            escalated_at: r.escalated_at,
            report: r.report,
            replaces_id: r.replaces_id,
            clock: r.clock.as_str().to_string(),
            events: r.events.into_iter().map(|e| EventView { act: e.act.to_string(), note: e.note, at: e.at, by: e.by_name }).collect(),
            yours,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstructionDetailView {
    #[serde(flatten)]
    pub summary: InstructionSummaryView,
    pub body: String,
    pub recipients: Vec<RecipientView>,
    /// The caller may verify, send back and reassign.
    pub may_verify: bool,
}

impl From<InstructionView> for InstructionDetailView {
    fn from(v: InstructionView) -> Self {
        let Instruction { summary, body, recipients } = v.instruction;
        InstructionDetailView {
            summary: summary.into(),
            body,
            recipients: recipients
                .into_iter()
                .map(|r| {
                    let yours = v.acting_for.contains(&r.id);
                    RecipientView::new(r, yours)
                })
                .collect(),
            may_verify: v.may_verify,
        }
    }
}

/// One instruction with every recipient, its clock and its acts. Requires `areas.read` (the
/// headquarters, the issuer, or one it was sent to).
#[utoipa::path(get, path = "/api/v1/instructions/{id}", tag = "command", params(("id" = i64, Path)),
    responses((status = 200, body = InstructionDetailView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<InstructionDetailView>> {
    Ok(Json(caller.0.instruction(id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ActInput {
    /// A progress note, the completion report (done), or the reason (send back).
    #[serde(default)]
    pub note: String,
    /// A new deadline: on a send-back (needed when the old one has passed) or a reassignment.
    pub deadline: Option<DateTime<Utc>>,
    /// The new recipient of a reassignment.
    pub to: Option<RecipientInput>,
}

async fn act(caller: Caller, id: i64, rid: i64, act: Act, input: ActInput) -> ApiResult<Json<InstructionDetailView>> {
    caller.0.require(Permission::AreasRead)?;
    let to = input.to.as_ref().map(|t| t.parse("to")).transpose()?;
    let ask = ActAsk { act, text: input.note, deadline: input.deadline, to };
    Ok(Json(caller.0.act_on_instruction(id, rid, &ask).await?.into()))
}

macro_rules! act_route {
    ($(#[$doc:meta])* $name:ident, $path:literal, $act:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "command", params(("id" = i64, Path), ("rid" = i64, Path)), request_body = ActInput,
            responses((status = 200, body = InstructionDetailView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
                      (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
            extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
        pub async fn $name(caller: Caller, Path((id, rid)): Path<(i64, i64)>, input: Option<Json<ActInput>>) -> ApiResult<Json<InstructionDetailView>> {
            act(caller, id, rid, $act, input.map(|Json(i)| i).unwrap_or_default()).await
        }
    };
}

act_route!(
    /// Signs for an instruction (签收), by one who acts for the recipient.
    receive, "/api/v1/instructions/{id}/recipients/{rid}/receive", Act::Receive);
act_route!(
    /// Reports progress (`note` needed), by one who acts for the recipient.
    progress, "/api/v1/instructions/{id}/recipients/{rid}/progress", Act::Progress);
act_route!(
    /// Reports it done with the completion report in `note`, by one who acts for the recipient;
    /// the issuer is told.
    done, "/api/v1/instructions/{id}/recipients/{rid}/done", Act::Done);
act_route!(
    /// Verifies a recipient's completion, by the issuer, the issuing task force's lead or a
    /// commander.
    verify, "/api/v1/instructions/{id}/recipients/{rid}/verify", Act::Verify);
act_route!(
    /// Sends a completion back with the reason in `note` (and a new `deadline` when the old one
    /// has passed), by the issuer, the issuing task force's lead or a commander.
    send_back, "/api/v1/instructions/{id}/recipients/{rid}/send-back", Act::SendBack);
act_route!(
    /// Gives an open recipient's part to another (`to`, with a `deadline` when the old one has
    /// passed); the new recipient is told. By the issuer, the issuing lead or a commander.
    reassign, "/api/v1/instructions/{id}/recipients/{rid}/reassign", Act::Reassign);

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: i64,
    #[schema(schema_with = crate::api::enums::notice_kind)]
    pub kind: String,
    pub instruction_id: i64,
    pub recipient_id: i64,
    pub title: String,
    /// The recipient it is about.
    pub recipient: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<Notice> for NoticeView {
    fn from(n: Notice) -> Self {
        NoticeView {
            id: n.id,
            kind: n.kind.to_string(),
            instruction_id: n.instruction_id,
            recipient_id: n.recipient_id,
            title: n.title,
            recipient: n.recipient,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// The caller's latest fifty notices: instructions to them, completions to verify, send-backs
/// and escalations. Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/notices", tag = "command",
    responses((status = 200, body = [NoticeView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn notices(caller: Caller) -> ApiResult<Json<Vec<NoticeView>>> {
    Ok(Json(caller.0.notices(50).await?.into_iter().map(NoticeView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadView {
    /// How many were marked read.
    pub read: u64,
}

/// Marks the caller's notices read. Requires `areas.read`.
#[utoipa::path(post, path = "/api/v1/notices/read", tag = "command",
    responses((status = 200, body = ReadView), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn read_notices(caller: Caller) -> ApiResult<Json<ReadView>> {
    Ok(Json(ReadView { read: caller.0.read_notices().await? }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TimelineQuery {
    /// One local day (`2022-04-13`); the whole incident when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    date: Option<String>,
    /// Only events of this kind.
    #[param(schema_with = crate::api::enums::timeline_kind)]
    kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEventView {
    pub at: DateTime<Utc>,
    #[schema(schema_with = crate::api::enums::timeline_kind)]
    pub kind: String,
    /// The record it names: a zone, a case number, a title, the text of a typed entry.
    pub subject: String,
    /// What the kind adds: a level's reason, a zone's act and kind (`designate:sealed`), a case's
    /// class, a transfer's kind, who typed an entry.
    pub detail: String,
    /// How many it gathers (events of one kind in one minute), or a round's people sampled.
    pub n: i64,
    /// The page of the record.
    pub link: Option<String>,
    /// In Chinese, as the page says it.
    pub zh: String,
}

fn timeline_view(e: cordon_domain::timeline::Event) -> TimelineEventView {
    let zh = crate::ui::say_in_chinese(&e);
    TimelineEventView { at: e.at, kind: e.kind.to_string(), subject: e.subject, detail: e.detail, n: e.n, link: e.link, zh }
}

/// The incident's timeline in time order: what each module recorded (level changes, task
/// forces, the first positive and each case, zone acts, rounds, transfers, checkpoints,
/// instructions issued and done) and the entries typed by the headquarters. Requires
/// `command.write` or `reports.read`.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "command", params(("id" = i64, Path), TimelineQuery),
    responses((status = 200, body = [TimelineEventView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::ReportsRead.as_str()))))]
pub async fn timeline(caller: Caller, Path(id): Path<i64>, Query(q): Query<TimelineQuery>) -> ApiResult<Json<Vec<TimelineEventView>>> {
    caller.0.require_any(&[Permission::CommandWrite, Permission::ReportsRead])?;
    let window = match q.date.as_deref() {
        None => None,
        Some(d) => {
            let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ApiError::bad_request("date", format!("{d:?} is not a date like 2022-04-13")))?;
            let from = cordon_domain::from_local(day.and_hms_opt(0, 0, 0).unwrap_or_default());
            Some((from, from + chrono::Duration::days(1)))
        }
    };
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(
            k.parse::<cordon_domain::timeline::EventKind>()
                .map_err(|_| ApiError::bad_request("kind", format!("{k:?} is not a kind of timeline event")))?,
        ),
    };
    let events = caller.0.timeline(id, window.map(|w| w.0), window.map(|w| w.1)).await?;
    Ok(Json(events.into_iter().filter(|e| kind.is_none_or(|k| k == e.kind)).map(timeline_view).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EntryInput {
    /// When it happened; now when absent. Not in the future, within the last year.
    pub at: Option<DateTime<Utc>>,
    #[schema(max_length = 500)]
    pub text: String,
}

/// Types an entry into the incident's timeline. Requires `command.write`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/timeline", tag = "command", params(("id" = i64, Path)), request_body = EntryInput,
    responses((status = 201, body = TimelineEventView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn add_entry(
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<EntryInput>,
) -> ApiResult<(StatusCode, Json<TimelineEventView>)> {
    caller.0.require(Permission::CommandWrite)?;
    let e = caller.0.add_timeline_entry(id, input.at, &input.text).await?;
    Ok((StatusCode::CREATED, Json(timeline_view(e))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockCountView {
    #[schema(schema_with = crate::api::enums::clock_kind)]
    pub clock: String,
    /// The township, or the county for items held at county level.
    pub area_code: String,
    pub open: i64,
    /// Open, the deadline within the clock's warning window (a quarter of its target, at least
    /// half an hour; an hour for an instruction).
    pub due_soon: i64,
    /// Open past the deadline.
    pub overdue: i64,
}

/// Every time target's open items in the jurisdiction, per clock and township: a positive to
/// hospital (2 h), the core investigation (4 h) and its report (24 h), contacts to quarantine
/// (12 h), a pool's recall (6 h), a tube's result (12 h), instructions. Requires `command.write`
/// or `reports.read`.
#[utoipa::path(get, path = "/api/v1/clocks", tag = "command",
    responses((status = 200, body = [ClockCountView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::ReportsRead.as_str()))))]
pub async fn clocks(caller: Caller) -> ApiResult<Json<Vec<ClockCountView>>> {
    let counts = caller.0.clock_counts().await?;
    Ok(Json(
        counts
            .into_iter()
            .map(|c| ClockCountView {
                clock: c.clock.to_string(),
                area_code: c.area_code,
                open: c.open,
                due_soon: c.due_soon,
                overdue: c.overdue,
            })
            .collect(),
    ))
}
