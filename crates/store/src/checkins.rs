//! Venues and their check-ins (场所码扫码): bulk ingest at tens of millions of rows (SQLite:
//! prepared statements on the bulk connection; PostgreSQL: `COPY` into a staging table merged
//! with `ON CONFLICT DO NOTHING`), and for a case the people whose stays at the same venues
//! overlapped the case's inside its look-back window, ranked by overlap.

use std::collections::HashMap;
use std::io::Read;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cordon_domain::AreaCode;
use cordon_domain::cases::exposure::{CaseDates, Lookback, Stay};
use serde::Serialize;

use crate::BeginWrite as _;
pub use crate::contacts::CheckIn;
use crate::contacts::{LONGEST_STAY_S, Rings, Span};
use crate::decode::{TextEncoding, utf8_text};
use crate::import::{ImportObserver, Progress, RowError, numbered};
use crate::{Backend, Param, Result, Store, StoreError, bind_all, list_placeholders, values_placeholders, with_read_pool, with_write_pool};

/// A venue to register.
#[derive(Debug, Clone)]
pub struct NewVenue {
    pub code: String,
    pub name: String,
    pub area_code: AreaCode,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Venue {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub address: Option<String>,
}

/// Someone who was at a venue while the case was there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub person_id: i64,
    pub name: String,
    pub area_code: String,
    /// Minutes of overlap summed over every shared stay.
    pub overlap_minutes: i64,
    /// The venues shared, by name, in the order first shared.
    pub venues: Vec<String>,
    pub first_at: DateTime<Utc>,
    pub last_until: DateTime<Utc>,
    /// Already a case, or a contact of another case, in the incident.
    pub standing: Option<crate::exposures::Standing>,
}

/// What a check-in import did.
#[derive(Debug, Clone, Serialize)]
pub struct CheckinSummary {
    pub encoding: TextEncoding,
    pub rows: u64,
    pub inserted: u64,
    pub invalid_rows: u64,
    pub elapsed_ms: u64,
}

/// What a venue import did.
#[derive(Debug, Clone, Serialize)]
pub struct VenueSummary {
    pub encoding: TextEncoding,
    pub rows: u64,
    /// Venues newly registered.
    pub inserted: u64,
    /// Valid rows whose code was already registered: the stored venue is kept.
    pub unchanged: u64,
    pub invalid_rows: u64,
    pub elapsed_ms: u64,
}

/// A venue file read: its encoding, rows read, venues by line, refused rows.
type ParsedVenues = (TextEncoding, u64, Vec<(u64, NewVenue)>, Vec<RowError>);

/// Imports venues with their place codes from CSV (UTF-8 or GBK; LF or CRLF): 场所码/code,
/// 名称/name, 区划代码/area_code, and optionally 地址/address. A code already registered keeps
/// its venue (counted unchanged). A row without a code or a name, with an area code that does
/// not parse, is not registered, or lies outside `allowed`, is refused with its line.
pub async fn import_venues<R: Read + Send + 'static>(
    store: &Store,
    input: R,
    allowed: Option<&cordon_domain::access::Jurisdiction>,
    observer: &mut (dyn ImportObserver + Send),
) -> Result<VenueSummary> {
    let started = Instant::now();
    let parsed = tokio::task::spawn_blocking(move || -> Result<ParsedVenues> {
        let crate::decode::Text { encoding, crlf, reader } = utf8_text(input)?;
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = csv.headers().map_err(|e| refused!("refused.not_csv", reason = e))?.clone();
        let find = |names: &[&str]| cordon_domain::header::position(&headers, names);
        let (Some(code), Some(name), Some(area)) =
            (find(&["code", "场所码", "场所编码"]), find(&["name", "名称", "场所名称"]), find(&["area_code", "区划代码"]))
        else {
            return Err(refused!("refused.venue_file_columns"));
        };
        let address = find(&["address", "地址"]);
        let (mut rows, mut errors, mut read) = (Vec::new(), Vec::new(), 0u64);
        let width = csv.headers().map(|h| h.len()).unwrap_or(0);
        for (line, rec) in numbered(csv.records(), crlf, width) {
            let rec = match rec {
                Ok(r) if r.iter().all(|f| f.trim().is_empty()) => continue,
                Ok(r) => r,
                Err(e) => {
                    read += 1;
                    errors.push(e);
                    continue;
                }
            };
            read += 1;
            let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
            let (c, n) = (get(code), get(name));
            if c.is_empty() {
                errors.push(RowError::refused(line, Some("code"), refusal!("row.empty")));
            } else if n.is_empty() {
                errors.push(RowError::refused(line, Some("name"), refusal!("row.empty")));
            } else {
                match AreaCode::parse(&get(area)) {
                    Ok(area_code) => {
                        rows.push((line, NewVenue { code: c, name: n, area_code, address: address.map(get).filter(|a| !a.is_empty()) }))
                    }
                    Err(_) => {
                        errors.push(RowError::refused(line, Some("area_code"), refusal!("refused.area_code_invalid", code = get(area))))
                    }
                }
            }
        }
        Ok((encoding, read, rows, errors))
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?;
    let (encoding, read, rows, mut errors) = parsed?;
    let mut areas: Vec<&AreaCode> = rows.iter().map(|(_, v)| &v.area_code).collect();
    areas.sort();
    areas.dedup();
    let mut known = std::collections::HashSet::new();
    for a in areas {
        if store.area(a).await?.is_some() {
            known.insert(a.as_str().to_string());
        }
    }
    let mut good = Vec::with_capacity(rows.len());
    for (line, v) in rows {
        if !known.contains(v.area_code.as_str()) {
            errors.push(RowError::refused(line, Some("area_code"), refusal!("row.area_unregistered", code = v.area_code)));
        } else if allowed.is_some_and(|j| !j.contains(&v.area_code)) {
            errors.push(RowError::refused(line, Some("area_code"), refusal!("row.outside", code = v.area_code)));
        } else {
            good.push(v);
        }
    }
    let inserted = store.upsert_venues(&good).await?;
    errors.sort_by_key(|e| e.line);
    let invalid_rows = crate::import::rows_reported(&errors, |e| observer.row_error(e));
    observer.progress(&Progress { bytes_read: 0, rows: read, inserted, invalid_rows });
    Ok(VenueSummary {
        encoding,
        rows: read,
        inserted,
        unchanged: good.len() as u64 - inserted,
        invalid_rows,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn time(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().unwrap_or_default()
}

impl Store {
    /// Registers venues; a code already registered keeps its row.
    pub async fn upsert_venues(&self, venues: &[NewVenue]) -> Result<u64> {
        let mut n = 0;
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in venues.chunks(200) {
                let sql = format!(
                    "INSERT INTO venues (code, name, area_code, address) VALUES {} ON CONFLICT (code) DO NOTHING",
                    values_placeholders(chunk.len(), 4, 0)
                );
                let params: Vec<Param> = chunk
                    .iter()
                    .flat_map(|v| [Param::Text(v.code.trim().into()), Param::Text(v.name.trim().into()), Param::Text(v.area_code.to_string()), Param::OptText(v.address.clone())])
                    .collect();
                n += bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    /// Venue ids by code.
    pub async fn venue_ids(&self, codes: &[String]) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::new();
        for chunk in codes.chunks(500) {
            let sql = format!("SELECT code, id FROM venues WHERE code IN ({})", list_placeholders(0, chunk.len()));
            let params: Vec<Param> = chunk.iter().map(|c| Param::Text(c.clone())).collect();
            let rows: Vec<(String, i64)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            out.extend(rows);
        }
        Ok(out)
    }

    /// Stores scans in one transaction; a scan already stored changes nothing. Returns how many
    /// were new. The batch leaves a `checkin_writes` row, and the contact graph takes the scans
    /// once they are committed.
    pub async fn write_checkins(&self, rows: Vec<CheckIn>) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let ticket = self.contacts.begin_write();
        let (n, id, rows) = match &*self.backend {
            Backend::Sqlite(b) => crate::sqlite::checkins::write(b, rows).await?,
            Backend::Postgres(b) => crate::postgres::checkins::write(b, rows).await?,
        };
        self.contacts.committed(ticket, id, &rows);
        Ok(n)
    }

    /// A person's scans from `from` (seconds) on, oldest first.
    pub(crate) async fn checkins_of(&self, person_id: i64, from: i64, until: i64) -> Result<Vec<CheckIn>> {
        let rows: Vec<(i64, i64, i64, Option<i64>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT person_id, venue_id, at_s, left_s FROM checkins WHERE person_id = $1 AND at_s >= $2 AND at_s < $3 ORDER BY at_s",
        ).bind(person_id).bind(from).bind(until).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(person_id, venue_id, at, left)| CheckIn { person_id, venue_id, at, left }).collect())
    }

    /// Every stay of someone else at a venue that overlapped one of the person's stays
    /// beginning in the window, (own scan, theirs), by plain SQL: one index range per own scan.
    pub(crate) async fn meetings_sql(&self, span: Span) -> Result<Vec<(CheckIn, CheckIn)>> {
        let own = self.checkins_of(span.person, span.from, span.until).await?;
        let longest = i64::from(LONGEST_STAY_S);
        let end = |c: &CheckIn| c.left.unwrap_or(c.at + span.stay);
        let mut out = Vec::new();
        for mine in &own {
            let others: Vec<(i64, i64, Option<i64>)> = with_read_pool!(self, pool => sqlx::query_as(
                "SELECT person_id, at_s, left_s FROM checkins WHERE venue_id = $1 AND at_s >= $2 AND at_s < $3",
            ).bind(mine.venue_id).bind(mine.at - longest).bind(end(mine).min(span.until)).fetch_all(pool).await?);
            for (other, at, left) in others {
                let theirs = CheckIn { person_id: other, venue_id: mine.venue_id, at, left };
                if other != span.person && end(mine).min(end(&theirs)) > mine.at.max(at) {
                    out.push((*mine, theirs));
                }
            }
        }
        Ok(out)
    }

    /// The first and second ring of a person as one plain SQL self-join: what the contact graph
    /// answers, for when it is not ready and for the benchmark beside it.
    pub async fn contact_rings_sql(&self, person_id: i64, window: (DateTime<Utc>, DateTime<Utc>), default_stay: Duration) -> Result<Rings> {
        // Each join reads the indexed side by key from the smaller side before it: CROSS JOIN
        // keeps that order in SQLite, whose planner otherwise starts ring 2 from a full scan
        // of the table.
        let sql = format!(
            "WITH mine AS ( \
                 SELECT venue_id, at_s, COALESCE(left_s, at_s + $2) AS end_s FROM checkins \
                 WHERE person_id = $1 AND at_s >= $3 AND at_s < $4), \
             ring1 AS ( \
                 SELECT o.person_id, MIN(o.at_s) AS first_s FROM mine m CROSS JOIN checkins o \
                 WHERE o.venue_id = m.venue_id AND o.at_s >= m.at_s - {LONGEST_STAY_S} \
                   AND o.at_s < CASE WHEN m.end_s < $4 THEN m.end_s ELSE $4 END \
                   AND COALESCE(o.left_s, o.at_s + $2) > m.at_s AND o.person_id <> $1 \
                 GROUP BY o.person_id), \
             theirs AS ( \
                 SELECT c.venue_id, c.at_s, COALESCE(c.left_s, c.at_s + $2) AS end_s FROM ring1 r CROSS JOIN checkins c \
                 WHERE c.person_id = r.person_id AND c.at_s >= r.first_s AND c.at_s < $4), \
             ring2 AS ( \
                 SELECT DISTINCT o.person_id FROM theirs t CROSS JOIN checkins o \
                 WHERE o.venue_id = t.venue_id AND o.at_s >= t.at_s - {LONGEST_STAY_S} \
                   AND o.at_s < CASE WHEN t.end_s < $4 THEN t.end_s ELSE $4 END \
                   AND COALESCE(o.left_s, o.at_s + $2) > t.at_s \
                   AND o.person_id <> $1 AND o.person_id NOT IN (SELECT person_id FROM ring1)) \
             SELECT 1 AS ring, person_id FROM ring1 UNION ALL SELECT 2, person_id FROM ring2"
        );
        let rows: Vec<(i32, i64)> = with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(person_id).bind(default_stay.num_seconds()).bind(window.0.timestamp()).bind(window.1.timestamp())
            .fetch_all(pool).await?);
        let mut rings = Rings::default();
        for (ring, person) in rows {
            if ring == 1 { rings.first.push(person) } else { rings.second.push(person) }
        }
        rings.first.sort_unstable();
        rings.second.sort_unstable();
        Ok(rings)
    }

    /// Everyone whose stay at a venue overlapped one of `person_id`'s stays inside `window`,
    /// ranked by total overlap (longest first).
    pub(crate) async fn venue_candidates(
        &self,
        person_id: i64,
        window: (DateTime<Utc>, DateTime<Utc>),
        lookback: &Lookback,
    ) -> Result<Vec<Candidate>> {
        let span =
            Span { person: person_id, from: window.0.timestamp(), until: window.1.timestamp(), stay: lookback.default_stay.num_seconds() };
        let met = self.meetings(span).await?;
        let stay = |c: &CheckIn| Stay { from: time(c.at), until: c.left.map(time) };
        struct Acc {
            overlap: Duration,
            venues: Vec<i64>,
            first: DateTime<Utc>,
            last: DateTime<Utc>,
        }
        let mut by_person: HashMap<i64, Acc> = HashMap::new();
        for (mine, theirs) in &met {
            let Some(o) = lookback.overlap(stay(mine), stay(theirs)) else { continue };
            let (at, until) = (time(theirs.at), time(theirs.left.unwrap_or(theirs.at + span.stay)));
            let acc = by_person.entry(theirs.person_id).or_insert(Acc { overlap: Duration::zero(), venues: vec![], first: at, last: at });
            acc.overlap += o;
            if !acc.venues.contains(&mine.venue_id) {
                acc.venues.push(mine.venue_id);
            }
            acc.first = acc.first.min(at);
            acc.last = acc.last.max(until);
        }
        if by_person.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<i64> = by_person.keys().copied().collect();
        let mut people: HashMap<i64, (String, String)> = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!("SELECT id, name, area_code FROM persons WHERE id IN ({})", list_placeholders(0, chunk.len()));
            let params: Vec<Param> = chunk.iter().map(|i| Param::Int(*i)).collect();
            let rows: Vec<(i64, String, String)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            people.extend(rows.into_iter().map(|(id, n, a)| (id, (n, a))));
        }
        let mut venue_ids: Vec<i64> = met.iter().map(|(mine, _)| mine.venue_id).collect();
        venue_ids.sort_unstable();
        venue_ids.dedup();
        let mut venue_names: HashMap<i64, String> = HashMap::new();
        for chunk in venue_ids.chunks(500) {
            let sql = format!("SELECT id, name FROM venues WHERE id IN ({})", list_placeholders(0, chunk.len()));
            let params: Vec<Param> = chunk.iter().map(|i| Param::Int(*i)).collect();
            let rows: Vec<(i64, String)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            venue_names.extend(rows);
        }
        let mut out: Vec<Candidate> = by_person
            .into_iter()
            .filter_map(|(id, acc)| {
                let (name, area_code) = people.remove(&id)?;
                Some(Candidate {
                    person_id: id,
                    name,
                    area_code,
                    overlap_minutes: acc.overlap.num_minutes(),
                    venues: acc.venues.iter().map(|v| venue_names.get(v).cloned().unwrap_or_else(|| v.to_string())).collect(),
                    first_at: acc.first,
                    last_until: acc.last,
                    standing: None,
                })
            })
            .collect();
        out.sort_by_key(|c| (std::cmp::Reverse(c.overlap_minutes), c.first_at, c.person_id));
        Ok(out)
    }
}

/// The dates that decide a case's look-back window.
pub(crate) fn case_dates(case: &crate::cases::Case) -> CaseDates {
    CaseDates { onset: case.onset_date, positive_sample: case.sample_date.or(case.report_date), last_negative: None, isolated_at: None }
}

/// Column positions of a check-in file.
struct Columns {
    person: usize,
    venue: usize,
    at: usize,
    left: Option<usize>,
}

fn columns(headers: &csv::StringRecord) -> Result<Columns> {
    let find = |names: &[&str]| cordon_domain::header::position(headers, names);
    match (find(&["id_number", "身份证号", "证件号码"]), find(&["venue_code", "场所码", "场所编码"]), find(&["at", "扫码时间", "时间"]))
    {
        (Some(person), Some(venue), Some(at)) => Ok(Columns { person, venue, at, left: find(&["left_at", "离开时间"]) }),
        _ => Err(refused!("refused.checkin_file_columns")),
    }
}

/// A time as `cordon_domain::parse_local_time` reads it (local time, Asia/Shanghai, in the
/// shapes files write it, or RFC 3339) → seconds since 1970.
fn parse_time(s: &str) -> std::result::Result<i64, cordon_domain::refusal::Refusal> {
    cordon_domain::parse_local_time(s).map(|t| t.timestamp()).ok_or_else(|| refusal!("row.time", value = s.trim()))
}

/// Rows per stored batch.
const BATCH: usize = 50_000;

/// Imports scans from CSV (UTF-8 or GBK): resident id, venue code, time, optional exit. Rows
/// naming an unknown person or venue, or a person outside `allowed`, are reported and skipped.
pub async fn import_checkins<R: Read + Send + 'static>(
    store: &Store,
    input: R,
    observer: &mut (dyn ImportObserver + Send),
) -> Result<CheckinSummary> {
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<
        std::result::Result<(u64, Vec<(u64, String, String, i64, Option<i64>)>, Vec<RowError>), StoreError>,
    >(2);
    let reader = tokio::task::spawn_blocking(move || {
        let run = || -> Result<TextEncoding> {
            let crate::decode::Text { encoding, crlf, reader: text } = utf8_text(input)?;
            let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(text);
            let cols = columns(csv.headers().map_err(|e| refused!("refused.not_csv", reason = e))?)?;
            let (mut batch, mut errors, mut read) = (Vec::with_capacity(BATCH), Vec::new(), 0u64);
            let width = csv.headers().map(|h| h.len()).unwrap_or(0);
            for (line, rec) in numbered(csv.records(), crlf, width) {
                read += 1;
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let get = |i: usize| rec.get(i).unwrap_or("").trim();
                let at = parse_time(get(cols.at));
                let left = cols.left.map(get).filter(|s| !s.is_empty()).map(parse_time).transpose();
                if let Err(r) = cordon_domain::resident_id::check_if_resident(get(cols.person)) {
                    errors.push(RowError::refused(line, Some("id_number"), r));
                    continue;
                }
                match (at, left) {
                    (Ok(at), Ok(left)) if left.is_none_or(|l| l > at) => {
                        batch.push((line, get(cols.person).to_ascii_uppercase(), get(cols.venue).to_string(), at, left))
                    }
                    (Ok(_), Ok(_)) => errors.push(RowError::refused(line, Some("left_at"), refusal!("row.left_before_scan"))),
                    (Err(r), _) => errors.push(RowError::refused(line, Some("at"), r)),
                    (_, Err(r)) => errors.push(RowError::refused(line, Some("left_at"), r)),
                }
                if batch.len() == BATCH {
                    if tx.blocking_send(Ok((read, std::mem::take(&mut batch), std::mem::take(&mut errors)))).is_err() {
                        return Ok(encoding);
                    }
                    read = 0;
                }
            }
            let _ = tx.blocking_send(Ok((read, batch, errors)));
            Ok(encoding)
        };
        run()
    });
    let mut progress = Progress::default();
    // Ids already resolved stay known for the rest of the file: a city's scans name the same
    // million people and fifty thousand venues over and over.
    let (mut people, mut venues): (HashMap<String, i64>, HashMap<String, i64>) = (HashMap::new(), HashMap::new());
    while let Some(msg) = rx.recv().await {
        let (read, rows, mut errors) = msg?;
        progress.rows += read;
        let mut unknown: Vec<String> = rows.iter().filter(|r| !people.contains_key(&r.1)).map(|r| r.1.clone()).collect();
        unknown.sort_unstable();
        unknown.dedup();
        people.extend(store.person_ids_by_documents(&unknown).await?);
        let mut codes: Vec<String> = rows.iter().filter(|r| !venues.contains_key(&r.2)).map(|r| r.2.clone()).collect();
        codes.sort_unstable();
        codes.dedup();
        venues.extend(store.venue_ids(&codes).await?);
        let mut good = Vec::with_capacity(rows.len());
        for (line, person, venue, at, left) in rows {
            match (people.get(&person), venues.get(&venue)) {
                (Some(p), Some(v)) => good.push(CheckIn { person_id: *p, venue_id: *v, at, left }),
                (None, _) => errors.push(RowError::refused(line, Some("id_number"), refusal!("row.person_unregistered", id = person))),
                (_, None) => errors.push(RowError::refused(line, Some("venue_code"), refusal!("row.venue_unregistered", venue = venue))),
            }
        }
        progress.inserted += store.write_checkins(good).await?;
        errors.sort_by_key(|e| e.line);
        progress.invalid_rows += crate::import::rows_reported(&errors, |e| observer.row_error(e));
        observer.progress(&progress);
    }
    let encoding = reader.await.map_err(|e| StoreError::Task(e.to_string()))??;
    Ok(CheckinSummary {
        encoding,
        rows: progress.rows,
        inserted: progress.inserted,
        invalid_rows: progress.invalid_rows,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}
