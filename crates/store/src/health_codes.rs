//! Health codes: what a person's code is derived from, read from the records
//! ([`cordon_domain::health_code::CodeFacts`]), and the code itself. The rules are the domain's
//! (`health_code::derive`); this module reads the facts — a handful of key look-ups by person.

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::health_code::{CaseFact, CodeFacts, HealthCode, OrderFact, ZoneFact, derive};
use cordon_domain::local_date;

use crate::{Result, Store, with_read_pool};

/// A fever, as health checks record it (domain-rules §4.2: ≥ 37.3 °C).
const FEVER: f64 = 37.3;

impl Store {
    /// The facts person `person_id`'s code is derived from, at `now`.
    pub async fn code_facts(&self, person_id: i64, now: DateTime<Utc>) -> Result<CodeFacts> {
        let today = local_date(now);
        // The latest case that is not a suspicion, dated by its sample, else its report, else its
        // entry; discharged when its latest hospital stay is.
        type CaseRow = (i64, String, Option<NaiveDate>, DateTime<Utc>);
        let case: Option<CaseRow> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, external_id, COALESCE(sample_date, report_date), created_at FROM cases \
             WHERE person_id = $1 AND classification <> 'suspected' ORDER BY id DESC LIMIT 1",
        ).bind(person_id).fetch_optional(pool).await?);
        let case = match case {
            None => None,
            Some((id, number, day, created)) => {
                let stay: Option<(String, Option<DateTime<Utc>>)> = with_read_pool!(self, pool => sqlx::query_as(
                    "SELECT status, discharged_at FROM hospital_stays WHERE case_id = $1 ORDER BY id DESC LIMIT 1",
                ).bind(id).fetch_optional(pool).await?);
                let discharged_on = match stay {
                    Some((status, Some(at))) if status == "discharged" => Some(local_date(at)),
                    _ => None,
                };
                Some(CaseFact { number, since: day.unwrap_or_else(|| local_date(created)), discharged_on })
            }
        };
        // The open observation order, if any.
        let sql = format!(
            "SELECT category, status, COALESCE(found_on, release_on), created_at, release_on FROM observation_orders \
             WHERE person_id = $1 AND status NOT IN {} ORDER BY id DESC LIMIT 1",
            crate::observation::final_statuses()
        );
        type OrderRow = (String, String, Option<NaiveDate>, DateTime<Utc>, Option<NaiveDate>);
        let order: Option<OrderRow> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(person_id).fetch_optional(pool).await?);
        let order = match order {
            None => None,
            Some((category, status, found_on, created, release_on)) => Some(OrderFact {
                category: category.parse().map_err(crate::StoreError::corrupt)?,
                status: status.parse().map_err(crate::StoreError::corrupt)?,
                since: found_on.filter(|d| *d <= today).unwrap_or_else(|| local_date(created)),
                release_on,
            }),
        };
        // The strictest zone in force where they live, named as its incident's rules name it.
        let zone = match self.zone_id_of_person(person_id).await? {
            None => None,
            Some(id) => match self.zone(id).await? {
                None => None,
                Some(z) => {
                    let scheme = self.rule_set(&z.rule_set).await?.zones.scheme;
                    Some(ZoneFact { kind: z.kind, scheme, name: z.name, since: z.since, earliest: None })
                }
            },
        };
        let recall: Option<(DateTime<Utc>, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT created_at, deadline FROM recalls WHERE person_id = $1 AND status = 'open' ORDER BY id DESC LIMIT 1",
        ).bind(person_id).fetch_optional(pool).await?);
        let (fever,): (Option<NaiveDate>,) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT MAX(c.checked_on) FROM health_checks c JOIN observation_orders o ON o.id = c.order_id \
             WHERE o.person_id = $1 AND c.temperature >= $2",
        ).bind(person_id).bind(FEVER).fetch_one(pool).await?);
        // The latest round of their area that has ended without them sampled or accounted for.
        let missed: Option<(i64, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT r.id, r.name, r.target_end_at FROM persons p JOIN round_areas a ON a.area_code IN (substr(p.area_code, 1, 2), \
             substr(p.area_code, 1, 4), substr(p.area_code, 1, 6), substr(p.area_code, 1, 9), p.area_code) \
             JOIN testing_rounds r ON r.id = a.round_id WHERE p.id = $1 AND r.target_end_at < $2 \
             ORDER BY r.target_end_at DESC, r.id DESC LIMIT 1",
        ).bind(person_id).bind(now).fetch_optional(pool).await?);
        let missed_round = match missed {
            None => None,
            Some((round, name, ended)) => {
                let (accounted,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM samples WHERE round_id = $1 AND person_id = $2) \
                     + (SELECT COUNT(*) FROM round_exemptions WHERE round_id = $1 AND person_id = $2)",
                ).bind(round).bind(person_id).fetch_one(pool).await?);
                (accounted == 0).then(|| (name, local_date(ended)))
            }
        };
        Ok(CodeFacts {
            case,
            order,
            zone,
            recall: recall.map(|(since, deadline)| (local_date(since), local_date(deadline))),
            fever,
            missed_round,
        })
    }

    /// Person `person_id`'s code at `now`.
    pub async fn health_code(&self, person_id: i64, now: DateTime<Utc>) -> Result<HealthCode> {
        Ok(derive(&self.code_facts(person_id, now).await?, local_date(now)))
    }
}
