//! Medical observation and quarantine sites, on both backends.

use chrono::{Duration, Utc};
use cordon_domain::access::Role;
use cordon_domain::cases::exposure::ExposureKind;
use cordon_domain::observation::{Category, Outcome, RuleSet, StageKind, Status};
use cordon_domain::{Barcode, local_date};
use cordon_store::exposures::NewExposure;
use cordon_store::observation::OrderFilter;
use cordon_store::quarantine::NewQuarantineSite;
use cordon_store::results::{NewLab, ResultInput};

use super::testing_rounds::as_user;
use super::*;

/// The sample county with twelve people, its register ids by document, and the county's
/// investigator, quarantine-site head and commander.
async fn county_with_a_team(
    store: &Store,
) -> (std::collections::HashMap<String, i64>, cordon_store::scoped::Scoped, cordon_store::scoped::Scoped, cordon_store::scoped::Scoped) {
    seed_areas(store).await;
    import_persons(store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
    let ids = store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap();
    let tracer = as_user(store, "tracer", Role::Investigator, "140121").await;
    let head = as_user(store, "head", Role::QuarantineSiteHead, "140121").await;
    let chief = as_user(store, "chief", Role::Commander, "140121").await;
    (ids, tracer, head, chief)
}

/// Case 清徐-1 (person 0) shared a meal yesterday with `met`; every proposed secondary contact
/// (their household) confirmed. Answers the case and when they last met.
async fn case_0_met(
    tracer: &cordon_store::scoped::Scoped,
    person0: i64,
    met: &[i64],
) -> (cordon_store::cases::Case, chrono::DateTime<Utc>) {
    let mut new = super::cases::new_case("140121100201", "清徐-1", vec![], 12);
    new.person_id = Some(person0);
    let case = tracer.create_case(new).await.unwrap();
    let last = Utc::now() - Duration::days(1);
    let exposure = |person: &i64| NewExposure {
        contact_person_id: *person,
        kind: ExposureKind::Meal,
        degree: None,
        first_at: Some(last - Duration::hours(2)),
        last_at: Some(last),
        note: None,
    };
    tracer.record_exposures(case.id, &met.iter().map(exposure).collect::<Vec<_>>()).await.unwrap();
    for c in tracer.contacts(case.id).await.unwrap().iter().filter(|c| c.status.as_str() == "proposed") {
        tracer.decide_exposures(case.id, &c.exposure_ids, true).await.unwrap();
    }
    (case, last)
}

#[tokio::test]
async fn a_contact_who_became_a_case_before_the_hand_over_is_not_sent_to_quarantine_as_a_contact() {
    for (s, store) in each_backend("hand_over_case").await {
        let (ids, tracer, head, _chief) = county_with_a_team(&store).await;
        let p = |n: u32| ids[&id(n)];
        let (case, _) = case_0_met(&tracer, p(0), &[p(2), p(4)]).await;
        // Person 2 tests positive before the batch is handed over.
        let mut second = super::cases::new_case("140121100201", "清徐-2", vec![], 12);
        second.person_id = Some(p(2));
        tracer.create_case(second).await.unwrap();
        let batch = tracer.hand_over(case.id, &[p(2), p(4)]).await.unwrap();
        assert_eq!(batch.ordered, [p(4)], "{:?}", s.kind);
        let [(who, why)] = &batch.refused[..] else { panic!("{batch:?}") };
        assert_eq!((*who, why.kind, why.arg("number")), (p(2), "refused.hand_over_is_case", Some("清徐-2")));
        let orders = head.observation_orders(&OrderFilter::default()).await.unwrap();
        assert!(!orders.iter().any(|o| o.person_id == p(2)), "no order for the case");
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn contacts_handed_over_get_schedules_rooms_tests_and_follow_a_new_rule_set() {
    for (s, store) in each_backend("observation").await {
        let (ids, tracer, head, chief) = county_with_a_team(&store).await;
        let p = |n: u32| ids[&id(n)];

        // Case 0 met 2, 4 and 6 (close contacts); 3, 5 and 7 share their homes (secondary).
        let (case, last) = case_0_met(&tracer, p(0), &[p(2), p(4), p(6)]).await;
        let batch = tracer.hand_over(case.id, &[p(2), p(3), p(4), p(5), p(6), p(7)]).await.unwrap();
        assert_eq!(batch.ordered.len(), 6, "{batch:?}");

        // Each order carries its schedule from the last exposure (protocol-9).
        let orders = head.observation_orders(&OrderFilter::default()).await.unwrap();
        let day0 = local_date(last);
        let close: Vec<_> = orders.iter().filter(|o| o.category.as_str() == "close_contact").collect();
        let secondary: Vec<_> = orders.iter().filter(|o| o.category.as_str() == "secondary_contact").collect();
        assert_eq!((close.len(), secondary.len()), (3, 3));
        for o in &close {
            assert_eq!(o.release_on, Some(day0 + Duration::days(10)));
            assert_eq!(o.centralized_until, Some(day0 + Duration::days(7)));
            assert!(o.tested_on(day0 + Duration::days(5)) && !o.tested_on(day0 + Duration::days(4)));
            assert_eq!((o.status.as_str(), o.via_person_id), ("awaiting_transfer", None));
        }
        // A household secondary's exposure lasts until their close contact is isolated (now).
        let today = local_date(Utc::now());
        for o in &secondary {
            assert_eq!((o.release_on, o.centralized_until), (Some(today + Duration::days(7)), None), "home quarantine");
            assert!(o.via_person_id.is_some_and(|v| [p(2), p(4), p(6)].contains(&v)), "waits for its close contact");
        }

        // A site: one building, one room a floor on floors 1–3, a single bed each.
        let site = head
            .create_quarantine_site(&NewQuarantineSite {
                name: "清徐宾馆".into(),
                kind: cordon_domain::observation::SiteKind::Hotel,
                area_code: code("140121100"),
                address: "清源镇迎宾路1号".into(),
                head_name: "王建国".into(),
                head_phone: Some("13803510000".into()),
                staff: 12,
                households_share: false,
            })
            .await
            .unwrap();
        assert!(
            head.create_quarantine_site(&NewQuarantineSite { name: "清徐宾馆".into(), ..blank_site() }).await.is_err(),
            "names are unique"
        );
        let mistyped = NewQuarantineSite { name: "清徐二宾馆".into(), head_phone: Some("12ab".into()), ..blank_site() };
        let refused = head.create_quarantine_site(&mistyped).await.unwrap_err();
        assert_eq!(refused.refusal().map(|r| r.kind), Some("refused.contact_phone"), "{refused}");
        assert_eq!(head.add_rooms(site.id, "1号楼", (1, 3), 1, 1).await.unwrap(), 3);
        assert_eq!(head.add_rooms(site.id, "1号楼", (1, 3), 1, 1).await.unwrap(), 0, "adding again changes nothing");
        let board = head.quarantine_board().await.unwrap();
        assert_eq!((board[0].rooms, board[0].beds, board[0].occupants, board[0].free_rooms), (3, 3, 0, 3));

        // The three close contacts get the three rooms in one batch; a fourth would find none.
        let close_ids: Vec<i64> = close.iter().map(|o| o.id).collect();
        let mut ask = close_ids.clone();
        ask.push(secondary[0].id);
        let assigned = head.assign_rooms(site.id, &ask).await.unwrap();
        assert_eq!(assigned.assigned.iter().map(|(_, r)| r.as_str()).collect::<Vec<_>>(), ["101", "201", "301"]);
        let [(id, why)] = &assigned.refused[..] else { panic!("one refused: {:?}", assigned.refused) };
        assert_eq!(*id, secondary[0].id);
        assert_eq!(why.kind, "refused.no_free_room", "{why:?}");
        let board = head.quarantine_site(site.id).await.unwrap();
        assert_eq!((board.occupants, board.checked_in, board.free_rooms), (3, 0, 0), "beds taken, nobody arrived yet");
        for o in &close_ids {
            assert_eq!(head.check_in(site.id, *o).await.unwrap().status.as_str(), "centralized");
        }
        assert_eq!(head.quarantine_site(site.id).await.unwrap().checked_in, 3);
        // A round's community check cannot record someone in the site as away (the record places
        // them in quarantine), and can as in quarantine.
        let officer = super::testing_rounds::as_user(&store, "sampler7", Role::TestingOfficer, "140121100").await;
        let (round, _, _) = super::station::round_with_two_sites(&officer).await;
        use cordon_domain::testing::exemption::ExemptionReason;
        let away = officer.exempt(round.id, close[0].person_id, ExemptionReason::Away, None).await.unwrap_err();
        assert_eq!(away.refusal().map(|r| r.kind), Some("refused.exemption_contradicts"), "{away}");
        officer.exempt(round.id, close[0].person_id, ExemptionReason::Quarantine, None).await.unwrap();
        // A site read floor by floor, or by room number or name.
        assert_eq!(head.site_floors(site.id).await.unwrap(), [("1号楼".into(), 1, 1), ("1号楼".into(), 2, 1), ("1号楼".into(), 3, 1)]);
        let rooms = |people: Vec<(cordon_store::observation::Order, cordon_store::quarantine::Room)>| {
            people.into_iter().map(|(_, r)| r.number).collect::<Vec<_>>()
        };
        assert_eq!(rooms(head.site_people_on(site.id, Some(("1号楼", 2)), "").await.unwrap()), ["201"]);
        assert_eq!(rooms(head.site_people_on(site.id, None, "301").await.unwrap()), ["301"]);
        assert_eq!(rooms(head.site_people_on(site.id, None, "").await.unwrap()), ["101", "201", "301"]);
        let first = &close[0].name;
        let initial = &first[..first.char_indices().nth(1).map_or(first.len(), |(i, _)| i)];
        let found: Vec<i64> = head.site_people_on(site.id, None, initial).await.unwrap().iter().map(|(o, _)| o.id).collect();
        let expected: Vec<i64> = head
            .site_people_on(site.id, None, "")
            .await
            .unwrap()
            .iter()
            .filter(|(o, _)| o.name.starts_with(initial))
            .map(|(o, _)| o.id)
            .collect();
        assert_eq!(found, expected, "exactly those whose name starts so");
        assert!(found.contains(&close[0].id));
        assert!(head.site_people_on(site.id, None, "%").await.unwrap().is_empty(), "LIKE's own characters are only themselves");

        // Today's tests: the list holds whoever has a test day today.
        let due = head.sampling_list(site.id, today).await.unwrap();
        assert_eq!(due.len(), 3, "day 1 is a test day for every close contact");
        assert!(due.iter().all(|d| d.taken.is_none()));
        let bc = |s: &str| Barcode::parse(s).unwrap();
        head.take_observation_test(site.id, close_ids[0], &bc("GL00000001")).await.unwrap();
        let kind = |e: cordon_store::StoreError| e.refusal().map(|r| r.kind);
        let twice = head.take_observation_test(site.id, close_ids[0], &bc("GL00000002")).await.unwrap_err();
        assert_eq!(kind(twice), Some("refused.already_tested_today"), "{:?}: once a day", s.kind);
        let reused = head.take_observation_test(site.id, close_ids[1], &bc("GL00000001")).await.unwrap_err();
        assert_eq!(kind(reused), Some("refused.barcode_used_in_incident"), "{:?}: a tube once", s.kind);
        head.take_observation_test(site.id, close_ids[1], &bc("GL00000003")).await.unwrap();
        let due = head.sampling_list(site.id, today).await.unwrap();
        assert_eq!(due.iter().filter(|d| d.taken.is_some()).count(), 2);
        // Two tests taken, two audited, the chain whole; the refused ones left nothing.
        let filter = cordon_store::audit::AuditFilter { entity: Some("observation_order".into()), ..Default::default() };
        let taken = store.audit_events(&filter, 50).await.unwrap();
        assert_eq!(taken.iter().filter(|a| a.action == "observation_test").count(), 2, "{:?}", s.kind);
        assert_eq!(store.verify_audit().await.unwrap().broken, 0, "{:?}", s.kind);

        // The lab's results come back by the ordinary path and land on the orders' tests.
        let admin = as_user(&store, "lab-admin", Role::Admin, "140121").await;
        let lab =
            admin.create_lab(NewLab { name: "县疾控实验室".into(), area_code: code("140121100"), daily_capacity: 5000 }).await.unwrap();
        let result = |b: &str| ResultInput { barcode: bc(b), round_id: None, result: None, ct: Default::default(), at: None };
        admin.record_results(lab.id, &[result("GL00000001")]).await.unwrap();
        let (_, schedule) = head.order_schedule(close_ids[0]).await.unwrap();
        let schedule = schedule.unwrap();
        assert_eq!(schedule.tests[0].taken, Some(Outcome::Negative));
        let (_, schedule) = head.order_schedule(close_ids[1]).await.unwrap();
        assert_eq!(schedule.unwrap().tests[0].taken, Some(Outcome::Pending));

        // Health checks twice a day; the same slot again replaces it.
        head.record_health_check(site.id, close_ids[0], "morning", 36.5, "").await.unwrap();
        head.record_health_check(site.id, close_ids[0], "morning", 37.6, "咳嗽").await.unwrap();
        assert!(head.record_health_check(site.id, close_ids[0], "noon", 36.5, "").await.is_err());
        assert!(head.record_health_check(site.id, close_ids[0], "evening", 3.65, "").await.is_err());
        let checks = head.health_checks(site.id, today).await.unwrap();
        assert_eq!(checks.iter().map(|c| (c.slot.as_str(), c.temperature)).collect::<Vec<_>>(), [("morning", 37.6)]);

        // A positive on floor 1: floors 1 and 2 restart, floor 3 does not.
        let preview = head.restart_preview(site.id, close_ids[0], false).await.unwrap();
        assert_eq!(preview.affected.iter().map(|o| o.id).collect::<Vec<_>>(), [close_ids[1]]);
        let whole = head.restart_preview(site.id, close_ids[0], true).await.unwrap();
        assert_eq!(whole.affected.len(), 2, "an environmental positive restarts everyone else");
        head.apply_restart(site.id, close_ids[0], false).await.unwrap();
        let restarted = head.observation_order(close_ids[1]).await.unwrap().unwrap();
        assert_eq!(restarted.release_on, Some(today + Duration::days(10)), "a full period from today");
        let untouched = head.observation_order(close_ids[2]).await.unwrap().unwrap();
        assert_eq!(untouched.release_on, Some(day0 + Duration::days(10)));

        // protocol-8 put in force: every open schedule moves, the summary says how.
        assert!(head.set_incident_rule_set(case.incident_id, "protocol-8").await.is_err(), "the commander's decision");
        let summary = chief.set_incident_rule_set(case.incident_id, "protocol-8").await.unwrap();
        assert_eq!((summary.orders, summary.release_later, summary.unchanged, summary.no_longer_observed), (6, 3, 3, 0), "{summary:?}");
        let o = chief.observation_order(close_ids[2]).await.unwrap().unwrap();
        assert_eq!((o.rule_set.as_str(), o.release_on), ("protocol-8", Some(day0 + Duration::days(21))));
        let (_, kept) = chief.order_schedule(close_ids[0]).await.unwrap();
        assert_eq!(kept.unwrap().tests.iter().filter(|t| t.taken.is_some()).count(), 1, "the test taken is kept");

        // Check-out home: the room waits for cleaning, then is free again; the person rides
        // home before their home stage starts.
        let home = head.check_out(site.id, close_ids[2], Status::HomeMonitoring).await.unwrap();
        assert_eq!((home.status.as_str(), home.room_id), ("in_transit", None));
        let rooms = head.rooms(site.id).await.unwrap();
        let room = rooms.iter().find(|r| r.number == "301").unwrap();
        assert_eq!((room.status.as_str(), room.occupants), ("cleaning", 0));
        assert!(head.set_room_status(site.id, room.id, cordon_domain::observation::RoomStatus::Occupied).await.is_err());
        head.set_room_status(site.id, room.id, cordon_domain::observation::RoomStatus::Free).await.unwrap();
        assert_eq!(head.quarantine_site(site.id).await.unwrap().free_rooms, 1);
        // Leaving the site is a point-to-point ride home: a transfer waiting for a vehicle.
        let dispatcher = as_user(&store, "dispatcher", Role::TransferDispatcher, "140121").await;
        let board = dispatcher.dispatch_board().await.unwrap();
        assert_eq!(
            board.iter().map(|t| (t.kind.as_str(), t.from_place.as_str(), t.plate.is_none(), t.people)).collect::<Vec<_>>(),
            [("release_home", "清徐宾馆", true, 1)]
        );
        let release = board[0].id;
        assert!(dispatcher.advance_transfer(release, cordon_domain::transfer::TransferStatus::Dispatched).await.is_err(), "no vehicle yet");
        let car = dispatcher
            .add_vehicle(&cordon_store::transfers::NewVehicle {
                plate: "晋A·C001".into(),
                kind: cordon_domain::transfer::VehicleKind::Car,
                seats: 4,
                area_code: code("140121"),
                driver: None,
                phone: None,
            })
            .await
            .unwrap();
        assert_eq!(dispatcher.assign_vehicle(release, car, "社区网格员").await.unwrap().plate.as_deref(), Some("晋A·C001"));
        dispatcher.advance_transfer(release, cordon_domain::transfer::TransferStatus::Dispatched).await.unwrap();
        dispatcher.advance_transfer(release, cordon_domain::transfer::TransferStatus::PickedUp).await.unwrap();
        assert_eq!(head.observation_order(close_ids[2]).await.unwrap().unwrap().status.as_str(), "in_transit");
        dispatcher.advance_transfer(release, cordon_domain::transfer::TransferStatus::Arrived).await.unwrap();
        assert_eq!(
            head.observation_order(close_ids[2]).await.unwrap().unwrap().status.as_str(),
            "home_monitoring",
            "home: the stage starts"
        );

        // At home: on the community's list, tested at the door, not released before the day.
        let listed = head.home_list(today).await.unwrap();
        assert_eq!(listed.iter().map(|l| (l.order.id, l.due, l.taken.is_some())).collect::<Vec<_>>(), [(close_ids[2], true, false)]);
        // A tube of the mass round is a tube of the incident: not for a door test.
        let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121").await;
        let (round, east, _) = super::station::round_with_two_sites(&officer).await;
        let group = cordon_domain::testing::pooling::SamplingGroup::Resident;
        officer.open_tube(round.id, east.id, &bc("EA00000077"), group, None).await.unwrap();
        let used = head.take_home_test(close_ids[2], &bc("EA00000077")).await.unwrap_err();
        assert_eq!(used.refusal().map(|r| r.kind), Some("refused.barcode_used_in_incident"), "{:?}: {used}", s.kind);
        head.take_home_test(close_ids[2], &bc("GL00000009")).await.unwrap();
        assert_eq!(head.home_list(today).await.unwrap()[0].taken.as_deref(), Some("GL00000009"));
        assert!(head.take_home_test(close_ids[1], &bc("GL00000010")).await.is_err(), "close contact 2 is in the site, not at home");
        assert!(head.set_order_status(close_ids[2], Status::Released).await.is_err(), "the period runs");
        let early = head.release_orders(&[close_ids[2]]).await.unwrap();
        assert!(early.released.is_empty());
        assert!(matches!(early.not_yet[0].1[0], cordon_domain::observation::Blocker::PeriodRunning { .. }), "{early:?}");

        // Close contact 4 turns positive: their household's secondary contact is a close
        // contact now, recomputed; 4's own order ends as a case.
        let four = orders.iter().find(|o| o.person_id == p(4)).unwrap();
        let five = orders.iter().find(|o| o.person_id == p(5)).unwrap();
        let mut second = super::cases::new_case("140121101201", "清徐-2", vec![], 13);
        second.person_id = Some(p(4));
        tracer.create_case(second).await.unwrap();
        assert_eq!(chief.observation_order(four.id).await.unwrap().unwrap().status.as_str(), "case");
        let five = chief.observation_order(five.id).await.unwrap().unwrap();
        assert_eq!(five.category.as_str(), "close_contact");
        assert_eq!(five.release_on, Some(today + Duration::days(21)), "recomputed under the rule in force (protocol-8: 14 + 7)");
        let (_, s5) = chief.order_schedule(five.id).await.unwrap();
        assert_eq!(s5.unwrap().entry(), Some(StageKind::Centralized));

        // measures-20 no longer observes secondary contacts: they are released.
        let summary = chief.set_incident_rule_set(case.incident_id, "measures-20").await.unwrap();
        assert_eq!(summary.no_longer_observed, 2, "{summary:?}");
        let released = chief.observation_orders(&OrderFilter { status: Some(Status::Released), ..Default::default() }).await.unwrap();
        assert_eq!(released.len(), 2);
        assert!(released.iter().all(|o| o.category.as_str() == "secondary_contact"));

        // Close contact 6's period runs; an order that is nobody's is refused.
        let done = head.release_orders(&[close_ids[2], 999_999]).await.unwrap();
        assert_eq!((done.released.len(), done.not_yet.len(), done.refused.len()), (0, 1, 1), "{done:?}");

        // Close contact 0, observed at the site, turns positive: a case, no longer sampled as one
        // observed there, nor checked in again.
        assert!(head.sampling_list(site.id, today).await.unwrap().iter().any(|d| d.order.id == close_ids[0]));
        let mut positive = super::cases::new_case("140121100201", "清徐-9", vec![], 12);
        positive.person_id = Some(close[0].person_id);
        tracer.create_case(positive).await.unwrap();
        let order = head.observation_order(close_ids[0]).await.unwrap().unwrap();
        assert!(order.status.is_final() && !order.status.coming_to_site(), "{:?}", order.status);
        assert!(head.sampling_list(site.id, today).await.unwrap().iter().all(|d| d.order.id != close_ids[0]), "a case is not sampled");
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn contacts_whose_plan_starts_at_home_wait_on_the_home_list_and_are_started_in_a_batch() {
    for (s, store) in each_backend("observation_home_start").await {
        let (ids, tracer, head, chief) = county_with_a_team(&store).await;
        let p = |n: u32| ids[&id(n)];

        // Case 0 met 2 and 4; 3 and 5 share their homes (secondary: home quarantine, protocol-9).
        let (case, _) = case_0_met(&tracer, p(0), &[p(2), p(4)]).await;
        tracer.hand_over(case.id, &[p(2), p(3), p(4), p(5)]).await.unwrap();
        let orders = head.observation_orders(&OrderFilter::default()).await.unwrap();
        let of = |n: u32| orders.iter().find(|o| o.person_id == p(n)).unwrap().clone();
        let (two, three, five) = (of(2), of(3), of(5));

        // The close contacts wait for a transfer; the secondary contacts wait on the home list,
        // with the household's address, and not on the dispatcher's.
        assert_eq!((two.status, three.status, five.status), (Status::AwaitingTransfer, Status::AwaitingHome, Status::AwaitingHome));
        // Paging by key walks the whole list in its order, once each.
        let all: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let mut walked = Vec::new();
        let mut after = None;
        loop {
            let page = head.observation_orders(&OrderFilter { after, limit: Some(1), ..Default::default() }).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some((last.release_on.unwrap_or_else(cordon_store::observation::no_release_day), last.id));
            walked.extend(page.iter().map(|o| o.id));
        }
        assert_eq!(walked, all, "{:?}", s.kind);
        let for_transfer = head.observation_orders(&OrderFilter { status: Some(Status::AwaitingTransfer), ..Default::default() }).await;
        assert_eq!(for_transfer.unwrap().len(), 2, "only the close contacts");
        let today = local_date(Utc::now());
        let home = head.home_list(today).await.unwrap();
        let listed: Vec<(i64, Option<&str>)> = home.iter().map(|h| (h.order.person_id, h.address.as_deref())).collect();
        assert_eq!(listed, [(p(3), Some("1号院")), (p(5), Some("2号院"))]);
        assert!(head.take_home_test(three.id, &Barcode::parse("GL00000001").unwrap()).await.is_err(), "not started yet");

        // The community starts 3 at home; 2 (a close contact) and an unknown order are refused.
        let done = head.start_home_observation(&[three.id, two.id, 999_999]).await.unwrap();
        assert_eq!(done.started.iter().map(|o| (o.id, o.status)).collect::<Vec<_>>(), [(three.id, Status::HomeQuarantine)]);
        let mut why: Vec<&str> = done.refused.iter().map(|(_, r)| r.kind).collect();
        why.sort();
        assert_eq!(why, ["refused.no_order", "refused.not_awaiting_home"], "{:?}", s.kind);
        let again = head.start_home_observation(&[three.id]).await.unwrap();
        assert!(again.started.is_empty(), "once");
        let filter = cordon_store::audit::AuditFilter {
            entity: Some("observation_order".into()),
            entity_id: Some(three.id.to_string()),
            ..Default::default()
        };
        let audit = store.audit_events(&filter, 10).await.unwrap();
        assert_eq!(audit.iter().filter(|a| a.action == "status").count(), 1, "audited once");

        // 2 turns positive: 3, at home, is a close contact now and waits for a transfer; 5 still
        // waits on the home list.
        let mut second = super::cases::new_case("140121100202", "清徐-2", vec![], 13);
        second.person_id = Some(p(2));
        tracer.create_case(second).await.unwrap();
        let three = chief.observation_order(three.id).await.unwrap().unwrap();
        assert_eq!((three.category, three.status), (Category::CloseContact, Status::AwaitingTransfer), "{:?}", s.kind);
        assert_eq!(chief.observation_order(five.id).await.unwrap().unwrap().status, Status::AwaitingHome);

        // 5 given a room at a site (the household cannot isolate at home) waits for a ride there.
        let site = head
            .create_quarantine_site(&NewQuarantineSite {
                name: "清徐宾馆".into(),
                area_code: code("140121100"),
                address: "清源镇迎宾路1号".into(),
                head_name: "王建国".into(),
                staff: 12,
                ..blank_site()
            })
            .await
            .unwrap();
        head.add_rooms(site.id, "1号楼", (1, 1), 1, 1).await.unwrap();
        head.assign_rooms(site.id, &[five.id]).await.unwrap();
        assert_eq!(chief.observation_order(five.id).await.unwrap().unwrap().status, Status::AwaitingTransfer);
        // A recompute (the rule set put in force again) leaves the room and the ride as they are.
        chief.set_incident_rule_set(case.incident_id, "protocol-9").await.unwrap();
        let five = chief.observation_order(five.id).await.unwrap().unwrap();
        assert_eq!((five.status, five.room_id.is_some()), (Status::AwaitingTransfer, true), "{:?}", s.kind);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_contact_found_on_the_last_day_of_their_home_stage_serves_only_that_day() {
    for (s, store) in each_backend("observation_last_day").await {
        let (ids, tracer, head, chief) = county_with_a_team(&store).await;
        let p = |n: u32| ids[&id(n)];
        let admin = as_user(&store, "lab-admin", Role::Admin, "140121").await;
        let lab =
            admin.create_lab(NewLab { name: "县疾控实验室".into(), area_code: code("140121100"), daily_capacity: 5000 }).await.unwrap();
        let bc = |s: &str| Barcode::parse(s).unwrap();
        let result = |b: &str| ResultInput { barcode: bc(b), round_id: None, result: None, ct: Default::default(), at: None };
        let today = local_date(Utc::now());

        // Under measures-20 (5 days centralized + 3 at home), someone met 8 days ago has one day left.
        let mut third = super::cases::new_case("140121100201", "清徐-3", vec![], 14);
        third.person_id = Some(p(8));
        let third = tracer.create_case(third).await.unwrap();
        chief.set_incident_rule_set(third.incident_id, "measures-20").await.unwrap();
        let long_ago = Utc::now() - Duration::days(8);
        tracer
            .record_exposures(
                third.id,
                &[NewExposure {
                    contact_person_id: p(9),
                    kind: ExposureKind::Work,
                    degree: None,
                    first_at: Some(long_ago - Duration::hours(8)),
                    last_at: Some(long_ago),
                    note: None,
                }],
            )
            .await
            .unwrap();
        for c in tracer.contacts(third.id).await.unwrap().iter().filter(|c| c.status.as_str() == "proposed") {
            tracer.decide_exposures(third.id, &c.exposure_ids, true).await.unwrap();
        }
        let late = tracer.hand_over(third.id, &[p(9)]).await.unwrap();
        assert_eq!(late.ordered.len(), 1, "{late:?}");
        let nine = chief.observation_orders(&OrderFilter::default()).await.unwrap().into_iter().find(|o| o.person_id == p(9)).unwrap();
        assert_eq!(nine.release_on, Some(today));
        head.set_order_status(nine.id, Status::HomeQuarantine).await.unwrap();
        let held = |r: &cordon_store::observation::Release| r.not_yet.iter().flat_map(|(_, b)| b.iter().copied()).collect::<Vec<_>>();
        use cordon_domain::observation::Blocker;
        assert_eq!(held(&head.release_orders(&[nine.id]).await.unwrap()), [Blocker::TestMissing { on: today }]);
        head.take_home_test(nine.id, &bc("GL00000011")).await.unwrap();
        assert_eq!(held(&head.release_orders(&[nine.id]).await.unwrap()), [Blocker::ResultPending { on: today }]);
        admin.record_results(lab.id, &[result("GL00000011")]).await.unwrap();
        let done = head.release_orders(&[nine.id]).await.unwrap();
        assert_eq!(
            done.released.iter().map(|o| (o.id, o.status.as_str(), o.released_at.is_some())).collect::<Vec<_>>(),
            [(nine.id, "released", true)]
        );
        assert!(head.home_list(today).await.unwrap().iter().all(|l| l.order.id != nine.id), "off the home list");
        s.finish(store).await.unwrap();
    }
}

/// The county's designated hospital, added by a dispatcher.
async fn county_hospital(dispatcher: &cordon_store::scoped::Scoped) -> i64 {
    let new = cordon_store::transfers::NewHospital {
        name: "清徐县定点医院".into(),
        kind: cordon_domain::treatment::HospitalKind::Designated,
        area_code: code("140121"),
        beds: 100,
    };
    dispatcher.add_hospital(&new).await.unwrap()
}

#[tokio::test]
async fn a_township_dispatcher_sees_the_countys_hospitals_and_its_own_not_the_next_townships() {
    use cordon_domain::treatment::HospitalKind;
    use cordon_store::transfers::NewHospital;
    for (s, store) in each_backend("hospitals_seen").await {
        seed_areas(&store).await;
        let county = as_user(&store, "dispatcher", Role::TransferDispatcher, "140121").await;
        let hospital =
            |name: &str, kind: HospitalKind, area: &str| NewHospital { name: name.into(), kind, area_code: code(area), beds: 20 };
        let designated = county.add_hospital(&hospital("清徐县定点医院", HospitalKind::Designated, "140121")).await.unwrap();
        let qingyuan = county.add_hospital(&hospital("清源镇卫生院", HospitalKind::Shelter, "140121100")).await.unwrap();
        let xugou = county.add_hospital(&hospital("徐沟镇卫生院", HospitalKind::Shelter, "140121101")).await.unwrap();
        let township = as_user(&store, "dispatcher2", Role::TransferDispatcher, "140121100").await;
        let mut seen: Vec<i64> = township.hospitals().await.unwrap().iter().map(|h| h.id).collect();
        seen.sort_unstable();
        assert_eq!(seen, [designated, qingyuan], "the county's and its own, not 徐沟镇's");
        let mut all: Vec<i64> = county.hospitals().await.unwrap().iter().map(|h| h.id).collect();
        all.sort_unstable();
        assert_eq!(all, [designated, qingyuan, xugou]);
        s.finish(store).await.unwrap();
    }
}

fn blank_site() -> NewQuarantineSite {
    NewQuarantineSite {
        name: String::new(),
        kind: cordon_domain::observation::SiteKind::Hotel,
        area_code: code("140121100"),
        address: String::new(),
        head_name: "李四".into(),
        head_phone: None,
        staff: 0,
        households_share: false,
    }
}

#[tokio::test]
async fn transfers_fill_vehicles_move_people_and_keep_overdue_first() {
    use cordon_domain::transfer::{TransferStatus, VehicleKind};
    use cordon_store::transfers::NewVehicle;
    for (s, store) in each_backend("transfers").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(16).into_bytes()), &mut Collect::default()).await.unwrap();
        let ids = store.person_ids_by_documents(&(0..16).map(id).collect::<Vec<_>>()).await.unwrap();
        let p = |n: u32| ids[&id(n)];
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let head = as_user(&store, "head", Role::QuarantineSiteHead, "140121").await;
        let dispatcher = as_user(&store, "dispatcher", Role::TransferDispatcher, "140121").await;
        let mut new = super::cases::new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(p(0));
        let case = tracer.create_case(new).await.unwrap();
        let last = Utc::now() - Duration::hours(3);
        let met = |person: i64| NewExposure {
            contact_person_id: person,
            kind: ExposureKind::Work,
            degree: None,
            first_at: Some(last - Duration::hours(8)),
            last_at: Some(last),
            note: None,
        };
        // Five close contacts (2, 4, 6, 8, 10); their households are proposed, not handed over.
        let close = [p(2), p(4), p(6), p(8), p(10)];
        tracer.record_exposures(case.id, &close.iter().map(|c| met(*c)).collect::<Vec<_>>()).await.unwrap();
        assert_eq!(tracer.hand_over(case.id, &close).await.unwrap().ordered.len(), 5);
        let site = head.create_quarantine_site(&NewQuarantineSite { name: "清徐宾馆".into(), ..blank_site() }).await.unwrap();
        head.add_rooms(site.id, "A", (1, 2), 5, 1).await.unwrap();
        let orders: Vec<i64> = head.observation_orders(&OrderFilter::default()).await.unwrap().iter().map(|o| o.id).collect();
        head.assign_rooms(site.id, &orders).await.unwrap();

        let vehicle = |plate: &str, kind, seats| NewVehicle {
            plate: plate.into(),
            kind,
            seats,
            area_code: code("140121"),
            driver: None,
            phone: None,
        };
        assert!(head.add_vehicle(&vehicle("晋A·1", VehicleKind::Bus, 3)).await.is_err(), "the dispatcher's job");
        let kind = |r: cordon_store::Result<i64>| r.unwrap_err().refusal().map(|r| r.kind);
        assert_eq!(kind(dispatcher.add_vehicle(&vehicle("abc", VehicleKind::Bus, 3)).await), Some("refused.plate"));
        let mistyped_phone = NewVehicle { phone: Some("12ab".into()), ..vehicle("晋A·3", VehicleKind::Bus, 3) };
        assert_eq!(kind(dispatcher.add_vehicle(&mistyped_phone).await), Some("refused.contact_phone"));
        let small = dispatcher.add_vehicle(&vehicle("晋A·1", VehicleKind::Bus, 3)).await.unwrap();
        let other = dispatcher.add_vehicle(&vehicle("晋A·2", VehicleKind::Bus, 3)).await.unwrap();
        assert!(dispatcher.add_vehicle(&vehicle("晋A·1", VehicleKind::Car, 5)).await.is_err(), "plates are unique");
        // Two 3-seat buses carry two each (a seat for the escort); the fifth is left.
        let planned = dispatcher.plan_site_transfers(site.id, &orders, &[small, other], "李医生").await.unwrap();
        assert_eq!((planned.transfers.len(), planned.left.len()), (2, 1), "{planned:?}");
        let again = dispatcher.plan_site_transfers(site.id, &orders, &[small, other], "").await.unwrap();
        assert_eq!(again.transfers.len(), 0, "busy vehicles are not planned twice");
        assert_eq!(again.left.iter().filter(|(_, r)| r.kind == "refused.on_transfer_already").count(), 4, "{again:?}");
        let board = dispatcher.dispatch_board().await.unwrap();
        assert_eq!(board.iter().map(|t| t.people).collect::<Vec<_>>(), [2, 2]);
        let due = board[0].deadline;
        assert!(due > Utc::now() + Duration::hours(11) && due <= Utc::now() + Duration::hours(12), "12 hours after hand-over");

        // A transfer moves only forward; at pick-up its people are in transit.
        let first = board[0].id;
        assert!(dispatcher.advance_transfer(first, TransferStatus::Arrived).await.is_err());
        dispatcher.advance_transfer(first, TransferStatus::Dispatched).await.unwrap();
        dispatcher.advance_transfer(first, TransferStatus::PickedUp).await.unwrap();
        let (_, riders) = dispatcher.transfer(first).await.unwrap();
        for (_, _, order, _) in &riders {
            assert_eq!(head.observation_order(order.unwrap()).await.unwrap().unwrap().status.as_str(), "in_transit");
        }
        assert!(dispatcher.advance_transfer(first, TransferStatus::Cancelled).await.is_err(), "too late to cancel");
        let arrived = dispatcher.advance_transfer(first, TransferStatus::Arrived).await.unwrap();
        assert!(arrived.arrived_at.is_some());
        let cancelled = dispatcher.advance_transfer(board[1].id, TransferStatus::Cancelled).await.unwrap();
        assert_eq!(cancelled.status.as_str(), "cancelled");
        assert_eq!(dispatcher.vehicles().await.unwrap().iter().filter(|v| v.busy).count(), 0);

        // The case to hospital: due two hours after it was recorded, so first on the board.
        let hospital = county_hospital(&dispatcher).await;
        assert_eq!(dispatcher.cases_to_hospital().await.unwrap().len(), 1);
        // Not on a bus, not without an escort: a negative-pressure ambulance with its 120 team.
        let refused = dispatcher.plan_case_transfer(case.id, hospital, small, "张医生").await.unwrap_err();
        assert_eq!(refused.refusal().map(|r| r.kind), Some("refused.case_vehicle_kind"), "{:?}: {refused}", s.kind);
        let ambulance = dispatcher.add_vehicle(&vehicle("晋A·120", VehicleKind::Ambulance, 2)).await.unwrap();
        let refused = dispatcher.plan_case_transfer(case.id, hospital, ambulance, " ").await.unwrap_err();
        assert_eq!(refused.refusal().map(|r| r.kind), Some("refused.case_needs_escort"), "{:?}: {refused}", s.kind);
        assert_eq!(dispatcher.cases_to_hospital().await.unwrap().len(), 1, "nothing planned");
        let t = dispatcher.plan_case_transfer(case.id, hospital, ambulance, "120 急救 张医生").await.unwrap();
        assert_eq!(dispatcher.plan_case_transfer(case.id, hospital, other, "").await.unwrap(), t, "one open transfer per case");
        assert!(dispatcher.cases_to_hospital().await.unwrap().is_empty());
        let replan = dispatcher.plan_site_transfers(site.id, &orders, &[other], "").await.unwrap();
        assert_eq!(replan.transfers.len(), 1, "the cancelled bus's people are planned again");
        let board = dispatcher.dispatch_board().await.unwrap();
        assert_eq!((board[0].id, board[0].kind.as_str()), (t, "positive_to_hospital"));
        assert_eq!(board.last().unwrap().status.as_str(), "arrived", "arrived transfers last");
        for step in [TransferStatus::Dispatched, TransferStatus::PickedUp, TransferStatus::Arrived] {
            dispatcher.advance_transfer(t, step).await.unwrap();
        }
        assert_eq!(tracer.case(case.id).await.unwrap().unwrap().place.as_str(), "hospital");

        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_case_is_admitted_on_arrival_and_discharged_only_on_two_high_ct_tests_a_day_apart() {
    use cordon_domain::transfer::{TransferStatus, VehicleKind};
    use cordon_store::transfers::NewVehicle;
    for (s, store) in each_backend("treatment").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(2).into_bytes()), &mut Collect::default()).await.unwrap();
        let ids = store.person_ids_by_documents(&[id(0)]).await.unwrap();
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let ward = as_user(&store, "ward", Role::HospitalStaff, "140121").await;
        let head = as_user(&store, "head", Role::QuarantineSiteHead, "140121").await;
        let dispatcher = as_user(&store, "dispatcher", Role::TransferDispatcher, "140121").await;
        let mut new = super::cases::new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(ids[&id(0)]);
        let case = tracer.create_case(new).await.unwrap();
        let hospital = county_hospital(&dispatcher).await;
        let ambulance = dispatcher
            .add_vehicle(&NewVehicle {
                plate: "晋A·120".into(),
                kind: VehicleKind::Ambulance,
                seats: 2,
                area_code: code("140121"),
                driver: None,
                phone: None,
            })
            .await
            .unwrap();
        let t = dispatcher.plan_case_transfer(case.id, hospital, ambulance, "120 急救").await.unwrap();
        for step in [TransferStatus::Dispatched, TransferStatus::PickedUp, TransferStatus::Arrived] {
            dispatcher.advance_transfer(t, step).await.unwrap();
        }

        // Admitted on arrival; severity over time; discharge only on two Ct ≥ 35 tests a day apart.
        let stays = ward.stays().await.unwrap();
        assert_eq!(
            stays.iter().map(|s| (s.case_number.as_str(), s.status.as_str(), s.severity.as_str())).collect::<Vec<_>>(),
            [("清徐-1", "admitted", "mild")]
        );
        let stay = stays[0].id;
        assert_eq!(ward.admit(case.id, hospital).await.unwrap(), stay, "admitting again answers the open stay");
        assert!(
            dispatcher.change_severity(stay, cordon_domain::cases::case::Severity::Moderate, "").await.is_err(),
            "the dispatcher does not treat"
        );
        // The quarantine-site head reads the ward but its acts are the hospital staff's.
        assert_eq!(head.stays().await.unwrap().len(), 1);
        let denied = head.change_severity(stay, cordon_domain::cases::case::Severity::Moderate, "").await.unwrap_err();
        assert!(matches!(denied, cordon_store::StoreError::Forbidden(_)), "{denied}");
        assert!(head.record_death(stay, Utc::now(), "呼吸衰竭").await.is_err(), "the site head records no death");
        // An asymptomatic infection given a clinical type is converted to a confirmed case, in
        // the same audited act; the ward and the case read the same afterwards.
        use cordon_domain::cases::case::{CaseClass, Severity};
        assert_eq!(stays[0].classification, CaseClass::Asymptomatic);
        let converted = ward.change_severity(stay, Severity::Moderate, "肺部CT见磨玻璃影").await.unwrap();
        assert_eq!(converted, Some(CaseClass::Confirmed), "{:?}", s.kind);
        let now = tracer.case(case.id).await.unwrap().unwrap();
        assert_eq!(
            (now.classification, now.severity.as_deref(), now.converted_at.is_some()),
            (CaseClass::Confirmed, Some("moderate"), true)
        );
        assert_eq!(ward.stay(stay).await.unwrap().classification, CaseClass::Confirmed);
        let filter = cordon_store::audit::AuditFilter { entity: Some("case".into()), ..Default::default() };
        let event = store.audit_events(&filter, 20).await.unwrap().into_iter().find(|e| e.action == "severity").unwrap();
        assert!(event.before_json.unwrap().contains("asymptomatic") && event.after_json.unwrap().contains("confirmed"));
        assert_eq!(ward.change_severity(stay, Severity::Moderate, "").await.unwrap(), None, "converted once");
        let ct = |orf1ab: Option<f32>, n: Option<f32>| cordon_domain::testing::result::CtValues { orf1ab, n };
        assert!(ward.record_hospital_test(stay, Utc::now(), ct(Some(60.0), None)).await.is_err());
        let mistyped_year = ward.record_hospital_test(stay, Utc::now() + Duration::days(1700), ct(Some(36.0), Some(36.0))).await;
        assert_eq!(mistyped_year.unwrap_err().refusal().map(|r| r.kind), Some("refused.test_in_future"), "{:?}", s.kind);
        let refused = ward.discharge(stay).await.unwrap_err();
        assert_eq!(refused.refusal().map(|r| r.kind), Some("refused.no_high_ct_yet"), "{refused}");
        ward.record_hospital_test(stay, Utc::now() - Duration::hours(30), ct(Some(36.5), Some(37.0))).await.unwrap();
        ward.record_hospital_test(stay, Utc::now() - Duration::hours(10), ct(Some(38.0), None)).await.unwrap();
        let refused = ward.discharge(stay).await.unwrap_err();
        assert_eq!(refused.refusal().map(|r| r.kind), Some("refused.one_high_ct"), "10 h apart is not 24: {refused}");
        ward.record_hospital_test(stay, Utc::now() - Duration::hours(1), ct(None, None)).await.unwrap();
        let (_, tests, log, rule) = ward.stay_record(stay).await.unwrap();
        assert_eq!((tests.len(), log.len()), (3, 3), "admission and two severities");
        assert!(matches!(rule, cordon_domain::treatment::Discharge::Allowed { .. }), "{rule:?}");
        let until = ward.discharge(stay).await.unwrap();
        assert_eq!(until, local_date(Utc::now()) + Duration::days(7));
        let after = ward.stay(stay).await.unwrap();
        assert_eq!((after.status.as_str(), after.monitoring_until), ("discharged", Some(until)));
        assert!(ward.discharge(stay).await.is_err(), "once");
        assert_eq!(tracer.case(case.id).await.unwrap().unwrap().place.as_str(), "home");
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn an_edited_copy_of_a_rule_set_is_checked_saved_and_put_in_force() {
    for (s, store) in each_backend("observation_rule_copy").await {
        let (ids, tracer, _head, chief) = county_with_a_team(&store).await;
        let mut new = super::cases::new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(ids[&id(0)]);
        let case = tracer.create_case(new).await.unwrap();
        let last = Utc::now() - Duration::days(1);
        let met = NewExposure {
            contact_person_id: ids[&id(2)],
            kind: ExposureKind::Meal,
            degree: None,
            first_at: Some(last - Duration::hours(2)),
            last_at: Some(last),
            note: None,
        };
        tracer.record_exposures(case.id, &[met]).await.unwrap();
        assert_eq!(tracer.hand_over(case.id, &[ids[&id(2)]]).await.unwrap().ordered.len(), 1);
        let order = chief.observation_orders(&OrderFilter::default()).await.unwrap()[0].id;
        let day0 = local_date(last);

        // An edited copy: built-in names refused, bad days refused, a sound copy saved.
        let mut copy = RuleSet::built_in("protocol-9").unwrap();
        assert!(chief.save_rule_set(&copy, "protocol-9").await.is_err(), "protocol-9 is built in");
        copy.name = "qingxu-10".into();
        copy.title = "清徐本地方案".into();
        copy.plans.get_mut(&Category::CloseContact).unwrap().stages[0].test_days = vec![1, 12];
        assert!(chief.save_rule_set(&copy, "protocol-9").await.is_err());
        copy.plans.get_mut(&Category::CloseContact).unwrap().stages[0].days = 14;
        chief.save_rule_set(&copy, "protocol-9").await.unwrap();
        assert!(chief.rule_sets().await.unwrap().iter().any(|r| r.rule.name == "qingxu-10" && !r.built_in));
        chief.set_incident_rule_set(case.incident_id, "qingxu-10").await.unwrap();
        let o = chief.observation_order(order).await.unwrap().unwrap();
        assert_eq!(o.release_on, Some(day0 + Duration::days(17)), "14 centralized + 3 home");

        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_death_is_recorded_once_with_its_cause_at_a_time_between_admission_and_now() {
    for (s, store) in each_backend("death").await {
        let (ids, tracer, _head, _chief) = county_with_a_team(&store).await;
        let ward = as_user(&store, "ward", Role::HospitalStaff, "140121").await;
        let dispatcher = as_user(&store, "dispatcher", Role::TransferDispatcher, "140121").await;
        let mut new = super::cases::new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(ids[&id(0)]);
        let case = tracer.create_case(new).await.unwrap();
        let hospital = county_hospital(&dispatcher).await;
        let stay = ward.admit(case.id, hospital).await.unwrap();
        let now = Utc::now();
        let kind = |r: cordon_store::Result<()>| r.unwrap_err().refusal().map(|r| r.kind);
        assert_eq!(kind(ward.record_death(stay, now, "  ").await), Some("refused.death_needs_cause"), "{:?}", s.kind);
        assert_eq!(kind(ward.record_death(stay, now + Duration::hours(1), "呼吸衰竭").await), Some("refused.death_in_future"));
        assert_eq!(kind(ward.record_death(stay, now - Duration::days(1), "呼吸衰竭").await), Some("refused.death_before_admission"));
        assert_eq!(ward.stay(stay).await.unwrap().status.as_str(), "admitted", "{:?}: nothing recorded", s.kind);
        assert!(dispatcher.record_death(stay, now, "呼吸衰竭").await.is_err(), "the ward's act");
        ward.record_death(stay, now, "呼吸衰竭").await.unwrap();
        let after = ward.stay(stay).await.unwrap();
        assert_eq!((after.status.as_str(), after.died_at.map(|t| t.timestamp())), ("died", Some(now.timestamp())), "{:?}", s.kind);
        assert!(ward.record_death(stay, now, "呼吸衰竭").await.is_err(), "once");
        s.finish(store).await.unwrap();
    }
}
