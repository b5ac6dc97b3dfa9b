//! Zones, on both backends: drawn and acted on by the commander inside the jurisdiction, the
//! people inside counted, and the facts their countdown reads.

use chrono::{Duration, Utc};
use cordon_domain::access::Role;
use cordon_domain::cases::exposure::ExposureKind;
use cordon_domain::testing::exemption::ExemptionReason;
use cordon_domain::testing::pooling::{PoolPolicy, SamplingGroup};
use cordon_domain::zones::{Ask, ZoneAct, ZoneKind};
use cordon_domain::{Barcode, local_date};
use cordon_store::StoreError;
use cordon_store::exposures::NewExposure;
use cordon_store::results::{NewLab, ResultInput};
use cordon_store::testing::{NewRound, NewSite};
use cordon_store::zones::{Extent, NewZone};

use super::testing_rounds::as_user;
use super::*;

fn sealed(areas: &[&str], households: Vec<i64>, reason: &str) -> NewZone {
    NewZone {
        kind: ZoneKind::Sealed,
        name: String::new(),
        reason: reason.into(),
        extent: Extent { areas: areas.iter().map(|a| code(a)).collect(), households, ..Default::default() },
        drawn_at: None,
    }
}

/// The sample county's twelve people by number: 0, 1, 8 and 9 live in 东关村, 4 and 5 in 北关村's
/// 2号院; everyone is over 80 and 0 and 10 are bedridden.
async fn county(store: &Store) -> std::collections::HashMap<String, i64> {
    seed_areas(store).await;
    import_persons(store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
    store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap()
}

#[tokio::test]
async fn the_commander_draws_and_tightens_zones_inside_the_jurisdiction_and_every_act_is_kept() {
    for (s, store) in each_backend("zones").await {
        let ids = county(&store).await;
        let p = |n: u32| ids[&id(n)];
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let household = store.person_in(&code("140121"), p(4)).await.unwrap().unwrap().household_id.unwrap();

        // Bad drawings change nothing and say why.
        assert_eq!(chief.designate_zone(&sealed(&["140121100201"], vec![], " ")).await.refused().kind, "refused.zone.no_reason");
        assert_eq!(chief.designate_zone(&sealed(&[], vec![], "x")).await.refused().kind, "refused.zone.no_extent");
        assert_eq!(chief.designate_zone(&sealed(&[], vec![999_999], "x")).await.refused().kind, "refused.zone.no_household");
        assert_eq!(chief.designate_zone(&sealed(&["140121100299"], vec![], "x")).await.refused().kind, "refused.area_unregistered");
        assert!(chief.zones(false, None, 50).await.unwrap().is_empty());

        // 东关村 and one courtyard of 北关村, sealed: six people, all over 80, one bedridden.
        let zone = chief.designate_zone(&sealed(&["140121100201"], vec![household], "清徐-1 住所")).await.unwrap();
        assert_eq!((zone.kind, zone.name.as_str(), zone.area_code.as_str()), (ZoneKind::Sealed, "东关村等2处", "140121"));
        assert_eq!((zone.residents, zone.since), (6, local_date(Utc::now())));
        let detail = chief.zone(zone.id).await.unwrap();
        assert_eq!((detail.residents.total, detail.residents.elderly, detail.residents.bedridden), (6, 6, 1), "{:?}", s.kind);
        assert_eq!(detail.places.households[0].name, "2号院");
        let countdown = detail.countdown.unwrap();
        assert_eq!((countdown.to, countdown.ready), (Some(ZoneKind::Controlled), false));
        assert_eq!(countdown.earliest, Some(zone.since + Duration::days(7)), "the 9th protocol: seven quiet days");

        // Not ready: a downgrade is refused with the first unmet condition; a sealed zone is never
        // lifted at once. Nothing changed.
        let refused = chief.act_on_zone(zone.id, Ask::Downgrade, "", None).await.refused();
        assert_eq!((refused.kind, refused.arg("condition")), ("refused.zone.not_ready", Some("quiet_days")));
        assert_eq!(chief.act_on_zone(zone.id, Ask::Lift, "", None).await.refused().kind, "refused.zone.step_down_first");
        assert_eq!(chief.zone(zone.id).await.unwrap().history.len(), 1);

        // 西关村 drawn controlled, then a positive: sealed from today.
        let mut west = sealed(&["140121100202"], vec![], "密接居住地");
        west.kind = ZoneKind::Controlled;
        let west = chief.designate_zone(&west).await.unwrap();
        let up = chief.act_on_zone(west.id, Ask::Tighten(ZoneKind::Sealed), "新增阳性", Some(west.changed_at)).await.unwrap();
        // The same request again (a resubmitted form) finds the zone changed since it was read.
        let again = chief.act_on_zone(west.id, Ask::Tighten(ZoneKind::Sealed), "新增阳性", Some(west.changed_at)).await.refused();
        assert_eq!(again.kind, "refused.zone.changed");
        assert_eq!((up.kind, up.downgraded), (ZoneKind::Sealed, false));
        let history: Vec<(ZoneAct, ZoneKind)> = chief.zone(west.id).await.unwrap().history.iter().map(|h| (h.act, h.kind)).collect();
        assert_eq!(history, [(ZoneAct::Designate, ZoneKind::Controlled), (ZoneAct::Tighten, ZoneKind::Sealed)]);
        assert_eq!(chief.act_on_zone(west.id, Ask::Tighten(ZoneKind::Sealed), "", None).await.refused().kind, "refused.zone.not_stricter");

        // Extended by 南关村 (people 6 and 7): eight inside.
        let more = Extent { areas: vec![code("140121101202")], ..Default::default() };
        assert_eq!(chief.extend_zone(zone.id, &more, "扩大").await.unwrap().residents, 8);

        // A township sees the county's zones over it and only its own people in them, and cannot
        // act on a zone reaching past it.
        let xugou = as_user(&store, "xugou", Role::Commander, "140121101").await;
        let listed: Vec<i64> = xugou.zones(false, None, 50).await.unwrap().iter().map(|z| z.zone.id).collect();
        assert_eq!(listed, [zone.id], "西关村's zone lies in the other township");
        let people = xugou.zone_people(zone.id, false, None, 50).await.unwrap();
        let mut seen: Vec<i64> = people.items.iter().map(|p| p.id).collect();
        seen.sort();
        assert_eq!(seen, [p(4), p(5), p(6), p(7)]);
        assert!(matches!(xugou.act_on_zone(zone.id, Ask::Downgrade, "", None).await, Err(StoreError::Forbidden(_))));
        assert!(matches!(xugou.designate_zone(&sealed(&["140121100201"], vec![], "x")).await, Err(StoreError::Forbidden(_))));
        assert_eq!(xugou.zone(west.id).await.refused().kind, "refused.zone.none");
        // The door-to-door list: only the vulnerable (everyone here is over 80).
        assert_eq!(chief.zone_people(zone.id, true, None, 50).await.unwrap().items.len(), 8);

        let events =
            store.audit_events(&cordon_store::audit::AuditFilter { entity: Some("zone".into()), ..Default::default() }, 10).await.unwrap();
        assert_eq!(events.len(), 4, "two drawn, one tightened, one extended");
        assert!(store.verify_audit().await.unwrap().breaks.is_empty());
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_zone_entered_later_counts_from_when_headquarters_drew_it() {
    for (s, store) in each_backend("zones_backfill").await {
        let ids = county(&store).await;
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let now = Utc::now();
        let today = local_date(now);
        // Announced three days ago, typed in now (补录): counted from that day.
        let mut earlier = sealed(&["140121100201"], vec![], "补录");
        earlier.drawn_at = Some(now - Duration::days(3));
        let ahead = NewZone { drawn_at: Some(Utc::now() + Duration::hours(2)), ..earlier.clone() };
        assert_eq!(chief.designate_zone(&ahead).await.refused().kind, "refused.zone.drawn_later", "{:?}", s.kind);
        let too_early = NewZone { drawn_at: Some(Utc::now() - Duration::days(31)), ..earlier.clone() };
        assert_eq!(chief.designate_zone(&too_early).await.refused().kind, "refused.zone.drawn_too_early");
        assert!(chief.zones(false, None, 50).await.unwrap().is_empty(), "nothing drawn by the refusals");
        let zone = chief.designate_zone(&earlier).await.unwrap();
        let drawn = earlier.drawn_at.unwrap();
        assert_eq!((zone.since, zone.designated_at.timestamp()), (today - Duration::days(3), drawn.timestamp()));
        let detail = chief.zone(zone.id).await.unwrap();
        assert_eq!(detail.countdown.unwrap().earliest, Some(today + Duration::days(4)), "seven quiet days from three days ago");
        assert_eq!(detail.history[0].changed_at.timestamp(), drawn.timestamp());
        // Its people's codes turn red at once all the same.
        let person = ids[&id(0)];
        assert_eq!(store.health_code(person, Utc::now()).await.unwrap().colour, cordon_domain::health_code::Colour::Red);
        // A controlled zone entered later for a case typed in after it was announced: the case
        // it was drawn for does not propose sealing it.
        let mut case = super::cases::new_case("140121101201", "清徐-9", vec![], 13);
        case.sample_date = Some(today - Duration::days(3));
        let case = tracer.create_case(case).await.unwrap();
        let mut controlled = sealed(&["140121101201"], vec![], "病例住所");
        controlled.kind = ZoneKind::Controlled;
        controlled.extent.case_ids = vec![case.id];
        controlled.drawn_at = Some(now - Duration::days(3) + Duration::hours(2));
        let controlled = chief.designate_zone(&controlled).await.unwrap();
        assert_eq!(chief.zone(controlled.id).await.unwrap().proposed, None, "{:?}", s.kind);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_zones_countdown_reads_its_infections_area_tests_and_last_contact() {
    for (s, store) in each_backend("zone_facts").await {
        let ids = county(&store).await;
        let p = |n: u32| ids[&id(n)];
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121").await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let lab = as_user(&store, "lab", Role::Lab, "140121").await;
        let zone = chief.designate_zone(&sealed(&["140121100201"], vec![], "清徐-1")).await.unwrap();
        let today = local_date(Utc::now());
        let facts = store.zone_facts(&zone).await.unwrap();
        assert_eq!((facts.last_infection, facts.tests.len(), facts.last_contact), (None, 0, None), "{:?}", s.kind);

        // A round of 清源镇: three of 东关村's four sampled, the fourth away.
        let round = officer
            .create_round(NewRound {
                name: "清源镇第一轮".into(),
                starts_at: Utc::now(),
                target_end_at: None,
                areas: vec![(code("140121100"), None)],
                policy: PoolPolicy::default(),
            })
            .await
            .unwrap();
        let site = officer
            .create_site(NewSite {
                round_id: round.id,
                area_code: code("140121100201"),
                name: "东关村1号点".into(),
                address: "村委会".into(),
                stations: 1,
            })
            .await
            .unwrap();
        // A sealed zone is sampled in single tubes.
        let tubes: Vec<Barcode> = (1..=3).map(|n| Barcode::parse(&format!("QX0000000{n}")).unwrap()).collect();
        for (tube, n) in tubes.iter().zip([0, 1, 8]) {
            officer.open_tube(round.id, site.id, tube, SamplingGroup::Resident, None).await.unwrap();
            officer.scan(round.id, tube, p(n), None).await.unwrap();
        }
        let one = store.zone_facts(&zone).await.unwrap().tests;
        assert_eq!((one[0].day, one[0].complete, one[0].all_negative), (today, false, false), "one person neither sampled nor away");
        officer.exempt(round.id, p(9), ExemptionReason::Away, None).await.unwrap();
        let pending = store.zone_facts(&zone).await.unwrap().tests;
        assert_eq!((pending[0].complete, pending[0].all_negative), (true, false), "complete, the tube not back yet");
        let lab_id =
            officer.create_lab(NewLab { name: "县疾控".into(), area_code: code("140121"), daily_capacity: 5000 }).await.unwrap().id;
        let results: Vec<ResultInput> = tubes
            .iter()
            .map(|t| ResultInput { barcode: t.clone(), round_id: Some(round.id), result: None, ct: Default::default(), at: None })
            .collect();
        lab.record_results(lab_id, &results).await.unwrap();
        let tested = store.zone_facts(&zone).await.unwrap().tests;
        assert_eq!((tested[0].complete, tested[0].all_negative), (true, true));

        // Person 1 turns out a case and met person 4 (outside the zone) yesterday.
        let mut case = super::cases::new_case("140121100201", "清徐-1", vec![], 13);
        case.person_id = Some(p(1));
        // Sampled yesterday, entered today: the infection is dated by its sample.
        case.sample_date = Some(today - Duration::days(1));
        case.report_date = Some(today);
        let case = tracer.create_case(case).await.unwrap();
        let met = Utc::now() - Duration::days(1);
        let exposure =
            NewExposure { contact_person_id: p(4), kind: ExposureKind::Meal, degree: None, first_at: None, last_at: Some(met), note: None };
        tracer.record_exposures(case.id, &[exposure]).await.unwrap();
        for c in tracer.contacts(case.id).await.unwrap().iter().filter(|c| c.status.as_str() == "proposed") {
            tracer.decide_exposures(case.id, &c.exposure_ids, true).await.unwrap();
        }
        let facts = store.zone_facts(&zone).await.unwrap();
        assert_eq!(facts.last_infection, Some(today - Duration::days(1)));
        let contact = facts.last_contact.unwrap();
        assert_eq!((contact.exposed, contact.negative_on), (local_date(met), None));
        // A second zone still in force keeps a precaution zone waiting.
        assert_eq!(facts.higher_zones_in_county, 0);
        let mut county_wide = sealed(&["140121"], vec![], "全县防范");
        county_wide.kind = ZoneKind::Precaution;
        let county_wide = chief.designate_zone(&county_wide).await.unwrap();
        assert_eq!(store.zone_facts(&county_wide).await.unwrap().higher_zones_in_county, 1);
        assert_eq!(chief.act_on_zone(county_wide.id, Ask::Lift, "", None).await.refused().arg("condition"), Some("county_clear"));
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_round_pools_by_the_zones_in_force_where_nothing_is_typed() {
    for (s, store) in each_backend("zone_pools").await {
        let ids = county(&store).await;
        let p = |n: u32| ids[&id(n)];
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121").await;
        chief.designate_zone(&sealed(&["140121100201"], vec![], "清徐-1")).await.unwrap();
        let mut west = sealed(&["140121100202"], vec![], "密接");
        west.kind = ZoneKind::Controlled;
        chief.designate_zone(&west).await.unwrap();
        // A round of the county typed nothing; 徐沟镇 typed precaution.
        let round = officer
            .create_round(NewRound {
                name: "全县第二轮".into(),
                starts_at: Utc::now(),
                target_end_at: None,
                areas: vec![(code("140121100"), None), (code("140121101"), Some(ZoneKind::Precaution))],
                policy: PoolPolicy::default(),
            })
            .await
            .unwrap();
        let site = |area: &str, name: &str| NewSite {
            round_id: round.id,
            area_code: code(area),
            name: name.into(),
            address: "村委会".into(),
            stations: 1,
        };
        let east = officer.create_site(site("140121100201", "东关")).await.unwrap();
        let west = officer.create_site(site("140121100202", "西关")).await.unwrap();
        let north = officer.create_site(site("140121101201", "北关")).await.unwrap();
        let open = |site: i64, bc: &'static str| {
            let officer = &officer;
            let round = round.id;
            async move { officer.open_tube(round, site, &Barcode::parse(bc).unwrap(), SamplingGroup::Resident, None).await.unwrap().pool }
        };
        use cordon_domain::testing::pooling::PoolSize;
        assert_eq!(open(east.id, "QX00000011").await, PoolSize::People(1), "{:?}: sealed, single tubes", s.kind);
        assert_eq!(open(west.id, "QX00000012").await, PoolSize::People(10), "controlled: 10 in 1");
        assert_eq!(open(north.id, "QX00000013").await, PoolSize::People(20), "no zone: 20 in 1");
        // A batch uploaded later opens its tubes by the same rule.
        let batch = cordon_store::batch::BatchTube {
            barcode: Barcode::parse("QX00000014").unwrap(),
            site_id: east.id,
            group: SamplingGroup::Resident,
            members: vec![p(0)],
            seal: false,
            sampled_at: None,
        };
        let done = officer.register_batch(round.id, vec![batch], None).await.unwrap();
        assert_eq!(done[0].tube.as_ref().map(|t| t.pool), Some(PoolSize::People(1)), "{done:?}");
        // The frequency suggestion sees the zones: 清源镇 holds a sealed one, 徐沟镇 none.
        let history = officer.testing_history(3).await.unwrap();
        let zone_of = |code: &str| history.iter().find(|h| h.area_code == code).map(|h| h.zone);
        assert_eq!(zone_of("140121100"), Some(Some(ZoneKind::Sealed)), "{history:?}");
        assert_eq!(zone_of("140121101"), Some(None), "{history:?}");
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_positive_living_in_a_controlled_zone_is_found_in_a_control_area_and_sealing_is_proposed() {
    use cordon_domain::cases::case::CaseClass;
    for (s, store) in each_backend("zone_found").await {
        let (_t, person) = super::cases::positive_from_testing(&store).await;
        let chief = as_user(&store, "zone_chief", Role::Commander, "140121").await;
        let tracer = as_user(&store, "zone_tracer", Role::Investigator, "140121").await;
        let household = store.person_in(&code("140121"), person).await.unwrap().unwrap().household_id.unwrap();
        let mut home = sealed(&[], vec![household], "密接居住地");
        home.kind = ZoneKind::Controlled;
        let zone = chief.designate_zone(&home).await.unwrap();
        assert_eq!(chief.zone(zone.id).await.unwrap().proposed, None, "{:?}: nothing new since it was drawn", s.kind);
        let waiting = tracer.positives(true).await.unwrap();
        let case = tracer.case_from_positive(waiting[0].id, CaseClass::Asymptomatic, None).await.unwrap();
        assert_eq!(case.how_found.as_str(), "in_control_area", "封控管控区内发现, not 社会面");
        // The case recorded inside proposes sealing the controlled zone.
        assert_eq!(chief.zone(zone.id).await.unwrap().proposed, Some(ZoneKind::Sealed));
        s.finish(store).await.unwrap();
    }
}
