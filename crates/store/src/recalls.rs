//! Recalls (混管召回): when a pooled tube comes back positive, every member is recalled for a
//! single-tube re-test within the clock (`DEFAULT_RECALL_HOURS`); a re-test closes the recall.
//! The results path opens them (`results`, `RECALL_MEMBERS`); the station closes them.

use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use serde::Serialize;

use crate::{Param, Result, Store, bind_all, with_read_pool};

/// The recalls a positive pool opens, one per member (`$1` time, `$2` deadline, `$3` tube).
pub(crate) const RECALL_MEMBERS: &str = "INSERT INTO recalls (round_id, tube_id, person_id, area_code, status, created_at, deadline) \
     SELECT round_id, tube_id, person_id, area_code, 'open', $1, $2 FROM samples WHERE tube_id = $3 \
     ON CONFLICT (tube_id, person_id) DO NOTHING";
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
    /// open, or closed by a single-tube re-test: negative or positive.
    #[sqlx(try_from = "String")]
    pub status: cordon_domain::testing::result::RecallStatus,
}

impl Store {
    /// The recalls a pooled tube caused, its members by name (for the community and the
    /// door-to-door team), those registered in `scope` only.
    pub(crate) async fn tube_recalls(&self, round_id: i64, barcode: &str, scope: &[AreaCode]) -> Result<Vec<Recall>> {
        let mut params = vec![Param::Int(round_id), Param::Text(barcode.to_string())];
        let Some(in_scope) = crate::in_areas("r.area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!(
            "SELECT r.id, r.round_id, r.person_id, p.name AS person_name, r.area_code, t.barcode, r.created_at, r.deadline, r.status \
             FROM tubes t JOIN recalls r ON r.tube_id = t.id JOIN persons p ON p.id = r.person_id \
             WHERE t.round_id = $1 AND t.barcode = $2 AND {in_scope} ORDER BY r.area_code, r.person_id"
        );
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Recall>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    /// Open recalls of people registered in `scope`, the most urgent first.
    pub(crate) async fn open_recalls(&self, scope: &[AreaCode]) -> Result<Vec<Recall>> {
        let mut params = Vec::new();
        let Some(in_scope) = crate::in_areas("r.area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!(
            "SELECT r.id, r.round_id, r.person_id, p.name AS person_name, r.area_code, t.barcode, r.created_at, r.deadline, r.status \
             FROM recalls r JOIN persons p ON p.id = r.person_id JOIN tubes t ON t.id = r.tube_id \
             WHERE r.status = 'open' AND {in_scope} ORDER BY r.deadline, r.id LIMIT 5000"
        );
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Recall>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }
}
