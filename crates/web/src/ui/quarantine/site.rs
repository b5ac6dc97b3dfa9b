//! A site's own page for its head: rooms, arrivals, today's and tomorrow's tests, health checks,
//! cleaning, check-out, the floor restart.

use crate::ui::form::Path;
use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::local_date;
use cordon_domain::observation::RoomStatus;
use cordon_store::StoreError;
use cordon_store::quarantine::SiteBoard;

use crate::auth::Caller;
use crate::format::{day, month_day, percent, today};
use crate::i18n::Tr;
use crate::ui::observation::{category_label, status_label};
use crate::ui::{UserBadge, failure, render, said};

pub struct PersonRow {
    order_id: i64,
    name: String,
    room: String,
    category: String,
    status: String,
    /// On the way: the site checks them in.
    coming: bool,
    /// Checked in and observed: temperatures, tests, check-out.
    arrived: bool,
    day_n: i64,
    release_on: String,
    release_due: bool,
    morning: String,
    evening: String,
    fever: bool,
    next_stage: &'static str,
    out_label: String,
}

pub struct SampleRow {
    order_id: i64,
    name: String,
    room: String,
    double: bool,
    taken: Option<String>,
}

impl SampleRow {
    fn of(s: cordon_store::quarantine::ToSample) -> SampleRow {
        SampleRow { order_id: s.order.id, name: s.order.name, room: s.room.unwrap_or_default(), double: s.double, taken: s.taken }
    }
}

/// Which of a site's people the page shows: one floor (`b` building, `f` floor), or those found
/// by room number or name (`q`). A site of more than [`WHOLE_SITE`] people opens on its first
/// floor; a smaller one shows everyone.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SiteAt {
    b: Option<String>,
    f: Option<i32>,
    q: Option<String>,
}

/// The most people a site page lists at once before it goes floor by floor.
const WHOLE_SITE: i64 = 100;

impl SiteAt {
    fn floor(&self) -> Option<(&str, i32)> {
        match (self.b.as_deref(), self.f) {
            (Some(b), Some(f)) if !b.is_empty() => Some((b, f)),
            _ => None,
        }
    }
    fn search(&self) -> &str {
        self.q.as_deref().map(str::trim).unwrap_or_default()
    }
    /// The view as a query string (`?b=…&f=…` or `?q=…`), empty for the default view.
    pub(super) fn query(&self) -> String {
        if !self.search().is_empty() {
            format!("?q={}", percent(self.search()))
        } else if let Some((b, f)) = self.floor() {
            format!("?b={}&f={f}", percent(b))
        } else {
            String::new()
        }
    }
}

/// The view a site's page shows: a search or a chosen floor as asked; a large site (more than
/// [`WHOLE_SITE`] people) asked for nothing opens on its first floor; a small one shows everyone.
fn opening_view(asked: &SiteAt, floors: &[(String, i32, i64)], total: i64) -> SiteAt {
    match floors.first() {
        Some((b, f, _)) if asked.search().is_empty() && asked.floor().is_none() && total > WHOLE_SITE => {
            SiteAt { b: Some(b.clone()), f: Some(*f), q: None }
        }
        _ => asked.clone(),
    }
}

/// One floor in the site's floor list: its label with how many, its address, whether shown.
pub struct FloorLink {
    label: String,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "quarantine_site.html")]
struct SitePage {
    t: Tr,
    user: Option<UserBadge>,
    site: SiteBoard,
    kind: String,
    can_write: bool,
    notice: Option<String>,
    error: Option<String>,
    today: String,
    people: Vec<PersonRow>,
    samples: Vec<SampleRow>,
    sampled: usize,
    /// How many the whole site samples today.
    due_today: usize,
    /// Rooms waiting for cleaning: (id, number).
    cleaning: Vec<(i64, String)>,
    /// Free rooms, which may be taken out of use, and rooms out of use: (id, building and number).
    free: Vec<(i64, String)>,
    out_of_use: Vec<(i64, String)>,
    /// Rooms by status with counts, for the summary line.
    room_counts: Vec<(String, usize)>,
    tomorrow: String,
    tomorrow_count: usize,
    /// Tomorrow's sampling list, for the head to plan staff and tubes.
    tomorrow_rows: Vec<SampleRow>,
    restart: Option<RestartView>,
    /// The site's floors, when it has more than one.
    floors: Vec<FloorLink>,
    /// The search typed, kept in its box.
    search: String,
    /// What the list shows when it is not the whole site ("3 of 1,200 people: 1号楼 2层").
    showing: Option<String>,
    /// The view's query string, carried by every form so that an act returns to it.
    here: String,
}

pub struct RestartView {
    pub(super) order_id: i64,
    pub(super) summary: String,
    pub(super) environmental: bool,
    pub(super) affected: Vec<(String, String)>,
}

/// The page's address: the view, and what was just done or refused.
#[derive(serde::Deserialize)]
pub struct SiteQuery {
    b: Option<String>,
    f: Option<i32>,
    q: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

pub async fn site(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<SiteQuery>) -> Response {
    let at = SiteAt { b: q.b, f: q.f, q: q.q };
    site_view(t, &caller, id, &at, q.notice, q.error, None).await
}

pub(super) async fn site_view(
    t: Tr,
    caller: &Caller,
    id: i64,
    at: &SiteAt,
    notice: Option<String>,
    error: Option<String>,
    restart: Option<RestartView>,
) -> Response {
    let scope = &caller.0;
    let today = today();
    let tomorrow = today.succ_opt().unwrap_or(today);
    let floors = match scope.site_floors(id).await {
        Ok(f) => f,
        Err(e) => return failure(t, caller, e),
    };
    let total: i64 = floors.iter().map(|(_, _, n)| n).sum();
    let at = opening_view(at, &floors, total);
    let loaded = tokio::try_join!(
        scope.quarantine_site(id),
        scope.site_people_on(id, at.floor(), at.search()),
        scope.sampling_list(id, today),
        scope.sampling_list(id, tomorrow),
        scope.health_checks(id, today),
        scope.rooms(id),
    );
    let (site, people, mut samples, mut tomorrow_list, checks, rooms) = match loaded {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let sampled = samples.iter().filter(|s| s.taken.is_some()).count();
    let (due_today, tomorrow_count) = (samples.len(), tomorrow_list.len());
    let partial = at.floor().is_some() || !at.search().is_empty();
    if partial {
        // The day's lists follow the people shown; the counts above stay the whole site's.
        let shown: std::collections::HashSet<i64> = people.iter().map(|(o, _)| o.id).collect();
        samples.retain(|s| shown.contains(&s.order.id));
        tomorrow_list.retain(|s| shown.contains(&s.order.id));
    }
    let showing = partial.then(|| {
        let place = match at.floor() {
            Some((b, f)) if at.search().is_empty() => t.fill("quarantine.floor", &[("building", b), ("floor", &f.to_string())]),
            _ => t.fill("quarantine.found", &[("q", at.search())]),
        };
        t.fill("quarantine.showing", &[("n", &people.len().to_string()), ("total", &total.to_string()), ("what", &place)])
    });
    let floor_links: Vec<FloorLink> = if floors.len() > 1 {
        floors
            .iter()
            .map(|(b, f, n)| FloorLink {
                label: format!("{}（{n}）", t.fill("quarantine.floor", &[("building", b), ("floor", &f.to_string())])),
                href: format!("/quarantine/sites/{id}?b={}&f={f}", percent(b)),
                current: at.search().is_empty() && at.floor() == Some((b.as_str(), *f)),
            })
            .collect()
    } else {
        vec![]
    };
    let temp = |order: i64, slot: &str| checks.iter().find(|c| c.order_id == order && c.slot == slot);
    // The stage after centralized quarantine, from each order's plan under its rule set.
    let next_stages = match scope.after_site(&people.iter().map(|(o, _)| o).collect::<Vec<_>>(), today).await {
        Ok(n) => n,
        Err(e) => return failure(t, caller, e),
    };
    let people = people
        .into_iter()
        .map(|(o, r)| {
            let (m, e) = (temp(o.id, "morning"), temp(o.id, "evening"));
            let fever = [m, e].iter().flatten().any(|c| cordon_domain::observation::needs_attention(c.temperature, &c.symptoms));
            let show = |c: Option<&cordon_store::quarantine::HealthCheck>| {
                c.map(|c| {
                    if c.symptoms.is_empty() {
                        format!("{:.1}℃", c.temperature)
                    } else {
                        format!("{:.1}℃ {}", c.temperature, c.symptoms)
                    }
                })
                .unwrap_or_default()
            };
            let day0 = local_date(o.last_exposure_at);
            // Where the person goes after the centralized stage: the plan's next stage, or release.
            let next_stage = next_stages.get(&o.id).copied().flatten().map_or("released", |k| k.as_str());
            PersonRow {
                order_id: o.id,
                room: r.number.clone(),
                category: category_label(t, o.category),
                status: status_label(t, o.status),
                coming: o.status.coming_to_site(),
                arrived: o.status == cordon_domain::observation::Status::Centralized,
                day_n: (today - day0).num_days(),
                release_on: day(o.release_on),
                release_due: o.centralized_until.is_some_and(|c| c <= today),
                morning: show(m),
                evening: show(e),
                fever,
                next_stage,
                out_label: t.get(&format!("quarantine.out_{next_stage}")).to_string(),
                name: o.name,
            }
        })
        .collect();
    let room_counts = RoomStatus::ALL
        .iter()
        .map(|k| (t.get(&format!("quarantine.room.{k}")).to_string(), rooms.iter().filter(|r| r.status == *k).count()))
        .collect();
    let page = SitePage {
        t,
        user: UserBadge::of(caller),
        kind: t.get(&format!("quarantine.kind.{}", site.kind)).to_string(),
        can_write: scope.principal().can(Permission::QuarantineWrite),
        notice,
        error,
        today: t.fill("quarantine.sampling_list", &[("day", &month_day(today))]),
        people,
        samples: samples.into_iter().map(SampleRow::of).collect(),
        sampled,
        due_today,
        cleaning: rooms.iter().filter(|r| r.status == RoomStatus::Cleaning).map(|r| (r.id, r.number.clone())).collect(),
        free: rooms.iter().filter(|r| r.status == RoomStatus::Free).map(|r| (r.id, format!("{} {}", r.building, r.number))).collect(),
        out_of_use: rooms
            .iter()
            .filter(|r| r.status == RoomStatus::OutOfUse)
            .map(|r| (r.id, format!("{} {}", r.building, r.number)))
            .collect(),
        room_counts,
        tomorrow: t.fill("quarantine.tomorrow", &[("day", &month_day(tomorrow))]),
        tomorrow_count,
        tomorrow_rows: tomorrow_list.into_iter().map(SampleRow::of).collect(),
        restart,
        site,
        floors: floor_links,
        search: at.search().to_string(),
        showing,
        here: at.query(),
    };
    let status = if page.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

/// Back to the site's page as it was shown (the floor or the search), with what was done.
pub(super) fn back(site: i64, at: &SiteAt, notice: &str) -> Response {
    let here = at.query();
    let sep = if here.is_empty() { '?' } else { '&' };
    Redirect::to(&format!("/quarantine/sites/{site}{here}{sep}notice={}", percent(notice))).into_response()
}

pub(super) async fn site_outcome(t: Tr, caller: &Caller, site: i64, at: &SiteAt, done: Result<String, StoreError>) -> Response {
    match done {
        Ok(notice) => back(site, at, &notice),
        Err(e) if e.is_refusal() => site_view(t, caller, site, at, None, Some(said(t, &e)), None).await,
        Err(e) => failure(t, caller, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_site_opens_on_its_first_floor_and_a_small_one_shows_everyone() {
        let floors = vec![("1号楼".to_string(), 1, 60), ("1号楼".to_string(), 2, 41)];
        let nothing = SiteAt::default();
        assert_eq!(opening_view(&nothing, &floors, 101).query(), format!("?b={}&f=1", percent("1号楼")));
        assert_eq!(opening_view(&nothing, &floors[..1], 60).query(), "", "a small site: everyone");
        let asked = SiteAt { b: Some("1号楼".into()), f: Some(2), q: None };
        assert_eq!(opening_view(&asked, &floors, 101).query(), format!("?b={}&f=2", percent("1号楼")), "as asked");
        let search = SiteAt { q: Some("201".into()), ..SiteAt::default() };
        assert_eq!(opening_view(&search, &floors, 101).query(), "?q=201");
    }
}
