//! `cordon bench`: each hot path at a stated scale next to the machine's raw limit for the same
//! work, measured in the same run, and their ratio. Never touches the database it is pointed at:
//! SQLite runs in scratch files, PostgreSQL in scratch databases on the named server.

use std::io::Cursor;
use std::time::Instant;

use anyhow::{Result, bail};
use cordon_store::BackendKind;

use crate::import_cli;

mod cases;
mod checkins;
mod command;
mod control;
mod measure;
mod observation;
mod support;
pub(crate) mod testing;

use measure::{Measurement, peak_rss_mb, scratch};

/// Every benchmark, by name.
pub const BENCHES: &[&str] = &[
    "import_persons",
    "register_round",
    "ingest_results",
    "recall_tube",
    "coverage_village",
    "coverage_county",
    "http_register",
    "cluster_insert",
    "cluster_exposures",
    "cluster_lookup",
    "checkin_ingest",
    "contact_rings",
    "schedule_recompute",
    "occupancy_board",
    "zone_designate",
    "health_code_lookup",
    "checkpoint_passage",
    "daily_report",
    "clock_board",
    "instruction_fanout",
    "stock_movements",
    "hotline_board",
];

#[derive(clap::Args)]
pub struct BenchArgs {
    /// A PostgreSQL URL to also measure PostgreSQL (a scratch database is created on that server
    /// and dropped; the named database is never touched). SQLite is always measured unless
    /// `--skip-sqlite`.
    #[arg(long, env = "CORDON_DATABASE")]
    database: Option<String>,
    /// Measure PostgreSQL only (a full-scale PostgreSQL run is long; SQLite's figures may come
    /// from another run).
    #[arg(long, requires = "database")]
    skip_sqlite: bool,
    /// Multiplies every benchmark's stated size (0.01 for a quick look).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Run only these benchmarks (a name, or names separated by commas).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// One JSON object per measurement per line.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: BenchArgs) -> Result<()> {
    if let Some(unknown) = args.only.iter().find(|o| !BENCHES.contains(&o.as_str())) {
        bail!("unknown benchmark {unknown:?}; known: {}", BENCHES.join(", "));
    }
    if args.scale <= 0.0 {
        bail!("--scale must be positive");
    }
    let mut backends = if args.skip_sqlite { vec![] } else { vec![BackendKind::Sqlite] };
    if args.database.as_deref().is_some_and(|u| u.starts_with("postgres")) {
        backends.push(BackendKind::Postgres);
    }
    if backends.is_empty() {
        bail!("--skip-sqlite needs a PostgreSQL URL in --database");
    }
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    if !args.json {
        println!(
            "{:<16} {:<9} {:>10} {:>14} {:>14} {:>7} {:>9} {:>9} {:>10}",
            "bench", "backend", "rows", "rows/s", "raw rows/s", "ratio", "p50 ms", "p99 ms", "peak MB"
        );
    }
    for kind in backends {
        if wanted("import_persons") {
            let m = import_persons(kind, args.database.as_deref(), args.scale).await?;
            report(&m, args.json);
        }
        let testing = ["register_round", "ingest_results", "recall_tube", "coverage_village", "coverage_county", "http_register"];
        if testing.iter().any(|b| wanted(b)) {
            for m in testing::run(kind, args.database.as_deref(), args.scale, &wanted).await? {
                report(&m, args.json);
            }
        }
        if ["cluster_insert", "cluster_exposures", "cluster_lookup"].iter().any(|b| wanted(b)) {
            for m in cases::run(kind, args.database.as_deref(), args.scale, &wanted).await? {
                report(&m, args.json);
            }
        }
        if ["schedule_recompute", "occupancy_board"].iter().any(|b| wanted(b)) {
            for m in observation::run(kind, args.database.as_deref(), args.scale, &wanted).await? {
                report(&m, args.json);
            }
        }
        if ["zone_designate", "health_code_lookup", "checkpoint_passage"].iter().any(|b| wanted(b)) {
            for m in control::run(kind, args.database.as_deref(), args.scale, &wanted).await? {
                report(&m, args.json);
            }
        }
        if ["daily_report", "clock_board", "instruction_fanout"].iter().any(|b| wanted(b)) {
            for m in command::run(kind, args.database.as_deref(), args.scale, &wanted).await? {
                report(&m, args.json);
            }
        }
        if wanted("stock_movements") || wanted("hotline_board") {
            for m in support::run(kind, args.database.as_deref(), args.scale, &wanted).await? {
                report(&m, args.json);
            }
        }
        if ["checkin_ingest", "contact_rings"].iter().any(|b| wanted(b)) {
            for m in checkins::run(kind, args.database.as_deref(), args.scale, &wanted).await? {
                report(&m, args.json);
            }
        }
    }
    Ok(())
}

fn report(m: &Measurement, json: bool) {
    if json {
        println!("{}", serde_json::to_string(m).expect("measurement serializes"));
    } else {
        let ms = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into());
        println!(
            "{:<16} {:<9} {:>10} {:>14.0} {:>14.0} {:>7.2} {:>9} {:>9} {:>10.0}",
            m.bench,
            m.backend,
            m.rows,
            m.rate,
            m.raw_rate,
            m.ratio,
            ms(m.p50_ms),
            ms(m.p99_ms),
            m.peak_rss_mb
        );
    }
}

/// 1,000,000 generated people through the real import pipeline (CSV text → decode → validate →
/// store) against the same people and households stored by plain prepared one-row INSERTs in
/// one transaction.
async fn import_persons(kind: BackendKind, server: Option<&str>, scale: f64) -> Result<Measurement> {
    let rows = ((1_000_000.0 * scale).round() as u32).max(100);
    let seed = 42;
    let people = import_cli::people(seed, rows);
    let csv = import_cli::person_csv(seed, rows, 0.0).into_bytes();

    let (s, store) = scratch(kind, server).await?;
    let started = Instant::now();
    let summary = cordon_store::import::import_persons(&store, Cursor::new(csv), &mut cordon_store::import::Quiet).await?;
    let secs = started.elapsed().as_secs_f64();
    if summary.inserted != u64::from(rows) {
        bail!("import stored {} of {rows} rows", summary.inserted);
    }
    s.finish(store).await?;

    let (s, store) = scratch(kind, server).await?;
    let started = Instant::now();
    let stored = store.insert_persons_plain(people).await?;
    let raw_secs = started.elapsed().as_secs_f64();
    if stored != u64::from(rows) {
        bail!("raw insert stored {stored} of {rows} rows");
    }
    s.finish(store).await?;

    let rate = f64::from(rows) / secs;
    let raw_rate = f64::from(rows) / raw_secs;
    Ok(Measurement {
        bench: "import_persons",
        backend: kind.as_str(),
        rows: u64::from(rows),
        rate,
        raw_rate,
        ratio: rate / raw_rate,
        peak_rss_mb: peak_rss_mb(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn import_bench_measures_both_paths_on_sqlite_and_postgres() {
        let m = import_persons(BackendKind::Sqlite, None, 0.002).await.unwrap();
        assert_eq!(m.rows, 2_000);
        assert!(m.rate > 0.0 && m.raw_rate > 0.0 && m.ratio > 0.0);
        let pg = cordon_store::scratch::test_pg_url();
        match import_persons(BackendKind::Postgres, Some(&pg), 0.001).await {
            Ok(m) => assert_eq!((m.backend, m.rows), ("postgres", 1_000)),
            Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL is required under CI: {e}"),
            Err(e) => eprintln!("warning: PostgreSQL bench skipped: {e}"),
        }
    }
}
