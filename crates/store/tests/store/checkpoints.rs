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
            let ask =
                PassageAsk { id_number: n.to_string(), plate: None, direction: Direction::Out, medical_exit, negative_certificate: false };
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
        let arrival = pass(gate.id, "110105194912310021", false).await;
        assert_eq!(
            (arrival.decision, arrival.reasons[0].code, arrival.person.is_none()),
            (Decision::Register, DecisionCode::NotInRegister, true)
        );
        // Leaving the county while it is in precaution needs a negative test in 48 hours.
        let out = pass(exit.id, &id(2), false).await;
        assert_eq!((out.decision, out.reasons[0].code), (Decision::Refuse, DecisionCode::NoRecentTest));
        // A certificate from a test elsewhere, shown at the booth, does.
        let shown =
            PassageAsk { id_number: id(2), plate: None, direction: Direction::Out, medical_exit: false, negative_certificate: true };
        assert_eq!(guard.record_passage(exit.id, &shown).await.unwrap().decision, Decision::Pass);
        let logged = guard.logged_passage(exit.id, out.id).await.unwrap().unwrap();
        assert_eq!((logged.decision.as_str(), logged.reasons.as_str()), ("refuse", "no_recent_test"));

        let day = guard.passages_today(gate.id).await.unwrap();
        assert_eq!((day.passed, day.registered, day.refused, day.recent.len()), (0, 3, 1, 4));
        assert_eq!(day.recent[0].3, "110105194912310021", "newest first");
        // Only checkpoint officers log passages; a township's own checkpoints only.
        let ask = PassageAsk { id_number: id(2), plate: None, direction: Direction::In, medical_exit: false, negative_certificate: false };
        assert!(matches!(tracer.record_passage(gate.id, &ask).await, Err(StoreError::Forbidden(_))));
        let other = as_user(&store, "guard2", Role::CheckpointOfficer, "140121101").await;
        assert!(matches!(other.record_passage(gate.id, &ask).await, Err(StoreError::Forbidden(_))));
        assert_eq!(guard.checkpoints().await.unwrap().len(), 2);
        s.finish(store).await.unwrap();
    }
}
