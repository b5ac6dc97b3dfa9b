//! `cordon`: the one binary — server, demo, imports, migrations and benchmarks.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use cordon_store::Store;

mod accounts_cli;
mod bench;
#[cfg(test)]
mod crash_tests;
mod demo;
mod epi_cli;
mod import_cli;

const DEFAULT_DATABASE: &str = "sqlite://./data/cordon.db";

#[derive(Parser)]
#[command(name = "cordon", version, about = "Cordon — outbreak command platform (疫情防控指挥平台)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DatabaseArg {
    /// `sqlite://PATH` (created when missing) or `postgres://user@host/db`.
    #[arg(long, env = "CORDON_DATABASE", default_value = DEFAULT_DATABASE)]
    database: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and the API (migrations run first).
    Serve {
        #[command(flatten)]
        db: DatabaseArg,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Also take HL7 v2 ORU^R01 lab results over MLLP on this address (e.g. 127.0.0.1:2575).
        #[arg(long, requires = "mllp_user")]
        mllp: Option<SocketAddr>,
        /// The lab account MLLP results are recorded as (needs lab.write).
        #[arg(long)]
        mllp_user: Option<String>,
    },
    /// Bring the database schema up to date.
    Migrate {
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Import records from a CSV file (UTF-8 or GBK, Chinese or English headers).
    Import {
        #[command(subcommand)]
        what: import_cli::ImportWhat,
    },
    /// Generate the demo county (about 350,000 residents) into an empty database, then serve it.
    Demo {
        #[command(flatten)]
        db: DatabaseArg,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seed of the generator: the same seed gives the same county.
        #[arg(long, default_value_t = 20220413)]
        seed: u64,
        /// Generate only; do not start the server.
        #[arg(long)]
        no_serve: bool,
        /// Start over: delete the SQLite database first (its -wal and -shm too), then generate
        /// the demo anew with new passwords. (A PostgreSQL database is dropped by its owner.)
        #[arg(long)]
        reset: bool,
    },
    /// Write a synthetic person list of the demo county as CSV, to try imports with.
    Generate {
        /// Output file.
        file: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        rows: u32,
        #[arg(long, default_value_t = 20220413)]
        seed: u64,
        /// utf8 or gbk.
        #[arg(long, default_value = "utf8")]
        encoding: String,
        /// Share of rows to spoil on purpose (0.01 = 1 %), to see the error report.
        #[arg(long, default_value_t = 0.0)]
        bad: f64,
        /// Also write the county's areas (区划代码, 名称) to this file, for `cordon import areas`.
        #[arg(long)]
        areas: Option<PathBuf>,
        /// Also write the county's boundaries (GeoJSON) to this file, for `cordon import boundaries`.
        #[arg(long)]
        boundaries: Option<PathBuf>,
    },
    /// Measure the hot paths against the machine's raw limit, in the same run.
    Bench(bench::BenchArgs),
    /// Manage accounts.
    User {
        #[command(subcommand)]
        cmd: accounts_cli::UserCommand,
    },
    /// Manage bearer API tokens for the CLI and integrations.
    Token {
        #[command(subcommand)]
        cmd: accounts_cli::TokenCommand,
    },
    /// Copy the SQLite database to FILE while it serves (a consistent copy of one instant).
    /// On PostgreSQL use pg_dump: the README gives the commands.
    Backup {
        #[command(flatten)]
        db: DatabaseArg,
        /// The new file (it must not exist yet).
        file: PathBuf,
    },
    /// Put a backup made by `cordon backup` in place of the SQLite database (stop the server
    /// first). The backup is checked before it replaces anything.
    Restore {
        #[command(flatten)]
        db: DatabaseArg,
        /// The backup file.
        file: PathBuf,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        cmd: AuditCommand,
    },
    /// Epidemiological methods on files: Rt by Cori et al. (2013), as EpiEstim computes it.
    Epi {
        #[command(subcommand)]
        cmd: epi_cli::EpiCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit chain from the first event to the last; say where it breaks. Exits 1 when
    /// it is broken.
    Verify {
        #[command(flatten)]
        db: DatabaseArg,
    },
}

/// mimalloc instead of glibc's allocator: a request allocates and frees many small blocks across
/// tokio's threads, and glibc's arenas spent about a seventh of the server's CPU on it under the
/// station's load (`malloc_consolidate` on every buffer over a kilobyte), measured with `perf`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=error".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { db, listen, mllp, mllp_user } => {
            let store = open(&db.database).await?;
            if let (Some(addr), Some(user)) = (mllp, mllp_user) {
                start_mllp(&store, addr, user).await?;
            }
            serve(store, listen).await
        }
        Command::Migrate { db } => {
            open(&db.database).await?;
            eprintln!("schema is up to date: {}", db.database);
            Ok(())
        }
        Command::Import { what } => import_cli::run(what).await,
        Command::Demo { db, listen, seed, no_serve, reset } => {
            if reset {
                demo::reset(&db.database)?;
            }
            let store = open(&db.database).await?;
            if demo::holds_data(&store).await? {
                eprintln!("{}", demo::already_there(&db.database));
                return if no_serve { Ok(()) } else { serve(store, listen).await };
            }
            match demo::load(&store, seed, demo::DEMO_POPULATION).await {
                Ok(l) => {
                    eprintln!(
                        "demo county {} generated in {:.1} s: {} areas, {} households, {} people",
                        demo::county::COUNTY_NAME,
                        l.seconds,
                        l.areas,
                        l.households,
                        l.people
                    );
                    let county = cordon_domain::AreaCode::parse(demo::county::COUNTY_CODE)?;
                    let accounts = accounts_cli::demo_accounts(&store, &county).await?;
                    println!("\nDemo accounts (passwords are shown only now):");
                    println!("  {:<28} {:<22} {:<16} password", "user", "role", "area");
                    for (user, role, password, area) in accounts {
                        println!("  {:<28} {:<22} {:<16} {}", user, format!("{} {}", role.as_str(), role.label_zh()), area, password);
                    }
                    println!();
                    demo::command::open(&store, chrono::Utc::now()).await.context("opening the response")?;
                    let started = std::time::Instant::now();
                    let r = demo::replay::replay(&store, "demo_testing_officer", "demo_lab", seed, chrono::Utc::now())
                        .await
                        .context("replaying the evening's mass testing")?;
                    eprintln!(
                        "mass testing of the eastern townships replayed in {:.1} s: {} people in {} tubes at {} sites, {} tubes resulted, {} members of positive pools recalled",
                        started.elapsed().as_secs_f64(),
                        r.sampled,
                        r.tubes,
                        r.sites,
                        r.resulted,
                        r.recalls
                    );
                    eprintln!("its coverage dashboard: http://{listen}/coverage?round={}", r.round_id);
                    let started = std::time::Instant::now();
                    match demo::outbreak::trace(&store, "demo_investigator", seed, chrono::Utc::now())
                        .await
                        .context("replaying the investigation")?
                    {
                        Some(t) => {
                            eprintln!(
                                "investigation replayed in {:.1} s: {} park employees ({} never scanned the place code, {} of their team found on the roster), {} cases, {} close and {} secondary contacts, {} handed over for transfer",
                                started.elapsed().as_secs_f64(),
                                t.employees,
                                t.unscanned,
                                t.from_roster,
                                t.cases,
                                t.close,
                                t.secondary,
                                t.handed_over
                            );
                            eprintln!("the index case: http://{listen}/cases/{}", t.index_case);
                            if let Some(c) = t.cluster_id {
                                eprintln!("its cluster: http://{listen}/clusters/{c}");
                            }
                            let q =
                                demo::quarantine::settle(&store, seed, t.index_case).await.context("replaying quarantine and transfers")?;
                            eprintln!(
                                "quarantine: {} with {} beds, {} close contacts given rooms, {} started home quarantine, {} buses planned ({} people arrived and checked in), {} tested at the doors on day 1 ({} positive, now a case), {} cases taken to hospital; {} people released at home",
                                demo::quarantine::SITE,
                                q.beds,
                                q.roomed,
                                q.at_home,
                                q.buses,
                                q.arrived,
                                q.sampled,
                                q.converted,
                                q.in_hospital,
                                q.released
                            );
                            eprintln!(
                                "the site: http://{listen}/quarantine/sites/{} · dispatch: http://{listen}/dispatch · at home: http://{listen}/observation/home",
                                q.site_id
                            );
                            if let Some(cluster) = t.cluster_id {
                                let drawn = demo::zones::draw(&store, "demo_commander", cluster).await.context("drawing the zones")?;
                                let said: Vec<String> =
                                    drawn.zones.iter().map(|(_, name, kind, n)| format!("{name} ({kind}, {n} residents)")).collect();
                                eprintln!("zones drawn: {}; {} health codes derived", said.join(", "), drawn.codes);
                                eprintln!(
                                    "the zones and their countdowns: http://{listen}/zones · the bulletin: http://{listen}/zones/bulletin"
                                );
                                let (sealed, controlled) = drawn.guarded();
                                let evening = demo::checkpoints::evening(
                                    &store,
                                    "demo_commander",
                                    "demo_checkpoint_officer",
                                    &sealed,
                                    controlled,
                                    seed,
                                )
                                .await
                                .context("the checkpoints' evening")?;
                                eprintln!(
                                    "checkpoints: {} with their shifts, {} passages this evening ({} turned back, {} arrivals registered): http://{listen}/checkpoints · health codes: http://{listen}/health-codes",
                                    evening.checkpoints, evening.passages, evening.refused, evening.arrivals
                                );
                                let site_area = county.child(100).unwrap_or_else(|| county.clone());
                                let day = demo::support::day(&store, &sealed, (q.site_id, site_area.as_str()), seed, chrono::Utc::now())
                                    .await
                                    .context("the support's first day")?;
                                eprintln!(
                                    "supplies: {} trucks received at {} ({} rows, {} refused and reported), {} requests, {} deliveries ({} at the door): http://{listen}/supplies · http://{listen}/supplies/requests",
                                    demo::support::TRUCKS,
                                    demo::support::STORE,
                                    day.received_rows,
                                    day.refused_rows,
                                    day.requests,
                                    day.deliveries,
                                    day.delivered
                                );
                                eprintln!(
                                    "hotline: {} tickets from {} calls, {} overdue, {} called back, {} closed, {} raised a supply request: http://{listen}/hotline",
                                    day.tickets,
                                    demo::support::CALLS,
                                    day.overdue,
                                    day.called_back,
                                    day.closed,
                                    day.raised
                                );
                            }
                            let hq = demo::command::headquarters(&store).await.context("the headquarters")?;
                            eprintln!(
                                "headquarters: level I, {} task forces with their leads, {} instructions to {} recipients: http://{listen}/command · http://{listen}/instructions",
                                hq.task_forces, hq.instructions, hq.recipients
                            );
                            // The figures the pages show, now that every chapter is in.
                            let all = demo::quarantine::totals(&store).await?;
                            eprintln!(
                                "in all: {} cases ({} in the park cluster, the others found in the site or imported), {} investigations on the desk",
                                all.cases, all.largest_cluster, all.investigations
                            );
                        }
                        None => eprintln!("no positive to investigate"),
                    }
                }
                Err(e) => eprintln!("demo not generated: {e:#}"),
            }
            if no_serve { Ok(()) } else { serve(store, listen).await }
        }
        Command::Generate { file, rows, seed, encoding, bad, areas, boundaries } => {
            if let Some(path) = areas {
                import_cli::write_areas_csv(&path, seed)?;
            }
            if let Some(path) = boundaries {
                import_cli::write_boundaries(&path, seed)?;
            }
            import_cli::generate_csv(&file, rows, seed, &encoding, bad)
        }
        Command::Bench(args) => bench::run(args).await,
        Command::User { cmd } => accounts_cli::user(cmd).await,
        Command::Token { cmd } => accounts_cli::token(cmd).await,
        Command::Audit { cmd: AuditCommand::Verify { db } } => audit_verify(&db.database).await,
        Command::Epi { cmd } => epi_cli::run(cmd),
        Command::Backup { db, file } => {
            open(&db.database).await?.backup(&file).await?;
            eprintln!("backed up {} to {}", db.database, file.display());
            Ok(())
        }
        Command::Restore { db, file } => {
            let restored = cordon_store::backup::restore(&file, &db.database)?;
            eprintln!("restored {} to {} ({} migrations)", file.display(), restored.path.display(), restored.migrations);
            audit_verify(&db.database).await
        }
    }
}

/// `cordon audit verify`: the chain's state in a few lines; exit status 1 when it is broken.
async fn audit_verify(url: &str) -> Result<()> {
    let check = open(url).await?.verify_audit().await?;
    println!("{} audit events read", check.events);
    if check.before_chain > 0 {
        println!("{} events from before the chain began (written by an older Cordon)", check.before_chain);
    }
    for b in &check.breaks {
        let why = match b.kind {
            "unsealed" => "has no hash: written into the database outside Cordon",
            "unreadable" => "holds a value Cordon never writes: written into the database outside Cordon",
            _ => "does not follow from its contents and the event before it: changed, or an event before it removed or added by hand",
        };
        let at = b.at.map(|t| t.format("%F %T ").to_string()).unwrap_or_default();
        println!("broken at event {} ({at}{} {}): {why}", b.id, b.action, b.entity);
    }
    if check.broken as usize > check.breaks.len() {
        println!("… {} breaks in all", check.broken);
    }
    if let Some((id, hash)) = &check.head {
        println!("head: event {id} {hash}");
    }
    if check.broken > 0 {
        anyhow::bail!("the audit chain is broken at {} events", check.broken);
    }
    println!("the chain is intact");
    Ok(())
}

async fn open(url: &str) -> Result<Store> {
    Store::open_and_migrate(url).await.with_context(|| format!("opening database {url}"))
}

/// Starts the MLLP listener for lab systems, recording results as `user`.
async fn start_mllp(store: &Store, addr: SocketAddr, user: String) -> Result<()> {
    let principal = store.principal_by_name(&user).await?.with_context(|| format!("no enabled account {user} for --mllp-user"))?;
    if !principal.can(cordon_domain::access::Permission::LabWrite) {
        anyhow::bail!("account {user} has no lab.write permission: it cannot record results");
    }
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("MLLP listening on {addr}"))?;
    eprintln!("HL7 MLLP listener at {} (results recorded as {user})", listener.local_addr()?);
    let store = store.clone();
    tokio::spawn(async move {
        if let Err(e) = cordon_web::mllp::serve(store, listener, user).await {
            tracing::error!("MLLP listener stopped: {e}");
        }
    });
    Ok(())
}

async fn serve(store: Store, listen: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    if std::io::stderr().is_terminal() {
        eprintln!("Cordon is serving at \x1b[1m{url}\x1b[0m (Ctrl-C to stop)");
    } else {
        eprintln!("Cordon is serving at {url}");
    }
    // The contact graph is read from the store in the background; look-ups use SQL meanwhile.
    store.warm_contact_graph();
    // Health codes are derived again as their facts change, their reviews fall due and rounds end.
    store.keep_codes_current(std::time::Duration::from_secs(5));
    // Instructions past their deadline are escalated (督办) to their issuer and leads.
    store.keep_escalating(std::time::Duration::from_secs(30));
    cordon_web::serve(store.clone(), listener).await?;
    store.close().await;
    Ok(())
}
