//! `cordon bench` for investigation: `cluster_insert` — cases recorded one by one, each naming
//! an earlier case as infector most of the time, through the product's own path (the case, its
//! investigation, its audit event and its cluster kept up to date, in one transaction), against
//! the raw limit of storing the same case row and links alone in one transaction;
//! `cluster_exposures` — each case's ten contacts recorded in one call (1,000,000 exposures at
//! `--scale 1`: the degree rule, households proposed, the audit event), against the same rows —
//! the contacts and the household members proposed — by plain INSERTs in one transaction; and `cluster_lookup` — "which cluster, how big" for a case
//! once all of it is stored, against a primary-key read.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cordon_domain::AreaCode;
use cordon_domain::access::Role;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin};
use cordon_domain::cases::exposure::ExposureKind;
use cordon_store::BackendKind;
use cordon_store::accounts::NewUser;
use cordon_store::audit::Actor;
use cordon_store::cases::NewCase;
use cordon_store::exposures::NewExposure;
use cordon_store::plain::PlainExposure;

use super::measure::{Measurement, scratch};
use super::measure::{latencies, latency_measurement};
use crate::demo::county;
use crate::demo::rng::Rng;

/// Cases at `--scale 1`.
const CASES: f64 = 100_000.0;
/// Contacts each case records (1,000,000 exposures at `--scale 1`).
const CONTACTS: usize = 10;

fn millis(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

pub async fn run(kind: BackendKind, server: Option<&str>, scale: f64, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Measurement>> {
    let n = ((CASES * scale).round() as usize).max(200);
    let (s, store) = scratch(kind, server).await?;
    let county = AreaCode::parse(county::COUNTY_CODE)?;
    let new = NewUser {
        username: "bench_tracer".into(),
        display_name: "bench".into(),
        role: Role::Investigator,
        areas: vec![county.clone()],
        password: "Qingxu-2022-0413".into(),
    };
    store.create_user(&Actor::system("bench"), new).await?;
    let p = store.principal_by_name("bench_tracer").await?.context("bench user")?;
    let actor = Actor { user_id: Some(p.user.id), name: "bench_tracer".into(), ..Default::default() };
    let tracer = store.scoped(p, actor);
    // The people: one per case, and four times as many who are met.
    let mut writer = store.person_writer().await?;
    let mut people = crate::import_cli::people(13, (n * 5) as u32).into_iter().peekable();
    while people.peek().is_some() {
        writer.write(people.by_ref().take(50_000).collect()).await?;
    }
    drop(writer);
    let mut persons = store.people_by_area().await?;
    persons.sort();
    if persons.len() < n * 2 {
        bail!("only {} people stored for {n} cases", persons.len());
    }
    let (cased, met) = persons.split_at(n);

    // One outbreak shape for both sides: a case names one of the 500 cases before it as infector
    // 70 % of the time, and otherwise starts a chain; it met ten people.
    let mut rng = Rng::new(11);
    let plan: Vec<(String, Option<usize>)> = (0..n)
        .map(|i| {
            let infector = (i > 0 && rng.chance(0.7)).then(|| i - 1 - rng.range(0, (i.min(500) - 1) as u32) as usize);
            (cased[i].1.clone(), infector)
        })
        .collect();
    let contacts: Vec<Vec<(i64, String)>> = (0..n)
        .map(|_| {
            let mut picked: Vec<usize> = Vec::with_capacity(CONTACTS);
            while picked.len() < CONTACTS {
                let k = rng.range(0, met.len() as u32 - 1) as usize;
                if !picked.contains(&k) {
                    picked.push(k);
                }
            }
            picked.into_iter().map(|k| met[k].clone()).collect()
        })
        .collect();
    let dinner = chrono::Utc::now() - chrono::Duration::days(1);

    // The raw limit first, into its own incident of the same database; the product's cases go
    // into the newer one beside it (the incident a case joins is the newest holding its area),
    // so that the raw side's exposures do not make every product case a contact turning positive.
    let incident = store.insert_incident_plain("对照", county.as_str()).await?;
    store.insert_incident_plain("基准", county.as_str()).await?;
    let (mut raw, mut raw_ids) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (i, (area, infector)) in plan.iter().enumerate() {
        let infectors: Vec<i64> = infector.map(|k| raw_ids[k]).into_iter().collect();
        let started = Instant::now();
        raw_ids.push(store.insert_case_plain(incident, &format!("P{i}"), area, &infectors).await?);
        raw.push(millis(started));
    }
    raw.sort_by(f64::total_cmp);
    // The exposures (and the lookup, measured once they are stored) only when asked for.
    let with_exposures = wanted("cluster_exposures") || wanted("cluster_lookup");
    // The rows the product stores for a case's contacts: each contact, and each of their
    // household members (not the case's person, nobody who is a case) proposed through them.
    let mut raw_rows: Vec<Vec<PlainExposure>> = Vec::new();
    if with_exposures {
        let households = store.person_households_plain().await?;
        let home: HashMap<i64, i64> = households.iter().copied().collect();
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        for (person, household) in &households {
            members.entry(*household).or_default().push(*person);
        }
        let area: HashMap<i64, &str> = persons.iter().map(|(id, area)| (*id, area.as_str())).collect();
        let is_case: HashSet<i64> = cased.iter().map(|(id, _)| *id).collect();
        for (i, met) in contacts.iter().enumerate() {
            let source = cased[i].0;
            let mut rows: Vec<PlainExposure> = met
                .iter()
                .map(|(person, area)| PlainExposure { source, contact: *person, kind: "meal", degree: "close", area: area.clone() })
                .collect();
            for (contact, _) in met {
                let mates = home.get(contact).and_then(|h| members.get(h)).map(Vec::as_slice).unwrap_or_default();
                for m in mates.iter().filter(|m| **m != *contact && **m != source && !is_case.contains(*m)) {
                    rows.push(PlainExposure {
                        source: *contact,
                        contact: *m,
                        kind: "household",
                        degree: "secondary",
                        area: area[m].to_string(),
                    });
                }
            }
            raw_rows.push(rows);
        }
    }
    let raw_exposures = latencies(if with_exposures { n } else { 0 }, |i| {
        let (store, case, rows) = (&store, raw_ids[i], &raw_rows[i]);
        async move {
            store.insert_exposures_plain(incident, case, rows, dinner).await?;
            Ok(())
        }
    })
    .await?;

    store.checkpoint().await?;
    let (mut got, mut ids) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let today = cordon_domain::local_date(chrono::Utc::now());
    for (i, (area, infector)) in plan.iter().enumerate() {
        let new = NewCase {
            external_id: Some(format!("B{i}")),
            person_id: Some(cased[i].0),
            positive_id: None,
            area_code: AreaCode::parse(area)?,
            classification: CaseClass::Confirmed,
            severity: None,
            how_found: HowFound::Other,
            origin: Origin::Local,
            onset_date: None,
            sample_date: None,
            report_date: Some(today),
            place: CasePlace::Home,
            label: None,
            infectors: infector.map(|k| ids[k]).into_iter().collect(),
        };
        let started = Instant::now();
        ids.push(tracer.create_case(new).await?.id);
        got.push(millis(started));
        // The product's own tables (its incident's cases, investigations, the audit log) grow
        // from nothing here: statistics as autovacuum takes them on a live server, each time
        // they have doubled (autovacuum does at a tenth), so that PostgreSQL plans for the
        // tables as they are. Not timed.
        let done = i + 1;
        if done % 20 == 0 && (done / 20).is_power_of_two() {
            store.checkpoint().await?;
        }
    }
    got.sort_by(f64::total_cmp);
    let mut out = Vec::new();
    if wanted("cluster_insert") {
        out.push(latency_measurement("cluster_insert", kind, &got, &raw));
    }
    let exposures = latencies(if with_exposures { n } else { 0 }, |i| {
        let (tracer, case) = (&tracer, ids[i]);
        let met: Vec<NewExposure> = contacts[i]
            .iter()
            .map(|(person, _)| NewExposure {
                contact_person_id: *person,
                kind: ExposureKind::Meal,
                degree: None,
                first_at: Some(dinner - chrono::Duration::hours(2)),
                last_at: Some(dinner),
                note: None,
            })
            .collect();
        async move {
            let done = tracer.record_exposures(case, &met).await?;
            if done.exposures == 0 {
                bail!("case {case} recorded no exposure");
            }
            Ok(())
        }
    })
    .await?;
    if wanted("cluster_exposures") {
        out.push(latency_measurement("cluster_exposures", kind, &exposures, &raw_exposures));
    }
    if wanted("cluster_lookup") {
        let pick: Vec<usize> = (0..400).map(|_| rng.range(0, n as u32 - 1) as usize).collect();
        let got = latencies(pick.len(), |i| {
            let (tracer, id) = (&tracer, ids[pick[i]]);
            async move {
                let c = tracer.cluster_of_case(id).await?.context("every case is in a cluster")?;
                if c.size < 1 {
                    bail!("empty cluster {}", c.id);
                }
                Ok(())
            }
        })
        .await?;
        let raw = latencies(pick.len(), |i| {
            let (store, id) = (&store, raw_ids[pick[i]]);
            async move {
                store.case_cluster_plain(id).await?;
                Ok(())
            }
        })
        .await?;
        out.push(latency_measurement("cluster_lookup", kind, &got, &raw));
    }
    s.finish(store).await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cluster_benches_run_on_sqlite_and_postgres() {
        let all = |_: &str| true;
        let ms = run(BackendKind::Sqlite, None, 0.002, &all).await.unwrap();
        let names: Vec<&str> = ms.iter().map(|m| m.bench).collect();
        assert_eq!(names, ["cluster_insert", "cluster_exposures", "cluster_lookup"]);
        assert_eq!(ms[0].rows, 200);
        assert!(ms.iter().all(|m| m.rate > 0.0 && m.raw_rate > 0.0 && m.ratio > 0.0 && m.p99_ms.is_some()));
        let pg = cordon_store::scratch::test_pg_url();
        let only = |b: &str| b == "cluster_insert";
        match run(BackendKind::Postgres, Some(&pg), 0.002, &only).await {
            Ok(ms) => assert_eq!((ms.len(), ms[0].backend), (1, "postgres")),
            Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL is required under CI: {e}"),
            Err(e) => eprintln!("warning: PostgreSQL bench skipped: {e}"),
        }
    }
}
