//! `cordon bench` for the command:
//! - `daily_report`: the county's daily report (every figure, per township) over 100,000 cases,
//!   1,000,000 observation orders with their people and 1,000,000 tubes (10,000,000 samples in
//!   pools of ten, read by the report as their tubes and hourly counts), p50/p99 beside the raw
//!   limit of counting the same tables' rows once;
//! - `clock_board`: the clocks board with 100,000 open clocks (tubes sealed without a result),
//!   p50/p99 beside counting those open items once;
//! - `instruction_fanout`: one instruction to 1,000 communities and each community's worker
//!   signing for it in a request of their own, recipients a second beside the same rows written
//!   plainly (the issue in one transaction, each acknowledgement in its own), with the p50/p99
//!   of one acknowledgement.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{Duration, Utc};
use cordon_domain::access::Role;
use cordon_domain::command::{Act, RecipientState};
use cordon_domain::{AreaCode, report};
use cordon_store::audit::Actor;
use cordon_store::command::{ActAsk, NewInstruction, RecipientAsk};
use cordon_store::plain_report::ReportScale;
use cordon_store::{BackendKind, NewArea};

use super::measure::{Measurement, latencies, latency_measurement, peak_rss_mb, percentile, scratch};
use crate::demo::county;

const CASES: f64 = 100_000.0;
const ORDERS: f64 = 1_000_000.0;
const TUBES: f64 = 1_000_000.0;
const OPEN_CLOCKS: f64 = 100_000.0;
const RUNS: usize = 20;
const RECIPIENTS: f64 = 1_000.0;

pub async fn run(kind: BackendKind, server: Option<&str>, scale: f64, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Measurement>> {
    let mut out = Vec::new();
    if wanted("daily_report") || wanted("clock_board") {
        let (s, store) = scratch(kind, server).await?;
        let villages: Vec<String> = county::areas(42).into_iter().map(|a| a.code.to_string()).filter(|c| c.len() == 12).collect();
        let incident = store.insert_incident_plain("演练", county::COUNTY_CODE).await?;
        let n = |x: f64| ((x * scale).round() as i64).max(100);
        let now = Utc::now();
        let size = ReportScale { cases: n(CASES), orders: n(ORDERS), tubes: n(TUBES), open_tubes: n(OPEN_CLOCKS), days: 30 };
        store.fill_report_plain(incident, &villages, size, now).await?;
        store.checkpoint().await?;
        let county = AreaCode::parse(county::COUNTY_CODE)?;
        if wanted("daily_report") {
            let day = cordon_domain::local_date(now).pred_opt().expect("a day before");
            let window = report::window(day, report::DEFAULT_CUTOFF).map_err(|r| anyhow::anyhow!("{}", r.kind))?;
            let (lo, hi) = county.subtree_range();
            let got = latencies(RUNS, |_| {
                let (store, county) = (store.clone(), county.clone());
                async move {
                    store.daily_figures(&county, &window).await?;
                    Ok(())
                }
            })
            .await?;
            let raw = latencies(RUNS, |_| {
                let (store, lo, hi) = (store.clone(), lo.clone(), hi.clone());
                async move {
                    store.count_report_rows_plain(&lo, &hi, &window).await?;
                    Ok(())
                }
            })
            .await?;
            out.push(latency_measurement("daily_report", kind, &got, &raw));
        }
        if wanted("clock_board") {
            let areas = vec![county.clone()];
            let got = latencies(RUNS, |_| {
                let (store, areas) = (store.clone(), areas.clone());
                async move {
                    store.clock_counts(&areas, Utc::now()).await?;
                    Ok(())
                }
            })
            .await?;
            let raw = latencies(RUNS, |_| {
                let store = store.clone();
                async move {
                    store.count_open_tubes_plain().await?;
                    Ok(())
                }
            })
            .await?;
            out.push(latency_measurement("clock_board", kind, &got, &raw));
        }
        s.finish(store).await?;
    }
    if wanted("instruction_fanout") {
        out.push(instruction_fanout(kind, server, scale).await?);
    }
    Ok(out)
}

/// One instruction to `1,000 × scale` communities (at least ten), each signed for by its own
/// worker, beside the same rows written plainly.
async fn instruction_fanout(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Measurement> {
    let n = ((RECIPIENTS * scale).round() as usize).clamp(10, cordon_domain::command::MAX_RECIPIENTS);
    let (s, store) = scratch(kind, server).await?;
    // The communities, spread over the townships beside the demo's own, each with its worker.
    let towns: Vec<String> = county::areas(42).into_iter().map(|a| a.code.to_string()).filter(|c| c.len() == 9).collect();
    let communities = (0..n)
        .map(|k| {
            Ok(NewArea {
                code: AreaCode::parse(&format!("{}{:03}", towns[k % towns.len()], 500 + k / towns.len()))?,
                name: format!("演练社区{k}"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    store.upsert_areas(&communities).await?;
    let codes: Vec<String> = communities.iter().map(|a| a.code.to_string()).collect();
    let mut workers = Vec::with_capacity(n);
    for name in store.insert_workers_plain(&codes).await? {
        let p = store.principal_by_name(&name).await?.context("bench worker")?;
        let actor = Actor { user_id: Some(p.user.id), name: name.clone(), ..Default::default() };
        workers.push(store.scoped(p, actor));
    }
    let chief = super::observation::user(&store, "bench_chief", Role::Commander).await?;
    let county = AreaCode::parse(county::COUNTY_CODE)?;
    let incident = chief.open_incident("演练", &county, None, None).await?.incident.id;
    store.checkpoint().await?;

    let recipients = communities.iter().map(|a| RecipientAsk::Area(a.code.clone())).collect();
    let new = NewInstruction {
        incident_id: incident,
        title: "今日全员核酸检测".into(),
        body: "各社区组织辖区居民于18时前完成采样。".into(),
        deadline: Utc::now() + Duration::hours(6),
        task_force_id: None,
        recipients,
    };
    let started = Instant::now();
    let issued = chief.issue_instruction(&new).await?;
    let issue_secs = started.elapsed().as_secs_f64();
    // Each worker finds their own recipient on the instruction they were told of.
    let mut acks = Vec::with_capacity(n);
    let receive = ActAsk { act: Act::Receive, text: String::new(), deadline: None, to: None };
    for worker in &workers {
        let started = Instant::now();
        let view = worker.instruction(issued.id).await?;
        let [rid] = view.acting_for[..] else {
            bail!("{} acts for {} recipients", worker.principal().user.username, view.acting_for.len())
        };
        worker.act_on_instruction(issued.id, rid, &receive).await?;
        acks.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let secs = issue_secs + acks.iter().sum::<f64>() / 1000.0;
    let got = chief.instruction(issued.id).await?.instruction.summary;
    if got.by_state.get(&RecipientState::Received).copied() != Some(n as i64) {
        bail!("{:?} of {n} signed for", got.by_state);
    }

    let ids: Vec<(String, i64)> = codes.into_iter().zip(workers.iter().map(|w| w.principal().user.id)).collect();
    store.checkpoint().await?;
    let (raw_issue, raw_acks) = store.fanout_plain(incident, &ids).await?;
    let raw_secs = raw_issue + raw_acks.iter().sum::<f64>() / 1000.0;
    s.finish(store).await?;
    acks.sort_by(f64::total_cmp);
    let (rate, raw_rate) = (n as f64 / secs, n as f64 / raw_secs);
    Ok(Measurement {
        bench: "instruction_fanout",
        backend: kind.as_str(),
        rows: n as u64,
        rate,
        raw_rate,
        ratio: rate / raw_rate,
        p50_ms: Some(percentile(&acks, 0.5)),
        p99_ms: Some(percentile(&acks, 0.99)),
        peak_rss_mb: peak_rss_mb(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn command_benches_run_on_sqlite_and_postgres() {
        let all = |_: &str| true;
        let names = ["daily_report", "clock_board", "instruction_fanout"];
        let ms = run(BackendKind::Sqlite, None, 0.00001, &all).await.unwrap();
        assert_eq!(ms.iter().map(|m| (m.bench, m.rows)).collect::<Vec<_>>(), [(names[0], 20), (names[1], 20), (names[2], 10)]);
        assert!(ms.iter().all(|m| m.rate > 0.0 && m.raw_rate > 0.0 && m.ratio > 0.0));
        let pg = cordon_store::scratch::test_pg_url();
        match run(BackendKind::Postgres, Some(&pg), 0.00001, &all).await {
            Ok(ms) => assert_eq!(ms.iter().map(|m| (m.backend, m.bench)).collect::<Vec<_>>(), names.map(|b| ("postgres", b))),
            Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL is required under CI: {e}"),
            Err(e) => eprintln!("warning: PostgreSQL bench skipped: {e}"),
        }
    }
}
