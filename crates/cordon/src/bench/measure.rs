//! What every benchmark shares: a measurement with its raw limit and ratio, a scratch database
//! holding the demo county's areas, latencies and their percentiles, the peak memory.

use std::time::Instant;

use anyhow::Result;
use cordon_store::scratch::Scratch;
use cordon_store::{BackendKind, Store};
use serde::Serialize;

use crate::demo::county;

/// One benchmark's figures on one backend, with the raw limit measured in the same run.
#[derive(Serialize, Default)]
pub struct Measurement {
    pub bench: &'static str,
    pub backend: &'static str,
    pub rows: u64,
    pub rate: f64,
    pub raw_rate: f64,
    pub ratio: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    pub peak_rss_mb: f64,
}

/// The process's peak resident memory so far, in MB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// A fresh database on `kind` holding the demo county's areas.
pub async fn scratch(kind: BackendKind, server: Option<&str>) -> Result<(Scratch, Store)> {
    let s = match kind {
        BackendKind::Sqlite => Scratch::sqlite("bench"),
        BackendKind::Postgres => Scratch::postgres(server.expect("a PostgreSQL URL"), "bench").await?,
    };
    let store = s.store().await?;
    let areas = county::areas(42);
    store.upsert_areas(&areas).await?;
    Ok((s, store))
}

/// The `p` quantile of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Runs `f` `n` times and answers the sorted latencies in milliseconds.
pub async fn latencies<F, Fut>(n: usize, mut f: F) -> Result<Vec<f64>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        f(i).await?;
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

pub fn latency_measurement(bench: &'static str, kind: BackendKind, got: &[f64], raw: &[f64]) -> Measurement {
    let (p50, raw_p50) = (percentile(got, 0.5), percentile(raw, 0.5));
    Measurement {
        bench,
        backend: kind.as_str(),
        rows: got.len() as u64,
        rate: 1000.0 / p50.max(1e-6),
        raw_rate: 1000.0 / raw_p50.max(1e-6),
        ratio: raw_p50 / p50.max(1e-6),
        p50_ms: Some(p50),
        p99_ms: Some(percentile(got, 0.99)),
        peak_rss_mb: peak_rss_mb(),
    }
}
