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
use cordon_domain::testing::transport::{Boxed, Journey, NotReceived, result_may_come_from};
use serde::Serialize;

use std::collections::{HashMap, HashSet};

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change, INSERT_AUDIT_HEAD, INSERT_AUDIT_ROW_PARAMS};
use crate::{Param, Result, Store, bind_all, with_read_pool, with_write_pool};
use crate::{Refusal, term};

/// What follows a result, the same on every path (`$1` time, `$2` tube); recalls in `recalls`.
pub(crate) const POSITIVE_PERSONS: &str = "INSERT INTO positive_persons (person_id, round_id, tube_id, area_code, found_at) \
     SELECT person_id, round_id, tube_id, area_code, $1 FROM samples WHERE tube_id = $2 \
     ON CONFLICT (person_id, round_id) DO NOTHING";
pub(crate) const CLOSE_POSITIVE: &str = "UPDATE recalls SET status = 'positive', closed_at = $1, retest_tube_id = $2 \
     WHERE status = 'open' AND person_id IN (SELECT person_id FROM samples WHERE tube_id = $2)";
/// A single-tube result of a person under observation: their test of that day.
pub(crate) const OBSERVATION_OUTCOME: &str =
    "UPDATE observation_tests SET outcome = $1, resulted_at = $2 WHERE tube_id = $3 AND outcome = 'pending'";
pub(crate) const CLOSE_NEGATIVE: &str = "UPDATE recalls SET status = 'negative', closed_at = $1, retest_tube_id = $2 \
     WHERE status = 'open' AND person_id IN (SELECT person_id FROM samples WHERE tube_id = $2)";

/// One result to write, decided.
pub(crate) struct ResultWrite {
    pub(crate) index: usize,
    pub(crate) tube_id: i64,
    pub(crate) area_code: String,
    pub(crate) barcode: String,
    pub(crate) pool: cordon_domain::testing::pooling::PoolSize,
    pub(crate) result: TubeResult,
    pub(crate) ct: CtValues,
    pub(crate) at: DateTime<Utc>,
}

impl ResultWrite {
    pub(crate) fn change(&self, lab_id: i64) -> Change {
        Change::new("result", "tube", self.tube_id).area(&self.area_code).after(serde_json::json!({
            "barcode": self.barcode, "result": self.result.as_str(), "lab": lab_id,
            "ct_orf1ab": self.ct.orf1ab, "ct_n": self.ct.n,
        }))
    }
    pub(crate) fn recorded(&self, opened: u64, closed: u64, positives: u64) -> ResultOutcome {
        ResultOutcome::Recorded {
            tube_id: self.tube_id,
            result: self.result,
            recalls_opened: opened,
            recalls_closed: closed,
            positive_persons: positives,
        }
    }
    pub(crate) fn raced(&self) -> ResultOutcome {
        ResultOutcome::refused(Refusal::conflict("refused.result_raced").with("barcode", &self.barcode))
    }
}

/// Whether a result gets an audit event of its own: every result that touches a person (a
/// pool's members recalled, a positive person, a recall closed by a single-tube re-test). A
/// pooled tube's negative or invalid result changes no one's record; those of one call share
/// one event that lists every tube ([`pooled_change`]) — a city round's million negatives would
/// otherwise bury the events that matter.
pub(crate) fn audited_alone(w: &ResultWrite) -> bool {
    w.pool.is_single() || matches!(follow_up(w.result, w.pool), FollowUp::RecallMembers | FollowUp::PositivePerson)
}

/// The one audit event for the pooled results of a call that are not [`audited_alone`]: each
/// tube with its barcode, result and Ct values, under the deepest area they all share.
pub(crate) fn pooled_change(lab_id: i64, writes: &[&ResultWrite]) -> Change {
    let tubes: Vec<serde_json::Value> =
        writes.iter().map(|w| serde_json::json!([w.tube_id, w.barcode, w.result.as_str(), w.ct.orf1ab, w.ct.n])).collect();
    let change = Change::new("results", "lab", lab_id)
        .after(serde_json::json!({ "count": writes.len(), "columns": ["tube", "barcode", "result", "ct_orf1ab", "ct_n"], "tubes": tubes }));
    match common_area(writes.iter().map(|w| w.area_code.as_str())) {
        Some(area) => change.area(&area),
        None => change,
    }
}

/// The smallest area every code lies in.
pub(crate) fn common_area<'a>(codes: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut codes = codes.map(AreaCode::parse);
    let first = codes.next()?.ok()?;
    codes.try_fold(first, |common, c| common.common_ancestor(&c.ok()?)).map(|a| a.to_string())
}

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
    Recorded {
        tube_id: i64,
        result: TubeResult,
        recalls_opened: u64,
        recalls_closed: u64,
        positive_persons: u64,
    },
    /// The same result had been recorded: nothing changed.
    Repeat {
        tube_id: i64,
    },
    /// Why, as each face says it.
    Refused {
        refusal: Refusal,
    },
}

impl ResultOutcome {
    pub fn refused(refusal: Refusal) -> Self {
        ResultOutcome::Refused { refusal }
    }

    /// A row or segment that could not be read (`detail` says what was wrong with it).
    pub fn unreadable(detail: impl std::fmt::Display) -> Self {
        ResultOutcome::refused(Refusal::new("refused.row_unreadable").with("detail", detail))
    }
}

/// Every input's outcome (all are decided; the fallback keeps a slip visible, not silent).
pub(crate) fn finish(outcomes: Vec<Option<ResultOutcome>>) -> Vec<ResultOutcome> {
    outcomes.into_iter().map(|o| o.unwrap_or_else(|| ResultOutcome::unreadable("not decided"))).collect()
}

#[derive(Clone, sqlx::FromRow)]
pub(crate) struct TubeForResult {
    pub(crate) id: i64,
    pub(crate) round_id: i64,
    pub(crate) barcode: String,
    pub(crate) area_code: String,
    pub(crate) pool_kind: String,
    pub(crate) pool_size: i32,
    pub(crate) result: Option<String>,
    /// round, retest or observation.
    pub(crate) purpose: String,
    pub(crate) box_lab: Option<i64>,
    pub(crate) box_label: Option<String>,
    pub(crate) box_received: bool,
    pub(crate) tube_received: bool,
    pub(crate) round_boxed: bool,
    /// The lab whose receipt found the tube in a box it was not listed in.
    pub(crate) extra_lab: Option<i64>,
}

impl TubeForResult {
    fn pool(&self) -> cordon_domain::testing::pooling::PoolSize {
        crate::station::stored_pool(&self.pool_kind, self.pool_size)
    }

    /// How the tube reached a lab, as the chain-of-custody rule reads it.
    fn journey(&self) -> Journey<'_> {
        Journey {
            carried_by_hand: self.purpose != "round",
            round_boxed: self.round_boxed,
            boxed: self.box_lab.map(|lab_id| Boxed {
                lab_id,
                label: self.box_label.as_deref().unwrap_or_default(),
                box_received: self.box_received,
                tube_received: self.tube_received,
            }),
            extra_at: self.extra_lab,
        }
    }
}

/// Why a lab may not send a result for the tube `barcode`, in words.
fn not_received(barcode: &cordon_domain::Barcode, why: NotReceived<'_>) -> Refusal {
    let refusal = |kind: &'static str, label: &str| Refusal::new(kind).with("barcode", barcode).with("label", label);
    match why {
        NotReceived::OtherLab { label } => refusal("refused.result_other_lab", label),
        NotReceived::BoxNotReceived { label } => refusal("refused.result_box_not_received", label),
        NotReceived::MissingAtReceipt { label } => refusal("refused.result_tube_missing", label),
        NotReceived::NeverBoxed => Refusal::new("refused.result_never_boxed").with("barcode", barcode),
    }
}

/// The distinct barcodes results name.
pub(crate) fn result_barcodes(inputs: &[ResultInput]) -> Vec<String> {
    let mut barcodes: Vec<String> = inputs.iter().map(|i| i.barcode.to_string()).collect();
    barcodes.sort_unstable();
    barcodes.dedup();
    barcodes
}

/// Every tube with one of `n` barcodes (`$1…`), oldest first, with how it travelled (its box,
/// whether the box and the tube were scanned in, whether its site sends boxes in this round, a
/// receipt that found it as an extra); a barcode is reused only across rounds.
pub(crate) fn result_tubes_sql(n: usize) -> String {
    let placeholders: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!(
        "SELECT t.id, t.round_id, t.barcode, t.area_code, t.pool_kind, t.pool_size, t.result, t.purpose, \
         b.lab_id AS box_lab, b.label AS box_label, b.received_at IS NOT NULL AS box_received, t.received_at IS NOT NULL AS tube_received, \
         EXISTS (SELECT 1 FROM transport_batches rb WHERE rb.round_id = t.round_id AND rb.site_id = t.site_id) AS round_boxed, \
         (SELECT MIN(xb.lab_id) FROM transport_extras x JOIN transport_batches xb ON xb.id = x.batch_id \
          WHERE x.barcode = t.barcode AND xb.round_id = t.round_id) AS extra_lab \
         FROM tubes t LEFT JOIN transport_batches b ON b.id = t.batch_id WHERE t.barcode IN ({}) ORDER BY t.id",
        placeholders.join(",")
    )
}

/// For each input, the tube of its round, or the latest tube with its barcode.
pub(crate) fn match_result_tubes(inputs: &[ResultInput], found: Vec<TubeForResult>) -> Vec<Option<TubeForResult>> {
    let mut by_barcode: HashMap<String, Vec<TubeForResult>> = HashMap::new();
    for t in found {
        by_barcode.entry(t.barcode.clone()).or_default().push(t);
    }
    inputs
        .iter()
        .map(|i| {
            let tubes = by_barcode.get(i.barcode.as_str())?;
            match i.round_id {
                Some(round) => tubes.iter().find(|t| t.round_id == round).cloned(),
                None => tubes.last().cloned(),
            }
        })
        .collect()
}

/// Decides each result against its tube, in order (a tube resulted earlier in the same call
/// counts as resulted): the refusals and repeats, and what to write.
pub(crate) fn decide_results(
    inputs: &[ResultInput],
    tubes: &[Option<TubeForResult>],
    lab_id: i64,
    scope: Option<&cordon_domain::access::Jurisdiction>,
    now: DateTime<Utc>,
) -> (Vec<Option<ResultOutcome>>, Vec<ResultWrite>) {
    let mut outcomes: Vec<Option<ResultOutcome>> = vec![None; inputs.len()];
    let mut decided: HashMap<i64, TubeResult> = HashMap::new();
    let mut writes: Vec<ResultWrite> = Vec::new();
    for (i, (input, tube)) in inputs.iter().zip(tubes).enumerate() {
        let Some(tube) = tube else {
            outcomes[i] = Some(ResultOutcome::refused(Refusal::new("refused.unknown_barcode").with("barcode", &input.barcode)));
            continue;
        };
        if let Some(j) = scope
            && !AreaCode::parse(&tube.area_code).is_ok_and(|a| j.contains(&a))
        {
            let refusal = Refusal::new("refused.tube_outside_jurisdiction").with("barcode", &input.barcode).with("area", &tube.area_code);
            outcomes[i] = Some(ResultOutcome::refused(refusal));
            continue;
        }
        if let Err(why) = result_may_come_from(&tube.journey(), lab_id) {
            outcomes[i] = Some(ResultOutcome::refused(not_received(&input.barcode, why)));
            continue;
        }
        let result = input.result.unwrap_or_else(|| classify(input.ct, DEFAULT_CT_THRESHOLD, tube.pool()));
        let existing = decided.get(&tube.id).copied().or_else(|| tube.result.as_deref().and_then(|r| r.parse::<TubeResult>().ok()));
        if let Some(existing) = existing {
            outcomes[i] = Some(match second_result(existing, result) {
                SecondResult::Repeat => ResultOutcome::Repeat { tube_id: tube.id },
                SecondResult::Conflict => ResultOutcome::refused(
                    Refusal::conflict("refused.result_conflict")
                        .with("barcode", &input.barcode)
                        .with("recorded", term("results.result", existing.as_str()))
                        .with("sent", term("results.result", result.as_str())),
                ),
            });
            continue;
        }
        decided.insert(tube.id, result);
        writes.push(ResultWrite {
            index: i,
            tube_id: tube.id,
            area_code: tube.area_code.clone(),
            barcode: input.barcode.to_string(),
            pool: tube.pool(),
            result,
            ct: input.ct,
            at: input.at.unwrap_or(now),
        });
    }
    (outcomes, writes)
}

impl Store {
    pub(crate) async fn create_lab(&self, actor: &Actor, new: NewLab) -> Result<Lab> {
        if new.name.trim().is_empty() || new.daily_capacity == 0 {
            return Err(refused!("refused.lab_invalid"));
        }
        let change = Change::new("create", "lab", new.name.trim()).area(new.area_code.as_str());
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as("INSERT INTO labs (name, area_code, daily_capacity) VALUES ($1, $2, $3) RETURNING id")
                .bind(new.name.trim()).bind(new.area_code.as_str()).bind(new.daily_capacity as i32).fetch_one(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        Ok(Lab { id, name: new.name.trim().into(), area_code: new.area_code.to_string(), daily_capacity: new.daily_capacity as i32 })
    }

    pub(crate) async fn labs(&self) -> Result<Vec<Lab>> {
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Lab>("SELECT id, name, area_code, daily_capacity FROM labs ORDER BY name").fetch_all(pool).await?))
    }

    /// The lab whose box `username` signed for last: the lab that person works at.
    pub(crate) async fn lab_received_by(&self, username: &str) -> Result<Option<i64>> {
        let row: Option<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT lab_id FROM transport_batches WHERE received_by = $1 ORDER BY received_at DESC, id DESC LIMIT 1",
        ).bind(username).fetch_optional(pool).await?);
        Ok(row.map(|(id,)| id))
    }

    /// The tubes results name, with their areas (for scoping by the caller): for each input,
    /// the tube of its round, or the latest tube with its barcode.
    pub(crate) async fn result_tubes(&self, inputs: &[ResultInput]) -> Result<Vec<Option<(i64, String)>>> {
        Ok(self.find_result_tubes(inputs).await?.into_iter().map(|t| t.map(|t| (t.id, t.area_code))).collect())
    }

    async fn find_result_tubes(&self, inputs: &[ResultInput]) -> Result<Vec<Option<TubeForResult>>> {
        let barcodes = result_barcodes(inputs);
        let mut found = Vec::new();
        for chunk in barcodes.chunks(200) {
            let sql = result_tubes_sql(chunk.len());
            let params: Vec<Param> = chunk.iter().map(|b| Param::Text(b.clone())).collect();
            found.extend(with_read_pool!(self, pool =>
                bind_all(sqlx::query_as::<_, TubeForResult>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?));
        }
        Ok(match_result_tubes(inputs, found))
    }

    /// Records one result from `lab_id` and everything that follows from it.
    pub(crate) async fn record_result(&self, actor: &Actor, lab_id: i64, input: &ResultInput) -> Result<ResultOutcome> {
        let mut out = self.record_results(actor, lab_id, std::slice::from_ref(input), None).await?;
        Ok(out.pop().unwrap_or_else(|| ResultOutcome::unreadable("no result")))
    }

    /// Records results from `lab_id` in one transaction, each with what follows from it (recalls
    /// of a pool's members, positive persons, closed recalls). A repeat changes nothing; a
    /// different second result, an unknown barcode, or a tube sampled outside `scope` (when
    /// given) is refused and reported, never dropped.
    pub(crate) async fn record_results(
        &self,
        actor: &Actor,
        lab_id: i64,
        inputs: &[ResultInput],
        scope: Option<&cordon_domain::access::Jurisdiction>,
    ) -> Result<Vec<ResultOutcome>> {
        if let crate::Backend::Sqlite(b) = &*self.backend {
            return crate::sqlite::results::record(b, actor, lab_id, inputs, scope).await;
        }
        let tubes = self.find_result_tubes(inputs).await?;
        let (mut outcomes, writes) = decide_results(inputs, &tubes, lab_id, scope, Utc::now());
        if !writes.is_empty() {
            let written = with_write_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                let mut results = Vec::with_capacity(writes.len());
                let mut audits: Vec<Change> = Vec::new();
                let mut pooled: Vec<&ResultWrite> = Vec::new();
                // The results themselves, a hundred tubes per statement; a tube that got a result
                // from elsewhere since it was read is not in the answer.
                let mut set: HashSet<i64> = HashSet::with_capacity(writes.len());
                for chunk in writes.chunks(100) {
                    let mut params = Vec::with_capacity(chunk.len() * 6);
                    for w in chunk {
                        params.extend([
                            Param::Int(w.tube_id),
                            Param::Text(w.result.as_str().to_string()),
                            Param::OptReal(w.ct.orf1ab),
                            Param::OptReal(w.ct.n),
                            Param::Int(lab_id),
                            Param::Time(w.at),
                        ]);
                    }
                    let sql = format!(
                        "UPDATE tubes SET result = v.column2, ct_orf1ab = v.column3, ct_n = v.column4, lab_id = v.column5, resulted_at = v.column6 \
                         FROM (VALUES {}) AS v WHERE tubes.id = v.column1 AND tubes.result IS NULL RETURNING id",
                        crate::values_placeholders(chunk.len(), 6, 0)
                    );
                    let ids: Vec<(i64,)> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&mut *tx).await?;
                    set.extend(ids.into_iter().map(|(id,)| id));
                }
                for w in &writes {
                    if !set.contains(&w.tube_id) {
                        results.push((w.index, w.raced()));
                        continue;
                    }
                    let (mut opened, mut closed, mut positives) = (0, 0, 0);
                    match follow_up(w.result, w.pool) {
                        FollowUp::RecallMembers => {
                            let deadline = w.at + chrono::Duration::hours(DEFAULT_RECALL_HOURS);
                            opened = sqlx::query(crate::recalls::RECALL_MEMBERS).bind(w.at).bind(deadline).bind(w.tube_id).execute(&mut *tx).await?.rows_affected();
                        }
                        FollowUp::PositivePerson => {
                            positives = sqlx::query(POSITIVE_PERSONS).bind(w.at).bind(w.tube_id).execute(&mut *tx).await?.rows_affected();
                            closed = sqlx::query(CLOSE_POSITIVE).bind(w.at).bind(w.tube_id).execute(&mut *tx).await?.rows_affected();
                            sqlx::query(OBSERVATION_OUTCOME).bind("positive").bind(w.at).bind(w.tube_id).execute(&mut *tx).await?;
                        }
                        // A negative single-tube re-test releases the person from recall.
                        FollowUp::Nothing if w.pool.is_single() => {
                            closed = sqlx::query(CLOSE_NEGATIVE).bind(w.at).bind(w.tube_id).execute(&mut *tx).await?.rows_affected();
                            sqlx::query(OBSERVATION_OUTCOME).bind("negative").bind(w.at).bind(w.tube_id).execute(&mut *tx).await?;
                        }
                        FollowUp::Nothing | FollowUp::Resample => {}
                    }
                    if audited_alone(w) {
                        audits.push(w.change(lab_id));
                    } else {
                        pooled.push(w);
                    }
                    results.push((w.index, w.recorded(opened, closed, positives)));
                }
                // One audit event per recorded result, written in multi-row statements.
                if !pooled.is_empty() {
                    audits.push(pooled_change(lab_id, &pooled));
                }
                let mut chain = tx.chain().await?;
                let audits: Vec<Param> = audits.iter().flat_map(|c| chain.seal(actor, c)).collect();
                let per_row = INSERT_AUDIT_ROW_PARAMS;
                for chunk in audits.chunks(per_row * 100) {
                    let sql = format!("{} VALUES {}", INSERT_AUDIT_HEAD, crate::values_placeholders(chunk.len() / per_row, per_row, 0));
                    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), chunk.iter()).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                results
            });
            for (i, outcome) in written {
                outcomes[i] = Some(outcome);
            }
        }
        Ok(finish(outcomes))
    }
}
