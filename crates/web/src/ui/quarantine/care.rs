//! Care at a site: the tube taken at the door, the twice-daily health check, and the floor
//! restart after a positive (previewed, then confirmed).

use crate::ui::form::Path;
use axum::response::Response;
use cordon_domain::Barcode;
use serde::Deserialize;

use super::site::{RestartView, SiteAt, back, site_outcome, site_view};
use crate::auth::Caller;
use crate::format::day;
use crate::i18n::Tr;
use crate::ui::form::{Form, Query, checked};
use crate::ui::{barcode_reason, failure, form_refused, said};

#[derive(Deserialize)]
pub struct TubeForm {
    order_id: i64,
    barcode: String,
}

pub async fn take_test(t: Tr, caller: Caller, Path(site): Path<i64>, Query(at): Query<SiteAt>, Form(f): Form<TubeForm>) -> Response {
    let barcode = match Barcode::parse(f.barcode.trim()) {
        Ok(b) => b,
        Err(e) => {
            let error = t.fill("transport.bad_barcode", &[("barcode", &f.barcode), ("reason", &barcode_reason(t, &e))]);
            return site_view(t, &caller, site, &at, None, Some(error), None).await;
        }
    };
    let done = caller
        .0
        .take_observation_test(site, f.order_id, &barcode)
        .await
        .map(|_| t.fill("quarantine.sampled", &[("barcode", barcode.as_str())]));
    site_outcome(t, &caller, site, &at, done).await
}

#[derive(Deserialize)]
pub struct HealthForm {
    order_id: i64,
    slot: String,
    /// Kept as typed so that a mistyped temperature is said in the site's own words.
    temperature: String,
    #[serde(default)]
    symptoms: String,
}

pub async fn health(t: Tr, caller: Caller, Path(site): Path<i64>, Query(at): Query<SiteAt>, Form(f): Form<HealthForm>) -> Response {
    // A temperature that does not read (or reads as no body's) answers a page that leads back
    // to the row with what was typed still in it.
    let temperature = match cordon_domain::observation::read_temperature(&f.temperature) {
        Ok(v) => v,
        Err(r) => return form_refused(t, Some(&caller), &t.refusal(&r)),
    };
    let done = caller
        .0
        .record_health_check(site, f.order_id, &f.slot, temperature, &f.symptoms)
        .await
        .map(|c| t.fill("quarantine.health_saved", &[("temperature", &format!("{:.1}", c.temperature))]));
    match done {
        Err(e) if e.is_refusal() => form_refused(t, Some(&caller), &said(t, &e)),
        done => site_outcome(t, &caller, site, &at, done).await,
    }
}

#[derive(Deserialize)]
pub struct RestartForm {
    order_id: i64,
    #[serde(default, deserialize_with = "checked")]
    environmental: bool,
    #[serde(default, deserialize_with = "checked")]
    confirm: bool,
}

/// The restart rule: first the list of who would restart, then, confirmed, the restart.
pub async fn restart(t: Tr, caller: Caller, Path(site): Path<i64>, Query(at): Query<SiteAt>, Form(f): Form<RestartForm>) -> Response {
    let RestartForm { order_id: order, environmental, confirm: confirmed } = f;
    let scope = &caller.0;
    let result = if confirmed {
        scope.apply_restart(site, order, environmental).await
    } else {
        scope.restart_preview(site, order, environmental).await
    };
    match result {
        Ok(r) if confirmed => back(site, &at, &t.fill("quarantine.restarted", &[("n", &r.affected.len().to_string())])),
        Ok(r) => {
            let name = match scope.observation_order(order).await {
                Ok(o) => o.map(|o| o.name).unwrap_or_default(),
                Err(e) => return failure(t, &caller, e),
            };
            let n = r.affected.len().to_string();
            let view = RestartView {
                order_id: order,
                summary: t.fill("quarantine.restart_preview", &[("name", &name), ("floor", &r.floor.to_string()), ("n", &n)]),
                environmental: r.environmental,
                affected: r.affected.into_iter().map(|o| (o.name, day(o.release_on))).collect(),
            };
            site_view(t, &caller, site, &at, None, None, Some(view)).await
        }
        Err(e) if e.is_refusal() => site_view(t, &caller, site, &at, None, Some(said(t, &e)), None).await,
        Err(e) => failure(t, &caller, e),
    }
}
