//! Workplace rosters (单位花名册): who works where, and in which team or shift. A case's
//! co-workers are offered to the investigator beside the venue candidates, and a close
//! contact's team-mates are proposed as secondary contacts (see `exposures`).

use std::collections::HashMap;
use std::io::Read;
use std::time::Instant;

use cordon_domain::AreaCode;
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::decode::{TextEncoding, utf8_text};
use crate::import::{ImportObserver, Progress, RowError, numbered};
use crate::{Param, Result, Store, StoreError, bind_all, values_placeholders, with_read_pool, with_write_pool};

/// Who worked together, as a join of roster entry `m` to the person's entry `c`: the same
/// team, or the whole workplace when the person's entry names no team. One rule for the
/// candidates here and the secondary proposals in `exposures`.
macro_rules! same_team {
    () => {
        "JOIN workplace_members m ON m.workplace_id = c.workplace_id AND (c.unit = '' OR m.unit = c.unit)"
    };
}
pub(crate) use same_team;

/// What a roster import did.
#[derive(Debug, Clone, Serialize)]
pub struct RosterSummary {
    pub encoding: TextEncoding,
    pub rows: u64,
    /// Workplaces named for the first time.
    pub workplaces: u64,
    /// Members stored or moved to another team.
    pub members: u64,
    pub invalid_rows: u64,
    pub elapsed_ms: u64,
}

/// Someone on the same roster (and team, when the roster names teams) as a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Colleague {
    pub person_id: i64,
    pub name: String,
    pub area_code: String,
    pub workplace: String,
    /// The team or shift; empty when the roster names none.
    pub unit: String,
    /// Already a case, or a contact of another case, in the incident.
    pub standing: Option<crate::exposures::Standing>,
}

/// One valid roster row: line, workplace, resident id, team.
type Row = (u64, String, String, String);

fn parse<R: Read + Send + 'static>(input: R) -> Result<(TextEncoding, Vec<Row>, Vec<RowError>, u64)> {
    let crate::decode::Text { encoding, crlf, reader: text } = utf8_text(input)?;
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(text);
    let headers = csv.headers().map_err(|e| refused!("refused.not_csv", reason = e))?.clone();
    let find = |names: &[&str]| cordon_domain::header::position(&headers, names);
    let (Some(workplace), Some(person)) = (find(&["单位", "单位名称", "workplace"]), find(&["身份证号", "证件号码", "id_number"]))
    else {
        return Err(refused!("refused.roster_columns"));
    };
    let unit = find(&["班组", "部门", "unit"]);
    let (mut rows, mut errors, mut read) = (Vec::new(), Vec::new(), 0u64);
    let width = headers.len();
    for (line, rec) in numbered(csv.records(), crlf, width) {
        read += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        let (w, p) = (get(workplace), get(person).to_ascii_uppercase());
        if w.is_empty() {
            errors.push(RowError::refused(line, Some("workplace"), refusal!("row.empty")));
        } else if p.is_empty() {
            errors.push(RowError::refused(line, Some("id_number"), refusal!("row.empty")));
        } else if let Err(r) = cordon_domain::resident_id::check_if_resident(&p) {
            errors.push(RowError::refused(line, Some("id_number"), r));
        } else {
            rows.push((line, w, p, unit.map(get).unwrap_or_default()));
        }
    }
    Ok((encoding, rows, errors, read))
}

/// Imports a roster: workplace, resident id, optional team, one row per person and workplace.
/// The workplaces are registered in `area`. A person not registered is reported and skipped;
/// importing again changes nothing, and a person listed under another team moves there.
pub async fn import_roster<R: Read + Send + 'static>(
    store: &Store,
    actor: &Actor,
    input: R,
    area: &AreaCode,
    observer: &mut (dyn ImportObserver + Send),
) -> Result<RosterSummary> {
    let started = Instant::now();
    let (encoding, rows, mut errors, read) =
        tokio::task::spawn_blocking(move || parse(input)).await.map_err(|e| StoreError::Task(e.to_string()))??;
    let mut documents: Vec<String> = rows.iter().map(|r| r.2.clone()).collect();
    documents.sort_unstable();
    documents.dedup();
    let people = store.person_ids_by_documents(&documents).await?;
    let mut good: Vec<(&str, i64, &str)> = Vec::new();
    for (line, workplace, document, unit) in &rows {
        match people.get(document) {
            Some(id) => good.push((workplace, *id, unit)),
            None => errors.push(RowError::refused(*line, Some("id_number"), refusal!("row.person_unregistered", id = document))),
        }
    }
    let mut names: Vec<&str> = good.iter().map(|g| g.0).collect();
    names.sort_unstable();
    names.dedup();
    let area_code = area.to_string();
    let (workplaces, members) = with_write_pool!(store, pool => {
        let mut tx = pool.begin_write().await?;
        let mut workplaces = 0;
        let mut ids: HashMap<String, i64> = HashMap::new();
        for name in &names {
            workplaces += sqlx::query("INSERT INTO workplaces (name, area_code) VALUES ($1, $2) ON CONFLICT (area_code, name) DO NOTHING")
                .bind(*name).bind(&area_code).execute(&mut *tx).await?.rows_affected();
            let (id,): (i64,) = sqlx::query_as("SELECT id FROM workplaces WHERE area_code = $1 AND name = $2").bind(&area_code).bind(*name).fetch_one(&mut *tx).await?;
            ids.insert(name.to_string(), id);
        }
        let mut members = 0;
        // One row per person and workplace: the last line naming them wins.
        let mut latest: HashMap<(i64, i64), &str> = HashMap::new();
        for (w, person, unit) in &good {
            latest.insert((ids[*w], *person), unit);
        }
        let mut latest: Vec<((i64, i64), &str)> = latest.into_iter().collect();
        latest.sort_unstable();
        for chunk in latest.chunks(300) {
            let sql = format!(
                "INSERT INTO workplace_members (workplace_id, person_id, unit) VALUES {} \
                 ON CONFLICT (workplace_id, person_id) DO UPDATE SET unit = excluded.unit WHERE workplace_members.unit <> excluded.unit",
                values_placeholders(chunk.len(), 3, 0)
            );
            let params: Vec<Param> = chunk.iter().flat_map(|((w, p), u)| [Param::Int(*w), Param::Int(*p), Param::Text(u.to_string())]).collect();
            members += bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
        }
        let change = Change::new("import", "roster", &area_code).area(&area_code).after(serde_json::json!({
            "rows": read, "workplaces": workplaces, "members": members,
        }));
        tx.append(actor, &change).await?;
        tx.commit().await?;
        (workplaces, members)
    });
    errors.sort_by_key(|e| e.line);
    let mut lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    lines.dedup();
    for e in &errors {
        observer.row_error(e);
    }
    let invalid_rows = lines.len() as u64;
    observer.progress(&Progress { bytes_read: 0, rows: read, inserted: members, invalid_rows });
    Ok(RosterSummary { encoding, rows: read, workplaces, members, invalid_rows, elapsed_ms: started.elapsed().as_millis() as u64 })
}

impl Store {
    /// Everyone on a roster with the person: of the same team when the person's entry names
    /// one, of the whole workplace otherwise.
    pub(crate) async fn colleagues(&self, person_id: i64) -> Result<Vec<Colleague>> {
        let rows: Vec<(i64, String, String, String, String)> = with_read_pool!(self, pool => sqlx::query_as(concat!(
            "SELECT p.id, p.name, p.area_code, w.name, m.unit FROM workplace_members c ",
            same_team!(),
            " JOIN workplaces w ON w.id = m.workplace_id JOIN persons p ON p.id = m.person_id \
             WHERE c.person_id = $1 AND m.person_id <> $1 ORDER BY w.name, m.unit, p.id",
        )).bind(person_id).fetch_all(pool).await?);
        // Someone on two shared rosters is listed once.
        let mut seen = std::collections::HashSet::new();
        Ok(rows
            .into_iter()
            .filter(|r| seen.insert(r.0))
            .map(|(person_id, name, area_code, workplace, unit)| Colleague { person_id, name, area_code, workplace, unit, standing: None })
            .collect())
    }
}
