//! `cordon bench` for zones, health codes and checkpoints:
//! - `zone_designate`: a sealed zone drawn over areas holding 100,000 residents through the
//!   commander's act — the zone written, everyone inside marked, their codes derived again and
//!   stored with every change of colour kept and the counts by area — against the raw limit of
//!   writing the same people's code rows by plain one-row prepared UPDATEs in one transaction;
//! - `health_code_lookup`: p50/p99 of a checkpoint's look-up by identity number among 10,000,000
//!   people with stored codes, beside a primary-key read;
//! - `checkpoint_passage`: passages over HTTP from 64 clients (look-up, decision, log), against
//!   the same clients each committing one row through the same writer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::access::Role;
use cordon_domain::checkpoints::CheckpointKind;
use cordon_domain::health_code::Colour;
use cordon_domain::zones::ZoneKind;
use cordon_store::BackendKind;
use cordon_store::audit::Actor;
use cordon_store::checkpoints::NewCheckpoint;
use cordon_store::zones::{Extent, NewZone};

use super::measure::{Measurement, latencies, latency_measurement, peak_rss_mb, percentile, scratch};
use super::observation::user;
use super::testing::{raw_leg, request, with_raw_commits};
use crate::demo::county;
use crate::import_cli;

const RESIDENTS: f64 = 100_000.0;
const REGISTER: f64 = 10_000_000.0;
const PASSAGES: f64 = 100_000.0;

pub async fn run(kind: BackendKind, server: Option<&str>, scale: f64, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Measurement>> {
    let mut out = Vec::new();
    if wanted("zone_designate") {
        out.push(zone_designate(kind, server, scale).await?);
    }
    if wanted("health_code_lookup") {
        out.push(health_code_lookup(kind, server, scale).await?);
    }
    if wanted("checkpoint_passage") {
        out.push(checkpoint_passage(kind, server, scale).await?);
    }
    Ok(out)
}

/// The generated county's people, stored, with an incident over the county and every code
/// derived once (all green).
async fn county_people(store: &cordon_store::Store, seed: u64, n: u32) -> Result<()> {
    let mut writer = store.person_writer().await?;
    let mut people = import_cli::people(seed, n).into_iter().peekable();
    while people.peek().is_some() {
        writer.write(people.by_ref().take(50_000).collect()).await?;
    }
    drop(writer);
    store.insert_incident_plain("演练", county::COUNTY_CODE).await?;
    let mut derived = 0;
    loop {
        match store.refresh_codes(Utc::now()).await? {
            0 => break,
            d => derived += d,
        }
    }
    if derived != u64::from(n) {
        bail!("{derived} of {n} codes derived");
    }
    Ok(())
}

/// Paired runs of `zone_designate`, each in a database of its own: one act and one raw pass
/// over the same rows, each a single commit of some 60 MB whose flush alone varies by a tenth
/// of a second from one moment to the next — so the ratio is taken over the sums of three.
const DESIGNATE_RUNS: usize = 3;

async fn zone_designate(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Measurement> {
    let n = ((RESIDENTS * scale).round() as u32).max(200);
    let (mut secs, mut raw_secs) = (0.0, 0.0);
    for _ in 0..DESIGNATE_RUNS {
        let (act, raw) = zone_designate_once(kind, server, n).await?;
        secs += act;
        raw_secs += raw;
    }
    let rows = u64::from(n) * DESIGNATE_RUNS as u64;
    let (rate, raw_rate) = (rows as f64 / secs, rows as f64 / raw_secs);
    Ok(Measurement {
        bench: "zone_designate",
        backend: kind.as_str(),
        rows,
        rate,
        raw_rate,
        ratio: rate / raw_rate,
        peak_rss_mb: peak_rss_mb(),
        ..Default::default()
    })
}

/// One paired run: the seconds the commander's act took over `n` residents, and the seconds
/// their code rows took as plain one-row UPDATEs.
async fn zone_designate_once(kind: BackendKind, server: Option<&str>, n: u32) -> Result<(f64, f64)> {
    let (s, store) = scratch(kind, server).await?;
    county_people(&store, 11, n).await?;
    let chief = user(&store, "bench_chief", Role::Commander).await?;
    store.checkpoint().await?;

    let county = AreaCode::parse(county::COUNTY_CODE)?;
    let started = Instant::now();
    let zone = chief
        .designate_zone(&NewZone {
            kind: ZoneKind::Sealed,
            name: "全县".into(),
            reason: "演练".into(),
            extent: Extent { areas: vec![county.clone()], ..Default::default() },
            drawn_at: None,
        })
        .await?;
    let secs = started.elapsed().as_secs_f64();
    let red: i64 = chief.code_counts(&county).await?.iter().map(|c| c.red).sum();
    if zone.residents != i64::from(n) || red != i64::from(n) {
        bail!("the zone holds {} and {red} are red, of {n}", zone.residents);
    }

    let ids: Vec<i64> = store.people_by_area().await?.into_iter().map(|(id, _)| id).collect();
    let code = r#"{"colour":"red","reasons":[{"code":"sealed_zone","colour":"red","zh":"居住在高风险区全县","en":"lives in the high-risk area 全县","since":"2022-04-13","until":null}]}"#;
    store.checkpoint().await?;
    let started = Instant::now();
    let written = store.update_codes_plain(ids, Colour::Red.as_str(), code.into()).await?;
    let raw_secs = started.elapsed().as_secs_f64();
    if written != u64::from(n) {
        bail!("plain UPDATEs wrote {written} of {n} codes");
    }
    s.finish(store).await?;
    Ok((secs, raw_secs))
}

async fn health_code_lookup(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Measurement> {
    const LOOKUPS: usize = 2_000;
    let n = ((REGISTER * scale).round() as i64).max(10_000);
    let (s, store) = scratch(kind, server).await?;
    let village = county::areas(42).into_iter().map(|a| a.code).find(|c| c.as_str().len() == 12).context("a village")?;
    store.insert_coded_people_plain(n, village.as_str()).await?;
    let officer = user(&store, "bench_officer", Role::CheckpointOfficer).await?;
    store.checkpoint().await?;
    // Numbers spread over the whole register, each asked once.
    let number = |i: usize| format!("X{:017}", 1 + (i as i64 * 7_919) % n);
    let got = latencies(LOOKUPS, |i| {
        let (officer, number) = (&officer, number(i));
        async move {
            match officer.health_code_by_id_number(&number).await? {
                Some((_, code)) if code.colour == Colour::Green => Ok(()),
                other => bail!("{number}: {other:?}"),
            }
        }
    })
    .await?;
    let raw = latencies(LOOKUPS, |i| {
        let store = &store;
        async move {
            store.person_exists_plain(1 + (i as i64 * 7_919) % n).await?;
            Ok(())
        }
    })
    .await?;
    let mut m = latency_measurement("health_code_lookup", kind, &got, &raw);
    m.rows = n as u64;
    s.finish(store).await?;
    Ok(m)
}

async fn checkpoint_passage(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Measurement> {
    const CLIENTS: usize = 64;
    let n = ((PASSAGES * scale).round() as u32).max(CLIENTS as u32 * 10);
    let (s, store) = scratch(kind, server).await?;
    // A county's worth of people arriving; each passes once.
    let people = import_cli::people(13, n);
    let numbers: Arc<Vec<String>> = Arc::new(people.iter().map(|p| p.document.number().to_string()).collect());
    let mut writer = store.person_writer().await?;
    writer.write(people).await?;
    drop(writer);
    store.insert_incident_plain("演练", county::COUNTY_CODE).await?;
    while store.refresh_codes(Utc::now()).await? > 0 {}
    let chief = user(&store, "bench_chief", Role::Commander).await?;
    user(&store, "bench_officer", Role::CheckpointOfficer).await?;
    let checkpoint = chief
        .create_checkpoint(&NewCheckpoint {
            name: "高速出口".into(),
            kind: CheckpointKind::HighwayExit,
            area_code: AreaCode::parse(county::COUNTY_CODE)?,
            zone_id: None,
            leaves_county: false,
        })
        .await?;
    let token = store.create_api_token(&Actor::system("bench"), "bench_officer", "bench").await?.1;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = with_raw_commits(&store).await?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    store.checkpoint().await?;

    // The raw and the passages take turns in legs, so that a machine slower for a moment slows
    // both alike.
    const LEGS: usize = 4;
    let (mut raw_secs, mut secs, mut times) = (0.0, 0.0, Vec::new());
    let per_leg = numbers.len().div_ceil(LEGS);
    let path = format!("/api/v1/checkpoints/{}/passages", checkpoint.id);
    for leg in 0..LEGS {
        let mine: Arc<Vec<String>> = Arc::new(numbers.iter().skip(leg * per_leg).take(per_leg).cloned().collect());
        raw_secs += raw_leg(addr, &token, mine.len(), CLIENTS, &format!("p{leg}")).await?;

        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (token, mine, path) = (token.clone(), mine.clone(), path.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = tokio::net::TcpStream::connect(addr).await?;
                conn.set_nodelay(true)?;
                let (mut buf, mut times) = (Vec::new(), Vec::new());
                for k in (c..mine.len()).step_by(CLIENTS) {
                    let body = format!(r#"{{"id_number":"{}","direction":"in"}}"#, mine[k]);
                    let at = Instant::now();
                    let status = request(&mut conn, &mut buf, "POST", &path, &token, &body).await?;
                    if status != 200 {
                        bail!("a passage answered {status}: {}", String::from_utf8_lossy(&buf));
                    }
                    times.push(at.elapsed().as_secs_f64() * 1000.0);
                }
                Ok::<_, anyhow::Error>(times)
            }));
        }
        for t in tasks {
            times.extend(t.await??);
        }
        secs += started.elapsed().as_secs_f64();
    }
    server.abort();
    let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
    let logged = store.passages_plain(checkpoint.id).await?;
    if logged != times.len() as u64 {
        bail!("{logged} passages logged of {}", times.len());
    }
    s.finish(store).await?;
    times.sort_by(f64::total_cmp);
    let count = times.len() as f64;
    Ok(Measurement {
        bench: "checkpoint_passage",
        backend: kind.as_str(),
        rows: times.len() as u64,
        rate: count / secs,
        raw_rate: count / raw_secs,
        ratio: raw_secs / secs,
        p50_ms: Some(percentile(&times, 0.5)),
        p99_ms: Some(percentile(&times, 0.99)),
        peak_rss_mb: peak_rss_mb(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn control_benches_run_on_sqlite_and_postgres() {
        let all = |_: &str| true;
        let ms = run(BackendKind::Sqlite, None, 0.002, &all).await.unwrap();
        assert_eq!(ms.iter().map(|m| m.bench).collect::<Vec<_>>(), ["zone_designate", "health_code_lookup", "checkpoint_passage"]);
        assert_eq!((ms[0].rows, ms[1].rows, ms[2].rows), (600, 20_000, 640));
        assert!(ms.iter().all(|m| m.rate > 0.0 && m.raw_rate > 0.0 && m.ratio > 0.0));
        let pg = cordon_store::scratch::test_pg_url();
        match run(BackendKind::Postgres, Some(&pg), 0.002, &all).await {
            Ok(ms) => assert_eq!(
                ms.iter().map(|m| (m.backend, m.rows)).collect::<Vec<_>>(),
                [("postgres", 600), ("postgres", 20_000), ("postgres", 640)]
            ),
            Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL is required under CI: {e}"),
            Err(e) => eprintln!("warning: PostgreSQL bench skipped: {e}"),
        }
    }
}
