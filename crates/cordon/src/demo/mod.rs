//! `cordon demo`: a populated county in an empty database, so a newcomer sees the platform working.

pub mod boundaries;
pub mod checkpoints;
pub mod command;
pub mod county;
pub mod names;
pub mod outbreak;
pub mod quarantine;
pub mod replay;
pub mod rng;
pub mod support;
pub mod zones;

use std::time::Instant;

use anyhow::{Context, Result, bail};
use cordon_store::{Store, Table};

/// Residents of the demo county (Qingxu had about 340,000 in 2020).
pub const DEMO_POPULATION: u32 = 350_000;

pub struct Loaded {
    pub areas: usize,
    pub households: usize,
    pub people: u64,
    pub seconds: f64,
}

/// Whether the database holds areas or people already (the demo fills only an empty one).
pub async fn holds_data(store: &Store) -> Result<bool> {
    Ok(store.count(Table::Areas).await? > 0 || store.count(Table::Persons).await? > 0)
}

/// What `cordon demo` says when the database holds a demo already: it is served as it is, and
/// here is how to get in again, since its passwords were printed only when it was made.
pub fn already_there(database: &str) -> String {
    let db = if database == crate::DEFAULT_DATABASE { String::new() } else { format!(" --database {database}") };
    format!(
        "This database already holds data (a demo made earlier?); it is served as it is.\n\
         Its demo accounts' passwords were printed only when it was made. To get in again:\n\
         \x20 - give an account a new password (10+ characters, letters and digits), for example\n\
         \x20     echo 'Qingxu-2022-0413' | cordon user password demo_commander --password-stdin{db}\n\
         \x20   (the accounts are demo_commander, demo_investigator, demo_testing_officer, demo_lab, …;\n\
         \x20   `cordon user list{db}` lists them), or\n\
         \x20 - start over with new passwords: cordon demo --reset{db}"
    )
}

/// Deletes a SQLite demo database so that `demo` starts over; refuses PostgreSQL.
pub fn reset(database: &str) -> Result<()> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        bail!("--reset deletes a SQLite file only; drop and create the PostgreSQL database yourself, then run `cordon demo` again");
    }
    let path = cordon_store::sqlite_path(database);
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => eprintln!("removed {}", file.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", file.display())),
        }
    }
    Ok(())
}

/// Generates the county for `seed` and stores it. Refuses a database that already holds data.
pub async fn load(store: &Store, seed: u64, population: u32) -> Result<Loaded> {
    if holds_data(store).await? {
        bail!("the database already holds data; the demo only fills an empty one");
    }
    let started = Instant::now();
    let county = tokio::task::spawn_blocking(move || county::generate(seed, population)).await?;
    store.upsert_areas(&county.areas).await.context("storing areas")?;
    let map = boundaries::geojson(&county.areas, seed);
    let drawn = store.import_boundaries(std::io::Cursor::new(map.into_bytes()), "demo").await.context("storing boundaries")?;
    anyhow::ensure!(drawn.problems.is_empty(), "the demo's boundaries are refused: {:?}", drawn.problems);
    store.insert_places(&county.grids, &county.buildings, &county.households).await.context("storing places")?;
    let mut writer = store.person_writer().await?;
    let mut people = 0;
    let mut rest = county.people.into_iter().peekable();
    while rest.peek().is_some() {
        let batch: Vec<_> = rest.by_ref().take(20_000).collect();
        people += writer.write(batch).await.context("storing people")?;
    }
    store.refresh_populations().await?;
    Ok(Loaded { areas: county.areas.len(), households: county.households.len(), people, seconds: started.elapsed().as_secs_f64() })
}

#[cfg(test)]
mod tests {
    use cordon_domain::AreaCode;
    use cordon_store::PersonFilter;
    use cordon_store::scratch::test_scratches;

    use super::*;

    #[test]
    fn reset_deletes_a_sqlite_demo_with_its_journal_and_leaves_postgres_to_its_owner() {
        let dir = std::env::temp_dir().join(format!("cordon-reset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("demo.db");
        for suffix in ["", "-wal", "-shm"] {
            std::fs::write(format!("{}{suffix}", db.display()), b"x").unwrap();
        }
        reset(&format!("sqlite://{}", db.display())).unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        reset(&format!("sqlite://{}", db.display())).unwrap();
        assert!(reset("postgres://postgres@127.0.0.1/cordon").is_err());
        std::fs::remove_dir(&dir).unwrap();
    }

    #[tokio::test]
    async fn demo_fills_an_empty_database_once_on_both_backends() {
        for s in test_scratches("demo").await {
            let store = s.store().await.unwrap();
            let loaded = load(&store, 3, 4_000).await.unwrap();
            assert_eq!(loaded.people as i64, store.count(Table::Persons).await.unwrap());
            let county = store.area(&AreaCode::parse(county::COUNTY_CODE).unwrap()).await.unwrap().unwrap();
            assert_eq!(county.population as u64, loaded.people);
            let towns = store.area_children(&AreaCode::parse(county::COUNTY_CODE).unwrap()).await.unwrap();
            assert_eq!(towns.len(), 9);
            assert_eq!(towns.iter().map(|t| t.population).sum::<i64>(), county.population);
            // Households written by the generator are the ones people are linked to.
            let page = store
                .list_persons(&[AreaCode::parse("140121100").unwrap()], &PersonFilter::default(), None, 5, county::reference_day())
                .await
                .unwrap();
            assert!(page.items.iter().all(|p| p.household_id.is_some_and(|h| h <= loaded.households as i64)));
            assert_eq!(store.count(Table::Households).await.unwrap(), loaded.households as i64);
            assert!(load(&store, 3, 4_000).await.is_err(), "a second demo into the same database is refused");

            // The evening's mass testing replayed over the eastern townships.
            let county_code = AreaCode::parse(county::COUNTY_CODE).unwrap();
            crate::accounts_cli::demo_accounts(&store, &county_code).await.unwrap();

            // Served again, the demo says how to get in: a new password for a demo account,
            // which ends the account's sessions.
            assert!(holds_data(&store).await.unwrap());
            let said = already_there("sqlite:///srv/demo.db");
            assert!(said.contains("cordon user password demo_commander --password-stdin --database sqlite:///srv/demo.db"), "{said}");
            assert!(said.contains("cordon demo --reset --database sqlite:///srv/demo.db"), "{said}");
            let actor = cordon_store::audit::Actor::system("test");
            let session = store
                .create_session(store.user_by_name("demo_commander").await.unwrap().unwrap().id, std::time::Duration::from_secs(8 * 3600));
            let session = session.await.unwrap();
            assert!(store.set_password(&actor, "demo_commander", "short1").await.is_err(), "the password rules apply");
            assert!(store.set_password(&actor, "nobody", "Qingxu-2022-0413").await.is_err());
            store.set_password(&actor, "demo_commander", "Qingxu-2022-0413").await.unwrap();
            assert!(store.verify_login("demo_commander", "Qingxu-2022-0413").await.unwrap().is_some(), "{:?}", s.kind);
            assert!(store.session_principal(&session, std::time::Duration::from_secs(8 * 3600)).await.unwrap().is_none(), "signed out");
            let now = chrono::Utc::now();
            // The response opened at 01:30, before the round makes an incident of its own.
            command::open(&store, now).await.unwrap();
            let r = replay::replay(&store, "demo_testing_officer", "demo_lab", 3, now).await.unwrap();
            let east: i64 = {
                let mut n = 0;
                for code in replay::EAST {
                    n += store.area(&AreaCode::parse(code).unwrap()).await.unwrap().unwrap().population;
                }
                n
            };
            assert!(r.sampled as i64 > east * 95 / 100 && (r.sampled as i64) < east, "about 98 % sampled: {} of {east}", r.sampled);
            assert!(
                r.tubes >= r.sampled.div_ceil(10) && r.tubes <= r.sampled / 10 + r.sites,
                "tubes of ten, the last of each site partly filled: {} tubes",
                r.tubes
            );
            assert!(r.sites >= 3 && r.resulted > r.tubes / 2 && r.resulted < r.tubes, "{} of {} tubes resulted", r.resulted, r.tubes);
            assert!(r.recalls >= 10, "two pooled-suspect tubes recall their members: {}", r.recalls);
            let officer = store.principal_by_name("demo_testing_officer").await.unwrap().unwrap();
            let scope = store.scoped(officer, cordon_store::audit::Actor::system("test"));
            let open = scope.open_recalls().await.unwrap();
            assert!(!open.is_empty() && open.iter().all(|r| r.deadline > now), "open recalls still have time left");
            let coverage = scope.coverage(r.round_id, &AreaCode::parse(replay::EAST[0]).unwrap()).await.unwrap().unwrap();
            assert!(coverage.area.exempted > 0 && coverage.area.missing() > 0, "{coverage:?}");
            let flow = scope.tube_flow(r.round_id).await.unwrap();
            assert_eq!(flow.by_lab.len(), 2);
            assert!(flow.departed > 0 && flow.received + flow.resulted > 0, "{flow:?}");

            // The investigation: the park's co-workers as close contacts, their households as
            // secondary contacts, three generations in one cluster.
            let t = outbreak::trace(&store, "demo_investigator", 3, now).await.unwrap().expect("a positive to investigate");
            assert!(t.employees > 100, "the park's staff from the township: {}", t.employees);
            assert!(
                t.from_roster > 0 && t.from_roster <= t.unscanned,
                "unscanned team-mates found on the roster: {} of {}",
                t.from_roster,
                t.unscanned
            );
            assert!(
                t.close >= t.employees - 1 - outbreak::LEFT_TO_DECIDE - (t.unscanned - t.from_roster) && t.close < t.employees,
                "co-workers confirmed, some left to decide: {}",
                t.close
            );
            assert!(t.secondary > 20, "households: {}", t.secondary);
            assert_eq!(t.handed_over, 150);
            let investigator = store.principal_by_name("demo_investigator").await.unwrap().unwrap();
            let tracer = store.scoped(investigator, cordon_store::audit::Actor::system("test"));
            let cluster = tracer.cluster_detail(t.cluster_id.unwrap()).await.unwrap().unwrap();
            assert_eq!((cluster.cluster.size as usize, cluster.cluster.generations), (t.cases, 3), "{:?}", cluster.cluster);
            assert_eq!(cluster.cluster.index_case_id, Some(t.index_case));
            let left = tracer.venue_candidates(t.index_case, &cordon_domain::cases::exposure::Lookback::default()).await.unwrap();
            assert!(!left.is_empty(), "candidates left for the investigator");
            let contacts = tracer.contacts(t.index_case).await.unwrap();
            assert!(
                contacts.iter().any(|c| c.degree.as_str() == "secondary" && c.kinds.iter().any(|k| k == "work")),
                "night-shift team-mates proposed"
            );
            assert!(tracer.trajectory(t.index_case).await.unwrap().len() >= 4);

            // Quarantine and transfer: rooms for the close contacts handed over, buses, the
            // index case in hospital, the first day's tests.
            let q = quarantine::settle(&store, 3, t.index_case).await.unwrap();
            assert_eq!(q.beds, 500);
            assert!(q.roomed > t.handed_over && q.roomed <= t.close, "the close contacts of both batches get rooms: {}", q.roomed);
            assert_eq!(q.buses, q.roomed.div_ceil(20), "20 passengers and an escort a bus");
            assert!(q.arrived > 0 && q.arrived < q.roomed, "the last buses are still out: {} of {}", q.arrived, q.roomed);
            assert!(q.sampled > 0 && q.sampled <= q.arrived);
            // Secondary contacts start at home, not on the dispatch board.
            let waiting = store.scoped(
                store.principal_by_name("demo_transfer_dispatcher").await.unwrap().unwrap(),
                cordon_store::audit::Actor::system("test"),
            );
            let orders = waiting.observation_orders(&Default::default()).await.unwrap();
            use cordon_domain::observation::{Category, Status};
            let secondary = |o: &&cordon_store::observation::Order| o.category == Category::SecondaryContact;
            assert_eq!(
                orders.iter().filter(secondary).filter(|o| o.status == Status::AwaitingTransfer).count(),
                0,
                "no secondary contact waits for a transfer"
            );
            assert!(q.at_home > 20, "secondary contacts at home: {}", q.at_home);
            assert!(orders.iter().any(|o| o.status == Status::AwaitingHome), "some are left for the community to start");
            // The closing figures agree with the chapters: the traced cases, the one found in
            // the site, the imported driver; one investigation each.
            let all = quarantine::totals(&store).await.unwrap();
            assert_eq!(all.cases as usize, t.cases + q.converted + 1, "traced, found in the site, imported");
            assert_eq!(all.investigations, all.cases as usize, "one investigation a case");
            assert!(q.in_hospital >= 1);
            let head = store.scoped(
                store.principal_by_name("demo_quarantine_site_head").await.unwrap().unwrap(),
                cordon_store::audit::Actor::system("test"),
            );
            let stays = head.stays().await.unwrap();
            assert!(
                stays.iter().any(|s| s.case_id == t.index_case && s.severity == cordon_domain::cases::case::Severity::Moderate),
                "the index case in the designated hospital"
            );
            let board = head.dispatch_board().await.unwrap();
            assert!(
                board.iter().any(|x| x.status == cordon_domain::transfer::TransferStatus::PickedUp)
                    && board.iter().any(|x| x.status == cordon_domain::transfer::TransferStatus::Planned),
                "the board is alive"
            );
            // One person in the site turned positive; the earlier chapter's friends go home free.
            assert_eq!(q.converted, 1);
            let orders = head.observation_orders(&Default::default()).await.unwrap();
            assert_eq!(
                orders.iter().filter(|o| o.status == cordon_domain::observation::Status::Case && o.site_id == Some(q.site_id)).count(),
                1
            );
            assert_eq!(q.released, orders.iter().filter(|o| o.status == cordon_domain::observation::Status::Released).count());
            assert!(q.released >= 1, "{}", q.released);
            let home = head.home_list(cordon_domain::local_date(chrono::Utc::now())).await.unwrap();
            assert!(home.iter().any(|h| h.due && h.taken.is_none()), "door tests left for the community");

            // The zones of 13 April: the cases' villages sealed, the east controlled, the county
            // in precaution; each counting down from today.
            let drawn = zones::draw(&store, "demo_commander", t.cluster_id.unwrap()).await.unwrap();
            let kinds: Vec<cordon_domain::zones::ZoneKind> = drawn.zones.iter().map(|z| z.2).collect();
            use cordon_domain::zones::ZoneKind::{Controlled, Precaution, Sealed};
            assert!(kinds.ends_with(&[Controlled, Precaution]) && kinds.iter().filter(|k| **k == Sealed).count() >= 1, "{kinds:?}");
            assert!(drawn.zones.iter().all(|z| z.3 > 0), "people live in every zone");
            let commander =
                store.scoped(store.principal_by_name("demo_commander").await.unwrap().unwrap(), cordon_store::audit::Actor::system("test"));
            let sealed = commander.zone(drawn.zones[0].0).await.unwrap();
            let countdown = sealed.countdown.unwrap();
            assert_eq!((countdown.to, countdown.ready), (Some(Controlled), false), "{countdown:?}");
            assert!(!sealed.cases.is_empty() && sealed.residents.elderly > 0, "{:?}", sealed.residents);
            // Codes for the whole county: the sealed villages red, the contacts red or yellow, the
            // east yellow, the rest green; counted by township.
            let county = AreaCode::parse(county::COUNTY_CODE).unwrap();
            let counts = commander.code_counts(&county).await.unwrap();
            let (red, yellow, green) = counts.iter().fold((0, 0, 0), |(r, y, g), c| (r + c.red, y + c.yellow, g + c.green));
            assert_eq!((red + yellow + green) as u64, loaded.people, "everyone has a code");
            assert!(red >= drawn.zones[0].3 && yellow > 0 && green > 0, "{red} {yellow} {green}");
            // The evening at a dozen checkpoints: shifts around the clock, some turned back,
            // arrivals registered.
            let (sealed_zones, controlled) = drawn.guarded();
            let evening =
                checkpoints::evening(&store, "demo_commander", "demo_checkpoint_officer", &sealed_zones, controlled, 5).await.unwrap();
            assert_eq!(evening.checkpoints, 12, "{evening:?}");
            assert!(evening.refused > 0 && evening.passages > evening.refused && evening.arrivals >= 9, "{evening:?}");
            // The headquarters: level I, the usual task forces led, the evening's instructions
            // fanned out to 徐沟镇's villages and answered in part.
            let hq = command::headquarters(&store).await.unwrap();
            assert_eq!((hq.task_forces, hq.instructions), (8, 4), "{hq:?}");
            let incident = commander.current_incident().await.unwrap().unwrap();
            let c = commander.command(incident).await.unwrap();
            assert_eq!(c.incident.level, Some(cordon_domain::command::ResponseLevel::I));
            let opened = (c.incident.started_at - command::response_opened(now)).num_microseconds();
            assert!(opened.is_some_and(|us| us.abs() < 1), "one incident, opened at 01:30 ({opened:?})");
            let day = commander.timeline(incident, None, None).await.unwrap();
            use cordon_domain::timeline::EventKind;
            assert_eq!(day.first().map(|e| e.kind), Some(EventKind::IncidentOpened), "{day:#?}");
            assert!(day.iter().any(|e| e.kind == EventKind::RoundEnded && e.n == r.sampled as i64), "{day:#?}");
            assert!(day.windows(2).all(|w| w[0].at <= w[1].at));
            assert!(c.task_forces.iter().filter(|t| t.lead.is_some()).count() == 7, "{:?}", c.task_forces);
            let board = commander.instructions(cordon_store::command::InstructionFilter { limit: 10, ..Default::default() }).await.unwrap();
            let villages = board.iter().find(|i| i.title.contains("徐沟镇")).unwrap();
            use cordon_domain::command::RecipientState::{Done, InProgress, Received};
            assert_eq!((villages.by_state[&Done], villages.by_state[&InProgress]), (3, 1), "{villages:?}");
            assert_eq!(villages.by_state[&Received] + 4, villages.recipients, "every village signed for: {villages:?}");
            // The clocks: the round ended an hour ago with villages short of their people, overdue.
            let clocks = commander.clock_counts().await.unwrap();
            let overdue = |k| clocks.iter().filter(|c| c.clock == k).map(|c| c.overdue).sum::<i64>();
            assert!(overdue(cordon_domain::clocks::ClockKind::RoundDeadline) > 0, "{clocks:?}");
            // Today's report so far holds the day's cases and is signed (past the first hour).
            if let Some(cutoff) = cordon_domain::report::passed_cutoff_today(now) {
                use cordon_domain::report::{Field, figure};
                let ask = cordon_store::scoped::ReportAsk { area: None, day: Some(cordon_domain::local_date(now)), cutoff: Some(cutoff) };
                let r = commander.daily_report(&ask).await.unwrap();
                let county = &r.rows[0].figures;
                assert!(r.closed && figure(county, Field::NewConfirmedLocal) + figure(county, Field::NewAsymptomaticLocal) > 0, "{r:?}");
                assert_eq!(commander.sign_daily(&ask, "").await.unwrap().version, 1);
            }
            // Support: the convoy received from its manifests, the hotel's and the sealed
            // households' requests issued and delivered, the hotline's first day.
            let site_area = county.child(100).unwrap();
            let day = support::day(&store, &sealed_zones, (q.site_id, site_area.as_str()), 5, now).await.unwrap();
            assert_eq!(day.refused_rows, 1, "the hand-typed row of truck 17: {day:?}");
            assert!(day.received_rows >= 100, "{day:?}");
            assert!(day.requests >= 2 && day.deliveries >= 1 && day.delivered >= 1, "{day:?}");
            assert_eq!(day.tickets + day.joined, support::CALLS, "{day:?}");
            assert!(day.overdue > 0 && day.called_back > 0 && day.closed > 0 && day.raised > 0, "{day:?}");
            // The logistics officer, the operator and the community worker each find work waiting.
            let as_demo = |name: &'static str| {
                let store = store.clone();
                async move { store.scoped(store.principal_by_name(name).await.unwrap().unwrap(), cordon_store::audit::Actor::system("test")) }
            };
            use cordon_domain::supplies::RequestStatus as R;
            let logi = as_demo("demo_logistics").await;
            assert!(
                !logi.supply_requests(&[R::Submitted, R::Approved, R::PartlyIssued], 100).await.unwrap().is_empty(),
                "requests to approve"
            );
            let (_, calls) = as_demo("demo_hotline_operator").await.ticket_board(500).await.unwrap();
            assert!(
                calls.iter().any(|t| t.overdue(now)) && calls.iter().any(|t| t.status == cordon_domain::hotline::TicketStatus::Handled)
            );
            let (_, theirs) = as_demo("demo_community_worker").await.ticket_board(500).await.unwrap();
            assert!(!theirs.is_empty(), "tickets for 徐沟镇's villages");
            s.finish(store).await.unwrap();
        }
    }
}
