//! Qingxu's headquarters on 13 April: the county raised to level I, its task forces started
//! within half an hour of the first positive, each with its lead, and the evening's first
//! instructions — every village of 徐沟镇 tested today (fanned out village by village), contacts
//! into quarantine within 12 hours, the checkpoints manned round the clock — some signed for and
//! reported on by the people they went to.

use anyhow::{Context, Result, anyhow};
use chrono::{Duration, Utc};
use cordon_domain::AreaCode;
use cordon_domain::command::{Act, ResponseLevel, TaskForceKind};
use cordon_store::Store;
use cordon_store::command::{ActAsk, NewInstruction, RecipientAsk};
use cordon_store::scoped::Scoped;

use super::county::COUNTY_CODE;

/// What the headquarters left.
#[derive(Debug, Default)]
pub struct Headquarters {
    pub task_forces: usize,
    pub instructions: usize,
    pub recipients: i64,
}

async fn as_user(store: &Store, name: &str) -> Result<Scoped> {
    let p = store.principal_by_name(name).await?.ok_or_else(|| anyhow!("the demo account {name} is missing"))?;
    let actor = cordon_store::audit::Actor { user_id: Some(p.user.id), name: name.to_string(), ..Default::default() };
    Ok(store.scoped(p, actor))
}

fn ask(act: Act, text: &str) -> ActAsk {
    ActAsk { act, text: text.into(), deadline: None, to: None }
}

/// When the day began: the screening positive at the logistics park (01:30 on 13 April), 17½
/// hours before the mass round the demo replays (19:00, ending an hour before `now`).
pub fn response_opened(now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    now - Duration::hours(7) - Duration::minutes(17 * 60 + 30)
}

/// Opens the county's response at 01:30 of the demo's day, at level II, as the headquarters did
/// on the first positive (before any round or case makes an incident of its own).
pub async fn open(store: &Store, now: chrono::DateTime<Utc>) -> Result<()> {
    let chief = as_user(store, "demo_commander").await?;
    let county = AreaCode::parse(COUNTY_CODE)?;
    chief.open_incident("清徐县4·13疫情处置", &county, Some(response_opened(now)), Some(ResponseLevel::II)).await?;
    chief
        .add_timeline_entry(
            chief.current_incident().await?.context("the incident just opened")?,
            Some(response_opened(now)),
            "物流园区筛查发现核酸阳性1例，县指挥部启动应急响应",
        )
        .await?;
    Ok(())
}

/// Sets up the headquarters as `demo_commander` and lets the task forces answer.
pub async fn headquarters(store: &Store) -> Result<Headquarters> {
    let chief = as_user(store, "demo_commander").await?;
    let incident = chief.current_incident().await?.context("no incident covers the county")?;
    if chief.command(incident).await?.incident.level != Some(ResponseLevel::I) {
        chief.set_level(incident, ResponseLevel::I, "确诊本土阳性，县指挥部启动一级响应").await?;
    }
    chief.start_default_task_forces(incident).await?;
    let task_forces = chief.command(incident).await?.task_forces;
    let tf = |kind: TaskForceKind| task_forces.iter().find(|t| t.kind == kind).map(|t| t.id).ok_or_else(|| anyhow!("no {kind} task force"));
    let id_of = |name: &'static str| async move {
        Ok::<_, anyhow::Error>(store.user_by_name(name).await?.ok_or_else(|| anyhow!("no account {name}"))?.id)
    };
    for (kind, lead, members) in [
        (TaskForceKind::Testing, "demo_testing_officer", &["demo_lab"][..]),
        (TaskForceKind::Tracing, "demo_investigator", &[][..]),
        (TaskForceKind::TransferQuarantine, "demo_transfer_dispatcher", &["demo_quarantine_site_head"][..]),
        (TaskForceKind::Treatment, "demo_hospital_staff", &[][..]),
        (TaskForceKind::ZonesTraffic, "demo_checkpoint_officer", &[][..]),
        (TaskForceKind::Logistics, "demo_logistics", &[][..]),
        (TaskForceKind::CommunityHotline, "demo_hotline_operator", &["demo_community_worker"][..]),
    ] {
        let t = tf(kind)?;
        chief.add_to_task_force(t, id_of(lead).await?, true).await?;
        for m in members {
            chief.add_to_task_force(t, id_of(m).await?, false).await?;
        }
    }

    let now = Utc::now();
    let county = AreaCode::parse(COUNTY_CODE)?;
    let xugou = county.child(101).ok_or_else(|| anyhow!("no 徐沟镇"))?;
    let villages: Vec<RecipientAsk> = chief
        .area_children(&xugou)
        .await?
        .into_iter()
        .map(|a| AreaCode::parse(&a.code).map(RecipientAsk::Area))
        .collect::<Result<_, _>>()?;
    let new = |title: &str, body: &str, hours: i64, task_force_id, recipients| NewInstruction {
        incident_id: incident,
        title: title.into(),
        body: body.into(),
        deadline: now + Duration::hours(hours),
        task_force_id,
        recipients,
    };
    let mut made = Vec::new();
    let mut testing_to = villages.clone();
    testing_to.push(RecipientAsk::TaskForce(tf(TaskForceKind::Testing)?));
    made.push(
        chief
            .issue_instruction(&new(
                "徐沟镇各村（社区）今日完成全员核酸",
                "按“应检尽检、不漏一户一人”要求，卧床老人上门采样，18时前报送完成情况。",
                6,
                None,
                testing_to,
            ))
            .await?,
    );
    made.push(
        chief
            .issue_instruction(&new(
                "密接人员12小时内全部转运集中隔离",
                "流调专班推送的密接名单，批量确认、批量交接，闭环转运至隔离点。",
                12,
                None,
                vec![RecipientAsk::TaskForce(tf(TaskForceKind::TransferQuarantine)?), RecipientAsk::TaskForce(tf(TaskForceKind::Tracing)?)],
            ))
            .await?,
    );
    made.push(
        chief
            .issue_instruction(&new(
                "各卡口24小时值守，落实“测温、验码、登记”",
                "高速口、车站和封控区出入口三班轮值，离县人员查验48小时核酸证明。",
                1,
                None,
                vec![RecipientAsk::TaskForce(tf(TaskForceKind::ZonesTraffic)?)],
            ))
            .await?,
    );
    let tracing_lead = as_user(store, "demo_investigator").await?;
    made.push(
        tracing_lead
            .issue_instruction(&new(
                "清徐-1 核心信息4小时内完成",
                "身份、14天行程、密接名单。",
                4,
                Some(tf(TaskForceKind::Tracing)?),
                vec![RecipientAsk::User(id_of("demo_investigator").await?)],
            ))
            .await?,
    );

    // The answers of the evening: the 徐沟镇 worker signs for every village and reports the first
    // three done; the testing lead and the dispatcher sign and report progress.
    let worker = as_user(store, "demo_community_worker").await?;
    let first = worker.instruction(made[0].id).await?;
    for (i, rid) in first.acting_for.iter().enumerate() {
        worker.act_on_instruction(made[0].id, *rid, &ask(Act::Receive, "")).await?;
        if i < 3 {
            worker.act_on_instruction(made[0].id, *rid, &ask(Act::Done, "全员已采样，卧床老人上门采样完成")).await?;
        }
    }
    let tester = as_user(store, "demo_testing_officer").await?;
    let v = tester.instruction(made[0].id).await?;
    for rid in &v.acting_for {
        tester.act_on_instruction(made[0].id, *rid, &ask(Act::Receive, "")).await?;
        tester.act_on_instruction(made[0].id, *rid, &ask(Act::Progress, "已开设采样点 12 个，采样进行中")).await?;
    }
    let dispatcher = as_user(store, "demo_transfer_dispatcher").await?;
    let v = dispatcher.instruction(made[1].id).await?;
    for rid in &v.acting_for {
        dispatcher.act_on_instruction(made[1].id, *rid, &ask(Act::Receive, "")).await?;
        dispatcher.act_on_instruction(made[1].id, *rid, &ask(Act::Progress, "首批 2 辆转运车已出发")).await?;
    }
    // The day's timeline as the headquarters kept it: the hours before the mass round (which
    // started at 19:00 on 13 April, six hours before it ended an hour ago) typed in, the rest
    // recorded by the modules as the demo made it.
    let round_start = now - Duration::hours(7);
    for (hours_before, text) in [
        (17.0, "指挥部召开调度会，成立14个工作专班、11个包乡镇工作组"),
        (16.0, "物流园区实行全封闭管理，11名医务人员对277名员工采样"),
        (11.5, "西部区域开展全员抗原检测，东部区域准备全员核酸"),
        (3.5, "7个县直单位113名党员1小时内到10个村报到"),
        (3.0, "500张床位集中隔离点4小时内准备就绪"),
    ] {
        let at = round_start - Duration::minutes((hours_before * 60.0) as i64);
        chief.add_timeline_entry(incident, Some(at), text).await?;
    }
    chief.add_timeline_entry(incident, Some(round_start + Duration::hours(3)), "30车防疫物资运抵，120名志愿者接力卸运").await?;
    let recipients = made.iter().map(|m| m.recipients).sum();
    Ok(Headquarters { task_forces: task_forces.len(), instructions: made.len(), recipients })
}
