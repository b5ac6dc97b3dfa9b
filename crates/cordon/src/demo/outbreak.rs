//! The investigation of the seed scenario, replayed after the evening's mass testing: the
//! positive found by the re-test works at a courier logistics park; of its 277 day-shift
//! employees most scanned the park's place code that day, a few came in by the staff gate
//! without scanning, and the park's roster lists everyone by sorting team, night shift too.
//! The investigator makes a case of the positive, takes the trajectory from the scans, confirms
//! most co-workers as close contacts from the scans and the case's unscanned team-mates from
//! the roster (a few candidates are left to decide); households and night-shift team-mates
//! come up as secondary contacts, a first batch is handed over; two co-workers turn positive,
//! then one of their household — a third generation.
//!
//! Everything goes through the scoped paths an investigator takes.

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Duration, Utc};
use cordon_domain::AreaCode;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin, PlaceKind};
use cordon_domain::cases::exposure::{Degree, ExposureKind, ExposureStatus, Lookback};
use cordon_domain::cases::investigation::Part;
use cordon_store::cases::NewCase;
use cordon_store::checkins::{CheckIn, NewVenue};
use cordon_store::exposures::NewExposure;
use cordon_store::trajectories::NewEntry;
use cordon_store::{PersonFilter, Store};

use super::rng::Rng;

/// Employees of the park (the scenario: 277).
pub const EMPLOYEES: usize = 277;
/// Venue candidates left for the investigator to decide.
pub const LEFT_TO_DECIDE: usize = 21;
/// Night-shift workers on the park's roster.
const NIGHT_SHIFT: usize = 40;
/// The park's sorting teams; the positive works in the second.
const TEAMS: [&str; 4] = ["分拣一组", "分拣二组", "分拣三组", "分拣四组"];
const PARK: &str = "清徐县某快递物流园区";

/// What the outbreak left behind, for the demo's summary line.
pub struct Traced {
    /// The park's employees, the index case among them.
    pub employees: usize,
    pub index_case: i64,
    /// Employees who did not scan the park's code that day.
    pub unscanned: usize,
    /// Close contacts found through the roster only.
    pub from_roster: usize,
    pub cases: usize,
    pub close: usize,
    pub secondary: usize,
    pub handed_over: usize,
    pub cluster_id: Option<i64>,
}

fn adult(p: &cordon_store::Person, today: chrono::NaiveDate) -> bool {
    let age = today.years_since(p.birth_date).unwrap_or(0);
    (20..60).contains(&age)
}

/// Replays the investigation as `investigator` (county-wide), `now` being the demo's start.
pub async fn trace(store: &Store, investigator: &str, seed: u64, now: DateTime<Utc>) -> Result<Option<Traced>> {
    let p = store.principal_by_name(investigator).await?.ok_or_else(|| anyhow!("the demo account {investigator} is missing"))?;
    let actor = cordon_store::audit::Actor { user_id: Some(p.user.id), name: investigator.to_string(), ..Default::default() };
    let scope = store.scoped(p, actor);
    let mut rng = Rng::new(seed ^ 0x74_7261_6365);
    let Some(positive) = scope.positives(true).await?.into_iter().next() else { return Ok(None) };
    let village = AreaCode::parse(&positive.area_code[..positive.area_code.len().min(12)])?;

    // The park and its employees: the positive and 276 working-age people of the east.
    store
        .upsert_venues(&[NewVenue {
            code: "QX-WL-0001".into(),
            name: PARK.into(),
            area_code: village.clone(),
            address: Some("徐沟镇物流园区 3 号分拣中心".into()),
        }])
        .await?;
    let park = store.venue_ids(&["QX-WL-0001".to_string()]).await?["QX-WL-0001"];
    let today = cordon_domain::local_date(now);
    // Working-age people of the positive's township (a few thousand at most), 276 drawn at random.
    let mut adults = Vec::new();
    let mut cursor = None;
    let township = AreaCode::parse(&positive.area_code[..9])?;
    loop {
        let page = scope.list_persons(Some(&township), &PersonFilter::default(), cursor.as_ref(), 500, today).await?;
        adults.extend(page.items.iter().filter(|p| p.id != positive.person_id && adult(p, today)).map(|p| p.id));
        match page.next {
            Some(next) if adults.len() < (EMPLOYEES + NIGHT_SHIFT) * 10 => cursor = Some(next),
            _ => break,
        }
    }
    let take = (EMPLOYEES - 1 + NIGHT_SHIFT).min(adults.len());
    for i in 0..take {
        let j = i + rng.range(0, (adults.len() - i - 1) as u32) as usize;
        adults.swap(i, j);
    }
    let day_shift = (EMPLOYEES - 1).min(take);
    let staff: Vec<i64> = adults[..day_shift].to_vec();
    let night: Vec<i64> = adults[day_shift..take].to_vec();
    // Yesterday's shift: the positive 07:30–18:00; each co-worker arrives 07:00–10:00 and
    // leaves 8–10 hours later (some never scanned out, a few never scanned at all).
    let shift = (today - chrono::Days::new(1)).and_hms_opt(7, 0, 0).expect("valid time");
    let shift = cordon_domain::from_local(shift).timestamp();
    let mut scans = vec![CheckIn { person_id: positive.person_id, venue_id: park, at: shift + 1800, left: Some(shift + 11 * 3600) }];
    let mut unscanned = 0;
    for id in &staff {
        let at = shift + i64::from(rng.range(0, 180)) * 60;
        let left = (!rng.chance(0.1)).then(|| at + i64::from(rng.range(480, 600)) * 60);
        if rng.chance(0.07) {
            unscanned += 1;
        } else {
            scans.push(CheckIn { person_id: *id, venue_id: park, at, left });
        }
    }
    store.write_checkins(scans).await.context("writing the park's scans")?;

    // The park's roster: day and night shift by sorting team, the positive in the second.
    let mut roster = String::from("单位,身份证号,班组\n");
    let everyone =
        std::iter::once((positive.person_id, 1)).chain(staff.iter().chain(&night).enumerate().map(|(i, id)| (*id, i % TEAMS.len())));
    for (id, team) in everyone {
        if let Some(p) = scope.person(id).await? {
            roster.push_str(&format!("{PARK},{},{}\n", p.document.number(), TEAMS[team]));
        }
    }
    scope.import_roster(std::io::Cursor::new(roster.into_bytes()), &village, &mut cordon_store::import::Quiet).await?;

    // The case, in one action, and its investigation taken at once (the 4-hour clock runs).
    let case = scope.case_from_positive(positive.id, CaseClass::Asymptomatic, None).await?;
    let inv = scope.investigation_of_case(case.id).await?.ok_or_else(|| anyhow!("no investigation opened"))?;
    scope.take_investigation(inv.id, Part::Phone).await.ok();
    scope.trajectory_from_checkins(case.id).await?;
    let evening = |h: i64, m: i64| DateTime::<Utc>::from_timestamp(shift + (h - 7) * 3600 + m * 60, 0).unwrap_or(now);
    scope
        .add_trajectory(
            case.id,
            &[
                NewEntry {
                    from_at: evening(18, 10),
                    until_at: Some(evening(18, 45)),
                    kind: PlaceKind::Vehicle,
                    place: "徐沟—清源 公交 3 路".into(),
                    detail: Some("后门附近站立".into()),
                },
                NewEntry {
                    from_at: evening(19, 0),
                    until_at: Some(evening(19, 40)),
                    kind: PlaceKind::Shop,
                    place: "徐沟镇东街农贸市场".into(),
                    detail: None,
                },
                NewEntry { from_at: evening(20, 0), until_at: None, kind: PlaceKind::Home, place: "住所".into(), detail: None },
            ],
        )
        .await?;
    scope.core_done(inv.id).await.ok();

    // Co-workers from the scans: most confirmed as close contacts, a few left to decide.
    let candidates = scope.venue_candidates(case.id, &Lookback::default()).await?;
    let confirmed: Vec<NewExposure> = candidates
        .iter()
        .skip(LEFT_TO_DECIDE)
        .map(|c| NewExposure {
            contact_person_id: c.person_id,
            kind: ExposureKind::Work,
            degree: None,
            first_at: Some(c.first_at),
            last_at: Some(c.last_until),
            note: Some("同一分拣中心".into()),
        })
        .collect();
    scope.record_exposures(case.id, &confirmed).await?;
    // Team-mates on the roster who never scanned: close contacts too (same shift, same team).
    let day: std::collections::HashSet<i64> = staff.iter().copied().collect();
    let from_roster: Vec<NewExposure> = scope
        .roster_candidates(case.id)
        .await?
        .iter()
        .filter(|c| day.contains(&c.person_id) && candidates.iter().all(|v| v.person_id != c.person_id))
        .map(|c| NewExposure {
            contact_person_id: c.person_id,
            kind: ExposureKind::Work,
            degree: None,
            first_at: DateTime::<Utc>::from_timestamp(shift, 0),
            last_at: DateTime::<Utc>::from_timestamp(shift + 11 * 3600, 0),
            note: Some(format!("{PARK} {}（花名册，未扫场所码）", TEAMS[1])),
        })
        .collect();
    scope.record_exposures(case.id, &from_roster).await?;

    // Secondary contacts: the households, most confirmed; the first batch handed over.
    let contacts = scope.contacts(case.id).await?;
    let proposed: Vec<i64> = contacts
        .iter()
        .filter(|c| c.status == ExposureStatus::Proposed)
        .take(contacts.len() * 3 / 4)
        .flat_map(|c| c.exposure_ids.clone())
        .collect();
    scope.decide_exposures(case.id, &proposed, true).await?;
    let contacts = scope.contacts(case.id).await?;
    let batch: Vec<i64> = contacts.iter().filter(|c| c.status == ExposureStatus::Confirmed).take(150).map(|c| c.person_id).collect();
    let handed = scope.hand_over(case.id, &batch).await?;

    // A second generation: two co-workers test positive in quarantine; a third: one of their
    // household.
    let mut cases = 1;
    // Co-workers whose household is also on the list (as proposed or confirmed secondaries).
    let households: std::collections::HashSet<i64> =
        contacts.iter().filter(|c| c.degree == Degree::Secondary).map(|c| c.person_id).collect();
    let mut coworkers: Vec<i64> = Vec::new();
    for c in contacts.iter().filter(|c| c.degree == Degree::Close) {
        let Some(p) = scope.person(c.person_id).await? else { continue };
        let home = match p.household_id {
            Some(h) => store.household_members(h).await?,
            None => vec![],
        };
        if home.iter().any(|m| households.contains(&m.id)) {
            coworkers.push(c.person_id);
            if coworkers.len() == 2 {
                break;
            }
        }
    }
    let mut second = Vec::new();
    for (k, person) in coworkers.iter().enumerate() {
        let Some(p) = scope.person(*person).await? else { continue };
        let c = scope
            .create_case(NewCase {
                external_id: None,
                person_id: Some(*person),
                positive_id: None,
                area_code: AreaCode::parse(&p.area_code)?,
                classification: if k == 0 { CaseClass::Confirmed } else { CaseClass::Asymptomatic },
                severity: None,
                how_found: HowFound::InQuarantine,
                origin: Origin::Local,
                onset_date: (k == 0).then_some(today),
                sample_date: Some(today),
                report_date: Some(today),
                place: CasePlace::QuarantineSite,
                label: None,
                infectors: vec![],
            })
            .await?;
        second.push((c, p));
        cases += 1;
    }
    let at_park: std::collections::HashSet<i64> = staff.iter().copied().collect();
    'third: for (c2, p2) in &second {
        if let Some(h) = p2.household_id {
            let members = store.household_members(h).await?;
            // Someone at home who was not at the park: infected by the co-worker, not the index.
            if let Some(m) = members.iter().find(|m| m.id != p2.id && m.id != positive.person_id && !at_park.contains(&m.id)) {
                scope
                    .record_exposures(
                        c2.id,
                        &[NewExposure {
                            contact_person_id: m.id,
                            kind: ExposureKind::Household,
                            degree: None,
                            first_at: Some(now - Duration::days(2)),
                            last_at: Some(now - Duration::hours(20)),
                            note: None,
                        }],
                    )
                    .await?;
                scope
                    .create_case(NewCase {
                        external_id: None,
                        person_id: Some(m.id),
                        positive_id: None,
                        area_code: AreaCode::parse(&m.area_code)?,
                        classification: CaseClass::Asymptomatic,
                        severity: None,
                        how_found: HowFound::InControlArea,
                        origin: Origin::Local,
                        onset_date: None,
                        sample_date: Some(today),
                        report_date: Some(today),
                        place: CasePlace::Home,
                        label: None,
                        infectors: vec![],
                    })
                    .await?;
                cases += 1;
                break 'third;
            }
        }
    }
    let case = scope.case(case.id).await?.ok_or_else(|| anyhow!("index case vanished"))?;
    let contacts = scope.contacts(case.id).await?;
    Ok(Some(Traced {
        employees: staff.len() + 1,
        index_case: case.id,
        unscanned,
        from_roster: from_roster.len(),
        cases,
        close: contacts.iter().filter(|c| c.degree == Degree::Close).count(),
        secondary: contacts.iter().filter(|c| c.degree == Degree::Secondary).count(),
        handed_over: handed.ordered.len(),
        cluster_id: case.cluster_id,
    }))
}
