//! Lab results on SQLite: find the tubes, decide and write in one immediate transaction on the
//! synchronous rusqlite connection, so nothing comes between reading a tube and setting its
//! result. The decisions are the portable path's (`decide_results` in `crate::results`).

use chrono::Utc;
use cordon_domain::testing::result::{DEFAULT_RECALL_HOURS, FollowUp, follow_up};

use crate::audit::Actor;
use crate::audit::{Chain, INSERT_AUDIT};
use crate::results::*;
use crate::sqlite::time as sqlite_time;
use crate::{Result, SqliteBackend, sqlite_sql};

/// Records results on SQLite (see `Store::record_results`).
pub(crate) async fn record(
    b: &SqliteBackend,
    actor: &Actor,
    lab_id: i64,
    inputs: &[ResultInput],
    scope: Option<&cordon_domain::access::Jurisdiction>,
) -> Result<Vec<ResultOutcome>> {
    // SQLite: find, decide and write in one immediate transaction on the synchronous
    // connection, so nothing can come between reading a tube and setting its result.
    let (actor, inputs, scope) = (actor.clone(), inputs.to_vec(), scope.cloned());
    b.with_bulk(move |conn| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let tubes = find_tubes(&tx, &inputs)?;
        let (mut outcomes, writes) = decide_results(&inputs, &tubes, lab_id, scope.as_ref(), Utc::now());
        for (i, outcome) in write(&tx, &actor, lab_id, &writes)? {
            outcomes[i] = Some(outcome);
        }
        tx.commit()?;
        Ok(finish(outcomes))
    })
    .await
}

/// `Store::find_result_tubes` on SQLite, inside the caller's transaction.
pub(crate) fn find_tubes(conn: &rusqlite::Connection, inputs: &[ResultInput]) -> Result<Vec<Option<TubeForResult>>> {
    let mut found = Vec::new();
    for chunk in result_barcodes(inputs).chunks(200) {
        let mut stmt = conn.prepare_cached(&crate::sqlite_sql(&result_tubes_sql(chunk.len())))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(chunk.iter()))?;
        while let Some(row) = rows.next()? {
            found.push(TubeForResult {
                id: row.get(0)?,
                round_id: row.get(1)?,
                barcode: row.get(2)?,
                area_code: row.get(3)?,
                pool_kind: row.get(4)?,
                pool_size: row.get(5)?,
                result: row.get(6)?,
                purpose: row.get(7)?,
                box_lab: row.get(8)?,
                box_label: row.get(9)?,
                box_received: row.get(10)?,
                tube_received: row.get(11)?,
                round_boxed: row.get(12)?,
                extra_lab: row.get(13)?,
            });
        }
    }
    Ok(match_result_tubes(inputs, found))
}

/// Writes decided results on SQLite through rusqlite: one prepared statement per row and step.
pub(crate) fn write(tx: &rusqlite::Connection, actor: &Actor, lab_id: i64, writes: &[ResultWrite]) -> Result<Vec<(usize, ResultOutcome)>> {
    let mut out = Vec::with_capacity(writes.len());
    let mut pooled: Vec<&ResultWrite> = Vec::new();
    {
        let mut set = tx.prepare_cached(
            "UPDATE tubes SET result = ?1, ct_orf1ab = ?2, ct_n = ?3, lab_id = ?4, resulted_at = ?5 WHERE id = ?6 AND result IS NULL",
        )?;
        let mut recall = tx.prepare_cached(&sqlite_sql(crate::recalls::RECALL_MEMBERS))?;
        let mut positive = tx.prepare_cached(&sqlite_sql(POSITIVE_PERSONS))?;
        let mut close_positive = tx.prepare_cached(&sqlite_sql(CLOSE_POSITIVE))?;
        let mut close_negative = tx.prepare_cached(&sqlite_sql(CLOSE_NEGATIVE))?;
        let mut observed = tx.prepare_cached(&sqlite_sql(OBSERVATION_OUTCOME))?;
        let mut audit = tx.prepare_cached(&sqlite_sql(INSERT_AUDIT))?;
        let mut chain = Chain::rusqlite(tx)?;
        for w in writes {
            let at = sqlite_time(w.at);
            if set.execute(rusqlite::params![w.result.as_str(), w.ct.orf1ab, w.ct.n, lab_id, at, w.tube_id])? == 0 {
                out.push((w.index, w.raced()));
                continue;
            }
            let (mut opened, mut closed, mut positives) = (0, 0, 0);
            match follow_up(w.result, w.pool) {
                FollowUp::RecallMembers => {
                    let deadline = sqlite_time(w.at + chrono::Duration::hours(DEFAULT_RECALL_HOURS));
                    opened = recall.execute(rusqlite::params![at, deadline, w.tube_id])? as u64;
                }
                FollowUp::PositivePerson => {
                    positives = positive.execute(rusqlite::params![at, w.tube_id])? as u64;
                    closed = close_positive.execute(rusqlite::params![at, w.tube_id])? as u64;
                    observed.execute(rusqlite::params!["positive", at, w.tube_id])?;
                }
                FollowUp::Nothing if w.pool.is_single() => {
                    closed = close_negative.execute(rusqlite::params![at, w.tube_id])? as u64;
                    observed.execute(rusqlite::params!["negative", at, w.tube_id])?;
                }
                FollowUp::Nothing | FollowUp::Resample => {}
            }
            if audited_alone(w) {
                let params: Vec<rusqlite::types::Value> = chain.seal(actor, &w.change(lab_id)).iter().map(crate::param_value).collect();
                audit.execute(rusqlite::params_from_iter(params))?;
            } else {
                pooled.push(w);
            }
            out.push((w.index, w.recorded(opened, closed, positives)));
        }
        if !pooled.is_empty() {
            let params: Vec<rusqlite::types::Value> =
                chain.seal(actor, &pooled_change(lab_id, &pooled)).iter().map(crate::param_value).collect();
            audit.execute(rusqlite::params_from_iter(params))?;
        }
    }
    Ok(out)
}
