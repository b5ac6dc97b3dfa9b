//! What the big screen reads beyond the report's figures: one row per case (its report day —
//! its report date, else the day it was recorded —, onset and how it was found) for the
//! epidemic curve and Rt.

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::cases::case::{HowFound, Origin};
use cordon_domain::report::FoundGroup;
use cordon_domain::screen::CaseRow;

use crate::{Param, Result, Store, StoreError, bind_all, in_areas, with_read_pool};

impl Store {
    /// Every confirmed and asymptomatic case of `area`, as the curve counts it.
    pub async fn case_rows(&self, area: &AreaCode) -> Result<Vec<CaseRow>> {
        let mut params: Vec<Param> = Vec::new();
        let inside = in_areas("area_code", std::slice::from_ref(area), &mut params).expect("one area");
        let sql = format!(
            "SELECT created_at, report_date, onset_date, how_found, origin FROM cases WHERE {inside} AND classification IN ('confirmed', 'asymptomatic')"
        );
        type Row = (DateTime<Utc>, Option<NaiveDate>, Option<NaiveDate>, String, String);
        let rows: Vec<Row> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(at, reported, onset, how, origin)| {
                let how: HowFound = how.parse().map_err(StoreError::corrupt)?;
                let origin: Origin = origin.parse().map_err(StoreError::corrupt)?;
                // Its report date when it has one (a case entered late keeps its day).
                let reported = reported.unwrap_or_else(|| cordon_domain::local_date(at));
                Ok(CaseRow { reported, onset, group: FoundGroup::of(how, origin) })
            })
            .collect()
    }
}
