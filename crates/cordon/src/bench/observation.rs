//! `cordon bench` for medical observation:
//! - `schedule_recompute`: 200,000 open observation orders recomputed after the incident's rule
//!   set changes (protocol-9 → protocol-8) through the product's path (read, compute in
//!   `domain`, write in batches, one audit event with the summary), against the raw limit of
//!   writing the same rows' schedule columns by plain one-row prepared UPDATEs in one
//!   transaction;
//! - `occupancy_board`: the bed board of 100 quarantine sites with 50,000 beds (p50/p99),
//!   beside a primary-key read.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{Duration, Utc};
use cordon_domain::AreaCode;
use cordon_domain::access::Role;
use cordon_store::BackendKind;
use cordon_store::accounts::NewUser;
use cordon_store::audit::Actor;
use cordon_store::plain::PlainOrder;
use cordon_store::quarantine::NewQuarantineSite;
use cordon_store::scoped::Scoped;

use super::measure::{Measurement, peak_rss_mb, scratch};
use super::measure::{latencies, latency_measurement};
use crate::demo::county;
use crate::demo::rng::Rng;
use crate::import_cli;

const ORDERS: f64 = 200_000.0;
const SITES: f64 = 100.0;

pub(super) async fn user(store: &cordon_store::Store, name: &str, role: Role) -> Result<Scoped> {
    let county = AreaCode::parse(county::COUNTY_CODE)?;
    let new = NewUser { username: name.into(), display_name: name.into(), role, areas: vec![county], password: "Qingxu-2022-0413".into() };
    store.create_user(&Actor::system("bench"), new).await?;
    let p = store.principal_by_name(name).await?.context("bench user")?;
    let actor = Actor { user_id: Some(p.user.id), name: name.into(), ..Default::default() };
    Ok(store.scoped(p, actor))
}

pub async fn run(kind: BackendKind, server: Option<&str>, scale: f64, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Measurement>> {
    let mut out = Vec::new();
    if wanted("schedule_recompute") {
        out.push(schedule_recompute(kind, server, scale).await?);
    }
    if wanted("occupancy_board") {
        out.push(occupancy_board(kind, server, scale).await?);
    }
    Ok(out)
}

async fn schedule_recompute(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Measurement> {
    let n = ((ORDERS * scale).round() as u32).max(200);
    let (s, store) = scratch(kind, server).await?;
    let mut writer = store.person_writer().await?;
    let mut people = import_cli::people(5, n).into_iter().peekable();
    while people.peek().is_some() {
        writer.write(people.by_ref().take(50_000).collect()).await?;
    }
    drop(writer);
    let chief = user(&store, "bench_chief", Role::Commander).await?;
    let incident = store.insert_incident_plain("演练", county::COUNTY_CODE).await?;
    // Seven in ten close contacts, the rest secondary, last exposed over the past five days.
    let mut rng = Rng::new(3);
    let now = Utc::now();
    let orders: Vec<PlainOrder> = store
        .people_by_area()
        .await?
        .into_iter()
        .map(|(person_id, area_code)| PlainOrder {
            person_id,
            area_code,
            category: if rng.chance(0.7) { "close_contact" } else { "secondary_contact" },
            last_exposure_at: now - Duration::minutes(i64::from(rng.range(60, 5 * 24 * 60))),
        })
        .collect();
    store.insert_orders_plain(incident, &orders).await?;
    // Their schedules under protocol-9, as hand-over writes them.
    let first = chief.set_incident_rule_set(incident, "protocol-9").await?;
    if first.orders != u64::from(n) {
        bail!("recomputed {} of {n} orders", first.orders);
    }
    store.checkpoint().await?;

    let started = Instant::now();
    let summary = chief.set_incident_rule_set(incident, "protocol-8").await?;
    let secs = started.elapsed().as_secs_f64();
    if summary.orders != u64::from(n) || summary.release_later == 0 {
        bail!("the recompute did not move the schedules: {summary:?}");
    }

    let rows = store.schedule_rows_plain(incident).await?;
    store.checkpoint().await?;
    let started = Instant::now();
    let written = store.update_schedules_plain(rows).await?;
    let raw_secs = started.elapsed().as_secs_f64();
    if written != u64::from(n) {
        bail!("plain UPDATEs wrote {written} of {n} rows");
    }
    s.finish(store).await?;
    let (rate, raw_rate) = (f64::from(n) / secs, f64::from(n) / raw_secs);
    Ok(Measurement {
        bench: "schedule_recompute",
        backend: kind.as_str(),
        rows: u64::from(n),
        rate,
        raw_rate,
        ratio: rate / raw_rate,
        peak_rss_mb: peak_rss_mb(),
        ..Default::default()
    })
}

async fn occupancy_board(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Measurement> {
    let sites = ((SITES * scale).round() as u32).max(2);
    let (s, store) = scratch(kind, server).await?;
    let mut writer = store.person_writer().await?;
    writer.write(import_cli::people(9, 1000)).await?;
    drop(writer);
    let head = user(&store, "bench_head", Role::QuarantineSiteHead).await?;
    let towns: Vec<AreaCode> = county::areas(42).into_iter().filter(|a| a.code.as_str().len() == 9).map(|a| a.code).collect();
    for i in 0..sites {
        let site = head
            .create_quarantine_site(&NewQuarantineSite {
                name: format!("隔离点{:03}", i + 1),
                kind: cordon_domain::observation::SiteKind::Hotel,
                area_code: towns[i as usize % towns.len()].clone(),
                address: format!("{}号", i + 1),
                head_name: "负责人".into(),
                head_phone: None,
                staff: 20,
                households_share: false,
            })
            .await?;
        // 500 single rooms: ten floors of fifty.
        head.add_rooms(site.id, "A", (1, 10), 50, 1).await?;
    }
    store.fill_rooms_plain().await?;
    store.checkpoint().await?;
    let got = latencies(300, |_| {
        let head = &head;
        async move {
            let board = head.quarantine_board().await?;
            if board.len() != sites as usize || board.iter().any(|b| b.beds != 500) {
                bail!("the board shows {} sites", board.len());
            }
            Ok(())
        }
    })
    .await?;
    let raw = latencies(300, |i| {
        let store = &store;
        async move {
            store.person_exists_plain(1 + (i as i64 % 1000)).await?;
            Ok(())
        }
    })
    .await?;
    let mut m = latency_measurement("occupancy_board", kind, &got, &raw);
    m.rows = u64::from(sites) * 500;
    s.finish(store).await?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn observation_benches_run_on_sqlite_and_postgres() {
        let all = |_: &str| true;
        let ms = run(BackendKind::Sqlite, None, 0.002, &all).await.unwrap();
        assert_eq!(ms.iter().map(|m| m.bench).collect::<Vec<_>>(), ["schedule_recompute", "occupancy_board"]);
        assert_eq!((ms[0].rows, ms[1].rows), (400, 1000));
        assert!(ms.iter().all(|m| m.rate > 0.0 && m.raw_rate > 0.0 && m.ratio > 0.0));
        let pg = cordon_store::scratch::test_pg_url();
        let only = |b: &str| b == "schedule_recompute";
        match run(BackendKind::Postgres, Some(&pg), 0.002, &only).await {
            Ok(ms) => assert_eq!((ms.len(), ms[0].backend), (1, "postgres")),
            Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL is required under CI: {e}"),
            Err(e) => eprintln!("warning: PostgreSQL not reachable ({e}); PostgreSQL bench skipped"),
        }
    }
}
