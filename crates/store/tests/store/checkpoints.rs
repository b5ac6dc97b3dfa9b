//! Checkpoints and their passages, on both backends.

use cordon_domain::access::Role;
use cordon_domain::checkpoints::{CheckpointKind, Decision, DecisionCode, Direction};
use cordon_domain::zones::ZoneKind;
use cordon_store::StoreError;
use cordon_store::checkpoints::{NewCheckpoint, PassageAsk};
use cordon_store::zones::{Extent, NewZone};

use super::testing_rounds::as_user;
use super::*;

#[tokio::test]
async fn a_checkpoint_refuses_a_sealed_resident_and_a_red_code_lets_a_green_one_pass_and_logs_every_passage() {
    for (s, store) in each_backend("checkpoints").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let guard = as_user(&store, "guard", Role::CheckpointOfficer, "140121100").await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121100").await;
        let zone = chief
            .designate_zone(&NewZone {
                kind: ZoneKind::Sealed,
                name: String::new(),
                reason: "清徐-1 住所".into(),
                extent: Extent { areas: vec![code("140121100201")], ..Default::default() },
                drawn_at: None,
            })
            .await
            .unwrap();
        let new = |name: &str, kind, zone_id, leaves_county| NewCheckpoint {
            name: name.into(),
            kind,
            area_code: code("140121100201"),
            zone_id,
            leaves_county,
        };
        let gate = chief.create_checkpoint(&new("东关村口", CheckpointKind::ZoneBoundary, Some(zone.id), false)).await.unwrap();
        assert_eq!(
            chief.create_checkpoint(&new("东关村口", CheckpointKind::Road, None, false)).await.refused().kind,
            "refused.checkpoint.name_taken"
        );
        assert_eq!(
            chief.create_checkpoint(&new(" ", CheckpointKind::Road, None, false)).await.refused().kind,
            "refused.checkpoint.no_name"
        );
        let exit = chief.create_checkpoint(&new("清徐高速口", CheckpointKind::HighwayExit, None, true)).await.unwrap();

        let pass = |cp: i64, n: &str, medical_exit: bool| {
            let guard = &guard;
            let ask = PassageAsk {
                id_number: n.to_string(),
                plate: None,
                direction: Direction::Out,
                medical_exit,
                negative_certificate: false,
                client_id: None,
                passed_at: None,
                kept_offline: false,
                by_hand: None,
            };
            async move { guard.record_passage(cp, &ask).await.unwrap() }
        };
        // Person 0 lives in the sealed village: red, and a resident of the zone the gate guards.
        let refused = pass(gate.id, &id(0), false).await;
        let codes: Vec<DecisionCode> = refused.reasons.iter().map(|w| w.code).collect();
        assert_eq!((refused.decision, codes), (Decision::Refuse, vec![DecisionCode::RedCode, DecisionCode::SealedZone]), "{:?}", s.kind);
        // With an approved medical exit: registered and let out.
        assert_eq!(pass(gate.id, &id(0), true).await.decision, Decision::Register);
        // Person 2 (西关村, green) is registered passing the sealed village's gate; an unknown
        // arrival is registered.
        let through = pass(gate.id, &id(2), false).await;
        assert_eq!((through.decision, through.reasons[0].code), (Decision::Register, DecisionCode::SealedZone));
        let arrival = pass(gate.id, "11010519491231002X", false).await;
        assert_eq!(
            (arrival.decision, arrival.reasons[0].code, arrival.person.is_none()),
            (Decision::Register, DecisionCode::NotInRegister, true)
        );
        // Leaving the county while it is in precaution needs a negative test in 48 hours.
        let out = pass(exit.id, &id(2), false).await;
        assert_eq!((out.decision, out.reasons[0].code), (Decision::Refuse, DecisionCode::NoRecentTest));
        // A certificate from a test elsewhere, shown at the booth, does.
        let shown = PassageAsk {
            id_number: id(2),
            plate: None,
            direction: Direction::Out,
            medical_exit: false,
            negative_certificate: true,
            client_id: None,
            passed_at: None,
            kept_offline: false,
            by_hand: None,
        };
        assert_eq!(guard.record_passage(exit.id, &shown).await.unwrap().decision, Decision::Pass);
        let logged = guard.logged_passage(exit.id, out.id).await.unwrap().unwrap();
        assert_eq!((logged.decision.as_str(), logged.reasons.as_str()), ("refuse", "no_recent_test"));

        let day = guard.passages_today(gate.id).await.unwrap();
        assert_eq!((day.passed, day.registered, day.refused, day.recent.len()), (0, 3, 1, 4));
        assert_eq!(day.recent[0].id_number, "11010519491231002X", "newest first");
        // Only checkpoint officers log passages; a township's own checkpoints only.
        let ask = PassageAsk {
            id_number: id(2),
            plate: None,
            direction: Direction::In,
            medical_exit: false,
            negative_certificate: false,
            client_id: None,
            passed_at: None,
            kept_offline: false,
            by_hand: None,
        };
        assert!(matches!(tracer.record_passage(gate.id, &ask).await, Err(StoreError::Forbidden(_))));
        let other = as_user(&store, "guard2", Role::CheckpointOfficer, "140121101").await;
        assert!(matches!(other.record_passage(gate.id, &ask).await, Err(StoreError::Forbidden(_))));
        assert_eq!(guard.checkpoints().await.unwrap().len(), 2);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn an_arrival_is_registered_and_observed_a_resent_passage_is_logged_once_and_shifts_are_kept() {
    use cordon_domain::checkpoints::OriginRisk;
    use cordon_domain::health_code::{Colour, ReasonCode};
    use cordon_domain::observation::Status;
    use cordon_store::checkpoints::{NewArrival, NewShift};
    for (s, store) in each_backend("arrivals").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let guard = as_user(&store, "guard", Role::CheckpointOfficer, "140121").await;
        let cp = chief
            .create_checkpoint(&NewCheckpoint {
                name: "清徐收费站".into(),
                kind: CheckpointKind::HighwayExit,
                area_code: code("140121100"),
                zone_id: None,
                leaves_county: true,
            })
            .await
            .unwrap();
        let ask = |number: &str, client: Option<&str>| PassageAsk {
            id_number: number.into(),
            plate: Some("京A·12345".into()),
            direction: Direction::In,
            medical_exit: false,
            negative_certificate: false,
            client_id: client.map(str::to_string),
            passed_at: None,
            kept_offline: false,
            by_hand: None,
        };
        let visitor = |y, n| {
            cordon_domain::ResidentId::from_parts("110105", chrono::NaiveDate::from_ymd_opt(y, 3, 2).unwrap(), n).unwrap().to_string()
        };
        // Sent twice from a phone that lost its signal: logged once, answered as decided.
        let first = guard.record_passage(cp.id, &ask(&visitor(1985, 7), Some("phone-1"))).await.unwrap();
        let again = guard.record_passage(cp.id, &ask(&visitor(1985, 7), Some("phone-1"))).await.unwrap();
        assert_eq!((first.decision, first.reasons[0].code), (Decision::Register, DecisionCode::NotInRegister), "{:?}", s.kind);
        assert_eq!((again.id, again.decision), (first.id, Decision::Register));
        assert_eq!(guard.passages_today(cp.id).await.unwrap().recent.len(), 1);
        assert_eq!(
            guard.record_passage(cp.id, &ask(&visitor(1985, 8), Some("phone-1"))).await.refused().kind,
            "refused.checkpoint.client_id_reused",
            "one phone id, another person"
        );

        // Kept on a phone since yesterday (30 hours, whatever the hour now, so that today's counts
        // below hold): logged at the time the person passed, received now; two days and more
        // back, or ahead of now, refused and nothing logged.
        let kept_since = chrono::Utc::now() - chrono::Duration::hours(30);
        // The officer let them through by hand (the rules say: register first — no refusal, so
        // the two agree); an officer's decision sent with a passage decided online is refused.
        let kept = PassageAsk {
            passed_at: Some(kept_since),
            kept_offline: true,
            by_hand: Some(Decision::Pass),
            ..ask(&visitor(1990, 3), Some("phone-2"))
        };
        let late = guard.record_passage(cp.id, &kept).await.unwrap();
        assert_eq!((late.passed_at.timestamp(), late.by_hand), (kept_since.timestamp(), Some(Decision::Pass)));
        let again = guard.record_passage(cp.id, &kept).await.unwrap();
        assert_eq!((again.id, again.by_hand), (late.id, Some(Decision::Pass)), "sent again, answered as logged");
        let logged = guard.passages_today(cp.id).await.unwrap().recent;
        let row = logged.iter().find(|r| r.id_number == visitor(1990, 3)).unwrap();
        assert_eq!(row.passed_at.timestamp(), kept_since.timestamp());
        assert!(row.received_at.is_some_and(|r| r > row.passed_at + chrono::Duration::minutes(30 * 60 - 1)), "{row:?}");
        assert_eq!((row.decision.as_str(), row.by_hand.as_deref()), ("register", Some("pass")));
        // Turned back by hand whom the rules let through: counted as differing (the one let
        // through above agrees).
        let turned_back = PassageAsk { by_hand: Some(Decision::Refuse), ..PassageAsk { passed_at: None, ..kept.clone() } };
        let turned_back = PassageAsk { client_id: Some("phone-5".into()), id_number: visitor(1990, 6), ..turned_back };
        guard.record_passage(cp.id, &turned_back).await.unwrap();
        let day = guard.passages_today(cp.id).await.unwrap();
        assert_eq!(day.differs, 1, "{:?}", s.kind);
        let flagged: Vec<bool> =
            [visitor(1990, 3), visitor(1990, 6)].iter().map(|n| day.recent.iter().find(|r| &r.id_number == n).unwrap().differs).collect();
        assert_eq!(flagged, [false, true], "each logged passage says whether it parts from the rules");
        let online = logged.iter().find(|r| r.id_number == visitor(1985, 7)).unwrap();
        assert!(online.received_at.is_none() && online.by_hand.is_none(), "logged as it happened");
        let by_hand_online = PassageAsk { by_hand: Some(Decision::Refuse), ..ask(&visitor(1990, 5), Some("phone-4")) };
        assert_eq!(guard.record_passage(cp.id, &by_hand_online).await.refused().kind, "refused.checkpoint.by_hand_online");
        let stale =
            PassageAsk { passed_at: Some(chrono::Utc::now() - chrono::Duration::hours(49)), ..ask(&visitor(1990, 4), Some("phone-3")) };
        assert_eq!(guard.record_passage(cp.id, &stale).await.refused().kind, "refused.checkpoint.passed_too_early");
        let ahead = PassageAsk { passed_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)), ..ask(&visitor(1990, 4), None) };
        assert_eq!(guard.record_passage(cp.id, &ahead).await.refused().kind, "refused.checkpoint.passed_later");
        assert_eq!(guard.passages_today(cp.id).await.unwrap().recent.len(), 3);

        // Registered on the spot: from a medium-risk area, so observed at home as the rules say.
        let arrival = |name: &str, risk| NewArrival {
            name: name.into(),
            phone: Some("13900000000".into()),
            from_place: "北京市朝阳区".into(),
            from_risk: risk,
            area_code: code("140121100201"),
            address: Some("东关村12号".into()),
        };
        let a = guard.register_arrival(cp.id, first.id, &arrival("赵六", OriginRisk::Medium)).await.unwrap();
        assert_eq!(a.order.map(|(_, s)| s), Some(Status::AwaitingHome));
        let code = chief.health_code(a.person_id).await.unwrap();
        assert_eq!((code.colour, code.reasons[0].code), (Colour::Yellow, ReasonCode::HomeMonitoring));
        assert_eq!(
            guard.register_arrival(cp.id, first.id, &arrival("赵六", OriginRisk::Medium)).await.refused().kind,
            "refused.arrival.not_an_arrival",
            "registered once"
        );
        let logged = guard.logged_passage(cp.id, first.id).await.unwrap().unwrap();
        assert_eq!((logged.name.as_deref(), logged.arrival), (Some("赵六"), true));
        // A passport is not registered here (the port's closed loop takes people from abroad);
        // a low-risk arrival is registered with no order.
        let foreign = guard.record_passage(cp.id, &ask("E12345678", None)).await.unwrap();
        assert_eq!(
            guard.register_arrival(cp.id, foreign.id, &arrival("John", OriginRisk::Low)).await.refused().kind,
            "refused.arrival.resident_id_only"
        );
        let low = guard.record_passage(cp.id, &ask(&visitor(1990, 8), None)).await.unwrap();
        // Only a village or community is a place to register someone at.
        let mut town = arrival("钱七", OriginRisk::Low);
        town.area_code = super::code("140121100");
        assert_eq!(guard.register_arrival(cp.id, low.id, &town).await.refused().kind, "refused.register_needs_village");
        let registered = guard.register_arrival(cp.id, low.id, &arrival("钱七", OriginRisk::Low)).await.unwrap();
        assert!(registered.order.is_none());
        let hours = guard.passages_by_hour(cp.id).await.unwrap();
        assert_eq!(
            (hours.hours.iter().map(|h| h.1 + h.2 + h.3).sum::<i64>(), hours.arrivals),
            (4, 2),
            "the three logged as they happened and the one turned back by hand"
        );
        use chrono::Timelike;
        let local_hour = chrono::Utc::now().with_timezone(&cordon_domain::local_offset()).hour();
        assert!(hours.hours.iter().all(|h| h.0 == local_hour || (h.0 + 1) % 24 == local_hour), "by the local hour: {:?}", hours.hours);

        // The roster: a lead and at most a day.
        let now = chrono::Utc::now();
        let shift = |lead: &str, hours: i64| NewShift {
            starts_at: now - chrono::Duration::hours(1),
            ends_at: now + chrono::Duration::hours(hours - 1),
            lead: lead.into(),
            phone: None,
            staff: "张三，李四".into(),
        };
        guard.add_shift(cp.id, &shift("王队长", 8)).await.unwrap();
        assert_eq!(guard.add_shift(cp.id, &shift("王队长", 25)).await.refused().kind, "refused.shift.too_long");
        assert_eq!(guard.add_shift(cp.id, &shift(" ", 8)).await.refused().kind, "refused.shift.no_lead");
        let shifts = chief.shifts(cp.id).await.unwrap();
        assert_eq!((shifts.len(), shifts[0].lead.as_str()), (1, "王队长"));
        // One team at a time: the next shift may take over with an hour's handover, not more.
        let at = |from: i64, to: i64, lead: &str| NewShift {
            starts_at: now + chrono::Duration::hours(from),
            ends_at: now + chrono::Duration::hours(to),
            ..shift(lead, 8)
        };
        let over = guard.add_shift(cp.id, &at(5, 13, "李队长")).await.refused();
        assert_eq!((over.kind, over.arg("lead")), ("refused.shift.overlaps", Some("王队长")));
        let next = guard.add_shift(cp.id, &at(6, 14, "李队长")).await.unwrap();
        // Typed wrong: taken off the roster, audited; an ended shift stays as the record.
        let removed = guard.remove_shift(cp.id, next.id).await.unwrap();
        assert_eq!(removed.lead, "李队长");
        assert_eq!(guard.remove_shift(cp.id, next.id).await.refused().kind, "refused.shift.none");
        assert_eq!(chief.shifts(cp.id).await.unwrap().len(), 1);
        let ended = guard
            .add_shift(
                cp.id,
                &NewShift {
                    starts_at: now - chrono::Duration::hours(10), ends_at: now - chrono::Duration::hours(2), ..shift("赵队长", 8)
                },
            )
            .await
            .unwrap();
        assert_eq!(guard.remove_shift(cp.id, ended.id).await.refused().kind, "refused.shift.ended");
        // The team on duty relieved early: its shift ends now and stays on the roster.
        let relieved = guard.remove_shift(cp.id, shifts[0].id).await.unwrap();
        let kept = chief.shifts(cp.id).await.unwrap();
        let kept = kept.iter().find(|k| k.id == relieved.id).expect("kept on the roster");
        assert!(kept.ends_at <= chrono::Utc::now() && kept.ends_at > now, "ended now: {kept:?}");
        let officer = as_user(&store, "xugou_guard", Role::CheckpointOfficer, "140121101").await;
        assert!(matches!(officer.remove_shift(cp.id, ended.id).await, Err(cordon_store::StoreError::Forbidden(_))));
        let events = store
            .audit_events(&cordon_store::audit::AuditFilter { entity: Some("checkpoint".into()), ..Default::default() }, 20)
            .await
            .unwrap();
        assert!(events.iter().any(|e| e.action == "remove_shift"), "{events:?}");
        s.finish(store).await.unwrap();
    }
}
