//! Line-list import behind `cordon import linelist` and `POST /api/v1/imports/linelist`: cases
//! with their infector links from a CSV (UTF-8 or GBK), into one incident, in one transaction
//! that also re-forms the clusters the cases join. A case number already in the incident is left
//! as it is, so importing the same file again changes nothing. Infectors may be named before or
//! after their own row; a name that is no case of the file or the incident is reported and its
//! link left out.

use std::collections::HashMap;
use std::io::Read;
use std::time::Instant;

use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::access::Jurisdiction;
use cordon_domain::cases::linelist::{LinelistColumns, LinelistRow};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::cases::recluster;
use crate::decode::{TextEncoding, utf8_text};
use crate::import::{ImportObserver, Progress, RowError, numbered};
use crate::{Param, Result, Store, StoreError, bind_all, list_placeholders, values_placeholders, with_read_pool, with_write_pool};

/// Where the cases of a line list go.
#[derive(Debug, Clone)]
pub struct LinelistTarget {
    /// The area of rows without their own area code (and of a new incident).
    pub area: AreaCode,
    /// The incident, by name, created when missing; `None`: the incident holding `area`.
    pub incident: Option<String>,
}

/// What a line-list import did.
#[derive(Debug, Clone, Serialize)]
pub struct LinelistSummary {
    pub encoding: TextEncoding,
    pub incident_id: i64,
    /// Data rows read.
    pub rows: u64,
    /// Cases newly stored.
    pub inserted: u64,
    /// Valid rows of cases already in the incident: left as they were.
    pub unchanged: u64,
    pub invalid_rows: u64,
    /// Rows stored with a warning: an optional field left empty, an infector named that is no
    /// case (each warning reported).
    pub warned_rows: u64,
    /// Infector links newly stored.
    pub links: u64,
    /// Infectors named that are no case of the file or incident (each reported as a warning).
    pub unknown_infectors: u64,
    /// Clusters the imported cases belong to.
    pub clusters: u64,
    pub elapsed_ms: u64,
}

struct Parsed {
    encoding: TextEncoding,
    rows: Vec<(u64, LinelistRow)>,
    errors: Vec<RowError>,
    warnings: Vec<RowError>,
    read: u64,
}

fn parse(input: impl Read + Send + 'static, allowed: Option<&Jurisdiction>, default_area: &AreaCode) -> Result<Parsed> {
    let crate::decode::Text { encoding, crlf, reader: text } = utf8_text(input)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text);
    let headers = reader.headers().map_err(|e| refused!("refused.not_csv", reason = e))?.clone();
    let columns = LinelistColumns::from_headers(headers.iter()).map_err(|e| refused!("refused.file_columns", reason = e))?;
    let (mut rows, mut errors, mut warnings, mut read) = (Vec::new(), Vec::new(), Vec::new(), 0u64);
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, record) in numbered(reader.records(), crlf, headers.len()) {
        read += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let cells: Vec<&str> = record.iter().collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            read -= 1;
            continue;
        }
        match columns.parse(&cells) {
            Ok((row, warned)) => {
                let area = row.area_code.as_ref().unwrap_or(default_area);
                if let Some(first) = seen.get(&row.case_id) {
                    errors.push(RowError::refused(line, Some("case_id"), refusal!("row.case_repeated", case = row.case_id, first = first)));
                } else if allowed.is_some_and(|j| !j.contains(area)) {
                    errors.push(RowError::refused(line, Some("area_code"), refusal!("row.outside", code = area)));
                } else {
                    seen.insert(row.case_id.clone(), line);
                    rows.push((line, row));
                    warnings.extend(warned.into_iter().map(|e| RowError {
                        line,
                        field: Some(e.field.as_str()),
                        reason: e.reason,
                        then: e.then,
                    }));
                }
            }
            Err(errs) => errors.extend(errs.into_iter().map(|e| RowError::refused(line, Some(e.field.as_str()), e.reason))),
        }
    }
    Ok(Parsed { encoding, rows, errors, warnings, read })
}

/// Imports a line list into `target`'s incident. Fails as a whole only when the file is no line
/// list (no case number column) or the database fails; bad rows are reported and skipped.
pub async fn import_linelist<R: Read + Send + 'static>(
    store: &Store,
    actor: &Actor,
    input: R,
    target: &LinelistTarget,
    observer: &mut (dyn ImportObserver + Send),
    allowed: Option<Jurisdiction>,
) -> Result<LinelistSummary> {
    let started = Instant::now();
    let default_area = target.area.clone();
    let parsed = tokio::task::spawn_blocking(move || parse(input, allowed.as_ref(), &default_area))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
    let incident_id = match &target.incident {
        Some(name) => store.incident_named(actor, name, &target.area).await?,
        None => store.incident_for(actor, &target.area).await?,
    };
    let errors = parsed.errors;
    let mut warnings = parsed.warnings;
    let invalid_rows = {
        let mut lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len() as u64
    };
    let rows = parsed.rows;
    let now = Utc::now();
    let area = target.area.to_string();
    let (inserted, links, unknown, clusters) = with_write_pool!(store, pool => {
        let mut tx = pool.begin_write().await?;
        let mut inserted = 0u64;
        for chunk in rows.chunks(200) {
            let sql = format!(
                "INSERT INTO cases (incident_id, external_id, area_code, classification, how_found, origin, onset_date, report_date, \
                 place, label, created_at, created_by) VALUES {} ON CONFLICT (incident_id, external_id) DO NOTHING",
                values_placeholders(chunk.len(), 12, 0)
            );
            let mut params = Vec::with_capacity(chunk.len() * 12);
            for (_, r) in chunk {
                params.extend([
                    Param::Int(incident_id),
                    Param::Text(r.case_id.clone()),
                    Param::Text(r.area_code.as_ref().map_or_else(|| area.clone(), |a| a.to_string())),
                    Param::Text(r.classification.as_str().into()),
                    Param::Text(r.how_found.as_str().into()),
                    Param::Text(r.origin.as_str().into()),
                    Param::OptDate(r.onset),
                    Param::OptDate(r.report_date),
                    Param::Text("home".into()),
                    Param::OptText(r.label.clone()),
                    Param::Time(now),
                    Param::Text(actor.name.clone()),
                ]);
            }
            inserted += bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
        }
        // Every number the file names, as a case of the incident.
        let mut names: Vec<&str> = rows.iter().flat_map(|(_, r)| std::iter::once(r.case_id.as_str()).chain(r.infectors.iter().map(String::as_str))).collect();
        names.sort_unstable();
        names.dedup();
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(names.len());
        for chunk in names.chunks(500) {
            let sql = format!(
                "SELECT external_id, id FROM cases WHERE incident_id = $1 AND external_id IN ({})",
                list_placeholders(1, chunk.len())
            );
            let mut params = vec![Param::Int(incident_id)];
            params.extend(chunk.iter().map(|n| Param::Text((*n).to_string())));
            let found: Vec<(String, i64)> =
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&mut *tx).await?;
            ids.extend(found);
        }
        let mut pairs: Vec<(i64, i64)> = Vec::new();
        let mut unknown = 0u64;
        for (line, r) in &rows {
            let case = ids[&r.case_id];
            let mut missing: Vec<&str> = Vec::new();
            for inf in &r.infectors {
                match ids.get(inf) {
                    Some(i) => pairs.push((*i, case)),
                    None => missing.push(inf),
                }
            }
            if !missing.is_empty() {
                unknown += missing.len() as u64;
                warnings.push(RowError {
                    line: *line,
                    field: Some("infector_ids"),
                    reason: refusal!("row.no_infector", cases = missing.join(", ")),
                    then: Some(refusal!("row.then.links_left_out")),
                });
            }
        }
        let mut links = 0u64;
        for chunk in pairs.chunks(300) {
            let sql = format!(
                "INSERT INTO case_links (infector_id, case_id, source) VALUES {} ON CONFLICT DO NOTHING",
                values_placeholders(chunk.len(), 3, 0)
            );
            let params: Vec<Param> = chunk.iter().flat_map(|(a, b)| [Param::Int(*a), Param::Int(*b), Param::Text("linelist".into())]).collect();
            links += bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
        }
        // Both ends of every link: an infector may sit in a cluster stored before.
        let mut touched: Vec<i64> = rows.iter().map(|(_, r)| ids[&r.case_id]).chain(pairs.iter().map(|(a, _)| *a)).collect();
        touched.sort_unstable();
        touched.dedup();
        let clusters = if inserted > 0 || links > 0 { recluster!(tx, &touched, &area, now) as u64 } else { 0 };
        let change = Change::new("import", "linelist", incident_id).area(&area).after(serde_json::json!({
            "rows": parsed.read, "inserted": inserted, "links": links, "invalid_rows": invalid_rows, "warnings": warnings.len(),
        }));
        tx.append(actor, &change).await?;
        tx.commit().await?;
        (inserted, links, unknown, clusters)
    });
    for e in &errors {
        observer.row_error(e);
    }
    warnings.sort_by_key(|e| e.line);
    for w in &warnings {
        observer.row_warning(w);
    }
    let warned_rows = {
        let mut lines: Vec<u64> = warnings.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len() as u64
    };
    observer.progress(&Progress { bytes_read: 0, rows: parsed.read, inserted, invalid_rows });
    let clusters = if clusters == 0 {
        store.cluster_count_of(incident_id, &rows.iter().map(|(_, r)| r.case_id.clone()).collect::<Vec<_>>()).await?
    } else {
        clusters
    };
    Ok(LinelistSummary {
        encoding: parsed.encoding,
        incident_id,
        rows: parsed.read,
        inserted,
        unchanged: rows.len() as u64 - inserted,
        invalid_rows,
        warned_rows,
        links,
        unknown_infectors: unknown,
        clusters,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

impl Store {
    /// How many clusters the cases with these numbers belong to.
    async fn cluster_count_of(&self, incident_id: i64, numbers: &[String]) -> Result<u64> {
        let mut clusters = std::collections::HashSet::new();
        for chunk in numbers.chunks(500) {
            let sql = format!(
                "SELECT DISTINCT cluster_id FROM cases WHERE incident_id = $1 AND cluster_id IS NOT NULL AND external_id IN ({})",
                list_placeholders(1, chunk.len())
            );
            let mut params = vec![Param::Int(incident_id)];
            params.extend(chunk.iter().map(|n| Param::Text(n.clone())));
            let found: Vec<(i64,)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            clusters.extend(found.into_iter().map(|(c,)| c));
        }
        Ok(clusters.len() as u64)
    }
}
