//! Transport batches (转运箱): sealed tubes sent from a sampling site to a lab, and the lab's
//! receipt check — tubes missing from the box and barcodes that were not on its list. Each tube
//! keeps its times (sealed → departed → received → resulted), which give the turnaround per
//! site and per lab. Dispatch and receipt are safe to repeat.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::refusal::Refusal;
use cordon_domain::testing::transport::{ROUTINE_TURNAROUND_HOURS, Turnaround, check_receipt, turnaround};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// A batch with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Batch {
    pub id: i64,
    pub round_id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub lab_id: i64,
    pub lab_name: String,
    pub area_code: String,
    pub label: String,
    /// Tubes sent.
    pub tubes: i32,
    /// Tubes of the batch scanned at the lab.
    pub received: i64,
    /// Barcodes scanned at the lab that were not in the batch.
    pub extra: i64,
    pub departed_at: DateTime<Utc>,
    pub departed_by: String,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
}

impl Batch {
    /// Tubes sent but not scanned at the lab's receipt: none while the box is on the road
    /// (its tubes are in it, not missing).
    pub fn missing(&self) -> i64 {
        if self.received_at.is_none() { 0 } else { i64::from(self.tubes) - self.received }
    }
}

/// A batch with its barcodes: what arrived, what is missing, what came without being sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchDetail {
    pub batch: Batch,
    /// Sent in the box, which is still on the road: not scanned because not arrived.
    pub in_box: Vec<String>,
    pub received: Vec<String>,
    /// Sent in the box, not found at its receipt.
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

/// What to send: a labelled box of tubes from a site to a lab.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub round_id: i64,
    pub site_id: i64,
    pub lab_id: i64,
    pub label: String,
    /// The tubes in the box; `None` sends every sealed tube of the site not yet sent.
    pub barcodes: Option<Vec<String>>,
    /// When the box left, as the transport sheet says (a box entered after the fact); `None`:
    /// now. Never later than now.
    pub departed_at: Option<DateTime<Utc>>,
}

const BATCH_SELECT: &str = "SELECT b.id, b.round_id, b.site_id, s.name AS site_name, b.lab_id, l.name AS lab_name, b.area_code, \
     b.label, b.tubes, (SELECT COUNT(*) FROM tubes t WHERE t.batch_id = b.id AND t.received_at IS NOT NULL) AS received, \
     (SELECT COUNT(*) FROM transport_extras x WHERE x.batch_id = b.id) AS extra, b.departed_at, b.departed_by, b.received_at, b.received_by \
     FROM transport_batches b JOIN sampling_sites s ON s.id = b.site_id JOIN labs l ON l.id = b.lab_id";

#[derive(sqlx::FromRow)]
struct TubeState {
    id: i64,
    barcode: String,
    site_id: i64,
    sealed: bool,
    batch_label: Option<String>,
}

impl Store {
    /// The tubes of a round with these barcodes, with what decides whether they can be sent.
    async fn tube_states(&self, round_id: i64, barcodes: &[String]) -> Result<Vec<TubeState>> {
        let mut out = Vec::with_capacity(barcodes.len());
        for chunk in barcodes.chunks(500) {
            let sql = format!(
                "SELECT t.id, t.barcode, t.site_id, t.sealed_at IS NOT NULL AS sealed, b.label AS batch_label FROM tubes t \
                 LEFT JOIN transport_batches b ON b.id = t.batch_id WHERE t.round_id = $1 AND t.barcode IN ({})",
                crate::list_placeholders(1, chunk.len())
            );
            let mut params = vec![Param::Int(round_id)];
            params.extend(chunk.iter().map(|b| Param::Text(b.clone())));
            let rows: Vec<TubeState> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as::<_, TubeState>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            out.extend(rows);
        }
        Ok(out)
    }

    async fn batch_by_label(&self, round_id: i64, label: &str) -> Result<Option<Batch>> {
        let sql = format!("{BATCH_SELECT} WHERE b.round_id = $1 AND b.label = $2");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Batch>(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).bind(label).fetch_optional(pool).await?))
    }

    pub(crate) async fn batch(&self, id: i64) -> Result<Option<Batch>> {
        let sql = format!("{BATCH_SELECT} WHERE b.id = $1");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Batch>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
    }

    async fn batch_barcodes(&self, id: i64) -> Result<Vec<(String, bool)>> {
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as("SELECT barcode, received_at IS NOT NULL FROM tubes WHERE batch_id = $1 ORDER BY barcode")
                .bind(id).fetch_all(pool).await?))
    }

    /// A batch with its received, missing and extra barcodes.
    pub(crate) async fn batch_detail(&self, id: i64) -> Result<Option<BatchDetail>> {
        let Some(batch) = self.batch(id).await? else { return Ok(None) };
        let tubes = self.batch_barcodes(id).await?;
        let extra: Vec<(String,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT barcode FROM transport_extras WHERE batch_id = $1 ORDER BY barcode").bind(id).fetch_all(pool).await?);
        let (received, unscanned): (Vec<_>, Vec<_>) = tubes.into_iter().partition(|(_, r)| *r);
        // On the road, the tubes not scanned are in the box; only a receipt finds them missing.
        let on_the_road = batch.received_at.is_none();
        let unscanned: Vec<String> = unscanned.into_iter().map(|(b, _)| b).collect();
        let (missing, in_box) = if on_the_road { (vec![], unscanned) } else { (unscanned, vec![]) };
        Ok(Some(BatchDetail {
            batch,
            in_box,
            received: received.into_iter().map(|(b, _)| b).collect(),
            missing,
            extra: extra.into_iter().map(|(b,)| b).collect(),
        }))
    }

    /// Sends a box of sealed tubes from a site to a lab. Sending the same box again (same label,
    /// same tubes, or no list) answers the batch as it is; every tube that cannot go is listed and
    /// nothing changes.
    pub(crate) async fn dispatch(&self, actor: &Actor, new: NewBatch) -> Result<Batch> {
        let label = new.label.trim().to_string();
        if label.is_empty() {
            return Err(refused!("refused.box_needs_label"));
        }
        let lab: Option<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id FROM labs WHERE id = $1").bind(new.lab_id).fetch_optional(pool).await?);
        if lab.is_none() {
            return Err(Refusal::missing("refused.unknown_lab").with("lab", new.lab_id).into());
        }
        if let Some(existing) = self.batch_by_label(new.round_id, &label).await? {
            let sent: Vec<String> = self.batch_barcodes(existing.id).await?.into_iter().map(|(b, _)| b).collect();
            let same = existing.site_id == new.site_id
                && existing.lab_id == new.lab_id
                && new.barcodes.as_ref().is_none_or(|asked| {
                    let mut asked = asked.clone();
                    asked.sort();
                    asked.dedup();
                    asked == sent
                });
            return if same { Ok(existing) } else { Err(Refusal::conflict("refused.label_used").with("label", label).into()) };
        }
        let (site_name, site_area): (String, String) = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT name, area_code FROM sampling_sites WHERE id = $1").bind(new.site_id).fetch_one(pool).await?);
        let tubes: Vec<TubeState> = match &new.barcodes {
            Some(barcodes) => {
                let mut asked = barcodes.clone();
                asked.sort();
                asked.dedup();
                let found = self.tube_states(new.round_id, &asked).await?;
                let by_code: BTreeMap<&str, &TubeState> = found.iter().map(|t| (t.barcode.as_str(), t)).collect();
                let mut problems = Vec::new();
                for b in &asked {
                    match by_code.get(b.as_str()) {
                        None => problems.push(Refusal::new("refused.tube_unknown").with("barcode", b)),
                        Some(t) if t.site_id != new.site_id => {
                            let (site,): (String,) = with_read_pool!(self, pool =>
                                sqlx::query_as("SELECT name FROM sampling_sites WHERE id = $1").bind(t.site_id).fetch_one(pool).await?);
                            problems.push(Refusal::new("refused.tube_other_site").with("barcode", b).with("site", site));
                        }
                        Some(t) if !t.sealed => problems.push(Refusal::new("refused.tube_open").with("barcode", b)),
                        Some(TubeState { batch_label: Some(l), .. }) => {
                            problems.push(Refusal::new("refused.tube_sent").with("barcode", b).with("label", l))
                        }
                        Some(_) => {}
                    }
                }
                if !problems.is_empty() {
                    let n = problems.len();
                    return Err(problems.into_iter().fold(Refusal::conflict("refused.tubes_cannot_go").with("n", n), Refusal::part).into());
                }
                found
            }
            None => with_read_pool!(self, pool => sqlx::query_as::<_, TubeState>(
                "SELECT id, barcode, site_id, TRUE AS sealed, NULL AS batch_label FROM tubes \
                 WHERE round_id = $1 AND site_id = $2 AND sealed_at IS NOT NULL AND batch_id IS NULL ORDER BY barcode",
            ).bind(new.round_id).bind(new.site_id).fetch_all(pool).await?),
        };
        if tubes.is_empty() {
            return Err(Refusal::conflict("refused.nothing_to_send").with("site", site_name).into());
        }
        let now = match new.departed_at {
            Some(t) if t > Utc::now() + chrono::Duration::minutes(5) => {
                return Err(refused!(
                    "refused.departed_in_future",
                    at = t.with_timezone(&cordon_domain::local_offset()).format("%F %H:%M")
                ));
            }
            Some(t) => t,
            None => Utc::now(),
        };
        let change = Change::new("dispatch", "transport_batch", &label).area(&site_area).after(serde_json::json!({
            "round": new.round_id, "site": new.site_id, "lab": new.lab_id, "tubes": tubes.len(),
        }));
        let sent = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO transport_batches (round_id, site_id, lab_id, area_code, label, tubes, departed_at, departed_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(new.round_id).bind(new.site_id).bind(new.lab_id).bind(&site_area).bind(&label).bind(tubes.len() as i32)
            .bind(now).bind(&actor.name).fetch_one(&mut *tx).await?;
            let mut moved = 0;
            for chunk in tubes.chunks(500) {
                let sql = format!(
                    "UPDATE tubes SET batch_id = $1, departed_at = $2 WHERE batch_id IS NULL AND sealed_at IS NOT NULL AND id IN ({})",
                    crate::list_placeholders(2, chunk.len())
                );
                let mut params = vec![Param::Int(id), Param::Time(now)];
                params.extend(chunk.iter().map(|t| Param::Int(t.id)));
                moved += bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
            }
            if moved == tubes.len() as u64 {
                tx.append(actor, &change).await?;
                tx.commit().await?;
                true
            } else {
                tx.rollback().await?;
                false
            }
        });
        if !sent {
            return Err(Refusal::conflict("refused.box_busy").with("label", label).into());
        }
        self.batch_by_label(new.round_id, &label).await?.ok_or_else(|| StoreError::Task("batch vanished".into()))
    }

    /// Records the barcodes a lab scanned out of a box. Receipts add up (a tube found later is
    /// scanned later); scanning a barcode again changes nothing. Barcodes that were not sent in
    /// the box are kept as extras for someone to chase.
    pub(crate) async fn receive(&self, actor: &Actor, batch_id: i64, scanned: &[String]) -> Result<Option<BatchDetail>> {
        let Some(batch) = self.batch(batch_id).await? else { return Ok(None) };
        let sent = self.batch_barcodes(batch_id).await?;
        let check = check_receipt(sent.iter().map(|(b, _)| b.as_str()), scanned.iter().map(|s| s.trim()).filter(|s| !s.is_empty()));
        let waiting: std::collections::HashSet<&str> = sent.iter().filter(|(_, r)| !*r).map(|(b, _)| b.as_str()).collect();
        let fresh: Vec<&String> = check.received.iter().filter(|b| waiting.contains(b.as_str())).collect();
        let known_extra: Vec<(String,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT barcode FROM transport_extras WHERE batch_id = $1").bind(batch_id).fetch_all(pool).await?);
        let known_extra: std::collections::HashSet<&str> = known_extra.iter().map(|(k,)| k.as_str()).collect();
        let new_extra: Vec<&String> = check.extra.iter().filter(|e| !known_extra.contains(e.as_str())).collect();
        if fresh.is_empty() && new_extra.is_empty() && batch.received_at.is_some() {
            return self.batch_detail(batch_id).await;
        }
        let now = Utc::now();
        let change = Change::new("receive", "transport_batch", &batch.label).area(&batch.area_code).after(serde_json::json!({
            "received": fresh.len(), "extra": new_extra, "missing": check.missing.len(),
        }));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in fresh.chunks(500) {
                let sql = format!(
                    "UPDATE tubes SET received_at = $1 WHERE batch_id = $2 AND received_at IS NULL AND barcode IN ({})",
                    crate::list_placeholders(2, chunk.len())
                );
                let mut params = vec![Param::Time(now), Param::Int(batch_id)];
                params.extend(chunk.iter().map(|b| Param::Text((*b).clone())));
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?;
            }
            for e in &new_extra {
                sqlx::query("INSERT INTO transport_extras (batch_id, barcode, scanned_at) VALUES ($1, $2, $3) ON CONFLICT (batch_id, barcode) DO NOTHING")
                    .bind(batch_id).bind(e.as_str()).bind(now).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE transport_batches SET received_at = COALESCE(received_at, $1), received_by = COALESCE(received_by, $2) WHERE id = $3")
                .bind(now).bind(&actor.name).bind(batch_id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.batch_detail(batch_id).await
    }

    /// A round's batches from sites in `scope`, newest first.
    pub(crate) async fn batches(&self, round_id: i64, scope: &[AreaCode]) -> Result<Vec<Batch>> {
        let mut params = vec![Param::Int(round_id)];
        let Some(in_scope) = crate::in_areas("b.area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!("{BATCH_SELECT} WHERE b.round_id = $1 AND {in_scope} ORDER BY b.departed_at DESC, b.id DESC");
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Batch>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// Tubes of a round in `scope` by stage, and the sealed → resulted turnaround per site and
    /// per lab.
    pub(crate) async fn tube_flow(&self, round_id: i64, scope: &[AreaCode]) -> Result<TubeFlow> {
        let mut params = vec![Param::Int(round_id)];
        let Some(in_scope) = crate::in_areas("t.area_code", scope, &mut params) else { return Ok(TubeFlow::default()) };
        let sql = format!(
            "SELECT CASE WHEN t.resulted_at IS NOT NULL THEN 'resulted' WHEN t.received_at IS NOT NULL THEN 'received' \
             WHEN t.departed_at IS NOT NULL THEN 'departed' WHEN t.sealed_at IS NOT NULL THEN 'sealed' ELSE 'open' END AS stage, \
             COUNT(*) FROM tubes t WHERE t.round_id = $1 AND {in_scope} GROUP BY 1"
        );
        let stages: Vec<(String, i64)> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let sql = format!(
            "SELECT s.name, l.name, t.sealed_at, t.resulted_at FROM tubes t JOIN sampling_sites s ON s.id = t.site_id \
             JOIN labs l ON l.id = t.lab_id WHERE t.round_id = $1 AND {in_scope} AND t.resulted_at IS NOT NULL AND t.sealed_at IS NOT NULL"
        );
        let rows: Vec<(String, String, DateTime<Utc>, DateTime<Utc>)> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let mut by_site: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut by_lab: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (site, lab, sealed, resulted) in rows {
            let minutes = (resulted - sealed).num_minutes().max(0);
            by_site.entry(site).or_default().push(minutes);
            by_lab.entry(lab).or_default().push(minutes);
        }
        let target = ROUTINE_TURNAROUND_HOURS * 60;
        let summarise = |m: BTreeMap<String, Vec<i64>>| m.into_iter().map(|(name, v)| (name, turnaround(v, target))).collect();
        let count = |s: &str| stages.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
        Ok(TubeFlow {
            open: count("open"),
            sealed: count("sealed"),
            departed: count("departed"),
            received: count("received"),
            resulted: count("resulted"),
            by_site: summarise(by_site),
            by_lab: summarise(by_lab),
        })
    }
}

/// Where a round's tubes are, and how long labs take.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TubeFlow {
    /// Tubes still open at a station.
    pub open: i64,
    /// Sealed, waiting for transport.
    pub sealed: i64,
    /// On the road.
    pub departed: i64,
    /// At the lab, no result yet.
    pub received: i64,
    pub resulted: i64,
    /// Sealed → resulted, in minutes, per site name.
    pub by_site: Vec<(String, Turnaround)>,
    /// Sealed → resulted, in minutes, per lab name.
    pub by_lab: Vec<(String, Turnaround)>,
}
