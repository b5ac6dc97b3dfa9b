//! The Qingxu evening of the seed scenario, replayed into the demo county: mass testing of the
//! eastern townships (徐沟镇, 东于镇, 孟封镇 — about 119,000 people) in 10-in-1 tubes through about
//! 40 sites over 6 hours, boxes driven to two labs, results coming back, and two positive pools
//! whose members are recalled and re-sampled at home. Timed so that it ended an hour before
//! the demo starts: the dashboards, the recall clocks and the missing lists are alive at once.
//!
//! Everything goes through the same scoped paths a testing officer and a lab user take.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Duration, Utc};
use cordon_domain::testing::exemption::ExemptionReason;
use cordon_domain::testing::pooling::{PoolPolicy, SamplingGroup, ZoneKind};
use cordon_domain::testing::result::{CtValues, TubeResult};
use cordon_domain::{AreaCode, Barcode};
use cordon_store::audit::Actor;
use cordon_store::batch::BatchTube;
use cordon_store::results::{NewLab, ResultInput};
use cordon_store::scoped::Scoped;
use cordon_store::testing::{NewRound, NewSite, Site};
use cordon_store::transport::NewBatch;
use cordon_store::{PersonFilter, Store};

use super::rng::Rng;

/// The eastern townships of the demo county (codes under 140121).
pub const EAST: &[&str] = &["140121101", "140121102", "140121103"];
/// Sites the round opens (the scenario: about 40 for 119,246 people).
const SITES: usize = 40;
/// People per tube in the controlled east.
const POOL: usize = 10;
const HOURS: i64 = 6;

/// What the replay left behind, for the demo's summary line.
pub struct Replayed {
    pub round_id: i64,
    pub sites: usize,
    pub tubes: usize,
    pub sampled: usize,
    pub resulted: usize,
    pub recalls: u64,
}

fn scoped(store: &Store, principal: Option<cordon_store::accounts::Principal>, who: &str) -> Result<Scoped> {
    let p = principal.ok_or_else(|| anyhow!("the demo account {who} is missing"))?;
    let actor = Actor { user_id: Some(p.user.id), name: who.to_string(), ..Default::default() };
    Ok(store.scoped(p, actor))
}

fn barcode(n: usize) -> Barcode {
    Barcode::parse(&format!("QX{n:08}")).expect("demo barcodes are valid")
}

/// Replays the evening as `officer` (testing, county-wide) and `lab` (lab, county-wide),
/// with the round having started `now − 7 h`.
pub async fn replay(store: &Store, officer: &str, lab: &str, seed: u64, now: DateTime<Utc>) -> Result<Replayed> {
    let officer = scoped(store, store.principal_by_name(officer).await?, officer)?;
    let lab_user = scoped(store, store.principal_by_name(lab).await?, lab)?;
    let mut rng = Rng::new(seed ^ 0x51_4e_47_58_55);
    let starts_at = now - Duration::hours(HOURS + 1);
    let east: Vec<AreaCode> = EAST.iter().map(|c| AreaCode::parse(c).expect("valid code")).collect();
    let round = officer
        .create_round(NewRound {
            name: "东部片区全员核酸检测".into(),
            starts_at,
            target_end_at: Some(starts_at + Duration::hours(HOURS)),
            areas: east.iter().map(|a| (a.clone(), Some(ZoneKind::Controlled))).collect(),
            policy: PoolPolicy::default(),
        })
        .await
        .context("planning the round")?;

    // Sites in the most populous villages and communities, shared among the townships by
    // population; every village sends its people to one site of its township.
    let mut villages = Vec::new();
    let mut population = 0i64;
    for town in &east {
        let children = officer.area_children(town).await?;
        population += children.iter().map(|c| c.population).sum::<i64>();
        villages.push(children);
    }
    let mut sites: Vec<Site> = Vec::new();
    let mut site_of: HashMap<String, usize> = HashMap::new();
    for children in &villages {
        let town_people: i64 = children.iter().map(|c| c.population).sum();
        let n = ((SITES as i64 * town_people + population / 2) / population.max(1)).clamp(1, children.len().max(1) as i64) as usize;
        let mut by_size: Vec<_> = children.iter().collect();
        by_size.sort_by_key(|c| std::cmp::Reverse(c.population));
        let first = sites.len();
        for v in by_size.iter().take(n) {
            let people = v.population.max(1) as u32;
            sites.push(
                officer
                    .create_site(NewSite {
                        round_id: round.id,
                        area_code: AreaCode::parse(&v.code)?,
                        name: format!("{}采样点", v.name),
                        address: format!("{}广场", v.name),
                        stations: (people / 600).clamp(2, 12),
                    })
                    .await?,
            );
        }
        for (i, v) in by_size.iter().enumerate() {
            site_of.insert(v.code.clone(), first + i % n);
        }
    }
    let opens = starts_at;
    let closes = starts_at + Duration::hours(HOURS);
    for s in &sites {
        officer.plan_slots(round.id, s.id, opens, closes).await?;
    }

    // Everyone registered in the east, by site; about 2 % are not sampled, and a third of those
    // are accounted for by their community.
    let today = super::county::reference_day();
    let mut queues: Vec<Vec<i64>> = vec![Vec::new(); sites.len()];
    let mut not_sampled = Vec::new();
    for town in &east {
        let mut after = None;
        loop {
            let page = officer.list_persons(Some(town), &PersonFilter::default(), after.as_ref(), 1000, today).await?;
            for p in &page.items {
                if rng.chance(0.02) {
                    not_sampled.push(p.id);
                } else if let Some(&s) = site_of.get(&p.area_code) {
                    queues[s].push(p.id);
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    let reasons = [
        ExemptionReason::Away,
        ExemptionReason::Away,
        ExemptionReason::Hospital,
        ExemptionReason::Quarantine,
        ExemptionReason::HomeSampled,
    ];
    for (i, person) in not_sampled.iter().enumerate() {
        if i % 3 == 0 {
            match officer.exempt(round.id, *person, reasons[i % reasons.len()], Some("社区网格员核实")).await {
                Err(e) if !e.is_refusal() => return Err(e.into()),
                _ => {}
            }
        }
    }

    // Tubes of ten, each site working through its queue evenly over the six hours.
    let mut tubes: Vec<(usize, Barcode, DateTime<Utc>)> = Vec::new();
    let mut batch = Vec::new();
    let mut sampled = 0;
    let mut next_code = 202_204_130_usize;
    for (s, queue) in queues.iter().enumerate() {
        let count = queue.len().div_ceil(POOL).max(1);
        // Some sites start slowly and catch up, others front-load: progress of tube k is (k/n)^γ.
        let gamma = 0.7 + f64::from(rng.range(0, 70)) / 100.0;
        for (k, members) in queue.chunks(POOL).enumerate() {
            let share = (k as f64 / count as f64).powf(gamma);
            let at = opens + Duration::seconds(((HOURS * 3600) as f64 * share) as i64) + Duration::seconds(i64::from(rng.range(0, 120)));
            let code = barcode(next_code);
            next_code += 1;
            sampled += members.len();
            tubes.push((s, code.clone(), at));
            batch.push(BatchTube {
                barcode: code,
                site_id: sites[s].id,
                group: SamplingGroup::Resident,
                members: members.to_vec(),
                seal: true,
                sampled_at: Some(at),
            });
            if batch.len() == 500 {
                officer.register_batch(round.id, std::mem::take(&mut batch), Some("demo")).await?;
            }
        }
    }
    if !batch.is_empty() {
        officer.register_batch(round.id, batch, Some("demo")).await?;
    }

    // Two labs; each site's tubes go out in boxes, the lab scans them in.
    let cdc = officer
        .create_lab(NewLab { name: "清徐县疾控中心实验室".into(), area_code: AreaCode::parse("140121")?, daily_capacity: 20_000 })
        .await?;
    let third = officer
        .create_lab(NewLab {
            name: "太原金域医学检验实验室".into(), area_code: AreaCode::parse("140121")?, daily_capacity: 60_000
        })
        .await?;
    let mut lab_of_site = Vec::new();
    for (s, site) in sites.iter().enumerate() {
        let lab = if s % 3 == 0 { cdc.id } else { third.id };
        lab_of_site.push(lab);
        let codes: Vec<String> = tubes.iter().filter(|t| t.0 == s).map(|t| t.1.to_string()).collect();
        // One box per hour of sampling, the last hour's box still on the road.
        let per_box = codes.len().div_ceil(HOURS as usize).max(1);
        for (b, chunk) in codes.chunks(per_box).enumerate() {
            let label = format!("{}-{:02}", site.name.trim_end_matches("采样点"), b + 1);
            let sent = officer
                .dispatch(NewBatch {
                    round_id: round.id,
                    site_id: site.id,
                    lab_id: lab,
                    label,
                    barcodes: Some(chunk.to_vec()),
                    // Each hour's box leaves at the end of its hour.
                    departed_at: Some((opens + Duration::hours(b as i64 + 1)).min(now)),
                })
                .await
                .map_err(|e| anyhow!("box refused: {e}"))?;
            if b + 1 < HOURS as usize {
                lab_user.receive(sent.id, chunk).await?;
            }
        }
    }

    // Results, two to four hours after sealing, up to now; two pools turn out positive.
    let mut resulted = 0;
    let mut recalls = 0;
    // Two early tubes of 徐沟镇, from different sites, so that their results are back.
    let positive: Vec<usize> = {
        let early: Vec<usize> = (0..tubes.len())
            .filter(|&i| sites[tubes[i].0].area_code.starts_with(EAST[0]) && tubes[i].2 < opens + Duration::hours(2))
            .collect();
        let mut chosen: Vec<usize> = [early.len() / 4, early.len() * 3 / 4].iter().filter_map(|&k| early.get(k).copied()).collect();
        chosen.dedup();
        chosen
    };
    // Each lab reports in exports of a thousand tubes.
    let mut by_lab: HashMap<i64, Vec<ResultInput>> = HashMap::new();
    for (i, (s, code, at)) in tubes.iter().enumerate() {
        let done = *at + Duration::minutes(i64::from(rng.range(120, 240)));
        if done > now {
            continue;
        }
        let (result, ct) = if positive.contains(&i) {
            (TubeResult::PooledSuspect, CtValues { orf1ab: Some(27.0 + f32::from(rng.range(0, 40) as u8) / 10.0), n: Some(29.3) })
        } else {
            (TubeResult::Negative, CtValues::default())
        };
        by_lab.entry(lab_of_site[*s]).or_default().push(ResultInput {
            barcode: code.clone(),
            round_id: Some(round.id),
            result: Some(result),
            ct,
            at: Some(done),
        });
    }
    for (lab, inputs) in &by_lab {
        for chunk in inputs.chunks(1000) {
            for outcome in lab_user.record_results(*lab, chunk).await? {
                if let cordon_store::results::ResultOutcome::Recorded { recalls_opened, .. } = outcome {
                    recalls += recalls_opened;
                    resulted += 1;
                }
            }
        }
    }

    // The door-to-door teams re-sample the first pool's members at home; most come back
    // negative, one positive. The second pool's members wait, their clocks running.
    let recalled = officer.open_recalls().await?;
    let Some(&first) = positive.first() else {
        return Ok(Replayed { round_id: round.id, sites: sites.len(), tubes: tubes.len(), sampled, resulted, recalls });
    };
    let first_pool = tubes[first].1.to_string();
    let site = sites[tubes[first].0].id;
    let members: Vec<_> = recalled.iter().filter(|r| r.barcode == first_pool).collect();
    for (k, r) in members.iter().enumerate() {
        let code = Barcode::parse(&format!("RT{:08}", k + 1))?;
        let taken = r.created_at + Duration::minutes(40 + 5 * k as i64);
        officer
            .register_batch(
                round.id,
                vec![BatchTube {
                    barcode: code.clone(),
                    site_id: site,
                    group: SamplingGroup::Retest,
                    members: vec![r.person_id],
                    seal: true,
                    sampled_at: Some(taken),
                }],
                Some("demo"),
            )
            .await?;
        if k + 2 < members.len() {
            let (result, ct) = if k == 0 {
                (TubeResult::Positive, CtValues { orf1ab: Some(24.6), n: Some(26.1) })
            } else {
                (TubeResult::Negative, CtValues::default())
            };
            let input = ResultInput {
                barcode: code,
                round_id: Some(round.id),
                result: Some(result),
                ct,
                at: Some((taken + Duration::minutes(50)).min(now)),
            };
            lab_user.record_result(cdc.id, &input).await?;
        }
    }
    Ok(Replayed { round_id: round.id, sites: sites.len(), tubes: tubes.len(), sampled, resulted, recalls })
}
