//! Labs, tube results and what follows them: every member of a positive pool is recalled
//! (controlled in place, re-sampled alone by a deadline); a single-tube re-test closes the recall,
//! negative or positive; a positive single tube makes a positive person for investigation.
//! A result never overwrites another: a repeat changes nothing, a different one is refused.

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::Barcode;
use cordon_domain::testing::result::{
    CtValues, DEFAULT_CT_THRESHOLD, DEFAULT_RECALL_HOURS, FollowUp, SecondResult, TubeResult, classify, follow_up, second_result,
};
use serde::Serialize;

use crate::audit::{Actor, Change, INSERT_AUDIT, audit_params};
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Lab {
    pub id: i64,
    pub name: String,
    pub area_code: String,
    pub daily_capacity: i32,
}

#[derive(Debug, Clone)]
pub struct NewLab {
    pub name: String,
    pub area_code: AreaCode,
    pub daily_capacity: u32,
}

/// One tube's result as a lab sends it.
#[derive(Debug, Clone)]
pub struct ResultInput {
    pub barcode: Barcode,
    /// The round, when the lab knows it; otherwise the latest tube with this barcode.
    pub round_id: Option<i64>,
    /// The lab's verdict; derived from the Ct values when absent.
    pub result: Option<TubeResult>,
    pub ct: CtValues,
    pub at: Option<DateTime<Utc>>,
}

/// What happened to one result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ResultOutcome {
    Recorded { tube_id: i64, result: TubeResult, recalls_opened: u64, recalls_closed: u64, positive_persons: u64 },
    /// The same result had been recorded: nothing changed.
    Repeat { tube_id: i64 },
    Refused { reason: String },
}

/// An open recall on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Recall {
    pub id: i64,
    pub round_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub area_code: String,
    pub barcode: String,
    pub created_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TubeForResult {
    id: i64,
    area_code: String,
    pool_kind: String,
    pool_size: i32,
    result: Option<String>,
}

impl Store {
    pub(crate) async fn create_lab(&self, actor: &Actor, new: NewLab) -> Result<Lab> {
        if new.name.trim().is_empty() || new.daily_capacity == 0 {
            return Err(StoreError::Invalid("a lab needs a name and a daily capacity".into()));
        }
        let change = Change::new("create", "lab", new.name.trim()).area(new.area_code.as_str());
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let (id,): (i64,) = sqlx::query_as("INSERT INTO labs (name, area_code, daily_capacity) VALUES ($1, $2, $3) RETURNING id")
                .bind(new.name.trim()).bind(new.area_code.as_str()).bind(new.daily_capacity as i32).fetch_one(&mut *tx).await?;
            bind_all!(sqlx::query(INSERT_AUDIT), audit_params(actor, &change).iter()).execute(&mut *tx).await?;
            tx.commit().await?;
            id
        });
        Ok(Lab { id, name: new.name.trim().into(), area_code: new.area_code.to_string(), daily_capacity: new.daily_capacity as i32 })
    }

    pub(crate) async fn labs(&self) -> Result<Vec<Lab>> {
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Lab>("SELECT id, name, area_code, daily_capacity FROM labs ORDER BY name").fetch_all(pool).await?))
    }

    /// The tube a result is for, and its area (for scoping by the caller).
    pub(crate) async fn tube_area_for(&self, input: &ResultInput) -> Result<Option<(i64, String)>> {
        Ok(self.find_result_tube(input).await?.map(|t| (t.id, t.area_code)))
    }

    async fn find_result_tube(&self, input: &ResultInput) -> Result<Option<TubeForResult>> {
        let (sql, params) = match input.round_id {
            Some(r) => (
                "SELECT id, area_code, pool_kind, pool_size, result FROM tubes WHERE round_id = $1 AND barcode = $2",
                vec![Param::Int(r), Param::Text(input.barcode.to_string())],
            ),
            None => (
                "SELECT id, area_code, pool_kind, pool_size, result FROM tubes WHERE barcode = $1 ORDER BY id DESC LIMIT 1",
                vec![Param::Text(input.barcode.to_string())],
            ),
        };
        Ok(with_read_pool!(self, pool => bind_all!(sqlx::query_as::<_, TubeForResult>(sql), params.iter()).fetch_optional(pool).await?))
    }

    /// Records one result from `lab_id` and everything that follows from it, in one transaction.
    pub(crate) async fn record_result(&self, actor: &Actor, lab_id: i64, input: &ResultInput) -> Result<ResultOutcome> {
        let Some(tube) = self.find_result_tube(input).await? else {
            return Ok(ResultOutcome::Refused { reason: format!("unknown barcode {}: no tube was registered with it", input.barcode) });
        };
        let pool_size = if tube.pool_kind == "household" {
            cordon_domain::testing::pooling::PoolSize::Household
        } else {
            cordon_domain::testing::pooling::PoolSize::People(tube.pool_size as u8)
        };
        let result = input.result.unwrap_or_else(|| classify(input.ct, DEFAULT_CT_THRESHOLD, pool_size));
        if let Some(existing) = tube.result.as_deref().and_then(|r| r.parse::<TubeResult>().ok()) {
            return Ok(match second_result(existing, result) {
                SecondResult::Repeat => ResultOutcome::Repeat { tube_id: tube.id },
                SecondResult::Conflict => ResultOutcome::Refused {
                    reason: format!(
                        "tube {} already has the result {}; a different result ({}) is not accepted — ask the lab to check",
                        input.barcode,
                        existing.as_str(),
                        result.as_str()
                    ),
                },
            });
        }
        let at = input.at.unwrap_or_else(Utc::now);
        let deadline = at + chrono::Duration::hours(DEFAULT_RECALL_HOURS);
        let change = Change::new("result", "tube", tube.id)
            .area(&tube.area_code)
            .after(serde_json::json!({"barcode": input.barcode.as_str(), "result": result.as_str(), "lab": lab_id,
                "ct_orf1ab": input.ct.orf1ab, "ct_n": input.ct.n}));
        let outcome = with_write_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let set = sqlx::query(
                "UPDATE tubes SET result = $1, ct_orf1ab = $2, ct_n = $3, lab_id = $4, resulted_at = $5 WHERE id = $6 AND result IS NULL",
            )
            .bind(result.as_str()).bind(input.ct.orf1ab).bind(input.ct.n).bind(lab_id).bind(at).bind(tube.id)
            .execute(&mut *tx).await?.rows_affected();
            if set == 0 {
                tx.rollback().await?;
                ResultOutcome::Refused { reason: format!("tube {} received another result at the same moment: send it again", input.barcode) }
            } else {
                let (mut opened, mut closed, mut positives) = (0, 0, 0);
                match follow_up(result, pool_size) {
                    FollowUp::RecallMembers => {
                        opened = sqlx::query(
                            "INSERT INTO recalls (round_id, tube_id, person_id, area_code, status, created_at, deadline) \
                             SELECT round_id, tube_id, person_id, area_code, 'open', $1, $2 FROM samples WHERE tube_id = $3 \
                             ON CONFLICT (tube_id, person_id) DO NOTHING",
                        )
                        .bind(at).bind(deadline).bind(tube.id).execute(&mut *tx).await?.rows_affected();
                    }
                    FollowUp::PositivePerson => {
                        positives = sqlx::query(
                            "INSERT INTO positive_persons (person_id, round_id, tube_id, area_code, found_at) \
                             SELECT person_id, round_id, tube_id, area_code, $1 FROM samples WHERE tube_id = $2 \
                             ON CONFLICT (person_id, round_id) DO NOTHING",
                        )
                        .bind(at).bind(tube.id).execute(&mut *tx).await?.rows_affected();
                        closed = sqlx::query(
                            "UPDATE recalls SET status = 'positive', closed_at = $1, retest_tube_id = $2 \
                             WHERE status = 'open' AND person_id IN (SELECT person_id FROM samples WHERE tube_id = $2)",
                        )
                        .bind(at).bind(tube.id).execute(&mut *tx).await?.rows_affected();
                    }
                    FollowUp::Nothing if pool_size.is_single() => {
                        // A negative single-tube re-test releases the person from recall.
                        closed = sqlx::query(
                            "UPDATE recalls SET status = 'negative', closed_at = $1, retest_tube_id = $2 \
                             WHERE status = 'open' AND person_id IN (SELECT person_id FROM samples WHERE tube_id = $2)",
                        )
                        .bind(at).bind(tube.id).execute(&mut *tx).await?.rows_affected();
                    }
                    FollowUp::Nothing | FollowUp::Resample => {}
                }
                bind_all!(sqlx::query(INSERT_AUDIT), audit_params(actor, &change).iter()).execute(&mut *tx).await?;
                tx.commit().await?;
                ResultOutcome::Recorded { tube_id: tube.id, result, recalls_opened: opened, recalls_closed: closed, positive_persons: positives }
            }
        });
        Ok(outcome)
    }

    /// Open recalls of people registered in `scope`, the most urgent first.
    pub(crate) async fn open_recalls(&self, scope: &[AreaCode]) -> Result<Vec<Recall>> {
        let mut params = Vec::new();
        let Some(in_scope) = crate::in_areas("r.area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!(
            "SELECT r.id, r.round_id, r.person_id, p.name AS person_name, r.area_code, t.barcode, r.created_at, r.deadline \
             FROM recalls r JOIN persons p ON p.id = r.person_id JOIN tubes t ON t.id = r.tube_id \
             WHERE r.status = 'open' AND {in_scope} ORDER BY r.deadline, r.id LIMIT 5000"
        );
        Ok(with_read_pool!(self, pool =>
            bind_all!(sqlx::query_as::<_, Recall>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }
}
