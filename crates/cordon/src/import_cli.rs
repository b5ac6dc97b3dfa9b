//! `cordon import …` and `cordon generate`: the CLI face of the import pipeline, with a progress
//! bar on a terminal and plain progress lines otherwise.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use cordon_domain::AreaCode;
use cordon_store::NewArea;
use cordon_store::import::{ImportObserver, Progress, RowError, import_persons};
use indicatif::{ProgressBar, ProgressStyle};

use crate::demo::county;

#[derive(Subcommand)]
pub enum ImportWhat {
    /// People: 身份证号/id_number, 姓名/name, 区划代码/area_code, and optionally 手机号/phone,
    /// 住址/address, 重点人群/tags, 证件类型, 性别, 出生日期. Importing again changes nothing.
    Persons {
        file: PathBuf,
        #[command(flatten)]
        db: crate::DatabaseArg,
        /// Write every refused row (line, kind, field, reason) to this CSV file.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// A line list of cases: 病例编号/case_id, and optionally 传染源/infector_ids, 发病日期/onset,
    /// 报告日期/report_date, 聚集性疫情/cluster_label, 发现途径/how_found, 本土或输入/origin,
    /// 分类/classification, 区划代码/area_code. Clusters follow the infector links. Importing
    /// again changes nothing.
    Linelist {
        file: PathBuf,
        #[command(flatten)]
        db: crate::DatabaseArg,
        /// The area of rows without an area code (and of a new incident).
        #[arg(long)]
        area: String,
        /// The incident, by name (created when missing); default: the incident holding the area.
        #[arg(long)]
        incident: Option<String>,
        /// Write every refused row and every warning (line, kind, field, reason) to this CSV file.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// Venues with their place codes: 场所码/code, 名称/name, 区划代码/area_code, optional 地址/address.
    Venues {
        file: PathBuf,
        #[command(flatten)]
        db: crate::DatabaseArg,
        /// Write every refused row and every warning (line, kind, field, reason) to this CSV file.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// Place-code scans: 身份证号/id_number, 场所码/venue_code, 扫码时间/at, optional 离开时间/left_at.
    /// Loading the same scans again changes nothing.
    Checkins {
        file: PathBuf,
        #[command(flatten)]
        db: crate::DatabaseArg,
        /// Write every refused row and every warning (line, kind, field, reason) to this CSV file.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// Workplace rosters (单位花名册): 单位/workplace, 身份证号/id_number, optional 班组/unit. A
    /// case's team-mates become candidates; a close contact's are proposed as secondary contacts.
    Roster {
        file: PathBuf,
        #[command(flatten)]
        db: crate::DatabaseArg,
        /// The area the workplaces are in.
        #[arg(long)]
        area: String,
        /// Write every refused row and every warning (line, kind, field, reason) to this CSV file.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// Areas: 区划代码/code and 名称/name (county 6, township 9, village 12 digits; the national
    /// padded forms too: 140100 is the city 1401, 140121100000 the township 140121100).
    Areas {
        file: PathBuf,
        #[command(flatten)]
        db: crate::DatabaseArg,
    },
    /// Area boundaries for the zone map: a GeoJSON FeatureCollection of Polygons and
    /// MultiPolygons in WGS 84 degrees, each feature keyed by its area code (adcode, code,
    /// 区划代码 or the feature id; national 6- and 12-digit forms are understood). An area's
    /// outline replaces its earlier one; features of areas not in the register are reported.
    Boundaries {
        file: PathBuf,
        #[command(flatten)]
        db: crate::DatabaseArg,
    },
}

pub async fn run(what: ImportWhat) -> Result<()> {
    match what {
        ImportWhat::Persons { file, db, errors } => persons(&file, &db.database, errors.as_deref()).await,
        ImportWhat::Areas { file, db } => areas(&file, &db.database).await,
        ImportWhat::Boundaries { file, db } => boundaries(&file, &db.database).await,
        ImportWhat::Linelist { file, db, area, incident, errors } => {
            linelist(&file, &db.database, &area, incident, errors.as_deref()).await
        }
        ImportWhat::Venues { file, db, errors } => venues(&file, &db.database, errors.as_deref()).await,
        ImportWhat::Checkins { file, db, errors } => checkins(&file, &db.database, errors.as_deref()).await,
        ImportWhat::Roster { file, db, area, errors } => roster(&file, &db.database, &area, errors.as_deref()).await,
    }
}

/// Shows progress and collects row errors for the terminal or a report file.
struct CliObserver {
    bar: Option<ProgressBar>,
    total_bytes: u64,
    started: Instant,
    last_line: Instant,
    report: Option<csv::Writer<BufWriter<File>>>,
    shown: usize,
}

/// Who the audit trail names for a command-line import: the operating-system user.
fn cli_actor() -> cordon_store::audit::Actor {
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    cordon_store::audit::Actor::system(&format!("cli:{who}"))
}

impl CliObserver {
    /// Progress lines on stderr (against `total_bytes`, when known), no report file.
    fn plain(total_bytes: u64) -> Self {
        CliObserver { bar: None, total_bytes, started: Instant::now(), last_line: Instant::now(), report: None, shown: 0 }
    }

    /// Progress lines, and the row report written to `errors` when one is asked for.
    fn reporting(total_bytes: u64, errors: Option<&Path>) -> Result<Self> {
        Ok(CliObserver { report: errors.map(report_file).transpose()?, ..CliObserver::plain(total_bytes) })
    }

    /// Flushes the report file, or says how many rows the terminal did not show.
    fn finish(&mut self, errors: Option<&Path>) -> Result<()> {
        if let Some(mut w) = self.report.take() {
            w.flush()?;
        }
        match errors {
            Some(path) => println!("refused rows and warnings written to {}", path.display()),
            None if self.shown > 20 => {
                eprintln!("… and {} more refused rows and warnings (use --errors report.csv to list them all)", self.shown - 20)
            }
            None => {}
        }
        Ok(())
    }
}

impl ImportObserver for CliObserver {
    fn progress(&mut self, p: &Progress) {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = p.rows as f64 / secs;
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.bytes_read);
                bar.set_message(format!("{} rows, {:.0} rows/s, {} new, {} invalid", p.rows, rate, p.inserted, p.invalid_rows));
            }
            None if self.last_line.elapsed() >= Duration::from_secs(2) => {
                self.last_line = Instant::now();
                let share = p.bytes_read as f64 / self.total_bytes.max(1) as f64;
                let eta = if share > 0.0 { secs / share - secs } else { 0.0 };
                eprintln!(
                    "progress: {} rows ({:.0} %), {:.0} rows/s, {} new, {} invalid, ETA {:.0} s",
                    p.rows,
                    share * 100.0,
                    rate,
                    p.inserted,
                    p.invalid_rows,
                    eta.max(0.0)
                );
            }
            None => {}
        }
    }

    fn row_error(&mut self, e: &RowError) {
        self.report_row("refused", e);
    }

    fn row_warning(&mut self, e: &RowError) {
        self.report_row("warning", e);
    }
}

impl CliObserver {
    /// One refused row or warning: into the report file, or (the first 20) on the terminal.
    fn report_row(&mut self, kind: &str, e: &RowError) {
        let reason = cordon_web::i18n::row_in_english(e);
        match &mut self.report {
            Some(w) => {
                let _ = w.write_record([e.line.to_string().as_str(), kind, e.field.unwrap_or(""), reason.as_str()]);
            }
            None if self.shown < 20 => {
                self.shown += 1;
                let line = format!("line {}: {kind}: {}: {reason}", e.line, e.field.unwrap_or("row"));
                match &self.bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
            None => self.shown += 1,
        }
    }
}

/// What every import says when it is done, in the same words: the file, its encoding, and its
/// rows stored, unchanged, with a warning and refused; `more` adds what this kind of file also did.
struct Summary<'a> {
    file: &'a Path,
    encoding: &'a str,
    rows: u64,
    stored: u64,
    unchanged: u64,
    warned: u64,
    refused: u64,
}

impl Summary<'_> {
    fn print(&self, more: &str) {
        println!(
            "imported {} ({}): {} rows — {} stored, {} unchanged, {} with a warning, {} refused{more}",
            self.file.display(),
            self.encoding,
            self.rows,
            self.stored,
            self.unchanged,
            self.warned,
            self.refused
        );
    }
}

fn seconds(ms: u64) -> String {
    format!(", in {:.1} s", ms as f64 / 1000.0)
}

/// The row report of an import, as every import writes it: UTF-8 with a BOM (so that Excel
/// opens it as UTF-8), one row per refused row or warning: line, kind, field, reason.
fn report_file(path: &Path) -> Result<csv::Writer<BufWriter<File>>> {
    let mut f = BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?);
    f.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(f);
    w.write_record(["line", "kind", "field", "reason"])?;
    Ok(w)
}

async fn persons(file: &Path, database: &str, errors: Option<&Path>) -> Result<()> {
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let total_bytes = input.metadata()?.len();
    let store = crate::open(database).await?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total_bytes);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% ETA {eta} {msg}").expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let report = errors.map(report_file).transpose()?;
    let mut observer = CliObserver { bar, total_bytes, started: Instant::now(), last_line: Instant::now(), report, shown: 0 };
    let result = import_persons(&store, input, &mut observer).await;
    if let Some(bar) = &observer.bar {
        bar.finish_and_clear();
    }
    if let Some(w) = observer.report.as_mut() {
        w.flush()?;
    }
    let summary = result?;
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let change = cordon_store::audit::Change::new("import", "persons", file.display()).after(serde_json::json!({
        "rows": summary.rows, "inserted": summary.inserted, "invalid_rows": summary.invalid_rows,
            "corrected_rows": summary.corrected_rows,
    }));
    store.record(&cordon_store::audit::Actor::system(&format!("cli:{who}")), &change).await?;
    if errors.is_none() && observer.shown > 20 {
        eprintln!("… and {} more row errors (use --errors report.csv to list them all)", observer.shown - 20);
    }
    let rate = summary.rows as f64 / (summary.elapsed_ms.max(1) as f64 / 1000.0);
    Summary {
        file,
        encoding: summary.encoding.as_str(),
        rows: summary.rows,
        stored: summary.inserted,
        unchanged: summary.unchanged,
        warned: summary.warned_rows,
        refused: summary.invalid_rows,
    }
    .print(&format!("{} ({rate:.0} rows/s)", seconds(summary.elapsed_ms)));
    if let Some(path) = errors {
        println!("row errors written to {}", path.display());
    }
    store.close().await;
    Ok(())
}

async fn linelist(file: &Path, database: &str, area: &str, incident: Option<String>, errors: Option<&Path>) -> Result<()> {
    let area = AreaCode::parse(area).map_err(|e| anyhow::anyhow!("--area {area:?}: {e}"))?;
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let store = crate::open(database).await?;
    let actor = cli_actor();
    let mut observer = CliObserver::reporting(0, errors)?;
    let target = cordon_store::linelist::LinelistTarget { area, incident };
    let s = cordon_store::linelist::import_linelist(&store, &actor, input, &target, &mut observer, None).await?;
    observer.finish(errors)?;
    Summary {
        file,
        encoding: s.encoding.as_str(),
        rows: s.rows,
        stored: s.inserted,
        unchanged: s.unchanged,
        warned: s.warned_rows,
        refused: s.invalid_rows,
    }
    .print(&format!(
        "; into incident {}: {} infector links ({} unknown infectors), {} clusters{}",
        s.incident_id,
        s.links,
        s.unknown_infectors,
        s.clusters,
        seconds(s.elapsed_ms)
    ));
    store.close().await;
    Ok(())
}

/// A CSV file (UTF-8 or GBK) opened for reading, with its header line.
fn csv_file(file: &Path) -> Result<(csv::Reader<Box<dyn std::io::Read + Send>>, csv::StringRecord)> {
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let (_, text) = cordon_store::decode::utf8_reader(input)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text);
    let headers = reader.headers()?.clone();
    Ok((reader, headers))
}

/// The position of the first header spelled one of `names` (see `cordon_domain::header`).
fn column(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    cordon_domain::header::position(headers, names)
}

async fn venues(file: &Path, database: &str, errors: Option<&Path>) -> Result<()> {
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let store = crate::open(database).await?;
    let mut observer = CliObserver::reporting(0, errors)?;
    let s = cordon_store::checkins::import_venues(&store, input, None, &mut observer).await?;
    observer.finish(errors)?;
    let (encoding, stored, refused) = (s.encoding.as_str(), s.inserted, s.invalid_rows);
    Summary { file, encoding, rows: s.rows, stored, unchanged: s.unchanged, warned: 0, refused }.print(&seconds(s.elapsed_ms));
    store.close().await;
    Ok(())
}

async fn checkins(file: &Path, database: &str, errors: Option<&Path>) -> Result<()> {
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let total_bytes = input.metadata()?.len();
    let store = crate::open(database).await?;
    let mut observer = CliObserver::reporting(total_bytes, errors)?;
    let s = cordon_store::checkins::import_checkins(&store, input, &mut observer).await?;
    observer.finish(errors)?;
    let (encoding, stored, refused) = (s.encoding.as_str(), s.inserted, s.invalid_rows);
    let unchanged = s.rows - stored - refused;
    Summary { file, encoding, rows: s.rows, stored, unchanged, warned: 0, refused }.print(&seconds(s.elapsed_ms));
    store.close().await;
    Ok(())
}

async fn roster(file: &Path, database: &str, area: &str, errors: Option<&Path>) -> Result<()> {
    let area = AreaCode::parse(area).map_err(|e| anyhow::anyhow!("--area {area:?}: {e}"))?;
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let store = crate::open(database).await?;
    let actor = cli_actor();
    let mut observer = CliObserver::reporting(0, errors)?;
    let s = cordon_store::workplaces::import_roster(&store, &actor, input, &area, &mut observer).await?;
    observer.finish(errors)?;
    let (encoding, stored, refused) = (s.encoding.as_str(), s.members, s.invalid_rows);
    let unchanged = s.rows - stored - refused;
    Summary { file, encoding, rows: s.rows, stored, unchanged, warned: 0, refused }.print(&format!("; {} new workplaces", s.workplaces));
    store.close().await;
    Ok(())
}

async fn areas(file: &Path, database: &str) -> Result<()> {
    let (areas, bad) = read_areas(file)?;
    let store = crate::open(database).await?;
    store.upsert_areas(&areas).await?;
    store.refresh_populations().await?;
    println!("imported {} areas, {} invalid rows", areas.len(), bad);
    store.close().await;
    Ok(())
}

async fn boundaries(file: &Path, database: &str) -> Result<()> {
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let store = crate::open(database).await?;
    let source = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let done = store.import_boundaries(input, &source).await;
    store.close().await;
    let done = match done {
        Ok(d) => d,
        Err(e) => match e.refusal() {
            Some(r) => bail!("{}: nothing imported: {}", file.display(), cordon_web::i18n::in_english(r)),
            None => return Err(e.into()),
        },
    };
    for p in done.problems.iter().take(50) {
        let code = p.code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
        eprintln!("feature {}{code}: {}", p.feature, cordon_web::i18n::in_english(&p.reason));
    }
    if done.problems.len() > 50 {
        eprintln!("… and {} more features refused", done.problems.len() - 50);
    }
    println!("imported {} of {} features ({}), {} refused", done.imported, done.features, done.encoding.as_str(), done.problems.len());
    Ok(())
}

/// The areas of a CSV file (区划代码/code, 名称/name), and how many rows were refused (each said on
/// stderr). Codes may be written the national way: 140100 is the city 1401, 140121100000 the
/// township 140121100 (`cordon_domain::boundary::national_code`), as boundary files key them.
fn read_areas(file: &Path) -> Result<(Vec<NewArea>, usize)> {
    let (mut reader, headers) = csv_file(file)?;
    let find = |names: &[&str]| column(&headers, names);
    let (Some(code_col), Some(name_col)) = (find(&["code", "区划代码", "代码"]), find(&["name", "名称", "区划名称"])) else {
        bail!("the file needs columns 区划代码/code and 名称/name");
    };
    let mut areas = Vec::new();
    let mut bad = 0;
    for (i, rec) in reader.records().enumerate() {
        let rec = rec?;
        let line = i + 2;
        let code = rec.get(code_col).unwrap_or("");
        let name = rec.get(name_col).unwrap_or("").trim();
        match cordon_domain::boundary::national_code(code) {
            Ok(code) if !name.is_empty() => areas.push(NewArea { code, name: name.to_string() }),
            Ok(_) => {
                bad += 1;
                eprintln!("line {line}: name: is empty");
            }
            Err(e) => {
                bad += 1;
                eprintln!("line {line}: code: {code:?} {e}");
            }
        }
    }
    Ok((areas, bad))
}

/// Writes the demo county's boundaries as GeoJSON, for `cordon import boundaries`.
pub fn write_boundaries(path: &Path, seed: u64) -> Result<()> {
    let text = crate::demo::boundaries::geojson(&county::areas(seed), seed);
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes the demo county's areas as CSV (区划代码, 名称).
pub fn write_areas_csv(path: &Path, seed: u64) -> Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("creating {}", path.display()))?;
    w.write_record(["区划代码", "名称"])?;
    let areas = county::areas(seed);
    for a in &areas {
        w.write_record([a.code.as_str(), a.name.as_str()])?;
    }
    w.flush()?;
    println!("wrote {} areas to {}", areas.len(), path.display());
    Ok(())
}

/// Writes `rows` people of the demo county as CSV, spoiling a share `bad` of them on purpose.
pub fn generate_csv(path: &Path, rows: u32, seed: u64, encoding: &str, bad: f64) -> Result<()> {
    let gbk = match encoding.to_ascii_lowercase().as_str() {
        "utf8" | "utf-8" => false,
        "gbk" | "gb18030" => true,
        other => bail!("unknown encoding {other:?} (utf8 or gbk)"),
    };
    let text = person_csv(seed, rows, bad);
    let mut out = BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?);
    if gbk {
        let (bytes, _, _) = encoding_rs::GBK.encode(&text);
        out.write_all(&bytes)?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    println!("wrote {rows} rows to {} ({})", path.display(), if gbk { "GBK" } else { "UTF-8" });
    Ok(())
}

/// The demo county's people as a CSV text with Chinese headers; `bad` of the rows get a wrong
/// check digit or phone number.
pub fn person_csv(seed: u64, rows: u32, bad: f64) -> String {
    let people = people(seed, rows);
    let mut rng = crate::demo::rng::Rng::new(seed ^ 0xBAD);
    let mut s = String::with_capacity(people.len() * 110);
    s.push_str("身份证号,姓名,性别,手机号,区划代码,住址,重点人群\n");
    for p in &people {
        let mut id = p.document.number().to_string();
        let mut phone = p.phone.as_ref().map(|x| x.to_string()).unwrap_or_default();
        if bad > 0.0 && rng.chance(bad) {
            if rng.chance(0.5) {
                let last = id.pop().expect("18 chars");
                id.push(if last == '0' { '1' } else { '0' });
            } else {
                phone = "1234".into();
            }
        }
        let tags: Vec<&str> = cordon_domain::Vulnerability::STORED.iter().filter(|v| p.tags.has(**v)).map(|v| v.label_zh()).collect();
        s.push_str(&format!(
            "{id},{},{},{phone},{},{},{}\n",
            p.name,
            p.sex.label_zh(),
            p.area_code,
            p.address.as_deref().unwrap_or(""),
            tags.join("、")
        ));
    }
    s
}

/// Exactly `rows` people of the demo county generated for `seed`.
pub fn people(seed: u64, rows: u32) -> Vec<cordon_domain::NewPerson> {
    let mut people = county::generate(seed, rows + rows / 4 + 100).people;
    people.truncate(rows as usize);
    people
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_area_list_in_gbk_with_national_codes_reads_as_the_register_keys_areas() {
        let text = "区划代码,名称\r\n140100,太原市\r\n140121,清徐县\r\n140121100000,清源镇\r\n140121100201,东关村\r\n14012,坏代码\r\n140121101,\r\n";
        let (gbk, _, lossy) = encoding_rs::GBK.encode(text);
        assert!(!lossy);
        let path = std::env::temp_dir().join(format!("cordon-areas-{}.csv", std::process::id()));
        std::fs::write(&path, &gbk).unwrap();
        let (areas, bad) = read_areas(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let read: Vec<(&str, &str)> = areas.iter().map(|a| (a.code.as_str(), a.name.as_str())).collect();
        assert_eq!(read, [("1401", "太原市"), ("140121", "清徐县"), ("140121100", "清源镇"), ("140121100201", "东关村")]);
        assert_eq!(bad, 2, "a five-digit code and a blank name");
    }
}
