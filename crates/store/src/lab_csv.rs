//! A lab system's CSV export of results (UTF-8 or GBK, Chinese or English headers), streamed:
//! rows are parsed on a blocking thread and recorded a thousand at a time in one transaction
//! each, through the same set-based path as the JSON API. Every unreadable, unknown or
//! conflicting row is reported with its line.

use std::io::Read;

use cordon_domain::Barcode;
use cordon_domain::barcode::BarcodeError;
use cordon_domain::refusal::Refusal;
use cordon_domain::testing::result::{CtValues, TubeResult};
use serde::Serialize;

use crate::results::{ResultInput, ResultOutcome};
use crate::scoped::Scoped;
use crate::{Result, StoreError};

/// Rows recorded per transaction: large enough that the commit (a disk flush) is a small part of
/// each, small enough that a long file shows progress and a refused row costs little to report.
const BATCH: usize = 5000;
/// Problems kept in a report (the counts are always complete).
const MAX_PROBLEMS: usize = 1000;

/// What one export did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CsvReport {
    pub encoding: String,
    pub rows: u64,
    pub recorded: u64,
    pub repeats: u64,
    /// (line, barcode as written, what happened), for refused and unreadable rows.
    pub problems: Vec<(u64, String, ResultOutcome)>,
}

/// Column positions of a lab export, from its header line.
struct LabColumns {
    barcode: usize,
    result: Option<usize>,
    orf1ab: Option<usize>,
    n: Option<usize>,
    at: Option<usize>,
}

impl LabColumns {
    fn from_headers(h: &csv::StringRecord) -> std::result::Result<Self, String> {
        let find = |names: &[&str]| cordon_domain::header::position(h, names);
        Ok(LabColumns {
            barcode: find(&["barcode", "条码", "条码号", "样本条码", "试管条码"]).ok_or("missing column 条码/barcode")?,
            result: find(&["result", "结果", "检测结果"]),
            orf1ab: find(&["ct_orf1ab", "orf1ab", "orf1ab基因ct值"]),
            n: find(&["ct_n", "n", "n基因ct值"]),
            at: find(&["at", "检测时间", "报告时间"]),
        })
    }

    /// A row as a result, or why it cannot be one (a refusal the page says in its language).
    fn parse(&self, r: &csv::StringRecord) -> std::result::Result<ResultInput, Refusal> {
        let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map(str::trim).filter(|v| !v.is_empty());
        let raw = get(Some(self.barcode)).unwrap_or("");
        let barcode = Barcode::parse(raw).map_err(|e| match e {
            _ if raw.is_empty() => Refusal::new("refused.csv_barcode_empty"),
            BarcodeError::Length(n) => Refusal::new("refused.csv_barcode_length").with("barcode", raw).with("n", n),
            BarcodeError::Characters => Refusal::new("refused.csv_barcode_characters").with("barcode", raw),
        })?;
        let result = get(self.result)
            .map(|v| v.parse::<TubeResult>().map_err(|_| Refusal::new("refused.csv_result").with("value", v)))
            .transpose()?;
        let ct = |i| get(i).map(|v: &str| v.parse::<f32>().map_err(|_| Refusal::new("refused.csv_ct").with("value", v))).transpose();
        let ct = CtValues { orf1ab: ct(self.orf1ab)?, n: ct(self.n)? };
        if result.is_none() && ct.orf1ab.is_none() && ct.n.is_none() {
            return Err(Refusal::new("refused.csv_no_result"));
        }
        // Lab systems write Beijing time, in many shapes.
        let at = get(self.at)
            .map(|v| cordon_domain::parse_local_time(v).ok_or_else(|| Refusal::new("refused.csv_time").with("value", v)))
            .transpose()?;
        Ok(ResultInput { barcode, round_id: None, result, ct, at })
    }
}

/// One row as read: its line, the barcode as written, and the input or why it is unreadable.
type Row = (u64, String, std::result::Result<ResultInput, Refusal>);

/// Records a lab's CSV export as `scope` (needs `lab.write`).
pub async fn ingest_results_csv<R: Read + Send + 'static>(scope: &Scoped, lab_id: i64, input: R) -> Result<CsvReport> {
    scope.require(cordon_domain::access::Permission::LabWrite)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Row>>(8);
    let parser = tokio::task::spawn_blocking(move || -> std::result::Result<&'static str, String> {
        let crate::decode::Text { encoding, crlf, reader: text } = crate::decode::utf8_text(input).map_err(|e| e.to_string())?;
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(text);
        let headers = csv.headers().map_err(|e| format!("cannot read the header line: {e}"))?.clone();
        let cols = LabColumns::from_headers(&headers)?;
        let mut batch = Vec::with_capacity(BATCH);
        for record in csv.records() {
            batch.push(match record {
                Ok(r) => {
                    let line = crate::decode::seen_line(r.position(), crlf, 0);
                    let raw = r.get(cols.barcode).unwrap_or("").trim().to_string();
                    (line, raw, cols.parse(&r))
                }
                Err(e) => (
                    crate::decode::seen_line(e.position(), crlf, 0),
                    String::new(),
                    Err(Refusal::new("refused.row_unreadable").with("detail", e)),
                ),
            });
            if batch.len() == BATCH && tx.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
                return Ok(encoding.as_str());
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        Ok(encoding.as_str())
    });
    let mut report = CsvReport::default();
    while let Some(rows) = rx.recv().await {
        report.rows += rows.len() as u64;
        let mut inputs = Vec::with_capacity(rows.len());
        let mut readable = Vec::with_capacity(rows.len());
        for (line, barcode, parsed) in rows {
            match parsed {
                Ok(input) => {
                    inputs.push(input);
                    readable.push((line, barcode));
                }
                Err(refusal) => {
                    if report.problems.len() < MAX_PROBLEMS {
                        report.problems.push((line, barcode, ResultOutcome::refused(refusal)));
                    }
                }
            }
        }
        let outcomes = scope.record_results(lab_id, &inputs).await?;
        for ((line, barcode), outcome) in readable.into_iter().zip(outcomes) {
            match &outcome {
                ResultOutcome::Recorded { .. } => report.recorded += 1,
                ResultOutcome::Repeat { .. } => report.repeats += 1,
                ResultOutcome::Refused { .. } => {
                    if report.problems.len() < MAX_PROBLEMS {
                        report.problems.push((line, barcode, outcome));
                    }
                }
            }
        }
    }
    report.problems.sort_by_key(|p| p.0);
    report.encoding = parser
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(|e| refused!("refused.file_unreadable", reason = e))?
        .to_string();
    Ok(report)
}
