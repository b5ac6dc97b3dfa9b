//! The command: level, task forces and instructions with a clock per recipient, on both backends.

use chrono::{Duration, Utc};
use cordon_domain::access::Role;
use cordon_domain::command::{Act, Clock, NoticeKind, RecipientState, ResponseLevel, TaskForceKind};
use cordon_store::StoreError;
use cordon_store::command::{ActAsk, InstructionFilter, NewInstruction, RecipientAsk};

use super::testing_rounds::as_user;
use super::*;

fn ask(act: Act, text: &str) -> ActAsk {
    ActAsk { act, text: text.into(), deadline: None, to: None }
}

#[tokio::test]
async fn an_instruction_fans_out_with_a_clock_per_recipient_and_the_overdue_are_escalated_once() {
    for (s, store) in each_backend("command").await {
        seed_areas(&store).await;
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let tester = as_user(&store, "tester", Role::TestingOfficer, "140121").await;
        // 东关村's worker acts for the township and for the village; the county's tester not
        // for the township.
        let dongguan = as_user(&store, "dongguan", Role::CommunityWorker, "140121100201").await;
        let xiguan = as_user(&store, "xiguan", Role::CommunityWorker, "140121100202").await;
        let viewer = as_user(&store, "viewer", Role::Viewer, "140121").await;
        let operator = as_user(&store, "operator", Role::HotlineOperator, "140121").await;
        let id_of = |u: &cordon_store::scoped::Scoped| u.principal().user.id;

        // The incident opens at level II; the level moves to I with its reason.
        let c = chief.open_incident("清徐县疫情处置", &code("140121"), None, Some(ResponseLevel::II)).await.unwrap();
        let incident = c.incident.id;
        assert_eq!(chief.current_incident().await.unwrap(), Some(incident), "{:?}", s.kind);
        assert_eq!(tester.current_incident().await.unwrap(), Some(incident));
        assert_eq!(chief.set_level(incident, ResponseLevel::II, "再次确认").await.refused().kind, "refused.incident.level_same");
        assert_eq!(chief.set_level(incident, ResponseLevel::I, " ").await.refused().kind, "refused.incident.level_reason");
        let c = chief.set_level(incident, ResponseLevel::I, "新增本土阳性3例").await.unwrap();
        assert_eq!(c.incident.level, Some(ResponseLevel::I));
        let levels: Vec<_> = c.levels.iter().map(|l| (l.level, l.reason.as_str())).collect();
        assert_eq!(levels, vec![(ResponseLevel::II, "启动应急响应"), (ResponseLevel::I, "新增本土阳性3例")]);
        assert!(matches!(tester.set_level(incident, ResponseLevel::II, "x").await, Err(StoreError::Forbidden(_))));

        // The usual task forces, the testing one led by the tester.
        assert_eq!(chief.start_default_task_forces(incident).await.unwrap(), 8);
        assert_eq!(chief.start_default_task_forces(incident).await.unwrap(), 0);
        let tfs = chief.command(incident).await.unwrap().task_forces;
        let testing = tfs.iter().find(|t| t.kind == TaskForceKind::Testing).unwrap().id;
        let tracing = tfs.iter().find(|t| t.kind == TaskForceKind::Tracing).unwrap().id;
        let tf = chief.add_to_task_force(testing, id_of(&tester), true).await.unwrap();
        assert_eq!(tf.lead.as_ref().map(|l| l.username.as_str()), Some("tester"));
        chief.add_to_task_force(testing, id_of(&xiguan), false).await.unwrap();
        assert_eq!(chief.add_to_task_force(testing, id_of(&xiguan), false).await.refused().kind, "refused.task_force.member_already");
        assert_eq!(chief.remove_from_task_force(testing, id_of(&tester)).await.refused().kind, "refused.task_force.lead_stays");
        // The observer only reads: no lead, no member, no recipient.
        assert_eq!(chief.add_to_task_force(testing, id_of(&viewer), true).await.refused().kind, "refused.user.read_only");
        assert_eq!(chief.add_to_task_force(testing, id_of(&viewer), false).await.refused().kind, "refused.user.read_only");
        assert_eq!(
            chief.create_task_force(incident, TaskForceKind::Other, "核酸检测专班", None).await.refused().kind,
            "refused.task_force.name_taken"
        );

        // An instruction to the testing task force, 清源镇 (the township) and the hotline operator;
        // not to the observer.
        let now = Utc::now();
        let new = |title: &str, deadline, recipients| NewInstruction {
            incident_id: incident,
            title: title.into(),
            body: "今日18时前完成".into(),
            deadline,
            task_force_id: None,
            recipients,
        };
        let to = vec![
            RecipientAsk::TaskForce(testing),
            RecipientAsk::Area(code("140121100")),
            RecipientAsk::User(id_of(&operator)),
            RecipientAsk::TaskForce(testing),
        ];
        let mut to_viewer = to.clone();
        to_viewer.push(RecipientAsk::User(id_of(&viewer)));
        assert_eq!(
            chief.issue_instruction(&new("全员核酸", now + Duration::hours(2), to_viewer)).await.refused().kind,
            "refused.user.read_only"
        );
        assert_eq!(
            chief.issue_instruction(&new("全员核酸", now - Duration::minutes(1), to.clone())).await.refused().kind,
            "refused.instr.deadline_past"
        );
        assert_eq!(chief.issue_instruction(&new(" ", now + Duration::hours(2), to.clone())).await.refused().kind, "refused.instr.no_title");
        assert_eq!(
            chief.issue_instruction(&new("全员核酸", now + Duration::hours(2), vec![])).await.refused().kind,
            "refused.instr.no_recipient"
        );
        // Not a commander, not issuing for a task force it leads.
        assert_eq!(
            xiguan
                .issue_instruction(&new("全员核酸", now + Duration::hours(2), vec![RecipientAsk::TaskForce(testing)]))
                .await
                .refused()
                .kind,
            "refused.instr.not_commander"
        );
        // Nor to an area outside the jurisdiction.
        assert!(matches!(
            xiguan.issue_instruction(&new("全员核酸", now + Duration::hours(2), to.clone())).await,
            Err(StoreError::Forbidden(_))
        ));
        let issued = chief.issue_instruction(&new("全员核酸", now + Duration::hours(2), to.clone())).await.unwrap();
        assert_eq!(issued.recipients, 3, "the repeated task force once");
        assert_eq!(issued.by_state[&RecipientState::Issued], 3);

        // Each recipient's accounts are told, once each: the tester and xiguan (the task force),
        // dongguan and xiguan (the township's villages), the operator; not the chief.
        for (who, n) in [(&tester, 1), (&xiguan, 1), (&dongguan, 1), (&operator, 1), (&chief, 0)] {
            let notices = who.notices(50).await.unwrap();
            assert_eq!(notices.len(), n, "{}", who.principal().user.username);
            assert!(notices.iter().all(|n| n.kind == NoticeKind::Assigned));
        }
        assert_eq!(dongguan.unread_notices().await.unwrap(), 1);
        assert_eq!(dongguan.read_notices().await.unwrap(), 1);
        assert_eq!(dongguan.unread_notices().await.unwrap(), 0);

        // Who acts for which recipient: the headquarters sees every recipient, a recipient's
        // account its own line (with the totals).
        let all = chief.instruction(issued.id).await.unwrap();
        let rid = |kind: &str| all.instruction.recipients.iter().find(|r| r.kind.as_str() == kind).unwrap().id;
        let (r_tf, r_area, r_user) = (rid("task_force"), rid("area"), rid("user"));
        let v = dongguan.instruction(issued.id).await.unwrap();
        assert_eq!(v.acting_for, vec![r_area]);
        assert_eq!(v.instruction.recipients.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r_area]);
        assert_eq!(v.instruction.summary.recipients, 3);
        assert!(!v.may_verify);
        assert_eq!(
            tester.act_on_instruction(issued.id, r_area, &ask(Act::Receive, "")).await.refused().kind,
            "refused.instr.not_recipient"
        );
        // Who does not act for a line learns nothing of its state (not "sign for it first").
        assert_eq!(
            tester.act_on_instruction(issued.id, r_area, &ask(Act::Done, "完成")).await.refused().kind,
            "refused.instr.not_recipient"
        );
        assert_eq!(tester.act_on_instruction(issued.id, r_tf, &ask(Act::Done, "完成")).await.refused().kind, "refused.instr.receive_first");
        tester.act_on_instruction(issued.id, r_tf, &ask(Act::Receive, "")).await.unwrap();
        assert_eq!(
            xiguan.act_on_instruction(issued.id, r_tf, &ask(Act::Receive, "")).await.refused().kind,
            "refused.instr.bad_act",
            "signed for once"
        );
        xiguan.act_on_instruction(issued.id, r_tf, &ask(Act::Progress, "已采 3,000 人")).await.unwrap();
        assert_eq!(xiguan.act_on_instruction(issued.id, r_tf, &ask(Act::Done, " ")).await.refused().kind, "refused.instr.text_needed");
        let v = xiguan.act_on_instruction(issued.id, r_tf, &ask(Act::Done, "全部完成，共采 11,931 人")).await.unwrap();
        let r = v.instruction.recipients.iter().find(|r| r.id == r_tf).unwrap();
        assert_eq!((r.state, r.clock, r.report.as_deref()), (RecipientState::Done, Clock::DoneOnTime, Some("全部完成，共采 11,931 人")));
        let acts: Vec<Act> = r.events.iter().map(|e| e.act).collect();
        assert_eq!(acts, vec![Act::Receive, Act::Progress, Act::Done]);
        // The issuer is told to verify; the recipient may not verify its own.
        assert!(chief.notices(50).await.unwrap().iter().any(|n| n.kind == NoticeKind::Done && n.recipient_id == r_tf));
        assert_eq!(tester.act_on_instruction(issued.id, r_tf, &ask(Act::Verify, "")).await.refused().kind, "refused.instr.not_issuer");
        // Sent back with a reason; done again; verified.
        assert_eq!(chief.act_on_instruction(issued.id, r_tf, &ask(Act::SendBack, "")).await.refused().kind, "refused.instr.text_needed");
        chief.act_on_instruction(issued.id, r_tf, &ask(Act::SendBack, "缺少东关村数据")).await.unwrap();
        assert!(tester.notices(50).await.unwrap().iter().any(|n| n.kind == NoticeKind::SentBack));
        tester.act_on_instruction(issued.id, r_tf, &ask(Act::Done, "已补充东关村")).await.unwrap();
        let v = chief.act_on_instruction(issued.id, r_tf, &ask(Act::Verify, "")).await.unwrap();
        assert_eq!(v.instruction.recipients.iter().find(|r| r.id == r_tf).unwrap().state, RecipientState::Verified);

        // The operator's part goes to the tracing task force: the operator's is closed, the new
        // recipient's accounts told (its lead, named now).
        chief.add_to_task_force(tracing, id_of(&dongguan), true).await.unwrap();
        let reassign = ActAsk { to: Some(RecipientAsk::TaskForce(tracing)), ..ask(Act::Reassign, "") };
        assert_eq!(chief.act_on_instruction(issued.id, r_user, &reassign).await.refused().kind, "refused.instr.text_needed", "a reason");
        let reassign =
            ActAsk { to: Some(RecipientAsk::TaskForce(tracing)), ..ask(Act::Reassign, "热线不承办排查，转流调专班") };
        let v = chief.act_on_instruction(issued.id, r_user, &reassign).await.unwrap();
        let old = v.instruction.recipients.iter().find(|r| r.id == r_user).unwrap();
        let new_r = v.instruction.recipients.iter().find(|r| r.replaces_id == Some(r_user)).unwrap();
        assert_eq!((old.state, old.clock), (RecipientState::Reassigned, Clock::Closed));
        assert_eq!((new_r.state, new_r.task_force_id), (RecipientState::Issued, Some(tracing)));
        assert_eq!(v.instruction.summary.recipients, 3);
        assert!(dongguan.notices(50).await.unwrap().iter().any(|n| n.recipient_id == new_r.id && n.kind == NoticeKind::Assigned));

        // Nothing is overdue yet; two hours and a minute on, the open ones (the township and the
        // tracing task force) are escalated, once, to the issuer, the lead and the recipients.
        assert_eq!(store.escalate_overdue(Utc::now()).await.unwrap(), 0);
        let later = now + Duration::hours(2) + Duration::minutes(1);
        assert_eq!(store.escalate_overdue(later).await.unwrap(), 2);
        assert_eq!(store.escalate_overdue(later + Duration::minutes(5)).await.unwrap(), 0, "escalated once");
        // Told once per instruction while unread, however many of its recipients are overdue.
        let escalated = |n: &Vec<cordon_store::command::Notice>| n.iter().filter(|n| n.kind == NoticeKind::Escalated).count();
        assert_eq!(escalated(&chief.notices(50).await.unwrap()), 1);
        assert_eq!(escalated(&dongguan.notices(50).await.unwrap()), 1, "as the township's worker and the tracing lead, once");
        assert_eq!(escalated(&xiguan.notices(50).await.unwrap()), 1, "the township's");
        // Opening the instruction reads its notices.
        assert!(chief.unread_notices().await.unwrap() > 0);
        chief.read_notices_of(issued.id).await.unwrap();
        assert_eq!(chief.unread_notices().await.unwrap(), 0);
        assert_eq!(escalated(&tester.notices(50).await.unwrap()), 0, "theirs was verified");

        // The board: the headquarters sees it; a worker sees the ones they act for; the overdue
        // filter counts by the clock.
        let all = chief.instructions(InstructionFilter { limit: 50, ..Default::default() }).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].by_state[&RecipientState::Verified], 1);
        assert_eq!(all[0].overdue, 0, "not yet by the wall clock");
        let by_tf = chief.instructions(InstructionFilter { task_force_id: Some(tracing), limit: 50, ..Default::default() }).await.unwrap();
        assert_eq!(by_tf.len(), 1);
        let other_tf = tfs.iter().find(|t| t.kind == TaskForceKind::Publicity).unwrap().id;
        let none = chief.instructions(InstructionFilter { task_force_id: Some(other_tf), limit: 50, ..Default::default() }).await.unwrap();
        assert!(none.is_empty());
        assert_eq!(dongguan.instructions(InstructionFilter { limit: 50, ..Default::default() }).await.unwrap().len(), 1);
        let outsider = as_user(&store, "outsider", Role::CommunityWorker, "140121101").await;
        assert!(outsider.instructions(InstructionFilter { limit: 50, ..Default::default() }).await.unwrap().is_empty());
        assert_eq!(outsider.instruction(issued.id).await.refused().kind, "refused.instr.none");

        // The township's worker reports it done: the clock stops.
        dongguan.act_on_instruction(issued.id, r_area, &ask(Act::Receive, "")).await.unwrap();
        let v = dongguan.act_on_instruction(issued.id, r_area, &ask(Act::Done, "已完成")).await.unwrap();
        let r = v.instruction.recipients.iter().find(|r| r.id == r_area).unwrap();
        assert_eq!((r.state, r.clock), (RecipientState::Done, Clock::DoneOnTime));
    }
}

#[tokio::test]
async fn a_task_force_lead_issues_for_the_task_force_and_a_recipient_changed_meanwhile_is_a_conflict() {
    for (s, store) in each_backend("command_lead").await {
        seed_areas(&store).await;
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let lead = as_user(&store, "lead", Role::Investigator, "140121").await;
        let member = as_user(&store, "member", Role::Investigator, "140121100").await;
        let incident = chief.open_incident("清徐县疫情处置", &code("140121"), None, None).await.unwrap().incident.id;
        let tracing = chief.create_task_force(incident, TaskForceKind::Tracing, "", Some(lead.principal().user.id)).await.unwrap();
        assert_eq!(tracing.name, "流调溯源专班", "{:?}", s.kind);
        let other = chief.create_task_force(incident, TaskForceKind::Publicity, "", None).await.unwrap();
        let new = |task_force_id| NewInstruction {
            incident_id: incident,
            title: "清徐-1 密接排查".into(),
            body: String::new(),
            deadline: Utc::now() + Duration::hours(4),
            task_force_id,
            recipients: vec![RecipientAsk::TaskForce(tracing.id)],
        };
        chief.add_to_task_force(tracing.id, member.principal().user.id, false).await.unwrap();
        assert_eq!(lead.issue_instruction(&new(None)).await.refused().kind, "refused.instr.not_commander");
        assert_eq!(lead.issue_instruction(&new(Some(other.id))).await.refused().kind, "refused.instr.not_lead");
        let issued = lead.issue_instruction(&new(Some(tracing.id))).await.unwrap();
        assert_eq!(issued.task_force.as_deref(), Some("流调溯源专班"));
        let rid = lead.instruction(issued.id).await.unwrap().instruction.recipients[0].id;
        // The lead and the member sign for it at the same moment: one signs, the other is told
        // it moved on (or, read after, that it is signed for) — never both.
        let receive = ask(Act::Receive, "");
        let (a, b) = tokio::join!(lead.act_on_instruction(issued.id, rid, &receive), member.act_on_instruction(issued.id, rid, &receive));
        let kinds: Vec<&str> = [a, b].into_iter().filter_map(|r| r.err().map(|e| e.refusal().map_or("other", |r| r.kind))).collect();
        assert!(matches!(kinds.as_slice(), ["refused.instr.moved"] | ["refused.instr.bad_act"]), "{kinds:?}");
        member.act_on_instruction(issued.id, rid, &ask(Act::Done, "已排查 41 人")).await.unwrap();
        // The lead verifies what their task force gave; the chief sees it as the headquarters.
        let v = lead.instruction(issued.id).await.unwrap();
        assert!(v.may_verify);
        lead.act_on_instruction(issued.id, rid, &ask(Act::Verify, "")).await.unwrap();
        assert_eq!(lead.act_on_instruction(issued.id, rid, &ask(Act::SendBack, "再查")).await.refused().kind, "refused.instr.bad_act");
        // Escalation is the clock's, never a request's.
        assert_eq!(
            lead.act_on_instruction(issued.id, rid, &ask(Act::Escalate, "")).await.refused().kind,
            "refused.instr.escalate_by_clock"
        );
        // The audit trail has the issue and each act.
        let events = store
            .audit_events(&cordon_store::audit::AuditFilter { entity: Some("instruction_recipient".into()), ..Default::default() }, 50)
            .await
            .unwrap();
        let mut acts: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        acts.sort_unstable();
        assert_eq!(acts, vec!["done", "receive", "verify"]);
    }
}

#[tokio::test]
async fn the_timeline_gathers_what_each_module_recorded_with_the_entries_typed_by_the_headquarters() {
    use cordon_domain::timeline::EventKind;
    for (s, store) in each_backend("timeline").await {
        seed_areas(&store).await;
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let viewer = as_user(&store, "viewer", Role::Viewer, "140121").await;
        let worker = as_user(&store, "worker", Role::CommunityWorker, "140121100201").await;
        let started = Utc::now() - Duration::hours(3);
        let incident =
            chief.open_incident("清徐县疫情处置", &code("140121"), Some(started), Some(ResponseLevel::II)).await.unwrap().incident.id;
        chief.set_level(incident, ResponseLevel::I, "新增本土阳性3例").await.unwrap();
        assert_eq!(chief.start_default_task_forces(incident).await.unwrap(), 8);
        // Typed: a meeting two hours ago; one in the future and an empty one are refused.
        chief.add_timeline_entry(incident, Some(Utc::now() - Duration::hours(2)), "指挥部召开第一次调度会").await.unwrap();
        assert_eq!(
            chief.add_timeline_entry(incident, Some(Utc::now() + Duration::hours(1)), "明日会议").await.refused().kind,
            "refused.timeline.future"
        );
        assert_eq!(chief.add_timeline_entry(incident, None, " ").await.refused().kind, "refused.timeline.empty");
        assert!(matches!(viewer.add_timeline_entry(incident, None, "x").await, Err(StoreError::Forbidden(_))));
        assert!(matches!(worker.timeline(incident, None, None).await, Err(StoreError::Forbidden(_))), "the headquarters' page");
        // An instruction issued and, once its one recipient is verified, done.
        let new = NewInstruction {
            incident_id: incident,
            title: "全员核酸".into(),
            body: String::new(),
            deadline: Utc::now() + Duration::hours(2),
            task_force_id: None,
            recipients: vec![RecipientAsk::User(worker.principal().user.id)],
        };
        let issued = chief.issue_instruction(&new).await.unwrap();
        let rid = chief.instruction(issued.id).await.unwrap().instruction.recipients[0].id;
        worker.act_on_instruction(issued.id, rid, &ask(Act::Receive, "")).await.unwrap();
        worker.act_on_instruction(issued.id, rid, &ask(Act::Done, "已完成")).await.unwrap();
        let before_verify = viewer.timeline(incident, None, None).await.unwrap();
        assert!(!before_verify.iter().any(|e| e.kind == EventKind::InstructionDone), "not done until verified");
        chief.act_on_instruction(issued.id, rid, &ask(Act::Verify, "")).await.unwrap();

        let lines = viewer.timeline(incident, None, None).await.unwrap();
        let kinds: Vec<EventKind> = lines.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                EventKind::IncidentOpened,
                EventKind::LevelChanged,
                EventKind::Entry,
                EventKind::LevelChanged,
                EventKind::TaskForces,
                EventKind::InstructionIssued,
                EventKind::InstructionDone
            ],
            "{:?} {lines:#?}",
            s.kind
        );
        let forces = &lines[4];
        assert_eq!((forces.n, forces.subject.split('、').count()), (8, 8), "eight task forces in one line: {forces:?}");
        assert_eq!((lines[3].subject.as_str(), lines[3].detail.as_str()), ("I", "新增本土阳性3例"));
        assert_eq!((lines[2].subject.as_str(), lines[2].detail.as_str()), ("指挥部召开第一次调度会", "chief"));
        // A window: the last hour holds only what happened in it.
        let recent = viewer.timeline(incident, Some(Utc::now() - Duration::minutes(30)), None).await.unwrap();
        assert_eq!(recent.first().map(|e| e.kind), Some(EventKind::LevelChanged), "{recent:#?}");
    }
}

#[tokio::test]
async fn the_clocks_board_counts_open_items_per_clock_and_township_due_soon_and_overdue_by_the_time() {
    use cordon_domain::clocks::ClockKind;
    for (s, store) in each_backend("clocks").await {
        seed_areas(&store).await;
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let worker = as_user(&store, "worker", Role::CommunityWorker, "140121100201").await;
        as_user(&store, "east", Role::CommunityWorker, "140121101201").await;
        let incident = chief.open_incident("清徐县疫情处置", &code("140121"), None, None).await.unwrap().incident.id;
        let now = Utc::now();
        let new = |recipients| NewInstruction {
            incident_id: incident,
            title: "全员核酸".into(),
            body: String::new(),
            deadline: now + Duration::hours(2),
            task_force_id: None,
            recipients,
        };
        // Two villages of 清源镇, one of 徐沟镇, and a person (held at county level).
        let issued = chief
            .issue_instruction(&new(vec![
                RecipientAsk::Area(code("140121100201")),
                RecipientAsk::Area(code("140121100202")),
                RecipientAsk::Area(code("140121101201")),
                RecipientAsk::User(worker.principal().user.id),
            ]))
            .await
            .unwrap();
        let county = [code("140121")];
        let at = |minutes: i64| {
            let store = &store;
            let county = &county;
            async move {
                let counts = store.clock_counts(county, now + Duration::minutes(minutes)).await.unwrap();
                counts
                    .into_iter()
                    .filter(|c| c.clock == ClockKind::Instruction)
                    .map(|c| (c.area_code, c.open, c.due_soon, c.overdue))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            at(0).await,
            vec![("140121".into(), 1, 0, 0), ("140121100".into(), 2, 0, 0), ("140121101".into(), 1, 0, 0)],
            "{:?}",
            s.kind
        );
        assert_eq!(at(90).await[1], ("140121100".into(), 2, 2, 0), "within the hour");
        assert_eq!(at(121).await[2], ("140121101".into(), 1, 0, 1), "past the deadline");
        // Reported done: off the clock.
        let rid = chief
            .instruction(issued.id)
            .await
            .unwrap()
            .instruction
            .recipients
            .iter()
            .find(|r| r.area_code.as_deref() == Some("140121100201"))
            .unwrap()
            .id;
        worker.act_on_instruction(issued.id, rid, &ask(Act::Receive, "")).await.unwrap();
        worker.act_on_instruction(issued.id, rid, &ask(Act::Done, "已完成")).await.unwrap();
        assert_eq!(at(121).await[1], ("140121100".into(), 1, 0, 1));
        // A township's board sees its own; the headquarters' page only.
        assert_eq!(store.clock_counts(&[code("140121101")], now).await.unwrap().len(), 1);
        assert!(matches!(worker.clock_counts().await, Err(StoreError::Forbidden(_))));
        assert!(chief.clock_counts().await.unwrap().iter().all(|c| c.overdue == 0));
    }
}

#[tokio::test]
async fn an_instruction_of_an_incident_elsewhere_is_neither_seen_nor_acted_on_nor_sent_to_someone_from_elsewhere() {
    for (s, store) in each_backend("command_elsewhere").await {
        seed_areas(&store).await;
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        // An incident over 清源镇 only; 徐沟镇's commander does not work in it.
        let incident = chief.open_incident("清源镇疫情处置", &code("140121100"), None, None).await.unwrap().incident.id;
        let worker = as_user(&store, "worker", Role::CommunityWorker, "140121100201").await;
        let other = as_user(&store, "other", Role::Commander, "140121101").await;
        let stranger = as_user(&store, "stranger", Role::CommunityWorker, "140121101201").await;
        let new = |recipients| NewInstruction {
            incident_id: incident,
            title: "全员核酸".into(),
            body: String::new(),
            deadline: Utc::now() + Duration::hours(2),
            task_force_id: None,
            recipients,
        };
        assert_eq!(
            chief.issue_instruction(&new(vec![RecipientAsk::User(stranger.principal().user.id)])).await.refused().kind,
            "refused.instr.user_elsewhere",
            "{:?}",
            s.kind
        );
        let issued = chief.issue_instruction(&new(vec![RecipientAsk::User(worker.principal().user.id)])).await.unwrap();
        let rid = chief.instruction(issued.id).await.unwrap().instruction.recipients[0].id;
        worker.act_on_instruction(issued.id, rid, &ask(Act::Receive, "")).await.unwrap();
        worker.act_on_instruction(issued.id, rid, &ask(Act::Done, "已完成")).await.unwrap();
        assert_eq!(other.instruction(issued.id).await.refused().kind, "refused.instr.none");
        assert_eq!(other.act_on_instruction(issued.id, rid, &ask(Act::Verify, "")).await.refused().kind, "refused.instr.none");
        assert!(other.instructions(InstructionFilter { limit: 50, ..Default::default() }).await.unwrap().is_empty());
        assert!(other.accounts(incident).await.is_err(), "nor its accounts");
        // The chief's accounts for it are those who work in 清源镇 or above it.
        let names: Vec<String> = chief.accounts(incident).await.unwrap().into_iter().map(|a| a.username).collect();
        assert_eq!(names, vec!["chief".to_string(), "worker".to_string()]);
        // 全部签收 by one who acts for none of it is refused.
        assert_eq!(chief.receive_all(issued.id).await.refused().kind, "refused.instr.none_yours");
    }
}

#[tokio::test]
async fn the_clocks_board_counts_positives_and_contacts_not_yet_moved_and_villages_a_round_left_behind() {
    use cordon_domain::clocks::ClockKind;
    for (s, store) in each_backend("clock_sources").await {
        seed_areas(&store).await;
        let mut errors = Collect::default();
        // Two people in each village (0, 1 in 东关村; 2, 3 in 西关村; 4–7 in 徐沟镇's two).
        import_persons(&store, Cursor::new(people_csv(8)), &mut errors).await.unwrap();
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let incident = chief.open_incident("清徐县疫情处置", &code("140121"), None, None).await.unwrap().incident.id;
        let now = Utc::now();
        let at = |hours: i64| format!("'{}'", (now + Duration::hours(hours)).format("%Y-%m-%dT%H:%M:%S+00:00"));
        let case = |n: u32, area: &str, place: &str, created: i64| {
            format!(
                "INSERT INTO cases (id, incident_id, external_id, area_code, classification, how_found, origin, place, created_at, created_by) \
                 VALUES ({n}, {incident}, '清徐-{n}', '{area}', 'confirmed', 'mass_testing', 'local', '{place}', {}, 'test')",
                at(created)
            )
        };
        let order = |n: u32, status: &str, created: i64| {
            format!(
                "INSERT INTO observation_orders (incident_id, person_id, category, last_exposure_at, rule_set, status, area_code, created_at, created_by) \
                 VALUES ({incident}, (SELECT id FROM persons WHERE id_number = '{}'), 'close_contact', {at}, 'ninth', '{status}', '140121100201', {at}, 'test')",
                id(n),
                at = at(created)
            )
        };
        let round = |id: i64, starts: i64, ends: i64, areas: &[&str]| {
            let mut sql = vec![format!(
                "INSERT INTO testing_rounds (id, incident_id, name, starts_at, target_end_at, pool_policy, created_at) \
                 VALUES ({id}, {incident}, '第{id}轮', {}, {}, '{{}}', {})",
                at(starts),
                at(ends),
                at(starts)
            )];
            sql.extend(areas.iter().map(|a| format!("INSERT INTO round_areas (round_id, area_code) VALUES ({id}, '{a}')")));
            sql
        };
        let counts = |round: i64, area: &str, sampled: i64, exempted: i64| {
            format!(
                "INSERT INTO round_area_counts (round_id, area_code, sampled, exempted) VALUES ({round}, '{area}', {sampled}, {exempted})"
            )
        };
        let mut stmts = vec![
            // Found three hours ago and still at home, no transfer planned: overdue. On the road
            // an hour: running. In hospital: off the clock.
            case(1, "140121100201", "home", -3),
            case(2, "140121101201", "in_transfer", -1),
            case(3, "140121100202", "hospital", -5),
            // Discharged and home again, or only suspected: off the clock.
            case(4, "140121100201", "home", -30),
            "INSERT INTO hospitals (id, name, kind, area_code, beds) VALUES (1, '清徐县人民医院', 'designated', '140121', 100)".into(),
            format!(
                "INSERT INTO hospital_stays (case_id, hospital_id, area_code, admitted_at, severity, status, discharged_at) \
                 VALUES (4, 1, '140121100201', {}, 'mild', 'discharged', {})",
                at(-29),
                at(-2)
            ),
            case(5, "140121100201", "home", -4),
            "UPDATE cases SET classification = 'suspected' WHERE id = 5".into(),
            // Handed over 13 hours ago and no bus yet: overdue; on the bus: running; in the
            // site: off the clock.
            order(0, "awaiting_transfer", -13),
            order(1, "in_transit", -1),
            order(2, "centralized", -20),
        ];
        // Round 1, superseded by round 2 on the same ground, left 清源镇 unfinished: no longer
        // on the clock. Round 2 is past its deadline with 西关村 one short (徐沟镇 complete with an
        // exemption); round 4, later but only in 北关村, supersedes none of 清源镇's; round 3 has
        // not started.
        stmts.extend(round(1, -48, -24, &["140121100"]));
        stmts.extend(round(2, -5, -1, &["140121100201", "140121100202", "140121101"]));
        stmts.extend(round(4, -2, 3, &["140121101201"]));
        stmts.extend(round(3, 1, 6, &["140121"]));
        stmts.extend([
            counts(1, "140121100201", 1, 0),
            counts(2, "140121100201", 2, 0),
            counts(2, "140121100202", 1, 0),
            counts(2, "140121101201", 2, 0),
            counts(2, "140121101202", 1, 1),
        ]);
        for sql in &stmts {
            raw(&s, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let board = store.clock_counts(&[code("140121")], now).await.unwrap();
        let of = |clock: ClockKind| {
            board.iter().filter(|c| c.clock == clock).map(|c| (c.area_code.as_str(), c.open, c.due_soon, c.overdue)).collect::<Vec<_>>()
        };
        assert_eq!(of(ClockKind::PositiveToHospital), vec![("140121100", 1, 0, 1), ("140121101", 1, 0, 0)], "{:?}", s.kind);
        assert_eq!(of(ClockKind::ContactsToQuarantine), vec![("140121100", 2, 0, 1)]);
        assert_eq!(of(ClockKind::RoundDeadline), vec![("140121100", 1, 0, 1), ("140121101", 1, 0, 0)]);
        // Once 西关村's last person is sampled, its line is off the clock; once round 3 starts,
        // its county-wide area is on it, due in five hours, and every earlier round is off.
        raw(&s, "UPDATE round_area_counts SET sampled = 2 WHERE round_id = 2 AND area_code = '140121100202'").await.unwrap();
        let board = store.clock_counts(&[code("140121")], now).await.unwrap();
        let rounds: Vec<_> =
            board.iter().filter(|c| c.clock == ClockKind::RoundDeadline).map(|c| (c.area_code.as_str(), c.open, c.overdue)).collect();
        assert_eq!(rounds, vec![("140121101", 1, 0)]);
        let later = store.clock_counts(&[code("140121")], now + Duration::hours(1) + Duration::minutes(1)).await.unwrap();
        let rounds: Vec<_> =
            later.iter().filter(|c| c.clock == ClockKind::RoundDeadline).map(|c| (c.area_code.as_str(), c.open, c.overdue)).collect();
        assert_eq!(rounds, vec![("140121", 1, 0)]);
    }
}
