//! `cordon bench` for the command:
//! - `daily_report`: the county's daily report (every figure, per township) over 100,000 cases,
//!   1,000,000 observation orders with their people and 1,000,000 tubes (10,000,000 samples in
//!   pools of ten, read by the report as their tubes and hourly counts), p50/p99 beside the raw
//!   limit of counting the same tables' rows once;
//! - `clock_board`: the clocks board with 100,000 open clocks (tubes sealed without a result),
//!   p50/p99 beside counting those open items once.

use anyhow::Result;
use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::report;
use cordon_store::BackendKind;
use cordon_store::plain_report::ReportScale;

use super::measure::{Measurement, latencies, latency_measurement, scratch};
use crate::demo::county;

const CASES: f64 = 100_000.0;
const ORDERS: f64 = 1_000_000.0;
const TUBES: f64 = 1_000_000.0;
const OPEN_CLOCKS: f64 = 100_000.0;
const RUNS: usize = 20;

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
    Ok(out)
}
