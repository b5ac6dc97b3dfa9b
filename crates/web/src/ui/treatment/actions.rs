//! What the ward does for a stay: a test with its Ct values, a change of severity, discharge, a
//! death.

use crate::ui::form::Path;
use axum::response::Response;
use chrono::Utc;
use cordon_domain::cases::case::Severity;
use cordon_domain::refusal;
use cordon_domain::treatment::HospitalTest;
use cordon_store::StoreError;
use serde::Deserialize;

use super::page::{KeptTest, outcome, test_outcome};
use crate::auth::Caller;
use crate::format::month_day;
use crate::i18n::Tr;
use crate::ui::form::Form;

#[derive(Deserialize)]
pub struct TestForm {
    /// `2022-04-14T09:30` from a datetime-local input; empty means now.
    #[serde(default)]
    at: String,
    /// Ct values as typed; empty means not detected.
    #[serde(default)]
    ct_orf1ab: String,
    #[serde(default)]
    ct_n: String,
    /// Ticked: the test detected nothing. An empty form records nothing.
    #[serde(default)]
    not_detected: Option<String>,
}

/// Records a test (Ct values; empty means not detected) at the time given, or now.
pub async fn test(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<TestForm>) -> Response {
    let done = async {
        let at = match f.at.trim() {
            "" => Utc::now(),
            typed => chrono::NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M")
                .map(cordon_domain::from_local)
                .map_err(|_| StoreError::from(refusal!("place.bad_time")))?,
        };
        let ct = HospitalTest::read_ct(&f.ct_orf1ab, &f.ct_n, f.not_detected.is_some()).map_err(StoreError::from)?;
        caller.0.record_hospital_test(id, at, ct).await?;
        Ok(t.get("treatment.test_saved").to_string())
    };
    let done = done.await;
    test_outcome(t, &caller, done, KeptTest { stay: id, at: f.at, ct_orf1ab: f.ct_orf1ab, ct_n: f.ct_n }).await
}

#[derive(Deserialize)]
pub struct SeverityForm {
    severity: Severity,
    #[serde(default)]
    note: String,
}

pub async fn severity(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<SeverityForm>) -> Response {
    let label = t.get(&format!("treatment.severity.{}", f.severity.as_str()));
    let done = caller.0.change_severity(id, f.severity, &f.note).await.map(|converted| match converted {
        Some(_) => t.fill("treatment.converted", &[("severity", label)]),
        None => t.get("treatment.severity_saved").to_string(),
    });
    outcome(t, &caller, done).await
}

pub async fn discharge(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    let done = caller.0.discharge(id).await.map(|until| t.fill("treatment.discharged", &[("until", &month_day(until))]));
    outcome(t, &caller, done).await
}

#[derive(Deserialize)]
pub struct DeathForm {
    /// `2022-04-14T09:30` from a datetime-local input.
    #[serde(default)]
    at: String,
    #[serde(default)]
    cause: String,
    /// The confirmation box: a death is not recorded on one click.
    #[serde(default)]
    confirm: Option<String>,
}

/// A death, confirmed, with its time and cause.
pub async fn death(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<DeathForm>) -> Response {
    let done = async {
        if f.confirm.is_none() {
            return Err(StoreError::from(refusal!("refused.death_unconfirmed")));
        }
        let at = match f.at.trim() {
            "" => return Err(StoreError::from(refusal!("refused.death_needs_time"))),
            typed => chrono::NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M")
                .map(cordon_domain::from_local)
                .map_err(|_| StoreError::from(refusal!("place.bad_time")))?,
        };
        caller.0.record_death(id, at, &f.cause).await?;
        Ok(t.get("treatment.death_saved").to_string())
    };
    outcome(t, &caller, done.await).await
}
