//! Treatment: a case admitted to a designated or shelter hospital, its severity over time, the
//! tests that decide discharge (two with Ct ≥ 35 at least 24 hours apart, checked by
//! `domain::treatment`), 7 days of health monitoring at home after discharge, and deaths.

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::cases::case::{CaseClass, Severity};
use cordon_domain::testing::result::CtValues;
use cordon_domain::treatment::{Discharge, HospitalKind, HospitalTest, StayStatus, discharge, monitoring_until};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Result, Store, bind_all, with_read_pool, with_write_pool};

/// A hospital stay with the case and hospital it joins.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Stay {
    pub id: i64,
    pub case_id: i64,
    pub case_number: String,
    pub name: String,
    pub hospital_id: i64,
    pub hospital: String,
    #[sqlx(try_from = "String")]
    pub hospital_kind: HospitalKind,
    pub area_code: String,
    pub admitted_at: DateTime<Utc>,
    /// The case's classification: an asymptomatic infection has no clinical type to show.
    #[sqlx(try_from = "String")]
    pub classification: CaseClass,
    #[sqlx(try_from = "String")]
    pub severity: Severity,
    #[sqlx(try_from = "String")]
    pub status: StayStatus,
    pub discharged_at: Option<DateTime<Utc>>,
    pub monitoring_until: Option<NaiveDate>,
    pub died_at: Option<DateTime<Utc>>,
}

impl Stay {
    /// A case too grave for the hospital it is in (moderate or worse in a shelter hospital).
    pub fn needs_designated(&self) -> bool {
        cordon_domain::treatment::needs_designated(self.status, self.hospital_kind, self.severity)
    }
}

const STAY_COLUMNS: &str = "s.id, s.case_id, c.external_id AS case_number, p.name, s.hospital_id, h.name AS hospital, h.kind AS hospital_kind, \
     s.area_code, s.admitted_at, c.classification, s.severity, s.status, s.discharged_at, s.monitoring_until, s.died_at";
const STAY_FROM: &str =
    "hospital_stays s JOIN cases c ON c.id = s.case_id JOIN persons p ON p.id = c.person_id JOIN hospitals h ON h.id = s.hospital_id";

impl Store {
    /// Admits a case (on the arrival of its transfer, or by hand); admitting again answers the
    /// open stay.
    pub(crate) async fn admit(&self, actor: &Actor, case_id: i64, hospital_id: i64) -> Result<i64> {
        let case = self.case(case_id).await?.ok_or_else(|| missing!("refused.no_case", infector_id = case_id))?;
        if case.person_id.is_none() {
            return Err(refused!("refused.case_names_no_person", case = case.external_id));
        }
        let open: Option<(i64,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id FROM hospital_stays WHERE case_id = $1 AND status = 'admitted'",
        ).bind(case_id).fetch_optional(pool).await?);
        if let Some((id,)) = open {
            return Ok(id);
        }
        let hospital: Option<(String,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT kind FROM hospitals WHERE id = $1").bind(hospital_id).fetch_optional(pool).await?);
        let (kind,) = hospital.ok_or_else(|| missing!("refused.no_hospital", hospital_id = hospital_id))?;
        let severity = case.severity.clone().unwrap_or_else(|| Severity::Mild.as_str().to_string());
        let now = Utc::now();
        let place = if kind == "shelter" { "shelter_hospital" } else { "hospital" };
        let change = Change::new("admit", "case", &case.external_id)
            .area(&case.area_code)
            .after(serde_json::json!({"hospital": hospital_id, "severity": severity}));
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO hospital_stays (case_id, hospital_id, area_code, admitted_at, severity, status) VALUES ($1, $2, $3, $4, $5, 'admitted') RETURNING id",
            )
            .bind(case_id).bind(hospital_id).bind(&case.area_code).bind(now).bind(&severity).fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO severity_changes (stay_id, at, severity, note, recorded_by) VALUES ($1, $2, $3, '', $4)")
                .bind(id).bind(now).bind(&severity).bind(&actor.name).execute(&mut *tx).await?;
            sqlx::query("UPDATE cases SET place = $1 WHERE id = $2").bind(place).bind(case_id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    pub(crate) async fn stay(&self, id: i64) -> Result<Option<Stay>> {
        let sql = format!("SELECT {STAY_COLUMNS} FROM {STAY_FROM} WHERE s.id = $1");
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Stay>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?))
    }

    /// Stays in `scope`: those in hospital, then those under monitoring after discharge (until
    /// `today`), then deaths, newest first.
    pub(crate) async fn stays(&self, scope: &[AreaCode], today: NaiveDate) -> Result<Vec<Stay>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("s.area_code", scope, &mut params) else { return Ok(vec![]) };
        params.push(crate::Param::Date(today));
        let sql = format!(
            "SELECT {STAY_COLUMNS} FROM {STAY_FROM} WHERE {inside} AND (s.status <> 'discharged' OR s.monitoring_until >= ${}) \
             ORDER BY CASE s.status WHEN 'admitted' THEN 0 WHEN 'discharged' THEN 1 ELSE 2 END, s.admitted_at DESC LIMIT 2000",
            params.len()
        );
        Ok(
            with_read_pool!(self, pool => bind_all(sqlx::query_as::<_, Stay>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?),
        )
    }

    pub(crate) async fn hospital_tests(&self, stay_id: i64) -> Result<Vec<HospitalTest>> {
        let rows: Vec<(DateTime<Utc>, Option<f32>, Option<f32>)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT at, ct_orf1ab, ct_n FROM hospital_tests WHERE stay_id = $1 ORDER BY at",
        ).bind(stay_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(at, orf1ab, n)| HospitalTest { at, ct: CtValues { orf1ab, n } }).collect())
    }

    /// The severity log of a stay: (when, severity, note).
    pub(crate) async fn severity_log(&self, stay_id: i64) -> Result<Vec<(DateTime<Utc>, String, String)>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as(
            "SELECT at, severity, note FROM severity_changes WHERE stay_id = $1 ORDER BY at, id",
        ).bind(stay_id).fetch_all(pool).await?))
    }

    fn admitted(stay: &Stay) -> Result<()> {
        if stay.status != StayStatus::Admitted {
            return Err(refused!("refused.not_in_hospital", name = stay.name));
        }
        Ok(())
    }

    /// Records a clinical type. On an asymptomatic infection it is its conversion to a
    /// confirmed case, in the same act and audit event (`domain::cases::case::with_severity`).
    /// Answers the case's new classification when it was converted.
    pub(crate) async fn change_severity(&self, actor: &Actor, stay: &Stay, severity: Severity, note: &str) -> Result<Option<CaseClass>> {
        Self::admitted(stay)?;
        let converted = cordon_domain::cases::case::with_severity(stay.classification)?;
        let now = Utc::now();
        let mut before = serde_json::json!({"severity": stay.severity});
        let mut after = serde_json::json!({"severity": severity.as_str(), "note": note});
        if let Some(to) = converted {
            before["classification"] = stay.classification.as_str().into();
            after["classification"] = to.as_str().into();
        }
        let change = Change::new("severity", "case", &stay.case_number).area(&stay.area_code).before(before).after(after);
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let Some(to) = converted {
                let n = sqlx::query("UPDATE cases SET classification = $1, converted_at = $2 WHERE id = $3 AND classification = $4")
                    .bind(to.as_str()).bind(now).bind(stay.case_id).bind(stay.classification.as_str()).execute(&mut *tx).await?.rows_affected();
                // Reclassified by someone else since it was read: nothing is written.
                if n == 0 {
                    return Err(refused!("refused.case_changed", case = stay.case_number));
                }
            }
            sqlx::query("UPDATE hospital_stays SET severity = $1 WHERE id = $2").bind(severity.as_str()).bind(stay.id).execute(&mut *tx).await?;
            sqlx::query("UPDATE cases SET severity = $1 WHERE id = $2").bind(severity.as_str()).bind(stay.case_id).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO severity_changes (stay_id, at, severity, note, recorded_by) VALUES ($1, $2, $3, $4, $5)")
                .bind(stay.id).bind(now).bind(severity.as_str()).bind(note.trim()).bind(&actor.name).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(converted)
    }

    pub(crate) async fn record_hospital_test(&self, actor: &Actor, stay: &Stay, at: DateTime<Utc>, ct: CtValues) -> Result<()> {
        Self::admitted(stay)?;
        cordon_domain::treatment::hospital_test(ct, at, Utc::now())?;
        with_write_pool!(self, pool => {
            sqlx::query("INSERT INTO hospital_tests (stay_id, at, ct_orf1ab, ct_n, recorded_by) VALUES ($1, $2, $3, $4, $5)")
                .bind(stay.id).bind(at).bind(ct.orf1ab).bind(ct.n).bind(&actor.name).execute(pool).await?;
        });
        Ok(())
    }

    /// Discharges when the rule holds, else says what is missing; monitoring at home follows.
    pub(crate) async fn discharge(&self, actor: &Actor, stay: &Stay) -> Result<NaiveDate> {
        Self::admitted(stay)?;
        let tests = self.hospital_tests(stay.id).await?;
        let (first, second) = match discharge(&tests, None) {
            Discharge::Allowed { first, second } => (first, second),
            Discharge::NeedsTwoTests => {
                return Err(refused!("refused.no_high_ct_yet", name = stay.name));
            }
            Discharge::NeedsSecondTest { from, .. } => {
                let from = from.with_timezone(&cordon_domain::local_offset()).format("%m-%d %H:%M");
                return Err(refused!("refused.one_high_ct", name = stay.name, from = from));
            }
        };
        let now = Utc::now();
        let until = monitoring_until(cordon_domain::local_date(now));
        let change = Change::new("discharge", "case", &stay.case_number)
            .area(&stay.area_code)
            .after(serde_json::json!({"tests": [first, second], "monitoring_until": until}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE hospital_stays SET status = 'discharged', discharged_at = $1, monitoring_until = $2 WHERE id = $3 AND status = 'admitted'")
                .bind(now).bind(until).bind(stay.id).execute(&mut *tx).await?;
            sqlx::query("UPDATE cases SET place = 'home' WHERE id = $1").bind(stay.case_id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(until)
    }

    pub(crate) async fn record_death(&self, actor: &Actor, stay: &Stay, at: DateTime<Utc>, cause: &str) -> Result<()> {
        Self::admitted(stay)?;
        cordon_domain::treatment::death(at, cause, stay.admitted_at, Utc::now())?;
        let cause = cause.trim();
        let change =
            Change::new("death", "case", &stay.case_number).area(&stay.area_code).after(serde_json::json!({"at": at, "cause": cause}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE hospital_stays SET status = 'died', died_at = $1, death_cause = $2 WHERE id = $3 AND status = 'admitted'")
                .bind(at).bind(cause).bind(stay.id).execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(refused!("refused.stay_changed", case = stay.case_number));
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The tests and severity logs of many stays in two queries, by stay.
    #[allow(clippy::type_complexity)]
    pub(crate) async fn stay_histories(
        &self,
        ids: &[i64],
    ) -> Result<(std::collections::HashMap<i64, Vec<HospitalTest>>, std::collections::HashMap<i64, Vec<(DateTime<Utc>, String, String)>>)>
    {
        let mut tests: std::collections::HashMap<i64, Vec<HospitalTest>> = std::collections::HashMap::new();
        let mut logs: std::collections::HashMap<i64, Vec<(DateTime<Utc>, String, String)>> = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let list = crate::list_placeholders(0, chunk.len());
            let params: Vec<crate::Param> = chunk.iter().map(|i| crate::Param::Int(*i)).collect();
            let sql = format!("SELECT stay_id, at, ct_orf1ab, ct_n FROM hospital_tests WHERE stay_id IN ({list}) ORDER BY stay_id, at");
            let rows: Vec<(i64, DateTime<Utc>, Option<f32>, Option<f32>)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            for (stay, at, orf1ab, n) in rows {
                tests.entry(stay).or_default().push(HospitalTest { at, ct: CtValues { orf1ab, n } });
            }
            let sql =
                format!("SELECT stay_id, at, severity, note FROM severity_changes WHERE stay_id IN ({list}) ORDER BY stay_id, at, id");
            let rows: Vec<(i64, DateTime<Utc>, String, String)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            for (stay, at, severity, note) in rows {
                logs.entry(stay).or_default().push((at, severity, note));
            }
        }
        Ok((tests, logs))
    }
}
