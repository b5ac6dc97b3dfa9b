//! Health codes derived from the records, on both backends.

use chrono::Utc;
use cordon_domain::access::Role;
use cordon_domain::cases::exposure::ExposureKind;
use cordon_domain::health_code::{Colour, ReasonCode};
use cordon_domain::zones::ZoneKind;
use cordon_store::StoreError;
use cordon_store::exposures::NewExposure;
use cordon_store::zones::{Extent, NewZone};

use super::testing_rounds::as_user;
use super::*;

#[tokio::test]
async fn a_code_turns_red_for_a_sealed_zone_a_case_and_a_close_contact_with_its_reasons() {
    for (s, store) in each_backend("health_codes").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let ids = store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap();
        let p = |n: u32| ids[&id(n)];
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let guard = as_user(&store, "guard", Role::CheckpointOfficer, "140121101").await;
        let other = as_user(&store, "other", Role::Investigator, "140121101").await;
        let code = |n: u32| {
            let chief = &chief;
            async move { chief.health_code(p(n)).await.unwrap() }
        };
        assert_eq!(code(0).await.colour, Colour::Green, "{:?}", s.kind);

        // 东关村 sealed: its people red, saying where and since when; 西关村 stays green.
        let zone = NewZone {
            kind: ZoneKind::Sealed,
            name: String::new(),
            reason: "清徐-1 住所".into(),
            extent: Extent { areas: vec![code_of("140121100201")], ..Default::default() },
        };
        chief.designate_zone(&zone).await.unwrap();
        let sealed = code(0).await;
        assert_eq!((sealed.colour, sealed.reasons[0].code), (Colour::Red, ReasonCode::SealedZone));
        assert_eq!(sealed.reasons[0].zh, "居住在高风险区东关村");
        assert_eq!(code(2).await.colour, Colour::Green);

        // Person 4 (北关村) a case; person 6 met them and is handed over as a close contact.
        let mut case = super::cases::new_case("140121101201", "清徐-1", vec![], 13);
        case.person_id = Some(p(4));
        let case = tracer.create_case(case).await.unwrap();
        assert_eq!(code(4).await.reasons[0].zh, "病例清徐-1，治疗中");
        let met = Utc::now() - chrono::Duration::days(1);
        let exposure =
            NewExposure { contact_person_id: p(6), kind: ExposureKind::Meal, degree: None, first_at: None, last_at: Some(met), note: None };
        tracer.record_exposures(case.id, &[exposure]).await.unwrap();
        for c in tracer.contacts(case.id).await.unwrap().iter().filter(|c| c.status.as_str() == "proposed") {
            tracer.decide_exposures(case.id, &c.exposure_ids, true).await.unwrap();
        }
        tracer.hand_over(case.id, &[p(6)]).await.unwrap();
        let contact = code(6).await;
        assert_eq!((contact.colour, contact.reasons[0].code), (Colour::Red, ReasonCode::CloseContact), "{contact:?}");
        assert!(contact.reasons[0].zh.starts_with("密切接触者，隔离医学观察至"), "{}", contact.reasons[0].zh);

        // A checkpoint of the other township scans person 0's id card; an investigator there may
        // not read them.
        let (person, scanned) = guard.health_code_by_id_number(&id(0)).await.unwrap().unwrap();
        assert_eq!((person.id, scanned.colour), (p(0), Colour::Red));
        assert_eq!(scanned.reasons[0].zh, "封控区（高风险区）", "from elsewhere: the kind of reason, not the details");
        assert!(guard.health_code_by_id_number("110105194912310021").await.unwrap().is_none(), "not in the register");
        assert!(matches!(other.health_code_by_id_number(&id(0)).await, Err(StoreError::Forbidden(_))));

        // The commander sets person 2's code by hand: a reason and a near expiry, or nothing.
        use cordon_domain::health_code::Override;
        let over = |reason: &str, days: i64| Override {
            colour: Colour::Yellow,
            reason: reason.into(),
            until: Utc::now() + chrono::Duration::days(days),
        };
        assert_eq!(chief.override_code(p(2), &over(" ", 3)).await.refused().kind, "refused.code.no_reason");
        assert_eq!(chief.override_code(p(2), &over("核查中", 30)).await.refused().kind, "refused.code.bad_expiry");
        assert!(matches!(guard.override_code(p(2), &over("核查中", 3)).await, Err(StoreError::Forbidden(_))));
        assert_eq!(code(2).await.colour, Colour::Green, "nothing changed");
        let set = chief.override_code(p(2), &over("外地协查，待核实", 3)).await.unwrap();
        assert_eq!((set.colour, set.reasons[0].code), (Colour::Yellow, ReasonCode::Override));
        assert!(set.reasons[0].zh.starts_with("人工赋码：外地协查，待核实"), "{}", set.reasons[0].zh);
        assert_eq!(code(2).await.colour, Colour::Yellow);
        let events = store
            .audit_events(&cordon_store::audit::AuditFilter { entity: Some("health_code".into()), ..Default::default() }, 10)
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        s.finish(store).await.unwrap();
    }
}

fn code_of(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}
