//! Coverage of a round — "no household, no person missed": for an area, who was expected
//! (the registered population, a maintained count), who was sampled, and who is still missing.

use std::collections::BTreeMap;

use cordon_domain::AreaCode;
use serde::Serialize;

use crate::{Param, PersonCursor, PersonPage, Result, Store, bind_all, with_read_pool};

/// Expected and sampled people of one area in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaCoverage {
    pub area_code: String,
    pub name: String,
    pub expected: i64,
    pub sampled: i64,
}

impl AreaCoverage {
    pub fn missing(&self) -> i64 {
        (self.expected - self.sampled).max(0)
    }
}

/// An area's coverage with its sub-areas'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub area: AreaCoverage,
    pub children: Vec<AreaCoverage>,
}

impl Store {
    /// Coverage of `area` and its direct sub-areas in a round.
    pub(crate) async fn coverage(&self, round_id: i64, area: &AreaCode) -> Result<Option<Coverage>> {
        let Some(top) = self.area(area).await? else { return Ok(None) };
        let children = self.area_children(area).await?;
        let mut params = vec![Param::Int(round_id)];
        let in_scope = crate::in_areas("area_code", std::slice::from_ref(area), &mut params).expect("one area");
        let sql = format!("SELECT area_code, COUNT(*) FROM samples WHERE round_id = $1 AND {in_scope} GROUP BY area_code");
        let counts: Vec<(String, i64)> =
            with_read_pool!(self, pool => bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let counts: BTreeMap<String, i64> = counts.into_iter().collect();
        let sampled_under = |code: &str| counts.iter().filter(|(c, _)| c.starts_with(code)).map(|(_, n)| n).sum::<i64>();
        Ok(Some(Coverage {
            area: AreaCoverage { sampled: sampled_under(&top.code), area_code: top.code, name: top.name, expected: top.population },
            children: children
                .into_iter()
                .map(|c| AreaCoverage { sampled: sampled_under(&c.code), area_code: c.code, name: c.name, expected: c.population })
                .collect(),
        }))
    }

    /// People registered in `area` not sampled in the round, by (area, id), paged by key.
    pub(crate) async fn missing(&self, round_id: i64, area: &AreaCode, after: Option<&PersonCursor>, limit: u32) -> Result<PersonPage> {
        self.list_persons_where(
            std::slice::from_ref(area),
            "NOT EXISTS (SELECT 1 FROM samples s WHERE s.round_id = ? AND s.person_id = p.id)",
            Param::Int(round_id),
            after,
            limit,
        )
        .await
    }
}
