//! `cordon epi`: the epidemiologists' methods (`cordon_domain::epi`) on files, to check them
//! against their own tools.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Subcommand;
use cordon_domain::epi::{DayCases, Prior, QUANTILES, RtWindow, check_si, discretised_si, estimate_rt};

#[derive(Subcommand)]
pub enum EpiCommand {
    /// The instantaneous reproduction number Rt by Cori et al. (2013), as EpiEstim's
    /// `estimate_R` computes it: one line (or JSON object) per sliding window, days numbered
    /// from 1 as EpiEstim numbers them.
    Rt(RtArgs),
}

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("si").required(true).args(["si_distr", "si_mean"]))]
pub struct RtArgs {
    /// The daily cases: a CSV of `date,local,imported` rows (UTF-8 or GBK; a day missing counts
    /// as none).
    #[arg(long)]
    incidence: PathBuf,
    /// The serial interval day by day: a CSV of `day,probability` rows from day 0 (whose
    /// probability is 0), summing to 1.
    #[arg(long)]
    si_distr: Option<PathBuf>,
    /// The serial interval's mean in days, discretised from a Gamma distribution offset by one
    /// day (with --si-sd).
    #[arg(long, requires = "si_sd")]
    si_mean: Option<f64>,
    /// The serial interval's standard deviation in days.
    #[arg(long, requires = "si_mean")]
    si_sd: Option<f64>,
    /// Days in each window.
    #[arg(long, default_value_t = 7)]
    window: usize,
    /// A JSON object per window instead of a line of figures.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: EpiCommand) -> Result<()> {
    match cmd {
        EpiCommand::Rt(args) => {
            for line in rt_lines(&args)? {
                println!("{line}");
            }
            Ok(())
        }
    }
}

/// What `cordon epi rt` prints.
fn rt_lines(args: &RtArgs) -> Result<Vec<String>> {
    let days = read_incidence(&args.incidence)?;
    let si = match (&args.si_distr, args.si_mean, args.si_sd) {
        (Some(file), _, _) => {
            let si = read_si(file)?;
            check_si(&si).with_context(|| format!("{}", file.display()))?;
            si
        }
        // Days 0 to T − 1, as EpiEstim discretises it (its mean decides the first windows).
        (None, Some(mean), Some(sd)) => discretised_si(mean, sd, days.len())?,
        _ => bail!("give --si-distr FILE, or --si-mean and --si-sd"),
    };
    let windows = estimate_rt(&days, &si, args.window, Prior::default())?;
    let mut out = Vec::with_capacity(windows.len() + 1);
    if !args.json {
        let quantiles: Vec<String> = QUANTILES.iter().map(|q| format!("q{q}")).collect();
        out.push(format!("t_start t_end mean std {}", quantiles.join(" ")));
    }
    out.extend(windows.iter().map(|w| if args.json { json(w) } else { line(w) }));
    Ok(out)
}

/// A window's figures; NA where it has no estimate (as EpiEstim prints it).
fn line(w: &RtWindow) -> String {
    let figures: Vec<String> = match &w.posterior {
        Some(p) => [p.mean, p.std].iter().chain(&p.quantiles).map(|x| format!("{x:.9}")).collect(),
        None => vec!["NA".to_string(); 2 + QUANTILES.len()],
    };
    format!("{} {} {}", w.t_start, w.t_end, figures.join(" "))
}

/// A window as a JSON object; its figures null where it has no estimate.
fn json(w: &RtWindow) -> String {
    let (mean, std, quantiles) = match &w.posterior {
        Some(p) => (
            serde_json::json!(p.mean),
            serde_json::json!(p.std),
            QUANTILES.iter().zip(p.quantiles).map(|(k, q)| (k.to_string(), serde_json::json!(q))).collect(),
        ),
        None => {
            (serde_json::Value::Null, serde_json::Value::Null, QUANTILES.iter().map(|k| (k.to_string(), serde_json::Value::Null)).collect())
        }
    };
    let quantiles: serde_json::Map<String, serde_json::Value> = quantiles;
    serde_json::json!({"t_start": w.t_start, "t_end": w.t_end, "mean": mean, "std": std, "quantiles": quantiles}).to_string()
}

/// A CSV file's rows as text (UTF-8 with or without BOM, or GBK), by the named columns, each with
/// its line number.
fn rows(file: &Path, columns: [&str; 3]) -> Result<Vec<(u64, Vec<String>)>> {
    let opened = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let (_, mut reader) = cordon_store::decode::utf8_reader(opened)?;
    let mut text = String::new();
    reader.read_to_string(&mut text).with_context(|| format!("{} does not read as text", file.display()))?;
    let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = csv.headers()?.clone();
    let at: Vec<Option<usize>> = columns.iter().map(|c| headers.iter().position(|h| h.eq_ignore_ascii_case(c))).collect();
    let needed = if columns[2].is_empty() { 2 } else { 3 };
    if let Some(missing) = columns[..needed].iter().zip(&at).find(|(_, a)| a.is_none()).map(|(c, _)| c) {
        bail!("{}: no column {missing} (the first line must name {})", file.display(), columns[..needed].join(","));
    }
    let mut out = Vec::new();
    for record in csv.records() {
        let record = record.with_context(|| format!("{}", file.display()))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut values = Vec::with_capacity(needed);
        for (column, a) in columns[..needed].iter().zip(&at) {
            // An empty cell is none; a row cut short is not read as one.
            match a.and_then(|i| record.get(i)) {
                Some(v) => values.push(v.to_string()),
                None => bail!("{} line {line}: no value for {column} (the row has {} fields)", file.display(), record.len()),
            }
        }
        out.push((line, values));
    }
    Ok(out)
}

/// The daily cases from first day to last, a day missing counted as none; a date twice, a date
/// or count that does not read, is said with its line.
fn read_incidence(file: &Path) -> Result<Vec<DayCases>> {
    let mut by_day: BTreeMap<NaiveDate, DayCases> = BTreeMap::new();
    for (line, v) in rows(file, ["date", "local", "imported"])? {
        let date = NaiveDate::parse_from_str(&v[0], "%Y-%m-%d")
            .with_context(|| format!("{} line {line}: the date {:?} is not YYYY-MM-DD", file.display(), v[0]))?;
        let count = |s: &str, what: &str| -> Result<u64> {
            if s.is_empty() {
                return Ok(0);
            }
            s.parse().with_context(|| format!("{} line {line}: {what} {s:?} is not a count of cases", file.display()))
        };
        let day = DayCases { local: count(&v[1], "local")?, imported: count(&v[2], "imported")? };
        if by_day.insert(date, day).is_some() {
            bail!("{} line {line}: {date} is there twice", file.display());
        }
    }
    let (Some(first), Some(last)) = (by_day.keys().next().copied(), by_day.keys().next_back().copied()) else {
        bail!("{}: no days", file.display());
    };
    // A year typed wrong would make tens of thousands of days.
    if (last - first).num_days() > 3660 {
        bail!("{}: the days run from {first} to {last}, over ten years: is a year typed wrong?", file.display());
    }
    Ok(first.iter_days().take_while(|d| *d <= last).map(|d| by_day.get(&d).copied().unwrap_or_default()).collect())
}

/// The serial interval's probabilities from day 0, each day once and none missing.
fn read_si(file: &Path) -> Result<Vec<f64>> {
    let mut si = Vec::new();
    for (line, v) in rows(file, ["day", "probability", ""])? {
        let day: usize =
            v[0].parse().with_context(|| format!("{} line {line}: the day {:?} is not a whole number", file.display(), v[0]))?;
        let p: f64 = v[1].parse().with_context(|| format!("{} line {line}: {:?} is not a probability", file.display(), v[1]))?;
        if day != si.len() {
            bail!("{} line {line}: day {day} where day {} was due (days run from 0, one a line)", file.display(), si.len());
        }
        si.push(p);
    }
    Ok(si)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cordon-epi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The worked example of `cordon_domain::epi`'s tests, as a file: 20 days from 1 April.
    fn incidence(crlf: bool, bom: bool) -> Vec<u8> {
        let local = [0, 1, 2, 2, 3, 5, 6, 8, 10, 12, 15, 14, 16, 18, 17, 15, 13, 12, 10, 8];
        let imported = [2, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("date,local,imported{end}");
        for (d, (l, i)) in local.iter().zip(imported).enumerate() {
            text.push_str(&format!("2022-04-{:02},{l},{i}{end}", d + 1));
        }
        let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
        bytes.extend(text.into_bytes());
        bytes
    }

    fn args(incidence: PathBuf) -> RtArgs {
        RtArgs { incidence, si_distr: None, si_mean: Some(3.0), si_sd: Some(2.0), window: 7, json: false }
    }

    #[test]
    fn rt_from_a_file_prints_the_worked_examples_windows() {
        for (crlf, bom) in [(false, false), (true, true)] {
            let lines = rt_lines(&args(file(&format!("i-{crlf}.csv"), &incidence(crlf, bom)))).unwrap();
            assert_eq!(lines.len(), 14, "a header and 13 windows");
            assert!(lines[0].starts_with("t_start t_end mean std q0.025"), "{}", lines[0]);
            // The figures SciPy gives for the first window (cordon_domain::epi's tests).
            let first: Vec<f64> = lines[1].split(' ').map(|x| x.parse().unwrap()).collect();
            let want = [
                2.0,
                8.0,
                2.0097008558,
                0.3797977624,
                1.3354316237,
                1.4283689593,
                1.7421954976,
                1.9858271428,
                2.2512029923,
                2.6724831214,
                2.8195803307,
            ];
            for (got, want) in first.iter().zip(want) {
                assert!((got - want).abs() < 1e-6, "{got} against {want}: {}", lines[1]);
            }
        }
    }

    #[test]
    fn rt_as_json_and_with_a_serial_interval_file() {
        let si = file("si.csv", b"day,probability\r\n0,0\r\n1,0.3\r\n2,0.5\r\n3,0.2\r\n");
        let a = RtArgs { si_distr: Some(si), si_mean: None, si_sd: None, json: true, ..args(file("i.csv", &incidence(false, false))) };
        let lines = rt_lines(&a).unwrap();
        assert_eq!(lines.len(), 13);
        let w: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!((w["t_start"].as_u64(), w["t_end"].as_u64()), (Some(2), Some(8)));
        let (mean, median) = (w["mean"].as_f64().unwrap(), w["quantiles"]["0.5"].as_f64().unwrap());
        assert!(mean > 1.0 && median < mean, "{w}");
    }

    #[test]
    fn windows_too_early_for_the_serial_interval_print_na() {
        let a = RtArgs { si_mean: Some(15.0), si_sd: Some(5.0), ..args(file("i-na.csv", &incidence(false, false))) };
        let lines = rt_lines(&a).unwrap();
        assert!(lines[1].starts_with("2 8 NA NA NA"), "{}", lines[1]);
        assert!(!lines.last().unwrap().contains("NA"), "{}", lines.last().unwrap());
        let j: serde_json::Value = serde_json::from_str(&rt_lines(&RtArgs { json: true, ..a }).unwrap()[0]).unwrap();
        assert!(j["mean"].is_null() && j["quantiles"]["0.5"].is_null(), "{j}");
    }

    #[test]
    fn a_file_that_does_not_read_is_said_with_its_line() {
        let said = |bytes: &[u8]| format!("{:#}", rt_lines(&args(file("bad.csv", bytes))).unwrap_err());
        assert!(said(b"date,local\n2022-04-01,3\n").contains("no column imported"));
        assert!(said(b"date,local,imported\n2022-04-01,3,0\n2022/04/02,3,0\n").contains("line 3: the date \"2022/04/02\""));
        assert!(said(b"date,local,imported\n2022-04-01,3,0\n2022-04-01,4,0\n").contains("2022-04-01 is there twice"));
        assert!(said(b"date,local,imported\n2022-04-01,three,0\n").contains("\"three\" is not a count"));
        assert!(said(b"date,local,imported\n2022-04-01,3,0\n2022-04-03,3,0\n").contains("does not fit"), "3 days, a window of 7");
        assert!(said(b"date,local,imported\n2022-04-01,3,0\n2022-04-02,5\n").contains("line 3: no value for imported"));
        assert!(said(b"date,local,imported\n2022-04-01,3,0\n2220-04-02,5,0\n").contains("over ten years"));
        let si = file("si-bad.csv", b"day,probability\n0,0\n1,0.5\n3,0.5\n");
        let a = RtArgs { si_distr: Some(si), si_mean: None, si_sd: None, ..args(file("i2.csv", &incidence(false, false))) };
        assert!(format!("{:#}", rt_lines(&a).unwrap_err()).contains("day 3 where day 2 was due"));
    }
}
