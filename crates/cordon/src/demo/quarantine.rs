//! The quarantine side of the seed scenario, after the investigation: the second batch of
//! contacts handed over, a 500-bed hotel readied in four hours, the close contacts of both
//! batches given single rooms in one action and driven
//! there in a closed loop by 21-seat buses (seventeen for the park's 327 in the scenario), the
//! index case taken to the designated hospital by negative-pressure ambulance and the
//! co-workers who turned positive to hospital too; arrivals checked in, the first day's
//! single-tube tests taken at the doors, evening temperatures recorded. A few buses are still
//! on the road, so the dispatch board is alive.
//!
//! Everything goes through the scoped paths the site head and the dispatcher take.

use anyhow::{Context, Result, anyhow};
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin, Severity};
use cordon_domain::cases::exposure::{ExposureKind, ExposureStatus};
use cordon_domain::observation::Status;
use cordon_domain::testing::result::{CtValues, TubeResult};
use cordon_domain::transfer::{TransferStatus, VehicleKind};
use cordon_domain::treatment::HospitalKind;
use cordon_domain::{AreaCode, Barcode};
use cordon_store::audit::Actor;
use cordon_store::cases::NewCase;
use cordon_store::exposures::NewExposure;
use cordon_store::observation::OrderFilter;
use cordon_store::quarantine::NewQuarantineSite;
use cordon_store::results::ResultInput;
use cordon_store::scoped::Scoped;
use cordon_store::transfers::{NewHospital, NewVehicle};
use cordon_store::{PersonFilter, Store};

use super::county;
use super::rng::Rng;

pub const SITE: &str = "清徐县迎宾隔离酒店";
const BUSES: usize = 17;
const BUS_SEATS: u32 = 21;

pub struct Settled {
    pub site_id: i64,
    pub beds: i64,
    pub roomed: usize,
    /// Handed over with a plan that starts at home and started there by their community.
    pub at_home: usize,
    pub buses: usize,
    pub arrived: usize,
    pub sampled: usize,
    pub in_hospital: usize,
    /// People under observation who turned positive and became cases.
    pub converted: usize,
    /// People released today (the earlier chapter's dinner companions).
    pub released: usize,
}

async fn as_user(store: &Store, name: &str) -> Result<Scoped> {
    let p = store.principal_by_name(name).await?.ok_or_else(|| anyhow!("the demo account {name} is missing"))?;
    Ok(store.scoped(p, Actor { name: name.into(), ..Default::default() }))
}

/// Settles the outbreak traced around `index_case`: its second batch of contacts handed over,
/// then rooms, buses, hospitals and the first day at the site.
pub async fn settle(store: &Store, seed: u64, index_case: i64) -> Result<Settled> {
    // 一批确认、一批转运: the investigator hands over the rest of the confirmed contacts.
    let investigator = as_user(store, "demo_investigator").await?;
    let rest: Vec<i64> = investigator
        .contacts(index_case)
        .await?
        .into_iter()
        .filter(|c| c.status == ExposureStatus::Confirmed)
        .map(|c| c.person_id)
        .collect();
    investigator.hand_over(index_case, &rest).await?;
    let head = as_user(store, "demo_quarantine_site_head").await?;
    let dispatcher = as_user(store, "demo_transfer_dispatcher").await?;
    let county = AreaCode::parse(county::COUNTY_CODE)?;
    let town = county.child(100).unwrap_or_else(|| county.clone());
    let mut rng = Rng::new(seed ^ 0x51);

    // The hotel: two buildings of ten floors, 25 single rooms a floor.
    let site = head
        .create_quarantine_site(&NewQuarantineSite {
            name: SITE.into(),
            kind: cordon_domain::observation::SiteKind::Hotel,
            area_code: town.clone(),
            address: "清源镇迎宾西路8号".into(),
            head_name: "王建国".into(),
            head_phone: Some("13903510818".into()),
            staff: 60,
            households_share: false,
        })
        .await?;
    for building in ["A栋", "B栋"] {
        head.add_rooms(site.id, building, (1, 10), 25, 1).await?;
    }

    // Every handed-over person whose plan starts in a site gets a room in one batch.
    let waiting: Vec<i64> = head
        .observation_orders(&OrderFilter { status: Some(Status::AwaitingTransfer), ..Default::default() })
        .await?
        .into_iter()
        .filter(|o| o.centralized_until.is_some())
        .map(|o| o.id)
        .collect();
    let roomed = head.assign_rooms(site.id, &waiting).await?.assigned.len();

    // Those whose plan starts at home (the secondary contacts, under protocol-9) wait on their
    // community's home list; the communities start them in one batch once the households are
    // told — all but the last dozen handed over, still being told at their doors.
    let mut awaiting_home: Vec<i64> = head
        .observation_orders(&OrderFilter { status: Some(Status::AwaitingHome), ..Default::default() })
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    awaiting_home.sort_unstable();
    let told = &awaiting_home[..awaiting_home.len().saturating_sub(12)];
    let at_home = head.start_home_observation(told).await?.started.len();

    // The fleet and the hospitals.
    let mut buses = Vec::new();
    for i in 1..=BUSES {
        let plate = format!("晋A·Q{:04}", 100 + i);
        let v = NewVehicle {
            plate,
            kind: VehicleKind::Bus,
            seats: BUS_SEATS,
            area_code: county.clone(),
            driver: Some(format!("司机{i:02}")),
            phone: None,
        };
        buses.push(dispatcher.add_vehicle(&v).await?);
    }
    let mut ambulances = Vec::new();
    for i in 1..=4 {
        let v = NewVehicle {
            plate: format!("晋A·120{i:02}"),
            kind: VehicleKind::Ambulance,
            seats: 4,
            area_code: county.clone(),
            driver: None,
            phone: None,
        };
        ambulances.push(dispatcher.add_vehicle(&v).await?);
    }
    let designated = dispatcher
        .add_hospital(&NewHospital {
            name: "清徐县人民医院（定点医院）".into(),
            kind: HospitalKind::Designated,
            area_code: county.clone(),
            beds: 200,
        })
        .await?;
    let shelter = dispatcher
        .add_hospital(&NewHospital {
            name: "清徐方舱医院".into(), kind: HospitalKind::Shelter, area_code: county.clone(), beds: 1000
        })
        .await?;

    // Seat everyone with a room; all but the last two buses arrive, one of those is on the road.
    let with_room: Vec<i64> = head
        .observation_orders(&OrderFilter { site_id: Some(site.id), ..Default::default() })
        .await?
        .into_iter()
        .filter(|o| o.status == cordon_domain::observation::Status::AwaitingTransfer)
        .map(|o| o.id)
        .collect();
    let planned = dispatcher.plan_site_transfers(site.id, &with_room, &buses, "县疾控 转运组").await?;
    let n = planned.transfers.len();
    let mut arrived = 0;
    for (k, t) in planned.transfers.iter().enumerate() {
        let steps: &[TransferStatus] = if k + 2 < n {
            &[TransferStatus::Dispatched, TransferStatus::PickedUp, TransferStatus::Arrived]
        } else if k + 1 < n {
            &[TransferStatus::Dispatched, TransferStatus::PickedUp]
        } else {
            &[]
        };
        for step in steps {
            dispatcher.advance_transfer(*t, *step).await?;
        }
        if steps.len() == 3 {
            let (_, people) = dispatcher.transfer(*t).await?;
            for (_, _, order, _) in people {
                if let Some(order) = order {
                    head.check_in(site.id, order).await?;
                    arrived += 1;
                }
            }
        }
    }

    // The cases to hospital: the index case (moderate) to the designated hospital, the others
    // (mild) to the shelter hospital; the last one is still waiting for its ambulance.
    let cases = dispatcher.cases_to_hospital().await?;
    let mut in_hospital = 0;
    for (k, (case_id, ..)) in cases.iter().enumerate() {
        if k + 1 == cases.len() && cases.len() > 1 {
            break;
        }
        let hospital = if k == 0 { designated } else { shelter };
        let t = dispatcher.plan_case_transfer(*case_id, hospital, ambulances[k % ambulances.len()], "120 急救").await?;
        for step in [TransferStatus::Dispatched, TransferStatus::PickedUp, TransferStatus::Arrived] {
            dispatcher.advance_transfer(t, step).await?;
        }
        in_hospital += 1;
    }
    let ward = as_user(store, "demo_hospital_staff").await?;
    if let Some(stay) = ward.stays().await?.into_iter().find(|s| s.hospital_id == designated) {
        ward.change_severity(stay.id, Severity::Moderate, "胸部CT示双肺磨玻璃影").await?;
        let ct = cordon_domain::testing::result::CtValues { orf1ab: Some(24.6), n: Some(22.9) };
        ward.record_hospital_test(stay.id, chrono::Utc::now(), ct).await?;
    }

    // Day 1 at the site: single tubes at the doors for most, evening temperatures for all.
    let today = cordon_domain::local_date(chrono::Utc::now());
    let due = head.sampling_list(site.id, today).await?;
    let mut sampled = 0;
    for (i, s) in due.iter().enumerate() {
        if i * 10 >= due.len() * 8 {
            break;
        }
        let barcode = Barcode::parse(&format!("GL{:08}", 1 + i)).context("a demo barcode")?;
        head.take_observation_test(site.id, s.order.id, &barcode).await?;
        sampled += 1;
    }
    for (order, _) in head.site_people(site.id).await?.iter().filter(|(o, _)| o.status == cordon_domain::observation::Status::Centralized) {
        let fever = rng.chance(0.01);
        let temperature = if fever { 37.6 + rng.range(0, 8) as f32 / 10.0 } else { 36.2 + rng.range(0, 8) as f32 / 10.0 };
        head.record_health_check(site.id, order.id, "evening", temperature, if fever { "发热、乏力" } else { "" }).await?;
    }

    // The lab answers the door tests: all negative but one — a co-worker turns positive in the
    // site (集中隔离中发现). The investigator makes the case; the site head restarts the floor
    // and the floors beside it; the case waits for its ambulance with a two-hour clock.
    let lab_user = as_user(store, "demo_lab").await?;
    let lab = lab_user.labs().await?.into_iter().next().ok_or_else(|| anyhow!("the demo has no lab"))?;
    let positive_at = if sampled > 1 { Some(rng.range(0, sampled as u32) as usize) } else { None };
    let answers: Vec<ResultInput> = (0..sampled)
        .map(|i| {
            let barcode = Barcode::parse(&format!("GL{:08}", 1 + i)).context("a demo barcode")?;
            let positive = Some(i) == positive_at;
            Ok(ResultInput {
                barcode,
                round_id: None,
                result: Some(if positive { TubeResult::Positive } else { TubeResult::Negative }),
                ct: if positive { CtValues { orf1ab: Some(31.2), n: Some(29.8) } } else { CtValues::default() },
                at: None,
            })
        })
        .collect::<Result<_>>()?;
    lab_user.record_results(lab.id, &answers).await?;
    let mut converted = 0;
    if let Some(i) = positive_at {
        let barcode = format!("GL{:08}", 1 + i);
        if let Some(positive) = investigator.positives(true).await?.into_iter().find(|p| p.barcode == barcode) {
            investigator.case_from_positive(positive.id, CaseClass::Asymptomatic, None).await?;
            converted += 1;
            if let Some(order) = head
                .observation_orders(&OrderFilter { site_id: Some(site.id), ..Default::default() })
                .await?
                .into_iter()
                .find(|o| o.person_id == positive.person_id)
            {
                head.apply_restart(site.id, order.id, false).await?;
            }
        }
    }

    let released = released_home(&investigator, &head, &lab_user, lab.id, &dispatcher, ambulances[3], designated).await?;
    let board = head.quarantine_site(site.id).await?;
    Ok(Settled { site_id: site.id, beds: board.beds, roomed, at_home, buses: n, arrived, sampled, in_hospital, converted, released })
}

/// An earlier chapter, ten days before the park: a driver back from a medium-risk city tested
/// positive at a checkpoint and went to hospital; the six friends he had dinner with that
/// evening are on their last day of home monitoring, their households in home quarantine.
/// Four were tested at the door this morning, were negative and are released; two are still
/// to be tested, so the community's home list has work on it. Answers how many were released.
async fn released_home(
    investigator: &Scoped,
    head: &Scoped,
    lab_user: &Scoped,
    lab_id: i64,
    dispatcher: &Scoped,
    ambulance: i64,
    hospital: i64,
) -> Result<usize> {
    let now = chrono::Utc::now();
    let today = cordon_domain::local_date(now);
    let town = AreaCode::parse(county::COUNTY_CODE)?.child(103).ok_or_else(|| anyhow!("no township 103"))?;
    let observed: std::collections::HashSet<i64> =
        head.observation_orders(&OrderFilter::default()).await?.into_iter().map(|o| o.person_id).collect();
    let page = investigator.list_persons(Some(&town), &PersonFilter::default(), None, 200, today).await?;
    // Heads of different households: the driver, then his six friends.
    let mut homes = std::collections::HashSet::new();
    let people: Vec<_> =
        page.items.into_iter().filter(|p| !observed.contains(&p.id) && p.household_id.is_some_and(|h| homes.insert(h))).take(7).collect();
    let Some((driver, friends)) = people.split_first() else { return Ok(0) };
    let dinner = now - chrono::Duration::days(10);
    let case = investigator
        .create_case(NewCase {
            external_id: Some("清徐-输入1".into()),
            person_id: Some(driver.id),
            positive_id: None,
            area_code: AreaCode::parse(&driver.area_code)?,
            classification: CaseClass::Confirmed,
            severity: Some(Severity::Mild),
            how_found: HowFound::Other,
            origin: Origin::Imported,
            onset_date: Some(today - chrono::Days::new(10)),
            sample_date: Some(today - chrono::Days::new(10)),
            report_date: Some(today - chrono::Days::new(10)),
            place: CasePlace::Home,
            label: Some("卡口检出".into()),
            infectors: vec![],
        })
        .await?;
    let meal = |p: &cordon_store::Person| NewExposure {
        contact_person_id: p.id,
        kind: ExposureKind::Meal,
        degree: None,
        first_at: Some(dinner - chrono::Duration::hours(3)),
        last_at: Some(dinner),
        note: Some("同桌聚餐".into()),
    };
    investigator.record_exposures(case.id, &friends.iter().map(meal).collect::<Vec<_>>()).await?;
    let proposed: Vec<i64> = investigator
        .contacts(case.id)
        .await?
        .into_iter()
        .filter(|c| c.status == ExposureStatus::Proposed)
        .flat_map(|c| c.exposure_ids)
        .collect();
    investigator.decide_exposures(case.id, &proposed, true).await?;
    let everyone: Vec<i64> =
        investigator.contacts(case.id).await?.into_iter().filter(|c| c.status == ExposureStatus::Confirmed).map(|c| c.person_id).collect();
    investigator.hand_over(case.id, &everyone).await?;
    let t = dispatcher.plan_case_transfer(case.id, hospital, ambulance, "120 急救").await?;
    for step in [TransferStatus::Dispatched, TransferStatus::PickedUp, TransferStatus::Arrived] {
        dispatcher.advance_transfer(t, step).await?;
    }

    // Home: the friends on their last day of monitoring, the households in quarantine.
    let orders: Vec<_> = head
        .observation_orders(&OrderFilter::default())
        .await?
        .into_iter()
        .filter(|o| everyone.contains(&o.person_id) && matches!(o.status, Status::AwaitingTransfer | Status::AwaitingHome))
        .collect();
    let mut friends_orders = Vec::new();
    for o in &orders {
        let close = o.category == cordon_domain::observation::Category::CloseContact;
        head.set_order_status(o.id, if close { Status::HomeMonitoring } else { Status::HomeQuarantine }).await?;
        if close {
            friends_orders.push(o.id);
        }
    }
    let tested: Vec<i64> = friends_orders.iter().copied().take(friends_orders.len().saturating_sub(2)).collect();
    let mut answers = Vec::new();
    for (i, order) in tested.iter().enumerate() {
        let barcode = Barcode::parse(&format!("GL{:08}", 90_000_001 + i)).context("a demo barcode")?;
        head.take_home_test(*order, &barcode).await?;
        answers.push(ResultInput { barcode, round_id: None, result: Some(TubeResult::Negative), ct: CtValues::default(), at: None });
    }
    lab_user.record_results(lab_id, &answers).await?;
    Ok(head.release_orders(&tested).await?.released.len())
}

/// What the demo holds once every chapter is replayed, as its pages count it: every case, the
/// largest cluster, the investigations on the desk.
pub struct Totals {
    pub cases: i64,
    pub largest_cluster: i64,
    pub investigations: usize,
}

pub async fn totals(store: &Store) -> Result<Totals> {
    let investigator = as_user(store, "demo_investigator").await?;
    let filter = cordon_store::cases::ClusterFilter { min_size: Some(1), limit: Some(5000), ..Default::default() };
    let clusters = investigator.clusters(&filter).await?;
    Ok(Totals {
        cases: clusters.iter().map(|c| c.size).sum(),
        largest_cluster: clusters.iter().map(|c| c.size).max().unwrap_or(0),
        investigations: investigator.investigation_queue().await?.len(),
    })
}
