//! The commander's first page (疫情态势): the situation today in one screen — new positives,
//! positives waiting for a case, investigations past their clocks, transfers on the road and late,
//! beds taken and free, the latest round's progress — each opening the page that acts on it.

use askama::Template;
use axum::response::Response;
use cordon_domain::transfer::TransferStatus;

use crate::auth::Caller;
use crate::format::today;
use crate::i18n::Tr;
use crate::ui::{Card, UserBadge, failure, render};

#[derive(Template)]
#[template(path = "situation.html")]
struct SituationPage {
    t: Tr,
    user: Option<UserBadge>,
    day: String,
    cards: Vec<Card>,
    /// The census of the commander's area (people by area), a click away.
    census: Option<String>,
}

pub(super) async fn page(t: Tr, caller: &Caller) -> Response {
    let scope = &caller.0;
    let now = chrono::Utc::now();
    let day = today();
    let loaded = async {
        let (positives, queue, transfers, sites, rounds) = tokio::try_join!(
            scope.positives(false),
            scope.investigation_queue(),
            scope.dispatch_board(),
            scope.quarantine_board(),
            scope.rounds()
        )?;
        let area = scope.principal().user.jurisdiction.areas().first().cloned();
        let round = match (rounds.iter().max_by_key(|r| r.starts_at), &area) {
            (Some(r), Some(a)) => scope.coverage(r.id, a).await?.map(|c| (r.id, r.name.clone(), c.area)),
            _ => None,
        };
        Ok::<_, cordon_store::StoreError>((positives, queue, transfers, sites, round))
    };
    let (positives, queue, transfers, sites, round) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let new_today = positives.iter().filter(|p| cordon_domain::local_date(p.found_at) == day).count();
    let waiting = positives.iter().filter(|p| p.case_id.is_none()).count();
    let overdue_inv = queue.iter().filter(|i| i.overdue(now)).count();
    let on_road = transfers.iter().filter(|x| matches!(x.status, TransferStatus::Dispatched | TransferStatus::PickedUp)).count();
    let late = transfers.iter().filter(|x| x.overdue(now)).count();
    let planned = transfers.iter().filter(|x| x.status == TransferStatus::Planned).count();
    let (beds, taken, arrived) = sites.iter().fold((0, 0, 0), |(b, o, c), s| (b + s.beds, o + s.occupants, c + s.checked_in));
    let mut cards = vec![
        Card::new(
            "card-positives",
            new_today,
            t.get("situation.new_positives").to_string(),
            t.fill("situation.waiting_case", &[("n", &waiting.to_string())]),
            "/tracing",
            waiting > 0,
        ),
        Card::new(
            "card-investigations",
            overdue_inv,
            t.get("situation.overdue_investigations").to_string(),
            t.fill("situation.open_investigations", &[("n", &queue.len().to_string())]),
            "/tracing",
            overdue_inv > 0,
        ),
        Card::new(
            "card-transfers",
            on_road,
            t.get("situation.on_the_road").to_string(),
            t.fill("situation.late_transfers", &[("n", &late.to_string()), ("planned", &planned.to_string())]),
            "/dispatch",
            late > 0,
        ),
        Card::new(
            "card-beds",
            (beds - taken).max(0),
            t.get("situation.free_beds").to_string(),
            t.fill("situation.beds", &[("beds", &beds.to_string()), ("taken", &taken.to_string()), ("in", &arrived.to_string())]),
            "/quarantine",
            beds > 0 && (beds - taken) * 10 < beds,
        ),
    ];
    if let Some((id, name, c)) = round {
        let done = c.sampled + c.exempted;
        let share = if c.expected > 0 { done * 100 / c.expected } else { 0 };
        cards.push(Card::new(
            "card-round",
            format!("{share}%"),
            t.fill("situation.round", &[("round", &name)]),
            t.fill("situation.missing", &[("n", &c.missing().to_string())]),
            format!("/coverage?round={id}"),
            false,
        ));
    }
    let census = scope.principal().user.jurisdiction.areas().first().map(|a| format!("/areas/{a}"));
    render(&SituationPage { t, user: UserBadge::of(caller), day: day.format("%F").to_string(), cards, census })
}
