//! Health codes: what a person's code is derived from, read from the records
//! ([`cordon_domain::health_code::CodeFacts`]), and the code itself. The rules are the domain's
//! (`health_code::derive`); this module reads the facts — a handful of key look-ups by person.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::health_code::{
    CaseFact, CodeFacts, Colour, HealthCode, MISSED_ROUND_DAYS, OrderFact, Override, OverrideError, ZoneFact, derive, shown,
};
use cordon_domain::zones::{ZoneKind, precedence};
use cordon_domain::{AreaCode, local_date};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Result, Store, StoreError, with_read_pool, with_write_pool};

/// How many people of one area hold each colour, as last derived.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColourCount {
    pub area_code: String,
    pub name: String,
    pub red: i64,
    pub yellow: i64,
    pub green: i64,
}

/// A person of a red or yellow list: their code as stored and since when it holds that colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodedPerson {
    pub person_id: i64,
    pub name: String,
    pub area_code: String,
    pub code: HealthCode,
    pub changed_at: DateTime<Utc>,
}

/// One change of a person's colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeChange {
    pub from: Colour,
    pub to: Colour,
    /// The code it changed to.
    pub code: HealthCode,
    pub at: DateTime<Utc>,
}

/// People derived per transaction.
pub(crate) const CHUNK: i64 = 100_000;

/// A zone act waits for the codes of up to this many people it marked; more are derived in the
/// background.
pub(crate) const AT_ONCE: u64 = 100_000;

/// From this many people in one pass, each zone's residents are matched at once rather than each
/// person's places looked up.
const PER_ZONE_FROM: i64 = 2_000;

/// The instant local day `d` begins.
fn day_start(d: NaiveDate) -> DateTime<Utc> {
    cordon_domain::from_local(d.and_time(chrono::NaiveTime::MIN))
}

/// Which people one pass derives.
#[derive(Debug, Clone, Copy)]
enum Take {
    /// Those marked up to mark `seq` (the marks' order), the residents of the zone of zone mark
    /// `zone` (that mark exactly: one read committed), and those past their review.
    Marked { upto: i64, zone: i64 },
    /// People never derived: ids after the fill's mark up to the given id.
    Unfilled { after: i64, upto: i64 },
    /// One person (a code set by hand), their marks left for the next pass (which finds the
    /// same code again).
    Person { id: i64 },
}

impl Take {
    /// Whether the person whose id is the SQL expression `id` is taken, binding `$1` and `$2`
    /// (and, for the marked, the zone mark as `$5`): a few key look-ups for one person — for
    /// asking of a small set (the special people) without listing a zone's 100,000 residents.
    fn holds(self, id: &str) -> String {
        match self {
            // A zone's residents as `zones::lives_in` tells one person: their area's prefixes of
            // 2, 4, 6 and 9 digits or the whole code — the same people as the write's
            // `zones::INSIDE_WITH_AREA` takes by code range, since every code is 2, 4, 6, 9 or 12
            // digits (`AreaCode::parse`). (`taken_p`: an alias no caller's `id` names.)
            Take::Marked { .. } => format!(
                "(EXISTS (SELECT 1 FROM code_dirty d WHERE d.person_id = {id} AND d.seq <= $1) \
                 OR EXISTS (SELECT 1 FROM health_codes h WHERE h.person_id = {id} AND h.review_at <= $2) \
                 OR EXISTS (SELECT 1 FROM persons taken_p JOIN code_dirty_zones dz ON dz.seq = $5 WHERE taken_p.id = {id} AND {}))",
                crate::zones::lives_in("taken_p", "dz.zone_id")
            ),
            // Bound as the person's id twice.
            Take::Person { .. } => format!("({id} >= $1 AND {id} <= $2)"),
            Take::Unfilled { .. } => {
                format!("({id} > $1 AND {id} <= $2 AND NOT EXISTS (SELECT 1 FROM health_codes h WHERE h.person_id = {id}))")
            }
        }
    }
}

/// Whether person `{p}` has more to their name than a zone and a missed round: a case, an open
/// order or recall, a fever, an override in force — derived one by one. Binds the fever's
/// temperature and now as `${fever}` and `${now}`.
fn special(p: &str, fever: usize, now: usize) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM cases c WHERE c.person_id = {p}) \
         OR EXISTS (SELECT 1 FROM observation_orders o WHERE o.person_id = {p} AND o.status NOT IN {final_}) \
         OR EXISTS (SELECT 1 FROM recalls r WHERE r.person_id = {p} AND r.status = 'open') \
         OR EXISTS (SELECT 1 FROM observation_orders o JOIN health_checks k ON k.order_id = o.id \
         WHERE o.person_id = {p} AND k.temperature >= ${fever}) \
         OR EXISTS (SELECT 1 FROM code_overrides v WHERE v.person_id = {p} AND v.until > ${now}))",
        final_ = crate::observation::final_statuses()
    )
}

/// Everyone with more to their name than a zone and a missed round, as [`special`] tells one
/// person: binds the fever's temperature and now as `$3` and `$4`.
static SPECIAL_PEOPLE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT person_id FROM cases WHERE person_id IS NOT NULL \
         UNION SELECT person_id FROM observation_orders WHERE status NOT IN {final_} \
         UNION SELECT person_id FROM recalls WHERE status = 'open' \
         UNION SELECT o.person_id FROM observation_orders o JOIN health_checks k ON k.order_id = o.id WHERE k.temperature >= $3 \
         UNION SELECT person_id FROM code_overrides WHERE until > $4",
        final_ = crate::observation::final_statuses()
    )
});

impl Store {
    /// The facts person `person_id`'s code is derived from, at `now`.
    pub async fn code_facts(&self, person_id: i64, now: DateTime<Utc>) -> Result<CodeFacts> {
        Ok(self.code_facts_lasting(person_id, now).await?.0)
    }

    /// [`Store::code_facts`], with the instant a missed round stops counting (a week after it
    /// ended), if one counts.
    async fn code_facts_lasting(&self, person_id: i64, now: DateTime<Utc>) -> Result<(CodeFacts, Option<DateTime<Utc>>)> {
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
                    return Ok((CodeFacts::default(), None));
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
            Some(id) => self.zone_fact(id).await?,
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
        ).bind(person_id).bind(now).bind(now - chrono::Duration::days(MISSED_ROUND_DAYS)).fetch_optional(pool).await?);
        let missed_ends = missed.as_ref().map(|(_, _, ended)| *ended + chrono::Duration::days(MISSED_ROUND_DAYS));
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
        let missed_ends = missed_ends.filter(|_| missed_round.is_some());
        let facts = CodeFacts {
            case,
            order,
            zone,
            recall: recall.map(|(since, deadline)| (local_date(since), local_date(deadline))),
            fever,
            missed_round,
        };
        Ok((facts, missed_ends))
    }

    /// Zone `id` as a code names it, under its incident's rules; `None` for a zone gone.
    async fn zone_fact(&self, id: i64) -> Result<Option<ZoneFact>> {
        let Some(z) = self.zone(id).await? else { return Ok(None) };
        let scheme = self.rule_set(&z.rule_set).await?.zones.scheme;
        Ok(Some(ZoneFact { kind: z.kind, scheme, name: z.name, since: z.since, earliest: None }))
    }

    /// Person `person_id`'s code at `now`: the stored one while it holds (one key look-up),
    /// else derived from the records as [`Store::live_code`] does — a person marked since their
    /// code was derived, one never derived, or one past its review.
    pub async fn health_code(&self, person_id: i64, now: DateTime<Utc>) -> Result<HealthCode> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT (SELECT code FROM health_codes WHERE person_id = $1), (SELECT review_at FROM health_codes WHERE person_id = $1), \
                 EXISTS (SELECT 1 FROM code_dirty WHERE person_id = $1) OR EXISTS (SELECT 1 FROM persons p WHERE p.id = $1 AND {})",
                crate::zones::in_marked_zone("p")
            )
        });
        let row: Option<(Option<String>, Option<DateTime<Utc>>, bool)> = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(SQL.as_str())).bind(person_id).fetch_optional(pool).await?);
        match row {
            Some((Some(code), review_at, false)) if review_at.is_none_or(|t| t > now) => {
                serde_json::from_str(&code).map_err(crate::StoreError::corrupt)
            }
            _ => Ok(self.live_code(person_id, now).await?.0),
        }
    }

    /// Whoever holds identity number `number`, with their code at `now`, in one look-up when the
    /// stored code holds (what a checkpoint asks); `None` for a number not in the register.
    pub(crate) async fn person_with_code(&self, number: &str, now: DateTime<Utc>) -> Result<Option<(crate::Person, HealthCode)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            person: crate::people::PersonRow,
            code_json: Option<String>,
            review_at: Option<DateTime<Utc>>,
            marked: bool,
        }
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT p.id, p.id_kind, p.id_number, p.name, p.sex, p.birth_date, p.phone, p.household_id, h.address, p.area_code, p.tags, \
                 c.code AS code_json, c.review_at, (EXISTS (SELECT 1 FROM code_dirty d WHERE d.person_id = p.id) OR {}) AS marked \
                 FROM persons p LEFT JOIN households h ON h.id = p.household_id LEFT JOIN health_codes c ON c.person_id = p.id \
                 WHERE p.id_number = $1",
                crate::zones::in_marked_zone("p")
            )
        });
        let number = number.trim().to_ascii_uppercase();
        let row: Option<Row> = with_read_pool!(self, pool => sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(SQL.as_str())).bind(&number).fetch_optional(pool).await?);
        let Some(row) = row else { return Ok(None) };
        let person = crate::Person::try_from(row.person)?;
        let code = match (row.code_json, row.marked) {
            (Some(code), false) if row.review_at.is_none_or(|t| t > now) => serde_json::from_str(&code).map_err(StoreError::corrupt)?,
            _ => self.live_code(person.id, now).await?.0,
        };
        Ok(Some((person, code)))
    }

    /// Person `person_id`'s code derived from the records at `now`, under a hand-set override
    /// while one lasts, with the instant it stops holding unless the facts change.
    pub(crate) async fn live_code(&self, person_id: i64, now: DateTime<Utc>) -> Result<(HealthCode, Option<DateTime<Utc>>)> {
        let today = local_date(now);
        let (facts, missed_ends) = self.code_facts_lasting(person_id, now).await?;
        let derived = derive(&facts, today);
        let row: Option<(String, String, DateTime<Utc>, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT colour, reason, until, set_at FROM code_overrides WHERE person_id = $1 ORDER BY id DESC LIMIT 1",
        ).bind(person_id).fetch_optional(pool).await?);
        let over = match row {
            Some((colour, reason, until, set_at)) => {
                Some(Override { colour: colour.parse().map_err(crate::StoreError::corrupt)?, reason, until, set_at })
            }
            None => None,
        };
        let review = [facts.changes_on(today).map(day_start), missed_ends, over.as_ref().map(|o| o.until).filter(|t| *t > now)]
            .into_iter()
            .flatten()
            .min();
        Ok((shown(derived, over.as_ref(), now), review))
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
        // Stored at once, so that the lists and counts by colour say it — this person's code
        // only, not every mark waiting (the code is set; a refresh that fails or is busy leaves
        // the mark for the background one).
        if let Err(e) = self.refresh_person_unless_busy(person.id, now).await {
            tracing::warn!("health codes not refreshed after an override: {e}");
        }
        Ok(())
    }
}

impl Store {
    /// Brings the stored codes up to date at `now` (the background refresh): derives everyone
    /// marked or past their review (see [`Store::refresh_marked`]), then the next chunk of
    /// people never derived. One refresh at a time. Answers how many codes were derived.
    pub async fn refresh_codes(&self, now: DateTime<Utc>) -> Result<u64> {
        let _one = self.codes.lock().await;
        let mut derived = self.refresh_marked_locked(now).await?;
        let (after,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COALESCE((SELECT value FROM code_marks WHERE name = 'persons'), 0)").fetch_one(pool).await?);
        let (upto,): (Option<i64>,) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT MAX(id) FROM (SELECT id FROM persons WHERE id > $1 ORDER BY id LIMIT $2) x",
        ).bind(after).bind(CHUNK).fetch_one(pool).await?);
        if let Some(upto) = upto {
            derived += self.derive_codes(Take::Unfilled { after, upto }, now).await?;
        }
        Ok(derived)
    }

    /// Derives, at `now`, the codes of everyone marked (a fact of theirs changed) and everyone
    /// past their review, after marking those a round that ended since left unsampled: what a
    /// zone act waits for so that its people's codes read right at once.
    pub(crate) async fn refresh_marked(&self, now: DateTime<Utc>) -> Result<u64> {
        let _one = self.codes.lock().await;
        self.refresh_marked_locked(now).await
    }

    /// Derives person `id`'s code at `now` and stores it, unless a refresh is running already
    /// (their mark is then taken by the next one, within seconds); answers how many were
    /// derived. For a hand-set code, whose list and counts should read right at once.
    pub(crate) async fn refresh_person_unless_busy(&self, id: i64, now: DateTime<Utc>) -> Result<u64> {
        let Ok(_one) = self.codes.try_lock() else { return Ok(0) };
        self.derive_codes(Take::Person { id }, now).await
    }

    /// Derives, at `now`, the residents of zone mark `mark` (one act's) and those past their
    /// review — no other mark — unless a refresh is running already (the mark is then taken by
    /// the next one, within seconds); answers how many were derived.
    pub(crate) async fn refresh_zone_mark_unless_busy(&self, mark: i64, now: DateTime<Utc>) -> Result<u64> {
        let Ok(_one) = self.codes.try_lock() else { return Ok(0) };
        self.derive_codes(Take::Marked { upto: 0, zone: mark }, now).await
    }

    async fn refresh_marked_locked(&self, now: DateTime<Utc>) -> Result<u64> {
        self.mark_rounds_ended(now).await?;
        let mut derived = 0;
        loop {
            // Marks are taken a chunk at a time, oldest first, with at most one zone (each holds up
            // to a chunk of people); nothing to do costs two reads.
            let (upto, zone, due): (Option<i64>, Option<i64>, bool) = with_read_pool!(self, pool => sqlx::query_as(
                "SELECT (SELECT MAX(seq) FROM (SELECT seq FROM code_dirty ORDER BY seq LIMIT $1) x), \
                 (SELECT MIN(seq) FROM code_dirty_zones), EXISTS (SELECT 1 FROM health_codes WHERE review_at <= $2)",
            ).bind(CHUNK).bind(now).fetch_one(pool).await?);
            if upto.is_none() && zone.is_none() && !due {
                return Ok(derived);
            }
            derived += self.derive_codes(Take::Marked { upto: upto.unwrap_or(0), zone: zone.unwrap_or(0) }, now).await?;
            if upto.is_none() && zone.is_none() {
                return Ok(derived);
            }
        }
    }

    /// Refreshes the stored codes in the background every `every` while the process runs: the
    /// marks a change leaves, the reviews fallen due, the rounds ended, the people never derived
    /// (`cordon serve`). A failed refresh keeps its marks for the next.
    pub fn keep_codes_current(&self, every: std::time::Duration) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let started = std::time::Instant::now();
                match store.refresh_codes(Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("health codes: {n} derived in {:.1} s", started.elapsed().as_secs_f64()),
                    Err(e) => tracing::warn!("health codes not refreshed: {e}"),
                }
            }
        });
    }

    /// Marks, for each round ended since the last refresh (or recorded since with its end
    /// already past, within the week a miss counts), the people of its areas neither sampled nor
    /// accounted for, and those whose code still names an older miss.
    async fn mark_rounds_ended(&self, now: DateTime<Utc>) -> Result<()> {
        let week = now - chrono::Duration::days(MISSED_ROUND_DAYS);
        let mark: Option<(i64,)> = with_read_pool!(self, pool => sqlx::query_as("SELECT value FROM code_marks WHERE name = 'rounds_ended'")
            .fetch_optional(pool).await?);
        let from = mark.and_then(|(v,)| DateTime::from_timestamp(v, 0)).map_or(week, |t| t.max(week));
        let rounds: Vec<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id FROM testing_rounds WHERE target_end_at < $2 AND target_end_at >= $3 \
             AND (target_end_at >= $1 OR created_at >= $1) ORDER BY id",
        ).bind(from).bind(now).bind(week).fetch_all(pool).await?);
        if rounds.is_empty() {
            // Nothing ended: the mark may stay where it is (the next look spans a little more).
            return Ok(());
        }
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (round,) in &rounds {
                sqlx::query(
                    "INSERT INTO code_dirty (person_id) SELECT DISTINCT p.id FROM round_areas a \
                     JOIN persons p ON p.area_code >= a.area_code AND p.area_code < a.area_code || ':' WHERE a.round_id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.person_id = p.id AND s.round_id = $1) \
                     AND NOT EXISTS (SELECT 1 FROM round_exemptions e WHERE e.round_id = $1 AND e.person_id = p.id)",
                ).bind(round).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO code_dirty (person_id) SELECT DISTINCT h.person_id FROM round_areas a JOIN health_codes h \
                     ON h.colour <> 'green' AND h.area_code >= a.area_code AND h.area_code < a.area_code || ':' \
                     WHERE a.round_id = $1 AND h.code LIKE '%\"overdue_test\"%'",
                ).bind(round).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO code_marks (name, value) VALUES ('rounds_ended', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            ).bind(now.timestamp()).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Derives the codes of the people `take` names and answers how many. Those with more to
    /// their name than a zone and a missed round (a case, an order, …) are derived first, one by
    /// one, from the records as they stand, outside the write; then one transaction takes the
    /// marks, finds each person's strictest zone and latest missed round, derives everyone else
    /// once per (zone, round) and writes them a statement per group, with every change of colour
    /// kept and the counts by area. Someone who gained more to their name in between is marked
    /// again for the next pass (their change marked them too).
    async fn derive_codes(&self, take: Take, now: DateTime<Utc>) -> Result<u64> {
        let today = local_date(now);
        let week = now - chrono::Duration::days(MISSED_ROUND_DAYS);
        let postgres = self.kind() == crate::BackendKind::Postgres;
        let (b1, b2, zone_marks) = match take {
            Take::Marked { upto, zone } => (upto, None, zone),
            Take::Unfilled { after, upto } => (after, Some(upto), 0),
            Take::Person { id } => (id, Some(id), 0),
        };
        let fever = cordon_domain::observation::FEVER_C;
        // The special people's codes, read from the committed records before the write.
        // Who has more to their name is a small set, read once and each asked whether they are
        // taken (not the people taken listed — a zone's 100,000 — and each probed five times).
        let sql = format!("SELECT s.person_id FROM ({}) s WHERE {}", *SPECIAL_PEOPLE, take.holds("s.person_id"));

        let specials: Vec<(i64,)> = match b2 {
            None => with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(b1).bind(now).bind(fever).bind(now).bind(zone_marks).fetch_all(pool).await?),
            Some(upto) => with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(b1).bind(upto).bind(fever).bind(now).fetch_all(pool).await?),
        };
        let mut derived_one_by_one = HashMap::new();
        for (person,) in specials {
            let (code, review) = self.live_code(person, now).await?;
            let json = serde_json::to_string(&code).map_err(StoreError::corrupt)?;
            derived_one_by_one.insert(person, (code.colour, json, review));
        }
        let rounds: Vec<(i64, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, name, target_end_at FROM testing_rounds WHERE target_end_at < $1 AND target_end_at >= $2 ORDER BY target_end_at, id",
        ).bind(now).bind(week).fetch_all(pool).await?);

        with_write_pool!(self, pool => {
            // The zones marked whose residents came with their zone known: (zone, its rank).
            let mut settled: Vec<(i64, ZoneKind)> = Vec::new();
            let mut tx = pool.begin_write().await?;
            // Zones in force that colour a code, least strict first (a later one overwrites), as
            // the write sees them.
            let zones_in_force: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, kind FROM zones WHERE lifted_at IS NULL AND kind <> 'precaution' \
                 ORDER BY CASE kind WHEN 'sealed' THEN 0 ELSE 1 END DESC, id DESC",
            ).fetch_all(&mut *tx).await?;
            let zones_in_force: Vec<(i64, ZoneKind)> = zones_in_force
                .into_iter()
                .map(|(id, kind)| Ok((id, ZoneKind::try_from(kind).map_err(StoreError::corrupt)?)))
                .collect::<Result<_>>()?;
            sqlx::query("DELETE FROM code_work").execute(&mut *tx).await?;
            match take {
                Take::Marked { upto, .. } => {
                    if postgres {
                        // Marks not yet committed are not seen, so not deleted: they stay for the next pass.
                        sqlx::query(
                            "WITH d AS (DELETE FROM code_dirty WHERE seq <= $1 RETURNING person_id) \
                             INSERT INTO code_work (person_id, area_code) SELECT p.id, p.area_code FROM persons p \
                             WHERE p.id IN (SELECT person_id FROM d)",
                        ).bind(upto).execute(&mut *tx).await?;
                    } else {
                        sqlx::query(
                            "INSERT INTO code_work (person_id, area_code) SELECT p.id, p.area_code FROM persons p \
                             WHERE p.id IN (SELECT person_id FROM code_dirty WHERE seq <= $1)",
                        ).bind(upto).execute(&mut *tx).await?;
                        sqlx::query("DELETE FROM code_dirty WHERE seq <= $1").bind(upto).execute(&mut *tx).await?;
                    }
                    sqlx::query(
                        "INSERT INTO code_work (person_id, area_code) SELECT h.person_id, p.area_code FROM health_codes h \
                         JOIN persons p ON p.id = h.person_id WHERE h.review_at <= $1 ON CONFLICT (person_id) DO NOTHING",
                    ).bind(now).execute(&mut *tx).await?;
                    // The residents of the zones marked, with the zone already known when it colours
                    // a code (strictest zones first: a person in two keeps the stricter); those of a
                    // zone lifted or made precaution have theirs found like anyone marked.
                    let taken: Vec<(i64,)> = if postgres {
                        sqlx::query_as("DELETE FROM code_dirty_zones WHERE seq = $1 RETURNING zone_id").bind(zone_marks).fetch_all(&mut *tx).await?
                    } else {
                        let taken = sqlx::query_as("SELECT zone_id FROM code_dirty_zones WHERE seq = $1").bind(zone_marks).fetch_all(&mut *tx).await?;
                        sqlx::query("DELETE FROM code_dirty_zones WHERE seq = $1").bind(zone_marks).execute(&mut *tx).await?;
                        taken
                    };
                    let mut taken: Vec<i64> = taken.into_iter().map(|(z,)| z).collect();
                    taken.sort_unstable();
                    taken.dedup();
                    let colouring = |z: &i64| zones_in_force.iter().find(|(id, _)| id == z).map(|(_, kind)| *kind);
                    // The strongest first; a zone that colours no code (lifted, precaution) last.
                    taken.sort_by_key(|z| (colouring(z).is_none(), colouring(z).map(|k| precedence(k, *z))));
                    for zone in &taken {
                        let known = if colouring(zone).is_some() { *zone } else { 0 };
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "INSERT INTO code_work (person_id, area_code, zone_id, marked_zone) SELECT x.id, x.area_code, $2, $2 \
                             FROM ({INSIDE}) x WHERE true ON CONFLICT (person_id) DO NOTHING",
                            INSIDE = crate::zones::INSIDE_WITH_AREA
                        ))).bind(zone).bind(known).execute(&mut *tx).await?;
                        if let Some(kind) = colouring(zone) {
                            settled.push((*zone, kind));
                        }
                    }
                }
                Take::Person { id } => {
                    sqlx::query("INSERT INTO code_work (person_id, area_code) SELECT id, area_code FROM persons WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                Take::Unfilled { after, upto } => {
                    // Anyone derived meanwhile (marked as they were added) is not derived twice.
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO code_work (person_id, area_code) SELECT p.id, p.area_code FROM persons p WHERE {}",
                        Take::Unfilled { after, upto }.holds("p.id")
                    )))
                        .bind(after).bind(upto).execute(&mut *tx).await?;
                    sqlx::query(
                        "INSERT INTO code_marks (name, value) VALUES ('persons', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    ).bind(upto).execute(&mut *tx).await?;
                }
            }
            let (work,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM code_work").fetch_one(&mut *tx).await?;
            if work == 0 {
                tx.commit().await?;
                return Ok(0);
            }
            if postgres {
                // The scratch is emptied and filled on every pass: without statistics of this
                // fill the planner guessed its size from the pages left by earlier ones and
                // joined a handful of people by scanning the register (half a second for 15).
                sqlx::query("ANALYZE code_work").execute(&mut *tx).await?;
            }
            // The strictest sealed or controlled zone each lives in (a precaution zone colours no
            // code). Many people (a zone drawn): each zone's residents at once, least strict first so
            // that the strictest (then the oldest) is left; a few: from each person's own places.
            if work > PER_ZONE_FROM {
                // People who came with their zone are matched only against zones that beat it
                // (stricter, or as strict and older); everyone else against every zone.
                let (unsettled,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM code_work WHERE marked_zone = 0").fetch_one(&mut *tx).await?;
                for (zone, kind) in &zones_in_force {
                    let beaten: Vec<String> = settled
                        .iter()
                        .filter(|(z, k)| precedence(*kind, *zone) < precedence(*k, *z))
                        .map(|(z, _)| z.to_string())
                        .collect();
                    if unsettled == 0 && beaten.is_empty() {
                        continue;
                    }
                    let whose = if beaten.is_empty() {
                        "marked_zone = 0".to_string()
                    } else {
                        format!("(marked_zone = 0 OR marked_zone IN ({}))", beaten.join(", "))
                    };
                    // Areas by the area each person has in the work; buildings and households
                    // through the register (a set read once, empty for a zone of areas).
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE code_work SET zone_id = $1 WHERE {whose} AND (EXISTS (SELECT 1 FROM zone_areas za WHERE za.zone_id = $1 \
                         AND code_work.area_code >= za.area_code AND code_work.area_code < za.area_code || ':') \
                         OR person_id IN (SELECT p.id FROM zone_buildings zb JOIN households h ON h.building_id = zb.building_id \
                         JOIN persons p ON p.household_id = h.id WHERE zb.zone_id = $1 \
                         UNION SELECT p.id FROM zone_households zh JOIN persons p ON p.household_id = zh.household_id WHERE zh.zone_id = $1))"
                    ))).bind(zone).execute(&mut *tx).await?;
                }
            } else if !zones_in_force.is_empty() {
                sqlx::query(
                    "UPDATE code_work SET zone_id = COALESCE((SELECT m.id FROM (\
                     SELECT z.id, CASE z.kind WHEN 'sealed' THEN 0 ELSE 1 END AS r FROM persons p \
                     JOIN zone_areas za ON za.area_code IN (substr(p.area_code, 1, 2), substr(p.area_code, 1, 4), \
                     substr(p.area_code, 1, 6), substr(p.area_code, 1, 9), p.area_code) \
                     JOIN zones z ON z.id = za.zone_id AND z.lifted_at IS NULL AND z.kind <> 'precaution' WHERE p.id = code_work.person_id \
                     UNION ALL SELECT z.id, CASE z.kind WHEN 'sealed' THEN 0 ELSE 1 END FROM persons p \
                     JOIN zone_households zh ON zh.household_id = p.household_id \
                     JOIN zones z ON z.id = zh.zone_id AND z.lifted_at IS NULL AND z.kind <> 'precaution' WHERE p.id = code_work.person_id \
                     UNION ALL SELECT z.id, CASE z.kind WHEN 'sealed' THEN 0 ELSE 1 END FROM persons p \
                     JOIN households h ON h.id = p.household_id JOIN zone_buildings zb ON zb.building_id = h.building_id \
                     JOIN zones z ON z.id = zb.zone_id AND z.lifted_at IS NULL AND z.kind <> 'precaution' WHERE p.id = code_work.person_id\
                     ) m ORDER BY m.r, m.id LIMIT 1), 0)",
                ).execute(&mut *tx).await?;
            }
            // The latest round of their area that ended in the last week, if they missed it.
            for (round, _, _) in &rounds {
                sqlx::query(
                    "UPDATE code_work SET missed_round = CASE WHEN EXISTS (SELECT 1 FROM samples s WHERE s.person_id = code_work.person_id \
                     AND s.round_id = $1) OR EXISTS (SELECT 1 FROM round_exemptions e WHERE e.round_id = $1 \
                     AND e.person_id = code_work.person_id) THEN 0 ELSE $1 END \
                     WHERE EXISTS (SELECT 1 FROM round_areas a WHERE a.round_id = $1 \
                     AND code_work.area_code >= a.area_code AND code_work.area_code < a.area_code || ':')",
                ).bind(round).execute(&mut *tx).await?;
            }
            // Those found to have more to their name before the write (a change since marked them
            // again, for the next pass).
            let found: Vec<i64> = derived_one_by_one.keys().copied().collect();
            for part in found.chunks(500) {
                let list = part.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE code_work SET special = TRUE WHERE person_id IN ({list})")))
                    .execute(&mut *tx).await?;
            }
            if postgres {
                // On PostgreSQL a mark with a lower seq may commit after the read (writers run side
                // by side): whoever has more to their name as the write sees it is flagged too, and
                // one not read before is marked again below. (SQLite's one writer numbers marks in
                // commit order: a change after the read leaves a mark past the one taken.)
                let flag = format!("UPDATE code_work SET special = TRUE WHERE special = FALSE AND {}", special("code_work.person_id", 1, 2));
                sqlx::query(sqlx::AssertSqlSafe(flag)).bind(fever).bind(now).execute(&mut *tx).await?;
            }
            // The counts lose everyone as they were, and gain each as they are written.
            sqlx::query(
                "INSERT INTO health_code_counts (area_code, colour, n) SELECT h.area_code, h.colour, - COUNT(*) \
                 FROM code_work w JOIN health_codes h ON h.person_id = w.person_id WHERE true GROUP BY h.area_code, h.colour \
                 ON CONFLICT (area_code, colour) DO UPDATE SET n = health_code_counts.n + excluded.n",
            ).execute(&mut *tx).await?;

            let specials: Vec<(i64,)> = sqlx::query_as("SELECT person_id FROM code_work WHERE special = TRUE ORDER BY person_id")
                .fetch_all(&mut *tx).await?;
            for (person,) in &specials {
                let Some((colour, json, review)) = derived_one_by_one.get(person) else {
                    // More to their name since the read: their change marked them; keep a mark, and
                    // their stored code (counted back) until the next pass.
                    sqlx::query("INSERT INTO code_dirty (person_id) VALUES ($1)").bind(person).execute(&mut *tx).await?;
                    sqlx::query(
                        "INSERT INTO health_code_counts (area_code, colour, n) SELECT area_code, colour, 1 FROM health_codes \
                         WHERE person_id = $1 ON CONFLICT (area_code, colour) DO UPDATE SET n = health_code_counts.n + excluded.n",
                    ).bind(person).execute(&mut *tx).await?;
                    continue;
                };
                sqlx::query(
                    "INSERT INTO health_code_changes (person_id, colour_from, colour_to, code, changed_at) \
                     SELECT $1, COALESCE((SELECT colour FROM health_codes WHERE person_id = $1), 'green'), $2, $3, $4 \
                     WHERE COALESCE((SELECT colour FROM health_codes WHERE person_id = $1), 'green') <> $2",
                ).bind(person).bind(colour.as_str()).bind(json).bind(now).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO health_codes (person_id, area_code, colour, code, review_at, changed_at, computed_at) \
                     SELECT w.person_id, w.area_code, $2, $3, $4, $5, $5 FROM code_work w WHERE w.person_id = $1 \
                     ON CONFLICT (person_id) DO UPDATE SET area_code = excluded.area_code, colour = excluded.colour, code = excluded.code, \
                     review_at = excluded.review_at, computed_at = excluded.computed_at, \
                     changed_at = CASE WHEN health_codes.colour = excluded.colour THEN health_codes.changed_at ELSE excluded.changed_at END",
                ).bind(person).bind(colour.as_str()).bind(json).bind(*review).bind(now).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO health_code_counts (area_code, colour, n) SELECT area_code, $2, 1 FROM code_work WHERE person_id = $1 \
                     ON CONFLICT (area_code, colour) DO UPDATE SET n = health_code_counts.n + excluded.n",
                ).bind(person).bind(colour.as_str()).execute(&mut *tx).await?;
            }

            let groups: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT zone_id, missed_round FROM code_work WHERE special = FALSE GROUP BY zone_id, missed_round",
            ).fetch_all(&mut *tx).await?;
            for (zone_id, round_id) in groups {
                let zone = if zone_id == 0 { None } else { self.zone_fact(zone_id).await? };
                let missed = rounds.iter().find(|(id, _, _)| *id == round_id);
                let facts = CodeFacts {
                    zone,
                    missed_round: missed.map(|(_, name, ended)| (name.clone(), local_date(*ended))),
                    ..CodeFacts::default()
                };
                let code = derive(&facts, today);
                let review = missed.map(|(_, _, ended)| *ended + chrono::Duration::days(MISSED_ROUND_DAYS));
                let json = serde_json::to_string(&code).map_err(StoreError::corrupt)?;
                // The group's code once, named by each change of colour (none: nothing written).
                let text: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO code_texts (code) SELECT $4 WHERE EXISTS (SELECT 1 FROM code_work w \
                     LEFT JOIN health_codes h ON h.person_id = w.person_id \
                     WHERE w.special = FALSE AND w.zone_id = $1 AND w.missed_round = $2 AND COALESCE(h.colour, 'green') <> $3) RETURNING id",
                ).bind(zone_id).bind(round_id).bind(code.colour.as_str()).bind(&json).fetch_optional(&mut *tx).await?;
                if let Some((text,)) = text {
                    sqlx::query(
                        "INSERT INTO health_code_changes (person_id, colour_from, colour_to, code_id, changed_at) \
                         SELECT w.person_id, COALESCE(h.colour, 'green'), $3, $4, $5 \
                         FROM code_work w LEFT JOIN health_codes h ON h.person_id = w.person_id \
                         WHERE w.special = FALSE AND w.zone_id = $1 AND w.missed_round = $2 AND COALESCE(h.colour, 'green') <> $3",
                    ).bind(zone_id).bind(round_id).bind(code.colour.as_str()).bind(text).bind(now).execute(&mut *tx).await?;
                }
                sqlx::query(
                    "INSERT INTO health_codes (person_id, area_code, colour, code, review_at, changed_at, computed_at) \
                     SELECT w.person_id, w.area_code, $3, $4, $6, $5, $5 FROM code_work w \
                     WHERE w.special = FALSE AND w.zone_id = $1 AND w.missed_round = $2 \
                     ON CONFLICT (person_id) DO UPDATE SET area_code = excluded.area_code, colour = excluded.colour, code = excluded.code, \
                     review_at = excluded.review_at, computed_at = excluded.computed_at, \
                     changed_at = CASE WHEN health_codes.colour = excluded.colour THEN health_codes.changed_at ELSE excluded.changed_at END",
                ).bind(zone_id).bind(round_id).bind(code.colour.as_str()).bind(&json).bind(now).bind(review).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO health_code_counts (area_code, colour, n) SELECT area_code, $3, COUNT(*) FROM code_work \
                     WHERE special = FALSE AND zone_id = $1 AND missed_round = $2 GROUP BY area_code \
                     ON CONFLICT (area_code, colour) DO UPDATE SET n = health_code_counts.n + excluded.n",
                ).bind(zone_id).bind(round_id).bind(code.colour.as_str()).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM code_work").execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(work as u64)
        })
    }
}

impl Store {
    /// People by colour in each area one level below `parent` (a village: itself), from the
    /// counts the refresh keeps.
    pub(crate) async fn code_counts(&self, parent: &AreaCode) -> Result<Vec<ColourCount>> {
        let len = parent.level().child().unwrap_or(parent.level()).code_len() as i32;
        let (lo, hi) = parent.subtree_range();
        let rows: Vec<(String, String, String, i64)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT c.code, a.name, c.colour, c.n FROM (SELECT substr(area_code, 1, $3) AS code, colour, CAST(SUM(n) AS BIGINT) AS n \
             FROM health_code_counts WHERE area_code >= $1 AND area_code < $2 GROUP BY substr(area_code, 1, $3), colour) c \
             JOIN areas a ON a.code = c.code ORDER BY c.code",
        ).bind(lo).bind(hi).bind(len).fetch_all(pool).await?);
        let mut out: Vec<ColourCount> = Vec::new();
        for (code, name, colour, n) in rows {
            if out.last().is_none_or(|c| c.area_code != code) {
                out.push(ColourCount { area_code: code, name, ..Default::default() });
            }
            let last = out.last_mut().expect("pushed");
            match colour.parse::<Colour>().map_err(StoreError::corrupt)? {
                Colour::Red => last.red += n,
                Colour::Yellow => last.yellow += n,
                Colour::Green => last.green += n,
            }
        }
        Ok(out)
    }

    /// The people of `under` whose stored code is `colour`, by area and id: a page of `limit`
    /// after key `after`, and the key of the next page if there is one.
    pub(crate) async fn coded_people(
        &self,
        under: &AreaCode,
        colour: Colour,
        after: Option<&crate::PersonCursor>,
        limit: u32,
    ) -> Result<(Vec<CodedPerson>, Option<crate::PersonCursor>)> {
        let (lo, hi) = under.subtree_range();
        let (after_area, after_id) = after.map(|c| (c.area_code.clone(), c.id)).unwrap_or_default();
        type Row = (i64, String, String, String, DateTime<Utc>);
        let rows: Vec<Row> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT h.person_id, p.name, h.area_code, h.code, h.changed_at FROM health_codes h JOIN persons p ON p.id = h.person_id \
             WHERE h.colour = $1 AND h.area_code >= $2 AND h.area_code < $3 \
             AND (h.area_code > $4 OR (h.area_code = $4 AND h.person_id > $5)) ORDER BY h.area_code, h.person_id LIMIT $6",
        ).bind(colour.as_str()).bind(lo).bind(hi).bind(after_area).bind(after_id).bind(i64::from(limit) + 1).fetch_all(pool).await?);
        let mut people = rows
            .into_iter()
            .map(|(person_id, name, area_code, code, changed_at)| {
                Ok(CodedPerson { person_id, name, area_code, code: serde_json::from_str(&code).map_err(StoreError::corrupt)?, changed_at })
            })
            .collect::<Result<Vec<_>>>()?;
        let next = if people.len() > limit as usize {
            people.truncate(limit as usize);
            people.last().map(|p| crate::PersonCursor { area_code: p.area_code.clone(), id: p.person_id })
        } else {
            None
        };
        Ok((people, next))
    }

    /// The changes of person `person_id`'s colour, newest first.
    pub(crate) async fn code_changes(&self, person_id: i64, limit: u32) -> Result<Vec<CodeChange>> {
        let rows: Vec<(String, String, String, DateTime<Utc>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT c.colour_from, c.colour_to, COALESCE(c.code, t.code), c.changed_at FROM health_code_changes c \
             LEFT JOIN code_texts t ON t.id = c.code_id WHERE c.person_id = $1 ORDER BY c.id DESC LIMIT $2",
        ).bind(person_id).bind(i64::from(limit)).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(from, to, code, at)| {
                Ok(CodeChange {
                    from: from.parse().map_err(StoreError::corrupt)?,
                    to: to.parse().map_err(StoreError::corrupt)?,
                    code: serde_json::from_str(&code).map_err(StoreError::corrupt)?,
                    at,
                })
            })
            .collect()
    }
}
