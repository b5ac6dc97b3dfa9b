//! Health codes derived from the records, on both backends.

use chrono::Utc;
use cordon_domain::access::Role;
use cordon_domain::cases::exposure::ExposureKind;
use cordon_domain::health_code::{Colour, ReasonCode};
use cordon_domain::zones::{Ask, ZoneKind};
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
            drawn_at: None,
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
            set_at: Utc::now(),
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

#[tokio::test]
async fn codes_are_stored_kept_current_and_counted_with_every_change_of_colour_kept() {
    for (s, store) in each_backend("stored_codes").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let ids = store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap();
        let p = |n: u32| ids[&id(n)];
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let county = code_of("140121");
        let totals = |counts: &[cordon_store::health_codes::ColourCount]| {
            counts.iter().fold((0, 0, 0), |(r, y, g), c| (r + c.red, y + c.yellow, g + c.green))
        };

        // The first refresh derives everyone once: all green, counted per township.
        assert_eq!(store.refresh_codes(Utc::now()).await.unwrap(), 12, "{:?}", s.kind);
        assert_eq!(store.refresh_codes(Utc::now()).await.unwrap(), 0, "nothing left to derive");
        assert_eq!(totals(&chief.code_counts(&county).await.unwrap()), (0, 0, 12));

        // Sealing 东关村 derives its people again in the act: red, stored, counted, kept in history.
        let zone = NewZone {
            kind: ZoneKind::Sealed,
            name: String::new(),
            reason: "清徐-1 住所".into(),
            extent: Extent { areas: vec![code_of("140121100201")], ..Default::default() },
            drawn_at: None,
        };
        chief.designate_zone(&zone).await.unwrap();
        let village = code_of("140121100201");
        let red = chief.coded_people(&village, Colour::Red, None, 50).await.unwrap().0;
        assert!(!red.is_empty() && red.iter().all(|c| c.code.reasons[0].code == ReasonCode::SealedZone), "{red:?}");
        let (reds, _, greens) = totals(&chief.code_counts(&county).await.unwrap());
        assert_eq!((reds as usize, reds + greens), (red.len(), 12));
        assert_eq!(red.len(), 4, "persons 0, 1, 8 and 9 live in 东关村");
        let first = red[0].person_id;
        let history = chief.code_changes(first).await.unwrap();
        assert_eq!((history.len(), history[0].from, history[0].to), (1, Colour::Green, Colour::Red));
        // Paged by key: a page of one, then the next.
        let (one, key) = chief.coded_people(&village, Colour::Red, None, 1).await.unwrap();
        assert_eq!(one[0], red[0]);
        let (next, last) = chief.coded_people(&village, Colour::Red, key.as_ref(), 50).await.unwrap();
        assert_eq!((next.len(), last), (red.len() - 1, None));

        // A case made for a green person marks them: read live at once (red), stored on refresh.
        let green = (0..12).map(p).find(|id| red.iter().all(|c| c.person_id != *id)).unwrap();
        let mut case = super::cases::new_case("140121101201", "清徐-9", vec![], 13);
        case.person_id = Some(green);
        tracer.create_case(case).await.unwrap();
        assert_eq!(chief.health_code(green).await.unwrap().colour, Colour::Red, "read from the records while marked");
        let (before, _, _) = totals(&chief.code_counts(&county).await.unwrap());
        assert_eq!(before, reds, "not yet stored");
        assert!(store.refresh_codes(Utc::now()).await.unwrap() >= 1);
        assert_eq!(totals(&chief.code_counts(&county).await.unwrap()).0, reds + 1);
        assert_eq!(chief.code_changes(green).await.unwrap()[0].code.reasons[0].code, ReasonCode::Case);

        // Tightening a controlled zone over 西关村 turns its people from yellow to red.
        let west = NewZone {
            kind: ZoneKind::Controlled,
            name: String::new(),
            reason: "密接住所".into(),
            extent: Extent { areas: vec![code_of("140121100202")], ..Default::default() },
            drawn_at: None,
        };
        let drawn = chief.designate_zone(&west).await.unwrap();
        let yellow = chief.coded_people(&code_of("140121100202"), Colour::Yellow, None, 50).await.unwrap().0;
        assert!(!yellow.is_empty());
        chief.act_on_zone(drawn.id, Ask::Tighten(ZoneKind::Sealed), "又检出阳性", Some(drawn.changed_at)).await.unwrap();
        assert!(chief.coded_people(&code_of("140121100202"), Colour::Yellow, None, 50).await.unwrap().0.is_empty());
        let now_red = chief.coded_people(&code_of("140121100202"), Colour::Red, None, 50).await.unwrap().0;
        assert_eq!(now_red.len(), yellow.len() + 1, "with the case, who was red already");
        let changes = chief.code_changes(yellow[0].person_id).await.unwrap();
        assert_eq!(
            changes.iter().map(|c| (c.from, c.to)).collect::<Vec<_>>(),
            [(Colour::Yellow, Colour::Red), (Colour::Green, Colour::Yellow)]
        );

        // An override is stored at once, and only its person's code: a case made meanwhile for
        // someone else waits for the refresh (the override does not wait for every mark).
        let (r0, y0, g0) = totals(&chief.code_counts(&county).await.unwrap());
        let greens: Vec<i64> = chief.coded_people(&county, Colour::Green, None, 50).await.unwrap().0.iter().map(|c| c.person_id).collect();
        assert!(greens.len() >= 2, "{greens:?}");
        let mut case = super::cases::new_case("140121101201", "清徐-10", vec![], 13);
        case.person_id = Some(greens[0]);
        tracer.create_case(case).await.unwrap();
        let over = cordon_domain::health_code::Override {
            colour: Colour::Yellow,
            reason: "外地协查，待核实".into(),
            until: Utc::now() + chrono::Duration::days(2),
            set_at: Utc::now(),
        };
        chief.override_code(greens[1], &over).await.unwrap();
        assert_eq!(
            totals(&chief.code_counts(&county).await.unwrap()),
            (r0, y0 + 1, g0 - 1),
            "{:?}: the override stored, the case not yet",
            s.kind
        );
        store.refresh_codes(Utc::now()).await.unwrap();
        assert_eq!(totals(&chief.code_counts(&county).await.unwrap()), (r0 + 1, y0 + 1, g0 - 2), "{:?}", s.kind);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_round_missed_turns_a_code_yellow_and_a_late_sample_or_an_exemption_clears_it() {
    use cordon_domain::Barcode;
    use cordon_domain::testing::exemption::ExemptionReason;
    use cordon_domain::testing::pooling::{PoolPolicy, SamplingGroup};
    use cordon_store::testing::{NewRound, NewSite};
    for (s, store) in each_backend("missed_codes").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let ids = store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap();
        let p = |n: u32| ids[&id(n)];
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121100").await;
        while store.refresh_codes(Utc::now()).await.unwrap() > 0 {}
        let now = Utc::now();
        // A round over 清源镇 (people 0–3 and 8–11) that ended an hour ago; person 1 was away.
        let round = chief
            .create_round(NewRound {
                name: "第三轮".into(),
                starts_at: now - chrono::Duration::days(1),
                target_end_at: Some(now - chrono::Duration::hours(1)),
                areas: vec![(code_of("140121100"), None)],
                policy: PoolPolicy::default(),
            })
            .await
            .unwrap();
        officer.exempt(round.id, p(1), ExemptionReason::Away, None).await.unwrap();
        store.refresh_codes(Utc::now()).await.unwrap();
        let town = code_of("140121100");
        let yellow = |store: &cordon_store::Store| {
            let chief = &chief;
            let town = &town;
            let _ = store;
            async move { chief.coded_people(town, Colour::Yellow, None, 50).await.unwrap().0 }
        };
        let missed = yellow(&store).await;
        assert_eq!(missed.len(), 7, "{:?}: everyone of the town but the one away", s.kind);
        assert_eq!(missed[0].code.reasons[0].code, ReasonCode::OverdueTest);
        assert_eq!(missed[0].code.reasons[0].zh, "未参加第三轮核酸检测");
        assert!(missed.iter().all(|m| m.person_id != p(1)));
        let counted: i64 = chief.code_counts(&town).await.unwrap().iter().map(|c| c.yellow).sum();
        assert_eq!(counted, 7);

        // Person 0 sampled late: their code clears; person 1's exemption undone: theirs turns yellow.
        let site = officer
            .create_site(NewSite {
                round_id: round.id,
                area_code: code_of("140121100201"),
                name: "东关1号点".into(),
                address: "村委会".into(),
                stations: 1,
            })
            .await
            .unwrap();
        let tube = Barcode::parse("QX00000101").unwrap();
        officer.open_tube(round.id, site.id, &tube, SamplingGroup::Resident, None).await.unwrap();
        officer.scan(round.id, &tube, p(0), None).await.unwrap();
        assert!(officer.unexempt(round.id, p(1)).await.unwrap());
        assert_eq!(chief.health_code(p(0)).await.unwrap().colour, Colour::Green, "read live while marked");
        store.refresh_codes(Utc::now()).await.unwrap();
        let missed = yellow(&store).await;
        assert!(missed.iter().all(|m| m.person_id != p(0)) && missed.iter().any(|m| m.person_id == p(1)), "{missed:?}");
        assert_eq!(missed.len(), 7);
        assert_eq!(chief.code_changes(p(0)).await.unwrap()[0].to, Colour::Green);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn many_people_at_once_take_their_strictest_zone_as_a_few_do() {
    for (s, store) in each_backend("codes_many").await {
        seed_areas(&store).await;
        // Enough people that one pass matches each zone's residents at once.
        import_persons(&store, Cursor::new(people_csv(2_400).into_bytes()), &mut Collect::default()).await.unwrap();
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        // The township controlled, one of its villages sealed inside it; everyone derived at once.
        chief.designate_zone(&draw(ZoneKind::Controlled, "140121100")).await.unwrap();
        chief.designate_zone(&draw(ZoneKind::Sealed, "140121100201")).await.unwrap();
        while store.refresh_codes(Utc::now()).await.unwrap() > 0 {}
        let counts = chief.code_counts(&code_of("140121100")).await.unwrap();
        let village = |code: &str| counts.iter().find(|c| c.area_code == code).cloned().unwrap();
        assert_eq!((village("140121100201").red, village("140121100201").yellow), (600, 0), "{:?}", s.kind);
        assert_eq!((village("140121100202").red, village("140121100202").yellow), (0, 600));
        // The whole county controlled after: its 2,400 residents come with that zone, and the
        // sealed village, stricter, keeps its red; the other township turns yellow.
        chief.designate_zone(&draw(ZoneKind::Controlled, "140121")).await.unwrap();
        let counts = chief.code_counts(&code_of("140121")).await.unwrap();
        let town = |code: &str| counts.iter().find(|c| c.area_code == code).cloned().unwrap();
        assert_eq!((town("140121100").red, town("140121100").yellow, town("140121101").yellow), (600, 600, 1200), "{:?}", s.kind);
        // A few people marked again find the same zones from their own places.
        let ids = store.person_ids_by_documents(&[id(0), id(2)]).await.unwrap();
        for n in [0, 2] {
            let person = ids[&id(n)];
            let before = chief.health_code(person).await.unwrap();
            chief
                .override_code(
                    person,
                    &cordon_domain::health_code::Override {
                        colour: Colour::Green,
                        reason: "核查".into(),
                        until: Utc::now() + chrono::Duration::seconds(2),
                        set_at: Utc::now(),
                    },
                )
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            store.refresh_codes(Utc::now()).await.unwrap();
            assert_eq!(chief.health_code(person).await.unwrap(), before, "person {n}");
        }
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_code_is_never_read_stale_while_its_zone_awaits_the_refresh() {
    for (s, store) in each_backend("codes_zone_pending").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(8).into_bytes()), &mut Collect::default()).await.unwrap();
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let zone = chief
            .designate_zone(&NewZone {
                kind: ZoneKind::Sealed,
                name: String::new(),
                reason: "演练".into(),
                extent: Extent { areas: vec![code_of("140121100201")], ..Default::default() },
                drawn_at: None,
            })
            .await
            .unwrap();
        let person = store.person_ids_by_documents(&[id(0)]).await.unwrap()[&id(0)];
        assert_eq!(chief.health_code(person).await.unwrap().colour, Colour::Red);
        // The zone lifted by an act whose refresh has not run yet (a county's worth is derived in
        // the background): the stored code is red, but the person reads green at once.
        let sql = format!(
            "UPDATE zones SET lifted_at = CURRENT_TIMESTAMP WHERE id = {id}; INSERT INTO code_dirty_zones (zone_id) VALUES ({id})",
            id = zone.id
        );
        for statement in sql.split("; ") {
            raw(&s, statement).await.unwrap();
        }
        assert_eq!(chief.health_code(person).await.unwrap().colour, Colour::Green, "{:?}", s.kind);
        let scanned = store.person_ids_by_documents(&[id(0)]).await.unwrap();
        assert_eq!(scanned[&id(0)], person);
        let officer = as_user(&store, "gate", Role::CheckpointOfficer, "140121").await;
        assert_eq!(officer.health_code_by_id_number(&id(0)).await.unwrap().unwrap().1.colour, Colour::Green);
        // Derived and stored by the refresh; the mark is gone.
        store.refresh_codes(Utc::now()).await.unwrap();
        assert_eq!(chief.code_counts(&code_of("140121100")).await.unwrap().iter().map(|c| c.red).sum::<i64>(), 0);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn zones_awaiting_the_refresh_together_leave_every_code_as_the_records_give_it() {
    for (s, store) in each_backend("codes_zones_pending_many").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(2_400).into_bytes()), &mut Collect::default()).await.unwrap();
        while store.refresh_codes(Utc::now()).await.unwrap() > 0 {}
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let village = chief.designate_zone(&draw(ZoneKind::Sealed, "140121100201")).await.unwrap();
        let township = chief.designate_zone(&draw(ZoneKind::Controlled, "140121100")).await.unwrap();
        let county = chief.designate_zone(&draw(ZoneKind::Controlled, "140121")).await.unwrap();
        // Acts whose refreshes have not run: the village lifted, the township and the county
        // marked again, one person marked on their own; then one refresh takes them all.
        for statement in [
            format!("UPDATE zones SET lifted_at = CURRENT_TIMESTAMP WHERE id = {}", village.id),
            format!("INSERT INTO code_dirty_zones (zone_id) VALUES ({})", county.id),
            format!("INSERT INTO code_dirty_zones (zone_id) VALUES ({})", village.id),
            format!("INSERT INTO code_dirty_zones (zone_id) VALUES ({})", township.id),
        ] {
            raw(&s, &statement).await.unwrap();
        }
        let ids = store.person_ids_by_documents(&(0..2_400).step_by(97).map(id).collect::<Vec<_>>()).await.unwrap();
        let first = ids[&id(0)];
        raw(&s, &format!("INSERT INTO code_dirty (person_id) VALUES ({first})")).await.unwrap();
        while store.refresh_codes(Utc::now()).await.unwrap() > 0 {}
        // Every code stored is the one the records give, and no mark is left.
        let today = cordon_domain::local_date(Utc::now());
        for person in ids.values() {
            let stored = chief.health_code(*person).await.unwrap();
            let live = cordon_domain::health_code::derive(&store.code_facts(*person, Utc::now()).await.unwrap(), today);
            assert_eq!(stored, live, "{:?}: person {person}", s.kind);
        }
        let counts = chief.code_counts(&code_of("140121")).await.unwrap();
        let town = |code: &str| counts.iter().find(|c| c.area_code == code).cloned().unwrap();
        // The township's controlled zone is older than the county's: its people say so.
        assert_eq!((town("140121100").red, town("140121100").yellow, town("140121101").yellow), (0, 1200, 1200), "{:?}", s.kind);
        let reasons = chief.health_code(first).await.unwrap().reasons;
        assert!(reasons[0].zh.contains(&township.name), "{reasons:?}");
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_zone_act_derives_its_own_people_and_leaves_other_acts_marks_to_the_background() {
    for (s, store) in each_backend("codes_act_own_mark").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(200).into_bytes()), &mut Collect::default()).await.unwrap();
        while store.refresh_codes(Utc::now()).await.unwrap() > 0 {}
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        // Another act's mark not yet taken: the county controlled, its refresh pending (a
        // county's worth is derived in the background).
        let county = chief.designate_zone(&draw(ZoneKind::Controlled, "140121")).await.unwrap();
        raw(&s, &format!("INSERT INTO code_dirty_zones (zone_id) VALUES ({})", county.id)).await.unwrap();
        // A village sealed: its own residents are derived and counted at once; the county's mark
        // is left to the background refresh, not taken inside the village's request.
        let village = chief.designate_zone(&draw(ZoneKind::Sealed, "140121100201")).await.unwrap();
        let pending = |zone: i64| {
            let (s, sql) = (&s, format!("SELECT COUNT(*) FROM code_dirty_zones WHERE zone_id = {zone}"));
            async move { raw_count(s, &sql).await }
        };
        assert_eq!((pending(county.id).await, pending(village.id).await), (1, 0), "{:?}", s.kind);
        let counts = chief.code_counts(&code_of("140121100")).await.unwrap();
        let red = counts.iter().find(|c| c.area_code == "140121100201").map(|c| c.red);
        assert_eq!(red, Some(village.residents), "{:?}", s.kind);
        // The background refresh takes the rest; every code reads as the records give it.
        while store.refresh_codes(Utc::now()).await.unwrap() > 0 {}
        assert_eq!(pending(county.id).await, 0);
        let counts = chief.code_counts(&code_of("140121100")).await.unwrap();
        let village_row = counts.iter().find(|c| c.area_code == "140121100201").unwrap();
        assert_eq!((village_row.red, village_row.yellow), (50, 0), "{:?}", s.kind);
        s.finish(store).await.unwrap();
    }
}

/// A drill zone of `kind` over one area.
fn draw(kind: ZoneKind, area: &str) -> NewZone {
    NewZone {
        kind,
        name: String::new(),
        reason: "演练".into(),
        extent: Extent { areas: vec![code_of(area)], ..Default::default() },
        drawn_at: None,
    }
}

fn code_of(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}
