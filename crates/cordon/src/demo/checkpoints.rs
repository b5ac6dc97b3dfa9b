//! Qingxu's checkpoints on the evening of 13 April: the highway exits and the station (leaving the
//! county), the county roads, the gates of the sealed villages and the edge of the controlled east
//! — a dozen, each with its three shifts around the clock — and an evening's passages at each:
//! residents passing, sealed-village residents and people leaving without a recent test turned
//! back, arrivals from outside registered on the spot.

use anyhow::{Result, anyhow};
use chrono::{Duration, NaiveTime, Utc};
use cordon_domain::checkpoints::{CheckpointKind, Decision, Direction, OriginRisk};
use cordon_domain::{AreaCode, ResidentId, from_local, local_date};
use cordon_store::checkpoints::{NewArrival, NewCheckpoint, NewShift, PassageAsk};
use cordon_store::{PersonFilter, Store};

use super::county::COUNTY_CODE;
use super::replay::EAST;
use super::rng::Rng;

/// What the evening left.
#[derive(Debug, Default)]
pub struct Evening {
    pub checkpoints: usize,
    pub passages: usize,
    pub refused: usize,
    pub arrivals: usize,
}

/// Sets up the checkpoints as `commander` and logs the evening as `officer`; `sealed` and
/// `controlled` are the zones drawn (id, area code).
pub async fn evening(
    store: &Store,
    commander: &str,
    officer: &str,
    sealed: &[(i64, String)],
    controlled: Option<(i64, String)>,
    seed: u64,
) -> Result<Evening> {
    let as_user = |name: &str| {
        let name = name.to_string();
        async move {
            let p = store.principal_by_name(&name).await?.ok_or_else(|| anyhow!("the demo account {name} is missing"))?;
            let actor = cordon_store::audit::Actor { user_id: Some(p.user.id), name: name.clone(), ..Default::default() };
            Ok::<_, anyhow::Error>(store.scoped(p, actor))
        }
    };
    let chief = as_user(commander).await?;
    let guard = as_user(officer).await?;
    let county = AreaCode::parse(COUNTY_CODE)?;
    let town = |n: u32| county.child(n).ok_or_else(|| anyhow!("no township {n}"));
    let mut asked: Vec<(String, CheckpointKind, AreaCode, Option<i64>, bool)> = vec![
        ("清徐高速口".into(), CheckpointKind::HighwayExit, town(100)?, None, true),
        ("徐沟高速口".into(), CheckpointKind::HighwayExit, town(101)?, None, true),
        ("清徐火车站".into(), CheckpointKind::Station, town(100)?, None, true),
        ("307国道卡口".into(), CheckpointKind::Road, town(102)?, None, true),
        ("太祁公路卡口".into(), CheckpointKind::Road, town(103)?, None, true),
        ("汾河大桥卡口".into(), CheckpointKind::Road, town(100)?, None, false),
    ];
    for (i, (id, area)) in sealed.iter().enumerate() {
        for gate in ["东口", "西口"] {
            asked.push((format!("封控区{}号{gate}", i + 1), CheckpointKind::VillageEntrance, AreaCode::parse(area)?, Some(*id), false));
        }
    }
    if let Some((id, _)) = &controlled {
        for east in EAST.iter().take(2) {
            asked.push(("管控区边界".into(), CheckpointKind::ZoneBoundary, AreaCode::parse(east)?, Some(*id), false));
        }
    }
    asked.truncate(12);
    let mut out = Evening::default();
    let today = local_date(Utc::now());
    let leads = ["王建国", "李志强", "张卫东", "刘海涛", "赵红梅", "孙立新"];
    let mut rng = Rng::new(seed);
    for (k, (name, kind, area, zone_id, leaves_county)) in asked.into_iter().enumerate() {
        let cp = chief.create_checkpoint(&NewCheckpoint { name, kind, area_code: area.clone(), zone_id, leaves_county }).await?;
        out.checkpoints += 1;
        // Three shifts around the clock: 0–8, 8–16, 16–24.
        for (s, start) in [0u32, 8, 16].into_iter().enumerate() {
            let starts_at = from_local(today.and_time(NaiveTime::from_hms_opt(start, 0, 0).expect("an hour")));
            guard
                .add_shift(
                    cp.id,
                    &NewShift {
                        starts_at,
                        ends_at: starts_at + Duration::hours(8),
                        lead: leads[(k + s) % leads.len()].to_string(),
                        phone: Some(format!("1390351{:04}", k * 3 + s)),
                        staff: "公安民警、医务人员、下沉干部各1名".into(),
                    },
                )
                .await?;
        }
        // The evening: the people of the checkpoint's area going out, then arrivals coming in.
        let people = store.list_persons(std::slice::from_ref(&area), &PersonFilter::default(), None, 12, today).await?.items;
        for p in &people {
            let ask = PassageAsk {
                id_number: p.document.number().to_string(),
                plate: rng.chance(0.4).then(|| format!("晋A·{:05}", rng.range(10_000, 99_999))),
                direction: if rng.chance(0.7) { Direction::Out } else { Direction::In },
                medical_exit: false,
                negative_certificate: rng.chance(0.5),
                client_id: None,
                passed_at: None,
                kept_offline: false,
                by_hand: None,
            };
            let passed = guard.record_passage(cp.id, &ask).await?;
            out.passages += 1;
            out.refused += usize::from(passed.decision == Decision::Refuse);
        }
        if leaves_county {
            for n in 0..3u16 {
                let born = chrono::NaiveDate::from_ymd_opt(1960 + rng.range(0, 40) as i32, rng.range(1, 12), rng.range(1, 28))
                    .ok_or_else(|| anyhow!("a birth date"))?;
                let visitor = ResidentId::from_parts("140105", born, 100 + k as u16 * 10 + n)?;
                let ask = PassageAsk {
                    id_number: visitor.to_string(),
                    plate: None,
                    direction: Direction::In,
                    medical_exit: false,
                    negative_certificate: true,
                    client_id: None,
                    passed_at: None,
                    kept_offline: false,
                    by_hand: None,
                };
                let passed = guard.record_passage(cp.id, &ask).await?;
                out.passages += 1;
                let home = people.first().map(|p| p.area_code.clone()).unwrap_or_else(|| area.to_string());
                let risk = if n == 0 { OriginRisk::Medium } else { OriginRisk::Low };
                let arrival = NewArrival {
                    name: format!("{}{}", ["周", "吴", "郑"][n as usize], ["建华", "丽娟", "晓明"][k % 3]),
                    phone: Some(format!("1365351{:04}", k * 3 + n as usize)),
                    from_place: if n == 0 { "太原市小店区".into() } else { "太原市迎泽区".into() },
                    from_risk: risk,
                    area_code: AreaCode::parse(&home)?,
                    address: None,
                };
                guard.register_arrival(cp.id, passed.id, &arrival).await?;
                out.arrivals += 1;
            }
        }
    }
    Ok(out)
}
