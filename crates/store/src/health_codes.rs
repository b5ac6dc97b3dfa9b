//! Health codes: what a person's code is derived from, read from the records
//! ([`cordon_domain::health_code::CodeFacts`]), and the code itself. The rules are the domain's
//! (`health_code::derive`); this module reads the facts — a handful of key look-ups by person.

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::health_code::{CaseFact, CodeFacts, HealthCode, OrderFact, Override, OverrideError, ZoneFact, derive, shown};
use cordon_domain::local_date;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Result, Store, with_read_pool, with_write_pool};

impl Store {
    /// The facts person `person_id`'s code is derived from, at `now`.
    pub async fn code_facts(&self, person_id: i64, now: DateTime<Utc>) -> Result<CodeFacts> {
        let today = local_date(now);
        // The latest case (a suspected one too: domain-rules §4.2), dated by its sample, else its
        // report, else its entry; its latest hospital stay says when it ended.
        type CaseRow = (i64, String, Option<NaiveDate>, DateTime<Utc>);
        let case: Option<CaseRow> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, external_id, COALESCE(sample_date, report_date), created_at FROM cases \
             WHERE person_id = $1 ORDER BY id DESC LIMIT 1",
        ).bind(person_id).fetch_optional(pool).await?);
        let case = match case {
            None => None,
            Some((id, number, day, created)) => {
                type StayRow = (String, Option<DateTime<Utc>>, Option<NaiveDate>, Option<DateTime<Utc>>);
                let stay: Option<StayRow> = with_read_pool!(self, pool => sqlx::query_as(
                    "SELECT status, discharged_at, monitoring_until, died_at FROM hospital_stays WHERE case_id = $1 ORDER BY id DESC LIMIT 1",
                ).bind(id).fetch_optional(pool).await?);
                // A death ends the code's reasons; a discharge starts the monitoring the ward set.
                if matches!(&stay, Some((status, _, _, Some(_))) if status == "died") {
                    return Ok(CodeFacts::default());
                }
                let (discharged_on, monitoring_until) = match stay {
                    Some((status, Some(at), until, _)) if status == "discharged" => (Some(local_date(at)), until),
                    _ => (None, None),
                };
                Some(CaseFact { number, since: day.unwrap_or_else(|| local_date(created)), discharged_on, monitoring_until })
            }
        };
        // The open observation order, if any.
        let sql = format!(
            "SELECT category, status, found_on, created_at, release_on, centralized_until FROM observation_orders \
             WHERE person_id = $1 AND status NOT IN {} ORDER BY id DESC LIMIT 1",
            crate::observation::final_statuses()
        );
        type OrderRow = (String, String, Option<NaiveDate>, DateTime<Utc>, Option<NaiveDate>, Option<NaiveDate>);
        let order: Option<OrderRow> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(person_id).fetch_optional(pool).await?);
        let order = match order {
            None => None,
            Some((category, status, found_on, created, release_on, centralized_until)) => {
                let status: cordon_domain::observation::Status = status.parse().map_err(crate::StoreError::corrupt)?;
                Some(OrderFact {
                    category: category.parse().map_err(crate::StoreError::corrupt)?,
                    status,
                    since: found_on.filter(|d| *d <= today).unwrap_or_else(|| local_date(created)),
                    // In a site, until the site stage ends; otherwise until release.
                    release_on: if status == cordon_domain::observation::Status::Centralized {
                        centralized_until.or(release_on)
                    } else {
                        release_on
                    },
                })
            }
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
        ).bind(person_id).bind(cordon_domain::observation::FEVER_C).fetch_one(pool).await?);
        // The latest round of their area that ended in the last week without them sampled or
        // accounted for (an older miss is overtaken by the rounds since).
        let missed: Option<(i64, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT r.id, r.name, r.target_end_at FROM persons p JOIN round_areas a ON a.area_code IN (substr(p.area_code, 1, 2), \
             substr(p.area_code, 1, 4), substr(p.area_code, 1, 6), substr(p.area_code, 1, 9), p.area_code) \
             JOIN testing_rounds r ON r.id = a.round_id WHERE p.id = $1 AND r.target_end_at < $2 AND r.target_end_at >= $3 \
             ORDER BY r.target_end_at DESC, r.id DESC LIMIT 1",
        ).bind(person_id).bind(now).bind(now - chrono::Duration::days(7)).fetch_optional(pool).await?);
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

    /// Person `person_id`'s code at `now`: derived from the records, under a hand-set override
    /// while one lasts.
    pub async fn health_code(&self, person_id: i64, now: DateTime<Utc>) -> Result<HealthCode> {
        let derived = derive(&self.code_facts(person_id, now).await?, local_date(now));
        let row: Option<(String, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT colour, reason, until FROM code_overrides WHERE person_id = $1 ORDER BY id DESC LIMIT 1",
        ).bind(person_id).fetch_optional(pool).await?);
        let over = match row {
            Some((colour, reason, until)) => Some(Override { colour: colour.parse().map_err(crate::StoreError::corrupt)?, reason, until }),
            None => None,
        };
        Ok(shown(derived, over.as_ref(), now))
    }

    /// Sets a code by hand over the derived one, checked by the domain (a reason, an expiry in the
    /// next 14 days), audited.
    pub(crate) async fn override_code(&self, actor: &Actor, person: &crate::Person, over: &Override, now: DateTime<Utc>) -> Result<()> {
        over.check(now).map_err(|e| match e {
            OverrideError::NoReason => refused!("refused.code.no_reason"),
            OverrideError::BadExpiry(days) => refused!("refused.code.bad_expiry", days = days),
        })?;
        let change = Change::new("override", "health_code", person.id)
            .area(&person.area_code)
            .after(serde_json::json!({"colour": over.colour, "reason": over.reason.trim(), "until": over.until}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO code_overrides (person_id, colour, reason, until, set_at, set_by) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(person.id).bind(over.colour.as_str()).bind(over.reason.trim()).bind(over.until).bind(now).bind(&actor.name)
                .execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
