//! The person register: scoped lists with keyset paging, search, and detail.

use chrono::{Months, NaiveDate};
use cordon_domain::person::{IdDocument, Tags, Vulnerability, parse_passport};
use cordon_domain::{AreaCode, ResidentId};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// A person as stored, with their household address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: i64,
    pub document: IdDocument,
    pub name: String,
    pub sex: cordon_domain::person::Sex,
    pub birth_date: NaiveDate,
    pub phone: Option<String>,
    pub household_id: Option<i64>,
    pub address: Option<String>,
    pub area_code: String,
    pub tags: Tags,
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    id: i64,
    id_kind: String,
    id_number: String,
    name: String,
    sex: String,
    birth_date: NaiveDate,
    phone: Option<String>,
    household_id: Option<i64>,
    address: Option<String>,
    area_code: String,
    tags: i64,
}

impl TryFrom<PersonRow> for Person {
    type Error = StoreError;
    fn try_from(r: PersonRow) -> Result<Person> {
        let document = match r.id_kind.as_str() {
            "resident" => {
                IdDocument::Resident(ResidentId::parse(&r.id_number).map_err(|e| StoreError::Corrupt(format!("stored id {}: {e}", r.id)))?)
            }
            _ => IdDocument::Passport(parse_passport(&r.id_number).map_err(StoreError::Corrupt)?),
        };
        Ok(Person {
            id: r.id,
            document,
            name: r.name,
            sex: r.sex.parse().map_err(|e| StoreError::Corrupt(format!("stored sex of person {}: {e}", r.id)))?,
            birth_date: r.birth_date,
            phone: r.phone,
            household_id: r.household_id,
            address: r.address,
            area_code: r.area_code,
            tags: Tags::from_bits(r.tags),
        })
    }
}

/// Filters on the person list; all that are set must hold.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// Name prefix (a surname finds the whole family name).
    pub name: Option<String>,
    pub phone: Option<String>,
    /// The last four characters of the identity number.
    pub id_tail: Option<String>,
    /// The whole identity number: exactly that person (a hotline operator or a checkpoint
    /// officer types the whole number).
    pub id_number: Option<String>,
    pub vulnerability: Option<Vulnerability>,
}

impl PersonFilter {
    /// Reads one search box: 4 digits (or 3 digits and X) are an id tail, 11 digits a phone, an
    /// 18-character id exactly that id, anything else a name prefix.
    pub fn from_query(q: &str) -> PersonFilter {
        let q = q.trim();
        let digits = q.bytes().all(|b| b.is_ascii_digit());
        let mut f = PersonFilter::default();
        if q.is_empty() {
        } else if q.len() == 4 && q.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 3 && (b == b'X' || b == b'x'))) {
            f.id_tail = Some(q.to_ascii_uppercase());
        } else if digits && q.len() == 11 {
            f.phone = Some(q.to_string());
        } else if q.len() == 18 && q.as_bytes()[..17].iter().all(u8::is_ascii_digit) {
            f.id_tail = Some(q[14..].to_ascii_uppercase());
            f.id_number = Some(q.to_ascii_uppercase());
        } else {
            f.name = Some(q.to_string());
        }
        f
    }
}

/// Where a page ends: the last row's (area code, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonCursor {
    pub area_code: String,
    pub id: i64,
}

impl PersonCursor {
    /// An opaque text form for URLs: `AREA.ID`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.area_code, self.id)
    }
    pub fn decode(s: &str) -> Option<PersonCursor> {
        let (area, id) = s.split_once('.')?;
        let area = AreaCode::parse(area).ok()?;
        Some(PersonCursor { area_code: area.to_string(), id: id.parse().ok()? })
    }
}

/// One page of people and the cursor for the next, if there is one.
#[derive(Debug, Clone, Serialize)]
pub struct PersonPage {
    pub items: Vec<Person>,
    #[serde(skip)]
    pub next: Option<PersonCursor>,
}

pub(crate) const PERSON_SELECT: &str = "SELECT p.id, p.id_kind, p.id_number, p.name, p.sex, p.birth_date, p.phone, p.household_id, \
     h.address, p.area_code, p.tags FROM persons p LEFT JOIN households h ON h.id = p.household_id";

impl Store {
    /// People registered in `scope` (areas, each with everything under it) matching `filter`,
    /// ordered by (area code, id), `limit` per page, starting after `after`.
    pub async fn list_persons(
        &self,
        scope: &[AreaCode],
        filter: &PersonFilter,
        after: Option<&PersonCursor>,
        limit: u32,
        today: NaiveDate,
    ) -> Result<PersonPage> {
        let mut params = Vec::new();
        let Some(in_scope) = crate::in_areas("p.area_code", scope, &mut params) else {
            return Ok(PersonPage { items: vec![], next: None });
        };
        let mut sql = format!("{PERSON_SELECT} WHERE {in_scope}");
        let mut push = |sql: &mut String, clause: &str, p: Param| {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        };
        if let Some(name) = filter.name.as_deref().filter(|n| !n.is_empty()) {
            push(&mut sql, " AND p.name >= ?", Param::Text(name.to_string()));
            push(&mut sql, " AND p.name < ?", Param::Text(format!("{name}\u{10FFFF}")));
        }
        if let Some(phone) = &filter.phone {
            push(&mut sql, " AND p.phone = ?", Param::Text(phone.clone()));
        }
        if let Some(tail) = &filter.id_tail {
            push(&mut sql, " AND p.id_tail = ?", Param::Text(tail.to_ascii_uppercase()));
        }
        if let Some(number) = &filter.id_number {
            push(&mut sql, " AND p.id_number = ?", Param::Text(number.to_ascii_uppercase()));
        }
        match filter.vulnerability {
            Some(Vulnerability::Elderly) => {
                let born_by = today.checked_sub_months(Months::new(12 * Tags::ELDERLY_AGE)).unwrap_or(today);
                push(&mut sql, " AND p.birth_date <= ?", Param::Date(born_by));
            }
            Some(Vulnerability::Infant) => {
                let born_after = today.checked_sub_months(Months::new(12 * Tags::INFANT_AGE)).unwrap_or(today);
                push(&mut sql, " AND p.birth_date > ?", Param::Date(born_after));
            }
            Some(v) => {
                let bits = Tags::default().with(v).bits();
                push(&mut sql, " AND (p.tags & ?) <> 0", Param::Int(bits));
            }
            None => {}
        }
        self.page_persons(sql, params, after, limit).await
    }

    /// People in `scope` meeting one extra condition (`?` stands for `param`), keyset-paged like
    /// [`Store::list_persons`].
    pub(crate) async fn list_persons_where(
        &self,
        scope: &[AreaCode],
        condition: &str,
        param: Param,
        after: Option<&PersonCursor>,
        limit: u32,
    ) -> Result<PersonPage> {
        let mut params = Vec::new();
        let Some(in_scope) = crate::in_areas("p.area_code", scope, &mut params) else {
            return Ok(PersonPage { items: vec![], next: None });
        };
        params.push(param);
        let sql = format!("{PERSON_SELECT} WHERE {in_scope} AND {}", condition.replace('?', &format!("${}", params.len())));
        self.page_persons(sql, params, after, limit).await
    }

    /// Everyone of `area` meeting `condition` (whose placeholders are written `$X1`, `$X2` … for
    /// the values of `extra`), by area and address — for lists printed for a team, capped at 5,000.
    pub(crate) async fn list_persons_where_all(&self, area: &AreaCode, condition: &str, extra: Vec<Param>) -> Result<Vec<Person>> {
        let mut params = Vec::new();
        let in_scope = crate::in_areas("p.area_code", std::slice::from_ref(area), &mut params).expect("one area");
        let base = params.len();
        let mut condition = condition.to_string();
        for i in (1..=extra.len()).rev() {
            condition = condition.replace(&format!("$X{i}"), &format!("${}", base + i));
        }
        params.extend(extra);
        let sql = format!("{PERSON_SELECT} WHERE {in_scope} AND {condition} ORDER BY p.area_code, h.address, p.id LIMIT 5000");
        let rows: Vec<PersonRow> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, PersonRow>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        rows.into_iter().map(Person::try_from).collect()
    }

    /// Runs a person query (`sql` ends in its WHERE conditions) one page at a time by the key
    /// (area code, id): rows after `after`, `limit` of them, and the cursor for the next page.
    pub(crate) async fn page_persons(
        &self,
        mut sql: String,
        mut params: Vec<Param>,
        after: Option<&PersonCursor>,
        limit: u32,
    ) -> Result<PersonPage> {
        if let Some(c) = after {
            params.push(Param::Text(c.area_code.clone()));
            params.push(Param::Int(c.id));
            let n = params.len();
            sql.push_str(&format!(" AND (p.area_code > ${} OR (p.area_code = ${} AND p.id > ${n}))", n - 1, n - 1));
        }
        let limit = limit.clamp(1, 1000);
        sql.push_str(&format!(" ORDER BY p.area_code, p.id LIMIT {}", limit + 1));
        let rows: Vec<PersonRow> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, PersonRow>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let mut items = rows.into_iter().map(Person::try_from).collect::<Result<Vec<_>>>()?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|p| PersonCursor { area_code: p.area_code.clone(), id: p.id })
        } else {
            None
        };
        Ok(PersonPage { items, next })
    }

    /// One person, if they exist and are registered inside `scope`.
    pub async fn person_in(&self, scope: &AreaCode, id: i64) -> Result<Option<Person>> {
        let (lo, hi) = scope.subtree_range();
        let sql = format!("{PERSON_SELECT} WHERE p.id = $1 AND p.area_code >= $2 AND p.area_code < $3");
        let row: Option<PersonRow> = with_read_pool!(self, pool =>
            sqlx::query_as::<_, PersonRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).bind(lo).bind(hi).fetch_optional(pool).await?);
        row.map(Person::try_from).transpose()
    }

    /// One person by id, anywhere (callers on behalf of a user go through [`crate::scoped::Scoped`]).
    pub(crate) async fn person_by_id(&self, id: i64) -> Result<Option<Person>> {
        let sql = format!("{PERSON_SELECT} WHERE p.id = $1");
        let row: Option<PersonRow> = with_read_pool!(self, pool =>
            sqlx::query_as::<_, PersonRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?);
        row.map(Person::try_from).transpose()
    }

    /// One person by identity number, anywhere.
    pub async fn person_by_document(&self, number: &str) -> Result<Option<Person>> {
        let sql = format!("{PERSON_SELECT} WHERE p.id_number = $1");
        let row: Option<PersonRow> = with_read_pool!(self, pool =>
            sqlx::query_as::<_, PersonRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(number.trim().to_ascii_uppercase()).fetch_optional(pool).await?);
        row.map(Person::try_from).transpose()
    }

    /// Register ids by identity number, for the numbers that are registered.
    pub async fn person_ids_by_documents(&self, numbers: &[String]) -> Result<std::collections::HashMap<String, i64>> {
        let mut out = std::collections::HashMap::new();
        for chunk in numbers.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT id_number, id FROM persons WHERE id_number IN ({})", placeholders.join(", "));
            let params: Vec<Param> = chunk.iter().map(|n| Param::Text(n.trim().to_ascii_uppercase())).collect();
            let rows: Vec<(String, i64)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            out.extend(rows);
        }
        Ok(out)
    }

    /// Members of a household, oldest first.
    pub async fn household_members(&self, household_id: i64) -> Result<Vec<Person>> {
        let sql = format!("{PERSON_SELECT} WHERE p.household_id = $1 ORDER BY p.birth_date, p.id");
        let rows: Vec<PersonRow> = with_read_pool!(self, pool =>
            sqlx::query_as::<_, PersonRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(household_id).fetch_all(pool).await?);
        rows.into_iter().map(Person::try_from).collect()
    }
}

impl Store {
    /// Registers one person (the station's "register on the spot"), with their household when an
    /// address is given. Registering an identity number already in the register changes nothing
    /// and answers the stored person with `false`, so a retry after a lost answer is harmless.
    pub(crate) async fn register_person(&self, actor: &crate::audit::Actor, p: &cordon_domain::NewPerson) -> Result<(Person, bool)> {
        use crate::audit::{Append, Change};
        if let Some(existing) = self.person_by_document(p.document.number()).await? {
            return Ok((existing, false));
        }
        if self.area(&p.area_code).await?.is_none() {
            return Err(refused!("refused.area_unregistered", area = p.area_code));
        }
        let area = p.area_code.as_str();
        let created = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let household: Option<i64> = match p.address.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                None => None,
                Some(addr) => {
                    sqlx::query("INSERT INTO households (area_code, address) VALUES ($1, $2) ON CONFLICT (area_code, address) DO NOTHING")
                        .bind(area).bind(addr).execute(&mut *tx).await?;
                    let (id,): (i64,) = sqlx::query_as("SELECT id FROM households WHERE area_code = $1 AND address = $2")
                        .bind(area).bind(addr).fetch_one(&mut *tx).await?;
                    Some(id)
                }
            };
            let row: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO persons (id_kind, id_number, id_tail, name, sex, birth_date, phone, household_id, area_code, tags) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id_number) DO NOTHING RETURNING id",
            )
            .bind(p.document.kind()).bind(p.document.number()).bind(p.document.tail4()).bind(p.name.as_str())
            .bind(p.sex.as_str()).bind(p.birth_date).bind(p.phone.as_ref().map(|x| x.as_str())).bind(household)
            .bind(area).bind(p.tags.bits())
            .fetch_optional(&mut *tx).await?;
            match row {
                Some((id,)) => {
                    // The area's population (and each enclosing area's) is a maintained count that
                    // a round's coverage reads as its expected people: one more here.
                    let mut code = Some(p.area_code.clone());
                    while let Some(c) = code {
                        sqlx::query("UPDATE areas SET population = population + 1 WHERE code = $1").bind(c.as_str()).execute(&mut *tx).await?;
                        code = c.parent();
                    }
                    let change = Change::new("create", "person", id).area(area).after(serde_json::json!({
                        "id_number": p.document.masked(), "name": p.name.as_str(), "address": p.address, "how": "on_the_spot",
                    }));
                    tx.append(actor, &change).await?;
                    tx.commit().await?;
                    true
                }
                // Registered by someone else between the look-up and the insert.
                None => false,
            }
        });
        let person =
            self.person_by_document(p.document.number()).await?.ok_or_else(|| StoreError::Task("person vanished after insert".into()))?;
        Ok((person, created))
    }
}

/// What a person is now, in one look (what a hotline operator or checkpoint officer needs):
/// the cases they are, whose contact they are, their observation orders, their open recalls —
/// newest first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PersonNow {
    pub cases: Vec<NowCase>,
    pub contacts: Vec<NowContact>,
    pub orders: Vec<NowOrder>,
    pub recalls: Vec<NowRecall>,
}

impl PersonNow {
    /// Nothing on record: not a case, a contact, observed or recalled.
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty() && self.contacts.is_empty() && self.orders.is_empty() && self.recalls.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NowCase {
    pub case_id: i64,
    pub number: String,
    /// The case's area, for scoping.
    pub area_code: String,
    pub classification: String,
    /// The clinical type, when known.
    pub severity: Option<String>,
    /// Where the case is: home, hospital, …
    pub place: String,
    /// The hospital they are in now, if admitted.
    pub hospital: Option<String>,
    /// The last hospital stay's status: admitted, discharged, died.
    pub stay: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NowContact {
    pub case_id: i64,
    pub number: String,
    /// The case's area, for scoping.
    pub area_code: String,
    #[sqlx(try_from = "String")]
    pub degree: cordon_domain::cases::exposure::Degree,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NowOrder {
    pub order_id: i64,
    #[sqlx(try_from = "String")]
    pub status: cordon_domain::observation::Status,
    #[sqlx(try_from = "String")]
    pub category: cordon_domain::observation::Category,
    pub release_on: Option<NaiveDate>,
    pub site: Option<String>,
    pub room: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NowRecall {
    pub round_id: i64,
    pub barcode: String,
    pub deadline: chrono::DateTime<chrono::Utc>,
}

impl Store {
    /// What a person is now (see [`PersonNow`]), in four reads.
    pub(crate) async fn person_now(&self, person_id: i64) -> Result<PersonNow> {
        let cases: Vec<NowCase> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT k.id AS case_id, k.external_id AS number, k.area_code, k.classification, k.severity, k.place, \
             (SELECT h.name FROM hospital_stays s JOIN hospitals h ON h.id = s.hospital_id \
              WHERE s.case_id = k.id AND s.status = 'admitted' ORDER BY s.id DESC LIMIT 1) AS hospital, \
             (SELECT s.status FROM hospital_stays s WHERE s.case_id = k.id ORDER BY s.id DESC LIMIT 1) AS stay \
             FROM cases k WHERE k.person_id = $1 ORDER BY k.id DESC",
        ).bind(person_id).fetch_all(pool).await?);
        let all: Vec<NowContact> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT k.id AS case_id, k.external_id AS number, k.area_code, e.degree, e.status FROM exposures e JOIN cases k ON k.id = e.case_id \
             WHERE e.contact_person_id = $1 AND e.status <> 'dismissed' ORDER BY k.id DESC",
        ).bind(person_id).fetch_all(pool).await?);
        // One line per case: the gravest degree it reached them by.
        let mut contacts: Vec<NowContact> = Vec::new();
        for c in all {
            match contacts.iter_mut().find(|k| k.case_id == c.case_id) {
                Some(k) if c.degree.higher(k.degree) != k.degree => *k = c,
                Some(_) => {}
                None => contacts.push(c),
            }
        }
        let orders: Vec<NowOrder> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT o.id AS order_id, o.status, o.category, o.release_on, q.name AS site, r.number AS room FROM observation_orders o \
             LEFT JOIN quarantine_sites q ON q.id = o.site_id LEFT JOIN rooms r ON r.id = o.room_id \
             WHERE o.person_id = $1 ORDER BY o.id DESC",
        ).bind(person_id).fetch_all(pool).await?);
        let recalls: Vec<NowRecall> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT rc.round_id, t.barcode, rc.deadline FROM recalls rc JOIN tubes t ON t.id = rc.tube_id \
             WHERE rc.person_id = $1 AND rc.status = 'open' ORDER BY rc.deadline",
        ).bind(person_id).fetch_all(pool).await?);
        Ok(PersonNow { cases, contacts, orders, recalls })
    }
}

#[cfg(test)]
mod query_tests {
    use super::PersonFilter;

    #[test]
    fn a_search_of_eighteen_bytes_that_are_not_an_id_is_a_name_whatever_its_characters() {
        // 18 bytes in eight characters, a byte boundary inside the last (found by Schemathesis).
        let f = PersonFilter::from_query("¥\u{10c2a5}åDÿ:ó\u{1ea91}");
        assert_eq!(f.name.as_deref(), Some("¥\u{10c2a5}åDÿ:ó\u{1ea91}"));
        assert_eq!(f.id_number, None);
        let id = PersonFilter::from_query("14012119900101123x");
        assert_eq!((id.id_number.as_deref(), id.id_tail.as_deref()), (Some("14012119900101123X"), Some("123X")));
    }
}
