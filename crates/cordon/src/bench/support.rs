//! `cordon bench` for supplies and the hotline:
//! - `stock_movements`: 1,000,000 movements (receipts, issues, transfers) in batches of 1,000
//!   through the logistics officer's path — each checked against its warehouse and the rules,
//!   the balance taken by one guarded statement so it never goes below zero, the movement and
//!   the batch's audit event written — against plain prepared one-row INSERTs of the same
//!   movements in one transaction;
//! - `hotline_board`: the centre's board (every open ticket of the county, the soonest due
//!   first) and a community's (the open tickets sent to one village) among 100,000 tickets of
//!   which 30,000 are open, p50/p99 of each, beside a primary-key read.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{Duration, Utc};
use cordon_domain::access::Role;
use cordon_store::BackendKind;
use cordon_store::accounts::NewUser;
use cordon_store::audit::Actor;
use cordon_store::plain::PlainTicket;

use super::measure::{Measurement, latencies, latency_measurement, scratch};
use super::observation::user;
use crate::demo::county;

const TICKETS: f64 = 100_000.0;
/// Boards read per measurement.
const READS: usize = 300;
/// Tickets a board shows.
const PAGE: i64 = 100;

pub async fn run(kind: BackendKind, server: Option<&str>, scale: f64, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Measurement>> {
    let mut out = Vec::new();
    if wanted("stock_movements") {
        out.push(stock_movements(kind, server, scale).await?);
    }
    if wanted("hotline_board") {
        out.extend(hotline_board(kind, server, scale).await?);
    }
    Ok(out)
}

const MOVEMENTS: f64 = 1_000_000.0;
/// Movements a request carries.
const BATCH: usize = 1_000;
const WAREHOUSES: i64 = 20;
const ITEMS: i64 = 50;

async fn stock_movements(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Measurement> {
    use cordon_domain::supplies::{ItemCategory, MovementKind, ReceiptSource, WarehouseLevel};
    use cordon_store::plain::PlainMovement;
    use cordon_store::supplies::{NewItem, NewMovement, NewWarehouse};
    let n = ((MOVEMENTS * scale).round() as usize).max(2 * BATCH);
    let (s, store) = scratch(kind, server).await?;
    let logi = user(&store, "bench_logistics", Role::Logistics).await?;
    let county = cordon_domain::AreaCode::parse(county::COUNTY_CODE)?;
    let mut warehouses = Vec::new();
    for w in 0..WAREHOUSES {
        let new = NewWarehouse { name: format!("仓库{w}"), level: WarehouseLevel::County, area_code: county.clone() };
        warehouses.push(logi.create_warehouse(&new).await?.id);
    }
    let mut items = Vec::new();
    for i in 0..ITEMS {
        let new = NewItem { name: format!("物资{i}"), category: ItemCategory::Food, unit: "件".into(), tracks_batches: false };
        items.push(logi.create_supply_item(&new).await?.id);
    }
    // Every warehouse stocked with every item (not timed).
    let stock: Vec<NewMovement> = warehouses
        .iter()
        .flat_map(|w| items.iter().map(move |i| (*w, *i)))
        .map(|(w, i)| NewMovement {
            kind: MovementKind::Receipt,
            item_id: i,
            batch: String::new(),
            expires_on: None,
            from: None,
            to: Some(w),
            quantity: 1_000_000,
            source: Some(ReceiptSource::Purchase),
            reference: String::new(),
            note: String::new(),
            client_id: None,
        })
        .collect();
    logi.record_movements(&stock).await?;
    // Two in ten receipts, six issues, two transfers, one of an item each, spread over the stores.
    let plan = |k: usize| {
        let w = warehouses[k * 7 % warehouses.len()];
        let other = warehouses[(k * 7 + 1) % warehouses.len()];
        let item = items[k * 13 % items.len()];
        match k % 10 {
            0 | 1 => (MovementKind::Receipt, item, None, Some(w)),
            2..=7 => (MovementKind::Issue, item, Some(w), None),
            _ => (MovementKind::Transfer, item, Some(w), Some(other)),
        }
    };
    store.checkpoint().await?;
    let now = Utc::now();
    // The raw and the path take turns in legs, so that a machine slower for a moment slows both.
    const LEGS: usize = 2;
    let per_leg = n.div_ceil(LEGS);
    let (mut secs, mut raw_secs) = (0.0, 0.0);
    for leg in 0..LEGS {
        let range = leg * per_leg..((leg + 1) * per_leg).min(n);
        let raw: Vec<PlainMovement> = range
            .clone()
            .map(|k| {
                let (kind, item_id, from, to) = plan(k);
                PlainMovement { kind: kind.as_str(), item_id, from, to, quantity: 1 }
            })
            .collect();
        let started = Instant::now();
        for chunk in raw.chunks(BATCH) {
            store.insert_movements_plain(chunk, now).await?;
        }
        raw_secs += started.elapsed().as_secs_f64();

        let asks: Vec<NewMovement> = range
            .map(|k| {
                let (kind, item_id, from, to) = plan(k);
                NewMovement {
                    kind,
                    item_id,
                    batch: String::new(),
                    expires_on: None,
                    from,
                    to,
                    quantity: 1,
                    source: (kind == MovementKind::Receipt).then_some(ReceiptSource::Donation),
                    reference: String::new(),
                    note: String::new(),
                    client_id: None,
                }
            })
            .collect();
        let started = Instant::now();
        for chunk in asks.chunks(BATCH) {
            let r = logi.record_movements(chunk).await?;
            if !r.refused.is_empty() || r.stored.len() != chunk.len() {
                bail!("{} of {} movements stored: {:?}", r.stored.len(), chunk.len(), r.refused.first());
            }
        }
        secs += started.elapsed().as_secs_f64();
    }
    s.finish(store).await?;
    let (rate, raw_rate) = (n as f64 / secs, n as f64 / raw_secs);
    Ok(Measurement {
        bench: "stock_movements",
        backend: kind.as_str(),
        rows: n as u64,
        rate,
        raw_rate,
        ratio: rate / raw_rate,
        peak_rss_mb: super::measure::peak_rss_mb(),
        ..Default::default()
    })
}

/// Reads a board and checks it: `expect` tickets, the soonest due first.
async fn read_board(scope: &cordon_store::scoped::Scoped, expect: usize) -> Result<()> {
    let (_, list) = scope.ticket_board(PAGE).await?;
    if list.len() != expect || list.windows(2).any(|w| w[0].due_at > w[1].due_at) {
        bail!("a board of {} tickets, {expect} expected, soonest due first", list.len());
    }
    Ok(())
}

async fn hotline_board(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Vec<Measurement>> {
    let n = ((TICKETS * scale).round() as usize).max(1_000);
    let (s, store) = scratch(kind, server).await?;
    let villages: Vec<String> = county::areas(42).into_iter().map(|a| a.code.as_str().to_string()).filter(|c| c.len() == 12).collect();
    let village = villages.first().context("a village")?.clone();
    // Seven in ten closed; the open ones due from five hours ago to five hours ahead.
    let now = Utc::now();
    let statuses = ["closed", "closed", "closed", "closed", "closed", "closed", "closed", "dispatched", "signed", "handled"];
    let categories = ["supplies", "medical", "travel", "quarantine", "complaint", "other", "green_channel"];
    let rows: Vec<PlainTicket> = (0..n)
        .map(|i| {
            let status = statuses[i % statuses.len()];
            PlainTicket {
                area_code: villages[i % villages.len()].clone(),
                category: categories[i % categories.len()],
                status,
                due_at: (status != "closed").then(|| now + Duration::minutes((i as i64 * 37) % 600 - 300)),
            }
        })
        .collect();
    store.insert_tickets_plain(&rows, now - Duration::hours(6)).await?;
    let centre = user(&store, "bench_operator", Role::HotlineOperator).await?;
    let new = NewUser {
        username: "bench_grid".into(),
        display_name: "bench_grid".into(),
        role: Role::CommunityWorker,
        areas: vec![cordon_domain::AreaCode::parse(&village)?],
        password: "Qingxu-2022-0413".into(),
    };
    store.create_user(&Actor::system("bench"), new).await?;
    let p = store.principal_by_name("bench_grid").await?.context("bench user")?;
    let unit = store.scoped(p, Actor { name: "bench_grid".into(), ..Default::default() });
    store.checkpoint().await?;

    let open_in_village = rows.iter().filter(|r| r.status != "closed" && r.area_code == village).count();
    let raw = latencies(READS, |i| {
        let store = &store;
        async move {
            store.ticket_exists_plain(1 + (i as i64 * 7_919) % n as i64).await?;
            Ok(())
        }
    })
    .await?;
    let got = latencies(READS, |_| read_board(&centre, (n * 3 / 10).min(PAGE as usize))).await?;
    let mut centre_m = latency_measurement("hotline_centre", kind, &got, &raw);
    centre_m.rows = n as u64;
    let got = latencies(READS, |_| read_board(&unit, open_in_village.min(PAGE as usize))).await?;
    let mut unit_m = latency_measurement("hotline_unit", kind, &got, &raw);
    unit_m.rows = n as u64;
    s.finish(store).await?;
    Ok(vec![centre_m, unit_m])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stock_movements_and_the_hotline_boards_are_measured_on_sqlite_and_postgres() {
        let all = |_: &str| true;
        let ms = run(BackendKind::Sqlite, None, 0.002, &all).await.unwrap();
        assert_eq!(
            ms.iter().map(|m| (m.bench, m.rows)).collect::<Vec<_>>(),
            [("stock_movements", 2_000), ("hotline_centre", 1_000), ("hotline_unit", 1_000)]
        );
        assert!(ms.iter().all(|m| m.rate > 0.0 && m.raw_rate > 0.0 && m.ratio > 0.0));
        assert!(ms[1..].iter().all(|m| m.p99_ms.is_some_and(|p| p > 0.0)));
        let pg = cordon_store::scratch::test_pg_url();
        match run(BackendKind::Postgres, Some(&pg), 0.002, &all).await {
            Ok(ms) => assert_eq!(ms.iter().map(|m| m.backend).collect::<Vec<_>>(), ["postgres", "postgres", "postgres"]),
            Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL is required under CI: {e}"),
            Err(e) => eprintln!("warning: PostgreSQL bench skipped: {e}"),
        }
    }
}
