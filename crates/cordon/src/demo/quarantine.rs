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
use cordon_domain::observation::Status;
use cordon_domain::tracing::case::Severity;
use cordon_domain::transfer::{TransferStatus, VehicleKind};
use cordon_domain::treatment::HospitalKind;
use cordon_domain::{AreaCode, Barcode};
use cordon_store::Store;
use cordon_store::audit::Actor;
use cordon_store::observation::OrderFilter;
use cordon_store::quarantine::NewQuarantineSite;
use cordon_store::scoped::Scoped;
use cordon_store::transfers::{NewHospital, NewVehicle};

use super::county;
use super::rng::Rng;

pub const SITE: &str = "清徐县迎宾隔离酒店";
const BUSES: usize = 17;
const BUS_SEATS: u32 = 21;

pub struct Settled {
    pub site_id: i64,
    pub beds: i64,
    pub roomed: usize,
    pub buses: usize,
    pub arrived: usize,
    pub sampled: usize,
    pub in_hospital: usize,
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
    let rest: Vec<i64> = investigator.contacts(index_case).await?.into_iter().filter(|c| c.status == "confirmed").map(|c| c.person_id).collect();
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
            kind: "hotel".into(),
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

    // The fleet and the hospitals.
    let mut buses = Vec::new();
    for i in 1..=BUSES {
        let plate = format!("晋A·Q{:04}", 100 + i);
        let v = NewVehicle { plate, kind: VehicleKind::Bus, seats: BUS_SEATS, area_code: county.clone(), driver: Some(format!("司机{i:02}")), phone: None };
        buses.push(dispatcher.add_vehicle(&v).await?);
    }
    let mut ambulances = Vec::new();
    for i in 1..=4 {
        let v = NewVehicle { plate: format!("晋A·120{i:02}"), kind: VehicleKind::Ambulance, seats: 4, area_code: county.clone(), driver: None, phone: None };
        ambulances.push(dispatcher.add_vehicle(&v).await?);
    }
    let designated = dispatcher
        .add_hospital(&NewHospital { name: "清徐县人民医院（定点医院）".into(), kind: HospitalKind::Designated, area_code: county.clone(), beds: 200 })
        .await?;
    let shelter = dispatcher
        .add_hospital(&NewHospital { name: "清徐方舱医院".into(), kind: HospitalKind::Shelter, area_code: county.clone(), beds: 1000 })
        .await?;

    // Seat everyone with a room; all but the last two buses arrive, one of those is on the road.
    let with_room: Vec<i64> = head
        .observation_orders(&OrderFilter { site_id: Some(site.id), ..Default::default() })
        .await?
        .into_iter()
        .filter(|o| o.status == "awaiting_transfer")
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
    if let Some(stay) = head.stays().await?.into_iter().find(|s| s.hospital_id == designated) {
        head.change_severity(stay.id, Severity::Moderate, "胸部CT示双肺磨玻璃影").await?;
        let ct = cordon_domain::testing::result::CtValues { orf1ab: Some(24.6), n: Some(22.9) };
        head.record_hospital_test(stay.id, chrono::Utc::now(), ct).await?;
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
    for (order, _) in head.site_people(site.id).await?.iter().filter(|(o, _)| o.status == "centralized") {
        let fever = rng.chance(0.01);
        let temperature = if fever { 37.6 + rng.range(0, 8) as f32 / 10.0 } else { 36.2 + rng.range(0, 8) as f32 / 10.0 };
        head.record_health_check(site.id, order.id, "evening", temperature, if fever { "发热、乏力" } else { "" }).await?;
    }
    let board = head.quarantine_site(site.id).await?;
    Ok(Settled { site_id: site.id, beds: board.beds, roomed, buses: n, arrived, sampled, in_hospital })
}
