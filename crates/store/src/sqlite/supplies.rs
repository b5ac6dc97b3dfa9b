//! Supplies written on the one writer's connection: `supplies.rs` plans a [`WritePlan`], this
//! writes it — the delivery, each movement (the guarded take first, so a refused one changes
//! nothing), the request's lines and status, the audit event — in the writer's group.

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::audit::{Actor, Chain, INSERT_AUDIT};
use crate::sqlite_sql as sql;
use crate::supplies::{
    BY_CLIENT, ENSURE_ROW, INSERT_DELIVERY, INSERT_MOVEMENT, LINE_ISSUED, MoveRow, Moved, ON_HAND, PUT, REQUEST_STATUS, SET_COUNTED, TAKE,
    WritePlan, Written, short, with_ids,
};
use crate::{Result, StoreError};
use cordon_domain::refusal::Refusal;
use cordon_domain::supplies::{self as rules, MovementKind};

fn date(d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%F").to_string())
}

pub(crate) fn write_plan(c: &Connection, actor: &Actor, plan: WritePlan) -> Result<Written> {
    let mut out = Written::default();
    if let Some(d) = &plan.delivery {
        let id: i64 = c.prepare_cached(&sql(INSERT_DELIVERY))?.query_row(
            params![d.request_id, d.warehouse_id, d.area_code, d.place, d.courier, super::time(d.created_at), d.created_by],
            |r| r.get(0),
        )?;
        out.delivery_id = Some(id);
    }
    let mut ids = Vec::with_capacity(plan.moves.len());
    for row in &plan.moves {
        if let Some(cid) = &row.client_id {
            let done: Option<i64> = c.prepare_cached(&sql(BY_CLIENT))?.query_row(params![cid], |r| r.get(0)).optional()?;
            if let Some(id) = done {
                out.report.stored.push(Moved { index: row.index, id, repeated: true });
                continue;
            }
        }
        match apply(c, row, out.delivery_id)? {
            Ok(id) => {
                ids.push(id);
                out.report.stored.push(Moved { index: row.index, id, repeated: false });
            }
            Err(r) if plan.whole => return Err(StoreError::from(r)),
            Err(r) => out.report.refused.push((row.index, r)),
        }
    }
    for (request, item, was, now) in &plan.lines {
        if c.prepare_cached(&sql(LINE_ISSUED))?.execute(params![request, item, was, now])? != 1 {
            return Err(StoreError::from(Refusal::conflict("refused.supply.moved")));
        }
    }
    if let Some((request, was, now)) = plan.status
        && c.prepare_cached(&sql(REQUEST_STATUS))?.execute(params![request, was, now])? != 1
    {
        return Err(StoreError::from(Refusal::conflict("refused.supply.moved")));
    }
    if !ids.is_empty() || plan.delivery.is_some() {
        let params: Vec<rusqlite::types::Value> =
            Chain::rusqlite(c)?.seal(actor, &with_ids(plan.change, &ids, out.delivery_id)).iter().map(crate::param_value).collect();
        c.prepare_cached(&sql(INSERT_AUDIT))?.execute(rusqlite::params_from_iter(params))?;
    }
    Ok(out)
}

/// One movement: the books' change then the row; the refusal, nothing changed, when the books do
/// not allow it.
fn apply(c: &Connection, row: &MoveRow, delivery_id: Option<i64>) -> Result<std::result::Result<i64, Refusal>> {
    let (mut quantity, mut counted, mut expires_on) = (row.quantity, None, date(row.expires_on));
    if let Some(from) = row.from {
        let on_hand = |c: &Connection| -> Result<i64> {
            Ok(c.prepare_cached(&sql(ON_HAND))?.query_row(params![from, row.item_id, row.batch], |r| r.get(0)).optional()?.unwrap_or(0))
        };
        if row.kind == MovementKind::Stocktake {
            let held = on_hand(c)?;
            let delta = match rules::stocktake_delta(held, row.quantity) {
                Ok(d) => d,
                Err(r) => return Ok(Err(r)),
            };
            c.prepare_cached(&sql(ENSURE_ROW))?.execute(params![from, row.item_id, row.batch])?;
            c.prepare_cached(&sql(SET_COUNTED))?.execute(params![from, row.item_id, row.batch, row.quantity])?;
            counted = Some(row.quantity);
            quantity = delta;
        } else {
            let took: Option<Option<String>> =
                c.prepare_cached(&sql(TAKE))?.query_row(params![from, row.item_id, row.batch, row.quantity], |r| r.get(0)).optional()?;
            match took {
                Some(e) => expires_on = e,
                None => return Ok(Err(short(row, on_hand(c)?))),
            }
        }
    }
    if let Some(to) = row.to {
        c.prepare_cached(&sql(PUT))?.execute(params![to, row.item_id, row.batch, expires_on, row.quantity])?;
    }
    let id: i64 = c.prepare_cached(&sql(INSERT_MOVEMENT))?.query_row(
        params![
            row.kind.as_str(),
            row.item_id,
            row.batch,
            expires_on,
            row.from,
            row.to,
            quantity,
            counted,
            row.source,
            row.reference,
            row.request_id,
            delivery_id,
            row.note,
            super::time(row.moved_at),
            row.recorded_by,
            row.client_id
        ],
        |r| r.get(0),
    )?;
    Ok(Ok(id))
}
