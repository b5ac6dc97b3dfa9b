//! The scoped door to the command: whoever reads areas sees the incident's level and task forces;
//! a commander (`command.write`) changes the level and forms the task forces, and issues
//! instructions; a task force's lead issues them for the task force. Those an instruction is
//! sent to act on it; the issuer (or a commander) verifies, sends back or reassigns. The
//! headquarters (`command.write` or `reports.read`) sees every instruction, anyone else those
//! they gave or act for.

use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::access::{Permission, Role};
use cordon_domain::command::{RecipientState, ResponseLevel, TaskForceKind};
use serde::Serialize;

use super::Scoped;
use crate::command::{
    ActAsk, Asker, Command, Incident, Instruction, InstructionFilter, InstructionSummary, NewInstruction, Notice, RecipientAsk, TaskForce,
};
use crate::{Result, StoreError};

/// An instruction as one caller sees it: which recipients they act for, and whether they may
/// verify, send back and reassign.
#[derive(Debug, Clone, Serialize)]
pub struct InstructionView {
    #[serde(flatten)]
    pub instruction: Instruction,
    /// The recipients the caller acts for (receive, progress, done).
    pub acting_for: Vec<i64>,
    /// The caller gave it, leads the task force that did, or commands.
    pub may_verify: bool,
}

/// An account as the command's forms offer it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

impl Scoped {
    /// The caller as the store's rules see them in an incident: commanding it needs
    /// `command.write` and the incident over the jurisdiction (or the jurisdiction inside it).
    fn asker(&self, incident: &Incident) -> Result<Asker<'_>> {
        let commands = self.principal.can(Permission::CommandWrite) && self.sees_incident(incident).is_ok();
        Ok(Asker { user: &self.principal.user, commands })
    }

    /// A read-only account (the observer) gives no instruction and acts on none, even one named
    /// lead before the rule.
    fn not_read_only(&self) -> Result<()> {
        if cordon_domain::access::read_only(&self.principal.permissions) {
            return Err(refused!("refused.user.read_only", name = self.principal.user.display_name));
        }
        Ok(())
    }

    /// Sees every instruction: the headquarters.
    fn sees_all_instructions(&self) -> bool {
        self.principal.can(Permission::CommandWrite) || self.principal.can(Permission::ReportsRead)
    }

    /// The incident the caller works in: the latest whose area lies in the jurisdiction or
    /// contains it.
    pub async fn current_incident(&self) -> Result<Option<i64>> {
        self.require(Permission::AreasRead)?;
        let all: Vec<(i64, String)> = crate::with_read_pool!(self.store, pool => sqlx::query_as(
            "SELECT id, area_code FROM incidents ORDER BY started_at DESC, id DESC").fetch_all(pool).await?);
        let j = &self.principal.user.jurisdiction;
        Ok(all
            .into_iter()
            .find(|(_, code)| AreaCode::parse(code).is_ok_and(|a| j.contains(&a) || j.areas().iter().any(|mine| a.contains(mine))))
            .map(|(id, _)| id))
    }

    /// Opens an incident over an area of the jurisdiction (`command.write`), started at
    /// `started_at` (now when absent).
    pub async fn open_incident(
        &self,
        name: &str,
        area: &AreaCode,
        started_at: Option<chrono::DateTime<Utc>>,
        level: Option<ResponseLevel>,
    ) -> Result<Command> {
        self.require(Permission::CommandWrite)?;
        self.inside(area)?;
        let now = Utc::now();
        let at = started_at.unwrap_or(now);
        if at > now {
            return Err(refused!("refused.incident.future"));
        }
        let id = self.store.open_incident(&self.actor, name, area, at, level).await?;
        self.command(id).await
    }

    /// The incident with its level's history and its task forces (an incident the caller
    /// works in).
    pub async fn command(&self, incident_id: i64) -> Result<Command> {
        self.require(Permission::AreasRead)?;
        let c = self.store.command(incident_id).await?;
        self.sees_incident(&c.incident)?;
        Ok(c)
    }

    fn sees_incident(&self, i: &Incident) -> Result<()> {
        let a = AreaCode::parse(&i.area_code).map_err(StoreError::corrupt)?;
        let j = &self.principal.user.jurisdiction;
        if j.contains(&a) || j.areas().iter().any(|mine| a.contains(mine)) {
            Ok(())
        } else {
            Err(missing!("refused.incident.none", id = i.id))
        }
    }

    /// An incident the caller commands: in force over an area of the jurisdiction.
    async fn commanded(&self, incident_id: i64) -> Result<Incident> {
        self.require(Permission::CommandWrite)?;
        let i = self.command(incident_id).await?.incident;
        self.inside(&AreaCode::parse(&i.area_code).map_err(StoreError::corrupt)?)?;
        Ok(i)
    }

    /// Changes the response level (`command.write`), with the reason.
    pub async fn set_level(&self, incident_id: i64, level: ResponseLevel, reason: &str) -> Result<Command> {
        let i = self.commanded(incident_id).await?;
        self.store.set_level(&self.actor, &i, level, reason).await?;
        self.command(incident_id).await
    }

    /// Adds a task force (`command.write`).
    pub async fn create_task_force(&self, incident_id: i64, kind: TaskForceKind, name: &str, lead: Option<i64>) -> Result<TaskForce> {
        let i = self.commanded(incident_id).await?;
        self.store.create_task_force(&self.actor, &i, kind, name, lead).await
    }

    /// Starts the usual task forces the incident lacks (`command.write`).
    pub async fn start_default_task_forces(&self, incident_id: i64) -> Result<usize> {
        let i = self.commanded(incident_id).await?;
        self.store.start_default_task_forces(&self.actor, &i).await
    }

    /// Names a task force's lead or adds a member (`command.write`).
    pub async fn add_to_task_force(&self, task_force_id: i64, user_id: i64, as_lead: bool) -> Result<TaskForce> {
        let tf = self.store.task_force(task_force_id).await?;
        let i = self.commanded(tf.incident_id).await?;
        self.store.add_to_task_force(&self.actor, &tf, &i.area_code, user_id, as_lead).await
    }

    /// Takes a member off a task force (`command.write`).
    pub async fn remove_from_task_force(&self, task_force_id: i64, user_id: i64) -> Result<TaskForce> {
        let tf = self.store.task_force(task_force_id).await?;
        let i = self.commanded(tf.incident_id).await?;
        self.store.remove_from_task_force(&self.actor, &tf, &i.area_code, user_id).await
    }

    /// The task forces the caller leads in an incident.
    pub async fn led_task_forces(&self, incident_id: i64) -> Result<Vec<TaskForce>> {
        let c = self.command(incident_id).await?;
        let me = self.principal.user.id;
        Ok(c.task_forces.into_iter().filter(|t| t.lead.as_ref().is_some_and(|l| l.user_id == me)).collect())
    }

    /// The enabled accounts, for naming leads, members and persons to instruct: to a
    /// commander or a task force's lead.
    pub async fn accounts(&self, incident_id: i64) -> Result<Vec<Account>> {
        if !self.principal.can(Permission::CommandWrite) && self.led_task_forces(incident_id).await?.is_empty() {
            self.require(Permission::CommandWrite)?;
        }
        // Those who can act: enabled, and not read-only.
        let mut acting = std::collections::BTreeMap::new();
        for role in Role::ALL {
            acting.insert(*role, !cordon_domain::access::read_only(&self.store.role_permissions(*role).await?));
        }
        let incident = self.command(incident_id).await?.incident;
        let area = AreaCode::parse(&incident.area_code).map_err(StoreError::corrupt)?;
        Ok(self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| !u.disabled && acting.get(&u.role).copied().unwrap_or(false) && crate::command::works_in(u, &area))
            .map(|u| Account { id: u.id, username: u.username, display_name: u.display_name, role: u.role })
            .collect())
    }

    /// Issues an instruction: as the headquarters (`command.write`), or as the lead of the
    /// task force it names. An area recipient lies in the jurisdiction.
    pub async fn issue_instruction(&self, new: &NewInstruction) -> Result<InstructionSummary> {
        self.require(Permission::AreasRead)?;
        self.not_read_only()?;
        let incident = self.command(new.incident_id).await?.incident;
        for r in &new.recipients {
            if let RecipientAsk::Area(a) = r {
                self.inside(a)?;
            }
        }
        self.store.issue_instruction(&self.actor, &self.asker(&incident)?, new, Utc::now()).await
    }

    /// Instructions newest first: every one for the headquarters, else those the caller gave
    /// or acts for.
    pub async fn instructions(&self, mut filter: InstructionFilter) -> Result<Vec<InstructionSummary>> {
        self.require(Permission::AreasRead)?;
        // One incident the caller works in: the one asked for, or their current one.
        filter.incident_id = match filter.incident_id {
            Some(i) => Some(self.command(i).await?.incident.id),
            None => match self.current_incident().await? {
                Some(i) => Some(i),
                None => return Ok(Vec::new()),
            },
        };
        if filter.mine.is_some() || !self.sees_all_instructions() {
            filter.mine = Some((self.principal.user.id, self.principal.user.jurisdiction.areas().to_vec()));
        }
        self.store.instructions(&filter, Utc::now()).await
    }

    /// One instruction the caller may see, with what they may do on it: every recipient for the
    /// headquarters, its issuer and those who read every instruction; for anyone else the
    /// recipients they act for (a community worker sees their own village's line of a fan-out to
    /// a thousand, and its totals).
    pub async fn instruction(&self, id: i64) -> Result<InstructionView> {
        self.require(Permission::AreasRead)?;
        let now = Utc::now();
        let (summary, body) = self.store.instruction_head(id, now).await?;
        // An instruction of an incident the caller does not work in does not exist for them.
        let incident = match self.store.command(summary.incident_id).await {
            Ok(c) if self.sees_incident(&c.incident).is_ok() => c.incident,
            _ => return Err(missing!("refused.instr.none", id = id)),
        };
        let commands = self.asker(&incident)?.commands;
        let me = &self.principal.user;
        let leads = match summary.task_force_id {
            Some(t) => self.store.lead_of(t).await? == Some(me.id),
            None => false,
        };
        let may_verify = commands || summary.issued_by_id == Some(me.id) || leads;
        let whole = may_verify || self.sees_all_instructions();
        let forces = self.store.task_forces_of(me.id).await?;
        let mine = |r: &crate::command::Recipient| crate::command::acts_for_with(me, &forces, r);
        let recipients = self.store.recipients_of(id, now, if whole { None } else { Some(&mine) }).await?;
        let acting_for: Vec<i64> = recipients.iter().filter(|r| mine(r)).map(|r| r.id).collect();
        if !whole && acting_for.is_empty() {
            return Err(missing!("refused.instr.none", id = id));
        }
        Ok(InstructionView { instruction: crate::command::Instruction { summary, body, recipients }, acting_for, may_verify })
    }

    /// One act on one recipient of an instruction the caller may see. A reassignment to an
    /// area keeps within the jurisdiction.
    pub async fn act_on_instruction(&self, id: i64, recipient_id: i64, ask: &ActAsk) -> Result<InstructionView> {
        self.act_once(id, recipient_id, ask).await?;
        self.instruction(id).await
    }

    /// One act, the instruction's fan-out not read before it: the incident, and for anyone but
    /// the headquarters and the issuer the one recipient acted on. Someone the instruction does
    /// not concern learns nothing of it; a recipient acting on another's line is told only that
    /// it is not theirs.
    async fn act_once(&self, id: i64, recipient_id: i64, ask: &ActAsk) -> Result<()> {
        self.not_read_only()?;
        self.require(Permission::AreasRead)?;
        let incident = match self.store.command(self.store.instruction_incident(id).await?).await {
            Ok(c) if self.sees_incident(&c.incident).is_ok() => c.incident,
            _ => return Err(missing!("refused.instr.none", id = id)),
        };
        if let Some(RecipientAsk::Area(a)) = &ask.to {
            self.inside(a)?;
        }
        let asker = self.asker(&incident)?;
        let me = &self.principal.user;
        if !(asker.commands || self.sees_all_instructions()) {
            // Who issued it (its row; its recipients need not be counted).
            let (summary, _) = self.store.instruction_row(id).await?;
            let leads = match summary.task_force_id {
                Some(t) => self.store.lead_of(t).await? == Some(me.id),
                None => false,
            };
            if summary.issued_by_id != Some(me.id) && !leads {
                let mine = match self.store.recipient(id, recipient_id, Utc::now()).await {
                    Ok(r) => self.store.acts_for(me, &r).await?,
                    Err(e) if e.refusal().is_some_and(|r| r.class == cordon_domain::refusal::Class::Missing) => false,
                    Err(e) => return Err(e),
                };
                if !mine {
                    // Seen only by those who act for one of its lines.
                    self.instruction(id).await?;
                    return Err(refused!("refused.instr.not_recipient"));
                }
            }
        }
        self.store.act_on(&self.actor, &asker, id, recipient_id, ask, Utc::now()).await
    }

    /// Signs for every recipient of an instruction the caller acts for and has not signed for;
    /// one another signed for meanwhile is passed over. Answers how many were signed for.
    pub async fn receive_all(&self, id: i64) -> Result<usize> {
        self.not_read_only()?;
        let v = self.instruction(id).await?;
        if v.acting_for.is_empty() {
            return Err(refused!("refused.instr.none_yours"));
        }
        let incident = self.store.command(v.instruction.summary.incident_id).await?.incident;
        let asker = self.asker(&incident)?;
        let ask = ActAsk { act: cordon_domain::command::Act::Receive, text: String::new(), deadline: None, to: None };
        let mut signed = 0;
        for r in v.instruction.recipients.iter().filter(|r| r.state == RecipientState::Issued && v.acting_for.contains(&r.id)) {
            match self.store.act_on(&self.actor, &asker, id, r.id, &ask, Utc::now()).await {
                Ok(()) => signed += 1,
                Err(e) if e.refusal().is_some_and(|r| r.class == cordon_domain::refusal::Class::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(signed)
    }

    /// The incident's timeline between `from` and `to` (the whole incident when absent), for
    /// the headquarters (`command.write` or `reports.read`).
    pub async fn timeline(
        &self,
        incident_id: i64,
        from: Option<chrono::DateTime<Utc>>,
        to: Option<chrono::DateTime<Utc>>,
    ) -> Result<Vec<cordon_domain::timeline::Event>> {
        self.require_any(&[Permission::CommandWrite, Permission::ReportsRead])?;
        let c = self.command(incident_id).await?;
        self.store.timeline(&c.incident, from, to, Utc::now()).await
    }

    /// Types an entry into the incident's timeline (`command.write`).
    pub async fn add_timeline_entry(
        &self,
        incident_id: i64,
        at: Option<chrono::DateTime<Utc>>,
        text: &str,
    ) -> Result<cordon_domain::timeline::Event> {
        let i = self.commanded(incident_id).await?;
        self.store.add_timeline_entry(&self.actor, &i, at, text, Utc::now()).await
    }

    /// Every clock's open items in the jurisdiction, per township: for the headquarters
    /// (`command.write` or `reports.read`).
    pub async fn clock_counts(&self) -> Result<Vec<crate::clocks::ClockCount>> {
        self.require_any(&[Permission::CommandWrite, Permission::ReportsRead])?;
        self.store.clock_counts(self.principal.user.jurisdiction.areas(), Utc::now()).await
    }

    /// The caller's latest notices.
    pub async fn notices(&self, limit: u32) -> Result<Vec<Notice>> {
        self.require(Permission::AreasRead)?;
        self.store.notices(self.principal.user.id, limit).await
    }

    /// Marks the caller's notices read.
    pub async fn read_notices(&self) -> Result<u64> {
        self.require(Permission::AreasRead)?;
        self.store.read_notices(self.principal.user.id, Utc::now()).await
    }

    /// Marks the caller's notices of one instruction read (they opened it).
    pub async fn read_notices_of(&self, instruction_id: i64) -> Result<u64> {
        self.require(Permission::AreasRead)?;
        self.store.read_notices_of(self.principal.user.id, instruction_id, Utc::now()).await
    }

    /// How many of the caller's notices are unread.
    pub async fn unread_notices(&self) -> Result<i64> {
        self.require(Permission::AreasRead)?;
        self.store.unread_notices(self.principal.user.id).await
    }
}
