//! The streaming person import behind both `cordon import persons` and
//! `POST /api/v1/imports/persons`: decode (UTF-8 or GBK), parse CSV, validate each row in
//! `domain`, store valid rows in batches, report every invalid row with its line, field and reason.

use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cordon_domain::NewPerson;
use cordon_domain::person_row::PersonColumns;
use serde::Serialize;

use cordon_domain::refusal::Refusal;

use crate::decode::TextEncoding;
use crate::{Result, Store, StoreError};

/// One problem with one input row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// The field at fault, when one is.
    pub field: Option<&'static str>,
    /// What is wrong, by a kind each face words in its language (`row.date`, `refused.phone`).
    pub reason: Refusal,
    /// For a warning, what the import did instead: left the field empty, took the id's.
    pub then: Option<Refusal>,
}

/// Hands each problem to `report` and answers how many rows they name: the problems of one row
/// come together, in line order, and the row is counted once.
pub(crate) fn rows_reported(problems: &[RowError], mut report: impl FnMut(&RowError)) -> u64 {
    let mut last = None;
    let mut rows = 0;
    for e in problems {
        if last != Some(e.line) {
            rows += 1;
            last = Some(e.line);
        }
        report(e);
    }
    rows
}

impl RowError {
    /// A row (or one of its fields) that cannot be stored.
    pub fn refused(line: u64, field: Option<&'static str>, reason: Refusal) -> Self {
        RowError { line, field, reason, then: None }
    }
}

/// The records of a CSV file with the line each starts on as an editor shows it (the header is
/// line 1; a quoted line break and CRLF endings counted as a person sees them, see
/// [`crate::decode::seen_line`]); a record that cannot be read comes as its row error.
///
/// A record that swallowed whole rows of the file (an unclosed quote, `columns` wide rows) is
/// refused naming how many, so that the report accounts for every line.
pub(crate) fn numbered<R: std::io::Read>(
    records: csv::StringRecordsIter<'_, R>,
    crlf: bool,
    columns: usize,
) -> impl Iterator<Item = (u64, std::result::Result<csv::StringRecord, RowError>)> + '_ {
    let mut last = 1u64;
    records.map(move |rec| {
        let (line, rec) = match rec {
            Ok(r) => {
                let line = crate::decode::seen_line(r.position(), crlf, last + 1);
                match unclosed_quote(&r, columns, line) {
                    Some(e) => (line, Err(e)),
                    None => (line, Ok(r)),
                }
            }
            Err(e) => {
                let line = crate::decode::seen_line(e.position(), crlf, last + 1);
                (line, Err(RowError::refused(line, None, unreadable(&e))))
            }
        };
        last = line;
        (line, rec)
    })
}

/// Why a record could not be read: text not in the file's encoding (a line in another encoding is
/// passed on as no UTF-8, see `decode`), or what the CSV reader says.
pub(crate) fn unreadable(e: &csv::Error) -> cordon_domain::refusal::Refusal {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => cordon_domain::refusal!("row.encoding"),
        _ => cordon_domain::refusal!("row.unreadable", reason = e),
    }
}

/// The refusal of a record that swallowed whole rows of its file (an unclosed quote).
fn unclosed_quote(record: &csv::StringRecord, columns: usize, line: u64) -> Option<RowError> {
    let rows: usize = record.iter().map(|f| cordon_domain::header::swallowed_rows(f, columns)).sum();
    (rows > 0).then(|| RowError::refused(line, None, cordon_domain::refusal!("row.unclosed_quote", rows = rows)))
}

/// Where an import stands, reported after each stored batch.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Progress {
    pub bytes_read: u64,
    pub rows: u64,
    pub inserted: u64,
    pub invalid_rows: u64,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub encoding: TextEncoding,
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// People newly stored.
    pub inserted: u64,
    /// Valid rows for people already stored (or repeated in the file): nothing changed.
    pub unchanged: u64,
    /// Rows rejected; each has at least one [`RowError`].
    pub invalid_rows: u64,
    /// Rows stored with an optional field that did not read left empty (each reported as a
    /// warning).
    pub warned_rows: u64,
    /// Rows that corrected a registered person's name, phone or address (each field reported as
    /// a warning, `row.then.corrected`).
    pub corrected_rows: u64,
    /// Rows for people registered in another area: nothing changed; each differing field is
    /// reported (`row.then.kept_stored`). Counted among `unchanged`.
    pub kept_rows: u64,
    pub elapsed_ms: u64,
}

/// Receives progress and row errors as an import runs.
pub trait ImportObserver: Send {
    fn progress(&mut self, _progress: &Progress) {}
    /// A row refused: nothing of it was stored.
    fn row_error(&mut self, _error: &RowError) {}
    /// A row stored with a field it could not read left empty or at its default.
    fn row_warning(&mut self, _warning: &RowError) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl ImportObserver for Quiet {}

/// Rows per stored batch (one transaction each).
const BATCH: usize = 65_536;

enum Msg {
    /// A batch of valid people, with the rows and input bytes read when it was cut.
    Batch {
        people: Vec<NewPerson>,
        /// The line of each person.
        lines: Vec<u64>,
        rows: u64,
        bytes: u64,
    },
    Errors(Vec<RowError>),
    /// Rows stored with a field left empty.
    Warnings(Vec<RowError>),
}

struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Imports people from CSV text in `input`. Fails as a whole only when the file cannot be read
/// as CSV with the required columns, or the database fails; bad rows are reported and skipped.
pub async fn import_persons<R: Read + Send + 'static>(
    store: &Store,
    input: R,
    observer: &mut (dyn ImportObserver + Send),
) -> Result<ImportSummary> {
    import_persons_within(store, input, observer, None).await
}

/// Like [`import_persons`], rejecting rows whose area lies outside `allowed` when it is given.
pub(crate) async fn import_persons_within<R: Read + Send + 'static>(
    store: &Store,
    input: R,
    observer: &mut (dyn ImportObserver + Send),
    allowed: Option<cordon_domain::access::Jurisdiction>,
) -> Result<ImportSummary> {
    let started = Instant::now();
    let known_areas = store.area_codes().await?;
    let mut writer = store.person_writer().await?;
    let bytes = Arc::new(AtomicU64::new(0));
    let counting = CountingReader { inner: input, count: bytes.clone() };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(4);
    let today = cordon_domain::local_date(chrono::Utc::now());
    let read_so_far = bytes.clone();
    let parser = tokio::task::spawn_blocking(move || parse(counting, read_so_far, known_areas, allowed, today, tx));

    let mut progress = Progress::default();
    let mut valid_rows = 0;
    let mut warned_rows = 0;
    let (mut corrected_rows, mut kept_rows) = (0, 0);
    let mut writing = std::time::Duration::ZERO;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Errors(errors) => progress.invalid_rows += rows_reported(&errors, |e| observer.row_error(e)),
            Msg::Warnings(warnings) => warned_rows += rows_reported(&warnings, |w| observer.row_warning(w)),
            Msg::Batch { people, lines, rows, bytes } => {
                valid_rows += people.len() as u64;
                let write_started = Instant::now();
                let written = writer.write_checked(people).await?;
                progress.inserted += written.inserted;
                // Each row that corrected a registered person, or differs from one and changed
                // nothing, is said field by field.
                let said = |members: Vec<(usize, Vec<&'static str>)>, then: &'static str| -> Vec<RowError> {
                    members
                        .into_iter()
                        .flat_map(|(i, fields)| {
                            let line = lines[i];
                            fields.into_iter().map(move |f| RowError {
                                line,
                                field: Some(f),
                                reason: refusal!("row.differs_from_stored"),
                                then: Some(cordon_domain::refusal::Refusal::new(then)),
                            })
                        })
                        .collect()
                };
                corrected_rows += rows_reported(&said(written.updated, "row.then.corrected"), |w| observer.row_warning(w));
                kept_rows += rows_reported(&said(written.kept, "row.then.kept_stored"), |w| observer.row_warning(w));
                writing += write_started.elapsed();
                progress.rows = rows;
                progress.bytes_read = bytes;
                observer.progress(&progress);
            }
        }
    }
    let (encoding, rows) = parser.await.map_err(|e| StoreError::Task(e.to_string()))??;
    progress.rows = rows;
    progress.bytes_read = bytes.load(Ordering::Relaxed);
    observer.progress(&progress);
    let refresh_started = Instant::now();
    if progress.inserted > 0 {
        store.refresh_populations().await?;
    }
    tracing::debug!(
        total_ms = started.elapsed().as_millis() as u64,
        writing_ms = writing.as_millis() as u64,
        refresh_ms = refresh_started.elapsed().as_millis() as u64,
        "person import timings"
    );
    Ok(ImportSummary {
        encoding,
        rows,
        inserted: progress.inserted,
        unchanged: valid_rows - progress.inserted - corrected_rows,
        invalid_rows: progress.invalid_rows,
        warned_rows,
        corrected_rows,
        kept_rows,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// Runs on a blocking thread: decodes, parses and validates, sending batches and errors.
fn parse<R: Read + Send + 'static>(
    input: R,
    bytes: Arc<AtomicU64>,
    known_areas: HashSet<String>,
    allowed: Option<cordon_domain::access::Jurisdiction>,
    today: chrono::NaiveDate,
    tx: tokio::sync::mpsc::Sender<Msg>,
) -> Result<(TextEncoding, u64)> {
    let crate::decode::Text { encoding, crlf, reader: text } = crate::decode::utf8_text(input)?;
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(text);
    let headers = csv.headers().map_err(|e| refused!("refused.not_csv", reason = e))?.clone();
    let columns = PersonColumns::from_headers(headers.iter()).map_err(|e| refused!("refused.file_columns", reason = e))?;
    let mut record = csv::StringRecord::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut lines = Vec::with_capacity(BATCH);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut rows = 0u64;
    let send = |msg: Msg| tx.blocking_send(msg).map_err(|_| StoreError::Task("import writer stopped".into()));
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                rows += 1;
                let line = crate::decode::seen_line(record.position(), crlf, rows + 1);
                if let Some(e) = unclosed_quote(&record, headers.len(), line) {
                    errors.push(e);
                    continue;
                }
                let fields: Vec<&str> = record.iter().collect();
                let noted = |found: Vec<cordon_domain::person_row::FieldError>| {
                    found.into_iter().map(move |e| RowError { line, field: Some(e.field.as_str()), reason: e.reason, then: e.then })
                };
                // A refused row stores nothing: its warnings say only what is wrong.
                let unkept = |found| noted(found).map(|e| RowError { then: None, ..e });
                match columns.parse(&fields, today) {
                    Ok((p, found)) if !known_areas.contains(p.area_code.as_str()) => {
                        errors.push(RowError::refused(line, Some("area_code"), refusal!("row.area_unregistered", code = p.area_code)));
                        errors.extend(unkept(found));
                    }
                    Ok((p, found)) if allowed.as_ref().is_some_and(|j| !j.contains(&p.area_code)) => {
                        errors.push(RowError::refused(line, Some("area_code"), refusal!("row.outside", code = p.area_code)));
                        errors.extend(unkept(found));
                    }
                    Ok((p, found)) => {
                        warnings.extend(noted(found));
                        batch.push(p);
                        lines.push(line);
                    }
                    Err(errs) => errors.extend(noted(errs)),
                }
            }
            Err(e) => {
                rows += 1;
                let line = crate::decode::seen_line(e.position(), crlf, rows + 1);
                let reason = match e.kind() {
                    csv::ErrorKind::Io(err) => return Err(refused!("refused.file_unreadable_at", line = line, reason = err)),
                    _ => unreadable(&e),
                };
                errors.push(RowError::refused(line, None, reason));
            }
        }
        if errors.len() >= 1024 {
            send(Msg::Errors(std::mem::take(&mut errors)))?;
        }
        if warnings.len() >= 1024 {
            send(Msg::Warnings(std::mem::take(&mut warnings)))?;
        }
        if batch.len() >= BATCH {
            send(Msg::Errors(std::mem::take(&mut errors)))?;
            send(Msg::Warnings(std::mem::take(&mut warnings)))?;
            send(Msg::Batch {
                people: std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
                lines: std::mem::replace(&mut lines, Vec::with_capacity(BATCH)),
                rows,
                bytes: bytes.load(Ordering::Relaxed),
            })?;
        }
    }
    send(Msg::Errors(errors))?;
    send(Msg::Warnings(warnings))?;
    send(Msg::Batch { people: batch, lines, rows, bytes: bytes.load(Ordering::Relaxed) })?;
    Ok((encoding, rows))
}
